//! Runtime sessions: one agent run, and its calls as one timeline.
//!
//! A session is identified, in this order, by the name the client gives it
//! ([`SESSION_META_KEY`] in a request's `_meta`, or the
//! [`SESSION_HEADER`] header), by the MCP session (`Mcp-Session-Id`, legacy
//! protocol era), or else by the agent token's lifetime.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::api::{ApprovalStatus, ToolCall, Violation};

/// The `_meta` key a client uses to name its run.
pub const SESSION_META_KEY: &str = "gatehouse.dev/session";
/// The HTTP header a client uses to name its run.
pub const SESSION_HEADER: &str = "Gatehouse-Session";
/// The longest session name.
pub const MAX_SESSION_NAME: usize = 128;

/// Checks a client-given session name: 1–128 characters, none of them
/// control characters.
///
/// ```
/// use shared::api::session_name;
/// assert_eq!(session_name(" run-42 "), Ok("run-42".to_owned()));
/// assert!(session_name("").is_err());
/// assert!(session_name("a\nb").is_err());
/// assert!(session_name(&"x".repeat(129)).is_err());
/// ```
pub fn session_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_SESSION_NAME
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "A session name ({SESSION_META_KEY} or {SESSION_HEADER}) must be 1–{MAX_SESSION_NAME} characters without control characters."
        ));
    }
    Ok(name.to_owned())
}

/// How a session was identified.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// The client named it.
    Named,
    /// The MCP session of the legacy protocol era.
    Mcp,
    /// Neither: the agent token's lifetime.
    Token,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Named => "named",
            SessionKind::Mcp => "mcp",
            SessionKind::Token => "token",
        }
    }
}

impl std::str::FromStr for SessionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "named" => Ok(SessionKind::Named),
            "mcp" => Ok(SessionKind::Mcp),
            "token" => Ok(SessionKind::Token),
            _ => Err(format!("unknown session kind {s:?}")),
        }
    }
}

/// One runtime session in the list.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSession {
    pub id: Uuid,
    pub kind: SessionKind,
    /// The client's name for it, or the MCP session id.
    pub name: Option<String>,
    pub pack_id: Option<Uuid>,
    pub pack_name: Option<String>,
    pub registered_user_id: Option<Uuid>,
    pub registered_user_name: Option<String>,
    pub agent_key_prefix: Option<String>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub call_count: i64,
    pub blocked_count: i64,
    pub approval_count: i64,
    pub violation_count: i64,
}

/// Filters for the sessions list (all optional).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFilter {
    /// Sessions active at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Sessions started before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub pack_id: Option<Uuid>,
    pub registered_user_id: Option<Uuid>,
    /// Only sessions with at least one blocked call.
    #[serde(default)]
    pub had_block: bool,
    /// Only sessions with at least one call held for approval.
    #[serde(default)]
    pub had_approval: bool,
    /// Only sessions with at least one detection.
    #[serde(default)]
    pub had_violation: bool,
    /// Opaque cursor from the previous page's next_cursor.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// One call on a session's timeline.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineCall {
    pub call: ToolCall,
    /// The tool policy that decided it (`policy:<name>` in its reasons).
    pub policy_rule: Option<String>,
    /// What was detected (entity or custom rule labels, each once).
    pub detections: Vec<String>,
    /// The approval it waited for, and how that went.
    pub approval_id: Option<Uuid>,
    pub approval_status: Option<ApprovalStatus>,
    /// Decided while enforce was paused.
    pub paused: bool,
}

impl TimelineCall {
    /// The policy rule named in a call's reasons.
    ///
    /// ```
    /// use shared::api::TimelineCall;
    /// let r = vec!["rule:EMAIL_ADDRESS".to_owned(), "policy:no shell".to_owned()];
    /// assert_eq!(TimelineCall::policy_rule_of(&r), Some("no shell".to_owned()));
    /// ```
    pub fn policy_rule_of(reasons: &[String]) -> Option<String> {
        reasons
            .iter()
            .find_map(|r| r.strip_prefix("policy:").map(str::to_owned))
    }
}

/// Counts at the top of a timeline.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCounts {
    pub calls: i64,
    pub allowed: i64,
    pub redacted: i64,
    pub blocked: i64,
    pub errors: i64,
    pub approvals: i64,
    pub violations: i64,
    pub paused: i64,
}

/// A session with its timeline, oldest call first.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDetail {
    pub session: RuntimeSession,
    pub counts: SessionCounts,
    pub timeline: Vec<TimelineCall>,
    /// The timeline holds the first [`MAX_TIMELINE`] calls; the export has
    /// them all.
    pub truncated: bool,
}

/// The most calls a timeline shows (the export has every call).
pub const MAX_TIMELINE: i64 = 1000;

/// One line of a decision-trail export (JSON Lines): a call with its
/// redacted evidence only.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedCall {
    pub call: ToolCall,
    /// The arguments as recorded (detected values redacted, or only their
    /// shape).
    pub arguments_redacted: Option<Value>,
    pub violations: Vec<Violation>,
    pub approval_id: Option<Uuid>,
    pub mcp_session_id: Option<String>,
    pub protocol_version: Option<String>,
}
