//! Pass 1, numeric runs: digit groups joined by single separators (`-./: `,
//! phone parentheses, a leading `+`), judged as cards, SSN/ITIN, phones,
//! dates, IPv4, NHS, TFN, Aadhaar, bank / passport / licence numbers.
//!
//! Each run is parsed once into its groups ([`Run`]); dates claim groups
//! first, then windows of whole groups, longest first, go to the validators.
//! The run parser, the SWAR digit search and the phone-plan shape check are
//! used by no other pass, so they live here.

use super::Scanner;
use super::tables::{is_word, skip_ident};
use crate::detect::context;
use crate::detect::entity::{Entity, Region};
use crate::detect::validators as v;

impl<'a> Scanner<'a> {
    pub(super) fn numeric(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut taken: Vec<(usize, usize)> = self
            .hits
            .iter()
            .filter(|h| h.score >= 0.85)
            .map(|h| (h.start, h.end))
            .collect();
        taken.sort_unstable();
        let mut t = 0;
        let mut i = 0;
        while i < n {
            let Some(d) = next_digit(b, i) else {
                break;
            };
            while t < taken.len() && taken[t].1 <= d {
                t += 1;
            }
            if let Some(&(ts, te)) = taken.get(t)
                && ts <= d
            {
                i = te.max(d + 1);
                continue;
            }
            if glued_left(b, d) {
                i = skip_ident(b, d);
                continue;
            }
            let run = parse_run(b, d);
            let next = run.end.max(d + 1);
            self.numeric_run(&run);
            i = next;
        }
    }

    fn numeric_run(&mut self, r: &Run) {
        let b = self.b;
        let n = b.len();
        // Most numbers in tool calls are counts, ids and prices: fewer than 7
        // digits in one or two groups match nothing (dates need three groups,
        // IPv4 four, every identifier at least 7 digits).
        if r.ng == 1 && r.groups[0].1 - r.groups[0].0 == 4 && !r.plus && !r.paren {
            self.bare_year(r);
            return;
        }
        if r.ng < 3 {
            let digits: usize = r.groups[..r.ng].iter().map(|g| g.1 - g.0).sum();
            if digits < 7 {
                return;
            }
        }
        // "555-201-3344 x120", "ext. 12": an extension is part of the phone
        // number, not an identifier glued to the digits.
        let ext = ext_suffix(b, r.end);
        let glued = ext.is_none()
            && r.end < n
            && (is_word(b[r.end])
                || b[r.end] == b'@'
                || (matches!(b[r.end], b'-' | b'.' | b'_' | b'/')
                    && r.end + 1 < n
                    && b[r.end + 1].is_ascii_alphabetic()));
        let mut claimed = 0u32;
        // Dates first: they explain many digit shapes (and the T of ISO 8601).
        if r.ng >= 3 {
            let mut a = 0;
            while a + 2 < r.ng {
                if let Some(end_group) = self.try_date(r, a, glued) {
                    claimed |= mask(a, end_group);
                    a = end_group + 1;
                } else {
                    a += 1;
                }
            }
        }
        if glued {
            return;
        }
        if claimed == 0
            && r.ng == 4
            && !r.plus
            && !r.paren
            && r.seps[..3].iter().all(|&c| c == b'.')
        {
            self.ipv4(r);
            return;
        }
        // Windows of whole groups, longest first, so 4-4-4-4 is judged as a card
        // before its parts are judged as anything else.
        let max_k = r.ng.min(6);
        for k in (1..=max_k).rev() {
            for a in 0..=(r.ng - k) {
                let m = mask(a, a + k - 1);
                if claimed & m != 0 {
                    continue;
                }
                if self.window(r, a, a + k - 1) {
                    claimed |= m;
                }
            }
        }
    }

