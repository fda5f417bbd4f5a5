//! Sign in, sign up and the first-run setup page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use shared::account::PASSWORD_RULE;

use crate::components::{FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::{SignIn as SignInFn, SignUp as SignUpFn, needs_setup};

#[component]
pub fn SignIn() -> impl IntoView {
    let setup = Resource::new(|| (), |_| needs_setup());
    view! {
        <Title text="Sign in"/>
        // The whole page waits for the first-run check, so a fresh install
        // is redirected by the server (302) before any HTML is sent.
        <Suspense>
            {move || Suspend::new(async move {
                if matches!(setup.await, Ok(true)) {
                    view! { <Redirect path="/setup"/> }.into_any()
                } else {
                    view! { <SignInForm/> }.into_any()
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInForm() -> impl IntoView {
    let action = ServerAction::<SignInFn>::new();
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <main class="center-page">
            <div class="card narrow">
                <div class="brand brand-large"><span aria-hidden="true">"◆"</span>" Gatehouse"</div>
                <h1>"Sign in"</h1>
                <ActionForm action=action>
                    <FormError error/>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required
                            aria-describedby="email-error"/>
                        <FieldError error field="email"/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                        <FieldError error field="password"/>
                    </div>
                    <SubmitButton pending label="Sign in" busy_label="Signing in…"/>
                </ActionForm>
                <p class="muted">"New to Gatehouse? " <a href="/signup">"Create an organization"</a></p>
            </div>
        </main>
    }
}

/// First run: shown while no organization exists yet.
#[component]
pub fn Setup() -> impl IntoView {
    let setup = Resource::new(|| (), |_| needs_setup());
    view! {
        <Title text="Welcome"/>
        <Suspense>
            {move || Suspend::new(async move {
                if matches!(setup.await, Ok(false)) {
                    view! { <Redirect path="/signin"/> }.into_any()
                } else {
                    view! {
                        <OrgForm
                            heading="Create your organization"
                            intro="Welcome to Gatehouse. Name your organization and create its owner account; you can invite your team next."
                        />
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// Sign-up for a new organization (multi-tenant: anyone can start one).
#[component]
pub fn SignUp() -> impl IntoView {
    view! {
        <Title text="Create an organization"/>
        <OrgForm
            heading="Create an organization"
            intro="Start a new Gatehouse organization. You will be its owner."
        />
    }
}

#[component]
fn OrgForm(heading: &'static str, intro: &'static str) -> impl IntoView {
    let action = ServerAction::<SignUpFn>::new();
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <main class="center-page">
            <div class="card narrow">
                <div class="brand brand-large"><span aria-hidden="true">"◆"</span>" Gatehouse"</div>
                <h1>{heading}</h1>
                <p class="muted">{intro}</p>
                <ActionForm action=action>
                    <FormError error/>
                    <div class="field">
                        <label for="org_name">"Organization name"</label>
                        <input id="org_name" name="org_name" type="text" maxlength="80" required
                            autocomplete="organization" aria-describedby="org_name-error"/>
                        <FieldError error field="org_name"/>
                    </div>
                    <div class="field">
                        <label for="email">"Your email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required
                            aria-describedby="email-error"/>
                        <FieldError error field="email"/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="new-password" required
                            aria-describedby="password-hint password-error"/>
                        <p class="hint" id="password-hint">{PASSWORD_RULE}
                            " If this email already has a Gatehouse account, use its password: the organization is added to it."</p>
                        <FieldError error field="password"/>
                    </div>
                    <SubmitButton pending label="Create organization" busy_label="Creating…"/>
                </ActionForm>
                <p class="muted">"Already have an account? " <a href="/signin">"Sign in"</a></p>
            </div>
        </main>
    }
}
