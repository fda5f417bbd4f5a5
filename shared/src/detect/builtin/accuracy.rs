//! Accuracy gate: `cargo test` fails when the engine's accuracy on the
//! labelled corpus (`shared/benches/corpus/corpus.jsonl`) drops, so a change
//! that helps one case but costs others shows up before review. The scoring
//! is the `accuracy` bench's own (`benches/corpus/eval.rs`), at the default
//! threshold 0.5 with every region on; run the bench with `-- --errors` to
//! see each miss and false alarm.

#[path = "../../../benches/corpus/eval.rs"]
mod eval;

use std::collections::BTreeMap;

use eval::{Counts, Pred, parse_corpus, report, score};

use crate::detect::{CompiledRules, RuleSet};

/// Micro F1 over all entities must stay at or above this (0.996 when set).
const MIN_MICRO_F1: f64 = 0.98;
/// And each entity's F1 (lowest when set: PERSON, 0.984).
const MIN_ENTITY_F1: f64 = 0.90;
const THRESHOLD: f32 = 0.5;

#[test]
fn corpus_accuracy() {
    let data = include_str!("../../../benches/corpus/corpus.jsonl");
    let records = parse_corpus(data);
    let lines = data.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(records.len(), lines, "every corpus line is a record");
    let rules = CompiledRules::compile(&RuleSet::all_regions()).expect("all regions compile");
    // With `show_errors`, prints each miss and false alarm (captured output,
    // shown only when the test fails).
    let evaluate = |show_errors: bool| {
        let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
        for r in &records {
            let preds: Vec<Pred> = rules
                .scan_text_all(&r.text)
                .iter()
                .filter(|f| f.score >= THRESHOLD)
                .map(|f| Pred::new(&r.text, f.start, f.end, &f.label, f.score))
                .collect();
            let errors = show_errors.then_some((r.id.as_str(), r.text.as_str()));
            score(r, &preds.iter().collect::<Vec<_>>(), &mut counts, errors);
        }
        counts
    };
    let counts = evaluate(false);
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
        evaluate(true);
    }
    assert!(
        pass,
        "accuracy gate: micro F1 {micro:.3} (min {MIN_MICRO_F1}), entities under F1 \
         {MIN_ENTITY_F1}: {low:?}\n{table}"
    );
}
