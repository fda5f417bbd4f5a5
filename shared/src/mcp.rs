//! MCP 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`; SEP-2243)
//! against the JSON-RPC body they describe: pure, so the server checks it
//! before anything else happens and the fuzzer can hammer it.

use serde_json::Value;

/// JSON-RPC `HeaderMismatch` (MCP 2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;

/// Where `Mcp-Name` comes from, per method (as the specification lists).
fn name_of<'v>(method: &str, params: Option<&'v Value>) -> Option<&'v str> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params?.get(key)?.as_str()
}

/// A header value, base64-decoded when wrapped as `=?base64?…?=`; `None`
/// when the wrapper holds no valid base64 of UTF-8 text.
pub fn decode_header_value(raw: &str) -> Option<String> {
    use base64::Engine;
    match raw
        .strip_prefix("=?base64?")
        .and_then(|s| s.strip_suffix("?="))
    {
        Some(inner) => base64::engine::general_purpose::STANDARD
            .decode(inner)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
        None => Some(raw.to_owned()),
    }
}

/// Checks the routing headers a request carried (every value of each, as
/// received; `None` = a value that is not text) against its body. Several
/// values of one header count as a mismatch (a proxy may read any one of
/// them), and so do routing headers on a message without a method.
///
/// ```
/// use shared::mcp::check_routing_headers;
/// let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy"}});
/// assert!(check_routing_headers(&[Some("tools/call")], &[Some("deploy")], &body).is_ok());
/// assert!(check_routing_headers(&[Some("tools/list")], &[], &body).is_err());
/// assert!(check_routing_headers(&[], &[], &body).is_ok());
/// ```
pub fn check_routing_headers(
    method: &[Option<&str>],
    name: &[Option<&str>],
    body: &Value,
) -> Result<(), String> {
    fn single(values: &[Option<&str>], header: &str) -> Result<Option<String>, String> {
        match values {
            [] => Ok(None),
            [Some(v)] => decode_header_value(v)
                .map(Some)
                .ok_or_else(|| format!("the {header} header is not valid text")),
            [None] => Err(format!("the {header} header is not valid text")),
            _ => Err(format!("several {header} headers")),
        }
    }
    let method = single(method, "Mcp-Method")?;
    let name = single(name, "Mcp-Name")?;
    if method.is_none() && name.is_none() {
        return Ok(());
    }
    let Some(body_method) = body.get("method").and_then(Value::as_str) else {
        return Err("routing headers on a message without a method".into());
    };
    if let Some(m) = &method
        && m != body_method
    {
        return Err(format!(
            "Mcp-Method header `{m}` does not match body method `{body_method}`"
        ));
    }
    if let Some(n) = &name {
        match name_of(body_method, body.get("params")) {
            Some(expected) if expected == n => {}
            Some(expected) => {
                return Err(format!(
                    "Mcp-Name header `{n}` does not match body value `{expected}`"
                ));
            }
            None => return Err(format!("Mcp-Name header on a `{body_method}` request")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(tool: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool}})
    }

    #[test]
    fn headers_that_agree_with_the_body_pass() {
        assert!(check_routing_headers(&[], &[], &call("deploy")).is_ok());
        assert!(
            check_routing_headers(&[Some("tools/call")], &[Some("deploy")], &call("deploy"))
                .is_ok()
        );
        assert!(
            check_routing_headers(
                &[Some("tools/call")],
                &[Some("=?base64?ZGVwbG95?=")],
                &call("deploy")
            )
            .is_ok()
        );
        let read = json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "file:///a"}});
        assert!(check_routing_headers(&[], &[Some("file:///a")], &read).is_ok());
    }

    #[test]
    fn headers_that_disagree_with_the_body_are_refused() {
        assert!(check_routing_headers(&[Some("tools/list")], &[], &call("deploy")).is_err());
        assert!(
            check_routing_headers(&[Some("tools/call")], &[Some("read_only")], &call("deploy"))
                .is_err()
        );
        assert!(
            check_routing_headers(
                &[Some("tools/call"), Some("tools/list")],
                &[],
                &call("deploy")
            )
            .is_err()
        );
        assert!(check_routing_headers(&[None], &[], &call("deploy")).is_err());
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        assert!(check_routing_headers(&[], &[Some("deploy")], &list).is_err());
        assert!(
            check_routing_headers(&[Some("tools/call")], &[], &json!([call("deploy")])).is_err()
        );
        assert!(check_routing_headers(&[], &[Some("=?base64?!!?=")], &call("deploy")).is_err());
    }
}
