//! The master key that encrypts connector secrets at rest.
//!
//! Production deployments pass it in `GATEHOUSE_MASTER_KEY` (base64 of 32
//! random bytes). For development we generate one on first start into the
//! data directory with 0600 permissions and say so in the log, so a laptop
//! run needs no setup yet restarts can still decrypt what they stored.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// 32 bytes of key material. `Debug` prints nothing secret.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// The raw key, for the cipher.
    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// Parses a key given as base64 text (e.g. from GATEHOUSE_OLD_MASTER_KEYS).
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let raw = STANDARD
            .decode(text.trim())
            .context("GATEHOUSE_MASTER_KEY is not valid base64")?;
        let arr: [u8; 32] = raw.try_into().map_err(|v: Vec<u8>| {
            anyhow::anyhow!(
                "GATEHOUSE_MASTER_KEY must decode to exactly 32 bytes (got {}); \
                 generate one with: head -c 32 /dev/urandom | base64",
                v.len()
            )
        })?;
        Ok(Self(SecretBox::new(Box::new(arr))))
    }

    /// Uses the configured key, else the one in `data_dir/master.key`,
    /// generating that file on first use.
    pub fn load_or_generate(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        // An empty variable (e.g. `GATEHOUSE_MASTER_KEY=` from compose)
        // means "not configured", not "a zero-length key".
        if let Some(k) = configured.filter(|k| !k.expose_secret().trim().is_empty()) {
            return Self::from_base64(k.expose_secret());
        }
        let path = data_dir.join("master.key");
        if path.exists() {
            let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "{} is readable by other users (mode {mode:o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
            let text =
                fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return Self::from_base64(&text);
        }
        fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(STANDARD.encode(bytes).as_bytes())?;
        file.sync_all()?;
        tracing::warn!(
            path = %path.display(),
            "generated a development master key; set GATEHOUSE_MASTER_KEY in production \
             (and share it between replicas) instead"
        );
        Ok(Self(SecretBox::new(Box::new(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_with_private_permissions_and_reloads_the_same_key() {
        let dir = std::env::temp_dir().join(format!("gh-mk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = MasterKey::load_or_generate(None, &dir).unwrap();
        let mode = fs::metadata(dir.join("master.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let b = MasterKey::load_or_generate(None, &dir).unwrap();
        assert_eq!(a.bytes(), b.bytes());
        assert_eq!(format!("{a:?}"), "MasterKey(<redacted>)");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn configured_key_must_be_32_bytes_of_base64() {
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        let err = MasterKey::load_or_generate(Some(&short), Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("exactly 32 bytes"), "{err}");
        let ok = SecretString::from(STANDARD.encode([7u8; 32]));
        let k = MasterKey::load_or_generate(Some(&ok), Path::new("/nonexistent")).unwrap();
        assert_eq!(k.bytes(), &[7u8; 32]);
        let bad = SecretString::from("not base64!".to_owned());
        assert!(MasterKey::load_or_generate(Some(&bad), Path::new("/nonexistent")).is_err());
    }
}
