//! Outgoing webhooks: where Gatehouse tells a team's systems (or Slack)
//! that a call waits for approval, was decided, or was blocked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors};

/// What a webhook can be told about.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// A call is held for approval.
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    /// An approval request was approved or denied.
    #[serde(rename = "approval.decided")]
    ApprovalDecided,
    /// A call was blocked (by a tool policy or a detection rule) or denied.
    #[serde(rename = "call.blocked")]
    CallBlocked,
    /// An upstream changed or removed an exposed tool, or a tool's
    /// definition carries injected instructions.
    #[serde(rename = "tool.changed")]
    ToolChanged,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::ApprovalRequested,
        WebhookEvent::ApprovalDecided,
        WebhookEvent::CallBlocked,
        WebhookEvent::ToolChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ApprovalRequested => "approval.requested",
            WebhookEvent::ApprovalDecided => "approval.decided",
            WebhookEvent::CallBlocked => "call.blocked",
            WebhookEvent::ToolChanged => "tool.changed",
        }
    }
}

impl std::str::FromStr for WebhookEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WebhookEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| {
                "Choose approval.requested, approval.decided, call.blocked or tool.changed."
                    .to_owned()
            })
    }
}

/// The body Gatehouse sends.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{"event": …, "delivery_id": …, "data": {…}}`.
    Gatehouse,
    /// A Slack incoming-webhook message (`{"text": …}`).
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Gatehouse => "gatehouse",
            WebhookFormat::Slack => "slack",
        }
    }
}

impl std::str::FromStr for WebhookFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "gatehouse" | "" => Ok(WebhookFormat::Gatehouse),
            "slack" => Ok(WebhookFormat::Slack),
            _ => Err("Choose gatehouse or slack.".to_owned()),
        }
    }
}

/// A configured webhook. Its signing secret is write-only: shown once when
/// the webhook is created, stored encrypted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
    pub created_at: DateTime<Utc>,
}

/// A webhook as a form or JSON body carries it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookInput {
    /// `https://…` (or `http://` to a loopback address).
    pub url: String,
    /// Any of approval.requested, approval.decided, call.blocked.
    pub events: Vec<String>,
    /// `gatehouse` (default) or `slack`.
    #[serde(default)]
    pub format: String,
}

/// A parsed webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub url: url::Url,
    pub events: Vec<WebhookEvent>,
    pub format: WebhookFormat,
}

impl WebhookInput {
    /// ```
    /// use shared::api::WebhookInput;
    /// let ok = WebhookInput { url: "https://hooks.example.com/gh".into(),
    ///     events: vec!["approval.requested".into()], format: "slack".into() };
    /// assert_eq!(ok.parse().unwrap().events.len(), 1);
    /// let bad = WebhookInput { url: "https://user:pw@hooks.example.com".into(), events: vec![], format: "".into() };
    /// let e = bad.parse().unwrap_err();
    /// assert!(e.field("url").is_some() && e.field("events").is_some());
    /// ```
    pub fn parse(&self) -> Result<NewWebhook, ApiError> {
        let mut errs = FieldErrors::new();
        let url = match url::Url::parse(self.url.trim()) {
            _ if self.url.len() > 2000 => {
                errs.add("url", "Use at most 2000 characters.");
                None
            }
            Ok(u) if !matches!(u.scheme(), "https" | "http") => {
                errs.add("url", "Use an https:// URL.");
                None
            }
            Ok(u) if u.scheme() == "http" && !is_loopback(&u) => {
                errs.add(
                    "url",
                    "Use https:// (plain http is only accepted for loopback addresses).",
                );
                None
            }
            // URLs are shown to every admin: credentials do not belong in
            // them (deliveries are signed instead).
            Ok(u) => match crate::api::connectors::secret_in_url(self.url.trim()) {
                Some(_) => {
                    errs.add(
                        "url",
                        "Remove the credential from the URL: Gatehouse signs every delivery \
                         instead (verify the Gatehouse-Signature header).",
                    );
                    None
                }
                None => Some(u),
            },
            Err(_) => {
                errs.add(
                    "url",
                    "Enter a URL such as https://hooks.example.com/gatehouse.",
                );
                None
            }
        };
        let mut events = Vec::new();
        for e in &self.events {
            match e.parse::<WebhookEvent>() {
                Ok(e) if !events.contains(&e) => events.push(e),
                Ok(_) => {}
                Err(m) => errs.add("events", m),
            }
        }
        if events.is_empty() {
            errs.add("events", "Choose at least one event.");
        }
        let format = errs.check("format", self.format.parse::<WebhookFormat>());
        match (url, format, errs.is_empty()) {
            (Some(url), Some(format), true) => Ok(NewWebhook {
                url,
                events,
                format,
            }),
            _ => Err(errs.into_error()),
        }
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One delivery of one event to one webhook (the delivery log).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event: WebhookEvent,
    /// `pending` (retrying with backoff), `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: i32,
    /// The receiver's last HTTP status.
    pub last_status: Option<i32>,
    /// Why the last attempt failed (never the receiver's body).
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}
