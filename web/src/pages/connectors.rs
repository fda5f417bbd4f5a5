//! Connectors: the upstream MCP servers whose tools packs expose.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::api::{Connector, DiscoveryReport};

use crate::components::{
    ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, SubmitButton, action_error,
    can_admin, fmt_opt_time,
};
use crate::server_fns::{
    CreateConnector, DeleteConnector, RefreshConnector, list_connectors, list_tools,
};

#[component]
pub fn Connectors() -> impl IntoView {
    let create = ServerAction::<CreateConnector>::new();
    let delete = ServerAction::<DeleteConnector>::new();
    let refresh = ServerAction::<RefreshConnector>::new();
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                delete.version().get(),
                refresh.version().get(),
            )
        },
        |_| list_connectors(),
    );
    let editable = can_admin();
    view! {
        <Title text="Connectors"/>
        <header class="page-header">
            <h1>"Connectors"</h1>
            <p class="muted">"Upstream MCP servers. Gatehouse discovers their tools; Tool Packs choose which ones agents may call."</p>
        </header>
        {editable.then(|| view! { <AddConnector action=create/> })}
        <section class="card">
            <h2>"Your connectors"</h2>
            <FormError error=action_error(delete)/>
            {move || refresh.value().get().map(|r| match r {
                Ok(rep) => view! { <DiscoveryNote report=rep/> }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(v) if v.is_empty() => view! {
                            <EmptyState title="No connectors yet">
                                {if editable { "Add your first upstream MCP server above: its URL and, if it needs one, an auth header." }
                                 else { "An admin adds upstream MCP servers here." }}
                            </EmptyState>
                        }.into_any(),
                        Ok(v) => view! {
                            <div class="connector-list">
                                {v.into_iter().map(|c| view! { <ConnectorCard c editable delete refresh/> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DiscoveryNote(report: DiscoveryReport) -> impl IntoView {
    let class = if report.ok {
        "notice notice-ok"
    } else {
        "notice notice-error"
    };
    let extra = report
        .server_name
        .clone()
        .map(|n| format!(" Server: {n}."))
        .unwrap_or_default();
    view! {
        <div class=class role="status" data-testid="discovery">
            {report.message.clone()}{extra}
        </div>
    }
}

#[component]
fn ConnectorCard(
    c: Connector,
    editable: bool,
    delete: ServerAction<DeleteConnector>,
    refresh: ServerAction<RefreshConnector>,
) -> impl IntoView {
    let id = c.id;
    let show_tools = RwSignal::new(false);
    let used = if c.used_by_packs.is_empty() {
        "No Tool Pack uses it.".to_owned()
    } else {
        format!(
            "Tool Packs {} will lose its tools.",
            c.used_by_packs.join(", ")
        )
    };
    let question = format!("Remove {}? {used}", c.name);
    view! {
        <article class="connector" data-name=c.name.clone()>
            <div class="connector-head">
                <div>
                    <h3>{c.name.clone()}</h3>
                    <code class="muted">{c.url.clone()}</code>
                </div>
                <div class="actions">
                    {editable.then(|| view! {
                        <button type="button" class="btn btn-small" disabled=move || refresh.pending().get()
                            on:click=move |_| { refresh.dispatch(RefreshConnector { id }); }>
                            {move || if refresh.pending().get() { "Testing…" } else { "Test & refresh tools" }}
                        </button>
                        <ConfirmButton label="Remove" question yes="Yes, remove"
                            on_confirm=Callback::new(move |_| { delete.dispatch(DeleteConnector { id }); })/>
                    })}
                </div>
            </div>
            <dl class="facts compact">
                <dt>"Auth header"</dt>
                <dd>{match (&c.auth_header_name, c.auth_set) {
                    (Some(n), true) => format!("{n}: set (hidden)"),
                    _ => "not set".to_owned(),
                }}</dd>
                <dt>"Tools"</dt><dd>{c.tool_count}</dd>
                <dt>"Discovered"</dt><dd>{fmt_opt_time(c.discovered_at)}</dd>
                <dt>"Used by"</dt><dd>{if c.used_by_packs.is_empty() { "—".to_owned() } else { c.used_by_packs.join(", ") }}</dd>
            </dl>
            {c.discovery_error.clone().map(|e| view! { <p class="notice notice-error">"Last discovery failed: "{e}</p> })}
            <button type="button" class="link-btn" aria-expanded=move || show_tools.get().to_string()
                on:click=move |_| show_tools.update(|s| *s = !*s)>
                {move || if show_tools.get() { "Hide tools" } else { "Show tools" }}
            </button>
            // Created on demand: a resource made while rendering the list
            // (inside its Suspend) would not survive hydration.
            {move || show_tools.get().then(|| view! { <ToolList id refresh/> })}
        </article>
    }
}

#[component]
fn ToolList(id: uuid::Uuid, refresh: ServerAction<RefreshConnector>) -> impl IntoView {
    let tools = Resource::new(
        move || refresh.version().get(),
        move |_| list_tools(Some(id)),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading tools…"</p> }>
            {move || Suspend::new(async move {
                match tools.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"This server offers no tools."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table small">
                            <thead><tr><th scope="col">"Tool"</th><th scope="col">"Exposed to agents as"</th><th scope="col">"Description"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr><td><code>{t.name}</code></td><td><code>{t.exposed_name}</code></td>
                                    <td class="muted">{t.description.unwrap_or_default()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AddConnector(action: ServerAction<CreateConnector>) -> impl IntoView {
    let error = action_error(action);
    let pending = action.pending().into();
    view! {
        <section class="card">
            <h2>"Add an upstream MCP server"</h2>
            <ActionForm action attr:class="form-grid">
                <FormError error/>
                <div class="field">
                    <label for="c-name">"Name"</label>
                    <input id="c-name" name="name" type="text" required placeholder="github-tools"
                        aria-describedby="c-name-hint name-error"/>
                    <p class="hint" id="c-name-hint">"Lowercase letters, digits, - and _. Agents see tools as name__tool."</p>
                    <FieldError error field="name"/>
                </div>
                <div class="field">
                    <label for="c-url">"Streamable HTTP URL"</label>
                    <input id="c-url" name="url" type="url" required placeholder="https://mcp.example.com/mcp"
                        aria-describedby="url-error"/>
                    <FieldError error field="url"/>
                </div>
                <div class="field">
                    <label for="c-auth-name">"Auth header name (optional)"</label>
                    <input id="c-auth-name" name="auth_header_name" type="text" placeholder="Authorization"
                        aria-describedby="auth_header_name-error"/>
                    <FieldError error field="auth_header_name"/>
                </div>
                <div class="field">
                    <label for="c-auth-value">"Auth header value (optional)"</label>
                    <input id="c-auth-value" name="auth_header_value" type="password" autocomplete="off"
                        placeholder="Bearer …" aria-describedby="c-auth-hint auth_header_value-error"/>
                    <p class="hint" id="c-auth-hint">"Encrypted at rest and never shown again; the page will only say it is set."</p>
                    <FieldError error field="auth_header_value"/>
                </div>
                <div class="form-actions">
                    <SubmitButton pending label="Add and discover tools" busy_label="Connecting…"/>
                    {move || match action.value().get() {
                        Some(Ok((c, rep))) => Some(view! {
                            <span class=if rep.ok { "saved" } else { "field-error" } role="status">
                                {format!("Added {}. {}", c.name, rep.message)}
                            </span>
                        }),
                        _ => None,
                    }}
                </div>
            </ActionForm>
        </section>
    }
}
