//! Prompt-injection detector: precision and recall per sub-kind on the
//! labelled set (`benches/corpus/injection.jsonl`, sources and licences in
//! `INJECTION_SOURCES.md`) at the default rules, and what a scan costs.
//!
//! Run: `cargo bench -p shared --bench injection` (add `-- --errors` to
//! list every miss and false alarm). The same scoring gates `cargo test`
//! (`detect::builtin::injection`).

use std::time::Instant;

use shared::detect::{CompiledRules, Entity, EntitySetting, RuleSet};

#[path = "corpus/injection_eval.rs"]
mod injection_eval;

use injection_eval::{kinds_of, parse, score, table};

fn main() {
    let show_errors = std::env::args().any(|a| a == "--errors");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/corpus/injection.jsonl"
    );
    let Ok(data) = std::fs::read_to_string(path) else {
        eprintln!("cannot read {path}");
        std::process::exit(1);
    };
    let records = parse(&data);
    let Ok(rules) = CompiledRules::compile(&RuleSet::default()) else {
        eprintln!("the default rules do not compile");
        std::process::exit(1);
    };
    let s = score(&records, |t| {
        kinds_of(rules.scan_text(t).into_iter().map(|f| f.label))
    });
    let positives = records.iter().filter(|r| !r.kinds.is_empty()).count();
    println!(
        "{} texts ({} with injections, {} benign), default rules (threshold 0.5)\n",
        records.len(),
        positives,
        records.len() - positives
    );
    println!("{}", table(&s));
    println!(
        "benign tool descriptions of MCP servers flagged: {} of {}",
        s.flagged_mcp_descriptions.len(),
        records
            .iter()
            .filter(|r| r.kinds.is_empty()
                && r.place == "description"
                && injection_eval::MCP_SOURCES.contains(&r.source.as_str()))
            .count()
    );
    if show_errors {
        for (id, missed, extra) in &s.errors {
            let text = records
                .iter()
                .find(|r| &r.id == id)
                .map(|r| r.text.as_str())
                .unwrap_or("");
            let short: String = text.chars().take(160).collect();
            println!("{id}: missed {missed:?} extra {extra:?}: {short:?}");
        }
    }

    // Cost: every text of the set, scanned with all rules vs. with the six
    // injection rules off (the difference is the injection pass).
    let only_injection_off = RuleSet {
        entities: Entity::ALL
            .iter()
            .filter(|e| e.is_injection())
            .map(|&e| EntitySetting {
                entity: e,
                enabled: false,
                ..EntitySetting::new(e)
            })
            .collect(),
        ..RuleSet::default()
    };
    let Ok(without) = CompiledRules::compile(&only_injection_off) else {
        std::process::exit(1);
    };
    let bytes: usize = records.iter().map(|r| r.text.len()).sum();
    let time = |r: &CompiledRules| {
        let rounds = 20;
        let start = Instant::now();
        for _ in 0..rounds {
            for rec in &records {
                std::hint::black_box(r.scan_text(&rec.text));
            }
        }
        start.elapsed().as_secs_f64() / f64::from(rounds)
    };
    let _ = time(&rules);
    let with = time(&rules);
    let off = time(&without);
    let n = records.len() as f64;
    println!(
        "\ncost per scan ({} texts, mean {} bytes): all rules {:.1} µs, injection rules off {:.1} µs, \
         injection pass {:.1} µs per text ({:.1} µs per KiB)",
        records.len(),
        bytes / records.len().max(1),
        with / n * 1e6,
        off / n * 1e6,
        (with - off) / n * 1e6,
        (with - off) / (bytes as f64 / 1024.0) * 1e6
    );
}
