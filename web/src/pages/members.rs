//! Members of the current organization and their roles.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{Member, Role, Viewer};
use uuid::Uuid;

use crate::components::{
    ConfirmButton, ErrorNote, FieldError, FormError, SecretOnce, SubmitButton, action_error,
    fmt_time,
};
use crate::server_fns::{
    Invite, RemoveMember, ResetLink, RevokeInvitation, SetMemberRole, list_invitations,
    list_members,
};

#[component]
pub fn Members() -> impl IntoView {
    let viewer = use_context::<Viewer>();
    let me = viewer.as_ref().map(|v| v.user_id);
    let my_role = viewer
        .as_ref()
        .and_then(Viewer::role)
        .unwrap_or(Role::Viewer);
    let can_manage = my_role.allows(Role::Admin);

    let add = ServerAction::<Invite>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let reset = ServerAction::<ResetLink>::new();
    let members = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                remove.version().get(),
            )
        },
        |_| list_members(),
    );
    let row_error = Signal::derive(move || {
        action_error(set_role)
            .get()
            .or_else(|| action_error(remove).get())
            .or_else(|| action_error(reset).get())
    });
    let confirming = RwSignal::new(None::<Uuid>);

    view! {
        <Title text="Members"/>
        <header class="page-header">
            <h1>"Members"</h1>
            <p class="muted">"People who can sign in to this organization, and what they may do."</p>
        </header>
        {can_manage.then(|| view! { <Invitations action=add my_role/> })}
        <section class="card">
            <h2>"Team"</h2>
            <FormError error=row_error/>
            {move || {
                let changed = matches!(set_role.value().get(), Some(Ok(())));
                let removed = matches!(remove.value().get(), Some(Ok(())));
                // The latest of the two actions decides what to announce.
                let msg = if removed && !set_role.pending().get() {
                    Some("Member removed.")
                } else if changed {
                    Some("Role changed.")
                } else {
                    None
                };
                msg.map(|m| view! { <p class="notice notice-ok" role="status">{m}</p> })
            }}
            {move || match reset.value().get() {
                Some(Ok(link)) => Some(view! {
                    <SecretOnce what="password reset link" secret=link testid="reset-link"
                        hint="Give it to them privately. It works once, for 24 hours; their sessions end when they use it."/>
                }),
                _ => None,
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match members.await {
                        Ok(list) => view! {
                            <table class="table" aria-label="Members">
                                <thead>
                                    <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th>
                                    {can_manage.then(|| view! { <th scope="col"><span class="sr-only">"Actions"</span></th> })}</tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|m| view! {
                                        <MemberRow member=m me my_role set_role remove reset confirming/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
            <details class="roles-help">
                <summary>"What can each role do?"</summary>
                <dl class="facts">
                    {Role::ALL.iter().map(|r| view! { <dt>{r.as_str()}</dt><dd>{r.describe()}</dd> }).collect_view()}
                </dl>
            </details>
        </section>
    }
}

#[component]
fn MemberRow(
    member: Member,
    me: Option<Uuid>,
    my_role: Role,
    set_role: ServerAction<SetMemberRole>,
    remove: ServerAction<RemoveMember>,
    reset: ServerAction<ResetLink>,
    confirming: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let id = member.user_id;
    let is_me = me == Some(id);
    // The same rule the server enforces; hiding controls is only a courtesy.
    let manageable = my_role.can_manage(member.role);
    let assignable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| my_role.can_manage(*r))
        .collect();
    let email = member.email.clone();
    let email_for_confirm = member.email.clone();
    let email_for_label = member.email.clone();
    let row_email = member.email.clone();
    let role = member.role;
    view! {
        <tr data-email=row_email>
            <td>{email}{is_me.then(|| view! { <span class="you">" (you)"</span> })}</td>
            <td>
                {if manageable {
                    view! {
                        <ActionForm action=set_role attr:class="inline-form">
                            <input type="hidden" name="user_id" value=id.to_string()/>
                            <label class="sr-only" for=format!("role-{id}")>"Role for "{email_for_label.clone()}</label>
                            <select id=format!("role-{id}") name="role">
                                {assignable.iter().map(|r| view! {
                                    <option value=r.as_str() selected=*r == role>{r.as_str()}</option>
                                }).collect_view()}
                            </select>
                            <button type="submit" class="btn btn-small">"Change role"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <span class="role-badge">{role.as_str()}</span> }.into_any()
                }}
            </td>
            <td>{member.joined_at.format("%Y-%m-%d").to_string()}</td>
            {my_role.allows(Role::Admin).then(|| view! {
                <td class="actions">
                    // Owners only; the server also refuses members of other orgs.
                    {(my_role == Role::Owner && !is_me).then(|| view! {
                        <button type="button" class="btn btn-small"
                            on:click=move |_| { reset.dispatch(ResetLink { user_id: id }); }>"Reset link"</button>
                    })}
                    {manageable.then(|| view! {
                        <Show
                            when=move || confirming.get() == Some(id)
                            fallback=move || view! {
                                <button type="button" class="btn btn-small btn-danger-outline"
                                    on:click=move |_| confirming.set(Some(id))>"Remove"</button>
                            }
                        >
                            <span class="confirm">
                                {format!("Remove {}? ", email_for_confirm)}
                                <button type="button" class="btn btn-small btn-danger"
                                    on:click=move |_| {
                                        remove.dispatch(RemoveMember { user_id: id });
                                        confirming.set(None);
                                    }>"Yes, remove"</button>
                                <button type="button" class="btn btn-small btn-ghost"
                                    on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </span>
                        </Show>
                    })}
                </td>
            })}
        </tr>
    }
}

/// Invitations: a single-use link, shown once, that the person opens to
/// join (signed in to their account, or choosing their own password).
#[component]
fn Invitations(action: ServerAction<Invite>, my_role: Role) -> impl IntoView {
    let revoke = ServerAction::<RevokeInvitation>::new();
    let pending_list = Resource::new(
        move || (action.version().get(), revoke.version().get()),
        |_| list_invitations(),
    );
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <section class="card">
            <h2>"Invite someone"</h2>
            <p class="muted">"They get a link that works once, for 7 days. People who already use Gatehouse accept it signed in; others choose their own password. No one else ever sets their password."</p>
            <ActionForm action=action attr:class="form-grid">
                <FormError error/>
                <div class="field">
                    <label for="member-email">"Email"</label>
                    <input id="member-email" name="email" type="email" required aria-describedby="email-error"/>
                    <FieldError error field="email"/>
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">
                        {Role::ALL.into_iter().filter(|r| my_role.can_manage(*r)).map(|r| view! {
                            <option value=r.as_str() selected=r == Role::Viewer>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error field="role"/>
                </div>
                <div class="form-actions">
                    <SubmitButton pending label="Create invitation link" busy_label="Creating…"/>
                </div>
            </ActionForm>
            {move || match action.value().get() {
                Some(Ok(c)) => Some(view! {
                    <SecretOnce what="invitation link" secret=c.link.clone() testid="invitation-link"
                        hint="Send it to them yourself (chat, e-mail). Anyone holding it can accept it, so share it privately."/>
                }),
                _ => None,
            }}
            <FormError error=action_error(revoke)/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match pending_list.await {
                        Ok(v) if v.is_empty() => view! { <p class="muted">"No pending invitations."</p> }.into_any(),
                        Ok(v) => view! {
                            <table class="table small" aria-label="Pending invitations">
                                <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Expires"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {v.into_iter().map(|i| {
                                        let id = i.id;
                                        view! {
                                            <tr data-invited=i.email.clone()>
                                                <td>{i.email.clone()}</td><td>{i.role.as_str()}</td><td>{fmt_time(i.expires_at)}</td>
                                                <td class="actions">
                                                    <ConfirmButton label="Revoke" question=format!("Revoke the invitation for {}? The link stops working.", i.email)
                                                        yes="Yes, revoke" on_confirm=Callback::new(move |_| { revoke.dispatch(RevokeInvitation { id }); })/>
                                                </td>
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
