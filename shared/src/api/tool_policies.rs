//! Tool policies as the admin API and the dashboard carry them: ordered
//! rules that allow, monitor, hold for approval or block a tool *action* (whatever data it
//! carries), each for an exact tool name or a glob, with an optional
//! condition written in CEL. A pack's rules come before the org's; the first
//! rule that matches decides; the org's default action applies otherwise.
//!
//! The conditions are compiled and evaluated by the server (the `cel`
//! engine); this module parses everything else.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::decision::ToolAction;
use crate::error::{ApiError, FieldErrors, is_text};

/// Most tool policies per organization (org and pack rules together).
pub const MAX_TOOL_POLICIES: usize = 200;
/// Longest condition accepted.
pub const MAX_CONDITION_CHARS: usize = 2000;

/// Which tools a rule applies to: an exact exposed name
/// (`github__merge_pull_request`) or a glob where `*` stands for any run of
/// characters (`github__merge_*`, `*__delete_*`, `*`).
///
/// ```
/// use shared::api::ToolPattern;
/// let p = ToolPattern::parse("github__merge_*").unwrap();
/// assert!(p.matches("github__merge_pull_request"));
/// assert!(!p.matches("github__list_pulls"));
/// assert!(ToolPattern::parse("*__delete_*").unwrap().matches("db__delete_rows"));
/// assert!(ToolPattern::parse("has space").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPattern(String);

impl ToolPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("Enter a tool name or a pattern such as github__merge_*.".to_owned());
        }
        if s.len() > 200 {
            return Err("Use at most 200 characters.".to_owned());
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '/'))
        {
            return Err(
                "Tool names use letters, digits, _ - . and /; * stands for any characters."
                    .to_owned(),
            );
        }
        Ok(ToolPattern(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `tool` (an exposed name) matches.
    ///
    /// Hand-written rather than a glob crate: the only wildcard is `*` over
    /// plain names (no path separators or classes), which this greedy
    /// two-pointer match handles backtracking to the last star only, so at
    /// worst O(pattern × name) steps and no recursion.
    pub fn matches(&self, tool: &str) -> bool {
        let (p, t) = (self.0.as_bytes(), tool.as_bytes());
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while j < t.len() {
            if i < p.len() && p[i] == b'*' {
                star = Some((i, j));
                i += 1;
            } else if i < p.len() && p[i] == t[j] {
                i += 1;
                j += 1;
            } else if let Some((si, sj)) = star {
                i = si + 1;
                j = sj + 1;
                star = Some((si, sj + 1));
            } else {
                return false;
            }
        }
        p[i..].iter().all(|&c| c == b'*')
    }
}

/// One stored tool policy rule.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolPolicy {
    pub id: Uuid,
    /// The Tool Pack this rule overrides the org's rules for; `None` for an
    /// org rule.
    pub pack_id: Option<Uuid>,
    pub pack_name: Option<String>,
    /// Order within its scope (pack or org), from 0.
    pub position: i32,
    pub name: String,
    /// Exact exposed tool name or glob (`*`).
    pub tools: String,
    /// CEL expression that must be true for the rule to match; `None`:
    /// always.
    pub condition: Option<String>,
    pub action: ToolAction,
}

/// A tool policy rule as a form or JSON body carries it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolPolicyInput {
    pub name: String,
    /// Exact exposed tool name or glob (`github__merge_*`).
    pub tools: String,
    /// CEL expression over `tool`, `args`, `user`, `pack`, `findings` and
    /// `session`; empty: always.
    #[serde(default)]
    pub condition: String,
    /// allow, monitor, approve or block.
    pub action: String,
    /// Set for a rule of one Tool Pack (evaluated before the org's rules).
    #[serde(default)]
    pub pack_id: Option<Uuid>,
}

/// A parsed rule; the condition is checked by the server, which compiles it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToolPolicy {
    pub name: String,
    pub tools: ToolPattern,
    pub condition: Option<String>,
    pub action: ToolAction,
    pub pack_id: Option<Uuid>,
}