    /// Judge groups `a..=z` of a run; true when a strong detection claims them.
    fn window(&mut self, r: &Run, a: usize, z: usize) -> bool {
        let b = self.b;
        let mut digits = [0u8; 24];
        let mut nd = 0;
        let mut lens = [0usize; 6];
        for (i, g) in (a..=z).enumerate() {
            let (gs, ge) = r.groups[g];
            if nd + (ge - gs) > digits.len() {
                return false;
            }
            digits[nd..nd + (ge - gs)].copy_from_slice(&b[gs..ge]);
            nd += ge - gs;
            if let Some(l) = lens.get_mut(i) {
                *l = ge - gs;
            }
        }
        let ds = &digits[..nd];
        let k = z - a + 1;
        let lens = &lens[..k];
        let seps = &r.seps[a..z];
        let uniform = seps.windows(2).all(|w| w[0] == w[1]);
        let sep = seps.first().copied();
        let start_digits = r.groups[a].0;
        let start = if a == 0 { r.start } else { start_digits };
        let end = r.groups[z].1;
        let us = self.rules.region_on(Region::Us);
        let mut strong = false;

        // Cards: 12–19 digits (12 only for Maestro), contiguous or
        // 4-4-4-4(-x) / Amex 4-6-5 / Diners 4-6-4.
        if (12..=19).contains(&nd)
            && (k == 1
                || (uniform
                    && matches!(sep, Some(b' ' | b'-'))
                    && (lens[..k - 1].iter().all(|&l| l == 4) && lens[k - 1] <= 4
                        || lens == [4, 6, 5]
                        || lens == [4, 6, 4])))
            && v::credit_card(ds)
        {
            // A bare 12-digit number is as often an order or account number.
            let score = if nd == 12 && k == 1 { 0.6 } else { 0.9 };
            self.push(Entity::CreditCard, start_digits, end, score);
            return true;
        }
        // SSN / ITIN: 3-2-4 with one kind of separator, or 9 contiguous digits.
        if nd == 9 && us {
            let formatted =
                k == 3 && lens == [3, 2, 4] && uniform && matches!(sep, Some(b'-' | b' ' | b'.'));
            if formatted || k == 1 {
                if v::us_ssn(ds) {
                    self.push(
                        Entity::UsSsn,
                        start_digits,
                        end,
                        if formatted { 0.85 } else { 0.3 },
                    );
                    strong |= formatted;
                } else if v::us_itin(ds) {
                    self.push(
                        Entity::UsItin,
                        start_digits,
                        end,
                        if formatted { 0.8 } else { 0.3 },
                    );
                    strong |= formatted;
                }
            }
        }
        if k == 1 && us {
            // Order, invoice and tracking numbers are the commonest long
            // numbers in tool calls, and "123456789" is a placeholder: neither
            // is offered as a bank account, even beside "account".
            let reference = context::word_before_is(
                self.s,
                start_digits,
                &[
                    "order",
                    "invoice",
                    "ref",
                    "reference",
                    "ticket",
                    "case",
                    "tracking",
                    "po",
                    "sku",
                    "confirmation",
                    "booking",
                    "shipment",
                    "parcel",
                    "receipt",
                ],
            );
            let placeholder = ds
                .windows(9)
                .any(|w| w == b"123456789" || w == b"987654321");
            if (8..=17).contains(&nd) && !reference && !placeholder {
                let routing = nd == 9 && v::aba_routing(ds);
                self.push(
                    Entity::UsBankNumber,
                    start_digits,
                    end,
                    if routing { 0.3 } else { 0.2 },
                );
            }
            if nd == 9 {
                self.push(Entity::UsPassport, start_digits, end, 0.2);
            }
            if (7..=9).contains(&nd) {
                self.push(Entity::UsDriverLicense, start_digits, end, 0.15);
            }
        }
        if nd == 10 && self.rules.region_on(Region::Uk) && v::uk_nhs(ds) {
            if k == 1 {
                self.push(Entity::UkNhs, start_digits, end, 0.3);
            } else if lens == [3, 3, 4] && uniform && matches!(sep, Some(b' ' | b'-')) {
                self.push(
                    Entity::UkNhs,
                    start_digits,
                    end,
                    if sep == Some(b' ') { 0.6 } else { 0.5 },
                );
            }
        }
        if (nd == 9 || nd == 8) && self.rules.region_on(Region::Au) && v::au_tfn(ds) {
            if k == 1 {
                self.push(
                    Entity::AuTfn,
                    start_digits,
                    end,
                    if nd == 9 { 0.3 } else { 0.2 },
                );
            } else if nd == 9 && lens == [3, 3, 3] && uniform && matches!(sep, Some(b' ' | b'-')) {
                self.push(Entity::AuTfn, start_digits, end, 0.5);
            }
        }
        if nd == 12 && self.rules.region_on(Region::In) && v::in_aadhaar(ds) {
            if k == 1 {
                self.push(Entity::InAadhaar, start_digits, end, 0.3);
            } else if lens == [4, 4, 4] && uniform && matches!(sep, Some(b' ' | b'-')) {
                self.push(Entity::InAadhaar, start_digits, end, 0.6);
                strong = true;
            }
        }
        if !strong {
            strong = self.phone(r, a, z, nd, start, end, uniform);
        }
        strong
    }

