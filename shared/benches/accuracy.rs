//! Accuracy benchmark: per-entity precision / recall / F1 at thresholds 0 and
//! 0.5 on the labelled corpus (`benches/corpus/corpus.jsonl`), every region on.
//!
//! Matching: a finding counts when it has the gold label's entity and its span
//! overlaps the gold span with intersection-over-union >= 0.5 (offsets in code
//! points); each gold span matches at most one finding. The same rule is in
//! `benches/corpus/score.py`, which scores Presidio (or any JSONL predictions)
//! so the two can be compared side by side.
//!
//! Run: `cargo bench -p shared --bench accuracy` (add `-- --write FILE` to
//! write predictions in the `gatehouse scan --jsonl` format, `-- --errors` to
//! list misses and false alarms at 0.5).

use std::collections::BTreeMap;

use shared::detect::{CompiledRules, RuleSet};

#[derive(serde::Deserialize)]
struct Label {
    start: usize,
    end: usize,
    entity: String,
}

#[derive(serde::Deserialize)]
struct Record {
    id: String,
    text: String,
    labels: Vec<Label>,
}

struct Pred {
    start: usize,
    end: usize,
    entity: String,
    score: f32,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Counts {
    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        };
        let r = if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

fn iou(a: (usize, usize), b: (usize, usize)) -> f64 {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = a.1.max(b.1) - a.0.min(b.0);
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Score one record; pushes (entity, matched?) outcomes into `counts`.
fn score(
    labels: &[Label],
    preds: &[&Pred],
    counts: &mut BTreeMap<String, Counts>,
    errors: Option<(&str, &str)>,
) {
    let mut used = vec![false; preds.len()];
    for g in labels {
        let best = preds
            .iter()
            .enumerate()
            .filter(|(i, p)| !used[*i] && p.entity == g.entity)
            .map(|(i, p)| (i, iou((g.start, g.end), (p.start, p.end))))
            .filter(|(_, v)| *v >= 0.5)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let c = counts.entry(g.entity.clone()).or_default();
        match best {
            Some((i, _)) => {
                used[i] = true;
                c.tp += 1;
            }
            None => {
                c.fn_ += 1;
                if let Some((id, text)) = errors {
                    let v: String = text.chars().skip(g.start).take(g.end - g.start).collect();
                    println!("  MISS {id} {}: {v:?}", g.entity);
                }
            }
        }
    }
    for (i, p) in preds.iter().enumerate() {
        if !used[i] {
            counts.entry(p.entity.clone()).or_default().fp += 1;
            if let Some((id, text)) = errors {
                let v: String = text.chars().skip(p.start).take(p.end - p.start).collect();
                println!("  FALSE {id} {} ({:.2}): {v:?}", p.entity, p.score);
            }
        }
    }
}

fn report(title: &str, counts: &BTreeMap<String, Counts>, skip: &dyn Fn(&str) -> bool) -> f64 {
    println!("\n{title}");
    println!("| entity | precision | recall | F1 | TP | FP | FN |");
    println!("|---|---|---|---|---|---|---|");
    let mut total = Counts::default();
    for (e, c) in counts {
        if skip(e) {
            continue;
        }
        let (p, r, f) = c.prf();
        println!(
            "| {e} | {p:.3} | {r:.3} | {f:.3} | {} | {} | {} |",
            c.tp, c.fp, c.fn_
        );
        total.tp += c.tp;
        total.fp += c.fp;
        total.fn_ += c.fn_;
    }
    let (p, r, f) = total.prf();
    println!(
        "| **micro** | {p:.3} | {r:.3} | **{f:.3}** | {} | {} | {} |",
        total.tp, total.fp, total.fn_
    );
    f
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let show_errors = args.iter().any(|a| a == "--errors");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/corpus/corpus.jsonl");
    let Ok(data) = std::fs::read_to_string(path) else {
        eprintln!("cannot read {path}");
        std::process::exit(1);
    };
    let records: Vec<Record> = data
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let Ok(rules) = CompiledRules::compile(&RuleSet::all_regions()) else {
        eprintln!("default rules did not compile");
        std::process::exit(1);
    };
    let mut out = String::new();
    let mut per_threshold: Vec<(f32, BTreeMap<String, Counts>)> =
        vec![(0.0, BTreeMap::new()), (0.5, BTreeMap::new())];
    let mut empty_records_flagged = [0usize; 2];
    let empty_records = records.iter().filter(|r| r.labels.is_empty()).count();
    for r in &records {
        let found = rules.scan_text_all(&r.text);
        // Byte offsets to code points.
        let preds: Vec<Pred> = found
            .iter()
            .map(|f| Pred {
                start: r.text[..f.start].chars().count(),
                end: r.text[..f.end].chars().count(),
                entity: f.label.clone(),
                score: f.score,
            })
            .collect();
        if write.is_some() {
            let fs: Vec<_> = preds
                .iter()
                .map(|p| serde_json::json!({"start": p.start, "end": p.end, "entity": p.entity, "score": (f64::from(p.score) * 1e4).round() / 1e4}))
                .collect();
            out.push_str(&serde_json::json!({"id": r.id, "findings": fs}).to_string());
            out.push('\n');
        }
        for (k, (t, counts)) in per_threshold.iter_mut().enumerate() {
            let kept: Vec<&Pred> = preds.iter().filter(|p| p.score >= *t).collect();
            if r.labels.is_empty() && !kept.is_empty() {
                empty_records_flagged[k] += 1;
            }
            let errors = (show_errors && *t == 0.5).then_some((r.id.as_str(), r.text.as_str()));
            score(&r.labels, &kept, counts, errors);
        }
    }
    let labels: usize = records.iter().map(|r| r.labels.len()).sum();
    println!(
        "corpus: {} records, {labels} labelled values, {empty_records} records without PII",
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
        let f_all = report(
            &format!("### threshold {t} — all entities"),
            counts,
            &|_| false,
        );
        let f_p = report(
            &format!("### threshold {t} — Presidio's entities only (no secrets)"),
            counts,
            &|e| secret(e),
        );
        println!(
            "\nthreshold {t}: micro F1 {f_all:.3} (all), {f_p:.3} (Presidio entities); records without PII flagged: {}/{empty_records}",
            empty_records_flagged[k]
        );
    }
    if let Some(w) = write
        && let Err(e) = std::fs::write(&w, out)
    {
        eprintln!("cannot write {w}: {e}");
    }
}
