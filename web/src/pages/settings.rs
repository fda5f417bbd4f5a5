//! Organization settings (admins and owners): name, monitor / enforce mode
//! admin API tokens, data retention and outgoing webhooks.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{OrgMode, Role};

use crate::components::{
    ConfirmButton, EmptyState, EnforcementBanner, ErrorNote, FieldError, FormError, SecretOnce,
    SubmitButton, UsageBar, action_error, can_admin, fmt_opt_time, fmt_time,
};
use crate::server_fns::{
    CreateApiToken, CreateWebhook, DeleteWebhook, RenameOrg, RevokeApiToken, SetEvidence, SetMode,
    SetPausedBehaviour, SetRetention, enforcement, get_org_settings, list_api_tokens,
    list_webhooks, org_events, retention, webhook_deliveries,
};

#[component]
pub fn Settings() -> impl IntoView {
    let rename = ServerAction::<RenameOrg>::new();
    let set_mode = ServerAction::<SetMode>::new();
    let set_evidence = ServerAction::<SetEvidence>::new();
    let settings = Resource::new(
        move || {
            (
                rename.version().get(),
                set_mode.version().get(),
                set_evidence.version().get(),
            )
        },
        |_| get_org_settings(),
    );
    let error = action_error(rename);
    let pending = rename.pending().into();
    let saved = move || matches!(rename.value().get(), Some(Ok(_)));
    view! {
        <Title text="Settings"/>
        <header class="page-header">
            <h1>"Settings"</h1>
            <p class="muted">"Organization-wide settings. Only owners and admins can open this page."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! {
                        <section class="card narrow-card">
                            <h2>"Organization"</h2>
                            <ActionForm action=rename>
                                <FormError error/>
                                <div class="field">
                                    <label for="name">"Name"</label>
                                    <input id="name" name="name" type="text" maxlength="80" required
                                        value=s.name.clone() aria-describedby="name-error"/>
                                    <FieldError error field="name"/>
                                </div>
                                <SubmitButton pending label="Save" busy_label="Saving…"/>
                                {move || saved().then(|| view! { <span class="saved" role="status">"Saved."</span> })}
                            </ActionForm>
                            <dl class="facts">
                                <dt>"Organization id"</dt><dd><code>{s.org_id.to_string()}</code></dd>
                                <dt>"Created"</dt><dd>{fmt_time(s.created_at)}</dd>
                            </dl>
                        </section>
                        <ModeCard mode=s.mode action=set_mode/>
                        <EvidenceCard full=s.store_full_arguments action=set_evidence/>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
        // Only admins may manage tokens (the server checks too); viewers
        // already see the page's one refusal above.
        // Outside the settings' Suspend: a resource created inside one
        // would not hydrate.
        {can_admin().then(|| view! { <EnforcementCard set_mode/> <RetentionCard/> <ApiTokens/> <Webhooks/> })}
    }
}

/// What call records keep of the arguments: a confirmation, because full
/// arguments make values the rules did not flag readable by every member.
#[component]
fn EvidenceCard(full: bool, action: ServerAction<SetEvidence>) -> impl IntoView {
    let (label, question) = if full {
        (
            "Keep only the shape",
            "Keep only the arguments' shape from now on? New records show types, lengths and what was detected, never values.",
        )
    } else {
        (
            "Keep full arguments",
            "Keep full arguments from now on? Detected values stay redacted, but everything the rules did not flag (values below a threshold, disabled entities) becomes readable by every member, viewers included.",
        )
    };
    view! {
        <section class="card narrow-card" data-testid="evidence-card">
            <h2>"Call evidence"</h2>
            <p>"Records keep "<strong data-testid="current-evidence">{if full { "full arguments (detected values redacted)" } else { "the arguments' shape" }}</strong>
                ". Detections always keep a redacted snippet."</p>
            <FormError error=action_error(action)/>
            <ConfirmButton label=label question=question.to_owned() yes="Yes, change"
                on_confirm=Callback::new(move |_| { action.dispatch(SetEvidence { store_full_arguments: !full }); })/>
        </section>
    }
}

#[component]
fn ModeCard(mode: OrgMode, action: ServerAction<SetMode>) -> impl IntoView {
    let enforce = mode == OrgMode::Enforce;
    let (target, label, question) = if enforce {
        (
            "monitor",
            "Switch to monitor",
            "Switch to monitor? Calls will no longer be blocked or redacted; detections are only recorded.",
        )
    } else {
        (
            "enforce",
            "Switch to enforce",
            "Switch to enforce? From the next call on, rules that say block will cancel tool calls and redact rules will replace values before they reach tools or agents.",
        )
    };
    view! {
        <section class="card narrow-card" data-testid="mode-card">
            <h2>"Mode"</h2>
            <p>"Currently "<strong data-testid="current-mode">{mode.as_str()}</strong>". "
                {if enforce { "Gatehouse blocks and redacts as your rules say." }
                 else { "Gatehouse decides and records everything but changes nothing: see what enforce would do on the Alerts page first." }}</p>
            <FormError error=action_error(action)/>
            <ConfirmButton label=label question=question.to_owned() yes="Yes, switch"
                on_confirm=Callback::new(move |_| { action.dispatch(SetMode { mode: target.to_owned() }); })/>
        </section>
    }
}

/// Plan, usage bar, the effective state with its reason, what happens
/// while paused, and the event list.
#[component]
fn EnforcementCard(set_mode: ServerAction<SetMode>) -> impl IntoView {
    let set_behaviour = ServerAction::<SetPausedBehaviour>::new();
    // One server function per resource (see the Overview).
    let version = move || (set_mode.version().get(), set_behaviour.version().get());
    let status = Resource::new(version, |_| enforcement());
    let events = Resource::new(version, |_| org_events());
    view! {
        <section class="card" data-testid="enforcement-card">
            <h2>"Plan and enforce quota"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (status.await, events.await) {
                        (Ok(e), Ok(events)) => {
                            let strict = e.paused_blocks_calls;
                            view! {
                                <EnforcementBanner e=e.clone()/>
                                <dl class="facts">
                                    <dt>"Plan"</dt><dd data-testid="plan">{e.usage.plan.as_str()}
                                        {e.usage.quota_is_custom.then_some(" (quota set by the operator)")}</dd>
                                    <dt>"Configured mode"</dt><dd data-testid="settings-configured-mode">{e.configured.as_str()}</dd>
                                    <dt>"Effective state"</dt><dd data-testid="settings-effective-mode">{e.effective.label()}
                                        {e.pause.clone().map(|p| format!(" — {} used up ({} calls in {}), since {}", p.reason, p.limit, p.period, fmt_opt_time(p.since)))}</dd>
                                    <dt>"Period"</dt><dd>{e.usage.period.clone()}" (ends "{fmt_time(e.usage.period_ends_at)}")"</dd>
                                </dl>
                                <UsageBar usage=e.usage.clone()/>
                                <p class="muted">"Only calls decided in enforce mode count. Monitor mode is never limited."</p>
                                <ActionForm action=set_behaviour attr:class="inline-form">
                                    <FormError error=action_error(set_behaviour)/>
                                    <fieldset>
                                        <legend>"While enforce is paused"</legend>
                                        <label><input type="radio" name="paused_blocks_calls" value="monitor" checked=!strict/>
                                            " Decide calls as in monitor mode and record what enforce would have done"</label>
                                        <label><input type="radio" name="paused_blocks_calls" value="block" checked=strict/>
                                            " Block every call (strict)"</label>
                                    </fieldset>
                                    <button type="submit" class="btn btn-small">"Save"</button>
                                </ActionForm>
                                <h3>"Events"</h3>
                                {if events.is_empty() {
                                    view! { <p class="muted">"Nothing yet: mode switches, plan changes and quota events appear here."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="table small" aria-label="Enforcement events" data-testid="org-events">
                                            <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"By"</th></tr></thead>
                                            <tbody>
                                                {events.into_iter().map(|ev| view! {
                                                    <tr data-kind=ev.kind.as_str()>
                                                        <td>{fmt_time(ev.at)}</td>
                                                        <td>{ev.summary}</td>
                                                        <td>{ev.actor.unwrap_or_else(|| "Gatehouse / operator".to_owned())}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                        (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// How long call records and detections are kept: the server's retention
/// or a shorter one of the org's own.
#[component]
fn RetentionCard() -> impl IntoView {
    let set = ServerAction::<SetRetention>::new();
    let status = Resource::new(move || set.version().get(), |_| retention());
    let error = action_error(set);
    let pending = set.pending().into();
    view! {
        <section class="card narrow-card" data-testid="retention-card">
            <h2>"Data retention"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(r) => view! {
                            <p>"Call records and detections are kept "
                                <strong data-testid="retention-days">{format!("{} days", r.days)}</strong>
                                {if r.own_days.is_some() { " (this organization's choice)." } else { " (the server's retention)." }}
                                " Older records are deleted within the hour; alert counts drop with them."</p>
                            <ActionForm action=set attr:class="inline-form">
                                <FormError error/>
                                <div class="field">
                                    <label for="retention-days-input">"Keep records for (days)"</label>
                                    <input id="retention-days-input" name="days" type="number" min="1" max=r.server_days
                                        value=r.own_days.map(|d| d.to_string()).unwrap_or_default()
                                        placeholder=r.server_days.to_string() aria-describedby="days-error days-help"/>
                                    <FieldError error field="days"/>
                                    <p id="days-help" class="muted">{format!(
                                        "At most {} days, the server's retention. Leave empty to use it.", r.server_days)}</p>
                                </div>
                                <SubmitButton pending label="Save" busy_label="Saving…"/>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let error = action_error(create);
    let pending = create.pending().into();
    view! {
        <section class="card">
            <h2>"Admin API tokens"</h2>
            <p class="muted">"For scripts and CI using the admin API at /api/v1 (OpenAPI at /api/v1/openapi.json). A token acts with the role you give it, never more than your own role at the time it is used, and stops working when it expires or when you leave the organization."</p>
            <ActionForm action=create attr:class="form-grid">
                <FormError error/>
                <div class="field">
                    <label for="t-name">"Name"</label>
                    <input id="t-name" name="name" type="text" required placeholder="terraform" aria-describedby="name-error"/>
                    <FieldError error field="name"/>
                </div>
                <div class="field">
                    <label for="t-role">"Role"</label>
                    <select id="t-role" name="role">
                        {[Role::Viewer, Role::Admin].into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                    <FieldError error field="role"/>
                </div>
                <div class="field">
                    <label for="t-expiry">"Expires in"</label>
                    <select id="t-expiry" name="expires_in_days">
                        <option value="30">"30 days"</option>
                        <option value="90" selected>"90 days"</option>
                        <option value="365">"1 year"</option>
                    </select>
                    <FieldError error field="expires_in_days"/>
                </div>
                <div class="form-actions"><SubmitButton pending label="Create token" busy_label="Creating…"/></div>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(c)) => Some(view! {
                    <SecretOnce what="token" secret=c.secret.clone() testid="new-token"/>
                }),
                _ => None,
            }}
            <FormError error=action_error(revoke)/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(v) if v.is_empty() => view! { <EmptyState title="No API tokens">"Create one to automate Gatehouse."</EmptyState> }.into_any(),
                        Ok(v) => view! {
                            <table class="table small" aria-label="API tokens">
                                <thead><tr><th scope="col">"Token"</th><th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col">"Status"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {v.into_iter().map(|t| {
                                        let id = t.id;
                                        let revoked = t.revoked_at.is_some();
                                        let status = if revoked { "revoked" } else if t.expired { "expired" } else { "active" };
                                        view! {
                                            <tr>
                                                <td><code>{format!("{}…", t.prefix)}</code></td><td>{t.name.clone()}</td><td>{t.role.as_str()}</td>
                                                <td>{fmt_time(t.created_at)}</td><td>{fmt_opt_time(t.last_used_at)}</td>
                                                <td>{fmt_time(t.expires_at)}</td><td>{status}</td>
                                                <td class="actions">{(!revoked).then(|| view! {
                                                    <ConfirmButton label="Revoke" question=format!("Revoke {}? Scripts using it stop working.", t.name)
                                                        yes="Yes, revoke" on_confirm=Callback::new(move |_| { revoke.dispatch(RevokeApiToken { id }); })/>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Outgoing webhooks: where approvals and blocks are announced, each
/// delivery signed; the signing secret is shown once.
#[component]
fn Webhooks() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let hooks = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_webhooks(),
    );
    let error = action_error(create);
    let pending = create.pending().into();
    view! {
        <section class="card">
            <h2>"Webhooks"</h2>
            <p class="muted">"Gatehouse POSTs a JSON event (or a Slack message) when a call waits for approval, when a request is decided and when a call is blocked — ids, names and reasons, never argument values. Each delivery carries "<code>"Gatehouse-Signature: t=…,v1=…"</code>" (HMAC-SHA256 of "<code>"t.body"</code>" with the webhook's secret); failed deliveries are retried with backoff."</p>
            <ActionForm action=create attr:class="form-grid">
                <FormError error/>
                <div class="field wide">
                    <label for="wh-url">"URL"</label>
                    <input id="wh-url" name="url" type="url" required placeholder="https://hooks.example.com/gatehouse" aria-describedby="url-error"/>
                    <FieldError error field="url"/>
                </div>
                <fieldset class="field">
                    <legend>"Events"</legend>
                    <label class="check"><input type="checkbox" name="approval_requested" value="on" checked/>"approval.requested"</label>
                    <label class="check"><input type="checkbox" name="approval_decided" value="on" checked/>"approval.decided"</label>
                    <label class="check"><input type="checkbox" name="call_blocked" value="on" checked/>"call.blocked"</label>
                    <label class="check"><input type="checkbox" name="tool_changed" value="on" checked/>"tool.changed"</label>
                    <FieldError error field="events"/>
                </fieldset>
                <div class="field">
                    <label for="wh-format">"Format"</label>
                    <select id="wh-format" name="format">
                        <option value="gatehouse" selected>"Gatehouse JSON"</option>
                        <option value="slack">"Slack incoming webhook"</option>
                    </select>
                </div>
                <div class="form-actions"><SubmitButton pending label="Add webhook" busy_label="Adding…"/></div>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(c)) => Some(view! {
                    <SecretOnce what="signing secret" secret=c.secret.clone() testid="new-webhook-secret"/>
                }),
                _ => None,
            }}
            <FormError error=action_error(delete)/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match hooks.await {
                        Ok(v) if v.is_empty() => view! { <EmptyState title="No webhooks">"Add one to hear about approvals and blocks in your own tools or in Slack."</EmptyState> }.into_any(),
                        Ok(v) => v.into_iter().map(|h| view! { <WebhookRow hook=h delete/> }).collect_view().into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn WebhookRow(hook: shared::api::Webhook, delete: ServerAction<DeleteWebhook>) -> impl IntoView {
    let id = hook.id;
    let show = RwSignal::new(false);
    let log = Resource::new(
        move || show.get(),
        move |show| async move {
            if show {
                webhook_deliveries(id).await
            } else {
                Ok(Vec::new())
            }
        },
    );
    let events = hook
        .events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <article class="webhook" data-url=hook.url.clone()>
            <p><code>{hook.url.clone()}</code>" · "{hook.format.as_str()}" · "{events}" · added "{fmt_time(hook.created_at)}</p>
            <div class="form-actions">
                <button type="button" class="btn btn-small btn-ghost" on:click=move |_| show.update(|s| *s = !*s)>
                    {move || if show.get() { "Hide deliveries" } else { "Show deliveries" }}
                </button>
                <ConfirmButton label="Remove" question=format!("Remove the webhook to {}? Queued deliveries are dropped.", hook.url)
                    yes="Yes, remove" on_confirm=Callback::new(move |_| { delete.dispatch(DeleteWebhook { id }); })/>
            </div>
            {move || show.get().then(|| view! {
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match log.await {
                            Ok(d) if d.is_empty() => view! { <p class="muted">"No deliveries yet."</p> }.into_any(),
                            Ok(d) => view! {
                                <table class="table small" aria-label="Deliveries">
                                    <thead><tr><th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Last answer"</th></tr></thead>
                                    <tbody>
                                        {d.into_iter().map(|x| view! {
                                            <tr>
                                                <td>{fmt_time(x.created_at)}</td><td>{x.event.as_str()}</td><td>{x.status.clone()}</td>
                                                <td>{x.attempts}</td>
                                                <td>{x.last_status.map(|s| format!("HTTP {s}")).unwrap_or_default()}{x.last_error.clone().map(|e| format!(" — {e}"))}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                        }
                    })}
                </Transition>
            })}
        </article>
    }
}
