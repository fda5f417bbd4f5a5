//! The alerts page's numbers: buckets, breakdowns, filters and paging
//! computed by `service::records` from rows a test put there, in a real
//! Postgres, and nothing of another organization.

use chrono::{DateTime, Duration, TimeZone, Utc};
use server::service::{accounts, records};
use shared::account::{Actor, Role, SignUpInput, TenantCtx};
use shared::api::{AlertRange, AlertsQuery, ViolationFilter};
use shared::policy::{Action, Direction};
use sqlx::PgPool;
use uuid::Uuid;

async fn org(db: &PgPool, name: &str) -> TenantCtx {
    let input = SignUpInput {
        org_name: name.into(),
        email: format!("owner@{}.test", name.to_lowercase()),
        password: "a long enough passphrase".into(),
    }
    .parse()
    .unwrap();
    let (user_id, org_id) = accounts::sign_up(db, &input).await.unwrap();
    TenantCtx {
        org_id,
        role: Role::Viewer,
        actor: Actor::Member { user_id },
    }
}

/// One call at `at` with one violation per `(label, action, direction)`.
async fn call(
    db: &PgPool,
    t: &TenantCtx,
    at: DateTime<Utc>,
    pack: Option<Uuid>,
    hits: &[(&str, &str, &str)],
) {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO tool_calls (id, org_id, pack_id, tool, mode, decision, outcome, latency_us, created_at)
         VALUES ($1, $2, $3, 'fx__echo', 'enforce', 'allow', 'ok', 1000, $4)",
    )
    .bind(id)
    .bind(t.org_id)
    .bind(pack)
    .bind(at)
    .execute(db)
    .await
    .unwrap();
    for (label, action, direction) in hits {
        sqlx::query(
            "INSERT INTO violations (call_id, org_id, pack_id, rule_key, label, direction, pointer,
                                     score, action, enforced, snippet, created_at)
             VALUES ($1, $2, $3, $4, $4, $5, '/text', 0.9, $6, true, '[REDACTED]', $7)",
        )
        .bind(id)
        .bind(t.org_id)
        .bind(pack)
        .bind(label)
        .bind(direction)
        .bind(action)
        .bind(at)
        .execute(db)
        .await
        .unwrap();
    }
}

fn custom(from: DateTime<Utc>, to: DateTime<Utc>) -> AlertsQuery {
    AlertsQuery {
        range: AlertRange::Custom,
        split: false,
        filter: ViolationFilter {
            from: Some(from),
            to: Some(to),
            ..ViolationFilter::default()
        },
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn buckets_breakdowns_filters_and_pages_count_only_this_org(db: PgPool) {
    let acme = org(&db, "Acme").await;
    let other = org(&db, "Other").await;
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 30, 0).unwrap();
    let pack: Uuid = sqlx::query_scalar(
        "INSERT INTO tool_packs (org_id, name, description) VALUES ($1, 'Support', '') RETURNING id",
    )
    .bind(acme.org_id)
    .fetch_one(&db)
    .await
    .unwrap();

    // Acme: three calls in the last 24 hours, one 3 days ago.
    call(
        &db,
        &acme,
        now - Duration::minutes(10),
        Some(pack),
        &[
            ("CREDIT_CARD", "redact", "arguments"),
            ("EMAIL_ADDRESS", "allow", "results"),
        ],
    )
    .await;
    call(
        &db,
        &acme,
        now - Duration::hours(5),
        Some(pack),
        &[("AWS_ACCESS_KEY", "block", "arguments")],
    )
    .await;
    call(
        &db,
        &acme,
        now - Duration::hours(5),
        None,
        &[("CREDIT_CARD", "redact", "results")],
    )
    .await;
    call(
        &db,
        &acme,
        now - Duration::days(3),
        None,
        &[("US_SSN", "redact", "arguments")],
    )
    .await;
    // Another org's violations never show.
    call(
        &db,
        &other,
        now - Duration::minutes(5),
        None,
        &[("CREDIT_CARD", "block", "arguments")],
    )
    .await;

    let q = |range| AlertsQuery {
        range,
        split: false,
        filter: ViolationFilter::default(),
    };
    let day = records::alerts(&db, &acme, now, &q(AlertRange::Last24h))
        .await
        .unwrap();
    assert_eq!(day.total, 4);
    assert_eq!(day.bucket_secs, 3600);
    assert_eq!(
        day.buckets
            .iter()
            .map(|b| b.allow + b.redact + b.block)
            .sum::<i64>(),
        4
    );
    let last = day.buckets.last().unwrap();
    assert_eq!(
        (last.allow, last.redact, last.block),
        (1, 1, 0),
        "the 12:00 bucket"
    );
    let five_ago = day
        .buckets
        .iter()
        .find(|b| b.start == Utc.with_ymd_and_hms(2026, 11, 22, 7, 0, 0).unwrap())
        .unwrap();
    assert_eq!((five_ago.redact, five_ago.block), (1, 1));
    let by = |rows: &[shared::api::CountRow]| {
        rows.iter()
            .map(|r| (r.label.clone(), r.count))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(&day.by_entity),
        vec![
            ("CREDIT_CARD".into(), 2),
            ("AWS_ACCESS_KEY".into(), 1),
            ("EMAIL_ADDRESS".into(), 1)
        ]
    );
    assert_eq!(
        by(&day.by_pack),
        vec![("Support".into(), 3), ("(none)".into(), 1)]
    );
    assert!(day.chart_svg.starts_with("<svg"));

    let week = records::alerts(&db, &acme, now, &q(AlertRange::Last7d))
        .await
        .unwrap();
    assert_eq!(week.total, 5, "the 3-day-old call is in the week");

    // Filters narrow chart and table alike.
    let mut blocked = q(AlertRange::Last24h);
    blocked.filter.action = Some(Action::Block);
    assert_eq!(
        records::alerts(&db, &acme, now, &blocked)
            .await
            .unwrap()
            .total,
        1
    );
    let mut results = q(AlertRange::Last7d);
    results.filter.direction = Some(Direction::Results);
    results.filter.label = Some("CREDIT_CARD".into());
    assert_eq!(
        records::alerts(&db, &acme, now, &results)
            .await
            .unwrap()
            .total,
        1
    );
    let mut in_pack = q(AlertRange::Last7d);
    in_pack.filter.pack_id = Some(pack);
    let page = records::alert_violations(&db, &acme, now, &in_pack, None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(
        page.items
            .iter()
            .all(|v| v.pack_name.as_deref() == Some("Support"))
    );

    // A custom range must be ordered and bounded, with a clear field error.
    let bad = records::alerts(&db, &acme, now, &custom(now, now - Duration::hours(1)))
        .await
        .unwrap_err()
        .into_api();
    assert!(bad.field("to").is_some(), "{bad:?}");
    let ok = records::alerts(&db, &acme, now, &custom(now - Duration::days(4), now))
        .await
        .unwrap();
    assert_eq!(ok.total, 5);
    assert!(ok.buckets.len() <= 200);

    // The other org sees only its own.
    let theirs = records::alerts(&db, &other, now, &q(AlertRange::Last24h))
        .await
        .unwrap();
    assert_eq!(theirs.total, 1);
}
