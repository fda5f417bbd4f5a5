//! Context words: whole words, case-insensitive, looked for within
//! [`CONTEXT_WINDOW`] words before **or** after a candidate (and in the JSON
//! key that holds the value). A match raises the score by [`CONTEXT_BOOST`],
//! to at least [`CONTEXT_FLOOR`], at most 1.

use super::entity::Entity;

/// One compiled context phrase: lower-cased words that must appear in order.
pub(crate) type Phrase = Vec<String>;

/// A rule's context phrases with an index by first word, so matching a
/// candidate's neighbours costs a binary search per word instead of a
/// comparison per phrase and word (PERSON alone has about fifty phrases, and
/// every candidate is matched on both sides and against its JSON key).
#[derive(Debug, Clone)]
pub(crate) struct ContextSet {
    phrases: Vec<Phrase>,
    /// (first word, phrase index), sorted by word.
    by_first: Vec<(String, usize)>,
    /// Bit `c - 'a'` for each ASCII letter a first word starts with, and bit
    /// `n` for each first-word length `n` < 64: most text words fail one of
    /// the two and are skipped before any lower-casing or search. A first
    /// word that is not an ASCII letter word turns the filter off.
    first_letters: u32,
    first_lens: u64,
    filter: bool,
}

impl ContextSet {
    /// No phrases.
    pub(crate) const EMPTY: ContextSet = ContextSet {
        phrases: Vec::new(),
        by_first: Vec::new(),
        first_letters: 0,
        first_lens: 0,
        filter: true,
    };

    pub(crate) fn new(phrases: Vec<Phrase>) -> Self {
        let mut by_first: Vec<(String, usize)> = phrases
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.first().map(|w| (w.clone(), i)))
            .collect();
        by_first.sort();
        let mut first_letters = 0u32;
        let mut first_lens = 0u64;
        let mut filter = true;
        for (w, _) in &by_first {
            match w.as_bytes().first() {
                Some(c @ b'a'..=b'z')
                    if w.len() < 64 && w.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    first_letters |= 1 << (c - b'a');
                    first_lens |= 1 << w.len();
                }
                _ => filter = false,
            }
        }
        ContextSet {
            phrases,
            by_first,
            first_letters,
            first_lens,
            filter,
        }
    }

    /// False when `w` cannot be any phrase's first word (see the masks).
    fn may_start(&self, w: &str) -> bool {
        if !self.filter || !w.is_ascii() {
            return true;
        }
        let b = w.as_bytes();
        let letter = match b.first() {
            Some(c) if c.is_ascii_alphabetic() => c.to_ascii_lowercase() - b'a',
            _ => return false,
        };
        b.len() < 64
            && self.first_lens & (1 << b.len()) != 0
            && self.first_letters & (1 << letter) != 0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }
}

