//! Byte-class tables, word lists and the small helpers more than one pass
//! uses. Everything here is a pure function of its arguments or a constant,
//! so the passes can share it without sharing state.

// --- byte classes (every pass) ---

/// A byte of a word or identifier: ASCII alphanumeric, `_`, or part of a
/// non-ASCII character.
pub(super) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Bytes that end a chunk: whitespace, quotes, brackets, `,;|\`.
const fn delim_table() -> [bool; 256] {
    let mut t = [false; 256];
    let ds = b" \t\n\r\x0b\x0c\"'`<>()[]{},;|\\";
    let mut i = 0;
    while i < ds.len() {
        t[ds[i] as usize] = true;
        i += 1;
    }
    t
}

static DELIM: [bool; 256] = delim_table();

#[inline]
pub(super) fn is_delim(b: u8) -> bool {
    DELIM[usize::from(b)]
}

/// The end of the identifier, path or version at `p` (`INV-2024-001`,
/// `v1.2.3`); always at least one byte on, so callers advance.
pub(super) fn skip_ident(b: &[u8], mut p: usize) -> usize {
    let s = p;
    while p < b.len()
        && (is_word(b[p]) || (matches!(b[p], b'-' | b'.') && p + 1 < b.len() && is_word(b[p + 1])))
    {
        p += 1;
    }
    p.max(s + 1)
}

/// Which byte classes a chunk contains, from its OR-ed [`CLASS`] bits.
pub(super) struct Flags {
    pub(super) at: bool,
    pub(super) colon: bool,
    pub(super) slash: bool,
    pub(super) digit: bool,
    pub(super) alpha: bool,
    pub(super) upper: bool,
    pub(super) under: bool,
    pub(super) dash: bool,
    pub(super) eq: bool,
}

const F_AT: u16 = 1;
/// Not a flag of [`Flags`]; only keeps `.` chunks off the plain-word fast path.
const F_DOT: u16 = 2;
const F_COLON: u16 = 4;
const F_SLASH: u16 = 8;
const F_DIGIT: u16 = 16;
pub(super) const F_ALPHA: u16 = 32;
const F_UPPER: u16 = 64;
const F_UNDER: u16 = 128;
const F_DASH: u16 = 256;
const F_EQ: u16 = 512;

const fn class_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'@' => F_AT,
            b'.' => F_DOT,
            b':' => F_COLON,
            b'/' => F_SLASH,
            b'0'..=b'9' => F_DIGIT,
            b'A'..=b'Z' => F_ALPHA | F_UPPER,
            b'a'..=b'z' => F_ALPHA,
            b'_' => F_UNDER,
            b'-' => F_DASH,
            b'=' => F_EQ,
            _ => 0,
        };
        c += 1;
    }
    t
}

/// Byte class bits, OR-ed per chunk in the hot loop.
pub(super) static CLASS: [u16; 256] = class_table();

impl Flags {
    pub(super) fn from_bits(x: u16) -> Flags {
        Flags {
            at: x & F_AT != 0,
            colon: x & F_COLON != 0,
            slash: x & F_SLASH != 0,
            digit: x & F_DIGIT != 0,
            alpha: x & F_ALPHA != 0,
            upper: x & F_UPPER != 0,
            under: x & F_UNDER != 0,
            dash: x & F_DASH != 0,
            eq: x & F_EQ != 0,
        }
    }
}

// --- word lists ---

/// Titles before a name: the capitalised words after one are a person.
pub(super) const HONORIFICS: &[&str] = &[
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Madam",
];

/// Labels that are file extensions or code member names far more often than domains.
pub(super) const CODE_SUFFIXES: &[&str] = &[
    "md",
    "rs",
    "py",
    "sh",
    "pl",
    "so",
    "zip",
    "mov",
    "name",
    "id",
    "run",
    "app",
    "map",
    "data",
    "email",
    "link",
    "host",
    "get",
    "new",
    "call",
    "now",
    "page",
    "type",
    "ps",
    "sc",
    "mk",
    "cc",
    "im",
    "re",
    "bz",
    "ml",
    "mm",
    "fm",
    "am",
    "tf",
    "rb",
    "ts",
    "cs",
    "py",
    "hs",
    "kt",
    "dart",
    "lua",
    "json",
    "log",
    "sql",
    "lock",
    "csv",
    "txt",
    "zip",
    "bin",
    "exe",
    "dll",
    "jar",
    "bat",
    "cmd",
    "db",
    "gz",
    "xz",
    "crt",
    "pem",
    "key",
    "cer",
    "test",
    "local",
    "internal",
    "example",
    "invalid",
    "localhost",
    "dev",
    "prod",
    "config",
    "sum",
    "mod",
];

/// TLDs that on their own make a bare domain likely to be a site.
pub(super) const COMMON_TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "de", "fr", "es", "it",
    "nl", "ca", "au", "jp", "cn", "in", "br", "ru", "ch", "se", "no", "dk", "fi", "pl", "be", "at",
    "ie", "nz", "sg", "za", "mx", "dev", "ai", "app", "info", "biz", "us", "eu", "me", "tv", "xyz",
    "cloud", "tech", "online", "site", "store", "shop",
];
