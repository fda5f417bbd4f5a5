//! The org's rules as the rules page and the admin API show and change
//! them, and the Rule Tester.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::detect::{Entity, EntityGroup, Finding, Region};
use crate::error::{ApiError, FieldErrors};
use crate::policy::{Action, CustomRegexRule, EntityRule, parse_context_words};

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
    /// The org's configuration version: it moves with every change the
    /// data path reads (rules, overrides, pack tools, connectors).
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
        let context = errs.check("context", parse_context_words(&self.context));
        match (threshold, arguments, results, context) {
            (Some(threshold), Some(arguments), Some(results), Some(context)) if errs.is_empty() => {
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

/// The enabled-regions form / API body.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegionsInput {
    /// Region codes: US, UK, EU, AU, IN, SG.
    pub regions: Vec<String>,
}

impl RegionsInput {
    /// Parses every code; an unknown one is a field error naming it.
    ///
    /// ```
    /// use shared::api::RegionsInput;
    /// let ok = RegionsInput { regions: vec!["US".into(), "EU".into()] };
    /// assert_eq!(ok.parse().unwrap().len(), 2);
    /// let bad = RegionsInput { regions: vec!["Mars".into()] };
    /// assert!(bad.parse().unwrap_err().field("regions").unwrap().contains("Mars"));
    /// ```
    pub fn parse(&self) -> Result<Vec<Region>, ApiError> {
        self.regions
            .iter()
            .map(|r| {
                r.parse::<Region>().map_err(|_| {
                    let known: Vec<&str> = Region::ALL.iter().map(|r| r.as_str()).collect();
                    ApiError::invalid(
                        "regions",
                        format!("Unknown region {r:?}; use {}.", known.join(", ")),
                    )
                })
            })
            .collect()
    }
}
