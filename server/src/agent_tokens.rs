//! Short-lived agent tokens: HS256 JWTs that the MCP endpoint accepts.
//!
//! Signing keys live in Postgres, sealed under the master key, so every
//! replica signs and verifies with the same keys. Each token names its key
//! (`kid`); the newest key signs, every unretired key verifies, and a rotated
//! key keeps verifying until the longest token it signed has expired — so
//! rotation never breaks a token in flight.
//!
//! Every server reloads the keys on a short interval and at once when
//! `rotate-signing-key` notifies (Postgres `NOTIFY`), so a rotation reaches
//! running servers: they sign with the new key and stop accepting a retired
//! one. A token naming an unknown `kid` triggers at most one reload per
//! [`UNKNOWN_KID_RELOAD_EVERY`] (invented kids cannot make every request
//! hit the database).
//!
//! Expiry is checked against the `now` the caller passes in, not the clock.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::crypto::{Keyring, Sealed};

/// The Postgres channel `rotate-signing-key` notifies.
pub const ROTATION_CHANNEL: &str = "gatehouse_signing_keys";

/// At most one reload per this interval for tokens with unknown `kid`s.
pub const UNKNOWN_KID_RELOAD_EVERY: Duration = Duration::seconds(10);

/// The longest lifetime a token may be issued with.
pub const MAX_TTL_MINUTES: i64 = 15;

/// What an agent token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentClaims {
    pub iss: String,
    /// The MCP endpoint's URL (RFC 8707 resource / RFC 9068 audience).
    pub aud: String,
    /// The Registered User the agent acts for.
    pub sub: Uuid,
    pub org: Uuid,
    pub pack: Uuid,
    /// The agent key the token was exchanged for.
    pub key: Uuid,
    /// The client session this token belongs to (groups calls into a
    /// runtime session when the MCP transport has none).
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token is for another audience")]
    WrongAudience,
}

struct KeyMaterial {
    secret: Vec<u8>,
    retired_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, KeyMaterial>,
    /// The newest key: it signs.
    active: Option<String>,
    /// Whether the keys were loaded at all.
    loaded: bool,
}

/// Signs and verifies agent tokens; cheap to clone.
#[derive(Clone)]
pub struct AgentTokens {
    db: PgPool,
    keyring: Arc<Keyring>,
    cache: Arc<RwLock<Cache>>,
    /// When a token with an unknown `kid` last caused a reload.
    unknown_kid_reload: Arc<std::sync::Mutex<Option<DateTime<Utc>>>>,
    issuer: String,
    audience: String,
}

/// Associated data binding a sealed signing key to its `kid`.
pub(crate) fn aad(kid: &str) -> Vec<u8> {
    format!("gatehouse:signing-key:{kid}").into_bytes()
}

impl AgentTokens {
    pub fn new(db: PgPool, keyring: Arc<Keyring>, issuer: String, audience: String) -> Self {
        Self {
            db,
            keyring,
            cache: Arc::new(RwLock::new(Cache::default())),
            unknown_kid_reload: Arc::new(std::sync::Mutex::new(None)),
            issuer,
            audience,
        }
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Loads every signing key, creating the first one if there is none.
    pub async fn load(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut rows = self.fetch().await?;
        if !rows.iter().any(|(_, _, r)| r.is_none()) {
            self.insert_key().await?;
            rows = self.fetch().await?;
        }
        let mut cache = Cache {
            loaded: true,
            ..Cache::default()
        };
        for (kid, material, retired) in rows {
            if retired.is_some_and(|r| r <= now) {
                continue;
            }
            if retired.is_none() {
                cache.active = Some(kid.clone());
            }
            cache.keys.insert(
                kid,
                KeyMaterial {
                    secret: material,
                    retired_at: retired,
                },
            );
        }
        *self.cache.write().await = cache;
        Ok(())
    }

    /// Keys ordered oldest first, decrypted.
    async fn fetch(&self) -> anyhow::Result<Vec<(String, Vec<u8>, Option<DateTime<Utc>>)>> {
        let rows: Vec<(String, Vec<u8>, Vec<u8>, String, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT kid, ciphertext, nonce, key_id, retired_at FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.db)
        .await?;
        rows.into_iter()
            .map(|(kid, ciphertext, nonce, key_id, retired)| {
                let secret = self
                    .keyring
                    .open(
                        &Sealed {
                            ciphertext,
                            nonce,
                            key_id,
                        },
                        &aad(&kid),
                    )
                    .map_err(|e| anyhow::anyhow!("signing key {kid}: {e}"))?;
                Ok((kid, secret, retired))
            })
            .collect()
    }

    async fn insert_key(&self) -> anyhow::Result<String> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let kid = Uuid::new_v4().simple().to_string()[..16].to_owned();
        let sealed = self.keyring.seal(&secret, &aad(&kid))?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, ciphertext, nonce, key_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(&kid)
        .bind(&sealed.ciphertext)
        .bind(&sealed.nonce)
        .bind(&sealed.key_id)
        .execute(&self.db)
        .await?;
        Ok(kid)
    }

