//! Organization settings (admins and owners): name, monitor / enforce mode
//! and admin API tokens.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{OrgMode, Role};

use crate::components::{
    ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, SecretOnce, SubmitButton,
    action_error, can_admin, fmt_opt_time, fmt_time,
};
use crate::server_fns::{
    CreateApiToken, RenameOrg, RevokeApiToken, SetEvidence, SetMode, get_org_settings,
    list_api_tokens,
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
        {can_admin().then(|| view! { <ApiTokens/> })}
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
