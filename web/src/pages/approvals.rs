//! The approvals inbox: calls a tool policy holds until a person decides,
//! while the agent waits. Pending requests refresh on their own.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{Role, Viewer};
use shared::api::{Approval, ApprovalStatus, CallFilter};

use crate::components::{
    CallsTable, EmptyState, ErrorNote, FieldError, FormError, SubmitButton, action_error,
    can_admin, fmt_opt_time, fmt_time,
};
use crate::server_fns::{
    DecideApproval, SetApprovalSettings, approval_settings, list_approvals, list_calls,
};

/// How often the inbox looks for new requests.
const REFRESH_MS: u64 = 2000;

fn can_decide() -> bool {
    use_context::<Viewer>().is_some_and(|v| v.can(Role::Approver))
}

fn status_badge(s: ApprovalStatus) -> impl IntoView {
    let class = match s {
        ApprovalStatus::Pending => "badge badge-monitor",
        ApprovalStatus::Approved | ApprovalStatus::Used => "badge badge-allow",
        ApprovalStatus::Denied | ApprovalStatus::Expired => "badge badge-block",
    };
    view! { <span class=class>{s.as_str()}</span> }
}

#[component]
pub fn Approvals() -> impl IntoView {
    let decide = ServerAction::<DecideApproval>::new();
    let pending_view = RwSignal::new(true);
    let tick = RwSignal::new(0u32);
    // Comments being written, by request: kept outside the cards (a
    // refresh re-renders them), and while one is being written the inbox
    // does not refresh, so the approver's text and focus stay put.
    let comments = RwSignal::new(std::collections::HashMap::<uuid::Uuid, String>::new());
    // Poll while the page is open so new requests appear without a reload.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if comments.with_untracked(|m| m.values().all(|c| c.is_empty())) {
                    tick.update(|n| *n = n.wrapping_add(1));
                }
            },
            std::time::Duration::from_millis(REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let list = Resource::new(
        move || (pending_view.get(), decide.version().get(), tick.get()),
        |(pending, _, _)| {
            list_approvals(Some(if pending { "pending" } else { "decided" }.to_owned()))
        },
    );
    view! {
        <Title text="Approvals"/>
        <header class="page-header">
            <h1>"Approvals"</h1>
            <p class="muted">"Calls that a tool policy holds for a person. The agent waits (up to the hold time below); approve and its call runs, deny and it is told why. A request not decided in time can still be approved: the agent's identical retry then runs once."</p>
        </header>
        <div class="tabs" role="tablist" aria-label="Approval requests">
            <button type="button" role="tab" class="btn btn-small" aria-selected=move || pending_view.get().to_string()
                class:btn-ghost=move || !pending_view.get() on:click=move |_| pending_view.set(true)>"Pending"</button>
            <button type="button" role="tab" class="btn btn-small" aria-selected=move || (!pending_view.get()).to_string()
                class:btn-ghost=move || pending_view.get() on:click=move |_| pending_view.set(false)>"Decided"</button>
        </div>
        <FormError error=action_error(decide)/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! {
                        <EmptyState title="Nothing here">{if pending_view.get_untracked() {
                            "No call is waiting for approval. Tool policies with the action approve send calls here."
                        } else { "No request has been decided yet." }}</EmptyState>
                    }.into_any(),
                    Ok(items) => items.into_iter().map(|a| view! { <ApprovalCard approval=a decide comments/> }).collect_view().into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
        <SettingsCard/>
    }
}

