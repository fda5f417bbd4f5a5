//! Tool integrity: for every exposed tool, the definition that was
//! approved, every change an upstream made since and what Gatehouse did;
//! a review page compares the approved and the upstream's definition side
//! by side and approves the new one or removes the tool.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use shared::api::{
    DefinitionFinding, OnToolChange, PinStatus, PinnedTool, ToolChange, ToolChangeAction,
    ToolChangeKind, ToolChangeStatus,
};

use crate::components::{
    EmptyState, ErrorNote, FieldError, FormError, SubmitButton, action_error, can_admin, fmt_time,
};
use crate::server_fns::{
    ReviewToolChange, SetToolIntegrity, tool_change, tool_changes, tool_integrity, tool_pins,
};

fn pin_badge(s: PinStatus) -> impl IntoView {
    let (class, label) = match s {
        PinStatus::Approved => ("badge badge-allow", "approved"),
        PinStatus::Changed => ("badge badge-approve", "changed upstream"),
        PinStatus::Quarantined => ("badge badge-block", "quarantined"),
        PinStatus::Unavailable => ("badge badge-error", "unavailable"),
    };
    view! { <span class=class data-testid="pin-status">{label}</span> }
}

fn kind_label(k: ToolChangeKind) -> &'static str {
    match k {
        ToolChangeKind::Changed => "definition changed",
        ToolChangeKind::Removed => "removed upstream",
        ToolChangeKind::Injection => "instructions aimed at the model",
        ToolChangeKind::Appeared => "new upstream tool",
    }
}

fn action_badge(a: ToolChangeAction) -> impl IntoView {
    let class = match a {
        ToolChangeAction::Quarantined => "badge badge-block",
        ToolChangeAction::Alerted => "badge badge-approve",
        ToolChangeAction::Recorded => "badge badge-allow",
    };
    view! { <span class=class>{a.as_str()}</span> }
}

fn status_badge(s: ToolChangeStatus) -> impl IntoView {
    let class = match s {
        ToolChangeStatus::Open => "badge badge-monitor",
        ToolChangeStatus::Approved => "badge badge-allow",
        ToolChangeStatus::Removed => "badge badge-block",
        _ => "badge badge-error",
    };
    view! { <span class=class data-testid="change-status">{s.as_str()}</span> }
}

fn short(fp: &str) -> String {
    fp.trim_start_matches("sha256:").chars().take(12).collect()
}

