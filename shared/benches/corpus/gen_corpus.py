#!/usr/bin/env python3
"""Generate the labelled accuracy corpus (shared/benches/corpus/corpus.jsonl).

Each line: {"id", "kind", "text", "labels": [{"start", "end", "entity"}]} with
end-exclusive offsets in Unicode code points. Records imitate what an MCP
gateway sees: JSON tool arguments, SQL, logs, support tickets, commit
messages, CSV rows. Every labelled value is valid for its type (check digits
computed here; phone numbers checked with `phonenumbers` when installed), and
many records are hard negatives (order numbers, UUIDs, versions, timestamps,
Luhn-invalid numbers, invoice numbers near "SSN", file names).

The names and places below were picked by hand to be realistic and varied;
some are deliberately absent from the engine's gazetteers so recall on
unknown names is measured, not assumed.

Deterministic: `python3 gen_corpus.py` rewrites the same file (seed fixed).
"""

import base64
import hashlib
import json
import os
import random
import string

R = random.Random(20261122)
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import phonenumbers  # type: ignore
except ImportError:  # the corpus is committed; regeneration prefers the check
    phonenumbers = None

# ---------------------------------------------------------------- values

FIRST = ["James", "Maria", "Wei", "Priya", "Olivia", "Mohammed", "Sofia", "Liam", "Aisha", "Carlos",
         "Emma", "Hiroshi", "Fatima", "Lucas", "Chloe", "Daniel", "Ana", "Noah", "Elena", "Arjun",
         "Grace", "Mateo", "Yuki", "Hannah", "Omar", "Isabella", "Ethan", "Zara", "Kwame", "Ingrid",
         "Lauren", "Diego", "Mei", "Rahul", "Sarah", "Tomasz", "Amara", "Jonas", "Leila", "Patrick"]
LAST = ["Smith", "Garcia", "Zhang", "Raghunathan", "Johnson", "Al-Sayed", "Rossi", "O'Brien", "Okafor",
        "Mendes", "Thompson", "Tanaka", "Haddad", "Schneider", "Dubois", "Kim", "Kowalski", "Nguyen",
        "Petrova", "Sharma", "Fitzgerald", "Hernandez", "Watanabe", "Becker", "Mensah", "Lindqvist",
        "Murphy", "Castillo", "Chen", "Patel", "Williams", "Novak", "Adeyemi", "Larsen", "Farouk", "Walsh"]
CITIES = ["London", "San Francisco", "New York", "Chicago", "Berlin", "Paris", "Madrid", "Toronto",
          "Sydney", "Mumbai", "Singapore", "Austin", "Seattle", "Dublin", "Lisbon", "Amsterdam",
          "Bangalore", "Melbourne", "Manchester", "Boston", "Denver", "Milan", "Osaka", "Nairobi"]
COUNTRIES = ["Germany", "France", "Canada", "Brazil", "India", "Japan", "Spain", "Italy", "Mexico",
             "Australia", "Ireland", "Kenya", "Portugal", "Netherlands", "Sweden", "Nigeria"]
STATES = ["California", "Texas", "Ontario", "Bavaria", "Queensland", "Maharashtra", "Oregon", "Florida"]
NRP = ["Mexican", "Canadian", "German", "Brazilian", "Indian", "Japanese", "Muslim", "Catholic",
       "Jewish", "Buddhist", "Hindu", "Republican", "Democrat", "Nigerian", "Irish", "Korean"]
DOMAINS = ["example.com", "acme-corp.io", "mail.example.org", "contoso.com", "globex.net", "initech.co.uk",
           "northwind.de", "fabrikam.com"]
AREA = ["212", "415", "312", "617", "206", "512", "303", "404", "213", "646", "718", "720", "408", "503"]


def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card():
    kind = R.choice(["visa", "visa", "mc", "amex", "disc"])
    if kind == "visa":
        body = "4" + "".join(R.choice(string.digits) for _ in range(14))
    elif kind == "mc":
        body = str(R.randint(51, 55)) + "".join(R.choice(string.digits) for _ in range(13))
    elif kind == "amex":
        body = R.choice(["34", "37"]) + "".join(R.choice(string.digits) for _ in range(12))
    else:
        body = "6011" + "".join(R.choice(string.digits) for _ in range(11))
    num = body + luhn_digit(body)
    style = R.choice(["space", "dash", "plain"])
    if len(num) == 15:
        groups = [num[:4], num[4:10], num[10:]]
    else:
        groups = [num[i:i + 4] for i in range(0, 16, 4)]
    return {"space": " ".join(groups), "dash": "-".join(groups), "plain": num}[style]


