//! How long an organization's decision trail (call records and
//! detections) is kept: Settings → Data retention, `GET`/`PUT
//! /api/v1/org/retention`.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The retention in force for an org.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionStatus {
    /// Records are kept this many days (the org's own choice, or the
    /// server's).
    pub days: u32,
    /// The org's own choice; None = the server's.
    pub own_days: Option<u32>,
    /// The server's retention (`GATEHOUSE_RETENTION_DAYS`): the default,
    /// and the longest an org may choose.
    pub server_days: u32,
}

/// An admin's retention change.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionInput {
    /// Days to keep records (1 to the server's retention); absent or null =
    /// the server's.
    #[serde(default)]
    pub days: Option<u32>,
}

impl RetentionInput {
    /// The org's own retention in days, checked against the server's (an
    /// org may keep its records for less time than the server, not more).
    ///
    /// ```
    /// use shared::api::RetentionInput;
    /// assert_eq!(RetentionInput { days: Some(30) }.parse(400), Ok(Some(30)));
    /// assert_eq!(RetentionInput { days: None }.parse(400), Ok(None));
    /// assert!(RetentionInput { days: Some(0) }.parse(400).is_err());
    /// assert!(RetentionInput { days: Some(401) }.parse(400).is_err());
    /// ```
    pub fn parse(&self, server_days: u32) -> Result<Option<u32>, ApiError> {
        match self.days {
            Some(d) if d == 0 || d > server_days => Err(ApiError::invalid(
                "days",
                format!(
                    "Choose between 1 and {server_days} days (the server keeps records at most {server_days} days)."
                ),
            )),
            d => Ok(d),
        }
    }
}
