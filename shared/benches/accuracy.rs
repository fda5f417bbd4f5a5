//! Accuracy benchmark: per-entity precision / recall / F1 at thresholds 0 and
//! 0.5, every region on, on two labelled corpora: our own
//! (`benches/corpus/corpus.jsonl`, written here) and a held-out third-party
//! set (`benches/corpus/thirdparty/presidio_synth_v2.jsonl`, Microsoft
//! presidio-research's synthetic set, converted; see its `SOURCES.md`), and
//! a held-out tool-call set (`benches/corpus/unseen/toolcalls_mimesis.jsonl`:
//! tool-call shapes filled with values from the Mimesis fake-data library,
//! whose tables the engine never drew on; see `unseen/SOURCES.md`).
//!
//! Matching: a finding counts when it has the gold label's entity and its span
//! overlaps the gold span with intersection-over-union >= 0.5 (offsets in code
//! points); each gold span matches at most one finding. The rule is coded once,
//! in `benches/corpus/eval.rs`, which `cargo test` also uses to gate accuracy;
//! `benches/corpus/score.py` applies it to Presidio (or any JSONL predictions)
//! so the two can be compared side by side.
//!
//! Run: `cargo bench -p shared --bench accuracy` (add `-- --corpus own`,
//! `-- --corpus thirdparty` or `-- --corpus unseen` for one of them, `-- --write FILE` to write
//! predictions in the `gatehouse scan --jsonl` format to `FILE.<corpus>.jsonl`,
//! `-- --errors` to list misses and false alarms at 0.5 — on our own corpus
//! only: the held-out sets stay out of the tuning loop).

use std::collections::BTreeMap;

use shared::detect::{CompiledRules, RuleSet, ScanOptions};

// Shared with the accuracy gate in `cargo test`; see the file for why it is
// included rather than exported by the library.
#[path = "corpus/eval.rs"]
mod eval;

#[path = "corpus/kinds.rs"]
mod kinds;

use eval::{Counts, Pred, Record, parse_corpus, report, score};
use kinds::{Kinds, kinds, kinds_report};

/// The corpora, by name: our own (written here, used for tuning), the
/// held-out third-party prose set and the held-out tool-call set whose values
/// come from Mimesis (both evaluated on, never tuned on their errors).
const CORPORA: &[(&str, &str)] = &[
    (
        "own",
        concat!(env!("CARGO_MANIFEST_DIR"), "/benches/corpus/corpus.jsonl"),
    ),
    (
        "thirdparty",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/corpus/thirdparty/presidio_synth_v2.jsonl"
        ),
    ),
    (
        "unseen",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/corpus/unseen/toolcalls_mimesis.jsonl"
        ),
    ),
    (
        "unseen_b",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/corpus/unseen/toolcalls_mimesis_b.jsonl"
        ),
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let write = arg("--write");
    let only = arg("--corpus");
    let show_errors = args.iter().any(|a| a == "--errors");
    let Ok(rules) = CompiledRules::compile(&RuleSet::all_regions()) else {
        eprintln!("default rules did not compile");
        std::process::exit(1);
    };
    for (name, path) in CORPORA {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let Ok(data) = std::fs::read_to_string(path) else {
            eprintln!("cannot read {path}");
            std::process::exit(1);
        };
        println!("\n## corpus: {name} ({path})");
        // The held-out sets' errors are never listed.
        let errors = show_errors && *name == "own";
        let out = evaluate(&rules, &parse_corpus(&data), errors, write.is_some());
        if let Some(w) = &write
            && let Err(e) = std::fs::write(format!("{w}.{name}.jsonl"), out)
        {
            eprintln!("cannot write {w}: {e}");
        }
    }
}

