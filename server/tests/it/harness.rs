//! Real processes for MCP tests: the fixture upstream (official Python SDK),
//! `gatehouse serve` on the test's own database, and the scripted Python
//! agent. Everything talks over loopback HTTP, as in production.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::org_with_owner;
use serde_json::{Value, json};
use shared::api::ApiTokenInput;
use sqlx::PgPool;

/// An HTTP client (reqwest needs the process-wide TLS provider first).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The Python with the `mcp` SDK (scripts/test creates it).
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GATEHOUSE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let p = PathBuf::from(home).join(".cache/gatehouse/venv/bin/python");
    assert!(
        p.exists(),
        "the MCP Python SDK venv is missing at {}: run scripts/test (or `python3 -m venv` it and \
         `pip install -r e2e/mcp/requirements.txt`), or set GATEHOUSE_TEST_PYTHON",
        p.display()
    );
    p
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "gh-it-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited during start-up: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.0.wait();
    }
}

/// The fixture upstream MCP server.
pub struct Upstream {
    pub url: String,
    pub log: PathBuf,
    _proc: Proc,
}

impl Upstream {
    pub fn start(stateless: bool, require_header: Option<&str>) -> Self {
        Self::start_with(stateless, require_header, &[])
    }

    /// As [`Upstream::start`], with more command-line flags.
    pub fn start_with(stateless: bool, require_header: Option<&str>, flags: &[&str]) -> Self {
        let port = free_port();
        let dir = temp_dir("upstream");
        let log = dir.join("calls.jsonl");
        let mut cmd = Command::new(python());
        cmd.arg(repo().join("e2e/mcp/upstream.py"))
            .arg("--port")
            .arg(port.to_string())
            .env("FIXTURE_LOG", &log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if stateless {
            cmd.arg("--stateless");
        }
        if let Some(h) = require_header {
            cmd.arg("--require-header").arg(h);
        }
        cmd.args(flags);
        let mut child = cmd.spawn().unwrap();
        wait_for_port(port, "fixture upstream", &mut child);
        Upstream {
            url: format!("http://127.0.0.1:{port}/mcp"),
            log,
            _proc: Proc(child),
        }
    }

    /// Kills the server outright (no graceful shutdown: in-flight calls
    /// are cut).
    pub fn kill(self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self._proc.0.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }

    /// Every call the upstream received, in order.
    pub fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The URL of the database behind a `#[sqlx::test]` pool.
pub fn database_url(db: &PgPool) -> String {
    let name = db.connect_options().get_database().unwrap().to_owned();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    // Replace the path (database name), keep any ?host=… socket parameter.
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h.to_owned(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let prefix = head.rsplit_once('/').map(|(p, _)| p).unwrap_or(&head);
    format!("{prefix}/{name}{query}")
}

/// The master key every test server of a deployment shares.
pub const MASTER_KEY: &str = "aXQtbWFzdGVyLWtleS1mb3ItdGVzdHMtMzItYnl0ZXM=";

/// A running `gatehouse serve`.
pub struct Gatehouse {
    pub base: String,
    _proc: Proc,
    _dir: PathBuf,
}

impl Gatehouse {
    pub fn start(db: &PgPool, extra_env: &[(&str, &str)]) -> Self {
        Self::start_at(&database_url(db), extra_env)
    }

    /// As [`Gatehouse::start`], with its log (level info) written to `log`.
    pub fn start_logged(db: &PgPool, extra_env: &[(&str, &str)], log: &Path) -> Self {
        Self::spawn(&database_url(db), extra_env, Some(log))
    }

    /// As [`Gatehouse::start`], on the database at `url`.
    pub fn start_at(url: &str, extra_env: &[(&str, &str)]) -> Self {
        Self::spawn(url, extra_env, None)
    }

    fn spawn(url: &str, extra_env: &[(&str, &str)], log: Option<&Path>) -> Self {
        let port = free_port();
        let dir = temp_dir("gatehouse");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.arg("serve")
            .env("DATABASE_URL", url)
            .env("GATEHOUSE_ADDR", format!("127.0.0.1:{port}"))
            .env("GATEHOUSE_DATA_DIR", &dir)
            .env("GATEHOUSE_SITE_ROOT", "/nonexistent")
            .env("GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "true")
            // Every process of a deployment shares one master key.
            .env("GATEHOUSE_MASTER_KEY", MASTER_KEY)
            // Fuzzers and loops of admin calls would meet the per-org API
            // rate; the rate-limit test sets it back.
            .env("GATEHOUSE_API_RATE_PER_ORG", "0")
            .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
            // The log goes to stdout.
            .stdout(match log {
                Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
                None => Stdio::null(),
            })
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        wait_for_port(port, "gatehouse", &mut child);
        Gatehouse {
            base: format!("http://127.0.0.1:{port}"),
            _proc: Proc(child),
            _dir: dir,
        }
    }
}

/// An admin API client for one org.
pub struct Admin {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

impl Admin {
    /// Creates an org and an admin API token directly in the database.
    pub async fn create(db: &PgPool, base: &str, org: &str) -> Self {
        let (owner, _, _) =
            org_with_owner(db, org, &format!("owner@{}.test", org.to_lowercase())).await;
        let token = server::service::api_tokens::create(
            db,
            &owner,
            chrono::Utc::now(),
            &ApiTokenInput {
                name: "tests".into(),
                role: "admin".into(),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
        Admin {
            base: base.to_owned(),
            token,
            http: http(),
        }
    }

    /// The same org and token, talking to another server of the deployment.
    pub fn at(self, base: &str) -> Self {
        Admin {
            base: base.to_owned(),
            ..self
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.send(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} -> {status}: {v}"
        );
        v
    }

    /// Connector + pack (with `tools`) + user + key; returns (pack id, key secret).
    pub async fn agent_setup(
        &self,
        upstream: &Upstream,
        header: Option<(&str, &str)>,
        tools: &[&str],
    ) -> (String, String) {
        let mut c = json!({"name": "fixture", "url": upstream.url});
        if let Some((n, v)) = header {
            c["auth_header_name"] = json!(n);
            c["auth_header_value"] = json!(v);
        }
        let created = self.ok(reqwest::Method::POST, "/connectors", Some(c)).await;
        assert_eq!(created["discovery"]["ok"], true, "{created}");
        let pack = self
            .ok(
                reqwest::Method::POST,
                "/packs",
                Some(json!({"name": "Support bot"})),
            )
            .await;
        let pack_id = pack["id"].as_str().unwrap().to_owned();
        let exposed: Vec<String> = tools.iter().map(|t| format!("fixture__{t}")).collect();
        self.ok(
            reqwest::Method::PUT,
            &format!("/packs/{pack_id}/tools"),
            Some(json!({"tools": exposed})),
        )
        .await;
        let user = self
            .ok(
                reqwest::Method::POST,
                "/users",
                Some(json!({"external_id": "u-1", "display_name": "Ursula"})),
            )
            .await;
        let key = self
            .ok(
                reqwest::Method::POST,
                "/keys",
                Some(
                    json!({"pack_id": pack_id, "registered_user_id": user["id"], "name": "tests"}),
                ),
            )
            .await;
        (pack_id, key["secret"].as_str().unwrap().to_owned())
    }

    pub async fn set_mode(&self, mode: &str) {
        self.ok(
            reqwest::Method::PUT,
            "/org/mode",
            Some(json!({"mode": mode})),
        )
        .await;
    }
}

/// Runs the scripted Python SDK agent; one JSON result per step.
pub fn agent(base: &str, key: &str, mode: &str, steps: Value) -> Vec<Value> {
    agent_with(base, Some(key), None, mode, steps).unwrap()
}

/// As [`agent`], optionally with a ready bearer token; Err(stdout+stderr) on failure.
pub fn agent_with(
    base: &str,
    key: Option<&str>,
    token: Option<&str>,
    mode: &str,
    steps: Value,
) -> Result<Vec<Value>, String> {
    // `<mode>+tasks`: the agent declares the MCP tasks extension;
    // `<mode>+header:NAME:VALUE`: it sends that header on every request.
    let (mode, header) = match mode.split_once("+header:") {
        Some((m, h)) => (m, Some(h)),
        None => (mode, None),
    };
    let (mode, tasks) = match mode.strip_suffix("+tasks") {
        Some(m) => (m, true),
        None => (mode, false),
    };
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("e2e/mcp/agent.py"))
        .arg("--base")
        .arg(base)
        .arg("--mode")
        .arg(mode);
    if tasks {
        cmd.arg("--tasks");
    }
    if let Some(h) = header {
        cmd.arg("--header").arg(h);
    }
    if let Some(t) = token {
        cmd.arg("--token").arg(t);
    }
    if let Some(k) = key {
        cmd.env("GATEHOUSE_AGENT_KEY", k);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| format!("{e}: {stdout}"))
}

/// Fetches an agent token at the token endpoint.
pub async fn token(base: &str, key: &str) -> (u16, Value) {
    let res = http()
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials"), ("client_secret", key)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `pg_dump` of the test database as text (for "no raw value anywhere").
pub fn dump(db: &PgPool) -> String {
    let pg_bin = [
        "/usr/lib/postgresql/15/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/17/bin",
    ]
    .iter()
    .map(Path::new)
    .find(|p| p.join("pg_dump").exists())
    .map(|p| p.join("pg_dump"))
    .unwrap_or_else(|| PathBuf::from("pg_dump"));
    let out = Command::new(pg_bin)
        .arg("--data-only")
        .arg("--dbname")
        .arg(database_url(db))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Reads lines of a file as they are (for debugging failed tests).
#[allow(dead_code)]
pub fn read_lines(p: &Path) -> Vec<String> {
    std::fs::File::open(p)
        .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
        .unwrap_or_default()
}
