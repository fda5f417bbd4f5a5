//! Security hardening, tried as an attacker would: a DNS answer that
//! changes after a connector was saved, an upstream that hides data in
//! `_meta` or in its error text, or answers 100 MB, a record that Postgres
//! refuses, routing headers that lie about the body.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent, agent_with, http, token};

const SSN: &str = "536-22-8726";

fn call(tool: &str, args: Value) -> Value {
    json!({"op": "call", "tool": format!("fixture__{tool}"), "args": args})
}

async fn last_call(db: &PgPool) -> (String, Option<String>) {
    sqlx::query_as("SELECT outcome, error_message FROM tool_calls ORDER BY created_at DESC LIMIT 1")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_connector_whose_name_now_resolves_to_loopback_is_never_contacted(db: PgPool) {
    let mut upstream = Upstream::start(true, None);
    // Saved while private addresses were allowed (as if the name answered
    // a public address then)…
    upstream.url = upstream.url.replace("127.0.0.1", "localhost");
    let open = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &open.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    drop(open);

    // …and called once the name answers loopback: refused at connect time.
    let strict = Gatehouse::start(&db, &[("GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "false")]);
    let before = upstream.calls().len();
    let out = agent(
        &strict.base,
        &key,
        "auto",
        json!([call("echo", json!({"text": "hi"}))]),
    );
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    let text = out[0]["text"].as_str().unwrap();
    assert!(text.contains("not a public address"), "{text}");
    assert_eq!(upstream.calls().len(), before, "the upstream was reached");
    assert_eq!(last_call(&db).await.0, "upstream_forbidden");

    // Saving such a connector is refused with the reason, for names and
    // for every spelling of an internal address.
    let admin = admin.at(&strict.base);
    for url in [
        upstream.url.clone(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::ffff:127.0.0.1]:9/mcp".to_owned(),
        "http://[64:ff9b::7f00:1]/mcp".to_owned(),
        "http://0.0.0.0:9/mcp".to_owned(),
    ] {
        let (status, body) = admin
            .send(
                Method::POST,
                "/connectors",
                Some(json!({"name": "internal", "url": url})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert!(
            body.to_string().contains("not a public address"),
            "{url}: {body}"
        );
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn connector_urls_carry_no_secrets_and_auth_never_travels_in_clear(db: PgPool) {
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    for (url, header, expect) in [
        (
            "https://tools.example.com/mcp?api_key=s3cret",
            false,
            "query string",
        ),
        (
            "https://bob:pw@tools.example.com/mcp",
            false,
            "user name and password",
        ),
        ("http://tools.example.com/mcp", true, "not encrypted"),
    ] {
        let mut body = json!({"name": "leaky", "url": url});
        if header {
            body["auth_header_name"] = json!("Authorization");
            body["auth_header_value"] = json!("Bearer s3cret");
        }
        let (status, res) = admin.send(Method::POST, "/connectors", Some(body)).await;
        assert_eq!(status, 422, "{url}: {res}");
        assert!(res.to_string().contains(expect), "{url}: {res}");
        assert!(!res.to_string().contains("s3cret"), "{res}");
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn everything_the_agent_receives_is_scanned_meta_and_upstream_errors_included(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin
        .agent_setup(&upstream, None, &["annotated", "reject"])
        .await;

    // Monitor: the agent sees what the upstream sent, but the record and
    // the logs hold the error only redacted.
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call("reject", json!({"customer_id": "c-1"}))]),
    );
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    let (outcome, stored) = last_call(&db).await;
    assert_eq!(outcome, "upstream_error");
    let stored = stored.unwrap();
    assert!(
        stored.contains("[REDACTED:US_SSN]") && !stored.contains(SSN),
        "{stored}"
    );

    admin.set_mode("enforce").await;
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([
            call("annotated", json!({"customer_id": "c-1"})),
            call("reject", json!({"customer_id": "c-1"})),
        ]),
    );
    // `_meta` is scanned like content.
    assert_eq!(
        out[0]["meta"]["note"], "customer c-1 ssn [REDACTED:US_SSN]",
        "{}",
        out[0]
    );
    // The upstream's error text too.
    let text = out[1]["text"].as_str().unwrap();
    assert!(
        text.contains("[REDACTED:US_SSN]") && !text.contains(SSN),
        "{text}"
    );
    let violations: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT direction, pointer FROM violations WHERE label = 'US_SSN' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(
        violations.contains(&("results".into(), Some("/_meta/note".into()))),
        "{violations:?}"
    );
    assert!(
        violations.contains(&("results".into(), Some("/error".into()))),
        "{violations:?}"
    );
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(coalesce(error_message, '') || arguments_redacted::text, ' ') FROM tool_calls",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(!dump.contains(SSN), "{dump}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn detected_keys_are_redacted_in_stored_pointers_and_block_messages(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    // A map keyed by e-mail address, holding an AWS key (blocked).
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call(
            "echo",
            json!({"text": "x", "extra": {"jane.doe@example.com": "AKIAIOSFODNN7EXAMPLE"}})
        )]),
    );
    let msg = out[0]["text"].as_str().unwrap();
    assert_eq!(out[0]["is_error"], true, "{msg}");
    assert!(!msg.contains("jane.doe@example.com"), "{msg}");
    let pointers: Vec<Option<String>> = sqlx::query_scalar("SELECT pointer FROM violations")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(!pointers.is_empty());
    for p in pointers.iter().flatten() {
        assert!(!p.contains("jane.doe"), "{p}");
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_upstream_answering_100_mb_is_cut_off_and_the_agent_told_why(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_UPSTREAM_MAX_RESPONSE_BYTES", "1048576")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["big"]).await;
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([
            call("big", json!({"megabytes": 100})),
            call("big", json!({"megabytes": 0.25})),
        ]),
    );
    assert_eq!(out[0]["is_error"], true);
    let text = out[0]["text"].as_str().unwrap();
    assert!(
        text.contains("larger than the 1048576-byte limit"),
        "{text}"
    );
    // Below the limit still works, over the same connector (the SDK sends
    // the text twice: content and structuredContent).
    assert_eq!(out[1]["is_error"], false);
    assert_eq!(out[1]["text"].as_str().unwrap().len(), 256 * 1024);
    // The oversized call ran once: never retried.
    let bigs = upstream
        .calls()
        .iter()
        .filter(|c| c["arguments"]["megabytes"].as_f64() == Some(100.0))
        .count();
    assert_eq!(bigs, 1);
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM tool_calls ORDER BY created_at")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(outcomes, ["upstream_too_large", "ok"]);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_call_is_on_record_while_the_upstream_works_and_nul_bytes_poison_nothing(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["slow", "echo"]).await;
    let base = gh.base.clone();
    let key2 = key.clone();
    let running = std::thread::spawn(move || {
        agent(
            &base,
            &key2,
            "auto",
            json!([call("slow", json!({"seconds": 3}))]),
        )
    });
    // While the upstream sleeps, the call's intent is already recorded.
    let mut seen = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM tool_calls WHERE tool = 'fixture__slow' AND outcome = 'in_flight'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if n == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "no in-flight record while the upstream worked");
    let out = running.join().unwrap();
    assert_eq!(out[0]["text"], "done");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT tool, outcome FROM tool_calls ORDER BY created_at")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows, [("fixture__slow".to_owned(), "ok".to_owned())]);
    let sessions: i64 = sqlx::query_scalar("SELECT sum(call_count)::int8 FROM runtime_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 1, "the intent is not counted as a call");

    // A NUL character in the arguments: the call runs and is recorded.
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call("echo", json!({"text": "a\u{0}b", "k\u{0}": 1}))]),
    );
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    let (outcome, _) = last_call(&db).await;
    assert_eq!(outcome, "ok");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn routing_headers_that_disagree_with_the_body_are_refused_before_authentication(db: PgPool) {
    let gh = Gatehouse::start(&db, &[]);
    // No bearer token at all: the mismatch is answered first.
    let res = http()
        .post(format!("{}/mcp", gh.base))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .body(
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "deploy"}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32020, "{body}");
    assert_eq!(body["id"], 7);
    // Matching headers go on to authentication as usual.
    let res = http()
        .post(format!("{}/mcp", gh.base))
        .header("content-type", "application/json")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "deploy")
        .body(
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "deploy"}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

pub(crate) fn record(org_id: uuid::Uuid, tool: &str) -> server::recorder::CallRecord {
    use server::recorder::{CallRecord, SessionRecord, ViolationRecord};
    CallRecord {
        id: uuid::Uuid::new_v4(),
        org_id,
        pack_id: uuid::Uuid::new_v4(),
        registered_user_id: uuid::Uuid::new_v4(),
        agent_key_id: uuid::Uuid::new_v4(),
        session: SessionRecord {
            id: uuid::Uuid::new_v4(),
            kind: shared::api::SessionKind::Named,
            name: Some("run\u{0}".into()),
            mcp_session_id: Some("s\u{0}1".into()),
        },
        connector_id: None,
        tool: tool.to_owned(),
        upstream_tool: None,
        mode: shared::account::OrgMode::Enforce,
        charge: Some(server::recorder::Charge {
            period: shared::api::Period::of(chrono::Utc::now()),
            quota: Some(1_000),
        }),
        decision: shared::api::Decision::Allow,
        reasons: vec![],
        outcome: shared::api::Outcome::Ok,
        arguments_redacted: Some(json!({"k\u{0}": "v\u{0}"})),
        error_message: None,
        latency_us: 1,
        upstream_us: None,
        resource: None,
        upstream_request_id: None,
        statement: None,
        mcp_session_id: None,
        client_name: Some("agent\u{0}".into()),
        client_version: None,
        protocol_version: None,
        created_at: chrono::Utc::now(),
        violations: vec![ViolationRecord {
            rule_key: "entity:EMAIL_ADDRESS".into(),
            label: "EMAIL_ADDRESS".into(),
            direction: shared::policy::Direction::Arguments,
            pointer: Some("/k\u{0}".into()),
            score: 0.9,
            action: shared::policy::Action::Allow,
            enforced: true,
            snippet: "[REDACTED:EMAIL_ADDRESS]\u{0}".into(),
        }],
        approval_id: None,
        intent: false,
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn one_record_postgres_refuses_costs_no_other_call_its_record(db: PgPool) {
    let (_, _, org) = crate::support::org_with_owner(&db, "Acme", "ada@example.com").await;
    let recorder = server::recorder::Recorder::spawn(
        db.clone(),
        crate::support::plans(),
        server::clock::Clock::system(),
        std::sync::Arc::new(server::service::data_path::AgentAccess::new(
            std::num::NonZeroUsize::MIN,
            std::time::Duration::ZERO,
        )),
    );
    // Twenty calls recorded at once (so they share batches), every one with
    // NUL characters, and one that cannot be stored at all (no such org).
    let mut tasks = Vec::new();
    for i in 0..20 {
        let r = recorder.clone();
        let org_id = if i == 7 { uuid::Uuid::new_v4() } else { org };
        tasks.push(tokio::spawn(async move {
            r.record(record(org_id, &format!("tool-{i}"))).await
        }));
    }
    let mut failed = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        if t.await.unwrap().is_err() {
            failed.push(i);
        }
    }
    assert_eq!(failed, [7], "only the unstorable record fails");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM tool_calls WHERE org_id = $1")
        .bind(org)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 19);
    let violations: i64 = sqlx::query_scalar("SELECT count(*) FROM violations")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(violations, 19);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_upstream_error_body_reaches_the_agent_redacted_and_capped(db: PgPool) {
    let body = format!("internal error for customer ssn {SSN} {}", "x".repeat(5000));
    let upstream = Upstream::start_with(true, None, &["--error-body", &body]);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call("echo", json!({"text": "hi"}))]),
    );
    let text = out[0]["text"].as_str().unwrap();
    assert_eq!(out[0]["is_error"], true);
    assert!(text.contains("400"), "{text}");
    assert!(
        text.contains("[REDACTED:US_SSN]") && !text.contains(SSN),
        "{text}"
    );
    assert!(text.len() < 600, "{} characters", text.len());
    let (_, stored) = last_call(&db).await;
    let stored = stored.unwrap();
    assert!(!stored.contains(SSN) && stored.len() < 600, "{stored}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn api_tokens_expire_act_with_at_most_their_creators_role_and_die_with_the_membership(
    db: PgPool,
) {
    use server::service::{accounts, api_tokens};
    use shared::account::{Actor, Role};
    use shared::api::ApiTokenInput;
    let (owner, _, org) = crate::support::org_with_owner(&db, "Acme", "ada@example.com").await;
    let admin_id = crate::support::add(&db, &owner, "bob@example.com", Role::Admin).await;
    let admin = crate::support::ctx(org, admin_id, Role::Admin);
    let now = chrono::Utc::now();
    let input = |days| ApiTokenInput {
        name: "ci".into(),
        role: "admin".into(),
        expires_in_days: days,
    };
    let made = api_tokens::create(&db, &admin, now, &input(None))
        .await
        .unwrap();
    let ninety = now + chrono::Duration::days(90);
    assert!((made.item.expires_at - ninety).num_milliseconds().abs() < 1);
    let role_at = |when| {
        let db = db.clone();
        let secret = made.secret.clone();
        async move {
            api_tokens::authenticate(&db, when, &secret)
                .await
                .unwrap()
                .map(|t| t.role)
        }
    };
    assert_eq!(role_at(now).await, Some(Role::Admin));
    // Expired on day 90.
    assert_eq!(role_at(now + chrono::Duration::days(90)).await, None);
    // The creator is demoted: the token follows.
    accounts::set_member_role(&db, &owner, admin_id, Role::Viewer)
        .await
        .unwrap();
    assert_eq!(role_at(now).await, Some(Role::Viewer));
    // The creator leaves: the token is revoked.
    accounts::remove_member(&db, &owner, now, admin_id)
        .await
        .unwrap();
    assert_eq!(role_at(now).await, None);
    let listed = api_tokens::list(&db, &owner, now).await.unwrap();
    assert!(listed[0].revoked_at.is_some());
    // Out-of-range lifetimes are refused.
    assert!(
        api_tokens::create(&db, &owner, now, &input(Some(400)))
            .await
            .is_err()
    );
    // A token minted with a token answers to the same member and expires
    // no later than its parent.
    let owner_token = api_tokens::create(&db, &owner, now, &input(Some(30)))
        .await
        .unwrap();
    let via_token = shared::account::TenantCtx {
        org_id: org,
        role: Role::Admin,
        actor: Actor::ApiToken {
            token_id: owner_token.item.id,
        },
    };
    let child = api_tokens::create(&db, &via_token, now, &input(Some(365)))
        .await
        .unwrap();
    assert_eq!(child.item.expires_at, owner_token.item.expires_at);
    assert!(
        api_tokens::authenticate(&db, now, &child.secret)
            .await
            .unwrap()
            .is_some()
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_child_row_cannot_point_at_another_orgs_parent(db: PgPool) {
    let (_, _, acme) = crate::support::org_with_owner(&db, "Acme", "ada@example.com").await;
    let (_, _, globex) = crate::support::org_with_owner(&db, "Globex", "gus@example.com").await;
    let pack: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO tool_packs (org_id, name) VALUES ($1, 'p') RETURNING id")
            .bind(acme)
            .fetch_one(&db)
            .await
            .unwrap();
    let theirs: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO connectors (org_id, name, url) VALUES ($1, 'c', 'https://x.example/mcp') RETURNING id",
    )
    .bind(globex)
    .fetch_one(&db)
    .await
    .unwrap();
    let user: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO registered_users (org_id, external_id, display_name) VALUES ($1, 'u', 'U') RETURNING id",
    )
    .bind(globex)
    .fetch_one(&db)
    .await
    .unwrap();
    for (what, sql, a, b) in [
        (
            "a pack's tool from another org's connector",
            "INSERT INTO tool_pack_tools (pack_id, org_id, connector_id, tool_name) VALUES ($1, $3, $2, 't')",
            pack,
            theirs,
        ),
        (
            "tools of another org's connector",
            "INSERT INTO connector_tools (connector_id, org_id, name, input_schema) VALUES ($2, $3, 't', '{}') RETURNING 1",
            pack,
            theirs,
        ),
        (
            "an agent key for another org's registered user",
            "INSERT INTO agent_keys (org_id, pack_id, registered_user_id, prefix, secret_hash) VALUES ($3, $1, $2, 'p', 'h')",
            pack,
            user,
        ),
        (
            "an override of another org's pack",
            "INSERT INTO rule_overrides (pack_id, org_id, rule_key) VALUES ($1, $3, 'entity:EMAIL_ADDRESS')",
            pack,
            pack,
        ),
    ] {
        // Every row claims to belong to Acme but names a Globex parent
        // (the override names Acme's pack under Globex's id instead).
        let org = if what.starts_with("an override") {
            globex
        } else {
            acme
        };
        let err = sqlx::query(sql)
            .bind(a)
            .bind(b)
            .bind(org)
            .execute(&db)
            .await
            .expect_err(what);
        assert_eq!(
            err.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("23503"),
            "{what}: {err}"
        );
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rotate_signing_key_reaches_a_running_server_at_once(db: PgPool) {
    let upstream = Upstream::start(true, None);
    // A reload interval of an hour: only the notification can explain a
    // prompt switch.
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_SIGNING_KEY_RELOAD_SECS", "3600")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let (status, body) = token(&gh.base, &key).await;
    assert_eq!(status, 200, "{body}");
    let old = body["access_token"].as_str().unwrap().to_owned();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("rotate-signing-key")
        .env("DATABASE_URL", crate::harness::database_url(&db))
        .env("GATEHOUSE_MASTER_KEY", crate::harness::MASTER_KEY)
        .env("GATEHOUSE_DATA_DIR", crate::harness::temp_dir("rotate"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut switched = false;
    for _ in 0..50 {
        let (_, body) = token(&gh.base, &key).await;
        if kid(body["access_token"].as_str().unwrap()) != kid(&old) {
            switched = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(switched, "the running server still signs with the old key");
    // A token signed before the rotation keeps working until it expires.
    let out = agent_with(
        &gh.base,
        None,
        Some(&old),
        "auto",
        json!([call("echo", json!({"text": "still here"}))]),
    )
    .unwrap();
    assert_eq!(out[0]["text"], "still here");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rates_are_limited_per_key_and_per_org_with_retry_after(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(
        &db,
        &[
            ("GATEHOUSE_MCP_RATE_PER_KEY", "2"),
            ("GATEHOUSE_TOKEN_RATE_PER_KEY", "3"),
            ("GATEHOUSE_API_RATE_PER_ORG", "10"),
        ],
    );
    let acme = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = acme.agent_setup(&upstream, None, &["echo"]).await;
    let globex = Admin::create(&db, &gh.base, "Globex").await;

    // Token endpoint: three exchanges a minute for this key.
    let mut statuses = Vec::new();
    let mut bearer = String::new();
    for _ in 0..4 {
        let (status, body) = token(&gh.base, &key).await;
        if status == 200 {
            bearer = body["access_token"].as_str().unwrap().to_owned();
        } else {
            assert_eq!(body["error"], "slow_down", "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);

    // /mcp: two requests a second for this key, then 429 + -32029.
    let mut limited = None;
    for _ in 0..5 {
        let res = http()
            .post(format!("{}/mcp", gh.base))
            .bearer_auth(&bearer)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string())
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
            limited = Some(res.json::<Value>().await.unwrap());
            break;
        }
    }
    let limited = limited.expect("no request was limited");
    assert_eq!(limited["error"]["code"], -32029, "{limited}");

    // Admin API: ten a second per org; another org is unaffected.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut refused = None;
    for _ in 0..30 {
        let (status, body) = acme.send(Method::GET, "/packs", None).await;
        if status == 429 {
            refused = Some(body);
            break;
        }
    }
    let refused = refused.expect("the admin API was not limited");
    assert_eq!(refused["error"]["kind"], "rate_limited", "{refused}");
    let (status, _) = globex.send(Method::GET, "/packs", None).await;
    assert_eq!(status, 200);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn records_keep_argument_shapes_unless_the_org_asks_for_full_arguments(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["send_email"]).await;
    let args = json!({"to": "jane.doe@example.com", "subject": "Quarterly numbers", "body": "see attached"});
    agent(
        &gh.base,
        &key,
        "auto",
        json!([call("send_email", args.clone())]),
    );
    let stored: Value = sqlx::query_scalar(
        "SELECT arguments_redacted FROM tool_calls ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    // Nothing the rules did not flag is kept: only types and lengths.
    assert_eq!(
        stored,
        json!({"to": "[REDACTED:EMAIL_ADDRESS]", "subject": "<string, 17 chars>", "body": "<string, 12 chars>"})
    );
    let settings = admin
        .ok(
            Method::PUT,
            "/org/evidence",
            Some(json!({"store_full_arguments": true})),
        )
        .await;
    assert_eq!(settings["store_full_arguments"], true);
    agent(&gh.base, &key, "auto", json!([call("send_email", args)]));
    let stored: Value = sqlx::query_scalar(
        "SELECT arguments_redacted FROM tool_calls ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(stored["subject"], "Quarterly numbers");
    assert_eq!(stored["to"], "[REDACTED:EMAIL_ADDRESS]");
}
