//! What Gatehouse does at one step of a tool call, as one pure function.
//!
//! The gateway asks twice per call: after scanning the arguments (the tool
//! policy's outcome counts here) and after scanning the result. The answer
//! ([`Decision`]) says what to do now ([`Effect`]), what is recorded (what
//! enforce mode does, also in monitor mode) and why ([`Reason`]s). Keeping
//! the matrix here, pure, lets table tests cover every combination.
//!
//! ```
//! use shared::account::OrgMode;
//! use shared::decision::{decide, Effect, Step, ToolAction, ToolVerdict};
//! use shared::policy::{Direction, Verdict};
//!
//! let tool = ToolVerdict { action: ToolAction::Block, rule: Some("no shell".into()) };
//! let nothing = Verdict { action: Default::default(), applied: vec![] };
//! let step = Step { mode: OrgMode::Enforce, tool: &tool, direction: Direction::Arguments, verdict: &nothing };
//! let enforced = decide(&step);
//! assert!(matches!(enforced.effect, Effect::Block(_)));
//! // Monitor mode lets it through and records what enforce would have done.
//! let monitored = decide(&Step { mode: OrgMode::Monitor, ..step });
//! assert_eq!(monitored.effect, Effect::Proceed);
//! assert_eq!(monitored.recorded, enforced.recorded);
//! assert!(monitored.reasons.iter().any(|r| r.to_string() == "would_block_tool"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::account::OrgMode;
use crate::api::records::Decision as Recorded;
use crate::detect::Finding;
use crate::policy::{Action, Direction, RuleKey, Verdict};

/// What a tool policy says about a call, before any data is looked at.
///
/// Ordered by strength.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum ToolAction {
    /// Run it.
    #[default]
    Allow,
    /// Run it and flag it in the decision trail.
    Monitor,
    /// Hold it until a person approves.
    Approve,
    /// Never run it.
    Block,
}

impl ToolAction {
    pub const ALL: [ToolAction; 4] = [
        ToolAction::Allow,
        ToolAction::Monitor,
        ToolAction::Approve,
        ToolAction::Block,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolAction::Allow => "allow",
            ToolAction::Monitor => "monitor",
            ToolAction::Approve => "approve",
            ToolAction::Block => "block",
        }
    }
}

impl fmt::Display for ToolAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ToolAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ToolAction::ALL
            .into_iter()
            .find(|a| a.as_str() == s.trim())
            .ok_or_else(|| "Choose allow, monitor, approve or block.".to_owned())
    }
}

/// The tool policy's outcome for one call: the action and the name of the
/// rule that chose it (`None`: the organization's default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolVerdict {
    pub action: ToolAction,
    pub rule: Option<String>,
}

/// One step to decide.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The organization's effective mode for this call.
    pub mode: OrgMode,
    /// The tool policy's outcome (acted on at the arguments step only: by
    /// the result step the call has run).
    pub tool: &'a ToolVerdict,
    pub direction: Direction,
    /// The findings of this direction with their rules' actions.
    pub verdict: &'a Verdict,
}

/// What the gateway does now.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Carry on unchanged.
    Proceed,
    /// Replace these findings, then carry on.
    Redact(Vec<Finding>),
    /// Hold the call for a person's approval; once approved, send it with
    /// these findings replaced.
    Hold(Vec<Finding>),
    /// Stop: the connector is not contacted (arguments) or the result is
    /// withheld (results).
    Block(Blocked),
}

/// Why a step blocks.
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    /// A tool policy rule (its name; `None`: the default outcome).
    Tool(Option<String>),
    /// A detection whose rule blocks.
    Finding(Finding),
}

