//! Alerts: the violations chart, breakdowns, the filtered table, and the
//! drill-down into one tool call.

use chrono::{DateTime, NaiveDateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use shared::api::{AlertRange, AlertsQuery, CountRow, ViolationFilter};
use shared::policy::{Action, Direction};

use crate::components::{ActionBadge, DecisionBadge, EmptyState, ErrorNote, Pager, fmt_time};
use crate::server_fns::{alert_violations, alerts, get_call, list_packs, list_users};

fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|d| d.and_utc())
}

/// The filters as the page holds them (form strings; empty = any).
#[derive(Clone, Default, PartialEq)]
struct Filters {
    range: String,
    from: String,
    to: String,
    split: bool,
    rule: String,
    label: String,
    action: String,
    direction: String,
    pack: String,
    user: String,
}

/// The filter keys as they appear in the address bar.
const KEYS: [&str; 9] = [
    "range",
    "from",
    "to",
    "rule",
    "entity",
    "action",
    "direction",
    "pack",
    "user",
];

impl Filters {
    /// Reads the filters from the address bar, so a reload, a shared link
    /// or "back" from a drill-down shows the same view.
    fn from_params(q: &ParamsMap) -> Self {
        let get = |k: &str| q.get(k).unwrap_or_default();
        let range = get("range");
        Filters {
            range: if range.is_empty() {
                "24h".to_owned()
            } else {
                range
            },
            from: get("from"),
            to: get("to"),
            split: q.get("split").is_some(),
            rule: get("rule"),
            label: get("entity"),
            action: get("action"),
            direction: get("direction"),
            pack: get("pack"),
            user: get("user"),
        }
    }

    fn to_params(&self) -> ParamsMap {
        let values = [
            &self.range,
            &self.from,
            &self.to,
            &self.rule,
            &self.label,
            &self.action,
            &self.direction,
            &self.pack,
            &self.user,
        ];
        let mut m = ParamsMap::new();
        for (k, v) in KEYS.into_iter().zip(values) {
            if !v.is_empty() {
                m.insert(k, v.clone());
            }
        }
        if self.split {
            m.insert("split", "1".to_owned());
        }
        m
    }

    fn query(&self) -> AlertsQuery {
        let some = |s: &String| (!s.is_empty()).then(|| s.clone());
        AlertsQuery {
            range: self.range.parse().unwrap_or_default(),
            split: self.split,
            filter: ViolationFilter {
                from: parse_local(&self.from),
                to: parse_local(&self.to),
                rule: some(&self.rule),
                label: some(&self.label),
                action: self.action.parse::<Action>().ok(),
                direction: self.direction.parse::<Direction>().ok(),
                pack_id: self.pack.parse().ok(),
                registered_user_id: self.user.parse().ok(),
                cursor: None,
                limit: None,
            },
        }
    }
}

