//! Registered Users: the people (or services) agent keys act for.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::api::{CallFilter, RegisteredUser};

use crate::components::{
    CallsTable, ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, Pager, SubmitButton,
    action_error, can_admin, fmt_opt_time,
};
use crate::server_fns::{DeleteUser, SaveUser, USERS_PAGE, list_calls, list_sessions, users_page};

#[component]
pub fn Users() -> impl IntoView {
    let editable = can_admin();
    let save = ServerAction::<SaveUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let search = RwSignal::new(String::new());
    // Keyset paging by external id; `pages` holds where each earlier page
    // started, for "Previous".
    let after = RwSignal::new(None::<String>);
    let pages = RwSignal::new(Vec::<Option<String>>::new());
    let users = Resource::new(
        move || {
            (
                search.get(),
                after.get(),
                save.version().get(),
                delete.version().get(),
            )
        },
        |(q, a, _, _)| users_page(Some(q), a),
    );
    let editing = RwSignal::new(None::<RegisteredUser>);
    let showing = RwSignal::new(None::<RegisteredUser>);
    view! {
        <Title text="Registered Users"/>
        <header class="page-header">
            <h1>"Registered Users"</h1>
            <p class="muted">"Who an agent acts for. Every call is recorded against its Registered User."</p>
        </header>
        {editable.then(|| view! { <UserForm save editing/> })}
        <section class="card">
            <h2>"Users"</h2>
            <label class="sr-only" for="user-search">"Search users"</label>
            <input id="user-search" type="search" class="search" placeholder="Search by name or external id…"
                on:input=move |ev| {
                    search.set(event_target_value(&ev));
                    after.set(None);
                    pages.set(Vec::new());
                }/>
            <FormError error=action_error(delete)/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(v) if v.is_empty() && search.get_untracked().is_empty() && after.get_untracked().is_none() => view! {
                            <EmptyState title="No Registered Users yet">
                                "Create one for each person or service whose agent will call tools; then create an agent key for them on a Tool Pack."
                            </EmptyState>
                        }.into_any(),
                        Ok(v) if v.is_empty() => view! {
                            <p class="muted">{if after.get_untracked().is_some() { "No more users." } else { "No user matches that search." }}</p>
                        }.into_any(),
                        Ok(v) => {
                            let full = v.len() as i64 >= USERS_PAGE;
                            let last = v.last().map(|u| u.external_id.clone());
                            view! {
                            <table class="table" aria-label="Registered Users">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"External id"</th><th scope="col">"Keys"</th>
                                <th scope="col">"Last call"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {v.into_iter().map(|u| {
                                        let (u1, u2) = (u.clone(), u.clone());
                                        let id = u.id;
                                        view! {
                                            <tr data-user=u.external_id.clone()>
                                                <td>{u.display_name.clone()}</td>
                                                <td><code>{u.external_id.clone()}</code></td>
                                                <td>{u.key_count}</td>
                                                <td>{fmt_opt_time(u.last_call_at)}</td>
                                                <td class="actions">
                                                    <button type="button" class="btn btn-small" on:click=move |_| showing.set(Some(u1.clone()))>"Recent calls"</button>
                                                    {editable.then(|| view! {
                                                        <button type="button" class="btn btn-small" on:click=move |_| editing.set(Some(u2.clone()))>"Edit"</button>
                                                        <ConfirmButton label="Delete"
                                                            question=format!("Delete {}? Their {} agent key(s) stop working; past calls stay recorded.", u.display_name, u.key_count)
                                                            yes="Yes, delete" on_confirm=Callback::new(move |_| { delete.dispatch(DeleteUser { id }); })/>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <Pager cursor=after history=pages next=full.then_some(last).flatten()
                                previous_label="← Previous" next_label="Next →"/>
                        }.into_any()
                        }
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {move || showing.get().map(|u| view! { <RecentCalls user=u/> })}
    }
}

#[component]
fn UserForm(
    save: ServerAction<SaveUser>,
    editing: RwSignal<Option<RegisteredUser>>,
) -> impl IntoView {
    let error = action_error(save);
    let pending = save.pending().into();
    // After a successful save, leave edit mode.
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
        }
    });
    view! {
        <section class="card">
            <h2>{move || if editing.get().is_some() { "Edit Registered User" } else { "Add a Registered User" }}</h2>
            {move || {
                let e = editing.get();
                let id = e.as_ref().map(|u| u.id.to_string());
                let ext = e.as_ref().map(|u| u.external_id.clone()).unwrap_or_default();
                let name = e.as_ref().map(|u| u.display_name.clone()).unwrap_or_default();
                let is_edit = e.is_some();
                view! {
                    <ActionForm action=save attr:class="form-grid">
                        <FormError error/>
                        {id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
                        <div class="field">
                            <label for="u-ext">"External id"</label>
                            <input id="u-ext" name="external_id" type="text" required value=ext
                                placeholder="alice@example.com" aria-describedby="u-ext-hint external_id-error"/>
                            <p class="hint" id="u-ext-hint">"Your identifier for them: an email, an employee or service id."</p>
                            <FieldError error field="external_id"/>
                        </div>
                        <div class="field">
                            <label for="u-name">"Display name"</label>
                            <input id="u-name" name="display_name" type="text" required value=name aria-describedby="display_name-error"/>
                            <FieldError error field="display_name"/>
                        </div>
                        <div class="form-actions">
                            <SubmitButton pending label=if is_edit { "Save changes" } else { "Add user" } busy_label="Saving…"/>
                            {is_edit.then(|| view! { <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button> })}
                            {move || match save.value().get() {
                                Some(Ok(u)) => Some(view! { <span class="saved" role="status">{format!("Saved {}.", u.display_name)}</span> }),
                                _ => None,
                            }}
                        </div>
                    </ActionForm>
                }
            }}
        </section>
    }
}

#[component]
fn RecentCalls(user: RegisteredUser) -> impl IntoView {
    let id = user.id;
    // One server function per resource (see the Overview).
    let sessions = Resource::new(
        move || id,
        |id| {
            list_sessions(shared::api::SessionFilter {
                registered_user_id: Some(id),
                limit: Some(10),
                ..shared::api::SessionFilter::default()
            })
        },
    );
    let calls = Resource::new(
        move || id,
        |id| {
            list_calls(CallFilter {
                registered_user_id: Some(id),
                limit: Some(20),
                ..CallFilter::default()
            })
        },
    );
    view! {
        <section class="card" aria-live="polite" data-testid="user-activity">
            <h2>{format!("Recent sessions of {}", user.display_name)}</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (sessions.await, calls.await) {
                        (Ok(s), Ok(p)) => view! {
                            {if s.items.is_empty() {
                                view! { <p class="muted">"No sessions yet."</p> }.into_any()
                            } else {
                                view! {
                                    <crate::pages::sessions::SessionsTable sessions=s.items/>
                                    <p><a href=format!("/sessions?user={id}")>"All their sessions"</a></p>
                                }.into_any()
                            }}
                            <h3>"Recent calls"</h3>
                            <p><a href=format!("/api/v1/calls/export?registered_user_id={id}") download
                                data-testid="export-user-calls">"Export all their calls (JSON Lines, redacted evidence only)"</a></p>
                            {if p.items.is_empty() {
                                view! { <p class="muted">"No calls yet."</p> }.into_any()
                            } else {
                                view! { <CallsTable calls=p.items/> }.into_any()
                            }}
                        }.into_any(),
                        (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
