//! Organizations, accounts and memberships.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use shared::account::{
    Email, Member, OrgMembership, OrgMode, OrgName, OrgSettings, Role, SignUp, TenantCtx,
};
use shared::error::{ApiError, ErrorKind};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::throttle::{self, Scope};
use super::{ServiceError, ServiceResult, is_unique_violation, passwords};

/// True until the first organization has been created.
pub async fn needs_setup(db: &PgPool) -> ServiceResult<bool> {
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orgs)")
        .fetch_one(db)
        .await?;
    Ok(!any)
}

/// Sign-up as the form offers it: an organization for the person who knows
/// the password of the address given. It never tells whether the address
/// already has an account (SECURITY.md): a new address gets a new account,
/// a known one must come with that account's password — checked exactly as
/// a sign-in, under the same throttles and with the same answer when it is
/// wrong — and the organization is added to that account. Both paths cost
/// one Argon2 computation. Returns `(user_id, org_id)`.
pub async fn register(
    db: &PgPool,
    now: DateTime<Utc>,
    input: &SignUp,
    client: Option<IpAddr>,
) -> ServiceResult<(Uuid, Uuid)> {
    let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
        .bind(input.email.as_str())
        .fetch_one(db)
        .await?;
    if !known {
        match sign_up(db, input).await {
            // Someone created the account in the meantime: treat it as known.
            Err(ServiceError::Client(e)) if e.kind == ErrorKind::Conflict => {}
            other => return other,
        }
    }
    let user_id = authenticate(
        db,
        now,
        input.email.as_str(),
        input.password.expose(),
        client,
    )
    .await?;
    let org_id = create_org(db, user_id, &input.org_name).await?;
    Ok((user_id, org_id))
}

/// Creates a user, an organization and the owner membership in one
/// transaction. Returns `(user_id, org_id)`; a `Conflict` when the address
/// already has an account (callers facing the public use [`register`],
/// which never says so).
pub async fn sign_up(db: &PgPool, input: &SignUp) -> ServiceResult<(Uuid, Uuid)> {
    let hash = passwords::hash(&input.password).await?;
    let mut tx = db.begin().await?;
    let user_id: Uuid =
        sqlx::query_scalar("INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id")
            .bind(input.email.as_str())
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    ApiError::new(ErrorKind::Conflict, "account exists").into()
                } else {
                    ServiceError::from(e)
                }
            })?;
    let org_id = insert_org(&mut tx, &input.org_name, user_id).await?;
    tx.commit().await?;
    tracing::info!(%user_id, %org_id, "organization created by sign-up");
    Ok((user_id, org_id))
}

async fn insert_org(
    tx: &mut Transaction<'_, Postgres>,
    name: &OrgName,
    owner: Uuid,
) -> ServiceResult<Uuid> {
    let org_id: Uuid = sqlx::query_scalar("INSERT INTO orgs (name) VALUES ($1) RETURNING id")
        .bind(name.as_str())
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')")
        .bind(org_id)
        .bind(owner)
        .execute(&mut **tx)
        .await?;
    Ok(org_id)
}

/// Counts a sign-up from `client` (10 per hour per address), refusing it
/// when the allowance is used up.
pub async fn sign_up_allowed(
    db: &PgPool,
    now: DateTime<Utc>,
    client: Option<IpAddr>,
) -> ServiceResult<()> {
    match client {
        Some(ip) => throttle::attempt(db, now, Scope::SignUp, &ip.to_string()).await,
        None => Ok(()),
    }
}

/// The organization a person lands on after signing in: the one they used
/// last if they are still a member, else their oldest membership.
pub async fn landing_org(db: &PgPool, user_id: Uuid) -> ServiceResult<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT m.org_id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.user_id = $1
         ORDER BY (m.org_id = u.last_org_id) DESC NULLS LAST, m.created_at, m.org_id
         LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