/// Print the per-entity tables at thresholds 0 and 0.5; returns the
/// predictions as JSONL when `write` is set.
fn evaluate(rules: &CompiledRules, records: &[Record], show_errors: bool, write: bool) -> String {
    let mut out = String::new();
    let mut per_threshold: Vec<(f32, BTreeMap<String, Counts>)> =
        vec![(0.0, BTreeMap::new()), (0.5, BTreeMap::new())];
    let mut empty_records_flagged = [0usize; 2];
    let mut error_kinds: BTreeMap<String, Kinds> = BTreeMap::new();
    let mut false_by_field: BTreeMap<String, usize> = BTreeMap::new();
    let empty_records = records.iter().filter(|r| r.labels.is_empty()).count();
    for r in records {
        // As the gateway scans: JSON records through the JSON walk (member keys
        // give context), offsets into the record text either way.
        let found = rules
            .scan_document(&r.text, ScanOptions::ALL)
            .unwrap_or_default();
        // Byte offsets to code points.
        let preds: Vec<Pred> = found
            .iter()
            .map(|f| Pred::new(&r.text, f.start, f.end, &f.label, f.score))
            .collect();
        if write {
            let fs: Vec<_> = preds
                .iter()
                .map(|p| serde_json::json!({"start": p.start, "end": p.end, "entity": p.entity, "score": (f64::from(p.score) * 1e4).round() / 1e4}))
                .collect();
            out.push_str(&serde_json::json!({"id": r.id, "findings": fs}).to_string());
            out.push('\n');
        }
        for (k, (t, counts)) in per_threshold.iter_mut().enumerate() {
            let kept: Vec<&Pred> = preds.iter().filter(|p| p.score >= *t).collect();
            if r.labels.is_empty() && !r.scored(&kept).is_empty() {
                empty_records_flagged[k] += 1;
            }
            if *t == 0.5 {
                // False alarms by the JSON member that held them (a count
                // per field name, no record shown).
                for (entity, start, end) in kinds(r, &kept, &mut error_kinds) {
                    let key = found
                        .iter()
                        .zip(&preds)
                        .find(|(_, p)| p.entity == entity && p.start == start && p.end == end)
                        .and_then(|(f, _)| f.pointer.as_deref())
                        .and_then(|ptr| ptr.rsplit('/').find(|s| s.parse::<usize>().is_err()))
                        .unwrap_or("(text)")
                        .to_owned();
                    *false_by_field
                        .entry(format!("{entity} in {key}"))
                        .or_insert(0) += 1;
                }
            }
            let errors = (show_errors && *t == 0.5).then_some((r.id.as_str(), r.text.as_str()));
            score(r, &kept, counts, errors);
        }
    }
    let labels: usize = records.iter().map(|r| r.labels.len()).sum();
    println!(
        "{} records, {labels} labelled values, {empty_records} records without PII",
        records.len()
    );
    let secret = |e: &str| {
        matches!(
            e,
            "AWS_ACCESS_KEY"
                | "GOOGLE_API_KEY"
                | "GITHUB_TOKEN"
                | "SLACK_TOKEN"
                | "STRIPE_KEY"
                | "PRIVATE_KEY"
                | "JWT"
                | "DATABASE_URL"
                | "GENERIC_SECRET"
        )
    };
    for (k, (t, counts)) in per_threshold.iter().enumerate() {
        let (table, f_all) = report(
            &format!("### threshold {t} — all entities"),
            counts,
            &|_| false,
        );
        print!("{table}");
        let (table, f_p) = report(
            &format!("### threshold {t} — Presidio's entities only (no secrets)"),
            counts,
            &|e| secret(e),
        );
        print!("{table}");
        println!(
            "\nthreshold {t}: micro F1 {f_all:.3} (all), {f_p:.3} (Presidio entities); records without PII flagged: {}/{empty_records}",
            empty_records_flagged[k]
        );
    }
    print!(
        "{}",
        kinds_report(
            "### threshold 0.5 — what the errors are (counts only)",
            &error_kinds
        )
    );
    let mut by_field: Vec<(String, usize)> = false_by_field.into_iter().collect();
    by_field.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<String> = by_field
        .iter()
        .take(12)
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    println!(
        "\nfalse alarms at 0.5 by entity and field: {}",
        top.join(", ")
    );
    out
}
