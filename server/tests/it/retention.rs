//! Retention of the decision trail: whole months dropped with their
//! partitions once every org is done with them, an org's shorter
//! retention deleting its own older rows only, the alert roll-ups kept
//! equal to what remains, and the setting over the admin API.

use chrono::{DateTime, Datelike, Duration, Utc};
use reqwest::Method;
use serde_json::json;
use server::service::retention::{self, maintain};
use shared::api::RetentionInput;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::{Admin, Gatehouse};
use crate::support::org_with_owner;

/// One call at `at` with two detections, as the recorder writes them (a
/// detection takes its call's time).
async fn call(db: &PgPool, org: Uuid, at: DateTime<Utc>) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO tool_calls (id, org_id, tool, mode, decision, outcome, latency_us, created_at)
         VALUES ($1, $2, 'fx__echo', 'enforce', 'block', 'blocked', 1000, $3)",
    )
    .bind(id)
    .bind(org)
    .bind(at)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO violations (call_id, org_id, rule_key, label, direction, score, action,
                                 enforced, snippet, created_at)
         SELECT $1, $2, 'entity:' || l, l, 'arguments', 0.9, 'block', true, '[REDACTED]', $3
         FROM unnest(ARRAY['EMAIL_ADDRESS', 'CREDIT_CARD']) l",
    )
    .bind(id)
    .bind(org)
    .bind(at)
    .execute(db)
    .await
    .unwrap();
    id
}

async fn calls_of(db: &PgPool, org: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM tool_calls WHERE org_id = $1 ORDER BY created_at")
        .bind(org)
        .fetch_all(db)
        .await
        .unwrap()
}

/// (violations in the table, violations the hourly roll-ups count) of an org.
async fn counts(db: &PgPool, org: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM violations WHERE org_id = $1),
                (SELECT COALESCE(sum(n), 0)::int8 FROM violation_hourly WHERE org_id = $1)",
    )
    .bind(org)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn partition_exists(db: &PgPool, name: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(db)
        .await
        .unwrap()
}

fn partition(month: chrono::NaiveDate) -> String {
    format!("tool_calls_y{}m{:02}", month.year(), month.month())
}

