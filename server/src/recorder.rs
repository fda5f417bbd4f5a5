//! Durable decision records with group commit.
//!
//! Every tools/call hands its record to the writers and waits for the
//! commit before the agent gets its answer ("nothing lost"). A writer
//! takes whatever has queued up while it was busy and writes it all in
//! one transaction with array inserts, so under load many calls share one
//! fsync and throughput holds. A few writers work at once ([`WRITERS`]):
//! with one, every batch waited for the previous batch's commit; with
//! several, a batch forms and is sent while others commit, and Postgres
//! flushes the WAL of concurrent commits together. Batches lock shared
//! rows (sessions, usage, roll-ups) in key order, so concurrent batches
//! cannot deadlock on them.
//!
//! Records come from agents and upstreams, so they may hold anything:
//! NUL characters (which Postgres refuses in `text` and `jsonb`) are
//! replaced before writing, and a batch that fails anyway is retried row by
//! row, so one poisoned record never costs other calls (of other tenants)
//! their records and answers.
//!
//! The same statement counts enforce usage (calls decided in enforce mode,
//! per org and month): exact across replicas, since Postgres serialises
//! the increments, and no extra round trip. A batch that crosses 80 % or
//! 100 % of a quota is noted afterwards (see
//! [`crate::service::enforcement::note_usage`]).
//!
//! A call about to be dispatched upstream is first recorded as an
//! *intent* (outcome `in_flight`); the final record replaces it. A crash
//! between the two leaves the intent: no upstream call without a trace.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use shared::api::{Decision, Outcome, Period, QuotaLevel, SessionKind};
use shared::policy::{Action, Direction};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::Plans;
use crate::service::data_path::AgentAccess;
use crate::service::enforcement::{self, UsageStep};

/// One call's record, already redacted.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub pack_id: Uuid,
    pub registered_user_id: Uuid,
    pub agent_key_id: Uuid,
    pub session: SessionRecord,
    pub connector_id: Option<Uuid>,
    pub tool: String,
    pub upstream_tool: Option<String>,
    pub mode: shared::account::OrgMode,
    /// Set when the call counts against the enforce quota.
    pub charge: Option<Charge>,
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub outcome: Outcome,
    pub arguments_redacted: Option<serde_json::Value>,
    pub error_message: Option<String>,
    pub latency_us: i64,
    pub upstream_us: Option<i64>,
    /// What the call touched at the connector (a GitHub repository).
    pub resource: Option<String>,
    /// The connector's request id (GitHub's `X-GitHub-Request-Id`).
    pub upstream_request_id: Option<String>,
    /// A database call's SQL, detected values redacted.
    pub statement: Option<String>,
    pub mcp_session_id: Option<String>,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub protocol_version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub violations: Vec<ViolationRecord>,
    /// The approval the call waited for.
    pub approval_id: Option<Uuid>,
    /// An intent is written before dispatch and replaced by the final
    /// record; it adds no session count and no violations.
    pub intent: bool,
}

/// Postgres cannot store U+0000 in `text` or `jsonb`.
fn clean(s: &mut String) {
    if s.contains('\0') {
        *s = s.replace('\0', "\u{FFFD}");
    }
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

/// Makes a JSON value storable (see the module docs).
pub(crate) fn clean_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter_mut().for_each(clean_json),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (mut k, v) in old {
                    clean(&mut k);
                    map.insert(k, v);
                }
            }
            map.values_mut().for_each(clean_json);
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

