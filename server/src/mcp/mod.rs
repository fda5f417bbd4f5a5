//! The hosted MCP endpoint (`/mcp`), its OAuth-style token endpoint and the
//! discovery documents agents use to find them.

mod error;
mod handler;
pub mod headers;
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

use crate::config::Config;
use crate::credentials;
use crate::service::data_path::AuthFailure;
use crate::state::AppState;
use handler::GatewayHandler;

fn metadata_url(config: &Config) -> String {
    format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        config.public_base()
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
/// cookies, so this guards against DNS rebinding rather than CSRF. Every
/// entry names its port (`:*` = any, including none), as rmcp asks.
fn allowed_origins(public: &url::Url) -> Vec<String> {
    let host = public.host_str().unwrap_or("localhost");
    let port = public.port_or_known_default().unwrap_or(80);
    let mut out = vec![format!("{}://{host}:{port}", public.scheme())];
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        for scheme in ["http", "https"] {
            for h in ["localhost", "127.0.0.1", "[::1]"] {
                out.push(format!("{scheme}://{h}:*"));
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
    // A call answered with one message gets plain JSON, not an SSE stream
    // around one event (less framing on every answer); a call that sends
    // progress first (an approval hold) still streams, so nothing is lost.
    cfg.json_response = true;
    let handler = GatewayHandler { gateway };
    let mcp: StreamableHttpService<GatewayHandler, LocalSessionManager> =
        StreamableHttpService::new(
            move || Ok(handler.clone()),
            Arc::new(LocalSessionManager::default()),
            cfg,
        );
    // Layers run last-added first: routing headers are checked before
    // the agent is authenticated.
    let mcp_routes = Router::new()
        .nest_service("/mcp", mcp)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_agent,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::reject_mismatched,
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
    axum::Json(serde_json::json!({
        "resource": s.config.mcp_resource_url(),
        "authorization_servers": [s.config.public_base()],
        "bearer_methods_supported": ["header"],
        "resource_name": "Gatehouse MCP endpoint",
    }))
}

/// RFC 8414 authorization server metadata (client-credentials only).
async fn authorization_server(State(s): State<AppState>) -> impl IntoResponse {
    let base = s.config.public_base();
    axum::Json(serde_json::json!({
        "issuer": base,
        "token_endpoint": format!("{base}/oauth/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": [],
    }))
}

/// 401 with the pointer to our metadata (RFC 9728 §5.1).
fn unauthorized(config: &Config, error: Option<&str>) -> Response {
    let mut challenge = format!("Bearer resource_metadata=\"{}\"", metadata_url(config));
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

/// JSON-RPC `RateLimited` (-32029) in an HTTP 429 with `Retry-After`.
pub(crate) fn rate_limited(l: crate::limits::Limited) -> Response {
    let secs = l.retry_after_secs();
    let mut res = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {
                "code": -32029,
                "message": format!("Too many requests for this agent or organization; retry in {secs} s."),
                "data": { "retryAfterSeconds": secs },
            },
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Authenticates every request to `/mcp`; the verified agent rides in the
/// request extensions to the handler.
async fn require_agent(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = credentials::bearer(req.headers()).map(str::to_owned) else {
        return unauthorized(&s.config, None);
    };
    match s.gateway.authorize(&token).await {
        Ok(agent) => {
            let c = agent.claims();
            if let Err(limited) = s.limits.mcp(c.org, c.key) {
                return rate_limited(limited);
            }
            req.extensions_mut().insert(agent);
            next.run(req).await
        }
        Err(AuthFailure::Unavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Gatehouse cannot verify tokens right now; try again shortly.",
        )
            .into_response(),
        Err(e) => unauthorized(&s.config, Some(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_origin_names_its_port() {
        let public = url::Url::parse("https://gate.example.com").unwrap();
        assert_eq!(
            allowed_origins(&public),
            vec!["https://gate.example.com:443"]
        );
        let local = url::Url::parse("http://127.0.0.1:8080").unwrap();
        let origins = allowed_origins(&local);
        assert_eq!(origins[0], "http://127.0.0.1:8080");
        assert!(origins.contains(&"http://localhost:*".to_owned()));
        // rmcp warns on start-up for every entry without a port.
        for o in origins {
            assert!(
                o.rsplit(':')
                    .next()
                    .is_some_and(|p| p == "*" || p.parse::<u16>().is_ok()),
                "{o}"
            );
        }
    }
}
