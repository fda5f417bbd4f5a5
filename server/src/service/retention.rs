//! How long the decision trail is kept, and the maintenance that keeps it
//! so.
//!
//! `tool_calls` and `violations` are partitioned by calendar month (UTC;
//! migration `20261207000011`). Two kinds of retention:
//!
//! - The server's (`GATEHOUSE_RETENTION_DAYS`), the default of every org:
//!   a month's partitions are dropped once the month's last day is older
//!   than what every org keeps. Dropping is instant and leaves no dead rows
//!   to vacuum, so records live between N and N + 31 days.
//! - An org's own, shorter one (Settings → Data retention): its rows older
//!   than that are deleted, within the hour. Partitions hold every org, so
//!   this is the one case that deletes rows (the roll-up triggers subtract
//!   them from the alert counts).
//!
//! The maintenance also creates the coming months' partitions ahead of
//! time. It runs at start-up and every hour on every replica; the
//! partition functions take an advisory lock, and the deletes are
//! idempotent.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use shared::account::{Role, TenantCtx};
use shared::api::{OrgEventKind, Period, RetentionInput, RetentionStatus};
use sqlx::PgPool;
use uuid::Uuid;

use super::ServiceResult;
use super::enforcement::{actor_identity, insert_event};

/// How many months of partitions exist ahead of the current one.
const MONTHS_AHEAD: u32 = 2;

/// Calls deleted per statement when an org's shorter retention deletes
/// rows: bounded, so that one org's backlog never holds long locks or one
/// huge transaction.
const DELETE_BATCH: i64 = 5_000;

/// The org's retention (any admin).
pub async fn status(
    db: &PgPool,
    t: &TenantCtx,
    server_days: u32,
) -> ServiceResult<RetentionStatus> {
    t.require(Role::Admin)?;
    load(db, t.org_id, server_days).await
}

async fn load(db: &PgPool, org_id: Uuid, server_days: u32) -> ServiceResult<RetentionStatus> {
    let own: Option<i32> = sqlx::query_scalar("SELECT retention_days FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(db)
        .await?;
    // A server retention lowered below an org's choice wins.
    let own_days = own.and_then(|d| u32::try_from(d).ok());
    Ok(RetentionStatus {
        days: own_days.map_or(server_days, |d| d.min(server_days)),
        own_days,
        server_days,
    })
}

/// Sets the org's own retention, or goes back to the server's (owners and
/// admins), recorded in the org's events. Shortening it deletes the older
/// records at the next maintenance (within the hour).
pub async fn set(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    server_days: u32,
    input: RetentionInput,
) -> ServiceResult<RetentionStatus> {
    t.require(Role::Admin)?;
    let days = input.parse(server_days)?;
    let (_, who) = actor_identity(db, t).await?;
    let days_db = days.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE orgs SET retention_days = $2 WHERE id = $1 AND retention_days IS DISTINCT FROM $2",
    )
    .bind(t.org_id)
    .bind(days_db)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        insert_event(
            &mut tx,
            t.org_id,
            now,
            OrgEventKind::RetentionChanged,
            who.as_deref(),
            None,
            json!({ "days": days, "server_days": server_days }),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, days = ?days, "retention changed");
    load(db, t.org_id, server_days).await
}

/// What one maintenance run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// Months whose partitions were created (first days).
    pub created: Vec<NaiveDate>,
    /// Months whose partitions were dropped (first days).
    pub dropped: Vec<NaiveDate>,
    /// Calls deleted row by row (orgs keeping less than the others, and
    /// stray rows of the default partition), with their detections.
    pub calls_deleted: u64,
    /// Runtime sessions unseen for longer than their org keeps records.
    pub sessions_deleted: u64,
}

