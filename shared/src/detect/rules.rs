//! Rule sets as users write them ([`RuleSet`]) and as the engine runs them
//! ([`CompiledRules`]).

use serde::{Deserialize, Serialize};

use super::context::{ContextSet, Phrase, split_phrase};
use super::entity::{Entity, Region};

/// Default confidence threshold for every rule.
pub const DEFAULT_THRESHOLD: f32 = 0.5;
/// Most custom rules one rule set may hold.
pub const MAX_CUSTOM_RULES: usize = 100;
/// Longest custom pattern, in bytes of source text.
pub const MAX_PATTERN_LEN: usize = 2_000;
/// Compiled-program size limit per custom pattern (the `regex` crate's `size_limit`).
pub const MAX_PATTERN_PROGRAM_BYTES: usize = 256 * 1024;
/// Lazy-DFA cache per custom pattern (the `regex` crate's `dfa_size_limit`).
pub const MAX_PATTERN_DFA_BYTES: usize = 1024 * 1024;
/// Most context words per rule.
pub const MAX_CONTEXT_WORDS: usize = 32;
/// Longest context word or phrase, in bytes.
pub const MAX_CONTEXT_WORD_LEN: usize = 64;
/// Longest custom-rule label, in bytes.
pub const MAX_LABEL_LEN: usize = 64;

/// A rule set: which detectors run, at what threshold, with which regions,
/// plus the org's custom regex rules. Also the shape of `gatehouse scan --rules`
/// files (YAML or JSON).
///
/// Entities not listed in `entities` run with their defaults (enabled, threshold
/// 0.5) unless `only_listed` is set. Regional entities run only when their region
/// is listed in `regions`.
///
/// ```
/// use shared::detect::{Entity, Region, RuleSet};
/// let rules: RuleSet = serde_json::from_str(r#"{
///     "regions": ["US", "UK"],
///     "entities": [{"entity": "URL", "enabled": false},
///                  {"entity": "US_SSN", "threshold": 0.7, "context": ["tax id"]}],
///     "custom_rules": [{"id": "emp", "name": "Employee id", "label": "EMPLOYEE_ID",
///                       "pattern": "EMP-\\d{6}", "score": 0.8, "context": ["employee"]}]
/// }"#).unwrap();
/// assert_eq!(rules.regions, vec![Region::Us, Region::Uk]);
/// assert!(!rules.setting(Entity::Url).enabled);
/// assert_eq!(rules.setting(Entity::UsSsn).threshold, 0.7);
/// assert_eq!(rules.setting(Entity::EmailAddress).threshold, 0.5);
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSet {
    /// Enabled regions (regional detectors run only for these).
    pub regions: Vec<Region>,
    /// Per-entity settings; unlisted entities use [`EntitySetting::new`] defaults.
    pub entities: Vec<EntitySetting>,
    /// When true, entities not listed in `entities` are disabled.
    pub only_listed: bool,
    /// The org's custom regex rules.
    pub custom_rules: Vec<CustomRule>,
}

impl Default for RuleSet {
    /// Every standard entity and every secret detector at threshold 0.5, region US.
    fn default() -> Self {
        RuleSet {
            regions: vec![Region::Us],
            entities: Entity::ALL.iter().map(|&e| EntitySetting::new(e)).collect(),
            only_listed: false,
            custom_rules: Vec::new(),
        }
    }
}

impl RuleSet {
    /// The default rule set with every region enabled (what `gatehouse scan` uses).
    ///
    /// ```
    /// let r = shared::detect::RuleSet::all_regions();
    /// assert_eq!(r.regions.len(), shared::detect::Region::ALL.len());
    /// ```
    pub fn all_regions() -> Self {
        RuleSet {
            regions: Region::ALL.to_vec(),
            ..RuleSet::default()
        }
    }

    /// The effective setting for one entity (the last listed wins).
    pub fn setting(&self, entity: Entity) -> EntitySetting {
        match self.entities.iter().rev().find(|s| s.entity == entity) {
            Some(s) => s.clone(),
            None => EntitySetting {
                enabled: !self.only_listed,
                ..EntitySetting::new(entity)
            },
        }
    }

