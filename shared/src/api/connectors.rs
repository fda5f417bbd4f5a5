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

/// What a connector reaches.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// An upstream MCP server.
    Mcp,
    /// A GitHub App installation (Gatehouse's governed GitHub tools).
    #[serde(rename = "github")]
    GitHub,
    /// A Postgres database (Gatehouse's governed database tools).
    Postgres,
}

/// A connector as listed. The auth header value is never sent.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub id: Uuid,
    pub name: String,
    pub kind: ConnectorKind,
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

/// Query parameter names that carry credentials by convention (compared
/// lower-case with `-` and `_` removed).
const SECRET_PARAMS: [&str; 22] = [
    "token",
    "accesstoken",
    "authtoken",
    "idtoken",
    "refreshtoken",
    "apikey",
    "key",
    "secret",
    "clientsecret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "auth",
    "authorization",
    "bearer",
    "jwt",
    "sig",
    "signature",
    "credential",
    "credentials",
    "session",
];

/// URLs are logged, shown in the dashboard and sent to proxies: a secret in
/// one (user-info, a token in the query) belongs in the auth header field,
/// which is encrypted at rest and never shown.
pub(crate) fn secret_in_url(url: &str) -> Option<&'static str> {
    let parsed = url::Url::parse(url).ok()?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some(
            "Remove the user name and password from the URL and put the credential in the auth \
             header field (it is encrypted and never shown again).",
        );
    }
    let secret_param = parsed.query_pairs().any(|(name, _)| {
        let n: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        SECRET_PARAMS.contains(&n.as_str())
            || n.ends_with("token")
            || n.ends_with("secret")
            || n.ends_with("apikey")
            || n.ends_with("password")
    });
    secret_param.then_some(
        "This URL carries a credential in its query string. Put it in the auth header field \
         instead (it is encrypted and never shown again).",
    )
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
    /// // Credentials go in the auth header field, never in the URL.
    /// let leaky = ConnectorInput { url: "https://crm.example.com/mcp?api_key=s3cret".into(), ..ok.clone() };
    /// assert!(leaky.parse().unwrap_err().field("url").unwrap().contains("auth header"));
    /// let userinfo = ConnectorInput { url: "https://bob:pw@crm.example.com/mcp".into(), ..ok.clone() };
    /// assert!(userinfo.parse().is_err());
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
        } else if let Some(problem) = secret_in_url(url) {
            errs.add("url", problem);
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
    /// Instructions aimed at the model found in its definition (a tool
    /// with findings is quarantined when added to a pack).
    #[serde(default)]
    pub findings: Vec<crate::api::DefinitionFinding>,
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
    /// What this discovery found changed in exposed tools (and tools that
    /// appeared).
    #[serde(default)]
    pub changes: Vec<crate::api::ToolChange>,
}

impl DiscoveryReport {
    /// A discovery that could not list tools.
    ///
    /// ```
    /// let r = shared::api::DiscoveryReport::failed("refused".into());
    /// assert!(!r.ok && r.tools.is_empty() && r.changes.is_empty());
    /// ```
    pub fn failed(message: String) -> Self {
        DiscoveryReport {
            ok: false,
            message,
            tools: Vec::new(),
            server_name: None,
            protocol_version: None,
            changes: Vec::new(),
        }
    }
}

/// A new connector and what its first discovery found.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorCreated {
    pub connector: Connector,
    pub discovery: DiscoveryReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_connector_url_are_refused() {
        for url in [
            "https://user:pw@tools.example.com/mcp",
            "https://user@tools.example.com/mcp",
            "https://tools.example.com/mcp?token=abc",
            "https://tools.example.com/mcp?Access-Token=abc",
            "https://tools.example.com/mcp?x=1&api_key=abc",
            "https://tools.example.com/mcp?github_token=abc",
            "https://tools.example.com/mcp?client_secret=abc",
            "https://tools.example.com/mcp?sig=abc",
        ] {
            assert!(secret_in_url(url).is_some(), "{url} must be refused");
        }
        for url in [
            "https://tools.example.com/mcp",
            "https://tools.example.com/mcp?version=2&region=eu",
            "http://127.0.0.1:9000/mcp?tenant=acme",
        ] {
            assert_eq!(secret_in_url(url), None, "{url} must be accepted");
        }
    }
}
