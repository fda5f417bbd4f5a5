//! The decision trail: recorded tool calls and their violations, filtered
//! and paged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::policy::{Action, Direction};

/// What Gatehouse decided for one call.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// How a recorded call ended.
///
/// ```
/// use shared::api::records::Outcome;
/// assert_eq!("upstream_timeout".parse::<Outcome>(), Ok(Outcome::UpstreamTimeout));
/// assert_eq!(Outcome::NotRun.as_str(), "not_run");
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The tool answered.
    Ok,
    /// The tool answered with an error result of its own.
    ToolError,
    /// Gatehouse blocked the call or withheld its result.
    Blocked,
    /// Gatehouse could not decide, so the call did not run (fail closed).
    NotRun,
    /// Dispatched; the final record has not replaced this one (yet).
    InFlight,
    UpstreamUnreachable,
    UpstreamTimeout,
    /// The upstream refused the call (a protocol or HTTP error).
    UpstreamError,
    UpstreamTooLarge,
    /// The upstream's address is not allowed (egress policy).
    UpstreamForbidden,
    /// A person denied the held call.
    Denied,
    /// Held for approval and not decided within the hold time: not run
    /// (a retry of the identical call runs once it is approved).
    AwaitingApproval,
    /// The tool is quarantined (its definition changed upstream, or it
    /// carries injected instructions): refused, and it reads as unknown.
    Quarantined,
}

impl Outcome {
    pub const ALL: [Outcome; 13] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::Blocked,
        Outcome::NotRun,
        Outcome::InFlight,
        Outcome::UpstreamUnreachable,
        Outcome::UpstreamTimeout,
        Outcome::UpstreamError,
        Outcome::UpstreamTooLarge,
        Outcome::UpstreamForbidden,
        Outcome::Denied,
        Outcome::AwaitingApproval,
        Outcome::Quarantined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::Blocked => "blocked",
            Outcome::NotRun => "not_run",
            Outcome::InFlight => "in_flight",
            Outcome::UpstreamUnreachable => "upstream_unreachable",
            Outcome::UpstreamTimeout => "upstream_timeout",
            Outcome::UpstreamError => "upstream_error",
            Outcome::UpstreamTooLarge => "upstream_too_large",
            Outcome::UpstreamForbidden => "upstream_forbidden",
            Outcome::Denied => "denied",
            Outcome::AwaitingApproval => "awaiting_approval",
            Outcome::Quarantined => "quarantined",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome {s:?}"))
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
    pub outcome: Outcome,
    pub error_message: Option<String>,
    pub latency_ms: f64,
    pub upstream_ms: Option<f64>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub violation_count: i64,
    /// What the call touched at the connector (a GitHub repository).
    #[serde(default)]
    pub resource: Option<String>,
    /// The connector's own request id (GitHub's `X-GitHub-Request-Id`).
    #[serde(default)]
    pub upstream_request_id: Option<String>,
}

/// A call with everything the drill-down shows.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDetail {
    pub call: ToolCall,
    /// The approval the call waited for (who decided, when, why).
    pub approval: Option<crate::api::Approval>,
    pub arguments_redacted: Option<Value>,
    /// A database call's SQL with every detected value redacted.
    #[serde(default)]
    pub statement: Option<String>,
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
    /// RFC 3339 time, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339 time, exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Rule key (entity name or `custom:<uuid>`).
    pub rule: Option<String>,
    /// Entity name or custom label.
    pub label: Option<String>,
    /// allow, redact or block.
    pub action: Option<Action>,
    /// arguments or results.
    pub direction: Option<Direction>,
    /// Tool Pack id.
    pub pack_id: Option<Uuid>,
    /// Registered User id.
    pub registered_user_id: Option<Uuid>,
    /// Opaque cursor from the previous page's next_cursor.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// Filters for the calls list (all optional).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallFilter {
    /// RFC 3339 time, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339 time, exclusive.
    pub to: Option<DateTime<Utc>>,
    /// allow, redact, block or error.
    pub decision: Option<Decision>,
    /// Exposed tool name.
    pub tool: Option<String>,
    /// Tool Pack id.
    pub pack_id: Option<Uuid>,
    /// Registered User id.
    pub registered_user_id: Option<Uuid>,
    /// Runtime session id.
    pub session_id: Option<Uuid>,
    /// Opaque cursor from the previous page's next_cursor.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}
