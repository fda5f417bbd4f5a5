//! The tool policy engine: an org's ordered rules (a pack's first, then the
//! org's), each for a tool name or glob with an optional CEL condition; the
//! first rule that matches decides, the org's default otherwise. The
//! gateway and the policy tester both evaluate through [`Policies`].
//!
//! Conditions are written by tenants and run on shared machines, so they
//! are bounded before the CEL parser sees them (`cel` has no cost limit and
//! its parser and interpreter recurse over the expression): at most
//! [`MAX_NESTING`] levels of brackets, [`MAX_OPERATORS`] operators and one
//! comprehension (`all`, `exists`, `map`, `filter`), which keeps evaluation
//! linear in the size of the arguments. Evaluation runs on the scanning
//! pool, never on the async threads.
//!
//! A condition that cannot be evaluated for a call (a missing field, a
//! type mismatch) counts as *matching* when its rule blocks or holds (fail
//! closed) and as not matching when it allows or monitors; the call's
//! record names the rule (`policy_error:<name>`), never the error text,
//! which can quote argument values.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::{Context, Env, ExecutionError, Program, Value as Cel};
use serde_json::Value;
use shared::api::{ToolPattern, ToolPolicy};
use shared::decision::{ToolAction, ToolVerdict};

/// Deepest bracket nesting accepted in a condition.
pub const MAX_NESTING: usize = 8;
/// Most operators (including `.` and `[`) in one condition.
pub const MAX_OPERATORS: usize = 64;
/// Most comprehension macros in one condition.
pub const MAX_COMPREHENSIONS: usize = 1;

/// The variables a condition sees.
pub const VARIABLES: [&str; 6] = ["tool", "args", "user", "pack", "findings", "session"];

/// The standard CEL library, built once (building it per call would cost
/// more than most evaluations).
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

/// A compiled condition.
#[derive(Debug)]
pub struct Condition {
    program: Program,
    uses_session: bool,
}

impl Condition {
    /// Compiles and checks `source`: bounded (see the module docs), valid
    /// CEL, and — evaluated once against sample facts — naming only known
    /// variables and functions, with operand types that fit and a boolean
    /// result. The error is a sentence for the admin's form, with the line
    /// and column for syntax errors.
    pub fn compile(source: &str) -> Result<Self, String> {
        bounded(source)?;
        let program = Program::compile(source).map_err(|errs| {
            errs.errors
                .iter()
                .map(|e| {
                    let (line, col) = e.pos;
                    format!("Line {line}, column {col}: {}", e.msg)
                })
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let uses_session = program.references().has_variable("session");
        let c = Condition {
            program,
            uses_session,
        };
        // Type errors: a dry run over sample facts. Missing keys are
        // expected (the sample arguments are empty); anything else is a
        // mistake in the expression itself.
        match c.eval(&Facts::sample()) {
            Ok(_) | Err(EvalError::Cel(ExecutionError::NoSuchKey(_))) => Ok(c),
            Err(EvalError::NotBool(t)) => Err(format!(
                "The condition must be true or false, but it gives a {t}."
            )),
            Err(EvalError::Cel(ExecutionError::UndeclaredReference(name))) => Err(format!(
                "Unknown name '{name}'. Conditions can use {}.",
                VARIABLES.join(", ")
            )),
            Err(EvalError::Cel(e)) => Err(format!("Type error: {e}.")),
        }
    }

    /// Evaluates the condition for one call.
    pub fn eval(&self, facts: &Facts) -> Result<bool, EvalError> {
        self.eval_in(&context(facts))
    }

    /// Evaluates the condition in a context built once per call (the
    /// conversion of the arguments is most of an evaluation's cost).
    fn eval_in(&self, cx: &Context<'_, '_>) -> Result<bool, EvalError> {
        match self.program.execute(cx) {
            Ok(Cel::Bool(b)) => Ok(b),
            Ok(other) => Err(EvalError::NotBool(other.type_of().to_string())),
            Err(e) => Err(EvalError::Cel(e)),
        }
    }
}

/// The variables of one call, as conditions see them.
fn context<'a>(facts: &Facts) -> Context<'a, 'a> {
    let mut cx = Context::with_env(ENV.clone());
    cx.add_variable_from_value("tool", facts.tool.clone());
    cx.add_variable_from_value("args", to_cel(&facts.args));
    cx.add_variable_from_value(
        "user",
        HashMap::from([
            ("id".to_owned(), Cel::from(facts.user_id.clone())),
            ("name".to_owned(), Cel::from(facts.user_name.clone())),
        ]),
    );
    cx.add_variable_from_value(
        "pack",
        HashMap::from([
            ("id".to_owned(), Cel::from(facts.pack_id.clone())),
            ("name".to_owned(), Cel::from(facts.pack_name.clone())),
        ]),
    );
    cx.add_variable_from_value("findings", facts.findings.clone());
    cx.add_variable_from_value(
        "session",
        HashMap::from([("calls".to_owned(), Cel::from(facts.session_calls))]),
    );
    cx
}

/// Why a condition gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Cel(ExecutionError),
    #[error("the condition gave a {0}, not true or false")]
    NotBool(String),
}

