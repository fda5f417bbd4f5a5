//! Redaction and redacted evidence snippets.

use std::collections::HashMap;

use serde_json::Value;

use super::scan::{Finding, push_escaped};

/// Pick non-overlapping findings: highest score first, then the longest, then
/// the earliest, then by label, so the outcome never depends on input order.
/// Returned in start order.
pub(crate) fn resolve<'f>(fs: &[&'f Finding]) -> Vec<&'f Finding> {
    let mut order: Vec<&Finding> = fs.to_vec();
    order.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(a.label.cmp(&b.label))
    });
    let mut taken: Vec<&Finding> = Vec::new();
    for f in order {
        if taken.iter().all(|t| f.end <= t.start || f.start >= t.end) {
            taken.push(f);
        }
    }
    taken.sort_by_key(|f| f.start);
    taken
}

/// Spans to replace: overlapping findings merged into one span (so no
/// part of any detected value survives between two placeholders), each
/// named after its best member in [`resolve`]'s order. In start order.
pub(crate) fn merge_spans<'f>(fs: &[&'f Finding]) -> Vec<(usize, usize, &'f Finding)> {
    let better = |a: &Finding, b: &Finding| {
        a.score
            .total_cmp(&b.score)
            .then((a.end - a.start).cmp(&(b.end - b.start)))
            .then(b.start.cmp(&a.start))
            .then(b.label.cmp(&a.label))
            .is_gt()
    };
    let mut order: Vec<&Finding> = fs.to_vec();
    order.sort_by_key(|f| (f.start, f.end));
    let mut merged: Vec<(usize, usize, &Finding)> = Vec::new();
    for f in order {
        match merged.last_mut() {
            Some(last) if f.start < last.1 => {
                last.1 = last.1.max(f.end);
                if better(f, last.2) {
                    last.2 = f;
                }
            }
            _ => merged.push((f.start, f.end, f)),
        }
    }
    merged
}

pub(crate) fn placeholder_for_number(fs: &[&Finding]) -> String {
    resolve(fs)
        .first()
        .map_or_else(|| "[REDACTED]".to_owned(), |f| f.placeholder())
}

fn usable<'f>(text: &str, fs: impl IntoIterator<Item = &'f Finding>) -> Vec<&'f Finding> {
    fs.into_iter()
        .filter(|f| {
            f.start < f.end
                && f.end <= text.len()
                && text.is_char_boundary(f.start)
                && text.is_char_boundary(f.end)
        })
        .collect()
}

/// Replace each finding's span with `[REDACTED:<LABEL>]`. Findings whose span
/// does not fit `text` are ignored; overlapping findings are merged into one
/// placeholder (named by the highest score, then the longest), so no part of
/// either value is left in clear.
///
/// ```
/// use shared::detect::{redact_text, CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let text = "reach me at jane@example.com or 415-555-2671";
/// let out = redact_text(text, &rules.scan_text(text));
/// assert_eq!(out, "reach me at [REDACTED:EMAIL_ADDRESS] or [REDACTED:PHONE_NUMBER]");
/// ```
pub fn redact_text(text: &str, findings: &[Finding]) -> String {
    let fs = usable(text, findings);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, f) in merge_spans(&fs) {
        out.push_str(&text[at..start]);
        out.push_str(&f.placeholder());
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Redact the given findings (matched by JSON Pointer and key flag) in a JSON
/// value. A number with a finding becomes the placeholder string; a key with a
/// finding is renamed (a clash with an existing key gets a `#2`, `#3` suffix).
///
/// ```
/// use shared::detect::{redact_json, CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let doc = serde_json::json!({"q": "ssn 536-22-8745", "n": 4111111111111111u64});
/// let out = redact_json(&doc, &rules.scan_json(&doc).unwrap());
/// assert_eq!(out, serde_json::json!({"q": "ssn [REDACTED:US_SSN]", "n": "[REDACTED:CREDIT_CARD]"}));
/// ```
pub fn redact_json(value: &Value, findings: &[Finding]) -> Value {
    let by = by_field(findings);
    let leaf = |v: &Value, path: &str| match (v, by.get(&(path, false))) {
        (Value::String(s), Some(fs)) => Value::String(redact_text(
            s,
            &fs.iter().map(|f| (*f).clone()).collect::<Vec<_>>(),
        )),
        (Value::Number(n), Some(fs)) => {
            let text = n.to_string();
            let ok = usable(&text, fs.iter().copied());
            if ok.is_empty() {
                v.clone()
            } else {
                Value::String(placeholder_for_number(&ok))
            }
        }
        _ => v.clone(),
    };
    rebuild(value, &by, &mut String::new(), &leaf)
}

type ByField<'f> = HashMap<(&'f str, bool), Vec<&'f Finding>>;

