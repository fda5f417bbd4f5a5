//! Plans, enforce usage and Enforce Paused.
//!
//! Usage is counted by the recorder, in the statement that writes the
//! calls' records (see [`crate::recorder`]), and read by
//! [`super::data_path::authorize`] with the agent's org: neither costs the
//! call a round trip of its own. What this module adds is the state around
//! it: which plan and quota an org has, the effective state the dashboard
//! shows, and the event list of its transitions.
//!
//! The transitions "enforce paused" and "enforce resumed" are written when
//! they are noticed (the recorder sees a batch cross the quota; a reader or
//! an operator sees the period roll over or the quota rise), under the
//! org's row lock, so replicas never write one twice. A resume at the start
//! of a period is dated at the period's start, whenever it is noticed.

use chrono::{DateTime, Utc};
use serde_json::json;
use shared::account::{Actor, OrgMode, Role, TenantCtx};
use shared::api::{
    EffectiveMode, Enforcement, OrgEvent, OrgEventKind, Pause, PausedBehaviourInput, Period, Plan,
    PlanChange, QuotaLevel, Usage,
};
use shared::error::ApiError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::config::Plans;

/// An org's plan, usage of one period and last pause/resume transition,
/// read in one query.
#[derive(Debug, Clone)]
struct Snapshot {
    mode: OrgMode,
    plan: Plan,
    own_quota: Option<u64>,
    paused_blocks_calls: bool,
    period: Period,
    used: u64,
    quota: Option<u64>,
    /// The last `enforce_paused` / `enforce_resumed` event: its kind and
    /// period.
    last: Option<(String, Option<chrono::NaiveDate>)>,
}

impl Snapshot {
    fn level(&self) -> QuotaLevel {
        QuotaLevel::of(self.used, self.quota)
    }

    fn exhausted(&self) -> bool {
        self.level() == QuotaLevel::Exhausted
    }

    fn paused_on_record(&self) -> bool {
        self.last
            .as_ref()
            .is_some_and(|(k, _)| k == "enforce_paused")
    }

    fn effective(&self) -> EffectiveMode {
        EffectiveMode::of(self.mode, self.exhausted())
    }
}

type SnapshotRow = (
    String,
    Option<String>,
    Option<i64>,
    bool,
    i64,
    Option<String>,
    Option<chrono::NaiveDate>,
);

/// Reads the org's [`Snapshot`] for the period of `now`; `lock` takes the
/// org's row lock (transitions are written under it, so replicas take
/// turns).
async fn snapshot(
    ex: impl sqlx::PgExecutor<'_>,
    plans: &Plans,
    org_id: Uuid,
    now: DateTime<Utc>,
    lock: bool,
) -> ServiceResult<Option<Snapshot>> {
    let period = Period::of(now);
    let row: Option<SnapshotRow> = sqlx::query_as(&format!(
        "SELECT o.mode, o.plan, o.enforce_quota_override, o.paused_blocks_calls, COALESCE(eu.used, 0),
           last.kind, last.period
         FROM orgs o
         LEFT JOIN enforce_usage eu ON eu.org_id = o.id AND eu.period = $2
         LEFT JOIN LATERAL (SELECT kind, period FROM org_events e WHERE e.org_id = o.id
             AND kind IN ('enforce_paused', 'enforce_resumed') ORDER BY at DESC, id DESC LIMIT 1) last ON true
         WHERE o.id = $1{}",
        if lock { " FOR UPDATE OF o" } else { "" }
    ))
    .bind(org_id)
    .bind(period.first_day())
    .fetch_optional(ex)
    .await?;
    let Some((mode, plan, own, strict, used, last_kind, last_period)) = row else {
        return Ok(None);
    };
    let plan = match plan {
        Some(p) => p.parse().map_err(|e: String| anyhow::anyhow!(e))?,
        None => plans.default_plan,
    };
    let own_quota = own.and_then(|q| u64::try_from(q).ok());
    Ok(Some(Snapshot {
        mode: mode.parse().map_err(|e: String| anyhow::anyhow!(e))?,
        plan,
        own_quota,
        paused_blocks_calls: strict,
        period,
        used: u64::try_from(used).unwrap_or(0),
        quota: plans.quota(plan, own_quota),
        last: last_kind.map(|k| (k, last_period)),
    }))
}

