//! Runtime sessions: one agent run and its calls as one timeline, and the
//! decision-trail export (JSON Lines, redacted evidence only).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{
    ApprovalStatus, CallFilter, ExportedCall, MAX_TIMELINE, PAUSED_REASON, Page, RuntimeSession,
    SessionCounts, SessionDetail, SessionFilter, TimelineCall, ToolCall,
};
use shared::error::ApiError;
use sqlx::{PgPool, QueryBuilder};
use uuid::Uuid;

use super::ServiceResult;
use super::paging::{self, After};
use super::records::{self, CRow};

type SRow = (
    Uuid,
    String,
    Option<String>,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    i64,
    i64,
    i64,
);

const S_SELECT: &str = "SELECT s.id, s.kind, COALESCE(s.name, s.mcp_session_id), s.pack_id, p.name,
        s.registered_user_id, u.display_name, k.prefix, s.client_name, s.client_version, s.started_at,
        s.last_seen_at, s.call_count, s.blocked_count, s.approval_count, s.violation_count
     FROM runtime_sessions s
     LEFT JOIN tool_packs p ON p.org_id = s.org_id AND p.id = s.pack_id
     LEFT JOIN registered_users u ON u.org_id = s.org_id AND u.id = s.registered_user_id
     LEFT JOIN agent_keys k ON k.org_id = s.org_id AND k.id = s.agent_key_id";

fn to_session(r: SRow) -> ServiceResult<RuntimeSession> {
    Ok(RuntimeSession {
        id: r.0,
        kind: r.1.parse().map_err(|e: String| anyhow::anyhow!(e))?,
        name: r.2,
        pack_id: r.3,
        pack_name: r.4,
        registered_user_id: r.5,
        registered_user_name: r.6,
        agent_key_prefix: r.7,
        client_name: r.8,
        client_version: r.9,
        started_at: r.10,
        last_seen_at: r.11,
        call_count: r.12,
        blocked_count: r.13,
        approval_count: r.14,
        violation_count: r.15,
    })
}

/// The sessions list, newest first (keyset paged by start time).
pub async fn list(
    db: &PgPool,
    t: &TenantCtx,
    f: &SessionFilter,
) -> ServiceResult<Page<RuntimeSession>> {
    t.require(Role::Viewer)?;
    let after = After::<Uuid>::decode(f.cursor.as_deref())?;
    let n = paging::limit(f.limit);
    let mut q = QueryBuilder::new(S_SELECT);
    q.push(" WHERE s.org_id = ").push_bind(t.org_id);
    if let Some(from) = f.from {
        q.push(" AND s.last_seen_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND s.started_at < ").push_bind(to);
    }
    if let Some(p) = f.pack_id {
        q.push(" AND s.pack_id = ").push_bind(p);
    }
    if let Some(u) = f.registered_user_id {
        q.push(" AND s.registered_user_id = ").push_bind(u);
    }
    if f.had_block {
        q.push(" AND s.blocked_count > 0");
    }
    if f.had_approval {
        q.push(" AND s.approval_count > 0");
    }
    if f.had_violation {
        q.push(" AND s.violation_count > 0");
    }
    if let Some(a) = after {
        q.push(" AND (s.started_at, s.id) < (")
            .push_bind(a.at)
            .push(", ")
            .push_bind(a.id)
            .push(")");
    }
    q.push(" ORDER BY s.started_at DESC, s.id DESC LIMIT ")
        .push_bind(n + 1);
    let rows: Vec<SRow> = q.build_query_as().fetch_all(db).await?;
    let items = rows
        .into_iter()
        .map(to_session)
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(paging::page(items, n, |s| (s.started_at, s.id)))
}

