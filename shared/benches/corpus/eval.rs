//! Scoring against the labelled corpus, shared by the `accuracy` bench and the
//! accuracy gate in `cargo test` (`src/detect/builtin/accuracy.rs`), so the
//! two can never disagree on what a match is.
//!
//! Matching: a finding counts when it has the gold label's entity and its span
//! overlaps the gold span with intersection-over-union >= 0.5 (offsets in code
//! points); each gold span matches at most one finding. `score.py` applies the
//! same rule to other tools' predictions.
//!
//! Both include this file with `#[path = …] mod eval;` rather than the library
//! exporting it: scoring is development tooling, so it stays out of `shared`'s
//! API and its wasm build, and the bench needs no cargo feature to run. It
//! therefore names nothing from the engine; callers turn findings into
//! [`Pred`]s.

use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(serde::Deserialize)]
pub struct Label {
    pub start: usize,
    pub end: usize,
    pub entity: String,
}

/// A span of text (code points) whose findings are not scored: text the
/// corpus has no label for in our entity set (a street address, an
/// organisation, an age in the third-party set). A finding there that matches
/// no label is neither a hit nor a false alarm.
#[derive(serde::Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(serde::Deserialize)]
pub struct Record {
    pub id: String,
    pub text: String,
    pub labels: Vec<Label>,
    #[serde(default)]
    pub ignore: Vec<Span>,
}

impl Record {
    /// Findings left after dropping those inside [`Record::ignore`] spans that
    /// match no label (what the scorer counts; used for "records without PII
    /// flagged").
    pub fn scored<'p>(&self, preds: &[&'p Pred]) -> Vec<&'p Pred> {
        preds
            .iter()
            .copied()
            .filter(|p| {
                !self
                    .ignore
                    .iter()
                    .any(|s| p.start < s.end && s.start < p.end)
                    || self.labels.iter().any(|g| {
                        g.entity == p.entity && iou((g.start, g.end), (p.start, p.end)) >= 0.5
                    })
            })
            .collect()
    }
}

/// The records of a JSONL corpus; lines that are not records are skipped.
pub fn parse_corpus(data: &str) -> Vec<Record> {
    data.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// One finding, with its span in code points.
pub struct Pred {
    pub start: usize,
    pub end: usize,
    pub entity: String,
    pub score: f32,
}

impl Pred {
    /// A finding at byte offsets `start..end` of `text`.
    pub fn new(text: &str, start: usize, end: usize, entity: &str, score: f32) -> Pred {
        Pred {
            start: text[..start].chars().count(),
            end: text[..end].chars().count(),
            entity: entity.to_owned(),
            score,
        }
    }
}

#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    /// Precision, recall, F1.
    pub fn prf(&self) -> (f64, f64, f64) {
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

/// Intersection over union of two spans.
pub fn iou(a: (usize, usize), b: (usize, usize)) -> f64 {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = a.1.max(b.1) - a.0.min(b.0);
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Score one record; pushes (entity, matched?) outcomes into `counts`. With
/// `errors` = (record id, text), prints each miss and false alarm. Findings
/// in the record's ignore spans that match no label are left out.
pub fn score(
    record: &Record,
    preds: &[&Pred],
    counts: &mut BTreeMap<String, Counts>,
    errors: Option<(&str, &str)>,
) {
    let labels = &record.labels;
    let preds = record.scored(preds);
    let preds = preds.as_slice();
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

/// A Markdown table of per-entity precision / recall / F1 (entities for which
/// `skip` is true left out) and the micro F1 over the rest.
pub fn report(
    title: &str,
    counts: &BTreeMap<String, Counts>,
    skip: &dyn Fn(&str) -> bool,
) -> (String, f64) {
    let mut out = format!("\n{title}\n");
    out.push_str("| entity | precision | recall | F1 | TP | FP | FN |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    let mut total = Counts::default();
    for (e, c) in counts {
        if skip(e) {
            continue;
        }
        let (p, r, f) = c.prf();
        let _ = writeln!(
            out,
            "| {e} | {p:.3} | {r:.3} | {f:.3} | {} | {} | {} |",
            c.tp, c.fp, c.fn_
        );
        total.tp += c.tp;
        total.fp += c.fp;
        total.fn_ += c.fn_;
    }
    let (p, r, f) = total.prf();
    let _ = writeln!(
        out,
        "| **micro** | {p:.3} | {r:.3} | **{f:.3}** | {} | {} | {} |",
        total.tp, total.fp, total.fn_
    );
    (out, f)
}
