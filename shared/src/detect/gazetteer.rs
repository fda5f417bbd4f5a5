//! Name, place and group tables (see `shared/data/SOURCES.md`), compiled at
//! build time into one `fst::Map` from lower-cased key to flag bits.

use std::sync::OnceLock;

pub(crate) const FIRST: u64 = 1 << 0;
pub(crate) const LAST: u64 = 1 << 1;
pub(crate) const COUNTRY: u64 = 1 << 2;
pub(crate) const ADMIN: u64 = 1 << 3;
pub(crate) const CITY_MAJOR: u64 = 1 << 4;
pub(crate) const CITY: u64 = 1 << 5;
pub(crate) const NATIONALITY: u64 = 1 << 6;
pub(crate) const RELIGION: u64 = 1 << 7;
pub(crate) const POLITICAL: u64 = 1 << 8;
pub(crate) const CONTINENT: u64 = 1 << 9;
pub(crate) const COMMON_WORD: u64 = 1 << 10;
pub(crate) const CITY_BIG: u64 = 1 << 13;
/// A town or village under 15,000 people (server-only table).
pub(crate) const TOWN: u64 = 1 << 14;
/// An English dictionary word (server-only table).
pub(crate) const DICT: u64 = 1 << 15;
/// Whether the server-only tables (towns, dictionary, other scripts) are in
/// this build; rules that read "not in the dictionary" as "a proper noun"
/// need them.
pub(crate) const HAS_DICTIONARY: bool = cfg!(feature = "full-gazetteer");

pub(crate) const PLACE: u64 = COUNTRY | ADMIN | CITY_MAJOR | CITY | CONTINENT | CITY_BIG | TOWN;
pub(crate) const NRP: u64 = NATIONALITY | RELIGION | POLITICAL;

static DATA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gazetteer.fst"));
/// Top-level domains (IANA list), one per line, sorted.
static TLDS: &str = include_str!("../../data/tlds.txt");

fn map() -> Option<&'static fst::Map<&'static [u8]>> {
    static MAP: OnceLock<Option<fst::Map<&'static [u8]>>> = OnceLock::new();
    MAP.get_or_init(|| fst::Map::new(DATA).ok()).as_ref()
}

/// Size of the compiled gazetteer automaton embedded in the binary.
///
/// ```
/// assert!(shared::detect::gazetteer_bytes() > 0);
/// ```
pub fn gazetteer_bytes() -> usize {
    DATA.len() + TLDS.len()
}

/// Force the lazy tables to load (part of compiling the default rules).
pub(crate) fn warm() {
    let _ = map();
    let _ = is_tld("com");
}

/// Flags for a lower-cased key (0 when unknown).
pub(crate) fn lookup(key: &str) -> u64 {
    map().and_then(|m| m.get(key)).unwrap_or(0)
}

/// Flags for a word or phrase in any case; lower-cases into a small buffer.
/// A non-ASCII word of a cased script the table lacks is looked up once more
/// romanised, the way the table generator romanises its entries
/// ("Hamanová", "Иванов").
pub(crate) fn lookup_fold(s: &str, buf: &mut String) -> u64 {
    buf.clear();
    if s.is_ascii() {
        buf.push_str(s);
        buf.make_ascii_lowercase();
    } else {
        for ch in s.chars() {
            buf.extend(ch.to_lowercase());
        }
    }
    let f = lookup(buf);
    // Romanising Latin, Greek or Cyrillic spelling keeps a name a name; a
    // script without case (Chinese, Korean, Arabic…) romanises to syllables
    // that are names in some table ("高速" → "gaosu"), so those are looked
    // up as written only.
    let cased = buf
        .chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_lowercase);
    if f != 0 || buf.is_ascii() || !cased {
        return f;
    }
    romanised(buf)
}

#[cfg(feature = "full-gazetteer")]
fn romanised(lower: &str) -> u64 {
    let mut ascii = any_ascii::any_ascii(lower);
    ascii.make_ascii_lowercase();
    lookup(&ascii)
}

/// The browser build has no transliteration tables: exact spellings only.
#[cfg(not(feature = "full-gazetteer"))]
fn romanised(_lower: &str) -> u64 {
    0
}

/// Whether `label` (any case) is an IANA top-level domain.
pub(crate) fn is_tld(label: &str) -> bool {
    if label.len() < 2 || label.len() > 24 || !label.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let mut lower = [0u8; 24];
    let l = &mut lower[..label.len()];
    l.copy_from_slice(label.as_bytes());
    l.make_ascii_lowercase();
    tld_list().binary_search_by(|t| t.as_bytes().cmp(l)).is_ok()
}

fn tld_list() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| TLDS.lines().filter(|l| !l.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load() {
        assert!(lookup("john") & FIRST != 0);
        assert!(lookup("smith") & LAST != 0);
        assert!(lookup("london") & CITY_MAJOR != 0);
        assert!(lookup("france") & COUNTRY != 0);
        assert!(lookup("california") & ADMIN != 0);
        assert!(lookup("american") & NATIONALITY != 0);
        assert!(lookup("muslim") & RELIGION != 0);
        assert!(lookup("will") & COMMON_WORD != 0);
        assert_eq!(lookup("qzxv"), 0);
        let mut b = String::new();
        assert!(lookup_fold("New York", &mut b) & PLACE != 0);
    }

    /// Names and places from outside the US and in other scripts, with and
    /// without diacritics; small towns only with the server-only table.
    #[test]
    fn multilingual_tables() {
        let mut b = String::new();
        for (word, bit) in [
            ("Nowicka", LAST),
            ("Koskinen", LAST),
            ("Nováková", LAST),
            ("Novakova", LAST),
            ("Papadopoulos", LAST),
            ("Ivanov", LAST),
            ("Tampere", PLACE),
            ("TAMPERE", PLACE),
            ("Aarhus", PLACE),
        ] {
            assert!(lookup_fold(word, &mut b) & bit != 0, "{word}");
        }
        #[cfg(feature = "full-gazetteer")]
        for (word, bit) in [
            ("Иванов", LAST),
            ("Θεσσαλονίκη", PLACE),
            ("Kangerlussuaq", PLACE),
        ] {
            assert!(lookup_fold(word, &mut b) & bit != 0, "{word}");
        }
    }

    #[test]
    fn tlds() {
        assert!(is_tld("com") && is_tld("IO") && is_tld("uk") && is_tld("md"));
        assert!(!is_tld("charge") && !is_tld("yaml") && !is_tld("c"));
    }
}
