//! One module per page.

pub mod account;
pub mod alerts;
pub mod approvals;
pub mod auth;
pub mod connectors;
pub mod integrity;
pub mod invite;
pub mod members;
pub mod orgs;
pub mod overview;
pub mod packs;
pub mod policies;
pub mod reset;
pub mod rules;
pub mod sessions;
pub mod settings;
pub mod tester;
pub mod users;

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="center-page">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <a class="btn btn-primary" href="/">"Go to the overview"</a>
            </div>
        </main>
    }
}
