//! Tool policies: ordered rules that allow, monitor, hold for approval or
//! block tool actions
//! (with CEL conditions, checked as the admin types), the default action,
//! and the policy tester.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::api::{PolicyTestInput, ToolPolicy, ToolPolicyInput};
use shared::decision::ToolAction;

use crate::components::{
    ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, LiveCheck, SubmitButton,
    action_error, can_admin,
};
use crate::error::AppError;
use crate::server_fns::{
    DeleteToolPolicy, MoveToolPolicy, SaveToolPolicy, SetDefaultToolAction, check_tool_policy,
    list_packs, list_users, test_tool_policies, tool_policies,
};

const CHOICES: [ToolAction; 4] = ToolAction::ALL;

fn badge(a: ToolAction) -> impl IntoView {
    let s = a.as_str();
    view! { <span class=format!("badge badge-{s}")>{s}</span> }
}

fn action_select(name: &'static str, id: &'static str, current: ToolAction) -> impl IntoView {
    view! {
        <select name=name id=id>
            {CHOICES.into_iter().map(|a| view! {
                <option value=a.as_str() selected=a == current>{a.as_str()}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
pub fn Policies() -> impl IntoView {
    let editable = can_admin();
    let save = ServerAction::<SaveToolPolicy>::new();
    let delete = ServerAction::<DeleteToolPolicy>::new();
    let moved = ServerAction::<MoveToolPolicy>::new();
    let set_default = ServerAction::<SetDefaultToolAction>::new();
    let policies = Resource::new(
        move || {
            (
                save.version().get(),
                delete.version().get(),
                moved.version().get(),
                set_default.version().get(),
            )
        },
        |_| tool_policies(),
    );
    let packs = Resource::new(|| (), |_| list_packs());
    let editing = RwSignal::new(None::<ToolPolicy>);
    let row_error = Signal::derive(move || {
        action_error(delete)
            .get()
            .or_else(|| action_error(moved).get())
    });
    view! {
        <Title text="Tool policies"/>
        <header class="page-header">
            <h1>"Tool policies"</h1>
            <p class="muted">"Which tool actions may run, whatever data they carry: allow, monitor (run and flag), approve (hold for a person in Approvals) or block. Rules are checked in order — a Tool Pack's rules first, then the organization's — and the first that matches decides. In monitor mode calls always run, and the record says what enforce mode would have done."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok(v) => {
                        let rules = v.rules.clone();
                        let default_action = v.default_action;
                        view! {
                            <section class="card">
                                <h2>"When no rule matches"</h2>
                                <ActionForm action=set_default attr:class="inline-form">
                                    <label for="tp-default">"Default action"</label>
                                    {if editable {
                                        view! {
                                            {action_select("action", "tp-default", default_action)}
                                            <SubmitButton pending=set_default.pending().into() label="Save default" busy_label="Saving…"/>
                                        }.into_any()
                                    } else {
                                        view! { <span id="tp-default">{badge(default_action)}</span> }.into_any()
                                    }}
                                </ActionForm>
                                <FormError error=action_error(set_default)/>
                            </section>
                            <section class="card">
                                <h2>"Rules"</h2>
                                <FormError error=row_error/>
                                {if rules.is_empty() {
                                    view! { <EmptyState title="No tool policies">"Add a rule such as: block *__shell*, or monitor payments over 100 EUR (pay__* when args.amount > 100)."</EmptyState> }.into_any()
                                } else {
                                    view! {
                                        <table class="table small" aria-label="Tool policies">
                                            <thead><tr><th scope="col">"Scope"</th><th scope="col">"#"</th><th scope="col">"Name"</th>
                                            <th scope="col">"Tools"</th><th scope="col">"Condition"</th><th scope="col">"Action"</th>
                                            <th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                            <tbody>
                                                {rules.into_iter().map(|r| {
                                                    let id = r.id;
                                                    let r2 = r.clone();
                                                    view! {
                                                        <tr data-policy=r.name.clone()>
                                                            <td>{r.pack_name.clone().map(|p| format!("Pack: {p}")).unwrap_or_else(|| "Organization".to_owned())}</td>
                                                            <td>{r.position + 1}</td>
                                                            <td>{r.name.clone()}</td>
                                                            <td><code>{r.tools.clone()}</code></td>
                                                            <td>{r.condition.clone().map(|c| view! { <code>{c}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"always"</span> }.into_any())}</td>
                                                            <td>{badge(r.action)}</td>
                                                            <td class="actions">{editable.then(|| view! {
                                                                <button type="button" class="btn btn-small" aria-label=format!("Move {} up", r.name)
                                                                    on:click=move |_| { moved.dispatch(MoveToolPolicy { id, up: true }); }>"↑"</button>
                                                                <button type="button" class="btn btn-small" aria-label=format!("Move {} down", r.name)
                                                                    on:click=move |_| { moved.dispatch(MoveToolPolicy { id, up: false }); }>"↓"</button>
                                                                <button type="button" class="btn btn-small" on:click=move |_| editing.set(Some(r2.clone()))>"Edit"</button>
                                                                <ConfirmButton label="Delete" question=format!("Delete the rule {}?", r.name)
                                                                    yes="Yes, delete" on_confirm=Callback::new(move |_| { delete.dispatch(DeleteToolPolicy { id }); })/>
                                                            })}</td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
        {editable.then(|| view! { <PolicyForm save editing packs/> })}
        <PolicyTester packs/>
    }
}

type Packs = Resource<Result<Vec<shared::api::ToolPack>, AppError>>;

#[component]
fn PackOptions(
    packs: Packs,
    selected: Option<uuid::Uuid>,
    none_label: &'static str,
) -> impl IntoView {
    view! {
        <option value="" selected=selected.is_none()>{none_label}</option>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                packs.await.unwrap_or_default().into_iter().map(|p| view! {
                    <option value=p.id.to_string() selected=Some(p.id) == selected>{format!("Pack: {}", p.name)}</option>
                }).collect_view()
            })}
        </Transition>
    }
}

#[component]
fn PolicyForm(
    save: ServerAction<SaveToolPolicy>,
    editing: RwSignal<Option<ToolPolicy>>,
    packs: Packs,
) -> impl IntoView {
    let saved_error = action_error(save);
    // Live validation: the server compiles and type-checks the condition
    // exactly as saving will.
    let fields: [RwSignal<String>; 3] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [name, tools, condition] = fields;
    let live = LiveCheck::new(check_tool_policy, move |f: &str| match f {
        "name" => !name.get_untracked().trim().is_empty(),
        "tools" => !tools.get_untracked().trim().is_empty(),
        _ => true,
    });
    let error = Signal::derive(move || saved_error.get().or_else(|| live.error.get()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            live.clear();
        }
    });
    let on_input = move |_| {
        live.schedule(ToolPolicyInput {
            name: name.get_untracked(),
            tools: tools.get_untracked(),
            condition: condition.get_untracked(),
            action: "allow".to_owned(),
            pack_id: None,
        });
    };
    let pending = save.pending().into();
    view! {
        <section class="card">
            <h2>{move || if editing.get().is_some() { "Edit rule" } else { "Add a rule" }}</h2>
            {move || {
                let e = editing.get();
                let is_edit = e.is_some();
                name.set(e.as_ref().map(|r| r.name.clone()).unwrap_or_default());
                tools.set(e.as_ref().map(|r| r.tools.clone()).unwrap_or_default());
                condition.set(e.as_ref().and_then(|r| r.condition.clone()).unwrap_or_default());
                let action = e.as_ref().map_or(ToolAction::Block, |r| r.action);
                let scope = e.as_ref().and_then(|r| r.pack_id);
                view! {
                    <ActionForm action=save attr:class="form-grid" on:input=on_input>
                        <FormError error/>
                        {e.as_ref().map(|r| view! { <input type="hidden" name="id" value=r.id.to_string()/> })}
                        <div class="field">
                            <label for="tp-name">"Name"</label>
                            <input id="tp-name" name="name" type="text" required bind:value=name aria-describedby="name-error"/>
                            <FieldError error field="name"/>
                        </div>
                        <div class="field">
                            <label for="tp-tools">"Tools"</label>
                            <input id="tp-tools" name="tools" type="text" required class="mono" placeholder="github__merge_*"
                                bind:value=tools aria-describedby="tp-tools-hint tools-error" spellcheck="false"/>
                            <p class="hint" id="tp-tools-hint">"An exposed tool name, or a pattern where * stands for any characters."</p>
                            <FieldError error field="tools"/>
                        </div>
                        <div class="field wide">
                            <label for="tp-condition">"Condition (CEL, optional)"</label>
                            <textarea id="tp-condition" name="condition" rows="2" class="mono" spellcheck="false"
                                placeholder="args.amount > 100 && args.currency == 'EUR'"
                                bind:value=condition aria-describedby="tp-condition-hint condition-error"></textarea>
                            <p class="hint" id="tp-condition-hint">
                                "Empty: always. Sees "<code>"tool"</code>", "<code>"args"</code>" (the arguments), "
                                <code>"user.id"</code>", "<code>"user.name"</code>", "<code>"pack.name"</code>", "
                                <code>"findings"</code>" (labels detected in the arguments, e.g. "<code>"'EMAIL_ADDRESS' in findings"</code>") and "
                                <code>"session.calls"</code>". Use "<code>"has(args.x)"</code>" for optional fields; a condition that cannot be evaluated counts as matching for approve and block rules."
                            </p>
                            <FieldError error field="condition"/>
                        </div>
                        <div class="field">
                            <label for="tp-action">"Action"</label>
                            {action_select("action", "tp-action", action)}
                            <FieldError error field="action"/>
                        </div>
                        <div class="field">
                            <label for="tp-scope">"Applies to"</label>
                            <select id="tp-scope" name="pack_id">
                                <PackOptions packs selected=scope none_label="Organization (every pack)"/>
                            </select>
                            <FieldError error field="pack_id"/>
                        </div>
                        <div class="form-actions">
                            <SubmitButton pending label=if is_edit { "Save rule" } else { "Add rule" } busy_label="Saving…"/>
                            {is_edit.then(|| view! { <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button> })}
                            {move || (live.passed() && !condition.get().trim().is_empty())
                                .then(|| view! { <span class="saved" role="status">"Condition compiles."</span> })}
                        </div>
                    </ActionForm>
                }
            }}
        </section>
    }
}

#[component]
fn PolicyTester(packs: Packs) -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users(None));
    let tool = RwSignal::new(String::new());
    let arguments = RwSignal::new("{}".to_owned());
    let pack = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let run = leptos::prelude::Action::new(move |input: &PolicyTestInput| {
        let input = input.clone();
        async move { test_tool_policies(input).await }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run.dispatch(PolicyTestInput {
            tool: tool.get_untracked(),
            arguments: arguments.get_untracked(),
            pack_id: pack.get_untracked().parse().ok(),
            registered_user_id: user.get_untracked().parse().ok(),
        });
    };
    let error = Signal::derive(move || run.value().get().and_then(|r| r.err()));
    view! {
        <section class="card">
            <h2>"Policy tester"</h2>
            <p class="muted">"What the gateway's policy stage would decide for a call — the same rules, engine and detections."</p>
            <form class="form-grid" on:submit=submit>
                <FormError error/>
                <div class="field">
                    <label for="pt-tool">"Tool"</label>
                    <input id="pt-tool" type="text" class="mono" required placeholder="github__merge_pull_request" bind:value=tool
                        aria-describedby="tool-error"/>
                    <FieldError error field="tool"/>
                </div>
                <div class="field">
                    <label for="pt-pack">"Tool Pack"</label>
                    <select id="pt-pack" bind:value=pack>
                        <PackOptions packs selected=None none_label="No pack (organization rules)"/>
                    </select>
                </div>
                <div class="field">
                    <label for="pt-user">"Registered User"</label>
                    <select id="pt-user" bind:value=user>
                        <option value="">"None"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                users.await.unwrap_or_default().into_iter().map(|u| view! {
                                    <option value=u.id.to_string()>{format!("{} ({})", u.display_name, u.external_id)}</option>
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <div class="field wide">
                    <label for="pt-args">"Arguments (JSON object)"</label>
                    <textarea id="pt-args" rows="4" class="mono" spellcheck="false" bind:value=arguments
                        aria-describedby="arguments-error"></textarea>
                    <FieldError error field="arguments"/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn" disabled=move || run.pending().get()>"Test"</button>
                </div>
            </form>
            {move || run.value().get().and_then(|r| r.ok()).map(|r| view! {
                <div class="test-result" role="status" aria-label="Policy test result">
                    <p>"Outcome: "{badge(r.action)}</p>
                    <p>{r.explanation.clone()}</p>
                    {(!r.findings.is_empty()).then(|| view! { <p>"Findings in the arguments: "<code>{r.findings.join(", ")}</code></p> })}
                    {(!r.errors.is_empty()).then(|| view! {
                        <ul class="field-error">{r.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                    })}
                </div>
            })}
        </section>
    }
}