#[component]
pub fn ToolIntegrity() -> impl IntoView {
    let pins = Resource::new(|| (), |_| tool_pins());
    let changes = Resource::new(|| (), |_| tool_changes(false));
    view! {
        <Title text="Tool integrity"/>
        <header class="page-header">
            <h1>"Tool integrity"</h1>
            <p class="muted">"Agents get exactly the tool definitions an admin approved when adding the tools to a Tool Pack. \
                Gatehouse compares them with what each upstream offers on every discovery (scheduled, and when you refresh a connector); \
                a changed definition, or one carrying instructions aimed at the model, waits here for your review."</p>
        </header>
        <SettingsCard/>
        <section class="card">
            <h2>"Changes"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match changes.await {
                        Ok(c) if c.is_empty() => view! {
                            <EmptyState title="No changes">"No upstream has changed an exposed tool."</EmptyState>
                        }.into_any(),
                        Ok(c) => view! { <ChangesTable changes=c/> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Exposed tools"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match pins.await {
                        Ok(p) if p.is_empty() => view! {
                            <EmptyState title="No exposed tools">"Add tools to a Tool Pack: their definitions are pinned then."</EmptyState>
                        }.into_any(),
                        Ok(p) => view! { <PinsTable pins=p/> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Open tool changes as an alert (on the Alerts page); nothing when none.
#[component]
pub fn OpenChanges() -> impl IntoView {
    let open = Resource::new(|| (), |_| tool_changes(true));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match open.await {
                    Ok(c) if c.is_empty() => ().into_any(),
                    Ok(c) => view! {
                        <section class="card callout" data-testid="open-tool-changes">
                            <h2>"Tool changes waiting for review"</h2>
                            <ChangesTable changes=c/>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChangesTable(changes: Vec<ToolChange>) -> impl IntoView {
    view! {
        <table class="table" data-testid="tool-changes">
            <thead><tr><th>"Detected"</th><th>"Tool"</th><th>"What"</th><th>"Gatehouse"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>
                {changes.into_iter().map(|c| {
                    let href = format!("/tools/changes/{}", c.id);
                    view! {
                        <tr data-tool=c.exposed_name.clone() data-kind=c.kind.as_str()>
                            <td>{fmt_time(c.detected_at)}</td>
                            <td><code>{c.exposed_name.clone()}</code></td>
                            <td>{kind_label(c.kind)}{(!c.findings.is_empty()).then(|| format!(" ({} finding{})", c.findings.len(), if c.findings.len() == 1 { "" } else { "s" }))}</td>
                            <td>{action_badge(c.action)}</td>
                            <td>{status_badge(c.status)}</td>
                            <td><a href=href>{if c.status == ToolChangeStatus::Open { "Review" } else { "Details" }}</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn PinsTable(pins: Vec<PinnedTool>) -> impl IntoView {
    view! {
        <table class="table" data-testid="tool-pins">
            <thead><tr><th>"Tool"</th><th>"Status"</th><th>"Approved definition"</th><th>"Approved"</th><th>"Tool Packs"</th></tr></thead>
            <tbody>
                {pins.into_iter().map(|p| {
                    let review = p.open_change.map(|id| view! { " "<a href=format!("/tools/changes/{id}")>"Review"</a> });
                    view! {
                        <tr data-tool=p.exposed_name.clone()>
                            <td><code>{p.exposed_name.clone()}</code></td>
                            <td>{pin_badge(p.status)}{review}</td>
                            <td><code title=p.fingerprint.clone()>{short(&p.fingerprint)}</code>
                                <details><summary>"Definition"</summary><pre>{p.definition.readable_lines().join("\n")}</pre></details></td>
                            <td>{fmt_time(p.approved_at)}" by "{p.approved_by.clone().unwrap_or_else(|| "Gatehouse".into())}</td>
                            <td>{p.packs.join(", ")}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn SettingsCard() -> impl IntoView {
    let save = ServerAction::<SetToolIntegrity>::new();
    let current = Resource::new(move || save.version().get(), |_| tool_integrity());
    let error = action_error(save);
    let editable = can_admin();
    view! {
        <section class="card narrow-card">
            <h2>"When an upstream changes a tool"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match current.await {
                        Ok(s) => view! {
                            <ActionForm action=save>
                                <FormError error/>
                                <div class="field">
                                    <label for="ti-on-change">"Action"</label>
                                    <select id="ti-on-change" name="on_change" disabled=!editable aria-describedby="on_change-error">
                                        <option value="quarantine" selected=s.on_change == OnToolChange::Quarantine>
                                            "Quarantine: hide the tool and refuse calls until reviewed"</option>
                                        <option value="alert" selected=s.on_change == OnToolChange::Alert>
                                            "Alert only: keep serving the approved definition"</option>
                                    </select>
                                    <FieldError error field="on_change"/>
                                </div>
                                {editable.then(|| view! {
                                    <div class="form-actions">
                                        <SubmitButton pending=save.pending().into() label="Save" busy_label="Saving…"/>
                                        {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <span class="saved" role="status">"Saved."</span> })}
                                    </div>
                                })}
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn findings_list(findings: Vec<DefinitionFinding>) -> impl IntoView {
    (!findings.is_empty()).then(|| {
        view! {
            <h3>"Instructions aimed at the model"</h3>
            <ul class="findings" data-testid="definition-findings">
                {findings.into_iter().map(|f| view! {
                    <li><span class="badge badge-block">{f.rule}</span>" in "<code>{f.pointer}</code>
                        " (score "{format!("{:.2}", f.score)}"): "<q>{f.text}</q></li>
                }).collect_view()}
            </ul>
        }
    })
}

/// One change: facts, findings, both definitions side by side, and the
/// review buttons while it is open.
#[component]
pub fn ToolChangeReview() -> impl IntoView {
    let params = use_params_map();
    let review = ServerAction::<ReviewToolChange>::new();
    let detail = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                review.version().get(),
            )
        },
        |(id, _)| tool_change(id),
    );
    let error = action_error(review);
    view! {
        <Title text="Tool change"/>
        <header class="page-header">
            <p class="crumbs"><a href="/tools">"Tool integrity"</a>" /"</p>
            <h1>"Tool change"</h1>
        </header>
        <FormError error/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let c = d.change.clone();
                        let id = c.id;
                        let open = c.status == ToolChangeStatus::Open;
                        let can_approve = open && c.kind != ToolChangeKind::Removed;
                        view! {
                            <section class="card" data-testid="tool-change" data-status=c.status.as_str()>
                                <h2><code>{c.exposed_name.clone()}</code>" "{status_badge(c.status)}</h2>
                                <dl class="facts">
                                    <dt>"What happened"</dt><dd>{kind_label(c.kind)}</dd>
                                    <dt>"Detected"</dt><dd>{fmt_time(c.detected_at)}</dd>
                                    <dt>"Gatehouse"</dt><dd>{action_badge(c.action)}</dd>
                                    <dt>"Approved fingerprint"</dt><dd><code>{c.old_fingerprint.clone().unwrap_or_else(|| "—".into())}</code></dd>
                                    <dt>"Upstream fingerprint"</dt><dd><code>{c.new_fingerprint.clone().unwrap_or_else(|| "—".into())}</code></dd>
                                    {c.resolved_at.map(|t| view! {
                                        <dt>"Resolved"</dt><dd>{fmt_time(t)}" by "{c.resolved_by.clone().unwrap_or_else(|| "Gatehouse".into())}</dd>
                                    })}
                                </dl>
                                {findings_list(c.findings.clone())}
                                {(open && can_admin()).then(|| view! {
                                    <div class="form-actions">
                                        {can_approve.then(|| view! {
                                            <button type="button" class="btn" disabled=move || review.pending().get()
                                                on:click=move |_| { review.dispatch(ReviewToolChange { id, decision: "approve".into() }); }>
                                                "Approve the new definition"</button>
                                        })}
                                        <button type="button" class="btn btn-danger" disabled=move || review.pending().get()
                                            on:click=move |_| { review.dispatch(ReviewToolChange { id, decision: "remove".into() }); }>
                                            "Remove from every Tool Pack"</button>
                                    </div>
                                })}
                            </section>
                            <section class="card">
                                <h2>"Definitions"</h2>
                                <p class="muted">"Invisible characters are spelled out as ⟦U+…⟧."</p>
                                <table class="diff" data-testid="definition-diff">
                                    <thead><tr><th>"Approved"</th><th>"Upstream now"</th></tr></thead>
                                    <tbody>
                                        {d.diff.into_iter().map(|r| {
                                            let class = if r.same { "" } else { "changed" };
                                            let left_gap = r.left.is_none();
                                            let right_gap = r.right.is_none();
                                            view! {
                                                <tr class=class>
                                                    <td class="old" class:gap=left_gap>{r.left.unwrap_or_default()}</td>
                                                    <td class="new" class:gap=right_gap>{r.right.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
