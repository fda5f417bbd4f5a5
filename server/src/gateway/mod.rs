//! The data path of one `tools/call`, protocol plumbing aside:
//! resolve the tool in the pack → effective rules (cached per configuration
//! version) → scan arguments → act → dispatch → scan the result → act →
//! record durably → answer. The MCP surface ([`crate::mcp`]) authenticates
//! the agent and hands the call here; what this reads from the database
//! comes from [`crate::service::data_path`].

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use lru::LruCache;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ResultType, Tool};
use serde_json::Value;
use shared::account::OrgMode;
use shared::detect::{CompiledRules, Finding};
use shared::policy::{Action, Direction, OrgRules, RuleKey, Verdict};
use sqlx::PgPool;
use uuid::Uuid;

use crate::agent_tokens::{AgentClaims, AgentTokens};
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::metrics::{DecisionLabels, DetectionLabels, Metrics};
use crate::recorder::{CallRecord, Recorder, SessionRecord, ViolationRecord};
use crate::scanning::Scanning;
use crate::service::data_path::{self, AgentCtx, AuthFailure, Route};
use crate::upstream::{Target, UpstreamError, UpstreamPool};

/// Details of the request that are recorded with the call.
#[derive(Debug, Clone, Default)]
pub struct CallMeta {
    pub mcp_session_id: Option<String>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub protocol_version: Option<String>,
}

/// A pack's routes at one configuration version.
struct Routes {
    version: i64,
    by_name: HashMap<String, Route>,
}

/// Compiled rules for one pack at one configuration version (the
/// compiled form is shared with every pack whose rules are the same).
struct Policy {
    version: i64,
    rules: OrgRules,
    compiled: Arc<CompiledRules>,
}

/// A bounded per-pack cache: tenants and packs come and go, memory must
/// not grow with them.
type PackCache<V> = Mutex<LruCache<(Uuid, Uuid), Arc<V>>>;

/// Everything the data path needs; shared by all requests.
pub struct Gateway {
    pub db: PgPool,
    pub keyring: Arc<Keyring>,
    pub upstreams: Arc<UpstreamPool>,
    pub tokens: AgentTokens,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub clock: Clock,
    pub scanning: Arc<Scanning>,
    policies: PackCache<Policy>,
    routes: PackCache<Routes>,
}

/// What an agent sees when Gatehouse cannot decide (fail closed).
const CANNOT_DECIDE: &str =
    "Gatehouse could not evaluate this call right now, so it was not run. Try again shortly.";

