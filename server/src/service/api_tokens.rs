//! Org-scoped admin API tokens.

use chrono::{DateTime, Utc};
use shared::account::{Actor, Role, TenantCtx};
use shared::api::{ApiToken, ApiTokenInput, CreatedSecret};
use shared::error::{ApiError, FieldErrors};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceError, ServiceResult, found};
use crate::secret_tokens::{self, Kind};

type Row = (
    Uuid,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

const COLUMNS: &str = "id, name, role, prefix, created_at, last_used_at, revoked_at, expires_at";

fn to_dto(r: Row, now: DateTime<Utc>) -> ServiceResult<ApiToken> {
    Ok(ApiToken {
        id: r.0,
        name: r.1,
        role: r
            .2
            .parse()
            .map_err(|_| ServiceError::Internal(anyhow::anyhow!("bad role in api_tokens")))?,
        prefix: r.3,
        created_at: r.4,
        last_used_at: r.5,
        revoked_at: r.6,
        expires_at: r.7,
        expired: r.7 <= now,
    })
}

pub async fn list(db: &PgPool, t: &TenantCtx, now: DateTime<Utc>) -> ServiceResult<Vec<ApiToken>> {
    t.require(Role::Admin)?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens
         WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC"
    ))
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(|r| to_dto(r, now)).collect()
}

/// Creates a token with at most the creator's own powers (never owner),
/// expiring after the chosen number of days (90 by default). Only a
/// member can create one: the token acts on their behalf.
pub async fn create(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    input: &ApiTokenInput,
) -> ServiceResult<CreatedSecret<ApiToken>> {
    t.require(Role::Admin)?;
    let mut errs = FieldErrors::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 || !shared::error::is_text(name, false) {
        errs.add(
            "name",
            "Enter a name of at most 80 characters (e.g. \"terraform\").",
        );
    }
    let role = match input.role.parse::<Role>() {
        Ok(Role::Owner) | Err(_) => {
            errs.add("role", "Choose admin, approver or viewer.");
            None
        }
        Ok(r) => Some(r),
    };
    let days = input
        .expires_in_days
        .unwrap_or(shared::api::API_TOKEN_DEFAULT_DAYS);
    if !(1..=365).contains(&days) {
        errs.add("expires_in_days", "Choose between 1 and 365 days.");
    }
    errs.into_result()?;
    let role = role.ok_or_else(ApiError::internal)?;
    if !t.role.allows(role) {
        return Err(ApiError::forbidden().into());
    }
    // A token always answers to a member: one minted with a token answers
    // to that token's creator and expires no later than it.
    let mut expires_at = now + chrono::Duration::days(days);
    let created_by = match t.actor {
        Actor::Member { user_id } => user_id,
        Actor::ApiToken { token_id } => {
            let (creator, parent_expiry): (Option<Uuid>, DateTime<Utc>) = sqlx::query_as(
                "SELECT created_by, expires_at FROM api_tokens WHERE org_id = $1 AND id = $2",
            )
            .bind(t.org_id)
            .bind(token_id)
            .fetch_optional(db)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
            expires_at = expires_at.min(parent_expiry);
            creator.ok_or_else(ApiError::unauthenticated)?
        }
    };
    let minted = secret_tokens::mint(Kind::ApiToken)?;
    let row: Row = sqlx::query_as(&format!(
        "INSERT INTO api_tokens (org_id, name, role, prefix, secret_hash, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING {COLUMNS}"
    ))
    .bind(t.org_id)
    .bind(name)
    .bind(role.as_str())
    .bind(&minted.display_prefix)
    .bind(&minted.hash)
    .bind(created_by)
    .bind(expires_at)
    .fetch_one(db)
    .await?;
    Ok(CreatedSecret {
        item: to_dto(row, now)?,
        secret: minted.secret,
    })
}

pub async fn revoke(db: &PgPool, t: &TenantCtx, now: DateTime<Utc>, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    found(done, "API token")
}

/// Revokes every token a member created in an org (they are leaving it).
pub(super) async fn revoke_created_by(
    tx: &mut sqlx::PgConnection,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = $3
         WHERE org_id = $1 AND created_by = $2 AND revoked_at IS NULL",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

/// The tenant context of a presented token, or None: unknown, revoked,
/// expired, or its creator is no longer a member. It acts with the lower
/// of its own role and its creator's current role.
pub async fn authenticate(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
) -> ServiceResult<Option<TenantCtx>> {
    if !secret_tokens::looks_like(Kind::ApiToken, secret) {
        return Ok(None);
    }
    let row: Option<(Uuid, Uuid, String, String)> = sqlx::query_as(
        "UPDATE api_tokens t SET last_used_at = $2 FROM memberships m
         WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
           AND m.org_id = t.org_id AND m.user_id = t.created_by
         RETURNING t.id, t.org_id, t.role, m.role",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(db)
    .await?;
    let bad = || ServiceError::Internal(anyhow::anyhow!("bad role in api_tokens"));
    match row {
        Some((token_id, org_id, role, creator)) => {
            let role: Role = role.parse().map_err(|_| bad())?;
            let creator: Role = creator.parse().map_err(|_| bad())?;
            Ok(Some(TenantCtx {
                org_id,
                role: if creator.allows(role) { role } else { creator },
                actor: Actor::ApiToken { token_id },
            }))
        }
        None => Ok(None),
    }
}
