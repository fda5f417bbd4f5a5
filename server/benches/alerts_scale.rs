//! Scale benchmark for the dashboard's read paths: the alerts chart and
//! breakdowns, the violations table (first and a deep page), the overview
//! and the calls list, with a million violation rows in the database.
//!
//!     cargo bench -p server --bench alerts_scale [-- --violations 1000000]
//!
//! Rows are generated in Postgres (`generate_series`): one org, 100,000
//! tool calls over the last 30 days with 10 violations each, spread over
//! eight rules, three actions, both directions, two packs and 50
//! Registered Users (`--violations 10000000`: a million calls). The
//! hourly roll-ups are kept by the same triggers as in production, so the
//! generation time includes them. Each query runs once to warm the cache and then 5
//! times; the median is printed. Then retention, once each: an org's
//! shorter retention deleting a day of rows, and whole months dropped
//! with their partitions. Uses `DATABASE_URL` if set, otherwise an
//! embedded cluster in a temp dir.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use server::service::records;
use shared::account::{Actor, Role, SignUpInput, TenantCtx};
use shared::api::{AlertRange, AlertsQuery, CallFilter, ViolationFilter};

fn arg(args: &[String], name: &str, default: i64) -> i64 {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| w[1].parse().unwrap())
        .unwrap_or(default)
}

