//! The signed-in person's own account: changing the password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::ChangePassword;

#[component]
pub fn Account() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = action_error(action);
    let pending = action.pending().into();
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Your account"/>
        <header class="page-header">
            <h1>"Your account"</h1>
            <p class="muted">"Your password is yours alone: no organization can set or reset it."</p>
        </header>
        <section class="card narrow-card">
            <h2>"Change password"</h2>
            <p class="muted">"Every other session of yours is signed out; this one stays signed in."</p>
            <ActionForm action=action>
                <FormError error/>
                <div class="field">
                    <label for="current_password">"Current password"</label>
                    <input id="current_password" name="current_password" type="password" required
                        autocomplete="current-password" aria-describedby="current_password-error"/>
                    <FieldError error field="current_password"/>
                </div>
                <div class="field">
                    <label for="new_password">"New password"</label>
                    <input id="new_password" name="new_password" type="password" required
                        autocomplete="new-password" aria-describedby="new_password-error"/>
                    <FieldError error field="new_password"/>
                </div>
                <SubmitButton pending label="Change password" busy_label="Changing…"/>
                {move || done().then(|| view! {
                    <span class="saved" role="status">"Password changed. Your other sessions are signed out."</span>
                })}
            </ActionForm>
        </section>
    }
}
