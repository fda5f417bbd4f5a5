//! Rules: the standard entity rules (grouped), regions, and custom regex
//! rules with live validation.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::api::EntityRuleRow;
use shared::detect::{EntityGroup, Region};
use shared::policy::{Action, CustomRegexRule, CustomRuleInput};

use crate::components::{
    ActionBadge, ConfirmButton, EmptyState, ErrorNote, FieldError, FormError, LiveCheck,
    SubmitButton, action_error, can_admin,
};
use crate::server_fns::{
    DeleteCustomRule, ResetEntityRule, SaveCustomRule, SetEntityRule, check_custom_rule, get_rules,
    set_regions,
};

const GROUPS: [EntityGroup; 9] = [
    EntityGroup::Identity,
    EntityGroup::GovernmentFinancial,
    EntityGroup::Payment,
    EntityGroup::Health,
    EntityGroup::Network,
    EntityGroup::Other,
    EntityGroup::Secrets,
    EntityGroup::Regional,
    EntityGroup::PromptInjection,
];

fn action_select(name: &'static str, id: String, current: Action, disabled: bool) -> impl IntoView {
    view! {
        <select name=name id=id disabled=disabled>
            {Action::ALL.into_iter().map(|a| view! {
                <option value=a.as_str() selected=a == current>{a.as_str()}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
pub fn Rules() -> impl IntoView {
    let editable = can_admin();
    let set = ServerAction::<SetEntityRule>::new();
    let reset = ServerAction::<ResetEntityRule>::new();
    let save_custom = ServerAction::<SaveCustomRule>::new();
    let delete_custom = ServerAction::<DeleteCustomRule>::new();
    let regions_saved = RwSignal::new(0u32);
    let rules = Resource::new(
        move || {
            (
                set.version().get(),
                reset.version().get(),
                save_custom.version().get(),
                delete_custom.version().get(),
                regions_saved.get(),
            )
        },
        |_| get_rules(),
    );
    let row_error = Signal::derive(move || {
        action_error(set)
            .get()
            .or_else(|| action_error(reset).get())
    });
    let editing = RwSignal::new(None::<CustomRegexRule>);
    view! {
        <Title text="Rules"/>
        <header class="page-header">
            <h1>"Rules"</h1>
            <p class="muted">"What counts as sensitive and what happens to it, separately for a tool's arguments and its results. Tool Packs can override any rule."</p>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rules.await {
                    Ok(view_) => {
                        let regions = view_.regions.clone();
                        let entities = view_.entities.clone();
                        let custom = view_.custom.clone();
                        view! {
                            <RegionsCard current=regions editable saved=regions_saved/>
                            <section class="card">
                                <h2>"Standard entity rules"</h2>
                                <FormError error=row_error/>
                                {move || row_error.get().and_then(|e| e.0.fields.values().next().cloned())
                                    .map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                {move || matches!(set.value().get(), Some(Ok(()))).then(|| view! { <p class="notice notice-ok" role="status">"Rule saved."</p> })}
                                {GROUPS.into_iter().map(|g| {
                                    let rows: Vec<EntityRuleRow> = entities.iter().filter(|r| r.group == g).cloned().collect();
                                    (!rows.is_empty()).then(|| view! {
                                        <h3 class="group-title">{g.title()}</h3>
                                        <table class="table small rules-table" aria-label=g.title()>
                                            <thead><tr><th scope="col">"Entity"</th><th scope="col">"On"</th><th scope="col">"Threshold"</th>
                                            <th scope="col">"Arguments"</th><th scope="col">"Results"</th><th scope="col">"Extra context words"</th>
                                            <th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                            <tbody>
                                                {rows.into_iter().map(|r| view! { <EntityRow row=r editable set reset/> }).collect_view()}
                                            </tbody>
                                        </table>
                                    })
                                }).collect_view()}
                            </section>
                            <section class="card">
                                <h2>"Custom regex rules"</h2>
                                <FormError error=action_error(delete_custom)/>
                                {if custom.is_empty() {
                                    view! { <EmptyState title="No custom rules">"Add a pattern for identifiers only your organization uses, such as employee or ticket ids."</EmptyState> }.into_any()
                                } else {
                                    view! {
                                        <table class="table small" aria-label="Custom rules">
                                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Label"</th><th scope="col">"Pattern"</th><th scope="col">"Score"</th>
                                            <th scope="col">"Arguments"</th><th scope="col">"Results"</th><th scope="col">"On"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                            <tbody>
                                                {custom.into_iter().map(|c| {
                                                    let id = c.id;
                                                    let c2 = c.clone();
                                                    view! {
                                                        <tr data-rule=c.name.clone()>
                                                            <td>{c.name.clone()}</td><td><code>{c.label.clone()}</code></td><td><code>{c.pattern.clone()}</code></td>
                                                            <td>{format!("{:.2}", c.score)}</td>
                                                            <td><ActionBadge action=c.arguments/></td><td><ActionBadge action=c.results/></td>
                                                            <td>{if c.enabled { "on" } else { "off" }}</td>
                                                            <td class="actions">{editable.then(|| view! {
                                                                <button type="button" class="btn btn-small" on:click=move |_| editing.set(Some(c2.clone()))>"Edit"</button>
                                                                <ConfirmButton label="Delete" question=format!("Delete the rule {}? Pack overrides of it go too.", c.name)
                                                                    yes="Yes, delete" on_confirm=Callback::new(move |_| { delete_custom.dispatch(DeleteCustomRule { id }); })/>
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
        {editable.then(|| view! { <CustomRuleForm save=save_custom editing/> })}
    }
}

#[component]
fn RegionsCard(current: Vec<Region>, editable: bool, saved: RwSignal<u32>) -> impl IntoView {
    let chosen = RwSignal::new(current);
    let save = leptos::prelude::Action::new(move |regions: &Vec<String>| {
        let regions = regions.clone();
        async move { set_regions(regions).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saved.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card">
            <h2>"Regions"</h2>
            <p class="muted">"Regional identifiers (UK NHS numbers, Indian PAN…) are checked only for the regions switched on here."</p>
            <div class="region-list">
                {Region::ALL.iter().map(|&r| view! {
                    <label class="check">
                        <input type="checkbox" disabled=!editable
                            prop:checked=move || chosen.read().contains(&r)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|c| { c.retain(|x| *x != r); if on { c.push(r); } });
                            }/>
                        {r.as_str()}
                    </label>
                }).collect_view()}
            </div>
            {editable.then(|| view! {
                <div class="form-actions">
                    <button type="button" class="btn btn-small" disabled=move || save.pending().get()
                        on:click=move |_| { save.dispatch(chosen.get().iter().map(|r| r.as_str().to_owned()).collect()); }>"Save regions"</button>
                    {move || save.value().get().map(|r| match r {
                        Ok(()) => view! { <span class="saved" role="status">"Regions saved."</span> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    })}
                </div>
            })}
        </section>
    }
}

#[component]
fn EntityRow(
    row: EntityRuleRow,
    editable: bool,
    set: ServerAction<SetEntityRule>,
    reset: ServerAction<ResetEntityRule>,
) -> impl IntoView {
    let e = row.rule.entity.as_str().to_owned();
    let fid = format!("er-{e}");
    let r = row.rule.clone();
    let e2 = e.clone();
    let e3 = e.clone();
    view! {
        <tr data-entity=e3 class:customized=!row.is_default>
            <td><span title=row.description.clone()>{e.clone()}</span>
                {row.region.map(|g| view! { <span class="muted small">{format!(" ({})", g.as_str())}</span> })}</td>
            <td><input type="checkbox" name="enabled" value="on" form=fid.clone() checked=r.enabled disabled=!editable
                aria-label=format!("{e} enabled")/></td>
            <td><input type="text" name="threshold" form=fid.clone() size="4" inputmode="decimal" disabled=!editable
                value=format!("{}", r.threshold) aria-label=format!("{e} threshold")/></td>
            <td>{action_select("arguments", format!("{e}-arguments"), r.arguments, !editable)}</td>
            <td>{action_select("results", format!("{e}-results"), r.results, !editable)}</td>
            <td><input type="text" name="context" form=fid.clone() disabled=!editable placeholder="e.g. customer, account"
                value=r.context.join(", ") aria-label=format!("{e} context words")/></td>
            <td class="actions">
                {editable.then(|| view! {
                    <ActionForm action=set attr:id=fid.clone() attr:class="inline-form">
                        <input type="hidden" name="entity" value=e.clone()/>
                        <button type="submit" class="btn btn-small">"Save"</button>
                    </ActionForm>
                    {(!row.is_default).then(|| view! {
                        <button type="button" class="btn btn-small btn-ghost" title="Back to the default"
                            on:click=move |_| { reset.dispatch(ResetEntityRule { entity: e2.clone() }); }>"Reset"</button>
                    })}
                })}
            </td>
        </tr>
    }
}

#[component]
fn CustomRuleForm(
    save: ServerAction<SaveCustomRule>,
    editing: RwSignal<Option<CustomRegexRule>>,
) -> impl IntoView {
    let saved_error = action_error(save);
    // The fields live validation reads; bound to the inputs below.
    let fields: [RwSignal<String>; 6] = std::array::from_fn(|_| RwSignal::new(String::new()));
    let [name, label, pattern, score, threshold, context] = fields;
    let live = LiveCheck::new(check_custom_rule, move |f: &str| match f {
        "name" => !name.get_untracked().trim().is_empty(),
        "label" => !label.get_untracked().trim().is_empty(),
        "pattern" => !pattern.get_untracked().is_empty(),
        _ => true,
    });
    let error = Signal::derive(move || saved_error.get().or_else(|| live.error.get()));
    let pending = save.pending().into();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
            live.clear();
        }
    });
    let on_input = move |_| {
        live.schedule(CustomRuleInput {
            name: name.get_untracked(),
            label: label.get_untracked(),
            pattern: pattern.get_untracked(),
            score: score.get_untracked(),
            context: context.get_untracked(),
            arguments: "allow".to_owned(),
            results: "allow".to_owned(),
            threshold: threshold.get_untracked(),
            enabled: true,
        });
    };
    view! {
        <section class="card">
            <h2>{move || if editing.get().is_some() { "Edit custom rule" } else { "Add a custom rule" }}</h2>
            {move || {
                let e = editing.get();
                let v = |f: fn(&CustomRegexRule) -> String| e.as_ref().map(f).unwrap_or_default();
                let is_edit = e.is_some();
                let args = e.as_ref().map_or(Action::Redact, |c| c.arguments);
                let res = e.as_ref().map_or(Action::Allow, |c| c.results);
                let enabled = e.as_ref().is_none_or(|c| c.enabled);
                name.set(v(|c| c.name.clone()));
                label.set(v(|c| c.label.clone()));
                pattern.set(v(|c| c.pattern.clone()));
                score.set(e.as_ref().map_or("0.8".to_owned(), |c| format!("{}", c.score)));
                threshold.set(e.as_ref().map_or("0.5".to_owned(), |c| format!("{}", c.threshold)));
                context.set(v(|c| c.context.join(", ")));
                view! {
                    <ActionForm action=save attr:class="form-grid" on:input=on_input>
                        <FormError error/>
                        {e.as_ref().map(|c| view! { <input type="hidden" name="id" value=c.id.to_string()/> })}
                        <div class="field">
                            <label for="cr-name">"Name"</label>
                            <input id="cr-name" name="name" type="text" required bind:value=name aria-describedby="name-error"/>
                            <FieldError error field="name"/>
                        </div>
                        <div class="field">
                            <label for="cr-label">"Label"</label>
                            <input id="cr-label" name="label" type="text" required placeholder="EMPLOYEE_ID" bind:value=label
                                aria-describedby="cr-label-hint label-error"/>
                            <p class="hint" id="cr-label-hint">"Shown in [REDACTED:LABEL]; capitals, digits and _."</p>
                            <FieldError error field="label"/>
                        </div>
                        <div class="field wide">
                            <label for="cr-pattern">"Pattern (regular expression)"</label>
                            <input id="cr-pattern" name="pattern" type="text" required class="mono" placeholder=r"EMP-\d{6}"
                                bind:value=pattern aria-describedby="pattern-error" spellcheck="false"/>
                            <FieldError error field="pattern"/>
                        </div>
                        <div class="field">
                            <label for="cr-score">"Score (0–1)"</label>
                            <input id="cr-score" name="score" type="text" inputmode="decimal" required
                                bind:value=score aria-describedby="score-error"/>
                            <FieldError error field="score"/>
                        </div>
                        <div class="field">
                            <label for="cr-threshold">"Threshold (0–1)"</label>
                            <input id="cr-threshold" name="threshold" type="text" inputmode="decimal"
                                bind:value=threshold aria-describedby="threshold-error"/>
                            <FieldError error field="threshold"/>
                        </div>
                        <div class="field">
                            <label for="cr-context">"Context words (comma-separated)"</label>
                            <input id="cr-context" name="context" type="text" bind:value=context aria-describedby="context-error"/>
                            <FieldError error field="context"/>
                        </div>
                        <div class="field">
                            <label for="cr-arguments">"In arguments"</label>
                            {action_select("arguments", "cr-arguments".to_owned(), args, false)}
                        </div>
                        <div class="field">
                            <label for="cr-results">"In results"</label>
                            {action_select("results", "cr-results".to_owned(), res, false)}
                        </div>
                        <div class="field">
                            <label class="check"><input type="checkbox" name="enabled" value="on" checked=enabled/>"Enabled"</label>
                        </div>
                        <div class="form-actions">
                            <SubmitButton pending label=if is_edit { "Save rule" } else { "Add rule" } busy_label="Saving…"/>
                            {is_edit.then(|| view! { <button type="button" class="btn btn-ghost" on:click=move |_| editing.set(None)>"Cancel"</button> })}
                            {move || live.passed()
                                .then(|| view! { <span class="saved" role="status">"Pattern compiles."</span> })}
                        </div>
                    </ActionForm>
                }
            }}
        </section>
    }
}
