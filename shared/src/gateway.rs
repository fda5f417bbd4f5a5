//! Wire types of the gateway: connectors, Tool Packs, Registered Users, agent
//! keys, API tokens, rules views, decision records. Shared by the admin API,
//! the dashboard's server functions and the CLI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::detect::{Entity, EntityGroup, Finding, Region};
use crate::error::{ApiError, FieldErrors};
use crate::policy::{
    Action, CustomRegexRule, Direction, EntityRule, RuleKey, RuleOverride, RuleView,
};

/// Separates a connector's name from its tool's name in exposed tool names.
pub const TOOL_SEPARATOR: &str = "__";

/// The name an agent sees for a connector's tool.
///
/// ```
/// assert_eq!(shared::gateway::exposed_name("github", "create_issue"), "github__create_issue");
/// ```
pub fn exposed_name(connector: &str, tool: &str) -> String {
    format!("{connector}{TOOL_SEPARATOR}{tool}")
}

/// A connector name: lower-case letters, digits, `-` and `_`, starting with
/// a letter, at most 40 characters (it prefixes every tool name).
///
/// ```
/// use shared::gateway::ConnectorName;
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
    /// use shared::gateway::ConnectorInput;
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

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolPack {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub tool_count: i64,
    pub key_count: i64,
    pub created_at: DateTime<Utc>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ToolPackInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A valid Tool Pack name and description.
#[derive(Debug, Clone)]
pub struct NewToolPack {
    pub name: String,
    pub description: String,
}

impl ToolPackInput {
    pub fn parse(&self) -> Result<NewToolPack, ApiError> {
        let mut errs = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errs.add("name", "Enter a name for the Tool Pack.");
        } else if name.chars().count() > 80 || name.chars().any(char::is_control) {
            errs.add("name", "Use at most 80 printable characters.");
        }
        if self.description.chars().count() > 500 {
            errs.add("description", "Use at most 500 characters.");
        }
        errs.into_result().map(|()| NewToolPack {
            name: name.to_owned(),
            description: self.description.trim().to_owned(),
        })
    }
}

/// One tool a pack exposes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackTool {
    pub connector_id: Uuid,
    pub connector_name: String,
    pub tool_name: String,
    pub exposed_name: String,
    /// False when the connector no longer offers this tool.
    pub available: bool,
}

/// Which tools a pack exposes (full replacement).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackToolsInput {
    /// Exposed names (`<connector>__<tool>`).
    pub tools: Vec<String>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredUser {
    pub id: Uuid,
    pub external_id: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub key_count: i64,
    pub last_call_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegisteredUserInput {
    pub external_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone)]
pub struct NewRegisteredUser {
    pub external_id: String,
    pub display_name: String,
}

impl RegisteredUserInput {
    pub fn parse(&self) -> Result<NewRegisteredUser, ApiError> {
        let mut errs = FieldErrors::new();
        let ext = self.external_id.trim();
        let name = self.display_name.trim();
        if ext.is_empty() {
            errs.add(
                "external_id",
                "Enter the user's id in your system (e.g. an email or employee id).",
            );
        } else if ext.chars().count() > 200 || ext.chars().any(char::is_control) {
            errs.add("external_id", "Use at most 200 printable characters.");
        }
        if name.is_empty() {
            errs.add("display_name", "Enter a display name.");
        } else if name.chars().count() > 200 || name.chars().any(char::is_control) {
            errs.add("display_name", "Use at most 200 printable characters.");
        }
        errs.into_result().map(|()| NewRegisteredUser {
            external_id: ext.to_owned(),
            display_name: name.to_owned(),
        })
    }
}

/// An agent key as listed (never the secret).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentKey {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub pack_id: Uuid,
    pub pack_name: String,
    pub registered_user_id: Uuid,
    pub registered_user_name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AgentKeyInput {
    pub pack_id: String,
    pub registered_user_id: String,
    #[serde(default)]
    pub name: String,
}

/// A newly created secret: shown once, never again.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedSecret<T> {
    pub item: T,
    pub secret: String,
}

impl<T: std::fmt::Debug> std::fmt::Debug for CreatedSecret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedSecret")
            .field("item", &self.item)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An admin API token as listed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: crate::account::Role,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiTokenInput {
    pub name: String,
    /// admin, approver or viewer.
    pub role: String,
}

/// One entity rule row of the rules page.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityRuleRow {
    pub rule: EntityRule,
    pub group: EntityGroup,
    pub region: Option<Region>,
    pub description: String,
    /// True when the org has not changed it from the default.
    pub is_default: bool,
}

/// The org's rules, for the rules page and API.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesView {
    pub version: i64,
    pub regions: Vec<Region>,
    pub entities: Vec<EntityRuleRow>,
    pub custom: Vec<CustomRegexRule>,
}

/// One entity rule change (API / form).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntityRuleInput {
    pub enabled: bool,
    pub threshold: String,
    pub arguments: String,
    pub results: String,
    /// Comma- or newline-separated extra context words.
    #[serde(default)]
    pub context: String,
}

