//! Tool integrity: the definition of every exposed tool an admin approved
//! (its *pin*), the changes upstreams made since, and what Gatehouse did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::ApiError;

/// A tool's definition as the agent sees it: what is pinned and compared.
/// Serialised with MCP's field names.
///
/// ```
/// use shared::api::ToolDefinition;
/// let d = ToolDefinition {
///     name: "echo".into(),
///     title: None,
///     description: Some("Say it back.".into()),
///     input_schema: serde_json::json!({"type": "object", "properties": {}}),
///     output_schema: None,
///     annotations: None,
/// };
/// // Keys sorted at every level, no spaces, absent fields left out.
/// assert_eq!(
///     d.canonical_json(),
///     r#"{"description":"Say it back.","inputSchema":{"properties":{},"type":"object"},"name":"echo"}"#
/// );
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

impl ToolDefinition {
    /// The canonical JSON text the fingerprint is taken over: object keys
    /// sorted (by their UTF-8 bytes) at every level, no insignificant
    /// whitespace, `null` fields left out — so the same definition always
    /// gives the same bytes, whatever order an upstream sends.
    pub fn canonical_json(&self) -> String {
        canonical_json(&without_nulls(&self.to_value()))
    }

    /// The definition as a JSON value (MCP field names).
    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        if let Some(t) = &self.title {
            m.insert("title".into(), Value::String(t.clone()));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::String(d.clone()));
        }
        m.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(o) = &self.output_schema {
            m.insert("outputSchema".into(), o.clone());
        }
        if let Some(a) = &self.annotations {
            m.insert("annotations".into(), a.clone());
        }
        Value::Object(m)
    }

    /// The definition as lines a person can compare side by side: the
    /// description as its own lines, the schemas as indented JSON, and
    /// every invisible character spelled out (`⟦U+200B⟧`) so hidden text
    /// shows in a review.
    ///
    /// ```
    /// use shared::api::ToolDefinition;
    /// let d = ToolDefinition {
    ///     name: "w".into(), title: None,
    ///     description: Some("Weather.\u{200b}".into()),
    ///     input_schema: serde_json::json!({}), output_schema: None, annotations: None,
    /// };
    /// assert!(d.readable_lines().contains(&"  Weather.⟦U+200B⟧".to_string()));
    /// ```
    pub fn readable_lines(&self) -> Vec<String> {
        let mut out = vec![format!("name: {}", visible(&self.name))];
        if let Some(t) = &self.title {
            out.push(format!("title: {}", visible(t)));
        }
        out.push("description:".into());
        match &self.description {
            Some(d) => out.extend(d.lines().map(|l| format!("  {}", visible(l)))),
            None => out.push("  (none)".into()),
        }
        let mut json = |label: &str, v: &Value| {
            out.push(format!("{label}:"));
            let text = serde_json::to_string_pretty(&sorted(v)).unwrap_or_default();
            out.extend(text.lines().map(|l| format!("  {}", visible(l))));
        };
        json("input schema", &self.input_schema);
        if let Some(o) = &self.output_schema {
            json("output schema", o);
        }
        if let Some(a) = &self.annotations {
            json("annotations", a);
        }
        out
    }
}

