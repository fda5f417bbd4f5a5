//! Scoring of the prompt-injection detector on its labelled set
//! (`injection.jsonl`): per sub-kind precision and recall at the default
//! rules, and whether any benign tool description of a real MCP server is
//! flagged. Shared by the `injection` bench (which prints it) and the gate
//! in `cargo test` (which holds it); included by path in both, like
//! `eval.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The sub-kinds, as the corpus names them (`PROMPT_INJECTION_<KIND>`).
pub const KINDS: [&str; 6] = [
    "override",
    "hidden_text",
    "system_markup",
    "credential_request",
    "tool_call",
    "exfiltration",
];

/// Sources of real MCP servers' tool and parameter descriptions.
pub const MCP_SOURCES: [&str; 4] = [
    "mcp-servers",
    "mcp-servers-archived",
    "github-mcp-server",
    "playwright-mcp",
];

#[derive(Debug, Deserialize)]
pub struct Record {
    pub id: String,
    pub text: String,
    pub kinds: Vec<String>,
    #[serde(rename = "where")]
    pub place: String,
    pub source: String,
}

pub fn parse(data: &str) -> Vec<Record> {
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        let d = self.tp + self.fp;
        if d == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(d)
        }
    }
    pub fn recall(&self) -> f64 {
        let d = self.tp + self.fn_;
        if d == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(d)
        }
    }
}

/// What one scan found: the sub-kinds reported at or above the rules'
/// thresholds.
pub fn kinds_of(labels: impl Iterator<Item = String>) -> Vec<String> {
    let mut k: Vec<String> = labels
        .filter_map(|l| {
            l.strip_prefix("PROMPT_INJECTION_")
                .map(str::to_ascii_lowercase)
        })
        .collect();
    k.sort();
    k.dedup();
    k
}

/// Scores of the whole set: per sub-kind, "any injection" per text, and
/// the benign MCP descriptions that were flagged (ids).
pub struct Scores {
    pub by_kind: BTreeMap<&'static str, Counts>,
    pub any: Counts,
    pub flagged_mcp_descriptions: Vec<String>,
    /// (id, missed kinds, extra kinds) per text with an error.
    pub errors: Vec<(String, Vec<String>, Vec<String>)>,
}

pub fn score(records: &[Record], mut detect: impl FnMut(&str) -> Vec<String>) -> Scores {
    let mut by_kind: BTreeMap<&'static str, Counts> =
        KINDS.iter().map(|k| (*k, Counts::default())).collect();
    let mut any = Counts::default();
    let mut flagged = Vec::new();
    let mut errors = Vec::new();
    for r in records {
        let found = detect(&r.text);
        for k in KINDS {
            let gold = r.kinds.iter().any(|g| g == k);
            let got = found.iter().any(|f| f == k);
            if let Some(c) = by_kind.get_mut(k) {
                match (gold, got) {
                    (true, true) => c.tp += 1,
                    (false, true) => c.fp += 1,
                    (true, false) => c.fn_ += 1,
                    (false, false) => {}
                }
            }
        }
        match (!r.kinds.is_empty(), !found.is_empty()) {
            (true, true) => any.tp += 1,
            (false, true) => any.fp += 1,
            (true, false) => any.fn_ += 1,
            (false, false) => {}
        }
        if r.kinds.is_empty()
            && !found.is_empty()
            && r.place == "description"
            && MCP_SOURCES.contains(&r.source.as_str())
        {
            flagged.push(r.id.clone());
        }
        let missed: Vec<String> = r
            .kinds
            .iter()
            .filter(|g| !found.contains(g))
            .cloned()
            .collect();
        let extra: Vec<String> = found
            .iter()
            .filter(|f| !r.kinds.contains(f))
            .cloned()
            .collect();
        if !missed.is_empty() || !extra.is_empty() {
            errors.push((r.id.clone(), missed, extra));
        }
    }
    Scores {
        by_kind,
        any,
        flagged_mcp_descriptions: flagged,
        errors,
    }
}

/// The Markdown table BENCHMARKS.md carries.
pub fn table(s: &Scores) -> String {
    let mut out = String::from(
        "| sub-kind | positives | TP | FP | FN | precision | recall |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let row = |name: &str, c: &Counts| {
        format!(
            "| {name} | {} | {} | {} | {} | {:.3} | {:.3} |\n",
            c.tp + c.fn_,
            c.tp,
            c.fp,
            c.fn_,
            c.precision(),
            c.recall()
        )
    };
    for (k, c) in &s.by_kind {
        out.push_str(&row(k, c));
    }
    out.push_str(&row("**any injection (per text)**", &s.any));
    out
}
