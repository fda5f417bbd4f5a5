//! What the dashboard keeps in a session: who is signed in and which of
//! their organizations is current. The session itself (id cookie + row in
//! Postgres) is `tower-sessions`' job; we only read and write this record.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::service::{ServiceError, ServiceResult};

const KEY: &str = "gatehouse.auth";

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
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

/// Updates the current org without changing who is signed in.
pub async fn set_org(session: &Session, auth: SessionAuth) -> ServiceResult<()> {
    session.insert(KEY, auth).await.map_err(store_err)
}

/// Deletes the session record and clears the cookie.
pub async fn sign_out(session: &Session) -> ServiceResult<()> {
    session.flush().await.map_err(store_err)
}
