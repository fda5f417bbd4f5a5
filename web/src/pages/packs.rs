//! Tool Packs: the list, and one pack's Tools / Rules / Agent keys / Setup.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use shared::api::{PackRuleRow, ToolPack};
use shared::policy::Action;
use uuid::Uuid;

use crate::components::{
    ActionBadge, ConfirmButton, CopyButton, EmptyState, ErrorNote, FieldError, FormError,
    SecretOnce, SubmitButton, action_error, can_admin, fmt_opt_time,
};
use crate::server_fns::{
    ClearOverride, CreateKey, DeletePack, RevokeKey, SavePack, SetOverride, get_pack, list_keys,
    list_packs, list_tools, list_users, pack_databases, pack_repositories, pack_rules, pack_tools,
    public_url, set_pack_database, set_pack_repositories, set_pack_tools,
};

#[component]
pub fn Packs() -> impl IntoView {
    let save = ServerAction::<SavePack>::new();
    let packs = Resource::new(move || save.version().get(), |_| list_packs());
    let editable = can_admin();
    // A new pack opens on its Tools tab.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(p)) = save.value().get() {
            navigate(&format!("/packs/{}?tab=tools", p.id), Default::default());
        }
    });
    let error = action_error(save);
    let pending = save.pending().into();
    view! {
        <Title text="Tool Packs"/>
        <header class="page-header">
            <h1>"Tool Packs"</h1>
            <p class="muted">"A Tool Pack is what an agent key grants: a set of tools and the rules that guard them."</p>
        </header>
        {editable.then(|| view! {
            <section class="card">
                <h2>"Create a Tool Pack"</h2>
                <ActionForm action=save attr:class="form-grid">
                    <FormError error/>
                    <div class="field">
                        <label for="p-name">"Name"</label>
                        <input id="p-name" name="name" type="text" required maxlength="80" aria-describedby="name-error"/>
                        <FieldError error field="name"/>
                    </div>
                    <div class="field">
                        <label for="p-desc">"Description (optional)"</label>
                        <input id="p-desc" name="description" type="text" maxlength="500"/>
                        <FieldError error field="description"/>
                    </div>
                    <div class="form-actions"><SubmitButton pending label="Create pack" busy_label="Creating…"/></div>
                </ActionForm>
            </section>
        })}
        <section class="card">
            <h2>"Packs"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match packs.await {
                        Ok(v) if v.is_empty() => view! {
                            <EmptyState title="No Tool Packs yet">
                                "Create one, pick its tools, then give a Registered User a key for it. "
                                <a href="/connectors">"Add a connector"</a>" first if you have none."
                            </EmptyState>
                        }.into_any(),
                        Ok(v) => view! {
                            <table class="table" aria-label="Tool Packs">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Tools"</th><th scope="col">"Active keys"</th><th scope="col">"Description"</th></tr></thead>
                                <tbody>
                                    {v.into_iter().map(|p| view! {
                                        <tr><td><a href=format!("/packs/{}", p.id)>{p.name}</a></td>
                                        <td>{p.tool_count}</td><td>{p.key_count}</td>
                                        <td class="muted">{p.description}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

const TABS: [(&str, &str); 4] = [
    ("tools", "Tools"),
    ("rules", "Rules"),
    ("keys", "Agent keys"),
    ("setup", "Setup"),
];

#[component]
pub fn PackDetail() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id_raw = move || params.read().get("id").unwrap_or_default();
    let tab = move || {
        query
            .read()
            .get("tab")
            .unwrap_or_else(|| "tools".to_owned())
    };
    let save = ServerAction::<SavePack>::new();
    let pack = Resource::new(
        move || (id_raw(), save.version().get()),
        |(id, _)| get_pack(id),
    );
    let editable = can_admin();
    // The tabs hang off the id in the address, outside the pack's Suspend:
    // resources created inside a Suspend (after an await) would not
    // hydrate; these are created synchronously, identically on both sides.
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match pack.await {
                    Ok(p) => view! {
                        <Title text=p.name.clone()/>
                        <header class="page-header">
                            <p class="crumbs"><a href="/packs">"Tool Packs"</a>" /"</p>
                            <h1>{p.name.clone()}</h1>
                            <p class="muted">{p.description.clone()}</p>
                        </header>
                    }.into_any(),
                    Err(e) => view! {
                        <Title text="Tool Pack"/>
                        <h1>"Tool Pack"</h1><ErrorNote error=e/><a href="/packs">"Back to Tool Packs"</a>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || id_raw().parse::<Uuid>().ok().map(|id| view! {
            <nav class="tabs" aria-label="Pack sections">
                {TABS.into_iter().map(|(key, label)| view! {
                    <a href=format!("/packs/{id}?tab={key}")
                        aria-current=move || (tab() == key).then_some("page")>{label}</a>
                }).collect_view()}
            </nav>
            {move || match tab().as_str() {
                "rules" => view! { <RulesTab id editable/> }.into_any(),
                "keys" => view! { <KeysTab id editable/> }.into_any(),
                "setup" => view! { <SetupTab/> }.into_any(),
                _ => view! { <ToolsTab id editable/> }.into_any(),
            }}
        })}
        {editable.then(|| view! {
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    pack.await.ok().map(|p| view! { <PackSettings pack=p save/> })
                })}
            </Transition>
        })}
    }
}

#[component]
fn PackSettings(pack: ToolPack, save: ServerAction<SavePack>) -> impl IntoView {
    let delete = ServerAction::<DeletePack>::new();
    let id = pack.id;
    let error = action_error(save);
    let pending = save.pending().into();
    let name = pack.name.clone();
    view! {
        <section class="card">
            <h2>"Pack settings"</h2>
            <ActionForm action=save attr:class="form-grid">
                <FormError error/>
                <input type="hidden" name="id" value=id.to_string()/>
                <div class="field">
                    <label for="p-name">"Name"</label>
                    <input id="p-name" name="name" type="text" required value=pack.name.clone() aria-describedby="name-error"/>
                    <FieldError error field="name"/>
                </div>
                <div class="field">
                    <label for="p-desc">"Description"</label>
                    <input id="p-desc" name="description" type="text" value=pack.description.clone()/>
                </div>
                <div class="form-actions">
                    <SubmitButton pending label="Save" busy_label="Saving…"/>
                    {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <span class="saved" role="status">"Saved."</span> })}
                </div>
            </ActionForm>
            <FormError error=action_error(delete)/>
            <ConfirmButton label="Delete pack"
                question=format!("Delete {name}? Its {} agent key(s) stop working at once.", pack.key_count)
                yes="Yes, delete"
                on_confirm=Callback::new(move |_| { delete.dispatch(DeletePack { id }); })/>
        </section>
    }
}