impl Gateway {
    // Wiring only, called once from `AppState::build`: a parameter struct
    // would just repeat the field list.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: PgPool,
        keyring: Arc<Keyring>,
        upstreams: Arc<UpstreamPool>,
        tokens: AgentTokens,
        recorder: Recorder,
        metrics: Metrics,
        clock: Clock,
        scanning: Arc<Scanning>,
        cache_size: NonZeroUsize,
    ) -> Self {
        Self {
            db,
            keyring,
            upstreams,
            tokens,
            recorder,
            metrics,
            clock,
            scanning,
            policies: Mutex::new(LruCache::new(cache_size)),
            routes: Mutex::new(LruCache::new(cache_size)),
        }
    }

    /// Verifies a bearer token (see [`data_path::authorize`]).
    pub async fn authorize(&self, token: &str) -> Result<AgentCtx, AuthFailure> {
        data_path::authorize(&self.db, &self.tokens, self.clock.now(), token).await
    }

    /// The pack's tools, as the upstreams described them, namespaced.
    pub async fn list_tools(&self, agent: &AgentCtx) -> anyhow::Result<Vec<Tool>> {
        let defs = data_path::pack_tools(&self.db, agent)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(defs
            .into_iter()
            .map(|d| {
                let schema = match d.input_schema {
                    Value::Object(m) => m,
                    _ => JsonObject::new(),
                };
                let mut tool = Tool::new(d.exposed_name, d.description.unwrap_or_default(), schema);
                tool.title = d.title;
                if let Some(Value::Object(o)) = d.output_schema {
                    tool.output_schema = Some(Arc::new(o));
                }
                tool.annotations = d.annotations.and_then(|a| serde_json::from_value(a).ok());
                tool
            })
            .collect())
    }

    /// Resolves an exposed tool name inside the pack to its connector and
    /// upstream tool. None = not in the pack (the agent must see it as
    /// unknown, never as forbidden). The pack's routes are cached per
    /// configuration version, like the rules.
    async fn route(&self, agent: &AgentCtx, exposed: &str) -> anyhow::Result<Option<Route>> {
        let key = agent.pack_key();
        if let Some(r) = cached(&self.routes, &key)
            && r.version >= agent.config_version()
        {
            return Ok(r.by_name.get(exposed).cloned());
        }
        let by_name = data_path::routes(&self.db, &self.keyring, agent)
            .await
            .map_err(|e| anyhow::anyhow!("loading routes: {e}"))?;
        let routes = Arc::new(Routes {
            version: agent.config_version(),
            by_name,
        });
        let found = routes.by_name.get(exposed).cloned();
        if let Ok(mut cache) = self.routes.lock() {
            cache.put(key, routes);
        }
        Ok(found)
    }

    /// The compiled rules for the agent's pack at the version the request
    /// saw; recompiled only when the version moved.
    async fn policy(&self, agent: &AgentCtx) -> anyhow::Result<Arc<Policy>> {
        let key = agent.pack_key();
        if let Some(p) = cached(&self.policies, &key)
            && p.version >= agent.config_version()
        {
            return Ok(p);
        }
        let (rules, version) = data_path::effective_rules(&self.db, agent)
            .await
            .map_err(|e| anyhow::anyhow!("loading rules: {e}"))?;
        let compiled = self.scanning.compiled(&rules.to_rule_set()).await?;
        let policy = Arc::new(Policy {
            version,
            rules,
            compiled,
        });
        if let Ok(mut cache) = self.policies.lock() {
            cache.put(key, policy.clone());
        }
        Ok(policy)
    }

    /// Handles one tools/call. `Ok(None)` means the tool is not in the pack.
    pub async fn call_tool(
        &self,
        agent: &AgentCtx,
        meta: &CallMeta,
        exposed: &str,
        arguments: Option<JsonObject>,
    ) -> Result<Option<CallToolResult>, CallFailure> {
        let started = Instant::now();
        let now = self.clock.now();
        self.metrics.calls.inc();
        let Some(route) = self.route(agent, exposed).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "resolving tool");
            CallFailure::CannotDecide
        })?
        else {
            return Ok(None);
        };
        let Route {
            connector_id,
            upstream_tool,
            target,
        } = route;
        let enforce = agent.mode() == OrgMode::Enforce;
        let mut trail = Trail::new(agent, meta, now, exposed, connector_id, &upstream_tool);

        let policy = match self.policy(agent).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "compiling rules");
                return self.fail_closed(trail, started, "rules_unavailable").await;
            }
        };

        // 1. Arguments.
        let (args_value, scanned) = self
            .scan(
                &policy,
                Value::Object(arguments.clone().unwrap_or_default()),
            )
            .await;
        let findings = match scanned {
            Ok(f) => f,
            Err(e) => {
                trail.error_message = Some(format!("arguments could not be scanned: {e}"));
                if enforce {
                    return self.fail_closed(trail, started, "scan_error").await;
                }
                trail.reasons.push("scan_error".into());
                Vec::new()
            }
        };
        let verdict = policy.rules.decide(findings.clone(), Direction::Arguments);
        // Evidence: every detected value is replaced, whatever the action;
        // by default only the arguments' shape is kept (values the rules
        // did not flag never reach the record).
        trail.arguments_redacted = Some(if agent.store_full_arguments() {
            shared::detect::redact_json(&args_value, &findings)
        } else {
            shared::detect::argument_shape(&args_value, &findings)
        });
        self.note(
            &mut trail,
            &args_value,
            &verdict,
            Direction::Arguments,
            enforce,
        );

        if let Some(block) = verdict.blocking().cloned()
            && enforce
        {
            let message = blocked_message(&block, &findings, Direction::Arguments);
            return self
                .finish(
                    trail,
                    started,
                    None,
                    "block",
                    "blocked",
                    Some(message.clone()),
                    error_result(message),
                )
                .await;
        }
        let mut dispatch_args = arguments;
        let mut redacted_any = false;
        if enforce && verdict.action >= Action::Redact {
            let to_redact = verdict.to_redact();
            if !to_redact.is_empty() {
                if let Value::Object(m) = shared::detect::redact_json(&args_value, &to_redact) {
                    dispatch_args = Some(m);
                }
                redacted_any = true;
            }
        }
        let mut decision = match verdict.action {
            Action::Block => "block",
            Action::Redact => "redact",
            Action::Allow => "allow",
        };

        // 2. Dispatch, once the intent is on record: a crash while the
        // upstream works leaves a trace, and a database that cannot take
        // the record means the call does not run at all.
        let mut intent = trail.clone().into_record(
            decision,
            crate::recorder::IN_FLIGHT,
            None,
            i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
            None,
        );
        intent.intent = true;
        if let Err(e) = self.recorder.record(intent).await {
            tracing::error!(error = %e, "intent record not written; not dispatching");
            return Err(CallFailure::CannotDecide);
        }
        let up_started = Instant::now();
        let result = self
            .upstreams
            .call(&target, &upstream_tool, dispatch_args)
            .await;
        let upstream_us = i64::try_from(up_started.elapsed().as_micros()).unwrap_or(i64::MAX);
        trail.upstream_us = Some(upstream_us);
        let mut result = match result {
            Ok(r) => r,
            Err(e) => {
                return self
                    .upstream_failed(trail, started, &target, &policy, enforce, e)
                    .await;
            }
        };
        result.result_type = Some(ResultType::COMPLETE);

        // 3. Result: every field the agent will receive (content,
        // structuredContent, _meta and whatever else the upstream added).
        let (scanned, found) = self
            .scan(
                &policy,
                serde_json::to_value(&result).unwrap_or(Value::Null),
            )
            .await;
        let findings = match found {
            Ok(f) => f,
            Err(e) => {
                trail.error_message = Some(format!("result could not be scanned: {e}"));
                if enforce {
                    return self.fail_closed(trail, started, "scan_error").await;
                }
                trail.reasons.push("scan_error".into());
                Vec::new()
            }
        };
        let verdict = policy.rules.decide(findings.clone(), Direction::Results);
        self.note(&mut trail, &scanned, &verdict, Direction::Results, enforce);
        if verdict.action > Action::Allow && decision != "block" {
            decision = match verdict.action {
                Action::Block => "block",
                _ => "redact",
            };
        }
        if let Some(block) = verdict.blocking().cloned()
            && enforce
        {
            let message = blocked_message(&block, &findings, Direction::Results);
            return self
                .finish(
                    trail,
                    started,
                    Some(upstream_us),
                    "block",
                    "blocked",
                    Some(message.clone()),
                    error_result(message),
                )
                .await;
        }
        if enforce && verdict.action >= Action::Redact {
            let to_redact = verdict.to_redact();
            if !to_redact.is_empty() {
                let clean = shared::detect::redact_json(&scanned, &to_redact);
                match serde_json::from_value::<CallToolResult>(clean) {
                    Ok(r) => result = r,
                    Err(e) => {
                        tracing::error!(error = %e, "rebuilding a redacted result");
                        return self.fail_closed(trail, started, "redaction_error").await;
                    }
                }
                result.result_type = Some(ResultType::COMPLETE);
                redacted_any = true;
            }
        }
        if enforce && !redacted_any && decision == "redact" {
            decision = "allow";
        }
        let outcome = if result.is_error == Some(true) {
            "tool_error"
        } else {
            "ok"
        };
        self.finish(
            trail,
            started,
            Some(upstream_us),
            decision,
            outcome,
            None,
            result,
        )
        .await
    }

    /// Scans `doc` on the scanning pool (see [`crate::scanning`]) and hands
    /// it back with the findings.
    async fn scan(&self, policy: &Policy, doc: Value) -> (Value, Result<Vec<Finding>, String>) {
        let compiled = policy.compiled.clone();
        match self
            .scanning
            .run(move || {
                let found = compiled.scan_json(&doc);
                (doc, found)
            })
            .await
        {
            Ok((doc, found)) => (doc, found.map_err(|e| e.to_string())),
            // The document moved into the crashed scan: nothing to hand back.
            Err(e) => (Value::Null, Err(e.to_string())),
        }
    }

    /// Records the detections of one direction on the trail.
    fn note(&self, trail: &mut Trail, doc: &Value, verdict: &Verdict, d: Direction, enforce: bool) {
        let all: Vec<Finding> = verdict.applied.iter().map(|a| a.finding.clone()).collect();
        for a in &verdict.applied {
            let f = &a.finding;
            let key = RuleKey::of(f)
                .map(|k| k.to_string())
                .unwrap_or_else(|| f.label.clone());
            self.metrics
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
            trail.violations.push(ViolationRecord {
                rule_key: key,
                label: f.label.clone(),
                direction: d.as_str(),
                pointer: f
                    .pointer
                    .as_deref()
                    .map(|p| shared::detect::redact_pointer(p, &all)),
                score: f.score,
                action: a.action.as_str(),
                enforced: enforce,
                snippet: shared::detect::snippet(&text, f, &same_field),
            });
        }
        let dir = d.as_str();
        match (verdict.action, enforce) {
            (Action::Allow, _) if !verdict.applied.is_empty() => {
                trail.reasons.push(format!("detected_{dir}"))
            }
            (Action::Allow, _) => {}
            (Action::Redact, true) => trail.reasons.push(format!("redacted_{dir}")),
            (Action::Block, true) => trail.reasons.push(format!("blocked_{dir}")),
            (Action::Redact, false) => trail.reasons.push(format!("would_redact_{dir}")),
            (Action::Block, false) => trail.reasons.push(format!("would_block_{dir}")),
        }
        if let Some(k) = verdict.blocking().and_then(RuleKey::of) {
            trail.reasons.push(format!("rule:{k}"));
        }
    }

    /// An upstream failure. Its text was written by the upstream (maybe
    /// hostile, maybe echoing the arguments): it is scanned like a result
    /// before the agent sees it, and stored and logged only redacted.
    async fn upstream_failed(
        &self,
        mut trail: Trail,
        started: Instant,
        target: &Target,
        policy: &Policy,
        enforce: bool,
        e: UpstreamError,
    ) -> Result<Option<CallToolResult>, CallFailure> {
        let (doc, found) = self
            .scan(policy, serde_json::json!({ "error": e.to_string() }))
            .await;
        let findings = match found {
            Ok(f) => f,
            Err(scan) => {
                tracing::info!(connector = %target.connector_id, outcome = e.outcome(), "upstream call failed");
                trail.error_message =
                    Some(format!("the upstream error could not be scanned: {scan}"));
                if enforce {
                    return self.fail_closed(trail, started, "scan_error").await;
                }
                trail.reasons.push("scan_error".into());
                Vec::new()
            }
        };
        let verdict = policy.rules.decide(findings.clone(), Direction::Results);
        self.note(&mut trail, &doc, &verdict, Direction::Results, enforce);
        let redacted = redacted_error(&doc, &findings);
        tracing::info!(connector = %target.connector_id, error = %redacted, "upstream call failed");
        trail.reasons.push(e.outcome().to_owned());
        let shown = match (enforce, verdict.blocking()) {
            (true, Some(block)) => format!(
                "The tool call failed, and its error message was withheld: Gatehouse rule {} matched {} in it.",
                RuleKey::of(block)
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| block.label.clone()),
                block.label
            ),
            (true, None) if verdict.action >= Action::Redact => {
                format!(
                    "The tool call failed: {}.",
                    redacted_error(&doc, &verdict.to_redact())
                )
            }
            _ => format!("The tool call failed: {e}."),
        };
        let upstream = trail.upstream_us;
        self.finish(
            trail,
            started,
            upstream,
            "error",
            e.outcome(),
            Some(format!("The tool call failed: {redacted}.")),
            error_result(shown),
        )
        .await
    }

    /// Gatehouse could not decide: do not run the call, record why.
    async fn fail_closed(
        &self,
        mut trail: Trail,
        started: Instant,
        reason: &str,
    ) -> Result<Option<CallToolResult>, CallFailure> {
        trail.reasons.push(reason.to_owned());
        let upstream = trail.upstream_us;
        self.finish(
            trail,
            started,
            upstream,
            "error",
            "not_run",
            Some(CANNOT_DECIDE.to_owned()),
            error_result(CANNOT_DECIDE.to_owned()),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        mut trail: Trail,
        started: Instant,
        upstream_us: Option<i64>,
        decision: &'static str,
        outcome: &'static str,
        error_message: Option<String>,
        result: CallToolResult,
    ) -> Result<Option<CallToolResult>, CallFailure> {
        let total = started.elapsed();
        let latency_us = i64::try_from(total.as_micros()).unwrap_or(i64::MAX);
        if trail.mode == OrgMode::Monitor
            && decision != "error"
            && !trail.reasons.iter().any(|r| r == "monitor_mode")
        {
            trail.reasons.push("monitor_mode".into());
        }
        let record = trail.into_record(decision, outcome, error_message, latency_us, upstream_us);
        let mode = record.mode;
        if let Err(e) = self.recorder.record(record).await {
            // Nothing lost: an unrecorded call does not get its answer.
            tracing::error!(error = %e, "decision record not written; withholding the result");
            return Err(CallFailure::CannotDecide);
        }
        self.metrics
            .decisions
            .get_or_create(&DecisionLabels {
                decision: decision.to_owned(),
                mode: mode.as_str().to_owned(),
            })
            .inc();
        self.metrics.call_seconds.observe(total.as_secs_f64());
        let overhead = total.as_secs_f64() - upstream_us.map(|u| u as f64 / 1e6).unwrap_or(0.0);
        self.metrics.overhead_seconds.observe(overhead.max(0.0));
        Ok(Some(result))
    }
}