    /// Whether an entity would run: enabled and, for regional ones, its region on.
    ///
    /// ```
    /// use shared::detect::{Entity, RuleSet};
    /// assert!(RuleSet::default().is_active(Entity::UsSsn));
    /// assert!(!RuleSet::default().is_active(Entity::UkNhs));
    /// assert!(RuleSet::all_regions().is_active(Entity::UkNhs));
    /// ```
    pub fn is_active(&self, entity: Entity) -> bool {
        self.setting(entity).enabled && entity.region().is_none_or(|r| self.regions.contains(&r))
    }
}

/// Settings for one built-in entity.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySetting {
    /// Which entity.
    pub entity: Entity,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Findings scoring below this are dropped (unless all findings are asked for).
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Extra context words or phrases, added to the built-in ones.
    #[serde(default)]
    pub context: Vec<String>,
}

impl EntitySetting {
    /// Enabled, threshold 0.5, no extra context.
    pub fn new(entity: Entity) -> Self {
        EntitySetting {
            entity,
            enabled: true,
            threshold: DEFAULT_THRESHOLD,
            context: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_threshold() -> f32 {
    DEFAULT_THRESHOLD
}

fn default_custom_score() -> f32 {
    0.8
}

/// An org's own regex rule.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Stable id (what findings reference).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Label used in findings and placeholders (`[REDACTED:<LABEL>]`):
    /// letters, digits, `_` and `-`.
    pub label: String,
    /// A `regex`-crate pattern (linear time; no look-around or back-references).
    pub pattern: String,
    /// Score of a match without context, 0..=1.
    #[serde(default = "default_custom_score")]
    pub score: f32,
    /// Context words or phrases that raise the score when near a match.
    #[serde(default)]
    pub context: Vec<String>,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Threshold for this rule.
    #[serde(default = "default_threshold")]
    pub threshold: f32,
}

/// Which field of a rule is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleField {
    /// The rule id.
    Id,
    /// The rule name.
    Name,
    /// The placeholder label.
    Label,
    /// The regex pattern.
    Pattern,
    /// The score.
    Score,
    /// The threshold.
    Threshold,
    /// The context words.
    Context,
}

impl std::fmt::Display for RuleField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RuleField::Id => "id",
            RuleField::Name => "name",
            RuleField::Label => "label",
            RuleField::Pattern => "pattern",
            RuleField::Score => "score",
            RuleField::Threshold => "threshold",
            RuleField::Context => "context",
        })
    }
}

/// Why a rule set did not compile. Names the rule and the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleError {
    /// A custom rule is invalid.
    #[error("custom rule {id:?} ({name:?}): {field}: {message}")]
    Custom {
        /// The rule's id as given.
        id: String,
        /// The rule's name as given.
        name: String,
        /// The offending field.
        field: RuleField,
        /// What is wrong, for a human.
        message: String,
    },
    /// An entity setting is invalid.
    #[error("entity {entity}: {field}: {message}")]
    Entity {
        /// The entity.
        entity: Entity,
        /// The offending field.
        field: RuleField,
        /// What is wrong, for a human.
        message: String,
    },
    /// Too many custom rules.
    #[error("too many custom rules: {count} (max {max})")]
    TooManyCustomRules {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}

