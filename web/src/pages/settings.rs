//! Organization settings (admins and owners).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{RenameOrg, get_org_settings};
use crate::components::{ErrorNote, FieldError, FormError, SubmitButton, action_error};

#[component]
pub fn Settings() -> impl IntoView {
    let rename = ServerAction::<RenameOrg>::new();
    let settings = Resource::new(move || rename.version().get(), |_| get_org_settings());
    let error = action_error(rename);
    let pending = rename.pending().into();
    let saved = move || matches!(rename.value().get(), Some(Ok(_)));
    view! {
        <Title text="Settings"/>
        <header class="page-header">
            <h1>"Settings"</h1>
            <p class="muted">"Organization-wide settings. Only owners and admins can open this page."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! {
                        <section class="card narrow-card">
                            <h2>"Organization"</h2>
                            <ActionForm action=rename>
                                <FormError error/>
                                <div class="field">
                                    <label for="name">"Name"</label>
                                    <input id="name" name="name" type="text" maxlength="80" required
                                        value=s.name.clone() aria-describedby="name-error"/>
                                    <FieldError error field="name"/>
                                </div>
                                <SubmitButton pending label="Save" busy_label="Saving…"/>
                                {move || saved().then(|| view! { <span class="saved" role="status">"Saved."</span> })}
                            </ActionForm>
                            <dl class="facts">
                                <dt>"Mode"</dt><dd>{s.mode.as_str()}</dd>
                                <dt>"Organization id"</dt><dd><code>{s.org_id.to_string()}</code></dd>
                                <dt>"Created"</dt><dd>{s.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                            </dl>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