    /// Makes a new key the signer; older keys verify for one more maximum
    /// token lifetime, then stop.
    pub async fn rotate(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        let retire_at = now + Duration::minutes(MAX_TTL_MINUTES);
        sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(retire_at)
            .execute(&self.db)
            .await?;
        let kid = self.insert_key().await?;
        // Running servers reload now rather than at their next interval.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(ROTATION_CHANNEL)
            .bind(&kid)
            .execute(&self.db)
            .await?;
        self.load(now).await?;
        Ok(kid)
    }

    /// Keeps this server's keys current: a reload every `every`, and one
    /// as soon as a rotation is notified. Runs until the process ends.
    pub fn spawn_refresh(&self, clock: crate::clock::Clock, every: std::time::Duration) {
        let tokens = self.clone();
        tokio::spawn(async move {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&tokens.db).await {
                Ok(mut l) => match l.listen(ROTATION_CHANNEL).await {
                    Ok(()) => Some(l),
                    Err(e) => {
                        tracing::warn!(error = %e, "no rotation notifications; reloading signing keys on the interval only");
                        None
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "no rotation notifications; reloading signing keys on the interval only");
                    None
                }
            };
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Ends with the pool (server shutdown).
            while !tokens.db.is_closed() {
                match &mut listener {
                    Some(l) => tokio::select! {
                        _ = tick.tick() => {}
                        n = l.recv() => if let Err(e) = n {
                            // PgListener reconnects on the next recv; wait
                            // a little so a database outage is not a busy loop.
                            tracing::warn!(error = %e, "signing-key notifications interrupted");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            continue;
                        },
                    },
                    None => {
                        tick.tick().await;
                    }
                }
                if let Err(e) = tokens.load(clock.now()).await {
                    tracing::warn!(error = %format!("{e:#}"), "reloading signing keys failed; keeping the loaded ones");
                }
            }
        });
    }

    /// Issues a token for `claims` (whose `iss`/`aud` are set here).
    pub async fn sign(&self, mut claims: AgentClaims) -> anyhow::Result<String> {
        claims.iss = self.issuer.clone();
        claims.aud = self.audience.clone();
        if self.cache.read().await.active.is_none() {
            self.load(DateTime::from_timestamp(claims.iat, 0).unwrap_or_default())
                .await?;
        }
        let cache = self.cache.read().await;
        let kid = cache
            .active
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no active signing key"))?;
        let key = cache
            .keys
            .get(&kid)
            .ok_or_else(|| anyhow::anyhow!("active signing key missing"))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid);
        Ok(jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&key.secret),
        )?)
    }

    /// Another replica may have rotated since we loaded: an unknown `kid`
    /// may reload the keys, but only once per interval, whatever kids are
    /// invented (the check and the claim are one step under the lock).
    fn may_reload_for_unknown_kid(&self, now: DateTime<Utc>) -> bool {
        let Ok(mut last) = self.unknown_kid_reload.lock() else {
            return false;
        };
        match *last {
            Some(at) if now - at < UNKNOWN_KID_RELOAD_EVERY => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    /// Checks signature, audience, issuer and expiry (against `now`).
    pub async fn verify(&self, now: DateTime<Utc>, token: &str) -> Result<AgentClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Malformed);
        }
        let kid = header.kid.ok_or(TokenError::Malformed)?;
        let (known, loaded) = {
            let cache = self.cache.read().await;
            (cache.keys.contains_key(&kid), cache.loaded)
        };
        if !known && (!loaded || self.may_reload_for_unknown_kid(now)) {
            let _ = self.load(now).await;
        }
        let cache = self.cache.read().await;
        let key = cache.keys.get(&kid).ok_or(TokenError::BadSignature)?;
        if key.retired_at.is_some_and(|r| r <= now) {
            return Err(TokenError::BadSignature);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the caller's `now`.
        validation.validate_exp = false;
        validation.required_spec_claims = ["aud", "iss", "sub", "exp"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        let data = jsonwebtoken::decode::<AgentClaims>(
            token,
            &DecodingKey::from_secret(&key.secret),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience
            | jsonwebtoken::errors::ErrorKind::InvalidIssuer => TokenError::WrongAudience,
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?;
        if data.claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }
}
