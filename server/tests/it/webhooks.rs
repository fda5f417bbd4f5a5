//! Outgoing webhooks to a local receiver that verifies every signature:
//! approval requested and decided, call blocked, retried after a failure,
//! Slack format, and the delivery log.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent};

#[derive(Clone, Default)]
struct Receiver {
    /// (event header, signature header, body) of every request.
    got: Arc<Mutex<Vec<(String, String, Vec<u8>)>>>,
    /// Requests to refuse with a 500 before answering 200.
    fail_first: Arc<Mutex<usize>>,
}

async fn start_receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver {
        fail_first: Arc::new(Mutex::new(fail_first)),
        ..Receiver::default()
    };
    let state = r.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                state.got.lock().unwrap().push((
                    h("gatehouse-event"),
                    h("gatehouse-signature"),
                    body.to_vec(),
                ));
                let mut fail = state.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), r)
}

/// Checks `t=…,v1=…` the way the README tells receivers to.
fn verify(secret: &str, signature: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_owned()),
            Some(("v1", x)) => v1 = Some(x.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    age.abs() < 300 && mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

async fn wait_for(r: &Receiver, event: &str, n: usize) -> Vec<(String, String, Vec<u8>)> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let got: Vec<_> = r
            .got
            .lock()
            .unwrap()
            .iter()
            .filter(|(e, _, _)| e == event)
            .cloned()
            .collect();
        if got.len() >= n {
            return got;
        }
        assert!(Instant::now() < until, "no {event} delivery arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn webhooks_are_signed_retried_and_logged(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    let (url, receiver) = start_receiver(1).await;
    let (slack_url, slack) = start_receiver(0).await;

    // Bad input is explained; no secret in the URL.
    let (status, body) = admin
        .send(
            Method::POST,
            "/webhooks",
            Some(json!({"url": "https://user:pw@hooks.example.com/x", "events": []})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["url"].is_string() && body["error"]["fields"]["events"].is_string(),
        "{body}"
    );

    let created = admin
        .ok(
            Method::POST,
            "/webhooks",
            Some(json!({"url": url, "events": ["approval.requested", "approval.decided", "call.blocked"]})),
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ghw_"));
    let hook = created["item"]["id"].as_str().unwrap().to_owned();
    admin
        .ok(
            Method::POST,
            "/webhooks",
            Some(json!({"url": slack_url, "events": ["call.blocked"], "format": "slack"})),
        )
        .await;
    // Write-only: the list never shows the secret.
    let list = admin.ok(Method::GET, "/webhooks", None).await;
    assert!(!list.to_string().contains(&secret));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_ciphertext FROM webhooks LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("ghw_"));

    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "no rm", "tools": "fixture__echo",
                        "condition": "args.text.contains('rm -rf')", "action": "block"})),
        )
        .await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "merges", "tools": "fixture__echo",
                        "condition": "args.text.startsWith('merge')", "action": "approve"})),
        )
        .await;
    admin
        .ok(
            Method::PUT,
            "/org/approvals",
            Some(json!({"hold_secs": "0", "expiry_hours": "24"})),
        )
        .await;

    // A blocked call: the first attempt gets a 500, the retry gets through.
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "fixture__echo", "args": {"text": "rm -rf /srv"}}]),
    );
    assert_eq!(out[0]["is_error"], true);
    let got = wait_for(&receiver, "call.blocked", 2).await;
    for (_, sig, body) in &got {
        assert!(verify(&secret, sig, body), "signature must verify: {sig}");
        assert!(!verify("ghw_wrong", sig, body));
    }
    let body: Value = serde_json::from_slice(&got[1].2).unwrap();
    assert_eq!(body["event"], "call.blocked");
    assert_eq!(body["data"]["tool"], "fixture__echo");
    assert!(
        !got[1].2.windows(5).any(|w| w == b"rm -r"),
        "no argument values in webhooks"
    );
    let slack_got = wait_for(&slack, "call.blocked", 1).await;
    let text: Value = serde_json::from_slice(&slack_got[0].2).unwrap();
    assert!(
        text["text"].as_str().unwrap().contains("fixture__echo"),
        "{text}"
    );

    // A held call and its decision.
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "fixture__echo", "args": {"text": "merge it"}}]),
    );
    assert_eq!(out[0]["is_error"], true);
    let requested = wait_for(&receiver, "approval.requested", 1).await;
    let body: Value = serde_json::from_slice(&requested[0].2).unwrap();
    let approval = body["data"]["approval_id"].as_str().unwrap().to_owned();
    assert!(body["data"]["url"].as_str().unwrap().contains(&approval));
    admin
        .ok(
            Method::POST,
            &format!("/approvals/{approval}/decision"),
            Some(json!({"decision": "deny", "comment": "no"})),
        )
        .await;
    let decided = wait_for(&receiver, "approval.decided", 1).await;
    let body: Value = serde_json::from_slice(&decided[0].2).unwrap();
    assert_eq!(body["data"]["decision"], "denied");
    assert!(verify(&secret, &decided[0].1, &decided[0].2));

    // The delivery log: the retried delivery took two attempts.
    let log = admin
        .ok(Method::GET, &format!("/webhooks/{hook}/deliveries"), None)
        .await;
    let blocked = log
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event"] == "call.blocked")
        .unwrap();
    assert_eq!(blocked["status"], "delivered");
    assert_eq!(blocked["attempts"], 2);
    assert_eq!(blocked["last_status"], 200);

    // Deleting the webhook stops deliveries and reads as gone afterwards.
    admin
        .ok(Method::DELETE, &format!("/webhooks/{hook}"), None)
        .await;
    let (status, _) = admin
        .send(Method::GET, &format!("/webhooks/{hook}/deliveries"), None)
        .await;
    assert_eq!(status, 404);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn webhooks_follow_the_egress_rules_of_connectors(db: PgPool) {
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "false")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/hook",
    ] {
        let (status, body) = admin
            .send(
                Method::POST,
                "/webhooks",
                Some(json!({"url": url, "events": ["call.blocked"]})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert!(body["error"]["fields"]["url"].is_string(), "{url}: {body}");
    }
    let list = admin.ok(Method::GET, "/webhooks", None).await;
    assert_eq!(list, json!([]));
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rotating_the_master_key_reseals_webhook_secrets(db: PgPool) {
    use server::crypto::Keyring;
    use server::master_key::MasterKey;
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    admin
        .ok(
            Method::POST,
            "/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["call.blocked"]})),
        )
        .await;
    let old = MasterKey::from_base64(crate::harness::MASTER_KEY).unwrap();
    let new = MasterKey::from_base64("bmV3LW1hc3Rlci1rZXktZm9yLXRlc3RzLTMyLWJ5dGU=").unwrap();
    let ring = Keyring::new(&new, &[old]);
    let n = server::service::rotation::reseal_all(&db, &ring)
        .await
        .unwrap();
    assert!(n >= 1, "the webhook secret was re-sealed ({n})");
    let key_id: String = sqlx::query_scalar("SELECT secret_key_id FROM webhooks")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(key_id, ring.primary_id());
    // Idempotent: nothing left under the old key.
    assert_eq!(
        server::service::rotation::reseal_all(&db, &ring)
            .await
            .unwrap(),
        0
    );
}
