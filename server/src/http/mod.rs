//! The HTTP surface: one router, one middleware stack, one error mapping.

mod api;
mod error;
mod github;
mod health;
mod origin;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::ServiceBuilderExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tracing::Level;
use web::port::Backend;

pub use error::HttpError;

use crate::state::AppState;
use crate::web_backend::WebBackend;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the whole application. Three groups of routes share the outer
/// stack (request id, logging, panic safety, security headers):
/// * probes and metrics — no session, no state-changing requests;
/// * the MCP endpoint and token endpoint — bearer/agent-key auth, their own
///   body limits, no timeout (streams may stay open);
/// * the dashboard and admin API — cookie sessions, cross-site write
///   refusal, a 30 s timeout and a 2 MiB body limit.
///
/// In each `ServiceBuilder`, the first layer listed sees the request first.
pub fn router<S: SessionStore + Clone>(state: AppState, sessions: S) -> Router {
    let backend: Arc<dyn Backend> = Arc::new(WebBackend(state.clone()));

    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("gatehouse_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));

    let dashboard = Router::new()
        // The admin API (token or session auth).
        .nest("/api/v1", api::routes())
        // The browser back from GitHub's App installation page.
        .route("/github/setup", get(github::setup))
        .with_state(state.clone())
        // Dashboard pages, their server functions (`/api/ui/*`), static
        // assets (wasm, js, css) and the not-found page.
        .merge(web::serve::router(state.leptos.clone(), backend))
        .layer(
            ServiceBuilder::new()
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                // Cross-site writes are refused before any handler runs (the
                // SameSite=Lax cookie is the first line; this is the second).
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    origin::reject_cross_site_writes,
                ))
                .layer(session_layer)
                // A page that redirects (signed out, first run) answers 303.
                .layer(axum::middleware::from_fn(see_other))
                // Bodies over the limit get 413 before a handler buffers
                // them. The map layers convert to and from axum's body type.
                .map_response_body(axum::body::Body::new)
                .layer(RequestBodyLimitLayer::new(2 * 1024 * 1024))
                .map_request_body(axum::body::Body::new),
        );

    // GitHub's webhook deliveries: no session, authenticated by their
    // signature, small bodies (installation events are a few KiB).
    let github_hooks = Router::new()
        .route("/github/webhook", axum::routing::post(github::webhook))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024));

    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));

    let outer = ServiceBuilder::new()
        // Every request gets an id (or keeps the caller's), logged on its
        // span and echoed in the response for support requests.
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Credentials never reach the logs, even at trace level.
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings may carry tokens.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // A panic becomes a 500 for that request instead of a dead connection.
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Pages set their own CSP (with the nonce of their hydration
        // scripts); everything else gets the same policy without one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&web::serve::content_security_policy(None)).ok(),
        ))
        // Browsers that saw the https URL once never try plain http again.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            state
                .config
                .secure_cookies()
                .then_some(HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ))
        // Pages are per-user and assets change with every build: revalidate.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ));

    Router::new()
        .merge(probes)
        .merge(crate::mcp::routes(&state))
        .merge(github_hooks)
        .with_state(state)
        .merge(dashboard)
        .layer(outer)
}

/// Pages redirect from inside the app (signed out → sign-in, first run →
/// setup). Leptos sets only the `Location` header for a page request, and
/// the status stays 200 or becomes 302 depending on the `Accept` header;
/// every client, curl and crawlers included, should see `303 See Other`
/// with no body. Server functions and the API keep their own statuses.
async fn see_other(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let page = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) && !req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let status = res.status();
    if page
        && res.headers().contains_key(header::LOCATION)
        && (status.is_success() || status.is_redirection())
    {
        *res.status_mut() = axum::http::StatusCode::SEE_OTHER;
        *res.body_mut() = axum::body::Body::empty();
        res.headers_mut().remove(header::CONTENT_LENGTH);
    }
    res
}
