//! Runtime sessions: every agent run, and one run's calls as a timeline
//! with its decision trail (and the JSON Lines export).

use chrono::Utc;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::api::{RuntimeSession, SessionFilter, TimelineCall};
use uuid::Uuid;

use crate::components::{DecisionBadge, EmptyState, ErrorNote, Pager, fmt_time};
use crate::server_fns::{get_session, list_packs, list_sessions, list_users};

/// The list's filters as the form holds them.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filters {
    user: String,
    pack: String,
    /// Active within: "", "1", "7", "30" days.
    days: String,
    had_block: bool,
    had_approval: bool,
    had_violation: bool,
}

impl Filters {
    fn query(&self, cursor: Option<String>) -> SessionFilter {
        SessionFilter {
            from: self
                .days
                .parse::<i64>()
                .ok()
                .map(|d| Utc::now() - chrono::Duration::days(d)),
            to: None,
            pack_id: self.pack.parse().ok(),
            registered_user_id: self.user.parse().ok(),
            had_block: self.had_block,
            had_approval: self.had_approval,
            had_violation: self.had_violation,
            cursor,
            limit: Some(25),
        }
    }
}

#[component]
pub fn Sessions() -> impl IntoView {
    let query = use_query_map();
    let filters = RwSignal::new(Filters {
        user: query.read_untracked().get("user").unwrap_or_default(),
        ..Filters::default()
    });
    let cursor = RwSignal::new(None::<String>);
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let sessions = Resource::new(
        move || (filters.get(), cursor.get()),
        |(f, c)| list_sessions(f.query(c)),
    );
    // One server function per resource (see the Overview).
    let users = Resource::new(|| (), |_| list_users(None));
    let packs = Resource::new(|| (), |_| list_packs());
    let set = move |f: Filters| {
        cursor.set(None);
        history.set(Vec::new());
        filters.set(f);
    };
    view! {
        <Title text="Sessions"/>
        <header class="page-header">
            <h1>"Sessions"</h1>
            <p class="muted">"Each runtime session is one agent run: the session its client named ("
                <code>{shared::api::SESSION_META_KEY}</code>" in "<code>"_meta"</code>" or the "
                <code>{shared::api::SESSION_HEADER}</code>" header), else its MCP session, else its agent token's lifetime."</p>
        </header>
        <section class="card filters" aria-label="Filters">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let users = users.await.unwrap_or_default();
                    let packs = packs.await.unwrap_or_default();
                    let current = filters.get_untracked();
                    view! {
                        <div class="field">
                            <label for="s-user">"Registered User"</label>
                            <select id="s-user" on:change=move |ev| { let mut f = filters.get_untracked(); f.user = event_target_value(&ev); set(f); }>
                                <option value="">"Anyone"</option>
                                {users.into_iter().map(|u| {
                                    let id = u.id.to_string();
                                    let selected = id == current.user;
                                    view! { <option value=id selected=selected>{u.display_name}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="s-pack">"Tool Pack"</label>
                            <select id="s-pack" on:change=move |ev| { let mut f = filters.get_untracked(); f.pack = event_target_value(&ev); set(f); }>
                                <option value="">"Any"</option>
                                {packs.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name}</option> }).collect_view()}
                            </select>
                        </div>
                    }
                })}
            </Transition>
            <div class="field">
                <label for="s-days">"Active"</label>
                <select id="s-days" on:change=move |ev| { let mut f = filters.get_untracked(); f.days = event_target_value(&ev); set(f); }>
                    <option value="">"Any time"</option>
                    <option value="1">"Last 24 hours"</option>
                    <option value="7">"Last 7 days"</option>
                    <option value="30">"Last 30 days"</option>
                </select>
            </div>
            <fieldset class="checks">
                <legend>"Had"</legend>
                <label><input type="checkbox" name="had_block" on:change=move |ev| { let mut f = filters.get_untracked(); f.had_block = event_target_checked(&ev); set(f); }/>" a block"</label>
                <label><input type="checkbox" name="had_approval" on:change=move |ev| { let mut f = filters.get_untracked(); f.had_approval = event_target_checked(&ev); set(f); }/>" an approval"</label>
                <label><input type="checkbox" name="had_violation" on:change=move |ev| { let mut f = filters.get_untracked(); f.had_violation = event_target_checked(&ev); set(f); }/>" a detection"</label>
            </fieldset>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(p) if p.items.is_empty() && cursor.get_untracked().is_none() => view! {
                        <EmptyState title="No sessions">"Agent runs appear here once agents call tools (or none match the filters)."</EmptyState>
                    }.into_any(),
                    Ok(p) => {
                        let next = p.next_cursor.clone();
                        view! {
                            <section class="card">
                                <SessionsTable sessions=p.items/>
                                <Pager cursor history next previous_label="← Newer" next_label="Older →"/>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Sessions as a table linking to their timelines (also on a Registered
/// User's page).
#[component]
pub fn SessionsTable(sessions: Vec<RuntimeSession>) -> impl IntoView {
    view! {
        <table class="table small" aria-label="Sessions" data-testid="sessions">
            <thead><tr>
                <th scope="col">"Started"</th><th scope="col">"Last call"</th><th scope="col">"Registered User"</th>
                <th scope="col">"Tool Pack"</th><th scope="col">"Session"</th><th scope="col">"Client"</th>
                <th scope="col">"Calls"</th><th scope="col">"Blocked"</th><th scope="col">"Approvals"</th><th scope="col">"Detections"</th>
            </tr></thead>
            <tbody>
                {sessions.into_iter().map(|s| { let hot = s.blocked_count > 0; view! {
                    <tr>
                        <td><a href=format!("/sessions/{}", s.id)>{fmt_time(s.started_at)}</a></td>
                        <td>{fmt_time(s.last_seen_at)}</td>
                        <td>{s.registered_user_name.unwrap_or_default()}</td>
                        <td>{s.pack_name.unwrap_or_default()}</td>
                        <td>{session_label(s.kind, s.name.clone())}</td>
                        <td>{format!("{} {}", s.client_name.unwrap_or_default(), s.client_version.unwrap_or_default())}</td>
                        <td>{s.call_count}</td>
                        <td class:hot=hot>{s.blocked_count}</td>
                        <td>{s.approval_count}</td>
                        <td>{s.violation_count}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
}

fn session_label(kind: shared::api::SessionKind, name: Option<String>) -> String {
    use shared::api::SessionKind;
    match (kind, name) {
        (SessionKind::Named, Some(n)) => format!("“{n}”"),
        (SessionKind::Mcp, Some(n)) => {
            format!("MCP session {}", n.chars().take(12).collect::<String>())
        }
        _ => "agent token".to_owned(),
    }
}

/// One run: counts, facts, the export, and every call in order.
#[component]
pub fn SessionDetail() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_session,
    );
    view! {
        <Title text="Session"/>
        <header class="page-header">
            <p class="crumbs"><a href="/sessions">"Sessions"</a>" /"</p>
            <h1>"Session"</h1>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let s = d.session.clone();
                        let c = d.counts.clone();
                        view! {
                            <div class="stat-grid" data-testid="session-counts">
                                <div class="stat"><span class="stat-label">"Calls"</span><span class="stat-value" data-testid="count-calls">{c.calls}</span></div>
                                <div class="stat"><span class="stat-label">"Allowed"</span><span class="stat-value">{c.allowed}</span></div>
                                <div class="stat"><span class="stat-label">"Redacted"</span><span class="stat-value">{c.redacted}</span></div>
                                <div class="stat"><span class="stat-label">"Blocked"</span><span class="stat-value" data-testid="count-blocked">{c.blocked}</span></div>
                                <div class="stat"><span class="stat-label">"Approvals"</span><span class="stat-value">{c.approvals}</span></div>
                                <div class="stat"><span class="stat-label">"Detections"</span><span class="stat-value">{c.violations}</span></div>
                                <div class="stat"><span class="stat-label">"Errors"</span><span class="stat-value">{c.errors}</span></div>
                                {(c.paused > 0).then(|| view! { <div class="stat stat-paused"><span class="stat-label">"Enforce paused"</span><span class="stat-value">{c.paused}</span></div> })}
                            </div>
                            <section class="card">
                                <dl class="facts" data-testid="session-facts">
                                    <dt>"Registered User"</dt><dd>{s.registered_user_name.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Tool Pack"</dt><dd>{s.pack_name.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Agent key"</dt><dd>{s.agent_key_prefix.clone().map(|p| format!("{p}…")).unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Identified by"</dt><dd>{session_label(s.kind, s.name.clone())}</dd>
                                    <dt>"Client"</dt><dd>{format!("{} {}", s.client_name.clone().unwrap_or_default(), s.client_version.clone().unwrap_or_default())}</dd>
                                    <dt>"From – to"</dt><dd>{fmt_time(s.started_at)}" – "{fmt_time(s.last_seen_at)}</dd>
                                </dl>
                                <a class="btn btn-small" href=format!("/api/v1/sessions/{}/export", s.id) download
                                    data-testid="export">"Export decision trail (JSON Lines)"</a>
                                <span class="muted">" Redacted evidence only: arguments as recorded, detections with redacted snippets, decisions and reasons."</span>
                            </section>
                            <section class="card">
                                <h2>"Timeline"</h2>
                                {d.truncated.then(|| view! { <p class="notice notice-warn">{format!("Showing the first {} calls; the export has them all.", shared::api::MAX_TIMELINE)}</p> })}
                                <Timeline calls=d.timeline/>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Timeline(calls: Vec<TimelineCall>) -> impl IntoView {
    view! {
        <table class="table small timeline" aria-label="Timeline" data-testid="timeline">
            <thead><tr>
                <th scope="col">"#"</th><th scope="col">"When"</th><th scope="col">"Tool"</th><th scope="col">"Connector"</th>
                <th scope="col">"Decision"</th><th scope="col">"Policy rule"</th><th scope="col">"Detections"</th><th scope="col">"Latency"</th>
            </tr></thead>
            <tbody>
                {calls.into_iter().enumerate().map(|(i, t)| {
                    let c = t.call;
                    let id: Uuid = c.id;
                    view! {
                        <tr data-testid="timeline-call">
                            <td>{i + 1}</td>
                            <td><a href=format!("/alerts/calls/{id}")>{fmt_time(c.created_at)}</a></td>
                            <td><code>{c.tool.clone()}</code></td>
                            <td>{c.connector_name.clone().unwrap_or_else(|| "—".into())}
                                {c.resource.clone().map(|r| view! { <br/><code class="muted" data-testid="timeline-resource">{r}</code> })}</td>
                            <td data-testid="timeline-decision">
                                <DecisionBadge decision=c.decision/>" "{c.outcome.as_str()}
                                {(c.mode == shared::account::OrgMode::Monitor && !t.paused).then_some(" (monitor)")}
                                {t.paused.then(|| view! { " " <span class="badge badge-paused">"enforce paused: quota"</span> })}
                                {t.approval_id.map(|a| view! {
                                    " · "<a href=format!("/approvals?id={a}")>"approval"</a>
                                    {t.approval_status.map(|s| format!(" {}", s.as_str()))}
                                })}
                            </td>
                            <td>{t.policy_rule.unwrap_or_default()}</td>
                            <td>{t.detections.join(", ")}</td>
                            <td>{format!("{:.1} ms", c.latency_ms)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
