//! Tool policies: stored, ordered and validated (service), and applied to
//! real agents' calls (MCP, both protocol eras).

use reqwest::Method;
use serde_json::{Value, json};
use server::service::tool_policies;
use shared::account::Role;
use shared::api::{PolicyTestInput, ToolPolicyInput};
use shared::decision::ToolAction;
use shared::error::ErrorKind;
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent};
use crate::support::{add, ctx, org_with_owner};

fn input(name: &str, tools: &str, condition: &str, action: &str) -> ToolPolicyInput {
    ToolPolicyInput {
        name: name.into(),
        tools: tools.into(),
        condition: condition.into(),
        action: action.into(),
        pack_id: None,
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn tool_policies_are_validated_ordered_and_kept_to_their_org(db: PgPool) {
    let (owner, _, org) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let viewer_id = add(&db, &owner, "vi@example.com", Role::Viewer).await;
    let viewer = ctx(org, viewer_id, Role::Viewer);

    // A bad condition is refused on the condition field, with its position.
    let err = tool_policies::save(
        &db,
        &owner,
        None,
        &input("x", "pay__*", "args.amount >", "block"),
    )
    .await
    .unwrap_err()
    .into_api();
    let msg = err.field("condition").unwrap();
    assert!(msg.starts_with("Line 1, column "), "{msg}");
    // Type errors and unknown names too, before anything runs.
    let err = tool_policies::save(&db, &owner, None, &input("x", "*", "tool > 5", "block"))
        .await
        .unwrap_err()
        .into_api();
    assert!(err.field("condition").unwrap().starts_with("Type error"));
    let err = tool_policies::save(&db, &owner, None, &input("x", "*", "amount > 5", "block"))
        .await
        .unwrap_err()
        .into_api();
    assert!(
        err.field("condition")
            .unwrap()
            .contains("Unknown name 'amount'")
    );
    // Only the four actions.
    let err = tool_policies::save(&db, &owner, None, &input("x", "*", "", "hold"))
        .await
        .unwrap_err()
        .into_api();
    assert!(err.field("action").is_some());
    // Viewers read but cannot write.
    let err = tool_policies::save(&db, &viewer, None, &input("x", "*", "", "block"))
        .await
        .unwrap_err()
        .into_api();
    assert_eq!(err.kind, ErrorKind::Forbidden);

    // Ordered as added; moving swaps neighbours; deleting closes the gap.
    let a = tool_policies::save(&db, &owner, None, &input("A", "a__*", "", "block"))
        .await
        .unwrap();
    let b = tool_policies::save(&db, &owner, None, &input("B", "b__*", "", "monitor"))
        .await
        .unwrap();
    let c = tool_policies::save(&db, &owner, None, &input("C", "c__*", "", "allow"))
        .await
        .unwrap();
    let names = |v: &shared::api::ToolPoliciesView| {
        v.rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
    };
    tool_policies::move_rule(&db, &owner, c.id, true)
        .await
        .unwrap();
    let v = tool_policies::view(&db, &viewer).await.unwrap();
    assert_eq!(names(&v), ["A", "C", "B"]);
    tool_policies::move_rule(&db, &owner, a.id, true)
        .await
        .unwrap(); // already first: nothing changes
    tool_policies::delete(&db, &owner, a.id).await.unwrap();
    let v = tool_policies::view(&db, &viewer).await.unwrap();
    assert_eq!(names(&v), ["C", "B"]);
    assert_eq!(
        v.rules.iter().map(|r| r.position).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(v.default_action, ToolAction::Allow);
    tool_policies::set_default(&db, &owner, "monitor")
        .await
        .unwrap();
    assert_eq!(
        tool_policies::view(&db, &viewer)
            .await
            .unwrap()
            .default_action,
        ToolAction::Monitor
    );
    assert!(
        tool_policies::set_default(&db, &viewer, "block")
            .await
            .is_err()
    );

    // Another org sees none of it and cannot touch it; its packs cannot be
    // named as a scope.
    let (globex, _, _) = org_with_owner(&db, "Globex", "hank@globex.test").await;
    assert!(
        tool_policies::view(&db, &globex)
            .await
            .unwrap()
            .rules
            .is_empty()
    );
    for e in [
        tool_policies::delete(&db, &globex, b.id).await.unwrap_err(),
        tool_policies::move_rule(&db, &globex, b.id, true)
            .await
            .unwrap_err(),
        tool_policies::save(&db, &globex, Some(b.id), &input("Mine", "*", "", "allow"))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.into_api().kind, ErrorKind::NotFound);
    }
    let acme_pack = server::service::packs::save(
        &db,
        &owner,
        None,
        &shared::api::ToolPackInput {
            name: "Support".into(),
            description: String::new(),
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    let mut cross = input("Cross", "*", "", "block");
    cross.pack_id = Some(acme_pack.id);
    let err = tool_policies::save(&db, &globex, None, &cross)
        .await
        .unwrap_err()
        .into_api();
    assert!(err.field("pack_id").is_some());
    assert_eq!(
        tool_policies::view(&db, &viewer).await.unwrap().rules.len(),
        2
    );

    // A pack's rule comes before the org's for that pack (the tester runs
    // the gateway's engine).
    let mut pack_rule = input("Support may", "c__*", "", "allow");
    pack_rule.pack_id = Some(acme_pack.id);
    tool_policies::save(&db, &owner, None, &pack_rule)
        .await
        .unwrap();
    let scanning = server::scanning::Scanning::new(std::num::NonZeroUsize::MIN, 1);
    let test = |pack_id| PolicyTestInput {
        tool: "c__run".into(),
        arguments: "{}".into(),
        pack_id,
        registered_user_id: None,
    };
    let through_pack = tool_policies::test(&db, &scanning, &viewer, &test(Some(acme_pack.id)))
        .await
        .unwrap();
    assert_eq!(through_pack.rule.unwrap().name, "Support may");
    let org_only = tool_policies::test(&db, &scanning, &viewer, &test(None))
        .await
        .unwrap();
    assert_eq!(org_only.rule.unwrap().name, "C");
    let nothing = tool_policies::test(
        &db,
        &scanning,
        &viewer,
        &PolicyTestInput {
            tool: "zzz__none".into(),
            ..test(None)
        },
    )
    .await
    .unwrap();
    assert_eq!(nothing.action, ToolAction::Monitor);
    assert!(nothing.rule.is_none() && nothing.explanation.contains("default"));
}

fn call(tool: &str, args: Value) -> Value {
    json!({"op": "call", "tool": format!("fixture__{tool}"), "args": args})
}

async fn last_call(db: &PgPool) -> (String, Vec<String>, String) {
    sqlx::query_as(
        "SELECT decision, reasons, outcome FROM tool_calls WHERE outcome <> 'in_flight'
         ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn agents_calls_are_allowed_monitored_and_blocked_by_tool_policies(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin
        .agent_setup(&upstream, None, &["echo", "send_email"])
        .await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "no rm", "tools": "fixture__echo",
                        "condition": "args.text.contains('rm -rf')", "action": "block"})),
        )
        .await;
    admin
        .ok(
            Method::POST,
            "/tool-policies",
            Some(json!({"name": "mail to outsiders", "tools": "fixture__send_*",
                        "condition": "!args.to.endsWith('@acme.test') && 'EMAIL_ADDRESS' in findings && user.id != ''",
                        "action": "monitor"})),
        )
        .await;

    for era in ["legacy", "2026-07-28"] {
        // Monitor mode: the call runs; the record says enforce would block.
        admin.set_mode("monitor").await;
        let before = upstream.calls().len();
        let out = agent(
            &gh.base,
            &key,
            era,
            json!([call("echo", json!({"text": "rm -rf /"}))]),
        );
        assert_eq!(out[0]["is_error"], false, "{era}: {}", out[0]);
        assert_eq!(upstream.calls().len(), before + 1);
        let (decision, reasons, _) = last_call(&db).await;
        assert_eq!(
            decision, "block",
            "{era}: recorded as what enforce would do"
        );
        assert!(
            reasons.contains(&"would_block_tool".to_owned())
                && reasons.contains(&"policy:no rm".to_owned()),
            "{era}: {reasons:?}"
        );

        // Enforce: blocked before the upstream, named in the answer.
        admin.set_mode("enforce").await;
        let before = upstream.calls().len();
        let out = agent(
            &gh.base,
            &key,
            era,
            json!([
                call("echo", json!({"text": "rm -rf /"})),
                call("echo", json!({"text": "ls"})),
                call(
                    "send_email",
                    json!({"to": "bo@example.com", "subject": "hi", "body": "x"})
                ),
                call(
                    "send_email",
                    json!({"to": "ann@acme.test", "subject": "hi", "body": "x"})
                ),
            ]),
        );
        assert_eq!(out[0]["is_error"], true, "{era}: {}", out[0]);
        let text = out[0]["text"].as_str().unwrap();
        assert!(
            text.contains("\"no rm\"") && !text.contains("rm -rf"),
            "{text}"
        );
        assert_eq!(out[1]["is_error"], false, "{era}: {}", out[1]);
        assert_eq!(out[2]["is_error"], false, "{era}: monitor runs the call");
        assert_eq!(out[3]["is_error"], false);
        assert_eq!(
            upstream.calls().len(),
            before + 3,
            "{era}: the blocked call never reached the upstream"
        );
        let flagged: Vec<(Vec<String>,)> = sqlx::query_as(
            "SELECT reasons FROM tool_calls WHERE tool = 'fixture__send_email' AND mode = 'enforce'
             ORDER BY created_at DESC LIMIT 2",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        // Newest first: the colleague's address was not flagged, the
        // outsider's was.
        assert!(
            !flagged[0].0.contains(&"tool_flagged".to_owned()),
            "{flagged:?}"
        );
        assert!(
            flagged[1].0.contains(&"tool_flagged".to_owned())
                && flagged[1]
                    .0
                    .contains(&"policy:mail to outsiders".to_owned()),
            "{flagged:?}"
        );
    }

    // A change takes effect on the next call: block everything by default.
    admin
        .ok(
            Method::PUT,
            "/tool-policies/default",
            Some(json!({"action": "block"})),
        )
        .await;
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([call(
            "send_email",
            json!({"to": "ann@acme.test", "subject": "hi", "body": "x"})
        )]),
    );
    assert_eq!(out[0]["is_error"], true);
    assert!(out[0]["text"].as_str().unwrap().contains("by default"));
    let (decision, reasons, outcome) = last_call(&db).await;
    assert_eq!((decision.as_str(), outcome.as_str()), ("block", "blocked"));
    assert!(reasons.contains(&"tool_blocked".to_owned()), "{reasons:?}");
}