/// Splits a configured context word or phrase into its compiled form.
pub(crate) fn split_phrase(s: &str) -> Phrase {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Words looked at on each side of a candidate.
pub const CONTEXT_WINDOW: usize = 5;
/// Score added when a context word is near.
pub const CONTEXT_BOOST: f32 = 0.35;
/// Lowest score of a candidate with context near.
pub const CONTEXT_FLOOR: f32 = 0.4;

/// Apply the context boost to a base score.
///
/// ```
/// use shared::detect::context_score;
/// assert_eq!(context_score(0.2), 0.55);
/// assert_eq!(context_score(0.9), 1.0);
/// assert_eq!(context_score(0.0), 0.4);
/// ```
pub fn context_score(base: f32) -> f32 {
    ((base + CONTEXT_BOOST).max(CONTEXT_FLOOR) * 100.0)
        .round()
        .min(100.0)
        / 100.0
}

/// Built-in context words per entity (users add their own per rule).
pub(crate) fn defaults(e: Entity) -> &'static [&'static str] {
    match e {
        Entity::Person => &[
            "name",
            "names",
            "customer",
            "patient",
            "employee",
            "contact",
            "dear",
            "hi",
            "hello",
            "thanks",
            "regards",
            "mr",
            "mrs",
            "ms",
            "dr",
            "signed",
            "assignee",
            "author",
            "reporter",
            "owner",
            "user",
            "client",
            "member",
            "applicant",
            "from",
            "cc",
            "by",
            "manager",
            "fullname",
            "firstname",
            "lastname",
            "surname",
            // Verbs and relations that take a person ("Koskinen said", "his
            // wife Aino"), for names our tables do not know.
            "said",
            "says",
            "told",
            "asked",
            "wrote",
            "called",
            "named",
            "met",
            "married",
            "wife",
            "husband",
            "son",
            "daughter",
            "mother",
            "father",
            "brother",
            "sister",
            "friend",
            "colleague",
            "cardholder",
            "holder",
            "sincerely",
            "miss",
            "prof",
        ],
        Entity::Location => &[
            "city",
            "country",
            "address",
            "located",
            "location",
            "lives",
            "live",
            "living",
            "moved",
            "from",
            "in",
            "at",
            "near",
            "state",
            "province",
            "region",
            "town",
            "headquarters",
            "office",
            "born",
            "ship",
            "shipping",
            "travel",
            "visit",
        ],
        Entity::Nrp => &[
            "nationality",
            "citizen",
            "citizenship",
            "religion",
            "religious",
            "faith",
            "ethnicity",
            "ethnic",
            "political",
            "party",
            "affiliation",
            "national",
            "origin",
        ],
        Entity::EmailAddress => &["email", "mail", "e-mail", "contact", "reply"],
        Entity::PhoneNumber => &[
            "phone",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "call",
            "fax",
            "contact",
            "sms",
            "whatsapp",
            "dial",
            "reach",
        ],
        Entity::IpAddress => &[
            "ip", "ipv4", "ipv6", "address", "host", "client", "remote", "src", "dst",
        ],
        Entity::Url => &[
            "url", "link", "website", "site", "visit", "href", "endpoint",
        ],
        Entity::DateTime => &[
            "dob",
            "born",
            "birth",
            "birthday",
            "birthdate",
            "bday",
            "died",
            "deceased",
            "appointment",
            "admitted",
            "discharged",
            "visit",
            "hired",
            "anniversary",
            "expires",
            "expiry",
            "expiration",
            "scheduled",
        ],
        Entity::CreditCard => &[
            "card",
            "credit",
            "debit",
            "visa",
            "mastercard",
            "amex",
            "cc",
            "pan",
            "payment",
        ],
        Entity::IbanCode => &["iban", "bank", "account", "transfer", "sepa", "wire"],
        Entity::Crypto => &[
            "wallet", "btc", "bitcoin", "eth", "ethereum", "crypto", "address",
        ],
        Entity::MedicalLicense => &[
            "dea",
            "medical",
            "license",
            "licence",
            "prescriber",
            "registration",
        ],
        Entity::UsSsn => &["ssn", "social", "security", "ss", "ssa"],
        Entity::UsItin => &["itin", "taxpayer", "tax", "individual"],
        Entity::UsPassport => &["passport", "travel document"],
        Entity::UsDriverLicense => &[
            "driver", "drivers", "driving", "license", "licence", "dl", "dln", "permit",
        ],
        Entity::UsBankNumber => &[
            "account", "acct", "bank", "checking", "savings", "routing", "aba", "deposit", "ach",
            "wire",
        ],
        Entity::UkNhs => &["nhs", "health", "patient", "national health"],
        Entity::UkNino => &["nino", "national insurance", "ni", "insurance"],
        Entity::EsNif => &["nif", "dni", "nie", "documento", "identidad", "fiscal"],
        Entity::ItFiscalCode => &["codice", "fiscale", "fiscal", "cf", "tax code"],
        Entity::AuTfn => &["tfn", "tax file", "tax"],
        Entity::InPan => &["pan", "permanent account", "income tax"],
        Entity::InAadhaar => &["aadhaar", "aadhar", "uid", "uidai"],
        Entity::SgNricFin => &["nric", "fin", "ic", "identity card"],
        Entity::AwsAccessKey
        | Entity::GoogleApiKey
        | Entity::GithubToken
        | Entity::SlackToken
        | Entity::StripeKey
        | Entity::PrivateKey
        | Entity::Jwt
        | Entity::DatabaseUrl
        | Entity::GenericSecret => &[
            "key",
            "token",
            "secret",
            "password",
            "credential",
            "credentials",
            "auth",
            "apikey",
            "bearer",
        ],
        // Scored from the instruction itself (see `builtin::injection`).
        Entity::InjectionOverride
        | Entity::InjectionHiddenText
        | Entity::InjectionSystemMarkup
        | Entity::InjectionCredentialRequest
        | Entity::InjectionToolCall
        | Entity::InjectionExfiltration => &[],
    }
}

