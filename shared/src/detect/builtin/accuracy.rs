//! Accuracy gates: `cargo test` fails when the engine's accuracy drops on
//! either labelled corpus, so a change that helps one case but costs others
//! shows up before review. The scoring is the `accuracy` bench's own
//! (`benches/corpus/eval.rs`), at the default threshold 0.5 with every region
//! on.
//!
//! - Our own corpus (`shared/benches/corpus/corpus.jsonl`): run the bench with
//!   `-- --errors` to see each miss and false alarm.
//! - The held-out third-party set (`benches/corpus/thirdparty/`, Microsoft
//!   presidio-research's synthetic sentences): floors per entity, set a little
//!   under the measured figures. Its errors are not printed anywhere: the set
//!   stays out of the tuning loop, so it keeps measuring text we did not write.
//! - The held-out tool-call sets (`benches/corpus/unseen/`, values from the
//!   Mimesis fake-data library; the second scored blind): floors per
//!   entity, likewise.

#[path = "../../../benches/corpus/eval.rs"]
mod eval;

use std::collections::BTreeMap;

use eval::{Counts, Pred, Record, parse_corpus, report, score};

use crate::detect::{CompiledRules, RuleSet};

/// Micro F1 over all entities must stay at or above this (1.000 when set).
const MIN_MICRO_F1: f64 = 0.98;
/// And each entity's F1 (lowest when set: PERSON, 0.997).
const MIN_ENTITY_F1: f64 = 0.90;
const THRESHOLD: f32 = 0.5;

/// Third-party set: micro F1 floor (0.806 when set; Presidio 2.2.366 with
/// spaCy scores 0.647 on it).
const THIRDPARTY_MIN_MICRO_F1: f64 = 0.78;
/// Third-party set: F1 floors of the entities with 20 or more labels
/// (measured when set: CREDIT_CARD 0.966, DATE_TIME 0.773, EMAIL 1.0, IBAN
/// 0.976, LOCATION 0.745, NRP 0.705, PERSON 0.786, PHONE_NUMBER 0.885).
const THIRDPARTY_MIN_ENTITY_F1: &[(&str, f64)] = &[
    ("CREDIT_CARD", 0.94),
    ("DATE_TIME", 0.75),
    ("EMAIL_ADDRESS", 0.98),
    ("IBAN_CODE", 0.95),
    ("LOCATION", 0.72),
    ("NRP", 0.68),
    ("PERSON", 0.76),
    ("PHONE_NUMBER", 0.86),
];

/// Held-out tool-call set (values from Mimesis): micro F1 floor (0.946 when
/// set; 0.804 when first scored, before member keys gave context, caseless
/// scripts were read and log levels stopped reading as places).
const UNSEEN_MIN_MICRO_F1: f64 = 0.93;
/// Held-out tool-call set: F1 floors of every entity it labels (measured when
/// set: CREDIT_CARD, EMAIL, IP, URL 1.0, DATE_TIME 0.996, PHONE_NUMBER
/// 0.966, LOCATION 0.908, NRP 0.904, PERSON 0.885).
const UNSEEN_MIN_ENTITY_F1: &[(&str, f64)] = &[
    ("CREDIT_CARD", 0.98),
    ("DATE_TIME", 0.97),
    ("EMAIL_ADDRESS", 0.98),
    ("IP_ADDRESS", 0.98),
    ("LOCATION", 0.88),
    ("NRP", 0.87),
    ("PERSON", 0.86),
    ("PHONE_NUMBER", 0.94),
    ("URL", 0.98),
];

/// Second held-out tool-call set, written after the first was used to guide
/// changes and scored blind (0.857; 0.865 after coordinates stopped reading
/// as phone numbers and lower-case dictionary words as towns): micro F1 floor.
const UNSEEN_B_MIN_MICRO_F1: f64 = 0.84;
/// Its F1 floors (measured when set: CREDIT_CARD, EMAIL, IP 1.0, DATE_TIME
/// 0.986, PHONE_NUMBER 0.928, PERSON 0.840, LOCATION 0.779, NRP 0.078 — a
/// nationality in prose, in the locale's language, is mostly missed).
const UNSEEN_B_MIN_ENTITY_F1: &[(&str, f64)] = &[
    ("CREDIT_CARD", 0.98),
    ("DATE_TIME", 0.96),
    ("EMAIL_ADDRESS", 0.98),
    ("IP_ADDRESS", 0.98),
    ("LOCATION", 0.75),
    ("PERSON", 0.82),
    ("PHONE_NUMBER", 0.90),
];

