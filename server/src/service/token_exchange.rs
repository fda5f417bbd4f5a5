//! The agent-key → agent-token exchange behind `POST /oauth/token`
//! (OAuth 2.0 client credentials). The HTTP handler parses the form and
//! maps [`ExchangeError`] to RFC 6749 §5.2 errors; every rule lives here:
//! the per-address throttle, the audience, the claims and the lifetime.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::agent_keys;
use super::throttle::{self, Scope};
use crate::agent_tokens::{AgentClaims, AgentTokens};

/// One token request, parsed.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// The agent key (`ghk_…`), from the form or HTTP Basic, if sent.
    pub secret: Option<&'a str>,
    /// RFC 8707 resource indicator: when given, must name our MCP endpoint.
    pub resource: Option<&'a str>,
    /// Lets a long-running client (e.g. `gatehouse connect`) keep one
    /// runtime session across token refreshes.
    pub session_id: Option<Uuid>,
    /// The caller's address, for the failure throttle.
    pub client: Option<IpAddr>,
}

/// A freshly signed agent token.
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in_secs: i64,
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("This server issues tokens for {audience} only.")]
    InvalidTarget { audience: String },
    #[error("Send the agent key as client_secret (or with HTTP Basic).")]
    MissingClient,
    #[error("The agent key is unknown or has been revoked.")]
    InvalidClient,
    #[error("{0}")]
    SlowDown(String),
    #[error("Gatehouse cannot issue tokens right now; try again shortly.")]
    Unavailable,
}

/// Exchanges an agent key for a token that lives `ttl`, bound to the key's
/// org, pack and Registered User and to the MCP endpoint's audience.
/// Failures count against the caller's address; an address over its limit
/// is refused before the key is even looked up.
pub async fn exchange(
    db: &PgPool,
    tokens: &AgentTokens,
    ttl: Duration,
    now: DateTime<Utc>,
    req: TokenRequest<'_>,
) -> Result<IssuedToken, ExchangeError> {
    if let Some(r) = req.resource
        && r.trim_end_matches('/') != tokens.audience()
    {
        return Err(ExchangeError::InvalidTarget {
            audience: tokens.audience().to_owned(),
        });
    }
    let secret = req
        .secret
        .filter(|s| !s.trim().is_empty())
        .ok_or(ExchangeError::MissingClient)?;
    let address = req.client.map(|ip| format!("token:{ip}"));
    // Counted before the key is checked (parallel guesses cannot slip
    // through together); a valid key gives its attempt back.
    if let Some(a) = &address {
        throttle::attempt(db, now, Scope::Address, a)
            .await
            .map_err(|e| ExchangeError::SlowDown(e.into_api().message))?;
    }
    let grant = match agent_keys::authenticate(db, now, secret).await {
        Ok(Some(g)) => {
            if let Some(a) = &address
                && let Err(e) = throttle::give_back(db, Scope::Address, a).await
            {
                tracing::warn!(error = %e, "releasing a token attempt");
            }
            g
        }
        Ok(None) => return Err(ExchangeError::InvalidClient),
        Err(e) => {
            // Logged by into_api; the caller only learns "try again".
            let _ = e.into_api();
            return Err(ExchangeError::Unavailable);
        }
    };
    let claims = AgentClaims {
        // Filled in by the signer from its configuration.
        iss: String::new(),
        aud: String::new(),
        sub: grant.registered_user_id,
        org: grant.org_id,
        pack: grant.pack_id,
        key: grant.key_id,
        sid: req.session_id.unwrap_or_else(Uuid::new_v4),
        jti: Uuid::new_v4(),
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
    };
    let access_token = tokens.sign(claims).await.map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "signing an agent token");
        ExchangeError::Unavailable
    })?;
    Ok(IssuedToken {
        access_token,
        expires_in_secs: ttl.num_seconds(),
    })
}
