//! Outgoing webhooks as stored: configuration (signing secret sealed
//! under the master key, write-only), the events queued for delivery, and
//! the delivery log. Sending is [`crate::webhooks`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::account::{Role, TenantCtx};
use shared::api::{CreatedSecret, NewWebhook, Webhook, WebhookDelivery, WebhookEvent};
use shared::error::ApiError;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, found};
use crate::crypto::{Keyring, Sealed};
use crate::egress::EgressPolicy;
use crate::secret_tokens::{self, Kind};

/// Most webhooks per organization.
pub const MAX_WEBHOOKS: i64 = 20;

/// Binds a sealed secret to its webhook: moved to another row, it does not
/// open.
pub(crate) fn aad(org_id: Uuid, id: Uuid) -> Vec<u8> {
    format!("webhook:{org_id}:{id}").into_bytes()
}

fn bad(what: &str) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("invalid {what} in database"))
}

fn to_webhook(r: (Uuid, String, Vec<String>, String, DateTime<Utc>)) -> ServiceResult<Webhook> {
    let (id, url, events, format, created_at) = r;
    Ok(Webhook {
        id,
        url,
        events: events
            .iter()
            .map(|e| e.parse().map_err(|_| bad("webhook event")))
            .collect::<ServiceResult<_>>()?,
        format: format.parse().map_err(|_| bad("webhook format"))?,
        created_at,
    })
}

pub async fn list(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<Webhook>> {
    t.require(Role::Admin)?;
    let rows: Vec<(Uuid, String, Vec<String>, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, url, events, format, created_at FROM webhooks WHERE org_id = $1 ORDER BY created_at, id",
    )
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_webhook).collect()
}