fn check_context(words: &[String]) -> Result<Vec<Phrase>, (RuleField, String)> {
    if words.len() > MAX_CONTEXT_WORDS {
        return Err((
            RuleField::Context,
            format!(
                "too many context words: {} (max {MAX_CONTEXT_WORDS})",
                words.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        if w.len() > MAX_CONTEXT_WORD_LEN {
            return Err((
                RuleField::Context,
                format!("context word longer than {MAX_CONTEXT_WORD_LEN} bytes"),
            ));
        }
        let p = split_phrase(w);
        if p.is_empty() {
            return Err((
                RuleField::Context,
                format!("context word {w:?} has no letters or digits"),
            ));
        }
        out.push(p);
    }
    Ok(out)
}

fn check_unit(v: f32, field: RuleField) -> Result<(), (RuleField, String)> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err((field, format!("must be a number from 0 to 1, got {v}")))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EntityRule {
    pub enabled: bool,
    pub threshold: f32,
    pub context: ContextSet,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledCustom {
    pub id: String,
    pub label: String,
    pub regex: regex::Regex,
    pub score: f32,
    pub threshold: f32,
    pub context: ContextSet,
}

/// A rule set compiled for scanning. Compile once per rules version, share
/// behind an `Arc` across threads (`Send + Sync`), scan many inputs.
///
/// Input limits for the checked scans. Work is linear in the input either way;
/// these bound memory and recursion for untrusted documents.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest input, in bytes (for JSON values: bytes of all strings, keys and numbers).
    pub max_input_bytes: usize,
    /// Deepest nesting of arrays / objects.
    pub max_depth: usize,
}

impl Default for Limits {
    /// 16 MiB and depth 128 (serde_json's own parser limit).
    fn default() -> Self {
        Limits {
            max_input_bytes: 16 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// ```
/// use shared::detect::{CompiledRules, RuleSet};
/// let rules = CompiledRules::compile(&RuleSet::default()).unwrap();
/// let found = rules.scan_text("mail jane.doe@example.com please");
/// assert_eq!(found[0].label, "EMAIL_ADDRESS");
/// assert_eq!(&"mail jane.doe@example.com please"[found[0].start..found[0].end], "jane.doe@example.com");
/// ```
#[derive(Debug, Clone)]
pub struct CompiledRules {
    pub(crate) entities: Vec<EntityRule>,
    pub(crate) custom: Vec<CompiledCustom>,
    pub(crate) regions: u8,
    pub(crate) phone_regions: Vec<phonenumber::country::Id>,
    pub(crate) limits: Limits,
}

impl CompiledRules {
    /// Validate and compile a rule set.
    ///
    /// # Errors
    /// [`RuleError`] naming the custom rule (id and name) or entity and the
    /// field that is wrong: a regex syntax error, a pattern over the size
    /// limits, a bad label, score or threshold, bad context words, or too many
    /// custom rules.
    ///
    /// ```
    /// use shared::detect::{CompiledRules, CustomRule, RuleError, RuleField, RuleSet};
    /// let mut set = RuleSet::default();
    /// set.custom_rules.push(CustomRule {
    ///     id: "r1".into(), name: "Broken".into(), label: "X".into(),
    ///     pattern: "(unclosed".into(), score: 0.8, context: vec![],
    ///     enabled: true, threshold: 0.5,
    /// });
    /// match CompiledRules::compile(&set) {
    ///     Err(RuleError::Custom { id, field: RuleField::Pattern, message, .. }) => {
    ///         assert_eq!(id, "r1");
    ///         assert!(message.contains("unclosed"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn compile(set: &RuleSet) -> Result<CompiledRules, RuleError> {
        let mut regions = 0u8;
        for r in &set.regions {
            regions |= r.bit();
        }
        let mut entities = Vec::with_capacity(Entity::ALL.len());
        for &e in Entity::ALL {
            let s = set.setting(e);
            let err = |(field, message): (RuleField, String)| RuleError::Entity {
                entity: e,
                field,
                message,
            };
            check_unit(s.threshold, RuleField::Threshold).map_err(err)?;
            let mut context: Vec<Phrase> = super::context::defaults(e)
                .iter()
                .map(|w| split_phrase(w))
                .collect();
            context.extend(check_context(&s.context).map_err(err)?);
            let enabled = s.enabled && e.region().is_none_or(|r| regions & r.bit() != 0);
            entities.push(EntityRule {
                enabled,
                threshold: s.threshold,
                context: ContextSet::new(context),
            });
        }
        if set.custom_rules.len() > MAX_CUSTOM_RULES {
            return Err(RuleError::TooManyCustomRules {
                count: set.custom_rules.len(),
                max: MAX_CUSTOM_RULES,
            });
        }
        let mut custom = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for r in &set.custom_rules {
            let c = compile_custom(r, &mut ids).map_err(|(field, message)| RuleError::Custom {
                id: r.id.clone(),
                name: r.name.clone(),
                field,
                message,
            })?;
            if let Some(c) = c {
                custom.push(c);
            }
        }
        phone_cache();
        let mut phone_regions = Vec::new();
        {
            use phonenumber::country::Id;
            let on = |r: Region| regions & r.bit() != 0;
            if on(Region::Us) {
                phone_regions.push(Id::US);
            }
            if on(Region::Uk) {
                phone_regions.push(Id::GB);
            }
            if on(Region::Eu) {
                phone_regions.extend([Id::DE, Id::FR, Id::ES, Id::IT, Id::NL]);
            }
            if on(Region::Au) {
                phone_regions.push(Id::AU);
            }
            if on(Region::In) {
                phone_regions.push(Id::IN);
            }
            if on(Region::Sg) {
                phone_regions.push(Id::SG);
            }
        }
        Ok(CompiledRules {
            entities,
            custom,
            regions,
            phone_regions,
            limits: Limits::default(),
        })
    }

    /// Replace the input limits (size, depth) used by the checked scans.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn on(&self, e: Entity) -> bool {
        self.entities.get(e.index()).is_some_and(|r| r.enabled)
    }

    pub(crate) fn region_on(&self, r: Region) -> bool {
        self.regions & r.bit() != 0
    }
}

/// `phonenumber` compiles its metadata patterns lazily into one shared LRU of
/// 100 regexes; validating numbers of several regions uses more than that, so
/// the cache thrashes and re-parses patterns on every call. Give it room for
/// all of them, once per process.
fn phone_cache() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(4096);
        }
    });
}

