//! The harness for the table-driven detector cases in
//! `shared/testdata/detect/*.toml` (in the spirit of rust-lang/regex's
//! `testdata/`): each file is a list of `[[case]]` entries,
//!
//! ```toml
//! [[case]]
//! name = "visa, spaced"                     # unique within the file
//! text = "card 4111 1111 1111 1111 exp"     # the input, scanned as plain text
//! find = [{ entity = "CREDIT_CARD", value = "4111 1111 1111 1111" }]
//! none = ["US_SSN"]                         # optional
//! regions = ["US"]                          # optional; default: every region
//! ```
//!
//! A case passes when every `find` entity is reported with exactly that
//! value at score >= 0.5, no `none` entity is reported at >= 0.5, the scan
//! does not panic, and every raw detector span is in bounds and on `char`
//! boundaries. Scans go through the whole pipeline (context, overlap
//! resolution) with no threshold, as `CompiledRules::scan_text_all` does.
//!
//! Each pass's tests run their file with [`check_file!`], which embeds it with
//! `include_str!` (the crate never reads files at run time) and reports every
//! failing case of the file at once, by file and case name.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Deserialize;

use super::Scanner;
use crate::detect::{CompiledRules, Entity, Region, RuleSet};

/// The score a `find` must reach and a `none` must stay under.
const MIN_SCORE: f32 = 0.5;

/// Run the cases of `shared/testdata/detect/<file>`.
macro_rules! check_file {
    ($file:literal) => {
        $crate::detect::builtin::testdata::check(
            $file,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/detect/",
                $file
            )),
        )
    };
}
pub(super) use check_file;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    text: String,
    #[serde(default)]
    find: Vec<Find>,
    #[serde(default)]
    none: Vec<Entity>,
    regions: Option<Vec<Region>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Find {
    entity: Entity,
    value: String,
}

/// Run every case of one file; panics listing all failures.
pub(super) fn check(file: &str, src: &str) {
    let failures = run(file, src);
    assert!(
        failures.is_empty(),
        "{} failure(s) in testdata/detect/{file}:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

fn run(file: &str, src: &str) -> Vec<String> {
    let cases = match toml::from_str::<File>(src) {
        Ok(f) if f.case.is_empty() => return vec![format!("{file}: no [[case]] entries")],
        Ok(f) => f.case,
        Err(e) => return vec![format!("{file}: {e}")],
    };
    let all = CompiledRules::compile(&RuleSet::all_regions()).expect("all regions compile");
    let mut names = HashSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        let at = format!("{file}: {:?}", case.name);
        if !names.insert(case.name.as_str()) {
            failures.push(format!("{at}: duplicate case name"));
        }
        let regional;
        let rules = match &case.regions {
            None => &all,
            Some(regions) => {
                let set = RuleSet {
                    regions: regions.clone(),
                    ..RuleSet::all_regions()
                };
                regional = CompiledRules::compile(&set).expect("rules compile");
                &regional
            }
        };
        let found = match catch_unwind(AssertUnwindSafe(|| hits(rules, &case.text))) {
            Ok(Ok(found)) => found,
            Ok(Err(bad_span)) => {
                failures.push(format!("{at}: {bad_span}"));
                continue;
            }
            Err(_) => {
                failures.push(format!("{at}: panicked on {:?}", case.text));
                continue;
            }
        };
        let reported = |e: Entity, value: Option<&str>| {
            found
                .iter()
                .any(|(fe, fv, sc)| *fe == e && value.is_none_or(|v| v == fv) && *sc >= MIN_SCORE)
        };
        for want in &case.find {
            if !reported(want.entity, Some(&want.value)) {
                failures.push(format!(
                    "{at}: missing {} {:?}; found {}",
                    want.entity,
                    want.value,
                    list(&found)
                ));
            }
        }
        for &unwanted in &case.none {
            if reported(unwanted, None) {
                failures.push(format!("{at}: unwanted {unwanted}; found {}", list(&found)));
            }
        }
    }
    failures
}

/// Findings through the whole pipeline, no threshold, as (entity, value,
/// score); an error if a raw detector span is out of bounds or splits a
/// `char`.
fn hits(rules: &CompiledRules, s: &str) -> Result<Vec<(Entity, String, f32)>, String> {
    for h in Scanner::new(
        rules,
        s,
        None,
        &mut crate::detect::memo::WordMemo::default(),
    )
    .run()
    {
        if !(h.start < h.end
            && h.end <= s.len()
            && s.is_char_boundary(h.start)
            && s.is_char_boundary(h.end))
        {
            return Err(format!(
                "raw {} span {}..{} is out of bounds or off a char boundary in {s:?}",
                h.entity, h.start, h.end
            ));
        }
    }
    Ok(rules
        .scan_document_all(s)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| Some((f.entity()?, s[f.start..f.end].to_string(), f.score)))
        .collect())
}

fn list(found: &[(Entity, String, f32)]) -> String {
    if found.is_empty() {
        return "nothing".into();
    }
    let items: Vec<String> = found
        .iter()
        .map(|(e, v, sc)| format!("{e} {v:?} {sc:.2}"))
        .collect();
    items.join(", ")
}

mod tests {
    use super::run;

    /// The harness itself: a broken case is reported with its file and name,
    /// every failure of a file at once, and bad files are errors, not passes.
    #[test]
    fn reports_every_failure() {
        let card = |name: &str, expect: &str| {
            format!(
                "[[case]]\nname = {name:?}\ntext = \"card 4111 1111 1111 1111 exp\"\n{expect}\n"
            )
        };
        let src = [
            card(
                "wrong value",
                r#"find = [{ entity = "CREDIT_CARD", value = "4111" }]"#,
            ),
            card("unwanted", r#"none = ["CREDIT_CARD"]"#),
            card(
                "passes",
                r#"find = [{ entity = "CREDIT_CARD", value = "4111 1111 1111 1111" }]"#,
            ),
            card("passes", ""),
        ]
        .concat();
        let f = run("self.toml", &src);
        assert_eq!(f.len(), 3, "{f:#?}");
        assert!(f[0].starts_with(r#"self.toml: "wrong value": missing CREDIT_CARD "4111""#));
        assert!(f[1].starts_with(r#"self.toml: "unwanted": unwanted CREDIT_CARD"#));
        assert!(f[2].ends_with("duplicate case name"));
        assert_eq!(run("e.toml", "").len(), 1);
        assert_eq!(run("e.toml", "[[case]]\nname = \"x\"").len(), 1);
        let typo = "[[case]]\nname = \"x\"\ntext = \"\"\nnone = [\"CREDIT_CRAD\"]";
        assert_eq!(run("e.toml", typo).len(), 1);
    }
}
