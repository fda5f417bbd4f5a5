//! Rules with actions: what Gatehouse *does* about a detection.
//!
//! The detection engine ([`crate::detect`]) finds things; this module holds
//! the org's rule configuration (entity rules, custom regex rules, regions,
//! an action per direction), applies a Tool Pack's overrides, and decides
//! the outcome for a set of findings. It is pure, so the server's data path,
//! the admin API and the browser's Rule Tester all decide the same way.
//!
//! ```
//! use shared::detect::{CompiledRules, Entity};
//! use shared::policy::{Action, Direction, OrgRules, RuleKey, RuleOverride};
//!
//! let org = OrgRules::defaults();
//! // A pack that blocks e-mail addresses in arguments.
//! let pack = org.with_overrides(&[RuleOverride {
//!     rule: RuleKey::Entity(Entity::EmailAddress),
//!     arguments: Some(Action::Block),
//!     ..RuleOverride::none(RuleKey::Entity(Entity::EmailAddress))
//! }]);
//! let engine = CompiledRules::compile(&pack.to_rule_set()).unwrap();
//! let findings = engine.scan_json(&serde_json::json!({"to": "ada@example.com"})).unwrap();
//! let verdict = pack.decide(findings, Direction::Arguments);
//! assert_eq!(verdict.action, Action::Block);
//! assert_eq!(org.rule(&RuleKey::Entity(Entity::EmailAddress)).unwrap().arguments, Action::Allow);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::detect::{
    CustomRule, DEFAULT_THRESHOLD, Entity, EntityGroup, EntitySetting, Finding, Region, RuleRef,
    RuleSet,
};
use crate::error::{ApiError, FieldErrors, is_text};

/// What happens to a call when a rule matches.
///
/// Ordered by strength: when several findings disagree, the strongest wins.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Pass the value unchanged; record the detection.
    #[default]
    Allow,
    /// Replace the value with `[REDACTED:<LABEL>]`; record.
    Redact,
    /// Cancel the call (the connector is never contacted); record.
    Block,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Allow, Action::Redact, Action::Block];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Redact => "redact",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "allow" => Ok(Action::Allow),
            "redact" => Ok(Action::Redact),
            "block" => Ok(Action::Block),
            _ => Err("Choose allow, redact or block.".to_owned()),
        }
    }
}

/// Which way data flows through a tool call.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Agent → tool, scanned before dispatch.
    Arguments,
    /// Tool → agent, scanned before the agent sees it.
    Results,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Arguments => "arguments",
            Direction::Results => "results",
        }
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "arguments" => Ok(Direction::Arguments),
            "results" => Ok(Direction::Results),
            _ => Err("Choose arguments or results.".to_owned()),
        }
    }
}

/// Names one rule: a standard entity, or a custom rule by id.
///
/// Its text form is the entity name (`EMAIL_ADDRESS`) or `custom:<uuid>`.
///
/// ```
/// use shared::policy::RuleKey;
/// let k: RuleKey = "US_SSN".parse().unwrap();
/// assert_eq!(k.to_string(), "US_SSN");
/// let c: RuleKey = "custom:6f9619ff-8b86-d011-b42d-00cf4fc964ff".parse().unwrap();
/// assert!(matches!(c, RuleKey::Custom(_)));
/// assert!("NOPE".parse::<RuleKey>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleKey {
    Entity(Entity),
    Custom(Uuid),
}

impl fmt::Display for RuleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleKey::Entity(e) => f.write_str(e.as_str()),
            RuleKey::Custom(id) => write!(f, "custom:{id}"),
        }
    }
}

impl FromStr for RuleKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(id) = s.strip_prefix("custom:") {
            return id
                .parse()
                .map(RuleKey::Custom)
                .map_err(|_| format!("{s:?} is not a custom rule id"));
        }
        s.parse::<Entity>()
            .map(RuleKey::Entity)
            .map_err(|_| format!("{s:?} is not a known entity or custom rule"))
    }
}

impl Serialize for RuleKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuleKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl RuleKey {
    /// The key of the rule that produced a finding.
    pub fn of(finding: &Finding) -> Option<RuleKey> {
        match &finding.rule {
            RuleRef::Entity(e) => Some(RuleKey::Entity(*e)),
            RuleRef::Custom(id) => id.parse().ok().map(RuleKey::Custom),
        }
    }
}

