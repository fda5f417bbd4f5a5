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
);

fn to_dto(r: Row) -> ServiceResult<ApiToken> {
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
    })
}

pub async fn list(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<ApiToken>> {
    t.require(Role::Admin)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, role, prefix, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE org_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC",
    )
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_dto).collect()
}

/// Creates a token with at most the creator's own powers (never owner).
pub async fn create(
    db: &PgPool,
    t: &TenantCtx,
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
    errs.into_result()?;
    let role = role.ok_or_else(ApiError::internal)?;
    if !t.role.allows(role) {
        return Err(ApiError::forbidden().into());
    }
    let minted = secret_tokens::mint(Kind::ApiToken)?;
    let row: Row = sqlx::query_as(
        "INSERT INTO api_tokens (org_id, name, role, prefix, secret_hash, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, name, role, prefix, created_at, last_used_at, revoked_at",
    )
    .bind(t.org_id)
    .bind(name)
    .bind(role.as_str())
    .bind(&minted.display_prefix)
    .bind(&minted.hash)
    .bind(t.user_id())
    .fetch_one(db)
    .await?;
    Ok(CreatedSecret {
        item: to_dto(row)?,
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

/// The tenant context of a presented token, or None.
pub async fn authenticate(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
) -> ServiceResult<Option<TenantCtx>> {
    if !secret_tokens::looks_like(Kind::ApiToken, secret) {
        return Ok(None);
    }
    let row: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "UPDATE api_tokens SET last_used_at = $2 WHERE secret_hash = $1 AND revoked_at IS NULL
         RETURNING id, org_id, role",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(db)
    .await?;
    match row {
        Some((token_id, org_id, role)) => Ok(Some(TenantCtx {
            org_id,
            role: role
                .parse()
                .map_err(|_| ServiceError::Internal(anyhow::anyhow!("bad role in api_tokens")))?,
            actor: Actor::ApiToken { token_id },
        })),
        None => Ok(None),
    }
}
