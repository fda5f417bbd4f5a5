//! Policy stage benchmark: what the tool policy engine adds to a call.
//!
//!     cargo bench -p server --bench policy_stage [-- --iterations 20000]
//!
//! * 50 rules, every one's glob matching the called tool and every one
//!   with a CEL condition (the worst case: the engine must evaluate all 49
//!   that do not match before the 50th decides), over 2 KB of arguments.
//! * The same 50 rules as names and globs only (no conditions): the common
//!   case, decided without leaving the request's thread.
//! * Reports p50 / p99 / max per evaluation (one call's policy stage).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use server::tool_policy::{Facts, Policies};
use shared::api::ToolPolicy;
use shared::decision::ToolAction;
use uuid::Uuid;

fn rules(conditions: bool) -> Vec<ToolPolicy> {
    (0..50)
        .map(|i| ToolPolicy {
            id: Uuid::new_v4(),
            pack_id: None,
            pack_name: None,
            position: i,
            name: format!("rule {i}"),
            tools: if i % 2 == 0 {
                "github__*"
            } else {
                "*__merge_*"
            }
            .to_owned(),
            condition: conditions.then(|| match i {
                49 => "args.amount > 100 && args.currency == 'EUR'".to_owned(),
                i if i % 3 == 0 => format!("'US_SSN' in findings && session.calls > {i}"),
                i if i % 3 == 1 => format!("user.id == 'user-{i}' || pack.name == 'pack {i}'"),
                i => format!("has(args.branch) && args.branch.startsWith('release-{i}')"),
            }),
            action: if i == 49 {
                ToolAction::Approve
            } else {
                ToolAction::Block
            },
        })
        .collect()
}

fn facts() -> Facts {
    let body = "x".repeat(1900);
    Facts {
        tool: "github__merge_pull_request".into(),
        args: json!({"repo": "acme/api", "pull": 42, "branch": "main", "amount": 250,
                     "currency": "EUR", "body": body}),
        user_id: "ada".into(),
        user_name: "Ada".into(),
        pack_id: Uuid::nil().to_string(),
        pack_name: "Engineering".into(),
        findings: vec!["EMAIL_ADDRESS".into()],
        session_calls: 3,
    }
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} evaluations)",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6,
        times.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--iterations")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let facts = facts();
    for (name, conditions) in [
        (
            "50 rules with CEL conditions (49 evaluated, 50th decides)",
            true,
        ),
        ("50 rules, names and globs only", false),
    ] {
        let started = Instant::now();
        let policies = Policies::compile(rules(conditions), ToolAction::Allow);
        println!(
            "{name}: compiled in {:.2} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        let expected = policies.evaluate(&facts);
        assert_eq!(
            expected.verdict.action,
            if conditions {
                ToolAction::Approve
            } else {
                ToolAction::Block
            }
        );
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let e = policies.evaluate(&facts);
            times.push(t.elapsed());
            assert_eq!(e.matched, expected.matched);
        }
        report(name, times);
    }
}
