//! Joining an organization by invitation.
//!
//! An admin invites an e-mail address with a role and gets a single-use
//! link that expires (shown once; only its hash is stored). The person
//! accepts it signed in to their own account (which must have the invited
//! address), or, with no account yet, sets their own password. No
//! organization ever creates or changes the credentials of an account, and
//! inviting reveals nothing about whether an account exists.

use chrono::{DateTime, Duration, Utc};
use shared::account::{Invitation, InvitationPreview, Invite, NewPassword, Role, TenantCtx};
use shared::error::{ApiError, ErrorKind};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ServiceResult, found, passwords};
use crate::secret_tokens::{self, Kind};

/// How long an invitation link works.
pub const VALID_DAYS: i64 = 7;

const GONE: &str =
    "This invitation link is invalid, already used, revoked or expired. Ask for a new one.";

type Row = (Uuid, String, String, DateTime<Utc>, DateTime<Utc>);

fn to_dto(r: Row) -> ServiceResult<Invitation> {
    Ok(Invitation {
        id: r.0,
        email: r.1,
        role: r
            .2
            .parse()
            .map_err(|_| anyhow::anyhow!("bad role in invitations"))?,
        created_at: r.3,
        expires_at: r.4,
    })
}

/// Creates an invitation; returns it and the secret for the link.
pub async fn create(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    invite: &Invite,
) -> ServiceResult<(Invitation, String)> {
    t.require_manage(invite.role)?;
    let minted = secret_tokens::mint(Kind::Invitation)?;
    let row: Row = sqlx::query_as(
        "INSERT INTO invitations (org_id, email, role, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, email, role, created_at, expires_at",
    )
    .bind(t.org_id)
    .bind(invite.email.as_str())
    .bind(invite.role.as_str())
    .bind(&minted.hash)
    .bind(t.user_id())
    .bind(now)
    .bind(now + Duration::days(VALID_DAYS))
    .fetch_one(db)
    .await?;
    tracing::info!(org_id = %t.org_id, role = %invite.role, "invitation created");
    Ok((to_dto(row)?, minted.secret))
}

/// Invitations not yet accepted, revoked or expired.
pub async fn list(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<Invitation>> {
    t.require(Role::Admin)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, email, role, created_at, expires_at FROM invitations
         WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC",
    )
    .bind(t.org_id)
    .bind(now)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(to_dto).collect()
}

pub async fn revoke(db: &PgPool, t: &TenantCtx, now: DateTime<Utc>, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $3
         WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    found(done, "invitation")
}

/// What a valid link invites to (for the page the link opens).
pub async fn preview(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
) -> ServiceResult<InvitationPreview> {
    if !secret_tokens::looks_like(Kind::Invitation, secret) {
        return Err(ApiError::new(ErrorKind::NotFound, GONE).into());
    }
    let row: Option<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT o.name, i.email, i.role, i.expires_at FROM invitations i JOIN orgs o ON o.id = i.org_id
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(db)
    .await?;
    let (org_name, email, role, expires_at) =
        row.ok_or_else(|| ApiError::new(ErrorKind::NotFound, GONE))?;
    Ok(InvitationPreview {
        org_name,
        email,
        role: role
            .parse()
            .map_err(|_| anyhow::anyhow!("bad role in invitations"))?,
        expires_at,
    })
}

/// Uses the link up (single use, atomically): its org, e-mail and role.
async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    now: DateTime<Utc>,
    secret: &str,
) -> ServiceResult<(Uuid, String, String)> {
    if !secret_tokens::looks_like(Kind::Invitation, secret) {
        return Err(ApiError::new(ErrorKind::NotFound, GONE).into());
    }
    let row: Option<(Uuid, String, String)> = sqlx::query_as(
        "UPDATE invitations SET accepted_at = $2
         WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
         RETURNING org_id, email, role",
    )
    .bind(secret_tokens::hash(secret))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.ok_or_else(|| ApiError::new(ErrorKind::NotFound, GONE))?)
}

async fn join(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> ServiceResult<()> {
    // Already a member: the invitation is used up, the role stays.
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, user_id) DO NOTHING",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE users SET last_org_id = $2 WHERE id = $1")
        .bind(user_id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Accepts for the signed-in person, whose account must have the invited
/// address. Returns the org joined.
pub async fn accept(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
    user_id: Uuid,
) -> ServiceResult<Uuid> {
    let mut tx = db.begin().await?;
    let (org_id, email, role) = claim(&mut tx, now, secret).await?;
    let mine: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if mine.as_deref() != Some(email.as_str()) {
        // Rolled back: the link stays usable by the person it names.
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            format!("This invitation is for {email}. Sign in with that account to accept it."),
        )
        .into());
    }
    join(&mut tx, org_id, user_id, &role).await?;
    tx.commit().await?;
    tracing::info!(%org_id, %user_id, %role, "invitation accepted");
    Ok(org_id)
}

/// Accepts for someone without an account: creates it with the password
/// they chose. Returns `(user_id, org_id)`.
pub async fn accept_new(
    db: &PgPool,
    now: DateTime<Utc>,
    secret: &str,
    password: &str,
) -> ServiceResult<(Uuid, Uuid)> {
    let mut tx = db.begin().await?;
    let (org_id, email, role) = claim(&mut tx, now, secret).await?;
    let password = NewPassword::parse(password, &email)
        .map_err(|e| ApiError::invalid("password", e.to_string()))?;
    let hash = passwords::hash(&password).await?;
    let user_id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash) VALUES ($1, $2)
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(&email)
    .bind(hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = user_id else {
        return Err(ApiError::invalid(
            "password",
            format!("{email} already has a Gatehouse account: sign in with it to accept."),
        )
        .into());
    };
    join(&mut tx, org_id, user_id, &role).await?;
    tx.commit().await?;
    tracing::info!(%org_id, %user_id, %role, "invitation accepted with a new account");
    Ok((user_id, org_id))
}
