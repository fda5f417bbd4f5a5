//! Owner-initiated password reset links.
//!
//! An owner may give a member a single-use link (valid 24 hours) to choose
//! a new password — only for a member who belongs to no other organization,
//! checked when the link is made and again when it is used: an account
//! that also works elsewhere is not this org's to recover. The owner never
//! sees or sets the password; using the link ends the member's sessions.

use chrono::{DateTime, Duration, Utc};
use shared::account::{NewPassword, Role, TenantCtx};
use shared::error::{ApiError, ErrorKind};
use sqlx::PgPool;
use uuid::Uuid;

use super::ServiceResult;
use crate::secret_tokens::{self, Kind};

/// How long a reset link works.
pub const VALID_HOURS: i64 = 24;

const GONE: &str = "This password reset link is invalid, already used or expired. Ask your organization's owner for a new one.";

const ELSEWHERE: &str = "This person also belongs to another organization, so only they can change their password (under Your account).";

/// How many organizations `user_id` belongs to.
async fn org_count(db: &PgPool, user_id: Uuid) -> ServiceResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM memberships WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(db)
            .await?,
    )
}

/// Makes a reset link's secret for a member of the owner's org.
pub async fn create(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    user_id: Uuid,
) -> ServiceResult<String> {
    t.require(Role::Owner)?;
    let member: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(t.org_id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    if member.is_none() {
        return Err(ApiError::not_found("member").into());
    }
    if t.user_id() == Some(user_id) {
        return Err(ApiError::conflict(
            "Change your own password under Your account (it needs your current password).",
        )
        .into());
    }
    if org_count(db, user_id).await? > 1 {
        return Err(ApiError::conflict(ELSEWHERE).into());
    }
    let minted = secret_tokens::mint(Kind::PasswordReset)?;
    sqlx::query(
        "INSERT INTO password_resets (org_id, user_id, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(t.org_id)
    .bind(user_id)
    .bind(&minted.hash)
    .bind(t.user_id())
    .bind(now)
    .bind(now + Duration::hours(VALID_HOURS))
    .execute(db)
    .await?;
    tracing::info!(org_id = %t.org_id, %user_id, "password reset link created");
    Ok(minted.secret)
}

/// Uses a link: sets the password the person chose, ends their sessions.
/// Returns `(user_id, org_id, credentials generation)`.
pub async fn redeem(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
    password: &str,
) -> ServiceResult<(Uuid, Uuid, i32)> {
    let gone = || ApiError::new(ErrorKind::NotFound, GONE);
    if !secret_tokens::looks_like(Kind::PasswordReset, secret) {
        return Err(gone().into());
    }
    let mut tx = db.begin().await?;
    let row: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "UPDATE password_resets r SET used_at = $2 FROM users u
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.id = r.user_id
           AND EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = r.org_id AND m.user_id = r.user_id)
         RETURNING r.user_id, r.org_id, u.email",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, org_id, email) = row.ok_or_else(gone)?;
    let elsewhere: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if elsewhere > 1 {
        return Err(ApiError::conflict(ELSEWHERE).into());
    }
    let password = NewPassword::parse(password, &email)
        .map_err(|e| ApiError::invalid("password", e.to_string()))?;
    let generation = super::accounts::replace_password(&mut tx, user_id, &password).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "password reset by link; sessions end");
    Ok((user_id, org_id, generation))
}
