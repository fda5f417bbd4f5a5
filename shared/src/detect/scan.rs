//! Scanning text and JSON values: candidates from the detectors and custom
//! rules, context scoring, overlap resolution, thresholds, JSON Pointers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::builtin::{Hit, Scanner};
use super::context::{self, CONTEXT_WINDOW, ContextSet};
use super::entity::Entity;
use super::memo::{ScanMemo, WordMemo};
use super::rules::CompiledRules;

/// Which rule produced a finding.
///
/// Serialised as `{"entity": "EMAIL_ADDRESS"}` or `{"custom": "<rule id>"}`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleRef {
    /// A built-in detector.
    Entity(Entity),
    /// A custom regex rule, by id.
    Custom(String),
}

/// One detection.
///
/// `start`/`end` are byte offsets into the string that was scanned (for JSON:
/// the string value, the object key, or a number's text), end-exclusive.
///
/// ```
/// use shared::detect::{CompiledRules, RuleRef, RuleSet, Entity};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let doc = serde_json::json!({"to": ["a.b@example.org"]});
/// let f = &rules.scan_json(&doc).unwrap()[0];
/// assert_eq!(f.rule, RuleRef::Entity(Entity::EmailAddress));
/// assert_eq!(f.pointer.as_deref(), Some("/to/0"));
/// assert!(!f.in_key);
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that matched.
    pub rule: RuleRef,
    /// Entity name or custom label; used in `[REDACTED:<label>]`.
    pub label: String,
    /// RFC 6901 JSON Pointer of the field (`Some("")` for a top-level string),
    /// `None` for plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// True when the match is inside an object key (the pointer names that member).
    #[serde(default)]
    pub in_key: bool,
    /// Byte offset of the match in its string.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
    /// Confidence, 0..=1.
    pub score: f32,
    /// Context words that raised the score.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

impl Finding {
    /// The entity, for built-in findings.
    pub fn entity(&self) -> Option<Entity> {
        match &self.rule {
            RuleRef::Entity(e) => Some(*e),
            RuleRef::Custom(_) => None,
        }
    }

    /// `[REDACTED:<label>]`.
    ///
    /// ```
    /// # use shared::detect::*;
    /// let f = Finding { rule: RuleRef::Entity(Entity::UsSsn), label: "US_SSN".into(), pointer: None,
    ///                   in_key: false, start: 0, end: 11, score: 0.85, context: vec![] };
    /// assert_eq!(f.placeholder(), "[REDACTED:US_SSN]");
    /// ```
    pub fn placeholder(&self) -> String {
        format!("[REDACTED:{}]", self.label)
    }

    pub(crate) fn same_field(&self, other: &Finding) -> bool {
        self.pointer == other.pointer && self.in_key == other.in_key
    }
}

/// Why a scan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanError {
    /// Input larger than [`Limits::max_input_bytes`](super::Limits::max_input_bytes).
    #[error("input too large: more than {max} bytes to scan")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// Nesting deeper than [`Limits::max_depth`](super::Limits::max_depth).
    #[error("input nested too deeply: more than {max} levels at {pointer:?}")]
    TooDeep {
        /// The limit.
        max: usize,
        /// Where the limit was crossed.
        pointer: String,
    },
    /// The text is not valid JSON.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
}

/// Options for one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanOptions {
    /// Report every finding regardless of rule thresholds (the JSONL contract
    /// and the Rule Tester use this).
    pub all_findings: bool,
}

impl ScanOptions {
    /// Apply each rule's threshold (the default).
    pub const THRESHOLDED: ScanOptions = ScanOptions {
        all_findings: false,
    };
    /// Every finding with its score.
    pub const ALL: ScanOptions = ScanOptions { all_findings: true };
}

#[derive(Clone, Copy, PartialEq)]
enum Rule {
    Entity(Entity),
    Custom(usize),
}

#[derive(Clone, Copy)]
struct Cand {
    rule: Rule,
    start: usize,
    end: usize,
    score: f32,
}

/// Where a scanned string sits.
#[derive(Clone, Copy)]
pub(crate) struct Field<'a> {
    pub pointer: Option<&'a str>,
    pub in_key: bool,
    /// The member key giving context to a value (none for keys themselves).
    pub key: Option<&'a str>,
}

