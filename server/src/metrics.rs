//! Prometheus metrics (`GET /metrics`). Labels never carry tenant ids or
//! tool names, so the endpoint leaks nothing about any org.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
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

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub calls: Counter,
    pub decisions: Family<DecisionLabels, Counter>,
    pub detections: Family<DetectionLabels, Counter>,
    /// Time Gatehouse adds around the upstream call, and the whole call.
    pub overhead_seconds: Histogram,
    pub call_seconds: Histogram,
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
        Self {
            registry: Arc::new(registry),
            calls,
            decisions,
            detections,
            overhead_seconds,
            call_seconds,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