/// One standard entity rule as an org configures it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityRule {
    pub entity: Entity,
    pub enabled: bool,
    pub threshold: f32,
    /// Extra context words, added to the built-in ones.
    #[serde(default)]
    pub context: Vec<String>,
    /// Action for matches in the arguments.
    pub arguments: Action,
    /// Action for matches in the results.
    pub results: Action,
}

impl EntityRule {
    /// The out-of-the-box rule for `entity`.
    ///
    /// Secrets are blocked on the way to a tool and redacted on the way back;
    /// government, financial, payment and health identifiers are redacted
    /// both ways; names, contact details and the like are allowed and
    /// logged, because blocking them by default would break most tools.
    pub fn default_for(entity: Entity) -> Self {
        let (arguments, results) = match entity.group() {
            EntityGroup::Secrets => (Action::Block, Action::Redact),
            EntityGroup::GovernmentFinancial
            | EntityGroup::Payment
            | EntityGroup::Health
            | EntityGroup::Regional => (Action::Redact, Action::Redact),
            EntityGroup::Identity | EntityGroup::Network | EntityGroup::Other => {
                (Action::Allow, Action::Allow)
            }
            // An agent quoting such text is logged; a tool answering with
            // it has the instruction cut out before the model reads it.
            EntityGroup::PromptInjection => (Action::Allow, Action::Redact),
        };
        EntityRule {
            entity,
            enabled: true,
            threshold: DEFAULT_THRESHOLD,
            context: Vec::new(),
            arguments,
            results,
        }
    }
}

/// A custom regex rule as an org configures it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomRegexRule {
    pub id: Uuid,
    pub name: String,
    pub label: String,
    pub pattern: String,
    pub score: f32,
    #[serde(default)]
    pub context: Vec<String>,
    pub enabled: bool,
    pub threshold: f32,
    pub arguments: Action,
    pub results: Action,
}

impl CustomRegexRule {
    fn to_engine(&self) -> CustomRule {
        CustomRule {
            id: self.id.to_string(),
            name: self.name.clone(),
            label: self.label.clone(),
            pattern: self.pattern.clone(),
            score: self.score,
            context: self.context.clone(),
            enabled: self.enabled,
            threshold: self.threshold,
        }
    }
}

/// A Tool Pack's change to one org rule. `None` fields inherit.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOverride {
    pub rule: RuleKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Action>,
}

impl RuleOverride {
    /// An override that changes nothing (a starting point).
    pub fn none(rule: RuleKey) -> Self {
        RuleOverride {
            rule,
            enabled: None,
            threshold: None,
            arguments: None,
            results: None,
        }
    }

    /// True when every field inherits.
    pub fn is_empty(&self) -> bool {
        self.enabled.is_none()
            && self.threshold.is_none()
            && self.arguments.is_none()
            && self.results.is_none()
    }
}

/// Everything an org (or, with overrides applied, a pack) scans with.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRules {
    pub regions: Vec<Region>,
    /// One rule per entity, in [`Entity::ALL`] order.
    pub entities: Vec<EntityRule>,
    pub custom: Vec<CustomRegexRule>,
}

/// A rule's effective settings, whatever its kind.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    pub enabled: bool,
    pub threshold: f32,
    pub arguments: Action,
    pub results: Action,
}

/// Entity and custom rules carry the same four settings; one definition
/// of how to read them.
macro_rules! rule_view {
    ($($rule:ty),*) => {$(
        impl $rule {
            /// The settings every kind of rule has.
            pub fn view(&self) -> RuleView {
                RuleView {
                    enabled: self.enabled,
                    threshold: self.threshold,
                    arguments: self.arguments,
                    results: self.results,
                }
            }
        }
    )*};
}
rule_view!(EntityRule, CustomRegexRule);

impl RuleView {
    /// The action for matches in direction `d`.
    pub fn action(&self, d: Direction) -> Action {
        match d {
            Direction::Arguments => self.arguments,
            Direction::Results => self.results,
        }
    }
}

impl OrgRules {
    /// Every entity with its default rule, region US, no custom rules.
    pub fn defaults() -> Self {
        OrgRules {
            regions: vec![Region::Us],
            entities: Entity::ALL
                .iter()
                .map(|&e| EntityRule::default_for(e))
                .collect(),
            custom: Vec::new(),
        }
    }

