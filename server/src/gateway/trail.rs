//! The decision trail of one call, gathered stage by stage and turned into
//! its record at the end.

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::account::OrgMode;
use shared::api::{Decision, EffectiveMode, Outcome, PAUSED_REASON, SessionKind};
use shared::decision::{self, Step, ToolVerdict};
use shared::detect::Finding;
use shared::policy::{Direction, RuleKey, Verdict};
use uuid::Uuid;

use super::CallMeta;
use crate::agent_tokens::AgentClaims;
use crate::metrics::{DetectionLabels, Metrics};
use crate::recorder::{CallRecord, Charge, SessionRecord, ViolationRecord};
use crate::service::data_path::AgentCtx;

/// Everything recorded about a call, gathered as it progresses.
#[derive(Clone)]
pub(super) struct Trail {
    /// The call's record id, shared by its intent and its final record.
    pub id: Uuid,
    org_id: Uuid,
    pack_id: Uuid,
    user_id: Uuid,
    key_id: Uuid,
    session: SessionRecord,
    connector_id: Uuid,
    tool: String,
    upstream_tool: String,
    pub mode: OrgMode,
    /// What the call counts against (calls decided in enforce mode).
    charge: Option<Charge>,
    /// The strongest decision of the steps so far.
    pub decision: Decision,
    reasons: Vec<String>,
    pub arguments_redacted: Option<Value>,
    pub error_message: Option<String>,
    pub upstream_us: Option<i64>,
    /// What the call touched at the connector (a GitHub repository).
    pub resource: Option<String>,
    /// The connector's own request id (GitHub's `X-GitHub-Request-Id`).
    pub upstream_request_id: Option<String>,
    /// A database call's SQL, detected values redacted (drill-down only).
    pub statement: Option<String>,
    /// A database call's statement as compact surfaces show it (kind,
    /// tables, fingerprint): set before the arguments are acted on, so
    /// violations in the SQL carry it instead of SQL text.
    pub statement_shape: Option<String>,
    /// The approval the call waited for (or passed with).
    pub approval_id: Option<Uuid>,
    meta: CallMeta,
    created_at: DateTime<Utc>,
    violations: Vec<ViolationRecord>,
}

impl Trail {
    pub fn new(
        agent: &AgentCtx,
        meta: &CallMeta,
        now: DateTime<Utc>,
        tool: &str,
        connector_id: Uuid,
        upstream_tool: &str,
    ) -> Self {
        let c = agent.claims();
        let e = agent.enforcement();
        // While paused, calls are decided as in monitor mode (each record
        // says so), unless the org blocks every call while paused; only
        // calls decided in enforce mode count against the quota.
        let paused = e.effective == EffectiveMode::EnforcePaused;
        let mode = match e.effective {
            EffectiveMode::Enforce => OrgMode::Enforce,
            EffectiveMode::Monitor => OrgMode::Monitor,
            EffectiveMode::EnforcePaused if e.paused_blocks_calls => OrgMode::Enforce,
            EffectiveMode::EnforcePaused => OrgMode::Monitor,
        };
        let charge = (e.effective == EffectiveMode::Enforce).then_some(Charge {
            period: e.period,
            quota: e.quota,
        });
        Trail {
            id: Uuid::new_v4(),
            org_id: c.org,
            pack_id: c.pack,
            user_id: c.sub,
            key_id: c.key,
            session: session_of(c, meta),
            connector_id,
            tool: tool.to_owned(),
            upstream_tool: upstream_tool.to_owned(),
            mode,
            charge,
            decision: Decision::Allow,
            reasons: if paused {
                vec![PAUSED_REASON.to_owned()]
            } else {
                Vec::new()
            },
            arguments_redacted: None,
            error_message: None,
            upstream_us: None,
            resource: None,
            upstream_request_id: None,
            statement: None,
            statement_shape: None,
            approval_id: None,
            meta: meta.clone(),
            created_at: now,
            violations: Vec::new(),
        }
    }

    /// The exposed tool name.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The client takes held calls as MCP tasks.
    pub fn tasks(&self) -> bool {
        self.meta.tasks
    }

    /// Where to report progress, if the client asked.
    pub fn progress(&self) -> Option<super::ProgressSink> {
        self.meta.progress.clone()
    }

    pub fn session_id(&self) -> Uuid {
        self.session.id
    }

    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// Adds a reason once (several steps may give the same one).
    pub fn reason(&mut self, r: impl ToString) {
        let r = r.to_string();
        if !self.reasons.contains(&r) {
            self.reasons.push(r);
        }
    }