/// Remembers the organization a person is working in (for the next
/// sign-in).
pub async fn remember_org(db: &PgPool, user_id: Uuid, org_id: Uuid) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE users SET last_org_id = $2 WHERE id = $1
           AND EXISTS (SELECT 1 FROM memberships WHERE user_id = $1 AND org_id = $2)",
    )
    .bind(user_id)
    .bind(org_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Another organization owned by an existing user.
pub async fn create_org(db: &PgPool, user_id: Uuid, name: &OrgName) -> ServiceResult<Uuid> {
    let mut tx = db.begin().await?;
    let org_id = insert_org(&mut tx, name, user_id).await?;
    tx.commit().await?;
    tracing::info!(%user_id, %org_id, "organization created");
    Ok(org_id)
}

/// Checks an email and password, throttling failures per account and per
/// client address. The error never says which of the two was wrong.
pub async fn authenticate(
    db: &PgPool,
    now: DateTime<Utc>,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> ServiceResult<Uuid> {
    let email_norm = email.trim().to_lowercase();
    if email_norm.parse::<Email>().is_err() {
        return Err(ApiError::invalid("email", shared::account::InvalidEmail.to_string()).into());
    }
    // Every attempt is counted before the password is checked (see
    // `throttle`): per account and address, per address, per account.
    let address = client.map(|ip| ip.to_string());
    let pair = format!("{email_norm}|{}", address.as_deref().unwrap_or("-"));
    throttle::attempt(db, now, Scope::AccountAddress, &pair).await?;
    if let Some(a) = &address {
        throttle::attempt(db, now, Scope::Address, a).await?;
    }
    throttle::attempt(db, now, Scope::Account, &email_norm).await?;
    let row: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email_norm)
            .fetch_optional(db)
            .await?;
    let (id, hash) = match row {
        Some((id, h)) => (Some(id), Some(h)),
        None => (None, None),
    };
    let ok = passwords::verify(password, hash).await;
    match (ok, id) {
        (true, Some(id)) => {
            throttle::clear(db, Scope::AccountAddress, &pair).await?;
            throttle::give_back(db, Scope::Account, &email_norm).await?;
            if let Some(a) = &address {
                throttle::give_back(db, Scope::Address, a).await?;
            }
            Ok(id)
        }
        _ => {
            tracing::info!("failed sign-in");
            Err(ApiError::new(ErrorKind::Unauthenticated, "Wrong email or password.").into())
        }
    }
}

/// Changes the signed-in person's password: the current one is required
/// (attempts count against the account's sign-in throttle), and the
/// credentials' generation moves, which ends every session signed in with
/// the old one. Returns the new generation.
pub async fn change_password(
    db: &PgPool,
    now: DateTime<Utc>,
    user_id: Uuid,
    current: &str,
    new: &str,
) -> ServiceResult<i32> {
    let (email, hash): (String, String) =
        sqlx::query_as("SELECT email, password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
    let new = shared::account::NewPassword::parse(new, &email)
        .map_err(|e| ApiError::invalid("new_password", e.to_string()))?;
    throttle::attempt(db, now, Scope::Account, &email).await?;
    if !passwords::verify(current, Some(hash)).await {
        return Err(
            ApiError::invalid("current_password", "This is not your current password.").into(),
        );
    }
    throttle::give_back(db, Scope::Account, &email).await?;
    let generation = replace_password(&mut *db.acquire().await?, user_id, &new).await?;
    tracing::info!(%user_id, "password changed; other sessions end");
    Ok(generation)
}

/// Stores a new password and moves the credentials' generation, which
/// ends every session signed in with the old one. Returns the generation.
pub(super) async fn replace_password(
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    password: &shared::account::NewPassword,
) -> ServiceResult<i32> {
    let hash = passwords::hash(password).await?;
    Ok(sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, credentials_generation = credentials_generation + 1
         WHERE id = $1 RETURNING credentials_generation",
    )
    .bind(user_id)
    .bind(hash)
    .fetch_one(conn)
    .await?)
}

/// The account's email and credentials generation, or None if it no
/// longer exists.
pub async fn account(db: &PgPool, user_id: Uuid) -> ServiceResult<Option<(String, i32)>> {
    Ok(
        sqlx::query_as("SELECT email, credentials_generation FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?,
    )
}

/// Every organization the user belongs to, by name.
pub async fn user_orgs(db: &PgPool, user_id: Uuid) -> ServiceResult<Vec<OrgMembership>> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT o.id, o.name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id
         WHERE m.user_id = $1 ORDER BY lower(o.name), o.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(org_id, org_name, role)| {
            Ok(OrgMembership {
                org_id,
                org_name,
                role: parse_role(&role)?,
            })
        })
        .collect()
}

fn parse_role(s: &str) -> ServiceResult<Role> {
    s.parse()
        .map_err(|_| ServiceError::Internal(anyhow::anyhow!("unknown role {s:?} in database")))
}

pub async fn list_members(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<Member>> {
    t.require(Role::Viewer)?;
    let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m
         JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(user_id, email, role, joined_at)| {
            Ok(Member {
                user_id,
                email,
                role: parse_role(&role)?,
                joined_at,
            })
        })
        .collect()
}

/// Serialises membership changes within one org, so two concurrent
/// demotions cannot leave it without an owner.
async fn lock_org(tx: &mut Transaction<'_, Postgres>, org_id: Uuid) -> ServiceResult<()> {
    sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR UPDATE")
        .bind(org_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    Ok(())
}

async fn member_role(
    tx: &mut Transaction<'_, Postgres>,
    org_id: Uuid,
    user_id: Uuid,
) -> ServiceResult<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&mut **tx)
            .await?;
    role.as_deref().map(parse_role).transpose()
}

