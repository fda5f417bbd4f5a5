//! Small widgets: confirmations for destructive actions, copy buttons,
//! badges and time formatting.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use shared::policy::Action;

/// A timestamp as the dashboard shows it (UTC, minute precision).
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A timestamp or a dash.
pub fn fmt_opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".to_owned(), fmt_time)
}

/// A destructive button that asks first: the first click shows `question`
/// with "Yes" and "Cancel"; only "Yes" runs `on_confirm`.
#[component]
pub fn ConfirmButton(
    /// The button's label, e.g. "Delete".
    label: &'static str,
    /// What the confirmation asks, naming the object and its consequences.
    question: String,
    /// The confirming button's label, e.g. "Yes, delete".
    yes: &'static str,
    on_confirm: Callback<()>,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="btn btn-small btn-danger-outline" disabled=disabled
                    on:click=move |_| asking.set(true)>{label}</button>
            }
        >
            <span class="confirm" role="group" aria-label="Confirm">
                <span>{question.clone()}</span>
                <button type="button" class="btn btn-small btn-danger"
                    on:click=move |_| { asking.set(false); on_confirm.run(()); }>{yes}</button>
                <button type="button" class="btn btn-small btn-ghost"
                    on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(text: String, #[prop(optional)] label: Option<&'static str>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let label = label.unwrap_or("Copy");
    view! {
        <button type="button" class="btn btn-small copy-btn" data-copy=text.clone()
            on:click=move |_| {
                #[cfg(feature = "hydrate")]
                {
                    // The promise settles on its own; failure (no permission)
                    // leaves the text selectable on the page.
                    let _ = window().navigator().clipboard().write_text(&text);
                }
                copied.set(true);
            }>
            {move || if copied.get() { "Copied" } else { label }}
        </button>
    }
}

/// A coloured badge for an action (allow / redact / block).
#[component]
pub fn ActionBadge(action: Action) -> impl IntoView {
    let s = action.as_str();
    view! { <span class=format!("badge badge-{s}")>{s}</span> }
}

/// A badge for a call decision.
#[component]
pub fn DecisionBadge(decision: shared::gateway::Decision) -> impl IntoView {
    let s = decision.as_str();
    view! { <span class=format!("badge badge-{s}")>{s}</span> }
}

/// What a list shows when it is empty: what it is for and what to do next.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-title">{title}</p>
            <div class="muted">{children()}</div>
        </div>
    }
}
