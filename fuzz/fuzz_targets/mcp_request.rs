//! Fuzz MCP request parsing as `/mcp` does it: the input is split into an
//! `Mcp-Method` header, an `Mcp-Name` header and a body. The body is parsed
//! as a JSON-RPC client message with rmcp's types (what dispatch works
//! on) and as JSON for the routing-header check that runs before anything
//! else. Nothing may panic, and the check must agree with itself: the
//! body's own method and name never mismatch, a different method always
//! does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::mcp::check_routing_headers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let method = parts.next().unwrap_or_default();
    let name = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    // Dispatch's view: a typed client message, which must serialise again.
    if let Ok(msg) = serde_json::from_str::<rmcp::model::ClientJsonRpcMessage>(body) {
        let again = serde_json::to_string(&msg).expect("a parsed message serialises");
        assert!(serde_json::from_str::<Value>(&again).is_ok());
    }

    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let as_header = |s| if s == "" { vec![] } else { vec![Some(s)] };
    let _ = check_routing_headers(&as_header(method), &as_header(name), &value);

    if let Some(own) = value.get("method").and_then(Value::as_str) {
        assert!(check_routing_headers(&[Some(own)], &[], &value).is_ok());
        let other = format!("{own}x");
        assert!(check_routing_headers(&[Some(other.as_str())], &[], &value).is_err());
    }
});