impl CallRecord {
    /// Makes every field storable (see the module docs).
    fn sanitise(&mut self) {
        clean(&mut self.tool);
        clean_opt(&mut self.upstream_tool);
        self.reasons.iter_mut().for_each(clean);
        if let Some(a) = &mut self.arguments_redacted {
            clean_json(a);
        }
        clean_opt(&mut self.error_message);
        clean_opt(&mut self.resource);
        clean_opt(&mut self.upstream_request_id);
        clean_opt(&mut self.statement);
        clean_opt(&mut self.mcp_session_id);
        clean_opt(&mut self.session.mcp_session_id);
        clean_opt(&mut self.session.name);
        clean_opt(&mut self.client_name);
        clean_opt(&mut self.client_version);
        clean_opt(&mut self.protocol_version);
        for v in &mut self.violations {
            clean(&mut v.rule_key);
            clean(&mut v.label);
            clean_opt(&mut v.pointer);
            clean(&mut v.snippet);
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: Uuid,
    pub kind: SessionKind,
    /// The client's name for the run.
    pub name: Option<String>,
    pub mcp_session_id: Option<String>,
}

/// What an enforced call counts against: its org's usage of `period`,
/// whose quota was `quota` when the call was authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub period: Period,
    pub quota: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ViolationRecord {
    pub rule_key: String,
    pub label: String,
    pub direction: Direction,
    pub pointer: Option<String>,
    pub score: f32,
    pub action: Action,
    pub enforced: bool,
    pub snippet: String,
}

type Job = (CallRecord, oneshot::Sender<Result<(), String>>);

#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Job>,
}

/// What the writer needs to note quota crossings.
struct Quotas {
    plans: Plans,
    clock: Clock,
    /// This server's cached authorisations (see [`forget_exhausted`]).
    access: Arc<AgentAccess>,
}

/// Most records written in one transaction.
const MAX_BATCH: usize = 256;

/// Batches in flight at once (each holds one pool connection while it
/// writes).
pub const WRITERS: usize = 4;

impl Recorder {
    /// Starts the writer tasks.
    pub fn spawn(db: PgPool, plans: Plans, clock: Clock, access: Arc<AgentAccess>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let quotas = Arc::new(Quotas {
            plans,
            clock,
            access,
        });
        for _ in 0..WRITERS {
            tokio::spawn(writer(db.clone(), rx.clone(), quotas.clone()));
        }
        Self { tx }
    }