impl EntityRuleInput {
    pub fn parse(&self, entity: Entity) -> Result<EntityRule, ApiError> {
        let mut errs = FieldErrors::new();
        let threshold = errs.check("threshold", crate::policy::parse_unit(&self.threshold));
        let arguments = errs.check("arguments", self.arguments.parse::<Action>());
        let results = errs.check("results", self.results.parse::<Action>());
        let context: Vec<String> = self
            .context
            .split([',', '\n'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if context.len() > crate::detect::MAX_CONTEXT_WORDS
            || context
                .iter()
                .any(|w| w.len() > crate::detect::MAX_CONTEXT_WORD_LEN)
        {
            errs.add(
                "context",
                format!(
                    "Use at most {} words of at most {} characters.",
                    crate::detect::MAX_CONTEXT_WORDS,
                    crate::detect::MAX_CONTEXT_WORD_LEN
                ),
            );
        }
        match (threshold, arguments, results) {
            (Some(threshold), Some(arguments), Some(results)) if errs.is_empty() => {
                Ok(EntityRule {
                    entity,
                    enabled: self.enabled,
                    threshold,
                    context,
                    arguments,
                    results,
                })
            }
            _ => Err(errs.into_error()),
        }
    }
}

/// One row of a pack's Rules tab: the org rule, the pack's override, and
/// the effective result.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackRuleRow {
    pub key: RuleKey,
    pub label: String,
    pub group: Option<EntityGroup>,
    pub org: RuleViewDto,
    pub effective: RuleViewDto,
    pub overridden: Option<RuleOverride>,
}

/// Serializable form of [`RuleView`].
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleViewDto {
    pub enabled: bool,
    pub threshold: f32,
    pub arguments: Action,
    pub results: Action,
}

impl From<RuleView> for RuleViewDto {
    fn from(v: RuleView) -> Self {
        RuleViewDto {
            enabled: v.enabled,
            threshold: v.threshold,
            arguments: v.arguments,
            results: v.results,
        }
    }
}

/// An override form / API body; empty fields inherit.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OverrideInput {
    /// "", "true" or "false".
    #[serde(default)]
    pub enabled: String,
    #[serde(default)]
    pub threshold: String,
    #[serde(default)]
    pub arguments: String,
    #[serde(default)]
    pub results: String,
}

impl OverrideInput {
    pub fn parse(&self, rule: RuleKey) -> Result<RuleOverride, ApiError> {
        let mut errs = FieldErrors::new();
        let enabled = match self.enabled.trim() {
            "" | "inherit" => None,
            "true" | "on" => Some(true),
            "false" | "off" => Some(false),
            _ => {
                errs.add("enabled", "Choose inherit, on or off.");
                None
            }
        };
        let opt_action = |s: &str, field: &str, errs: &mut FieldErrors| match s.trim() {
            "" | "inherit" => None,
            s => errs.check(field, s.parse::<Action>()),
        };
        let arguments = opt_action(&self.arguments, "arguments", &mut errs);
        let results = opt_action(&self.results, "results", &mut errs);
        let threshold = match self.threshold.trim() {
            "" | "inherit" => None,
            s => errs.check("threshold", crate::policy::parse_unit(s)),
        };
        errs.into_result().map(|()| RuleOverride {
            rule,
            enabled,
            threshold,
            arguments,
            results,
        })
    }
}

/// What Gatehouse decided for one call.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Passed unchanged (possibly with allow-and-log detections).
    Allow,
    /// Passed with values redacted.
    Redact,
    /// Cancelled; the connector was not contacted (or its result withheld).
    Block,
    /// Passed, but the tool call itself failed (upstream error, timeout…).
    Error,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Redact => "redact",
            Decision::Block => "block",
            Decision::Error => "error",
        }
    }
}

impl std::str::FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(Decision::Allow),
            "redact" => Ok(Decision::Redact),
            "block" => Ok(Decision::Block),
            "error" => Ok(Decision::Error),
            _ => Err(format!("unknown decision {s:?}")),
        }
    }
}

/// One recorded detection.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub id: i64,
    pub call_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub rule_key: String,
    pub label: String,
    pub direction: Direction,
    pub pointer: Option<String>,
    pub score: f32,
    pub action: Action,
    /// False in monitor mode (or when enforcement was paused): recorded as
    /// what *would* have happened.
    pub enforced: bool,
    pub snippet: String,
    pub tool: String,
    pub pack_id: Option<Uuid>,
    pub pack_name: Option<String>,
    pub registered_user_id: Option<Uuid>,
    pub registered_user_name: Option<String>,
}

/// One recorded tool call (the decision trail).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub tool: String,
    pub upstream_tool: Option<String>,
    pub connector_name: Option<String>,
    pub pack_id: Option<Uuid>,
    pub pack_name: Option<String>,
    pub registered_user_id: Option<Uuid>,
    pub registered_user_name: Option<String>,
    pub agent_key_prefix: Option<String>,
    pub session_id: Option<Uuid>,
    pub mode: crate::account::OrgMode,
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub outcome: String,
    pub error_message: Option<String>,
    pub latency_ms: f64,
    pub upstream_ms: Option<f64>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub violation_count: i64,
}

