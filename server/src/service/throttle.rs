//! Failed sign-in throttling, per account and per client address, stored in
//! Postgres so every server process enforces the same limits.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{ServiceResult, rate_limited};

/// How long a failure counts.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures allowed per account within the window.
pub const ACCOUNT_LIMIT: i32 = 5;
/// Failures allowed per client address within the window (several people
/// may share an address, so this is looser).
pub const ADDRESS_LIMIT: i32 = 30;

#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Account,
    Address,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }
    fn limit(self) -> i32 {
        match self {
            Scope::Account => ACCOUNT_LIMIT,
            Scope::Address => ADDRESS_LIMIT,
        }
    }
}

fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Errors with `RateLimited` when `key` has used up its failures.
pub async fn check(db: &PgPool, now: DateTime<Utc>, scope: Scope, key: &str) -> ServiceResult<()> {
    let row: Option<(DateTime<Utc>, i32)> = sqlx::query_as(
        "SELECT window_start, failures FROM signin_throttle WHERE scope = $1 AND key_hash = $2",
    )
    .bind(scope.as_str())
    .bind(key_hash(key))
    .fetch_optional(db)
    .await?;
    if let Some((start, failures)) = row {
        let until = start + Duration::minutes(WINDOW_MINUTES);
        if failures >= scope.limit() && until > now {
            let secs = u64::try_from((until - now).num_seconds())
                .unwrap_or(60)
                .max(1);
            let minutes = secs.div_ceil(60);
            return Err(rate_limited(
                format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
                secs,
            ));
        }
    }
    Ok(())
}

/// Counts one failure for `key`, starting a new window when the old one
/// has expired.
pub async fn record_failure(
    db: &PgPool,
    now: DateTime<Utc>,
    scope: Scope,
    key: &str,
) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO signin_throttle (scope, key_hash, window_start, failures)
         VALUES ($1, $2, $3, 1)
         ON CONFLICT (scope, key_hash) DO UPDATE SET
           failures = CASE WHEN signin_throttle.window_start <= $3 - make_interval(mins => $4)
                           THEN 1 ELSE signin_throttle.failures + 1 END,
           window_start = CASE WHEN signin_throttle.window_start <= $3 - make_interval(mins => $4)
                               THEN $3 ELSE signin_throttle.window_start END",
    )
    .bind(scope.as_str())
    .bind(key_hash(key))
    .bind(now)
    .bind(i32::try_from(WINDOW_MINUTES).unwrap_or(15))
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(db: &PgPool, scope: Scope, key: &str) -> ServiceResult<()> {
    sqlx::query("DELETE FROM signin_throttle WHERE scope = $1 AND key_hash = $2")
        .bind(scope.as_str())
        .bind(key_hash(key))
        .execute(db)
        .await?;
    Ok(())
}
