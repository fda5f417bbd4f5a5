//! The built-in detectors.
//!
//! Instead of running one regex per entity over every byte, three hand-written
//! single passes find *candidates* by byte class and hand each one to the
//! validators that can apply to its shape:
//!
//! 1. **numeric runs** — digit groups joined by single separators (`-./: `,
//!    phone parentheses, a leading `+`): cards, SSN/ITIN, phones, dates,
//!    IPv4, NHS, TFN, Aadhaar, bank / passport / licence numbers;
//! 2. **chunks** — whitespace/quote/bracket-delimited tokens with a few byte
//!    flags: e-mail, URLs, database URLs, IPv6, alphanumeric IDs (IBAN, NINO,
//!    NIF, fiscal code, PAN, NRIC, DEA, passport), crypto wallets, tokens,
//!    JWTs, PEM blocks, `name=value` secrets;
//! 3. **words** — capitalised word sequences looked up in the gazetteer
//!    (PERSON, LOCATION, NRP) and month-name dates.
//!
//! Every loop advances at least one byte per step and every look-around is
//! bounded, so work is linear in the input. All spans start and end on ASCII
//! bytes, hence on `char` boundaries.

use super::entity::{Entity, Region};
use super::gazetteer as gz;
use super::rules::CompiledRules;
use super::validators as v;

/// A raw detection before context, thresholds and overlap resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub entity: Entity,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

const MAX_GROUPS: usize = 16;

/// Entities found by the numeric-run pass.
const NUMERIC: &[Entity] = &[
    Entity::CreditCard,
    Entity::UsSsn,
    Entity::UsItin,
    Entity::UsBankNumber,
    Entity::UsPassport,
    Entity::UsDriverLicense,
    Entity::UkNhs,
    Entity::AuTfn,
    Entity::InAadhaar,
    Entity::PhoneNumber,
    Entity::DateTime,
    Entity::IpAddress,
];

/// Entities found by the chunk pass.
const CHUNKED: &[Entity] = &[
    Entity::EmailAddress,
    Entity::Url,
    Entity::IpAddress,
    Entity::IbanCode,
    Entity::Crypto,
    Entity::MedicalLicense,
    Entity::UsPassport,
    Entity::UsDriverLicense,
    Entity::UkNino,
    Entity::EsNif,
    Entity::ItFiscalCode,
    Entity::InPan,
    Entity::SgNricFin,
    Entity::AwsAccessKey,
    Entity::GoogleApiKey,
    Entity::GithubToken,
    Entity::SlackToken,
    Entity::StripeKey,
    Entity::PrivateKey,
    Entity::Jwt,
    Entity::DatabaseUrl,
    Entity::GenericSecret,
];

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

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
fn is_delim(b: u8) -> bool {
    DELIM[usize::from(b)]
}

