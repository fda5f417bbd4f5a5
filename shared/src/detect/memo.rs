//! What one scan has already worked out about short strings: which JSON
//! fields were scanned clean ([`Seen`]), and the gazetteer flags of words
//! ([`WordMemo`]); and, behind those, what is known of short strings across
//! scans ([`SharedMemo`], described on the type).
//!
//! Tool arguments repeat their member keys and enum-like values in every
//! array item (`"id"`, `"kind"`, `"status": "open"`): scanning each again
//! pays every pass's fixed set-up for nothing, and on a 1 KB argument that
//! set-up is a large share of the whole scan. A string whose scan gave no
//! candidate at all (built-in or custom) is remembered for the rest of the
//! walk, under the member key that gave it context (a key changes what the
//! same text means: `{"ssn": "536228745"}`). Likewise a capitalised word's
//! table lookup (an `fst` walk of about 1,800 instructions) is done once
//! per scan, however often the word comes back ("Customer", a city, the
//! same name in every record).
//!
//! An attacker's look: the hash only picks a slot; a hit compares the key
//! and the text byte for byte, so no string is ever skipped that was not
//! itself scanned clean in the same walk, and no word gets another word's
//! flags. Nothing outlives one scan. The table has a fixed number of
//! slots (a collision evicts, so colliding strings on purpose only means
//! they are scanned again) and the stored text is capped, so a hostile
//! document can neither grow the memory nor make a lookup cost more than
//! hashing 96 bytes. Hand-written because it is a few dozen lines: a
//! general map would allocate per entry, and the standard library's keyed
//! SipHash alone cost more than the scans it saved (callgrind).

/// Only strings this short are remembered: keys, enum-like values, words;
/// not prose.
const SHORT: usize = 32;
/// Member keys longer than this give no entry.
const KEY_MAX: usize = 64;
/// Slots of the direct-mapped table (a power of two).
const SLOTS: usize = 64;
/// Bytes of key and text stored, at most, per scan.
const ARENA_MAX: usize = 8 * 1024;
/// Lookups before the memo starts remembering: a short call (a path, a
/// query, a limit) repeats nothing and should not pay for the table.
const WARM_UP: u32 = 8;

/// Eight bytes as a little-endian word (`w` has at least eight).
#[inline]
fn load(w: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    if let Some(w) = w.get(..8) {
        a.copy_from_slice(w);
    }
    u64::from_le_bytes(a)
}

#[derive(Clone, Copy, Default)]
struct Slot<V> {
    hash: u64,
    at: u32,
    /// Length of the key, or `u8::MAX` for none.
    key_len: u8,
    len: u8,
    used: bool,
    value: V,
}

/// A small direct-mapped map from (key, text) to a `Copy` value, for the
/// length of one scan.
pub(crate) struct Memo<V> {
    /// Lookups so far (saturating).
    lookups: u32,
    /// Allocated on the first entry, so a scan of a few fields pays nothing.
    slots: Vec<Slot<V>>,
    /// Keys and texts of the entries, back to back.
    arena: Vec<u8>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            lookups: 0,
            slots: Vec::new(),
            arena: Vec::new(),
        }
    }
}

impl<V: Copy + Default> Memo<V> {
    fn cacheable(key: Option<&str>, s: &str) -> bool {
        s.len() <= SHORT && key.is_none_or(|k| k.len() <= KEY_MAX)
    }

