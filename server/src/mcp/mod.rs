//! The hosted MCP endpoint (`/mcp`), its OAuth-style token endpoint and the
//! discovery documents agents use to find them.

pub mod gateway;
mod handler;
pub mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::state::AppState;
pub use gateway::{AgentCtx, Gateway};
use handler::GatewayHandler;

/// The resource URL of the MCP endpoint (token audience).
pub fn resource_url(public: &url::Url) -> String {
    format!("{}/mcp", public.as_str().trim_end_matches('/'))
}

fn metadata_url(public: &url::Url) -> String {
    format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        public.as_str().trim_end_matches('/')
    )
}

/// Hosts the endpoint answers to: the public URL's host, plus loopback
/// aliases when the public host is loopback (local development).
fn allowed_hosts(public: &url::Url) -> Vec<String> {
    let host = public.host_str().unwrap_or("localhost").to_owned();
    let mut hosts = vec![host.clone()];
    if matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1") {
        hosts.extend(["localhost", "127.0.0.1", "::1", "[::1]"].map(str::to_owned));
    }
    hosts
}

/// Browser origins allowed to call `/mcp`: the public origin, and any
/// loopback origin when Gatehouse itself runs on loopback (local tools and
/// inspectors run on their own ports). `/mcp` takes bearer tokens, never
/// cookies, so this guards against DNS rebinding rather than CSRF.
fn allowed_origins(public: &url::Url) -> Vec<String> {
    let origin = public.origin().ascii_serialization();
    let mut out = vec![origin];
    if let Some(host) = public.host_str()
        && matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    {
        for scheme in ["http", "https"] {
            for h in ["localhost", "127.0.0.1", "[::1]"] {
                out.push(format!("{scheme}://{h}:*"));
                out.push(format!("{scheme}://{h}"));
            }
        }
    }
    out
}

/// `/mcp` plus the token endpoint and well-known documents.
pub fn routes(state: &AppState) -> Router<AppState> {
    let gateway = state.gateway.clone();
    let public = state.config.public_url.clone();
    let mut cfg = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts(&public))
        .with_allowed_origins(allowed_origins(&public))
        .with_max_request_body_bytes(state.config.mcp_max_body_bytes);
    cfg.sse_keep_alive = Some(std::time::Duration::from_secs(15));
    let handler = GatewayHandler { gateway };
    let mcp: StreamableHttpService<GatewayHandler, LocalSessionManager> =
        StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(LocalSessionManager::default()),
            cfg,
        );
    let mcp_routes =
        Router::new()
            .nest_service("/mcp", mcp)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                require_agent,
            ));
    Router::new()
        .route("/oauth/token", post(token::token))
        .route(
            "/.well-known/oauth-protected-resource",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .merge(mcp_routes)
}

/// RFC 9728 protected resource metadata.
async fn protected_resource(State(s): State<AppState>) -> impl IntoResponse {
    let public = &s.config.public_url;
    axum::Json(serde_json::json!({
        "resource": resource_url(public),
        "authorization_servers": [public.as_str().trim_end_matches('/')],
        "bearer_methods_supported": ["header"],
        "resource_name": "Gatehouse MCP endpoint",
    }))
}

/// RFC 8414 authorization server metadata (client-credentials only).
async fn authorization_server(State(s): State<AppState>) -> impl IntoResponse {
    let base = s
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    axum::Json(serde_json::json!({
        "issuer": base,
        "token_endpoint": format!("{base}/oauth/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": [],
    }))
}

/// 401 with the pointer to our metadata (RFC 9728 §5.1).
fn unauthorized(public: &url::Url, error: Option<&str>) -> Response {
    let mut challenge = format!("Bearer resource_metadata=\"{}\"", metadata_url(public));
    if let Some(e) = error {
        challenge.push_str(&format!(
            ", error=\"invalid_token\", error_description=\"{e}\""
        ));
    }
    let mut res = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({
            "error": "invalid_token",
            "error_description": error.unwrap_or("A bearer token is required. Exchange your agent key at /oauth/token."),
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Authenticates every request to `/mcp`; the verified agent rides in the
/// request extensions to the handler.
async fn require_agent(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_owned);
    let Some(token) = token else {
        return unauthorized(&s.config.public_url, None);
    };
    match s.gateway.authorize(&token).await {
        Ok(agent) => {
            req.extensions_mut().insert(agent);
            next.run(req).await
        }
        Err(gateway::AuthFailure::Unavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Gatehouse cannot verify tokens right now; try again shortly.",
        )
            .into_response(),
        Err(e) => unauthorized(&s.config.public_url, Some(&e.to_string())),
    }
}