/// The org's configured mode, effective state and usage at `now`, after
/// writing any transition not yet on record.
pub async fn status(
    db: &PgPool,
    plans: &Plans,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<Enforcement> {
    let s = reconciled(db, plans, org_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    let effective = s.effective();
    let pause = match (effective, s.quota) {
        (EffectiveMode::EnforcePaused, Some(limit)) => {
            let since: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT max(at) FROM org_events WHERE org_id = $1 AND kind = 'enforce_paused' AND period = $2",
            )
            .bind(org_id)
            .bind(s.period.first_day())
            .fetch_one(db)
            .await?;
            Some(Pause {
                reason: "quota".to_owned(),
                since,
                limit,
                period: s.period.to_string(),
                resumes_at: s.period.next().start(),
            })
        }
        _ => None,
    };
    Ok(Enforcement {
        configured: s.mode,
        effective,
        pause,
        usage: Usage {
            plan: s.plan,
            enforce_quota: s.quota,
            quota_is_custom: s.own_quota.is_some(),
            period: s.period.to_string(),
            period_ends_at: s.period.next().start(),
            used: s.used,
            level: s.level(),
        },
        paused_blocks_calls: s.paused_blocks_calls,
    })
}

/// Only the effective state, in one read and without writing transitions
/// (every dashboard page shows it in the navigation).
pub async fn effective_mode(
    db: &PgPool,
    plans: &Plans,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<EffectiveMode> {
    Ok(snapshot(db, plans, org_id, now, false)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?
        .effective())
}

/// The dashboard's and `GET /org`'s view (any member).
pub async fn of_tenant(
    db: &PgPool,
    t: &TenantCtx,
    plans: &Plans,
    now: DateTime<Utc>,
) -> ServiceResult<Enforcement> {
    t.require(Role::Viewer)?;
    status(db, plans, t.org_id, now).await
}

/// Writes the missing "enforce paused" / "enforce resumed" event, if the
/// quota's state at `now` differs from the last one on record.
pub async fn reconcile(
    db: &PgPool,
    plans: &Plans,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    reconciled(db, plans, org_id, now).await.map(|_| ())
}

/// [`reconcile`], returning the snapshot it decided on (what [`status`]
/// shows: one read when nothing is missing).
async fn reconciled(
    db: &PgPool,
    plans: &Plans,
    org_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<Option<Snapshot>> {
    // Readers call this on every view: check without the lock first, and
    // take it (and check again) only when a transition is missing.
    match snapshot(db, plans, org_id, now, false).await? {
        Some(s) if s.exhausted() != s.paused_on_record() => {}
        other => return Ok(other),
    }
    let mut tx = db.begin().await?;
    let Some(s) = snapshot(&mut *tx, plans, org_id, now, true).await? else {
        return Ok(None);
    };
    let period = s.period;
    match (s.exhausted(), s.paused_on_record(), s.quota) {
        (true, false, Some(limit)) => {
            insert_event(
                &mut tx,
                org_id,
                now,
                OrgEventKind::EnforcePaused,
                None,
                Some(period),
                json!({ "reason": "quota", "limit": limit, "used": s.used }),
            )
            .await?;
            tracing::warn!(%org_id, %period, limit, "enforce paused: quota used up");
        }
        (false, true, _) => {
            let paused_period = s.last.as_ref().and_then(|(_, p)| *p).map(Period);
            let (at, why) = match paused_period {
                Some(p) if p < period => (period.start(), "new_period"),
                _ => (now, "quota_raised"),
            };
            insert_event(
                &mut tx,
                org_id,
                at,
                OrgEventKind::EnforceResumed,
                None,
                Some(period),
                json!({ "reason": why, "limit": s.quota, "used": s.used }),
            )
            .await?;
            tracing::info!(%org_id, %period, reason = why, "enforce resumed");
        }
        _ => {}
    }
    tx.commit().await?;
    Ok(Some(s))
}

/// What the recorder saw one batch do to an org's usage.
#[derive(Debug, Clone, Copy)]
pub struct UsageStep {
    pub org_id: Uuid,
    pub period: Period,
    pub before: u64,
    pub after: u64,
    pub quota: Option<u64>,
}

/// Records the transitions a batch of enforced calls caused: the 80 %
/// warning (once per period) and the pause (through [`reconcile`]).
pub async fn note_usage(
    db: &PgPool,
    plans: &Plans,
    step: UsageStep,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let before = QuotaLevel::of(step.before, step.quota);
    let after = QuotaLevel::of(step.after, step.quota);
    if after <= before {
        return Ok(());
    }
    if before < QuotaLevel::Warning {
        sqlx::query(
            "INSERT INTO org_events (org_id, at, kind, period, detail)
             VALUES ($1, $2, 'quota_warning', $3, $4)
             ON CONFLICT (org_id, period) WHERE kind = 'quota_warning' DO NOTHING",
        )
        .bind(step.org_id)
        .bind(now)
        .bind(step.period.first_day())
        .bind(json!({ "limit": step.quota, "used": step.after }))
        .execute(db)
        .await?;
    }
    if after == QuotaLevel::Exhausted {
        // Cached authorisations still say "enforce": drop them on every
        // replica, so calls pause now rather than within the second.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::access_cache::CHANNEL)
            .bind(step.org_id.to_string())
            .execute(db)
            .await?;
        reconcile(db, plans, step.org_id, now).await?;
    }
    Ok(())
}

pub(crate) async fn insert_event(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    at: DateTime<Utc>,
    kind: OrgEventKind,
    actor: Option<&str>,
    period: Option<Period>,
    detail: serde_json::Value,
) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO org_events (org_id, at, kind, actor_email, period, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(at)
    .bind(kind.as_str())
    .bind(actor)
    .bind(period.map(Period::first_day))
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Who acted, as the event list and approvals name them: the member's
/// e-mail, or an API token's creator and prefix.
pub(crate) async fn actor_identity(
    db: &PgPool,
    t: &TenantCtx,
) -> ServiceResult<(Option<Uuid>, Option<String>)> {
    Ok(match t.actor {
        Actor::Member { user_id } => (
            Some(user_id),
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(db)
                .await?,
        ),
        // An API token acts for its creator's membership.
        Actor::ApiToken { token_id } => sqlx::query_as::<_, (Option<Uuid>, Option<String>)>(
            "SELECT u.id, u.email || ' (API token ' || t.prefix || ')' FROM api_tokens t
             LEFT JOIN users u ON u.id = t.created_by WHERE t.id = $1 AND t.org_id = $2",
        )
        .bind(token_id)
        .bind(t.org_id)
        .fetch_optional(db)
        .await?
        .unwrap_or((None, None)),
    })
}

/// Switches monitor ↔ enforce and records who did it and when (owners
/// and admins). The usage of the period is kept: switching back to
/// enforce after the quota ran out pauses at once.
pub async fn set_mode(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    mode: OrgMode,
) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let (_, who) = actor_identity(db, t).await?;
    let mut tx = db.begin().await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT mode FROM orgs WHERE id = $1 FOR UPDATE")
            .bind(t.org_id)
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or_else(|| ApiError::not_found("organization"))?;
    if before != mode.as_str() {
        sqlx::query("UPDATE orgs SET mode = $2 WHERE id = $1")
            .bind(t.org_id)
            .bind(mode.as_str())
            .execute(&mut *tx)
            .await?;
        insert_event(
            &mut tx,
            t.org_id,
            now,
            OrgEventKind::ModeChanged,
            who.as_deref(),
            None,
            json!({ "from": before, "to": mode.as_str() }),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, mode = mode.as_str(), "org mode changed");
    Ok(())
}

/// Chooses what happens while enforce is paused (owners and admins).
pub async fn set_paused_behaviour(
    db: &PgPool,
    t: &TenantCtx,
    plans: &Plans,
    now: DateTime<Utc>,
    input: PausedBehaviourInput,
) -> ServiceResult<Enforcement> {
    t.require(Role::Admin)?;
    let (_, who) = actor_identity(db, t).await?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE orgs SET paused_blocks_calls = $2 WHERE id = $1 AND paused_blocks_calls <> $2",
    )
    .bind(t.org_id)
    .bind(input.paused_blocks_calls)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        insert_event(
            &mut tx,
            t.org_id,
            now,
            OrgEventKind::PausedBehaviourChanged,
            who.as_deref(),
            None,
            json!({ "paused_blocks_calls": input.paused_blocks_calls }),
        )
        .await?;
    }
    tx.commit().await?;
    status(db, plans, t.org_id, now).await
}

/// An operator sets an org's plan and quota (CLI or operator endpoint);
/// a quota raised above the usage resumes enforce at once.
pub async fn set_plan(
    db: &PgPool,
    plans: &Plans,
    now: DateTime<Utc>,
    org_id: Uuid,
    change: PlanChange,
) -> ServiceResult<Enforcement> {
    let own = change
        .enforce_quota
        .map(i64::try_from)
        .transpose()
        .map_err(|_| ApiError::invalid("enforce_quota", "The quota is too large."))?;
    let mut tx = db.begin().await?;
    let found = sqlx::query("UPDATE orgs SET plan = $2, enforce_quota_override = $3 WHERE id = $1")
        .bind(org_id)
        .bind(change.plan.as_str())
        .bind(own)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if found == 0 {
        return Err(ApiError::not_found("organization").into());
    }
    insert_event(
        &mut tx,
        org_id,
        now,
        OrgEventKind::PlanChanged,
        None,
        None,
        json!({ "plan": change.plan.as_str(), "limit": plans.quota(change.plan, change.enforce_quota) }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%org_id, plan = change.plan.as_str(), quota = ?change.enforce_quota, "plan changed by the operator");
    status(db, plans, org_id, now).await
}

/// An org by id or exact name, for the operator's CLI.
pub async fn find_org(db: &PgPool, key: &str) -> ServiceResult<Uuid> {
    if let Ok(id) = key.parse::<Uuid>() {
        return Ok(id);
    }
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM orgs WHERE name = $1 LIMIT 2")
        .bind(key)
        .fetch_all(db)
        .await?;
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(ApiError::not_found("organization").into()),
        _ => Err(ServiceError::from(ApiError::invalid(
            "org",
            "Several organizations have this name: give the organization's id.",
        ))),
    }
}

/// The org's event list, newest first (admins).
pub async fn events(db: &PgPool, t: &TenantCtx, limit: i64) -> ServiceResult<Vec<OrgEvent>> {
    t.require(Role::Admin)?;
    type Row = (
        DateTime<Utc>,
        String,
        Option<String>,
        Option<chrono::NaiveDate>,
        serde_json::Value,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, kind, actor_email, period, detail FROM org_events WHERE org_id = $1
         ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(t.org_id)
    .bind(limit.clamp(1, 500))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(at, kind, actor, period, detail)| {
            let kind: OrgEventKind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let period = period.map(Period);
            Ok(OrgEvent {
                at,
                kind,
                actor,
                period: period.map(|p| p.to_string()),
                summary: summary(kind, period, &detail),
            })
        })
        .collect()
}

/// An event in words.
fn summary(kind: OrgEventKind, period: Option<Period>, d: &serde_json::Value) -> String {
    let num = |k: &str| d.get(k).and_then(serde_json::Value::as_u64);
    let limit = match num("limit") {
        Some(n) => format!("{n} calls"),
        None => "unlimited".to_owned(),
    };
    let period = period.map(|p| p.to_string()).unwrap_or_default();
    match kind {
        OrgEventKind::ModeChanged => format!(
            "Mode switched from {} to {}.",
            d.get("from").and_then(|v| v.as_str()).unwrap_or("?"),
            d.get("to").and_then(|v| v.as_str()).unwrap_or("?")
        ),
        OrgEventKind::PlanChanged => format!(
            "Plan set to {} by the operator (enforce quota: {limit} per month).",
            d.get("plan").and_then(|v| v.as_str()).unwrap_or("?")
        ),
        OrgEventKind::QuotaWarning => format!(
            "{}% of the enforce quota used in {period} ({} of {limit}).",
            shared::api::WARN_PERCENT,
            num("used").unwrap_or(0)
        ),
        OrgEventKind::EnforcePaused => format!(
            "Enforce paused: the quota of {limit} for {period} is used up. Calls are decided as the paused-enforcement setting says until the next period or a higher quota."
        ),
        OrgEventKind::EnforceResumed => match d.get("reason").and_then(|v| v.as_str()) {
            Some("new_period") => format!("Enforce resumed: a new period ({period}) began."),
            _ => format!("Enforce resumed: the quota was raised to {limit}."),
        },
        OrgEventKind::PausedBehaviourChanged => {
            if d.get("paused_blocks_calls").and_then(|v| v.as_bool()) == Some(true) {
                "While enforce is paused, every call is now blocked (strict).".to_owned()
            } else {
                "While enforce is paused, calls are now decided as in monitor mode.".to_owned()
            }
        }
        OrgEventKind::RetentionChanged => match num("days") {
            Some(days) => format!("Call records and detections are now kept {days} days."),
            None => format!(
                "Call records and detections are now kept as long as the server keeps them ({} days).",
                num("server_days").unwrap_or(0)
            ),
        },
    }
}