#[component]
pub fn Alerts() -> impl IntoView {
    let params = use_query_map();
    let filters = RwSignal::new(params.with_untracked(Filters::from_params));
    let initial = filters.get_untracked();
    let (init_from, init_to) = (initial.from.clone(), initial.to.clone());
    let (init_pack, init_user) = (initial.pack.clone(), initial.user.clone());
    // Keep the address bar in step with the filters (replacing the entry,
    // so "back" leaves the page instead of undoing a filter).
    let navigate = use_navigate();
    Effect::new(move |first_run: Option<()>| {
        let q = filters.get().to_params().to_query_string();
        if first_run.is_some() {
            navigate(
                &format!("/alerts{q}"),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    });
    let cursor = RwSignal::new(None::<String>);
    // Earlier pages' cursors, for "Previous".
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let summary = Resource::new(move || filters.get().query(), alerts);
    let table = Resource::new(
        move || (filters.get().query(), cursor.get()),
        |(q, c)| alert_violations(q, c),
    );
    let packs = Resource::new(|| (), |_| list_packs());
    let users = Resource::new(|| (), |_| list_users(None));
    let set = move |f: fn(&mut Filters, String), v: String| {
        filters.update(|x| f(x, v));
        cursor.set(None);
        history.set(Vec::new());
    };
    let custom = move || filters.read().range == "custom";
    view! {
        <Title text="Alerts"/>
        <header class="page-header">
            <h1>"Alerts"</h1>
            <p class="muted">"Every detection on the data path. In monitor mode these are what enforce mode would have done."</p>
        </header>
        <crate::pages::integrity::OpenChanges/>
        <section class="card filters" aria-label="Filters">
            <div class="filter-row">
                <div class="filter"><label for="f-range">"Range"</label>
                    <select id="f-range" on:change=move |ev| set(|f, v| f.range = v, event_target_value(&ev))>
                        {AlertRange::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r.as_str() == initial.range>{r.title()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <Show when=custom>
                    <div class="filter"><label for="f-from">"From (UTC)"</label><input id="f-from" type="datetime-local" value=init_from.clone() on:change=move |ev| set(|f, v| f.from = v, event_target_value(&ev))/></div>
                    <div class="filter"><label for="f-to">"To (UTC)"</label><input id="f-to" type="datetime-local" value=init_to.clone() on:change=move |ev| set(|f, v| f.to = v, event_target_value(&ev))/></div>
                </Show>
                <div class="filter"><label for="f-action">"Action"</label>
                    <select id="f-action" on:change=move |ev| set(|f, v| f.action = v, event_target_value(&ev))>
                        <option value="">"any"</option>
                        {Action::ALL.into_iter().map(|a| view! { <option value=a.as_str() selected=a.as_str() == initial.action>{a.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="filter"><label for="f-direction">"Direction"</label>
                    <select id="f-direction" on:change=move |ev| set(|f, v| f.direction = v, event_target_value(&ev))>
                        <option value="">"any"</option>
                        <option value="arguments" selected=initial.direction == "arguments">"arguments"</option>
                        <option value="results" selected=initial.direction == "results">"results"</option>
                    </select>
                </div>
                <Transition fallback=|| ()>
                    {move || {
                        let (init_pack, init_user) = (init_pack.clone(), init_user.clone());
                        Suspend::new(async move {
                        let (p, u) = (packs.await.unwrap_or_default(), users.await.unwrap_or_default());
                        view! {
                            <div class="filter"><label for="f-pack">"Tool Pack"</label>
                                <select id="f-pack" on:change=move |ev| set(|f, v| f.pack = v, event_target_value(&ev))
                                    prop:value=move || filters.read().pack.clone()>
                                    <option value="">"any"</option>
                                    {p.into_iter().map(|p| { let id = p.id.to_string(); let sel = id == init_pack; view! { <option value=id selected=sel>{p.name}</option> } }).collect_view()}
                                </select>
                            </div>
                            <div class="filter"><label for="f-user">"Registered User"</label>
                                <select id="f-user" on:change=move |ev| set(|f, v| f.user = v, event_target_value(&ev))
                                    prop:value=move || filters.read().user.clone()>
                                    <option value="">"any"</option>
                                    {u.into_iter().map(|u| { let id = u.id.to_string(); let sel = id == init_user; view! { <option value=id selected=sel>{u.display_name}</option> } }).collect_view()}
                                </select>
                            </div>
                        }
                    })}}
                </Transition>
                <label class="check">
                    <input type="checkbox" checked=initial.split on:change=move |ev| filters.update(|f| f.split = event_target_checked(&ev))/>
                    "Split by action"
                </label>
            </div>
            {move || {
                let f = filters.get();
                let chips: Vec<(&str, String, fn(&mut Filters, String))> = vec![
                    ("rule", f.rule.clone(), |f, v| f.rule = v),
                    ("entity", f.label.clone(), |f, v| f.label = v),
                ];
                chips.into_iter().filter(|(_, v, _)| !v.is_empty()).map(|(k, v, clear)| view! {
                    <button type="button" class="chip" on:click=move |_| set(clear, String::new())>
                        {format!("{k}: {v} ✕")}
                    </button>
                }).collect_view()
            }}
        </section>
        <Transition fallback=|| view! { <section class="card"><p class="muted">"Loading the chart…"</p></section> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(s) => view! {
                        <section class="card">
                            <h2>{format!("{} violation{} · {} to {}", s.total, if s.total == 1 { "" } else { "s" }, fmt_time(s.from), fmt_time(s.to))}</h2>
                            <figure class="chart" aria-label=format!("Violations over time, {} in total", s.total) data-testid="chart" data-total=s.total.to_string()>
                                <div inner_html=s.chart_svg.clone()></div>
                            </figure>
                        </section>
                        <div class="breakdowns">
                            <Breakdown title="By rule" rows=s.by_rule.clone() on_pick=Callback::new(move |k: String| set(|f, v| f.rule = v, k))/>
                            <Breakdown title="By entity" rows=s.by_entity.clone() on_pick=Callback::new(move |k: String| set(|f, v| f.label = v, k))/>
                            <Breakdown title="By Tool Pack" rows=s.by_pack.clone() on_pick=Callback::new(move |k: String| set(|f, v| f.pack = v, k))/>
                            <Breakdown title="By Registered User" rows=s.by_user.clone() on_pick=Callback::new(move |k: String| set(|f, v| f.user = v, k))/>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Violations"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match table.await {
                        Ok(p) if p.items.is_empty() => view! {
                            <EmptyState title="No violations in this range">"Widen the range or clear filters. Detections appear here as agents call tools."</EmptyState>
                        }.into_any(),
                        Ok(p) => {
                            let next = p.next_cursor.clone();
                            view! {
                                <table class="table small" aria-label="Violations">
                                    <thead><tr><th scope="col">"When"</th><th scope="col">"Entity or rule"</th><th scope="col">"Direction"</th><th scope="col">"Path"</th>
                                    <th scope="col">"Action"</th><th scope="col">"Tool"</th><th scope="col">"Pack"</th><th scope="col">"User"</th><th scope="col">"Evidence"</th></tr></thead>
                                    <tbody>
                                        {p.items.into_iter().map(|v| view! {
                                            <tr data-label=v.label.clone()>
                                                <td><a href=format!("/alerts/calls/{}", v.call_id)>{fmt_time(v.created_at)}</a></td>
                                                <td>{v.label.clone()}</td>
                                                <td>{v.direction.as_str()}</td>
                                                <td><code>{v.pointer.clone().unwrap_or_default()}</code></td>
                                                <td><ActionBadge action=v.action/>{(!v.enforced).then(|| view! { <span class="muted small">" (monitor)"</span> })}</td>
                                                <td><code>{v.tool.clone()}</code></td>
                                                <td>{v.pack_name.clone().unwrap_or_default()}</td>
                                                <td>{v.registered_user_name.clone().unwrap_or_default()}</td>
                                                <td><code class="snippet-cell">{v.snippet.clone()}</code></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Pager cursor history next previous_label="← Newer" next_label="Older →"/>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Breakdown(title: &'static str, rows: Vec<CountRow>, on_pick: Callback<String>) -> impl IntoView {
    let max = rows.iter().map(|r| r.count).max().unwrap_or(1).max(1);
    view! {
        <section class="card breakdown" aria-label=title>
            <h3>{title}</h3>
            {if rows.is_empty() {
                view! { <p class="muted">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {rows.into_iter().map(|r| {
                            let pct = r.count * 100 / max;
                            let key = r.key.clone();
                            view! {
                                <li>
                                    <button type="button" class="link-btn" title="Filter by this"
                                        on:click=move |_| on_pick.run(key.clone())>{r.label.clone()}</button>
                                    <span class="bar" style=format!("width:{pct}%")></span>
                                    <span class="count">{r.count}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// One tool call with everything recorded about it.
#[component]
pub fn CallDetail() -> impl IntoView {
    let params = use_params_map();
    // One server function per resource: a second call after an await
    // would run without the request's context during server rendering.
    // The call's session is one link away (its timeline).
    let call = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_call,
    );
    view! {
        <Title text="Tool call"/>
        <header class="page-header">
            <p class="crumbs"><a href="/alerts">"Alerts"</a>" /"</p>
            <h1>"Tool call"</h1>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match call.await {
                    Ok(d) => {
                        let c = d.call.clone();
                        let args = d.arguments_redacted.as_ref()
                            .and_then(|a| serde_json::to_string_pretty(a).ok())
                            .unwrap_or_else(|| "(not recorded)".to_owned());
                        view! {
                            <section class="card">
                                <h2><code>{c.tool.clone()}</code>" "<DecisionBadge decision=c.decision/></h2>
                                <dl class="facts" data-testid="call-facts">
                                    <dt>"When"</dt><dd>{fmt_time(c.created_at)}</dd>
                                    <dt>"Connector"</dt><dd>{c.connector_name.clone().unwrap_or_else(|| "—".into())}
                                        {c.upstream_tool.clone().map(|t| view! { " · upstream tool " <code>{t}</code> })}</dd>
                                    <dt>"Tool Pack"</dt><dd>{c.pack_name.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Registered User"</dt><dd>{c.registered_user_name.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Agent key"</dt><dd>{c.agent_key_prefix.clone().map(|p| format!("{p}…")).unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Mode"</dt><dd>{c.mode.as_str()}</dd>
                                    <dt>"Decision"</dt><dd>{c.decision.as_str()}" — "{c.outcome.as_str()}</dd>
                                    <dt>"Reasons"</dt><dd>{if c.reasons.is_empty() { "—".to_owned() } else { c.reasons.join("; ") }}</dd>
                                    {c.error_message.clone().map(|m| view! { <dt>"Error"</dt><dd>{m}</dd> })}
                                    {c.resource.clone().map(|r| view! { <dt>{if d.statement.is_some() { "Statement" } else { "Repository" }}</dt><dd data-testid="call-resource"><code>{r}</code></dd> })}
                                    {d.statement.clone().map(|s| view! { <dt>"SQL (detected values redacted)"</dt><dd><pre class="code" data-testid="call-statement">{s}</pre></dd> })}
                                    {c.upstream_request_id.clone().map(|r| view! { <dt>"GitHub request id"</dt><dd data-testid="call-request-id"><code>{r}</code></dd> })}
                                    {d.approval.clone().map(|a| view! {
                                        <dt>"Approval"</dt>
                                        <dd data-testid="call-approval">
                                            <a href=format!("/approvals?id={}", a.id)><code>{a.id.to_string()}</code></a>
                                            " · "{a.status.as_str()}
                                            {a.rule_name.clone().map(|r| format!(" · rule \"{r}\""))}
                                            " · requested "{fmt_time(a.requested_at)}
                                            {a.decided_by.clone().map(|b| format!(" · decided by {b}"))}
                                            {a.decided_at.map(|t| format!(" at {}", fmt_time(t)))}
                                            {a.comment.clone().map(|c| format!(" · “{c}”"))}
                                        </dd>
                                    })}
                                    <dt>"Latency"</dt><dd>{format!("{:.1} ms total", c.latency_ms)}{c.upstream_ms.map(|u| format!(", {u:.1} ms upstream"))}</dd>
                                    <dt>"Client"</dt><dd>{format!("{} {}", c.client_name.clone().unwrap_or_default(), c.client_version.clone().unwrap_or_default())}</dd>
                                    <dt>"Session"</dt><dd>{c.session_id.map(|s| view! {
                                        <a href=format!("/sessions/{s}") data-testid="call-session">"Open the session's timeline"</a>" · "
                                    })}
                                    {match d.mcp_session_id.clone() {
                                        Some(s) => view! { "MCP session "<code>{s}</code> }.into_any(),
                                        None => view! { <span>"stateless request"</span> }.into_any(),
                                    }}
                                        {d.protocol_version.clone().map(|p| format!(" · protocol {p}"))}</dd>
                                </dl>
                            </section>
                            <section class="card">
                                <h2>"Detections"</h2>
                                {if d.violations.is_empty() {
                                    view! { <p class="muted">"No sensitive data was found in this call."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="table small" aria-label="Detections">
                                            <thead><tr><th scope="col">"Entity or rule"</th><th scope="col">"Direction"</th><th scope="col">"Path"</th><th scope="col">"Score"</th><th scope="col">"Action"</th><th scope="col">"Evidence (redacted)"</th></tr></thead>
                                            <tbody>
                                                {d.violations.iter().cloned().map(|v| view! {
                                                    <tr>
                                                        <td>{v.label}</td><td>{v.direction.as_str()}</td>
                                                        <td><code>{v.pointer.unwrap_or_default()}</code></td>
                                                        <td>{format!("{:.2}", v.score)}</td>
                                                        <td><ActionBadge action=v.action/>{(!v.enforced).then_some(" (monitor)")}</td>
                                                        <td><code>{v.snippet}</code></td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            </section>
                            <section class="card">
                                <h2>"Arguments (as recorded, redacted)"</h2>
                                <pre data-testid="call-arguments">{args}</pre>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