/// Call `f` with each word of `s`: runs of letters and digits, also split
/// where a lower-case letter meets an upper-case one (`dateOfBirth`).
pub(crate) fn for_each_word<'s>(s: &'s str, mut f: impl FnMut(&'s str)) {
    let mut start: Option<usize> = None;
    let mut prev_lower = false;
    for (i, ch) in s.char_indices() {
        if ch.is_alphanumeric() {
            if ch.is_uppercase() && prev_lower {
                if let Some(st) = start {
                    f(&s[st..i]);
                }
                start = Some(i);
            } else if start.is_none() {
                start = Some(i);
            }
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        } else {
            prev_lower = false;
            if let Some(st) = start.take() {
                f(&s[st..i]);
            }
        }
    }
    if let Some(st) = start {
        f(&s[st..]);
    }
}

/// Lower-cased words of a text span, splitting identifiers too
/// (`customer_ssn`, `dateOfBirth` → customer ssn / date of birth).
pub(crate) fn words_of(s: &str, out: &mut Vec<String>) {
    for_each_word(s, |w| out.push(w.to_lowercase()));
}

/// Up to `n` words ending at `end` (scanning backwards), in text order.
pub(crate) fn words_before(s: &str, end: usize, n: usize) -> Vec<&str> {
    let mut w = Vec::with_capacity(n + 4);
    words_before_into(s, end, n, &mut w);
    w
}

/// The text before `end` that can hold its last `n` words: the look-back
/// is bounded in bytes too, so a huge run of separators costs nothing.
fn window_before(s: &str, end: usize, n: usize) -> &str {
    let head = s.get(..end).unwrap_or("");
    let mut from = head.len().saturating_sub(n * 24 + 8);
    while from > 0 && !head.is_char_boundary(from) {
        from -= 1;
    }
    head.get(from..).unwrap_or("")
}

/// The text after `start` that can hold its first `n` words (bounded as
/// [`window_before`]).
fn window_after(s: &str, start: usize, n: usize) -> &str {
    let tail = s.get(start..).unwrap_or("");
    let mut to = tail.len().min(n * 24 + 8);
    while to < tail.len() && !tail.is_char_boundary(to) {
        to += 1;
    }
    tail.get(..to).unwrap_or("")
}

/// [`words_before`] into a reused buffer (cleared first).
pub(crate) fn words_before_into<'s>(s: &'s str, end: usize, n: usize, w: &mut Vec<&'s str>) {
    w.clear();
    for_each_word(window_before(s, end, n), |x| w.push(x));
    let skip = w.len().saturating_sub(n);
    w.drain(..skip);
}

/// Whether the word right before `end` is one of `words` (any case).
pub(crate) fn word_before_is(s: &str, end: usize, words: &[&str]) -> bool {
    let mut last = None;
    for_each_word(window_before(s, end, 1), |x| last = Some(x));
    last.is_some_and(|x| words.iter().any(|k| x.eq_ignore_ascii_case(k)))
}