impl Field<'_> {
    pub(crate) const TEXT: Field<'static> = Field {
        pointer: None,
        in_key: false,
        key: None,
    };
}

impl CompiledRules {
    /// Scan plain text, applying each rule's threshold. Findings are ordered by
    /// start offset.
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// let text = "SSN 536-22-8745, card 4111 1111 1111 1111";
    /// let labels: Vec<_> = rules.scan_text(text).into_iter().map(|f| f.label).collect();
    /// assert_eq!(labels, ["US_SSN", "CREDIT_CARD"]);
    /// ```
    pub fn scan_text(&self, text: &str) -> Vec<Finding> {
        self.scan_text_with(text, ScanOptions::THRESHOLDED)
    }

    /// Scan plain text and report every finding with its score (no thresholds).
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// // A bare 9-digit number is only weakly an SSN without context.
    /// assert!(rules.scan_text("ref 536228745").is_empty());
    /// assert!(rules.scan_text_all("ref 536228745").iter().any(|f| f.label == "US_SSN"));
    /// ```
    pub fn scan_text_all(&self, text: &str) -> Vec<Finding> {
        self.scan_text_with(text, ScanOptions::ALL)
    }

    /// Scan plain text with options (no size limit: see [`Self::scan_text_checked`]).
    pub fn scan_text_with(&self, text: &str, opts: ScanOptions) -> Vec<Finding> {
        let mut out = Vec::new();
        self.scan_field(text, Field::TEXT, opts, &mut out, &mut WordMemo::default());
        out
    }

    /// Scan plain text after checking it against the size limit.
    ///
    /// # Errors
    /// [`ScanError::TooLarge`] when the text exceeds [`Limits::max_input_bytes`](super::Limits::max_input_bytes).
    pub fn scan_text_checked(
        &self,
        text: &str,
        opts: ScanOptions,
    ) -> Result<Vec<Finding>, ScanError> {
        if text.len() > self.limits.max_input_bytes {
            return Err(ScanError::TooLarge {
                max: self.limits.max_input_bytes,
            });
        }
        Ok(self.scan_text_with(text, opts))
    }

    /// Scan every string, number and object key of a JSON value, at any depth,
    /// applying thresholds.
    ///
    /// # Errors
    /// [`ScanError::TooLarge`] / [`ScanError::TooDeep`] past the [`Limits`](super::Limits).
    ///
    /// ```
    /// use shared::detect::{CompiledRules, RuleSet};
    /// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
    /// let doc = serde_json::json!({"user": {"ssn": "536-22-8745", "a/b": 4111111111111111u64}});
    /// let found = rules.scan_json(&doc).unwrap();
    /// assert_eq!(found[0].pointer.as_deref(), Some("/user/ssn"));
    /// assert_eq!(found[1].pointer.as_deref(), Some("/user/a~1b"));
    /// assert_eq!(found[1].label, "CREDIT_CARD");
    /// ```
    pub fn scan_json(&self, value: &Value) -> Result<Vec<Finding>, ScanError> {
        self.scan_json_with(value, ScanOptions::THRESHOLDED)
    }

    /// [`Self::scan_json`] without thresholds.
    ///
    /// # Errors
    /// As [`Self::scan_json`].
    pub fn scan_json_all(&self, value: &Value) -> Result<Vec<Finding>, ScanError> {
        self.scan_json_with(value, ScanOptions::ALL)
    }

    /// Scan a JSON value with options.
    ///
    /// # Errors
    /// As [`Self::scan_json`].
    pub fn scan_json_with(
        &self,
        value: &Value,
        opts: ScanOptions,
    ) -> Result<Vec<Finding>, ScanError> {
        let mut w = ValueWalk {
            rules: self,
            opts,
            out: Vec::new(),
            // Room for a typical pointer, so the walk does not regrow it.
            path: String::with_capacity(64),
            budget: self.limits.max_input_bytes,
            memo: ScanMemo::default(),
        };
        w.walk(value, None, 0)?;
        Ok(w.out)
    }