fn first_of_month(at: DateTime<Utc>) -> chrono::NaiveDate {
    shared::api::Period::of(at).first_day()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn old_months_are_dropped_and_a_shorter_retention_deletes_only_that_orgs_rows(db: PgPool) {
    let now = Utc::now();
    let (acme, _, _) = org_with_owner(&db, "Acme", "owner@acme.test").await;
    let (globex, _, _) = org_with_owner(&db, "Globex", "owner@globex.test").await;

    // A server that ran a hundred days ago made that month's partitions.
    let then = now - Duration::days(100);
    let early = maintain(&db, then, 30).await.unwrap();
    assert!(early.created.contains(&first_of_month(then)), "{early:?}");
    let old_month = partition(first_of_month(then));
    assert!(partition_exists(&db, &old_month).await);

    for org in [acme.org_id, globex.org_id] {
        call(&db, org, then).await;
        call(&db, org, now - Duration::days(10)).await;
        call(&db, org, now - Duration::hours(1)).await;
    }
    let recent = call(&db, acme.org_id, now - Duration::hours(1)).await;

    // Acme keeps a week; the server (and so Globex) thirty days. Beyond
    // the server's retention is refused with the field named.
    let refused = retention::set(&db, &acme, now, 30, RetentionInput { days: Some(31) })
        .await
        .unwrap_err();
    let refused = shared::error::ApiError::from(refused);
    assert!(refused.field("days").is_some(), "{refused:?}");
    let status = retention::set(&db, &acme, now, 30, RetentionInput { days: Some(7) })
        .await
        .unwrap();
    assert_eq!(
        (status.days, status.own_days, status.server_days),
        (7, Some(7), 30)
    );

    let sweep = maintain(&db, now, 30).await.unwrap();
    // The hundred-day-old month is gone for everyone, as one partition,
    // and so is every month that ended more than thirty days ago.
    assert!(sweep.dropped.contains(&first_of_month(then)), "{sweep:?}");
    for month in &sweep.dropped {
        let end = month.checked_add_months(chrono::Months::new(1)).unwrap();
        assert!(end.and_hms_opt(0, 0, 0).unwrap().and_utc() <= now - Duration::days(30));
    }
    assert!(!partition_exists(&db, &old_month).await);
    // Acme's ten-day-old call went row by row; Globex keeps its own.
    assert_eq!(sweep.calls_deleted, 1, "{sweep:?}");
    assert_eq!(calls_of(&db, acme.org_id).await.len(), 2);
    assert!(calls_of(&db, acme.org_id).await.contains(&recent));
    assert_eq!(calls_of(&db, globex.org_id).await.len(), 2);
    // The alert counts hold exactly what remains, with nothing left for
    // the dropped month.
    assert_eq!(counts(&db, acme.org_id).await, (4, 4));
    assert_eq!(counts(&db, globex.org_id).await, (4, 4));
    let stale: i64 = sqlx::query_scalar("SELECT count(*) FROM violation_hourly WHERE hour < $1")
        .bind(now - Duration::days(60))
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stale, 0);
    // The coming months exist before any call needs them.
    let ahead = first_of_month(now)
        .checked_add_months(chrono::Months::new(2))
        .unwrap();
    assert!(partition_exists(&db, &partition(ahead)).await);

    // Running again changes nothing.
    let again = maintain(&db, now, 30).await.unwrap();
    assert_eq!(again, retention::Sweep::default());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn calls_written_before_their_month_existed_move_into_it(db: PgPool) {
    let (acme, _, _) = org_with_owner(&db, "Acme", "owner@acme.test").await;
    // A clock five months ahead: no partition yet, the default one holds it.
    let ahead = Utc::now() + Duration::days(150);
    let id = call(&db, acme.org_id, ahead).await;
    let home = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT tableoid::regclass::text FROM tool_calls WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap()
    };
    assert_eq!(home().await, "tool_calls_default");

    let sweep = maintain(&db, ahead, 400).await.unwrap();
    assert!(sweep.created.contains(&first_of_month(ahead)), "{sweep:?}");
    assert_eq!(home().await, partition(first_of_month(ahead)));
    let moved: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM violations WHERE call_id = $1 AND tableoid::regclass::text = $2",
    )
    .bind(id)
    .bind(partition(first_of_month(ahead)).replace("tool_calls_", "violations_"))
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(moved, 2);
    // Moving is not counting again.
    assert_eq!(counts(&db, acme.org_id).await, (2, 2));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn admins_choose_a_shorter_retention_over_the_api(db: PgPool) {
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_RETENTION_DAYS", "90")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;

    let r = admin.ok(Method::GET, "/org/retention", None).await;
    assert_eq!(r, json!({"days": 90, "own_days": null, "server_days": 90}));

    let (status, err) = admin
        .send(Method::PUT, "/org/retention", Some(json!({"days": 365})))
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(err.to_string().contains("90 days"), "{err}");
    let (status, _) = admin
        .send(Method::PUT, "/org/retention", Some(json!({"days": 0})))
        .await;
    assert_eq!(status, 422);

    let r = admin
        .ok(Method::PUT, "/org/retention", Some(json!({"days": 14})))
        .await;
    assert_eq!(r, json!({"days": 14, "own_days": 14, "server_days": 90}));
    let r = admin
        .ok(Method::PUT, "/org/retention", Some(json!({"days": null})))
        .await;
    assert_eq!(r["days"], 90);

    // Both changes are in the org's events, in words.
    let events = admin.ok(Method::GET, "/org/events", None).await;
    let summaries: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "retention_changed")
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), 2, "{events}");
    assert!(
        summaries.iter().any(|s| s.contains("14 days")),
        "{summaries:?}"
    );
}
