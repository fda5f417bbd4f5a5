//! Plans and enforce quotas: usage counted exactly across servers, the 80 %
//! warning, Enforce Paused (monitor semantics or strict), and resuming at
//! the next period or when the operator raises the quota.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent, database_url, http};

const OPERATOR: &str = "operator-secret-for-tests";

fn echo(text: &str) -> Value {
    json!({"op": "call", "tool": "fixture__echo", "args": {"text": text}})
}

async fn org_id(admin: &Admin) -> String {
    admin.ok(Method::GET, "/org", None).await["org_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The operator endpoint, as an operator's script calls it.
async fn operator(base: &str, org: &str, token: &str, body: Value) -> (u16, Value) {
    let res = http()
        .put(format!("{base}/api/v1/operator/orgs/{org}/plan"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn events(admin: &Admin) -> Vec<String> {
    admin
        .ok(Method::GET, "/org/events", None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn used(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(sum(used), 0)::int8 FROM enforce_usage")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn usage_is_counted_exactly_once_per_enforced_call_across_two_servers(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let a = Gatehouse::start(&db, &[]);
    let b = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &a.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;

    // Monitor-mode calls are never counted.
    let out = agent(&a.base, &key, "2026-07-28", json!([echo("warm up")]));
    assert_eq!(out[0]["is_error"], false);
    assert_eq!(used(&db).await, 0);

    // Four agents at once, two on each server, ten calls each.
    admin.set_mode("enforce").await;
    let mut agents = Vec::new();
    for i in 0..4 {
        let base = if i % 2 == 0 { &a.base } else { &b.base }.clone();
        let key = key.clone();
        agents.push(std::thread::spawn(move || {
            let steps: Vec<Value> = (0..10).map(|n| echo(&format!("call {i}-{n}"))).collect();
            agent(&base, &key, "2026-07-28", json!(steps))
        }));
    }
    for t in agents {
        let out = t.join().unwrap();
        assert!(out.iter().all(|r| r["is_error"] == false), "{out:?}");
    }
    let enforced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tool_calls WHERE mode = 'enforce' AND outcome <> 'in_flight'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(enforced, 40);
    assert_eq!(used(&db).await, 40, "exactly one count per enforced call");
    let org = admin.ok(Method::GET, "/org", None).await;
    assert_eq!(org["enforcement"]["usage"]["used"], 40);
    assert_eq!(org["enforcement"]["usage"]["plan"], "free");
    assert_eq!(org["enforcement"]["usage"]["enforce_quota"], 10_000);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_used_up_quota_pauses_enforce_until_it_is_raised_or_the_period_ends(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_OPERATOR_TOKEN", OPERATOR)]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    let org = org_id(&admin).await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "no rm", "tools": "fixture__echo",
                        "condition": "args.text.contains('rm -rf')", "action": "block"})),
        )
        .await;

    // The operator endpoint: off without the token, refused with a wrong
    // one, and it checks its input.
    assert_eq!(
        operator(&gh.base, &org, "wrong", json!({"plan": "team"}))
            .await
            .0,
        401
    );
    let (status, body) = operator(&gh.base, &org, OPERATOR, json!({"plan": "gold"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = operator(
        &gh.base,
        &uuid::Uuid::new_v4().to_string(),
        OPERATOR,
        json!({"plan": "team"}),
    )
    .await;
    assert_eq!(status, 404);
    // An org admin's token is not the operator's.
    let (status, _) = operator(&gh.base, &org, &admin.token, json!({"plan": "team"})).await;
    assert_eq!(status, 401);
    let (status, e) = operator(
        &gh.base,
        &org,
        OPERATOR,
        json!({"plan": "team", "enforce_quota": 5}),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["usage"]["enforce_quota"], 5);
    assert_eq!(e["usage"]["quota_is_custom"], true);

    // Four enforced calls: 80 %, the warning is recorded once.
    admin.set_mode("enforce").await;
    let steps: Vec<Value> = (0..4).map(|n| echo(&format!("ok {n}"))).collect();
    let out = agent(&gh.base, &key, "legacy", json!(steps));
    assert!(out.iter().all(|r| r["is_error"] == false));
    let org_view = admin.ok(Method::GET, "/org", None).await;
    assert_eq!(org_view["enforcement"]["usage"]["level"], "warning");
    assert_eq!(org_view["enforcement"]["effective"], "enforce");
    assert!(events(&admin).await.contains(&"quota_warning".to_owned()));

    // Enforce still blocks while the quota lasts; the fifth enforced call
    // uses it up.
    let before = upstream.calls().len();
    let out = agent(&gh.base, &key, "legacy", json!([echo("rm -rf /")]));
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    assert_eq!(upstream.calls().len(), before);
    let org_view = admin.ok(Method::GET, "/org", None).await;
    let e = &org_view["enforcement"];
    assert_eq!(org_view["mode"], "enforce", "the configured mode stays");
    assert_eq!(e["configured"], "enforce");
    assert_eq!(e["effective"], "enforce_paused");
    assert_eq!(e["pause"]["reason"], "quota");
    assert_eq!(e["pause"]["limit"], 5);
    assert!(e["pause"]["since"].is_string(), "{e}");
    let kinds = events(&admin).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "enforce_paused").count(),
        1,
        "{kinds:?}"
    );

    // Paused: decided as in monitor mode, and the record says so next to
    // what enforce would have done. Not counted.
    let out = agent(&gh.base, &key, "2026-07-28", json!([echo("rm -rf /")]));
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    assert_eq!(upstream.calls().len(), before + 1);
    let (mode, decision, reasons): (String, String, Vec<String>) = sqlx::query_as(
        "SELECT mode, decision, reasons FROM tool_calls WHERE outcome <> 'in_flight'
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((mode.as_str(), decision.as_str()), ("monitor", "block"));
    assert!(
        reasons.contains(&"enforce_paused:quota".to_owned())
            && reasons.contains(&"would_block_tool".to_owned()),
        "{reasons:?}"
    );
    assert_eq!(used(&db).await, 5);

    // Strict: every call is blocked while paused, with the reason.
    admin
        .ok(
            Method::PUT,
            "/org/paused-behaviour",
            Some(json!({"paused_blocks_calls": true})),
        )
        .await;
    let out = agent(&gh.base, &key, "legacy", json!([echo("harmless")]));
    assert_eq!(out[0]["is_error"], true);
    let text = out[0]["text"].as_str().unwrap();
    assert!(text.contains("paused") && text.contains("quota"), "{text}");
    assert_eq!(upstream.calls().len(), before + 1, "strict: not dispatched");
    let (decision, reasons): (String, Vec<String>) = sqlx::query_as(
        "SELECT decision, reasons FROM tool_calls WHERE outcome <> 'in_flight'
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(decision, "block");
    assert!(reasons.contains(&"enforce_paused:quota".to_owned()));
    assert_eq!(used(&db).await, 5);

    // The operator raises the quota (from the CLI): enforce resumes at once.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "org",
            "plan",
            "Acme",
            "--plan",
            "team",
            "--enforce-quota",
            "100",
        ])
        .env("DATABASE_URL", database_url(&db))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("plan team") && stdout.contains("100 calls") && stdout.contains("Enforce"),
        "{stdout}"
    );
    let org_view = admin.ok(Method::GET, "/org", None).await;
    assert_eq!(org_view["enforcement"]["effective"], "enforce");
    let before = upstream.calls().len();
    let out = agent(
        &gh.base,
        &key,
        "legacy",
        json!([echo("rm -rf /"), echo("fine")]),
    );
    assert_eq!(out[0]["is_error"], true, "enforce blocks again");
    assert_eq!(out[1]["is_error"], false);
    assert_eq!(upstream.calls().len(), before + 1);
    let kinds = events(&admin).await;
    for k in [
        "plan_changed",
        "enforce_resumed",
        "paused_behaviour_changed",
        "mode_changed",
    ] {
        assert!(kinds.contains(&k.to_owned()), "{k}: {kinds:?}");
    }
    // Who switched the mode, and when, is on record.
    let list = admin.ok(Method::GET, "/org/events", None).await;
    let switch = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "mode_changed")
        .unwrap();
    assert!(
        switch["actor"]
            .as_str()
            .unwrap()
            .contains("owner@acme.test"),
        "{switch}"
    );
    assert!(
        switch["summary"]
            .as_str()
            .unwrap()
            .contains("monitor to enforce")
    );

    // Used up again, then the month ends: the new period resumes enforce
    // by itself (the usage of the ended month stays with that month).
    operator(
        &gh.base,
        &org,
        OPERATOR,
        json!({"plan": "team", "enforce_quota": 7}),
    )
    .await;
    let out = agent(&gh.base, &key, "legacy", json!([echo("x")]));
    assert_eq!(out[0]["is_error"], true, "strict and paused: {}", out[0]);
    assert_eq!(
        admin.ok(Method::GET, "/org", None).await["enforcement"]["effective"],
        "enforce_paused"
    );
    // A month goes by (the usage row and the pause move into the past).
    sqlx::raw_sql(
        "UPDATE enforce_usage SET period = (period - interval '1 month')::date;
         UPDATE org_events SET period = (period - interval '1 month')::date, at = at - interval '31 days'",
    )
    .execute(&db)
    .await
    .unwrap();
    let out = agent(&gh.base, &key, "legacy", json!([echo("rm -rf /")]));
    assert_eq!(out[0]["is_error"], true, "enforced (blocked by the policy)");
    assert!(
        out[0]["text"].as_str().unwrap().contains("no rm"),
        "{}",
        out[0]
    );
    let e = admin.ok(Method::GET, "/org", None).await;
    assert_eq!(e["enforcement"]["effective"], "enforce");
    assert_eq!(e["enforcement"]["usage"]["used"], 1);
    let list = admin.ok(Method::GET, "/org/events", None).await;
    let resumed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "enforce_resumed")
        .unwrap();
    assert!(
        resumed["summary"].as_str().unwrap().contains("new period"),
        "{resumed}"
    );
}
