//! Long-lived secrets we issue (agent keys, admin API tokens): 256 random
//! bits, base64url, with a readable type prefix. Stored as SHA-256 — a slow
//! password hash buys nothing for values this random — and shown once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// What kind of secret, and its visible prefix.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `ghk_…`: exchanged at `/oauth/token` for short-lived agent tokens.
    AgentKey,
    /// `gha_…`: authenticates the admin API.
    ApiToken,
    /// `ghi_…`: a single-use invitation to join an organization.
    Invitation,
    /// `ghr_…`: a single-use link to choose a new password.
    PasswordReset,
    /// `ghw_…`: signs a webhook's deliveries (stored sealed, not hashed).
    WebhookSecret,
    /// `ghc_…`: the single-use `state` of a "Connect GitHub".
    GitHubConnect,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::AgentKey => "ghk_",
            Kind::ApiToken => "gha_",
            Kind::Invitation => "ghi_",
            Kind::PasswordReset => "ghr_",
            Kind::WebhookSecret => "ghw_",
            Kind::GitHubConnect => "ghc_",
        }
    }
}

/// A freshly minted secret.
pub struct Minted {
    /// The whole secret: give it to the user once.
    pub secret: String,
    /// The first characters, safe to list.
    pub display_prefix: String,
    pub hash: Vec<u8>,
}

pub fn mint(kind: Kind) -> anyhow::Result<Minted> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let secret = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(raw));
    Ok(Minted {
        display_prefix: secret.chars().take(12).collect(),
        hash: hash(&secret),
        secret,
    })
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.trim().as_bytes()).to_vec()
}

/// Whether `s` looks like a secret of `kind` (cheap pre-check before a
/// database lookup).
pub fn looks_like(kind: Kind, s: &str) -> bool {
    let s = s.trim();
    s.len() == 4 + 43 && s.starts_with(kind.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_secrets_are_unique_prefixed_and_hashed() {
        let a = mint(Kind::AgentKey).unwrap();
        let b = mint(Kind::AgentKey).unwrap();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("ghk_") && looks_like(Kind::AgentKey, &a.secret));
        assert!(!looks_like(Kind::ApiToken, &a.secret));
        assert_eq!(a.display_prefix.len(), 12);
        assert!(a.secret.starts_with(&a.display_prefix));
        assert_eq!(hash(&a.secret), a.hash);
        assert_eq!(a.hash.len(), 32);
    }
}
