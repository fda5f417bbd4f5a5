//! The data path of one `tools/call`, protocol plumbing aside, as typed
//! stages: (the MCP surface authorizes the agent) → resolve the tool in the
//! pack → scan arguments → policy (tool policies, whose conditions may look
//! at what the scan found) → act → dispatch (after recording the intent) → scan the result, every field the agent will see, upstream
//! error text included → act → record durably → answer.
//!
//! Each "act" is [`shared::decision::decide`], a pure function; a stage
//! that ends the call early returns a [`Stop`], which becomes the agent's
//! answer in one place ([`Gateway::stopped`]). What this reads from the
//! database comes from [`crate::service::data_path`].

mod error;
mod trail;

pub use error::Error;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lru::LruCache;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ResultType, Tool};
use serde_json::Value;
use shared::account::OrgMode;
use shared::api::{Decision, EffectiveMode, Outcome};
use shared::decision::{Blocked, Effect, ToolAction, ToolVerdict};
use shared::detect::{CompiledRules, Finding};
use shared::policy::{Direction, OrgRules, RuleKey, Verdict};
use sqlx::PgPool;
use uuid::Uuid;

use crate::agent_tokens::AgentTokens;
use crate::approvals::Signals;
use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::github::GitHub;
use crate::github::tools::Call as GitHubCall;
use crate::metrics::{Cache, DecisionLabels, Metrics, Stage};
use crate::postgres::tools::{DbCall, Refusal};
use crate::recorder::Recorder;
use crate::scanning::Scanning;
use crate::service::approvals::{self, NewApproval, Settled};
use crate::service::data_path::{self, AgentCtx, AuthFailure, Dispatch, Route};
use crate::tool_policy::{Facts, Policies};
use crate::upstream::{UpstreamError, UpstreamPool};
use trail::Trail;

/// Details of the request that are recorded with the call.
#[derive(Debug, Clone, Default)]
pub struct CallMeta {
    pub mcp_session_id: Option<String>,
    /// The run's name the client gave (`gatehouse.dev/session` in `_meta`
    /// or the `Gatehouse-Session` header), already checked.
    pub session_name: Option<String>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub protocol_version: Option<String>,
    /// Where to send progress while the call waits (the client gave a
    /// progress token).
    pub progress: Option<ProgressSink>,
    /// The client declared the MCP tasks extension: a held call is
    /// answered with a task instead of waiting.
    pub tasks: bool,
}

/// Where a call goes once its arguments are decided: an upstream MCP
/// server, a database or GitHub with the parsed call, or nowhere (arguments
/// the tool cannot take).
enum Outbound<'r> {
    Mcp(&'r crate::upstream::Target),
    /// A database tool call, parsed (its SQL checked).
    Postgres(
        &'r crate::postgres::Target,
        &'r shared::api::PackDatabase,
        // Boxed: a parsed statement's syntax tree is large.
        Box<DbCall>,
    ),
    /// Arguments the tool cannot take: answered without contacting anyone.
    Refused(String),
    GitHub(
        &'r crate::github::Scope,
        shared::api::InstallationStatus,
        Result<GitHubCall, String>,
    ),
}

/// What a `tools/call` answers.
#[derive(Debug)]
pub enum Answer {
    /// The tool's (scanned) result, or Gatehouse's `isError` result.
    Result(CallToolResult),
    /// The call waits for approval as an MCP task (its id is the
    /// approval's).
    Task {
        id: Uuid,
        created_at: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    },
}

/// Where a task stands for `tasks/get`.
#[derive(Debug)]
pub enum TaskAnswer {
    Unknown,
    Working {
        id: Uuid,
        created_at: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    },
    Completed(CallToolResult),
}

/// MCP progress notifications for one request.
#[derive(Clone)]
pub struct ProgressSink {
    pub peer: rmcp::Peer<rmcp::RoleServer>,
    pub token: rmcp::model::ProgressToken,
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressSink").finish_non_exhaustive()
    }
}

impl ProgressSink {
    /// Sends one notification; a client that went away is not an error.
    async fn report(&self, progress: f64, total: f64, message: String) {
        let p = rmcp::model::ProgressNotificationParam::new(self.token.clone(), progress)
            .with_total(total)
            .with_message(message);
        if let Err(e) = self.peer.notify_progress(p).await {
            tracing::debug!(error = %e, "progress notification not delivered");
        }
    }
}

/// A pack's routes at one configuration version.
struct Routes {
    version: i64,
    by_name: HashMap<String, Route>,
}

/// Compiled rules for one pack at one configuration version (the
/// compiled form is shared with every pack whose rules are the same).
struct Rules {
    version: i64,
    rules: OrgRules,
    compiled: Arc<CompiledRules>,
}

/// A pack's tool policies at one configuration version.
struct PolicySet {
    version: i64,
    policies: Policies,
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
    /// Authorisation answers, at most a second old (see
    /// [`crate::access_cache`]).
    pub access: Arc<data_path::AgentAccess>,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub clock: Clock,
    pub scanning: Arc<Scanning>,
    /// Wakes calls waiting for an approval (see [`crate::approvals`]).
    pub signals: Signals,
    /// The GitHub connector's client (installation tokens, REST calls).
    pub github: Arc<GitHub>,
    /// Postgres connectors' session pools.
    pub databases: Arc<crate::postgres::Databases>,
    /// The GitHub App's configuration, re-read at most every few seconds.
    github_app: Mutex<Option<(Instant, Arc<crate::github::AppConfig>)>>,
    /// The dashboard's base URL, for links given to agents.
    public_base: String,
    /// Plans and their enforce quotas.
    plans: crate::config::Plans,
    rules: PackCache<Rules>,
    policies: PackCache<PolicySet>,
    routes: PackCache<Routes>,
}

