//! Runtime sessions: how real agents' runs are identified (client-named,
//! MCP session, token), the list and its filters, a run's timeline, and
//! the decision-trail export.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent, http};

fn echo(text: &str) -> Value {
    json!({"op": "call", "tool": "fixture__echo", "args": {"text": text}})
}

fn named(mut step: Value, name: &str) -> Value {
    step["meta"] = json!({ "gatehouse.dev/session": name });
    step
}

async fn sessions(admin: &Admin, query: &str) -> Vec<Value> {
    admin
        .ok(Method::GET, &format!("/sessions{query}"), None)
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn by_name<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no session {name} in {list:?}"))
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_agent_run_is_one_timeline_with_its_decisions_and_exports_redacted(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (pack, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "no rm", "tools": "fixture__echo",
                        "condition": "args.text.contains('rm -rf')", "action": "block"})),
        )
        .await;
    admin.set_mode("enforce").await;

    // A stateless client names its run in _meta; three calls, one blocked
    // by a policy, one carrying an e-mail address.
    let out = agent(
        &gh.base,
        &key,
        "2026-07-28",
        json!([
            named(echo("first"), "run-42"),
            named(echo("rm -rf /"), "run-42"),
            named(echo("write to ada@example.com"), "run-42"),
        ]),
    );
    assert_eq!(out[0]["is_error"], false);
    assert_eq!(out[1]["is_error"], true);
    // Another names it with the header; a legacy client has its MCP
    // session; a stateless client that names nothing gets its token's.
    agent(
        &gh.base,
        &key,
        "2026-07-28+header:Gatehouse-Session:run-43",
        json!([echo("a")]),
    );
    agent(&gh.base, &key, "legacy", json!([echo("b"), echo("c")]));
    agent(&gh.base, &key, "2026-07-28", json!([echo("d")]));
    // A name that is not one is refused, not ignored.
    let out = agent(
        &gh.base,
        &key,
        "2026-07-28",
        json!([named(echo("x"), "a\nb")]),
    );
    assert!(
        out[0]["rpc_error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("session name"),
        "{}",
        out[0]
    );

    let all = sessions(&admin, "").await;
    assert_eq!(all.len(), 4, "{all:?}");
    let run = by_name(&all, "run-42");
    assert_eq!(run["kind"], "named");
    assert_eq!(
        (run["call_count"].as_i64(), run["blocked_count"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(run["registered_user_name"], "Ursula");
    assert_eq!(by_name(&all, "run-43")["call_count"], 1);
    let kinds: Vec<&str> = all.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"mcp") && kinds.contains(&"token"),
        "{kinds:?}"
    );
    let legacy = all.iter().find(|s| s["kind"] == "mcp").unwrap();
    assert_eq!(legacy["call_count"], 2);

    // Filters: had a block / a detection; by Tool Pack and Registered User.
    let blocked = sessions(&admin, "?had_block=true").await;
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["name"], "run-42");
    let flagged = sessions(&admin, "?had_violation=true").await;
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert!(sessions(&admin, "?had_approval=true").await.is_empty());
    let user = run["registered_user_id"].as_str().unwrap();
    assert_eq!(
        sessions(
            &admin,
            &format!("?registered_user_id={user}&pack_id={pack}")
        )
        .await
        .len(),
        4
    );
    assert!(
        sessions(&admin, &format!("?pack_id={}", uuid::Uuid::new_v4()))
            .await
            .is_empty()
    );
    // Keyset pages: two and two, nothing twice.
    let page = admin.ok(Method::GET, "/sessions?limit=2", None).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = admin
        .ok(
            Method::GET,
            &format!("/sessions?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    assert!(rest["next_cursor"].is_null());

    // The timeline: every call in order, with its decision, policy rule
    // and detections, and counts at the top.
    let id = run["id"].as_str().unwrap();
    let d = admin
        .ok(Method::GET, &format!("/sessions/{id}"), None)
        .await;
    assert_eq!(d["counts"]["calls"], 3);
    assert_eq!(d["counts"]["blocked"], 1);
    let t = d["timeline"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t[0]["call"]["decision"], "allow");
    assert_eq!(t[1]["call"]["decision"], "block");
    assert_eq!(t[1]["policy_rule"], "no rm");
    assert_eq!(t[1]["call"]["connector_name"], "fixture");
    assert_eq!(t[2]["detections"], json!(["EMAIL_ADDRESS"]));
    assert!(t[0]["call"]["created_at"].as_str() <= t[2]["call"]["created_at"].as_str());
    // Each call links back to its session.
    let call = admin
        .ok(
            Method::GET,
            &format!("/calls/{}", t[2]["call"]["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(call["call"]["session_id"], id);

    // The export: JSON Lines, one call per line in order, redacted only.
    let res = http()
        .get(format!("{}/api/v1/sessions/{id}/export", gh.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/jsonl")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".jsonl")
    );
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("ada@example.com"),
        "raw value exported: {body}"
    );
    let lines: Vec<shared::api::ExportedCall> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines
            .iter()
            .map(|l| l.call.id.to_string())
            .collect::<Vec<_>>(),
        t.iter()
            .map(|c| c["call"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(lines[2].violations[0].label, "EMAIL_ADDRESS");
    let snippet = &lines[2].violations[0].snippet;
    assert!(
        snippet.contains("EMAIL_ADDRESS") && !snippet.contains("ada@"),
        "{snippet}"
    );
    // A filtered set of calls exports the same way.
    let res = http()
        .get(format!("{}/api/v1/calls/export?decision=block", gh.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert_eq!(body.lines().count(), 1, "{body}");

    // Another org: the session, its timeline and its export do not exist.
    let globex = Admin::create(&db, &gh.base, "Globex").await;
    for path in [format!("/sessions/{id}"), format!("/sessions/{id}/export")] {
        let (status, _) = globex.send(Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    assert!(sessions(&globex, "").await.is_empty());
    // Naming a run the same from another agent key never joins it.
    let (_, globex_key) = globex.agent_setup(&upstream, None, &["echo"]).await;
    agent(
        &gh.base,
        &globex_key,
        "2026-07-28",
        json!([named(echo("z"), "run-42")]),
    );
    let d = admin
        .ok(Method::GET, &format!("/sessions/{id}"), None)
        .await;
    assert_eq!(d["counts"]["calls"], 3);
}