pub(crate) struct Scanner<'a> {
    rules: &'a CompiledRules,
    s: &'a str,
    b: &'a [u8],
    /// Words of the JSON member key holding this string, if any.
    key: Option<&'a str>,
    pub hits: Vec<Hit>,
    buf: String,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(rules: &'a CompiledRules, s: &'a str, key: Option<&'a str>) -> Self {
        Scanner {
            rules,
            s,
            b: s.as_bytes(),
            key,
            hits: Vec::new(),
            buf: String::new(),
        }
    }

    pub(crate) fn run(mut self) -> Vec<Hit> {
        if self.b.is_empty() {
            return self.hits;
        }
        let r = self.rules;
        // Chunks first: digits inside an IBAN, URL, e-mail or token already
        // found are not judged again as cards, phones or IDs.
        if CHUNKED.iter().any(|&e| r.on(e)) {
            self.chunks();
        }
        if NUMERIC.iter().any(|&e| r.on(e)) {
            self.numeric();
        }
        self.words();
        if let Some(k) = self.key {
            self.key_value(k);
        }
        self.hits
    }

    fn push(&mut self, entity: Entity, start: usize, end: usize, score: f32) {
        if start < end && end <= self.b.len() && self.rules.on(entity) {
            self.hits.push(Hit {
                entity,
                start,
                end,
                score,
            });
        }
    }

    // ------------------------------------------------------------------
    // 1. numeric runs
    // ------------------------------------------------------------------

    fn numeric(&mut self) {
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
        if r.ng < 3 {
            let digits: usize = r.groups[..r.ng].iter().map(|g| g.1 - g.0).sum();
            if digits < 7 {
                return;
            }
        }
        let glued = r.end < n
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

        // Cards: 13–19 digits, contiguous or 4-4-4-4(-x) / Amex 4-6-5 / Diners 4-6-4.
        if (13..=19).contains(&nd)
            && (k == 1
                || (uniform
                    && matches!(sep, Some(b' ' | b'-'))
                    && (lens[..k - 1].iter().all(|&l| l == 4) && lens[k - 1] <= 4
                        || lens == [4, 6, 5]
                        || lens == [4, 6, 4])))
            && v::credit_card(ds)
        {
            self.push(Entity::CreditCard, start_digits, end, 0.9);
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
            if (8..=17).contains(&nd) {
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
        let plus = a == 0 && r.plus;
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
        };
        // 3-2-4 is the SSN layout, never a phone layout.
        let ssn_layout = k == 3 && (a..=z).map(|g| r.groups[g].1 - r.groups[g].0).eq([3, 2, 4]);
        if !ok_len
            || !(formatted || k == 1)
            || (k == 1 && !plus && nd > 11)
            || (!plus && ssn_layout)
        {
            return false;
        }
        let text = &self.s[start..end];
        // Space-only 3-3-4 is also the NHS layout; leave room for it to win.
        let spaces_334 = !plus && !paren && k == 3 && seps.iter().all(|&c| c == b' ') && nd == 10;
        let first = self.b[r.groups[a].0];
        let valid = if plus {
            phonenumber::parse(None, text).is_ok_and(|p| phonenumber::is_valid(&p))
        } else {
            self.rules
                .phone_regions
                .iter()
                .filter(|&&c| national_plausible(c, nd, first))
                // Indian numbers are written 5-5 (mobile) or with an STD code,
                // never 3-3-4; skipping that layout saves a metadata lookup.
                .filter(|&&c| c != phonenumber::country::Id::IN || !spaces_334)
                .any(|&c| {
                    phonenumber::parse(Some(c), text).is_ok_and(|p| phonenumber::is_valid(&p))
                })
        };
        if !valid {
            return false;
        }
        let score = match (plus, formatted || paren) {
            (true, _) => 0.85,
            (false, true) if spaces_334 => 0.55,
            (false, true) => 0.75,
            (false, false) => 0.4,
        };
        self.push(Entity::PhoneNumber, start, end, score);
        score >= 0.5
    }

    fn ipv4(&mut self, r: &Run) {
        let text = &self.s[r.start..r.end];
        if text.parse::<std::net::Ipv4Addr>().is_err() {
            return;
        }
        // "version 10.2.0.1", "v 1.2.3.4": a dotted quad after a version word is not an address.
        let before = super::context::words_before(self.s, r.start, 2);
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

    // ------------------------------------------------------------------
    // 2. chunks
    // ------------------------------------------------------------------

    fn chunks(&mut self) {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        let mut pending_secret = 0u8; // chunks left in which a secret value may follow
        let mut pending_password = false;
        while i < n {
            while i < n && is_delim(b[i]) {
                i += 1;
            }
            if i >= n {
                break;
            }
            let start = i;
            let mut bits = 0u16;
            while i < n && !is_delim(b[i]) {
                bits |= CLASS[usize::from(b[i])];
                i += 1;
            }
            let end = i;
            // Plain lower-case words (most of prose) can be nothing here, unless
            // they are the value after `password:`.
            if bits & !F_ALPHA == 0 && pending_secret == 0 && !next_non_space_is_sep(b, end) {
                continue;
            }
            let f = Flags::from_bits(bits);
            if b[start] == b'-'
                && b[start..].starts_with(b"-----BEGIN")
                && let Some(e) = self.pem(start)
            {
                i = e;
                pending_secret = 0;
                continue;
            }
            if let Some(e) = self.grouped_id(start, end) {
                i = e;
                pending_secret = 0;
                continue;
            }
            let consumed = self.chunk(start, end, &f);
            // `password: value`, `"api_key": "value"`, `TOKEN = value` across chunks.
            if pending_secret > 0 {
                pending_secret -= 1;
                let text = &self.s[start..end];
                if text == ":" || text == "=" || text == ":=" {
                    continue;
                }
                if !consumed {
                    self.secret_value(start, end, pending_password);
                }
                pending_secret = 0;
                continue;
            }
            if f.alpha && !consumed && (f.colon || f.eq || next_non_space_is_sep(b, end)) {
                let text = &self.s[start..end];
                let (name, rest) = match text.find(['=', ':']) {
                    Some(p) => (&text[..p], &text[p + 1..]),
                    None => (text, ""),
                };
                if let Some(pw) = secret_name(name) {
                    let rest = rest.trim_start_matches(['=', ':']);
                    if rest.is_empty() {
                        // Value is the next chunk (after an optional lone `:` / `=`).
                        let next_sep = text.ends_with([':', '=']) || next_non_space_is_sep(b, end);
                        if next_sep || text.len() == name.len() {
                            pending_secret = 2;
                            pending_password = pw;
                        }
                    } else {
                        let vs = end - rest.len();
                        self.secret_value(vs, end, pw);
                    }
                }
            }
        }
    }

    /// IDs printed in space-separated groups: IBAN `DE89 3704 0044 0532 0130 00`,
    /// NINO `AB 12 34 56 C`. Returns the end of a recognised ID.
    fn grouped_id(&mut self, start: usize, end: usize) -> Option<usize> {
        let b = self.b;
        let t = &b[start..end];
        let up = |c: &u8| c.is_ascii_uppercase();
        let dig = |c: &u8| c.is_ascii_digit();
        if t.len() == 4
            && t[..2].iter().all(up)
            && t[2..].iter().all(dig)
            && b.get(end) == Some(&b' ')
        {
            // Collect following 1–4 character groups, at most 34 significant characters.
            let mut compact = [0u8; 34];
            compact[..4].copy_from_slice(t);
            let mut n = 4;
            let mut ends: Vec<(usize, usize)> = Vec::new(); // (compact len, raw end)
            let mut p = end;
            while n < 34 && b.get(p) == Some(&b' ') {
                let gs = p + 1;
                let mut ge = gs;
                while ge < b.len()
                    && ge - gs < 4
                    && (b[ge].is_ascii_uppercase() || b[ge].is_ascii_digit())
                {
                    ge += 1;
                }
                if ge == gs || n + (ge - gs) > 34 || (ge < b.len() && b[ge].is_ascii_alphanumeric())
                {
                    break;
                }
                compact[n..n + (ge - gs)].copy_from_slice(&b[gs..ge]);
                n += ge - gs;
                ends.push((n, ge));
                p = ge;
                if ge - gs < 4 {
                    break;
                }
            }
            for &(len, raw_end) in ends.iter().rev() {
                if len >= 15 && std::str::from_utf8(&compact[..len]).is_ok_and(v::iban) {
                    self.push(Entity::IbanCode, start, raw_end, 0.95);
                    return Some(raw_end);
                }
            }
        }
        if t.len() == 2 && t.iter().all(up) && self.rules.region_on(Region::Uk) {
            // "AB 12 34 56 C"
            let g = b.get(end..(end + 9).min(b.len()))?;
            if g.len() == 9
                && g[0] == b' '
                && g[3] == b' '
                && g[6] == b' '
                && [1, 2, 4, 5, 7, 8].iter().all(|&i| g[i].is_ascii_digit())
            {
                let mut compact = [0u8; 9];
                compact[..2].copy_from_slice(t);
                for (k, &i) in [1, 2, 4, 5, 7, 8].iter().enumerate() {
                    compact[2 + k] = g[i];
                }
                let mut e = end + 9;
                let mut len = 8;
                if b.get(e) == Some(&b' ')
                    && b.get(e + 1).is_some_and(|c| matches!(c, b'A'..=b'D'))
                    && b.get(e + 2).is_none_or(|c| !c.is_ascii_alphanumeric())
                {
                    compact[8] = b[e + 1];
                    len = 9;
                    e += 2;
                }
                if b.get(e).is_none_or(|c| !c.is_ascii_alphanumeric())
                    && v::uk_nino(&compact[..len])
                {
                    self.push(Entity::UkNino, start, e, 0.85);
                    return Some(e);
                }
            }
        }
        None
    }

    /// Examine one chunk; true when it was recognised as something whole.
    fn chunk(&mut self, start: usize, end: usize, f: &Flags) -> bool {
        let text = &self.s[start..end];
        if f.colon
            && f.slash
            && let Some(p) = text.find("://")
        {
            return self.url_with_scheme(start, end, start + p);
        }
        if f.at {
            self.email(start, end);
        }
        let (ts, te) = trim_punct(self.b, start, end);
        if ts >= te {
            return false;
        }
        let t = &self.s[ts..te];
        if f.colon && !f.at {
            // IPv6 may start with `::`, which `trim_punct` would strip.
            let mut e6 = end;
            while e6 > start && matches!(self.b[e6 - 1], b'.' | b',' | b'!' | b'?') {
                e6 -= 1;
            }
            let raw = &self.s[start..e6];
            if raw.bytes().filter(|&c| c == b':').count() >= 2 && self.ipv6(start, e6) {
                return true;
            }
        }
        if t.starts_with("eyJ") && self.jwt(ts, te) {
            return true;
        }
        // A trailing full stop does not make a token a domain.
        if !f.at && t.contains('.') {
            if self.token_secret(ts, te) {
                return true;
            }
            return self.bare_domain(ts, te);
        }
        // Identifiers: the part after a `key=` / `key:` prefix, or the whole chunk.
        let (vs, ve) = match t.rfind(['=', ':']) {
            Some(p) if p + 1 < t.len() => (ts + p + 1, te),
            _ => (ts, te),
        };
        if ve - vs >= 8 && (f.digit || f.under || f.dash || f.upper) {
            if self.token_secret(vs, ve) {
                return true;
            }
            return self.alnum_id(vs, ve);
        }
        false
    }

    fn email(&mut self, start: usize, end: usize) {
        let b = self.b;
        let mut from = start;
        while let Some(off) = b[from..end].iter().position(|&c| c == b'@') {
            let at = from + off;
            from = at + 1;
            let mut ls = at;
            while ls > start && is_local(b[ls - 1]) {
                ls -= 1;
            }
            while ls < at && matches!(b[ls], b'.' | b'-' | b'+') {
                ls += 1;
            }
            let mut de = at + 1;
            while de < end && (b[de].is_ascii_alphanumeric() || b[de] == b'-' || b[de] == b'.') {
                de += 1;
            }
            while de > at + 1 && matches!(b[de - 1], b'.' | b'-') {
                de -= 1;
            }
            if ls == at || de <= at + 1 || at - ls > 64 {
                continue;
            }
            let domain = &self.s[at + 1..de];
            if b[at - 1] == b'.' || !valid_domain(domain) {
                continue;
            }
            self.push(Entity::EmailAddress, ls, de, 0.9);
        }
    }

    fn url_with_scheme(&mut self, start: usize, end: usize, colon: usize) -> bool {
        let b = self.b;
        let mut ss = colon;
        while ss > start
            && (b[ss - 1].is_ascii_alphanumeric() || matches!(b[ss - 1], b'+' | b'.' | b'-'))
        {
            ss -= 1;
        }
        while ss < colon && !b[ss].is_ascii_alphabetic() {
            ss += 1;
        }
        let scheme = self.s[ss..colon].to_ascii_lowercase();
        let (_, mut ue) = trim_punct(b, ss, end);
        // A closing parenthesis or quote was already a delimiter; drop a trailing `.`/`,`/`)`.
        while ue > colon + 3 && matches!(b[ue - 1], b'.' | b',' | b'!' | b'?' | b':' | b'*') {
            ue -= 1;
        }
        // `mysql://` alone, or trimmed back into the scheme: nothing to judge.
        let Some(rest) = self
            .s
            .get(colon + 3..ue)
            .filter(|_| ss < colon && ue > colon + 3)
        else {
            return false;
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let (userinfo, host) = match authority.rfind('@') {
            Some(p) => (Some(&authority[..p]), &authority[p + 1..]),
            None => (None, authority),
        };
        let db = matches!(
            scheme.as_str(),
            "postgres"
                | "postgresql"
                | "mysql"
                | "mariadb"
                | "mongodb"
                | "mongodb+srv"
                | "redis"
                | "rediss"
                | "amqp"
                | "amqps"
                | "mssql"
                | "sqlserver"
                | "oracle"
                | "jdbc:postgresql"
                | "jdbc:mysql"
                | "clickhouse"
                | "cockroachdb"
                | "couchdb"
                | "neo4j"
                | "memcached"
                | "ldap"
                | "ldaps"
                | "ftp"
                | "sftp"
                | "smtp"
                | "smtps"
        ) || scheme.starts_with("jdbc:");
        if let Some((_, pw)) = userinfo.and_then(|ui| ui.split_once(':'))
            && !pw.is_empty()
            && !is_placeholder(pw)
        {
            self.push(Entity::DatabaseUrl, ss, ue, if db { 0.95 } else { 0.8 });
            return true;
        }
        if matches!(
            scheme.as_str(),
            "http" | "https" | "ftp" | "ws" | "wss" | "sftp" | "file"
        ) && (!host.is_empty() || scheme == "file")
        {
            self.push(Entity::Url, ss, ue, 0.85);
            return true;
        }
        db
    }

    fn bare_domain(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        // The host part: up to the first `/`, `?`, `#` or `:port`.
        let host_end = t.find(['/', '?', '#', ':', '=']).unwrap_or(t.len());
        if host_end == 0 || t[..host_end].contains('@') {
            return false;
        }
        let host = &t[..host_end];
        if !valid_domain(host) || host.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
            return false;
        }
        let labels: Vec<&str> = host.split('.').collect();
        let tld = labels.last().copied().unwrap_or("");
        let name = labels.first().copied().unwrap_or("");
        let www = name.eq_ignore_ascii_case("www");
        let has_path = host_end < t.len() && t.as_bytes()[host_end] == b'/';
        let tld_l = tld.to_ascii_lowercase();
        // A lower-case host whose last label is an extension or a member name is
        // code or a file (`README.md`, `main.rs`, `user.name`), not a site.
        let code_like = CODE_SUFFIXES.contains(&tld_l.as_str())
            || name.bytes().any(|c| c.is_ascii_uppercase()) && !www
            || tld.bytes().any(|c| c.is_ascii_uppercase()) && tld != tld.to_ascii_uppercase();
        let common = COMMON_TLDS.contains(&tld_l.as_str()) || (tld.len() == 2 && !code_like);
        let score = if www {
            0.8
        } else if code_like {
            if labels.len() >= 3 && has_path {
                0.5
            } else {
                return false;
            }
        } else if common {
            0.7
        } else if labels.len() >= 3 || has_path {
            0.5
        } else {
            0.3
        };
        let end = if has_path {
            trim_url_end(self.b, ts + host_end, te)
        } else {
            ts + host_end
        };
        self.push(Entity::Url, ts, end, score);
        true
    }

    fn ipv6(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        let (addr, _zone) = t.split_once('%').unwrap_or((t, ""));
        // `host:port` forms like `[::1]:8080` lose their brackets as delimiters.
        if addr.len() < 3
            || !addr
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return false;
        }
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        // `12:30:45`-like times never parse; `::` alone or `1::` are too short to matter.
        let groups = addr.split(':').filter(|g| !g.is_empty()).count();
        if groups < 2 && addr != "::1" {
            return false;
        }
        self.push(Entity::IpAddress, ts, ts + addr.len(), 0.85);
        true
    }

    fn jwt(&mut self, ts: usize, te: usize) -> bool {
        let t = &self.s[ts..te];
        let mut parts = t.splitn(3, '.');
        let (Some(h), Some(p), sig) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let b64 = |x: &str| {
            x.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        };
        let sig = sig.unwrap_or("");
        let sig_len = sig
            .bytes()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            .count();
        if h.len() < 10 || p.len() < 10 || !b64(h) || !b64(p) || !p.starts_with("eyJ") {
            return false;
        }
        let end = ts
            + h.len()
            + 1
            + p.len()
            + if t.len() > h.len() + p.len() + 1 {
                1 + sig_len
            } else {
                0
            };
        self.push(Entity::Jwt, ts, end, 0.95);
        true
    }

    fn pem(&mut self, start: usize) -> Option<usize> {
        let rest = &self.s[start..];
        let head_end = rest
            .get(10..rest.len().min(80))
            .and_then(|h| h.find("-----"))
            .map(|p| p + 10)?;
        let label = &rest[10..head_end];
        if !label.ends_with("PRIVATE KEY") {
            return None;
        }
        let body_start = head_end + 5;
        let end = match rest[body_start..].find("-----END") {
            Some(p) => {
                let e = body_start + p + 8;
                match rest[e..].find("-----") {
                    Some(q) if q <= 80 => e + q + 5,
                    _ => e,
                }
            }
            // Truncated block: take the base64 body that follows.
            None => {
                body_start
                    + rest[body_start..]
                        .bytes()
                        .take_while(|&c| {
                            c.is_ascii_alphanumeric()
                                || matches!(
                                    c,
                                    b'+' | b'/' | b'=' | b'\n' | b'\r' | b' ' | b':' | b'-' | b'\\'
                                )
                        })
                        .count()
            }
        };
        self.push(Entity::PrivateKey, start, start + end, 1.0);
        Some(start + end)
    }

    /// Vendor tokens recognised by prefix and shape.
    fn token_secret(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let tb = t.as_bytes();
        let alnum = |x: &[u8]| x.iter().all(u8::is_ascii_alphanumeric);
        let hit = if tb.len() == 20
            && matches!(
                &tb[..4],
                b"AKIA"
                    | b"ASIA"
                    | b"AGPA"
                    | b"AIDA"
                    | b"AROA"
                    | b"ANPA"
                    | b"ANVA"
                    | b"AIPA"
                    | b"ABIA"
                    | b"ACCA"
            )
            && tb[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            Some((Entity::AwsAccessKey, 0.9))
        } else if (tb.len() == 40
            && matches!(&tb[..4], b"ghp_" | b"gho_" | b"ghu_" | b"ghs_" | b"ghr_")
            && alnum(&tb[4..]))
            || (t.starts_with("github_pat_")
                && tb.len() >= 50
                && tb[11..]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_'))
        {
            Some((Entity::GithubToken, 0.95))
        } else if tb.len() >= 15
            && tb.starts_with(b"xox")
            && matches!(tb[3], b'b' | b'p' | b'a' | b'r' | b's' | b'e')
            && tb[4] == b'-'
            && tb[5..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            Some((Entity::SlackToken, 0.9))
        } else if (t.starts_with("sk_live_")
            || t.starts_with("rk_live_")
            || t.starts_with("sk_test_")
            || t.starts_with("rk_test_"))
            && tb.len() >= 24
            && alnum(&tb[8..])
        {
            Some((Entity::StripeKey, 0.9))
        } else if tb.len() == 39
            && t.starts_with("AIza")
            && tb[4..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        {
            Some((Entity::GoogleApiKey, 0.9))
        } else if t.starts_with("ya29.")
            && tb.len() >= 30
            && tb[5..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        {
            Some((Entity::GoogleApiKey, 0.85))
        } else {
            None
        };
        match hit {
            Some((e, s)) => {
                self.push(e, vs, ve, s);
                true
            }
            None => false,
        }
    }

    /// Alphanumeric identifiers by shape, each confirmed by its validator.
    fn alnum_id(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let tb = t.as_bytes();
        let n = tb.len();
        if !tb.iter().all(|c| c.is_ascii_alphanumeric()) {
            return self.crypto(vs, ve);
        }
        let upper_digits = tb
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if upper_digits
            && n >= 4
            && tb[..2].iter().all(u8::is_ascii_uppercase)
            && tb[2..4].iter().all(u8::is_ascii_digit)
            && (15..=34).contains(&n)
            && v::iban(t)
        {
            self.push(Entity::IbanCode, vs, ve, 0.95);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Uk) && v::uk_nino(tb) {
            self.push(Entity::UkNino, vs, ve, 0.85);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Eu) && v::es_nif(tb) {
            self.push(Entity::EsNif, vs, ve, 0.9);
            return true;
        }
        if n == 9 && self.rules.region_on(Region::Sg) && v::sg_nric(tb) {
            self.push(Entity::SgNricFin, vs, ve, 0.9);
            return true;
        }
        if n == 16 && self.rules.region_on(Region::Eu) && v::it_fiscal_code(tb) {
            self.push(Entity::ItFiscalCode, vs, ve, 0.95);
            return true;
        }
        if n == 10 && self.rules.region_on(Region::In) && v::in_pan(tb) {
            self.push(Entity::InPan, vs, ve, 0.85);
            return true;
        }
        if n == 9 && v::dea(tb) {
            self.push(Entity::MedicalLicense, vs, ve, 0.75);
            return true;
        }
        if self.crypto(vs, ve) {
            return true;
        }
        if self.rules.region_on(Region::Us) && tb[0].is_ascii_uppercase() {
            let rest = &tb[1..];
            let digits_rest = rest.iter().all(u8::is_ascii_digit);
            // Next-generation US passports: one letter and eight digits.
            if n == 9 && digits_rest {
                self.push(Entity::UsPassport, vs, ve, 0.3);
            }
            // Letter + digits licence formats (CA, FL, IL, NY, WA …).
            if digits_rest && (7..=14).contains(&rest.len()) {
                self.push(Entity::UsDriverLicense, vs, ve, 0.25);
            }
        }
        false
    }

    fn crypto(&mut self, vs: usize, ve: usize) -> bool {
        let t = &self.s[vs..ve];
        let ok = match t.as_bytes().first() {
            Some(b'1' | b'3') => v::bitcoin_base58(t),
            Some(b'b' | b'B' | b't') => t.len() >= 14 && v::bitcoin_bech32(t),
            Some(b'0') => t.len() == 42 && v::ethereum(t),
            _ => false,
        };
        if ok {
            self.push(Entity::Crypto, vs, ve, 0.95);
        }
        ok
    }

    /// A value assigned to a secret-like name.
    fn secret_value(&mut self, vs: usize, ve: usize, password: bool) {
        let (vs, ve) = trim_punct(self.b, vs, ve);
        if vs >= ve {
            return;
        }
        let t = &self.s[vs..ve];
        if is_placeholder(t) || t.starts_with("${") || t.starts_with("{{") || t.starts_with('$') {
            return;
        }
        if self
            .hits
            .iter()
            .any(|h| h.start <= vs && h.end >= ve && h.entity.is_secret())
        {
            return;
        }
        let e = v::entropy(t.as_bytes());
        let classes = [
            t.bytes().any(|c| c.is_ascii_lowercase()),
            t.bytes().any(|c| c.is_ascii_uppercase()),
            t.bytes().any(|c| c.is_ascii_digit()),
            t.bytes().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .iter()
        .filter(|&&x| x)
        .count();
        let score = if password {
            if t.len() >= 6 && classes >= 2 {
                0.8
            } else if t.len() >= 6 {
                0.5
            } else {
                return;
            }
        } else if t.len() >= 16 && e >= 3.0 && classes >= 2 {
            0.8
        } else if t.len() >= 10 && e >= 2.5 && classes >= 2 {
            0.5
        } else {
            return;
        };
        self.push(Entity::GenericSecret, vs, ve, score);
    }

    /// JSON member keys carry context that free text would: `"password": "…"`.
    fn key_value(&mut self, key: &str) {
        if let Some(pw) = secret_name(key) {
            let t = self.s;
            if !t.is_empty() && t.len() <= 512 && !t.contains(char::is_whitespace) {
                self.secret_value(0, t.len(), pw);
            }
        }
        // Name-like keys: the value is a person's name even if our tables lack it.
        let kb = key.as_bytes();
        let mentions = |w: &[u8]| kb.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w));
        if !(mentions(b"name") || mentions(b"cardholder")) {
            return;
        }
        let mut words = Vec::new();
        super::context::words_of(key, &mut words);
        let person_key = words.len() >= 2
            && words.last().is_some_and(|w| w == "name")
            && words[words.len() - 2..words.len() - 1].iter().any(|w| {
                matches!(
                    w.as_str(),
                    "full"
                        | "first"
                        | "last"
                        | "given"
                        | "family"
                        | "customer"
                        | "patient"
                        | "contact"
                        | "employee"
                        | "holder"
                        | "cardholder"
                        | "recipient"
                        | "sender"
                        | "legal"
                        | "middle"
                        | "maiden"
                        | "client"
                        | "guest"
                        | "passenger"
                        | "member"
                        | "beneficiary"
                )
            })
            || words.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "surname" | "firstname" | "lastname" | "fullname" | "cardholder"
                )
            });
        if person_key {
            let t = self.s.trim();
            let off = self.s.len() - self.s.trim_start().len();
            let wc = t.split_whitespace().count();
            if (1..=4).contains(&wc)
                && t.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.'))
                && !self
                    .hits
                    .iter()
                    .any(|h| h.entity == Entity::Person && h.start <= off && h.end >= off + t.len())
            {
                self.push(Entity::Person, off, off + t.len(), 0.7);
            }
        }
    }

    // ------------------------------------------------------------------
    // 3. words
    // ------------------------------------------------------------------

    fn words(&mut self) {
        let names_on = self.rules.on(Entity::Person)
            || self.rules.on(Entity::Location)
            || self.rules.on(Entity::Nrp);
        let dates_on = self.rules.on(Entity::DateTime);
        if !names_on && !dates_on {
            return;
        }
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        // Capitalised words collected into runs separated by single spaces.
        let mut run: Vec<Word> = Vec::new();
        while i < n {
            let c = b[i];
            if !(c.is_ascii_alphabetic() || c >= 0x80) {
                i += 1;
                continue;
            }
            let start = i;
            if start > 0 && (b[start - 1].is_ascii_digit() || b[start - 1] == b'_') {
                i = skip_ident(b, start);
                continue;
            }
            while i < n
                && (b[i].is_ascii_alphabetic()
                    || b[i] >= 0x80
                    || ((b[i] == b'\'' || b[i] == b'-')
                        && i + 1 < n
                        && b[i + 1].is_ascii_alphabetic()))
            {
                i += 1;
            }
            let end = i;
            // Lower-case words (most of the text) only end a run of capitalised
            // words or start a month-name date ("march 5, 2024").
            if c.is_ascii_lowercase() {
                self.flush_run(&mut run);
                if dates_on
                    && is_month_start(char::from(c))
                    && let Some(de) = self.month_date(start, end)
                {
                    i = de;
                }
                continue;
            }
            // Glued to digits, `_`, `@`, `/`, `.x`: an identifier, path or address.
            let glued = end < n
                && (b[end].is_ascii_digit()
                    || matches!(b[end], b'_' | b'@' | b'/' | b'\\')
                    || (b[end] == b'.' && end + 1 < n && b[end + 1].is_ascii_alphanumeric()))
                || start > 0
                    && matches!(
                        b[start - 1],
                        b'.' | b'/' | b'@' | b'\\' | b'$' | b'#' | b'-'
                    );
            if glued {
                self.flush_run(&mut run);
                i = skip_ident(b, end);
                continue;
            }
            let word = &self.s[start..end];
            let Some(first) = word.chars().next() else {
                continue;
            };
            if dates_on
                && is_month_start(first)
                && let Some(de) = self.month_date(start, end)
            {
                self.flush_run(&mut run);
                i = de;
                continue;
            }
            if !names_on {
                continue;
            }
            let title = first.is_uppercase() && word.chars().skip(1).any(char::is_lowercase);
            let gap_ok = run.last().is_some_and(|w| {
                let between = &b[w.end..start];
                between == b" "
                    || between == b". "
                        && (w.end - w.start == 1 || HONORIFICS.contains(&&self.s[w.start..w.end]))
            });
            if title {
                if !gap_ok {
                    self.flush_run(&mut run);
                }
                let sentence_start = sentence_start(b, start);
                run.push(Word {
                    start,
                    end,
                    sentence_start,
                });
                if run.len() >= 6 {
                    self.flush_run(&mut run);
                }
            } else if word.len() == 1
                && first.is_ascii_uppercase()
                && b.get(end) == Some(&b'.')
                && gap_ok
            {
                // Middle initial "J." inside a name.
                run.push(Word {
                    start,
                    end,
                    sentence_start: false,
                });
                i = end + 1;
            } else {
                self.flush_run(&mut run);
            }
        }
        self.flush_run(&mut run);
    }

    fn flush_run(&mut self, run: &mut Vec<Word>) {
        if !run.is_empty() {
            self.names(run);
            run.clear();
        }
    }

    fn flags_of(&mut self, w: &Word) -> u64 {
        let t = &self.s[w.start..w.end];
        let mut buf = std::mem::take(&mut self.buf);
        let f = gz::lookup_fold(t, &mut buf);
        self.buf = buf;
        f
    }

    fn phrase_flags(&mut self, ws: &[Word]) -> u64 {
        let (Some(first), Some(last)) = (ws.first(), ws.last()) else {
            return 0;
        };
        let t = &self.s[first.start..last.end];
        let mut buf = std::mem::take(&mut self.buf);
        let f = gz::lookup_fold(t, &mut buf);
        self.buf = buf;
        f
    }

    fn names(&mut self, run: &[Word]) {
        let m = run.len();
        let mut i = 0;
        while i < m {
            let w = run[i];
            let wt = &self.s[w.start..w.end];
            // Honorifics: the following one or two capitalised words are a name.
            if HONORIFICS.contains(&wt) && i + 1 < m {
                let j = i + 1;
                let mut e = j + 1;
                // "Dr. Omar Petrova": a second capitalised word is the surname.
                if e < m && self.flags_of(&run[e]) & (gz::COMMON_WORD | gz::COUNTRY) == 0 {
                    e += 1;
                }
                self.push(Entity::Person, run[j].start, run[e - 1].end, 0.85);
                i = e;
                continue;
            }
            // Multi-word places ("New York", "United Kingdom", "Rio de Janeiro").
            let mut placed = false;
            for k in (2..=4.min(m - i)).rev() {
                let f = self.phrase_flags(&run[i..i + k]);
                if f & gz::PLACE != 0 {
                    self.push(
                        Entity::Location,
                        run[i].start,
                        run[i + k - 1].end,
                        place_score(f, false),
                    );
                    i += k;
                    placed = true;
                    break;
                }
            }
            if placed {
                continue;
            }
            let f = self.flags_of(&w);
            let single_letter = w.end - w.start == 1;
            // First [Initial.|Middle] Last.
            if i + 1 < m && f & gz::FIRST != 0 && !single_letter {
                let mut j = i + 1;
                let mut fl = self.flags_of(&run[j]);
                if (run[j].end - run[j].start == 1 || fl & gz::FIRST != 0 && fl & gz::LAST == 0)
                    && j + 1 < m
                {
                    let f2 = self.flags_of(&run[j + 1]);
                    if f2 & gz::LAST != 0 || run[j].end - run[j].start == 1 {
                        j += 1;
                        fl = f2;
                    }
                }
                let first_common = f & gz::COMMON_WORD != 0;
                let last_common = fl & gz::COMMON_WORD != 0;
                let last_place = fl & gz::PLACE != 0 && fl & gz::LAST == 0;
                let score = if fl & gz::LAST != 0 {
                    match (first_common, last_common) {
                        (false, false) => 0.85,
                        (false, true) | (true, false) => 0.6,
                        (true, true) => 0.0,
                    }
                } else if fl == 0 && !first_common {
                    // Unknown surname after a known first name ("Priya Raghunathan").
                    0.6
                } else {
                    0.0
                };
                if score > 0.0 && !last_place {
                    // A third capitalised surname-like word ("Maria Garcia Lopez").
                    let mut e = j;
                    if e + 1 < m
                        && self.flags_of(&run[e + 1]) & gz::LAST != 0
                        && self.flags_of(&run[e + 1]) & gz::COMMON_WORD == 0
                    {
                        e += 1;
                    }
                    let score = if w.sentence_start && first_common {
                        score - 0.2
                    } else {
                        score
                    };
                    self.push(Entity::Person, w.start, run[e].end, score);
                    i = e + 1;
                    continue;
                }
            }
            // Surname first, as in Chinese, Japanese and Korean names ("Chen Wei").
            if i + 1 < m && f & gz::LAST != 0 && f & (gz::COMMON_WORD | gz::FIRST) == 0 {
                let fl = self.flags_of(&run[i + 1]);
                if fl & gz::FIRST != 0 && fl & (gz::COMMON_WORD | gz::COUNTRY | gz::ADMIN) == 0 {
                    self.push(Entity::Person, w.start, run[i + 1].end, 0.55);
                    i += 2;
                    continue;
                }
            }
            // Unknown first name + known surname ("Oluwaseun Adeyemi").
            if i + 1 < m && f == 0 && !single_letter && !w.sentence_start {
                let fl = self.flags_of(&run[i + 1]);
                if fl & gz::LAST != 0 && fl & (gz::COMMON_WORD | gz::PLACE) == 0 {
                    self.push(Entity::Person, w.start, run[i + 1].end, 0.55);
                    i += 2;
                    continue;
                }
            }
            if f & gz::PLACE != 0 {
                let mut s = place_score(f, w.sentence_start);
                if f & (gz::FIRST | gz::LAST) != 0
                    && f & (gz::COUNTRY | gz::ADMIN | gz::CITY_MAJOR) == 0
                {
                    s -= 0.2;
                }
                if f & gz::COMMON_WORD != 0 {
                    // "The", "She", "Reading", "Mobile": ordinary words first,
                    // and always at the start of a sentence.
                    s = if f & (gz::COUNTRY | gz::ADMIN) != 0 && !w.sentence_start {
                        s - 0.25
                    } else {
                        0.0
                    };
                }
                if s > 0.0 {
                    self.push(Entity::Location, w.start, w.end, s);
                }
            } else if f & gz::NRP != 0 && !self.language_use(w) {
                let s = if f & gz::NATIONALITY != 0 { 0.75 } else { 0.7 };
                self.push(Entity::Nrp, w.start, w.end, s);
            } else if f & gz::FIRST != 0 && f & gz::COMMON_WORD == 0 && !single_letter {
                // A lone first name: weak unless context ("Hi Sarah", "customer Sarah").
                let s = if w.sentence_start { 0.25 } else { 0.35 };
                self.push(Entity::Person, w.start, w.end, s);
            }
            i += 1;
        }
    }

    /// "in Spanish", "to English", "Spanish translation": a language, not people.
    fn language_use(&self, w: Word) -> bool {
        let before = super::context::words_before(self.s, w.start, 1);
        let after = super::context::words_after(self.s, w.end, 1);
        before.iter().any(|x| {
            ["in", "to", "into", "speaks", "speak", "from"]
                .iter()
                .any(|k| x.eq_ignore_ascii_case(k))
        }) && !after.iter().any(|x| {
            [
                "citizen",
                "citizens",
                "national",
                "nationals",
                "woman",
                "man",
                "people",
            ]
            .iter()
            .any(|k| x.eq_ignore_ascii_case(k))
        }) || after.iter().any(|x| {
            [
                "language",
                "translation",
                "text",
                "version",
                "keyboard",
                "locale",
                "subtitles",
            ]
            .iter()
            .any(|k| x.eq_ignore_ascii_case(k))
        })
    }

    /// "March 15, 2024", "15 March 2024", "Mar 3rd 2021", "March 2024".
    fn month_date(&mut self, ws: usize, we: usize) -> Option<usize> {
        let b = self.b;
        // Cheap guard: a month name only makes a date next to a number.
        let digit_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        let next = (b.get(we) == Some(&b' ') && digit_at(we + 1))
            || (b.get(we..we + 2) == Some(b". ") && digit_at(we + 2));
        let prev = ws >= 2
            && b[ws - 1] == b' '
            && (digit_at(ws - 2) || (ws >= 4 && (digit_at(ws - 4) || &b[ws - 4..ws] == b" of ")));
        if !(next || prev) || we - ws < 3 || we - ws > 9 {
            return None;
        }
        let word = &self.s[ws..we];
        let month = month_number(word)?;
        if let Some((ds, ye)) = self.day_month_year(ws, we, month) {
            return self.date_hit(ds, ye, 0.75);
        }
        // Month Day[,] Year  |  Month Year
        let mut p = we;
        if b.get(p) == Some(&b'.') {
            p += 1;
        }
        let p0 = skip_spaces(b, p, 2);
        if p0 > p {
            if let Some((day, de)) = read_day(b, p0) {
                let mut q = de;
                if b.get(q) == Some(&b',') {
                    q += 1;
                }
                let q0 = skip_spaces(b, q, 2);
                if let Some((year, ye)) = read_year(b, q0).filter(|_| q0 > de || q > de) {
                    if valid_ymd(year, month, day) {
                        return self.date_hit(ws, ye, 0.75);
                    }
                } else if day <= 31 && !word.eq_ignore_ascii_case("may") {
                    return self.date_hit(ws, de, 0.5);
                }
            } else if let Some((year, ye)) = read_year(b, p0)
                && (1900..=2100).contains(&year)
                && !word.eq_ignore_ascii_case("may")
            {
                return self.date_hit(ws, ye, 0.5);
            }
        }
        None
    }

    /// "15 March 2024", "3rd of May, 2021": the day before the month.
    fn day_month_year(&self, ws: usize, we: usize, month: u32) -> Option<(usize, usize)> {
        let b = self.b;
        // Day [of] Month[,] Year — look back for the day.
        let mut s = ws;
        if s >= 4 && &b[s - 4..s] == b" of " {
            s -= 3;
        }
        let back = s.checked_sub(1).filter(|&x| b[x] == b' ')?;
        let mut ds = back;
        while ds > 0 && b[ds - 1].is_ascii_alphanumeric() && back - ds < 4 {
            ds -= 1;
        }
        if ds > 0 && is_word(b[ds - 1]) {
            return None;
        }
        let (day, de) = read_day(b, ds)?;
        if de != back && !(de + 3 == back + 1 && &b[de..de + 3] == b" of") {
            return None;
        }
        let mut q = we;
        if b.get(q) == Some(&b',') {
            q += 1;
        }
        let q0 = skip_spaces(b, q, 2);
        let (year, ye) = read_year(b, q0).filter(|_| q0 > q || q > we)?;
        if !valid_ymd(year, month, day) {
            return None;
        }
        Some((ds, ye))
    }

    fn date_hit(&mut self, start: usize, end: usize, score: f32) -> Option<usize> {
        self.push(Entity::DateTime, start, end, score);
        Some(end)
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

#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    sentence_start: bool,
}