/// `v` with object keys sorted at every level (for display).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `v` as canonical JSON text: object keys sorted (by their UTF-8 bytes)
/// at every level, no insignificant whitespace. Two values that differ
/// only in key order give the same bytes, so a digest of the text
/// identifies the value.
///
/// ```
/// use shared::api::canonical_json;
/// let a = serde_json::json!({"b": [1, {"d": null, "c": "x"}], "a": true});
/// assert_eq!(canonical_json(&a), r#"{"a":true,"b":[1,{"c":"x","d":null}]}"#);
/// ```
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// `v` without `null` object members, at every level: an upstream that
/// sends `"title": null` and one that leaves it out describe the same tool.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Invisible and control characters spelled out as `⟦U+XXXX⟧`.
///
/// ```
/// assert_eq!(shared::api::visible("a\u{202e}b"), "a⟦U+202E⟧b");
/// assert_eq!(shared::api::visible("plain"), "plain");
/// ```
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let hidden = matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}' | '\u{180E}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}'
            | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}' | '\u{FE00}'..='\u{FE0F}')
            || (c.is_control() && c != '\t');
        if hidden {
            out.push_str(&format!("⟦U+{:04X}⟧", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// What an upstream change does: quarantine the tool (the default) or
/// only alert (the agent keeps the approved definition).
///
/// ```
/// use shared::api::OnToolChange;
/// assert_eq!("alert".parse::<OnToolChange>(), Ok(OnToolChange::Alert));
/// assert!("maybe".parse::<OnToolChange>().is_err());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnToolChange {
    #[default]
    Quarantine,
    Alert,
}

impl OnToolChange {
    pub fn as_str(self) -> &'static str {
        match self {
            OnToolChange::Quarantine => "quarantine",
            OnToolChange::Alert => "alert",
        }
    }
}

impl std::str::FromStr for OnToolChange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "quarantine" => Ok(OnToolChange::Quarantine),
            "alert" => Ok(OnToolChange::Alert),
            other => Err(format!("{other:?} is not quarantine or alert")),
        }
    }
}

/// The org's tool-integrity setting (`GET|PUT /org/tool-integrity`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolIntegritySettings {
    pub on_change: OnToolChange,
}

/// The form's body: `on_change` as text, parsed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ToolIntegrityInput {
    pub on_change: String,
}

impl ToolIntegrityInput {
    /// ```
    /// use shared::api::{OnToolChange, ToolIntegrityInput};
    /// let ok = ToolIntegrityInput { on_change: "alert".into() }.parse().unwrap();
    /// assert_eq!(ok.on_change, OnToolChange::Alert);
    /// let bad = ToolIntegrityInput { on_change: "x".into() }.parse().unwrap_err();
    /// assert!(bad.field("on_change").is_some());
    /// ```
    pub fn parse(&self) -> Result<ToolIntegritySettings, ApiError> {
        self.on_change
            .parse()
            .map(|on_change| ToolIntegritySettings { on_change })
            .map_err(|_| ApiError::invalid("on_change", "Choose quarantine or alert."))
    }
}

/// Where an exposed tool stands.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinStatus {
    /// The upstream offers exactly the approved definition.
    Approved,
    /// The upstream changed it; the agent still gets the approved
    /// definition (the org only alerts).
    Changed,
    /// Not served until an admin reviews it.
    Quarantined,
    /// The upstream no longer offers it.
    Unavailable,
}

impl PinStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PinStatus::Approved => "approved",
            PinStatus::Changed => "changed",
            PinStatus::Quarantined => "quarantined",
            PinStatus::Unavailable => "unavailable",
        }
    }
}

/// An exposed tool with the definition that was approved.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinnedTool {
    pub connector_id: Uuid,
    pub connector_name: String,
    pub tool_name: String,
    pub exposed_name: String,
    pub status: PinStatus,
    /// `sha256:` + hex of the approved definition's canonical JSON.
    pub fingerprint: String,
    /// Who approved it (None: pinned by Gatehouse, e.g. at upgrade).
    pub approved_by: Option<String>,
    pub approved_at: DateTime<Utc>,
    /// Tool Packs exposing it.
    pub packs: Vec<String>,
    /// The change waiting for review, if any.
    pub open_change: Option<Uuid>,
    pub definition: ToolDefinition,
}

/// What an upstream did to a tool.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChangeKind {
    /// Its definition differs from the approved one.
    Changed,
    /// The upstream stopped offering it.
    Removed,
    /// Its definition carries instructions aimed at the model.
    Injection,
    /// A tool the upstream started offering (never added to packs
    /// automatically).
    Appeared,
}