/// One reason in the decision trail. Its text form is what records store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The organization records only.
    MonitorMode,
    /// Detections whose rules allow (and log).
    Detected(Direction),
    Redacted(Direction),
    Blocked(Direction),
    WouldRedact(Direction),
    WouldBlock(Direction),
    /// The detection rule that decided the block.
    Rule(RuleKey),
    /// A tool policy flagged the call (`monitor`).
    ToolFlagged,
    ToolBlocked,
    WouldBlockTool,
    ApprovalRequired,
    WouldRequireApproval,
    /// The tool policy rule that decided.
    ToolRule(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MonitorMode => f.write_str("monitor_mode"),
            Reason::Detected(d) => write!(f, "detected_{}", d.as_str()),
            Reason::Redacted(d) => write!(f, "redacted_{}", d.as_str()),
            Reason::Blocked(d) => write!(f, "blocked_{}", d.as_str()),
            Reason::WouldRedact(d) => write!(f, "would_redact_{}", d.as_str()),
            Reason::WouldBlock(d) => write!(f, "would_block_{}", d.as_str()),
            Reason::Rule(k) => write!(f, "rule:{k}"),
            Reason::ToolFlagged => f.write_str("tool_flagged"),
            Reason::ToolBlocked => f.write_str("tool_blocked"),
            Reason::WouldBlockTool => f.write_str("would_block_tool"),
            Reason::ApprovalRequired => f.write_str("approval_required"),
            Reason::WouldRequireApproval => f.write_str("would_require_approval"),
            Reason::ToolRule(name) => write!(f, "policy:{name}"),
        }
    }
}

/// The answer for one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What to do now (always [`Effect::Proceed`] in monitor mode).
    pub effect: Effect,
    /// What is recorded: what enforce mode does, in either mode.
    pub recorded: Recorded,
    pub reasons: Vec<Reason>,
}