const HONORIFICS: &[&str] = &[
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Madam",
];

fn place_score(f: u64, sentence_start: bool) -> f32 {
    let s = if f & (gz::COUNTRY | gz::ADMIN | gz::CONTINENT) != 0 {
        0.85
    } else if f & gz::CITY_MAJOR != 0 {
        0.8
    } else if f & gz::CITY_BIG != 0 {
        0.65
    } else {
        0.45
    };
    if sentence_start && f & (gz::COUNTRY | gz::ADMIN) == 0 {
        s - 0.1
    } else {
        s
    }
}

fn sentence_start(b: &[u8], start: usize) -> bool {
    let mut p = start;
    while p > 0 && b[p - 1] == b' ' {
        p -= 1;
    }
    p == 0 || matches!(b[p - 1], b'.' | b'!' | b'?' | b'\n' | b'#' | b'*' | b'>')
}

fn is_month_start(c: char) -> bool {
    matches!(
        c,
        'j' | 'J'
            | 'f'
            | 'F'
            | 'm'
            | 'M'
            | 'a'
            | 'A'
            | 's'
            | 'S'
            | 'o'
            | 'O'
            | 'n'
            | 'N'
            | 'd'
            | 'D'
    )
}

fn month_number(w: &str) -> Option<u32> {
    if w.len() < 3 || w.len() > 9 {
        return None;
    }
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let mut lower = [0u8; 9];
    let l = &mut lower[..w.len()];
    l.copy_from_slice(w.as_bytes());
    l.make_ascii_lowercase();
    let l = std::str::from_utf8(l).ok()?;
    for (i, m) in FULL.iter().enumerate() {
        if l == *m || (l.len() == 3 && m.starts_with(l)) || l == "sept" && i == 8 {
            return Some(i as u32 + 1);
        }
    }
    None
}

