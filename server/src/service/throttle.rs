//! Sign-in and sign-up throttling, stored in Postgres so every server
//! process enforces the same limits.
//!
//! Every attempt is counted *before* the password is checked, in one
//! upsert that returns the new count, so parallel attempts cannot pass a
//! check together; a successful sign-in gives its attempt back.
//!
//! Scopes, so that nobody can lock a known e-mail out indefinitely:
//! * `account_address` — one account from one client address (5 per
//!   15 minutes): an attacker's guesses lock out only their own address;
//! * `address` — one client address across accounts (30 per 15 minutes);
//! * `account` — one account from everywhere (100 per 15 minutes), a
//!   ceiling on distributed guessing that a single source cannot reach;
//! * `signup` — sign-ups from one client address (10 per hour).

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{ServiceResult, rate_limited};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    AccountAddress,
    Address,
    Account,
    SignUp,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::AccountAddress => "account_address",
            Scope::Address => "address",
            Scope::Account => "account",
            Scope::SignUp => "signup",
        }
    }

    /// Attempts allowed per window.
    pub fn limit(self) -> i32 {
        match self {
            Scope::AccountAddress => 5,
            Scope::Address => 30,
            Scope::Account => 100,
            Scope::SignUp => 10,
        }
    }

    fn window_minutes(self) -> i32 {
        match self {
            Scope::SignUp => 60,
            _ => 15,
        }
    }

    fn refusal(self, minutes: u64) -> String {
        let plural = if minutes == 1 { "" } else { "s" };
        match self {
            Scope::SignUp => {
                format!(
                    "Too many sign-ups from this network. Try again in {minutes} minute{plural}."
                )
            }
            Scope::Address => format!(
                "Too many failed attempts from this network. Try again in {minutes} minute{plural}."
            ),
            _ => format!("Too many failed sign-ins. Try again in {minutes} minute{plural}."),
        }
    }
}

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Counts one attempt for `key` and refuses it (`RateLimited`, with the
/// wait) when the window's allowance is used up. Check and count are one
/// statement.
pub async fn attempt(
    db: &PgPool,
    now: DateTime<Utc>,
    scope: Scope,
    key: &str,
) -> ServiceResult<()> {
    let (start, count): (DateTime<Utc>, i32) = sqlx::query_as(
        "INSERT INTO signin_throttle (scope, key_hash, window_start, failures)
         VALUES ($1, $2, $3, 1)
         ON CONFLICT (scope, key_hash) DO UPDATE SET
           failures = CASE WHEN signin_throttle.window_start <= $3 - make_interval(mins => $4)
                           THEN 1 ELSE signin_throttle.failures + 1 END,
           window_start = CASE WHEN signin_throttle.window_start <= $3 - make_interval(mins => $4)
                               THEN $3 ELSE signin_throttle.window_start END
         RETURNING window_start, failures",
    )
    .bind(scope.as_str())
    .bind(key_hash(key))
    .bind(now)
    .bind(scope.window_minutes())
    .fetch_one(db)
    .await?;
    if count > scope.limit() {
        let until = start + Duration::minutes(i64::from(scope.window_minutes()));
        let secs = u64::try_from((until - now).num_seconds())
            .unwrap_or(60)
            .max(1);
        return Err(rate_limited(scope.refusal(secs.div_ceil(60)), secs));
    }
    Ok(())
}

/// Forgets every attempt of `key` (the password was right from here).
pub async fn clear(db: &PgPool, scope: Scope, key: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM signin_throttle WHERE scope = $1 AND key_hash = $2")
        .bind(scope.as_str())
        .bind(key_hash(key))
        .execute(db)
        .await?;
    Ok(())
}

/// Gives back one attempt (it succeeded): successful sign-ins never count
/// against anyone.
pub async fn give_back(db: &PgPool, scope: Scope, key: &str) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE signin_throttle SET failures = greatest(failures - 1, 0)
         WHERE scope = $1 AND key_hash = $2",
    )
    .bind(scope.as_str())
    .bind(key_hash(key))
    .execute(db)
    .await?;
    Ok(())
}
