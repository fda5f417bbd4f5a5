//! Refuses state-changing browser requests that come from another site.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Loopback names are interchangeable: a server configured as
/// `http://127.0.0.1:8080` is often opened as `http://localhost:8080`.
fn same_origin(origin: &str, public: &url::Url) -> bool {
    let Ok(o) = url::Url::parse(origin) else {
        return false;
    };
    let loopback = |h: Option<&str>| matches!(h, Some("localhost" | "127.0.0.1" | "[::1]"));
    o.scheme() == public.scheme()
        && o.port_or_known_default() == public.port_or_known_default()
        && (o.host_str() == public.host_str()
            || (loopback(o.host_str()) && loopback(public.host_str())))
}

pub async fn reject_cross_site_writes(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes {
        let cross_site_fetch = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site");
        let foreign_origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|o| !same_origin(o, &state.config.public_url));
        if cross_site_fetch || foreign_origin {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_aliases_match_but_other_hosts_do_not() {
        let public = url::Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(same_origin("http://localhost:8080", &public));
        assert!(same_origin("http://127.0.0.1:8080", &public));
        assert!(!same_origin("http://localhost:9090", &public));
        assert!(!same_origin("https://127.0.0.1:8080", &public));
        assert!(!same_origin("http://evil.example:8080", &public));
        assert!(!same_origin("null", &public));
        let public = url::Url::parse("https://gate.example.com").unwrap();
        assert!(same_origin("https://gate.example.com", &public));
        assert!(!same_origin("https://gate.example.com.evil.io", &public));
    }
}
