//! The admin API: OpenAPI description, fuzzing with schemathesis, tenancy
//! and field-level errors.

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;

use crate::harness::{Admin, Gatehouse, http, python};

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn schemathesis_finds_no_server_errors_or_undocumented_answers(db: PgPool) {
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    // Something for the stateful phase to find.
    admin
        .ok(Method::POST, "/packs", Some(json!({"name": "Seed pack"})))
        .await;
    admin
        .ok(
            Method::POST,
            "/users",
            Some(json!({"external_id": "seed", "display_name": "Seed"})),
        )
        .await;
    let st = python().with_file_name("schemathesis");
    let out = std::process::Command::new(st)
        .args(["run", &format!("{}/api/v1/openapi.json", gh.base)])
        .args(["--url", &format!("{}/api/v1", gh.base)])
        .args(["-H", &format!("Authorization: Bearer {}", admin.token)])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
        .args(["--max-examples", "25", "--seed", "1"])
        // Revoking our own token or switching modes would end the run early.
        .args(["--exclude-path-regex", "revoke|org/mode|api-tokens"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_api_is_tenant_scoped_and_explains_bad_input(db: PgPool) {
    let gh = Gatehouse::start(&db, &[]);
    let acme = Admin::create(&db, &gh.base, "Acme").await;
    let globex = Admin::create(&db, &gh.base, "Globex").await;
    let pack = acme
        .ok(Method::POST, "/packs", Some(json!({"name": "Acme pack"})))
        .await;
    let id = pack["id"].as_str().unwrap();

    // Another org's id reads exactly like a missing one.
    let (status, body) = globex
        .send(Method::GET, &format!("/packs/{id}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = globex
        .send(Method::DELETE, &format!("/packs/{id}"), None)
        .await;
    assert_eq!(status, 404);
    acme.ok(Method::GET, &format!("/packs/{id}"), None).await;

    // Field-level messages, nothing created.
    let (status, body) = acme
        .send(
            Method::POST,
            "/connectors",
            Some(json!({"name": "Bad Name", "url": "ftp://x", "auth_header_name": "Host"})),
        )
        .await;
    assert_eq!(status, 422);
    for f in ["name", "url", "auth_header_name"] {
        assert!(body["error"]["fields"][f].is_string(), "{f}: {body}");
    }
    let (status, body) = acme
        .send(Method::POST, "/rules/custom", Some(json!({"name": "x", "label": "X", "pattern": "(", "score": "0.8", "arguments": "redact", "results": "allow"})))
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"]["pattern"].as_str().unwrap().len() > 5,
        "{body}"
    );
    assert_eq!(acme.ok(Method::GET, "/connectors", None).await, json!([]));
    // A NUL byte (Postgres cannot store one) is bad input, never a 500:
    // in a field the parser checks, and in one only the database sees.
    let (status, body) = acme
        .send(
            Method::POST,
            "/packs",
            Some(json!({"name": "Nul pack", "description": "a\u{0}b"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["description"].is_string(), "{body}");
    let (status, body) = acme.send(Method::GET, "/users?search=a%00b", None).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (422, Some("invalid")),
        "{body}"
    );
    let packs = acme.ok(Method::GET, "/packs", None).await;
    assert_eq!(packs.as_array().map(Vec::len), Some(1), "{packs}");
    // Not JSON at all.
    let res = http()
        .post(format!("{}/api/v1/packs", gh.base))
        .bearer_auth(&acme.token)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // Unauthenticated and wrong-role callers.
    let res = http()
        .get(format!("{}/api/v1/packs", gh.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let viewer = acme
        .ok(
            Method::POST,
            "/api-tokens",
            Some(json!({"name": "ro", "role": "viewer"})),
        )
        .await;
    let res = http()
        .post(format!("{}/api/v1/packs", gh.base))
        .bearer_auth(viewer["secret"].as_str().unwrap())
        .json(&json!({"name": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The description is public and lists what we route.
    let doc: serde_json::Value = http()
        .get(format!("{}/api/v1/openapi.json", gh.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/packs/{id}/rules/{rule}"]["put"].is_object());
}
