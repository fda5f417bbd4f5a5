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
//!    (PERSON, LOCATION, NRP) and month-name dates;
//! 4. **injection** — instructions aimed at the model (the six
//!    `PROMPT_INJECTION_*` sub-kinds: phrases, invisible characters, URL
//!    shapes), whose spans may start and end on non-ASCII characters.
//!
//! Every loop advances at least one byte per step and every look-around is
//! bounded, so work is linear in the input. All spans of the first three
//! passes start and end on ASCII bytes; every span is on `char` boundaries.
//!
//! # Layout
//! One file per pass, each adding an `impl Scanner` block with its entry
//! point and the helpers only it uses: `numeric.rs`, `chunks.rs` (including
//! `name=value` secrets) and `words.rs`; `fields.rs` judges a JSON value by
//! its member key. Byte-class tables, word lists and the helpers more than
//! one pass needs are in `tables.rs`. This file holds [`Scanner`] itself and
//! the order the passes run in.
//!
//! # Tests
//! Detector cases are data: `shared/testdata/detect/*.toml`, run by the
//! harness in `testdata.rs` from a test beside each pass (add a case there,
//! no Rust needed). `accuracy.rs` gates `cargo test` on the labelled corpus
//! the `accuracy` bench reports on.

mod chunks;
mod fields;
mod injection;
mod numeric;
mod tables;
mod words;

#[cfg(test)]
mod accuracy;
#[cfg(test)]
mod testdata;

use super::entity::Entity;
use super::memo::WordMemo;
use super::rules::CompiledRules;

/// A raw detection before context, thresholds and overlap resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub entity: Entity,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

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

pub(crate) struct Scanner<'a> {
    rules: &'a CompiledRules,
    s: &'a str,
    b: &'a [u8],
    /// Words of the JSON member key holding this string, if any.
    key: Option<&'a str>,
    pub hits: Vec<Hit>,
    buf: String,
    /// Gazetteer flags already looked up in this scan.
    words: &'a mut WordMemo,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(
        rules: &'a CompiledRules,
        s: &'a str,
        key: Option<&'a str>,
        words: &'a mut WordMemo,
    ) -> Self {
        Scanner {
            rules,
            s,
            b: s.as_bytes(),
            key,
            hits: Vec::new(),
            buf: String::new(),
            words,
        }
    }

    pub(crate) fn run(mut self) -> Vec<Hit> {
        if self.b.is_empty() {
            return self.hits;
        }
        let r = self.rules;
        // A string of lower-case ASCII letters only ("id", "kind", "note"):
        // the chunk pass skips an all-letter token with nothing after it, the
        // numeric pass needs a digit, the word pass needs a capital, a space
        // (lower-case text) or a digit (a month-name date). Unless its member
        // key names a secret or what the value is (`fields.rs`), only an
        // instruction ("secretly") can be in it. Member keys and enum-like
        // values are most of the strings of a tool call, hence this shortcut
        // (10 % of a 1 KB argument's scan, callgrind).
        if self.b.len() <= 32
            && self.b.iter().all(u8::is_ascii_lowercase)
            && self
                .key
                .is_none_or(|k| chunks::secret_name(k).is_none() && self.kind_of(k).is_none())
        {
            self.injection();
            return self.hits;
        }
        // Chunks first: digits inside an IBAN, URL, e-mail or token already
        // found are not judged again as cards, phones or IDs.
        if CHUNKED.iter().any(|&e| r.on(e)) {
            self.chunks();
        }
        if NUMERIC.iter().any(|&e| r.on(e)) {
            self.numeric();
        }
        self.words();
        self.injection();
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
}

#[cfg(test)]
mod tests {
    /// Inputs that once panicked, or sit on an edge of some pass, must scan
    /// without panicking and with every raw span in bounds
    /// (`shared/testdata/detect/odd_input.toml`).
    #[test]
    fn never_panics_on_odd_input() {
        super::testdata::check_file!("odd_input.toml");
    }
}