    /// Fills in defaults for entities that have no stored rule and orders
    /// them as [`Entity::ALL`].
    pub fn from_parts(
        regions: Vec<Region>,
        stored: Vec<EntityRule>,
        custom: Vec<CustomRegexRule>,
    ) -> Self {
        let entities = Entity::ALL
            .iter()
            .map(|&e| {
                stored
                    .iter()
                    .rev()
                    .find(|r| r.entity == e)
                    .cloned()
                    .unwrap_or_else(|| EntityRule::default_for(e))
            })
            .collect();
        OrgRules {
            regions,
            entities,
            custom,
        }
    }

    /// The effective settings of one rule.
    pub fn rule(&self, key: &RuleKey) -> Option<RuleView> {
        match key {
            RuleKey::Entity(e) => self
                .entities
                .iter()
                .find(|r| r.entity == *e)
                .map(EntityRule::view),
            RuleKey::Custom(id) => self
                .custom
                .iter()
                .find(|r| r.id == *id)
                .map(CustomRegexRule::view),
        }
    }

    /// The rules a pack sees: these rules with the pack's overrides applied.
    /// Overrides for rules that no longer exist are ignored.
    pub fn with_overrides(&self, overrides: &[RuleOverride]) -> OrgRules {
        let mut out = self.clone();
        for o in overrides {
            let fields = match o.rule {
                RuleKey::Entity(e) => out.entities.iter_mut().find(|r| r.entity == e).map(|r| {
                    (
                        &mut r.enabled,
                        &mut r.threshold,
                        &mut r.arguments,
                        &mut r.results,
                    )
                }),
                RuleKey::Custom(id) => out.custom.iter_mut().find(|r| r.id == id).map(|r| {
                    (
                        &mut r.enabled,
                        &mut r.threshold,
                        &mut r.arguments,
                        &mut r.results,
                    )
                }),
            };
            if let Some((enabled, threshold, arguments, results)) = fields {
                *enabled = o.enabled.unwrap_or(*enabled);
                *threshold = o.threshold.unwrap_or(*threshold);
                *arguments = o.arguments.unwrap_or(*arguments);
                *results = o.results.unwrap_or(*results);
            }
        }
        out
    }

    /// The detection engine's view of these rules.
    pub fn to_rule_set(&self) -> RuleSet {
        RuleSet {
            regions: self.regions.clone(),
            entities: self
                .entities
                .iter()
                .map(|r| EntitySetting {
                    entity: r.entity,
                    enabled: r.enabled,
                    threshold: r.threshold,
                    context: r.context.clone(),
                })
                .collect(),
            only_listed: false,
            custom_rules: self.custom.iter().map(CustomRegexRule::to_engine).collect(),
        }
    }

    /// The action for one finding in one direction. A finding from a rule
    /// we no longer know (cannot happen with a consistent set) is redacted:
    /// failing safe beats passing a value nobody configured.
    pub fn action_for(&self, finding: &Finding, d: Direction) -> Action {
        RuleKey::of(finding)
            .and_then(|k| self.rule(&k))
            .map_or(Action::Redact, |v| v.action(d))
    }

    /// Decides what to do with `findings` in direction `d`.
    pub fn decide(&self, findings: Vec<Finding>, d: Direction) -> Verdict {
        let applied: Vec<Applied> = findings
            .into_iter()
            .map(|f| {
                let action = self.action_for(&f, d);
                Applied { finding: f, action }
            })
            .collect();
        let action = applied
            .iter()
            .map(|a| a.action)
            .max()
            .unwrap_or(Action::Allow);
        Verdict { action, applied }
    }
}

/// A finding and the action its rule prescribes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub finding: Finding,
    pub action: Action,
}

/// The outcome of one scan in one direction.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The strongest action among the findings (`allow` when none).
    pub action: Action,
    pub applied: Vec<Applied>,
}

impl Verdict {
    /// The findings whose action is `redact` (what to replace).
    pub fn to_redact(&self) -> Vec<Finding> {
        self.applied
            .iter()
            .filter(|a| a.action == Action::Redact)
            .map(|a| a.finding.clone())
            .collect()
    }

    /// The first finding that blocks, if any (named in the error to the agent).
    pub fn blocking(&self) -> Option<&Finding> {
        self.applied
            .iter()
            .find(|a| a.action == Action::Block)
            .map(|a| &a.finding)
    }
}