/// Locks the org and returns the role of the member the caller wants to
/// change, after checking the caller may manage someone with that role.
async fn manageable_member(
    tx: &mut Transaction<'_, Postgres>,
    t: &TenantCtx,
    user_id: Uuid,
) -> ServiceResult<Role> {
    t.require(Role::Admin)?;
    lock_org(tx, t.org_id).await?;
    let current = member_role(tx, t.org_id, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    t.require_manage(current)?;
    Ok(current)
}

async fn owner_count(tx: &mut Transaction<'_, Postgres>, org_id: Uuid) -> ServiceResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'owner'")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}

const LAST_OWNER: &str =
    "An organization needs at least one owner. Make someone else an owner first.";

/// Changes a member's role. Only owners grant or take away `owner`; the
/// last owner keeps their role.
pub async fn set_member_role(
    db: &PgPool,
    t: &TenantCtx,
    user_id: Uuid,
    role: Role,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let current = manageable_member(&mut tx, t, user_id).await?;
    t.require_manage(role)?;
    if current == Role::Owner && role != Role::Owner && owner_count(&mut tx, t.org_id).await? <= 1 {
        return Err(ApiError::conflict(LAST_OWNER).into());
    }
    sqlx::query("UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2")
        .bind(t.org_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, %user_id, from = %current, to = %role, "member role changed");
    Ok(())
}

/// Removes a member from the organization (their account stays); the
/// admin API tokens they created stop working.
pub async fn remove_member(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    user_id: Uuid,
) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    let current = manageable_member(&mut tx, t, user_id).await?;
    if current == Role::Owner && owner_count(&mut tx, t.org_id).await? <= 1 {
        return Err(ApiError::conflict(LAST_OWNER).into());
    }
    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(t.org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    super::api_tokens::revoke_created_by(&mut tx, t.org_id, user_id, now).await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, %user_id, "member removed");
    Ok(())
}

/// The caller's role in `org_id`, if they are a member.
pub async fn role_in(db: &PgPool, user_id: Uuid, org_id: Uuid) -> ServiceResult<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    role.as_deref().map(parse_role).transpose()
}

pub async fn org_settings(db: &PgPool, t: &TenantCtx) -> ServiceResult<OrgSettings> {
    t.require(Role::Admin)?;
    load_settings(db, t.org_id).await
}

async fn load_settings(db: &PgPool, org_id: Uuid) -> ServiceResult<OrgSettings> {
    let (name, mode, created_at, store_full_arguments): (String, String, DateTime<Utc>, bool) =
        sqlx::query_as(
            "SELECT name, mode, created_at, store_full_arguments FROM orgs WHERE id = $1",
        )
        .bind(org_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    Ok(OrgSettings {
        org_id,
        name,
        mode: mode.parse::<OrgMode>().map_err(|e| anyhow::anyhow!(e))?,
        created_at,
        store_full_arguments,
    })
}

pub async fn rename_org(db: &PgPool, t: &TenantCtx, name: &OrgName) -> ServiceResult<OrgSettings> {
    t.require(Role::Admin)?;
    sqlx::query("UPDATE orgs SET name = $2 WHERE id = $1")
        .bind(t.org_id)
        .bind(name.as_str())
        .execute(db)
        .await?;
    load_settings(db, t.org_id).await
}

/// Switches the org between monitor and enforce (owners and admins),
/// recorded with who and when (see [`super::enforcement::set_mode`]).
pub async fn set_mode(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    mode: OrgMode,
) -> ServiceResult<OrgSettings> {
    super::enforcement::set_mode(db, t, now, mode).await?;
    load_settings(db, t.org_id).await
}

/// Chooses what call records keep of the arguments (owners and admins).
/// Takes effect for the next calls (agents see it with the configuration
/// version).
pub async fn set_evidence(
    db: &PgPool,
    t: &TenantCtx,
    input: shared::account::EvidenceInput,
) -> ServiceResult<OrgSettings> {
    t.require(Role::Admin)?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE orgs SET store_full_arguments = $2 WHERE id = $1")
        .bind(t.org_id)
        .bind(input.store_full_arguments)
        .execute(&mut *tx)
        .await?;
    super::config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, store_full_arguments = input.store_full_arguments, "argument evidence changed");
    load_settings(db, t.org_id).await
}

/// The org's name and mode for any member (the overview shows the mode).
pub async fn org_summary(db: &PgPool, t: &TenantCtx) -> ServiceResult<OrgSettings> {
    t.require(Role::Viewer)?;
    load_settings(db, t.org_id).await
}