/// Rebuilds a document: `leaf` maps every string, number, boolean and null
/// (given its pointer); keys with findings are renamed (a clash with an
/// existing key gets a `#2`, `#3` suffix).
fn rebuild(
    v: &Value,
    by: &ByField<'_>,
    path: &mut String,
    leaf: &dyn Fn(&Value, &str) -> Value,
) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    let r = rebuild(item, by, path, leaf);
                    path.truncate(len);
                    r
                })
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, item) in map {
                let len = path.len();
                path.push('/');
                push_escaped(path, k);
                let new_item = rebuild(item, by, path, leaf);
                let mut new_key = match by.get(&(path.as_str(), true)) {
                    Some(fs) => {
                        redact_text(k, &fs.iter().map(|f| (*f).clone()).collect::<Vec<_>>())
                    }
                    None => k.clone(),
                };
                path.truncate(len);
                if out.contains_key(&new_key) {
                    let base = new_key.clone();
                    let mut n = 2;
                    while out.contains_key(&new_key) {
                        new_key = format!("{base}#{n}");
                        n += 1;
                    }
                }
                out.insert(new_key, new_item);
            }
            Value::Object(out)
        }
        other => leaf(other, path),
    }
}

fn by_field(findings: &[Finding]) -> ByField<'_> {
    let mut by: ByField<'_> = HashMap::new();
    for f in findings {
        if let Some(p) = f.pointer.as_deref() {
            by.entry((p, f.in_key)).or_default().push(f);
        }
    }
    by
}

/// A JSON Pointer with every object-key segment that holds a finding
/// replaced as [`redact_json`] renames that key, so a pointer can be
/// stored, logged or shown without the value a key carried (`{"jane@x.com":
/// 1}` is a real shape for a map keyed by e-mail).
///
/// ```
/// use shared::detect::{redact_pointer, CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let doc = serde_json::json!({"by_email": {"jane@example.com": {"note": "ssn 536-22-8745"}}});
/// let found = rules.scan_json(&doc).unwrap();
/// let ssn = found.iter().find(|f| f.label == "US_SSN").unwrap();
/// assert_eq!(
///     redact_pointer(ssn.pointer.as_deref().unwrap(), &found),
///     "/by_email/[REDACTED:EMAIL_ADDRESS]/note"
/// );
/// ```
pub fn redact_pointer(pointer: &str, findings: &[Finding]) -> String {
    let keyed: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.in_key && f.pointer.is_some())
        .collect();
    if keyed.is_empty() || pointer.is_empty() {
        return pointer.to_owned();
    }
    let mut out = String::with_capacity(pointer.len());
    // `prefix` is the raw pointer up to and including the current segment:
    // what a key finding's pointer names.
    let mut prefix_len = 0;
    for segment in pointer.split('/').skip(1) {
        prefix_len += 1 + segment.len();
        let prefix = &pointer[..prefix_len];
        let here: Vec<Finding> = keyed
            .iter()
            .filter(|f| f.pointer.as_deref() == Some(prefix))
            .map(|f| (*f).clone())
            .collect();
        out.push('/');
        if here.is_empty() {
            out.push_str(segment);
        } else {
            let key = segment.replace("~1", "/").replace("~0", "~");
            push_escaped(&mut out, &redact_text(&key, &here));
        }
    }
    out
}