impl ToolPolicyInput {
    /// Parses every field but the condition's meaning, reporting all
    /// problems at once.
    ///
    /// ```
    /// use shared::api::ToolPolicyInput;
    /// let ok = ToolPolicyInput { name: "No shell".into(), tools: "*__shell*".into(),
    ///     action: "block".into(), ..Default::default() };
    /// assert_eq!(ok.parse().unwrap().condition, None);
    /// let bad = ToolPolicyInput { tools: "rm -rf".into(), action: "maybe".into(), ..ok };
    /// let err = bad.parse().unwrap_err();
    /// assert!(err.field("tools").is_some() && err.field("action").is_some());
    /// ```
    pub fn parse(&self) -> Result<NewToolPolicy, ApiError> {
        let mut errs = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errs.add("name", "Enter a name.");
        } else if name.chars().count() > 80 {
            errs.add("name", "Use at most 80 characters.");
        } else if !is_text(name, false) {
            errs.add("name", "Use printable characters only.");
        }
        let tools = errs.check("tools", ToolPattern::parse(&self.tools));
        let condition = self.condition.trim();
        if condition.chars().count() > MAX_CONDITION_CHARS {
            errs.add(
                "condition",
                format!("Use at most {MAX_CONDITION_CHARS} characters."),
            );
        } else if !is_text(condition, true) {
            errs.add("condition", "Use printable characters only.");
        }
        let action = errs.check("action", parse_rule_action(&self.action));
        let (Some(tools), Some(action), true) = (tools, action, errs.is_empty()) else {
            return Err(errs.into_error());
        };
        Ok(NewToolPolicy {
            name: name.to_owned(),
            tools,
            condition: (!condition.is_empty()).then(|| condition.to_owned()),
            action,
            pack_id: self.pack_id,
        })
    }
}

/// The action a rule (or the default) chooses.
pub fn parse_rule_action(s: &str) -> Result<ToolAction, String> {
    s.parse::<ToolAction>()
}

/// Every tool policy of the org, in evaluation order: each pack's rules
/// (by pack name), then the org's.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolPoliciesView {
    /// What happens when no rule matches.
    pub default_action: ToolAction,
    pub rules: Vec<ToolPolicy>,
}

/// The default action as a form or JSON body carries it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefaultToolActionInput {
    /// allow, monitor, approve or block.
    pub action: String,
}

/// Moves a rule one place earlier or later within its scope.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolPolicyMoveInput {
    /// `up` (evaluated earlier) or `down`.
    pub direction: String,
}

/// The policy tester's question: this tool, these arguments, this
/// Registered User, through this pack (optional).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyTestInput {
    /// Exposed tool name (`<connector>__<tool>`).
    pub tool: String,
    /// The arguments as JSON text (an object); empty: `{}`.
    #[serde(default)]
    pub arguments: String,
    #[serde(default)]
    pub pack_id: Option<Uuid>,
    #[serde(default)]
    pub registered_user_id: Option<Uuid>,
}

/// What the gateway would decide for the tester's call, by the same engine.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTestResult {
    pub action: ToolAction,
    /// The rule that matched; `None`: the org's default.
    pub rule: Option<ToolPolicy>,
    /// Why, in words.
    pub explanation: String,
    /// Entities and custom labels detected in the arguments (what
    /// `findings` holds in conditions).
    pub findings: Vec<String>,
    /// Rules whose condition could not be evaluated for this call, with
    /// the error (they count as matching when they block, see the docs).
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names_only() {
        let m = |p: &str, t: &str| ToolPattern::parse(p).unwrap().matches(t);
        assert!(m(
            "github__merge_pull_request",
            "github__merge_pull_request"
        ));
        assert!(!m("github__merge", "github__merge_pull_request"));
        assert!(m("*", "anything__at_all"));
        assert!(m("*merge*", "github__merge_pull_request"));
        assert!(m("*__delete_*", "db__delete_rows"));
        assert!(!m("*__delete_*", "db__list_rows"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("a**", "a"));
        assert!(ToolPattern::parse("  ").is_err());
        // No pathological backtracking: a long name against many stars.
        let long = "a".repeat(5000);
        assert!(!m("*a*a*a*a*a*a*a*b", &long));
    }

    #[test]
    fn every_tool_action_can_be_chosen() {
        for a in ["allow", "monitor", "approve", "block"] {
            assert!(parse_rule_action(a).is_ok());
        }
        assert!(parse_rule_action("maybe").is_err());
    }
}