/// Creates the coming months' partitions, drops the months every org is
/// done with, and deletes what orgs with a shorter retention no longer
/// keep. `now` is the only clock it reads.
pub async fn maintain(db: &PgPool, now: DateTime<Utc>, server_days: u32) -> anyhow::Result<Sweep> {
    let mut sweep = Sweep::default();
    let mut month = Period::of(now);
    for _ in 0..=MONTHS_AHEAD {
        let created: bool = sqlx::query_scalar("SELECT gatehouse_trail_month_create($1)")
            .bind(month.first_day())
            .fetch_one(db)
            .await?;
        if created {
            sweep.created.push(month.first_day());
        }
        month = month.next();
    }

    // The longest any org keeps: whole months older than that go.
    let server = i32::try_from(server_days).unwrap_or(i32::MAX);
    let keep_days: i32 = sqlx::query_scalar(
        "SELECT COALESCE(max(LEAST(COALESCE(retention_days, $1), $1)), $1) FROM orgs",
    )
    .bind(server)
    .fetch_one(db)
    .await?;
    let everyone_cutoff = now - chrono::Duration::days(i64::from(keep_days));
    for month in partition_months(db).await? {
        if Period(month).next().start() <= everyone_cutoff {
            let dropped: bool = sqlx::query_scalar("SELECT gatehouse_trail_month_drop($1)")
                .bind(month)
                .fetch_one(db)
                .await?;
            if dropped {
                tracing::info!(month = %month.format("%Y-%m"), "decision trail month dropped (retention)");
                sweep.dropped.push(month);
            }
        }
    }
    // Rows that never had a month of their own (written while the clock
    // was far off) are not dropped with one.
    sweep.calls_deleted += delete_calls(
        db,
        "tableoid = 'tool_calls_default'::regclass AND created_at < $1",
        everyone_cutoff,
        None,
    )
    .await?;

    // Orgs keeping less than the longest: their older rows, row by row.
    let shorter: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT id, days FROM (SELECT id, LEAST(COALESCE(retention_days, $1), $1) AS days FROM orgs) o
         WHERE days < $2",
    )
    .bind(server)
    .bind(keep_days)
    .fetch_all(db)
    .await?;
    for (org, days) in shorter {
        let cutoff = now - chrono::Duration::days(i64::from(days));
        let n = delete_calls(db, "org_id = $2 AND created_at < $1", cutoff, Some(org)).await?;
        if n > 0 {
            tracing::info!(org_id = %org, calls = n, days, "records past the org's retention deleted");
        }
        sweep.calls_deleted += n;
    }

    sweep.sessions_deleted = sqlx::query(
        "DELETE FROM runtime_sessions s USING orgs o
         WHERE o.id = s.org_id
           AND s.last_seen_at < $1 - make_interval(days => LEAST(COALESCE(o.retention_days, $2), $2))",
    )
    .bind(now)
    .bind(server)
    .execute(db)
    .await?
    .rows_affected();
    Ok(sweep)
}

/// Deletes calls matching `condition` (`$1` = the cutoff, `$2` = the org)
/// in bounded batches, each with its detections in the same statement
/// (the roll-up triggers subtract those).
async fn delete_calls(
    db: &PgPool,
    condition: &str,
    cutoff: DateTime<Utc>,
    org: Option<Uuid>,
) -> anyhow::Result<u64> {
    // The condition is one of this module's constants, never input.
    let sql = format!(
        "WITH doomed AS MATERIALIZED (
           SELECT id, created_at FROM tool_calls WHERE {condition} LIMIT {DELETE_BATCH}
         ), v AS (
           DELETE FROM violations v USING doomed d WHERE v.call_id = d.id AND v.created_at = d.created_at
         )
         DELETE FROM tool_calls c USING doomed d WHERE c.id = d.id AND c.created_at = d.created_at"
    );
    let mut total = 0;
    loop {
        let mut q = sqlx::query(&sql).bind(cutoff);
        if let Some(org) = org {
            q = q.bind(org);
        }
        let n = q.execute(db).await?.rows_affected();
        total += n;
        if n < DELETE_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// The months that have partitions, from their names
/// (`tool_calls_yYYYYmMM`, as the migration's function names them).
async fn partition_months(db: &PgPool) -> anyhow::Result<Vec<NaiveDate>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'tool_calls'::regclass",
    )
    .fetch_all(db)
    .await?;
    let mut months: Vec<NaiveDate> = names.iter().filter_map(|n| month_of(n)).collect();
    months.sort();
    Ok(months)
}

/// The month a partition holds, from its name; None for the default
/// partition (or anything else).
fn month_of(partition: &str) -> Option<NaiveDate> {
    let ym = partition.strip_prefix("tool_calls_y")?;
    NaiveDate::parse_from_str(&format!("{ym}d01"), "%Ym%md%d").ok()
}

/// Runs [`maintain`] now and then every hour, until the pool closes.
pub fn spawn_maintenance(db: PgPool, clock: crate::clock::Clock, server_days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !db.is_closed() {
            tick.tick().await;
            match maintain(&db, clock.now(), server_days).await {
                Ok(s) => tracing::debug!(sweep = ?s, "decision trail maintained"),
                Err(e) => tracing::error!(error = %e, "decision trail maintenance failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_read_back_as_their_months() {
        let dec = NaiveDate::from_ymd_opt(2026, 12, 1);
        assert_eq!(month_of("tool_calls_y2026m12"), dec);
        assert_eq!(month_of("tool_calls_default"), None);
        assert_eq!(month_of("tool_calls_y2026m13"), None);
        assert_eq!(month_of("violations_y2026m12"), None);
        let last_instant = "2026-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(Some(Period::of(last_instant).first_day()), dec);
    }
}