async fn median<F, Fut>(label: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let _ = f().await;
    let mut times: Vec<Duration> = Vec::new();
    let mut n = 0;
    for _ in 0..5 {
        let t = Instant::now();
        n = f().await;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "  {label:<48} {:>8.1} ms   ({n} rows/items)",
        times[2].as_secs_f64() * 1000.0
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let violations = arg(&args, "--violations", 1_000_000);
    let calls = (violations / 10).max(1);

    let bench = support::BenchDb::create("gh_alerts_bench", 8).await;
    let db = bench.db.clone();

    let signup = SignUpInput {
        org_name: "Bench".into(),
        email: "bench@example.com".into(),
        password: "bench passphrase 123".into(),
    }
    .parse()
    .unwrap();
    let (user_id, org_id) = server::service::accounts::sign_up(&db, &signup)
        .await
        .unwrap();
    let t = TenantCtx {
        org_id,
        role: Role::Owner,
        actor: Actor::Member { user_id },
    };
    let now = chrono::Utc::now();
    // The months the data spans have their partitions, as on a server that
    // was running back then (its maintenance creates months ahead).
    server::service::retention::maintain(&db, now - chrono::Duration::days(31), 36_500)
        .await
        .unwrap();

    let started = Instant::now();
    sqlx::query(
        "INSERT INTO tool_packs (id, org_id, name, description)
         SELECT gen_random_uuid(), $1, 'pack ' || i, '' FROM generate_series(1, 2) i",
    )
    .bind(org_id)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO registered_users (id, org_id, external_id, display_name)
         SELECT gen_random_uuid(), $1, 'user' || i || '@example.com', 'User ' || i
         FROM generate_series(1, 50) i",
    )
    .bind(org_id)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tool_calls (id, org_id, pack_id, registered_user_id, tool, mode, decision,
                                 outcome, latency_us, created_at)
         SELECT gen_random_uuid(), $1,
                (SELECT id FROM tool_packs WHERE org_id = $1 ORDER BY name OFFSET (i % 2) LIMIT 1),
                (SELECT id FROM registered_users WHERE org_id = $1 ORDER BY external_id OFFSET (i % 50) LIMIT 1),
                'fixture__echo', 'enforce', (ARRAY['allow','redact','block'])[1 + i % 3], 'ok', 1500,
                $2 - make_interval(secs => (i::double precision / $3) * 30 * 86400)
         FROM generate_series(1, $3) i",
    )
    .bind(org_id)
    .bind(now)
    .bind(calls)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO violations (call_id, org_id, pack_id, registered_user_id, rule_key, label,
                                 direction, pointer, score, action, enforced, snippet, created_at)
         SELECT c.id, c.org_id, c.pack_id, c.registered_user_id, r.label, r.label,
                CASE WHEN k % 2 = 0 THEN 'arguments' ELSE 'results' END, '/text', 0.9,
                (ARRAY['allow','redact','block'])[1 + k % 3], true, '[REDACTED:' || r.label || ']',
                c.created_at
         FROM tool_calls c
         CROSS JOIN generate_series(1, 10) k
         JOIN (SELECT row_number() OVER () - 1 AS n, l AS label
               FROM unnest(ARRAY['EMAIL_ADDRESS','CREDIT_CARD','US_SSN','PHONE_NUMBER',
                                 'AWS_ACCESS_KEY','IBAN_CODE','PERSON','JWT']) l) r
           ON r.n = k % 8
         WHERE c.org_id = $1",
    )
    .bind(org_id)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(&db).await.unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM violations")
        .fetch_one(&db)
        .await
        .unwrap();
    let (hourly, user_hourly): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM violation_hourly), (SELECT count(*) FROM violation_user_hourly)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    println!(
        "generated {total} violations on {calls} calls in {:.1} s \
         (roll-ups: {hourly} hourly rows, {user_hourly} per-user hourly rows)\n",
        started.elapsed().as_secs_f64()
    );

    let q = |range, rule: Option<&str>| AlertsQuery {
        range,
        split: false,
        filter: ViolationFilter {
            rule: rule.map(str::to_owned),
            ..ViolationFilter::default()
        },
    };
    println!("median of 5 (after one warm-up run):");
    for (label, range) in [
        ("alerts summary + chart, last 24 h", AlertRange::Last24h),
        ("alerts summary + chart, last 7 d", AlertRange::Last7d),
        (
            "alerts summary + chart, last 30 d (all rows)",
            AlertRange::Last30d,
        ),
    ] {
        let db = db.clone();
        median(label, move || {
            let (db, t) = (db.clone(), t);
            async move {
                let s = records::alerts(&db, &t, now, &q(range, None))
                    .await
                    .unwrap();
                s.total as usize
            }
        })
        .await;
    }
    {
        // The chart alone (30 daily buckets), drawn on the server.
        let s = records::alerts(&db, &t, now, &q(AlertRange::Last30d, None))
            .await
            .unwrap();
        median("chart SVG alone, 30 buckets", move || {
            let buckets = s.buckets.clone();
            async move {
                server::charts::violations_svg(&buckets, s.bucket_secs, false)
                    .unwrap()
                    .len()
            }
        })
        .await;
    }
    {
        // What the alerts page loads: the summary with its chart and the
        // first page of the table.
        let (db, t) = (db.clone(), t);
        median("alerts page, 30 d (summary + first page)", move || {
            let (db, t) = (db.clone(), t);
            async move {
                let query = q(AlertRange::Last30d, None);
                let (s, page) = tokio::join!(
                    records::alerts(&db, &t, now, &query),
                    records::alert_violations(&db, &t, now, &query, None)
                );
                s.unwrap().total as usize + page.unwrap().items.len()
            }
        })
        .await;
    }
    {
        // Filtering on a Registered User counts raw rows (the roll-ups
        // have no user column beside the rule's).
        let user: uuid::Uuid = sqlx::query_scalar(
            "SELECT id FROM registered_users WHERE org_id = $1 ORDER BY external_id LIMIT 1",
        )
        .bind(org_id)
        .fetch_one(&db)
        .await
        .unwrap();
        let (db, t) = (db.clone(), t);
        median("alerts, last 30 d, one user (raw rows)", move || {
            let (db, t) = (db.clone(), t);
            async move {
                let mut query = q(AlertRange::Last30d, None);
                query.filter.registered_user_id = Some(user);
                let s = records::alerts(&db, &t, now, &query).await.unwrap();
                s.total as usize
            }
        })
        .await;
    }
    {
        let (db, t) = (db.clone(), t);
        median("alerts, last 30 d, one rule", move || {
            let (db, t) = (db.clone(), t);
            async move {
                let s = records::alerts(&db, &t, now, &q(AlertRange::Last30d, Some("US_SSN")))
                    .await
                    .unwrap();
                s.total as usize
            }
        })
        .await;
    }
    {
        let (db, t) = (db.clone(), t);
        median("violations table, 30 d, first page", move || {
            let (db, t) = (db.clone(), t);
            async move {
                records::alert_violations(&db, &t, now, &q(AlertRange::Last30d, None), None)
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        })
        .await;
    }
    {
        // Walk 40 pages deep once to get a cursor, then time that page.
        let mut cursor = None;
        for _ in 0..40 {
            cursor = records::alert_violations(&db, &t, now, &q(AlertRange::Last30d, None), cursor)
                .await
                .unwrap()
                .next_cursor;
        }
        let (db, t) = (db.clone(), t);
        median("violations table, 30 d, page 41 (cursor)", move || {
            let (db, c) = (db.clone(), cursor.clone());
            async move {
                records::alert_violations(&db, &t, now, &q(AlertRange::Last30d, None), c)
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        })
        .await;
    }
    {
        let (db, t) = (db.clone(), t);
        median("violations table, one rule + one action", move || {
            let (db, t) = (db.clone(), t);
            async move {
                let mut query = q(AlertRange::Last30d, Some("US_SSN"));
                query.filter.action = Some(shared::policy::Action::Block);
                records::alert_violations(&db, &t, now, &query, None)
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        })
        .await;
    }
    {
        let (db, t) = (db.clone(), t);
        median(
            "overview (today's numbers, top rules, last blocked)",
            move || {
                let (db, t) = (db.clone(), t);
                async move {
                    let o = records::overview(&db, &t, now).await.unwrap();
                    o.violations_today as usize
                }
            },
        )
        .await;
    }
    {
        let (db, t) = (db.clone(), t);
        median("calls list, first page", move || {
            let (db, t) = (db.clone(), t);
            async move {
                records::calls(&db, &t, &CallFilter::default())
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        })
        .await;
    }

    // Retention, once each (they delete): an org keeping a day less than
    // the data spans deletes that day row by row; then whole months go
    // with their partitions.
    println!("\nretention (once each):");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM violations")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let before = count().await;
    // Another org keeps the server's retention, so months stay and the
    // shorter one deletes rows.
    sqlx::query("INSERT INTO orgs (name) VALUES ('Other')")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE orgs SET retention_days = 29 WHERE id = $1")
        .bind(org_id)
        .execute(&db)
        .await
        .unwrap();
    let started = Instant::now();
    let sweep = server::service::retention::maintain(&db, now, 400)
        .await
        .unwrap();
    let took = started.elapsed();
    let after = count().await;
    println!(
        "  {:<48} {:>8.1} ms   ({} calls, {} violations)",
        "an org's shorter retention: rows past it deleted",
        took.as_secs_f64() * 1000.0,
        sweep.calls_deleted,
        before - after
    );
    let started = Instant::now();
    let sweep = server::service::retention::maintain(&db, now + chrono::Duration::days(40), 7)
        .await
        .unwrap();
    let took = started.elapsed();
    println!(
        "  {:<48} {:>8.1} ms   ({} months, {} violations)",
        "whole months dropped with their partitions",
        took.as_secs_f64() * 1000.0,
        sweep.dropped.len(),
        after - count().await
    );

    bench.finish().await;
}
