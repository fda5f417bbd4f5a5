//! `POST /oauth/token`: exchanges an agent key for a short-lived agent
//! token (OAuth 2.0 client-credentials, RFC 6749 §4.4; errors per §5.2).

use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use serde::Deserialize;
use uuid::Uuid;

use crate::agent_tokens::AgentClaims;
use crate::service::agent_keys;
use crate::service::throttle::{self, Scope};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_secret: Option<String>,
    /// RFC 8707: when given, must name our MCP endpoint.
    resource: Option<String>,
    /// Lets a long-running client (e.g. `gatehouse connect`) keep one
    /// runtime session across token refreshes.
    session_id: Option<Uuid>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut res = (
        status,
        axum::Json(serde_json::json!({"error": error, "error_description": description})),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    res
}

/// The secret from HTTP Basic (`client_id:client_secret`) or the form.
fn presented_secret(headers: &HeaderMap, form: &TokenForm) -> Option<String> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(_, secret)| secret.to_owned()));
    basic
        .or_else(|| form.client_secret.clone())
        .filter(|s| !s.trim().is_empty())
}

pub async fn token(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let connect = req.extensions().get::<ConnectInfo<SocketAddr>>().copied();
    let headers = req.headers().clone();
    let form: Result<Form<TokenForm>, FormRejection> =
        <Form<TokenForm> as axum::extract::FromRequest<AppState>>::from_request(req, &s).await;
    let Ok(Form(form)) = form else {
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
    let resource = crate::mcp::resource_url(&s.config.public_url);
    if let Some(r) = &form.resource
        && r.trim_end_matches('/') != resource
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            &format!("This server issues tokens for {resource} only."),
        );
    }
    let Some(secret) = presented_secret(&headers, &form) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Send the agent key as client_secret (or with HTTP Basic).",
        );
    };
    let now = s.clock.now();
    let address = connect.map(|c| format!("token:{}", c.0.ip()));
    if let Some(a) = &address
        && let Err(e) = throttle::check(&s.db, now, Scope::Address, a).await
    {
        let e = e.into_api();
        return oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", &e.message);
    }
    let grant = match agent_keys::authenticate(&s.db, now, &secret).await {
        Ok(Some(g)) => g,
        Ok(None) => {
            if let Some(a) = &address {
                let _ = throttle::record_failure(&s.db, now, Scope::Address, a).await;
            }
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The agent key is unknown or has been revoked.",
            );
        }
        Err(e) => {
            let _ = e.into_api();
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Gatehouse cannot issue tokens right now; try again shortly.",
            );
        }
    };
    let ttl = s.config.token_ttl_minutes;
    let claims = AgentClaims {
        iss: String::new(),
        aud: String::new(),
        sub: grant.registered_user_id,
        org: grant.org_id,
        pack: grant.pack_id,
        key: grant.key_id,
        sid: form.session_id.unwrap_or_else(Uuid::new_v4),
        jti: Uuid::new_v4(),
        iat: now.timestamp(),
        exp: (now + Duration::minutes(ttl)).timestamp(),
    };
    match s.gateway.tokens.sign(claims).await {
        Ok(token) => {
            let mut res = axum::Json(serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl * 60,
            }))
            .into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "signing an agent token");
            oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Gatehouse cannot issue tokens right now; try again shortly.",
            )
        }
    }
}
