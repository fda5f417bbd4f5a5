//! The MCP data path with real parts: the official Python SDK as the agent
//! (both protocol eras), a Python SDK server as the upstream, `gatehouse
//! serve` processes on the test's database.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent, agent_with, dump, token};

const CARD: &str = "4111 1111 1111 1111";
const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SSN: &str = "536-22-8726";
const UPSTREAM_SECRET: &str = "fixture-s3cret-Zq81";

fn call(tool: &str, args: Value) -> Value {
    json!({"op": "call", "tool": format!("fixture__{tool}"), "args": args})
}

async fn rows(db: &PgPool, sql: &str) -> Vec<(String, String, Vec<String>, String)> {
    sqlx::query_as(sql).fetch_all(db).await.unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn agents_get_their_pack_and_rules_are_enforced_in_both_protocol_eras(db: PgPool) {
    let upstream = Upstream::start(false, Some(&format!("X-Api-Key: {UPSTREAM_SECRET}")));
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (pack, key) = admin
        .agent_setup(
            &upstream,
            Some(("X-Api-Key", UPSTREAM_SECRET)),
            &["echo", "send_email", "lookup_customer", "fail"],
        )
        .await;

    for mode in ["legacy", "2026-07-28"] {
        // Monitor (the default): everything passes unchanged, but what
        // would have happened is recorded.
        admin.set_mode("monitor").await;
        let out = agent(
            &gh.base,
            &key,
            mode,
            json!([{"op": "list"}, call("echo", json!({"text": format!("card {CARD}")}))]),
        );
        assert_eq!(
            out[0]["tools"],
            json!([
                "fixture__echo",
                "fixture__fail",
                "fixture__lookup_customer",
                "fixture__send_email"
            ]),
            "{mode}: tools/list is exactly the pack"
        );
        assert_eq!(
            out[1]["text"],
            format!("card {CARD}"),
            "{mode}: monitor changes nothing"
        );
        assert_eq!(
            upstream.calls().last().unwrap()["arguments"]["text"],
            format!("card {CARD}")
        );

        admin.set_mode("enforce").await;
        let before = upstream.calls().len();
        let out = agent(
            &gh.base,
            &key,
            mode,
            json!([
                call("echo", json!({"text": "hello world"})),
                call("echo", json!({"text": format!("card {CARD}")})),
                call("echo", json!({"text": format!("key {AWS_KEY}")})),
                call("lookup_customer", json!({"customer_id": "c-1"})),
                {"op": "call", "tool": "fixture__slow", "args": {"seconds": 0}},
                {"op": "call", "tool": "nope__missing", "args": {}},
                call("fail", json!({"reason": "boom"})),
            ]),
        );
        // Allowed: unchanged both ways.
        assert_eq!(
            out[0],
            json!({"is_error": false, "text": "hello world", "structured": {"result": "hello world"}}),
            "{mode}"
        );
        // Redacted argument: the upstream only ever saw the placeholder.
        assert_eq!(out[1]["text"], "card [REDACTED:CREDIT_CARD]", "{mode}");
        let calls = upstream.calls();
        assert_eq!(calls[before]["arguments"]["text"], "hello world");
        assert_eq!(
            calls[before + 1]["arguments"]["text"],
            "card [REDACTED:CREDIT_CARD]"
        );
        // Blocked: an error result naming the rule and the field, never the value;
        // the upstream was not contacted.
        assert_eq!(out[2]["is_error"], true, "{mode}: {}", out[2]);
        let msg = out[2]["text"].as_str().unwrap();
        assert!(
            msg.contains("AWS_ACCESS_KEY") && msg.contains("/text") && !msg.contains(AWS_KEY),
            "{msg}"
        );
        assert_eq!(
            calls[before + 2]["tool"],
            "lookup_customer",
            "the blocked echo never reached the upstream"
        );
        // Result redaction: the SSN in the upstream's answer is replaced.
        let text = out[3]["text"].as_str().unwrap();
        assert!(
            text.contains("[REDACTED:US_SSN]") && !text.contains(SSN),
            "{text}"
        );
        // Outside the pack, or nonexistent: the same JSON-RPC error.
        assert_eq!(out[4]["rpc_error"]["code"], -32602, "{mode}: {}", out[4]);
        assert_eq!(out[5]["rpc_error"]["code"], -32602, "{mode}: {}", out[5]);
        assert!(calls.iter().all(|c| c["tool"] != "slow"));
        // A tool's own error is passed through as an error result.
        assert_eq!(out[6]["is_error"], true);
    }

    // Every call is on record, with redacted evidence only.
    let recorded = rows(
        &db,
        "SELECT tool, decision, reasons, outcome FROM tool_calls WHERE mode = 'enforce' ORDER BY created_at LIMIT 5",
    )
    .await;
    let summary: Vec<(&str, &str, &str)> = recorded
        .iter()
        .map(|(t, d, _, o)| (t.as_str(), d.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("fixture__echo", "allow", "ok"),
            ("fixture__echo", "redact", "ok"),
            ("fixture__echo", "block", "blocked"),
            ("fixture__lookup_customer", "redact", "ok"),
            ("fixture__fail", "allow", "tool_error"),
        ]
    );
    assert!(
        recorded[2].2.contains(&"blocked_arguments".to_owned())
            && recorded[2].2.contains(&"rule:AWS_ACCESS_KEY".to_owned())
    );
    let monitor: Vec<(String, String, Vec<String>, String)> =
        rows(&db, "SELECT tool, decision, reasons, outcome FROM tool_calls WHERE mode = 'monitor' AND decision = 'redact' LIMIT 1").await;
    assert!(
        monitor[0].2.contains(&"would_redact_arguments".to_owned())
            && monitor[0].2.contains(&"monitor_mode".to_owned())
    );
    let unenforced: i64 = sqlx::query_scalar("SELECT count(*) FROM violations WHERE NOT enforced")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        unenforced >= 2,
        "monitor-mode detections are recorded as not enforced"
    );

    // Nothing detected, nor the connector's secret, is stored anywhere.
    let dump = dump(&db);
    for raw in [CARD, AWS_KEY, SSN, UPSTREAM_SECRET, "4111111111111111"] {
        assert!(!dump.contains(raw), "the database dump contains {raw:?}");
    }
    assert!(dump.contains("[REDACTED:CREDIT_CARD]") && dump.contains("[REDACTED:AWS_ACCESS_KEY]"));

    // The admin API shows the same trail.
    let v = admin
        .ok(Method::GET, "/violations?action=block&limit=5", None)
        .await;
    assert_eq!(v["items"][0]["label"], "AWS_ACCESS_KEY");
    assert_eq!(v["items"][0]["snippet"], "key [REDACTED:AWS_ACCESS_KEY]");
    let call_id = v["items"][0]["call_id"].as_str().unwrap();
    let detail = admin
        .ok(Method::GET, &format!("/calls/{call_id}"), None)
        .await;
    assert_eq!(detail["call"]["pack_id"], pack.as_str());
    // By default only the arguments' shape is kept.
    assert_eq!(
        detail["arguments_redacted"],
        json!({"text": "[REDACTED:AWS_ACCESS_KEY]"})
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_pack_override_differs_from_the_org_rule(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (pack, key) = admin.agent_setup(&upstream, None, &["send_email"]).await;
    admin.set_mode("enforce").await;
    let send = || {
        call(
            "send_email",
            json!({"to": "bo@example.com", "subject": "hi", "body": "hello"}),
        )
    };

    // The org rule for e-mail addresses is allow-and-log.
    let out = agent(&gh.base, &key, "auto", json!([send()]));
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);

    // This pack blocks them in arguments; the org rule is unchanged.
    let rows = admin
        .ok(
            Method::PUT,
            &format!("/packs/{pack}/rules/EMAIL_ADDRESS"),
            Some(json!({"arguments": "block"})),
        )
        .await;
    let email = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "EMAIL_ADDRESS")
        .unwrap();
    assert_eq!(email["org"]["arguments"], "allow");
    assert_eq!(email["effective"]["arguments"], "block");
    let out = agent(&gh.base, &key, "auto", json!([send()]));
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    assert!(out[0]["text"].as_str().unwrap().contains("EMAIL_ADDRESS"));
    let org = admin.ok(Method::GET, "/rules", None).await;
    let org_email = org["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"]["entity"] == "EMAIL_ADDRESS")
        .unwrap();
    assert_eq!(org_email["rule"]["arguments"], "allow");

    // Reset: inherited again.
    admin
        .ok(
            Method::DELETE,
            &format!("/packs/{pack}/rules/EMAIL_ADDRESS"),
            None,
        )
        .await;
    let out = agent(&gh.base, &key, "auto", json!([send()]));
    assert_eq!(out[0]["is_error"], false);
    assert_eq!(
        upstream.calls().len(),
        2,
        "the blocked call never reached the upstream"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_rule_changed_through_one_server_is_enforced_by_another(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let a = Gatehouse::start(&db, &[]);
    let b = Gatehouse::start(&db, &[]);
    let admin_a = Admin::create(&db, &a.base, "Acme").await;
    let (_, key) = admin_a.agent_setup(&upstream, None, &["echo"]).await;
    admin_a.set_mode("enforce").await;
    let echo = || call("echo", json!({"text": "reach me at bo@example.com"}));

    // Warm B's compiled-rules cache.
    let out = agent(&b.base, &key, "auto", json!([echo()]));
    assert_eq!(out[0]["text"], "reach me at bo@example.com");
    // Change the org rule through A…
    admin_a
        .ok(
            Method::PUT,
            "/rules/entities/EMAIL_ADDRESS",
            Some(json!({"enabled": true, "threshold": "0.5", "arguments": "redact", "results": "allow"})),
        )
        .await;
    // …and B enforces it on the very next call, without a restart.
    let out = agent(&b.base, &key, "auto", json!([echo()]));
    assert_eq!(out[0]["text"], "reach me at [REDACTED:EMAIL_ADDRESS]");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn tokens_expire_revoke_and_never_leak_to_the_upstream(db: PgPool) {
    let upstream = Upstream::start(false, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;

    let (status, body) = token(&gh.base, &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let access = body["access_token"].as_str().unwrap().to_owned();

    // No token, a garbage token: 401 with the RFC 9728 pointer.
    let http = crate::harness::http();
    for auth in [None, Some("Bearer not-a-jwt")] {
        let mut req = http
            .post(format!("{}/mcp", gh.base))
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401);
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
                gh.base
            )),
            "{challenge}"
        );
    }
    let prm: Value = http
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            gh.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], format!("{}/mcp", gh.base));
    let asm: Value = http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            gh.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asm["token_endpoint"], format!("{}/oauth/token", gh.base));

    // A valid token works; the upstream never sees it.
    let out = agent_with(
        &gh.base,
        None,
        Some(&access),
        "legacy",
        json!([call("echo", json!({"text": "x"}))]),
    )
    .unwrap();
    assert_eq!(out[0]["text"], "x");

    // Bad credentials at the token endpoint.
    let (status, body) = token(&gh.base, "ghk_thisisnotarealkeyatallthisisnotarealkey00").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Revoke: no new tokens, and the live token stops on its next call.
    let keys = admin.ok(Method::GET, "/keys", None).await;
    let key_id = keys[0]["id"].as_str().unwrap();
    admin
        .ok(Method::POST, &format!("/keys/{key_id}/revoke"), None)
        .await;
    let (status, _) = token(&gh.base, &key).await;
    assert_eq!(status, 401);
    let err = agent_with(
        &gh.base,
        None,
        Some(&access),
        "legacy",
        json!([{"op": "list"}]),
    );
    assert!(
        err.is_err(),
        "a revoked key's token must stop working: {err:?}"
    );
    let res = http
        .post(format!("{}/mcp", gh.base))
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(&access)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{body}"
    );
    // Nothing of our tokens or keys in the upstream's view of the world.
    let log = std::fs::read_to_string(&upstream.log).unwrap_or_default();
    assert!(!log.contains(&access) && !log.contains(&key));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn upstream_failures_are_clear_tool_errors_and_recorded(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_UPSTREAM_TIMEOUT_SECS", "1")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (pack, key) = admin.agent_setup(&upstream, None, &["slow"]).await;
    // A second connector whose server is gone.
    let dead_port = crate::harness::free_port();
    let dead = admin
        .ok(
            Method::POST,
            "/connectors",
            Some(json!({"name": "dead", "url": format!("http://127.0.0.1:{dead_port}/mcp")})),
        )
        .await;
    assert_eq!(dead["discovery"]["ok"], false);
    assert!(
        dead["discovery"]["message"]
            .as_str()
            .unwrap()
            .contains("Could not list tools")
    );

    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call("slow", json!({"seconds": 5}))]),
    );
    assert_eq!(out[0]["is_error"], true);
    assert!(
        out[0]["text"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 seconds"),
        "{}",
        out[0]
    );
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM tool_calls ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(outcome, "upstream_timeout");

    // The upstream disappears: a clear error result, recorded.
    drop(upstream);
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call("slow", json!({"seconds": 0}))]),
    );
    assert_eq!(out[0]["is_error"], true);
    assert!(
        out[0]["text"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{}",
        out[0]
    );
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM tool_calls ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(outcome, "upstream_unreachable");
    let _ = pack;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn gatehouse_connect_relays_stdio_for_desktop_clients(db: PgPool) {
    let upstream = Upstream::start(false, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;

    // The Python SDK launches `gatehouse connect` as a stdio server; the
    // key travels in the environment only.
    let steps = json!([{"op": "list"}, call("echo", json!({"text": format!("card {CARD}")}))]);
    for mode in ["legacy", "auto"] {
        let mut cmd = std::process::Command::new(crate::harness::python());
        cmd.arg(crate::harness::repo().join("e2e/mcp/agent.py"))
            .args(["--base", "unused", "--mode", mode, "--stdio"])
            .arg(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["connect", "--url", &gh.base])
            .env("GATEHOUSE_AGENT_KEY", &key)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(steps.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{mode}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let res: Vec<Value> = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        assert_eq!(res[0]["tools"], json!(["fixture__echo"]), "{mode}");
        assert_eq!(res[1]["text"], "card [REDACTED:CREDIT_CARD]", "{mode}");
    }

    // A wrong key fails at once with a clear message.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["connect", "--url", &gh.base])
        .env(
            "GATEHOUSE_AGENT_KEY",
            "ghk_wrongwrongwrongwrongwrongwrongwrongwrongwro",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the agent key"), "{err}");
    // The calls went through one runtime session per bridge process.
    let sessions: i64 = sqlx::query_scalar("SELECT count(DISTINCT session_id) FROM tool_calls")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 2);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn official_conformance_scenarios_and_the_inspector_pass(db: PgPool) {
    let upstream = Upstream::start(false, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    let (_, t) = token(&gh.base, &key).await;
    let out = std::process::Command::new(crate::harness::repo().join("e2e/mcp/conformance.sh"))
        .env("GATEHOUSE_BASE", &gh.base)
        .env("GATEHOUSE_TOKEN", t["access_token"].as_str().unwrap())
        .env("GATEHOUSE_TEST_PYTHON", crate::harness::python())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for scenario in [
        "server-stateless",
        "tools-list",
        "http-header-validation",
        "dns-rebinding-protection",
        "server-session-lifecycle",
        "caching",
    ] {
        assert!(
            stdout.contains(&format!("conformance {scenario}: Passed")),
            "{scenario} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("inspector tools/call: redacted as expected"),
        "{stdout}"
    );
}

/// `/metrics` shows where a call's time went, stage by stage, with no
/// tenant in any label.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn metrics_break_a_call_down_by_stage(db: PgPool) {
    let upstream = Upstream::start(false, None);
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_METRICS_TOKEN", "scrape-me")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (pack, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    let out = agent(
        &gh.base,
        &key,
        "2026-07-28",
        json!([call("echo", json!({"text": format!("card {CARD}")}))]),
    );
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    let body = crate::harness::http()
        .get(format!("{}/metrics", gh.base))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for stage in server::metrics::Stage::ALL.map(server::metrics::Stage::as_str) {
        let count = body
            .lines()
            .find(|l| {
                l.starts_with("gatehouse_stage_seconds_count")
                    && l.contains(&format!("stage=\"{stage}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {stage} in {body}"));
        assert!(count >= 1, "{stage}: {count}");
    }
    // The caches count their lookups: the first call loaded the pack's
    // routes and rules (a miss each).
    for cache in ["agent_access", "routes", "rules", "tool_policies"] {
        let line = format!("gatehouse_cache_lookups_total{{cache=\"{cache}\",outcome=\"miss\"}}");
        assert!(
            body.lines()
                .any(|l| l.starts_with(&line) && !l.ends_with(" 0")),
            "no {line} in {body}"
        );
    }
    let org: String = sqlx::query_scalar("SELECT id::text FROM orgs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!body.contains(&org) && !body.contains(&pack), "{body}");
}