fn skip_spaces(b: &[u8], mut p: usize, max: usize) -> usize {
    let s = p;
    while p < b.len() && b[p] == b' ' && p - s < max {
        p += 1;
    }
    p
}

fn read_day(b: &[u8], p: usize) -> Option<(u32, usize)> {
    let mut q = p;
    while q < b.len() && b[q].is_ascii_digit() && q - p < 2 {
        q += 1;
    }
    if q == p || (q < b.len() && b[q].is_ascii_digit()) {
        return None;
    }
    let day = b[p..q]
        .iter()
        .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    let mut e = q;
    if b.get(q..q + 2)
        .is_some_and(|sfx| matches!(sfx, b"st" | b"nd" | b"rd" | b"th"))
    {
        e = q + 2;
    }
    if e < b.len() && b[e].is_ascii_alphanumeric() {
        return None;
    }
    (1..=31).contains(&day).then_some((day, e))
}

fn read_year(b: &[u8], p: usize) -> Option<(u32, usize)> {
    let y = b.get(p..p + 4)?;
    if !y.iter().all(u8::is_ascii_digit) || b.get(p + 4).is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let year = y.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    (1900..=2100).contains(&year).then_some((year, p + 4))
}

fn valid_ymd(y: u32, m: u32, d: u32) -> bool {
    i32::try_from(y)
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, m, d))
        .is_some()
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

