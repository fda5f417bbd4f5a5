//! The alerts page (timeseries, breakdowns) and the overview's numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::records::{ToolCall, ViolationFilter};

/// The time ranges the alerts page offers.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertRange {
    LastHour,
    #[default]
    Last24h,
    Last7d,
    Last30d,
    /// Between explicit `from` and `to`.
    Custom,
}

impl AlertRange {
    /// Every preset, in menu order.
    pub const ALL: [AlertRange; 5] = [
        AlertRange::LastHour,
        AlertRange::Last24h,
        AlertRange::Last7d,
        AlertRange::Last30d,
        AlertRange::Custom,
    ];

    /// The form value.
    ///
    /// ```
    /// use shared::api::AlertRange;
    /// assert_eq!(AlertRange::Last7d.as_str(), "7d");
    /// assert_eq!("7d".parse::<AlertRange>(), Ok(AlertRange::Last7d));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertRange::LastHour => "1h",
            AlertRange::Last24h => "24h",
            AlertRange::Last7d => "7d",
            AlertRange::Last30d => "30d",
            AlertRange::Custom => "custom",
        }
    }

    /// The menu label.
    pub const fn title(self) -> &'static str {
        match self {
            AlertRange::LastHour => "Last hour",
            AlertRange::Last24h => "Last 24 hours",
            AlertRange::Last7d => "Last 7 days",
            AlertRange::Last30d => "Last 30 days",
            AlertRange::Custom => "Custom",
        }
    }

    /// The span of a preset, and the chart's bucket width, in seconds.
    /// `None` for [`AlertRange::Custom`].
    pub const fn span_and_bucket(self) -> Option<(i64, i64)> {
        match self {
            AlertRange::LastHour => Some((3600, 60)),
            AlertRange::Last24h => Some((86_400, 3600)),
            AlertRange::Last7d => Some((7 * 86_400, 6 * 3600)),
            AlertRange::Last30d => Some((30 * 86_400, 86_400)),
            AlertRange::Custom => None,
        }
    }
}

impl std::str::FromStr for AlertRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertRange::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown range {s:?}; use 1h, 24h, 7d, 30d or custom"))
    }
}

/// What the alerts page asks for: a range plus the violation filters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsQuery {
    pub range: AlertRange,
    /// Split the chart into one panel per action instead of stacking.
    #[serde(default)]
    pub split: bool,
    /// The filters; `from` / `to` are used only with [`AlertRange::Custom`].
    #[serde(default)]
    pub filter: ViolationFilter,
}

/// Violations in one time bucket, per action.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertBucket {
    pub start: DateTime<Utc>,
    pub allow: i64,
    pub redact: i64,
    pub block: i64,
}

/// One row of a breakdown: a key (rule, entity, pack, user), how to show
/// it, and its count.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// The alerts page's summary: buckets, the chart drawn from them, and the
/// breakdowns, all for the same range and filters.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsSummary {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket_secs: i64,
    pub buckets: Vec<AlertBucket>,
    pub total: i64,
    /// The timeseries chart as an SVG document (rendered on the server).
    pub chart_svg: String,
    pub by_rule: Vec<CountRow>,
    pub by_entity: Vec<CountRow>,
    pub by_pack: Vec<CountRow>,
    pub by_user: Vec<CountRow>,
}

/// The overview page's numbers.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewStats {
    pub mode: crate::account::OrgMode,
    pub calls_today: i64,
    pub violations_today: i64,
    pub blocked_today: i64,
    pub top_rules: Vec<CountRow>,
    pub last_blocked: Vec<ToolCall>,
    pub connector_count: i64,
    pub pack_count: i64,
    pub key_count: i64,
    /// Tool changes waiting for an admin's review, and tools quarantined.
    #[serde(default)]
    pub open_tool_changes: i64,
    #[serde(default)]
    pub quarantined_tools: i64,
}
