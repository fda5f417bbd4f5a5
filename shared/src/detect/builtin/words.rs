//! Pass 3, words: runs of capitalised words looked up in the gazetteer
//! (PERSON, LOCATION, NRP), and dates written with a month name
//! ("March 5, 1990", "5 March 1990", "3rd of May, 2021").
//!
//! The month and day/year readers and the place scoring serve only this pass.

use super::Scanner;
use super::tables::{HONORIFICS, is_word, skip_ident};
use crate::detect::context;
use crate::detect::entity::Entity;
use crate::detect::gazetteer as gz;

impl<'a> Scanner<'a> {
    pub(super) fn words(&mut self) {
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
        let before = context::words_before(self.s, w.start, 1);
        let after = context::words_after(self.s, w.end, 1);
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

#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    sentence_start: bool,
}

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

#[cfg(test)]
mod tests {
    /// The cases in `shared/testdata/detect/words.toml`.
    #[test]
    fn cases() {
        super::super::testdata::check_file!("words.toml");
    }
}