    #[allow(clippy::too_many_arguments)]
    fn phone(
        &mut self,
        r: &Run,
        a: usize,
        z: usize,
        nd: usize,
        start: usize,
        end: usize,
        uniform: bool,
    ) -> bool {
        if !self.rules.on(Entity::PhoneNumber) {
            return false;
        }
        // "0044 20 7946 0958", "001-415-555-2671": 00 is the international
        // call prefix, written in place of the plus.
        let intl00 = a == 0 && !r.plus && !r.paren && {
            let (gs, ge) = r.groups[0];
            ge - gs >= 3 && self.b[gs] == b'0' && self.b[gs + 1] == b'0' && self.b[gs + 2] != b'0'
        };
        let nd = if intl00 { nd - 2 } else { nd };
        let plus = a == 0 && r.plus || intl00;
        let paren = a == 0 && r.paren;
        let k = z - a + 1;
        let seps = &r.seps[a..z];
        let phoneish_seps = seps
            .iter()
            .all(|c| matches!(c, b' ' | b'-' | b'.' | b'(' | b')'));
        let formatted =
            k >= 2 && phoneish_seps && (uniform || plus || paren || seps.contains(&b')'));
        let ok_len = if plus {
            (8..=15).contains(&nd)
        } else {
            (8..=12).contains(&nd) && (formatted || nd >= 10)
                // "555-0123": a short local number, only with context.
                || nd == 7 && k == 2 && formatted && seps[0] != b'.'
        };
        // Part of a longer dash- or dot-joined number ("978-3-16-148410-0",
        // an ISBN): a phone number is never cut out of the middle of one.
        let cut_left = a > 0 && matches!(r.seps[a - 1], b'-' | b'.' | b'/');
        let cut_right = z + 1 < r.ng && matches!(r.seps[z], b'-' | b'.' | b'/');
        if cut_left || cut_right {
            return false;
        }
        // 3-2-4 is the SSN layout, never a phone layout.
        let ssn_layout = k == 3 && (a..=z).map(|g| r.groups[g].1 - r.groups[g].0).eq([3, 2, 4]);
        if !ok_len
            || !(formatted || k == 1)
            || (k == 1 && !plus && nd > 11)
            || (!plus && ssn_layout)
        {
            return false;
        }
        // "… x120", "ext. 12" after the last group belongs to the number.
        let ext_end = if z + 1 == r.ng {
            ext_suffix(self.b, r.end)
        } else {
            None
        };
        let end = ext_end.unwrap_or(end);
        let text = &self.s[start..end];
        // Space-only 3-3-4 is also the NHS layout; leave room for it to win.
        let spaces_334 = !plus && !paren && k == 3 && seps.iter().all(|&c| c == b' ') && nd == 10;
        let mut lead = [0u8; 5];
        for (slot, d) in lead.iter_mut().zip(
            (a..=z)
                .flat_map(|g| self.b[r.groups[g].0..r.groups[g].1].iter())
                .copied(),
        ) {
            *slot = d;
        }
        let first = lead[0];
        let (valid, possible) = if plus {
            let parsed = if intl00 {
                phonenumber::parse(None, format!("+{}", &text[2..]))
            } else {
                phonenumber::parse(crate::detect::phone::parse_hint(text), text)
            };
            match parsed {
                Ok(p) => (crate::detect::phone::is_valid(&p), true),
                Err(_) => (false, false),
            }
        } else {
            let mut possible = false;
            let valid = self
                .rules
                .phone_regions
                .iter()
                .filter(|&&c| national_plausible(c, nd, first))
                // Indian numbers are written 5-5 (mobile) or with an STD code,
                // never 3-3-4; skipping that layout saves a metadata lookup.
                .filter(|&&c| c != phonenumber::country::Id::IN || !spaces_334)
                .any(|&c| {
                    possible |= formatted && national_shape(c, nd, &lead);
                    phonenumber::parse(Some(c), text)
                        .is_ok_and(|p| crate::detect::phone::is_valid(&p))
                });
            (valid, possible || nd == 7)
        };
        // libphonenumber's check is strict: it knows which ranges are
        // allocated. A number of the right length and layout outside them is
        // still written as a phone number — fictional ranges (555-01xx, Ofcom's
        // 07700 900xxx), numbers newer than the metadata, typos — so it is
        // reported, lower.
        let score = match (valid, plus, formatted || paren) {
            _ if nd == 7 => 0.2,
            (true, true, _) => 0.85,
            (true, false, true) if spaces_334 => 0.55,
            (true, false, true) => 0.75,
            (true, false, false) => 0.4,
            (false, true, true) if possible => 0.65,
            (false, true, false) if possible => 0.5,
            (false, false, true) if possible && spaces_334 => 0.4,
            (false, false, true) if possible => 0.55,
            _ => return false,
        };
        let score = if ext_end.is_some() {
            f32::max(score, 0.6)
        } else {
            score
        };
        self.push(Entity::PhoneNumber, start, end, score);
        score >= 0.5
    }

