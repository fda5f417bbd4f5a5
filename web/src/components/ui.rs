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
pub fn DecisionBadge(decision: shared::api::Decision) -> impl IntoView {
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

/// Whether the signed-in member may edit (admin or owner). Only decides
/// what the page offers; every server function checks the role again.
pub fn can_admin() -> bool {
    use_context::<shared::account::Viewer>().is_some_and(|v| v.can(shared::account::Role::Admin))
}

/// A newly created secret, shown this once with a copy button.
#[component]
pub fn SecretOnce(
    /// What it is ("key", "token"), for the warning.
    what: &'static str,
    secret: String,
    testid: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="notice notice-ok secret-once" role="status">
            <p><strong>{format!("Copy this {what} now: it will not be shown again.")}</strong></p>
            <div class="secret-row">
                <code class="secret" data-testid=testid>{secret.clone()}</code>
                <CopyButton text=secret/>
            </div>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
        </div>
    }
}

/// "Previous / Next" over keyset pages: `cursor` is the current page's
/// start, `history` the starts of the pages before it, `next` the start of
/// the following page (none on the last).
#[component]
pub fn Pager(
    cursor: RwSignal<Option<String>>,
    history: RwSignal<Vec<Option<String>>>,
    next: Option<String>,
    previous_label: &'static str,
    next_label: &'static str,
) -> impl IntoView {
    let last_page = next.is_none();
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="btn btn-small" disabled=move || history.read().is_empty()
                on:click=move |_| {
                    let prev = history.try_update(|h| h.pop()).flatten().flatten();
                    cursor.set(prev);
                }>{previous_label}</button>
            <button type="button" class="btn btn-small" disabled=last_page
                on:click=move |_| {
                    history.update(|h| h.push(cursor.get_untracked()));
                    cursor.set(next.clone());
                }>{next_label}</button>
        </nav>
    }
}

/// Tool calls as a table linking to their drill-down; `current` marks one.
#[component]
pub fn CallsTable(
    calls: Vec<shared::api::ToolCall>,
    #[prop(optional)] current: Option<uuid::Uuid>,
) -> impl IntoView {
    view! {
        <table class="table small">
            <thead><tr><th scope="col">"When"</th><th scope="col">"Tool"</th><th scope="col">"Pack"</th><th scope="col">"Decision"</th><th scope="col">"Detections"</th></tr></thead>
            <tbody>
                {calls.into_iter().map(|c| view! {
                    <tr class:current=Some(c.id) == current>
                        <td><a href=format!("/alerts/calls/{}", c.id)>{fmt_time(c.created_at)}</a></td>
                        <td><code>{c.tool}</code></td>
                        <td>{c.pack_name.unwrap_or_default()}</td>
                        <td><DecisionBadge decision=c.decision/></td>
                        <td>{c.violation_count}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
