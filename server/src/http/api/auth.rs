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
        let tenant = if let Some(token) = credentials::bearer(&parts.headers) {
            api_tokens::authenticate(&state.db, state.clock.now(), token)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        shared::error::ErrorKind::Unauthenticated,
                        "The API token is unknown, expired or revoked.",
                    )
                })?
        } else {
            // No token: the dashboard session (cookie), if any.
            WebBackend(state.clone()).tenant(parts).await?
        };
        // Per org: one tenant's scripts cannot take everyone's capacity.
        if let Err(l) = state.limits.api(tenant.org_id) {
            let mut e = ApiError::new(
                shared::error::ErrorKind::RateLimited,
                "Too many API requests for this organization; retry shortly.",
            );
            e.retry_after_secs = Some(l.retry_after_secs());
            return Err(HttpError(e));
        }
        Ok(Tenant(tenant))
    }
}

/// The operator (the `GATEHOUSE_OPERATOR_TOKEN` bearer): plans and quotas
/// of every organization. Without that setting the operator endpoints do
/// not exist (404); a wrong token is 401.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = HttpError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.config.operator_token else {
            return Err(HttpError(shared::error::ApiError::new(
                shared::error::ErrorKind::NotFound,
                "No such API endpoint. See /api/v1/openapi.json.",
            )));
        };
        if crate::credentials::bearer_is(&parts.headers, expected) {
            Ok(Operator)
        } else {
            Err(HttpError(shared::error::ApiError::new(
                shared::error::ErrorKind::Unauthenticated,
                "The operator token is required.",
            )))
        }
    }
}
