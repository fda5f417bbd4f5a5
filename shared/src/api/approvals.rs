//! Approvals: calls a tool policy holds until a person decides, as the
//! approvals inbox and the admin API carry them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors, is_text};

/// Where an approval request stands.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a person.
    Pending,
    /// Approved and not used yet: the identical call runs once.
    Approved,
    Denied,
    /// Approved, and the call it allowed has run.
    Used,
    /// Not decided in time (or approved and not used in time).
    Expired,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Used => "used",
            ApprovalStatus::Expired => "expired",
        }
    }

    /// The status as stored, read at `now` (stored `pending` and
    /// `approved` rows past their expiry are expired).
    ///
    /// ```
    /// use shared::api::ApprovalStatus;
    /// let t = chrono::Utc::now();
    /// let later = t + chrono::Duration::hours(1);
    /// assert_eq!(ApprovalStatus::at("pending", later, t), Some(ApprovalStatus::Pending));
    /// assert_eq!(ApprovalStatus::at("pending", t, later), Some(ApprovalStatus::Expired));
    /// assert_eq!(ApprovalStatus::at("used", t, later), Some(ApprovalStatus::Used));
    /// ```
    pub fn at(stored: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Self> {
        let s = match stored {
            "pending" => ApprovalStatus::Pending,
            "approved" => ApprovalStatus::Approved,
            "denied" => ApprovalStatus::Denied,
            "used" => ApprovalStatus::Used,
            _ => return None,
        };
        Some(match s {
            ApprovalStatus::Pending | ApprovalStatus::Approved if expires_at <= now => {
                ApprovalStatus::Expired
            }
            s => s,
        })
    }
}

/// One approval request.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: Uuid,
    pub tool: String,
    pub pack_id: Uuid,
    pub pack_name: Option<String>,
    pub registered_user_id: Uuid,
    pub registered_user_name: Option<String>,
    /// The runtime session of the held call.
    pub session_id: Uuid,
    /// The arguments with every detected value redacted.
    pub arguments_redacted: Value,
    /// SHA-256 (hex) of the exact arguments that will be sent if approved.
    pub arguments_digest: String,
    /// The tool policy rule that asked for approval.
    pub rule_name: Option<String>,
    pub reasons: Vec<String>,
    pub status: ApprovalStatus,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Which approvals to list.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalFilter {
    /// `pending` (default) or `decided` (approved, denied, used, expired).
    pub state: Option<String>,
}

/// An approver's decision.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalDecisionInput {
    /// `approve` or `deny`.
    pub decision: String,
    /// Optional; the agent sees it when the call is denied.
    #[serde(default)]
    pub comment: String,
}

/// A parsed decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalDecision {
    pub approve: bool,
    pub comment: Option<String>,
}

impl ApprovalDecisionInput {
    /// ```
    /// use shared::api::ApprovalDecisionInput;
    /// let d = ApprovalDecisionInput { decision: "deny".into(), comment: " not today ".into() };
    /// let d = d.parse().unwrap();
    /// assert!(!d.approve);
    /// assert_eq!(d.comment.as_deref(), Some("not today"));
    /// assert!(ApprovalDecisionInput { decision: "maybe".into(), comment: String::new() }.parse().is_err());
    /// ```
    pub fn parse(&self) -> Result<ApprovalDecision, ApiError> {
        let mut errs = FieldErrors::new();
        let approve = match self.decision.trim() {
            "approve" => Some(true),
            "deny" => Some(false),
            _ => {
                errs.add("decision", "Choose approve or deny.");
                None
            }
        };
        let comment = self.comment.trim();
        if comment.chars().count() > 1000 {
            errs.add("comment", "Use at most 1000 characters.");
        } else if !is_text(comment, true) {
            errs.add("comment", "Use printable characters only.");
        }
        match (approve, errs.is_empty()) {
            (Some(approve), true) => Ok(ApprovalDecision {
                approve,
                comment: (!comment.is_empty()).then(|| comment.to_owned()),
            }),
            _ => Err(errs.into_error()),
        }
    }
}

/// How long agents wait and how long requests stay decidable.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalSettings {
    /// Seconds a held call waits for a decision (0–600).
    pub hold_secs: u32,
    /// Hours an undecided request (or an unused approval) stays valid (1–720).
    pub expiry_hours: u32,
}

/// The approval settings as a form or JSON body carries them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApprovalSettingsInput {
    pub hold_secs: String,
    pub expiry_hours: String,
}

impl ApprovalSettingsInput {
    /// ```
    /// use shared::api::ApprovalSettingsInput;
    /// let ok = ApprovalSettingsInput { hold_secs: "60".into(), expiry_hours: "24".into() };
    /// assert_eq!(ok.parse().unwrap().hold_secs, 60);
    /// let bad = ApprovalSettingsInput { hold_secs: "601".into(), expiry_hours: "0".into() };
    /// let e = bad.parse().unwrap_err();
    /// assert!(e.field("hold_secs").is_some() && e.field("expiry_hours").is_some());
    /// ```
    pub fn parse(&self) -> Result<ApprovalSettings, ApiError> {
        let mut errs = FieldErrors::new();
        let hold = self
            .hold_secs
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|s| *s <= 600);
        if hold.is_none() {
            errs.add("hold_secs", "Enter a number of seconds from 0 to 600.");
        }
        let expiry = self
            .expiry_hours
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|h| (1..=720).contains(h));
        if expiry.is_none() {
            errs.add("expiry_hours", "Enter a number of hours from 1 to 720.");
        }
        match (hold, expiry) {
            (Some(hold_secs), Some(expiry_hours)) => Ok(ApprovalSettings {
                hold_secs,
                expiry_hours,
            }),
            _ => Err(errs.into_error()),
        }
    }
}