    /// "born in 1977", "since 2004": a year is a date in prose after a date
    /// word; otherwise, and before a unit ("in 2048 bytes"), it is a number.
    fn bare_year(&mut self, r: &Run) {
        let (gs, ge) = r.groups[0];
        let b = self.b;
        let year = b[gs..ge]
            .iter()
            .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        // In prose only: `"filing_year": 2024` is a field, not a date in a sentence.
        let in_prose = gs >= 2 && b[gs - 1] == b' ' && b[gs - 2].is_ascii_alphabetic();
        if !(1900..=2099).contains(&year)
            || !in_prose
            || b.get(ge)
                .is_some_and(|&c| is_word(c) || c == b'-' || c == b'/')
            || !self.rules.on(Entity::DateTime)
        {
            return;
        }
        let cue = context::word_before_is(
            self.s,
            gs,
            &[
                "in", "born", "since", "year", "until", "circa", "during", "before", "after",
            ],
        );
        let unit = context::word_after_is(
            self.s,
            ge,
            &[
                "bytes", "byte", "kb", "mb", "gb", "ms", "seconds", "secs", "rows", "records",
                "items", "users", "lines", "files", "requests", "tokens", "px", "times", "ports",
            ],
        );
        if cue && !unit {
            self.push(Entity::DateTime, gs, ge, 0.55);
        }
    }

    fn ipv4(&mut self, r: &Run) {
        let text = &self.s[r.start..r.end];
        if text.parse::<std::net::Ipv4Addr>().is_err() {
            return;
        }
        // "version 10.2.0.1", "v 1.2.3.4": a dotted quad after a version word is not an address.
        let before = context::words_before(self.s, r.start, 2);
        if before.iter().any(|w| {
            [
                "version", "ver", "v", "release", "build", "firmware", "sdk", "oid",
            ]
            .iter()
            .any(|k| w.eq_ignore_ascii_case(k))
        }) {
            return;
        }
        self.push(Entity::IpAddress, r.start, r.end, 0.85);
    }

    /// A date in groups `a..a+2`; returns the last group it covers.
    fn try_date(&mut self, r: &Run, a: usize, glued: bool) -> Option<usize> {
        let b = self.b;
        let (s1, s2) = (r.seps[a], r.seps[a + 1]);
        if s1 != s2 || !matches!(s1, b'-' | b'/' | b'.') {
            return None;
        }
        let g = |i: usize| -> (usize, u32) {
            let (gs, ge) = r.groups[a + i];
            let val = b[gs..ge].iter().fold(0u32, |acc, d| {
                acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            });
            (ge - gs, val)
        };
        let ((l0, v0), (l1, v1), (l2, v2)) = (g(0), g(1), g(2));
        let valid = |y: u32, m: u32, d: u32| {
            (1900..=2100).contains(&y)
                && i32::try_from(y)
                    .ok()
                    .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m, d))
                    .is_some()
        };
        let ok = if l0 == 4 && (1..=2).contains(&l1) && (1..=2).contains(&l2) && s1 != b'.' {
            valid(v0, v1, v2)
        } else if (1..=2).contains(&l0) && (1..=2).contains(&l1) && l2 == 4 {
            valid(v2, v0, v1) || valid(v2, v1, v0)
        } else {
            false
        };
        if !ok {
            return None;
        }
        let start = r.groups[a].0;
        let date_end = r.groups[a + 2].1;
        if a + 2 == r.ng - 1 && glued && b.get(date_end) != Some(&b'T') {
            return None;
        }
        // A time after the date makes it a timestamp: log and record times are
        // rarely personal data on their own, so they score under the default
        // threshold unless personal context (born, appointment, …) is near.
        let (end, score) = match time_suffix(b, date_end) {
            Some(e) => (e, 0.35),
            None => (date_end, 0.6),
        };
        self.push(Entity::DateTime, start, end, score);
        // Claim the groups the timestamp swallowed.
        let mut last = a + 2;
        while last + 1 < r.ng && r.groups[last + 1].1 <= end {
            last += 1;
        }
        Some(last)
    }
}

