//! Connectors: the upstream MCP servers, GitHub installations and Postgres
//! databases whose tools packs expose.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use shared::api::{
    ConnectionTest, Connector, ConnectorKind, DiscoveryReport, GitHubInstallation,
    PostgresConnector, PostgresConnectorInput, PostgresSslMode, PostgresTargetInput,
};

use crate::components::{
    ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, SubmitButton, action_error,
    can_admin, fmt_opt_time, fmt_time,
};
use crate::server_fns::{
    CreateConnector, DeleteConnector, RefreshConnector, github_status, list_connectors,
    list_databases, list_tools, save_database, start_github_connect, test_database,
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
            <p class="muted">"GitHub installations, Postgres databases and upstream MCP servers. Tool Packs choose which of their tools agents may call."</p>
        </header>
        <GitHubSection editable delete refresh/>
        <DatabasesSection editable delete/>
        {editable.then(|| view! { <AddConnector action=create/> })}
        <section class="card">
            <h2>"Your MCP connectors"</h2>
            <FormError error=action_error(delete)/>
            {move || refresh.value().get().map(|r| match r {
                Ok(rep) => view! { <DiscoveryNote report=rep/> }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // GitHub installations have their own section above.
                    let list = list.await.map(|v| {
                        v.into_iter().filter(|c| c.kind == ConnectorKind::Mcp).collect::<Vec<_>>()
                    });
                    match list {
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
            {(!report.changes.is_empty()).then(|| view! { " "<a href="/tools">"Tool integrity"</a> })}
        </div>
    }
}

/// What removing a connector asks: which packs lose its tools.
fn removal_question(name: &str, used_by_packs: &[String]) -> String {
    if used_by_packs.is_empty() {
        format!("Remove {name}? No Tool Pack uses it.")
    } else {
        format!(
            "Remove {name}? Tool Packs {} will lose its tools.",
            used_by_packs.join(", ")
        )
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
    let question = removal_question(&c.name, &c.used_by_packs);
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

/// What came back from GitHub's installation page (`?github=<code>`): fixed
/// texts only, never words from the address bar.
fn github_outcome(code: &str) -> Option<(&'static str, &'static str)> {
    let err = "notice notice-error";
    Some(match code {
        "connected" => (
            "notice notice-ok",
            "GitHub is connected. Choose which of its tools and repositories each Tool Pack may use.",
        ),
        "invalid_state" => (
            err,
            "This GitHub connection link is not valid: it works once, for the admin and browser session that started it, within 15 minutes. Click Connect GitHub again.",
        ),
        "not_this_app" => (
            err,
            "GitHub does not know this installation as one of this Gatehouse's GitHub App, so it was not connected.",
        ),
        "wrong_account" => (
            err,
            "The App was installed on a different GitHub account than the one you named. Connect again and pick the same account on GitHub.",
        ),
        "taken" => (
            err,
            "This GitHub installation is already connected to another organization.",
        ),
        "no_app" => (err, "No GitHub App is configured for this Gatehouse."),
        "forbidden" => (err, "Only admins and owners can connect GitHub."),
        "signed_out" => (err, "Sign in, then click Connect GitHub again."),
        "unavailable" => (
            err,
            "GitHub could not be reached to check the installation. Try again.",
        ),
        "error" => (err, "GitHub could not be connected. Try again."),
        _ => return None,
    })
}

#[component]
fn GitHubSection(
    editable: bool,
    delete: ServerAction<DeleteConnector>,
    refresh: ServerAction<RefreshConnector>,
) -> impl IntoView {
    let status = Resource::new(
        move || (delete.version().get(), refresh.version().get()),
        |_| github_status(),
    );
    let query = use_query_map();
    let outcome = move || query.read().get("github").and_then(|c| github_outcome(&c));
    let account = RwSignal::new(String::new());
    let connect = Action::new(move |account: &String| {
        let account = account.clone();
        async move {
            let r = start_github_connect(account).await;
            if let Ok(started) = &r {
                // Off to GitHub's installation page (another site).
                let _ = window().location().set_href(&started.url);
            }
            r
        }
    });
    let connect_error = Signal::derive(move || match connect.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    });
    view! {
        <section class="card" data-testid="github">
            <h2>"GitHub"</h2>
            <p class="muted">"Connect a GitHub App installation: agents then use governed GitHub tools (github__…) on the repositories you choose per Tool Pack, with tokens Gatehouse mints per call. Agents never hold a GitHub credential."</p>
            {move || outcome().map(|(class, text)| view! { <p class=class role="status" data-testid="github-outcome">{text}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) if !s.configured => view! {
                            <p class="notice">"No GitHub App is configured for this Gatehouse yet. The operator sets one with "<code>"gatehouse github-app set"</code>" (see the README)."</p>
                        }.into_any(),
                        Ok(s) => view! {
                            {s.installations.is_empty().then(|| view! { <p class="muted">"No GitHub installation is connected."</p> })}
                            <div class="connector-list">
                                {s.installations.into_iter().map(|i| view! { <InstallationCard i editable delete refresh/> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {editable.then(|| view! {
                <form class="form-grid" on:submit=move |ev| { ev.prevent_default(); connect.dispatch(account.get()); }>
                    <FormError error=connect_error/>
                    <div class="field">
                        <label for="gh-account">"GitHub organization or user to install on"</label>
                        <input id="gh-account" name="account" type="text" required placeholder="acme-corp"
                            aria-describedby="gh-account-hint account-error"
                            on:input=move |ev| account.set(event_target_value(&ev))/>
                        <p class="hint" id="gh-account-hint">"On GitHub, install the App on this account and pick the repositories it may reach; Gatehouse checks the installation with GitHub before storing it."</p>
                        <FieldError error=connect_error field="account"/>
                    </div>
                    <div class="form-actions">
                        <button type="submit" class="btn btn-primary" disabled=move || connect.pending().get()>
                            {move || if connect.pending().get() { "Opening GitHub…" } else { "Connect GitHub" }}
                        </button>
                    </div>
                </form>
            })}
        </section>
    }
}

#[component]
fn InstallationCard(
    i: GitHubInstallation,
    editable: bool,
    delete: ServerAction<DeleteConnector>,
    refresh: ServerAction<RefreshConnector>,
) -> impl IntoView {
    let id = i.connector_id;
    let question = format!(
        "Disconnect GitHub ({})? Tool Packs lose its tools at once. Uninstall the App on GitHub too if you no longer need it.",
        i.account_login
    );
    let status_class = match i.status {
        shared::api::InstallationStatus::Active => "badge badge-allow",
        _ => "badge badge-block",
    };
    let permissions = i
        .permissions
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let repo_count = i.repositories.len();
    view! {
        <article class="connector" data-name=i.connector_name.clone() data-testid="github-installation">
            <div class="connector-head">
                <div>
                    <h3>{i.account_login.clone()}" "<span class=status_class>{i.status.as_str()}</span></h3>
                    <p class="muted">{format!("Tools appear as {}__…", i.connector_name)}</p>
                </div>
                <div class="actions">
                    {editable.then(|| view! {
                        <button type="button" class="btn btn-small" disabled=move || refresh.pending().get()
                            on:click=move |_| { refresh.dispatch(RefreshConnector { id }); }>
                            {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh" }}
                        </button>
                        <ConfirmButton label="Disconnect" question yes="Yes, disconnect"
                            on_confirm=Callback::new(move |_| { delete.dispatch(DeleteConnector { id }); })/>
                    })}
                </div>
            </div>
            <dl class="facts compact">
                <dt>"Account"</dt><dd>{format!("{} ({})", i.account_login, i.account_type)}</dd>
                <dt>"Installation"</dt><dd>{i.installation_id}</dd>
                <dt>"Repositories"</dt>
                <dd>{format!("{} ({repo_count}): ", if i.repository_selection == "all" { "all" } else { "selected" })}
                    {i.repositories.join(", ")}</dd>
                <dt>"Permissions"</dt><dd>{permissions}</dd>
                <dt>"Connected"</dt><dd>{fmt_time(i.connected_at)}</dd>
                <dt>"Checked with GitHub"</dt><dd>{fmt_time(i.refreshed_at)}</dd>
            </dl>
        </article>
    }
}

/// Postgres databases: targets (write-only), connection tests, and the
/// form that adds one.
#[component]
fn DatabasesSection(editable: bool, delete: ServerAction<DeleteConnector>) -> impl IntoView {
    let save = Action::new(|input: &PostgresConnectorInput| {
        let input = input.clone();
        async move { save_database(None, input).await }
    });
    let test = Action::new(|id: &uuid::Uuid| {
        let id = *id;
        async move { test_database(id).await }
    });
    let list = Resource::new(
        move || {
            (
                save.version().get(),
                test.version().get(),
                delete.version().get(),
            )
        },
        |_| list_databases(),
    );
    view! {
        <section class="card" data-testid="databases">
            <h2>"Postgres databases"</h2>
            <p class="muted">"Agents reach a database only through governed tools (name__db_…): one read-only SELECT at a time on the tables each Tool Pack allows, with detected personal data redacted; writes are scored and risky ones wait for approval. The connection string is encrypted and never shown again."</p>
            {move || test.value().get().map(|r| match r {
                Ok(t) => view! { <TestNote t/> }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(v) if v.is_empty() => view! { <p class="muted">"No database is connected."</p> }.into_any(),
                        Ok(v) => view! {
                            <div class="connector-list">
                                {v.into_iter().map(|d| view! { <DatabaseCard d editable delete test/> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {editable.then(|| view! { <AddDatabase save/> })}
        </section>
    }
}

#[component]
fn TestNote(t: ConnectionTest) -> impl IntoView {
    let class = if t.ok {
        "notice notice-ok"
    } else {
        "notice notice-error"
    };
    view! { <p class=class role="status" data-testid="db-test">{t.message}</p> }
}

#[component]
fn DatabaseCard(
    d: PostgresConnector,
    editable: bool,
    delete: ServerAction<DeleteConnector>,
    test: Action<uuid::Uuid, Result<ConnectionTest, crate::error::AppError>>,
) -> impl IntoView {
    let id = d.connector_id;
    let question = removal_question(&d.name, &d.used_by_packs);
    let last = d.last_test.clone();
    view! {
        <article class="connector" data-name=d.name.clone() data-testid="database">
            <div class="connector-head">
                <div>
                    <h3>{d.name.clone()}</h3>
                    <code class="muted" data-testid="db-target">{d.target.clone()}</code>
                </div>
                <div class="actions">
                    {editable.then(|| view! {
                        <button type="button" class="btn btn-small" disabled=move || test.pending().get()
                            on:click=move |_| { test.dispatch(id); }>
                            {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                        </button>
                        <ConfirmButton label="Remove" question yes="Yes, remove"
                            on_confirm=Callback::new(move |_| { delete.dispatch(DeleteConnector { id }); })/>
                    })}
                </div>
            </div>
            <dl class="facts compact">
                <dt>"TLS"</dt><dd>{d.ssl_mode.as_str()}{if d.ca_bundle_set { " (own CA bundle)" } else { "" }}</dd>
                <dt>"Password"</dt><dd>"set (hidden)"</dd>
                <dt>"Tools"</dt><dd>{format!("{}__db_…", d.name)}</dd>
                <dt>"Used by"</dt><dd>{if d.used_by_packs.is_empty() { "—".to_owned() } else { d.used_by_packs.join(", ") }}</dd>
                {last.map(|t| view! {
                    <dt>"Last test"</dt>
                    <dd data-testid="db-last-test">{if t.ok { "ok" } else { "failed" }}" · "{fmt_time(t.tested_at)}</dd>
                    {t.server_version.map(|v| view! { <dt>"Server"</dt><dd>{format!("PostgreSQL {v}")}</dd> })}
                    {t.can_write.map(|w| view! { <dt>"Role"</dt><dd>{if w { "can write (prefer a read-only role unless a pack writes)" } else { "read-only" }}</dd> })}
                    {(!t.schemas.is_empty()).then(|| view! { <dt>"Schemas"</dt><dd>{t.schemas.join(", ")}</dd> })}
                    {(!t.ok).then(|| view! { <dt>"Error"</dt><dd class="field-error">{t.message.clone()}</dd> })}
                })}
            </dl>
        </article>
    }
}

#[component]
fn AddDatabase(
    save: Action<
        PostgresConnectorInput,
        Result<shared::api::PostgresConnectorSaved, crate::error::AppError>,
    >,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let dsn = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let database = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let ssl = RwSignal::new(String::new());
    let ca = RwSignal::new(String::new());
    let error = Signal::derive(move || match save.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    });
    let opt = |s: RwSignal<String>| Some(s.get()).filter(|v| !v.trim().is_empty());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = PostgresConnectorInput {
            name: name.get(),
            target: PostgresTargetInput {
                dsn: opt(dsn),
                host: opt(host),
                port: port.get().trim().parse().ok(),
                database: opt(database),
                user: opt(user),
                password: opt(password),
                ssl_mode: ssl.get().parse::<PostgresSslMode>().ok(),
                ca_bundle: opt(ca),
            },
        };
        save.dispatch(input);
    };
    let text = |id: &'static str,
                label: &'static str,
                sig: RwSignal<String>,
                kind: &'static str,
                hint: &'static str| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind autocomplete="off" placeholder=hint
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <form class="form-grid" data-testid="add-database" on:submit=submit>
            <h3>"Add a Postgres database"</h3>
            <FormError error/>
            <div class="field">
                <label for="db-name">"Connector name"</label>
                <input id="db-name" type="text" required placeholder="shop" aria-describedby="db-name-hint name-error"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <p class="hint" id="db-name-hint">"Agents see its tools as name__db_query_read and so on."</p>
                <FieldError error field="name"/>
            </div>
            <div class="field">
                <label for="db-dsn">"Connection URL"</label>
                <input id="db-dsn" type="password" autocomplete="off" aria-describedby="db-dsn-hint dsn-error"
                    placeholder="postgres://user:password@host:5432/database?sslmode=verify-full"
                    prop:value=move || dsn.get() on:input=move |ev| dsn.set(event_target_value(&ev))/>
                <p class="hint" id="db-dsn-hint">"Or leave it empty and fill in the fields below. Encrypted at rest; only user@host:port/database is shown afterwards."</p>
                <FieldError error field="dsn"/>
            </div>
            {text("db-host", "Host", host, "text", "db.example.com")}
            <FieldError error field="host"/>
            {text("db-port", "Port", port, "number", "5432")}
            {text("db-database", "Database", database, "text", "shop")}
            <FieldError error field="database"/>
            {text("db-user", "User", user, "text", "readonly_agent")}
            <FieldError error field="user"/>
            {text("db-password", "Password", password, "password", "")}
            <div class="field">
                <label for="db-ssl">"TLS"</label>
                <select id="db-ssl" aria-describedby="ssl_mode-error" on:change=move |ev| ssl.set(event_target_value(&ev))>
                    <option value="">"from the URL (default verify-full)"</option>
                    <option value="verify-full">"verify-full: check the certificate"</option>
                    <option value="require">"require: encrypt, do not check"</option>
                    <option value="disable">"disable: only for a database on this machine"</option>
                </select>
                <FieldError error field="ssl_mode"/>
            </div>
            <div class="field">
                <label for="db-ca">"CA bundle (optional, PEM)"</label>
                <textarea id="db-ca" rows="3" placeholder="-----BEGIN CERTIFICATE-----"
                    prop:value=move || ca.get() on:input=move |ev| ca.set(event_target_value(&ev))></textarea>
                <FieldError error field="ca_bundle"/>
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Connecting…" } else { "Add and test" }}
                </button>
                {move || match save.value().get() {
                    Some(Ok(s)) => Some(view! {
                        <span class=if s.test.ok { "saved" } else { "field-error" } role="status" data-testid="db-saved">
                            {format!("Added {} ({}). {}", s.connector.name, s.connector.target, s.test.message)}
                        </span>
                    }),
                    _ => None,
                }}
            </div>
        </form>
    }
}