/// Per-entity counts at [`THRESHOLD`]; with `show_errors`, prints each miss
/// and false alarm (captured output, shown only when a test fails).
fn evaluate(records: &[Record], show_errors: bool) -> BTreeMap<String, Counts> {
    let rules = CompiledRules::compile(&RuleSet::all_regions()).expect("all regions compile");
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for r in records {
        let preds: Vec<Pred> = rules
            .scan_document_all(&r.text)
            .unwrap_or_default()
            .iter()
            .filter(|f| f.score >= THRESHOLD)
            .map(|f| Pred::new(&r.text, f.start, f.end, &f.label, f.score))
            .collect();
        let errors = show_errors.then_some((r.id.as_str(), r.text.as_str()));
        score(r, &preds.iter().collect::<Vec<_>>(), &mut counts, errors);
    }
    counts
}

fn records(data: &str) -> Vec<Record> {
    let records = parse_corpus(data);
    let lines = data.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(records.len(), lines, "every corpus line is a record");
    records
}

#[test]
fn corpus_accuracy() {
    let records = records(include_str!("../../../benches/corpus/corpus.jsonl"));
    let counts = evaluate(&records, false);
    let (table, micro) = report(
        &format!("threshold {THRESHOLD}, all regions"),
        &counts,
        &|_| false,
    );
    let low: Vec<&str> = counts
        .iter()
        .filter(|(_, c)| c.prf().2 < MIN_ENTITY_F1)
        .map(|(e, _)| e.as_str())
        .collect();
    let pass = micro >= MIN_MICRO_F1 && low.is_empty();
    if !pass {
        evaluate(&records, true);
    }
    assert!(
        pass,
        "accuracy gate: micro F1 {micro:.3} (min {MIN_MICRO_F1}), entities under F1 \
         {MIN_ENTITY_F1}: {low:?}\n{table}"
    );
}

/// A held-out set against its floors; prints no record.
fn held_out_gate(name: &str, data: &str, min_micro: f64, floors: &[(&str, f64)]) {
    let records = records(data);
    let counts = evaluate(&records, false);
    let (table, micro) = report(
        &format!("{name}, threshold {THRESHOLD}, all regions"),
        &counts,
        &|_| false,
    );
    let low: Vec<String> = floors
        .iter()
        .filter_map(|&(e, min)| {
            let f = counts.get(e).map_or(0.0, |c| c.prf().2);
            (f < min).then(|| format!("{e} {f:.3} < {min}"))
        })
        .collect();
    assert!(
        micro >= min_micro && low.is_empty(),
        "{name} accuracy gate: micro F1 {micro:.3} (min {min_micro}); \
         under their floor: {low:?}\n{table}"
    );
}

#[test]
fn thirdparty_accuracy() {
    held_out_gate(
        "third-party set",
        include_str!("../../../benches/corpus/thirdparty/presidio_synth_v2.jsonl"),
        THIRDPARTY_MIN_MICRO_F1,
        THIRDPARTY_MIN_ENTITY_F1,
    );
}

#[test]
fn unseen_toolcall_accuracy() {
    held_out_gate(
        "held-out tool-call set",
        include_str!("../../../benches/corpus/unseen/toolcalls_mimesis.jsonl"),
        UNSEEN_MIN_MICRO_F1,
        UNSEEN_MIN_ENTITY_F1,
    );
}

#[test]
fn unseen_toolcall_b_accuracy() {
    held_out_gate(
        "second held-out tool-call set",
        include_str!("../../../benches/corpus/unseen/toolcalls_mimesis_b.jsonl"),
        UNSEEN_B_MIN_MICRO_F1,
        UNSEEN_B_MIN_ENTITY_F1,
    );
}