async fn session(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<RuntimeSession> {
    let row: Option<SRow> =
        sqlx::query_as(&format!("{S_SELECT} WHERE s.org_id = $1 AND s.id = $2"))
            .bind(t.org_id)
            .bind(id)
            .fetch_optional(db)
            .await?;
    to_session(row.ok_or_else(|| ApiError::not_found("session"))?)
}

/// A session with its counts and timeline (oldest call first).
pub async fn get(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<SessionDetail> {
    t.require(Role::Viewer)?;
    let session = session(db, t, id).await?;
    type Counts = (i64, i64, i64, i64, i64, i64, i64, i64);
    let c: Counts = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE decision = 'allow'),
           count(*) FILTER (WHERE decision = 'redact'), count(*) FILTER (WHERE decision = 'block'),
           count(*) FILTER (WHERE decision = 'error'), count(approval_id),
           COALESCE((SELECT count(*) FROM violations v JOIN tool_calls x ON x.id = v.call_id AND x.created_at = v.created_at
                     WHERE v.org_id = $1 AND x.org_id = $1 AND x.session_id = $2), 0),
           count(*) FILTER (WHERE $3 = ANY(reasons))
         FROM tool_calls WHERE org_id = $1 AND session_id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(PAUSED_REASON)
    .fetch_one(db)
    .await?;
    let rows: Vec<CRow> = sqlx::query_as(&format!(
        "{} WHERE c.org_id = $1 AND c.session_id = $2 ORDER BY c.created_at, c.id LIMIT $3",
        records::C_SELECT
    ))
    .bind(t.org_id)
    .bind(id)
    .bind(MAX_TIMELINE + 1)
    .fetch_all(db)
    .await?;
    let truncated = rows.len() as i64 > MAX_TIMELINE;
    let calls = rows
        .into_iter()
        .take(MAX_TIMELINE as usize)
        .map(records::to_call)
        .collect::<ServiceResult<Vec<_>>>()?;
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    type Extra = (
        Uuid,
        Option<Uuid>,
        Option<String>,
        Option<DateTime<Utc>>,
        Vec<String>,
    );
    let extra: Vec<Extra> = sqlx::query_as(
        "SELECT c.id, c.approval_id, a.status, a.expires_at,
           COALESCE((SELECT array_agg(DISTINCT v.label) FROM violations v
                     WHERE v.org_id = c.org_id AND v.call_id = c.id AND v.created_at = c.created_at), '{}')
         FROM tool_calls c LEFT JOIN approvals a ON a.org_id = c.org_id AND a.id = c.approval_id
         WHERE c.org_id = $1 AND c.id = ANY($2)",
    )
    .bind(t.org_id)
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut extra: HashMap<Uuid, Extra> = extra.into_iter().map(|e| (e.0, e)).collect();
    let timeline = calls
        .into_iter()
        .map(|call| {
            let (approval_id, approval_status, detections) = match extra.remove(&call.id) {
                Some((_, aid, status, expires, labels)) => (
                    aid,
                    status
                        .zip(expires)
                        .and_then(|(s, e)| ApprovalStatus::at(&s, e, now)),
                    labels,
                ),
                None => (None, None, Vec::new()),
            };
            TimelineCall {
                policy_rule: TimelineCall::policy_rule_of(&call.reasons),
                paused: call.reasons.iter().any(|r| r == PAUSED_REASON),
                detections,
                approval_id,
                approval_status,
                call,
            }
        })
        .collect();
    Ok(SessionDetail {
        session,
        counts: SessionCounts {
            calls: c.0,
            allowed: c.1,
            redacted: c.2,
            blocked: c.3,
            errors: c.4,
            approvals: c.5,
            violations: c.6,
            paused: c.7,
        },
        timeline,
        truncated,
    })
}

/// Checks that a session exists in the tenant's org before its export
/// starts streaming (another org's session reads as not found).
pub async fn require(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Viewer)?;
    session(db, t, id).await.map(|_| ())
}

/// Calls exported per database round trip.
pub const EXPORT_BATCH: i64 = 500;

/// Where an export continues: after this `(created_at, id)`.
pub type ExportCursor = (DateTime<Utc>, Uuid);

/// The next batch of an export, oldest first: calls matching `f` after
/// `after`, each with its redacted evidence (arguments as recorded,
/// violations with redacted snippets, approval). Never raw values: the
/// records hold none.
pub async fn export_batch(
    db: &PgPool,
    t: &TenantCtx,
    f: &CallFilter,
    after: Option<ExportCursor>,
) -> ServiceResult<Vec<ExportedCall>> {
    t.require(Role::Viewer)?;
    let mut q = QueryBuilder::new(records::C_SELECT);
    q.push(" WHERE c.org_id = ").push_bind(t.org_id);
    records::push_call_filter(&mut q, f);
    if let Some((at, id)) = after {
        q.push(" AND (c.created_at, c.id) > (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY c.created_at, c.id LIMIT ")
        .push_bind(EXPORT_BATCH);
    let rows: Vec<CRow> = q.build_query_as().fetch_all(db).await?;
    let calls: Vec<ToolCall> = rows
        .into_iter()
        .map(records::to_call)
        .collect::<ServiceResult<Vec<_>>>()?;
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    type Extra = (
        Uuid,
        Option<serde_json::Value>,
        Option<Uuid>,
        Option<String>,
        Option<String>,
    );
    let extra: Vec<Extra> = sqlx::query_as(
        "SELECT id, arguments_redacted, approval_id, mcp_session_id, protocol_version
         FROM tool_calls WHERE org_id = $1 AND id = ANY($2)",
    )
    .bind(t.org_id)
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let mut extra: HashMap<Uuid, Extra> = extra.into_iter().map(|e| (e.0, e)).collect();
    let mut violations = records::violations_of(db, t, &ids).await?;
    Ok(calls
        .into_iter()
        .map(|call| {
            let (_, arguments_redacted, approval_id, mcp_session_id, protocol_version) = extra
                .remove(&call.id)
                .unwrap_or((call.id, None, None, None, None));
            ExportedCall {
                violations: violations.remove(&call.id).unwrap_or_default(),
                arguments_redacted,
                approval_id,
                mcp_session_id,
                protocol_version,
                call,
            }
        })
        .collect())
}
