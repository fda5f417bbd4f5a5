//! Tenancy, generated from what the server publishes: every admin API
//! operation in the OpenAPI document and every dashboard server function
//! is called by another organization with this organization's ids. Each
//! must read them as not found, reveal nothing, and change nothing. A new
//! endpoint or server function is covered without editing this test (an
//! id parameter it cannot place fails it, asking to name the resource).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, Upstream, agent, http};
use crate::support::PASSWORD;

/// Everything of Acme's that another org must not reach: one of each.
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn get(&self, what: &str) -> &str {
        self.0
            .get(what)
            .unwrap_or_else(|| panic!("no {what} id: name the resource in `resource_of`"))
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.0.values()
    }
}

/// Which resource an id parameter names, from its path segment or its
/// name.
fn resource_of(hint: &str) -> &'static str {
    let h = hint.to_ascii_lowercase();
    let pairs = [
        ("tool-change", "tool_change"),
        ("tool_change", "tool_change"),
        ("invitation", "invitation"),
        ("session", "session"),
        ("approval", "approval"),
        ("webhook", "webhook"),
        ("tool-polic", "tool_policy"),
        ("tool_polic", "tool_policy"),
        ("api-token", "api_token"),
        ("api_token", "api_token"),
        ("custom", "custom_rule"),
        ("connector", "connector"),
        // A Postgres connector is a connector.
        ("database", "connector"),
        ("pack", "pack"),
        ("key", "key"),
        ("call", "call"),
        ("member", "member"),
        ("user_id", "member"),
        ("org", "org"),
        ("user", "user"),
    ];
    pairs
        .iter()
        .find(|(k, _)| h.contains(k))
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("an id parameter this test cannot place: {hint}"))
}

/// A body the operation would accept for one of Globex's own objects, so
/// that the answer is about the id, not about the input.
fn body_for(method: &Method, template: &str) -> Option<Value> {
    let b = match (method.as_str(), template) {
        ("PUT", "/connectors/{id}") => {
            json!({"name": "renamed", "url": "https://tools.example.com/mcp"})
        }
        ("PUT", "/packs/{id}") => json!({"name": "Renamed"}),
        ("PUT", "/packs/{id}/tools") => json!({"tools": []}),
        ("PUT", "/packs/{id}/repositories") => {
            json!({"connector_id": "00000000-0000-0000-0000-000000000000", "repositories": []})
        }
        ("PUT", "/databases/{id}") => {
            json!({"name": "renamed", "dsn": "postgres://u@db.example.com/shop"})
        }
        ("PUT", "/packs/{id}/databases") => {
            json!({"connector_id": "00000000-0000-0000-0000-000000000000", "tables": []})
        }
        ("PUT", "/packs/{id}/rules/{rule}") => json!({"enabled": "false"}),
        ("PUT", "/users/{id}") => json!({"external_id": "x", "display_name": "X"}),
        ("PUT", "/tool-policies/{id}") => {
            json!({"name": "Renamed", "tools": "*", "action": "allow"})
        }
        ("POST", "/tool-policies/{id}/move") => json!({"direction": "down"}),
        ("POST", "/approvals/{id}/decision") => json!({"decision": "approve"}),
        ("POST", "/tool-changes/{id}/decision") => json!({"decision": "approve"}),
        ("PUT", "/rules/custom/{id}") => json!({
            "name": "Employee", "label": "EMPLOYEE_ID", "pattern": "EMP-[0-9]{6}",
            "score": "0.8", "arguments": "block", "results": "block"
        }),
        _ => return None,
    };
    Some(b)
}

