//! Tool integrity: every exposed tool is served from its *pin* (the
//! definition an admin approved when adding it to a pack), never from what
//! an upstream says later. Each discovery compares the upstream's tools
//! with the pins; a changed definition opens a change and (unless the org
//! only alerts) quarantines the tool until an admin approves the new
//! definition or removes the tool. Definitions are scanned for
//! instructions aimed at the model (the `PROMPT_INJECTION_*` rules); a
//! definition with findings is quarantined like a changed one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use shared::account::{Role, TenantCtx};
use shared::api::{
    DefinitionFinding, DiffRow, OnToolChange, PinStatus, PinnedTool, ToolChange, ToolChangeAction,
    ToolChangeDetail, ToolChangeKind, ToolChangeQuery, ToolChangeStatus, ToolDefinition,
    ToolIntegritySettings, ToolReview, WebhookEvent, exposed_name, visible,
};
use shared::detect::{CompiledRules, RuleRef};
use shared::error::ApiError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ServiceResult, config_version, rules};

/// `sha256:` + hex of the definition's canonical JSON.
pub fn fingerprint(d: &ToolDefinition) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(d.canonical_json().as_bytes()))
    )
}

/// The longest finding text kept (the definition itself is kept whole).
const FINDING_TEXT_MAX: usize = 300;

/// The org's rules compiled, for scanning definitions at discovery.
pub(super) async fn org_scanner(db: &PgPool, org_id: Uuid) -> ServiceResult<CompiledRules> {
    let (org, _) = rules::load_org(db, org_id).await?;
    CompiledRules::compile(&org.to_rule_set())
        .map_err(|e| anyhow::anyhow!("compiling the org's rules: {e}").into())
}

