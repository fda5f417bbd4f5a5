//! The detection engine: decides what is sensitive in a tool call.
//!
//! Compile a [`RuleSet`] once into [`CompiledRules`] (cache it per org rules
//! version, share it behind an `Arc`), then scan many inputs:
//!
//! ```
//! use shared::detect::{redact_json, CompiledRules, RuleSet};
//!
//! let rules = CompiledRules::compile(&RuleSet::default())?;
//! let args = serde_json::json!({"query": "refund jane@example.com", "card": "4111 1111 1111 1111"});
//! let findings = rules.scan_json(&args)?;
//! assert_eq!(findings.len(), 2);
//! assert_eq!(findings[0].pointer.as_deref(), Some("/query"));
//! let clean = redact_json(&args, &findings);
//! assert_eq!(clean["card"], "[REDACTED:CREDIT_CARD]");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Scores and thresholds
//! Every finding has a score from 0 to 1. Validated formats score high
//! (a Luhn-valid card with a brand prefix 0.9, an IBAN with its mod-97 0.95);
//! shapes that many harmless numbers share score low (a bare 9-digit number is
//! 0.3 as an SSN, 0.2 as a bank account) and pass the default threshold of
//! 0.5 only with context. Each rule has its own threshold; findings below it
//! are dropped unless all findings are requested ([`ScanOptions::ALL`],
//! `scan_*_all`), which the Rule Tester and `gatehouse scan --jsonl` use.
//!
//! # Context
//! Each rule has context words (built-in ones plus the org's). A word counts
//! when it appears as a whole word, case-insensitively, within
//! [`CONTEXT_WINDOW`] words before **or** after the value — or in the JSON
//! key holding the value (`{"ssn": "…"}`; identifiers are split, so
//! `customer_ssn` and `dateOfBirth` work). Context adds [`CONTEXT_BOOST`]
//! (0.35) to the score, to at least [`CONTEXT_FLOOR`] (0.4), at most 1; the
//! words that matched are reported in [`Finding::context`].
//!
//! # Regions
//! National identifiers are grouped by [`Region`]; a regional entity runs
//! only when its region is enabled in the rule set. [`RuleSet::default`]
//! enables US; [`RuleSet::all_regions`] enables all. Phone numbers without a
//! `+` country code are validated against the enabled regions' numbering
//! plans.
//!
//! # Untrusted input
//! Scanning never panics. Built-in detectors are single passes with bounded
//! look-around; custom rules use the `regex` crate (linear time, no
//! back-references) with size limits on the compiled program and its DFA, and
//! at most [`MAX_CUSTOM_RULES`] rules of at most [`MAX_PATTERN_LEN`] bytes.
//! The checked entry points ([`CompiledRules::scan_json`],
//! [`CompiledRules::scan_json_str`], [`CompiledRules::scan_text_checked`])
//! refuse inputs over [`Limits`] (size, nesting depth) with a [`ScanError`].
//!
//! # Names, places and groups
//! PERSON, LOCATION and NRP come from gazetteers (US Census and Faker name
//! tables, GeoNames places, country demonyms; see `shared/data/SOURCES.md`)
//! combined with capitalisation and context, not from a language model.

mod builtin;
mod context;
mod entity;
mod gazetteer;
mod memo;
mod phone;
mod rawjson;
mod redact;
mod rules;
mod scan;
mod validators;

pub use context::{CONTEXT_BOOST, CONTEXT_FLOOR, CONTEXT_WINDOW, context_score};
pub use entity::{Entity, EntityGroup, Region, UnknownName};
pub use gazetteer::gazetteer_bytes;
pub use redact::{
    SNIPPET_CONTEXT_CHARS, argument_shape, redact_json, redact_pointer, redact_text, snippet,
};
pub use rules::{
    CompiledRules, CustomRule, DEFAULT_THRESHOLD, EntitySetting, Limits, MAX_CONTEXT_WORD_LEN,
    MAX_CONTEXT_WORDS, MAX_CUSTOM_RULES, MAX_LABEL_LEN, MAX_PATTERN_DFA_BYTES, MAX_PATTERN_LEN,
    MAX_PATTERN_PROGRAM_BYTES, RuleError, RuleField, RuleSet,
};
pub use scan::{Finding, RuleRef, ScanError, ScanOptions};

/// Redact a JSON text in place, preserving every untouched byte (see
/// [`CompiledRules::redact_json_str`]); a free function for callers that hold
/// findings but not the rules.
///
/// # Errors
/// [`ScanError::InvalidJson`] if `src` is not JSON.
///
/// ```
/// let out = shared::detect::redact_json_text("{\"a\" :  \"x\"}", &[]).unwrap();
/// assert_eq!(out, "{\"a\" :  \"x\"}");
/// ```
pub fn redact_json_text(src: &str, findings: &[Finding]) -> Result<String, ScanError> {
    static RULES: std::sync::OnceLock<Option<CompiledRules>> = std::sync::OnceLock::new();
    let rules = RULES
        .get_or_init(|| {
            CompiledRules::compile(&RuleSet {
                only_listed: true,
                entities: Vec::new(),
                ..RuleSet::default()
            })
            .ok()
        })
        .as_ref()
        .ok_or_else(|| ScanError::InvalidJson("internal: empty rule set did not compile".into()))?;
    rules.redact_json_str(src, findings)
}

/// Compile the default rule set and load every lazy table (gazetteer, TLDs,
/// phone metadata), so the first real scan pays no start-up cost.
///
/// # Errors
/// Never in practice; the default rule set always compiles.
pub fn compile_default() -> Result<CompiledRules, RuleError> {
    let rules = CompiledRules::compile(&RuleSet::default())?;
    gazetteer::warm();
    let _ = rules.scan_text("warm up +1 415-555-2671 John Smith");
    Ok(rules)
}