/// Decides one step (see the module docs). Blocking wins over holding (a
/// call that would be blocked is never put before an approver), holding
/// over redacting.
pub fn decide(step: &Step<'_>) -> Decision {
    let enforce = step.mode == OrgMode::Enforce;
    let d = step.direction;
    let v = step.verdict;
    let tool = match d {
        Direction::Arguments => step.tool.action,
        Direction::Results => ToolAction::Allow,
    };
    let mut reasons = Vec::new();
    if !enforce {
        reasons.push(Reason::MonitorMode);
    }
    match (tool, enforce) {
        (ToolAction::Allow, _) => {}
        (ToolAction::Monitor, _) => reasons.push(Reason::ToolFlagged),
        (ToolAction::Approve, true) => reasons.push(Reason::ApprovalRequired),
        (ToolAction::Approve, false) => reasons.push(Reason::WouldRequireApproval),
        (ToolAction::Block, true) => reasons.push(Reason::ToolBlocked),
        (ToolAction::Block, false) => reasons.push(Reason::WouldBlockTool),
    }
    if tool != ToolAction::Allow
        && let Some(rule) = &step.tool.rule
    {
        reasons.push(Reason::ToolRule(rule.clone()));
    }
    match (v.action, enforce) {
        (Action::Allow, _) if !v.applied.is_empty() => reasons.push(Reason::Detected(d)),
        (Action::Allow, _) => {}
        (Action::Redact, true) => reasons.push(Reason::Redacted(d)),
        (Action::Redact, false) => reasons.push(Reason::WouldRedact(d)),
        (Action::Block, true) => reasons.push(Reason::Blocked(d)),
        (Action::Block, false) => reasons.push(Reason::WouldBlock(d)),
    }
    if let Some(k) = v.blocking().and_then(RuleKey::of) {
        reasons.push(Reason::Rule(k));
    }

    let would = if tool == ToolAction::Block {
        Effect::Block(Blocked::Tool(step.tool.rule.clone()))
    } else if let Some(f) = v.blocking() {
        Effect::Block(Blocked::Finding(f.clone()))
    } else if tool == ToolAction::Approve {
        Effect::Hold(v.to_redact())
    } else if v.action == Action::Redact {
        Effect::Redact(v.to_redact())
    } else {
        Effect::Proceed
    };
    let recorded = match &would {
        Effect::Block(_) => Recorded::Block,
        Effect::Redact(_) => Recorded::Redact,
        Effect::Hold(r) if !r.is_empty() => Recorded::Redact,
        Effect::Hold(_) | Effect::Proceed => Recorded::Allow,
    };
    Decision {
        effect: if enforce { would } else { Effect::Proceed },
        recorded,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Entity, RuleRef};
    use crate::policy::Applied;

    fn finding(e: Entity, pointer: &str) -> Finding {
        Finding {
            label: e.as_str().to_owned(),
            rule: RuleRef::Entity(e),
            pointer: Some(pointer.to_owned()),
            in_key: false,
            start: 0,
            end: 4,
            score: 0.9,
            context: vec![],
        }
    }

    /// A verdict whose findings carry the given actions.
    fn verdict(actions: &[Action]) -> Verdict {
        let applied: Vec<Applied> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| Applied {
                finding: finding(
                    [Entity::EmailAddress, Entity::UsSsn, Entity::CreditCard][i % 3],
                    &format!("/f{i}"),
                ),
                action: *a,
            })
            .collect();
        Verdict {
            action: actions.iter().copied().max().unwrap_or(Action::Allow),
            applied,
        }
    }

    fn kind(e: &Effect) -> &'static str {
        match e {
            Effect::Proceed => "proceed",
            Effect::Redact(_) => "redact",
            Effect::Hold(_) => "hold",
            Effect::Block(Blocked::Tool(_)) => "block_tool",
            Effect::Block(Blocked::Finding(_)) => "block_finding",
        }
    }

    fn texts(d: &Decision) -> Vec<String> {
        d.reasons.iter().map(ToString::to_string).collect()
    }

    /// Every tool action × the strongest data action, arguments step, enforce
    /// mode: (tool, data, effect, recorded).
    #[test]
    fn enforce_arguments_matrix() {
        use Action as A;
        use ToolAction as T;
        let table: &[(T, &[A], &str, Recorded)] = &[
            (T::Allow, &[], "proceed", Recorded::Allow),
            (T::Allow, &[A::Allow], "proceed", Recorded::Allow),
            (T::Allow, &[A::Allow, A::Redact], "redact", Recorded::Redact),
            (
                T::Allow,
                &[A::Redact, A::Block],
                "block_finding",
                Recorded::Block,
            ),
            (T::Monitor, &[], "proceed", Recorded::Allow),
            (T::Monitor, &[A::Redact], "redact", Recorded::Redact),
            (T::Monitor, &[A::Block], "block_finding", Recorded::Block),
            (T::Approve, &[], "hold", Recorded::Allow),
            (T::Approve, &[A::Allow], "hold", Recorded::Allow),
            (T::Approve, &[A::Redact], "hold", Recorded::Redact),
            // A call that would be blocked never reaches an approver.
            (T::Approve, &[A::Block], "block_finding", Recorded::Block),
            (T::Block, &[], "block_tool", Recorded::Block),
            (T::Block, &[A::Redact], "block_tool", Recorded::Block),
            (T::Block, &[A::Block], "block_tool", Recorded::Block),
        ];
        for (tool, data, effect, recorded) in table {
            let tv = ToolVerdict {
                action: *tool,
                rule: Some("r1".into()),
            };
            let v = verdict(data);
            let d = decide(&Step {
                mode: OrgMode::Enforce,
                tool: &tv,
                direction: Direction::Arguments,
                verdict: &v,
            });
            assert_eq!(kind(&d.effect), *effect, "{tool:?} {data:?}");
            assert_eq!(d.recorded, *recorded, "{tool:?} {data:?}");
            assert!(!texts(&d).contains(&"monitor_mode".to_owned()));
            if *tool != T::Allow {
                assert!(texts(&d).contains(&"policy:r1".to_owned()), "{tool:?}");
            }
        }
    }

    /// Monitor mode never changes anything, records the same decision as
    /// enforce, and says what enforce would have done.
    #[test]
    fn monitor_mode_proceeds_and_records_what_enforce_would_do() {
        for tool in ToolAction::ALL {
            for data in [
                &[][..],
                &[Action::Allow],
                &[Action::Redact],
                &[Action::Block],
            ] {
                for direction in [Direction::Arguments, Direction::Results] {
                    let tv = ToolVerdict {
                        action: tool,
                        rule: None,
                    };
                    let v = verdict(data);
                    let step = Step {
                        mode: OrgMode::Enforce,
                        tool: &tv,
                        direction,
                        verdict: &v,
                    };
                    let enforce = decide(&step);
                    let monitor = decide(&Step {
                        mode: OrgMode::Monitor,
                        ..step
                    });
                    assert_eq!(monitor.effect, Effect::Proceed);
                    assert_eq!(monitor.recorded, enforce.recorded);
                    let t = texts(&monitor);
                    assert!(t.contains(&"monitor_mode".to_owned()));
                    let args = direction == Direction::Arguments;
                    assert_eq!(
                        t.contains(&"would_block_tool".to_owned()),
                        args && tool == ToolAction::Block
                    );
                    assert_eq!(
                        t.contains(&"would_require_approval".to_owned()),
                        args && tool == ToolAction::Approve
                    );
                    let dir = direction.as_str();
                    assert_eq!(
                        t.contains(&format!("would_block_{dir}")),
                        data.contains(&Action::Block)
                    );
                    assert_eq!(
                        t.contains(&format!("would_redact_{dir}")),
                        data.iter().max() == Some(&Action::Redact)
                    );
                }
            }
        }
    }

    #[test]
    fn results_step_ignores_the_tool_policy() {
        for tool in ToolAction::ALL {
            let tv = ToolVerdict {
                action: tool,
                rule: None,
            };
            let v = verdict(&[Action::Redact]);
            let d = decide(&Step {
                mode: OrgMode::Enforce,
                tool: &tv,
                direction: Direction::Results,
                verdict: &v,
            });
            assert_eq!(kind(&d.effect), "redact");
            assert_eq!(texts(&d), vec!["redacted_results".to_owned()]);
        }
    }

    #[test]
    fn reasons_name_the_deciding_rule_and_redactions_only_redact_findings() {
        let tv = ToolVerdict::default();
        let v = verdict(&[Action::Allow, Action::Redact, Action::Block]);
        let d = decide(&Step {
            mode: OrgMode::Enforce,
            tool: &tv,
            direction: Direction::Arguments,
            verdict: &v,
        });
        assert_eq!(
            texts(&d),
            vec![
                "blocked_arguments".to_owned(),
                "rule:CREDIT_CARD".to_owned()
            ]
        );
        let v = verdict(&[Action::Allow, Action::Redact]);
        let d = decide(&Step {
            mode: OrgMode::Enforce,
            tool: &tv,
            direction: Direction::Arguments,
            verdict: &v,
        });
        match &d.effect {
            Effect::Redact(f) => {
                assert_eq!(f.len(), 1);
                assert_eq!(f[0].label, "US_SSN");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(texts(&d), vec!["redacted_arguments".to_owned()]);
        // Allow-and-log detections are noted, nothing changes.
        let v = verdict(&[Action::Allow]);
        let d = decide(&Step {
            mode: OrgMode::Enforce,
            tool: &tv,
            direction: Direction::Results,
            verdict: &v,
        });
        assert_eq!(d.effect, Effect::Proceed);
        assert_eq!(texts(&d), vec!["detected_results".to_owned()]);
    }

    #[test]
    fn tool_actions_parse_from_their_names() {
        for a in ToolAction::ALL {
            assert_eq!(a.as_str().parse::<ToolAction>(), Ok(a));
        }
        assert!("maybe".parse::<ToolAction>().is_err());
    }
}