impl ToolChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolChangeKind::Changed => "changed",
            ToolChangeKind::Removed => "removed",
            ToolChangeKind::Injection => "injection",
            ToolChangeKind::Appeared => "appeared",
        }
    }
}

impl std::str::FromStr for ToolChangeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            ToolChangeKind::Changed,
            ToolChangeKind::Removed,
            ToolChangeKind::Injection,
            ToolChangeKind::Appeared,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown change kind {s:?}"))
    }
}

/// What Gatehouse did about a change.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChangeAction {
    /// The tool is not served until reviewed.
    Quarantined,
    /// Admins are told; the agent keeps the approved definition.
    Alerted,
    /// Recorded only (a tool that appeared or disappeared).
    Recorded,
}

impl ToolChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolChangeAction::Quarantined => "quarantined",
            ToolChangeAction::Alerted => "alerted",
            ToolChangeAction::Recorded => "recorded",
        }
    }
}

impl std::str::FromStr for ToolChangeAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            ToolChangeAction::Quarantined,
            ToolChangeAction::Alerted,
            ToolChangeAction::Recorded,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown change action {s:?}"))
    }
}

/// Where a change stands.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChangeStatus {
    /// Waiting for an admin.
    Open,
    /// An admin approved the new definition.
    Approved,
    /// An admin removed the tool from every pack.
    Removed,
    /// A newer change of the same tool replaced it.
    Superseded,
    /// The upstream went back to the approved definition (or offers the
    /// tool again).
    Reverted,
    /// Nothing to review (recorded only).
    Closed,
}

impl ToolChangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolChangeStatus::Open => "open",
            ToolChangeStatus::Approved => "approved",
            ToolChangeStatus::Removed => "removed",
            ToolChangeStatus::Superseded => "superseded",
            ToolChangeStatus::Reverted => "reverted",
            ToolChangeStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for ToolChangeStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            ToolChangeStatus::Open,
            ToolChangeStatus::Approved,
            ToolChangeStatus::Removed,
            ToolChangeStatus::Superseded,
            ToolChangeStatus::Reverted,
            ToolChangeStatus::Closed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown change status {s:?}"))
    }
}

/// Instructions found in a definition: which rule, where (a JSON Pointer
/// into the definition) and the text, invisible characters spelled out.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefinitionFinding {
    pub rule: String,
    pub pointer: String,
    pub score: f32,
    pub text: String,
}

/// One change an upstream made to a tool.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolChange {
    pub id: Uuid,
    pub connector_id: Uuid,
    pub connector_name: String,
    pub tool_name: String,
    pub exposed_name: String,
    pub kind: ToolChangeKind,
    pub action: ToolChangeAction,
    pub status: ToolChangeStatus,
    pub detected_at: DateTime<Utc>,
    pub old_fingerprint: Option<String>,
    pub new_fingerprint: Option<String>,
    pub findings: Vec<DefinitionFinding>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
}

/// One row of a side-by-side comparison.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    /// The approved definition's line (None: added on the right).
    pub left: Option<String>,
    /// The upstream's line (None: removed on the right).
    pub right: Option<String>,
    pub same: bool,
}

/// A change with both definitions and their comparison.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolChangeDetail {
    pub change: ToolChange,
    /// What was approved (None: the tool was never pinned).
    pub approved: Option<ToolDefinition>,
    /// What the upstream offers now (None: it was removed).
    pub upstream: Option<ToolDefinition>,
    pub diff: Vec<DiffRow>,
}

/// Which changes to list.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ToolChangeQuery {
    /// `open` (default: every change, newest first).
    pub status: Option<ToolChangeStatus>,
    pub limit: Option<u32>,
}

/// An admin's review of a change.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolReview {
    /// Pin the upstream's new definition and serve it.
    Approve,
    /// Take the tool out of every pack.
    Remove,
}

/// `POST /tool-changes/{id}/decision`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolReviewInput {
    pub decision: ToolReview,
}