#[component]
fn ApprovalCard(
    approval: Approval,
    decide: ServerAction<DecideApproval>,
    comments: RwSignal<std::collections::HashMap<uuid::Uuid, String>>,
) -> impl IntoView {
    let a = approval;
    let id = a.id;
    let args = serde_json::to_string_pretty(&a.arguments_redacted).unwrap_or_default();
    let pending = a.status == ApprovalStatus::Pending;
    let show_session = RwSignal::new(false);
    let session = a.session_id;
    let before = a.requested_at;
    let calls = Resource::new(
        move || show_session.get(),
        move |show| async move {
            if !show {
                return Ok(Vec::new());
            }
            list_calls(CallFilter {
                session_id: Some(session),
                to: Some(before),
                limit: Some(20),
                ..CallFilter::default()
            })
            .await
            .map(|p| p.items)
        },
    );
    view! {
        <article class="card approval" data-id=id.to_string() data-tool=a.tool.clone() data-status=a.status.as_str()>
            <h2><code>{a.tool.clone()}</code>" "{status_badge(a.status)}</h2>
            <dl class="facts">
                <dt>"Registered User"</dt><dd>{a.registered_user_name.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Tool Pack"</dt><dd>{a.pack_name.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Rule"</dt><dd>{a.rule_name.clone().unwrap_or_else(|| "the organization's default".into())}</dd>
                <dt>"Reasons"</dt><dd>{a.reasons.join("; ")}</dd>
                <dt>"Requested"</dt><dd>{fmt_time(a.requested_at)}</dd>
                <dt>"Expires"</dt><dd>{fmt_time(a.expires_at)}</dd>
                {a.decided_at.map(|t| view! {
                    <dt>"Decided"</dt>
                    <dd data-testid="decided">{fmt_time(t)}" by "{a.decided_by.clone().unwrap_or_else(|| "—".into())}
                        {a.comment.clone().map(|c| format!(": “{c}”"))}</dd>
                })}
                {a.used_at.map(|t| view! { <dt>"Call ran"</dt><dd>{fmt_opt_time(Some(t))}</dd> })}
                <dt>"Arguments digest"</dt><dd><code class="digest">{a.arguments_digest.clone()}</code></dd>
            </dl>
            <h3>"Arguments (detected values redacted)"</h3>
            <pre data-testid="approval-arguments">{args}</pre>
            <button type="button" class="btn btn-small btn-ghost" on:click=move |_| show_session.update(|s| *s = !*s)>
                {move || if show_session.get() { "Hide the session's earlier calls" } else { "Show the session's earlier calls" }}
            </button>
            {move || show_session.get().then(|| view! {
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match calls.await {
                            Ok(c) if c.is_empty() => view! { <p class="muted">"No earlier calls in this session."</p> }.into_any(),
                            Ok(c) => view! { <CallsTable calls=c/> }.into_any(),
                            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                        }
                    })}
                </Transition>
            })}
            {(pending && can_decide()).then(|| {
                let send = move |approve: bool| {
                    let comment = comments
                        .try_update(|m| m.remove(&id))
                        .flatten()
                        .unwrap_or_default();
                    decide.dispatch(DecideApproval {
                        id,
                        decision: if approve { "approve" } else { "deny" }.to_owned(),
                        comment,
                    });
                };
                view! {
                    <div class="decide-form">
                        <div class="field">
                            <label for=format!("comment-{id}")>"Comment (optional; the agent sees it when you deny)"</label>
                            <input id=format!("comment-{id}") type="text" maxlength="1000"
                                prop:value=move || comments.with(|m| m.get(&id).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    comments.update(|m| { m.insert(id, v); });
                                }/>
                        </div>
                        <div class="form-actions">
                            <button type="button" class="btn" disabled=move || decide.pending().get()
                                on:click=move |_| send(true)>"Approve"</button>
                            <button type="button" class="btn btn-danger" disabled=move || decide.pending().get()
                                on:click=move |_| send(false)>"Deny"</button>
                        </div>
                    </div>
                }
            })}
        </article>
    }
}

#[component]
fn SettingsCard() -> impl IntoView {
    let save = ServerAction::<SetApprovalSettings>::new();
    let current = Resource::new(move || save.version().get(), |_| approval_settings());
    let error = action_error(save);
    let editable = can_admin();
    view! {
        <section class="card narrow-card">
            <h2>"Approval settings"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match current.await {
                        Ok(s) => view! {
                            <ActionForm action=save attr:class="form-grid">
                                <FormError error/>
                                <div class="field">
                                    <label for="ap-hold">"Hold time (seconds an agent waits, 0–600)"</label>
                                    <input id="ap-hold" name="hold_secs" type="number" min="0" max="600" required
                                        value=s.hold_secs.to_string() disabled=!editable aria-describedby="hold_secs-error"/>
                                    <FieldError error field="hold_secs"/>
                                </div>
                                <div class="field">
                                    <label for="ap-expiry">"Requests expire after (hours, 1–720)"</label>
                                    <input id="ap-expiry" name="expiry_hours" type="number" min="1" max="720" required
                                        value=s.expiry_hours.to_string() disabled=!editable aria-describedby="expiry_hours-error"/>
                                    <FieldError error field="expiry_hours"/>
                                </div>
                                {editable.then(|| view! {
                                    <div class="form-actions">
                                        <SubmitButton pending=save.pending().into() label="Save settings" busy_label="Saving…"/>
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
