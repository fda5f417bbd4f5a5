//! Registered Users: the end users agents act for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors};

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredUser {
    pub id: Uuid,
    pub external_id: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub key_count: i64,
    pub last_call_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegisteredUserInput {
    pub external_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone)]
pub struct NewRegisteredUser {
    pub external_id: String,
    pub display_name: String,
}

impl RegisteredUserInput {
    pub fn parse(&self) -> Result<NewRegisteredUser, ApiError> {
        let mut errs = FieldErrors::new();
        let ext = self.external_id.trim();
        let name = self.display_name.trim();
        if ext.is_empty() {
            errs.add(
                "external_id",
                "Enter the user's id in your system (e.g. an email or employee id).",
            );
        } else if ext.chars().count() > 200 || ext.chars().any(char::is_control) {
            errs.add("external_id", "Use at most 200 printable characters.");
        }
        if name.is_empty() {
            errs.add("display_name", "Enter a display name.");
        } else if name.chars().count() > 200 || name.chars().any(char::is_control) {
            errs.add("display_name", "Use at most 200 printable characters.");
        }
        errs.into_result().map(|()| NewRegisteredUser {
            external_id: ext.to_owned(),
            display_name: name.to_owned(),
        })
    }
}

/// The Registered Users list's query parameters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Matches external id or name.
    pub search: Option<String>,
    /// External id to continue after.
    pub after: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}
