//! Agent keys (exchanged for agent tokens) and admin API tokens: secrets
//! shown once, listed by prefix afterwards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An agent key as listed (never the secret).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKey {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub pack_id: Uuid,
    pub pack_name: String,
    pub registered_user_id: Uuid,
    pub registered_user_name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AgentKeyInput {
    pub pack_id: String,
    pub registered_user_id: String,
    #[serde(default)]
    pub name: String,
}

/// A newly created secret: shown once, never again.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedSecret<T> {
    pub item: T,
    pub secret: String,
}

impl<T: std::fmt::Debug> std::fmt::Debug for CreatedSecret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedSecret")
            .field("item", &self.item)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An admin API token as listed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: crate::account::Role,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token stops working at this time.
    pub expires_at: DateTime<Utc>,
    /// Whether `expires_at` has passed (by the server's clock).
    pub expired: bool,
}

/// How long a new admin API token lives unless told otherwise.
pub const API_TOKEN_DEFAULT_DAYS: i64 = 90;

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiTokenInput {
    pub name: String,
    /// admin, approver or viewer. The token never acts with more than its
    /// creator's role at the time of use.
    pub role: String,
    /// Days until the token expires, 1–365 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// The agent keys list's query parameters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyQuery {
    /// Only this pack's keys.
    pub pack_id: Option<Uuid>,
    /// Only this user's keys.
    pub registered_user_id: Option<Uuid>,
}
