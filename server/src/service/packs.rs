//! Tool Packs: which tools an agent surface may use, and its rule overrides.

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{NewToolPack, PackRuleRow, PackTool, ToolPack, exposed_name};
use shared::error::ApiError;
use shared::policy::{RuleKey, RuleOverride};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, Table, config_version, found, integrity, rules, save_row};

type Row = (Uuid, String, String, i64, i64, DateTime<Utc>);

const SELECT: &str = "SELECT p.id, p.name, p.description,
        (SELECT count(*) FROM tool_pack_tools t WHERE t.pack_id = p.id),
        (SELECT count(*) FROM agent_keys k WHERE k.pack_id = p.id AND k.revoked_at IS NULL),
        p.created_at FROM tool_packs p";

fn to_dto(r: Row) -> ToolPack {
    ToolPack {
        id: r.0,
        name: r.1,
        description: r.2,
        tool_count: r.3,
        key_count: r.4,
        created_at: r.5,
    }
}

pub async fn list(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<ToolPack>> {
    t.require(Role::Viewer)?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE p.org_id = $1 ORDER BY lower(p.name)"
    ))
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(to_dto).collect())
}

pub async fn get(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<ToolPack> {
    t.require(Role::Viewer)?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.org_id = $1 AND p.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(to_dto)
        .ok_or_else(|| ApiError::not_found("Tool Pack").into())
}

const TABLE: Table = Table {
    name: "tool_packs",
    columns: &["name", "description"],
    what: "Tool Pack",
    unique: ("name", "A Tool Pack with this name already exists."),
};

/// Creates a pack (no id) or renames / re-describes one.
pub async fn save(
    db: &PgPool,
    t: &TenantCtx,
    id: Option<Uuid>,
    input: &NewToolPack,
) -> ServiceResult<ToolPack> {
    t.require(Role::Admin)?;
    let (name, description) = (input.name.clone(), input.description.clone());
    let id = save_row(db, t, id, &TABLE, |q| q.bind(name).bind(description)).await?;
    get(db, t, id).await
}

/// Deletes a pack, its overrides and its agent keys (their tokens stop
/// working on the next call).
pub async fn delete(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM tool_packs WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    found(done, "Tool Pack")?;
    integrity::drop_unused(&mut tx, t.org_id).await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn tools(db: &PgPool, t: &TenantCtx, pack_id: Uuid) -> ServiceResult<Vec<PackTool>> {
    get(db, t, pack_id).await?;
    let rows: Vec<(Uuid, String, String, bool)> = sqlx::query_as(
        "SELECT c.id, c.name, pt.tool_name,
                EXISTS (SELECT 1 FROM connector_tools ct WHERE ct.connector_id = c.id AND ct.name = pt.tool_name)
         FROM tool_pack_tools pt JOIN connectors c ON c.id = pt.connector_id
         WHERE pt.org_id = $1 AND pt.pack_id = $2 ORDER BY c.name, pt.tool_name",
    )
    .bind(t.org_id)
    .bind(pack_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(connector_id, connector_name, tool_name, available)| PackTool {
                exposed_name: exposed_name(&connector_name, &tool_name),
                connector_id,
                connector_name,
                tool_name,
                available,
            },
        )
        .collect())
}

/// Replaces the pack's tools with `exposed` (`<connector>__<tool>` names
/// of discovered tools). Unknown names are rejected, nothing changes.
///
/// A tool that no pack exposed yet is pinned as it is now (adding it
/// approves this definition); see [`super::integrity`].
pub async fn set_tools(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    links_base: &str,
    pack_id: Uuid,
    exposed: &[String],
) -> ServiceResult<Vec<PackTool>> {
    t.require(Role::Admin)?;
    get(db, t, pack_id).await?;
    let (_, approver) = super::enforcement::actor_identity(db, t).await?;
    let known: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT c.id, c.name, t.name FROM connector_tools t JOIN connectors c ON c.id = t.connector_id
         WHERE t.org_id = $1",
    )
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    let mut chosen = Vec::new();
    let mut unknown = Vec::new();
    for name in exposed {
        match known
            .iter()
            .find(|(_, c, tool)| exposed_name(c, tool) == *name)
        {
            Some((cid, _, tool)) => chosen.push((*cid, tool.clone())),
            None => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            "tools",
            format!(
                "Unknown tools: {}. Refresh the connector or check the names.",
                unknown.join(", ")
            ),
        )
        .into());
    }
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM tool_pack_tools WHERE org_id = $1 AND pack_id = $2")
        .bind(t.org_id)
        .bind(pack_id)
        .execute(&mut *tx)
        .await?;
    for (cid, tool) in chosen {
        sqlx::query(
            "INSERT INTO tool_pack_tools (pack_id, org_id, connector_id, tool_name) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(pack_id)
        .bind(t.org_id)
        .bind(cid)
        .bind(tool)
        .execute(&mut *tx)
        .await?;
    }
    integrity::pin_new(&mut tx, t.org_id, approver.as_deref(), now, links_base).await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    tools(db, t, pack_id).await
}

/// Every org rule with the pack's view of it.
pub async fn rule_rows(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
) -> ServiceResult<Vec<PackRuleRow>> {
    get(db, t, pack_id).await?;
    let (org, _) = rules::load_org(db, t.org_id).await?;
    let ov = rules::pack_overrides(db, t.org_id, pack_id).await?;
    let eff = org.with_overrides(&ov);
    let mut rows = Vec::new();
    let keys = org
        .entities
        .iter()
        .map(|r| {
            (
                RuleKey::Entity(r.entity),
                r.entity.as_str().to_owned(),
                Some(r.entity.group()),
            )
        })
        .chain(
            org.custom
                .iter()
                .map(|c| (RuleKey::Custom(c.id), c.label.clone(), None)),
        );
    for (key, label, group) in keys {
        let (Some(o), Some(e)) = (org.rule(&key), eff.rule(&key)) else {
            continue;
        };
        rows.push(PackRuleRow {
            key,
            label,
            group,
            org: o,
            effective: e,
            overridden: ov.iter().find(|x| x.rule == key).cloned(),
        });
    }
    Ok(rows)
}

/// Sets (or, when every field inherits, removes) the pack's override of one
/// rule. Takes effect on the next call everywhere (configuration version bump).
pub async fn set_override(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
    o: &RuleOverride,
) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    get(db, t, pack_id).await?;
    let (org, _) = rules::load_org(db, t.org_id).await?;
    if org.rule(&o.rule).is_none() {
        return Err(ApiError::not_found("rule").into());
    }
    let mut tx = db.begin().await?;
    if o.is_empty() {
        sqlx::query(
            "DELETE FROM rule_overrides WHERE org_id = $1 AND pack_id = $2 AND rule_key = $3",
        )
        .bind(t.org_id)
        .bind(pack_id)
        .bind(o.rule.to_string())
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO rule_overrides (pack_id, org_id, rule_key, enabled, threshold, arguments, results)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (pack_id, rule_key) DO UPDATE SET enabled = $4, threshold = $5, arguments = $6, results = $7",
        )
        .bind(pack_id)
        .bind(t.org_id)
        .bind(o.rule.to_string())
        .bind(o.enabled)
        .bind(o.threshold)
        .bind(o.arguments.map(|a| a.as_str()))
        .bind(o.results.map(|a| a.as_str()))
        .execute(&mut *tx)
        .await?;
    }
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}
