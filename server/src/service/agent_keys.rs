//! Agent keys: long-lived secrets for one (Tool Pack, Registered User) pair,
//! exchanged at the token endpoint for short-lived agent tokens.

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{AgentKey, AgentKeyInput, CreatedSecret};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, found};
use crate::secret_tokens::{self, Kind};

type Row = (
    Uuid,
    String,
    String,
    Uuid,
    String,
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const SELECT: &str = "SELECT k.id, k.name, k.prefix, p.id, p.name, u.id, u.display_name, k.created_at,
        k.last_used_at, k.revoked_at
     FROM agent_keys k JOIN tool_packs p ON p.id = k.pack_id JOIN registered_users u ON u.id = k.registered_user_id";

fn to_dto(r: Row) -> AgentKey {
    AgentKey {
        id: r.0,
        name: r.1,
        prefix: r.2,
        pack_id: r.3,
        pack_name: r.4,
        registered_user_id: r.5,
        registered_user_name: r.6,
        created_at: r.7,
        last_used_at: r.8,
        revoked_at: r.9,
    }
}

/// Keys of the org, optionally of one pack or one user, newest first.
pub async fn list(
    db: &PgPool,
    t: &TenantCtx,
    pack: Option<Uuid>,
    user: Option<Uuid>,
) -> ServiceResult<Vec<AgentKey>> {
    t.require(Role::Viewer)?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE k.org_id = $1 AND ($2::uuid IS NULL OR k.pack_id = $2)
           AND ($3::uuid IS NULL OR k.registered_user_id = $3)
         ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC LIMIT 500"
    ))
    .bind(t.org_id)
    .bind(pack)
    .bind(user)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(to_dto).collect())
}

async fn get(db: &PgPool, org_id: Uuid, id: Uuid) -> ServiceResult<AgentKey> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE k.org_id = $1 AND k.id = $2"))
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(to_dto)
        .ok_or_else(|| ApiError::not_found("agent key").into())
}

/// Creates a key; the secret is returned this once.
pub async fn create(
    db: &PgPool,
    t: &TenantCtx,
    input: &AgentKeyInput,
) -> ServiceResult<CreatedSecret<AgentKey>> {
    t.require(Role::Admin)?;
    let mut errs = shared::error::FieldErrors::new();
    let pack: Option<Uuid> = errs.check(
        "pack_id",
        input
            .pack_id
            .trim()
            .parse::<Uuid>()
            .map_err(|_| "Choose a Tool Pack."),
    );
    let user: Option<Uuid> = errs.check(
        "registered_user_id",
        input
            .registered_user_id
            .trim()
            .parse::<Uuid>()
            .map_err(|_| "Choose a Registered User."),
    );
    let name = input.name.trim();
    if name.chars().count() > 80 || !shared::error::is_text(name, false) {
        errs.add("name", "Use at most 80 printable characters.");
    }
    errs.into_result()?;
    let (Some(pack), Some(user)) = (pack, user) else {
        return Err(ApiError::internal().into());
    };
    // Both must belong to this org; anything else reads as not found.
    let ok: (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM tool_packs WHERE org_id = $1 AND id = $2),
                EXISTS (SELECT 1 FROM registered_users WHERE org_id = $1 AND id = $3)",
    )
    .bind(t.org_id)
    .bind(pack)
    .bind(user)
    .fetch_one(db)
    .await?;
    if !ok.0 {
        return Err(ApiError::invalid("pack_id", "No such Tool Pack.").into());
    }
    if !ok.1 {
        return Err(ApiError::invalid("registered_user_id", "No such Registered User.").into());
    }
    let minted = secret_tokens::mint(Kind::AgentKey)?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO agent_keys (org_id, pack_id, registered_user_id, name, prefix, secret_hash)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(t.org_id)
    .bind(pack)
    .bind(user)
    .bind(name)
    .bind(&minted.display_prefix)
    .bind(&minted.hash)
    .fetch_one(db)
    .await?;
    tracing::info!(org_id = %t.org_id, key_id = %id, "agent key created");
    Ok(CreatedSecret {
        item: get(db, t.org_id, id).await?,
        secret: minted.secret,
    })
}

/// Revokes a key: no new tokens at once, and live tokens fail on their next
/// call on every server (the revocation is notified to every server's
/// authorisation cache; see [`crate::access_cache`]: within a second even
/// if the notification is lost).
pub async fn revoke(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    id: Uuid,
) -> ServiceResult<AgentKey> {
    t.require(Role::Admin)?;
    let done = sqlx::query(
        "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    found(done, "agent key")?;
    tracing::info!(org_id = %t.org_id, key_id = %id, "agent key revoked");
    get(db, t.org_id, id).await
}

/// What a valid, unrevoked key grants.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyGrant {
    pub key_id: Uuid,
    pub org_id: Uuid,
    pub pack_id: Uuid,
    pub registered_user_id: Uuid,
}

/// Looks up a presented key. None for unknown or revoked. Only the token
/// exchange calls this (it throttles failures first).
pub(super) async fn authenticate(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
) -> ServiceResult<Option<KeyGrant>> {
    if !secret_tokens::looks_like(Kind::AgentKey, secret) {
        return Ok(None);
    }
    let row: Option<(Uuid, Uuid, Uuid, Uuid)> = sqlx::query_as(
        "UPDATE agent_keys SET last_used_at = $2 WHERE secret_hash = $1 AND revoked_at IS NULL
         RETURNING id, org_id, pack_id, registered_user_id",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(key_id, org_id, pack_id, registered_user_id)| KeyGrant {
            key_id,
            org_id,
            pack_id,
            registered_user_id,
        }),
    )
}