    /// [`Self::scan_field`] for one string of a JSON walk, skipping a short
    /// string the same walk already scanned clean (see [`ScanMemo`]).
    pub(crate) fn scan_walked_field(
        &self,
        s: &str,
        field: Field<'_>,
        opts: ScanOptions,
        out: &mut Vec<Finding>,
        memo: &mut ScanMemo,
    ) {
        if memo.fields.get(field.key, s).is_some() {
            return;
        }
        if !self.scan_field(s, field, opts, out, &mut memo.words) {
            memo.fields.put(field.key, s, ());
        }
    }

    /// Scan one string in place; pushes findings in start order. False when
    /// no rule offered any candidate (whatever the thresholds).
    pub(crate) fn scan_field(
        &self,
        s: &str,
        field: Field<'_>,
        opts: ScanOptions,
        out: &mut Vec<Finding>,
        words: &mut WordMemo,
    ) -> bool {
        if s.is_empty() {
            return false;
        }
        let hits = Scanner::new(self, s, field.key, words).run();
        let mut cands: Vec<Cand> = hits
            .iter()
            .map(|h: &Hit| Cand {
                rule: Rule::Entity(h.entity),
                start: h.start,
                end: h.end,
                score: h.score,
            })
            .collect();
        for (i, c) in self.custom.iter().enumerate() {
            for m in c.regex.find_iter(s) {
                if m.start() < m.end() {
                    cands.push(Cand {
                        rule: Rule::Custom(i),
                        start: m.start(),
                        end: m.end(),
                        score: c.score,
                    });
                }
            }
        }
        if cands.is_empty() {
            return false;
        }
        let mut key_words: Vec<&str> = Vec::new();
        if let Some(k) = field.key {
            context::for_each_word(k, |w| key_words.push(w));
        }
        let mut scored: Vec<(Cand, Vec<String>)> = Vec::with_capacity(cands.len());
        // Neighbouring words of each candidate, in buffers reused across candidates.
        let (mut before, mut after): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for c in cands {
            let phrases: &ContextSet = match c.rule {
                Rule::Entity(e) => self
                    .entities
                    .get(e.index())
                    .map_or(&NO_CONTEXT, |r| &r.context),
                Rule::Custom(i) => self.custom.get(i).map_or(&NO_CONTEXT, |r| &r.context),
            };
            let mut ctx = Vec::new();
            if !phrases.is_empty() {
                context::words_before_into(s, c.start, CONTEXT_WINDOW, &mut before);
                context::words_after_into(s, c.end, CONTEXT_WINDOW, &mut after);
                context::matched(phrases, &before, &mut ctx);
                context::matched(phrases, &after, &mut ctx);
                context::matched(phrases, &key_words, &mut ctx);
            }
            let score = if ctx.is_empty() {
                c.score
            } else {
                context::context_score(c.score)
            };
            scored.push((Cand { score, ..c }, ctx));
        }
        suppress_contained(&mut scored);
        scored.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
        for (c, ctx) in scored {
            let (rule, label, threshold) = match c.rule {
                Rule::Entity(e) => (
                    RuleRef::Entity(e),
                    e.as_str().to_owned(),
                    self.entities.get(e.index()).map_or(1.0, |r| r.threshold),
                ),
                Rule::Custom(i) => match self.custom.get(i) {
                    Some(r) => (RuleRef::Custom(r.id.clone()), r.label.clone(), r.threshold),
                    None => continue,
                },
            };
            if !opts.all_findings && c.score < threshold {
                continue;
            }
            out.push(Finding {
                rule,
                label,
                pointer: field.pointer.map(str::to_owned),
                in_key: field.in_key,
                start: c.start,
                end: c.end,
                score: c.score,
                context: ctx,
            });
        }
        true
    }
}

fn injection(c: &Cand) -> bool {
    matches!(c.rule, Rule::Entity(e) if e.is_injection())
}

/// How many candidates on each side [`suppress_contained`] compares.
const NEIGHBOURS: usize = 64;