/// Refuses conditions the CEL parser or interpreter could take too deep or
/// too long (see the module docs). Counted over the text outside string
/// literals; a rough count errs on the side of refusing.
fn bounded(source: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut operators = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut code = String::with_capacity(source.len());
    for c in source.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if matches!(
            c,
            '+' | '-' | '*' | '/' | '%' | '<' | '>' | '=' | '!' | '&' | '|' | '?' | '.' | '['
        ) {
            operators += 1;
        }
        code.push(c);
    }
    if deepest > MAX_NESTING {
        return Err(format!(
            "The condition nests brackets {deepest} deep; at most {MAX_NESTING} are allowed."
        ));
    }
    if operators > MAX_OPERATORS {
        return Err(format!(
            "The condition is too long: use at most {MAX_OPERATORS} operators, or split it into several rules."
        ));
    }
    let comprehensions = [
        ".all(",
        ".exists(",
        ".exists_one(",
        ".existsOne(",
        ".map(",
        ".filter(",
    ]
    .iter()
    .map(|m| code.matches(m).count())
    .sum::<usize>();
    if comprehensions > MAX_COMPREHENSIONS {
        return Err(format!(
            "Use at most {MAX_COMPREHENSIONS} of all(), exists(), map() or filter() per condition."
        ));
    }
    Ok(())
}

/// JSON to CEL keeping integers signed where they fit, so `args.n + 1`
/// works (the serde route makes every positive number unsigned, and CEL
/// does not add `uint` and `int`).
fn to_cel(v: &Value) -> Cel {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Cel::Int)
            .or_else(|| n.as_u64().map(Cel::UInt))
            .unwrap_or_else(|| Cel::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Cel::from(s.clone()),
        Value::Array(a) => Cel::from(a.iter().map(to_cel).collect::<Vec<_>>()),
        Value::Object(o) => Cel::from(
            o.iter()
                .map(|(k, v)| (k.clone(), to_cel(v)))
                .collect::<HashMap<String, Cel>>(),
        ),
    }
}

/// The distinct labels of findings, as conditions see them (`findings`).
pub fn finding_labels(findings: &[shared::detect::Finding]) -> Vec<String> {
    let mut labels: Vec<String> = findings.iter().map(|f| f.label.clone()).collect();
    labels.sort();
    labels.dedup();
    labels
}

/// What a condition can look at for one call.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The exposed tool name.
    pub tool: String,
    pub args: Value,
    /// The Registered User's external id and display name.
    pub user_id: String,
    pub user_name: String,
    pub pack_id: String,
    pub pack_name: String,
    /// Entities and custom labels detected in the arguments.
    pub findings: Vec<String>,
    /// Calls of the runtime session before this one.
    pub session_calls: i64,
}

impl Facts {
    fn sample() -> Self {
        Facts {
            args: Value::Object(Default::default()),
            ..Default::default()
        }
    }
}

/// One rule ready to evaluate. A stored condition that no longer compiles
/// (a newer, stricter version) is kept as an always-failing condition, so
/// it fails closed like an evaluation error.
struct Compiled {
    rule: ToolPolicy,
    pattern: Option<ToolPattern>,
    condition: Option<Result<Condition, String>>,
}

