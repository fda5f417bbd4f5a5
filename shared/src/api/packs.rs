//! Tool Packs: the tools an agent surface may use, and their rule overrides.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::detect::EntityGroup;
use crate::error::{ApiError, FieldErrors, is_text};
use crate::policy::{Action, RuleKey, RuleOverride, RuleView};

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
        } else if !is_text(&self.description, true) {
            errs.add("description", "Use printable characters only.");
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

/// One row of a pack's Rules tab: the org rule, the pack's override, and
/// the effective result.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackRuleRow {
    pub key: RuleKey,
    pub label: String,
    pub group: Option<EntityGroup>,
    pub org: RuleView,
    pub effective: RuleView,
    pub overridden: Option<RuleOverride>,
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
