//! GitHub's two ways in: the browser coming back from the App's
//! installation page (`/github/setup`, a dashboard route: the admin's
//! session must be the one that started it) and GitHub's webhook
//! deliveries (`/github/webhook`, signed with the App's webhook secret).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::error::ErrorKind;
use web::port::Backend;

use crate::service::github::{self, HookError};
use crate::state::AppState;
use crate::web_backend::WebBackend;

#[derive(Deserialize)]
pub struct SetupQuery {
    installation_id: Option<String>,
    state: Option<String>,
}

/// Where GitHub sends the admin after installing the App (the App's
/// "Setup URL"). Always answers with a redirect to the Connectors page,
/// carrying an outcome code (never text from the request).
pub async fn setup(
    State(s): State<AppState>,
    parts: Parts,
    Query(q): Query<SetupQuery>,
) -> Response {
    let to = |outcome: &str| Redirect::to(&format!("/connectors?github={outcome}")).into_response();
    let backend = WebBackend(s.clone());
    let Ok(t) = backend.tenant(&parts).await else {
        return to("signed_out");
    };
    let (Some(state), Some(id)) = (
        q.state,
        q.installation_id.and_then(|i| i.trim().parse::<i64>().ok()),
    ) else {
        return to("invalid_state");
    };
    let Ok(marker) = crate::web_backend::session_marker(&parts).await else {
        return to("invalid_state");
    };
    let now = s.clock.now();
    match github::complete_connect(
        &s.db,
        &s.keyring,
        &s.gateway.github,
        &t,
        now,
        &marker,
        &state,
        id,
    )
    .await
    {
        Ok(_) => to("connected"),
        Err(e) => {
            let e = e.into_api();
            let code = match e.kind {
                ErrorKind::Invalid if e.field("installation").is_some() => "not_this_app",
                ErrorKind::Invalid if e.field("account").is_some() => "wrong_account",
                ErrorKind::Invalid => "invalid_state",
                ErrorKind::Conflict if e.message.contains("another organization") => "taken",
                ErrorKind::Conflict => "no_app",
                ErrorKind::Forbidden => "forbidden",
                ErrorKind::Unavailable => "unavailable",
                _ => "error",
            };
            tracing::info!(org_id = %t.org_id, code, "GitHub installation not connected");
            to(code)
        }
    }
}

/// GitHub's App webhook: installation deleted / suspended / unsuspended,
/// repositories added or removed. 204 when applied or ignored; 401 for a
/// bad signature; 404 when no webhook secret is configured.
pub async fn webhook(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let event = header("x-github-event");
    let signature = header("x-hub-signature-256");
    let delivery = header("x-github-delivery");
    match github::apply_webhook(
        &s.db,
        &s.keyring,
        &s.gateway.github,
        s.clock.now(),
        &event,
        &delivery,
        &signature,
        &body,
    )
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(HookError::Off) => StatusCode::NOT_FOUND.into_response(),
        Err(HookError::BadSignature) => {
            tracing::warn!(event, "GitHub webhook with a bad signature refused");
            (StatusCode::UNAUTHORIZED, "signature does not match").into_response()
        }
        Err(HookError::Malformed(m)) => (StatusCode::BAD_REQUEST, m).into_response(),
        Err(HookError::Service(e)) => {
            tracing::error!(error = %e, "applying a GitHub webhook");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
