//! `POST /oauth/token`: exchanges an agent key for a short-lived agent
//! token (OAuth 2.0 client-credentials, RFC 6749 §4.4; errors per §5.2).
//! The exchange itself is [`crate::service::token_exchange`]; this handler
//! only parses the form and speaks OAuth's error dialect.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, FromRequest, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;
use uuid::Uuid;

use crate::credentials;
use crate::service::token_exchange::{self, ExchangeError, TokenRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_secret: Option<String>,
    resource: Option<String>,
    session_id: Option<Uuid>,
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut res = no_store(
        (
            status,
            axum::Json(serde_json::json!({"error": error, "error_description": description})),
        )
            .into_response(),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    res
}

pub async fn token(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let basic = credentials::basic_secret(req.headers());
    let Ok(Form(form)) = Form::<TokenForm>::from_request(req, &s).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send an application/x-www-form-urlencoded body with grant_type=client_credentials.",
        );
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported.",
        );
    }
    // Per agent key, before any database work: a key hammering the
    // endpoint spends its own allowance only.
    if let Some(secret) = basic.as_deref().or(form.client_secret.as_deref()) {
        use sha2::{Digest, Sha256};
        if let Err(l) = s.limits.token(Sha256::digest(secret.as_bytes()).into()) {
            let mut res = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                &format!(
                    "Too many token requests for this key; retry in {} s.",
                    l.retry_after_secs()
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&l.retry_after_secs().to_string()) {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            return res;
        }
    }
    let request = TokenRequest {
        secret: basic.as_deref().or(form.client_secret.as_deref()),
        resource: form.resource.as_deref(),
        session_id: form.session_id,
        client,
    };
    let ttl = Duration::minutes(s.config.token_ttl_minutes);
    match token_exchange::exchange(&s.db, &s.gateway.tokens, ttl, s.clock.now(), request).await {
        Ok(t) => no_store(
            axum::Json(serde_json::json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in_secs,
            }))
            .into_response(),
        ),
        Err(e) => {
            let (status, code) = match e {
                ExchangeError::InvalidTarget { .. } => (StatusCode::BAD_REQUEST, "invalid_target"),
                ExchangeError::MissingClient | ExchangeError::InvalidClient => {
                    (StatusCode::UNAUTHORIZED, "invalid_client")
                }
                ExchangeError::SlowDown(_) => (StatusCode::TOO_MANY_REQUESTS, "slow_down"),
                ExchangeError::Unavailable => {
                    (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
                }
            };
            oauth_error(status, code, &e.to_string())
        }
    }
}
