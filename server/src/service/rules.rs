//! Org rules: standard entity rules, custom regex rules, regions, and the
//! rules version every change bumps.

use shared::account::{Role, TenantCtx};
use shared::detect::{CompiledRules, Entity, Region};
use shared::error::ApiError;
use shared::gateway::{EntityRuleRow, RuleTestInput, RuleTestResult, RulesView, TestedFinding};
use shared::policy::{Action, CustomRegexRule, CustomRuleInput, Direction, EntityRule, OrgRules};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, packs};

/// Makes every server process drop what it cached for this org (compiled
/// rules, tool routes) on its next call. The column is named for rules but
/// versions all data-path configuration: rules, overrides, pack tools and
/// connectors.
pub async fn bump(db: &PgPool, org_id: Uuid) -> ServiceResult<()> {
    sqlx::query("UPDATE orgs SET rules_version = rules_version + 1 WHERE id = $1")
        .bind(org_id)
        .execute(db)
        .await?;
    Ok(())
}

/// As [`bump`], inside a transaction.
pub async fn bump_version(tx: &mut Transaction<'_, Postgres>, org_id: Uuid) -> ServiceResult<()> {
    sqlx::query("UPDATE orgs SET rules_version = rules_version + 1 WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn bad(what: &str) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("invalid {what} in database"))
}

/// The org's rules (defaults filled in) and their version.
pub async fn load(db: &PgPool, org_id: Uuid) -> ServiceResult<(OrgRules, i64)> {
    let (version, regions): (i64, Vec<String>) =
        sqlx::query_as("SELECT rules_version, regions FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(db)
            .await?
            .ok_or_else(|| ApiError::not_found("organization"))?;
    type E = (String, bool, f32, Vec<String>, String, String);
    let stored: Vec<E> = sqlx::query_as(
        "SELECT entity, enabled, threshold, context, arguments, results FROM entity_rules WHERE org_id = $1",
    )
    .bind(org_id)
    .fetch_all(db)
    .await?;
    type C = (
        Uuid,
        String,
        String,
        String,
        f32,
        Vec<String>,
        bool,
        f32,
        String,
        String,
    );
    let custom: Vec<C> = sqlx::query_as(
        "SELECT id, name, label, pattern, score, context, enabled, threshold, arguments, results
         FROM custom_rules WHERE org_id = $1 ORDER BY created_at, id",
    )
    .bind(org_id)
    .fetch_all(db)
    .await?;
    let regions = regions
        .iter()
        .filter_map(|r| r.parse::<Region>().ok())
        .collect();
    let mut entities = Vec::new();
    for (entity, enabled, threshold, context, arguments, results) in stored {
        // An entity this version no longer knows is ignored, not fatal.
        let Ok(entity) = entity.parse::<Entity>() else {
            continue;
        };
        entities.push(EntityRule {
            entity,
            enabled,
            threshold,
            context,
            arguments: arguments.parse().map_err(|_| bad("action"))?,
            results: results.parse().map_err(|_| bad("action"))?,
        });
    }
    let custom = custom
        .into_iter()
        .map(
            |(id, name, label, pattern, score, context, enabled, threshold, a, r)| {
                Ok(CustomRegexRule {
                    id,
                    name,
                    label,
                    pattern,
                    score,
                    context,
                    enabled,
                    threshold,
                    arguments: a.parse().map_err(|_| bad("action"))?,
                    results: r.parse().map_err(|_| bad("action"))?,
                })
            },
        )
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok((OrgRules::from_parts(regions, entities, custom), version))
}

pub async fn view(db: &PgPool, t: &TenantCtx) -> ServiceResult<RulesView> {
    t.require(Role::Viewer)?;
    let (rules, version) = load(db, t.org_id).await?;
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT entity FROM entity_rules WHERE org_id = $1")
            .bind(t.org_id)
            .fetch_all(db)
            .await?;
    Ok(RulesView {
        version,
        regions: rules.regions.clone(),
        entities: rules
            .entities
            .iter()
            .map(|r| EntityRuleRow {
                is_default: !stored.iter().any(|s| s == r.entity.as_str())
                    || *r == EntityRule::default_for(r.entity),
                group: r.entity.group(),
                region: r.entity.region(),
                description: r.entity.description().to_owned(),
                rule: r.clone(),
            })
            .collect(),
        custom: rules.custom,
    })
}

pub async fn set_entity_rule(db: &PgPool, t: &TenantCtx, rule: &EntityRule) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO entity_rules (org_id, entity, enabled, threshold, context, arguments, results)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id, entity) DO UPDATE SET enabled = $3, threshold = $4, context = $5,
           arguments = $6, results = $7",
    )
    .bind(t.org_id)
    .bind(rule.entity.as_str())
    .bind(rule.enabled)
    .bind(rule.threshold)
    .bind(&rule.context)
    .bind(rule.arguments.as_str())
    .bind(rule.results.as_str())
    .execute(&mut *tx)
    .await?;
    bump_version(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts an entity rule back to its default.
pub async fn reset_entity_rule(db: &PgPool, t: &TenantCtx, entity: Entity) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM entity_rules WHERE org_id = $1 AND entity = $2")
        .bind(t.org_id)
        .bind(entity.as_str())
        .execute(&mut *tx)
        .await?;
    bump_version(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_regions(db: &PgPool, t: &TenantCtx, regions: &[Region]) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    let list: Vec<&str> = regions.iter().map(|r| r.as_str()).collect();
    sqlx::query("UPDATE orgs SET regions = $2 WHERE id = $1")
        .bind(t.org_id)
        .bind(&list)
        .execute(&mut *tx)
        .await?;
    bump_version(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates or (with `id`) replaces a custom rule, validated as scanning
/// would compile it, within the per-org count limit.
pub async fn save_custom_rule(
    db: &PgPool,
    t: &TenantCtx,
    id: Option<Uuid>,
    input: &CustomRuleInput,
) -> ServiceResult<CustomRegexRule> {
    t.require(Role::Admin)?;
    let rule_id = id.unwrap_or_else(Uuid::new_v4);
    let rule = input.parse(rule_id)?;
    let mut tx = db.begin().await?;
    // Serialise rule changes of one org so the count check holds.
    sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR UPDATE")
        .bind(t.org_id)
        .execute(&mut *tx)
        .await?;
    match id {
        None => {
            let count: i64 =
                sqlx::query_scalar("SELECT count(*) FROM custom_rules WHERE org_id = $1")
                    .bind(t.org_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if count >= shared::detect::MAX_CUSTOM_RULES as i64 {
                return Err(ApiError::conflict(format!(
                    "An organization can have at most {} custom rules; delete one first.",
                    shared::detect::MAX_CUSTOM_RULES
                ))
                .into());
            }
            sqlx::query(
                "INSERT INTO custom_rules (id, org_id, name, label, pattern, score, context, enabled, threshold,
                 arguments, results) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(rule.id)
            .bind(t.org_id)
            .bind(&rule.name)
            .bind(&rule.label)
            .bind(&rule.pattern)
            .bind(rule.score)
            .bind(&rule.context)
            .bind(rule.enabled)
            .bind(rule.threshold)
            .bind(rule.arguments.as_str())
            .bind(rule.results.as_str())
            .execute(&mut *tx)
            .await?;
        }
        Some(id) => {
            let n = sqlx::query(
                "UPDATE custom_rules SET name = $3, label = $4, pattern = $5, score = $6, context = $7,
                 enabled = $8, threshold = $9, arguments = $10, results = $11 WHERE org_id = $1 AND id = $2",
            )
            .bind(t.org_id)
            .bind(id)
            .bind(&rule.name)
            .bind(&rule.label)
            .bind(&rule.pattern)
            .bind(rule.score)
            .bind(&rule.context)
            .bind(rule.enabled)
            .bind(rule.threshold)
            .bind(rule.arguments.as_str())
            .bind(rule.results.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(ApiError::not_found("custom rule").into());
            }
        }
    }
    bump_version(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(rule)
}

pub async fn delete_custom_rule(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM custom_rules WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::not_found("custom rule").into());
    }
    sqlx::query("DELETE FROM rule_overrides WHERE org_id = $1 AND rule_key = $2")
        .bind(t.org_id)
        .bind(format!("custom:{id}"))
        .execute(&mut *tx)
        .await?;
    bump_version(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The rules a pack sees (org rules with its overrides), or the org's.
pub async fn effective(
    db: &PgPool,
    org_id: Uuid,
    pack_id: Option<Uuid>,
) -> ServiceResult<(OrgRules, i64)> {
    let (org, version) = load(db, org_id).await?;
    match pack_id {
        Some(p) => {
            let ov = packs::overrides(db, org_id, p).await?;
            Ok((org.with_overrides(&ov), version))
        }
        None => Ok((org, version)),
    }
}

/// The Rule Tester: scans a sample (JSON when it parses, else text) with
/// the org's or a pack's rules and shows what each direction would do.
pub async fn test(
    db: &PgPool,
    t: &TenantCtx,
    input: &RuleTestInput,
) -> ServiceResult<RuleTestResult> {
    t.require(Role::Viewer)?;
    if input.sample.len() > 256 * 1024 {
        return Err(ApiError::invalid("sample", "Use a sample of at most 256 KiB.").into());
    }
    if let Some(p) = input.pack_id {
        packs::get(db, t, p).await?;
    }
    let (rules, _) = effective(db, t.org_id, input.pack_id).await?;
    let compiled = CompiledRules::compile(&rules.to_rule_set())
        .map_err(|e| ApiError::invalid("sample", format!("The rules do not compile: {e}")))?;
    run_test(&rules, &compiled, &input.sample)
}

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

/// The pure part of the Rule Tester (also used by the CLI's tests).
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
