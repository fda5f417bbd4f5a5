//! Password hashing with Argon2id (the `argon2` crate's defaults: 19 MiB,
//! two passes — OWASP's recommended minimum). Hashing is CPU-heavy, so it
//! runs on the blocking pool, never on an async worker.

use std::sync::LazyLock;

use anyhow::anyhow;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use shared::account::NewPassword;

/// A real hash of a random password, verified against when the account
/// does not exist so that "no such user" takes as long as "wrong password".
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).ok()?;
    Argon2::default()
        .hash_password(&raw)
        .ok()
        .map(|h| h.to_string())
});

/// Hashes a new password into a PHC string (`$argon2id$v=19$…`).
pub async fn hash(password: &NewPassword) -> anyhow::Result<String> {
    let pw = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow!("hashing password: {e}"))
    })
    .await?
}

/// Checks `password` against a stored hash; `None` (unknown account)
/// burns the same time and returns false.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let target = stored.or_else(|| DUMMY_HASH.clone());
        let Some(target) = target else { return false };
        let Ok(parsed) = PasswordHash::new(&target) else {
            return false;
        };
        Argon2::default()
            .verify_password(pw.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let pw = NewPassword::parse("correct horse battery", "a@b.co").unwrap();
        let h = hash(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify("correct horse battery", Some(h.clone())).await);
        assert!(!verify("correct horse batterY", Some(h)).await);
        assert!(!verify("anything", None).await);
        assert!(!verify("anything", Some("not a hash".into())).await);
    }
}
