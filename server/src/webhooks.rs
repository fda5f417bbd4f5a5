//! Sending webhook deliveries.
//!
//! Every event is queued in Postgres ([`crate::service::webhooks`]); one
//! sender per server process claims what is due (`FOR UPDATE SKIP LOCKED`
//! plus a lease, so replicas never send the same delivery at once), signs
//! it and POSTs it through the egress rules of connectors (the address is
//! checked when the connection is made; no redirects). Failures are
//! retried with exponential backoff and logged per delivery.
//!
//! Signature: `Gatehouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`
//! over `<t>.<body>` with the webhook's secret. A receiver recomputes it,
//! compares in constant time and refuses old timestamps (see the README).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::egress::EgressPolicy;
use crate::service::webhooks::{self as store, Due};

/// How long a claimed delivery is reserved for this process.
const LEASE_SECS: i64 = 60;
/// How long a receiver may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `t=…,v1=…` for `body` sent at `timestamp` (unix seconds).
///
/// Hand-written over the `hmac` crate rather than a webhook library: the
/// scheme is one line, and this keeps it identical to the documented one.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Starts the sender; it runs until the pool closes (server shutdown).
pub fn spawn_sender(db: PgPool, ring: Arc<Keyring>, egress: EgressPolicy, clock: Clock) {
    tokio::spawn(async move {
        let client = match egress.client(Duration::from_secs(5)) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook sender not started");
                return;
            }
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !db.is_closed() {
            tick.tick().await;
            let due =
                match store::claim_due(&db, clock.now(), chrono::Duration::seconds(LEASE_SECS), 20)
                    .await
                {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming webhook deliveries");
                        continue;
                    }
                };
            for d in due {
                let (status, error) = send(&client, &ring, &egress, &clock, &d).await;
                if let Err(e) = store::finish_attempt(&db, &d, clock.now(), status, error).await {
                    tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt");
                }
            }
        }
    });
}

/// One attempt: the receiver's status and, unless it answered 2xx, why it
/// failed (our words; the receiver's body is never stored).
async fn send(
    client: &reqwest::Client,
    ring: &Keyring,
    egress: &EgressPolicy,
    clock: &Clock,
    d: &Due,
) -> (Option<u16>, Option<String>) {
    let secret = match ring.open(&d.secret, &store::aad(d.org_id, d.webhook_id)) {
        Ok(s) => s,
        Err(e) => return (None, Some(format!("the signing secret does not open: {e}"))),
    };
    let url = match url::Url::parse(&d.url) {
        Ok(u) => u,
        Err(_) => return (None, Some("the URL is not valid".to_owned())),
    };
    if let Err(e) = egress.check_url(&url).await {
        return (None, Some(e.to_string()));
    }
    let body = match d.format.as_str() {
        "slack" => json!({ "text": slack_text(&d.event, &d.payload) }),
        _ => json!({ "event": d.event, "delivery_id": d.id, "data": d.payload }),
    };
    let body = body.to_string().into_bytes();
    let signature = signature(&secret, clock.now().timestamp(), &body);
    let sent = client
        .post(url)
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("Gatehouse/", env!("CARGO_PKG_VERSION")),
        )
        .header("gatehouse-event", &d.event)
        .header("gatehouse-delivery", d.id.to_string())
        .header("gatehouse-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (
            Some(r.status().as_u16()),
            Some(format!(
                "the receiver answered HTTP {}",
                r.status().as_u16()
            )),
        ),
        Err(e) if e.is_timeout() => (None, Some("the receiver did not answer in time".to_owned())),
        Err(e) if e.is_connect() => (None, Some("could not connect to the receiver".to_owned())),
        Err(_) => (None, Some("the request failed".to_owned())),
    }
}

/// A one-line Slack message for an event.
fn slack_text(event: &str, p: &Value) -> String {
    let s = |k: &str| p[k].as_str().unwrap_or("?").to_owned();
    match event {
        "approval.requested" => format!(
            ":hourglass: Gatehouse holds `{}` for approval (rule {}). Approval {}: {}",
            s("tool"),
            s("rule"),
            s("approval_id"),
            s("url")
        ),
        "approval.decided" => format!(
            ":white_check_mark: Gatehouse approval {} for `{}` was {} by {}.",
            s("approval_id"),
            s("tool"),
            s("decision"),
            s("decided_by")
        ),
        "tool.changed" => format!(
            ":warning: Gatehouse: the upstream {} `{}` ({}): review it at {}",
            match s("kind").as_str() {
                "removed" => "removed",
                "injection" => "offers instructions aimed at the model in",
                _ => "changed",
            },
            s("tool"),
            s("action"),
            s("url")
        ),
        _ => format!(
            ":no_entry: Gatehouse blocked `{}` ({}): {}",
            s("tool"),
            s("outcome"),
            p["reasons"]
                .as_array()
                .map(|r| r
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231 test case 2 key and message, framed as t.body.
        let sig = signature(b"Jefe", 1, b"what do ya want for nothing?");
        assert!(sig.starts_with("t=1,v1="));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1.what do ya want for nothing?");
        assert_eq!(
            sig,
            format!("t=1,v1={}", hex::encode(mac.finalize().into_bytes()))
        );
        assert_ne!(sig, signature(b"Jefe", 2, b"what do ya want for nothing?"));
    }

    #[test]
    fn slack_messages_name_the_tool_and_never_dump_the_payload() {
        let t = slack_text(
            "call.blocked",
            &json!({"tool": "db__drop", "outcome": "blocked", "reasons": ["tool_blocked", "policy:no drops"]}),
        );
        assert_eq!(
            t,
            ":no_entry: Gatehouse blocked `db__drop` (blocked): tool_blocked, policy:no drops"
        );
    }
}
