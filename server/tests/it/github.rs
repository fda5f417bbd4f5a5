//! The GitHub connector against a fake GitHub (`e2e/mcp/fake_github.py`:
//! verifies the App's RS256 JWT, mints installation tokens honouring the
//! requested repositories and permissions, records every request), the
//! real `gatehouse` binary and the Python MCP SDK as the agent.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use shared::account::Role;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::{
    Admin, Gatehouse, MASTER_KEY, Proc, agent, database_url, dump, http, python, repo, temp_dir,
};
use crate::support::ctx;

const APP_ID: &str = "4242";
const HOOK_SECRET: &str = "whsec-test-0123456789";
/// The secrets in the fake's `acme-corp/api` `config/deploy.env`.
const AWS_KEY: &str = "AKIAQ3EGVP5XH7W2RNTA";
const GH_TOKEN: &str = "ghp_R4nD0mT0k3nV4lu3F0rT3st1ngXyZ12345ab";

/// A running fake GitHub and the App key it expects.
struct FakeGitHub {
    base: String,
    key: PathBuf,
    _proc: Proc,
}

impl FakeGitHub {
    fn start() -> Self {
        let dir = temp_dir("fake-github");
        let key = dir.join("app.pem");
        let mut child = Command::new(python())
            .arg(repo().join("e2e/mcp/fake_github.py"))
            .args([
                "--port",
                "0",
                "--app-id",
                APP_ID,
                "--slug",
                "gatehouse-test",
            ])
            .arg("--key-out")
            .arg(&key)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("fake GitHub did not start: {line:?}"))
            .to_owned();
        FakeGitHub {
            base: format!("http://127.0.0.1:{port}"),
            key,
            _proc: Proc(child),
        }
    }

    async fn get(&self, what: &str) -> Value {
        http()
            .get(format!("{}/_fake/{what}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, what: &str, body: Value) {
        let r = http()
            .post(format!("{}/_fake/{what}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{what}: {}", r.status());
    }

    /// The API requests made so far for one repository.
    async fn requests_for(&self, repo: &str) -> Vec<Value> {
        let all = self.get("requests").await;
        all.as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("/repos/{repo}/"))
            })
            .cloned()
            .collect()
    }
}

