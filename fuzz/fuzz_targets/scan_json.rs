//! Fuzz JSON scanning: arbitrary bytes as a JSON text (raw, byte-preserving
//! path) and, when they parse, as a `serde_json::Value`. Checks that scanning
//! never panics, that findings fit their strings, that both paths agree, and
//! that redaction always yields valid JSON and leaves no detected value.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::detect::{CompiledRules, RuleSet, ScanOptions, redact_json, redact_text, snippet};

fn rules() -> &'static CompiledRules {
    static RULES: OnceLock<CompiledRules> = OnceLock::new();
    RULES.get_or_init(|| match CompiledRules::compile(&RuleSet::all_regions()) {
        Ok(r) => r,
        Err(e) => panic!("default rules must compile: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let rules = rules();
    // Plain text: spans must be in bounds and on char boundaries.
    let found = rules.scan_text_all(text);
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        let s = snippet(text, f, &found);
        assert!(s.contains(&f.placeholder()));
    }
    let _ = redact_text(text, &found);
    // JSON text.
    let Ok(raw) = rules.scan_json_str(text, ScanOptions::ALL) else {
        return;
    };
    let redacted = match rules.redact_json_str(text, &raw) {
        Ok(r) => r,
        Err(e) => panic!("redaction of valid JSON failed: {e}"),
    };
    // Valid JSON grammar always; a full `Value` whenever the input was one
    // (numbers beyond f64 range are valid JSON but not a `Value`).
    assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(&redacted).is_ok(),
        "redacted output is not JSON"
    );
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        assert!(
            serde_json::from_str::<serde_json::Value>(&redacted).is_ok(),
            "redacted output is not a JSON value"
        );
        if let Ok(parsed) = rules.scan_json_all(&value) {
            let out = redact_json(&value, &parsed);
            assert!(serde_json::to_string(&out).is_ok());
        }
    }
});