/// A failure the agent sees as a JSON-RPC error rather than a tool result.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    #[error("{CANNOT_DECIDE}")]
    CannotDecide,
}

/// Everything recorded about a call, gathered as it progresses.
#[derive(Clone)]
struct Trail {
    /// The call's record id, shared by its intent and its final record.
    id: Uuid,
    org_id: Uuid,
    pack_id: Uuid,
    user_id: Uuid,
    key_id: Uuid,
    session: SessionRecord,
    connector_id: Uuid,
    tool: String,
    upstream_tool: String,
    mode: OrgMode,
    reasons: Vec<String>,
    arguments_redacted: Option<Value>,
    error_message: Option<String>,
    upstream_us: Option<i64>,
    meta: CallMeta,
    created_at: DateTime<Utc>,
    violations: Vec<ViolationRecord>,
}

impl Trail {
    fn new(
        agent: &AgentCtx,
        meta: &CallMeta,
        now: DateTime<Utc>,
        tool: &str,
        connector_id: Uuid,
        upstream_tool: &str,
    ) -> Self {
        let c = agent.claims();
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
            mode: agent.mode(),
            reasons: Vec::new(),
            arguments_redacted: None,
            error_message: None,
            upstream_us: None,
            meta: meta.clone(),
            created_at: now,
            violations: Vec::new(),
        }
    }
}

