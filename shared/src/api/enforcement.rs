//! Plans, enforce quotas and the effective enforcement state ("Enforce
//! Paused"), as the Overview, Settings, the navigation and `GET /org` show
//! them; the pure rules the gateway applies live here too.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::account::OrgMode;
use crate::error::ApiError;

/// A plan. Its enforce quota is set in the server's configuration
/// (enterprise: unlimited).
///
/// ```
/// use shared::api::Plan;
/// assert_eq!("team".parse::<Plan>(), Ok(Plan::Team));
/// assert!("gold".parse::<Plan>().is_err());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Team,
    Enterprise,
}

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Team, Plan::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Team => "team",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| "Choose free, team or enterprise.".to_owned())
    }
}

/// A billing period: one calendar month (UTC), named by its first day.
///
/// ```
/// use shared::api::Period;
/// let t = "2026-12-31T23:59:59Z".parse().unwrap();
/// let p = Period::of(t);
/// assert_eq!(p.to_string(), "2026-12");
/// assert_eq!(p.next().to_string(), "2027-01");
/// assert_eq!(p.next().start().to_rfc3339(), "2027-01-01T00:00:00+00:00");
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period(pub NaiveDate);

impl Period {
    /// The period `now` falls in.
    pub fn of(now: DateTime<Utc>) -> Self {
        let d = now.date_naive();
        Period(d.with_day(1).unwrap_or(d))
    }

    /// The first day (what the database stores).
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// The period after this one.
    pub fn next(self) -> Self {
        let (y, m) = if self.0.month() == 12 {
            (self.0.year() + 1, 1)
        } else {
            (self.0.year(), self.0.month() + 1)
        };
        Period(NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(self.0))
    }

    /// When the period starts.
    pub fn start(self) -> DateTime<Utc> {
        self.0.and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

/// The share of the quota at which the dashboard warns.
pub const WARN_PERCENT: u64 = 80;

/// How far an org is into its quota.
///
/// ```
/// use shared::api::QuotaLevel;
/// assert_eq!(QuotaLevel::of(79, Some(100)), QuotaLevel::Normal);
/// assert_eq!(QuotaLevel::of(80, Some(100)), QuotaLevel::Warning);
/// assert_eq!(QuotaLevel::of(100, Some(100)), QuotaLevel::Exhausted);
/// assert_eq!(QuotaLevel::of(1_000_000, None), QuotaLevel::Normal);
/// // A quota of 0 means enforce never runs.
/// assert_eq!(QuotaLevel::of(0, Some(0)), QuotaLevel::Exhausted);
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaLevel {
    Normal,
    /// At or past [`WARN_PERCENT`] of the quota.
    Warning,
    /// The quota is used up: enforce is paused.
    Exhausted,
}

impl QuotaLevel {
    pub fn of(used: u64, quota: Option<u64>) -> Self {
        match quota {
            None => QuotaLevel::Normal,
            Some(q) if used >= q => QuotaLevel::Exhausted,
            Some(q) if used.saturating_mul(100) >= q.saturating_mul(WARN_PERCENT) => {
                QuotaLevel::Warning
            }
            Some(_) => QuotaLevel::Normal,
        }
    }
}

pub use crate::account::EffectiveMode;

/// The reason recorded on every call decided while enforce is paused.
pub const PAUSED_REASON: &str = "enforce_paused:quota";

/// Why enforce is paused, as recorded when it paused.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// Always `quota` today.
    pub reason: String,
    /// When the quota ran out.
    pub since: Option<DateTime<Utc>>,
    /// The limit that was reached (calls in enforce mode per period).
    pub limit: u64,
    /// The billing period, `YYYY-MM`.
    pub period: String,
    /// When enforce resumes by itself (the next period's start).
    pub resumes_at: DateTime<Utc>,
}

/// The org's plan and its use in the current period.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub plan: Plan,
    /// Calls decided in enforce mode per period; None = unlimited.
    pub enforce_quota: Option<u64>,
    /// The operator set this org's quota (not the plan's).
    pub quota_is_custom: bool,
    /// `YYYY-MM`.
    pub period: String,
    pub period_ends_at: DateTime<Utc>,
    pub used: u64,
    pub level: QuotaLevel,
}