/// Instructions aimed at the model in a definition (description, title,
/// parameter descriptions, anything in its schemas), at or above the
/// org's thresholds for the enabled `PROMPT_INJECTION_*` rules. A
/// definition that cannot be scanned (too large, too deep) counts as a
/// finding: it is not served unreviewed.
pub(super) fn scan_definition(rules: &CompiledRules, d: &ToolDefinition) -> Vec<DefinitionFinding> {
    let doc = d.to_value();
    let found = match rules.scan_json(&doc) {
        Ok(f) => f,
        Err(e) => {
            return vec![DefinitionFinding {
                rule: "UNSCANNABLE".into(),
                pointer: String::new(),
                score: 1.0,
                text: format!("the definition could not be scanned: {e}"),
            }];
        }
    };
    found
        .into_iter()
        .filter(|f| matches!(f.rule, RuleRef::Entity(e) if e.is_injection()))
        .map(|f| {
            let pointer = f.pointer.clone().unwrap_or_default();
            let text = if f.in_key {
                pointer.rsplit('/').next().unwrap_or_default().to_owned()
            } else {
                doc.pointer(&pointer)
                    .and_then(Value::as_str)
                    .and_then(|s| s.get(f.start..f.end))
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut text = visible(&text);
            if let Some((i, _)) = text.char_indices().nth(FINDING_TEXT_MAX) {
                text.truncate(i);
                text.push('…');
            }
            DefinitionFinding {
                rule: f.label,
                pointer,
                score: f.score,
                text,
            }
        })
        .collect()
}

/// A tool as one discovery found it.
pub(super) struct Discovered {
    pub definition: ToolDefinition,
    pub fingerprint: String,
    pub findings: Vec<DefinitionFinding>,
}

impl Discovered {
    pub fn new(rules: &CompiledRules, definition: ToolDefinition) -> Self {
        Discovered {
            fingerprint: fingerprint(&definition),
            findings: scan_definition(rules, &definition),
            definition,
        }
    }
}

async fn on_change(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
) -> ServiceResult<OnToolChange> {
    let s: String = sqlx::query_scalar("SELECT tool_change_action FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(s.parse().unwrap_or_default())
}

/// A change to insert.
struct NewChange<'a> {
    connector_id: Uuid,
    connector_name: &'a str,
    tool_name: &'a str,
    kind: ToolChangeKind,
    action: ToolChangeAction,
    status: ToolChangeStatus,
    old: Option<&'a Value>,
    old_fingerprint: Option<&'a str>,
    new: Option<&'a Discovered>,
}

/// Records a change (once: an identical open change is not repeated) and
/// queues its webhook in the same transaction. Returns the change if new.
async fn insert_change(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    now: DateTime<Utc>,
    links_base: &str,
    c: NewChange<'_>,
) -> ServiceResult<Option<ToolChange>> {
    let findings = c.new.map(|n| n.findings.clone()).unwrap_or_default();
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO tool_changes (org_id, connector_id, connector_name, tool_name, kind, action, status,
           detected_at, old_definition, new_definition, old_fingerprint, new_fingerprint, findings)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(c.connector_id)
    .bind(c.connector_name)
    .bind(c.tool_name)
    .bind(c.kind.as_str())
    .bind(c.action.as_str())
    .bind(c.status.as_str())
    .bind(now)
    .bind(c.old)
    .bind(c.new.map(|n| n.definition.to_value()))
    .bind(c.old_fingerprint)
    .bind(c.new.map(|n| n.fingerprint.as_str()))
    .bind(serde_json::to_value(&findings).map_err(anyhow::Error::from)?)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let change = ToolChange {
        id,
        connector_id: c.connector_id,
        connector_name: c.connector_name.to_owned(),
        tool_name: c.tool_name.to_owned(),
        exposed_name: exposed_name(c.connector_name, c.tool_name),
        kind: c.kind,
        action: c.action,
        status: c.status,
        detected_at: now,
        old_fingerprint: c.old_fingerprint.map(str::to_owned),
        new_fingerprint: c.new.map(|n| n.fingerprint.clone()),
        findings,
        resolved_at: None,
        resolved_by: None,
    };
    if c.kind != ToolChangeKind::Appeared {
        super::webhooks::enqueue(
            &mut **tx,
            org_id,
            WebhookEvent::ToolChanged,
            serde_json::json!({
                "change_id": id,
                "tool": change.exposed_name,
                "connector_id": c.connector_id,
                "kind": c.kind.as_str(),
                "action": c.action.as_str(),
                "old_fingerprint": change.old_fingerprint,
                "new_fingerprint": change.new_fingerprint,
                "findings": change.findings.iter().map(|f| &f.rule).collect::<Vec<_>>(),
                "at": now,
                "url": format!("{links_base}/tools/changes/{id}"),
            }),
            now,
        )
        .await?;
    }
    tracing::info!(org_id = %org_id, connector_id = %c.connector_id, tool = c.tool_name,
        kind = c.kind.as_str(), action = c.action.as_str(), "tool change recorded");
    Ok(Some(change))
}

/// Moves a tool's open changes of `kinds` to `status` (all but those of
/// the `except` fingerprint). `tool` is (org, connector, tool name).
async fn set_status(
    tx: &mut Transaction<'_, Postgres>,
    (org_id, connector_id, tool): (Uuid, Uuid, &str),
    kinds: &[&str],
    status: ToolChangeStatus,
    now: DateTime<Utc>,
    except: Option<&str>,
) -> ServiceResult<u64> {
    Ok(sqlx::query(
        "UPDATE tool_changes SET status = $5, resolved_at = $6
         WHERE org_id = $1 AND connector_id = $2 AND tool_name = $3 AND kind = ANY($4) AND status = 'open'
           AND ($7::text IS NULL OR new_fingerprint IS DISTINCT FROM $7)",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(tool)
    .bind(kinds)
    .bind(status.as_str())
    .bind(now)
    .bind(except)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Compares one discovery of a connector with its pins, inside the
/// discovery's transaction (the connector row is locked, so replicas
/// compare one at a time). `previous` are the tool names the last
/// discovery found (None: this is the first).
#[allow(clippy::too_many_arguments)]
pub(super) async fn observe(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    connector_id: Uuid,
    connector_name: &str,
    previous: Option<&HashSet<String>>,
    found: &[Discovered],
    now: DateTime<Utc>,
    links_base: &str,
) -> ServiceResult<Vec<ToolChange>> {
    let strict = on_change(tx, org_id).await? == OnToolChange::Quarantine;
    let pins: Vec<(String, Value, String)> = sqlx::query_as(
        "SELECT tool_name, definition, fingerprint FROM tool_pins
         WHERE org_id = $1 AND connector_id = $2 FOR UPDATE",
    )
    .bind(org_id)
    .bind(connector_id)
    .fetch_all(&mut **tx)
    .await?;
    let by_name: HashMap<&str, &Discovered> = found
        .iter()
        .map(|d| (d.definition.name.as_str(), d))
        .collect();
    let mut changes = Vec::new();
    for (tool, old, stored_fp) in &pins {
        // A pin made by the migration and not fingerprinted yet (another
        // replica runs the backfill) is compared by its definition.
        let old_fp = &match stored_fp.as_str() {
            "" => serde_json::from_value::<ToolDefinition>(old.clone())
                .map(|d| fingerprint(&d))
                .unwrap_or_default(),
            _ => stored_fp.clone(),
        };
        let Some(cur) = by_name.get(tool.as_str()) else {
            let c = insert_change(
                tx,
                org_id,
                now,
                links_base,
                NewChange {
                    connector_id,
                    connector_name,
                    tool_name: tool,
                    kind: ToolChangeKind::Removed,
                    action: ToolChangeAction::Recorded,
                    status: ToolChangeStatus::Open,
                    old: Some(old),
                    old_fingerprint: Some(old_fp),
                    new: None,
                },
            )
            .await?;
            changes.extend(c);
            continue;
        };
        // Offered again: a removal is over.
        set_status(
            tx,
            (org_id, connector_id, tool),
            &["removed"],
            ToolChangeStatus::Reverted,
            now,
            None,
        )
        .await?;
        if cur.fingerprint == *old_fp {
            // Back to what was approved: pending changes are moot, and a
            // quarantine that only they caused ends.
            set_status(
                tx,
                (org_id, connector_id, tool),
                &["changed"],
                ToolChangeStatus::Reverted,
                now,
                None,
            )
            .await?;
            release_if_clear(tx, org_id, connector_id, tool).await?;
            continue;
        }
        // A newer definition replaces a change still waiting for review.
        set_status(
            tx,
            (org_id, connector_id, tool),
            &["changed"],
            ToolChangeStatus::Superseded,
            now,
            Some(&cur.fingerprint),
        )
        .await?;
        let action = if strict {
            ToolChangeAction::Quarantined
        } else {
            ToolChangeAction::Alerted
        };
        let c = insert_change(
            tx,
            org_id,
            now,
            links_base,
            NewChange {
                connector_id,
                connector_name,
                tool_name: tool,
                kind: ToolChangeKind::Changed,
                action,
                status: ToolChangeStatus::Open,
                old: Some(old),
                old_fingerprint: Some(old_fp),
                new: Some(cur),
            },
        )
        .await?;
        if strict {
            sqlx::query(
                "UPDATE tool_pins SET quarantined_at = COALESCE(quarantined_at, $3)
                 WHERE connector_id = $1 AND tool_name = $2",
            )
            .bind(connector_id)
            .bind(tool)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        changes.extend(c);
    }
    // New upstream tools are recorded, never added to a pack.
    if let Some(previous) = previous {
        for d in found
            .iter()
            .filter(|d| !previous.contains(&d.definition.name))
        {
            let c = insert_change(
                tx,
                org_id,
                now,
                links_base,
                NewChange {
                    connector_id,
                    connector_name,
                    tool_name: &d.definition.name,
                    kind: ToolChangeKind::Appeared,
                    action: ToolChangeAction::Recorded,
                    status: ToolChangeStatus::Closed,
                    old: None,
                    old_fingerprint: None,
                    new: Some(d),
                },
            )
            .await?;
            changes.extend(c);
        }
    }
    Ok(changes)
}

/// Ends a tool's quarantine when no change that quarantines is open.
async fn release_if_clear(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    connector_id: Uuid,
    tool: &str,
) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE tool_pins SET quarantined_at = NULL
         WHERE org_id = $1 AND connector_id = $2 AND tool_name = $3
           AND NOT EXISTS (SELECT 1 FROM tool_changes c WHERE c.org_id = $1 AND c.connector_id = $2
                             AND c.tool_name = $3 AND c.status = 'open' AND c.action = 'quarantined')",
    )
    .bind(org_id)
    .bind(connector_id)
    .bind(tool)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Pins the tools of a pack that have no pin yet (adding a tool to a pack
/// approves its current definition), and drops pins no pack uses. A
/// definition carrying injected instructions is pinned quarantined, with
/// an open change to review. Called inside the pack change's transaction.
pub(super) async fn pin_new(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    approved_by: Option<&str>,
    now: DateTime<Utc>,
    links_base: &str,
) -> ServiceResult<Vec<ToolChange>> {
    type R = (
        Uuid,
        String,
        String,
        Option<String>,
        Option<String>,
        Value,
        Option<Value>,
        Option<Value>,
        Value,
    );
    let unpinned: Vec<R> = sqlx::query_as(
        "SELECT DISTINCT t.connector_id, c.name, t.name, t.title, t.description, t.input_schema,
                t.output_schema, t.annotations, t.findings
         FROM tool_pack_tools pt
         JOIN connector_tools t ON t.connector_id = pt.connector_id AND t.name = pt.tool_name
         JOIN connectors c ON c.id = t.connector_id
         WHERE pt.org_id = $1
           AND NOT EXISTS (SELECT 1 FROM tool_pins p WHERE p.connector_id = pt.connector_id
                             AND p.tool_name = pt.tool_name)",
    )
    .bind(org_id)
    .fetch_all(&mut **tx)
    .await?;
    let strict = on_change(tx, org_id).await? == OnToolChange::Quarantine;
    let mut changes = Vec::new();
    for (
        connector_id,
        connector_name,
        name,
        title,
        description,
        input,
        output,
        annotations,
        findings,
    ) in unpinned
    {
        let definition = ToolDefinition {
            name,
            title,
            description,
            input_schema: input,
            output_schema: output,
            annotations,
        };
        let d = Discovered {
            fingerprint: fingerprint(&definition),
            findings: serde_json::from_value(findings).unwrap_or_default(),
            definition,
        };
        let quarantine = strict && !d.findings.is_empty();
        sqlx::query(
            "INSERT INTO tool_pins (connector_id, org_id, tool_name, definition, fingerprint, approved_by,
               approved_at, quarantined_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(connector_id)
        .bind(org_id)
        .bind(&d.definition.name)
        .bind(d.definition.to_value())
        .bind(&d.fingerprint)
        .bind(approved_by)
        .bind(now)
        .bind(quarantine.then_some(now))
        .execute(&mut **tx)
        .await?;
        if !d.findings.is_empty() {
            let c = insert_change(
                tx,
                org_id,
                now,
                links_base,
                NewChange {
                    connector_id,
                    connector_name: &connector_name,
                    tool_name: &d.definition.name,
                    kind: ToolChangeKind::Injection,
                    action: if strict {
                        ToolChangeAction::Quarantined
                    } else {
                        ToolChangeAction::Alerted
                    },
                    status: ToolChangeStatus::Open,
                    old: None,
                    old_fingerprint: None,
                    new: Some(&d),
                },
            )
            .await?;
            changes.extend(c);
        }
    }
    drop_unused(tx, org_id).await?;
    Ok(changes)
}

/// Pins no pack exposes are dropped (re-adding the tool approves it anew);
/// their open changes close.
pub(super) async fn drop_unused(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
) -> ServiceResult<()> {
    sqlx::query(
        "WITH gone AS (
           DELETE FROM tool_pins p WHERE p.org_id = $1
             AND NOT EXISTS (SELECT 1 FROM tool_pack_tools pt WHERE pt.connector_id = p.connector_id
                               AND pt.tool_name = p.tool_name)
           RETURNING connector_id, tool_name)
         UPDATE tool_changes c SET status = 'closed', resolved_at = now()
         FROM gone WHERE c.org_id = $1 AND c.connector_id = gone.connector_id
           AND c.tool_name = gone.tool_name AND c.status = 'open'",
    )
    .bind(org_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gatehouse's own tools (GitHub, Postgres) follow the catalogue of the
/// running version: their pins are updated with it, nobody reviews them.
pub(super) async fn follow_builtin(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    connector_id: Uuid,
    definitions: &[ToolDefinition],
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    for d in definitions {
        sqlx::query(
            "UPDATE tool_pins SET definition = $4, fingerprint = $5, approved_by = NULL, approved_at = $6
             WHERE org_id = $1 AND connector_id = $2 AND tool_name = $3 AND fingerprint <> $5",
        )
        .bind(org_id)
        .bind(connector_id)
        .bind(&d.name)
        .bind(d.to_value())
        .bind(fingerprint(d))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Fills in the fingerprints of pins made by the migration (computed here
/// so there is one canonical form). Runs at start-up.
pub async fn backfill(db: &PgPool) -> ServiceResult<u64> {
    let rows: Vec<(Uuid, String, Value)> = sqlx::query_as(
        "SELECT connector_id, tool_name, definition FROM tool_pins WHERE fingerprint = ''",
    )
    .fetch_all(db)
    .await?;
    let mut n = 0;
    for (connector_id, tool, definition) in rows {
        let Ok(d) = serde_json::from_value::<ToolDefinition>(definition) else {
            continue;
        };
        n += sqlx::query(
            "UPDATE tool_pins SET fingerprint = $3 WHERE connector_id = $1 AND tool_name = $2 AND fingerprint = ''",
        )
        .bind(connector_id)
        .bind(tool)
        .bind(fingerprint(&d))
        .execute(db)
        .await?
        .rows_affected();
    }
    Ok(n)
}

type PinRow = (
    Uuid,
    String,
    String,
    Value,
    String,
    Option<String>,
    DateTime<Utc>,
    bool,
    bool,
    bool,
    Vec<String>,
    Option<Uuid>,
);

/// Every exposed tool with its approved definition and where it stands.
pub async fn pins(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<PinnedTool>> {
    t.require(Role::Viewer)?;
    let rows: Vec<PinRow> = sqlx::query_as(
        "SELECT p.connector_id, c.name, p.tool_name, p.definition, p.fingerprint, p.approved_by,
                p.approved_at, p.quarantined_at IS NOT NULL,
                EXISTS (SELECT 1 FROM connector_tools t WHERE t.connector_id = p.connector_id
                          AND t.name = p.tool_name),
                EXISTS (SELECT 1 FROM connector_tools t WHERE t.connector_id = p.connector_id
                          AND t.name = p.tool_name AND t.fingerprint <> p.fingerprint),
                COALESCE((SELECT array_agg(DISTINCT tp.name ORDER BY tp.name) FROM tool_pack_tools pt
                          JOIN tool_packs tp ON tp.id = pt.pack_id
                          WHERE pt.connector_id = p.connector_id AND pt.tool_name = p.tool_name), '{}'),
                (SELECT ch.id FROM tool_changes ch WHERE ch.org_id = p.org_id
                   AND ch.connector_id = p.connector_id AND ch.tool_name = p.tool_name AND ch.status = 'open'
                 ORDER BY ch.detected_at DESC LIMIT 1)
         FROM tool_pins p JOIN connectors c ON c.id = p.connector_id
         WHERE p.org_id = $1 ORDER BY c.name, p.tool_name",
    )
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let definition = serde_json::from_value(r.3).ok()?;
            let status = if r.7 {
                PinStatus::Quarantined
            } else if !r.8 {
                PinStatus::Unavailable
            } else if r.9 {
                PinStatus::Changed
            } else {
                PinStatus::Approved
            };
            Some(PinnedTool {
                exposed_name: exposed_name(&r.1, &r.2),
                connector_id: r.0,
                connector_name: r.1,
                tool_name: r.2,
                status,
                fingerprint: r.4,
                approved_by: r.5,
                approved_at: r.6,
                packs: r.10,
                open_change: r.11,
                definition,
            })
        })
        .collect())
}

type ChangeRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Value,
    Option<DateTime<Utc>>,
    Option<String>,
);

const CHANGE: &str =
    "SELECT id, connector_id, connector_name, tool_name, kind, action, status, detected_at,
    old_fingerprint, new_fingerprint, findings, resolved_at, resolved_by FROM tool_changes";

fn to_change(r: ChangeRow) -> ServiceResult<ToolChange> {
    let bad = |e: String| anyhow::anyhow!("tool change in database: {e}");
    Ok(ToolChange {
        id: r.0,
        connector_id: r.1,
        exposed_name: exposed_name(&r.2, &r.3),
        connector_name: r.2,
        tool_name: r.3,
        kind: r.4.parse().map_err(bad)?,
        action: r.5.parse().map_err(bad)?,
        status: r.6.parse().map_err(bad)?,
        detected_at: r.7,
        old_fingerprint: r.8,
        new_fingerprint: r.9,
        findings: serde_json::from_value(r.10).unwrap_or_default(),
        resolved_at: r.11,
        resolved_by: r.12,
    })
}

/// Changes, newest first (open ones only, if asked).
pub async fn changes(
    db: &PgPool,
    t: &TenantCtx,
    q: &ToolChangeQuery,
) -> ServiceResult<Vec<ToolChange>> {
    t.require(Role::Viewer)?;
    let rows: Vec<ChangeRow> = sqlx::query_as(&format!(
        "{CHANGE} WHERE org_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY detected_at DESC, id LIMIT $3"
    ))
    .bind(t.org_id)
    .bind(q.status.map(|s| s.as_str()))
    .bind(i64::from(q.limit.unwrap_or(100).clamp(1, 500)))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_change).collect()
}

/// One change with both definitions side by side.
pub async fn change(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<ToolChangeDetail> {
    t.require(Role::Viewer)?;
    let row: Option<(ChangeRow, Option<Value>, Option<Value>)> = sqlx::query_as::<_, (
        Uuid,
        Uuid,
        String,
        String,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        Value,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<Value>,
        Option<Value>,
    )>(
        "SELECT id, connector_id, connector_name, tool_name, kind, action, status, detected_at,
           old_fingerprint, new_fingerprint, findings, resolved_at, resolved_by, old_definition, new_definition
         FROM tool_changes WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .map(|r| {
        (
            (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12),
            r.13,
            r.14,
        )
    });
    let (r, old, new) = row.ok_or_else(|| ApiError::not_found("tool change"))?;
    let approved: Option<ToolDefinition> = old.and_then(|v| serde_json::from_value(v).ok());
    let upstream: Option<ToolDefinition> = new.and_then(|v| serde_json::from_value(v).ok());
    let lines =
        |d: &Option<ToolDefinition>| d.as_ref().map(|d| d.readable_lines()).unwrap_or_default();
    Ok(ToolChangeDetail {
        change: to_change(r)?,
        diff: side_by_side(&lines(&approved), &lines(&upstream)),
        approved,
        upstream,
    })
}

/// Two texts as aligned rows: equal lines side by side, a replaced block
/// paired line by line, additions and removals against blanks. `similar`
/// (Myers' diff) finds the blocks.
fn side_by_side(old: &[String], new: &[String]) -> Vec<DiffRow> {
    let old_refs: Vec<&str> = old.iter().map(String::as_str).collect();
    let new_refs: Vec<&str> = new.iter().map(String::as_str).collect();
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_slices(&old_refs, &new_refs);
    let mut rows = Vec::new();
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        let len = o.len().max(n.len());
        for i in 0..len {
            let left = old.get(o.start + i).filter(|_| i < o.len()).cloned();
            let right = new.get(n.start + i).filter(|_| i < n.len()).cloned();
            let same = matches!(op, similar::DiffOp::Equal { .. });
            rows.push(DiffRow { left, right, same });
        }
    }
    rows
}

/// An admin's review of an open change: approve pins the upstream's
/// current definition (which must still be the one reviewed) and serves
/// it; remove takes the tool out of every pack.
pub async fn review(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    id: Uuid,
    decision: ToolReview,
) -> ServiceResult<ToolChangeDetail> {
    t.require(Role::Admin)?;
    let (_, email) = super::enforcement::actor_identity(db, t).await?;
    let mut tx = db.begin().await?;
    let row: Option<(Uuid, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT connector_id, tool_name, kind, status, new_fingerprint FROM tool_changes
         WHERE org_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(t.org_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (connector_id, tool, kind, status, new_fp) =
        row.ok_or_else(|| ApiError::not_found("tool change"))?;
    if status != "open" {
        return Err(ApiError::conflict(format!("This change is already {status}.")).into());
    }
    let resolve = |status: ToolChangeStatus| {
        sqlx::query(
            "UPDATE tool_changes SET status = $3, resolved_at = $4, resolved_by = $5
             WHERE org_id = $1 AND id = $2",
        )
        .bind(t.org_id)
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .bind(email.clone())
    };
    match decision {
        ToolReview::Approve => {
            if kind == "removed" {
                return Err(ApiError::conflict(
                    "The upstream no longer offers this tool, so there is no definition to approve: remove it, \
                     or wait until the upstream offers it again.",
                )
                .into());
            }
            // What the upstream offers now must be what was reviewed.
            type Cur = (
                Option<String>,
                Option<String>,
                Value,
                Option<Value>,
                Option<Value>,
                String,
            );
            let cur: Option<Cur> = sqlx::query_as(
                "SELECT title, description, input_schema, output_schema, annotations, fingerprint
                 FROM connector_tools WHERE org_id = $1 AND connector_id = $2 AND name = $3",
            )
            .bind(t.org_id)
            .bind(connector_id)
            .bind(&tool)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((title, description, input, output, annotations, fp)) = cur else {
                return Err(ApiError::conflict(
                    "The upstream no longer offers this tool; refresh the connector.",
                )
                .into());
            };
            let definition = ToolDefinition {
                name: tool.clone(),
                title,
                description,
                input_schema: input,
                output_schema: output,
                annotations,
            };
            if Some(&fp) != new_fp.as_ref() || fingerprint(&definition) != fp {
                return Err(ApiError::conflict(
                    "The upstream changed this tool again since this change was recorded: review the newer change.",
                )
                .into());
            }
            let pinned = sqlx::query(
                "UPDATE tool_pins SET definition = $4, fingerprint = $5, approved_by = $6, approved_at = $7,
                   quarantined_at = NULL
                 WHERE org_id = $1 AND connector_id = $2 AND tool_name = $3",
            )
            .bind(t.org_id)
            .bind(connector_id)
            .bind(&tool)
            .bind(definition.to_value())
            .bind(&fp)
            .bind(email.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if pinned.rows_affected() == 0 {
                return Err(ApiError::conflict(
                    "This tool is no longer in any Tool Pack; add it to a pack to approve it.",
                )
                .into());
            }
            resolve(ToolChangeStatus::Approved)
                .execute(&mut *tx)
                .await?;
            // Whatever else was open about this tool is settled by this
            // review of its current definition.
            set_status(
                &mut tx,
                (t.org_id, connector_id, &tool),
                &["changed", "injection"],
                ToolChangeStatus::Superseded,
                now,
                None,
            )
            .await?;
        }
        ToolReview::Remove => {
            sqlx::query(
                "DELETE FROM tool_pack_tools WHERE org_id = $1 AND connector_id = $2 AND tool_name = $3",
            )
            .bind(t.org_id)
            .bind(connector_id)
            .bind(&tool)
            .execute(&mut *tx)
            .await?;
            resolve(ToolChangeStatus::Removed).execute(&mut *tx).await?;
            drop_unused(&mut tx, t.org_id).await?;
        }
    }
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, change_id = %id, decision = ?decision, "tool change reviewed");
    change(db, t, id).await
}

pub async fn settings(db: &PgPool, t: &TenantCtx) -> ServiceResult<ToolIntegritySettings> {
    t.require(Role::Viewer)?;
    let s: String = sqlx::query_scalar("SELECT tool_change_action FROM orgs WHERE id = $1")
        .bind(t.org_id)
        .fetch_one(db)
        .await?;
    Ok(ToolIntegritySettings {
        on_change: s.parse().unwrap_or_default(),
    })
}

/// Sets what upstream changes do from now on (tools already quarantined
/// stay so until reviewed).
pub async fn set_settings(
    db: &PgPool,
    t: &TenantCtx,
    s: ToolIntegritySettings,
) -> ServiceResult<ToolIntegritySettings> {
    t.require(Role::Admin)?;
    sqlx::query("UPDATE orgs SET tool_change_action = $2 WHERE id = $1")
        .bind(t.org_id)
        .bind(s.on_change.as_str())
        .execute(db)
        .await?;
    tracing::info!(org_id = %t.org_id, on_change = s.on_change.as_str(), "tool integrity setting changed");
    settings(db, t).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn side_by_side_pairs_replaced_lines_and_keeps_equal_ones_aligned() {
        let rows = side_by_side(&lines("a\nb\nc"), &lines("a\nB\nc\nd"));
        let cells: Vec<(Option<&str>, Option<&str>, bool)> = rows
            .iter()
            .map(|r| (r.left.as_deref(), r.right.as_deref(), r.same))
            .collect();
        assert_eq!(
            cells,
            vec![
                (Some("a"), Some("a"), true),
                (Some("b"), Some("B"), false),
                (Some("c"), Some("c"), true),
                (None, Some("d"), false),
            ]
        );
    }

    #[test]
    fn fingerprints_ignore_key_order_and_see_any_change() {
        let a: ToolDefinition = serde_json::from_value(serde_json::json!({
            "name": "w", "description": "Weather.", "inputSchema": {"type": "object", "properties": {"a": {}, "b": {}}}
        }))
        .unwrap();
        let b: ToolDefinition = serde_json::from_value(serde_json::json!({
            "inputSchema": {"properties": {"b": {}, "a": {}}, "type": "object"}, "description": "Weather.", "name": "w"
        }))
        .unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = a.clone();
        c.description = Some("Weather.\u{200b}".into());
        assert_ne!(fingerprint(&a), fingerprint(&c));
        assert!(fingerprint(&a).starts_with("sha256:") && fingerprint(&a).len() == 71);
    }
}