#[component]
fn ToolsTab(id: Uuid, editable: bool) -> impl IntoView {
    let all = Resource::new(|| (), |_| list_tools(None));
    let chosen = Resource::new(move || (), move |_| pack_tools(id));
    let save = leptos::prelude::Action::new(move |tools: &Vec<String>| {
        let tools = tools.clone();
        async move { set_pack_tools(id, tools).await }
    });
    let search = RwSignal::new(String::new());
    let selected = RwSignal::new(BTreeSet::<String>::new());
    // Start from what the pack has once it loads.
    Effect::new(move |_| {
        if let Some(Ok(list)) = chosen.get() {
            selected.set(list.into_iter().map(|t| t.exposed_name).collect());
        }
    });
    view! {
        <section class="card">
            <h2>"Tools"</h2>
            <p class="muted">"Agents using this pack see exactly the tools ticked here; any other call reads as an unknown tool."</p>
            <label class="sr-only" for="tool-search">"Search tools"</label>
            <input id="tool-search" type="search" placeholder="Search tools…" class="search"
                on:input=move |ev| search.set(event_target_value(&ev))/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (all, chosen) = (all.await, chosen.await);
                    match (all, chosen) {
                        (Ok(tools), Ok(_)) if tools.is_empty() => view! {
                            <EmptyState title="No tools to choose from">
                                <a href="/connectors">"Add a connector"</a>" and its tools appear here."
                            </EmptyState>
                        }.into_any(),
                        (Ok(tools), Ok(_)) => view! {
                            <ul class="tool-picker">
                                {tools.into_iter().map(|t| {
                                    let name = t.exposed_name.clone();
                                    let n2 = name.clone();
                                    let n3 = name.clone();
                                    let hay = format!("{} {} {}", t.exposed_name, t.connector_name, t.description.clone().unwrap_or_default()).to_lowercase();
                                    view! {
                                        <li style:display=move || if hay.contains(&search.get().to_lowercase()) { "" } else { "none" }>
                                            <label class="check">
                                                <input type="checkbox" disabled=!editable
                                                    prop:checked=move || selected.read().contains(&n2)
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        selected.update(|s| { if on { s.insert(n3.clone()); } else { s.remove(&n3); } });
                                                    }/>
                                                <code>{name}</code>
                                                {(!t.findings.is_empty()).then(|| view! {
                                                    <span class="badge badge-block" data-testid="tool-findings"
                                                        title="Its definition carries instructions aimed at the model: added to a pack, it is quarantined until an admin reviews it on the Tool integrity page.">
                                                        {t.findings.iter().map(|f| f.rule.trim_start_matches("PROMPT_INJECTION_").to_ascii_lowercase()).collect::<Vec<_>>().join(", ")}
                                                    </span>
                                                })}
                                                <span class="muted">{shared::api::visible(&t.description.unwrap_or_default())}</span>
                                            </label>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
            {editable.then(|| view! {
                <div class="form-actions">
                    <button type="button" class="btn btn-primary" disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch(selected.get().into_iter().collect()); }>
                        {move || if save.pending().get() { "Saving…" } else { "Save tools" }}
                    </button>
                    {move || save.value().get().map(|r| match r {
                        Ok(v) => view! { <span class="saved" role="status">{format!("Saved: {} tool(s).", v.len())}</span> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    })}
                </div>
            })}
        </section>
        <RepositoriesCard id editable/>
        <DatabasesCard id editable/>
    }
}

/// What the pack may reach in each Postgres connector. Shown when the org
/// has one.
#[component]
fn DatabasesCard(id: Uuid, editable: bool) -> impl IntoView {
    let list = Resource::new(|| (), move |_| pack_databases(id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(v) if v.is_empty() => ().into_any(),
                    Ok(v) => view! {
                        <section class="card" data-testid="pack-databases">
                            <h2>"Databases"</h2>
                            <p class="muted">"The pack's database tools reach these tables only (schema.table, or schema.* for a whole schema); any other table reads as missing. Masked columns are replaced inside the database, so no expression reads around them. A write proposal scoring the threshold or more waits for approval; a write changing more rows than its cap rolls back."</p>
                            {v.into_iter().map(|d| view! { <DatabaseAccess pack_id=id d editable/> }).collect_view()}
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DatabaseAccess(pack_id: Uuid, d: shared::api::PackDatabase, editable: bool) -> impl IntoView {
    let connector_id = d.connector_id;
    let lines = |v: &[String]| v.join("\n");
    let tables = RwSignal::new(lines(&d.tables));
    let masked = RwSignal::new(lines(&d.masked_columns));
    let sensitive = RwSignal::new(lines(&d.sensitive_tables));
    let threshold = RwSignal::new(d.risk_threshold.to_string());
    let max_rows = RwSignal::new(d.max_rows.to_string());
    let max_write_rows = RwSignal::new(d.max_write_rows.to_string());
    let analyze = RwSignal::new(d.allow_analyze);
    let save = leptos::prelude::Action::new(move |input: &shared::api::PackDatabaseInput| {
        let input = input.clone();
        async move { set_pack_database(pack_id, input).await }
    });
    let error = Signal::derive(move || match save.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    });
    let split = |s: String| -> Vec<String> {
        s.split(['\n', ','])
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let on_save = move |_| {
        save.dispatch(shared::api::PackDatabaseInput {
            connector_id,
            tables: split(tables.get()),
            masked_columns: split(masked.get()),
            sensitive_tables: split(sensitive.get()),
            risk_threshold: threshold.get().trim().parse().ok(),
            allow_analyze: analyze.get(),
            max_rows: max_rows.get().trim().parse().ok(),
            max_write_rows: max_write_rows.get().trim().parse().ok(),
        });
    };
    let fid = |f: &str| format!("db-{connector_id}-{f}");
    let area = move |f: &'static str,
                     label: &'static str,
                     sig: RwSignal<String>,
                     hint: &'static str| {
        view! {
            <div class="field">
                <label for=fid(f)>{label}</label>
                <textarea id=fid(f) rows="3" disabled=!editable placeholder=hint
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))></textarea>
                <FieldError error field=f/>
            </div>
        }
    };
    let number = move |f: &'static str, label: &'static str, sig: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=fid(f)>{label}</label>
                <input id=fid(f) type="number" disabled=!editable
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
                <FieldError error field=f/>
            </div>
        }
    };
    view! {
        <fieldset class="repo-picker" data-connector=d.connector_name.clone()>
            <legend>{d.connector_name.clone()}</legend>
            <div class="form-grid">
                {area("tables", "Tables (one per line)", tables, "public.customers")}
                {area("masked_columns", "Masked columns", masked, "public.customers.ssn")}
                {area("sensitive_tables", "Sensitive tables (writes score higher)", sensitive, "public.payments")}
                {number("risk_threshold", "Approval at risk score (0–100)", threshold)}
                {number("max_rows", "Most rows a read returns", max_rows)}
                {number("max_write_rows", "Most rows a write may change", max_write_rows)}
                <label class="check">
                    <input type="checkbox" disabled=!editable prop:checked=move || analyze.get()
                        on:change=move |ev| analyze.set(event_target_checked(&ev))/>
                    "Allow EXPLAIN ANALYZE (it runs the query)"
                </label>
            </div>
            {editable.then(|| view! {
                <div class="form-actions">
                    <button type="button" class="btn" disabled=move || save.pending().get() on:click=on_save>
                        {move || if save.pending().get() { "Saving…" } else { "Save database access" }}
                    </button>
                    {move || save.value().get().map(|r| match r {
                        Ok(_) => view! { <span class="saved" role="status">"Saved."</span> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    })}
                </div>
            })}
        </fieldset>
    }
}

/// The repositories of each GitHub connector the pack may reach (none
/// ticked: none). Shown when the org has a GitHub installation.
#[component]
fn RepositoriesCard(id: Uuid, editable: bool) -> impl IntoView {
    let repos = Resource::new(|| (), move |_| pack_repositories(id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match repos.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="card" data-testid="pack-repositories">
                            <h2>"GitHub repositories"</h2>
                            <p class="muted">"The pack's GitHub tools work on these repositories only: a call naming another is blocked before GitHub is contacted, and each call's token is minted for exactly these repositories."</p>
                            {list.into_iter().map(|r| view! { <RepoPicker pack_id=id r editable/> }).collect_view()}
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RepoPicker(pack_id: Uuid, r: shared::api::PackRepositories, editable: bool) -> impl IntoView {
    let connector_id = r.connector_id;
    let selected = RwSignal::new(r.selected.iter().cloned().collect::<BTreeSet<String>>());
    let save = leptos::prelude::Action::new(move |repos: &Vec<String>| {
        let repos = repos.clone();
        async move { set_pack_repositories(pack_id, connector_id, repos).await }
    });
    view! {
        <fieldset class="repo-picker" data-connector=r.connector_name.clone()>
            <legend>{format!("{} ({} available)", r.connector_name, r.available.len())}</legend>
            {r.available.is_empty().then(|| view! { <p class="muted">"The installation reaches no repository: choose some on GitHub, then refresh it on the Connectors page."</p> })}
            <ul class="tool-picker">
                {r.available.into_iter().map(|name| {
                    let n2 = name.clone();
                    let n3 = name.clone();
                    view! {
                        <li>
                            <label class="check">
                                <input type="checkbox" disabled=!editable
                                    prop:checked=move || selected.read().contains(&n2)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.update(|s| { if on { s.insert(n3.clone()); } else { s.remove(&n3); } });
                                    }/>
                                <code>{name}</code>
                            </label>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {editable.then(|| view! {
                <div class="form-actions">
                    <button type="button" class="btn" disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch(selected.get().into_iter().collect()); }>
                        {move || if save.pending().get() { "Saving…" } else { "Save repositories" }}
                    </button>
                    {move || save.value().get().map(|r| match r {
                        Ok(_) => view! { <span class="saved" role="status">{format!("Saved: {} repositor{}.", selected.read().len(), if selected.read().len() == 1 { "y" } else { "ies" })}</span> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    })}
                </div>
            })}
        </fieldset>
    }
}

fn action_options(current: Option<Action>) -> impl IntoView {
    let inherit = current.is_none();
    view! {
        <option value="" selected=inherit>"inherit"</option>
        {Action::ALL.into_iter().map(|a| view! {
            <option value=a.as_str() selected=current == Some(a)>{a.as_str()}</option>
        }).collect_view()}
    }
}

#[component]
fn RulesTab(id: Uuid, editable: bool) -> impl IntoView {
    let set = ServerAction::<SetOverride>::new();
    let clear = ServerAction::<ClearOverride>::new();
    let rows = Resource::new(
        move || (set.version().get(), clear.version().get()),
        move |_| pack_rules(id),
    );
    let error = Signal::derive(move || {
        action_error(set)
            .get()
            .or_else(|| action_error(clear).get())
    });
    view! {
        <section class="card">
            <h2>"Rules for this pack"</h2>
            <p class="muted">"Every org rule with this pack's effective value. Overridden values are marked; reset a rule to inherit the org's again."</p>
            <FormError error/>
            {move || error.get().and_then(|e| e.0.fields.values().next().cloned()).map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) => view! {
                            <table class="table small rules-table" aria-label="Pack rules">
                                <thead><tr>
                                    <th scope="col">"Rule"</th><th scope="col">"On"</th><th scope="col">"Threshold"</th>
                                    <th scope="col">"Arguments"</th><th scope="col">"Results"</th><th scope="col">"Source"</th>
                                    {editable.then(|| view! { <th scope="col"><span class="sr-only">"Actions"</span></th> })}
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| view! { <PackRuleRowView row=r pack_id=id editable set clear/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PackRuleRowView(
    row: PackRuleRow,
    pack_id: Uuid,
    editable: bool,
    set: ServerAction<SetOverride>,
    clear: ServerAction<ClearOverride>,
) -> impl IntoView {
    let key = row.key.to_string();
    let form_id = format!("ov-{}", key.replace(':', "-"));
    let o = row.overridden.clone();
    let overridden = o.is_some();
    let eff = row.effective;
    let key2 = key.clone();
    let key3 = key.clone();
    view! {
        <tr data-rule=key3 class:overridden=overridden>
            <td>{row.label.clone()}</td>
            {if editable {
                let fid = form_id.clone();
                let en = o.as_ref().and_then(|o| o.enabled);
                view! {
                    <td>
                        <select name="enabled" form=fid.clone() aria-label=format!("{} enabled", row.label)>
                            <option value="" selected=en.is_none()>{format!("inherit ({})", if row.org.enabled { "on" } else { "off" })}</option>
                            <option value="true" selected=en == Some(true)>"on"</option>
                            <option value="false" selected=en == Some(false)>"off"</option>
                        </select>
                    </td>
                    <td>
                        <input name="threshold" form=fid.clone() type="text" inputmode="decimal" size="4"
                            aria-label=format!("{} threshold", row.label)
                            placeholder=format!("{:.2}", row.org.threshold)
                            value=o.as_ref().and_then(|o| o.threshold).map(|t| format!("{t}")).unwrap_or_default()/>
                    </td>
                    <td>
                        <select name="arguments" form=fid.clone() aria-label=format!("{} arguments action", row.label)>
                            {action_options(o.as_ref().and_then(|o| o.arguments))}
                        </select>
                        <span class="muted small">" → "{eff.arguments.as_str()}</span>
                    </td>
                    <td>
                        <select name="results" form=fid.clone() aria-label=format!("{} results action", row.label)>
                            {action_options(o.as_ref().and_then(|o| o.results))}
                        </select>
                        <span class="muted small">" → "{eff.results.as_str()}</span>
                    </td>
                }.into_any()
            } else {
                view! {
                    <td>{if eff.enabled { "on" } else { "off" }}</td>
                    <td>{format!("{:.2}", eff.threshold)}</td>
                    <td><ActionBadge action=eff.arguments/></td>
                    <td><ActionBadge action=eff.results/></td>
                }.into_any()
            }}
            <td>{if overridden { view! { <span class="badge badge-override">"overridden"</span> }.into_any() } else { view! { <span class="muted">"org"</span> }.into_any() }}</td>
            {editable.then(|| view! {
                <td class="actions">
                    <ActionForm action=set attr:id=form_id.clone() attr:class="inline-form">
                        <input type="hidden" name="pack_id" value=pack_id.to_string()/>
                        <input type="hidden" name="rule" value=key.clone()/>
                        <button type="submit" class="btn btn-small">"Override"</button>
                    </ActionForm>
                    {overridden.then(|| view! {
                        <button type="button" class="btn btn-small btn-ghost"
                            on:click=move |_| { clear.dispatch(ClearOverride { pack_id, rule: key2.clone() }); }>"Reset"</button>
                    })}
                </td>
            })}
        </tr>
    }
}

#[component]
fn KeysTab(id: Uuid, editable: bool) -> impl IntoView {
    let create = ServerAction::<CreateKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| list_keys(Some(id)),
    );
    let users = Resource::new(|| (), |_| list_users(None));
    let error = action_error(create);
    let pending = create.pending().into();
    view! {
        <section class="card">
            <h2>"Agent keys"</h2>
            <p class="muted">"A key lets one Registered User's agent use this pack. Agents exchange it for short-lived tokens; revoking it stops new tokens at once."</p>
            {editable.then(|| view! {
                <ActionForm action=create attr:class="form-grid">
                    <FormError error/>
                    <input type="hidden" name="pack_id" value=id.to_string()/>
                    <div class="field">
                        <label for="k-user">"Registered User"</label>
                        <Transition fallback=|| view! { <select id="k-user" disabled=true><option>"Loading…"</option></select> }>
                            {move || Suspend::new(async move {
                                match users.await {
                                    Ok(list) if list.is_empty() => view! {
                                        <p class="hint">"No Registered Users yet. "<a href="/users">"Create one"</a>" first."</p>
                                    }.into_any(),
                                    Ok(list) => view! {
                                        <select id="k-user" name="registered_user_id" aria-describedby="registered_user_id-error">
                                            {list.into_iter().map(|u| view! {
                                                <option value=u.id.to_string()>{format!("{} ({})", u.display_name, u.external_id)}</option>
                                            }).collect_view()}
                                        </select>
                                    }.into_any(),
                                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                                }
                            })}
                        </Transition>
                        <FieldError error field="registered_user_id"/>
                    </div>
                    <div class="field">
                        <label for="k-name">"Key name"</label>
                        <input id="k-name" name="name" type="text" required placeholder="laptop agent" aria-describedby="name-error"/>
                        <FieldError error field="name"/>
                    </div>
                    <div class="form-actions"><SubmitButton pending label="Create key" busy_label="Creating…"/></div>
                </ActionForm>
            })}
            {move || match create.value().get() {
                Some(Ok(created)) => Some(view! {
                    <SecretOnce what="key" secret=created.secret.clone() testid="new-secret"
                        hint="Paste it into the Setup tab's snippets where they say PASTE_AGENT_KEY_HERE."/>
                }),
                _ => None,
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No keys for this pack">"Create one above for a Registered User."</EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table small" aria-label="Agent keys">
                                <thead><tr><th scope="col">"Key"</th><th scope="col">"Name"</th><th scope="col">"Registered User"</th>
                                <th scope="col">"Last used"</th><th scope="col">"Status"</th>
                                {editable.then(|| view! { <th scope="col"><span class="sr-only">"Actions"</span></th> })}</tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| {
                                        let kid = k.id;
                                        let revoked = k.revoked_at.is_some();
                                        view! {
                                            <tr data-prefix=k.prefix.clone()>
                                                <td><code>{format!("{}…", k.prefix)}</code></td>
                                                <td>{k.name.clone()}</td>
                                                <td>{k.registered_user_name.clone()}</td>
                                                <td>{fmt_opt_time(k.last_used_at)}</td>
                                                <td>{if revoked { view! { <span class="badge badge-block">"revoked"</span> }.into_any() } else { view! { <span class="badge badge-allow">"active"</span> }.into_any() }}</td>
                                                {editable.then(|| view! {
                                                    <td class="actions">
                                                        {(!revoked).then(|| view! {
                                                            <ConfirmButton label="Revoke" question=format!("Revoke {}…? Agents using it lose access.", k.prefix)
                                                                yes="Yes, revoke" on_confirm=Callback::new(move |_| { revoke.dispatch(RevokeKey { id: kid }); })/>
                                                        })}
                                                    </td>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Ready-to-paste client configurations. The key itself is never shown
/// here (it exists only in the creator's clipboard): snippets use a
/// placeholder the user replaces.
#[component]
fn SetupTab() -> impl IntoView {
    let url = Resource::new(|| (), |_| public_url());
    view! {
        <section class="card setup">
            <h2>"Connect an agent"</h2>
            <p class="muted">"Replace PASTE_AGENT_KEY_HERE with a key from the Agent keys tab (ghk_…)."</p>
            <p class="muted" data-testid="session-naming">"Sessions: every call belongs to one agent run. A client names its run with the "
                <code>{shared::api::SESSION_HEADER}</code>" header or "<code>{shared::api::SESSION_META_KEY}</code>
                " in a request's "<code>"_meta"</code>" (1–128 characters); otherwise the MCP session (legacy protocol) or, for stateless clients, the agent token's lifetime is the run. See each run on the Sessions page."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match url.await {
                        Ok(base) => view! { <Snippets base/> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Snippets(base: String) -> impl IntoView {
    let desktop = format!(
        r#"{{
  "mcpServers": {{
    "gatehouse": {{
      "command": "gatehouse",
      "args": ["connect", "--url", "{base}"],
      "env": {{ "GATEHOUSE_AGENT_KEY": "PASTE_AGENT_KEY_HERE" }}
    }}
  }}
}}"#
    );
    let http = format!(
        "# 1. Exchange the key for a short-lived token (OAuth client credentials):\n\
curl -s {base}/oauth/token -d grant_type=client_credentials -d client_secret=PASTE_AGENT_KEY_HERE\n\
# 2. Point any Streamable HTTP MCP client at {base}/mcp with\n\
#    Authorization: Bearer <access_token>\n\
# 3. Optional: name the agent run, so its calls form one session timeline:\n\
#    {header}: <run id>   (or \"{meta}\" in a request's _meta)",
        header = shared::api::SESSION_HEADER,
        meta = shared::api::SESSION_META_KEY
    );
    // Written against the official MCP Python SDK our tests run (mcp 2.x).
    let python = format!(
        r#"import asyncio, httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

BASE = "{base}"

async def main():
    token = httpx2.post(f"{{BASE}}/oauth/token", data={{
        "grant_type": "client_credentials",
        "client_secret": "PASTE_AGENT_KEY_HERE"}}).json()["access_token"]
    async with httpx2.AsyncClient(headers={{"Authorization": f"Bearer {{token}}"}}) as http:
        async with Client(streamable_http_client(f"{{BASE}}/mcp", http_client=http)) as client:
            print([t.name for t in (await client.list_tools()).tools])
            # Name the run: its calls form one session timeline in Gatehouse.
            # await client.call_tool("<tool>", {{...}}, meta={{"{meta}": "run-42"}})

asyncio.run(main())"#,
        meta = shared::api::SESSION_META_KEY
    );
    let blocks = [
        (
            "Claude Desktop and Cursor (stdio, via gatehouse connect)",
            "claude_desktop_config.json / .cursor/mcp.json",
            desktop,
        ),
        ("Streamable HTTP clients", "shell", http),
        ("Python (official MCP SDK)", "agent.py", python),
    ];
    blocks
        .into_iter()
        .map(|(title, file, text)| {
            view! {
                <div class="snippet">
                    <div class="snippet-head"><h3>{title}</h3><span class="muted">{file}</span><CopyButton text=text.clone()/></div>
                    <pre><code>{text}</code></pre>
                </div>
            }
        })
        .collect_view()
}