/// Cheap shape check before asking `phonenumber` about a national number:
/// digit count and leading digit of that country's plan (trunk prefix 0 etc.).
fn national_plausible(c: phonenumber::country::Id, nd: usize, first: u8) -> bool {
    use phonenumber::country::Id;
    match c {
        Id::US => (nd == 10 && first >= b'2') || (nd == 11 && first == b'1'),
        Id::GB | Id::AU | Id::NL | Id::FR => first == b'0' && (10..=11).contains(&nd),
        Id::DE => first == b'0' && (10..=12).contains(&nd),
        Id::ES => nd == 9 && matches!(first, b'6' | b'7' | b'8' | b'9'),
        Id::IT => (9..=11).contains(&nd) && matches!(first, b'0' | b'3'),
        Id::IN => (nd == 10 && first >= b'6') || (nd == 11 && first == b'0'),
        Id::SG => nd == 8 && matches!(first, b'3' | b'6' | b'8' | b'9'),
        _ => true,
    }
}

/// A national number's layout in `c`'s plan beyond [`national_plausible`]:
/// NANP area code and exchange both start 2–9; the rest need only the
/// plausible length and leading digit.
fn national_shape(c: phonenumber::country::Id, nd: usize, lead: &[u8; 5]) -> bool {
    use phonenumber::country::Id;
    match c {
        Id::US => {
            let ten = if nd == 11 { &lead[1..] } else { &lead[..] };
            ten[0] >= b'2' && ten[3] >= b'2'
        }
        _ => true,
    }
}

/// End of a phone extension right after a number: optional space, then `x`,
/// `ext`, `ext.`, `extn`, `extension` or `#`, optional space or `.`, 1–6 digits.
fn ext_suffix(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    if b.get(q) == Some(&b' ') {
        q += 1;
    }
    let rest = b.get(q..)?;
    let word_len = ["extension", "extn", "ext", "x", "#"]
        .iter()
        .find(|w| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes()))?
        .len();
    q += word_len;
    if matches!(b.get(q), Some(b'.')) {
        q += 1;
    }
    if matches!(b.get(q), Some(b' ')) {
        q += 1;
    }
    let ds = q;
    while q < b.len() && b[q].is_ascii_digit() && q - ds < 7 {
        q += 1;
    }
    let nd = q - ds;
    // "… x 415-555-2671" is a second number, not an extension: the digits
    // must end the run.
    let next_group = matches!(b.get(q), Some(b'-' | b'.' | b'/' | b')'))
        && b.get(q + 1).is_some_and(u8::is_ascii_digit);
    ((1..=6).contains(&nd) && !next_group && !b.get(q).is_some_and(|&c| is_word(c))).then_some(q)
}

