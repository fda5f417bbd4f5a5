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

/// A Tool Pack named "Support".
async fn support_pack(db: &PgPool, t: &TenantCtx) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO tool_packs (org_id, name, description) VALUES ($1, 'Support', '') RETURNING id",
    )
    .bind(t.org_id)
    .fetch_one(db)
    .await
    .unwrap()
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
    let pack = support_pack(&db, &acme).await;

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

/// The alerts summary counts from hourly roll-ups for whole hours and from
/// the raw rows at the edges. Checked against the raw rows, counted here
/// in Rust, for every preset and a custom range, with and without each
/// filter; then again after rows are deleted (the roll-ups follow). And
/// the trail cannot be edited in place.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rolled_up_counts_equal_the_raw_rows_for_every_range_and_filter(db: PgPool) {
    use std::collections::BTreeMap;
    let acme = org(&db, "Acme").await;
    let other = org(&db, "Other").await;
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 34, 56).unwrap();
    let pack = support_pack(&db, &acme).await;
    let users = [Some(Uuid::new_v4()), Some(Uuid::new_v4()), None];
    let labels = ["CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN", "custom:x"];
    let actions = ["allow", "redact", "block"];
    let directions = ["arguments", "results"];
    // 600 calls over 40 days at irregular times (a fixed sequence), one to
    // three violations each, in one statement per call like the recorder.
    let mut seed: u64 = 7;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..600 {
        let at = now - Duration::seconds(i64::try_from(next(40 * 86_400)).unwrap());
        let call = Uuid::new_v4();
        let p = (next(3) > 0).then_some(pack);
        let u = users[usize::try_from(next(3)).unwrap()];
        sqlx::query(
            "INSERT INTO tool_calls (id, org_id, pack_id, registered_user_id, tool, mode, decision,
                                     outcome, latency_us, created_at)
             VALUES ($1, $2, $3, $4, 'fx__echo', 'enforce', 'allow', 'ok', 1000, $5)",
        )
        .bind(call)
        .bind(acme.org_id)
        .bind(p)
        .bind(u)
        .bind(at)
        .execute(&db)
        .await
        .unwrap();
        let k = 1 + next(3);
        let pick = |n: u64, seed: u64| usize::try_from((seed + n) % 97).unwrap();
        let (l, a, d) = (next(97), next(97), next(97));
        let rows: Vec<(String, String, String)> = (0..k)
            .map(|j| {
                (
                    labels[pick(j, l) % labels.len()].to_owned(),
                    actions[pick(j, a) % actions.len()].to_owned(),
                    directions[pick(j, d) % directions.len()].to_owned(),
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO violations (call_id, org_id, pack_id, registered_user_id, rule_key, label,
                                     direction, pointer, score, action, enforced, snippet, created_at)
             SELECT $1, $2, $3, $4, l, l, d, '/x', 0.9, a, true, '[REDACTED]', $5
             FROM UNNEST($6::text[], $7::text[], $8::text[]) AS t(l, a, d)",
        )
        .bind(call)
        .bind(acme.org_id)
        .bind(p)
        .bind(u)
        .bind(at)
        .bind(rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
        .execute(&db)
        .await
        .unwrap();
        if i % 50 == 0 {
            // Noise in another org, in the same hours.
            call_in(&db, &other, at).await;
        }
    }

    type Raw = (
        DateTime<Utc>,
        String,
        String,
        String,
        Option<Uuid>,
        Option<Uuid>,
    );
    let check = |raw: Vec<Raw>, q: AlertsQuery, got: shared::api::AlertsSummary| {
        let f = &q.filter;
        let rows: Vec<&Raw> = raw
            .iter()
            .filter(|r| r.0 >= got.from && r.0 < got.to)
            .filter(|r| f.label.as_ref().is_none_or(|l| *l == r.1))
            .filter(|r| f.action.is_none_or(|a| a.as_str() == r.2))
            .filter(|r| f.direction.is_none_or(|d| d.as_str() == r.3))
            .filter(|r| f.pack_id.is_none_or(|p| Some(p) == r.4))
            .filter(|r| f.registered_user_id.is_none_or(|u| Some(u) == r.5))
            .collect();
        let what = format!("{:?} {:?}", q.range, q.filter);
        assert_eq!(got.total, rows.len() as i64, "total, {what}");
        let first = got.buckets[0].start;
        let mut buckets: BTreeMap<i64, [i64; 3]> = BTreeMap::new();
        for r in &rows {
            let i = (r.0 - first).num_seconds().div_euclid(got.bucket_secs);
            let slot = buckets.entry(i).or_default();
            slot[actions.iter().position(|a| *a == r.2).unwrap()] += 1;
        }
        for (i, b) in got.buckets.iter().enumerate() {
            let want = buckets.get(&(i as i64)).copied().unwrap_or_default();
            assert_eq!([b.allow, b.redact, b.block], want, "bucket {i}, {what}");
        }
        let count = |key: &dyn Fn(&Raw) -> String| {
            let mut m: BTreeMap<String, i64> = BTreeMap::new();
            for r in &rows {
                *m.entry(key(r)).or_default() += 1;
            }
            m
        };
        let got_map = |v: &[shared::api::CountRow]| {
            v.iter()
                .map(|r| (r.key.clone(), r.count))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            got_map(&got.by_entity),
            count(&|r| r.1.clone()),
            "entities, {what}"
        );
        let id = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
        assert_eq!(got_map(&got.by_pack), count(&|r| id(r.4)), "packs, {what}");
        assert_eq!(got_map(&got.by_user), count(&|r| id(r.5)), "users, {what}");
    };

    for round in 0..2 {
        let raw: Vec<Raw> = sqlx::query_as(
            "SELECT created_at, label, action, direction, pack_id, registered_user_id
             FROM violations WHERE org_id = $1",
        )
        .bind(acme.org_id)
        .fetch_all(&db)
        .await
        .unwrap();
        let filters = [
            ViolationFilter::default(),
            ViolationFilter {
                label: Some("US_SSN".into()),
                ..ViolationFilter::default()
            },
            ViolationFilter {
                action: Some(Action::Block),
                direction: Some(Direction::Results),
                ..ViolationFilter::default()
            },
            ViolationFilter {
                pack_id: Some(pack),
                ..ViolationFilter::default()
            },
            ViolationFilter {
                registered_user_id: users[0],
                ..ViolationFilter::default()
            },
        ];
        let mut queries = Vec::new();
        for filter in &filters {
            for range in [
                AlertRange::LastHour,
                AlertRange::Last24h,
                AlertRange::Last7d,
                AlertRange::Last30d,
            ] {
                queries.push(AlertsQuery {
                    range,
                    split: false,
                    filter: filter.clone(),
                });
            }
            // Custom: unaligned ends, three days (whole-hour buckets) and
            // ten hours (minute buckets, raw rows only).
            for span in [Duration::hours(75), Duration::hours(10)] {
                let to = now - Duration::minutes(97) - Duration::seconds(13);
                let mut q = custom(to - span, to);
                q.filter = ViolationFilter {
                    from: q.filter.from,
                    to: q.filter.to,
                    ..filter.clone()
                };
                queries.push(q);
            }
        }
        for q in queries {
            let got = records::alerts(&db, &acme, now, &q).await.unwrap();
            check(raw.clone(), q, got);
        }
        if round == 0 {
            // Drop a third of the calls with their violations, as
            // retention does: the roll-ups are decremented in the same
            // statement.
            sqlx::query(
                "WITH v AS (DELETE FROM violations WHERE org_id = $1 AND created_at < $2 - interval '10 days')
                 DELETE FROM tool_calls WHERE org_id = $1 AND created_at < $2 - interval '10 days'",
            )
            .bind(acme.org_id)
            .bind(now)
            .execute(&db)
            .await
            .unwrap();
        }
    }
    let edit = sqlx::query("UPDATE violations SET action = 'allow' WHERE org_id = $1")
        .bind(acme.org_id)
        .execute(&db)
        .await
        .unwrap_err();
    assert!(edit.to_string().contains("append-only"), "{edit}");
}

async fn call_in(db: &PgPool, t: &TenantCtx, at: DateTime<Utc>) {
    call(db, t, at, None, &[("CREDIT_CARD", "block", "arguments")]).await;
}