fn compile_custom(
    r: &CustomRule,
    ids: &mut std::collections::HashSet<String>,
) -> Result<Option<CompiledCustom>, (RuleField, String)> {
    if r.id.trim().is_empty() || r.id.len() > 128 {
        return Err((RuleField::Id, "must be 1 to 128 characters".into()));
    }
    if !ids.insert(r.id.clone()) {
        return Err((RuleField::Id, "another custom rule has the same id".into()));
    }
    if r.name.trim().is_empty() || r.name.len() > 200 {
        return Err((RuleField::Name, "must be 1 to 200 characters".into()));
    }
    if r.label.is_empty()
        || r.label.len() > MAX_LABEL_LEN
        || !r
            .label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err((
            RuleField::Label,
            format!(
                "must be 1 to {MAX_LABEL_LEN} letters, digits, '_' or '-' (it appears in [REDACTED:<LABEL>])"
            ),
        ));
    }
    check_unit(r.score, RuleField::Score)?;
    check_unit(r.threshold, RuleField::Threshold)?;
    let context = check_context(&r.context)?;
    if r.pattern.is_empty() {
        return Err((RuleField::Pattern, "pattern is empty".into()));
    }
    if r.pattern.len() > MAX_PATTERN_LEN {
        return Err((
            RuleField::Pattern,
            format!(
                "pattern too large: {} bytes (max {MAX_PATTERN_LEN})",
                r.pattern.len()
            ),
        ));
    }
    let regex = regex::RegexBuilder::new(&r.pattern)
        .size_limit(MAX_PATTERN_PROGRAM_BYTES)
        .dfa_size_limit(MAX_PATTERN_DFA_BYTES)
        .nest_limit(64)
        .build()
        .map_err(|e| {
            let msg = match e {
                regex::Error::CompiledTooBig(limit) => format!(
                    "pattern too large: its compiled form exceeds {limit} bytes; use fewer or smaller repetitions"
                ),
                regex::Error::Syntax(s) => s,
                other => other.to_string(),
            };
            (RuleField::Pattern, msg)
        })?;
    if regex.is_match("") {
        return Err((
            RuleField::Pattern,
            "pattern matches the empty string; it would match everywhere".into(),
        ));
    }
    if !r.enabled {
        return Ok(None);
    }
    Ok(Some(CompiledCustom {
        id: r.id.clone(),
        label: r.label.clone(),
        regex,
        score: r.score,
        threshold: r.threshold,
        context: ContextSet::new(context),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> CustomRule {
        CustomRule {
            id: "r".into(),
            name: "Rule".into(),
            label: "LBL".into(),
            pattern: pattern.into(),
            score: 0.8,
            context: vec![],
            enabled: true,
            threshold: 0.5,
        }
    }

    fn compile_one(r: CustomRule) -> Result<CompiledRules, RuleError> {
        let mut set = RuleSet::default();
        set.custom_rules.push(r);
        CompiledRules::compile(&set)
    }

    fn field_of(e: RuleError) -> RuleField {
        match e {
            RuleError::Custom { field, .. } | RuleError::Entity { field, .. } => field,
            RuleError::TooManyCustomRules { .. } => RuleField::Id,
        }
    }

    #[test]
    fn custom_rule_errors_name_the_field() {
        assert_eq!(
            field_of(compile_one(rule("a(")).unwrap_err()),
            RuleField::Pattern
        );
        assert_eq!(
            field_of(compile_one(rule("")).unwrap_err()),
            RuleField::Pattern
        );
        assert_eq!(
            field_of(compile_one(rule("a*")).unwrap_err()),
            RuleField::Pattern
        );
        let big = compile_one(rule(r"\w{1000}\w{1000}")).unwrap_err();
        assert!(big.to_string().contains("too large"), "{big}");
        let long = compile_one(rule(&"a".repeat(MAX_PATTERN_LEN + 1))).unwrap_err();
        assert!(long.to_string().contains("too large"));
        let mut r = rule("x");
        r.label = "BAD LABEL]".into();
        assert_eq!(field_of(compile_one(r).unwrap_err()), RuleField::Label);
        let mut r = rule("x");
        r.score = 1.5;
        assert_eq!(field_of(compile_one(r).unwrap_err()), RuleField::Score);
        let mut r = rule("x");
        r.score = f32::NAN;
        assert_eq!(field_of(compile_one(r).unwrap_err()), RuleField::Score);
        let mut r = rule("x");
        r.context = vec!["--".into()];
        assert_eq!(field_of(compile_one(r).unwrap_err()), RuleField::Context);
        let msg = compile_one(rule("a(")).unwrap_err().to_string();
        assert!(
            msg.contains("\"r\"") && msg.contains("Rule") && msg.contains("pattern"),
            "{msg}"
        );
    }

    #[test]
    fn too_many_and_duplicates() {
        let mut set = RuleSet::default();
        for i in 0..=MAX_CUSTOM_RULES {
            let mut r = rule("x");
            r.id = format!("r{i}");
            set.custom_rules.push(r);
        }
        assert!(matches!(
            CompiledRules::compile(&set),
            Err(RuleError::TooManyCustomRules { .. })
        ));
        let set = RuleSet {
            custom_rules: vec![rule("x"), rule("y")],
            ..RuleSet::default()
        };
        assert_eq!(
            field_of(CompiledRules::compile(&set).unwrap_err()),
            RuleField::Id
        );
    }

    #[test]
    fn entity_threshold_checked_and_regions_gate() {
        let mut set = RuleSet::default();
        set.entities.push(EntitySetting {
            threshold: -1.0,
            ..EntitySetting::new(Entity::Url)
        });
        assert!(matches!(
            CompiledRules::compile(&set),
            Err(RuleError::Entity {
                entity: Entity::Url,
                field: RuleField::Threshold,
                ..
            })
        ));
        let c = CompiledRules::compile(&RuleSet::default()).unwrap();
        assert!(c.on(Entity::UsSsn) && !c.on(Entity::InPan));
        let yaml_like: RuleSet = serde_json::from_str(
            r#"{"only_listed": true, "entities": [{"entity": "EMAIL_ADDRESS"}]}"#,
        )
        .unwrap();
        let c = CompiledRules::compile(&yaml_like).unwrap();
        assert!(c.on(Entity::EmailAddress) && !c.on(Entity::Url));
    }

    #[test]
    fn compiled_rules_are_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CompiledRules>();
    }
}