    /// Writes `record` durably; returns once it is committed.
    pub async fn record(&self, mut record: CallRecord) -> Result<(), String> {
        record.sanitise();
        let (done, wait) = oneshot::channel();
        self.tx
            .send((record, done))
            .await
            .map_err(|_| "the recorder has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the recorder has stopped".to_owned())?
    }
}

async fn writer(db: PgPool, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>, quotas: Arc<Quotas>) {
    loop {
        // One writer at a time waits for work and takes what has queued.
        let mut batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        // Key order: shared rows are locked in the same order by every
        // batch (see the module docs).
        batch.sort_by_key(|(r, _)| (r.session.id, r.org_id));
        let records: Vec<&CallRecord> = batch.iter().map(|(r, _)| r).collect();
        let failed = "the decision record could not be written".to_owned();
        match write(&db, &records).await {
            Ok(usage) => {
                let steps = usage_steps(&records, &usage);
                forget_exhausted(&quotas.access, &steps);
                for (_, done) in batch {
                    let _ = done.send(Ok(()));
                }
                note(&db, &quotas, steps).await;
            }
            Err(e) => {
                let n = records.len();
                tracing::error!(error = %e, n, "writing decision records failed");
                // One bad record must not cost the others theirs: retry
                // each on its own (a database outage fails them all again).
                for (record, done) in batch {
                    let result = if n == 1 {
                        Err(failed.clone())
                    } else {
                        write(&db, &[&record]).await.map_err(|e| {
                            tracing::error!(error = %e, call_id = %record.id, "writing a decision record failed");
                            failed.clone()
                        })
                    };
                    let steps = match &result {
                        Ok(usage) => usage_steps(&[&record], usage),
                        Err(_) => Vec::new(),
                    };
                    forget_exhausted(&quotas.access, &steps);
                    let _ = done.send(result.map(|_| ()));
                    note(&db, &quotas, steps).await;
                }
            }
        }
    }
}

/// A usage row after a write: `(org, period, used)`.
type UsageRow = (Uuid, chrono::NaiveDate, i64);

/// How the batch moved each org's usage (before and after, from the count
/// after and the batch's own calls).
fn usage_steps(records: &[&CallRecord], usage: &[UsageRow]) -> Vec<UsageStep> {
    usage
        .iter()
        .filter_map(|&(org_id, day, after)| {
            let period = Period(day);
            let mine = records
                .iter()
                .filter(|r| !r.intent && r.org_id == org_id)
                .filter_map(|r| r.charge.filter(|c| c.period == period));
            let (n, quota) = mine.fold((0u64, None), |(n, q), c| (n + 1, q.or(c.quota)));
            let after = u64::try_from(after).ok()?;
            Some(UsageStep {
                org_id,
                period,
                before: after.saturating_sub(n),
                after,
                quota,
            })
        })
        .collect()
}

/// Drops this server's cached authorisations of the orgs whose quota the
/// batch used up, before any of its calls is answered: the same agent's
/// next call must find enforce paused, not a cached "enforce" (other
/// servers hear of it through [`enforcement::note_usage`]'s `NOTIFY`).
fn forget_exhausted(access: &AgentAccess, steps: &[UsageStep]) {
    let exhausted = |used, quota| QuotaLevel::of(used, quota) == QuotaLevel::Exhausted;
    for s in steps {
        if exhausted(s.after, s.quota) && !exhausted(s.before, s.quota) {
            access.invalidate_org(s.org_id);
        }
    }
}

/// Notes quota crossings (warning, pause) after the agents have their
/// answers: a failure here costs an event, never a record.
async fn note(db: &PgPool, quotas: &Quotas, steps: Vec<UsageStep>) {
    for step in steps {
        if let Err(e) = enforcement::note_usage(db, &quotas.plans, step, quotas.clock.now()).await {
            tracing::warn!(error = %e, org_id = %step.org_id, "noting enforce usage");
        }
    }
}

/// Writes a batch in ONE statement (so one round trip, atomic without an
/// explicit transaction): session upserts, calls and violations as
/// data-modifying CTEs fed by arrays.
async fn write(db: &PgPool, records: &[&CallRecord]) -> Result<Vec<UsageRow>, sqlx::Error> {
    // One upsert row per session: a batch may hold several calls of one
    // session, and ON CONFLICT may touch a row only once per statement.
    let mut sessions: Vec<(&CallRecord, SessionDelta, DateTime<Utc>)> = Vec::new();
    for r in records.iter().filter(|r| !r.intent) {
        let counts = SessionDelta::of(r);
        match sessions
            .iter_mut()
            .find(|(s, _, _)| s.session.id == r.session.id)
        {
            Some((_, n, last)) => {
                n.add(counts);
                *last = (*last).max(r.created_at);
            }
            None => sessions.push((r, counts, r.created_at)),
        }
    }
    // Enforce usage per org and period (one upsert row each, for the same
    // reason as the sessions).
    let mut usage: Vec<(Uuid, Period, i64)> = Vec::new();
    for r in records.iter().filter(|r| !r.intent) {
        let Some(c) = r.charge else { continue };
        match usage
            .iter_mut()
            .find(|(o, p, _)| *o == r.org_id && *p == c.period)
        {
            Some((_, _, n)) => *n += 1,
            None => usage.push((r.org_id, c.period, 1)),
        }
    }
    usage.sort_by_key(|(o, p, _)| (*o, p.first_day()));
    let v: Vec<(&CallRecord, &ViolationRecord)> = records
        .iter()
        .filter(|r| !r.intent)
        .flat_map(|r| r.violations.iter().map(move |v| (*r, v)))
        .collect();
    let col =
        |f: fn(&CallRecord) -> Option<String>| records.iter().map(|r| f(r)).collect::<Vec<_>>();
    sqlx::query_as::<_, UsageRow>(
        "WITH s AS (
           INSERT INTO runtime_sessions (id, org_id, pack_id, registered_user_id, agent_key_id, mcp_session_id,
             client_name, client_version, started_at, last_seen_at, call_count, kind, name, blocked_count,
             approval_count, violation_count)
           SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::text[],
             $8::text[], $9::timestamptz[], $10::timestamptz[], $11::int8[], $48::text[], $49::text[],
             $50::int8[], $51::int8[], $52::int8[])
           ON CONFLICT (id) DO UPDATE SET
             last_seen_at = GREATEST(runtime_sessions.last_seen_at, EXCLUDED.last_seen_at),
             call_count = runtime_sessions.call_count + EXCLUDED.call_count,
             blocked_count = runtime_sessions.blocked_count + EXCLUDED.blocked_count,
             approval_count = runtime_sessions.approval_count + EXCLUDED.approval_count,
             violation_count = runtime_sessions.violation_count + EXCLUDED.violation_count,
             client_name = COALESCE(runtime_sessions.client_name, EXCLUDED.client_name),
             client_version = COALESCE(runtime_sessions.client_version, EXCLUDED.client_version)
         ), c AS (
           INSERT INTO tool_calls (id, org_id, pack_id, registered_user_id, agent_key_id, session_id, connector_id,
             tool, upstream_tool, mode, decision, reasons, outcome, arguments_redacted, error_message, latency_us,
             upstream_us, mcp_session_id, client_name, client_version, protocol_version, created_at, approval_id,
             resource, upstream_request_id, statement)
           SELECT u.id, u.org_id, u.pack_id, u.registered_user_id, u.agent_key_id, u.session_id, u.connector_id,
             u.tool, u.upstream_tool, u.mode, u.decision,
             COALESCE((SELECT array_agg(x) FROM jsonb_array_elements_text(u.reasons) x), '{}'),
             u.outcome, u.arguments_redacted, u.error_message, u.latency_us, u.upstream_us, u.mcp_session_id,
             u.client_name, u.client_version, u.protocol_version, u.created_at, u.approval_id,
             u.resource, u.upstream_request_id, u.statement
           FROM UNNEST($12::uuid[], $13::uuid[], $14::uuid[], $15::uuid[], $16::uuid[], $17::uuid[], $18::uuid[],
             $19::text[], $20::text[], $21::text[], $22::text[], $23::jsonb[], $24::text[], $25::jsonb[], $26::text[],
             $27::int8[], $28::int8[], $29::text[], $30::text[], $31::text[], $32::text[], $33::timestamptz[],
             $47::uuid[], $56::text[], $57::text[], $58::text[])
           AS u(id, org_id, pack_id, registered_user_id, agent_key_id, session_id, connector_id, tool, upstream_tool,
             mode, decision, reasons, outcome, arguments_redacted, error_message, latency_us, upstream_us,
             mcp_session_id, client_name, client_version, protocol_version, created_at, approval_id,
             resource, upstream_request_id, statement)
           -- The final record replaces the call's intent.
           ON CONFLICT (id, created_at) DO UPDATE SET decision = EXCLUDED.decision, reasons = EXCLUDED.reasons,
             outcome = EXCLUDED.outcome, arguments_redacted = EXCLUDED.arguments_redacted,
             error_message = EXCLUDED.error_message, latency_us = EXCLUDED.latency_us,
             upstream_us = EXCLUDED.upstream_us, approval_id = EXCLUDED.approval_id,
             resource = EXCLUDED.resource, upstream_request_id = EXCLUDED.upstream_request_id,
             statement = EXCLUDED.statement
           WHERE tool_calls.org_id = EXCLUDED.org_id AND tool_calls.outcome = 'in_flight'
         ), v AS (
           INSERT INTO violations (call_id, org_id, pack_id, registered_user_id, rule_key, label, direction,
             pointer, score, action, enforced, snippet, created_at)
           SELECT * FROM UNNEST($34::uuid[], $35::uuid[], $36::uuid[], $37::uuid[], $38::text[], $39::text[],
             $40::text[], $41::text[], $42::real[], $43::text[], $44::bool[], $45::text[], $46::timestamptz[])
         ), q AS (
           INSERT INTO enforce_usage (org_id, period, used)
           SELECT * FROM UNNEST($53::uuid[], $54::date[], $55::int8[])
           ON CONFLICT (org_id, period) DO UPDATE SET used = enforce_usage.used + EXCLUDED.used
           RETURNING org_id, period, used
         )
         SELECT org_id, period, used FROM q",
    )
    // sessions
    .bind(sessions.iter().map(|(r, _, _)| r.session.id).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.org_id).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.pack_id).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.registered_user_id).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.agent_key_id).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.session.mcp_session_id.clone()).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.client_name.clone()).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.client_version.clone()).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.created_at).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(_, _, last)| *last).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(_, n, _)| n.calls).collect::<Vec<_>>())
    // calls
    .bind(records.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.org_id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.pack_id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.registered_user_id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.agent_key_id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.session.id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.connector_id).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.tool.clone()).collect::<Vec<_>>())
    .bind(col(|r| r.upstream_tool.clone()))
    .bind(records.iter().map(|r| r.mode.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.decision.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| serde_json::json!(r.reasons)).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.arguments_redacted.clone()).collect::<Vec<_>>())
    .bind(col(|r| r.error_message.clone()))
    .bind(records.iter().map(|r| r.latency_us).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.upstream_us).collect::<Vec<_>>())
    .bind(col(|r| r.mcp_session_id.clone()))
    .bind(col(|r| r.client_name.clone()))
    .bind(col(|r| r.client_version.clone()))
    .bind(col(|r| r.protocol_version.clone()))
    .bind(records.iter().map(|r| r.created_at).collect::<Vec<_>>())
    // violations
    .bind(v.iter().map(|(r, _)| r.id).collect::<Vec<_>>())
    .bind(v.iter().map(|(r, _)| r.org_id).collect::<Vec<_>>())
    .bind(v.iter().map(|(r, _)| r.pack_id).collect::<Vec<_>>())
    .bind(v.iter().map(|(r, _)| r.registered_user_id).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.rule_key.clone()).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.label.clone()).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.direction.as_str()).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.pointer.clone()).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.score).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.action.as_str()).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.enforced).collect::<Vec<_>>())
    .bind(v.iter().map(|(_, x)| x.snippet.clone()).collect::<Vec<_>>())
    .bind(v.iter().map(|(r, _)| r.created_at).collect::<Vec<_>>())
    // calls, added later
    .bind(records.iter().map(|r| r.approval_id).collect::<Vec<_>>())
    // sessions, added later
    .bind(sessions.iter().map(|(r, _, _)| r.session.kind.as_str()).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(r, _, _)| r.session.name.clone()).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(_, n, _)| n.blocked).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(_, n, _)| n.approvals).collect::<Vec<_>>())
    .bind(sessions.iter().map(|(_, n, _)| n.violations).collect::<Vec<_>>())
    // enforce usage
    .bind(usage.iter().map(|(o, _, _)| *o).collect::<Vec<_>>())
    .bind(usage.iter().map(|(_, p, _)| p.first_day()).collect::<Vec<_>>())
    .bind(usage.iter().map(|(_, _, n)| *n).collect::<Vec<_>>())
    // calls, added with the GitHub connector
    .bind(col(|r| r.resource.clone()))
    .bind(col(|r| r.upstream_request_id.clone()))
    // calls, added with the Postgres connector
    .bind(col(|r| r.statement.clone()))
    .fetch_all(db)
    .await
}

/// What one batch adds to a session's counters.
#[derive(Debug, Clone, Copy, Default)]
struct SessionDelta {
    calls: i64,
    blocked: i64,
    approvals: i64,
    violations: i64,
}

impl SessionDelta {
    fn of(r: &CallRecord) -> Self {
        SessionDelta {
            calls: 1,
            blocked: i64::from(r.decision == Decision::Block),
            approvals: i64::from(r.approval_id.is_some()),
            violations: i64::try_from(r.violations.len()).unwrap_or(i64::MAX),
        }
    }

    fn add(&mut self, o: SessionDelta) {
        self.calls += o.calls;
        self.blocked += o.blocked;
        self.approvals += o.approvals;
        self.violations += o.violations;
    }
}
