//! The Rule Tester: paste a sample, see what the rules find and do.

use leptos::prelude::*;
use leptos_meta::Title;
use shared::api::{RuleTestInput, RuleTestResult, TestedFinding};
use uuid::Uuid;

use crate::components::{ActionBadge, ErrorNote};
use crate::server_fns::{list_packs, test_rules};

const EXAMPLE: &str =
    r#"{"to": "jane.doe@example.com", "note": "Card 4111 1111 1111 1111, call +1 415-555-2671"}"#;

/// Byte ranges of the sample to highlight, sorted and non-overlapping.
///
/// Plain-text findings carry their own span. JSON findings are located by
/// their matched text (as written in the JSON source, escapes included), in
/// order, so repeated values each get highlighted once per finding.
fn highlight_ranges(sample: &str, r: &RuleTestResult) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for f in &r.findings {
        let label = f.finding.label.clone();
        if !r.is_json {
            if sample.get(f.finding.start..f.finding.end).is_some() {
                out.push((f.finding.start, f.finding.end, label));
            }
            continue;
        }
        if f.text.is_empty() {
            continue;
        }
        let needle = serde_json::to_string(&f.text)
            .ok()
            .and_then(|q| q.get(1..q.len().saturating_sub(1)).map(str::to_owned))
            .unwrap_or_else(|| f.text.clone());
        let mut from = 0;
        while let Some(pos) = sample.get(from..).and_then(|s| s.find(&needle)) {
            let (a, b) = (from + pos, from + pos + needle.len());
            if !out.iter().any(|(x, y, _)| a < *y && *x < b) {
                out.push((a, b, label.clone()));
                break;
            }
            from = b;
        }
    }
    out.sort_by_key(|(a, b, _)| (*a, std::cmp::Reverse(*b)));
    // Drop ranges that overlap an earlier one (the engine already resolved
    // overlaps; this only guards the text search).
    let mut kept: Vec<(usize, usize, String)> = Vec::new();
    for r in out {
        if kept.last().is_none_or(|(_, end, _)| r.0 >= *end) {
            kept.push(r);
        }
    }
    kept
}

#[component]
pub fn Tester() -> impl IntoView {
    let sample = RwSignal::new(EXAMPLE.to_owned());
    let pack = RwSignal::new(String::new());
    let packs = Resource::new(|| (), |_| list_packs());
    let run = Action::new(move |(s, p): &(String, Option<Uuid>)| {
        let input = RuleTestInput {
            sample: s.clone(),
            pack_id: *p,
        };
        async move { (input.sample.clone(), test_rules(input).await) }
    });
    // Debounce: test 300 ms after the last keystroke; an older answer that
    // arrives late is ignored because `run.value()` keeps only the latest
    // dispatch's result.
    let generation = StoredValue::new(0u64);
    let schedule = move || {
        let my = generation.get_value() + 1;
        generation.set_value(my);
        set_timeout(
            move || {
                if generation.get_value() == my {
                    run.dispatch((sample.get_untracked(), pack.get_untracked().parse().ok()));
                }
            },
            std::time::Duration::from_millis(300),
        );
    };
    Effect::new(move |_| {
        // First result once the page is interactive.
        run.dispatch((sample.get_untracked(), None));
    });
    view! {
        <Title text="Rule Tester"/>
        <header class="page-header">
            <h1>"Rule Tester"</h1>
            <p class="muted">"Paste text or JSON as a tool would see it. Results update as you type; nothing is recorded."</p>
        </header>
        <section class="card tester">
            <div class="tester-controls">
                <label for="tester-pack">"Rules"</label>
                <Transition fallback=|| view! { <select id="tester-pack" disabled=true><option>"Organization rules"</option></select> }>
                    {move || Suspend::new(async move {
                        let list = packs.await.unwrap_or_default();
                        view! {
                            <select id="tester-pack" on:change=move |ev| { pack.set(event_target_value(&ev)); schedule(); }>
                                <option value="">"Organization rules"</option>
                                {list.into_iter().map(|p| view! {
                                    <option value=p.id.to_string()>{format!("Tool Pack: {}", p.name)}</option>
                                }).collect_view()}
                            </select>
                        }
                    })}
                </Transition>
                {move || run.pending().get().then(|| view! { <span class="muted" role="status">"Testing…"</span> })}
            </div>
            <label for="tester-sample" class="sr-only">"Sample"</label>
            <textarea id="tester-sample" rows="8" class="mono" spellcheck="false"
                prop:value=move || sample.get()
                on:input=move |ev| { sample.set(event_target_value(&ev)); schedule(); }></textarea>
        </section>
        {move || run.value().get().map(|(s, r)| match r {
            Ok(res) => view! { <TestResult sample=s res/> }.into_any(),
            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
        })}
    }
}

