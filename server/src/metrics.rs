//! Prometheus metrics (`GET /metrics`). Labels never carry tenant ids or
//! tool names, so the endpoint leaks nothing about any org.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: String,
    pub mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DetectionLabels {
    pub entity: String,
    pub direction: String,
    pub action: String,
}

/// One stage of a `tools/call`'s data path (see [`crate::gateway`]).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the label values Prometheus shows
pub enum Stage {
    /// Verifying the bearer token and reading the agent's org, pack and
    /// user (the `/mcp` middleware).
    authorize,
    /// Resolving the tool in the pack (cached per configuration version).
    resolve,
    /// Getting the pack's compiled rules (cached) and scanning the
    /// arguments on the scanning pool, hop included.
    scan_arguments,
    /// The tool policies (and approvals, for a call that is held).
    policy,
    /// The intent record, durable before dispatch.
    record_intent,
    /// The connector's answer (upstream MCP server, GitHub, database).
    dispatch,
    /// Scanning the result (hop included).
    scan_result,
    /// The final decision record, durable before the answer.
    record,
}

impl Stage {
    /// Every stage, in the order a call goes through them.
    pub const ALL: [Stage; 8] = [
        Stage::authorize,
        Stage::resolve,
        Stage::scan_arguments,
        Stage::policy,
        Stage::record_intent,
        Stage::dispatch,
        Stage::scan_result,
        Stage::record,
    ];

    /// The label value `/metrics` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::authorize => "authorize",
            Stage::resolve => "resolve",
            Stage::scan_arguments => "scan_arguments",
            Stage::policy => "policy",
            Stage::record_intent => "record_intent",
            Stage::dispatch => "dispatch",
            Stage::scan_result => "scan_result",
            Stage::record => "record",
        }
    }
}

/// An in-memory cache of the data path.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)] // the label values Prometheus shows
pub enum Cache {
    /// Authorisation answers per agent key (at most a second old).
    agent_access,
    /// A pack's tool routes, per configuration version.
    routes,
    /// A pack's effective rules with their compiled form.
    rules,
    /// A pack's compiled tool policies.
    tool_policies,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Lookup {
    hit,
    miss,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: Cache,
    pub outcome: Lookup,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: Stage,
}

/// Stage buckets from 10 µs: the stages that matter for the latency
/// target are well under a millisecond, so the coarse call buckets would
/// put them all in one bucket.
fn stage_histogram() -> Histogram {
    Histogram::new([
        0.00001, 0.000025, 0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075,
        0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
    ])
}

type StageFamily = Family<StageLabels, Histogram, fn() -> Histogram>;

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub calls: Counter,
    pub decisions: Family<DecisionLabels, Counter>,
    pub detections: Family<DetectionLabels, Counter>,
    /// Time Gatehouse adds around the upstream call, and the whole call.
    pub overhead_seconds: Histogram,
    pub call_seconds: Histogram,
    /// Time per stage of a call (see [`Stage`]).
    stage_seconds: StageFamily,
    /// Cache lookups by cache and outcome: how well the caches hold the
    /// tenants that are active (see BENCHMARKS.md, tenants).
    cache_lookups: Family<CacheLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let calls = Counter::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let detections = Family::<DetectionLabels, Counter>::default();
        let buckets = [
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5, 5.0, 10.0, 30.0,
        ];
        let overhead_seconds = Histogram::new(buckets.iter().copied());
        let call_seconds = Histogram::new(buckets.iter().copied());
        registry.register("tool_calls", "tools/call requests handled", calls.clone());
        registry.register(
            "decisions",
            "Decisions by outcome and org mode",
            decisions.clone(),
        );
        registry.register(
            "detections",
            "Detections by entity or custom label",
            detections.clone(),
        );
        registry.register(
            "overhead_seconds",
            "Time added by Gatehouse to a tools/call (excluding the upstream)",
            overhead_seconds.clone(),
        );
        registry.register(
            "tool_call_seconds",
            "Whole tools/call latency",
            call_seconds.clone(),
        );
        let stage_seconds: StageFamily = Family::new_with_constructor(stage_histogram);
        registry.register(
            "stage_seconds",
            "Time per stage of a tools/call (authorize, resolve, scan_arguments, policy, record_intent, dispatch, scan_result, record)",
            stage_seconds.clone(),
        );
        let cache_lookups = Family::<CacheLabels, Counter>::default();
        registry.register(
            "cache_lookups",
            "Lookups in the data path's in-memory caches (agent_access, routes, rules, tool_policies), answered from memory (hit) or not (miss)",
            cache_lookups.clone(),
        );
        Self {
            stage_seconds,
            cache_lookups,
            registry: Arc::new(registry),
            calls,
            decisions,
            detections,
            overhead_seconds,
            call_seconds,
        }
    }

    /// Notes that one stage of a call took `took`.
    pub fn stage(&self, stage: Stage, took: std::time::Duration) {
        self.stage_seconds
            .get_or_create(&StageLabels { stage })
            .observe(took.as_secs_f64());
    }

    /// The (hit, miss) counters of one cache.
    pub fn cache(&self, cache: Cache) -> (Counter, Counter) {
        let get = |outcome| {
            self.cache_lookups
                .get_or_create(&CacheLabels { cache, outcome })
                .clone()
        };
        (get(Lookup::hit), get(Lookup::miss))
    }

    /// Counts one lookup in `cache`.
    pub fn cache_lookup(&self, cache: Cache, hit: bool) {
        let outcome = if hit { Lookup::hit } else { Lookup::miss };
        self.cache_lookups
            .get_or_create(&CacheLabels { cache, outcome })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
