//! The one error shape every Gatehouse surface puts on the wire: the admin
//! API (JSON body), the dashboard's server functions and the CLI.
//!
//! Internal failures carry no detail here on purpose: the server logs them
//! with the request id and the client only learns that something failed.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, in terms a client can act on.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No valid session or token: sign in again.
    Unauthenticated,
    /// Signed in, but the role does not allow this action.
    Forbidden,
    /// The object does not exist *for this caller* (another org's ids look
    /// exactly like ids that never existed).
    NotFound,
    /// The input was rejected; `fields` says which field and why.
    Invalid,
    /// The request conflicts with current state (duplicate, last owner, …).
    Conflict,
    /// Too many attempts; retry later.
    RateLimited,
    /// A dependency (database, upstream) is unavailable right now.
    Unavailable,
    /// A bug or an unexpected failure; details are only in the server log.
    Internal,
}

/// An error as it crosses the wire.
///
/// ```
/// use shared::error::{ApiError, ErrorKind};
/// let e = ApiError::invalid("email", "Enter an email address like name@example.com.");
/// assert_eq!(e.kind, ErrorKind::Invalid);
/// assert_eq!(e.field("email"), Some("Enter an email address like name@example.com."));
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// A sentence for humans. Never contains secrets or internal detail.
    pub message: String,
    /// Field name → what is wrong with it (form-level errors have none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// For [`ErrorKind::RateLimited`]: seconds until a retry may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error of `kind` with a human message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after_secs: None,
        }
    }

    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        FieldErrors::new().with(field, message).into_error()
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, "Please sign in to continue.")
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorKind::Forbidden,
            "Your role in this organization does not allow this action.",
        )
    }

    /// `what` names the kind of object ("member", "tool pack").
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, format!("No such {what}."))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side. It has been logged; please try again.",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The message for `field`, if that field was rejected.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The HTTP status this error maps to.
    pub fn http_status(&self) -> u16 {
        match self.kind {
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Invalid => 422,
            ErrorKind::Conflict => 409,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (field, msg) in &self.fields {
            write!(f, " {field}: {msg}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// True when `s` is safe, readable text: no control characters other than
/// new lines and tabs (`multiline`) — in particular no NUL, which Postgres
/// cannot store and which only a hostile or broken client sends.
///
/// ```
/// use shared::error::is_text;
/// assert!(is_text("Refunds team", false));
/// assert!(is_text("line one\nline two", true));
/// assert!(!is_text("line one\nline two", false));
/// assert!(!is_text("nul\0byte", true));
/// ```
pub fn is_text(s: &str, multiline: bool) -> bool {
    s.chars()
        .all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t')))
}

/// Collects field-level problems so a form can show all of them at once.
///
/// ```
/// use shared::error::FieldErrors;
/// let mut errs = FieldErrors::new();
/// assert!(errs.is_empty());
/// errs.add("name", "Enter a name.");
/// let err = errs.into_result().unwrap_err();
/// assert_eq!(err.field("name"), Some("Enter a name."));
/// ```
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the first problem seen for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn with(mut self, field: &str, message: impl Into<String>) -> Self {
        self.add(field, message);
        self
    }

    /// Stores the error of a parse result under `field`, returning the value.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, r: Result<T, E>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_error(self) -> ApiError {
        let message = if self.0.len() == 1 {
            "Please correct the highlighted field."
        } else {
            "Please correct the highlighted fields."
        };
        ApiError {
            kind: ErrorKind::Invalid,
            message: message.to_owned(),
            fields: self.0,
            retry_after_secs: None,
        }
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_as_json() {
        let e = FieldErrors::new()
            .with("email", "bad")
            .with("password", "short")
            .into_error();
        let json = serde_json::to_string(&e).unwrap();
        let back: ApiError = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.http_status(), 422);
        assert_eq!(back.message, "Please correct the highlighted fields.");
    }

    #[test]
    fn first_message_for_a_field_wins() {
        let e = FieldErrors::new()
            .with("email", "first")
            .with("email", "second")
            .into_error();
        assert_eq!(e.field("email"), Some("first"));
    }
}