/// Acme's tenant data as text, to prove nothing changed.
async fn snapshot(db: &PgPool, org: &str) -> String {
    let mut out = String::new();
    for table in [
        "connectors",
        "connector_tools",
        "tool_packs",
        "tool_pack_tools",
        "registered_users",
        "agent_keys",
        "api_tokens",
        "custom_rules",
        "entity_rules",
        "rule_overrides",
        "memberships",
        "invitations",
        "tool_policies",
        "approvals",
        "webhooks",
        "github_installations",
        "tool_pack_repositories",
        "postgres_connectors",
        "tool_pack_databases",
        "tool_pins",
        "tool_changes",
    ] {
        // last_used_at moves with Acme's own use, which this test makes.
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "SELECT json_agg(t ORDER BY t::text)::text FROM (
               SELECT * FROM {table} WHERE org_id = $1::uuid) t"
        ))
        .bind(org)
        .fetch_one(db)
        .await
        .unwrap();
        out.push_str(&format!("{table}: {}\n", rows.unwrap_or_default()));
    }
    let org_row: String = sqlx::query_scalar(
        "SELECT row_to_json(o)::text FROM (SELECT name, mode, regions, store_full_arguments,
           default_tool_action, approval_hold_secs, approval_expiry_hours FROM orgs WHERE id = $1::uuid) o",
    )
    .bind(org)
    .fetch_one(db)
    .await
    .unwrap();
    out + &org_row
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn another_orgs_ids_read_as_not_found_everywhere_and_nothing_changes(db: PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let acme = Admin::create(&db, &gh.base, "Acme").await;
    let globex = Admin::create(&db, &gh.base, "Globex").await;

    // One of everything in Acme.
    let (pack, key) = acme.agent_setup(&upstream, None, &["echo"]).await;
    agent(
        &gh.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "fixture__echo", "args": {"text": "hi"}}]),
    );
    let mut ids = BTreeMap::new();
    let first = |v: &Value| -> String {
        let items = v.get("items").unwrap_or(v);
        items[0]["id"].as_str().unwrap().to_owned()
    };
    ids.insert("pack", pack.clone());
    ids.insert(
        "connector",
        first(&acme.ok(Method::GET, "/connectors", None).await),
    );
    ids.insert("user", first(&acme.ok(Method::GET, "/users", None).await));
    // An open change of one of Acme's pinned tools (as a discovery that
    // found its definition changed would record it).
    let change: String = sqlx::query_scalar(
        "INSERT INTO tool_changes (org_id, connector_id, connector_name, tool_name, kind, action, detected_at,
           old_fingerprint, new_fingerprint)
         SELECT p.org_id, p.connector_id, 'fixture', p.tool_name, 'changed', 'quarantined', now(), p.fingerprint, 'sha256:0'
         FROM tool_pins p JOIN connectors c ON c.id = p.connector_id
         WHERE c.id = $1::uuid LIMIT 1 RETURNING id::text",
    )
    .bind(ids.get("connector").map(String::as_str).unwrap_or_default())
    .fetch_one(&db)
    .await
    .unwrap();
    ids.insert("tool_change", change);
    ids.insert("key", first(&acme.ok(Method::GET, "/keys", None).await));
    ids.insert("call", first(&acme.ok(Method::GET, "/calls", None).await));
    ids.insert(
        "session",
        first(&acme.ok(Method::GET, "/sessions", None).await),
    );
    let rule = acme
        .ok(
            Method::POST,
            "/rules/custom",
            Some(
                json!({"name": "Employee", "label": "EMPLOYEE_ID", "pattern": "EMP-[0-9]{6}",
                        "score": "0.8", "arguments": "block", "results": "block"}),
            ),
        )
        .await;
    ids.insert("custom_rule", rule["id"].as_str().unwrap().to_owned());
    let policy = acme
        .ok(
            Method::POST,
            "/tool-policies",
            Some(
                json!({"name": "No shell", "tools": "*__shell*", "action": "block",
                        "condition": "size(args) > 0"}),
            ),
        )
        .await;
    ids.insert("tool_policy", policy["id"].as_str().unwrap().to_owned());
    acme.ok(
        Method::POST,
        "/tool-policies",
        Some(json!({"name": "Second", "tools": "fixture__*", "action": "monitor"})),
    )
    .await;
    // A held call (pack rule, enforce mode, no hold time): a pending approval.
    acme.ok(
        Method::POST,
        "/tool-policies",
        Some(
            json!({"name": "Hold", "tools": "fixture__echo", "action": "approve",
                    "condition": "args.text == 'hold me'", "pack_id": pack}),
        ),
    )
    .await;
    acme.ok(
        Method::PUT,
        "/org/approvals",
        Some(json!({"hold_secs": "0", "expiry_hours": "24"})),
    )
    .await;
    acme.set_mode("enforce").await;
    let held = agent(
        &gh.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "fixture__echo", "args": {"text": "hold me"}}]),
    );
    assert_eq!(held[0]["is_error"], true, "{}", held[0]);
    ids.insert(
        "approval",
        first(&acme.ok(Method::GET, "/approvals", None).await),
    );
    let hook = acme
        .ok(
            Method::POST,
            "/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["call.blocked"]})),
        )
        .await;
    ids.insert("webhook", hook["item"]["id"].as_str().unwrap().to_owned());
    let token = acme
        .ok(
            Method::POST,
            "/api-tokens",
            Some(json!({"name": "ci", "role": "viewer"})),
        )
        .await;
    ids.insert(
        "api_token",
        token["item"]["id"].as_str().unwrap().to_owned(),
    );
    acme.ok(
        Method::PUT,
        &format!("/packs/{pack}/rules/EMAIL_ADDRESS"),
        Some(json!({"enabled": "false"})),
    )
    .await;
    let me = acme.ok(Method::GET, "/me", None).await;
    let org = me["org_id"].as_str().unwrap().to_owned();
    ids.insert("org", org.clone());
    let owner: String = sqlx::query_scalar(
        "SELECT user_id::text FROM memberships WHERE org_id = $1::uuid AND role = 'owner'",
    )
    .bind(&org)
    .fetch_one(&db)
    .await
    .unwrap();
    let owner_ctx = crate::support::ctx(
        org.parse().unwrap(),
        owner.parse().unwrap(),
        shared::account::Role::Owner,
    );
    let invite = shared::account::InviteInput {
        email: "new.hire@example.com".into(),
        role: "viewer".into(),
    }
    .parse()
    .unwrap();
    let (invitation, _) =
        server::service::invitations::create(&db, &owner_ctx, chrono::Utc::now(), &invite)
            .await
            .unwrap();
    ids.insert("invitation", invitation.id.to_string());
    ids.insert("member", owner);
    let ids = Ids(ids);
    let before = snapshot(&db, &org).await;
    let leaks = |text: &str| ids.all().find(|id| text.contains(id.as_str())).cloned();

    // 1. Every admin API operation, as Globex.
    let doc: Value = http()
        .get(format!("{}/api/v1/openapi.json", gh.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut covered = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            // Path ids take Acme's; query ids (filters) too.
            let mut path = template.clone();
            let mut query = Vec::new();
            let mut has_id = false;
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let is_uuid = p["schema"]["format"] == "uuid"
                    || p["schema"]["anyOf"].to_string().contains("uuid")
                    || p["schema"]["type"].to_string().contains("null")
                        && p["schema"].to_string().contains("uuid");
                match p["in"].as_str() {
                    Some("path") if name == "rule" => {
                        path = path.replace("{rule}", "EMAIL_ADDRESS");
                    }
                    Some("path") if name == "entity" => {
                        // Not an id: an entity name, within the caller's org.
                        path = path.replace("{entity}", "EMAIL_ADDRESS");
                    }
                    Some("path") => {
                        let segment = template
                            .split('/')
                            .take_while(|s| !s.contains(&format!("{{{name}}}")))
                            .last()
                            .unwrap_or(name);
                        path = path.replace(&format!("{{{name}}}"), ids.get(resource_of(segment)));
                        has_id = true;
                    }
                    Some("query") if is_uuid => {
                        query.push(format!("{name}={}", ids.get(resource_of(name))));
                        has_id = true;
                    }
                    _ => {}
                }
            }
            if !has_id {
                continue;
            }
            covered += 1;
            let url = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{}", query.join("&"))
            };
            let (status, body) = globex
                .send(method.clone(), &url, body_for(&method, template))
                .await;
            let text = body.to_string();
            assert!(
                status == 404
                    || (status == 200 && method == Method::GET && !template.contains('{')),
                "{method} {url} as another org -> {status}: {text}"
            );
            assert_eq!(leaks(&text), None, "{method} {url} leaked an id: {text}");
        }
    }
    assert!(covered >= 18, "only {covered} operations take ids");

    // 2. Every dashboard server function with an id, as Globex's owner.
    let src = include_str!("../../../web/src/server_fns.rs");
    let sign_in = http()
        .post(format!("{}/api/ui/sign_in", gh.base))
        .header("origin", &gh.base)
        .form(&[("email", "owner@globex.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = sign_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("signed in");
    let mut fns = 0;
    for chunk in src.split("#[server(").skip(1) {
        let endpoint = chunk
            .split("endpoint = \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let sig = chunk.split("pub async fn ").nth(1).unwrap();
        let name = sig.split('(').next().unwrap();
        let args = sig.split('(').nth(1).unwrap().split(')').next().unwrap();
        if !args.contains("Uuid") {
            continue;
        }
        fns += 1;
        let mut form: Vec<(String, String)> = Vec::new();
        for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let (arg_name, ty) = arg.split_once(':').unwrap();
            let (arg_name, ty) = (arg_name.trim(), ty.trim());
            let value = if ty.contains("Uuid") {
                let hint = if arg_name == "id" { name } else { arg_name };
                ids.get(resource_of(hint)).to_owned()
            } else if ty.starts_with("Vec") {
                continue;
            } else if ty == "bool" {
                "false".to_owned()
            } else if arg_name == "role" {
                "viewer".to_owned()
            } else if arg_name == "decision" {
                "approve".to_owned()
            } else if arg_name == "rule" {
                "EMAIL_ADDRESS".to_owned()
            } else {
                "x".to_owned()
            };
            form.push((arg_name.to_owned(), value));
        }
        let res = http()
            .post(format!("{}/api/ui/{endpoint}", gh.base))
            .header("origin", &gh.base)
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        // Lists filtered by another org's id may answer an empty list.
        let empty_list = status.is_success() && (text == "[]" || text.contains("\"items\":[]"));
        assert!(
            !status.is_success() || empty_list,
            "server fn {name} with another org's ids -> {status}: {text}"
        );
        assert_eq!(leaks(&text), None, "server fn {name} leaked an id: {text}");
    }
    assert!(fns >= 12, "only {fns} server functions take ids");

    assert_eq!(
        before,
        snapshot(&db, &org).await,
        "another org changed Acme's data"
    );
}
