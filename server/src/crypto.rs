//! Secrets at rest: AES-256-GCM-SIV under the master key.
//!
//! Each ciphertext records the id of the key that sealed it (the first 8
//! bytes of the key's SHA-256, hex), so keys can be rotated: the primary key
//! seals, every configured key opens, and `gatehouse rotate-master-key`
//! re-seals everything under the primary. The associated data binds a
//! ciphertext to what it belongs to (org + connector id, say): a ciphertext
//! copied onto another row fails to open instead of leaking across tenants.
//! GCM-SIV is nonce-misuse resistant, so a repeated random nonce would not
//! reveal the key stream.

use std::collections::HashMap;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use sha2::{Digest, Sha256};

use crate::master_key::MasterKey;

/// A sealed secret as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "secret was sealed with key {0}, which is not configured (set it in GATEHOUSE_OLD_MASTER_KEYS)"
    )]
    UnknownKey(String),
    #[error("secret does not open with its key: wrong key or tampered/moved ciphertext")]
    Tampered,
    #[error("no system randomness")]
    Random,
}

/// The configured master keys.
pub struct Keyring {
    primary_id: String,
    ciphers: HashMap<String, Aes256GcmSiv>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("primary_id", &self.primary_id)
            .field("keys", &self.ciphers.len())
            .finish()
    }
}

/// The public id of a key: safe to store and log.
pub fn key_id(key: &MasterKey) -> String {
    hex::encode(&Sha256::digest(key.bytes())[..8])
}

impl Keyring {
    /// `primary` seals; it and every key in `older` open.
    pub fn new(primary: &MasterKey, older: &[MasterKey]) -> Self {
        let mut ciphers = HashMap::new();
        for k in std::iter::once(primary).chain(older) {
            ciphers.insert(key_id(k), Aes256GcmSiv::new(k.bytes().into()));
        }
        Keyring {
            primary_id: key_id(primary),
            ciphers,
        }
    }

    pub fn primary_id(&self) -> &str {
        &self.primary_id
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, CryptoError> {
        let cipher = self
            .ciphers
            .get(&self.primary_id)
            .ok_or_else(|| CryptoError::UnknownKey(self.primary_id.clone()))?;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| CryptoError::Random)?;
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        Ok(Sealed {
            ciphertext,
            nonce: nonce.to_vec(),
            key_id: self.primary_id.clone(),
        })
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self
            .ciphers
            .get(&sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        let nonce: [u8; 12] = sealed
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Tampered)?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// Opens `sealed` with whichever key sealed it and seals the plaintext
    /// again under the primary key (master-key rotation).
    pub fn reseal(&self, sealed: &Sealed, aad: &[u8]) -> Result<Sealed, CryptoError> {
        self.seal(&self.open(sealed, aad)?, aad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn key(b: u8) -> MasterKey {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode([b; 32]);
        MasterKey::load_or_generate(Some(&SecretString::from(text)), std::path::Path::new("/x"))
            .unwrap()
    }

    #[test]
    fn seals_and_opens_with_the_same_binding_only() {
        let ring = Keyring::new(&key(1), &[]);
        let s = ring.seal(b"Bearer s3cr3t", b"org-a/conn-1").unwrap();
        assert!(!s.ciphertext.windows(6).any(|w| w == b"s3cr3t"));
        assert_eq!(ring.open(&s, b"org-a/conn-1").unwrap(), b"Bearer s3cr3t");
        // Moved to another tenant's row: refuses to open.
        assert!(matches!(
            ring.open(&s, b"org-b/conn-1"),
            Err(CryptoError::Tampered)
        ));
        let mut flipped = s.clone();
        flipped.ciphertext[0] ^= 1;
        assert!(ring.open(&flipped, b"org-a/conn-1").is_err());
        // Fresh nonce per seal.
        assert_ne!(
            ring.seal(b"x", b"").unwrap().nonce,
            ring.seal(b"x", b"").unwrap().nonce
        );
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable() {
        let old = Keyring::new(&key(1), &[]);
        let s = old.seal(b"v", b"aad").unwrap();
        let new = Keyring::new(&key(2), &[key(1)]);
        assert_eq!(new.open(&s, b"aad").unwrap(), b"v");
        assert_eq!(new.seal(b"v", b"aad").unwrap().key_id, key_id(&key(2)));
        let forgot = Keyring::new(&key(2), &[]);
        assert!(matches!(
            forgot.open(&s, b"aad"),
            Err(CryptoError::UnknownKey(_))
        ));
    }
}
