//! Org rules: standard entity rules, custom regex rules, regions, and the
//! Tool Packs' overrides of them as stored.

use shared::account::{Role, TenantCtx};
use shared::api::{EntityRuleRow, RulesView};
use shared::detect::{Entity, Region};
use shared::error::ApiError;
use shared::policy::{
    CustomRegexRule, CustomRuleInput, EntityRule, OrgRules, RuleKey, RuleOverride,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceError, ServiceResult, config_version, found};

fn bad(what: &str) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("invalid {what} in database"))
}

/// `text` with every value the org's rules detect replaced, for text an
/// upstream wrote that the dashboard shows (a failed discovery's error).
/// Fails closed: when the rules cannot be used, the text is withheld.
pub(super) async fn redact_for_org(db: &PgPool, org_id: Uuid, text: &str) -> String {
    const WITHHELD: &str = "(the upstream's message was withheld: it could not be scanned)";
    let Ok((rules, _)) = load_org(db, org_id).await else {
        return WITHHELD.to_owned();
    };
    match shared::detect::CompiledRules::compile(&rules.to_rule_set()) {
        Ok(compiled) => shared::detect::redact_text(text, &compiled.scan_text(text)),
        Err(_) => WITHHELD.to_owned(),
    }
}

/// The org's rules (defaults filled in) and the configuration version they
/// belong to. Unchecked org id: callers verified the tenant or the agent.
pub(super) async fn load_org(db: &PgPool, org_id: Uuid) -> ServiceResult<(OrgRules, i64)> {
    let (version, regions): (i64, Vec<String>) =
        sqlx::query_as("SELECT config_version, regions FROM orgs WHERE id = $1")
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
    let (rules, version) = load_org(db, t.org_id).await?;
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
    config_version::bump_in(&mut tx, t.org_id).await?;
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
    config_version::bump_in(&mut tx, t.org_id).await?;
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
    config_version::bump_in(&mut tx, t.org_id).await?;
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
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM custom_rules WHERE org_id = $1 AND id = $2)",
    )
    .bind(t.org_id)
    .bind(rule.id)
    .fetch_one(&mut *tx)
    .await?;
    match (id, exists) {
        (Some(_), false) => return Err(ApiError::not_found("custom rule").into()),
        (None, _) => {
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
        }
        (Some(_), true) => {}
    }
    // The id is this org's (checked above, under the org lock) or fresh.
    sqlx::query(
        "INSERT INTO custom_rules (id, org_id, name, label, pattern, score, context, enabled, threshold,
         arguments, results) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET name = $3, label = $4, pattern = $5, score = $6, context = $7,
           enabled = $8, threshold = $9, arguments = $10, results = $11
         WHERE custom_rules.org_id = $2",
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
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(rule)
}

/// Checks a custom rule form without saving it (the dashboard's live
/// validation): the pattern compiles exactly as saving would compile it.
pub fn check_custom_rule(t: &TenantCtx, input: &CustomRuleInput) -> ServiceResult<()> {
    t.require(Role::Viewer)?;
    input.parse(Uuid::nil())?;
    Ok(())
}

pub async fn delete_custom_rule(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM custom_rules WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    found(done, "custom rule")?;
    sqlx::query("DELETE FROM rule_overrides WHERE org_id = $1 AND rule_key = $2")
        .bind(t.org_id)
        .bind(format!("custom:{id}"))
        .execute(&mut *tx)
        .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A pack's overrides, as stored. Unchecked ids: callers verified the
/// tenant or the agent.
pub(super) async fn pack_overrides(
    db: &PgPool,
    org_id: Uuid,
    pack_id: Uuid,
) -> ServiceResult<Vec<RuleOverride>> {
    type R = (
        String,
        Option<bool>,
        Option<f32>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<R> = sqlx::query_as(
        "SELECT rule_key, enabled, threshold, arguments, results FROM rule_overrides
         WHERE org_id = $1 AND pack_id = $2",
    )
    .bind(org_id)
    .bind(pack_id)
    .fetch_all(db)
    .await?;
    let mut out = Vec::new();
    for (key, enabled, threshold, arguments, results) in rows {
        // A stored key we can no longer parse (e.g. an entity renamed in a
        // later version) is skipped rather than failing every call.
        let Ok(rule) = key.parse::<RuleKey>() else {
            continue;
        };
        out.push(RuleOverride {
            rule,
            enabled,
            threshold,
            arguments: arguments.and_then(|a| a.parse().ok()),
            results: results.and_then(|a| a.parse().ok()),
        });
    }
    Ok(out)
}
