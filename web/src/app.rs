//! The HTML shell, the router and the signed-in layout.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};
use shared::account::{Role, Viewer};

use crate::components::ErrorNote;
use crate::pages;
use crate::server_fns::{SignOut, SwitchOrg, whoami};

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's CSP names the nonce Leptos gave this response's inline
    // scripts (the server's default CSP has none, so it would block them).
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(v) =
        http::HeaderValue::from_str(&crate::serve::content_security_policy(Some(&nonce)))
    {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The router: public pages (sign in, sign up, first run) and the signed-in
/// area under one layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tells tests (and curious humans) the page is interactive: effects
    // only run in the browser, after hydration.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="gatehouse" href="/gatehouse.css"/>
        <Title formatter=|t: String| if t.is_empty() { "Gatehouse".to_owned() } else { format!("{t} · Gatehouse") }/>
        <Router>
            <Routes fallback=pages::NotFound>
                // Async SSR: the server waits for the page's data before
                // sending anything, so redirects (signed out, first run) are
                // real 302s and pages arrive complete.
                <Route path=path!("/signin") view=pages::auth::SignIn ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=pages::auth::SignUp ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=pages::auth::Setup ssr=SsrMode::Async/>
                <Route path=path!("/invite/:token") view=pages::invite::InvitePage ssr=SsrMode::Async/>
                <Route path=path!("/reset/:token") view=pages::reset::ResetPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::overview::Overview/>
                    <Route path=path!("/connectors") view=pages::connectors::Connectors/>
                    <Route path=path!("/tools") view=pages::integrity::ToolIntegrity/>
                    <Route path=path!("/tools/changes/:id") view=pages::integrity::ToolChangeReview/>
                    <Route path=path!("/packs") view=pages::packs::Packs/>
                    <Route path=path!("/packs/:id") view=pages::packs::PackDetail/>
                    <Route path=path!("/users") view=pages::users::Users/>
                    <Route path=path!("/rules") view=pages::rules::Rules/>
                    <Route path=path!("/policies") view=pages::policies::Policies/>
                    <Route path=path!("/approvals") view=pages::approvals::Approvals/>
                    <Route path=path!("/tester") view=pages::tester::Tester/>
                    <Route path=path!("/alerts") view=pages::alerts::Alerts/>
                    <Route path=path!("/alerts/calls/:id") view=pages::alerts::CallDetail/>
                    <Route path=path!("/sessions") view=pages::sessions::Sessions/>
                    <Route path=path!("/sessions/:id") view=pages::sessions::SessionDetail/>
                    <Route path=path!("/members") view=pages::members::Members/>
                    <Route path=path!("/settings") view=pages::settings::Settings/>
                    <Route path=path!("/orgs/new") view=pages::orgs::NewOrg/>
                    <Route path=path!("/account") view=pages::account::Account/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The signed-in layout: navigation, org switcher and the page.
///
/// It loads the viewer once; pages below read it from context. Signed-out
/// visitors are sent to the sign-in page (on the server during SSR).
#[component]
fn Layout() -> impl IntoView {
    let switch = ServerAction::<SwitchOrg>::new();
    let viewer = Resource::new(move || switch.version().get(), |_| whoami());
    view! {
        <Suspense fallback=|| view! { <div class="loading-page">"Loading…"</div> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(v)) => {
                        let has_org = v.current.is_some();
                        provide_context(v.clone());
                        view! {
                            <div class="app">
                                <Sidebar viewer=v.clone() switch/>
                                <main class="main" id="main">
                                    {if has_org {
                                        view! { <Outlet/> }.into_any()
                                    } else {
                                        view! { <pages::orgs::NoOrg/> }.into_any()
                                    }}
                                </main>
                            </div>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/signin"/> }.into_any(),
                    Err(e) => view! { <div class="main"><ErrorNote error=e/></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Sidebar(viewer: Viewer, switch: ServerAction<SwitchOrg>) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let current = viewer.current.clone();
    let current_id = current
        .as_ref()
        .map(|c| c.org_id.to_string())
        .unwrap_or_default();
    let orgs = viewer.orgs.clone();
    let many = orgs.len() > 1;
    let is_admin = viewer.can(Role::Admin);
    view! {
        <nav class="sidebar" aria-label="Main">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="brand">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                " Gatehouse"
            </div>
            <div class="org-switcher">
                {if many {
                    view! {
                        <ActionForm action=switch attr:class="org-switch-form">
                            <label for="org-switch" class="sr-only">"Organization"</label>
                            <select id="org-switch" name="org_id"
                                on:change=move |ev| {
                                    // Switch as soon as another org is picked.
                                    if let Ok(org_id) = event_target_value(&ev).parse() {
                                        switch.dispatch(SwitchOrg { org_id });
                                    }
                                }>
                                {orgs.into_iter().map(|o| {
                                    let id = o.org_id.to_string();
                                    let selected = id == current_id;
                                    view! { <option value=id selected=selected>{o.org_name}</option> }
                                }).collect_view()}
                            </select>
                            <noscript><button type="submit" class="btn btn-small">"Switch"</button></noscript>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <div class="org-name" title="Organization">
                            {current.as_ref().map(|c| c.org_name.clone())}
                        </div>
                    }.into_any()
                }}
                {current.as_ref().map(|c| view! { <span class="role-badge">{c.role.as_str()}</span> })}
                {viewer.effective_mode.map(|mode| view! { <crate::components::ModeBadge mode/> })}
            </div>
            <ul class="nav-links">
                <li><A href="/" exact=true>"Overview"</A></li>
                <li><A href="/alerts">"Alerts"</A></li>
                <li><A href="/sessions">"Sessions"</A></li>
                <li><A href="/approvals">"Approvals"<PendingBadge/></A></li>
                <li class="nav-heading" aria-hidden="true">"Gateway"</li>
                <li><A href="/connectors">"Connectors"</A></li>
                <li><A href="/tools">"Tool integrity"</A></li>
                <li><A href="/packs">"Tool Packs"</A></li>
                <li><A href="/users">"Registered Users"</A></li>
                <li><A href="/rules">"Rules"</A></li>
                <li><A href="/tester">"Rule Tester"</A></li>
                <li><A href="/policies">"Tool policies"</A></li>
                <li class="nav-heading" aria-hidden="true">"Organization"</li>
                <li><A href="/members">"Members"</A></li>
                <li><A href="/settings">"Settings"</A></li>
            </ul>
            <div class="nav-footer">
                <A href="/orgs/new">"+ New organization"</A>
                <div class="user-email" title="Signed in as">{viewer.email.clone()}</div>
                <A href="/account">"Your account"</A>
                <ActionForm action=sign_out>
                    <button type="submit" class="btn btn-ghost">"Sign out"</button>
                </ActionForm>
                {(!is_admin).then(|| view! { <p class="hint">"Some actions need the admin role."</p> })}
            </div>
        </nav>
    }
}

/// The number of calls waiting for a person, next to "Approvals";
/// refreshed every few seconds while the dashboard is open.
#[component]
fn PendingBadge() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|n| *n = n.wrapping_add(1)),
            std::time::Duration::from_secs(5),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let count = Resource::new(
        move || tick.get(),
        |_| crate::server_fns::pending_approvals(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                count.await.ok().filter(|n| *n > 0).map(|n| view! {
                    <span class="nav-count" data-testid="pending-approvals" aria-label=format!("{n} pending")>{n}</span>
                })
            })}
        </Transition>
    }
}