/// `THH:MM[:SS[.fff]][Z|±HH[:MM]]` or ` HH:MM…` after a date.
fn time_suffix(b: &[u8], p: usize) -> Option<usize> {
    let sep = *b.get(p)?;
    if sep != b'T' && sep != b' ' {
        return None;
    }
    let two = |q: usize| {
        b.get(q..q + 2)
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    let mut q = p + 1;
    if !(two(q) && b.get(q + 2) == Some(&b':') && two(q + 3)) {
        return None;
    }
    q += 5;
    if b.get(q) == Some(&b':') && two(q + 1) {
        q += 3;
        if matches!(b.get(q), Some(b'.' | b',')) {
            let mut r = q + 1;
            while r < b.len() && b[r].is_ascii_digit() && r - q < 10 {
                r += 1;
            }
            if r > q + 1 {
                q = r;
            }
        }
    }
    match b.get(q) {
        Some(b'Z') => q += 1,
        Some(b'+' | b'-') if two(q + 1) => {
            q += 3;
            if b.get(q) == Some(&b':') && two(q + 1) {
                q += 3;
            } else if two(q) {
                q += 2;
            }
        }
        _ => {}
    }
    Some(q)
}

const MAX_GROUPS: usize = 16;

struct Run {
    start: usize,
    end: usize,
    plus: bool,
    paren: bool,
    ng: usize,
    groups: [(usize, usize); MAX_GROUPS],
    /// Separator after group i (`(`/`)` for phone parentheses).
    seps: [u8; MAX_GROUPS],
}

fn mask(a: usize, z: usize) -> u32 {
    let mut m = 0u32;
    for i in a..=z.min(31) {
        m |= 1 << i;
    }
    m
}

fn parse_run(b: &[u8], d: usize) -> Run {
    let n = b.len();
    let mut r = Run {
        start: d,
        end: d,
        plus: false,
        paren: false,
        ng: 0,
        groups: [(0, 0); MAX_GROUPS],
        seps: [0; MAX_GROUPS],
    };
    if d > 0 && b[d - 1] == b'+' && (d < 2 || !is_word(b[d - 2])) {
        r.start = d - 1;
        r.plus = true;
    } else if d > 0 && b[d - 1] == b'(' {
        r.start = d - 1;
        r.paren = true;
    }
    let mut p = d;
    let mut open_paren = r.paren;
    loop {
        let gs = p;
        while p < n && b[p].is_ascii_digit() {
            p += 1;
        }
        r.groups[r.ng] = (gs, p);
        r.ng += 1;
        r.end = p;
        if r.ng == MAX_GROUPS || p >= n || p - gs > 24 {
            break;
        }
        let digit_at = |q: usize| q < n && b[q].is_ascii_digit();
        let (len, sep) = match b[p] {
            b')' if open_paren => {
                if p + 1 < n && matches!(b[p + 1], b' ' | b'-') && digit_at(p + 2) {
                    (2, b')')
                } else if digit_at(p + 1) {
                    (1, b')')
                } else {
                    break;
                }
            }
            b' ' if p + 1 < n && b[p + 1] == b'(' && digit_at(p + 2) && !open_paren => (2, b'('),
            b'-' | b'.' | b'/' | b':' | b' ' if digit_at(p + 1) => (1, b[p]),
            _ => break,
        };
        open_paren = sep == b'(';
        r.seps[r.ng - 1] = sep;
        p += len;
    }
    if open_paren && r.end < n && b[r.end] == b')' {
        // "(415)" alone; leave the closing parenthesis outside the span.
    }
    r
}

/// Position of the first ASCII digit at or after `from`. Tests eight bytes at
/// a time (SWAR: a byte is a digit when `byte ^ 0x30 < 10`), since most bytes
/// of a tool call are not digits and this is the numeric pass's inner loop.
fn next_digit(b: &[u8], from: usize) -> Option<usize> {
    const L: u64 = 0x0101_0101_0101_0101;
    let mut i = from;
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let y = u64::from_le_bytes(w) ^ (0x30 * L);
        // Exact "some byte < 10" test; the scalar loop then finds which.
        if y.wrapping_sub(10 * L) & !y & (0x80 * L) != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| i + p)
}

/// A digit at `d` preceded by a letter-bearing identifier (`v1.2`, `INV-2024-001`, `abc_12`).
fn glued_left(b: &[u8], d: usize) -> bool {
    if d == 0 {
        return false;
    }
    let c = b[d - 1];
    if is_word(c) {
        return true;
    }
    if !matches!(c, b'-' | b'.' | b'_' | b'#') {
        return false;
    }
    let mut p = d - 1;
    let lo = d.saturating_sub(64);
    while p > lo && (is_word(b[p - 1]) || matches!(b[p - 1], b'-' | b'.' | b'_')) {
        p -= 1;
        if b[p].is_ascii_alphabetic() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    /// The cases in `shared/testdata/detect/numeric.toml`.
    #[test]
    fn cases() {
        super::super::testdata::check_file!("numeric.toml");
    }
}