/// Drop a built-in candidate that lies inside another built-in candidate
/// which outranks it (higher score, then longer, then catalogue order):
/// an IP inside a URL, a weak bank number under a formatted SSN, a city
/// inside a person's name. Custom rules are never dropped.
fn suppress_contained(c: &mut Vec<(Cand, Vec<String>)>) {
    if c.len() < 2 {
        return;
    }
    c.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
    let rank = |x: &Cand| -> (f32, usize, usize) {
        let order = match x.rule {
            Rule::Entity(e) => usize::MAX - e.index(),
            Rule::Custom(_) => 0,
        };
        (x.score, x.end - x.start, order)
    };
    let outranks = |a: &Cand, b: &Cand| {
        let (ra, rb) = (rank(a), rank(b));
        ra.0 > rb.0 || (ra.0 == rb.0 && (ra.1, ra.2) > (rb.1, rb.2))
    };
    let mut drop = vec![false; c.len()];
    // Overlap clusters are small (detectors emit a bounded number of
    // candidates per position), so pairwise checks inside a cluster stay cheap.
    let mut i = 0;
    while i < c.len() {
        let mut j = i + 1;
        let mut cluster_end = c[i].0.end;
        while j < c.len() && c[j].0.start < cluster_end {
            cluster_end = cluster_end.max(c[j].0.end);
            j += 1;
        }
        for a in i..j {
            if matches!(c[a].0.rule, Rule::Custom(_)) {
                continue;
            }
            // A hostile text can chain overlapping candidates into one long
            // cluster: look only at the neighbours that can plausibly
            // contain this one, so the work stays linear. A containing
            // candidate further away is missed, which keeps a duplicate
            // finding rather than dropping one.
            for b in a.saturating_sub(NEIGHBOURS).max(i)..(a + NEIGHBOURS).min(j) {
                if a == b || matches!(c[b].0.rule, Rule::Custom(_)) {
                    continue;
                }
                let (x, y) = (&c[a].0, &c[b].0);
                // An instruction (prompt injection) and a value (an e-mail
                // in it) are different questions, and so are two kinds of
                // instruction (each has its own rule): only duplicates of
                // one sub-kind collapse.
                if (injection(x) || injection(y)) && x.rule != y.rule {
                    continue;
                }
                let inside = y.start <= x.start && x.end <= y.end;
                // Same-span duplicates of the same entity also collapse.
                if inside && outranks(y, x) {
                    drop[a] = true;
                    break;
                }
            }
        }
        i = j;
    }
    let mut k = 0;
    c.retain(|_| {
        let keep = !drop[k];
        k += 1;
        keep
    });
}

/// The context of a rule that has none (an index past the rule lists).
static NO_CONTEXT: ContextSet = ContextSet::EMPTY;

struct ValueWalk<'a> {
    rules: &'a CompiledRules,
    opts: ScanOptions,
    out: Vec<Finding>,
    path: String,
    budget: usize,
    memo: ScanMemo,
}

