//! How the dashboard shows enforcement: the Overview banner (80 % warning,
//! Enforce Paused with its reason), the usage bar, the navigation badge.

use leptos::prelude::*;
use shared::api::{EffectiveMode, Enforcement, QuotaLevel, Usage};

use super::fmt_time;

fn quota_text(u: &Usage) -> String {
    match u.enforce_quota {
        Some(q) => format!("{} of {q} enforced calls used in {}", u.used, u.period),
        None => format!("{} enforced calls in {} (unlimited)", u.used, u.period),
    }
}

/// The Overview's banner: nothing while usage is normal.
#[component]
pub fn EnforcementBanner(e: Enforcement) -> impl IntoView {
    let usage = quota_text(&e.usage);
    match (e.effective, e.pause.clone(), e.usage.level) {
        (EffectiveMode::EnforcePaused, Some(p), _) => {
            let behaviour = if e.paused_blocks_calls {
                "Every call is blocked until it resumes (the organization's setting)."
            } else {
                "Calls are decided as in monitor mode and recorded with what enforce would have done."
            };
            view! {
                <div class="notice notice-error" role="alert" data-testid="enforcement-banner">
                    <strong>"Enforce Paused"</strong>
                    " — the configured mode is still enforce, but the "<strong>{p.reason.clone()}</strong>
                    " is used up: "{p.limit}" calls decided in enforce mode in "{p.period.clone()}
                    {p.since.map(|t| format!(" (since {})", fmt_time(t)))}". "{behaviour}
                    " Enforce resumes on "{fmt_time(p.resumes_at)}" or when the operator raises the quota."
                    <a href="/settings">" Usage and events"</a>
                </div>
            }
            .into_any()
        }
        (EffectiveMode::Enforce, _, QuotaLevel::Warning) => view! {
            <div class="notice notice-warn" role="status" data-testid="enforcement-banner">
                <strong>{format!("{}% of the enforce quota used", e.usage.percent())}</strong>
                " — "{usage}". When it runs out, enforce pauses until "{fmt_time(e.usage.period_ends_at)}"."
                <a href="/settings">" Usage and events"</a>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

/// The plan, the usage bar and what happens while paused.
#[component]
pub fn UsageBar(usage: Usage) -> impl IntoView {
    let pct = usage.percent();
    let class = match usage.level {
        QuotaLevel::Normal => "usage-bar",
        QuotaLevel::Warning => "usage-bar usage-warn",
        QuotaLevel::Exhausted => "usage-bar usage-full",
    };
    let text = quota_text(&usage);
    view! {
        <div class=class data-testid="usage-bar">
            <div class="usage-track" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=pct.to_string() aria-label="Enforce quota used">
                <span class="usage-fill" style=format!("width:{pct}%")></span>
            </div>
            <p class="muted" data-testid="usage-text">{text}</p>
        </div>
    }
}

/// The effective state next to the organization's name in the
/// navigation, from the signed-in viewer (loaded with every page, so it
/// hydrates with the layout).
#[component]
pub fn ModeBadge(mode: EffectiveMode) -> impl IntoView {
    let class = match mode {
        EffectiveMode::Monitor => "mode-badge mode-monitor",
        EffectiveMode::Enforce => "mode-badge mode-enforce",
        EffectiveMode::EnforcePaused => "mode-badge mode-paused",
    };
    let title = match mode {
        EffectiveMode::EnforcePaused => {
            "Configured: enforce. Paused: the enforce quota of this period is used up."
        }
        _ => "What the gateway does now",
    };
    view! { <a href="/" class=class title=title data-testid="nav-mode">{mode.label()}</a> }
}
