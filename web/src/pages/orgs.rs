//! Creating another organization, and the page for users without one.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::CreateOrg;

#[component]
pub fn NewOrg() -> impl IntoView {
    view! {
        <Title text="New organization"/>
        <header class="page-header">
            <h1>"New organization"</h1>
            <p class="muted">"Create another organization. You will be its owner and it will become your current one."</p>
        </header>
        <section class="card narrow-card"><CreateOrgForm/></section>
    }
}

/// Shown when the signed-in user belongs to no organization any more.
#[component]
pub fn NoOrg() -> impl IntoView {
    view! {
        <Title text="No organization"/>
        <header class="page-header">
            <h1>"You are not in any organization"</h1>
            <p class="muted">"Ask an admin to add you again, or start a new organization."</p>
        </header>
        <section class="card narrow-card"><CreateOrgForm/></section>
    }
}

#[component]
fn CreateOrgForm() -> impl IntoView {
    let action = ServerAction::<CreateOrg>::new();
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <ActionForm action=action>
            <FormError error/>
            <div class="field">
                <label for="name">"Organization name"</label>
                <input id="name" name="name" type="text" maxlength="80" required aria-describedby="name-error"/>
                <FieldError error field="name"/>
            </div>
            <SubmitButton pending label="Create organization" busy_label="Creating…"/>
        </ActionForm>
    }
}
