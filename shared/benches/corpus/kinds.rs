//! How the held-out sets go wrong, by category, for the `accuracy` bench:
//! counts of misses and false alarms by kind, never a record, so the sets can
//! be read without their errors being read one by one. Uses the matching of
//! `eval.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::eval::{Label, Pred, Record, iou};
/// Error categories of one entity, counted without printing any record: how
/// the held-out sets go wrong can be read without their errors being read.
#[derive(Default, Clone, Copy)]
pub struct Kinds {
    /// Gold values found, but as another entity.
    pub miss_as_other: usize,
    /// Gold values overlapped by a finding of the same entity with the wrong span.
    pub miss_span: usize,
    /// Gold values nothing overlaps.
    pub miss_unseen: usize,
    /// False alarms on another entity's gold value.
    pub false_on_other: usize,
    /// False alarms on text with no label.
    pub false_unlabelled: usize,
    /// Gold values written in a non-Latin script, and how many were found.
    pub non_latin: usize,
    pub non_latin_found: usize,
}

fn non_latin(text: &str, g: &Label) -> bool {
    text.chars()
        .skip(g.start)
        .take(g.end - g.start)
        .any(|c| c.is_alphabetic() && u32::from(c) >= 0x250)
}

/// Count [`Kinds`] for one record (the same matching as [`score`]); returns
/// the false alarms as (entity, start, end), for counting them by field.
pub fn kinds(
    record: &Record,
    preds: &[&Pred],
    out: &mut BTreeMap<String, Kinds>,
) -> Vec<(String, usize, usize)> {
    let mut false_alarms = Vec::new();
    let preds = record.scored(preds);
    let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
    let mut used = vec![false; preds.len()];
    for g in &record.labels {
        let span = (g.start, g.end);
        let hit = preds
            .iter()
            .enumerate()
            .filter(|(i, p)| !used[*i] && p.entity == g.entity)
            .map(|(i, p)| (i, iou(span, (p.start, p.end))))
            .filter(|(_, v)| *v >= 0.5)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let k = out.entry(g.entity.clone()).or_default();
        let far = non_latin(&record.text, g);
        k.non_latin += usize::from(far);
        if let Some((i, _)) = hit {
            used[i] = true;
            k.non_latin_found += usize::from(far);
            continue;
        }
        let touching: Vec<&&Pred> = preds
            .iter()
            .filter(|p| overlaps(span, (p.start, p.end)))
            .collect();
        if touching.iter().any(|p| p.entity == g.entity) {
            k.miss_span += 1;
        } else if touching.is_empty() {
            k.miss_unseen += 1;
        } else {
            k.miss_as_other += 1;
        }
    }
    for (i, p) in preds.iter().enumerate() {
        if used[i] {
            continue;
        }
        let on_other = record
            .labels
            .iter()
            .any(|g| g.entity != p.entity && overlaps((g.start, g.end), (p.start, p.end)));
        let k = out.entry(p.entity.clone()).or_default();
        if on_other {
            k.false_on_other += 1;
        } else {
            k.false_unlabelled += 1;
        }
        false_alarms.push((p.entity.clone(), p.start, p.end));
    }
    false_alarms
}

/// A Markdown table of [`Kinds`].
pub fn kinds_report(title: &str, kinds: &BTreeMap<String, Kinds>) -> String {
    let mut out = format!("\n{title}\n");
    out.push_str("| entity | missed: found as another entity | missed: wrong span | missed: nothing there | false alarm on another entity's value | false alarm on unlabelled text | non-Latin values found |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for (e, k) in kinds {
        let _ = writeln!(
            out,
            "| {e} | {} | {} | {} | {} | {} | {} / {} |",
            k.miss_as_other,
            k.miss_span,
            k.miss_unseen,
            k.false_on_other,
            k.false_unlabelled,
            k.non_latin_found,
            k.non_latin
        );
    }
    out
}