    /// Decides one step with [`shared::decision::decide`] and writes it on
    /// the trail: reasons, the strongest decision, and a violation per
    /// finding (redacted evidence only; `doc` is what was scanned).
    pub fn decide(
        &mut self,
        metrics: &Metrics,
        tool: &ToolVerdict,
        direction: Direction,
        verdict: &Verdict,
        doc: &Value,
    ) -> decision::Decision {
        let d = decision::decide(&Step {
            mode: self.mode,
            tool,
            direction,
            verdict,
        });
        for r in &d.reasons {
            self.reason(r);
        }
        self.decision = self.decision.max(d.recorded);
        self.note(metrics, doc, verdict, direction);
        d
    }

    /// Records the detections of one direction.
    fn note(&mut self, metrics: &Metrics, doc: &Value, verdict: &Verdict, d: Direction) {
        let enforced = self.mode == OrgMode::Enforce;
        let all: Vec<Finding> = verdict.applied.iter().map(|a| a.finding.clone()).collect();
        for a in &verdict.applied {
            let f = &a.finding;
            metrics
                .detections
                .get_or_create(&DetectionLabels {
                    // Bounded labels: custom rules are named by tenants.
                    entity: match f.entity() {
                        Some(_) => f.label.clone(),
                        None => "custom".to_owned(),
                    },
                    direction: d.as_str().to_owned(),
                    action: a.action.as_str().to_owned(),
                })
                .inc();
            let text = field_text(doc, f).unwrap_or_default();
            let same_field: Vec<Finding> = all
                .iter()
                .filter(|o| o.pointer == f.pointer && o.in_key == f.in_key)
                .cloned()
                .collect();
            self.violations.push(ViolationRecord {
                rule_key: RuleKey::of(f)
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| f.label.clone()),
                label: f.label.clone(),
                direction: d,
                pointer: f
                    .pointer
                    .as_deref()
                    .map(|p| shared::detect::redact_pointer(p, &all)),
                score: f.score,
                action: a.action,
                enforced,
                // A database call's SQL is shown in the drill-down only:
                // its evidence names the statement's shape instead.
                snippet: match (&self.statement_shape, d, f.pointer.as_deref()) {
                    (Some(shape), Direction::Arguments, Some("/sql")) => {
                        format!("{shape} · [REDACTED:{}]", f.label)
                    }
                    _ => shared::detect::snippet(&text, f, &same_field),
                },
            });
        }
    }

    /// The record of the call as it stands (`latency_us` so far).
    pub fn to_record(&self, outcome: Outcome, latency_us: i64) -> CallRecord {
        self.clone().into_record(outcome, latency_us)
    }

    pub fn into_record(self, outcome: Outcome, latency_us: i64) -> CallRecord {
        CallRecord {
            id: self.id,
            org_id: self.org_id,
            pack_id: self.pack_id,
            registered_user_id: self.user_id,
            agent_key_id: self.key_id,
            session: self.session,
            connector_id: Some(self.connector_id),
            tool: self.tool,
            upstream_tool: Some(self.upstream_tool),
            mode: self.mode,
            charge: self.charge,
            decision: self.decision,
            reasons: self.reasons,
            outcome,
            arguments_redacted: self.arguments_redacted,
            error_message: self.error_message,
            latency_us,
            upstream_us: self.upstream_us,
            resource: self.resource.clone(),
            upstream_request_id: self.upstream_request_id.clone(),
            statement: self.statement.clone(),
            mcp_session_id: self.meta.mcp_session_id,
            client_name: self.meta.client_name,
            client_version: self.meta.client_version,
            protocol_version: self.meta.protocol_version,
            created_at: self.created_at,
            violations: self.violations,
            approval_id: self.approval_id,
            intent: outcome == Outcome::InFlight,
        }
    }
}

/// The runtime session a call belongs to: the one the client named, else
/// the MCP session when the transport has one, else the token's client
/// session. Ids are derived per agent key, so two agents can never share a
/// session (nor reach another's by naming it).
fn session_of(c: &AgentClaims, meta: &CallMeta) -> SessionRecord {
    use sha2::{Digest, Sha256};
    let (kind, basis) = match (&meta.session_name, &meta.mcp_session_id) {
        (Some(n), _) => (SessionKind::Named, format!("named:{}:{n}", c.key)),
        (None, Some(s)) => (SessionKind::Mcp, format!("mcp:{}:{s}", c.key)),
        (None, None) => (SessionKind::Token, format!("token:{}:{}", c.key, c.sid)),
    };
    let h = Sha256::digest(basis.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    SessionRecord {
        id: uuid::Builder::from_random_bytes(b).into_uuid(),
        kind,
        name: meta.session_name.clone(),
        mcp_session_id: meta.mcp_session_id.clone(),
    }
}

/// The text a finding was found in (string value, number text or key).
fn field_text(doc: &Value, f: &Finding) -> Option<String> {
    let ptr = f.pointer.as_deref()?;
    if f.in_key {
        let last = ptr.rsplit('/').next()?;
        return Some(last.replace("~1", "/").replace("~0", "~"));
    }
    match doc.pointer(ptr)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