/// Creates a webhook and returns its signing secret, this once. The URL
/// must pass the egress rules now (and is checked again on every delivery,
/// at connect time).
pub async fn create(
    db: &PgPool,
    ring: &Keyring,
    egress: &EgressPolicy,
    t: &TenantCtx,
    input: &NewWebhook,
) -> ServiceResult<CreatedSecret<Webhook>> {
    t.require(Role::Admin)?;
    if let Err(e) = egress.check_url(&input.url).await {
        return Err(ApiError::invalid("url", e.to_string()).into());
    }
    let minted = secret_tokens::mint(Kind::WebhookSecret)?;
    let id = Uuid::new_v4();
    let sealed = ring
        .seal(minted.secret.as_bytes(), &aad(t.org_id, id))
        .map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR UPDATE")
        .bind(t.org_id)
        .execute(&mut *tx)
        .await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM webhooks WHERE org_id = $1")
        .bind(t.org_id)
        .fetch_one(&mut *tx)
        .await?;
    if n >= MAX_WEBHOOKS {
        return Err(ApiError::conflict(format!(
            "An organization can have at most {MAX_WEBHOOKS} webhooks; delete one first."
        ))
        .into());
    }
    let events: Vec<&str> = input.events.iter().map(|e| e.as_str()).collect();
    let row: (Uuid, String, Vec<String>, String, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO webhooks (id, org_id, url, events, format, secret_ciphertext, secret_nonce, secret_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, url, events, format, created_at",
    )
    .bind(id)
    .bind(t.org_id)
    .bind(input.url.as_str())
    .bind(&events)
    .bind(input.format.as_str())
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(CreatedSecret {
        item: to_webhook(row)?,
        secret: minted.secret,
    })
}

pub async fn delete(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let done = sqlx::query("DELETE FROM webhooks WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(db)
        .await?;
    found(done, "webhook")
}

/// The last 50 deliveries of one webhook, newest first.
pub async fn deliveries(
    db: &PgPool,
    t: &TenantCtx,
    webhook_id: Uuid,
) -> ServiceResult<Vec<WebhookDelivery>> {
    t.require(Role::Admin)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhooks WHERE org_id = $1 AND id = $2)")
            .bind(t.org_id)
            .bind(webhook_id)
            .fetch_one(db)
            .await?;
    if !exists {
        return Err(ApiError::not_found("webhook").into());
    }
    type R = (
        Uuid,
        String,
        String,
        i32,
        Option<i32>,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<R> = sqlx::query_as(
        "SELECT id, event, status, attempts, last_status, last_error, created_at, next_attempt_at, delivered_at
         FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2
         ORDER BY created_at DESC, id LIMIT 50",
    )
    .bind(t.org_id)
    .bind(webhook_id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(WebhookDelivery {
                id: r.0,
                webhook_id,
                event: r.1.parse().map_err(|_| bad("webhook event"))?,
                status: r.2,
                attempts: r.3,
                last_status: r.4,
                last_error: r.5,
                created_at: r.6,
                next_attempt_at: r.7,
                delivered_at: r.8,
            })
        })
        .collect()
}

/// Queues `event` for every webhook of the org that subscribed to it (one
/// indexed statement; nothing when there are none). `data` must hold no
/// argument values: ids, names, reasons and redacted evidence only.
pub async fn enqueue<'e, E>(
    db: E,
    org_id: Uuid,
    event: WebhookEvent,
    data: Value,
    now: DateTime<Utc>,
) -> ServiceResult<()>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, org_id, webhook_id, event, payload, status, attempts,
           next_attempt_at, created_at)
         SELECT gen_random_uuid(), org_id, id, $2, $3, 'pending', 0, $4, $4
         FROM webhooks WHERE org_id = $1 AND $2 = ANY (events)",
    )
    .bind(org_id)
    .bind(event.as_str())
    .bind(data)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A delivery due now, claimed by this process for a while (so another
/// replica does not send it at the same time).
pub struct Due {
    pub id: Uuid,
    pub org_id: Uuid,
    pub webhook_id: Uuid,
    pub event: String,
    pub payload: Value,
    pub attempts: i32,
    pub url: String,
    pub format: String,
    pub secret: Sealed,
}

/// Claims up to `limit` due deliveries for `lease`.
pub async fn claim_due(
    db: &PgPool,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: i64,
) -> ServiceResult<Vec<Due>> {
    type R = (
        Uuid,
        Uuid,
        Uuid,
        String,
        Value,
        i32,
        String,
        String,
        Vec<u8>,
        Vec<u8>,
        String,
    );
    let rows: Vec<R> = sqlx::query_as(
        "WITH due AS (
           SELECT id FROM webhook_deliveries
           WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE webhook_deliveries d SET next_attempt_at = $2 FROM due WHERE d.id = due.id
           RETURNING d.id, d.org_id, d.webhook_id, d.event, d.payload, d.attempts
         )
         SELECT c.id, c.org_id, c.webhook_id, c.event, c.payload, c.attempts, w.url, w.format,
           w.secret_ciphertext, w.secret_nonce, w.secret_key_id
         FROM claimed c JOIN webhooks w ON w.id = c.webhook_id AND w.org_id = c.org_id",
    )
    .bind(now)
    .bind(now + lease)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Due {
            id: r.0,
            org_id: r.1,
            webhook_id: r.2,
            event: r.3,
            payload: r.4,
            attempts: r.5,
            url: r.6,
            format: r.7,
            secret: Sealed {
                ciphertext: r.8,
                nonce: r.9,
                key_id: r.10,
            },
        })
        .collect())
}

/// Most attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// Records an attempt: delivered, or retried after a backoff (2, 4, 8 …
/// seconds, at most an hour), or failed after [`MAX_ATTEMPTS`].
pub async fn finish_attempt(
    db: &PgPool,
    d: &Due,
    now: DateTime<Utc>,
    status: Option<u16>,
    error: Option<String>,
) -> ServiceResult<()> {
    let attempts = d.attempts + 1;
    let delivered = error.is_none();
    let state = if delivered {
        "delivered"
    } else if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    let backoff = chrono::Duration::seconds(2i64.pow(attempts.clamp(1, 11) as u32).min(3600));
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, attempts = $4, last_status = $5, last_error = $6,
           next_attempt_at = $7, delivered_at = CASE WHEN $3 = 'delivered' THEN $8 ELSE NULL END
         WHERE org_id = $1 AND id = $2",
    )
    .bind(d.org_id)
    .bind(d.id)
    .bind(state)
    .bind(attempts)
    .bind(status.map(i32::from))
    .bind(error)
    .bind(now + backoff)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
