//! Upstream MCP connectors and the tools discovered on them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors, is_text};

/// Separates a connector's name from its tool's name in exposed tool names.
pub const TOOL_SEPARATOR: &str = "__";

/// The name an agent sees for a connector's tool.
///
/// ```
/// assert_eq!(shared::api::exposed_name("github", "create_issue"), "github__create_issue");
/// ```
pub fn exposed_name(connector: &str, tool: &str) -> String {
    format!("{connector}{TOOL_SEPARATOR}{tool}")
}

/// A connector name: lower-case letters, digits, `-` and `_`, starting with
/// a letter, at most 40 characters (it prefixes every tool name).
///
/// ```
/// use shared::api::ConnectorName;
/// assert!(ConnectorName::parse("crm-prod").is_ok());
/// assert!(ConnectorName::parse("CRM").is_err());
/// assert!(ConnectorName::parse("a__b").is_err());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorName(String);

impl ConnectorName {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && !s.contains(TOOL_SEPARATOR);
        if ok {
            Ok(ConnectorName(s.to_owned()))
        } else {
            Err(
                "Use 1–40 lower-case letters, digits, '-' or '_', starting with a letter \
                 (no double underscore): it prefixes every tool name."
                    .to_owned(),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An upstream MCP connector as listed. The auth header value is never sent.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    /// The auth header's name, when one is set (its value is write-only).
    pub auth_header_name: Option<String>,
    pub auth_set: bool,
    pub tool_count: i64,
    pub discovered_at: Option<DateTime<Utc>>,
    pub discovery_error: Option<String>,
    /// Tool Packs that expose at least one of its tools.
    pub used_by_packs: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The connector form / API body.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectorInput {
    pub name: String,
    pub url: String,
    /// e.g. `Authorization`; empty for none.
    #[serde(default)]
    pub auth_header_name: String,
    /// e.g. `Bearer …`; write-only. On update, empty keeps the stored value.
    #[serde(default)]
    pub auth_header_value: String,
    /// On update: remove the stored auth header.
    #[serde(default)]
    pub clear_auth: bool,
}

/// A valid connector definition.
#[derive(Clone)]
pub struct NewConnector {
    pub name: ConnectorName,
    pub url: String,
    pub auth_header_name: Option<String>,
    pub auth_header_value: Option<String>,
    pub clear_auth: bool,
}

impl std::fmt::Debug for NewConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewConnector")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("auth_header_name", &self.auth_header_name)
            .field(
                "auth_header_value",
                &self.auth_header_value.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl ConnectorInput {
    /// Parses every field.
    ///
    /// ```
    /// use shared::api::ConnectorInput;
    /// let ok = ConnectorInput { name: "crm".into(), url: "https://crm.example.com/mcp".into(),
    ///     auth_header_name: "Authorization".into(), auth_header_value: "Bearer x".into(), clear_auth: false };
    /// assert!(ok.parse().is_ok());
    /// let bad = ConnectorInput { url: "ftp://x".into(), ..ok.clone() };
    /// assert!(bad.parse().unwrap_err().field("url").is_some());
    /// ```
    pub fn parse(&self) -> Result<NewConnector, ApiError> {
        let mut errs = FieldErrors::new();
        let name = errs.check("name", ConnectorName::parse(&self.name));
        let url = self.url.trim();
        let url_ok = (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() <= 2000
            && !url.contains(char::is_whitespace)
            && is_text(url, false)
            && url
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !url_ok {
            errs.add(
                "url",
                "Enter the server's Streamable HTTP URL, like https://tools.example.com/mcp.",
            );
        }
        let header = self.auth_header_name.trim();
        let value = self.auth_header_value.trim();
        let auth_header_name = if header.is_empty() {
            if !value.is_empty() {
                errs.add(
                    "auth_header_name",
                    "Name the header this value goes in (e.g. Authorization).",
                );
            }
            None
        } else if header.len() > 100 || !header.chars().all(is_token_char) {
            errs.add(
                "auth_header_name",
                "Use a valid HTTP header name, like Authorization or X-Api-Key.",
            );
            None
        } else if [
            "host",
            "content-length",
            "content-type",
            "accept",
            "mcp-session-id",
            "mcp-protocol-version",
            "connection",
            "transfer-encoding",
            "last-event-id",
        ]
        .contains(&header.to_ascii_lowercase().as_str())
        {
            errs.add(
                "auth_header_name",
                "This header is managed by Gatehouse; choose another.",
            );
            None
        } else {
            Some(header.to_owned())
        };
        if value.len() > 8192 || value.chars().any(|c| c.is_control()) {
            errs.add(
                "auth_header_value",
                "Use at most 8 KiB of printable characters.",
            );
        }
        match name {
            Some(name) if errs.is_empty() => Ok(NewConnector {
                name,
                url: url.to_owned(),
                auth_header_name,
                auth_header_value: (!value.is_empty()).then(|| value.to_owned()),
                clear_auth: self.clear_auth,
            }),
            _ => Err(errs.into_error()),
        }
    }
}

/// A tool discovered on a connector.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorTool {
    pub connector_id: Uuid,
    pub connector_name: String,
    pub name: String,
    /// `<connector>__<tool>`, what agents call.
    pub exposed_name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
}

/// The result of testing or refreshing a connector.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryReport {
    pub ok: bool,
    /// What happened, for humans ("Found 4 tools in 120 ms", or the error).
    pub message: String,
    pub tools: Vec<ConnectorTool>,
    pub server_name: Option<String>,
    pub protocol_version: Option<String>,
}

/// A new connector and what its first discovery found.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorCreated {
    pub connector: Connector,
    pub discovery: DiscoveryReport,
}
