//! Fuzz custom-rule compilation: the input is split into a pattern, a label
//! and context words; compiling must never panic (errors are fine) and a rule
//! that compiles must scan a sample text without panicking, in bounded time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::detect::{CompiledRules, CustomRule, RuleSet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let pattern = parts.next().unwrap_or_default().to_owned();
    let label = parts.next().unwrap_or("LABEL").to_owned();
    let context: Vec<String> = parts
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect();
    let set = RuleSet {
        custom_rules: vec![CustomRule {
            id: "fuzz".into(),
            name: "Fuzz".into(),
            label,
            pattern,
            score: 0.5,
            context,
            enabled: true,
            threshold: 0.0,
        }],
        ..RuleSet::default()
    };
    // A whole rule set as JSON, too.
    if let Ok(json_set) = serde_json::from_slice::<RuleSet>(data) {
        let _ = CompiledRules::compile(&json_set);
    }
    if let Ok(rules) = CompiledRules::compile(&set) {
        let sample = "EMP-123456 jane@example.com 4111 1111 1111 1111 ééé \u{0} aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for f in rules.scan_text_all(sample) {
            assert!(f.start < f.end && f.end <= sample.len());
        }
    }
});