/// The custom-rule form as submitted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomRuleInput {
    pub name: String,
    pub label: String,
    pub pattern: String,
    pub score: String,
    /// Comma- or newline-separated context words.
    #[serde(default)]
    pub context: String,
    pub arguments: String,
    pub results: String,
    #[serde(default)]
    pub threshold: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Default for CustomRuleInput {
    /// An empty form; a new rule is enabled unless the form says otherwise.
    fn default() -> Self {
        CustomRuleInput {
            name: String::new(),
            label: String::new(),
            pattern: String::new(),
            score: String::new(),
            context: String::new(),
            arguments: String::new(),
            results: String::new(),
            threshold: String::new(),
            enabled: true,
        }
    }
}

/// Parses the context-word field of a rule form: words separated by commas
/// or new lines, within the engine's limits.
///
/// ```
/// use shared::policy::parse_context_words;
/// assert_eq!(parse_context_words("employee, staff\n badge ").unwrap(), vec!["employee", "staff", "badge"]);
/// assert!(parse_context_words(&"w,".repeat(1000)).is_err());
/// ```
pub fn parse_context_words(s: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = s
        .split([',', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if words.iter().any(|w| !is_text(w, false)) {
        return Err("Use printable characters only.".to_owned());
    }
    if words.len() > crate::detect::MAX_CONTEXT_WORDS
        || words
            .iter()
            .any(|w| w.len() > crate::detect::MAX_CONTEXT_WORD_LEN)
    {
        return Err(format!(
            "Use at most {} words of at most {} characters.",
            crate::detect::MAX_CONTEXT_WORDS,
            crate::detect::MAX_CONTEXT_WORD_LEN
        ));
    }
    Ok(words)
}

/// Parses a 0..=1 number given as text.
pub fn parse_unit(s: &str) -> Result<f32, String> {
    let v: f32 = s
        .trim()
        .parse()
        .map_err(|_| "Enter a number from 0 to 1, like 0.5.".to_owned())?;
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err("Enter a number from 0 to 1, like 0.5.".to_owned())
    }
}

impl CustomRuleInput {
    /// Validates every field, compiling the pattern exactly as scanning
    /// will, and returns the rule with the given id.
    ///
    /// ```
    /// use shared::policy::CustomRuleInput;
    /// let ok = CustomRuleInput { name: "Employee id".into(), label: "EMPLOYEE_ID".into(),
    ///     pattern: r"EMP-\d{6}".into(), score: "0.8".into(), context: "employee, staff".into(),
    ///     arguments: "redact".into(), results: "allow".into(), ..Default::default() };
    /// let rule = ok.parse(uuid::Uuid::nil()).unwrap();
    /// assert_eq!(rule.context, vec!["employee", "staff"]);
    /// let bad = CustomRuleInput { pattern: "EMP-(".into(), ..ok };
    /// assert!(bad.parse(uuid::Uuid::nil()).unwrap_err().field("pattern").is_some());
    /// ```
    pub fn parse(&self, id: Uuid) -> Result<CustomRegexRule, ApiError> {
        let mut errs = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errs.add("name", "Enter a name.");
        } else if name.chars().count() > 100 {
            errs.add("name", "Use at most 100 characters.");
        } else if !is_text(name, false) {
            errs.add("name", "Use printable characters only.");
        }
        if self.pattern.contains('\0') {
            errs.add(
                "pattern",
                "The pattern contains a NUL character; write \\x00 to match one.",
            );
        }
        let score = errs.check("score", parse_unit(&self.score));
        let threshold = if self.threshold.trim().is_empty() {
            Some(DEFAULT_THRESHOLD)
        } else {
            errs.check("threshold", parse_unit(&self.threshold))
        };
        let arguments = errs.check("arguments", self.arguments.parse::<Action>());
        let results = errs.check("results", self.results.parse::<Action>());
        let context = errs.check("context", parse_context_words(&self.context));
        let (Some(score), Some(threshold), Some(arguments), Some(results), Some(context)) =
            (score, threshold, arguments, results, context)
        else {
            return Err(errs.into_error());
        };
        let rule = CustomRegexRule {
            id,
            name: name.to_owned(),
            label: self.label.trim().to_owned(),
            pattern: self.pattern.clone(),
            score,
            context,
            enabled: self.enabled,
            threshold,
            arguments,
            results,
        };
        // The engine is the one authority on labels, patterns and context.
        let probe = RuleSet {
            custom_rules: vec![rule.to_engine()],
            ..RuleSet::default()
        };
        if let Err(crate::detect::RuleError::Custom { field, message, .. }) =
            crate::detect::CompiledRules::compile(&probe)
        {
            errs.add(&field.to_string(), message);
        }
        errs.into_result().map(|()| rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::CompiledRules;

    fn scan(rules: &OrgRules, v: serde_json::Value) -> Vec<Finding> {
        CompiledRules::compile(&rules.to_rule_set())
            .unwrap()
            .scan_json(&v)
            .unwrap()
    }

    #[test]
    fn defaults_block_secrets_redact_ids_and_allow_contact_details() {
        let org = OrgRules::defaults();
        let f = scan(
            &org,
            serde_json::json!({"email": "ada@example.com", "card": "4111 1111 1111 1111",
                                "key": "AKIAIOSFODNN7EXAMPLE"}),
        );
        let v = org.decide(f, Direction::Arguments);
        assert_eq!(v.action, Action::Block);
        let by_label = |l: &str| {
            v.applied
                .iter()
                .find(|a| a.finding.label == l)
                .unwrap()
                .action
        };
        assert_eq!(by_label("EMAIL_ADDRESS"), Action::Allow);
        assert_eq!(by_label("CREDIT_CARD"), Action::Redact);
        assert_eq!(by_label("AWS_ACCESS_KEY"), Action::Block);
        assert_eq!(v.blocking().unwrap().label, "AWS_ACCESS_KEY");
        assert_eq!(v.to_redact().len(), 1);
    }

    #[test]
    fn overrides_change_one_rule_for_one_pack_only() {
        let org = OrgRules::defaults();
        let key = RuleKey::Entity(Entity::CreditCard);
        let pack = org.with_overrides(&[RuleOverride {
            results: Some(Action::Block),
            enabled: Some(false),
            ..RuleOverride::none(key)
        }]);
        assert!(!pack.rule(&key).unwrap().enabled);
        assert_eq!(pack.rule(&key).unwrap().results, Action::Block);
        assert_eq!(pack.rule(&key).unwrap().arguments, Action::Redact);
        assert!(org.rule(&key).unwrap().enabled);
        let f = scan(&pack, serde_json::json!({"card": "4111 1111 1111 1111"}));
        assert!(f.is_empty(), "disabled for the pack");
    }

    #[test]
    fn custom_rules_carry_their_actions() {
        let id = Uuid::from_u128(7);
        let rule = CustomRuleInput {
            name: "Employee".into(),
            label: "EMPLOYEE_ID".into(),
            pattern: r"EMP-\d{6}".into(),
            score: "0.9".into(),
            arguments: "block".into(),
            results: "redact".into(),
            ..Default::default()
        }
        .parse(id)
        .unwrap();
        let org = OrgRules::from_parts(vec![Region::Us], vec![], vec![rule]);
        let f = scan(&org, serde_json::json!({"q": "who is EMP-123456"}));
        assert_eq!(
            org.decide(f.clone(), Direction::Arguments).action,
            Action::Block
        );
        assert_eq!(org.decide(f, Direction::Results).action, Action::Redact);
        assert_eq!(RuleKey::Custom(id).to_string(), format!("custom:{id}"));
    }

    #[test]
    fn custom_rule_input_reports_every_bad_field() {
        let e = CustomRuleInput {
            name: " ".into(),
            label: "bad label!".into(),
            pattern: "(".into(),
            score: "2".into(),
            arguments: "nuke".into(),
            results: "redact".into(),
            ..Default::default()
        }
        .parse(Uuid::nil())
        .unwrap_err();
        for f in ["name", "score", "arguments"] {
            assert!(e.field(f).is_some(), "{f}: {e:?}");
        }
    }

    #[test]
    fn from_parts_fills_defaults_in_entity_order() {
        let stored = vec![EntityRule {
            enabled: false,
            ..EntityRule::default_for(Entity::Url)
        }];
        let org = OrgRules::from_parts(vec![], stored, vec![]);
        assert_eq!(org.entities.len(), Entity::ALL.len());
        assert_eq!(org.entities[0].entity, Entity::ALL[0]);
        assert!(!org.rule(&RuleKey::Entity(Entity::Url)).unwrap().enabled);
        assert!(org.rule(&RuleKey::Entity(Entity::Person)).unwrap().enabled);
    }
}