/// The *shape* of a JSON document, for storing a call's arguments without
/// their values: every string becomes `<string, N chars>`, every number
/// `<number>`, every boolean `<boolean>`; a string or number with findings
/// becomes its placeholders only (`[REDACTED:EMAIL_ADDRESS]`), and keys with
/// findings are renamed as [`redact_json`] does. Values the rules did not
/// flag (below a threshold, a disabled entity) are never kept.
///
/// ```
/// use shared::detect::{argument_shape, CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let doc = serde_json::json!({"to": "mail jane@example.com", "limit": 5, "dry": true, "note": "hi"});
/// let shape = argument_shape(&doc, &rules.scan_json(&doc).unwrap());
/// assert_eq!(shape, serde_json::json!({
///     "to": "[REDACTED:EMAIL_ADDRESS]", "limit": "<number>", "dry": "<boolean>", "note": "<string, 2 chars>"
/// }));
/// ```
pub fn argument_shape(value: &Value, findings: &[Finding]) -> Value {
    let by = by_field(findings);
    let found =
        |path: &str, text: &str| by.get(&(path, false)).and_then(|fs| placeholders(text, fs));
    let leaf = |v: &Value, path: &str| match v {
        Value::String(s) => Value::String(
            found(path, s).unwrap_or_else(|| format!("<string, {} chars>", s.chars().count())),
        ),
        Value::Number(n) => {
            Value::String(found(path, &n.to_string()).unwrap_or_else(|| "<number>".to_owned()))
        }
        Value::Bool(_) => Value::String("<boolean>".to_owned()),
        _ => Value::Null,
    };
    rebuild(value, &by, &mut String::new(), &leaf)
}

fn placeholders(text: &str, fs: &[&Finding]) -> Option<String> {
    let ok = usable(text, fs.iter().copied());
    let spans = merge_spans(&ok);
    (!spans.is_empty()).then(|| {
        spans
            .iter()
            .map(|(_, _, f)| f.placeholder())
            .collect::<Vec<_>>()
            .join(" … ")
    })
}

/// Characters of context kept on each side of a finding in a [`snippet`].
pub const SNIPPET_CONTEXT_CHARS: usize = 24;