impl Gateway {
    // Wiring only, called once from `AppState::build`: a parameter struct
    // would just repeat the field list.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: PgPool,
        keyring: Arc<Keyring>,
        upstreams: Arc<UpstreamPool>,
        tokens: AgentTokens,
        access: Arc<data_path::AgentAccess>,
        recorder: Recorder,
        metrics: Metrics,
        clock: Clock,
        scanning: Arc<Scanning>,
        cache_size: NonZeroUsize,
        public_base: String,
        plans: crate::config::Plans,
        github: Arc<GitHub>,
        databases: Arc<crate::postgres::Databases>,
    ) -> Self {
        Self {
            db,
            keyring,
            upstreams,
            tokens,
            access,
            recorder,
            metrics,
            clock,
            scanning,
            signals: Signals::new(),
            github,
            databases,
            github_app: Mutex::new(None),
            public_base,
            plans,
            rules: Mutex::new(LruCache::new(cache_size)),
            policies: Mutex::new(LruCache::new(cache_size)),
            routes: Mutex::new(LruCache::new(cache_size)),
        }
    }

    /// Verifies a bearer token (see [`data_path::authorize`]).
    pub async fn authorize(&self, token: &str) -> Result<AgentCtx, AuthFailure> {
        let started = tokio::time::Instant::now();
        let agent = data_path::authorize(
            &self.db,
            &self.tokens,
            &self.access,
            &self.plans,
            (self.clock.now(), started),
            token,
        )
        .await;
        self.metrics.stage(Stage::authorize, started.elapsed());
        agent
    }

    /// The pack's tools as an admin approved them (pinned), namespaced.
    pub async fn list_tools(&self, agent: &AgentCtx) -> Result<Vec<Tool>, Error> {
        let defs = data_path::pack_tools(&self.db, agent).await.map_err(|e| {
            tracing::error!(error = %e, "listing tools");
            Error::ListUnavailable
        })?;
        Ok(defs
            .into_iter()
            .map(|d| {
                let d2 = d.definition;
                let schema = match d2.input_schema {
                    Value::Object(m) => m,
                    _ => JsonObject::new(),
                };
                let mut tool =
                    Tool::new(d.exposed_name, d2.description.unwrap_or_default(), schema);
                tool.title = d2.title;
                if let Some(Value::Object(o)) = d2.output_schema {
                    tool.output_schema = Some(Arc::new(o));
                }
                tool.annotations = d2.annotations.and_then(|a| serde_json::from_value(a).ok());
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
        let fresh = cached(&self.routes, &key).filter(|c| c.version >= agent.config_version());
        self.metrics.cache_lookup(Cache::routes, fresh.is_some());
        if let Some(r) = fresh {
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
    async fn rules(&self, agent: &AgentCtx) -> anyhow::Result<Arc<Rules>> {
        let key = agent.pack_key();
        let fresh = cached(&self.rules, &key).filter(|c| c.version >= agent.config_version());
        self.metrics.cache_lookup(Cache::rules, fresh.is_some());
        if let Some(p) = fresh {
            return Ok(p);
        }
        let (rules, version) = data_path::effective_rules(&self.db, agent)
            .await
            .map_err(|e| anyhow::anyhow!("loading rules: {e}"))?;
        let compiled = self.scanning.compiled(&rules.to_rule_set()).await?;
        let policy = Arc::new(Rules {
            version,
            rules,
            compiled,
        });
        if let Ok(mut cache) = self.rules.lock() {
            cache.put(key, policy.clone());
        }
        Ok(policy)
    }

    /// The pack's tool policies at the version the request saw, compiled
    /// (on the scanning pool: conditions are tenants' code) and cached.
    async fn tool_policies(&self, agent: &AgentCtx) -> anyhow::Result<Arc<PolicySet>> {
        let key = agent.pack_key();
        let fresh = cached(&self.policies, &key).filter(|c| c.version >= agent.config_version());
        self.metrics
            .cache_lookup(Cache::tool_policies, fresh.is_some());
        if let Some(p) = fresh {
            return Ok(p);
        }
        let (rules, default) = data_path::tool_policies(&self.db, agent)
            .await
            .map_err(|e| anyhow::anyhow!("loading tool policies: {e}"))?;
        let policies = self
            .scanning
            .run(move || Policies::compile(rules, default))
            .await?;
        let set = Arc::new(PolicySet {
            version: agent.config_version(),
            policies,
        });
        if let Ok(mut cache) = self.policies.lock() {
            cache.put(key, set.clone());
        }
        Ok(set)
    }

    /// The policy stage: what the tool policies say about this call. The
    /// arguments are scanned first because conditions can look at what was
    /// found in them (`findings`).
    async fn policy(
        &self,
        agent: &AgentCtx,
        trail: &mut Trail,
        args: &Scanned,
    ) -> Result<ToolVerdict, Stop> {
        let set = self.tool_policies(agent).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "loading tool policies");
            Stop::CannotDecide("policies_unavailable")
        })?;
        let mut facts = Facts {
            tool: trail.tool().to_owned(),
            ..Facts::default()
        };
        if !set.policies.has_conditions_for(&facts.tool) {
            // Names and globs only: nothing to evaluate off-thread.
            return Ok(set.policies.evaluate(&facts).verdict);
        }
        if set.policies.needs_session(&facts.tool) {
            facts.session_calls = data_path::session_calls(&self.db, agent, trail.session_id())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "reading the session's calls");
                    Stop::CannotDecide("policies_unavailable")
                })?;
        }
        let (user_id, user_name) = agent.user();
        facts.user_id = user_id.to_owned();
        facts.user_name = user_name.to_owned();
        facts.pack_id = agent.claims().pack.to_string();
        facts.pack_name = agent.pack_name().to_owned();
        facts.findings = crate::tool_policy::finding_labels(&args.findings());
        facts.args = args.doc.clone();
        let evaluation = self
            .scanning
            .run(move || set.policies.evaluate(&facts))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "evaluating tool policies");
                Stop::CannotDecide("policies_unavailable")
            })?;
        // Only the rule's name: the error text can quote argument values.
        for (name, _) in &evaluation.errors {
            trail.reason(format!("policy_error:{name}"));
        }
        Ok(evaluation.verdict)
    }

    /// Handles one tools/call (the stages of the module docs).
    pub async fn call_tool(
        &self,
        agent: &AgentCtx,
        meta: &CallMeta,
        exposed: &str,
        arguments: Option<JsonObject>,
    ) -> Result<Answer, Error> {
        let started = Instant::now();
        self.metrics.calls.inc();
        // Resolve the tool; outside the pack reads as unknown.
        let route = self
            .route(agent, exposed)
            .await
            .map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), "resolving tool");
                Error::CannotDecide
            })?
            .ok_or_else(|| Error::UnknownTool(exposed.to_owned()))?;
        self.metrics.stage(Stage::resolve, started.elapsed());
        let mut trail = Trail::new(
            agent,
            meta,
            self.clock.now(),
            exposed,
            route.connector_id,
            &route.upstream_tool,
        );
        if route.quarantined {
            // Recorded for the admins; to the agent it is a tool that does
            // not exist (it is not in its tools/list either).
            trail.decision = Decision::Block;
            trail.reason("quarantined");
            self.record(trail, started, Outcome::Quarantined).await?;
            return Err(Error::UnknownTool(exposed.to_owned()));
        }
        let (result, outcome) = match self
            .run(agent, &mut trail, &route, arguments, started)
            .await
        {
            Ok(result) => {
                let outcome = if result.is_error == Some(true) {
                    Outcome::ToolError
                } else {
                    Outcome::Ok
                };
                (result, outcome)
            }
            Err(Stop::Task(id)) => {
                // Held as a task: on record as waiting; the approved call
                // runs (and is recorded) when `tasks/get` finds it approved.
                trail.decision = Decision::Block;
                trail.reason("task");
                self.record(trail, started, Outcome::AwaitingApproval)
                    .await?;
                let created_at = self.clock.now();
                let hours = i64::from(agent.approvals().expiry_hours);
                return Ok(Answer::Task {
                    id,
                    created_at,
                    expires_at: created_at + chrono::Duration::hours(hours),
                });
            }
            Err(stop) => self.stopped(&mut trail, stop),
        };
        self.record(trail, started, outcome).await?;
        Ok(Answer::Result(result))
    }

    /// `tasks/cancel`: false when there is no such task for this agent.
    pub async fn cancel_task(&self, agent: &AgentCtx, id: Uuid) -> Result<bool, Error> {
        approvals::cancel_task(&self.db, agent, self.clock.now(), id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cancelling a task");
                Error::CannotDecide
            })
    }

    /// `tasks/get` for a held call answered as a task. Approved: the call
    /// runs now, once, through the whole pipeline (the approval it passes
    /// with is used up), and its result is the task's.
    pub async fn task(
        &self,
        agent: &AgentCtx,
        meta: &CallMeta,
        id: Uuid,
    ) -> Result<TaskAnswer, Error> {
        let unavailable = |e: crate::service::ServiceError| {
            tracing::error!(error = %e, "reading a task");
            Error::CannotDecide
        };
        let view = approvals::task(&self.db, agent, self.clock.now(), id)
            .await
            .map_err(unavailable)?;
        Ok(match view {
            approvals::TaskView::Unknown => TaskAnswer::Unknown,
            approvals::TaskView::Working {
                requested_at,
                expires_at,
            } => TaskAnswer::Working {
                id,
                created_at: requested_at,
                expires_at,
            },
            approvals::TaskView::Denied { comment } => {
                TaskAnswer::Completed(error_result(denied_message(id, comment)))
            }
            approvals::TaskView::Expired => TaskAnswer::Completed(error_result(format!(
                "Approval {id} expired before anyone approved it, so the call did not run."
            ))),
            approvals::TaskView::Done => TaskAnswer::Completed(error_result(format!(
                "The call of approval {id} has run; its result was returned to an earlier tasks/get."
            ))),
            approvals::TaskView::Run { tool, args } => {
                let opened = self
                    .keyring
                    .open(&args, &approvals::task_aad(agent.claims().org, id))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<JsonObject>(&b).ok());
                let result = match opened {
                    Some(arguments) => {
                        // Run as a plain call: the approval now passes it.
                        let plain = CallMeta {
                            tasks: false,
                            ..meta.clone()
                        };
                        match self.call_tool(agent, &plain, &tool, Some(arguments)).await {
                            Ok(Answer::Result(r)) => r,
                            Ok(Answer::Task { .. }) | Err(_) => {
                                error_result(Error::CannotDecide.to_string())
                            }
                        }
                    }
                    None => error_result(Error::CannotDecide.to_string()),
                };
                approvals::task_done(&self.db, agent, id)
                    .await
                    .map_err(unavailable)?;
                TaskAnswer::Completed(result)
            }
        })
    }

    /// The stages from policy to the scanned result.
    async fn run(
        &self,
        agent: &AgentCtx,
        trail: &mut Trail,
        route: &Route,
        arguments: Option<JsonObject>,
        started: Instant,
    ) -> Result<CallToolResult, Stop> {
        let stage = Instant::now();
        let rules = self.rules(agent).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "compiling rules");
            Stop::CannotDecide("rules_unavailable")
        })?;

        // Scan the arguments; the policy stage; act on both.
        let args = self
            .scan(
                trail,
                &rules,
                Value::Object(arguments.unwrap_or_default()),
                Direction::Arguments,
                "arguments",
            )
            .await?;
        self.metrics.stage(Stage::scan_arguments, stage.elapsed());
        // Evidence: every detected value is replaced, whatever the action;
        // by default only the arguments' shape is kept (values the rules
        // did not flag never reach the record).
        trail.arguments_redacted = Some(if agent.store_full_arguments() {
            shared::detect::redact_json(&args.doc, &args.findings())
        } else {
            shared::detect::argument_shape(&args.doc, &args.findings())
        });
        // Enforce paused, and the org blocks every call while paused.
        let e = agent.enforcement();
        if e.effective == EffectiveMode::EnforcePaused && e.paused_blocks_calls {
            return Err(Stop::Paused(e));
        }
        let stage = Instant::now();
        let tool = self.policy(agent, trail, &args).await?;
        self.metrics.stage(Stage::policy, stage.elapsed());
        // A database call, parsed once from the arguments as scanned (again
        // below only if acting on them redacted something). Its shape is
        // what compact surfaces and violations show instead of the SQL.
        let db_call = matches!(route.target, Dispatch::Postgres { .. })
            .then(|| DbCall::parse(&route.upstream_tool, &args.doc));
        if let Some(c) = &db_call {
            trail.statement_shape = Some(
                c.as_ref()
                    .ok()
                    .and_then(DbCall::resource)
                    .unwrap_or_else(|| "SQL statement".to_owned()),
            );
        }
        // A database write proposal: scored before the decision, so a risky
        // one waits for a person like a call an approval policy holds.
        let mut db_risk = None;
        let tool = match (&route.target, &db_call) {
            (
                Dispatch::Postgres { target, access },
                Some(Ok(DbCall::Propose {
                    write,
                    dry_run: false,
                })),
            ) => match self
                .write_risk(agent, route.connector_id, target, access, write)
                .await
            {
                Ok(risk) => {
                    trail.reason(format!("db_risk:{}", risk.score));
                    db_risk = Some(risk.to_json());
                    if risk.score >= access.risk_threshold
                        && matches!(tool.action, ToolAction::Allow | ToolAction::Monitor)
                    {
                        ToolVerdict {
                            action: ToolAction::Approve,
                            rule: Some(format!(
                                "Database write risk {} (pack threshold {})",
                                risk.score, access.risk_threshold
                            )),
                        }
                    } else {
                        tool
                    }
                }
                // One the database refuses: the dispatch answers the same
                // refusal.
                Err(
                    crate::postgres::DbError::Refused(_) | crate::postgres::DbError::Statement(_),
                ) => tool,
                // Unassessed, a write does not run (fail closed).
                Err(e) => {
                    return Err(self
                        .upstream_failed(trail, route, &rules, e.upstream())
                        .await);
                }
            },
            _ => tool,
        };
        let decided = trail.decide(
            &self.metrics,
            &tool,
            Direction::Arguments,
            &args.verdict,
            &args.doc,
        );
        let held = matches!(decided.effect, Effect::Hold(_));
        // Every detected value redacted, whatever the action: what an
        // approver reads, and a database call's SQL in the drill-down.
        let redacted = (held || db_call.is_some())
            .then(|| shared::detect::redact_json(&args.doc, &args.findings()));
        if db_call.is_some() {
            trail.statement = redacted
                .as_ref()
                .and_then(|r| r.get("sql"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        let evidence = redacted.filter(|_| held).map(|mut e| {
            // Stored as jsonb: a NUL from the agent must not make the
            // request unstorable.
            crate::recorder::clean_json(&mut e);
            if let (Some(risk), Value::Object(m)) = (&db_risk, &mut e) {
                m.insert("gatehouse_risk".to_owned(), risk.clone());
            }
            e
        });
        let (dispatch_args, changed) = match decided.effect {
            Effect::Proceed => (args.doc, false),
            Effect::Redact(found) | Effect::Hold(found) if !found.is_empty() => {
                (shared::detect::redact_json(&args.doc, &found), true)
            }
            Effect::Redact(_) | Effect::Hold(_) => (args.doc, false),
            Effect::Block(why) => {
                return Err(Stop::Blocked(blocked_message(
                    &why,
                    &args.findings(),
                    Direction::Arguments,
                )));
            }
        };

        // A GitHub call: its arguments parsed and its repository checked
        // against the pack before anything can reach GitHub (or an
        // approver: a call the pack cannot make is not worth a person's time).
        let outbound = match &route.target {
            Dispatch::GitHub { scope, status } => {
                let call = GitHubCall::parse(&route.upstream_tool, &dispatch_args);
                if let Ok(c) = &call
                    && let Some(r) = c.repository()
                {
                    trail.resource = Some(r.to_owned());
                    if !scope.allows(r) {
                        trail.reason("github_repository_not_in_pack");
                        return Err(Stop::Blocked(format!(
                            "The call was blocked and not sent to GitHub: repository {r} is not \
                             available to this Tool Pack."
                        )));
                    }
                }
                Outbound::GitHub(scope, *status, call)
            }
            Dispatch::Mcp(target) => Outbound::Mcp(target),
            Dispatch::Postgres { target, access } => {
                let call = match db_call {
                    Some(c) if !changed => c,
                    _ => DbCall::parse(&route.upstream_tool, &dispatch_args),
                };
                match call {
                    Err(Refusal::Statement(e)) => {
                        trail.reason("db_statement_refused");
                        return Err(Stop::Blocked(format!(
                            "The statement was refused and not sent to the database: {e}."
                        )));
                    }
                    Err(Refusal::Arguments(e)) => {
                        Outbound::Refused(format!("Invalid arguments: {e}."))
                    }
                    Ok(call) => {
                        trail.resource = call.resource();
                        Outbound::Postgres(target, access, Box::new(call))
                    }
                }
            }
        };

        // The approval hold: the exact arguments that will be sent wait
        // for a person (or pass with an approval already given for them).
        if let Some(evidence) = evidence {
            self.hold(agent, trail, &tool, evidence, &dispatch_args)
                .await?;
        }

        // Dispatch, once the intent is on record: a crash while the
        // upstream works leaves a trace, and a database that cannot take
        // the record means the call does not run at all.
        let stage = Instant::now();
        let intent = trail.to_record(Outcome::InFlight, micros(started.elapsed()));
        if let Err(e) = self.recorder.record(intent).await {
            tracing::error!(error = %e, "intent record not written; not dispatching");
            return Err(Stop::Unrecorded);
        }
        self.metrics.stage(Stage::record_intent, stage.elapsed());
        let up_started = Instant::now();
        let dispatch_args = match dispatch_args {
            Value::Object(m) => Some(m),
            _ => None,
        };
        let result = match outbound {
            Outbound::GitHub(scope, status, call) => {
                self.call_github(scope, status, call).await.map(|reply| {
                    trail.upstream_request_id = reply.request_id;
                    reply.result
                })
            }
            Outbound::Mcp(target) => {
                self.upstreams
                    .call(target, &route.upstream_tool, dispatch_args)
                    .await
            }
            Outbound::Postgres(target, access, call) => {
                self.call_postgres(
                    agent,
                    route.connector_id,
                    (target, access),
                    &call,
                    db_risk.as_ref(),
                )
                .await
            }
            Outbound::Refused(message) => Ok(error_result(message)),
        };
        let upstream = up_started.elapsed();
        trail.upstream_us = Some(micros(upstream));
        self.metrics.stage(Stage::dispatch, upstream);
        let mut result = match result {
            Ok(r) => r,
            Err(e) => return Err(self.upstream_failed(trail, route, &rules, e).await),
        };
        result.result_type = Some(ResultType::COMPLETE);

        // Scan the result (content, structuredContent, _meta and whatever
        // else the upstream added), then act on it.
        let stage = Instant::now();
        let doc = serde_json::to_value(&result).unwrap_or(Value::Null);
        let res = self
            .scan(trail, &rules, doc, Direction::Results, "result")
            .await?;
        self.metrics.stage(Stage::scan_result, stage.elapsed());
        let decided = trail.decide(
            &self.metrics,
            &tool,
            Direction::Results,
            &res.verdict,
            &res.doc,
        );
        match decided.effect {
            // The result step never holds (the call has already run).
            Effect::Proceed | Effect::Hold(_) => Ok(result),
            Effect::Redact(found) => {
                let clean = shared::detect::redact_json(&res.doc, &found);
                let mut redacted =
                    serde_json::from_value::<CallToolResult>(clean).map_err(|e| {
                        tracing::error!(error = %e, "rebuilding a redacted result");
                        Stop::CannotDecide("redaction_error")
                    })?;
                redacted.result_type = Some(ResultType::COMPLETE);
                Ok(redacted)
            }
            Effect::Block(why) => Err(Stop::Blocked(blocked_message(
                &why,
                &res.findings(),
                Direction::Results,
            ))),
        }
    }

    /// One governed GitHub call: arguments the tool cannot take and an
    /// installation that is not active are the tool's error, told without
    /// contacting GitHub.
    async fn call_github(
        &self,
        scope: &crate::github::Scope,
        status: shared::api::InstallationStatus,
        call: Result<GitHubCall, String>,
    ) -> Result<crate::github::Reply, crate::upstream::UpstreamError> {
        use crate::upstream::UpstreamError;
        let tool_error = crate::github::Reply::refused;
        let call = match call {
            Ok(c) => c,
            Err(e) => return Ok(tool_error(format!("Invalid arguments: {e}."))),
        };
        match status {
            shared::api::InstallationStatus::Active => {}
            shared::api::InstallationStatus::Suspended => {
                return Ok(tool_error(
                    "The GitHub installation behind this tool is suspended on GitHub.".to_owned(),
                ));
            }
            shared::api::InstallationStatus::Deleted => {
                return Ok(tool_error(
                    "The GitHub App was uninstalled from this account; an admin must connect it again."
                        .to_owned(),
                ));
            }
        }
        let app = self.github_app().await.map_err(|e| {
            tracing::error!(error = %e, "reading the GitHub App");
            UpstreamError::Unreachable("the GitHub App's configuration is unavailable".to_owned())
        })?;
        let Some(app) = app else {
            return Ok(tool_error(
                "No GitHub App is configured for this Gatehouse (the operator sets one)."
                    .to_owned(),
            ));
        };
        self.github.call(&app, scope, &call, self.clock.now()).await
    }

    /// One governed database call on a pooled session. What Postgres or
    /// Gatehouse refused is the tool's error; a database that cannot be
    /// reached is an upstream failure.
    async fn call_postgres(
        &self,
        agent: &AgentCtx,
        connector: Uuid,
        (target, access): (&crate::postgres::Target, &shared::api::PackDatabase),
        call: &DbCall,
        assessed: Option<&Value>,
    ) -> Result<CallToolResult, crate::upstream::UpstreamError> {
        use crate::postgres::DbError;
        let ran = self
            .databases
            .with_session(agent.claims().org, connector, target, async |c| {
                crate::postgres::exec::run(c, access, call, assessed).await
            })
            .await;
        match ran {
            Ok(r) => Ok(r),
            Err(DbError::Statement(m) | DbError::Refused(m)) => Ok(error_result(m)),
            Err(e) => Err(e.upstream()),
        }
    }

    /// The risk of a write proposal, assessed on the database.
    async fn write_risk(
        &self,
        agent: &AgentCtx,
        connector: Uuid,
        target: &crate::postgres::Target,
        access: &shared::api::PackDatabase,
        write: &crate::postgres::sql::Write,
    ) -> Result<crate::postgres::exec::Risk, crate::postgres::DbError> {
        self.databases
            .with_session(agent.claims().org, connector, target, async |c| {
                crate::postgres::exec::assess(c, access, write).await
            })
            .await
    }

    /// The GitHub App's configuration, cached for a few seconds (it changes
    /// only when the operator sets a new one).
    async fn github_app(
        &self,
    ) -> Result<Option<Arc<crate::github::AppConfig>>, crate::service::ServiceError> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(10);
        if let Ok(g) = self.github_app.lock()
            && let Some((at, app)) = g.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(Some(app.clone()));
        }
        let app = crate::service::github::app(&self.db, &self.keyring)
            .await?
            .map(Arc::new);
        if let (Ok(mut g), Some(a)) = (self.github_app.lock(), &app) {
            *g = Some((Instant::now(), a.clone()));
        }
        Ok(app)
    }

    /// Holds the call until a person decides, at most the org's hold
    /// time, telling the client's progress token how it goes. `Ok` means
    /// approved (now or earlier, for exactly these arguments: single use).
    async fn hold(
        &self,
        agent: &AgentCtx,
        trail: &mut Trail,
        tool: &ToolVerdict,
        evidence: Value,
        send: &Value,
    ) -> Result<(), Stop> {
        let unavailable = |e: crate::service::ServiceError| {
            tracing::error!(error = %e, "approvals unavailable");
            Stop::CannotDecide("approvals_unavailable")
        };
        let digest = arguments_digest(trail.tool(), send);
        let now = self.clock.now();
        if let Some(id) = approvals::take_approved(&self.db, agent, now, trail.tool(), &digest)
            .await
            .map_err(unavailable)?
        {
            trail.approval_id = Some(id);
            trail.reason("approved");
            return Ok(());
        }
        // Subscribed before the request exists: no decision can slip by.
        let mut waiter = self.signals.subscribe();
        let id = Uuid::new_v4();
        let task_args = if trail.tasks() {
            let bytes = serde_json::to_vec(send).map_err(|_| Stop::CannotDecide("task_args"))?;
            Some(
                self.keyring
                    .seal(&bytes, &approvals::task_aad(agent.claims().org, id))
                    .map_err(|e| {
                        tracing::error!(error = %e, "sealing a task's arguments");
                        Stop::CannotDecide("task_args")
                    })?,
            )
        } else {
            None
        };
        let as_task = task_args.is_some();
        approvals::open(
            &self.db,
            agent,
            now,
            &self.public_base,
            &NewApproval {
                task_args,
                id,
                session_id: trail.session_id(),
                tool: trail.tool().to_owned(),
                arguments_redacted: evidence,
                arguments_digest: digest,
                rule_name: tool.rule.clone(),
                reasons: trail.reasons().to_vec(),
            },
        )
        .await
        .map_err(unavailable)?;
        trail.approval_id = Some(id);
        if as_task {
            return Err(Stop::Task(id));
        }
        let hold = std::time::Duration::from_secs(u64::from(agent.approvals().hold_secs));
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + hold;
        let progress = trail.progress();
        let mut last_report: Option<Instant> = None;
        loop {
            match approvals::settle(&self.db, agent, self.clock.now(), id)
                .await
                .map_err(unavailable)?
            {
                Settled::Approved => {
                    trail.reason("approved");
                    return Ok(());
                }
                Settled::Denied { comment } => {
                    trail.reason("denied");
                    return Err(Stop::Denied { id, comment });
                }
                Settled::Expired => {
                    trail.reason("approval_expired");
                    return Err(Stop::AwaitingApproval(id));
                }
                Settled::Pending => {}
            }
            if tokio::time::Instant::now() >= deadline {
                trail.reason("approval_pending");
                return Err(Stop::AwaitingApproval(id));
            }
            if let Some(p) = &progress
                && last_report.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY)
            {
                last_report = Some(Instant::now());
                let waited = started.elapsed().as_secs_f64();
                p.report(
                    waited,
                    hold.as_secs_f64(),
                    format!("Waiting for a person to approve this call (approval {id})."),
                )
                .await;
            }
            tokio::select! {
                _ = waiter.next(id) => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Scans `doc` on the scanning pool (see [`crate::scanning`]) with the
    /// pack's rules. A scan that fails stops the call in enforce mode (fail
    /// closed); in monitor mode the call goes on, recorded as unscanned.
    async fn scan(
        &self,
        trail: &mut Trail,
        rules: &Rules,
        doc: Value,
        direction: Direction,
        what: &str,
    ) -> Result<Scanned, Stop> {
        let compiled = rules.compiled.clone();
        let (doc, found) = match self
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
        };
        let findings = match found {
            Ok(f) => f,
            Err(e) => {
                trail.error_message = Some(format!("the {what} could not be scanned: {e}"));
                if trail.mode == OrgMode::Enforce {
                    return Err(Stop::CannotDecide("scan_error"));
                }
                trail.reason("scan_error");
                Vec::new()
            }
        };
        Ok(Scanned {
            verdict: rules.rules.decide(findings, direction),
            doc,
        })
    }

    /// An upstream failure. Its text was written by the upstream (maybe
    /// hostile, maybe echoing the arguments): it is scanned like a result
    /// before the agent sees it, and stored and logged only redacted.
    async fn upstream_failed(
        &self,
        trail: &mut Trail,
        route: &Route,
        rules: &Rules,
        e: UpstreamError,
    ) -> Stop {
        let outcome = e.outcome();
        let doc = serde_json::json!({ "error": e.to_string() });
        let scanned = match self
            .scan(trail, rules, doc, Direction::Results, "upstream error")
            .await
        {
            Ok(s) => s,
            Err(stop) => {
                tracing::info!(connector = %route.connector_id, outcome = outcome.as_str(), "upstream call failed");
                return stop;
            }
        };
        let decided = trail.decide(
            &self.metrics,
            &ToolVerdict::default(),
            Direction::Results,
            &scanned.verdict,
            &scanned.doc,
        );
        let stored = redacted_error(&scanned.doc, &scanned.findings());
        tracing::info!(connector = %route.connector_id, error = %stored, "upstream call failed");
        trail.reason(outcome.as_str());
        let shown = match decided.effect {
            Effect::Block(Blocked::Finding(f)) => format!(
                "The tool call failed, and its error message was withheld: Gatehouse rule {} matched {} in it.",
                rule_name(&f),
                f.label
            ),
            Effect::Redact(found) => {
                format!(
                    "The tool call failed: {}.",
                    redacted_error(&scanned.doc, &found)
                )
            }
            _ => format!("The tool call failed: {e}."),
        };
        Stop::Upstream {
            outcome,
            shown,
            stored: format!("The tool call failed: {stored}."),
        }
    }

    /// Turns a stop into the agent's answer and the record's outcome: the
    /// one place a stage's early end meets the wire.
    fn stopped(&self, trail: &mut Trail, stop: Stop) -> (CallToolResult, Outcome) {
        match stop {
            Stop::Blocked(message) => {
                trail.decision = Decision::Block;
                trail.error_message = Some(message.clone());
                (error_result(message), Outcome::Blocked)
            }
            Stop::CannotDecide(reason) => {
                trail.decision = Decision::Error;
                trail.reason(reason);
                let message = Error::CannotDecide.to_string();
                trail.error_message.get_or_insert_with(|| message.clone());
                (error_result(message), Outcome::NotRun)
            }
            Stop::Unrecorded => {
                trail.decision = Decision::Error;
                trail.reason("record_unavailable");
                (
                    error_result(Error::CannotDecide.to_string()),
                    Outcome::NotRun,
                )
            }
            Stop::Denied { id, comment } => {
                trail.decision = Decision::Block;
                let message = denied_message(id, comment);
                trail.error_message = Some(message.clone());
                (error_result(message), Outcome::Denied)
            }
            Stop::Paused(e) => {
                trail.decision = Decision::Block;
                let limit = e.quota.map(|q| format!(" ({q} calls)")).unwrap_or_default();
                let message = format!(
                    "Gatehouse did not run this call: enforcement is paused for this organization because its \
                     enforce quota for {}{limit} is used up, and the organization blocks every call while paused. \
                     It resumes on {} or when the quota is raised.",
                    e.period,
                    e.period.next().first_day()
                );
                trail.error_message = Some(message.clone());
                (error_result(message), Outcome::Blocked)
            }
            // Answered as a task by `call_tool` before it gets here; kept
            // total so a wrong turn reads as pending, never as run.
            Stop::AwaitingApproval(id) | Stop::Task(id) => {
                trail.decision = Decision::Block;
                let message = format!(
                    "This call needs a person's approval and has not run. Approval {id} is pending: {}/approvals?id={id}. \
                     Once it is approved, retry the identical call (the same arguments) and it will run once; \
                     a call with other arguments asks for a new approval.",
                    self.public_base
                );
                trail.error_message = Some(message.clone());
                (error_result(message), Outcome::AwaitingApproval)
            }
            Stop::Upstream {
                outcome,
                shown,
                stored,
            } => {
                trail.decision = Decision::Error;
                trail.error_message = Some(stored);
                (error_result(shown), outcome)
            }
        }
    }

    /// Records the call durably; an unrecorded call does not get its
    /// answer (nothing lost).
    async fn record(&self, trail: Trail, started: Instant, outcome: Outcome) -> Result<(), Error> {
        let total = started.elapsed();
        let upstream_us = trail.upstream_us;
        let decision = trail.decision;
        let mode = trail.mode;
        let record = trail.into_record(outcome, micros(total));
        let blocked = matches!(
            outcome,
            Outcome::Blocked | Outcome::Denied | Outcome::Quarantined
        )
        .then(|| {
            (
                record.org_id,
                serde_json::json!({
                    "call_id": record.id,
                    "tool": record.tool,
                    "outcome": outcome.as_str(),
                    "reasons": record.reasons,
                    "pack_id": record.pack_id,
                    "registered_user_id": record.registered_user_id,
                    "at": record.created_at,
                    "url": format!("{}/alerts/calls/{}", self.public_base, record.id),
                }),
            )
        });
        let stage = Instant::now();
        if let Err(e) = self.recorder.record(record).await {
            tracing::error!(error = %e, "decision record not written; withholding the result");
            return Err(Error::CannotDecide);
        }
        self.metrics.stage(Stage::record, stage.elapsed());
        if let Some((org_id, data)) = blocked {
            // Off the answer's path: a slow queue insert must not delay the
            // agent, and the call's record is already durable.
            let db = self.db.clone();
            let now = self.clock.now();
            tokio::spawn(async move {
                if let Err(e) = crate::service::webhooks::enqueue(
                    &db,
                    org_id,
                    shared::api::WebhookEvent::CallBlocked,
                    data,
                    now,
                )
                .await
                {
                    tracing::warn!(error = %e, "queueing the call.blocked webhook");
                }
            });
        }
        self.metrics
            .decisions
            .get_or_create(&DecisionLabels {
                decision: decision.as_str().to_owned(),
                mode: mode.as_str().to_owned(),
            })
            .inc();
        self.metrics.call_seconds.observe(total.as_secs_f64());
        let overhead = total.as_secs_f64() - upstream_us.map(|u| u as f64 / 1e6).unwrap_or(0.0);
        self.metrics.overhead_seconds.observe(overhead.max(0.0));
        Ok(())
    }
}