    /// A multiply-rotate hash (as rustc's FxHash) over eight bytes at a time,
    /// with each part's length mixed in so key and text cannot trade bytes.
    #[inline]
    pub(crate) fn hash(key: Option<&str>, s: &str) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
        let mut h = u64::from(key.is_some());
        for part in [key.unwrap_or(""), s].map(str::as_bytes) {
            let mut words = part.chunks_exact(8);
            for w in &mut words {
                h = mix(h, load(w));
            }
            // The last bytes: one (overlapping) load when the part has eight
            // or more, else byte by byte.
            let tail = if words.remainder().is_empty() {
                0
            } else if part.len() >= 8 {
                load(&part[part.len() - 8..])
            } else {
                part.iter()
                    .enumerate()
                    .fold(0, |t, (i, &b)| t | u64::from(b) << (8 * i))
            };
            h = mix(mix(h, tail), part.len() as u64);
        }
        h
    }

    /// The slot of a hash: its top bits, the best mixed ones.
    fn slot(h: u64) -> usize {
        (h >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// The value stored for exactly `s` under `key`, if any.
    pub(crate) fn get(&mut self, key: Option<&str>, s: &str) -> Option<V> {
        self.lookups = self.lookups.saturating_add(1);
        if self.slots.is_empty() || !Self::cacheable(key, s) {
            return None;
        }
        let h = Self::hash(key, s);
        let slot = self.slots.get(Self::slot(h))?;
        if !slot.used || slot.hash != h {
            return None;
        }
        let at = slot.at as usize;
        let key = key.map(str::as_bytes);
        let key_len = if slot.key_len == u8::MAX {
            None
        } else {
            Some(slot.key_len as usize)
        };
        let stored_key = key_len.and_then(|n| self.arena.get(at..at + n));
        let from = at + key_len.unwrap_or(0);
        (stored_key == key && self.arena.get(from..from + slot.len as usize) == Some(s.as_bytes()))
            .then_some(slot.value)
    }

    /// Remember `value` for `s` under `key` (evicting whatever shared its slot).
    pub(crate) fn put(&mut self, key: Option<&str>, s: &str, value: V) {
        if self.lookups <= WARM_UP
            || !Self::cacheable(key, s)
            || self.arena.len() + s.len() + key.map_or(0, str::len) > ARENA_MAX
        {
            return;
        }
        let h = Self::hash(key, s);
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); SLOTS];
            // Grown by doubling from empty, the arena reallocated about ten
            // times per scan (callgrind): start with room for a typical one.
            self.arena.reserve(1024);
        }
        let at = self.arena.len();
        let (Ok(at32), Ok(len)) = (u32::try_from(at), u8::try_from(s.len())) else {
            return;
        };
        let key_len = match key {
            Some(k) => match u8::try_from(k.len()) {
                Ok(n) if n < u8::MAX => n,
                _ => return,
            },
            None => u8::MAX,
        };
        self.arena.extend_from_slice(key.unwrap_or("").as_bytes());
        self.arena.extend_from_slice(s.as_bytes());
        if let Some(slot) = self.slots.get_mut(Self::slot(h)) {
            *slot = Slot {
                hash: h,
                at: at32,
                key_len,
                len,
                used: true,
                value,
            };
        }
    }
}

/// What is known of short strings across scans, behind the per-scan memos:
/// a gateway scans the same vocabulary call after call (member keys, enum
/// values, "Please", "Customer", the cities and names of its users), and
/// each scan starts with an empty memo. Three tables, each a pure function
/// of the string and the same for every tenant: [`WORD_FLAGS`], a word's
/// gazetteer flags (the `fst` walks were 8 % of a 1 KB argument's scan,
/// callgrind); [`NO_INSTRUCTION`], short strings the prompt-injection pass
/// found nothing in; [`KEY_KINDS`], what a member key says its value is.
///
/// One table per thread (a server's scans run on a few worker threads):
/// no lock, and no cache line bouncing between cores. Shared by every
/// tenant's scans on that thread, so the attacker's look matters more than
/// for the per-scan memo: a hit compares the string byte for byte (a crafted
/// hash collision only evicts, it never lends one string another's answer),
/// the table and its text are fixed in size (the text is dropped and the
/// table starts over when full), and only the answer for the string itself
/// is stored — never where it was seen.
pub(crate) struct SharedMemo(&'static std::thread::LocalKey<std::cell::RefCell<SharedTable>>);

pub(crate) struct SharedTable {
    slots: Vec<(u64, u32, u8, u64)>,
    arena: Vec<u8>,
}

/// Slots of a [`SharedMemo`] (a power of two).
const SHARED_SLOTS: usize = 4096;
/// Bytes of string text one keeps before starting over.
const SHARED_ARENA: usize = 64 * 1024;

thread_local! {
    static WORD_FLAGS_T: std::cell::RefCell<SharedTable> = const { SharedTable::new() };
    static NO_INSTRUCTION_T: std::cell::RefCell<SharedTable> = const { SharedTable::new() };
    static KEY_KINDS_T: std::cell::RefCell<SharedTable> = const { SharedTable::new() };
}

/// Gazetteer flags of words, by the word as written.
pub(crate) static WORD_FLAGS: SharedMemo = SharedMemo(&WORD_FLAGS_T);
/// Short strings in which the prompt-injection pass found nothing (value 1).
pub(crate) static NO_INSTRUCTION: SharedMemo = SharedMemo(&NO_INSTRUCTION_T);
/// Member keys, by what they say their value is (`builtin::fields`).
pub(crate) static KEY_KINDS: SharedMemo = SharedMemo(&KEY_KINDS_T);

impl SharedTable {
    const fn new() -> std::cell::RefCell<SharedTable> {
        std::cell::RefCell::new(SharedTable {
            slots: Vec::new(),
            arena: Vec::new(),
        })
    }

    fn slot(h: u64) -> usize {
        (h >> (64 - SHARED_SLOTS.trailing_zeros())) as usize
    }

    fn get(&self, h: u64, s: &str) -> Option<u64> {
        let &(hash, at, len, value) = self.slots.get(Self::slot(h))?;
        let at = at as usize;
        (hash == h && self.arena.get(at..at + usize::from(len)) == Some(s.as_bytes()))
            .then_some(value)
    }

    fn put(&mut self, h: u64, s: &str, value: u64) {
        let Ok(len) = u8::try_from(s.len()) else {
            return;
        };
        if self.slots.is_empty() || self.arena.len() + s.len() > SHARED_ARENA {
            self.slots.clear();
            self.slots.resize(SHARED_SLOTS, (0, 0, 0, 0));
            self.arena.clear();
            self.arena.reserve(SHARED_ARENA);
        }
        let Ok(at) = u32::try_from(self.arena.len()) else {
            return;
        };
        self.arena.extend_from_slice(s.as_bytes());
        if let Some(slot) = self.slots.get_mut(Self::slot(h)) {
            *slot = (h, at, len, value);
        }
    }
}

impl SharedMemo {
    /// The value stored for exactly `s` on this thread, if any.
    pub(crate) fn get(&self, s: &str) -> Option<u64> {
        if s.len() > SHORT {
            return None;
        }
        let h = WordMemo::hash(None, s);
        self.0
            .try_with(|t| t.try_borrow().ok()?.get(h, s))
            .ok()
            .flatten()
    }

    /// Remember `value` for `s` (evicting whatever shared its slot).
    pub(crate) fn put(&self, s: &str, value: u64) {
        if s.len() > SHORT {
            return;
        }
        let h = WordMemo::hash(None, s);
        let _ = self.0.try_with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                t.put(h, s, value);
            }
        });
    }
}

