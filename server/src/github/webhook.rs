//! GitHub's App webhooks: the `X-Hub-Signature-256` check and the
//! installation events that keep a connected installation's state current.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body`
/// under `secret` (compared in constant time).
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex_sig) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// What an installation event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Uninstalled on GitHub.
    Deleted,
    Suspended,
    Unsuspended,
    /// The account accepted new permissions.
    Permissions(std::collections::BTreeMap<String, String>),
    /// Repositories added to / removed from a "selected" installation.
    Repositories {
        added: Vec<String>,
        removed: Vec<String>,
        selection: Option<String>,
    },
}

#[derive(Deserialize)]
struct Payload {
    action: String,
    installation: Inst,
    #[serde(default)]
    repositories_added: Vec<Repo>,
    #[serde(default)]
    repositories_removed: Vec<Repo>,
    repository_selection: Option<String>,
}

#[derive(Deserialize)]
struct Inst {
    id: i64,
    #[serde(default)]
    permissions: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Repo {
    full_name: String,
}

/// Reads an event (`X-GitHub-Event`) into the installation it is about
/// and what changed. `Ok(None)`: an event we do not act on.
pub fn parse(event: &str, body: &[u8]) -> Result<Option<(i64, Change)>, String> {
    if !matches!(event, "installation" | "installation_repositories") {
        return Ok(None);
    }
    let p: Payload =
        serde_json::from_slice(body).map_err(|e| format!("unreadable {event} event: {e}"))?;
    let change = match (event, p.action.as_str()) {
        ("installation", "deleted") => Change::Deleted,
        ("installation", "suspend") => Change::Suspended,
        ("installation", "unsuspend") => Change::Unsuspended,
        ("installation", "new_permissions_accepted") => {
            Change::Permissions(p.installation.permissions)
        }
        ("installation_repositories", "added" | "removed") => Change::Repositories {
            added: p
                .repositories_added
                .into_iter()
                .map(|r| r.full_name)
                .collect(),
            removed: p
                .repositories_removed
                .into_iter()
                .map(|r| r.full_name)
                .collect(),
            selection: p.repository_selection,
        },
        _ => return Ok(None),
    };
    Ok(Some((p.installation.id, change)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn only_the_secrets_signature_of_these_exact_bytes_verifies() {
        let body = br#"{"action":"deleted","installation":{"id":1}}"#;
        let good = sign(b"s3cret", body);
        assert!(verify(b"s3cret", body, &good));
        assert!(!verify(b"other", body, &good));
        assert!(!verify(b"s3cret", b"{}", &good));
        assert!(!verify(b"s3cret", body, good.trim_start_matches("sha256=")));
        assert!(!verify(b"s3cret", body, "sha256=zz"));
        assert!(!verify(b"s3cret", body, ""));
    }

    #[test]
    fn installation_events_become_changes() {
        let r = parse(
            "installation_repositories",
            br#"{"action":"removed","installation":{"id":7},"repository_selection":"selected",
                "repositories_added":[],"repositories_removed":[{"full_name":"acme/web"}]}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Some((
                7,
                Change::Repositories {
                    added: vec![],
                    removed: vec!["acme/web".into()],
                    selection: Some("selected".into())
                }
            ))
        );
        assert_eq!(
            parse(
                "installation",
                br#"{"action":"suspend","installation":{"id":7}}"#
            )
            .unwrap(),
            Some((7, Change::Suspended))
        );
        assert_eq!(parse("push", b"{}").unwrap(), None);
        assert!(parse("installation", b"not json").is_err());
    }
}
