//! The page an invitation link opens: join the organization signed in to
//! your own account, or choose your own password for a new one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use shared::account::{InvitationPreview, PASSWORD_RULE, Viewer};

use crate::components::{ErrorNote, FieldError, FormError, SubmitButton, action_error};
use crate::server_fns::{
    AcceptInvitation, AcceptInvitationNew, SignOut, preview_invitation, whoami,
};

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let data = Resource::new(token, |t| async move {
        (preview_invitation(t).await, whoami().await)
    });
    view! {
        <Title text="Invitation"/>
        <main class="center-page">
            <div class="card narrow">
                <div class="brand brand-large"><span aria-hidden="true">"◆"</span>" Gatehouse"</div>
                <Suspense>
                    {move || Suspend::new(async move {
                        let (preview, viewer) = data.await;
                        match preview {
                            Ok(p) => view! {
                                <Accept token=token() preview=p viewer=viewer.ok().flatten()/>
                            }.into_any(),
                            Err(e) => view! { <h1>"Invitation"</h1><ErrorNote error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn Accept(token: String, preview: InvitationPreview, viewer: Option<Viewer>) -> impl IntoView {
    let join = ServerAction::<AcceptInvitation>::new();
    let create = ServerAction::<AcceptInvitationNew>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let join_error = action_error(join);
    let create_error = action_error(create);
    let heading = format!("Join {}", preview.org_name);
    let intro = format!(
        "You are invited to {} as {}, for {}.",
        preview.org_name,
        preview.role.as_str(),
        preview.email
    );
    let (for_join, for_create) = (token.clone(), token);
    let body = match viewer {
        Some(v) if v.email == preview.email => view! {
            <ActionForm action=join>
                <FormError error=join_error/>
                <input type="hidden" name="token" value=for_join/>
                <SubmitButton pending=join.pending().into() label="Accept and join" busy_label="Joining…"/>
            </ActionForm>
        }.into_any(),
        Some(v) => view! {
            <p class="notice" role="alert">{format!(
                "You are signed in as {}, but this invitation is for {}. Sign out, then open the link again.",
                v.email, preview.email
            )}</p>
            <ActionForm action=sign_out>
                <button type="submit" class="btn">"Sign out"</button>
            </ActionForm>
        }.into_any(),
        None => view! {
            <section>
                <h2>"I already use Gatehouse"</h2>
                <ActionForm action=join>
                    <FormError error=join_error/>
                    <input type="hidden" name="token" value=for_join/>
                    <div class="field">
                        <label for="existing-password">{format!("Password for {}", preview.email)}</label>
                        <input id="existing-password" name="password" type="password" autocomplete="current-password" required/>
                        <FieldError error=join_error field="password"/>
                    </div>
                    <SubmitButton pending=join.pending().into() label="Sign in and join" busy_label="Joining…"/>
                </ActionForm>
            </section>
            <section>
                <h2>"I am new to Gatehouse"</h2>
                <ActionForm action=create>
                    <FormError error=create_error/>
                    <input type="hidden" name="token" value=for_create/>
                    <div class="field">
                        <label for="new-password">"Choose a password"</label>
                        <input id="new-password" name="password" type="password" autocomplete="new-password" required
                            aria-describedby="new-password-hint password-error"/>
                        <p class="hint" id="new-password-hint">{PASSWORD_RULE}</p>
                        <FieldError error=create_error field="password"/>
                    </div>
                    <SubmitButton pending=create.pending().into() label="Create my account and join" busy_label="Joining…"/>
                </ActionForm>
            </section>
        }.into_any(),
    };
    view! {
        <h1>{heading}</h1>
        <p>{intro}</p>
        {body}
    }
}