/// A call with everything the drill-down shows.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDetail {
    pub call: ToolCall,
    pub arguments_redacted: Option<Value>,
    pub violations: Vec<Violation>,
    pub mcp_session_id: Option<String>,
    pub protocol_version: Option<String>,
}

/// A page of results with an opaque cursor for the next one.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Filters for the violations list (all optional).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ViolationFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub rule: Option<String>,
    pub label: Option<String>,
    pub action: Option<Action>,
    pub direction: Option<Direction>,
    pub pack_id: Option<Uuid>,
    pub registered_user_id: Option<Uuid>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Filters for the calls list (all optional).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    pub tool: Option<String>,
    pub pack_id: Option<Uuid>,
    pub registered_user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// A Rule Tester request.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleTestInput {
    pub sample: String,
    /// Test with this pack's overrides instead of the org rules.
    #[serde(default)]
    pub pack_id: Option<Uuid>,
}

/// One finding with what each direction would do.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestedFinding {
    pub finding: Finding,
    /// The matched text, so the tester can highlight it in the sample.
    #[serde(default)]
    pub text: String,
    pub on_arguments: Action,
    pub on_results: Action,
    /// Below the rule's threshold: reported, but no action would be taken.
    pub below_threshold: bool,
}

/// The Rule Tester's answer.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTestResult {
    /// Whether the sample was parsed as JSON (pointers are then set).
    pub is_json: bool,
    pub findings: Vec<TestedFinding>,
    /// The sample with every finding that would be redacted as an argument.
    pub redacted_arguments: String,
    /// The same as a result.
    pub redacted_results: String,
    pub verdict_arguments: Action,
    pub verdict_results: Action,
}

/// The time ranges the alerts page offers.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertRange {
    LastHour,
    #[default]
    Last24h,
    Last7d,
    Last30d,
    /// Between explicit `from` and `to`.
    Custom,
}

impl AlertRange {
    /// Every preset, in menu order.
    pub const ALL: [AlertRange; 5] = [
        AlertRange::LastHour,
        AlertRange::Last24h,
        AlertRange::Last7d,
        AlertRange::Last30d,
        AlertRange::Custom,
    ];

    /// The form value.
    ///
    /// ```
    /// use shared::gateway::AlertRange;
    /// assert_eq!(AlertRange::Last7d.as_str(), "7d");
    /// assert_eq!("7d".parse::<AlertRange>(), Ok(AlertRange::Last7d));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertRange::LastHour => "1h",
            AlertRange::Last24h => "24h",
            AlertRange::Last7d => "7d",
            AlertRange::Last30d => "30d",
            AlertRange::Custom => "custom",
        }
    }

    /// The menu label.
    pub const fn title(self) -> &'static str {
        match self {
            AlertRange::LastHour => "Last hour",
            AlertRange::Last24h => "Last 24 hours",
            AlertRange::Last7d => "Last 7 days",
            AlertRange::Last30d => "Last 30 days",
            AlertRange::Custom => "Custom",
        }
    }

    /// The span of a preset, and the chart's bucket width, in seconds.
    /// `None` for [`AlertRange::Custom`].
    pub const fn span_and_bucket(self) -> Option<(i64, i64)> {
        match self {
            AlertRange::LastHour => Some((3600, 60)),
            AlertRange::Last24h => Some((86_400, 3600)),
            AlertRange::Last7d => Some((7 * 86_400, 6 * 3600)),
            AlertRange::Last30d => Some((30 * 86_400, 86_400)),
            AlertRange::Custom => None,
        }
    }
}

impl std::str::FromStr for AlertRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertRange::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown range {s:?}; use 1h, 24h, 7d, 30d or custom"))
    }
}

/// What the alerts page asks for: a range plus the violation filters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsQuery {
    pub range: AlertRange,
    /// Split the chart into one panel per action instead of stacking.
    #[serde(default)]
    pub split: bool,
    /// The filters; `from` / `to` are used only with [`AlertRange::Custom`].
    #[serde(default)]
    pub filter: ViolationFilter,
}

/// Violations in one time bucket, per action.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertBucket {
    pub start: DateTime<Utc>,
    pub allow: i64,
    pub redact: i64,
    pub block: i64,
}

/// One row of a breakdown: a key (rule, entity, pack, user), how to show
/// it, and its count.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// The alerts page's summary: buckets, the chart drawn from them, and the
/// breakdowns, all for the same range and filters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsSummary {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket_secs: i64,
    pub buckets: Vec<AlertBucket>,
    pub total: i64,
    /// The timeseries chart as an SVG document (rendered on the server).
    pub chart_svg: String,
    pub by_rule: Vec<CountRow>,
    pub by_entity: Vec<CountRow>,
    pub by_pack: Vec<CountRow>,
    pub by_user: Vec<CountRow>,
}

/// The overview page's numbers.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewStats {
    pub mode: crate::account::OrgMode,
    pub calls_today: i64,
    pub violations_today: i64,
    pub blocked_today: i64,
    pub top_rules: Vec<CountRow>,
    pub last_blocked: Vec<ToolCall>,
    pub connector_count: i64,
    pub pack_count: i64,
    pub key_count: i64,
}
