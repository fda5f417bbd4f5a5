//! Approval requests: opened by the gateway for a held call, decided by a
//! person (approver, admin or owner) in the inbox or the admin API, used
//! once by the call they allow.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use shared::account::{Role, TenantCtx};
use shared::api::{
    Approval, ApprovalDecision, ApprovalFilter, ApprovalSettings, ApprovalStatus, WebhookEvent,
};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::data_path::AgentCtx;
use super::{ServiceError, ServiceResult, webhooks};
use crate::approvals::CHANNEL;

/// What the gateway stores when it holds a call.
pub struct NewApproval {
    /// For a call answered as an MCP task: the exact arguments, sealed,
    /// kept until the approved call runs.
    pub task_args: Option<crate::crypto::Sealed>,
    pub id: Uuid,
    pub session_id: Uuid,
    pub tool: String,
    pub arguments_redacted: Value,
    pub arguments_digest: String,
    pub rule_name: Option<String>,
    pub reasons: Vec<String>,
}

/// Opens a request for a held call; it expires after the org's expiry.
pub async fn open(
    db: &PgPool,
    agent: &AgentCtx,
    now: DateTime<Utc>,
    links_base: &str,
    a: &NewApproval,
) -> ServiceResult<()> {
    let c = agent.claims();
    let expires_at = now + Duration::hours(i64::from(agent.approvals().expiry_hours));
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO approvals (id, org_id, pack_id, registered_user_id, agent_key_id, session_id, tool,
           arguments_redacted, arguments_digest, rule_name, reasons, status, requested_at, expires_at,
           task_state, task_args_ciphertext, task_args_nonce, task_args_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13,
           CASE WHEN $14::bytea IS NULL THEN NULL ELSE 'waiting' END, $14, $15, $16)",
    )
    .bind(a.id)
    .bind(c.org)
    .bind(c.pack)
    .bind(c.sub)
    .bind(c.key)
    .bind(a.session_id)
    .bind(&a.tool)
    .bind(&a.arguments_redacted)
    .bind(&a.arguments_digest)
    .bind(&a.rule_name)
    .bind(&a.reasons)
    .bind(now)
    .bind(expires_at)
    .bind(a.task_args.as_ref().map(|t| t.ciphertext.clone()))
    .bind(a.task_args.as_ref().map(|t| t.nonce.clone()))
    .bind(a.task_args.as_ref().map(|t| t.key_id.clone()))
    .execute(&mut *tx)
    .await?;
    webhooks::enqueue(
        &mut *tx,
        c.org,
        WebhookEvent::ApprovalRequested,
        serde_json::json!({
            "approval_id": a.id,
            "tool": a.tool,
            "rule": a.rule_name,
            "pack_id": c.pack,
            "registered_user_id": c.sub,
            "requested_at": now,
            "expires_at": expires_at,
            "url": format!("{links_base}/approvals?id={}", a.id),
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes an approved, unexpired, unused approval of this Registered User
/// in this Tool Pack for exactly this tool and these arguments, if there
/// is one: it is used
/// up (single use), atomically, so two identical retries cannot both pass.
pub async fn take_approved(
    db: &PgPool,
    agent: &AgentCtx,
    now: DateTime<Utc>,
    tool: &str,
    digest: &str,
) -> ServiceResult<Option<Uuid>> {
    let c = agent.claims();
    Ok(sqlx::query_scalar(
        "UPDATE approvals SET status = 'used', used_at = $5
         WHERE id = (SELECT id FROM approvals
                     WHERE org_id = $1 AND registered_user_id = $2 AND tool = $3
                       AND arguments_digest = $4 AND status = 'approved' AND expires_at > $5
                       AND pack_id = $6
                     ORDER BY decided_at LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(c.org)
    .bind(c.sub)
    .bind(tool)
    .bind(digest)
    .bind(now)
    .bind(c.pack)
    .fetch_optional(db)
    .await?)
}

/// Where a waiting call's request stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Approved; now used by this call.
    Approved,
    Denied {
        comment: Option<String>,
    },
    Pending,
    Expired,
}

/// Reads the request a call waits for; an approval is used up by the
/// waiting call in the same statement (it cannot also pass a retry).
pub async fn settle(
    db: &PgPool,
    agent: &AgentCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<Settled> {
    let org = agent.claims().org;
    let used: Option<Uuid> = sqlx::query_scalar(
        "UPDATE approvals SET status = 'used', used_at = $3
         WHERE org_id = $1 AND id = $2 AND status = 'approved' AND expires_at > $3 RETURNING id",
    )
    .bind(org)
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await?;
    if used.is_some() {
        return Ok(Settled::Approved);
    }
    let row: Option<(String, DateTime<Utc>, Option<String>)> = sqlx::query_as(
        "SELECT status, expires_at, comment FROM approvals WHERE org_id = $1 AND id = $2",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some((status, expires_at, comment)) = row else {
        return Ok(Settled::Expired);
    };
    Ok(match ApprovalStatus::at(&status, expires_at, now) {
        Some(ApprovalStatus::Denied) => Settled::Denied { comment },
        Some(ApprovalStatus::Pending) => Settled::Pending,
        _ => Settled::Expired,
    })
}

/// Binds a task's sealed arguments to its approval.
pub fn task_aad(org_id: Uuid, id: Uuid) -> Vec<u8> {
    format!("approval-task:{org_id}:{id}").into_bytes()
}

/// A held call answered as an MCP task, as `tasks/get` sees it.
pub enum TaskView {
    /// No such task for this agent's Registered User.
    Unknown,
    /// Waiting for a person (or running elsewhere).
    Working {
        requested_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
    Denied {
        comment: Option<String>,
    },
    Expired,
    /// Approved: this caller claimed it and must run it now, with these
    /// (sealed) arguments.
    Run {
        tool: String,
        args: crate::crypto::Sealed,
    },
    /// Ran already (its result went to an earlier `tasks/get`).
    Done,
}

/// Looks at a task (an approval answered as a task) of this agent's
/// Registered User; an approved one is claimed atomically by exactly one
/// caller, which runs it.
pub async fn task(
    db: &PgPool,
    agent: &AgentCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<TaskView> {
    let c = agent.claims();
    let claimed: Option<(String, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "UPDATE approvals SET task_state = 'running'
         WHERE org_id = $1 AND registered_user_id = $2 AND id = $3 AND task_state = 'waiting'
           AND status = 'approved' AND expires_at > $4 AND pack_id = $5
         RETURNING tool, task_args_ciphertext, task_args_nonce, task_args_key_id",
    )
    .bind(c.org)
    .bind(c.sub)
    .bind(id)
    .bind(now)
    .bind(c.pack)
    .fetch_optional(db)
    .await?;
    if let Some((tool, ciphertext, nonce, key_id)) = claimed {
        return Ok(TaskView::Run {
            tool,
            args: crate::crypto::Sealed {
                ciphertext,
                nonce,
                key_id,
            },
        });
    }
    let row: Option<(
        String,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT status, task_state, requested_at, expires_at, comment FROM approvals
             WHERE org_id = $1 AND registered_user_id = $2 AND id = $3 AND task_state IS NOT NULL
               AND pack_id = $4",
    )
    .bind(c.org)
    .bind(c.sub)
    .bind(id)
    .bind(c.pack)
    .fetch_optional(db)
    .await?;
    let Some((status, task_state, requested_at, expires_at, comment)) = row else {
        return Ok(TaskView::Unknown);
    };
    Ok(
        match (
            ApprovalStatus::at(&status, expires_at, now),
            task_state.as_deref(),
        ) {
            (_, Some("done")) => TaskView::Done,
            (_, Some("running")) | (Some(ApprovalStatus::Pending), _) => TaskView::Working {
                requested_at,
                expires_at,
            },
            (Some(ApprovalStatus::Denied), _) => TaskView::Denied { comment },
            _ => TaskView::Expired,
        },
    )
}

/// The claimed task ran: its arguments are erased.
pub async fn task_done(db: &PgPool, agent: &AgentCtx, id: Uuid) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE approvals SET task_state = 'done', task_args_ciphertext = NULL,
           task_args_nonce = NULL, task_args_key_id = NULL
         WHERE org_id = $1 AND id = $2",
    )
    .bind(agent.claims().org)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// The agent cancelled its task: a pending request is closed as denied
/// (no one needs to decide it any more). Unknown ids read as not found.
pub async fn cancel_task(
    db: &PgPool,
    agent: &AgentCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<bool> {
    let c = agent.claims();
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM approvals WHERE org_id = $1 AND registered_user_id = $2
           AND id = $3 AND task_state IS NOT NULL AND pack_id = $4)",
    )
    .bind(c.org)
    .bind(c.sub)
    .bind(id)
    .bind(c.pack)
    .fetch_one(db)
    .await?;
    if exists {
        sqlx::query(
            "UPDATE approvals SET status = 'denied', decided_at = $3,
               decided_by_email = 'the agent (task cancelled)', task_state = 'done',
               task_args_ciphertext = NULL, task_args_nonce = NULL, task_args_key_id = NULL
             WHERE org_id = $1 AND id = $2 AND status = 'pending'",
        )
        .bind(c.org)
        .bind(id)
        .bind(now)
        .execute(db)
        .await?;
    }
    Ok(exists)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    tool: String,
    pack_id: Uuid,
    pack_name: Option<String>,
    registered_user_id: Uuid,
    registered_user_name: Option<String>,
    session_id: Uuid,
    arguments_redacted: Value,
    arguments_digest: String,
    rule_name: Option<String>,
    reasons: Vec<String>,
    status: String,
    requested_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
    comment: Option<String>,
    used_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT a.id, a.tool, a.pack_id, p.name AS pack_name, a.registered_user_id,
       u.display_name AS registered_user_name, a.session_id, a.arguments_redacted, a.arguments_digest,
       a.rule_name, a.reasons, a.status, a.requested_at, a.expires_at, a.decided_at,
       a.decided_by_email AS decided_by, a.comment, a.used_at
     FROM approvals a
     LEFT JOIN tool_packs p ON p.id = a.pack_id AND p.org_id = a.org_id
     LEFT JOIN registered_users u ON u.id = a.registered_user_id AND u.org_id = a.org_id";

fn to_approval(r: Row, now: DateTime<Utc>) -> ServiceResult<Approval> {
    Ok(Approval {
        status: ApprovalStatus::at(&r.status, r.expires_at, now).ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("approval status {}", r.status))
        })?,
        id: r.id,
        tool: r.tool,
        pack_id: r.pack_id,
        pack_name: r.pack_name,
        registered_user_id: r.registered_user_id,
        registered_user_name: r.registered_user_name,
        session_id: r.session_id,
        arguments_redacted: r.arguments_redacted,
        arguments_digest: r.arguments_digest,
        rule_name: r.rule_name,
        reasons: r.reasons,
        requested_at: r.requested_at,
        expires_at: r.expires_at,
        decided_at: r.decided_at,
        decided_by: r.decided_by,
        comment: r.comment,
        used_at: r.used_at,
    })
}

/// The inbox: pending requests (oldest first, the next to decide on top)
/// or decided ones (newest first), at most 200.
pub async fn list(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    f: &ApprovalFilter,
) -> ServiceResult<Vec<Approval>> {
    t.require(Role::Viewer)?;
    let pending = match f.state.as_deref().map(str::trim) {
        None | Some("") | Some("pending") => true,
        Some("decided") => false,
        Some(_) => {
            return Err(ApiError::invalid("state", "Choose pending or decided.").into());
        }
    };
    let sql = if pending {
        format!(
            "{SELECT} WHERE a.org_id = $1 AND a.status = 'pending' AND a.expires_at > $2
             ORDER BY a.requested_at, a.id LIMIT 200"
        )
    } else {
        format!(
            "{SELECT} WHERE a.org_id = $1 AND (a.status <> 'pending' OR a.expires_at <= $2)
             ORDER BY COALESCE(a.decided_at, a.expires_at) DESC, a.id LIMIT 200"
        )
    };
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(t.org_id)
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.into_iter().map(|r| to_approval(r, now)).collect()
}

/// Pending requests (the navigation's badge).
pub async fn pending_count(db: &PgPool, t: &TenantCtx, now: DateTime<Utc>) -> ServiceResult<i64> {
    t.require(Role::Viewer)?;
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM approvals WHERE org_id = $1 AND status = 'pending' AND expires_at > $2",
    )
    .bind(t.org_id)
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// One request (its session's earlier calls are `GET /calls?session_id=`).
pub async fn get(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<Approval> {
    t.require(Role::Viewer)?;
    let row: Row = sqlx::query_as(&format!("{SELECT} WHERE a.org_id = $1 AND a.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found("approval"))?;
    to_approval(row, now)
}

/// The approval a recorded call waited for (the call's drill-down).
pub(super) async fn of_call(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    call_id: Uuid,
) -> ServiceResult<Option<Approval>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} JOIN tool_calls c ON c.approval_id = a.id AND c.org_id = a.org_id
         WHERE a.org_id = $1 AND c.id = $2"
    ))
    .bind(t.org_id)
    .bind(call_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| to_approval(r, now)).transpose()
}

/// Approves or denies a pending, unexpired request and wakes the call
/// waiting for it (on whichever replica it waits).
pub async fn decide(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    id: Uuid,
    d: &ApprovalDecision,
) -> ServiceResult<Approval> {
    t.require(Role::Approver)?;
    let (user_id, email) = super::enforcement::actor_identity(db, t).await?;
    let mut tx = db.begin().await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE approvals SET status = $3, decided_at = $4, decided_by = $5, decided_by_email = $6,
           comment = $7
         WHERE org_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $4 RETURNING id",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(if d.approve { "approved" } else { "denied" })
    .bind(now)
    .bind(user_id)
    .bind(&email)
    .bind(&d.comment)
    .fetch_optional(&mut *tx)
    .await?;
    if done.is_none() {
        let status: Option<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT status, expires_at FROM approvals WHERE org_id = $1 AND id = $2",
        )
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        return Err(match status {
            None => ApiError::not_found("approval"),
            Some((s, exp)) => ApiError::conflict(format!(
                "This request is already {}; it can no longer be decided.",
                ApprovalStatus::at(&s, exp, now)
                    .map(ApprovalStatus::as_str)
                    .unwrap_or("closed")
            )),
        }
        .into());
    }
    // Read back inside the transaction: once committed, the waiting call
    // may use the approval at once, and the answer is about the decision.
    let row: Row = sqlx::query_as(&format!("{SELECT} WHERE a.org_id = $1 AND a.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    webhooks::enqueue(
        &mut *tx,
        t.org_id,
        WebhookEvent::ApprovalDecided,
        serde_json::json!({
            "approval_id": id,
            "tool": row.tool.clone(),
            "decision": if d.approve { "approved" } else { "denied" },
            "decided_by": email,
            "comment": d.comment.clone(),
            "decided_at": now,
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(approval = %id, approve = d.approve, "approval decided");
    to_approval(row, now)
}

/// The org's hold time and expiry.
pub async fn settings(db: &PgPool, t: &TenantCtx) -> ServiceResult<ApprovalSettings> {
    t.require(Role::Viewer)?;
    let (hold, expiry): (i32, i32) =
        sqlx::query_as("SELECT approval_hold_secs, approval_expiry_hours FROM orgs WHERE id = $1")
            .bind(t.org_id)
            .fetch_optional(db)
            .await?
            .ok_or_else(|| ApiError::not_found("organization"))?;
    Ok(ApprovalSettings {
        hold_secs: u32::try_from(hold).unwrap_or(0),
        expiry_hours: u32::try_from(expiry).unwrap_or(1),
    })
}

pub async fn set_settings(
    db: &PgPool,
    t: &TenantCtx,
    s: &ApprovalSettings,
) -> ServiceResult<ApprovalSettings> {
    t.require(Role::Admin)?;
    sqlx::query(
        "UPDATE orgs SET approval_hold_secs = $2, approval_expiry_hours = $3 WHERE id = $1",
    )
    .bind(t.org_id)
    .bind(i32::try_from(s.hold_secs).unwrap_or(600))
    .bind(i32::try_from(s.expiry_hours).unwrap_or(720))
    .execute(db)
    .await?;
    settings(db, t).await
}