struct Flags {
    at: bool,
    colon: bool,
    slash: bool,
    digit: bool,
    alpha: bool,
    upper: bool,
    under: bool,
    dash: bool,
    eq: bool,
}

const F_AT: u16 = 1;
/// Not a flag of [`Flags`]; only keeps `.` chunks off the plain-word fast path.
const F_DOT: u16 = 2;
const F_COLON: u16 = 4;
const F_SLASH: u16 = 8;
const F_DIGIT: u16 = 16;
const F_ALPHA: u16 = 32;
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
static CLASS: [u16; 256] = class_table();

impl Flags {
    fn from_bits(x: u16) -> Flags {
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

fn skip_ident(b: &[u8], mut p: usize) -> usize {
    let s = p;
    while p < b.len()
        && (is_word(b[p]) || (matches!(b[p], b'-' | b'.') && p + 1 < b.len() && is_word(b[p + 1])))
    {
        p += 1;
    }
    p.max(s + 1)
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn valid_domain(d: &str) -> bool {
    if d.len() < 4 || d.len() > 253 || !d.contains('.') {
        return false;
    }
    let mut labels = 0;
    for l in d.split('.') {
        labels += 1;
        if l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-') {
            return false;
        }
        if !l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
            return false;
        }
    }
    labels >= 2 && d.rsplit('.').next().is_some_and(gz::is_tld)
}

fn trim_punct(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e
        && matches!(
            b[s],
            b'.' | b':' | b'=' | b'!' | b'?' | b'*' | b'#' | b'&' | b'~' | b'-' | b'/' | b'+'
        )
    {
        s += 1;
    }
    while e > s
        && matches!(
            b[e - 1],
            b'.' | b':' | b'=' | b'!' | b'?' | b'*' | b'&' | b'~' | b'/' | b'-'
        )
    {
        e -= 1;
    }
    (s, e)
}

fn trim_url_end(b: &[u8], from: usize, mut e: usize) -> usize {
    while e > from && matches!(b[e - 1], b'.' | b',' | b'!' | b'?' | b':' | b'*') {
        e -= 1;
    }
    e
}

fn next_non_space_is_sep(b: &[u8], mut p: usize) -> bool {
    let lim = (p + 4).min(b.len());
    while p < lim && matches!(b[p], b' ' | b'"' | b'\'' | b'\t') {
        p += 1;
    }
    p < b.len() && matches!(b[p], b':' | b'=')
}

fn is_placeholder(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    t.bytes()
        .all(|c| matches!(c, b'*' | b'x' | b'X' | b'.' | b'#' | b'-' | b'<' | b'>'))
        || matches!(
            l.as_str(),
            "null"
                | "none"
                | "nil"
                | "true"
                | "false"
                | "redacted"
                | "changeme"
                | "password"
                | "secret"
                | "undefined"
                | "string"
                | "required"
                | "optional"
                | "example"
                | "your_password"
                | "your-password"
                | "yourpassword"
                | "placeholder"
                | "hidden"
                | "masked"
                | "env"
        )
        || l.starts_with("[redacted")
        || l.starts_with("<")
        || l.starts_with("your_")
}

/// Does this identifier name a secret? `Some(true)` for passwords.
pub(crate) fn secret_name(name: &str) -> Option<bool> {
    if name.len() < 3 || name.len() > 64 {
        return None;
    }
    // Cheap filter before splitting into words: the last word must be one of
    // the names below, so the identifier must end with one (any case).
    let tail = name
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .as_bytes();
    let ends = |sfx: &[u8]| {
        tail.len() >= sfx.len() && tail[tail.len() - sfx.len()..].eq_ignore_ascii_case(sfx)
    };
    let suffixes: &[&[u8]] = match tail.last().map(u8::to_ascii_lowercase) {
        Some(b's') => &[b"pass", b"sas", b"credentials"],
        Some(b'd') => &[b"word", b"passwd", b"pwd"],
        Some(b'e') => &[b"phrase"],
        Some(b't') => &[b"secret"],
        Some(b'y') => &[b"key"],
        Some(b'l') => &[b"credential"],
        Some(b'n') => &[b"token"],
        _ => return None,
    };
    if !suffixes.iter().any(|s| ends(s)) {
        return None;
    }
    let mut w = Vec::new();
    super::context::words_of(name, &mut w);
    let last = w.last()?;
    let prev = w
        .len()
        .checked_sub(2)
        .and_then(|i| w.get(i))
        .map(String::as_str);
    match last.as_str() {
        "password" | "passwd" | "pwd" | "passphrase" | "pass" => Some(true),
        "secret" | "apikey" | "accesskey" | "accountkey" | "secretkey" | "sas" | "credential"
        | "credentials" => Some(false),
        "token"
            if !matches!(
                prev,
                Some("max" | "num" | "min" | "total" | "count" | "next" | "page" | "csrf")
            ) =>
        {
            Some(false)
        }
        "key"
            if matches!(
                prev,
                Some(
                    "api"
                        | "access"
                        | "secret"
                        | "private"
                        | "account"
                        | "signing"
                        | "encryption"
                        | "master"
                        | "auth"
                        | "client"
                )
            ) =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// Labels that are file extensions or code member names far more often than domains.
const CODE_SUFFIXES: &[&str] = &[
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
const COMMON_TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "de", "fr", "es", "it",
    "nl", "ca", "au", "jp", "cn", "in", "br", "ru", "ch", "se", "no", "dk", "fi", "pl", "be", "at",
    "ie", "nz", "sg", "za", "mx", "dev", "ai", "app", "info", "biz", "us", "eu", "me", "tv", "xyz",
    "cloud", "tech", "online", "site", "store", "shop",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::RuleSet;

    /// Through the whole pipeline (context, overlap suppression), no threshold.
    fn hits(s: &str) -> Vec<(Entity, String, f32)> {
        let rules = CompiledRules::compile(&RuleSet::all_regions()).unwrap();
        let found = rules.scan_text_all(s);
        // The raw detector output must never be out of bounds either.
        for h in Scanner::new(&rules, s, None).run() {
            assert!(
                h.start < h.end
                    && h.end <= s.len()
                    && s.is_char_boundary(h.start)
                    && s.is_char_boundary(h.end)
            );
        }
        found
            .into_iter()
            .filter_map(|f| Some((f.entity()?, s[f.start..f.end].to_string(), f.score)))
            .collect()
    }

    fn has(s: &str, e: Entity, value: &str) -> bool {
        hits(s)
            .iter()
            .any(|(he, v, sc)| *he == e && v == value && *sc >= 0.5)
    }

    fn none_of(s: &str, e: Entity) -> bool {
        !hits(s).iter().any(|(he, _, sc)| *he == e && *sc >= 0.5)
    }

    #[test]
    fn cards() {
        assert!(has(
            "card 4111 1111 1111 1111 exp",
            Entity::CreditCard,
            "4111 1111 1111 1111"
        ));
        assert!(has(
            "pan=4111-1111-1111-1111",
            Entity::CreditCard,
            "4111-1111-1111-1111"
        ));
        assert!(has(
            "amex 3782 822463 10005.",
            Entity::CreditCard,
            "3782 822463 10005"
        ));
        assert!(none_of("order 4111111111111112", Entity::CreditCard));
        assert!(none_of("4111 1111-1111 1111", Entity::CreditCard));
    }

    #[test]
    fn ssn_and_friends() {
        assert!(has("SSN: 536-22-8745", Entity::UsSsn, "536-22-8745"));
        assert!(none_of("SSN: 536-22 8745", Entity::UsSsn));
        assert!(none_of("id 666-22-8745", Entity::UsSsn));
        assert!(has("ssn 536228745", Entity::UsSsn, "536228745"));
        assert!(none_of("invoice 536228745 total", Entity::UsSsn));
        assert!(has("ITIN 912-70-1234", Entity::UsItin, "912-70-1234"));
        assert!(none_of("INV-2024-536228745 SSN", Entity::UsSsn));
    }

    #[test]
    fn phones_dates_ips() {
        assert!(has(
            "call +1 (415) 555-2671 now",
            Entity::PhoneNumber,
            "+1 (415) 555-2671"
        ));
        assert!(has(
            "call (415) 555-2671",
            Entity::PhoneNumber,
            "(415) 555-2671"
        ));
        assert!(has(
            "tel +44 20 7946 0958",
            Entity::PhoneNumber,
            "+44 20 7946 0958"
        ));
        assert!(none_of("on 2024-03-15 we", Entity::PhoneNumber));
        assert!(has("born 1985-04-12.", Entity::DateTime, "1985-04-12"));
        assert!(has("on 04/12/1985", Entity::DateTime, "04/12/1985"));
        assert!(none_of("on 2023-02-30", Entity::DateTime));
        assert!(has(
            "born on March 5, 1990 in",
            Entity::DateTime,
            "March 5, 1990"
        ));
        assert!(has(
            "born on 5 March 1990 in",
            Entity::DateTime,
            "5 March 1990"
        ));
        assert!(none_of(
            "2024-03-15T10:22:01Z INFO started",
            Entity::DateTime
        ));
        assert!(has(
            "host 192.168.10.24 down",
            Entity::IpAddress,
            "192.168.10.24"
        ));
        assert!(none_of("version 10.2.0.1", Entity::IpAddress));
        assert!(none_of("v1.2.3.4", Entity::IpAddress));
        assert!(has(
            "addr 2001:db8::8a2e:370:7334",
            Entity::IpAddress,
            "2001:db8::8a2e:370:7334"
        ));
        assert!(has(
            "addr fe80::1ff:fe23:4567:890a.",
            Entity::IpAddress,
            "fe80::1ff:fe23:4567:890a"
        ));
        assert!(none_of("at 10:22:01", Entity::IpAddress));
    }

    #[test]
    fn emails_urls() {
        assert!(has(
            "mail jane.doe+x@example.co.uk.",
            Entity::EmailAddress,
            "jane.doe+x@example.co.uk"
        ));
        assert!(none_of("user@localhost", Entity::EmailAddress));
        assert!(none_of("a@b.notatld", Entity::EmailAddress));
        assert!(has(
            "see https://example.com/a?b=1.",
            Entity::Url,
            "https://example.com/a?b=1"
        ));
        assert!(has("visit www.example.org", Entity::Url, "www.example.org"));
        assert!(has("visit example.com today", Entity::Url, "example.com"));
        assert!(none_of("edit README.md", Entity::Url));
        assert!(none_of("call payments.charge()", Entity::Url));
        assert!(none_of("open main.rs", Entity::Url));
        assert!(none_of("jane@example.com", Entity::Url));
    }

    #[test]
    fn ids_and_crypto() {
        assert!(has(
            "IBAN DE89370400440532013000",
            Entity::IbanCode,
            "DE89370400440532013000"
        ));
        assert!(has("NINO AB123456C", Entity::UkNino, "AB123456C"));
        assert!(has("NINO AB 12 34 56 C.", Entity::UkNino, "AB 12 34 56 C"));
        assert!(has(
            "iban GB82 WEST 1234 5698 7654 32 ok",
            Entity::IbanCode,
            "GB82 WEST 1234 5698 7654 32"
        ));
        assert!(has(
            "IBAN DE89 3704 0044 0532 0130 00",
            Entity::IbanCode,
            "DE89 3704 0044 0532 0130 00"
        ));
        assert!(none_of(
            "IBAN DE89 3704 0044 0532 0130 01",
            Entity::IbanCode
        ));
        assert!(none_of("iban de89370400440532013000", Entity::IbanCode));
        assert!(has("dni 12345678Z", Entity::EsNif, "12345678Z"));
        assert!(has(
            "CF RSSMRA85T10A562S",
            Entity::ItFiscalCode,
            "RSSMRA85T10A562S"
        ));
        assert!(has("PAN ABCPE1234F", Entity::InPan, "ABCPE1234F"));
        assert!(has("NRIC S1234567D", Entity::SgNricFin, "S1234567D"));
        assert!(has("DEA AB1234563", Entity::MedicalLicense, "AB1234563"));
        assert!(has(
            "btc 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            Entity::Crypto,
            "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
        ));
        assert!(has(
            "aadhaar 2341 2341 2346",
            Entity::InAadhaar,
            "2341 2341 2346"
        ));
    }

    #[test]
    fn secrets() {
        assert!(has(
            "key AKIAIOSFODNN7EXAMPLE",
            Entity::AwsAccessKey,
            "AKIAIOSFODNN7EXAMPLE"
        ));
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        assert!(has(&format!("token={gh}"), Entity::GithubToken, &gh));
        assert!(has(
            "password=S3cr3t!pass",
            Entity::GenericSecret,
            "S3cr3t!pass"
        ));
        assert!(has(
            "password: S3cr3t!pass",
            Entity::GenericSecret,
            "S3cr3t!pass"
        ));
        assert!(none_of("password: ********", Entity::GenericSecret));
        assert!(none_of("max_tokens=4096", Entity::GenericSecret));
        assert!(has(
            "DATABASE_URL=postgres://app:pa55w0rd@db.internal:5432/app",
            Entity::DatabaseUrl,
            "postgres://app:pa55w0rd@db.internal:5432/app"
        ));
        let pem = "x -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- y";
        assert!(has(
            pem,
            Entity::PrivateKey,
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
        ));
    }

    #[test]
    fn names_places() {
        assert!(has(
            "assigned to John Smith yesterday",
            Entity::Person,
            "John Smith"
        ));
        assert!(has(
            "ticket from Priya Raghunathan about",
            Entity::Person,
            "Priya Raghunathan"
        ));
        assert!(has(
            "she moved to San Francisco",
            Entity::Location,
            "San Francisco"
        ));
        assert!(has("shipping to Germany", Entity::Location, "Germany"));
        assert!(has("he is a Mexican citizen", Entity::Nrp, "Mexican"));
        assert!(none_of("Status Code Error", Entity::Person));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "INv2025-\u{10}9-01T03:43:50.656Zg DEBU connect mysql://{\"app_",
            "x mysql:// y",
            "://x",
            "",
            "(",
            "+",
            "1",
            "((((1",
            "+1 (",
            "é1-2",
            "-----BEGIN ",
            "a@",
            "@b.com",
            "://",
            "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18",
            "Mr",
            "March",
            "5 March",
        ] {
            let _ = hits(s);
        }
    }
}
