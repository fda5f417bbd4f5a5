//! Reading the decision trail: calls and violations, filtered and paged
//! with keyset cursors (stable under inserts, index-friendly at millions of
//! rows).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use shared::account::{OrgMode, Role, TenantCtx};
use shared::error::ApiError;
use shared::gateway::{
    CallFilter, Decision, Page, ToolCall, ToolCallDetail, Violation, ViolationFilter,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceError, ServiceResult};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn encode_cursor(at: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.timestamp_micros()))
}

fn decode_cursor(c: &str) -> ServiceResult<(DateTime<Utc>, String)> {
    let bad = || {
        ServiceError::from(ApiError::invalid(
            "cursor",
            "This page cursor is not valid; start from the first page.",
        ))
    };
    let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    let (ts, id) = s.split_once(':').ok_or_else(bad)?;
    let micros: i64 = ts.parse().map_err(|_| bad())?;
    Ok((
        DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        id.to_owned(),
    ))
}

fn limit(l: Option<u32>) -> i64 {
    i64::from(l.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

type VRow = (
    i64,
    Uuid,
    DateTime<Utc>,
    String,
    String,
    String,
    Option<String>,
    f32,
    String,
    bool,
    String,
    String,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
);

fn to_violation(r: VRow) -> ServiceResult<Violation> {
    let bad = |w: &str| ServiceError::Internal(anyhow::anyhow!("bad {w} in violations"));
    Ok(Violation {
        id: r.0,
        call_id: r.1,
        created_at: r.2,
        rule_key: r.3,
        label: r.4,
        direction: r.5.parse().map_err(|_| bad("direction"))?,
        pointer: r.6,
        score: r.7,
        action: r.8.parse().map_err(|_| bad("action"))?,
        enforced: r.9,
        snippet: r.10,
        tool: r.11,
        pack_id: r.12,
        pack_name: r.13,
        registered_user_id: r.14,
        registered_user_name: r.15,
    })
}

const V_SELECT: &str = "SELECT v.id, v.call_id, v.created_at, v.rule_key, v.label, v.direction, v.pointer, v.score,
        v.action, v.enforced, v.snippet, c.tool, v.pack_id, p.name, v.registered_user_id, u.display_name
     FROM violations v
     JOIN tool_calls c ON c.id = v.call_id
     LEFT JOIN tool_packs p ON p.id = v.pack_id
     LEFT JOIN registered_users u ON u.id = v.registered_user_id";

pub async fn violations(
    db: &PgPool,
    t: &TenantCtx,
    f: &ViolationFilter,
) -> ServiceResult<Page<Violation>> {
    t.require(Role::Viewer)?;
    let cursor = f.cursor.as_deref().map(decode_cursor).transpose()?;
    let (c_at, c_id) = match &cursor {
        Some((at, id)) => (
            Some(*at),
            Some(
                id.parse::<i64>()
                    .map_err(|_| ApiError::invalid("cursor", "Bad cursor."))?,
            ),
        ),
        None => (None, None),
    };
    let n = limit(f.limit);
    let rows: Vec<VRow> = sqlx::query_as(&format!(
        "{V_SELECT}
         WHERE v.org_id = $1
           AND ($2::timestamptz IS NULL OR v.created_at >= $2)
           AND ($3::timestamptz IS NULL OR v.created_at < $3)
           AND ($4::text IS NULL OR v.rule_key = $4)
           AND ($5::text IS NULL OR v.label = $5)
           AND ($6::text IS NULL OR v.action = $6)
           AND ($7::text IS NULL OR v.direction = $7)
           AND ($8::uuid IS NULL OR v.pack_id = $8)
           AND ($9::uuid IS NULL OR v.registered_user_id = $9)
           AND ($10::timestamptz IS NULL OR (v.created_at, v.id) < ($10, $11))
         ORDER BY v.created_at DESC, v.id DESC LIMIT $12"
    ))
    .bind(t.org_id)
    .bind(f.from)
    .bind(f.to)
    .bind(&f.rule)
    .bind(&f.label)
    .bind(f.action.map(|a| a.as_str()))
    .bind(f.direction.map(|d| d.as_str()))
    .bind(f.pack_id)
    .bind(f.registered_user_id)
    .bind(c_at)
    .bind(c_id)
    .bind(n + 1)
    .fetch_all(db)
    .await?;
    let mut items = rows
        .into_iter()
        .map(to_violation)
        .collect::<ServiceResult<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > n {
        items.truncate(n as usize);
        items
            .last()
            .map(|v| encode_cursor(v.created_at, &v.id.to_string()))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

#[derive(sqlx::FromRow)]
struct CRow {
    id: Uuid,
    created_at: DateTime<Utc>,
    tool: String,
    upstream_tool: Option<String>,
    connector_name: Option<String>,
    pack_id: Option<Uuid>,
    pack_name: Option<String>,
    registered_user_id: Option<Uuid>,
    registered_user_name: Option<String>,
    key_prefix: Option<String>,
    session_id: Option<Uuid>,
    mode: String,
    decision: String,
    reasons: Vec<String>,
    outcome: String,
    error_message: Option<String>,
    latency_us: i64,
    upstream_us: Option<i64>,
    client_name: Option<String>,
    client_version: Option<String>,
    violation_count: i64,
}

const C_SELECT: &str = "SELECT c.id, c.created_at, c.tool, c.upstream_tool, cn.name AS connector_name, c.pack_id,
        p.name AS pack_name, c.registered_user_id, u.display_name AS registered_user_name, k.prefix AS key_prefix,
        c.session_id, c.mode, c.decision, c.reasons, c.outcome, c.error_message, c.latency_us, c.upstream_us,
        c.client_name, c.client_version,
        (SELECT count(*) FROM violations v WHERE v.call_id = c.id) AS violation_count
     FROM tool_calls c
     LEFT JOIN connectors cn ON cn.id = c.connector_id
     LEFT JOIN tool_packs p ON p.id = c.pack_id
     LEFT JOIN registered_users u ON u.id = c.registered_user_id
     LEFT JOIN agent_keys k ON k.id = c.agent_key_id";

fn to_call(r: CRow) -> ServiceResult<ToolCall> {
    Ok(ToolCall {
        id: r.id,
        created_at: r.created_at,
        tool: r.tool,
        upstream_tool: r.upstream_tool,
        connector_name: r.connector_name,
        pack_id: r.pack_id,
        pack_name: r.pack_name,
        registered_user_id: r.registered_user_id,
        registered_user_name: r.registered_user_name,
        agent_key_prefix: r.key_prefix,
        session_id: r.session_id,
        mode: if r.mode == "enforce" {
            OrgMode::Enforce
        } else {
            OrgMode::Monitor
        },
        decision: r
            .decision
            .parse::<Decision>()
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?,
        reasons: r.reasons,
        outcome: r.outcome,
        error_message: r.error_message,
        latency_ms: r.latency_us as f64 / 1000.0,
        upstream_ms: r.upstream_us.map(|u| u as f64 / 1000.0),
        client_name: r.client_name,
        client_version: r.client_version,
        violation_count: r.violation_count,
    })
}

pub async fn calls(db: &PgPool, t: &TenantCtx, f: &CallFilter) -> ServiceResult<Page<ToolCall>> {
    t.require(Role::Viewer)?;
    let cursor = f.cursor.as_deref().map(decode_cursor).transpose()?;
    let (c_at, c_id) = match &cursor {
        Some((at, id)) => (
            Some(*at),
            Some(
                id.parse::<Uuid>()
                    .map_err(|_| ApiError::invalid("cursor", "Bad cursor."))?,
            ),
        ),
        None => (None, None),
    };
    let n = limit(f.limit);
    let rows: Vec<CRow> = sqlx::query_as(&format!(
        "{C_SELECT}
         WHERE c.org_id = $1
           AND ($2::timestamptz IS NULL OR c.created_at >= $2)
           AND ($3::timestamptz IS NULL OR c.created_at < $3)
           AND ($4::text IS NULL OR c.decision = $4)
           AND ($5::text IS NULL OR c.tool = $5)
           AND ($6::uuid IS NULL OR c.pack_id = $6)
           AND ($7::uuid IS NULL OR c.registered_user_id = $7)
           AND ($8::uuid IS NULL OR c.session_id = $8)
           AND ($9::timestamptz IS NULL OR (c.created_at, c.id) < ($9, $10))
         ORDER BY c.created_at DESC, c.id DESC LIMIT $11"
    ))
    .bind(t.org_id)
    .bind(f.from)
    .bind(f.to)
    .bind(f.decision.map(|d| d.as_str()))
    .bind(&f.tool)
    .bind(f.pack_id)
    .bind(f.registered_user_id)
    .bind(f.session_id)
    .bind(c_at)
    .bind(c_id)
    .bind(n + 1)
    .fetch_all(db)
    .await?;
    let mut items = rows
        .into_iter()
        .map(to_call)
        .collect::<ServiceResult<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > n {
        items.truncate(n as usize);
        items
            .last()
            .map(|c| encode_cursor(c.created_at, &c.id.to_string()))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

pub async fn call(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<ToolCallDetail> {
    t.require(Role::Viewer)?;
    let row: Option<CRow> =
        sqlx::query_as(&format!("{C_SELECT} WHERE c.org_id = $1 AND c.id = $2"))
            .bind(t.org_id)
            .bind(id)
            .fetch_optional(db)
            .await?;
    let call = to_call(row.ok_or_else(|| ApiError::not_found("tool call"))?)?;
    let extra: (Option<serde_json::Value>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT arguments_redacted, mcp_session_id, protocol_version FROM tool_calls WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .fetch_one(db)
    .await?;
    let rows: Vec<VRow> = sqlx::query_as(&format!(
        "{V_SELECT} WHERE v.org_id = $1 AND v.call_id = $2 ORDER BY v.id"
    ))
    .bind(t.org_id)
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(ToolCallDetail {
        call,
        arguments_redacted: extra.0,
        violations: rows
            .into_iter()
            .map(to_violation)
            .collect::<ServiceResult<Vec<_>>>()?,
        mcp_session_id: extra.1,
        protocol_version: extra.2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let c = encode_cursor(at, "42");
        assert_eq!(decode_cursor(&c).unwrap(), (at, "42".to_owned()));
        assert!(decode_cursor("%%%").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("nocolon")).is_err());
    }
}
