//! Members of the current organization and their roles.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{Member, Role, Viewer};
use uuid::Uuid;

use crate::components::{ErrorNote, FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::{AddMember, RemoveMember, SetMemberRole, list_members};

#[component]
pub fn Members() -> impl IntoView {
    let viewer = use_context::<Viewer>();
    let me = viewer.as_ref().map(|v| v.user_id);
    let my_role = viewer
        .as_ref()
        .and_then(Viewer::role)
        .unwrap_or(Role::Viewer);
    let can_manage = my_role.allows(Role::Admin);

    let add = ServerAction::<AddMember>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
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
    });
    let confirming = RwSignal::new(None::<Uuid>);

    view! {
        <Title text="Members"/>
        <header class="page-header">
            <h1>"Members"</h1>
            <p class="muted">"People who can sign in to this organization, and what they may do."</p>
        </header>
        {can_manage.then(|| view! { <AddMemberForm action=add my_role/> })}
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
                                        <MemberRow member=m me my_role set_role remove confirming/>
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

#[component]
fn AddMemberForm(action: ServerAction<AddMember>, my_role: Role) -> impl IntoView {
    let error = action_error(action);
    let pending = action.pending().into();
    let added = move || match action.value().get() {
        Some(Ok(m)) => Some(format!("Added {} as {}.", m.email, m.role)),
        _ => None,
    };
    view! {
        <section class="card">
            <h2>"Add a member"</h2>
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
                <div class="field">
                    <label for="member-password">"Initial password"</label>
                    <input id="member-password" name="password" type="password" autocomplete="new-password"
                        aria-describedby="member-password-hint password-error"/>
                    <p class="hint" id="member-password-hint">
                        "Needed only if they have no Gatehouse account yet; share it with them privately. "
                        {shared::account::PASSWORD_RULE}
                    </p>
                    <FieldError error field="password"/>
                </div>
                <div class="form-actions">
                    <SubmitButton pending label="Add member" busy_label="Adding…"/>
                    {move || added().map(|m| view! { <span class="saved" role="status">{m}</span> })}
                </div>
            </ActionForm>
        </section>
    }
}