/// Whether the word right after `start` is one of `words` (any case).
pub(crate) fn word_after_is(s: &str, start: usize, words: &[&str]) -> bool {
    let mut first = None;
    for_each_word(window_after(s, start, 1), |x| {
        first.get_or_insert(x);
    });
    first.is_some_and(|x| words.iter().any(|k| x.eq_ignore_ascii_case(k)))
}

/// Up to `n` words starting at `start`.
#[cfg(test)]
pub(crate) fn words_after(s: &str, start: usize, n: usize) -> Vec<&str> {
    let mut w = Vec::with_capacity(n + 4);
    words_after_into(s, start, n, &mut w);
    w
}

/// [`words_after`] into a reused buffer (cleared first).
pub(crate) fn words_after_into<'s>(s: &'s str, start: usize, n: usize, w: &mut Vec<&'s str>) {
    w.clear();
    for_each_word(window_after(s, start, n), |x| {
        if w.len() < n {
            w.push(x);
        }
    });
}

/// A text word equals a (lower-case) phrase word, ignoring case.
fn word_eq(text: &str, phrase: &str) -> bool {
    if text.is_ascii() {
        text.eq_ignore_ascii_case(phrase)
    } else {
        text.to_lowercase() == phrase
    }
}

/// The phrases of `set` that occur as whole words in `words`, in the set's
/// order, each once.
pub(crate) fn matched<S: AsRef<str>>(set: &ContextSet, words: &[S], out: &mut Vec<String>) {
    let mut hits: Vec<usize> = Vec::new();
    let mut lower = String::new();
    for (wi, w) in words.iter().enumerate() {
        let w = w.as_ref();
        if !set.may_start(w) {
            continue;
        }
        lower.clear();
        if w.is_ascii() {
            lower.push_str(w);
            lower.make_ascii_lowercase();
        } else {
            lower.push_str(&w.to_lowercase());
        }
        let from = set
            .by_first
            .partition_point(|(f, _)| f.as_str() < lower.as_str());
        for (f, pi) in &set.by_first[from..] {
            if *f != lower {
                break;
            }
            let Some(p) = set.phrases.get(*pi) else {
                continue;
            };
            let rest = &p[1..];
            let follows = words
                .get(wi + 1..wi + 1 + rest.len())
                .is_some_and(|ws| ws.iter().zip(rest).all(|(a, b)| word_eq(a.as_ref(), b)));
            if follows {
                hits.push(*pi);
            }
        }
    }
    hits.sort_unstable();
    hits.dedup();
    for pi in hits {
        if let Some(p) = set.phrases.get(pi) {
            let s = p.join(" ");
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        let mut w = Vec::new();
        words_of("customer_ssn dateOfBirth HTTPServer x-api-key", &mut w);
        assert_eq!(
            w,
            [
                "customer",
                "ssn",
                "date",
                "of",
                "birth",
                "httpserver",
                "x",
                "api",
                "key"
            ]
        );
    }

    #[test]
    fn whole_words_only_and_windows() {
        let phrases = vec![split_phrase("us"), split_phrase("social security")];
        let mut out = Vec::new();
        let phrases = ContextSet::new(phrases);
        matched(&phrases, &["user", "username"], &mut out);
        assert!(out.is_empty(), "substring must not match: {out:?}");
        matched(&phrases, &["my", "Social", "SECURITY"], &mut out);
        assert_eq!(out, ["social security"]);
        let s = "one two three four five six seven VALUE eight nine";
        let at = s.find("VALUE").unwrap();
        assert_eq!(
            words_before(s, at, 5),
            ["three", "four", "five", "six", "seven"]
        );
        assert_eq!(words_after(s, at + 5, 5), ["eight", "nine"]);
    }

    #[test]
    fn boost_is_documented_amount() {
        assert_eq!(context_score(0.3), 0.65);
        assert_eq!(context_score(0.05), 0.4);
    }
}