impl Usage {
    /// The share used, 0–100 (0 when unlimited), for the usage bar.
    ///
    /// ```
    /// use shared::api::{Plan, QuotaLevel, Usage};
    /// let u = Usage { plan: Plan::Free, enforce_quota: Some(200), quota_is_custom: false,
    ///     period: "2026-12".into(), period_ends_at: chrono::Utc::now(), used: 50,
    ///     level: QuotaLevel::Normal };
    /// assert_eq!(u.percent(), 25);
    /// ```
    pub fn percent(&self) -> u64 {
        match self.enforce_quota {
            Some(0) => 100,
            Some(q) => (self.used.saturating_mul(100) / q).min(100),
            None => 0,
        }
    }
}

/// Configured mode, effective state and why (`GET /org`, Overview,
/// Settings, the navigation).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// What admins chose (stays `enforce` while paused).
    pub configured: OrgMode,
    pub effective: EffectiveMode,
    /// Set while the effective state is `enforce_paused`.
    pub pause: Option<Pause>,
    pub usage: Usage,
    /// While paused, block every call instead of deciding as in monitor
    /// mode.
    pub paused_blocks_calls: bool,
}

/// An operator's plan change (CLI `gatehouse org plan` or
/// `PUT /api/v1/operator/orgs/{org}/plan`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlanInput {
    /// free, team or enterprise.
    pub plan: String,
    /// This org's own quota (calls in enforce mode per month); absent =
    /// the plan's.
    pub enforce_quota: Option<u64>,
}

/// A parsed [`PlanInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanChange {
    pub plan: Plan,
    pub enforce_quota: Option<u64>,
}

impl PlanInput {
    /// ```
    /// use shared::api::{Plan, PlanInput};
    /// let c = PlanInput { plan: "team".into(), enforce_quota: Some(10) }.parse().unwrap();
    /// assert_eq!((c.plan, c.enforce_quota), (Plan::Team, Some(10)));
    /// assert!(PlanInput { plan: "gold".into(), enforce_quota: None }.parse().is_err());
    /// ```
    pub fn parse(&self) -> Result<PlanChange, ApiError> {
        let plan = self
            .plan
            .parse()
            .map_err(|e: String| ApiError::invalid("plan", e))?;
        if self.enforce_quota.is_some_and(|q| q > i64::MAX as u64) {
            return Err(ApiError::invalid(
                "enforce_quota",
                "The quota is too large.",
            ));
        }
        Ok(PlanChange {
            plan,
            enforce_quota: self.enforce_quota,
        })
    }
}

/// What happens to calls while enforce is paused.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PausedBehaviourInput {
    /// true: block every call (strict); false: decide as in monitor mode.
    pub paused_blocks_calls: bool,
}

/// What an org event was.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgEventKind {
    ModeChanged,
    PlanChanged,
    QuotaWarning,
    EnforcePaused,
    EnforceResumed,
    PausedBehaviourChanged,
    RetentionChanged,
}

impl OrgEventKind {
    pub const ALL: [OrgEventKind; 7] = [
        OrgEventKind::ModeChanged,
        OrgEventKind::PlanChanged,
        OrgEventKind::QuotaWarning,
        OrgEventKind::EnforcePaused,
        OrgEventKind::EnforceResumed,
        OrgEventKind::PausedBehaviourChanged,
        OrgEventKind::RetentionChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgEventKind::ModeChanged => "mode_changed",
            OrgEventKind::PlanChanged => "plan_changed",
            OrgEventKind::QuotaWarning => "quota_warning",
            OrgEventKind::EnforcePaused => "enforce_paused",
            OrgEventKind::EnforceResumed => "enforce_resumed",
            OrgEventKind::PausedBehaviourChanged => "paused_behaviour_changed",
            OrgEventKind::RetentionChanged => "retention_changed",
        }
    }
}

impl std::str::FromStr for OrgEventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgEventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown org event {s:?}"))
    }
}

/// One entry of the Settings event list.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgEvent {
    pub at: DateTime<Utc>,
    pub kind: OrgEventKind,
    /// The member who acted; None = the operator or Gatehouse itself.
    pub actor: Option<String>,
    /// The billing period concerned, `YYYY-MM`.
    pub period: Option<String>,
    /// What happened, in words.
    pub summary: String,
}

/// `GET /org`: the organization's settings with its enforcement state.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgStatus {
    #[serde(flatten)]
    pub org: crate::account::OrgSettings,
    pub enforcement: Enforcement,
}