/// Why a call ends before its tool's answer reaches the agent.
enum Stop {
    /// A rule blocked it; the agent is told which (never a value).
    Blocked(String),
    /// Gatehouse could not decide (the reason is recorded): fail closed.
    CannotDecide(&'static str),
    /// The intent could not be recorded, so the call was not dispatched.
    Unrecorded,
    /// A person denied the held call.
    Denied { id: Uuid, comment: Option<String> },
    /// Held, and not decided within the hold time (or expired).
    AwaitingApproval(Uuid),
    /// Held and answered as an MCP task.
    Task(Uuid),
    /// Enforce is paused and the org blocks every call while paused.
    Paused(data_path::AgentEnforcement),
    /// The upstream failed: what the agent is shown and what is stored,
    /// both scanned.
    Upstream {
        outcome: Outcome,
        shown: String,
        stored: String,
    },
}

/// A scanned document with its verdict.
struct Scanned {
    doc: Value,
    verdict: Verdict,
}

impl Scanned {
    fn findings(&self) -> Vec<Finding> {
        self.verdict
            .applied
            .iter()
            .map(|a| a.finding.clone())
            .collect()
    }
}

/// What the agent is told when a person denies its call.
fn denied_message(id: Uuid, comment: Option<String>) -> String {
    match comment {
        Some(c) => format!(
            "A person denied this call (approval {id}), so it was not run. Their comment: {c}"
        ),
        None => format!("A person denied this call (approval {id}), so it was not run."),
    }
}

/// How often a waiting call reports progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// SHA-256 (hex) of the tool name and the arguments as they will be sent,
/// in a canonical form (object keys sorted, no whitespace), so a retry
/// that sends the same arguments in another key order still matches.
fn arguments_digest(tool: &str, args: &Value) -> String {
    use sha2::{Digest, Sha256};
    let text = shared::api::canonical_json(args);
    hex::encode(Sha256::digest(format!("{tool}\n{text}").as_bytes()))
}

fn micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn rule_name(f: &Finding) -> String {
    RuleKey::of(f)
        .map(|k| k.to_string())
        .unwrap_or_else(|| f.label.clone())
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
fn blocked_message(why: &Blocked, all: &[Finding], d: Direction) -> String {
    let f = match why {
        Blocked::Tool(Some(rule)) => {
            return format!(
                "The call was blocked and not sent to the tool: Gatehouse tool policy \"{rule}\" blocks it."
            );
        }
        Blocked::Tool(None) => {
            return "The call was blocked and not sent to the tool: Gatehouse blocks this tool by default.".to_owned();
        }
        Blocked::Finding(f) => f,
    };
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
        "{what}: Gatehouse rule {} matched {} in {place}{field}.",
        rule_name(f),
        f.label
    )
}

fn error_result(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}
