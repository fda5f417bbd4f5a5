//! The Rule Tester: what the org's (or a pack's) rules would find in a
//! sample and what each direction would do with it, without a tool call.

use shared::account::{Role, TenantCtx};
use shared::api::{RuleTestInput, RuleTestResult, TestedFinding};
use shared::detect::CompiledRules;
use shared::error::ApiError;
use shared::policy::{Action, Direction, OrgRules};
use sqlx::PgPool;

use super::{ServiceResult, packs, rules};
use crate::scanning::Scanning;

/// The Rule Tester: scans a sample (JSON when it parses, else text) with
/// the org's or a pack's rules and shows what each direction would do.
///
/// Open to viewers, so it is kept cheap: the sample is small, the rules are
/// the cached compiled ones the data path uses, and the scan runs on the
/// bounded scanning pool.
pub async fn test(
    db: &PgPool,
    scanning: &Scanning,
    t: &TenantCtx,
    input: &RuleTestInput,
) -> ServiceResult<RuleTestResult> {
    t.require(Role::Viewer)?;
    if input.sample.len() > MAX_SAMPLE {
        return Err(ApiError::invalid("sample", "Use a sample of at most 64 KiB.").into());
    }
    let (mut rules, _) = rules::load_org(db, t.org_id).await?;
    if let Some(p) = input.pack_id {
        // Another org's pack reads as not found.
        packs::get(db, t, p).await?;
        rules = rules.with_overrides(&rules::pack_overrides(db, t.org_id, p).await?);
    }
    let compiled = scanning
        .compiled(&rules.to_rule_set())
        .await
        .map_err(|e| ApiError::invalid("sample", format!("The rules do not compile: {e}")))?;
    let sample = input.sample.clone();
    scanning
        .run(move || run_test(&rules, &compiled, &sample))
        .await
        .map_err(anyhow::Error::from)?
}

/// The largest sample the Rule Tester takes (viewers can use it).
const MAX_SAMPLE: usize = 64 * 1024;

/// The text a finding matched: its span of the sample (plain text), or of
/// the string, number or key its pointer names (JSON).
fn matched_text(
    json: Option<&serde_json::Value>,
    sample: &str,
    f: &shared::detect::Finding,
) -> String {
    let cut = |s: &str| s.get(f.start..f.end).unwrap_or_default().to_owned();
    let (Some(doc), Some(ptr)) = (json, f.pointer.as_deref()) else {
        return cut(sample);
    };
    if f.in_key {
        let key = ptr.rsplit('/').next().unwrap_or_default();
        return cut(&key.replace("~1", "/").replace("~0", "~"));
    }
    match doc.pointer(ptr) {
        Some(serde_json::Value::String(s)) => cut(s),
        Some(v @ serde_json::Value::Number(_)) => cut(&v.to_string()),
        _ => String::new(),
    }
}

/// The pure part of the Rule Tester.
pub fn run_test(
    rules: &OrgRules,
    compiled: &CompiledRules,
    sample: &str,
) -> ServiceResult<RuleTestResult> {
    let json: Option<serde_json::Value> = serde_json::from_str(sample)
        .ok()
        .filter(|v: &serde_json::Value| v.is_object() || v.is_array());
    let (all, thresholded) = match &json {
        Some(v) => (
            compiled
                .scan_json_all(v)
                .map_err(|e| ApiError::invalid("sample", e.to_string()))?,
            compiled
                .scan_json(v)
                .map_err(|e| ApiError::invalid("sample", e.to_string()))?,
        ),
        None => (compiled.scan_text_all(sample), compiled.scan_text(sample)),
    };
    let args = rules.decide(thresholded.clone(), Direction::Arguments);
    let res = rules.decide(thresholded.clone(), Direction::Results);
    let redact = |v: &shared::policy::Verdict| -> ServiceResult<String> {
        let f = v.to_redact();
        Ok(match &json {
            Some(_) => shared::detect::redact_json_text(sample, &f)
                .map_err(|e| ApiError::invalid("sample", e.to_string()))?,
            None => shared::detect::redact_text(sample, &f),
        })
    };
    let findings = all
        .into_iter()
        .map(|f| {
            let below = !thresholded.contains(&f);
            TestedFinding {
                on_arguments: if below {
                    Action::Allow
                } else {
                    rules.action_for(&f, Direction::Arguments)
                },
                on_results: if below {
                    Action::Allow
                } else {
                    rules.action_for(&f, Direction::Results)
                },
                below_threshold: below,
                text: matched_text(json.as_ref(), sample, &f),
                finding: f,
            }
        })
        .collect();
    Ok(RuleTestResult {
        is_json: json.is_some(),
        findings,
        redacted_arguments: redact(&args)?,
        redacted_results: redact(&res)?,
        verdict_arguments: args.action,
        verdict_results: res.action,
    })
}
