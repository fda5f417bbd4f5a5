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
use crate::detect::memo::WORD_FLAGS;

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
        // A short text with no capital letter at all ("maria lopez, lisbon").
        // Every word of it is a table lookup, so long lower-case texts (code,
        // logs, SQL) are left to the capitalised-word rules.
        // Digits mark a record or a sentence about things (orders, counts),
        // not a bare name and place, so those texts are skipped too.
        let lower_text = names_on
            && n <= LOWER_TEXT_MAX
            && b.contains(&b' ')
            && !b.iter().any(u8::is_ascii_digit)
            && !self.s.chars().any(char::is_uppercase);
        // Capitalised words collected into runs separated by single spaces.
        let mut run: Vec<Word> = Vec::new();
        while i < n {
            let c = b[i];
            if !(c.is_ascii_alphabetic() || c >= 0x80) {
                // A user agent's platform comment ("(Macintosh; Intel Mac OS
                // X)", "(… NOKIA; Lumia 800)") names products, not people or places.
                if c == b'('
                    && let Some(close) = agent_comment(b, i)
                {
                    self.flush_run(&mut run);
                    i = close;
                    continue;
                }
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
            // "Hamanová's", "Smith’s": the possessive is not part of the name.
            let end = if b[start..i].ends_with(b"'s") {
                i - 2
            } else if b[start..i].ends_with("\u{2019}s".as_bytes()) {
                i - 4
            } else {
                i
            };
            // Lower-case words (most of the text) only end a run of capitalised
            // words or start a month-name date ("march 5, 2024") — unless the
            // whole text is in lower case ("maria lopez from lisbon"), where
            // case tells nothing and they are judged like upper-case words.
            if c.is_ascii_lowercase() {
                if dates_on
                    && is_month_start(char::from(c))
                    && let Some(de) = self.month_date(start, end)
                {
                    self.flush_run(&mut run);
                    i = de;
                    continue;
                }
                if lower_text && end - start >= 3 && !is_function_word(&b[start..end]) {
                    let joins = run.last().is_some_and(|w| &b[w.end..start] == b" ");
                    let word = Word {
                        start,
                        end,
                        sentence_start: false,
                        strict: true,
                    };
                    self.extend_run(&mut run, word, joins);
                } else {
                    self.flush_run(&mut run);
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
            // "TAMPERE", "JOHN SMITH": upper-case words join runs too, but
            // count only where the tables know them (see `names`).
            // Scripts without letter case (Arabic, Hebrew, Chinese, Japanese,
            // Korean, Thai…) give no capital to go by: their words are
            // judged like upper-case ones, by the tables alone.
            let caseless = first.is_alphabetic() && !first.is_uppercase() && !first.is_lowercase();
            let caps = !title
                && (caseless
                    || word.chars().count() >= 3
                        && word
                            .chars()
                            .all(|ch| ch.is_uppercase() || ch == '\'' || ch == '-'));
            // "Denver, CO 80202": a US state code after a place and a comma.
            if end - start == 2
                && is_us_state_code(&b[start..end])
                && start >= 3
                && &b[start - 2..start] == b", "
                && b[..start - 2]
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .last()
                    .is_some_and(u8::is_ascii_uppercase)
                && b.get(end).is_none_or(|&c| !c.is_ascii_alphanumeric())
            {
                self.flush_run(&mut run);
                self.push(Entity::Location, start, end, 0.6);
                continue;
            }
            let gap_ok = run.last().is_some_and(|w| {
                let between = &b[w.end..start];
                between == b" "
                    || between == b". "
                        && (w.end - w.start == 1 || HONORIFICS.contains(&&self.s[w.start..w.end]))
            });
            if dates_on
                && title
                && let Some(de) = self.weekday(start, end)
            {
                self.flush_run(&mut run);
                i = de;
                continue;
            }
            if title || caps {
                let joins = gap_ok && run.last().is_some_and(|w| w.strict == caps);
                let word = Word {
                    start,
                    end,
                    sentence_start: sentence_start(b, start),
                    strict: caps,
                };
                self.extend_run(&mut run, word, joins);
            } else if word.len() == 1
                && first.is_ascii_uppercase()
                && b.get(end) == Some(&b'.')
                && (gap_ok
                    || b.get(end + 1) == Some(&b' ')
                        && b.get(end + 2).is_some_and(u8::is_ascii_uppercase))
            {
                // Middle initial "J." inside a name, or a first initial
                // before a surname ("M. Hamanová").
                if !gap_ok {
                    self.flush_run(&mut run);
                }
                run.push(Word {
                    start,
                    end,
                    sentence_start: false,
                    strict: false,
                });
                i = end + 1;
            } else {
                self.flush_run(&mut run);
            }
        }
        self.flush_run(&mut run);
    }

    /// Add `w` to the current run (after flushing it unless `w` joins it);
    /// a run is judged once it holds six words.
    fn extend_run(&mut self, run: &mut Vec<Word>, w: Word, joins: bool) {
        if !joins {
            self.flush_run(run);
        }
        run.push(w);
        if run.len() >= 6 {
            self.flush_run(run);
        }
    }

    fn flush_run(&mut self, run: &mut Vec<Word>) {
        if !run.is_empty() {
            self.names(run);
            run.clear();
        }
    }

    /// [`gz::lookup_fold`] through this scan's memo and the process-wide
    /// [`WORD_FLAGS`].
    pub(super) fn lookup(&mut self, t: &str) -> u64 {
        if let Some(f) = self.words.get(None, t) {
            return f;
        }
        let f = match WORD_FLAGS.get(t) {
            Some(f) => f,
            None => {
                let mut buf = std::mem::take(&mut self.buf);
                let f = gz::lookup_fold(t, &mut buf);
                self.buf = buf;
                WORD_FLAGS.put(t, f);
                f
            }
        };
        self.words.put(None, t, f);
        f
    }

    fn flags_of(&mut self, w: &Word) -> u64 {
        let t = &self.s[w.start..w.end];
        let f = self.lookup(t);
        // Some village somewhere is called almost anything ("Spanish",
        // "Mateo", "Baker"): a town counts only when the word is nothing else.
        // Upper-case words count only as names or places the tables know well.
        let f = if f & gz::TOWN != 0 && f & !gz::TOWN != 0 {
            f & !gz::TOWN
        } else {
            f
        };
        // "王秀英", "김민준": a Chinese or Korean name is written as one word,
        // surname first. A common surname and a given name the tables know
        // make a full name.
        let f = if f == 0 && cjk_full_name(t) {
            let split = t.chars().next().map_or(0, char::len_utf8);
            let given = self.lookup(&t[split..]);
            if given & gz::FIRST != 0 {
                gz::FIRST | gz::LAST
            } else {
                0
            }
        } else {
            f
        };
        // `0` means "in no table and no dictionary": a proper noun we do not
        // know (with the server-only tables; without them, any unknown word).
        if !w.strict {
            f
        } else if f & gz::COMMON_WORD != 0 || is_log_level(t) {
            0
        } else if f & gz::DICT != 0 && self.b[w.start].is_ascii_lowercase() {
            // In a text written in lower case, a dictionary word is no town
            // or city ("list the bath and split queues"); a country still is,
            // and a name may still be one beside a surname ("maria lopez").
            f & !(gz::PLACE & !(gz::COUNTRY | gz::CONTINENT))
        } else if f == gz::TOWN && w.end - w.start >= 5 {
            // An upper-case town counts only when it is nothing else and long
            // enough not to be an acronym ("ORIMATTILA", not "UTC").
            f
        } else {
            f & !gz::TOWN
        }
    }

    fn phrase_flags(&mut self, ws: &[Word]) -> u64 {
        let (Some(first), Some(last)) = (ws.first(), ws.last()) else {
            return 0;
        };
        let t = &self.s[first.start..last.end];
        self.lookup(t)
    }

    fn names(&mut self, run: &[Word]) {
        // Each word's flags, looked up once: the rules below ask about the
        // same neighbours several times, and a lookup is most of their cost.
        // Runs hold six words (`extend_run`), seven with a middle initial:
        // flags in a fixed array, no allocation. A longer run is judged on its
        // first eight words.
        let run = &run[..run.len().min(8)];
        let mut fl_of = [0u64; 8];
        for (f, w) in fl_of.iter_mut().zip(run) {
            *f = self.flags_of(w);
        }
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
                if e < m && fl_of[e] & (gz::COMMON_WORD | gz::COUNTRY) == 0 {
                    e += 1;
                }
                self.push(Entity::Person, run[j].start, run[e - 1].end, 0.85);
                i = e;
                continue;
            }
            // Multi-word places ("New York", "United Kingdom", "Rio de Janeiro").
            // In lower-case text only from a word the tables know ("new").
            let mut placed = false;
            let windows = if w.strict && fl_of[i] == 0 {
                0
            } else {
                4.min(m - i)
            };
            for k in (2..=windows).rev() {
                let f = self.phrase_flags(&run[i..i + k]);
                let place = if run[i].strict {
                    gz::PLACE & !gz::TOWN
                } else {
                    gz::PLACE
                };
                if f & place != 0 {
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
            let f = fl_of[i];
            let single_letter = w.end - w.start == 1;
            // "Baker Street", "Koskikatu", "Rue Cler": a street, not a person.
            if i + 1 < m && is_street_word(&self.s[run[i + 1].start..run[i + 1].end]) {
                i += 2;
                continue;
            }
            // An initial and a surname ("M. Hamanová", "J. Koskinen"): the
            // surname known, or a word in no table and no dictionary.
            if single_letter
                && i + 1 < m
                && self.b.get(w.end) == Some(&b'.')
                && !run[i + 1].strict
                && run[i + 1].end - run[i + 1].start > 1
                && (fl_of[i + 1] & gz::LAST != 0 || gz::HAS_DICTIONARY && fl_of[i + 1] == 0)
                && fl_of[i + 1] & (gz::COMMON_WORD | gz::PLACE) == 0
            {
                self.push(Entity::Person, w.start, run[i + 1].end, 0.55);
                i += 2;
                continue;
            }
            // Upper- or lower-case runs: a person only as a known first name
            // and surname, a place only when well known.
            if w.strict && caseless(&self.s[w.start..w.end]) {
                // Scripts without letter case (Arabic, Persian, Chinese,
                // Japanese, Korean…): a name is what the tables know, in
                // either order ("佐藤 太郎", "محمد العتيبي"), or a known name
                // where a greeting or a verb of speech says it is one.
                let name = gz::FIRST | gz::LAST;
                let next = (i + 1 < m && caseless(&self.s[run[i + 1].start..run[i + 1].end]))
                    .then(|| fl_of[i + 1]);
                let named = |f: u64| f & name != 0 && f & gz::PLACE == 0;
                if let Some(fn_) = next
                    && (named(f) && (named(fn_) || fn_ == 0) || f == 0 && named(fn_))
                {
                    let score = if f == 0 || fn_ == 0 { 0.55 } else { 0.7 };
                    self.push(Entity::Person, w.start, run[i + 1].end, score);
                    i += 2;
                    continue;
                }
                if named(f)
                    && (f & name == name && cjk_full_name(&self.s[w.start..w.end])
                        || self.person_cue(w))
                {
                    self.push(Entity::Person, w.start, w.end, 0.65);
                    i += 1;
                    continue;
                }
            }
            if w.strict {
                let lower = self.b[w.start].is_ascii_lowercase();
                if i + 1 < m
                    && f & gz::FIRST != 0
                    && f & gz::PLACE == 0
                    && fl_of[i + 1] & gz::LAST != 0
                {
                    let s = if lower { 0.6 } else { 0.7 };
                    self.push(Entity::Person, w.start, run[i + 1].end, s);
                    i += 2;
                    continue;
                }
                // Three capitals are an acronym ("DEA", "UTC") more often than a town.
                let long = w.end - w.start >= 4 || f & gz::COUNTRY != 0;
                let known =
                    gz::COUNTRY | gz::ADMIN | gz::CITY | gz::CITY_BIG | gz::CITY_MAJOR | gz::TOWN;
                if !lower
                    && after_postcode(self.b, w.start)
                    && !is_log_level(&self.s[w.start..w.end])
                {
                    // "33100 TAMPERE": any upper-case word after a postcode.
                    let end = postal_suffix(self.b, w.end);
                    self.push(Entity::Location, w.start, end, 0.6);
                } else if long && f & known != 0 && f & gz::NRP == 0 {
                    let end = postal_suffix(self.b, w.end);
                    let s = place_score(f, false)
                        + match (lower, pure_place(f)) {
                            (true, _) => -0.1,
                            (false, true) => 0.1,
                            (false, false) => 0.0,
                        };
                    self.push(Entity::Location, w.start, end, s);
                } else if lower && f & gz::NATIONALITY != 0 && f & known == 0 {
                    self.push(Entity::Nrp, w.start, w.end, 0.6);
                }
                i += 1;
                continue;
            }
            // Place-name shapes: "Lake Kimberly", "Port Adam", "North Ravenfield".
            if i + 1 < m
                && is_place_prefix(&self.s[w.start..w.end])
                && fl_of[i + 1] & gz::COMMON_WORD == 0
            {
                self.push(Entity::Location, w.start, run[i + 1].end, 0.55);
                i += 2;
                continue;
            }
            // "Jacksonville", "Ravensburgh": an unknown word with a place suffix.
            if f == 0 && !single_letter && has_place_suffix(&self.s[w.start..w.end]) {
                self.push(Entity::Location, w.start, w.end, 0.45);
                i += 1;
                continue;
            }
            // First [Initial.|Middle] Last.
            if i + 1 < m && f & gz::FIRST != 0 && !single_letter {
                let mut j = i + 1;
                let mut fl = fl_of[j];
                if (run[j].end - run[j].start == 1 || fl & gz::FIRST != 0 && fl & gz::LAST == 0)
                    && j + 1 < m
                {
                    let f2 = fl_of[j + 1];
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
                } else if !first_common
                    && (fl == 0
                        || fl == gz::DICT
                        || fl & gz::FIRST != 0 && fl & (gz::COMMON_WORD | gz::PLACE) == 0)
                {
                    // Unknown surname after a known first name ("Priya
                    // Raghunathan"; "Marie Curie", where "curie" is also a
                    // dictionary word), or a surname that is a first name in
                    // our tables ("Liam Farouk").
                    0.6
                } else {
                    0.0
                };
                if score > 0.0 && !last_place {
                    // A third capitalised surname-like word ("Maria Garcia Lopez").
                    let mut e = j;
                    if e + 1 < m
                        && fl_of[e + 1] & gz::LAST != 0
                        && fl_of[e + 1] & gz::COMMON_WORD == 0
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
            // Surname first, as in Chinese, Japanese and Korean names ("Chen
            // Wei") — unless a first name and surname follow ("Reach Dimitrios
            // Papadopoulos": the verb is only capitalised).
            if i + 1 < m
                && f & gz::LAST != 0
                && f & (gz::COMMON_WORD | gz::FIRST) == 0
                && !(i + 2 < m && fl_of[i + 1] & gz::FIRST != 0 && fl_of[i + 2] & gz::LAST != 0)
            {
                let fl = fl_of[i + 1];
                if fl & gz::FIRST != 0 && fl & (gz::COMMON_WORD | gz::COUNTRY | gz::ADMIN) == 0 {
                    self.push(Entity::Person, w.start, run[i + 1].end, 0.55);
                    i += 2;
                    continue;
                }
            }
            // Unknown first name + known surname ("Oluwaseun Adeyemi").
            if i + 1 < m && f == 0 && !single_letter && !w.sentence_start {
                let fl = fl_of[i + 1];
                if fl & gz::LAST != 0 && fl & (gz::COMMON_WORD | gz::PLACE) == 0 {
                    self.push(Entity::Person, w.start, run[i + 1].end, 0.55);
                    i += 2;
                    continue;
                }
            }
            if f & gz::PLACE != 0 {
                let mut s = place_score(f, w.sentence_start);
                // "Denver, CO", "Lyon, France": a place followed by its state
                // or country is a place, whatever else the word may be.
                // A city or town whose name is no word and no name ("Tampere",
                // not "Reading") needs less context, at the start of a line
                // or sentence too.
                if pure_place(f) {
                    s = place_score(f, false) + 0.1;
                }
                let placed_in = self.region_follows(w.end);
                if placed_in {
                    s = s.max(0.6);
                }
                // A region or town named like an English word ("Central",
                // "Western", "Eureka") is the word unless context says place.
                // Cities of 100,000 and more keep their score: the dictionary
                // also lists "boston" (a card game) and "austin".
                if f & gz::DICT != 0
                    && f & (gz::COUNTRY | gz::CITY_MAJOR | gz::CITY_BIG) == 0
                    && !placed_in
                {
                    s = s.min(0.45) - 0.2;
                }
                if f & (gz::FIRST | gz::LAST) != 0
                    && f & (gz::COUNTRY | gz::ADMIN | gz::CITY_MAJOR) == 0
                    && !placed_in
                {
                    s -= 0.2;
                    // "Madison", "Lincoln": a name as much as a place. Both are
                    // offered; context ("Dear", "lives in") picks one, and
                    // without it neither reaches the default threshold.
                    // Right after "in", "at" or "near" it is the place.
                    let after_place_word =
                        context::word_before_is(self.s, w.start, &["in", "at", "near"]);
                    if f & gz::COMMON_WORD == 0 && !single_letter && !after_place_word {
                        let p = if w.sentence_start { 0.3 } else { 0.45 };
                        let p = if possessive(self.b, w.end) || self.person_cue(w) {
                            0.55
                        } else {
                            p
                        };
                        self.push(Entity::Person, w.start, w.end, p);
                    }
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
                    let end = postal_suffix(self.b, w.end);
                    self.push(Entity::Location, w.start, end, s);
                }
            } else if f & gz::NRP != 0 && !self.language_use(w) {
                let s = if f & gz::NATIONALITY != 0 { 0.75 } else { 0.7 };
                self.push(Entity::Nrp, w.start, w.end, s);
            } else if f & gz::FIRST != 0 && f & gz::COMMON_WORD == 0 && !single_letter {
                // A lone first name ("Hi Sarah", "Sarah will call"): first names
                // that are also ordinary words ("Will", "Grace", "Max") are
                // marked as such in the tables and never get here.
                // A first name that is also a dictionary word ("Norman",
                // "Florence") needs context.
                let s = if possessive(self.b, w.end) || self.person_cue(w) {
                    0.6
                } else if f & gz::DICT != 0 {
                    0.35
                } else {
                    0.5
                };
                self.push(Entity::Person, w.start, w.end, s);
            } else if f & gz::LAST != 0 && f & gz::COMMON_WORD == 0 && !single_letter {
                // A lone surname ("Koskinen called"): weak unless context.
                let s = match w.sentence_start {
                    _ if possessive(self.b, w.end) || self.person_cue(w) => 0.55,
                    true => 0.2,
                    false => 0.3,
                };
                self.push(Entity::Person, w.start, w.end, s);
            } else if f == 0
                && gz::HAS_DICTIONARY
                && i + 1 == m
                && w.end - w.start >= 3
                && !inner_capital(&self.s[w.start..w.end])
                && (possessive(self.b, w.end) || self.person_cue(w))
            {
                // One proper noun we do not know, right next to words that
                // take a person ("Dear Aino", "my name is Aino", "Aino wrote").
                self.push(Entity::Person, w.start, w.end, 0.55);
            } else if f == 0
                && i + 1 < m
                && !single_letter
                && run[i + 1].end - run[i + 1].start > 1
                && fl_of[i + 1] == 0
                && (gz::HAS_DICTIONARY || !w.sentence_start)
            {
                // Two capitalised words that are neither names, places nor
                // dictionary words ("Aroha Ngata"), even at the start of a
                // sentence: a name more often than not when the dictionary
                // says so; weak without it.
                let s = if gz::HAS_DICTIONARY && !inner_capital(&self.s[w.start..run[i + 1].end]) {
                    0.5
                } else {
                    0.3
                };
                self.push(Entity::Person, w.start, run[i + 1].end, s);
                i += 2;
                continue;
            }
            i += 1;
        }
    }

    /// "on Tuesday", "next Friday": a weekday is a date in prose. Alone it is
    /// weak (a heading, a name); after a preposition or date word it counts.
    /// When `start..end` is a weekday (then never a name), returns where the
    /// scan goes on: after the weekday, or after the date it starts
    /// ("Tuesday, March 5, 2024" is one date).
    fn weekday(&mut self, start: usize, end: usize) -> Option<usize> {
        const DAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let w = &self.s[start..end];
        if !DAYS.contains(&w) {
            return None;
        }
        let b = self.b;
        let mut ns = end;
        if b.get(ns) == Some(&b',') {
            ns += 1;
        }
        if b.get(ns) == Some(&b' ') {
            ns += 1;
        }
        let mut ne = ns;
        while ne < b.len() && b[ne].is_ascii_alphabetic() {
            ne += 1;
        }
        if ne > ns
            && is_month_start(char::from(b[ns]))
            && let Some(de) = self.month_date(ns, ne)
        {
            if let Some(h) = self.hits.last_mut()
                && h.entity == Entity::DateTime
                && h.start == ns
            {
                h.start = start;
            }
            return Some(de);
        }
        let cue = context::word_before_is(
            self.s,
            start,
            &[
                "on",
                "next",
                "last",
                "every",
                "this",
                "until",
                "till",
                "by",
                "since",
                "each",
                "from",
                "coming",
                "following",
                "before",
                "after",
            ],
        ) || context::word_after_is(
            self.s,
            end,
            &["morning", "afternoon", "evening", "night", "noon", "at"],
        );
        self.push(Entity::DateTime, start, end, if cue { 0.55 } else { 0.3 });
        Some(end)
    }

    /// ", CO" or ", France" right after `end`: a US state code, or a word
    /// the tables know as a country or region.
    fn region_follows(&mut self, end: usize) -> bool {
        let b = self.b;
        if b.get(end..end + 2) != Some(b", ") {
            return false;
        }
        let ws = end + 2;
        let mut we = ws;
        while we < b.len() && (b[we].is_ascii_alphabetic() || b[we] >= 0x80) {
            we += 1;
        }
        if we == ws || !b[ws].is_ascii_uppercase() {
            return false;
        }
        if we - ws == 2 && is_us_state_code(&b[ws..we]) {
            return true;
        }
        let word = Word {
            start: ws,
            end: we,
            sentence_start: false,
            strict: false,
        };
        self.flags_of(&word) & (gz::COUNTRY | gz::ADMIN) != 0
    }

    /// Words right next to `w` that take a person: a greeting or "name is"
    /// before, a verb of speech after. Narrower than the context words, which
    /// only lift a score: this alone makes an unknown word a name.
    fn person_cue(&self, w: Word) -> bool {
        let before = context::words_before(self.s, w.start, 2);
        let is = |x: &str, ks: &[&str]| ks.iter().any(|k| x.eq_ignore_ascii_case(k));
        let last = before.last().copied().unwrap_or("");
        let pair_before = before.len() == 2 && is(before[0], &["name", "named", "i"]);
        is(
            last,
            &["dear", "hi", "hello", "hey", "named", "called", "thanks"],
        ) || (pair_before && is(last, &["is", "am"]))
            || context::word_after_is(
                self.s,
                w.end,
                &[
                    "said", "says", "wrote", "writes", "asked", "told", "replied", "called",
                ],
            )
    }

    /// "in Spanish", "to English", "Spanish translation": a language, not people.
    fn language_use(&self, w: Word) -> bool {
        context::word_before_is(
            self.s,
            w.start,
            &["in", "to", "into", "speaks", "speak", "from"],
        ) && !context::word_after_is(
            self.s,
            w.end,
            &[
                "citizen",
                "citizens",
                "national",
                "nationals",
                "woman",
                "man",
                "people",
            ],
        ) || context::word_after_is(
            self.s,
            w.end,
            &[
                "language",
                "translation",
                "text",
                "version",
                "keyboard",
                "locale",
                "subtitles",
            ],
        )
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
        if we - ws < 3 || we - ws > 9 || !(next || prev) {
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
    /// Written in upper case ("TAMPERE"), or in a text written all in lower
    /// case: the case says nothing, so only well-known table entries count.
    strict: bool,
}

/// A city or town (with the server-only dictionary) whose name is no English
/// word and no person's name.
/// The end of a user agent's parenthesised comment opening at `open`: a
/// `(…;…)` group right after a `product/version` token
/// (`Mozilla/5.0 (Windows NT 10.0; Win64; x64)`).
fn agent_comment(b: &[u8], open: usize) -> Option<usize> {
    if open < 4 || b[open - 1] != b' ' {
        return None;
    }
    // The token before: letters, `/`, then a digit.
    let token_start = b[..open - 1]
        .iter()
        .rposition(|&c| c == b' ' || c == b'(' || c == b')')
        .map_or(0, |p| p + 1);
    let token = &b[token_start..open - 1];
    let slash = token.iter().position(|&c| c == b'/')?;
    if slash == 0 || !token[0].is_ascii_alphabetic() || !token.get(slash + 1)?.is_ascii_digit() {
        return None;
    }
    let window = &b[open..b.len().min(open + 400)];
    let close = memchr::memchr(b')', window)?;
    memchr::memchr(b';', &window[..close])?;
    Some(open + close)
}

/// Log levels ("WARN", "CRIT"): in upper case they open log lines, and a
/// few are also villages somewhere.
fn is_log_level(w: &str) -> bool {
    const LEVELS: &[&str] = &[
        "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "crit", "critical",
        "alert", "emerg", "fatal", "severe", "fine", "finer", "finest", "verbose",
    ];
    LEVELS.iter().any(|l| l.eq_ignore_ascii_case(w))
}

/// Whether a word is written in a script without letter case.
fn caseless(w: &str) -> bool {
    w.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase())
}

/// The commonest Chinese and Korean surnames (one character each, about
/// 85 % of people in each country), written by hand from public surname
/// frequency lists; see `shared/data/SOURCES.md`.
const CJK_SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤張劉陳楊黃趙吳許鄭謝韓馮鄧蔣葉蘇呂盧鍾譚陸賈韋鄒閆龔錢湯김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용";

/// A Han or Hangul word of two or three characters whose first is a common
/// surname ("王秀英", "김민준"): shaped like a full name.
fn cjk_full_name(w: &str) -> bool {
    let n = w.chars().count();
    (2..=3).contains(&n)
        && w.chars().next().is_some_and(|c| CJK_SURNAMES.contains(c))
        && w.chars()
            .all(|c| matches!(u32::from(c), 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xAC00..=0xD7A3))
}

fn pure_place(f: u64) -> bool {
    gz::HAS_DICTIONARY
        && f & (gz::CITY | gz::TOWN) != 0
        && f & (gz::DICT | gz::FIRST | gz::LAST | gz::COMMON_WORD) == 0
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

/// End of a postal-district letter after a place ("Aarhus C", "København K"):
/// one upper-case letter, then the end of the text or punctuation.
fn postal_suffix(b: &[u8], end: usize) -> usize {
    match (b.get(end), b.get(end + 1), b.get(end + 2)) {
        (Some(b' '), Some(c), next)
            if c.is_ascii_uppercase()
                && next.is_none_or(|&x| matches!(x, b',' | b'\n' | b'\r' | b'"' | b';' | b')')) =>
        {
            end + 2
        }
        _ => end,
    }
}

/// Longest text whose lower-case words are all looked up (see `words`).
const LOWER_TEXT_MAX: usize = 160;

/// English function words, skipped before any table lookup in lower-case
/// text: they are most of its words and never names.
fn is_function_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"the"
            | b"and"
            | b"for"
            | b"with"
            | b"from"
            | b"that"
            | b"this"
            | b"are"
            | b"was"
            | b"were"
            | b"has"
            | b"have"
            | b"had"
            | b"not"
            | b"but"
            | b"you"
            | b"your"
            | b"our"
            | b"his"
            | b"her"
            | b"she"
            | b"they"
            | b"them"
            | b"their"
            | b"will"
            | b"would"
            | b"can"
            | b"could"
            | b"should"
            | b"please"
            | b"into"
            | b"about"
            | b"after"
            | b"before"
            | b"there"
            | b"here"
            | b"what"
            | b"when"
            | b"where"
            | b"which"
            | b"who"
            | b"how"
            | b"all"
            | b"any"
            | b"some"
            | b"its"
            | b"also"
            | b"just"
            | b"than"
            | b"then"
            | b"been"
            | b"being"
            | b"does"
            | b"did"
    )
}

/// "McDonald" is a name, "GitHub" and "PostgreSQL" are products: a capital
/// after the first letter (not after `Mc`, `Mac`, `O'` or a hyphen) marks a
/// product or code name.
fn inner_capital(w: &str) -> bool {
    w.split([' ', '-', '\''])
        .map(|part| {
            part.strip_prefix("Mac")
                .or_else(|| part.strip_prefix("Mc"))
                .unwrap_or(part)
        })
        .any(|part| part.chars().skip(1).any(char::is_uppercase))
}

/// USPS codes of the US states, DC and territories.
fn is_us_state_code(w: &[u8]) -> bool {
    const CODES: &[&[u8; 2]] = &[
        b"AL", b"AK", b"AZ", b"AR", b"CA", b"CO", b"CT", b"DE", b"FL", b"GA", b"HI", b"ID", b"IL",
        b"IN", b"IA", b"KS", b"KY", b"LA", b"ME", b"MD", b"MA", b"MI", b"MN", b"MS", b"MO", b"MT",
        b"NE", b"NV", b"NH", b"NJ", b"NM", b"NY", b"NC", b"ND", b"OH", b"OK", b"OR", b"PA", b"RI",
        b"SC", b"SD", b"TN", b"TX", b"UT", b"VT", b"VA", b"WA", b"WV", b"WI", b"WY", b"DC", b"PR",
        b"GU", b"VI", b"AS", b"MP",
    ];
    CODES.iter().any(|c| c.as_slice() == w)
}

/// Words that start English place names ("Lake Placid", "Port Elizabeth").
fn is_place_prefix(w: &str) -> bool {
    matches!(
        w,
        "North" | "South" | "East" | "West" | "New" | "Lake" | "Port" | "Mount" | "Fort" | "Saint"
    )
}

/// Endings of English place names (toponymy, not a list of places).
fn has_place_suffix(w: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "ville", "burg", "burgh", "borough", "bury", "ford", "chester", "shire", "port", "mouth",
        "haven", "stad", "furt", "berg", "town", "fort",
    ];
    let b = w.as_bytes();
    b.len() >= 6
        && SUFFIXES.iter().any(|x| {
            b.len() > x.len() + 2 && b[b.len() - x.len()..].eq_ignore_ascii_case(x.as_bytes())
        })
}

/// "Marie's", "Koskinen’s": a possessive after the word ending at `end`.
fn possessive(b: &[u8], end: usize) -> bool {
    b[end..].starts_with(b"'s") || b[end..].starts_with("\u{2019}s".as_bytes())
}

/// A postcode (4 to 6 digits) and one space right before `start`.
fn after_postcode(b: &[u8], start: usize) -> bool {
    if start < 5 || b[start - 1] != b' ' {
        return false;
    }
    let mut p = start - 1;
    while p > 0 && b[p - 1].is_ascii_digit() && start - p <= 7 {
        p -= 1;
    }
    let digits = start - 1 - p;
    // Not the fraction of a time or a number ("12:41:25.123456 WARN").
    (4..=6).contains(&digits)
        && (p == 0 || !(b[p - 1].is_ascii_alphanumeric() || matches!(b[p - 1], b'.' | b':' | b',')))
}

/// Street-type words (several languages) that make the word before them
/// part of an address.
fn is_street_word(w: &str) -> bool {
    const STREETS: &[&str] = &[
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "way",
        "close",
        "square",
        "place",
        "court",
        "terrace",
        "crescent",
        "gardens",
        "strasse",
        "straße",
        "gasse",
        "weg",
        "allee",
        "platz",
        "rue",
        "via",
        "viale",
        "calle",
        "avenida",
        "rua",
        "katu",
        "tie",
        "gatan",
        "gata",
        "gade",
        "vej",
        "straat",
        "laan",
        "ulica",
        "utca",
        "ut",
    ];
    STREETS.iter().any(|k| w.eq_ignore_ascii_case(k))
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
