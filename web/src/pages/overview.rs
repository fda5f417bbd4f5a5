//! The landing page after sign-in: mode, today's numbers, what fires most,
//! the latest blocked calls, and the next step when nothing is set up.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{OrgMode, Role, Viewer};
use shared::api::EffectiveMode;

use crate::components::{EmptyState, EnforcementBanner, ErrorNote, fmt_time};
use crate::server_fns::{enforcement, overview};

#[component]
pub fn Overview() -> impl IntoView {
    let viewer = use_context::<Viewer>();
    let org = viewer.as_ref().and_then(|v| v.current.clone());
    let can_admin = viewer.as_ref().is_some_and(|v| v.can(Role::Admin));
    // One server function per resource: a second call after an await
    // would run without the request's context during server rendering.
    let stats = Resource::new(|| (), |_| overview());
    let status = Resource::new(|| (), |_| enforcement());
    view! {
        <Title text="Overview"/>
        <header class="page-header">
            <h1>{org.as_ref().map(|o| o.org_name.clone())}</h1>
            <p class="muted">"Your organization at a glance (today = since 00:00 UTC)."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (stats.await, status.await) {
                    (Ok(s), Ok(e)) => {
                        let enforce = s.mode == OrgMode::Enforce;
                        let paused = e.effective == EffectiveMode::EnforcePaused;
                        let (has_connector, has_pack, has_key) = (s.connector_count > 0, s.pack_count > 0, s.key_count > 0);
                        view! {
                            <EnforcementBanner e=e.clone()/>
                            <div class="stat-grid">
                                <a class=if paused { "stat stat-paused" } else if enforce { "stat stat-enforce" } else { "stat stat-monitor" } href="/settings" data-testid="mode">
                                    <span class="stat-label">"Mode"</span>
                                    <span class="stat-value" data-testid="effective-mode">{e.effective.label()}</span>
                                    <span class="stat-note" data-testid="configured-mode">{if paused {
                                        "Configured: enforce. Paused: quota used up".to_owned()
                                    } else if enforce { "Blocking and redacting".to_owned() } else { "Recording only".to_owned() }}</span>
                                </a>
                                <div class="stat"><span class="stat-label">"Calls today"</span><span class="stat-value" data-testid="calls-today">{s.calls_today}</span></div>
                                <a class="stat" href="/alerts"><span class="stat-label">"Violations today"</span><span class="stat-value" data-testid="violations-today">{s.violations_today}</span></a>
                                <div class="stat"><span class="stat-label">"Blocked today"</span><span class="stat-value">{s.blocked_today}</span></div>
                            </div>
                            {(s.open_tool_changes > 0 || s.quarantined_tools > 0).then(|| view! {
                                <section class="card callout" data-testid="tool-integrity-callout">
                                    <h2>"Tool integrity"</h2>
                                    <p>{format!(
                                        "{} tool change{} waiting for review; {} tool{} quarantined (not served to agents).",
                                        s.open_tool_changes, if s.open_tool_changes == 1 { "" } else { "s" },
                                        s.quarantined_tools, if s.quarantined_tools == 1 { "" } else { "s" },
                                    )}" "<a href="/tools">"Review them"</a></p>
                                </section>
                            })}
                            {(s.connector_count == 0 || s.pack_count == 0 || s.key_count == 0).then(|| view! {
                                <section class="card">
                                    <h2>"Get started"</h2>
                                    <ol class="steps">
                                        <li class:done=has_connector><a href="/connectors">"Add a connector"</a>" — an upstream MCP server whose tools agents will call."</li>
                                        <li class:done=has_pack><a href="/packs">"Create a Tool Pack"</a>" and choose its tools."</li>
                                        <li><a href="/users">"Add a Registered User"</a>" for each person or service with an agent."</li>
                                        <li class:done=has_key>"Create an agent key on the pack's Agent keys tab and paste the Setup snippet into the agent."</li>
                                        {can_admin.then(|| view! { <li><a href="/members">"Invite your team"</a>" — admins configure, approvers decide, viewers read."</li> })}
                                    </ol>
                                </section>
                            })}
                            <div class="two-col">
                                <section class="card">
                                    <h2>"Top rules today"</h2>
                                    {if s.top_rules.is_empty() {
                                        view! { <EmptyState title="Nothing detected today">"Detections show up here as agents call tools."</EmptyState> }.into_any()
                                    } else {
                                        view! { <ul class="plain-list">{s.top_rules.into_iter().map(|r| view! {
                                            <li><span>{r.label}</span><span class="count">{r.count}</span></li>
                                        }).collect_view()}</ul> }.into_any()
                                    }}
                                </section>
                                <section class="card">
                                    <h2>"Last blocked calls"</h2>
                                    {if s.last_blocked.is_empty() {
                                        view! { <p class="muted">"No call has been blocked."</p> }.into_any()
                                    } else {
                                        view! { <ul class="plain-list">{s.last_blocked.into_iter().map(|c| view! {
                                            <li><a href=format!("/alerts/calls/{}", c.id)><code>{c.tool}</code></a>
                                            <span class="muted">{fmt_time(c.created_at)}</span></li>
                                        }).collect_view()}</ul> }.into_any()
                                    }}
                                </section>
                            </div>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