impl Trail {
    fn into_record(
        self,
        decision: &'static str,
        outcome: &'static str,
        error_message: Option<String>,
        latency_us: i64,
        upstream_us: Option<i64>,
    ) -> CallRecord {
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
            decision,
            reasons: self.reasons,
            outcome,
            arguments_redacted: self.arguments_redacted,
            error_message: error_message.or(self.error_message),
            latency_us,
            upstream_us,
            mcp_session_id: self.meta.mcp_session_id,
            client_name: self.meta.client_name,
            client_version: self.meta.client_version,
            protocol_version: self.meta.protocol_version,
            created_at: self.created_at,
            violations: self.violations,
            intent: false,
        }
    }
}

/// The runtime session a call belongs to: the MCP session when the
/// transport has one, else the token's client session. Ids are derived per
/// agent key, so two agents can never share a session.
fn session_of(c: &AgentClaims, meta: &CallMeta) -> SessionRecord {
    use sha2::{Digest, Sha256};
    let basis = match &meta.mcp_session_id {
        Some(s) => format!("mcp:{}:{s}", c.key),
        None => format!("token:{}:{}", c.key, c.sid),
    };
    let h = Sha256::digest(basis.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    SessionRecord {
        id: uuid::Builder::from_random_bytes(b).into_uuid(),
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

/// The `error` text of `{"error": …}` with `findings` redacted.
fn redacted_error(doc: &Value, findings: &[Finding]) -> String {
    match shared::detect::redact_json(doc, findings) {
        Value::Object(mut m) => match m.remove("error") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        },
        _ => String::new(),
    }
}

fn cached<V>(cache: &PackCache<V>, key: &(Uuid, Uuid)) -> Option<Arc<V>> {
    cache.lock().ok().and_then(|mut c| c.get(key).cloned())
}

/// What the agent is told when a rule blocks: the rule, the entity and
/// where (the pointer with detected keys redacted, never a value).
fn blocked_message(f: &Finding, all: &[Finding], d: Direction) -> String {
    let rule = RuleKey::of(f)
        .map(|k| k.to_string())
        .unwrap_or_else(|| f.label.clone());
    let place = match d {
        Direction::Arguments => "the arguments",
        Direction::Results => "the tool's result",
    };
    let field = match f.pointer.as_deref() {
        Some("") | None => String::new(),
        Some(p) => format!(" at {}", shared::detect::redact_pointer(p, all)),
    };
    let what = match d {
        Direction::Arguments => "The call was blocked and not sent to the tool",
        Direction::Results => "The result was withheld",
    };
    format!(
        "{what}: Gatehouse rule {rule} matched {} in {place}{field}.",
        f.label
    )
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}
