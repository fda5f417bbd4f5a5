//! The error type of every server function: the shared wire error, plus the
//! transport failures Leptos itself can produce.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ErrorKind};

/// What a server function returns on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub ApiError);

impl AppError {
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message for one form field, if it was rejected.
    pub fn field(&self, name: &str) -> Option<String> {
        self.0.field(name).map(str::to_owned)
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl From<ApiError> for AppError {
    /// On the server this also sets the response status (403, 404, 422…),
    /// so scripts calling a server function directly see a real HTTP error.
    fn from(e: ApiError) -> Self {
        #[cfg(feature = "ssr")]
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(code) = http::StatusCode::from_u16(e.http_status())
        {
            res.set_status(code);
        }
        AppError(e)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let e = match value {
            ServerFnErrorErr::Request(_) => ApiError::unavailable(
                "Could not reach Gatehouse. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => ApiError::new(
                ErrorKind::Invalid,
                "The form was incomplete. Reload the page and try again.",
            ),
            _ => ApiError::internal(),
        };
        AppError(e)
    }
}