/// A pack's tool policies, compiled, in evaluation order.
pub struct Policies {
    default: ToolAction,
    rules: Vec<Compiled>,
}

/// The outcome of evaluating the policies for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub verdict: ToolVerdict,
    /// The index (in evaluation order) of the rule that decided.
    pub matched: Option<usize>,
    /// Rules whose condition could not be evaluated: name and error text
    /// (for the tester; records keep only the name).
    pub errors: Vec<(String, String)>,
}

impl Policies {
    /// `rules` in evaluation order (pack rules first).
    pub fn compile(rules: Vec<ToolPolicy>, default: ToolAction) -> Self {
        let rules = rules
            .into_iter()
            .map(|rule| Compiled {
                pattern: ToolPattern::parse(&rule.tools).ok(),
                condition: rule.condition.as_deref().map(Condition::compile),
                rule,
            })
            .collect();
        Policies { default, rules }
    }

    pub fn rules(&self) -> impl Iterator<Item = &ToolPolicy> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// Whether a rule that applies to `tool` needs a condition evaluated
    /// (if not, [`Policies::evaluate`] is trivially cheap).
    pub fn has_conditions_for(&self, tool: &str) -> bool {
        self.rules
            .iter()
            .any(|c| c.condition.is_some() && c.applies_to(tool))
    }

    /// Whether a condition for `tool` reads `session` (which costs a read).
    pub fn needs_session(&self, tool: &str) -> bool {
        self.rules.iter().any(|c| {
            c.applies_to(tool) && matches!(&c.condition, Some(Ok(cond)) if cond.uses_session)
        })
    }

    /// The first matching rule's action, or the default.
    pub fn evaluate(&self, facts: &Facts) -> Evaluation {
        let mut errors = Vec::new();
        // Built on first use: rules without conditions never need it.
        let mut cx: Option<Context<'_, '_>> = None;
        for (i, c) in self.rules.iter().enumerate() {
            if !c.applies_to(&facts.tool) {
                continue;
            }
            let matched = match &c.condition {
                None => true,
                Some(Ok(cond)) => match cond.eval_in(cx.get_or_insert_with(|| context(facts))) {
                    Ok(b) => b,
                    Err(e) => {
                        errors.push((c.rule.name.clone(), e.to_string()));
                        c.rule.action >= ToolAction::Approve
                    }
                },
                Some(Err(e)) => {
                    errors.push((c.rule.name.clone(), e.clone()));
                    c.rule.action >= ToolAction::Approve
                }
            };
            if matched {
                return Evaluation {
                    verdict: ToolVerdict {
                        action: c.rule.action,
                        rule: Some(c.rule.name.clone()),
                    },
                    matched: Some(i),
                    errors,
                };
            }
        }
        Evaluation {
            verdict: ToolVerdict {
                action: self.default,
                rule: None,
            },
            matched: None,
            errors,
        }
    }
}

