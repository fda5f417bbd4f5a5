//! Approvals with real agents (the official Python SDK, both protocol
//! eras): a held call waits while a person decides through the admin API,
//! on the same server or another one of the deployment.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent};

fn call(text: &str) -> Value {
    json!({"op": "call", "tool": "fixture__echo", "args": {"text": text}, "progress": true})
}

/// Waits for exactly one pending request and returns it.
async fn pending(admin: &Admin) -> Value {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let list = admin
            .ok(Method::GET, "/approvals?state=pending", None)
            .await;
        let items = list.as_array().unwrap();
        if let Some(first) = items.first() {
            assert_eq!(items.len(), 1, "{list}");
            return first.clone();
        }
        assert!(Instant::now() < until, "no approval request appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn decide(admin: &Admin, id: &str, decision: &str, comment: &str) -> Value {
    admin
        .ok(
            Method::POST,
            &format!("/approvals/{id}/decision"),
            Some(json!({"decision": decision, "comment": comment})),
        )
        .await
}

/// Runs the agent in the background (it blocks while its call is held).
fn agent_bg(base: &str, key: &str, era: &str, steps: Value) -> tokio::task::JoinHandle<Vec<Value>> {
    let (base, key, era) = (base.to_owned(), key.to_owned(), era.to_owned());
    tokio::task::spawn_blocking(move || agent(&base, &key, &era, steps))
}

async fn setup(db: &PgPool, gh: &Gatehouse, upstream: &Upstream) -> (Admin, String) {
    let admin = Admin::create(db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(
                json!({"name": "merges need approval", "tools": "fixture__echo",
                        "condition": "args.text.startsWith('merge')", "action": "approve"}),
            ),
        )
        .await;
    (admin, key)
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn held_calls_wait_for_a_person_who_approves_or_denies(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let (admin, key) = setup(&db, &gh, &upstream).await;
    let echoed = |text: &str| {
        upstream
            .calls()
            .iter()
            .filter(|c| c["arguments"]["text"] == text)
            .count()
    };

    for (n, era) in ["legacy", "2026-07-28"].into_iter().enumerate() {
        // Calls the policy does not hold run at once.
        let out = agent(&gh.base, &key, era, json!([call("list files")]));
        assert_eq!(out[0]["is_error"], false);

        // Approved while the agent waits: the call completes normally.
        let text = format!("merge #1 of agent {n}");
        let waiting = agent_bg(&gh.base, &key, era, json!([call(&text)]));
        let request = pending(&admin).await;
        assert_eq!(request["tool"], "fixture__echo");
        assert_eq!(request["rule_name"], "merges need approval");
        assert_eq!(request["arguments_redacted"]["text"], text.as_str());
        assert_eq!(request["arguments_digest"].as_str().unwrap().len(), 64);
        assert_eq!(echoed(&text), 0, "{era}: nothing ran before the decision");
        let decided = decide(&admin, request["id"].as_str().unwrap(), "approve", "ok").await;
        assert_eq!(decided["status"], "approved");
        let out = waiting.await.unwrap();
        assert_eq!(out[0]["is_error"], false, "{era}: {}", out[0]);
        assert_eq!(out[0]["text"], text.as_str());
        assert_eq!(echoed(&text), 1);
        if era == "legacy" {
            // The waiting agent was told what it waits for.
            let progress = out[0]["progress"].as_array().unwrap();
            assert!(
                progress.iter().any(|p| p["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(request["id"].as_str().unwrap())),
                "{out:?}"
            );
        }

        // Denied: the agent is told, with the comment; nothing runs.
        let text = format!("merge #2 of agent {n}");
        let waiting = agent_bg(&gh.base, &key, era, json!([call(&text)]));
        let request = pending(&admin).await;
        decide(
            &admin,
            request["id"].as_str().unwrap(),
            "deny",
            "not on Fridays",
        )
        .await;
        let out = waiting.await.unwrap();
        assert_eq!(out[0]["is_error"], true);
        let msg = out[0]["text"].as_str().unwrap();
        assert!(
            msg.contains("denied") && msg.contains("not on Fridays"),
            "{msg}"
        );
        assert_eq!(echoed(&text), 0);
    }

    // A decided request cannot be decided again.
    let decided = admin
        .ok(Method::GET, "/approvals?state=decided", None)
        .await;
    let first = decided[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .send(
            Method::POST,
            &format!("/approvals/{first}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(decided.as_array().unwrap().iter().all(|a| {
        a["decided_by"]
            .as_str()
            .unwrap_or_default()
            .contains("owner@acme.test")
    }));

    // Not decided within the hold: the agent gets the approval id and how
    // to go on; approving later lets the identical retry through, once.
    admin
        .ok(
            Method::PUT,
            "/org/approvals",
            Some(json!({"hold_secs": "1", "expiry_hours": "24"})),
        )
        .await;
    let text = "merge #3";
    let out = agent(&gh.base, &key, "auto", json!([call(text)]));
    assert_eq!(out[0]["is_error"], true);
    let request = pending(&admin).await;
    let id = request["id"].as_str().unwrap();
    let msg = out[0]["text"].as_str().unwrap();
    assert!(
        msg.contains(id)
            && msg.contains("retry the identical call")
            && msg.contains("/approvals?id="),
        "{msg}"
    );
    decide(&admin, id, "approve", "").await;
    // Keys in another order are the same arguments.
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([
            {"op": "call", "tool": "fixture__echo", "args": {"text": text}},
            {"op": "call", "tool": "fixture__echo", "args": {"text": text}},
            {"op": "call", "tool": "fixture__echo", "args": {"text": "merge #3, changed"}},
        ]),
    );
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    assert_eq!(out[1]["is_error"], true, "single use: {}", out[1]);
    assert_eq!(out[2]["is_error"], true, "other arguments: {}", out[2]);
    assert_eq!(echoed(text), 1);
    let open = admin
        .ok(Method::GET, "/approvals?state=pending", None)
        .await;
    assert_eq!(
        open.as_array().unwrap().len(),
        2,
        "each held retry opened a request"
    );

    // The decision trail names the approval, its approver and times.
    let (call_id, reasons): (uuid::Uuid, Vec<String>) = sqlx::query_as(
        "SELECT id, reasons FROM tool_calls WHERE approval_id IS NOT NULL AND outcome = 'ok'
         ORDER BY created_at LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        reasons.contains(&"approval_required".to_owned())
            && reasons.contains(&"approved".to_owned())
            && reasons.contains(&"policy:merges need approval".to_owned()),
        "{reasons:?}"
    );
    let detail = admin
        .ok(Method::GET, &format!("/calls/{call_id}"), None)
        .await;
    assert_eq!(detail["approval"]["status"], "used");
    assert!(detail["approval"]["decided_at"].is_string());
    assert!(
        detail["approval"]["decided_by"]
            .as_str()
            .unwrap()
            .contains("owner@acme.test")
    );
    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT outcome FROM tool_calls WHERE approval_id IS NOT NULL ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(outcomes, ["awaiting_approval", "denied", "ok"]);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_decision_on_one_server_releases_the_agent_waiting_on_another(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let waiting_on = Gatehouse::start(&db, &[]);
    let other = Gatehouse::start(&db, &[]);
    let (admin, key) = setup(&db, &waiting_on, &upstream).await;
    let admin = admin.at(&other.base);

    let mut figures = Vec::new();
    for era in ["legacy", "2026-07-28"] {
        let waiting = agent_bg(
            &waiting_on.base,
            &key,
            era,
            json!([call(&format!("merge for {}", era.len()))]),
        );
        let request = pending(&admin).await;
        let started = Instant::now();
        decide(&admin, request["id"].as_str().unwrap(), "approve", "").await;
        let out = waiting.await.unwrap();
        let resumed = started.elapsed();
        assert_eq!(out[0]["is_error"], false, "{era}: {}", out[0]);
        figures.push(resumed);
        // Pushed by NOTIFY, polled every second besides: well within 1 s
        // plus the agent process's own exit.
        assert!(resumed < Duration::from_secs(3), "{era}: {resumed:?}");
    }
    println!("approval click to the agent's call completing (other replica): {figures:?}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn clients_with_the_tasks_extension_get_a_task_that_completes_after_approval(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let (admin, key) = setup(&db, &gh, &upstream).await;
    // No hold time: a client without tasks would be told to retry at once.
    admin
        .ok(
            Method::PUT,
            "/org/approvals",
            Some(json!({"hold_secs": "0", "expiry_hours": "24"})),
        )
        .await;
    let echoed = |text: &str| {
        upstream
            .calls()
            .iter()
            .filter(|c| c["arguments"]["text"] == text)
            .count()
    };

    // Approved: the task completes with the tool's result, run once.
    let waiting = agent_bg(
        &gh.base,
        &key,
        "2026-07-28+tasks",
        json!([call("merge as a task")]),
    );
    let request = pending(&admin).await;
    let id = request["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(echoed("merge as a task"), 0, "nothing runs before approval");
    decide(&admin, &id, "approve", "").await;
    let out = waiting.await.unwrap();
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    assert_eq!(out[0]["text"], "merge as a task");
    assert_eq!(out[0]["task"]["task_id"], id.as_str(), "{}", out[0]);
    assert_eq!(out[0]["task"]["status"], "working");
    assert_eq!(echoed("merge as a task"), 1);
    // The approval was used by the task; the held arguments are erased.
    let (status, sealed): (String, bool) = sqlx::query_as(
        "SELECT status, task_args_ciphertext IS NOT NULL FROM approvals WHERE id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((status.as_str(), sealed), ("used", false));

    // Denied: the task completes with the decision and the comment.
    let waiting = agent_bg(
        &gh.base,
        &key,
        "2026-07-28+tasks",
        json!([call("merge denied as a task")]),
    );
    let request = pending(&admin).await;
    decide(
        &admin,
        request["id"].as_str().unwrap(),
        "deny",
        "use the release train",
    )
    .await;
    let out = waiting.await.unwrap();
    assert_eq!(out[0]["is_error"], true);
    assert!(
        out[0]["text"]
            .as_str()
            .unwrap()
            .contains("use the release train")
    );
    assert_eq!(echoed("merge denied as a task"), 0);

    // Without the extension, the same call waits (here: no hold time).
    let out = agent(&gh.base, &key, "2026-07-28", json!([call("merge plain")]));
    assert_eq!(out[0]["is_error"], true);
    assert!(out[0].get("task").is_none());
}