/// Redacted evidence: about [`SNIPPET_CONTEXT_CHARS`] characters either side
/// of `finding` in `text` (the string it was found in), with the finding and
/// every other finding of the same field that touches the window replaced by
/// placeholders, cut on character boundaries with "…". Overlapping findings
/// are merged before replacing, so no part of a detected value survives.
///
/// ```
/// use shared::detect::{snippet, CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let text = "Please refund order 88 for customer jane@example.com, card 4111 1111 1111 1111 today.";
/// let found = rules.scan_text(text);
/// let s = snippet(text, &found[0], &found);
/// assert_eq!(s, "…d order 88 for customer [REDACTED:EMAIL_ADDRESS], card [REDACTED:CREDIT_CARD]…");
/// ```
pub fn snippet(text: &str, finding: &Finding, all: &[Finding]) -> String {
    let valid = |f: &Finding| f.start < f.end && f.end <= text.len();
    if !valid(finding) {
        return format!("[REDACTED:{}]", finding.label);
    }
    let floor = |mut i: usize| {
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let back = text[..floor(finding.start)]
        .char_indices()
        .rev()
        .nth(SNIPPET_CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let fwd_from = ceil(finding.end);
    let fwd = text[fwd_from..]
        .char_indices()
        .nth(SNIPPET_CONTEXT_CHARS)
        .map_or(text.len(), |(i, _)| fwd_from + i);
    let (mut ws, mut we) = (back, fwd);
    // Spans to hide: the finding and every same-field finding touching the window.
    let mut spans: Vec<(usize, usize, &Finding)> =
        vec![(floor(finding.start), ceil(finding.end), finding)];
    for f in all {
        if f.same_field(finding) && valid(f) && f.start < we && f.end > ws {
            spans.push((floor(f.start), ceil(f.end), f));
        }
    }
    spans.sort_by_key(|s| s.0);
    // Merge overlapping spans; the merged span takes the label of the target
    // finding if it is inside, else of its best-scoring member.
    let mut merged: Vec<(usize, usize, &Finding)> = Vec::new();
    for (s, e, f) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => {
                last.1 = last.1.max(e);
                let target_in = std::ptr::eq(last.2, finding);
                if !target_in && (std::ptr::eq(f, finding) || f.score > last.2.score) {
                    last.2 = f;
                }
            }
            _ => merged.push((s, e, f)),
        }
    }
    // A hidden span crossing the window edge widens the window so it is replaced whole.
    for (s, e, _) in &merged {
        if *s < ws && *e > ws {
            ws = *s;
        }
        if *s < we && *e > we {
            we = *e;
        }
    }
    let mut out = String::new();
    if ws > 0 {
        out.push('…');
    }
    let mut at = ws;
    for (s, e, f) in merged {
        if e <= ws || s >= we {
            continue;
        }
        out.push_str(&text[at..s.max(at)]);
        out.push_str(&f.placeholder());
        at = e.max(at);
    }
    if at < we {
        out.push_str(&text[at..we]);
    }
    if we < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{CompiledRules, Entity, RuleRef, RuleSet};

    fn f(label: &str, start: usize, end: usize, score: f32) -> Finding {
        Finding {
            rule: RuleRef::Entity(Entity::Person),
            label: label.into(),
            pointer: None,
            in_key: false,
            start,
            end,
            score,
            context: vec![],
        }
    }

    #[test]
    fn overlapping_findings_are_merged_so_nothing_stays_in_clear() {
        let text = "0123456789";
        let a = f("A", 0, 5, 0.6);
        let b = f("B", 3, 8, 0.9);
        // The union is hidden, named after the higher score (whatever the order).
        assert_eq!(redact_text(text, &[a.clone(), b.clone()]), "[REDACTED:B]89");
        assert_eq!(redact_text(text, &[b.clone(), a.clone()]), "[REDACTED:B]89");
        // A chain of overlaps is one span; touching spans stay two.
        let d = f("D", 7, 10, 0.5);
        assert_eq!(
            redact_text(text, &[a.clone(), b.clone(), d]),
            "[REDACTED:B]"
        );
        let e = f("E", 5, 7, 0.5);
        assert_eq!(
            redact_text(text, &[a.clone(), e]),
            "[REDACTED:A][REDACTED:E]789"
        );
        let c = f("C", 2, 9, 0.9);
        assert_eq!(redact_text(text, &[b, c]), "01[REDACTED:C]9");
        // Bad spans are ignored, not a panic.
        assert_eq!(
            redact_text("é", &[f("X", 1, 2, 1.0), f("Y", 0, 9, 1.0)]),
            "é"
        );
    }

    #[test]
    fn json_key_clash_and_numbers() {
        let doc = serde_json::json!({"a@example.com": 1, "b@example.com": 2, "x": [12.5]});
        let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
        let out = redact_json(&doc, &rules.scan_json(&doc).unwrap());
        assert_eq!(
            out,
            serde_json::json!({"[REDACTED:EMAIL_ADDRESS]": 1, "[REDACTED:EMAIL_ADDRESS]#2": 2, "x": [12.5]})
        );
    }

    #[test]
    fn snippet_never_leaks_values() {
        let rules = CompiledRules::compile(&RuleSet::all_regions()).unwrap();
        let texts = [
            "Customer John Smith (john.smith@example.com, +1 415-555-2671) paid with 4111 1111 1111 1111 on 2024-03-15.",
            "ssn 536-22-8745 ssn 536-22-8746 ssn 536-22-8747 ssn 536-22-8748 ssn 536-22-8749",
            "éééééééééééééééééééééééééééééé jane@example.com ééééééééééééééééééééééééééééééé",
            "AKIAIOSFODNN7EXAMPLE",
        ];
        for text in texts {
            let found = rules.scan_text(text);
            assert!(!found.is_empty(), "{text}");
            for target in &found {
                let s = snippet(text, target, &found);
                assert!(s.contains(&target.placeholder()), "{s}");
                for other in &found {
                    let raw = &text[other.start..other.end];
                    assert!(!s.contains(raw), "snippet {s:?} leaks {raw:?}");
                }
            }
        }
        // A finding partly outside the window is hidden whole.
        let text = format!(
            "{}SECRETVALUE{}TARGET{}",
            "x".repeat(30),
            "y".repeat(20),
            "z".repeat(30)
        );
        let target = f("T", 61, 67, 0.9);
        let other = f("O", 30, 41, 0.9);
        let s = snippet(&text, &target, &[target.clone(), other]);
        assert!(!s.contains("VALUE") && !s.contains("SECRET"), "{s}");
    }
}