impl Compiled {
    fn applies_to(&self, tool: &str) -> bool {
        self.pattern.as_ref().is_some_and(|p| p.matches(tool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn rule(name: &str, tools: &str, condition: Option<&str>, action: ToolAction) -> ToolPolicy {
        ToolPolicy {
            id: Uuid::new_v4(),
            pack_id: None,
            pack_name: None,
            position: 0,
            name: name.into(),
            tools: tools.into(),
            condition: condition.map(str::to_owned),
            action,
        }
    }

    fn facts(tool: &str, args: Value) -> Facts {
        Facts {
            tool: tool.into(),
            args,
            user_id: "u-1".into(),
            user_name: "Ada".into(),
            pack_id: Uuid::nil().to_string(),
            pack_name: "Support".into(),
            findings: vec!["EMAIL_ADDRESS".into()],
            session_calls: 3,
        }
    }

    #[test]
    fn the_first_matching_rule_decides_and_the_default_applies_otherwise() {
        let p = Policies::compile(
            vec![
                rule(
                    "big payments",
                    "pay__*",
                    Some("args.amount > 100 && args.currency == 'EUR'"),
                    ToolAction::Block,
                ),
                rule("payments", "pay__*", None, ToolAction::Monitor),
                rule("no shell", "*__shell*", None, ToolAction::Block),
            ],
            ToolAction::Allow,
        );
        let e = p.evaluate(&facts(
            "pay__send",
            json!({"amount": 250, "currency": "EUR"}),
        ));
        assert_eq!(e.verdict.action, ToolAction::Block);
        assert_eq!(e.verdict.rule.as_deref(), Some("big payments"));
        let e = p.evaluate(&facts(
            "pay__send",
            json!({"amount": 20, "currency": "EUR"}),
        ));
        assert_eq!(e.verdict.action, ToolAction::Monitor);
        assert_eq!(e.matched, Some(1));
        let e = p.evaluate(&facts("ops__shell_exec", json!({})));
        assert_eq!(e.verdict.rule.as_deref(), Some("no shell"));
        let e = p.evaluate(&facts("docs__search", json!({})));
        assert_eq!(e.verdict, ToolVerdict::default());
        assert_eq!(e.matched, None);
    }

    #[test]
    fn conditions_see_every_documented_variable() {
        for (cond, want) in [
            ("tool == 'db__query' && tool.startsWith('db__')", true),
            ("user.id == 'u-1' && user.name == 'Ada'", true),
            ("pack.name == 'Support'", true),
            ("'EMAIL_ADDRESS' in findings && size(findings) == 1", true),
            ("session.calls >= 3", true),
            ("args.rows.exists(r, r.id == 7)", true),
            ("args.n + 1 == 3", true),
            ("has(args.missing)", false),
        ] {
            let c = Condition::compile(cond).unwrap_or_else(|e| panic!("{cond}: {e}"));
            let f = facts("db__query", json!({"rows": [{"id": 7}], "n": 2}));
            assert_eq!(c.eval(&f).unwrap(), want, "{cond}");
        }
        assert!(
            Condition::compile("session.calls > 10")
                .unwrap()
                .uses_session
        );
        assert!(!Condition::compile("args.x > 1").unwrap().uses_session);
    }

    #[test]
    fn bad_conditions_are_explained_when_saved() {
        let syntax = Condition::compile("args.amount >").unwrap_err();
        assert!(syntax.starts_with("Line 1, column "), "{syntax}");
        let unknown = Condition::compile("amount > 100").unwrap_err();
        assert!(unknown.contains("Unknown name 'amount'"), "{unknown}");
        let types = Condition::compile("tool > 5").unwrap_err();
        assert!(types.starts_with("Type error"), "{types}");
        let not_bool = Condition::compile("tool").unwrap_err();
        assert!(not_bool.contains("true or false"), "{not_bool}");
        // Expressions that only fail for missing arguments are fine.
        assert!(Condition::compile("args.amount > 100").is_ok());
    }

    #[test]
    fn conditions_are_bounded_before_parsing() {
        let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
        assert!(Condition::compile(&deep).unwrap_err().contains("deep"));
        let long = vec!["1"; 500].join(" + ") + " > 0";
        assert!(Condition::compile(&long).unwrap_err().contains("operators"));
        let nested = "args.a.all(x, args.a.all(y, x == y))";
        assert!(
            Condition::compile(nested)
                .unwrap_err()
                .contains("at most 1")
        );
        // Brackets and operators inside strings do not count.
        let quoted = format!("args.cmd == '{}'", "((((((((((+-".repeat(10));
        assert!(Condition::compile(&quoted).is_ok());
    }

    #[test]
    fn a_condition_that_cannot_be_evaluated_fails_closed_only_for_restrictive_rules() {
        let p = Policies::compile(
            vec![
                rule(
                    "allow cheap",
                    "pay__*",
                    Some("args.amount < 10"),
                    ToolAction::Allow,
                ),
                rule(
                    "block big",
                    "pay__*",
                    Some("args.amount > 100"),
                    ToolAction::Block,
                ),
            ],
            ToolAction::Monitor,
        );
        // `amount` missing: the allow rule does not match, the block rule does.
        let e = p.evaluate(&facts("pay__send", json!({"to": "x"})));
        assert_eq!(e.verdict.action, ToolAction::Block);
        assert_eq!(e.errors.len(), 2);
        assert_eq!(e.errors[0].0, "allow cheap");
    }
}