/// `gatehouse github-app set …`, as the operator runs it.
fn set_app(db: &PgPool, fake: &FakeGitHub, webhook_secret: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args([
        "github-app",
        "set",
        "--app-id",
        APP_ID,
        "--slug",
        "gatehouse-test",
    ])
    .arg("--private-key-file")
    .arg(&fake.key)
    .arg("--api-url")
    .arg(format!("{}/api/v3/", fake.base))
    .arg("--web-url")
    .arg(format!("{}/", fake.base))
    .env("DATABASE_URL", database_url(db))
    .env("GATEHOUSE_MASTER_KEY", MASTER_KEY)
    .env("GATEHOUSE_DATA_DIR", temp_dir("github-app-set"))
    .env_remove("GATEHOUSE_GITHUB_WEBHOOK_SECRET");
    if let Some(s) = webhook_secret {
        cmd.env("GATEHOUSE_GITHUB_WEBHOOK_SECRET", s);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/github/setup"), "{stdout}");
    // The key was read once and is never printed.
    assert!(!stdout.contains("PRIVATE KEY"), "{stdout}");
}

fn keyring() -> server::crypto::Keyring {
    let key = server::master_key::MasterKey::from_base64(MASTER_KEY).unwrap();
    server::crypto::Keyring::new(&key, &[])
}

/// The owner of an org made by [`Admin::create`], as a dashboard member.
async fn owner_of(db: &PgPool, org: &str) -> shared::account::TenantCtx {
    let (org_id, user_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT o.id, m.user_id FROM orgs o JOIN memberships m ON m.org_id = o.id WHERE o.name = $1",
    )
    .bind(org)
    .fetch_one(db)
    .await
    .unwrap();
    ctx(org_id, user_id, Role::Owner)
}

/// Connect GitHub as the dashboard does it: a state for this session, then
/// GitHub's redirect with the installation id.
async fn connect(
    db: &PgPool,
    gh: &server::github::GitHub,
    t: &shared::account::TenantCtx,
    account: &str,
    installation: i64,
) -> server::service::ServiceResult<shared::api::GitHubInstallation> {
    use server::service::github;
    let ring = keyring();
    let now = chrono::Utc::now();
    let session = github::session_marker("session-1");
    let started = github::start_connect(db, &ring, t, now, &session, account).await?;
    let state = url::Url::parse(&started.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    github::complete_connect(db, &ring, gh, t, now, &session, &state, installation).await
}

fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_installation_is_stored_only_after_its_state_and_github_both_check_out(db: PgPool) {
    use server::service::github;
    let fake = FakeGitHub::start();
    set_app(&db, &fake, None);
    let gh = server::github::GitHub::new(Duration::from_secs(10));
    let ring = keyring();
    let (acme, _, _) = crate::support::org_with_owner(&db, "Acme", "owner@acme.test").await;
    let (globex, _, _) = crate::support::org_with_owner(&db, "Globex", "owner@globex.test").await;
    let now = chrono::Utc::now();
    let session = github::session_marker("browser-session-of-acme-owner");
    let start = |t: &shared::account::TenantCtx, account: &str| {
        let (t, account, ring, db, session) = (*t, account.to_owned(), &ring, &db, session.clone());
        async move {
            github::start_connect(db, ring, &t, now, &session, &account)
                .await
                .unwrap()
        }
    };
    let field = |r: server::service::ServiceResult<shared::api::GitHubInstallation>| {
        let e = r.unwrap_err().into_api();
        (
            e.kind,
            ["state", "installation", "account"]
                .into_iter()
                .find(|f| e.field(f).is_some())
                .unwrap_or("-"),
        )
    };
    use shared::error::ErrorKind::{Conflict, Invalid};

    // The installation page carries a state; the App's slug is in the URL.
    let started = start(&acme, "acme-corp").await;
    assert!(
        started.url.starts_with(&format!(
            "{}/apps/gatehouse-test/installations/new?state=",
            fake.base
        )),
        "{}",
        started.url
    );

    // A forged state.
    let forged = github::complete_connect(&db, &ring, &gh, &acme, now, &session, "forged", 1001);
    assert_eq!(field(forged.await), (Invalid, "state"));
    // Another session's state (the same admin, another browser).
    let other_session = github::session_marker("another-browser");
    let s = state_of(&started.url);
    let r = github::complete_connect(&db, &ring, &gh, &acme, now, &other_session, &s, 1001);
    assert_eq!(field(r.await), (Invalid, "state"));
    // ... which also used it up: a replay fails even from the right session.
    let r = github::complete_connect(&db, &ring, &gh, &acme, now, &session, &s, 1001);
    assert_eq!(field(r.await), (Invalid, "state"));
    // Another org's state.
    let s = state_of(&start(&acme, "acme-corp").await.url);
    let r = github::complete_connect(&db, &ring, &gh, &globex, now, &session, &s, 1001);
    assert_eq!(field(r.await), (Invalid, "state"));
    // An expired one.
    let s = state_of(&start(&acme, "acme-corp").await.url);
    let later = now + chrono::Duration::minutes(16);
    let r = github::complete_connect(&db, &ring, &gh, &acme, later, &session, &s, 1001);
    assert_eq!(field(r.await), (Invalid, "state"));
    // Another App's installation (GitHub answers 404 to our JWT).
    let s = state_of(&start(&acme, "acme-corp").await.url);
    let r = github::complete_connect(&db, &ring, &gh, &acme, now, &session, &s, 2001);
    assert_eq!(field(r.await), (Invalid, "installation"));
    // Installed on another account than the admin chose.
    let s = state_of(&start(&acme, "acme-corp").await.url);
    let r = github::complete_connect(&db, &ring, &gh, &acme, now, &session, &s, 1002);
    assert_eq!(field(r.await), (Invalid, "account"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM github_installations")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing is stored after a refused callback");

    // The real thing.
    let s = state_of(&start(&acme, "acme-corp").await.url);
    let i = github::complete_connect(&db, &ring, &gh, &acme, now, &session, &s, 1001)
        .await
        .unwrap();
    assert_eq!(i.account_login, "acme-corp");
    assert_eq!(i.connector_name, "github");
    assert_eq!(
        i.repositories,
        ["acme-corp/api", "acme-corp/infra", "acme-corp/web"]
    );
    assert_eq!(i.permissions["contents"], "write");
    let tools = server::service::connectors::tools(&db, &acme, Some(i.connector_id))
        .await
        .unwrap();
    assert_eq!(tools.len(), 16);
    assert!(
        tools
            .iter()
            .any(|t| t.exposed_name == "github__merge_pull_request")
    );
    // Default runtime policies: merge and default-branch file writes
    // approve, writes monitor, reads allow.
    let policies = server::service::tool_policies::view(&db, &acme)
        .await
        .unwrap();
    let summary: Vec<(String, String)> = policies
        .rules
        .iter()
        .map(|p| (p.tools.clone(), p.action.as_str().to_owned()))
        .collect();
    assert_eq!(
        summary,
        [
            ("github__merge_pull_request".into(), "approve".into()),
            ("github__create_or_update_file".into(), "approve".into()),
            ("github__*".into(), "monitor".into()),
            ("github__*".into(), "allow".into()),
        ]
    );
    // The same installation cannot be connected to another org.
    let globex_session = github::session_marker("globex-browser");
    let s = state_of(
        &github::start_connect(&db, &ring, &globex, now, &globex_session, "acme-corp")
            .await
            .unwrap()
            .url,
    );
    let r = github::complete_connect(&db, &ring, &gh, &globex, now, &globex_session, &s, 1001);
    assert_eq!(field(r.await), (Conflict, "-"));
    // A viewer cannot start one; an API token (no browser session) neither.
    let viewer = ctx(acme.org_id, Uuid::new_v4(), Role::Viewer);
    assert!(
        github::start_connect(&db, &ring, &viewer, now, &session, "acme-corp")
            .await
            .is_err()
    );
    let token = shared::account::TenantCtx {
        actor: shared::account::Actor::ApiToken {
            token_id: Uuid::new_v4(),
        },
        ..acme
    };
    assert!(
        github::start_connect(&db, &ring, &token, now, &session, "acme-corp")
            .await
            .is_err()
    );
    // Every App request was signed with a JWT the fake verified (RS256).
    let requests = fake.get("requests").await;
    assert!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with("/api/v3/app/"))
            .all(|r| r["auth"] == "app_jwt"),
        "{requests}"
    );
}

/// The agent's calls through one pack: `(pack id, key secret, connector id)`.
async fn github_pack(
    db: &PgPool,
    admin: &Admin,
    gh: &server::github::GitHub,
    tools: &[&str],
    repos: &[&str],
) -> (String, String, String) {
    let owner = owner_of(db, "Acme").await;
    let i = connect(db, gh, &owner, "acme-corp", 1001).await.unwrap();
    let pack = admin
        .ok(Method::POST, "/packs", Some(json!({"name": "Repo bot"})))
        .await;
    let pack_id = pack["id"].as_str().unwrap().to_owned();
    let exposed: Vec<String> = tools.iter().map(|t| format!("github__{t}")).collect();
    admin
        .ok(
            Method::PUT,
            &format!("/packs/{pack_id}/tools"),
            Some(json!({"tools": exposed})),
        )
        .await;
    admin
        .ok(
            Method::PUT,
            &format!("/packs/{pack_id}/repositories"),
            Some(json!({"connector_id": i.connector_id, "repositories": repos})),
        )
        .await;
    let user = admin
        .ok(
            Method::POST,
            "/users",
            Some(json!({"external_id": "dev-1", "display_name": "Dev"})),
        )
        .await;
    let key = admin
        .ok(
            Method::POST,
            "/keys",
            Some(json!({"pack_id": pack_id, "registered_user_id": user["id"], "name": "repo bot"})),
        )
        .await;
    (
        pack_id,
        key["secret"].as_str().unwrap().to_owned(),
        i.connector_id.to_string(),
    )
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_agent_reads_two_repositories_and_opens_a_pull_request_and_nothing_more(db: PgPool) {
    let fake = FakeGitHub::start();
    set_app(&db, &fake, None);
    let g = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &g.base, "Acme").await;
    let gh = server::github::GitHub::new(Duration::from_secs(10));
    let (pack_id, key, connector) = github_pack(
        &db,
        &admin,
        &gh,
        &[
            "list_repositories",
            "get_file",
            "list_pull_requests",
            "create_pull_request",
        ],
        &["acme-corp/api", "acme-corp/web"],
    )
    .await;
    // A repository outside the installation cannot be chosen.
    let (status, body) = admin
        .send(
            Method::PUT,
            &format!("/packs/{pack_id}/repositories"),
            Some(json!({"connector_id": connector, "repositories": ["acme-corp/nope"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // Secrets in file contents: the AWS key is redacted in results.
    admin
        .ok(
            Method::PUT,
            "/rules/entities/AWS_ACCESS_KEY",
            Some(json!({"enabled": true, "threshold": "0.5", "arguments": "block", "results": "redact"})),
        )
        .await;
    admin.set_mode("enforce").await;

    let reset = chrono::Utc::now().timestamp() + 120;
    let steps = json!([
        {"op": "list"},
        {"op": "call", "tool": "github__list_repositories", "args": {}},
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "README.md"}},
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/web", "path": "README.md"}},
        // Outside the pack's repositories: never sent to GitHub.
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/infra", "path": "main.tf"}},
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "config/deploy.env"}},
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "missing.txt"}},
        {"op": "call", "tool": "github__create_pull_request",
         "args": {"repository": "acme-corp/api", "title": "Develop into main", "head": "develop"},
         "meta": {"gatehouse.dev/session": "repo-run-1"}},
        // Not in the pack: an unknown tool.
        {"op": "call", "tool": "github__merge_pull_request", "args": {"repository": "acme-corp/api", "number": 7}},
        {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "../../orgs"}},
    ]);
    let out = agent(&g.base, &key, "auto", steps);
    assert_eq!(
        out[0]["tools"],
        json!([
            "github__create_pull_request",
            "github__get_file",
            "github__list_pull_requests",
            "github__list_repositories"
        ])
    );
    let repos: Vec<&str> = out[1]["structured"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["acme-corp/api", "acme-corp/web"], "{}", out[1]);
    assert_eq!(out[2]["is_error"], false, "{}", out[2]);
    assert!(
        out[2]["structured"]["content"]
            .as_str()
            .unwrap()
            .starts_with("# API")
    );
    assert_eq!(out[3]["is_error"], false, "{}", out[3]);
    assert_eq!(out[4]["is_error"], true, "{}", out[4]);
    assert!(
        out[4]["text"]
            .as_str()
            .unwrap()
            .contains("repository acme-corp/infra is not available to this Tool Pack"),
        "{}",
        out[4]
    );
    assert!(fake.requests_for("acme-corp/infra").await.is_empty());
    // The secret was in the file; the agent sees it redacted.
    let env_text = out[5].to_string();
    assert_eq!(out[5]["is_error"], false, "{}", out[5]);
    assert!(!env_text.contains(AWS_KEY), "{env_text}");
    assert!(env_text.contains("AWS_ACCESS_KEY_ID="), "{env_text}");
    assert!(
        out[6]["text"]
            .as_str()
            .unwrap()
            .contains("Not found on GitHub"),
        "{}",
        out[6]
    );
    assert_eq!(out[7]["is_error"], false, "{}", out[7]);
    assert_eq!(out[7]["structured"]["base"], "main", "{}", out[7]);
    assert_eq!(out[8]["rpc_error"]["code"], -32602, "{}", out[8]);
    assert!(
        out[9]["text"]
            .as_str()
            .unwrap()
            .contains("Invalid arguments"),
        "{}",
        out[9]
    );

    // Rate limited: the agent is told when it resets.
    fake.post("rate_limit", json!({"reset": reset})).await;
    let out = agent(
        &g.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "README.md"}}]),
    );
    fake.post("rate_limit", json!({})).await;
    let text = out[0]["text"].as_str().unwrap();
    assert_eq!(out[0]["is_error"], true);
    assert!(
        text.contains("rate limit") && text.contains("resets at"),
        "{text}"
    );

    // Tokens: minted for exactly the pack's repositories and the
    // permissions its tools need, once (then cached).
    let tokens = fake.get("tokens").await;
    let scoped: Vec<&Value> = tokens
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["requested_repositories"].is_null())
        .collect();
    assert_eq!(scoped.len(), 1, "{tokens}");
    assert_eq!(
        scoped[0]["repositories"],
        json!(["acme-corp/api", "acme-corp/web"])
    );
    assert_eq!(
        scoped[0]["requested_permissions"],
        json!({"contents": "read", "metadata": "read", "pull_requests": "write"})
    );
    // Only the pull request reached GitHub as a write.
    let writes: Vec<Value> = fake
        .get("requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] != "GET" && r["auth"] == "token")
        .cloned()
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0]["path"], "/api/v3/repos/acme-corp/api/pulls");

    // Records: the repository and GitHub's request id; the refused call
    // blocked before GitHub.
    let calls = admin.ok(Method::GET, "/calls?limit=50", None).await;
    let items = calls["items"].as_array().unwrap();
    let env_call = items
        .iter()
        .find(|c| {
            c["tool"] == "github__get_file"
                && c["resource"] == "acme-corp/api"
                && c["decision"] == "redact"
        })
        .unwrap_or_else(|| panic!("{calls}"));
    assert!(
        env_call["upstream_request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("FAKE")),
        "{env_call}"
    );
    let blocked = items
        .iter()
        .find(|c| c["resource"] == "acme-corp/infra")
        .unwrap();
    assert_eq!(blocked["decision"], "block");
    assert!(
        blocked["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("github_repository_not_in_pack")),
        "{blocked}"
    );
    // The pull request is on its runtime session's timeline.
    let pr = items
        .iter()
        .find(|c| c["tool"] == "github__create_pull_request")
        .unwrap();
    let session = admin
        .ok(
            Method::GET,
            &format!("/sessions/{}", pr["session_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(session["session"]["name"], "repo-run-1", "{session}");
    assert_eq!(session["timeline"][0]["call"]["resource"], "acme-corp/api");
    // No secret and no GitHub token anywhere in the database.
    let all = dump(&db);
    assert!(!all.contains(AWS_KEY));
    assert!(!all.contains(GH_TOKEN));
    assert!(!all.contains("ghs_"), "an installation token was stored");
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn signed_installation_webhooks_keep_the_installation_current(db: PgPool) {
    let fake = FakeGitHub::start();
    set_app(&db, &fake, Some(HOOK_SECRET));
    let g = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &g.base, "Acme").await;
    let gh = server::github::GitHub::new(Duration::from_secs(10));
    let (_, key, connector) = github_pack(
        &db,
        &admin,
        &gh,
        &["get_file"],
        &["acme-corp/api", "acme-corp/web"],
    )
    .await;
    let hook_as =
        |event: &'static str, body: Value, signature: Option<String>, delivery: String| {
            let url = format!("{}/github/webhook", g.base);
            async move {
                let bytes = serde_json::to_vec(&body).unwrap();
                let sig = signature.unwrap_or_else(|| sign(&bytes));
                http()
                    .post(url)
                    .header("X-GitHub-Event", event)
                    .header("X-GitHub-Delivery", delivery)
                    .header("X-Hub-Signature-256", sig)
                    .header("Content-Type", "application/json")
                    .body(bytes)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
    let hook = |event: &'static str, body: Value, signature: Option<String>| {
        hook_as(event, body, signature, Uuid::new_v4().to_string())
    };
    let removed = json!({"action": "removed", "installation": {"id": 1001},
        "repository_selection": "selected", "repositories_added": [],
        "repositories_removed": [{"full_name": "acme-corp/web"}]});
    // A forged delivery changes nothing.
    assert_eq!(
        hook(
            "installation_repositories",
            removed.clone(),
            Some(sign(b"other body"))
        )
        .await,
        401
    );
    assert_eq!(
        hook(
            "installation_repositories",
            removed.clone(),
            Some(String::new())
        )
        .await,
        401
    );
    let i = admin
        .ok(
            Method::GET,
            &format!("/connectors/{connector}/github"),
            None,
        )
        .await;
    assert_eq!(i["repositories"].as_array().unwrap().len(), 3);
    // A signed one applies.
    assert_eq!(hook("installation_repositories", removed, None).await, 204);
    let i = admin
        .ok(
            Method::GET,
            &format!("/connectors/{connector}/github"),
            None,
        )
        .await;
    assert_eq!(
        i["repositories"],
        json!(["acme-corp/api", "acme-corp/infra"])
    );
    // The pack chose web, but the installation no longer reaches it.
    fake.post(
        "installations/1001",
        json!({"repositories": ["acme-corp/api", "acme-corp/infra"]}),
    )
    .await;
    let out = agent(
        &g.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/web", "path": "README.md"}},
               {"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "README.md"}}]),
    );
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    assert_eq!(out[1]["is_error"], false, "{}", out[1]);
    // Suspended on GitHub: calls fail without reaching GitHub.
    let before = fake.requests_for("acme-corp/api").await.len();
    assert_eq!(
        hook(
            "installation",
            json!({"action": "suspend", "installation": {"id": 1001}}),
            None
        )
        .await,
        204
    );
    let i = admin
        .ok(
            Method::GET,
            &format!("/connectors/{connector}/github"),
            None,
        )
        .await;
    assert_eq!(i["status"], "suspended");
    let out = agent(
        &g.base,
        &key,
        "auto",
        json!([{"op": "call", "tool": "github__get_file", "args": {"repository": "acme-corp/api", "path": "README.md"}}]),
    );
    assert!(
        out[0]["text"].as_str().unwrap().contains("suspended"),
        "{}",
        out[0]
    );
    assert_eq!(fake.requests_for("acme-corp/api").await.len(), before);
    // Unsuspended; a captured "suspend" delivery replayed later is ignored.
    let suspend = json!({"action": "suspend", "installation": {"id": 1001}});
    assert_eq!(
        hook_as("installation", suspend.clone(), None, "delivery-1".into()).await,
        204
    );
    let unsuspend = json!({"action": "unsuspend", "installation": {"id": 1001}});
    assert_eq!(hook("installation", unsuspend, None).await, 204);
    assert_eq!(
        hook_as("installation", suspend, None, "delivery-1".into()).await,
        204
    );
    let i = admin
        .ok(
            Method::GET,
            &format!("/connectors/{connector}/github"),
            None,
        )
        .await;
    assert_eq!(i["status"], "active");
    // Events about installations we do not hold, or that we do not act
    // on, are accepted and ignored.
    assert_eq!(
        hook(
            "installation",
            json!({"action": "deleted", "installation": {"id": 999}}),
            None
        )
        .await,
        204
    );
    assert_eq!(
        hook("push", json!({"ref": "refs/heads/main"}), None).await,
        204
    );
}