/// Fields of a JSON walk scanned clean, under the key giving them context.
pub(crate) type Seen = Memo<()>;

/// Gazetteer flags of words, by the word as written.
pub(crate) type WordMemo = Memo<u64>;

/// Everything one scan (a JSON walk, or one text) remembers.
#[derive(Default)]
pub(crate) struct ScanMemo {
    pub fields: Seen,
    pub words: WordMemo,
}

#[cfg(test)]
mod tests {
    use super::{Memo, Seen, WordMemo};

    #[test]
    fn remembers_exactly_what_was_marked() {
        let mut seen = Seen::default();
        for _ in 0..super::WARM_UP {
            assert!(seen.get(None, "id").is_none());
            seen.put(None, "id", ());
        }
        assert!(seen.get(None, "id").is_none());
        seen.put(None, "id", ());
        seen.put(Some("kind"), "note", ());
        assert!(seen.get(None, "id").is_some());
        assert!(seen.get(Some("kind"), "note").is_some());
        // The key is part of what was scanned.
        assert!(seen.get(Some("ssn"), "note").is_none());
        assert!(seen.get(None, "note").is_none());
        assert!(seen.get(Some("kind"), "notes").is_none());
        // Key and text cannot trade bytes.
        seen.put(Some("ab"), "c", ());
        assert!(seen.get(Some("a"), "bc").is_none());
        // Long strings are never remembered.
        let long = "x".repeat(100);
        seen.put(None, &long, ());
        assert!(seen.get(None, &long).is_none());
    }

    #[test]
    fn words_keep_their_own_flags() {
        let mut m = WordMemo::default();
        for i in 0..=super::WARM_UP {
            assert_eq!(m.get(None, "Paris"), None, "{i}");
        }
        m.put(None, "Paris", 7);
        m.put(None, "paris", 9);
        assert_eq!(m.get(None, "Paris"), Some(7));
        assert_eq!(m.get(None, "paris"), Some(9));
        assert_eq!(m.get(None, "PARIS"), None);
    }

    #[test]
    fn shared_memo_compares_the_string_itself() {
        let m = &super::NO_INSTRUCTION;
        m.put("Zyxwvutsrq", 5);
        assert_eq!(m.get("Zyxwvutsrq"), Some(5));
        assert_eq!(m.get("Zyxwvutsrp"), None);
        for i in 0..20_000 {
            m.put(&format!("word-{i:05}-padding-text"), 1);
        }
        super::NO_INSTRUCTION_T.with(|t| {
            let t = t.borrow();
            assert!(t.arena.len() <= super::SHARED_ARENA);
            assert_eq!(t.slots.len(), super::SHARED_SLOTS);
        });
        // Another thread starts with its own, empty table.
        let other = std::thread::spawn(|| super::NO_INSTRUCTION.get("word-19999-padding-text"));
        assert_eq!(other.join().unwrap(), None);
    }

    #[test]
    fn bounded_under_many_distinct_strings() {
        let mut seen: Memo<()> = Memo::default();
        for i in 0..100_000 {
            seen.get(Some("k"), "x");
            seen.put(Some("k"), &format!("value-{i}"), ());
        }
        assert!(seen.arena.len() <= super::ARENA_MAX);
        assert_eq!(seen.slots.len(), super::SLOTS);
    }
}
