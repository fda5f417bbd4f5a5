//! Short strings a JSON walk has already scanned and found clean.
//!
//! Tool arguments repeat their member keys and enum-like values in every
//! array item (`"id"`, `"kind"`, `"status": "open"`): scanning each again
//! pays every pass's fixed set-up for nothing, and on a 1 KB argument that
//! set-up is a large share of the whole scan. A string whose scan gave no
//! candidate at all (built-in or custom) is remembered for the rest of the
//! walk, under the member key that gave it context (a key changes what the
//! same text means: `{"ssn": "536228745"}`).
//!
//! An attacker's look: the hash only picks a slot; a hit compares the key
//! and the text byte for byte, so no string is ever skipped that was not
//! itself scanned clean in the same walk. The table has a fixed number of
//! slots (a collision evicts, so colliding strings on purpose only means
//! they are scanned again) and the stored text is capped, so a hostile
//! document can neither grow the memory nor make a lookup cost more than
//! hashing 96 bytes. Hand-written because it is a few dozen lines: a
//! general map would allocate per entry, and the standard library's keyed
//! SipHash alone cost more than the scans it saved (callgrind).

/// Only strings this short are remembered: keys and enum-like values,
/// not prose.
const SHORT: usize = 32;
/// Member keys longer than this give no cache entry.
const KEY_MAX: usize = 64;
/// Slots of the direct-mapped table (a power of two).
const SLOTS: usize = 64;
/// Bytes of key and text stored, at most, per walk.
const ARENA_MAX: usize = 8 * 1024;
/// Fields scanned before the walk starts remembering: a short call (a
/// path, a query, a limit) repeats nothing and should not pay for the
/// table.
const WARM_UP: u32 = 8;

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    at: u32,
    /// Length of the key, or `u8::MAX` for none.
    key_len: u8,
    len: u8,
    used: bool,
}

#[derive(Default)]
pub(crate) struct Seen {
    /// Fields looked up so far (saturating).
    fields: u32,
    /// Allocated on the first entry, so a walk of a few fields pays nothing.
    slots: Vec<Slot>,
    arena: String,
}

impl Seen {
    fn cacheable(key: Option<&str>, s: &str) -> bool {
        s.len() <= SHORT && key.is_none_or(|k| k.len() <= KEY_MAX)
    }

    /// A multiply-rotate hash (as rustc's FxHash) over eight bytes at a time,
    /// with each part's length mixed in so key and text cannot trade bytes.
    fn hash(key: Option<&str>, s: &str) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
        let mut h = u64::from(key.is_some());
        for part in [key.unwrap_or(""), s] {
            let mut words = part.as_bytes().chunks_exact(8);
            for w in &mut words {
                let mut a = [0u8; 8];
                a.copy_from_slice(w);
                h = mix(h, u64::from_le_bytes(a));
            }
            let mut tail = 0u64;
            for (i, &b) in words.remainder().iter().enumerate() {
                tail |= u64::from(b) << (8 * i);
            }
            h = mix(mix(h, tail), part.len() as u64);
        }
        h
    }

    /// The slot of a hash: its top bits, the best mixed ones.
    fn slot(h: u64) -> usize {
        (h >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// True when `s` under `key` was scanned clean earlier in this walk.
    pub(crate) fn is_clean(&mut self, key: Option<&str>, s: &str) -> bool {
        self.fields = self.fields.saturating_add(1);
        if self.slots.is_empty() || !Self::cacheable(key, s) {
            return false;
        }
        let h = Self::hash(key, s);
        let Some(slot) = self.slots.get(Self::slot(h)) else {
            return false;
        };
        if !slot.used || slot.hash != h {
            return false;
        }
        let at = slot.at as usize;
        let key_len = if slot.key_len == u8::MAX {
            None
        } else {
            Some(slot.key_len as usize)
        };
        let stored_key = key_len.and_then(|n| self.arena.get(at..at + n));
        let from = at + key_len.unwrap_or(0);
        stored_key == key && self.arena.get(from..from + slot.len as usize) == Some(s)
    }

    /// Remember that `s` under `key` gave no candidate.
    pub(crate) fn mark_clean(&mut self, key: Option<&str>, s: &str) {
        if self.fields <= WARM_UP
            || !Self::cacheable(key, s)
            || self.arena.len() + s.len() + key.map_or(0, str::len) > ARENA_MAX
        {
            return;
        }
        let h = Self::hash(key, s);
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); SLOTS];
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
        self.arena.push_str(key.unwrap_or(""));
        self.arena.push_str(s);
        if let Some(slot) = self.slots.get_mut(Self::slot(h)) {
            *slot = Slot {
                hash: h,
                at: at32,
                key_len,
                len,
                used: true,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn remembers_exactly_what_was_marked() {
        let mut seen = Seen::default();
        for _ in 0..super::WARM_UP {
            assert!(!seen.is_clean(None, "id"));
            seen.mark_clean(None, "id");
        }
        assert!(!seen.is_clean(None, "id"));
        seen.mark_clean(None, "id");
        seen.mark_clean(Some("kind"), "note");
        assert!(seen.is_clean(None, "id"));
        assert!(seen.is_clean(Some("kind"), "note"));
        // The key is part of what was scanned.
        assert!(!seen.is_clean(Some("ssn"), "note"));
        assert!(!seen.is_clean(None, "note"));
        assert!(!seen.is_clean(Some("kind"), "notes"));
        // Key and text cannot trade bytes.
        seen.mark_clean(Some("ab"), "c");
        assert!(!seen.is_clean(Some("a"), "bc"));
        // Long strings are never remembered.
        let long = "x".repeat(100);
        seen.mark_clean(None, &long);
        assert!(!seen.is_clean(None, &long));
    }

    #[test]
    fn bounded_under_many_distinct_strings() {
        let mut seen = Seen::default();
        for i in 0..100_000 {
            seen.is_clean(Some("k"), "x");
            seen.mark_clean(Some("k"), &format!("value-{i}"));
        }
        assert!(seen.arena.len() <= super::ARENA_MAX);
        assert_eq!(seen.slots.len(), super::SLOTS);
    }
}
