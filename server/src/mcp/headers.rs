//! MCP 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`; SEP-2243)
//! checked against the body before anything else happens.
//!
//! Load balancers, WAFs and audit proxies in front of Gatehouse route and
//! log on these headers without parsing the body. A request whose headers
//! say `tools/list` while its body calls a tool would be judged by them as
//! one thing and executed by us as another, so a *supplied* header that
//! disagrees with the body is refused with `HeaderMismatch` (-32020) before
//! authentication, rate limits or the handler see the request. rmcp checks
//! the same headers later, only for requests that declare the new protocol
//! version, and also insists they are present; this check covers every
//! request and every version.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::state::AppState;

const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";

pub use shared::mcp::HEADER_MISMATCH;

/// Every value of a header as received (`None`: not text).
fn values<'h>(headers: &'h HeaderMap, name: &str) -> Vec<Option<&'h str>> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().ok())
        .collect()
}

/// Compares the supplied headers with one JSON-RPC message (the rule
/// itself lives in `shared::mcp`, where it is fuzzed).
pub fn check(headers: &HeaderMap, body: &Value) -> Result<(), String> {
    shared::mcp::check_routing_headers(
        &values(headers, MCP_METHOD),
        &values(headers, MCP_NAME),
        body,
    )
}

fn mismatch(id: Value, reason: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": HEADER_MISMATCH, "message": reason },
        })),
    )
        .into_response()
}

/// The middleware: only requests that carry a routing header are buffered
/// (within the MCP body limit) and parsed here.
pub async fn reject_mismatched(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let h = req.headers();
    if !h.contains_key(MCP_METHOD) && !h.contains_key(MCP_NAME) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, s.config.mcp_max_body_bytes).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )
            .into_response();
    };
    // A body that is not JSON is rmcp's to refuse (parse error), unless
    // routing headers claim it is something.
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Err(reason) = check(&parts.headers, &value) {
        tracing::info!(%reason, "MCP routing headers disagree with the body");
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        let mut res = mismatch(id, reason);
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        return res;
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn call(tool: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}})
    }

    #[test]
    fn headers_that_agree_with_the_body_pass() {
        assert!(check(&headers(&[]), &call("deploy")).is_ok());
        let ok = headers(&[("Mcp-Method", "tools/call"), ("Mcp-Name", "deploy")]);
        assert!(check(&ok, &call("deploy")).is_ok());
        let b64 = headers(&[
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "=?base64?ZGVwbG95?="),
        ]);
        assert!(check(&b64, &call("deploy")).is_ok());
        let read = json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "file:///a"}});
        assert!(check(&headers(&[("Mcp-Name", "file:///a")]), &read).is_ok());
    }

    #[test]
    fn headers_that_disagree_with_the_body_are_refused() {
        let list = headers(&[("Mcp-Method", "tools/list")]);
        assert!(check(&list, &call("deploy")).is_err());
        let other = headers(&[("Mcp-Method", "tools/call"), ("Mcp-Name", "read_only")]);
        assert!(check(&other, &call("deploy")).is_err());
        let twice = headers(&[("Mcp-Method", "tools/call"), ("Mcp-Method", "tools/list")]);
        assert!(check(&twice, &call("deploy")).is_err());
        let name_on_list = headers(&[("Mcp-Name", "deploy")]);
        let list_body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert!(check(&name_on_list, &list_body).is_err());
        let batch = json!([call("deploy")]);
        assert!(check(&headers(&[("Mcp-Method", "tools/call")]), &batch).is_err());
    }
}
