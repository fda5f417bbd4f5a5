//! The page a password reset link opens: choose a new password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use shared::account::PASSWORD_RULE;

use crate::components::{FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::RedeemReset;

#[component]
pub fn ResetPage() -> impl IntoView {
    let params = use_params_map();
    let token = params.read_untracked().get("token").unwrap_or_default();
    let action = ServerAction::<RedeemReset>::new();
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <Title text="Choose a new password"/>
        <main class="center-page">
            <div class="card narrow">
                <div class="brand brand-large"><span aria-hidden="true">"◆"</span>" Gatehouse"</div>
                <h1>"Choose a new password"</h1>
                <p class="muted">"Your organization's owner sent you this link. The new password is yours alone; your other sessions are signed out."</p>
                <ActionForm action=action>
                    <FormError error/>
                    <input type="hidden" name="token" value=token/>
                    <div class="field">
                        <label for="reset-password">"New password"</label>
                        <input id="reset-password" name="password" type="password" autocomplete="new-password" required
                            aria-describedby="reset-password-hint password-error"/>
                        <p class="hint" id="reset-password-hint">{PASSWORD_RULE}</p>
                        <FieldError error field="password"/>
                    </div>
                    <SubmitButton pending label="Set password and sign in" busy_label="Saving…"/>
                </ActionForm>
            </div>
        </main>
    }
}
