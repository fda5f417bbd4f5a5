//! The landing page after sign-in.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::account::{Role, Viewer};

#[component]
pub fn Overview() -> impl IntoView {
    let viewer = use_context::<Viewer>();
    let org = viewer.as_ref().and_then(|v| v.current.clone());
    let can_admin = viewer.as_ref().is_some_and(|v| v.can(Role::Admin));
    view! {
        <Title text="Overview"/>
        <header class="page-header">
            <h1>{org.as_ref().map(|o| o.org_name.clone())}</h1>
            <p class="muted">"Your organization at a glance."</p>
        </header>
        <section class="card">
            <h2>"Get started"</h2>
            <ol class="steps">
                <li>
                    {if can_admin {
                        view! { <a href="/members">"Invite your team"</a> }.into_any()
                    } else {
                        view! { <a href="/members">"See who is in your team"</a> }.into_any()
                    }}
                    " — owners and admins configure, approvers decide held calls, viewers read."
                </li>
                <li><a href="/settings">"Review your organization settings"</a></li>
            </ol>
        </section>
    }
}