#[component]
fn TestResult(sample: String, res: RuleTestResult) -> impl IntoView {
    let ranges = highlight_ranges(&sample, &res);
    let mut parts = Vec::new();
    let mut at = 0;
    for (a, b, label) in ranges {
        if let (Some(before), Some(hit)) = (sample.get(at..a), sample.get(a..b)) {
            parts.push(view! { <span>{before.to_owned()}</span> }.into_any());
            parts.push(
                view! { <mark title=label.clone() data-label=label>{hit.to_owned()}</mark> }
                    .into_any(),
            );
            at = b;
        }
    }
    parts.push(view! { <span>{sample.get(at..).unwrap_or_default().to_owned()}</span> }.into_any());
    let n = res.findings.len();
    view! {
        <section class="card">
            <h2>{format!("{n} finding{}", if n == 1 { "" } else { "s" })}</h2>
            <p>"As arguments: "<ActionBadge action=res.verdict_arguments/>" · As results: "<ActionBadge action=res.verdict_results/></p>
            <h3>"Sample"</h3>
            <pre class="highlighted" data-testid="highlighted">{parts}</pre>
            {(n > 0).then(|| view! {
                <table class="table small" aria-label="Findings">
                    <thead><tr><th scope="col">"Entity or rule"</th><th scope="col">"Where"</th><th scope="col">"Match"</th><th scope="col">"Score"</th>
                    <th scope="col">"Context words"</th><th scope="col">"Arguments"</th><th scope="col">"Results"</th></tr></thead>
                    <tbody>
                        {res.findings.iter().map(|f: &TestedFinding| view! {
                            <tr class:below=f.below_threshold>
                                <td>{f.finding.label.clone()}</td>
                                <td><code>{f.finding.pointer.clone().unwrap_or_else(|| format!("{}..{}", f.finding.start, f.finding.end))}</code></td>
                                <td><code>{f.text.clone()}</code></td>
                                <td>{format!("{:.2}", f.finding.score)}{f.below_threshold.then_some(" (below threshold)")}</td>
                                <td>{f.finding.context.join(", ")}</td>
                                <td><ActionBadge action=f.on_arguments/></td>
                                <td><ActionBadge action=f.on_results/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <div class="two-col">
                <div><h3>"Redacted as arguments"</h3><pre data-testid="redacted-arguments">{res.redacted_arguments.clone()}</pre></div>
                <div><h3>"Redacted as results"</h3><pre>{res.redacted_results.clone()}</pre></div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::detect::{Entity, Finding, RuleRef};
    use shared::policy::Action;

    fn finding(start: usize, end: usize, pointer: Option<&str>, text: &str) -> TestedFinding {
        TestedFinding {
            finding: Finding {
                rule: RuleRef::Entity(Entity::EmailAddress),
                label: "EMAIL_ADDRESS".into(),
                pointer: pointer.map(str::to_owned),
                in_key: false,
                start,
                end,
                score: 1.0,
                context: vec![],
            },
            text: text.into(),
            on_arguments: Action::Redact,
            on_results: Action::Allow,
            below_threshold: false,
        }
    }

    fn result(is_json: bool, findings: Vec<TestedFinding>) -> RuleTestResult {
        RuleTestResult {
            is_json,
            findings,
            redacted_arguments: String::new(),
            redacted_results: String::new(),
            verdict_arguments: Action::Redact,
            verdict_results: Action::Allow,
        }
    }

    #[test]
    fn text_findings_use_their_spans() {
        let s = "mail a@b.co now";
        let r = result(false, vec![finding(5, 11, None, "a@b.co")]);
        assert_eq!(
            highlight_ranges(s, &r),
            vec![(5, 11, "EMAIL_ADDRESS".into())]
        );
    }

    #[test]
    fn json_findings_are_found_in_the_source_once_each() {
        let s = r#"{"a": "x@y.io", "b": "x@y.io"}"#;
        let r = result(
            true,
            vec![
                finding(0, 6, Some("/a"), "x@y.io"),
                finding(0, 6, Some("/b"), "x@y.io"),
            ],
        );
        let got = highlight_ranges(s, &r);
        assert_eq!(got.len(), 2);
        assert_eq!(&s[got[0].0..got[0].1], "x@y.io");
        assert!(got[0].1 <= got[1].0);
    }
}