def bad_card():
    body = "4" + "".join(R.choice(string.digits) for _ in range(14))
    d = int(luhn_digit(body))
    return body + str((d + R.randint(1, 9)) % 10)


def ssn(sep=None):
    while True:
        area = R.randint(1, 899)
        if area != 666:
            break
    s = f"{area:03d}{R.randint(1, 99):02d}{R.randint(1, 9999):04d}"
    sep = R.choice(["-", "-", "-", " "]) if sep is None else sep
    return f"{s[:3]}{sep}{s[3:5]}{sep}{s[5:]}"


def itin():
    group = R.choice(list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
    return f"9{R.randint(0, 99):02d}-{group}-{R.randint(0, 9999):04d}"


def mod97(s):
    n = "".join(str(int(c, 36)) for c in s)
    return int(n) % 97


def iban(grouped=None):
    country, bban = R.choice([
        ("DE", lambda: "".join(R.choice(string.digits) for _ in range(18))),
        ("GB", lambda: "".join(R.choice(string.ascii_uppercase) for _ in range(4)) + "".join(R.choice(string.digits) for _ in range(14))),
        ("FR", lambda: "".join(R.choice(string.digits) for _ in range(10)) + "".join(R.choice(string.digits) for _ in range(11)) + "".join(R.choice(string.digits) for _ in range(2))),
        ("ES", lambda: "".join(R.choice(string.digits) for _ in range(20))),
        ("NL", lambda: "".join(R.choice(string.ascii_uppercase) for _ in range(4)) + "".join(R.choice(string.digits) for _ in range(10))),
        ("IT", lambda: R.choice(string.ascii_uppercase) + "".join(R.choice(string.digits) for _ in range(10)) + "".join(R.choice(string.digits) for _ in range(12))),
    ])
    b = bban()
    check = 98 - mod97(b + country + "00")
    s = f"{country}{check:02d}{b}"
    grouped = R.random() < 0.5 if grouped is None else grouped
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4)) if grouped else s


def nhs(grouped=True):
    while True:
        d = [R.randint(0, 9) for _ in range(9)]
        if d[0] == 0:
            continue
        s = sum(x * w for x, w in zip(d, range(10, 1, -1)))
        c = 11 - s % 11
        c = 0 if c == 11 else c
        if c == 10:
            continue
        n = "".join(map(str, d)) + str(c)
        return f"{n[:3]} {n[3:6]} {n[6:]}" if grouped else n


def nino():
    first = R.choice("ABCEGHJKLMNPRSTWXYZ")
    second = R.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        return nino()
    digits = "".join(R.choice(string.digits) for _ in range(6))
    suffix = R.choice("ABCD")
    if R.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{first}{second}{digits}{suffix}"


def nif():
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    if R.random() < 0.7:
        n = R.randint(10000000, 99999999)
        return f"{n}{letters[n % 23]}"
    lead = R.randint(0, 2)
    n = R.randint(1000000, 9999999)
    return f"{'XYZ'[lead]}{n}{letters[int(str(lead) + str(n)) % 23]}"


ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def it_cf():
    up = string.ascii_uppercase
    body = "".join(R.choice("BCDFGHLMNPRSTVZ") for _ in range(6))
    body += f"{R.randint(40, 99):02d}" + R.choice("ABCDEHLMPRST") + f"{R.randint(1, 71) if R.random() < 0.5 else R.randint(1, 28):02d}"
    body += R.choice("ABCDEFGHILM") + f"{R.randint(0, 999):03d}"
    total = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else up.index(c)
        total += ODD[v] if i % 2 == 0 else v
    return body + up[total % 26]


def tfn(grouped=True):
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10]
    while True:
        d = [R.randint(0, 9) for _ in range(8)]
        s = sum(x * y for x, y in zip(d, w))
        for last in range(10):
            if (s + last * 10) % 11 == 0:
                n = "".join(map(str, d)) + str(last)
                return f"{n[:3]} {n[3:6]} {n[6:]}" if grouped else n


