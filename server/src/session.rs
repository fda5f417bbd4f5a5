//! What the dashboard keeps in a session: who is signed in and which of
//! their organizations is current. The session itself (id cookie + row in
//! Postgres) is `tower-sessions`' job; we only read and write this record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::service::{ServiceError, ServiceResult};

const KEY: &str = "gatehouse.auth";

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
    /// When the password was checked: a session ends this long after it,
    /// however active (records from before this field read as expired).
    #[serde(default)]
    pub signed_in_at: DateTime<Utc>,
    /// The credentials' generation at sign-in: a password change moves it,
    /// ending this session.
    #[serde(default)]
    pub generation: i32,
}

impl SessionAuth {
    /// Whether the session outlived its absolute lifetime at `now`.
    pub fn expired(&self, now: DateTime<Utc>, max_age: chrono::Duration) -> bool {
        now - self.signed_in_at >= max_age
    }
}

fn store_err(e: tower_sessions::session::Error) -> ServiceError {
    ServiceError::Internal(anyhow::anyhow!("session store: {e}"))
}

pub async fn read(session: &Session) -> ServiceResult<Option<SessionAuth>> {
    session.get(KEY).await.map_err(store_err)
}

/// Signs in: a fresh session id (so a pre-sign-in id planted by an attacker
/// is worthless), then the auth record.
pub async fn sign_in(session: &Session, auth: SessionAuth) -> ServiceResult<()> {
    session.cycle_id().await.map_err(store_err)?;
    session.insert(KEY, auth).await.map_err(store_err)
}

/// Updates the current org without changing who is signed in or when.
pub async fn set_org(session: &Session, org_id: Option<Uuid>) -> ServiceResult<()> {
    let Some(auth) = read(session).await? else {
        return Ok(());
    };
    session
        .insert(KEY, SessionAuth { org_id, ..auth })
        .await
        .map_err(store_err)
}

/// Deletes the session record and clears the cookie.
pub async fn sign_out(session: &Session) -> ServiceResult<()> {
    session.flush().await.map_err(store_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_after_their_absolute_lifetime_however_active() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let auth = SessionAuth {
            user_id: Uuid::nil(),
            org_id: None,
            signed_in_at: t0,
            generation: 0,
        };
        let week = chrono::Duration::days(7);
        assert!(!auth.expired(t0 + chrono::Duration::days(6), week));
        assert!(auth.expired(t0 + week, week));
        // A record written before the field existed is expired.
        let old: SessionAuth = serde_json::from_str(
            r#"{"user_id":"00000000-0000-0000-0000-000000000000","org_id":null}"#,
        )
        .unwrap();
        assert!(old.expired(t0, week));
    }
}
