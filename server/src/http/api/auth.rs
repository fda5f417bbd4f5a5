//! Who is calling the admin API.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shared::account::TenantCtx;
use shared::error::ApiError;
use web::port::Backend;

use crate::credentials;
use crate::http::HttpError;
use crate::service::api_tokens;
use crate::state::AppState;
use crate::web_backend::WebBackend;

/// The verified tenant of an API request.
pub struct Tenant(pub TenantCtx);

impl FromRequestParts<AppState> for Tenant {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = credentials::bearer(&parts.headers) {
            return match api_tokens::authenticate(&state.db, state.clock.now(), token).await? {
                Some(t) => Ok(Tenant(t)),
                None => Err(HttpError(ApiError::new(
                    shared::error::ErrorKind::Unauthenticated,
                    "The API token is unknown or has been revoked.",
                ))),
            };
        }
        // No token: the dashboard session (cookie), if any.
        let backend = WebBackend(state.clone());
        Ok(Tenant(backend.tenant(parts).await?))
    }
}