def pan():
    u = string.ascii_uppercase
    return "".join(R.choice(u) for _ in range(3)) + R.choice("PCHFT") + R.choice(u) + f"{R.randint(0, 9999):04d}" + R.choice(u)


VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
      [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
      [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
      [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar(grouped=True):
    d = [R.randint(2, 9)] + [R.randint(0, 9) for _ in range(10)]
    c = 0
    for i, x in enumerate(reversed(d)):
        c = VD[c][VP[(i + 1) % 8][x]]
    n = "".join(map(str, d)) + str(VINV[c])
    return f"{n[:4]} {n[4:8]} {n[8:]}" if grouped else n


def nric():
    prefix = R.choice("STFG")
    d = [R.randint(0, 9) for _ in range(7)]
    s = sum(x * w for x, w in zip(d, [2, 7, 6, 5, 4, 3, 2])) + (4 if prefix in "TG" else 0)
    table = "JZIHGFEDCBA" if prefix in "ST" else "XWUTRQPNMLK"
    return prefix + "".join(map(str, d)) + table[s % 11]


def dea():
    d = [R.randint(0, 9) for _ in range(6)]
    c = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return R.choice("ABFGMPR") + R.choice(string.ascii_uppercase) + "".join(map(str, d)) + str(c)


def aba():
    while True:
        d = [int(c) for c in R.choice(["0210", "0260", "0110", "0610", "0710", "1210", "0910", "0530", "2560", "3222"])] + [R.randint(0, 9) for _ in range(4)]
        for last in range(10):
            x = d + [last]
            if (3 * (x[0] + x[3] + x[6]) + 7 * (x[1] + x[4] + x[7]) + (x[2] + x[5] + x[8])) % 10 == 0:
                return "".join(map(str, x))


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(payload):
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def crypto():
    k = R.random()
    if k < 0.4:
        return b58check(bytes([R.choice([0, 5])]) + bytes(R.randrange(256) for _ in range(20)))
    if k < 0.6:
        return R.choice(["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                         "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
                         "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"])
    if k < 0.8:
        return R.choice(["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                         "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"])
    return "0x" + "".join(R.choice("0123456789abcdef") for _ in range(40))


def phone():
    k = R.random()
    if k < 0.55:
        a, x, l = R.choice(AREA), R.randint(201, 989), R.randint(0, 9999)
        while str(x)[1:] == "11":
            x = R.randint(201, 989)
        fmt = R.choice(["({a}) {x}-{l:04d}", "{a}-{x}-{l:04d}", "+1 {a} {x} {l:04d}", "{a}.{x}.{l:04d}", "+1 ({a}) {x}-{l:04d}", "+1-{a}-{x}-{l:04d}"])
        s = fmt.format(a=a, x=x, l=l)
    else:
        s = R.choice(["+44 20 7{} {:04d}".format(R.randint(100, 999), R.randint(0, 9999)),
                      "+44 7{}{} {:06d}".format(R.randint(4, 9), R.randint(10, 99), R.randint(0, 999999)),
                      "+91 9{:04d} {:05d}".format(R.randint(0, 9999), R.randint(0, 99999)),
                      "+61 2 9{:03d} {:04d}".format(R.randint(0, 999), R.randint(0, 9999)),
                      "+65 6{:03d} {:04d}".format(R.randint(0, 999), R.randint(0, 9999)),
                      "+49 30 {:08d}".format(R.randint(10000000, 99999999)),
                      "+33 1 {:02d} {:02d} {:02d} {:02d}".format(*(R.randint(10, 99) for _ in range(4)))])
    if phonenumbers is not None:
        try:
            ok = phonenumbers.is_valid_number(phonenumbers.parse(s, "US"))
        except phonenumbers.NumberParseException:
            ok = False
        if not ok:
            return phone()
    return s


def date():
    y, m, d = R.randint(1950, 2025), R.randint(1, 12), R.randint(1, 28)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    return R.choice([f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{months[m - 1]} {d}, {y}",
                     f"{d} {months[m - 1]} {y}", f"{months[m - 1][:3]} {d}, {y}"])


def timestamp():
    return f"2025-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"


def ipv4():
    return R.choice([f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
                     f"192.168.{R.randint(0, 255)}.{R.randint(1, 254)}",
                     f"{R.randint(11, 223)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"])


def ipv6():
    return R.choice(["2001:db8::{:x}:{:x}".format(R.randint(1, 65535), R.randint(1, 65535)),
                     "fe80::{:x}:{:x}:{:x}:{:x}".format(*(R.randint(1, 65535) for _ in range(4))),
                     "2001:0db8:85a3:0000:0000:8a2e:0370:{:04x}".format(R.randint(1, 65535)),
                     "::1"])


def email(name=None):
    f, l = (name or f"{R.choice(FIRST)} {R.choice(LAST)}").split(" ", 1)
    local = R.choice([f"{f}.{l}", f"{f[0]}{l}", f"{f}", f"{f}_{l}{R.randint(1, 99)}"]).lower().replace("'", "")
    return f"{local}@{R.choice(DOMAINS)}"


def url():
    return R.choice([f"https://{R.choice(DOMAINS)}/account/{R.randint(100, 9999)}",
                     f"https://www.{R.choice(DOMAINS)}/help?topic=billing",
                     f"http://{R.choice(DOMAINS)}/docs/setup",
                     f"www.{R.choice(DOMAINS)}",
                     f"{R.choice(['status', 'docs', 'portal'])}.{R.choice(['example.com', 'contoso.com', 'globex.net'])}"])


def person():
    return f"{R.choice(FIRST)} {R.choice(LAST)}"


def location():
    return R.choice(CITIES + CITIES + COUNTRIES + STATES)


def alnum(n, alphabet=string.ascii_letters + string.digits):
    return "".join(R.choice(alphabet) for _ in range(n))


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


SECRETS = {
    "AWS_ACCESS_KEY": lambda: "AKIA" + alnum(16, string.ascii_uppercase + "234567"),
    "GITHUB_TOKEN": lambda: R.choice(["ghp_", "gho_", "ghs_"]) + alnum(36),
    "SLACK_TOKEN": lambda: f"xoxb-{R.randint(10**10, 10**11)}-{R.randint(10**12, 10**13)}-{alnum(24)}",
    "STRIPE_KEY": lambda: R.choice(["sk_live_", "rk_live_"]) + alnum(24),
    "GOOGLE_API_KEY": lambda: "AIza" + alnum(35, string.ascii_letters + string.digits + "_-"),
    "JWT": lambda: b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": str(R.randint(1000, 99999)), "iat": 1716239022}) + "." + alnum(43, string.ascii_letters + string.digits + "_-"),
    "DATABASE_URL": lambda: R.choice(["postgres", "postgresql", "mysql", "mongodb", "redis"]) + f"://app_user:{alnum(14)}@db-{R.randint(1, 9)}.internal:5432/orders",
    "PRIVATE_KEY": lambda: "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(alnum(64, string.ascii_letters + string.digits + "+/") for _ in range(3)) + "\n-----END RSA PRIVATE KEY-----",
}

# ---------------------------------------------------------------- templates
# {E:ENTITY} inserts a labelled value of that entity; {N:kind} an unlabelled
# hard-negative value; literal text otherwise.

GEN = {
    "PERSON": person, "LOCATION": location, "NRP": lambda: R.choice(NRP), "EMAIL_ADDRESS": email,
    "PHONE_NUMBER": phone, "IP_ADDRESS": lambda: R.choice([ipv4, ipv4, ipv6])(), "URL": url, "DATE_TIME": date,
    "CREDIT_CARD": card, "IBAN_CODE": iban, "US_SSN": ssn, "US_ITIN": itin,
    "US_PASSPORT": lambda: R.choice([str(R.randint(100000000, 999999999)), R.choice("ACDEFGHJKLMNPRSTUVWXYZ") + str(R.randint(10000000, 99999999))]),
    "US_DRIVER_LICENSE": lambda: R.choice(string.ascii_uppercase) + str(R.randint(1000000, 9999999)),
    "US_BANK_NUMBER": lambda: str(R.randint(10**9, 10**12)), "ABA": aba, "CRYPTO": crypto, "MEDICAL_LICENSE": dea,
    "UK_NHS": nhs, "UK_NINO": nino, "ES_NIF": nif, "IT_FISCAL_CODE": it_cf, "AU_TFN": tfn, "IN_PAN": pan,
    "IN_AADHAAR": aadhaar, "SG_NRIC_FIN": nric, "GENERIC_SECRET": lambda: alnum(R.randint(12, 20), string.ascii_letters + string.digits + "!#%"),
    "FIRST": lambda: R.choice(FIRST),
    **SECRETS,
}
NEG = {
    "order": lambda: f"ORD-{R.randint(2019, 2025)}-{R.randint(1, 999999):06d}",
    "uuid": lambda: "%08x-%04x-4%03x-%04x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12), R.getrandbits(16) | 0x8000, R.getrandbits(48)),
    "version": lambda: f"{R.randint(0, 12)}.{R.randint(0, 30)}.{R.randint(0, 99)}",
    "version4": lambda: f"{R.randint(1, 12)}.{R.randint(0, 9)}.{R.randint(0, 9)}.{R.randint(0, 9999)}",
    "ts": timestamp, "badcard": bad_card, "invoice": lambda: str(R.randint(100000000, 999999999)),
    "sha": lambda: "".join(R.choice("0123456789abcdef") for _ in range(40)),
    "short": lambda: "".join(R.choice("0123456789abcdef") for _ in range(7)),
    "n": lambda: str(R.randint(1, 5000)), "price": lambda: f"{R.randint(1, 999)}.{R.randint(0, 99):02d}",
    "ms": lambda: str(R.randint(3, 2500)), "port": lambda: str(R.choice([80, 443, 5432, 6379, 8080, 9090])),
    "sku": lambda: f"SKU-{R.randint(10000, 99999)}", "zip": lambda: f"{R.randint(10000, 99999)}",
    "ticket": lambda: f"#{R.randint(1000, 99999)}", "build": lambda: str(R.randint(1000, 99999)),
    "file": lambda: R.choice(["README.md", "main.rs", "setup.py", "index.ts", "Cargo.toml", "config.yaml", "deploy.sh"]),
    "method": lambda: R.choice(["payments.charge", "user.name", "os.path", "self.client", "response.data", "req.body"]),
    "hex": lambda: "0x" + "".join(R.choice("0123456789abcdef") for _ in range(8)),
    "status": lambda: R.choice(["200", "201", "404", "500", "503"]),
    "qty": lambda: str(R.randint(1, 40)),
}

TEMPLATES = [
    # JSON tool arguments
    ("json", '{"tool": "crm.create_contact", "arguments": {"name": "{E:PERSON}", "email": "{E:EMAIL_ADDRESS}", "phone": "{E:PHONE_NUMBER}", "city": "{E:LOCATION}"}}'),
    ("json", '{"tool": "payments.refund", "arguments": {"order_id": "{N:order}", "amount": {N:price}, "card_number": "{E:CREDIT_CARD}", "reason": "duplicate charge"}}'),
    ("json", '{"tool": "hr.update_employee", "arguments": {"employee_id": "{N:uuid}", "ssn": "{E:US_SSN}", "date_of_birth": "{E:DATE_TIME}", "home_city": "{E:LOCATION}"}}'),
    ("json", '{"tool": "bank.add_payee", "arguments": {"payee": "{E:PERSON}", "iban": "{E:IBAN_CODE}", "reference": "{N:invoice}"}}'),
    ("json", '{"tool": "db.query", "arguments": {"connection": "{E:DATABASE_URL}", "sql": "SELECT count(*) FROM orders WHERE status = \'open\'"}}'),
    ("json", '{"tool": "deploy.run", "arguments": {"service": "api", "version": "{N:version}", "env": {"AWS_ACCESS_KEY_ID": "{E:AWS_ACCESS_KEY}", "REGION": "us-east-1"}}}'),
    ("json", '{"tool": "github.create_issue", "arguments": {"repo": "acme/api", "title": "Login fails on {N:file}", "body": "Steps: run {N:file} with token {E:GITHUB_TOKEN} and see 401"}}'),
    ("json", '{"tool": "slack.post", "arguments": {"channel": "#ops", "text": "deploy {N:version} done in {N:ms}ms", "auth": "{E:SLACK_TOKEN}"}}'),
    ("json", '{"tool": "billing.configure", "arguments": {"stripe_key": "{E:STRIPE_KEY}", "currency": "usd", "retries": {N:qty}}}'),
    ("json", '{"tool": "maps.geocode", "arguments": {"key": "{E:GOOGLE_API_KEY}", "address": "221B Baker Street, {E:LOCATION}"}}'),
    ("json", '{"tool": "http.request", "arguments": {"url": "{E:URL}", "headers": {"Authorization": "Bearer {E:JWT}"}, "timeout_ms": {N:ms}}}'),
    ("json", '{"tool": "wallet.send", "arguments": {"to": "{E:CRYPTO}", "amount": "0.{N:n}", "memo": "invoice {N:invoice}"}}'),
    ("json", '{"tool": "pharmacy.verify_prescriber", "arguments": {"prescriber": "Dr. {E:PERSON}", "dea_number": "{E:MEDICAL_LICENSE}"}}'),
    ("json", '{"tool": "nhs.lookup_patient", "arguments": {"nhs_number": "{E:UK_NHS}", "patient_name": "{E:PERSON}"}}'),
    ("json", '{"tool": "payroll.uk_employee", "arguments": {"national_insurance_number": "{E:UK_NINO}", "start_date": "{E:DATE_TIME}"}}'),
    ("json", '{"tool": "kyc.es_customer", "arguments": {"dni": "{E:ES_NIF}", "nombre": "{E:PERSON}", "ciudad": "{E:LOCATION}"}}'),
    ("json", '{"tool": "kyc.it_customer", "arguments": {"codice_fiscale": "{E:IT_FISCAL_CODE}", "email": "{E:EMAIL_ADDRESS}"}}'),
    ("json", '{"tool": "ato.lodge", "arguments": {"tfn": "{E:AU_TFN}", "abn_status": "active", "lodged": {N:qty}}}'),
    ("json", '{"tool": "kyc.in_customer", "arguments": {"pan": "{E:IN_PAN}", "aadhaar": "{E:IN_AADHAAR}", "mobile": "{E:PHONE_NUMBER}"}}'),
    ("json", '{"tool": "kyc.sg_customer", "arguments": {"nric": "{E:SG_NRIC_FIN}", "postal_code": "{N:zip}"}}'),
    ("json", '{"tool": "inventory.adjust", "arguments": {"sku": "{N:sku}", "qty": {N:qty}, "warehouse": "WH-{N:n}", "request_id": "{N:uuid}"}}'),
    ("json", '{"tool": "build.status", "arguments": {"build": {N:build}, "commit": "{N:sha}", "image": "api:{N:version}", "started_at": "{N:ts}"}}'),
    ("json", '{"tool": "files.read", "arguments": {"path": "docs/{N:file}", "max_bytes": {N:n}}}'),
    ("json", '{"tool": "code.search", "arguments": {"query": "{N:method}", "lang": "python", "limit": {N:qty}}}'),
    ("json", '{"tool": "auth.set_password", "arguments": {"user_id": "{N:uuid}", "password": "{E:GENERIC_SECRET}"}}'),
    ("json", '{"tool": "tax.us_filer", "arguments": {"itin": "{E:US_ITIN}", "filing_year": 2024}}'),
    ("json", '{"tool": "travel.book", "arguments": {"traveler": "{E:PERSON}", "passport_number": "{E:US_PASSPORT}", "destination": "{E:LOCATION}"}}'),
    ("json", '{"tool": "dmv.check", "arguments": {"driver_license": "{E:US_DRIVER_LICENSE}", "state": "CA"}}'),
    ("json", '{"tool": "ach.transfer", "arguments": {"routing_number": "{E:US_BANK_NUMBER:ABA}", "account_number": "{E:US_BANK_NUMBER}", "amount": {N:price}}}'),
    ("json", '{"tool": "firewall.allow", "arguments": {"source_ip": "{E:IP_ADDRESS}", "port": {N:port}, "comment": "build agent {N:build}"}}'),
    # SQL
    ("sql", "INSERT INTO customers (name, email, phone) VALUES ('{E:PERSON}', '{E:EMAIL_ADDRESS}', '{E:PHONE_NUMBER}');"),
    ("sql", "UPDATE accounts SET iban = '{E:IBAN_CODE}', updated_at = '{N:ts}' WHERE id = {N:n};"),
    ("sql", "SELECT * FROM orders WHERE order_no = '{N:order}' AND total > {N:price} LIMIT {N:qty};"),
    ("sql", "INSERT INTO patients (nhs_number, name, dob) VALUES ('{E:UK_NHS}', '{E:PERSON}', '{E:DATE_TIME}');"),
    ("sql", "UPDATE users SET ssn = '{E:US_SSN}' WHERE user_id = {N:n}; -- migrated from legacy CRM"),
    ("sql", "SELECT id, status FROM invoices WHERE invoice_no = {N:invoice} AND created_at > '{N:ts}';"),
    ("sql", "INSERT INTO payments (card, amount) VALUES ('{E:CREDIT_CARD}', {N:price});"),
    # logs
    ("log", "{N:ts} INFO  api  request_id={N:uuid} method=GET path=/v1/orders/{N:order} status={N:status} duration_ms={N:ms}"),
    ("log", "{N:ts} WARN  auth login failed for {E:EMAIL_ADDRESS} from {E:IP_ADDRESS} (attempt {N:qty})"),
    ("log", "{N:ts} ERROR payments charge failed card={E:CREDIT_CARD} amount={N:price} code=card_declined"),
    ("log", "{N:ts} DEBUG db connect {E:DATABASE_URL} pool=10"),
    ("log", "{N:ts} INFO  worker[{N:qty}] processed batch {N:build} in {N:ms}ms version={N:version}"),
    ("log", "{N:ts} INFO  agent upgraded to version {N:version4} on host build-{N:n}"),
    ("log", "{N:ts} ERROR checksum mismatch for payload {N:badcard} (not a card, internal id)"),
    ("log", "{N:ts} INFO  client {E:IP_ADDRESS} GET {E:URL} {N:status}"),
    # support tickets
    ("ticket", "Hi, my name is {E:PERSON} and I live in {E:LOCATION}. Please update my phone to {E:PHONE_NUMBER}."),
    ("ticket", "Customer {E:PERSON} ({E:EMAIL_ADDRESS}) says the card ending in {N:qty} was charged twice on order {N:order}."),
    ("ticket", "Please verify my identity: SSN {E:US_SSN}, date of birth {E:DATE_TIME}."),
    ("ticket", "I moved from {E:LOCATION} to {E:LOCATION} last month, can you change my billing address?"),
    ("ticket", "The SSN field was left blank; invoice {N:invoice} is attached for reference."),
    ("ticket", "Ticket {N:ticket}: user cannot log in after upgrading to {N:version}, error 0x{N:n}."),
    ("ticket", "Hi {E:FIRST}, thanks for reaching out. I have refunded order {N:order}."),
    ("ticket", "She is a {E:NRP} citizen living in {E:LOCATION} and asked for documents in Spanish."),
    ("ticket", "My passport number is {E:US_PASSPORT} and it expires on {E:DATE_TIME}."),
    ("ticket", "Wire the deposit to IBAN {E:IBAN_CODE} and mail the receipt to {E:EMAIL_ADDRESS}."),
    ("ticket", "Aadhaar: {E:IN_AADHAAR}, PAN: {E:IN_PAN}. Please complete my KYC."),
    ("ticket", "My TFN is {E:AU_TFN}, please update the payroll record."),
    ("ticket", "NRIC {E:SG_NRIC_FIN}, contact {E:PHONE_NUMBER}."),
    ("ticket", "NI number {E:UK_NINO}, starting {E:DATE_TIME}."),
    ("ticket", "The patient, a {E:NRP} woman from {E:LOCATION}, was admitted on {E:DATE_TIME}."),
    ("ticket", "Please send the refund to bitcoin wallet {E:CRYPTO}."),
    ("ticket", "Account number {E:US_BANK_NUMBER} at the credit union, routing {E:US_BANK_NUMBER:ABA}."),
    ("ticket", "Driver's license {E:US_DRIVER_LICENSE} was scanned at the front desk."),
    ("ticket", "Order {N:order} shipped with tracking {N:invoice}; qty {N:qty}, total ${N:price}."),
    ("ticket", "The dashboard at {E:URL} shows a 500 after the {N:version} release."),
    ("ticket", "Dr. {E:PERSON} (DEA {E:MEDICAL_LICENSE}) called about the prescription."),
    # commit messages
    ("commit", "Fix retry loop in {N:file}; bump client to {N:version} ({N:short})"),
    ("commit", "Remove leaked key {E:AWS_ACCESS_KEY} from config and rotate it"),
    ("commit", "Add {N:method} wrapper and tests, refs {N:ticket}"),
    ("commit", "Co-authored-by: {E:PERSON} <{E:EMAIL_ADDRESS}>"),
    ("commit", "Update {N:file} for release {N:version4}"),
    ("commit", "Rotate JWT signing secret; old token {E:JWT} revoked"),
    ("commit", "Revert \"Add {E:PRIVATE_KEY} to fixtures\""),
    # CSV rows
    ("csv", "{N:n},{E:PERSON},{E:EMAIL_ADDRESS},{E:PHONE_NUMBER},{E:LOCATION}"),
    ("csv", "{N:order},{N:sku},{N:qty},{N:price},{N:ts}"),
    ("csv", "{N:n},{E:PERSON},{E:US_SSN},{E:DATE_TIME},{E:CREDIT_CARD}"),
    ("csv", "{N:uuid},{N:badcard},{N:status},{N:version}"),
    ("csv", "{N:n},{E:PERSON},{E:IBAN_CODE},{E:COUNTRY_LOC}"),
    ("csv", "{N:n},{E:IT_FISCAL_CODE},{E:ES_NIF},{E:UK_NHS},{E:IN_PAN}"),
]
GEN["COUNTRY_LOC"] = lambda: R.choice(COUNTRIES)
ALIAS = {"COUNTRY_LOC": "LOCATION", "FIRST": "PERSON", "ABA": "US_BANK_NUMBER"}


def render(template):
    out, labels = [], []
    pos = 0
    i = 0
    while i < len(template):
        j = template.find("{", i)
        if j < 0 or template[j + 1:j + 3] not in ("E:", "N:"):
            if j < 0:
                out.append(template[i:])
                pos += len(template) - i
                break
            out.append(template[i:j + 1])
            pos += j + 1 - i
            i = j + 1
            continue
        out.append(template[i:j])
        pos += j - i
        k = template.index("}", j)
        kind, name = template[j + 1:k].split(":", 1)
        if kind == "E":
            ent, _, sub = name.partition(":")
            value = GEN[sub or ent]()
            if template.startswith("{") and '"' in template[max(0, j - 1):j]:
                value = value.replace("\n", "\\n")
            labels.append({"start": pos, "end": pos + len(value), "entity": ALIAS.get(ent, ent)})
        else:
            value = NEG[name]()
        out.append(value)
        pos += len(value)
        i = k + 1
    return "".join(out), labels


def handwritten():
    """Records from handwritten.txt ([[ENTITY|value]] markup)."""
    out = []
    path = os.path.join(HERE, "handwritten.txt")
    for n, line in enumerate(l.rstrip("\n") for l in open(path, encoding="utf-8")):
        if not line or line.startswith("#"):
            continue
        text, labels, i = "", [], 0
        while True:
            j = line.find("[[", i)
            if j < 0:
                text += line[i:]
                break
            k = line.index("]]", j)
            ent, value = line[j + 2:k].split("|", 1)
            text += line[i:j]
            labels.append({"start": len(text), "end": len(text) + len(value), "entity": ent})
            text += value
            i = k + 2
        out.append({"id": f"hand-{n:03d}", "kind": "handwritten", "text": text, "labels": labels})
    return out


def main():
    records = []
    for n in range(9):
        for t_i, (kind, tpl) in enumerate(TEMPLATES):
            text, labels = render(tpl)
            records.append({"id": f"{kind}-{t_i:02d}-{n}", "kind": kind, "text": text, "labels": labels})
    records += handwritten()
    path = os.path.join(HERE, "corpus.jsonl")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    ents = {}
    for r in records:
        for l in r["labels"]:
            ents[l["entity"]] = ents.get(l["entity"], 0) + 1
    neg = sum(1 for r in records if not r["labels"])
    print(f"{len(records)} records ({neg} with no PII), {sum(ents.values())} labels")
    for e in sorted(ents):
        print(f"  {e}: {ents[e]}")


if __name__ == "__main__":
    main()