impl ValueWalk<'_> {
    fn spend(&mut self, n: usize) -> Result<(), ScanError> {
        self.budget = self.budget.checked_sub(n).ok_or(ScanError::TooLarge {
            max: self.rules.limits.max_input_bytes,
        })?;
        Ok(())
    }

    fn walk(&mut self, v: &Value, key: Option<&str>, depth: usize) -> Result<(), ScanError> {
        match v {
            Value::String(s) => {
                self.spend(s.len())?;
                let field = Field {
                    pointer: Some(&self.path),
                    in_key: false,
                    key,
                };
                self.rules
                    .scan_walked_field(s, field, self.opts, &mut self.out, &mut self.memo);
            }
            Value::Number(n) => {
                // Integers under a million (counts, ids, ports, prices in cents)
                // cannot match any detector: every numeric one needs 7+ digits.
                if self.rules.custom.is_empty() && n.as_u64().is_some_and(|u| u < 1_000_000)
                    || n.as_i64().is_some_and(|i| i > -1_000_000 && i < 0)
                {
                    self.spend(6)?;
                    return Ok(());
                }
                let s = n.to_string();
                self.spend(s.len())?;
                let field = Field {
                    pointer: Some(&self.path),
                    in_key: false,
                    key,
                };
                self.rules
                    .scan_walked_field(&s, field, self.opts, &mut self.out, &mut self.memo);
            }
            Value::Array(items) => {
                self.enter(depth)?;
                for (i, item) in items.iter().enumerate() {
                    let len = self.path.len();
                    self.path.push('/');
                    push_index(&mut self.path, i);
                    // Array items inherit the key that holds the array ("emails": [...]).
                    self.walk(item, key, depth + 1)?;
                    self.path.truncate(len);
                }
            }
            Value::Object(map) => {
                self.enter(depth)?;
                for (k, item) in map {
                    let len = self.path.len();
                    self.path.push('/');
                    push_escaped(&mut self.path, k);
                    self.spend(k.len())?;
                    let field = Field {
                        pointer: Some(&self.path),
                        in_key: true,
                        key: None,
                    };
                    self.rules.scan_walked_field(
                        k,
                        field,
                        self.opts,
                        &mut self.out,
                        &mut self.memo,
                    );
                    self.walk(item, Some(k), depth + 1)?;
                    self.path.truncate(len);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
        Ok(())
    }

    fn enter(&self, depth: usize) -> Result<(), ScanError> {
        if depth >= self.rules.limits.max_depth {
            return Err(ScanError::TooDeep {
                max: self.rules.limits.max_depth,
                pointer: self.path.clone(),
            });
        }
        Ok(())
    }
}

/// Append an array index in decimal. Written by hand: `to_string` allocated
/// per array item, and `write!` spent more in the formatting machinery than
/// the walk spent on the item (callgrind).
pub(crate) fn push_index(path: &mut String, mut i: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        path.push(char::from(d));
    }
}

/// Append an RFC 6901 reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn push_escaped(path: &mut String, key: &str) {
    if !key.contains(['~', '/']) {
        path.push_str(key);
        return;
    }
    for ch in key.chars() {
        match ch {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn indexes_are_written_in_decimal() {
        for i in [0usize, 7, 10, 99, 1234, usize::MAX] {
            let mut p = String::from("/a/");
            super::push_index(&mut p, i);
            assert_eq!(p, format!("/a/{i}"));
        }
    }
    use super::*;
    use crate::detect::{CustomRule, Limits, RuleSet};

    fn rules() -> CompiledRules {
        CompiledRules::compile(&RuleSet::default()).unwrap()
    }

    #[test]
    fn pointers_escape_and_keys_are_scanned() {
        let doc = serde_json::json!({
            "a~b": {"x/y": ["ok", "mail me at a@example.com"]},
            "jane@example.com": true,
            "s": "plain"
        });
        let f = rules().scan_json(&doc).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].pointer.as_deref(), Some("/a~0b/x~1y/1"));
        assert_eq!(f[0].start, 11);
        assert_eq!(f[1].pointer.as_deref(), Some("/jane@example.com"));
        assert!(f[1].in_key);
        let top = rules()
            .scan_json(&serde_json::json!("x a@example.com"))
            .unwrap();
        assert_eq!(top[0].pointer.as_deref(), Some(""));
    }

    #[test]
    fn numbers_are_scanned() {
        let doc = serde_json::json!({"card": 4111111111111111u64, "n": 3});
        let f = rules().scan_json(&doc).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].label, "CREDIT_CARD");
        assert_eq!((f[0].start, f[0].end), (0, 16));
    }

    #[test]
    fn small_numbers_still_reach_custom_rules() {
        let mut set = RuleSet::default();
        set.custom_rules.push(CustomRule {
            id: "code".into(),
            name: "Code".into(),
            label: "CODE".into(),
            pattern: r"^4\d\d$".into(),
            score: 0.9,
            context: vec![],
            enabled: true,
            threshold: 0.5,
        });
        let r = CompiledRules::compile(&set).unwrap();
        let doc = serde_json::json!({"status": 404, "n": 12});
        let f = r.scan_json(&doc).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].pointer.as_deref(), Some("/status"));
        let raw = r
            .scan_json_str(&doc.to_string(), ScanOptions::THRESHOLDED)
            .unwrap();
        assert_eq!(raw, f);
    }

    /// A walk remembers short strings it found clean; every occurrence of a
    /// string with a finding is still reported, and the same text under a
    /// key that gives it context is judged again.
    #[test]
    fn repeated_fields_are_all_reported() {
        let mut items: Vec<Value> = (0..40)
            .map(|i| serde_json::json!({"id": i, "kind": "note", "ref": "536228745", "to": "a@example.com"}))
            .collect();
        items.push(serde_json::json!({"kind": "note", "ssn": "536228745"}));
        let doc = Value::Array(items);
        let f = rules().scan_json(&doc).unwrap();
        let emails = f.iter().filter(|f| f.label == "EMAIL_ADDRESS").count();
        assert_eq!(emails, 40);
        let ssn: Vec<_> = f.iter().filter(|f| f.label == "US_SSN").collect();
        assert_eq!(ssn.len(), 1);
        assert_eq!(ssn[0].pointer.as_deref(), Some("/40/ssn"));
        let raw = rules()
            .scan_json_str(&doc.to_string(), ScanOptions::THRESHOLDED)
            .unwrap();
        assert_eq!(raw, f);
    }

    #[test]
    fn key_gives_context() {
        let with_key = rules()
            .scan_json(&serde_json::json!({"ssn": "536228745"}))
            .unwrap();
        assert_eq!(with_key.len(), 1);
        assert_eq!(with_key[0].label, "US_SSN");
        assert_eq!(with_key[0].context, ["ssn"]);
        let without = rules()
            .scan_json(&serde_json::json!({"ref": "536228745"}))
            .unwrap();
        assert!(without.is_empty(), "{without:?}");
    }

    #[test]
    fn context_before_or_after_whole_words() {
        let r = rules();
        assert!(
            r.scan_text("536228745 is my ssn")
                .iter()
                .any(|f| f.label == "US_SSN")
        );
        assert!(
            r.scan_text("ssn: 536228745")
                .iter()
                .any(|f| f.label == "US_SSN")
        );
        // "ssn" as a substring of another word is not context.
        assert!(
            !r.scan_text("assnx 536228745")
                .iter()
                .any(|f| f.label == "US_SSN")
        );
    }

    #[test]
    fn limits() {
        let r = rules().with_limits(Limits {
            max_input_bytes: 10,
            max_depth: 3,
        });
        assert!(matches!(
            r.scan_json(&serde_json::json!({"a": "0123456789abc"})),
            Err(ScanError::TooLarge { .. })
        ));
        assert!(matches!(
            r.scan_json(&serde_json::json!([[[["x"]]]])),
            Err(ScanError::TooDeep { .. })
        ));
        assert!(r.scan_json(&serde_json::json!([[["x"]]])).is_ok());
        assert!(
            r.scan_text_checked("01234567890", ScanOptions::ALL)
                .is_err()
        );
        let msg = r
            .scan_json(&serde_json::json!([[[["x"]]]]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nested too deeply"), "{msg}");
    }

    #[test]
    fn custom_rules_and_their_context() {
        let mut set = RuleSet::default();
        set.custom_rules.push(CustomRule {
            id: "emp".into(),
            name: "Employee".into(),
            label: "EMPLOYEE_ID".into(),
            pattern: r"EMP-\d{4}".into(),
            score: 0.3,
            context: vec!["employee".into()],
            enabled: true,
            threshold: 0.5,
        });
        let r = CompiledRules::compile(&set).unwrap();
        assert!(r.scan_text("id EMP-1234").is_empty());
        let f = r.scan_text("employee EMP-1234");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RuleRef::Custom("emp".into()));
        assert_eq!(f[0].label, "EMPLOYEE_ID");
        assert_eq!(f[0].context, ["employee"]);
        assert!((f[0].score - 0.65).abs() < 1e-6);
    }

    #[test]
    fn custom_rules_in_json_values() {
        let mut set = RuleSet::default();
        set.custom_rules.push(CustomRule {
            id: "00000000-0000-0000-0000-000000000007".into(),
            name: "Employee".into(),
            label: "EMPLOYEE_ID".into(),
            pattern: r"EMP-\d{6}".into(),
            score: 0.9,
            context: vec![],
            enabled: true,
            threshold: 0.5,
        });
        let r = CompiledRules::compile(&set).unwrap();
        let f = r
            .scan_json(&serde_json::json!({"q": "who is EMP-123456"}))
            .unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].rule,
            RuleRef::Custom("00000000-0000-0000-0000-000000000007".into())
        );
        assert_eq!(f[0].pointer.as_deref(), Some("/q"));
        assert_eq!((f[0].start, f[0].end), (7, 17));
    }

    #[test]
    fn findings_serde_round_trip() {
        let f = rules().scan_text("a@example.com");
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            json.contains(r#""rule":{"entity":"EMAIL_ADDRESS"}"#),
            "{json}"
        );
        let back: Vec<Finding> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }
}
