//! Load benchmark: `tools/call` through Gatehouse versus the same upstream
//! called directly, in one run, on loopback.
//!
//!     cargo bench -p server --bench gateway_load [-- --calls 2000 --clients 16 --seconds 10]
//!         [--arg-bytes 4096] [--custom-rules 0] [--phases latency,throughput,replicas,quota]
//!         [--phases tenants --tenants 1,10,100,1000,10000]
//!
//! * Upstream: an in-process rmcp Streamable HTTP server with one `echo`
//!   tool (so the upstream itself costs almost nothing).
//! * Gatehouse: the real router (`server::http::router`) in the same
//!   process, enforce mode, every default rule on, records written to
//!   Postgres (`DATABASE_URL`, else an embedded cluster in a temp dir).
//! * Arguments: a 4 KB (`--arg-bytes`) JSON object of realistic tool-call
//!   text with a few values the default rules redact (a card number, an
//!   SSN); `--custom-rules N` adds N regex rules to the org's defaults.
//! * Phase 1 (latency): one client, sequential calls, direct then through
//!   Gatehouse; reports p50/p99 and the difference ("added").
//! * Phase 2 (throughput): `--clients` concurrent clients for `--seconds`,
//!   direct then through Gatehouse; reports calls/s.
//! * After phases 1 and 2: where the time went, per stage, read from the
//!   `gatehouse_stage_seconds` histograms of `/metrics`.
//! * Replicas (with `DATABASE_URL`): the same clients through one and two
//!   `gatehouse serve` processes on the benchmark's database.
//! * Phase 3 (enforce quota): `--clients` concurrent clients, each
//!   authorising and recording `--calls / 4` calls: the authorisation query
//!   (which reads the period's usage with the org), the usage lookup on its
//!   own (an upper bound of what the join adds), and a decision record
//!   written with and without its quota charge (the count rides in the
//!   same statement); reports p50/p99 of each and the difference.
//!
//! * Tenants (`--phases tenants`, with `DATABASE_URL`): 1 to 10,000 orgs
//!   with active packs on one `gatehouse serve` process: latency, cache
//!   hit rates and resident memory as the number of tenants grows.
//!
//! Everything runs on one machine (2 cores here): client, upstream,
//! Gatehouse and Postgres compete for the same CPUs, so absolute numbers
//! are pessimistic for a real deployment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use leptos::config::LeptosOptions;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig,
    ContentBlock, Implementation, JsonObject, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{
    ClientLifecycleMode, ClientServiceExt, ErrorData, RoleClient, RoleServer, ServerHandler,
};
use serde_json::{Value, json};
use server::clock::Clock;
use server::crypto::Keyring;
use server::master_key::MasterKey;
use server::state::AppState;
use shared::account::{Actor, OrgMode, Role, SignUpInput, TenantCtx};
use shared::api::{AgentKeyInput, ConnectorInput, RegisteredUserInput, ToolPackInput};

/// The fewest calls a tenants round makes.
const ROUND_CALLS: usize = 2000;

/// The replicas' `/metrics` token (loopback only, for the tenants phase).
const METRICS_TOKEN: &str = "bench-metrics";

#[derive(Clone)]
struct Echo;

impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bench-echo", "1"))
    }
    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema: JsonObject = serde_json::from_value(json!({"type": "object"})).unwrap();
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "echo",
            "Echo the arguments",
            schema,
        )]))
    }
    async fn call_tool(
        &self,
        req: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let text = serde_json::to_string(&req.arguments.unwrap_or_default()).unwrap();
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// The deployment's master key (the replicas get it too).
const MASTER_KEY: &str = "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE=";

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The size of the arguments (`--arg-bytes`, default 4 KB).
static ARG_BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// An argument object of about `--arg-bytes` resembling a support-ticket
/// tool call.
fn payload() -> JsonObject {
    let mut body = String::new();
    let filler =
        "The customer reports that the export job fails after the nightly sync; logs attached. ";
    let target = ARG_BYTES.get().copied().unwrap_or(4096).saturating_sub(500);
    while body.len() < target {
        body.push_str(filler);
    }
    serde_json::from_value(json!({
        "ticket": "TCK-20931",
        "subject": "Export fails for account 8841",
        "body": body,
        "customer": {"name": "Jordan Miles", "card_on_file": "4111 1111 1111 1111", "tax_id": "536-22-8726"},
        "tags": ["export", "sync", "priority-2"],
    }))
    .unwrap()
}

async fn client(url: &str, token: Option<&str>) -> RunningService<RoleClient, ClientConfig> {
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(t) = token {
        cfg = cfg.auth_header(t.to_owned());
    }
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("bench", "1"),
    )
    .serve_with_lifecycle(
        StreamableHttpClientTransport::from_config(cfg),
        ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn latency(url: &str, token: Option<&str>, tool: &str, calls: u64) -> Vec<Duration> {
    let c = client(url, token).await;
    let args = payload();
    for _ in 0..50 {
        c.peer()
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args.clone()))
            .await
            .unwrap();
    }
    let mut out = Vec::with_capacity(calls as usize);
    for _ in 0..calls {
        let t = Instant::now();
        let r = c
            .peer()
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args.clone()))
            .await
            .unwrap();
        out.push(t.elapsed());
        assert_ne!(r.is_error, Some(true));
    }
    out.sort();
    out
}

/// Calls per second of `clients` concurrent clients for `seconds`, spread
/// round-robin over `urls`.
async fn throughput(
    urls: &[String],
    token: Option<&str>,
    tool: &str,
    clients: u64,
    seconds: u64,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..clients {
        let url = urls[i as usize % urls.len()].clone();
        let token = token.map(str::to_owned);
        let tool = tool.to_owned();
        tasks.push(tokio::spawn(async move {
            let c = client(&url, token.as_deref()).await;
            let args = payload();
            let mut n = 0u64;
            while Instant::now() < deadline {
                c.peer()
                    .call_tool(
                        CallToolRequestParams::new(tool.clone()).with_arguments(args.clone()),
                    )
                    .await
                    .unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / seconds as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls = arg(&args, "--calls", 2000);
    let clients = arg(&args, "--clients", 16);
    let seconds = arg(&args, "--seconds", 10);
    let _ = ARG_BYTES.set(arg(&args, "--arg-bytes", 4096) as usize);
    let custom_rules = arg(&args, "--custom-rules", 0);
    // Which phases run (cost-curve sweeps run one at a time).
    let phases = args
        .iter()
        .position(|a| a == "--phases")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "latency,throughput,replicas,quota".to_owned());
    let phase = |name: &str| phases.split(',').any(|p| p == name);
    let _ = rustls::crypto::ring::default_provider().install_default();

    // Upstream.
    let echo: StreamableHttpService<Echo, LocalSessionManager> = StreamableHttpService::new(
        || Ok(Echo),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_url = format!("http://{}/mcp", up.local_addr().unwrap());
    tokio::spawn(
        async move { axum::serve(up, axum::Router::new().nest_service("/mcp", echo)).await },
    );

    // Database.
    let bench = support::BenchDb::create("gh_bench", 32).await;
    let db = bench.db.clone();

    // Gatehouse, in process.
    let gh_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gh_addr = gh_listener.local_addr().unwrap();
    let cli = <server::config::Cli as clap::Parser>::parse_from([
        "gatehouse".to_owned(),
        "--public-url".to_owned(),
        format!("http://{gh_addr}"),
        "--site-root".to_owned(),
        "/nonexistent".to_owned(),
        "--allow-private-upstreams".to_owned(),
        "true".to_owned(),
        // Load, not abuse: the per-key and per-org rates would cap it.
        "--mcp-rate-per-key".to_owned(),
        "0".to_owned(),
        "--mcp-rate-per-org".to_owned(),
        "0".to_owned(),
    ]);
    let config = server::config::Config::from_args(&cli.serve).unwrap();
    let key = MasterKey::from_base64(MASTER_KEY).unwrap();
    let state = AppState::build(
        db.clone(),
        config,
        Keyring::new(&key, &[]),
        LeptosOptions::builder()
            .output_name("web")
            .site_root("/nonexistent")
            .build(),
        Clock::system(),
    )
    .await
    .unwrap();
    let app = server::http::router(state.clone(), tower_sessions::MemoryStore::default());
    tokio::spawn(async move {
        axum::serve(
            gh_listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    // Configure: org (enforce), connector, pack, user, key, token.
    let input = SignUpInput {
        org_name: "Bench".into(),
        email: "bench@example.com".into(),
        password: "bench passphrase 123".into(),
    }
    .parse()
    .unwrap();
    let (user, org) = server::service::accounts::sign_up(&db, &input)
        .await
        .unwrap();
    let t = TenantCtx {
        org_id: org,
        role: Role::Owner,
        actor: Actor::Member { user_id: user },
    };
    server::service::accounts::set_mode(&db, &t, chrono::Utc::now(), OrgMode::Enforce)
        .await
        .unwrap();
    // A quota that is checked and counted but never runs out, so every
    // phase measures enforce mode.
    server::service::enforcement::set_plan(
        &db,
        &state.config.plans,
        chrono::Utc::now(),
        org,
        shared::api::PlanChange {
            plan: shared::api::Plan::Team,
            enforce_quota: Some(1_000_000_000),
        },
    )
    .await
    .unwrap();
    // Custom regex rules on top of the defaults (each scans both
    // directions; none matches the payload).
    for i in 0..custom_rules {
        server::service::rules::save_custom_rule(
            &db,
            &t,
            None,
            &shared::policy::CustomRuleInput {
                name: format!("Bench rule {i}"),
                label: format!("BENCH_{i}"),
                pattern: format!(r"\bB{i}X-\d{{6}}\b"),
                score: "0.8".into(),
                arguments: "redact".into(),
                results: "redact".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let secret = agent_key(&state, &t, &up_url).await;
    let token = agent_token(&format!("http://{gh_addr}"), &secret).await;
    let gh_url = format!("http://{gh_addr}/mcp");

    // Sanity: the call through Gatehouse really redacts.
    let probe = client(&gh_url, Some(&token)).await;
    let r = probe
        .peer()
        .call_tool(CallToolRequestParams::new("up__echo").with_arguments(payload()))
        .await
        .unwrap();
    let text = serde_json::to_string(&r.content).unwrap();
    assert!(
        text.contains("[REDACTED:CREDIT_CARD]") && !text.contains("4111 1111"),
        "{text}"
    );

    println!(
        "gateway_load: {} B arguments, enforce mode, default rules + {custom_rules} custom, records written",
        serde_json::to_string(&payload()).unwrap().len()
    );
    let mut direct_rate = None;
    if phase("latency") {
        let direct = latency(&up_url, None, "echo", calls).await;
        let before = Stages::read(&state.metrics.render());
        let through = latency(&gh_url, Some(&token), "up__echo", calls).await;
        let sequential = Stages::read(&state.metrics.render()).since(&before);
        println!("\nlatency, 1 client, {calls} sequential calls:");
        println!(
            "  {:<10} {:>9} {:>9} {:>9}",
            "", "p50 ms", "p99 ms", "max ms"
        );
        for (name, v) in [("direct", &direct), ("gatehouse", &through)] {
            println!(
                "  {:<10} {:>9.3} {:>9.3} {:>9.3}",
                name,
                ms(pct(v, 0.5)),
                ms(pct(v, 0.99)),
                ms(*v.last().unwrap())
            );
        }
        println!(
            "  {:<10} {:>9.3} {:>9.3}",
            "added",
            ms(pct(&through, 0.5)) - ms(pct(&direct, 0.5)),
            ms(pct(&through, 0.99)) - ms(pct(&direct, 0.99))
        );
        sequential.print("where the time goes, sequential calls (from /metrics)");
    }
    if phase("throughput") || phase("replicas") {
        let d = throughput(
            std::slice::from_ref(&up_url),
            None,
            "echo",
            clients,
            seconds,
        )
        .await;
        println!("\nthroughput, {clients} clients, {seconds} s each:");
        println!("  direct     {d:>9.0} calls/s");
        direct_rate = Some(d);
    }
    if let (true, Some(d)) = (phase("throughput"), direct_rate) {
        let before = Stages::read(&state.metrics.render());
        let g = throughput(
            std::slice::from_ref(&gh_url),
            Some(&token),
            "up__echo",
            clients,
            seconds,
        )
        .await;
        let loaded = Stages::read(&state.metrics.render()).since(&before);
        println!(
            "  gatehouse  {g:>9.0} calls/s  ({:.0}% of direct)",
            100.0 * g / d
        );
        loaded.print(&format!(
            "where the time goes, {clients} clients (from /metrics)"
        ));
    }
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM tool_calls")
        .fetch_one(&db)
        .await
        .unwrap();
    println!("\nrecords written: {recorded} calls");

    if let (true, Some(d)) = (phase("replicas"), direct_rate) {
        if let Some(url) = bench.url() {
            replicas_phase(
                &url,
                &format!("http://{gh_addr}"),
                &token,
                clients,
                seconds,
                d,
            )
            .await;
            let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM tool_calls")
                .fetch_one(&db)
                .await
                .unwrap();
            println!("records written so far: {recorded} calls");
        } else {
            println!("\nreplicas: skipped (set DATABASE_URL: the replicas are separate processes)");
        }
    }

    if phase("tenants") {
        let steps: Vec<usize> = args
            .iter()
            .position(|a| a == "--tenants")
            .and_then(|i| args.get(i + 1))
            .map_or("1,10,100,1000,10000", String::as_str)
            .split(',')
            .filter_map(|n| n.parse().ok())
            .collect();
        match bench.url() {
            Some(url) => {
                tenants_phase(
                    &state,
                    user,
                    &url,
                    &format!("http://{gh_addr}"),
                    &up_url,
                    &steps,
                    clients as usize,
                )
                .await
            }
            None => println!("\ntenants: skipped (needs DATABASE_URL)"),
        }
    }
    if phase("quota") {
        quota_phase(
            &state,
            &token,
            org,
            clients as usize,
            (calls / 4).max(1) as usize,
        )
        .await;
    }

    bench.finish().await;
}

/// Runs `f` `n` times on each of `clients` concurrent tasks; every call's
/// duration, sorted.
async fn concurrently<F, Fut>(clients: usize, n: usize, f: F) -> Vec<Duration>
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                f().await;
                out.push(t.elapsed());
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all
}

fn record(org: uuid::Uuid, charged: bool) -> server::recorder::CallRecord {
    use server::recorder::{CallRecord, Charge, SessionRecord};
    let now = chrono::Utc::now();
    CallRecord {
        id: uuid::Uuid::new_v4(),
        org_id: org,
        pack_id: uuid::Uuid::nil(),
        registered_user_id: uuid::Uuid::nil(),
        agent_key_id: uuid::Uuid::nil(),
        session: SessionRecord {
            id: uuid::Uuid::new_v4(),
            kind: shared::api::SessionKind::Token,
            name: None,
            mcp_session_id: None,
        },
        connector_id: None,
        tool: "up__echo".into(),
        upstream_tool: Some("echo".into()),
        mode: OrgMode::Enforce,
        charge: charged.then(|| Charge {
            period: shared::api::Period::of(now),
            quota: Some(1_000_000_000),
        }),
        decision: shared::api::Decision::Allow,
        reasons: vec![],
        outcome: shared::api::Outcome::Ok,
        arguments_redacted: None,
        error_message: None,
        latency_us: 1,
        upstream_us: None,
        resource: None,
        upstream_request_id: None,
        statement: None,
        mcp_session_id: None,
        client_name: None,
        client_version: None,
        protocol_version: None,
        created_at: now,
        violations: vec![],
        approval_id: None,
        intent: false,
    }
}

async fn quota_phase(state: &AppState, token: &str, org: uuid::Uuid, clients: usize, n: usize) {
    println!("\nenforce quota, {clients} concurrent clients, {n} calls each:");
    println!("  {:<34} {:>9} {:>9}", "", "p50 ms", "p99 ms");
    let row = |name: &str, v: &[Duration]| {
        println!(
            "  {:<34} {:>9.3} {:>9.3}",
            name,
            ms(pct(v, 0.5)),
            ms(pct(v, 0.99))
        );
    };
    for cached in [false, true] {
        let gateway = state.gateway.clone();
        let token = token.to_owned();
        let auth = concurrently(clients, n, move || {
            let (g, t) = (gateway.clone(), token.clone());
            async move {
                if !cached {
                    g.access.clear();
                }
                g.authorize(&t).await.unwrap();
            }
        })
        .await;
        row(
            if cached {
                "authorise, cached answer"
            } else {
                "authorise, query (reads usage too)"
            },
            &auth,
        );
    }
    let db = state.db.clone();
    let period = shared::api::Period::of(chrono::Utc::now()).first_day();
    let lookup = concurrently(clients, n, move || {
        let db = db.clone();
        async move {
            let _: Option<i64> = sqlx::query_scalar(
                "SELECT used FROM enforce_usage WHERE org_id = $1 AND period = $2",
            )
            .bind(org)
            .bind(period)
            .fetch_optional(&db)
            .await
            .unwrap();
        }
    })
    .await;
    row("usage lookup alone (upper bound)", &lookup);
    let mut figures = Vec::new();
    for charged in [false, true] {
        let recorder = state.gateway.recorder.clone();
        let v = concurrently(clients, n, move || {
            let r = recorder.clone();
            async move {
                r.record(record(org, charged)).await.unwrap();
            }
        })
        .await;
        row(
            if charged {
                "record, counted against the quota"
            } else {
                "record, not counted"
            },
            &v,
        );
        figures.push(v);
    }
    println!(
        "  {:<34} {:>9.3} {:>9.3}",
        "counting adds",
        ms(pct(&figures[1], 0.5)) - ms(pct(&figures[0], 0.5)),
        ms(pct(&figures[1], 0.99)) - ms(pct(&figures[0], 0.99))
    );
}

/// The per-stage histograms of `/metrics` (`gatehouse_stage_seconds`),
/// read from the text exposition as a Prometheus server would.
#[derive(Default)]
struct Stages {
    /// Per stage, in the order they run: sum of seconds, count, and the
    /// cumulative buckets `(upper bound, count)`.
    stages: Vec<(String, f64, u64, Vec<(f64, u64)>)>,
}

impl Stages {
    fn read(text: &str) -> Self {
        let label = |line: &str, name: &str| -> Option<String> {
            let start = line.find(&format!("{name}=\""))? + name.len() + 2;
            let end = line[start..].find('"')? + start;
            Some(line[start..end].to_owned())
        };
        let value = |line: &str| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap();
        let mut stages: Vec<(String, f64, u64, Vec<(f64, u64)>)> = server::metrics::Stage::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0.0, 0, Vec::new()))
            .collect();
        for line in text
            .lines()
            .filter(|l| l.starts_with("gatehouse_stage_seconds"))
        {
            let Some(stage) = label(line, "stage") else {
                continue;
            };
            let Some(entry) = stages.iter_mut().find(|s| s.0 == stage) else {
                continue;
            };
            if line.starts_with("gatehouse_stage_seconds_sum") {
                entry.1 = value(line);
            } else if line.starts_with("gatehouse_stage_seconds_count") {
                entry.2 = value(line) as u64;
            } else if let Some(le) = label(line, "le") {
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                entry.3.push((le, value(line) as u64));
            }
        }
        Self { stages }
    }

    /// What happened between `before` and now.
    fn since(&self, before: &Stages) -> Stages {
        let stages = self
            .stages
            .iter()
            .zip(&before.stages)
            .map(|(now, then)| {
                let buckets = now
                    .3
                    .iter()
                    .map(|&(le, n)| {
                        let old = then.3.iter().find(|b| b.0 == le).map_or(0, |b| b.1);
                        (le, n - old)
                    })
                    .collect();
                (now.0.clone(), now.1 - then.1, now.2 - then.2, buckets)
            })
            .collect();
        Stages { stages }
    }

    /// The upper bound of the bucket holding the `p` quantile.
    fn quantile(buckets: &[(f64, u64)], count: u64, p: f64) -> f64 {
        let rank = (count as f64 * p).ceil() as u64;
        buckets
            .iter()
            .find(|b| b.1 >= rank.max(1))
            .map_or(f64::INFINITY, |b| b.0)
    }

    fn print(&self, title: &str) {
        println!("\n{title}:");
        println!(
            "  {:<16} {:>8} {:>10} {:>10} {:>10}",
            "stage", "calls", "mean ms", "p50 ≤ ms", "p99 ≤ ms"
        );
        let mut total = 0.0;
        for (name, sum, count, buckets) in &self.stages {
            if *count == 0 {
                continue;
            }
            let mean = sum / *count as f64;
            if name != "dispatch" {
                total += mean;
            }
            println!(
                "  {:<16} {:>8} {:>10.3} {:>10.3} {:>10.3}",
                name,
                count,
                mean * 1000.0,
                Self::quantile(buckets, *count, 0.5) * 1000.0,
                Self::quantile(buckets, *count, 0.99) * 1000.0
            );
        }
        println!(
            "  {:<16} {:>8} {:>10.3}   (every stage but dispatch; the rest is HTTP and MCP framing)",
            "sum",
            "",
            total * 1000.0
        );
    }
}

/// Phase 4: throughput through one and then two `gatehouse serve`
/// processes (this benchmark's release binary) on the benchmark's
/// database, clients spread round-robin. They share the public URL, the
/// master key and so the signing keys: the same token works on both, as
/// behind a load balancer.
async fn replicas_phase(
    database_url: &str,
    public: &str,
    token: &str,
    clients: u64,
    seconds: u64,
    direct: f64,
) {
    let mut children = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let (child, base) = replica(database_url, public).await;
        children.push(child);
        urls.push(format!("{base}/mcp"));
    }
    println!(
        "\nreplicas (separate `gatehouse serve` processes), {clients} clients, {seconds} s each:"
    );
    // Warm up both (connections, caches, the upstream client).
    throughput(&urls, Some(token), "up__echo", clients, 2).await;
    for n in [1, 2] {
        let g = throughput(&urls[..n], Some(token), "up__echo", clients, seconds).await;
        println!(
            "  {n} replica{}  {g:>9.0} calls/s  ({:.0}% of direct)",
            if n == 1 { " " } else { "s" },
            100.0 * g / direct
        );
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A connector to the upstream, a pack exposing its echo tool, a
/// Registered User and an agent key, in the org of `t`; the key's secret.
async fn agent_key(state: &AppState, t: &TenantCtx, up_url: &str) -> String {
    let db = &state.db;
    let c = ConnectorInput {
        name: "up".into(),
        url: up_url.to_owned(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    server::service::connectors::create(&state.connector_deps(), t, &c)
        .await
        .unwrap();
    let pack = server::service::packs::save(
        db,
        t,
        None,
        &ToolPackInput {
            name: "bench".into(),
            description: String::new(),
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    server::service::packs::set_tools(
        db,
        t,
        chrono::Utc::now(),
        "http://127.0.0.1",
        pack.id,
        &["up__echo".to_owned()],
    )
    .await
    .unwrap();
    let ru = server::service::registered_users::save(
        db,
        t,
        None,
        &RegisteredUserInput {
            external_id: "b".into(),
            display_name: "B".into(),
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    server::service::agent_keys::create(
        db,
        t,
        &AgentKeyInput {
            pack_id: pack.id.to_string(),
            registered_user_id: ru.id.to_string(),
            name: String::new(),
        },
    )
    .await
    .unwrap()
    .secret
}

/// A short-lived agent token for a key, from Gatehouse at `base`.
async fn agent_token(base: &str, secret: &str) -> String {
    let tok: Value = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tok["access_token"].as_str().unwrap().to_owned()
}

/// A `gatehouse serve` process on the benchmark's database, ready; with
/// its base URL.
async fn replica(database_url: &str, public: &str) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = std::env::temp_dir().join(format!("gh-bench-replica-{port}"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("GATEHOUSE_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_PUBLIC_URL", public)
        .env("GATEHOUSE_DATA_DIR", &data)
        .env("GATEHOUSE_SITE_ROOT", "/nonexistent")
        .env("GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "true")
        .env("GATEHOUSE_MASTER_KEY", MASTER_KEY)
        .env("GATEHOUSE_MCP_RATE_PER_KEY", "0")
        .env("GATEHOUSE_MCP_RATE_PER_ORG", "0")
        .env("GATEHOUSE_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let up = Instant::now();
    while http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "replica did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, base)
}

/// The cost curve over tenants: `steps` organisations (cumulative), each
/// with its own connector, pack, user and key, all active at once. One
/// `gatehouse serve` process (so its memory is its own); every round calls
/// every org's agent once (at least 2,000 calls: small steps go round
/// several times), `clients` calls at a time. The first round is
/// each org's first contact (routes, rules and policies loaded); the next
/// two are measured: latency, rate, cache hit rates (from its
/// `gatehouse_cache_lookups_total`) and the process's resident memory.
async fn tenants_phase(
    state: &AppState,
    owner: uuid::Uuid,
    database_url: &str,
    public: &str,
    up_url: &str,
    steps: &[usize],
    clients: usize,
) {
    let (mut child, base) = replica(database_url, public).await;
    let pid = child.id();
    let http = reqwest::Client::new();
    println!(
        "\ntenants (one `gatehouse serve` process; every org active, each round calls every org once, {clients} clients):"
    );
    println!(
        "  {:>6} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8}",
        "orgs",
        "setup s",
        "p50 ms",
        "p99 ms",
        "calls/s",
        "access",
        "routes",
        "rules",
        "policies",
        "RSS MB"
    );
    let mut secrets: Vec<String> = Vec::new();
    for &n in steps {
        let started = Instant::now();
        while secrets.len() < n {
            let from = secrets.len();
            let batch = (n - from).min(8);
            let made = futures_util::future::join_all((from..from + batch).map(|i| async move {
                let org: uuid::Uuid = sqlx::query_scalar(
                    "INSERT INTO orgs (name, mode, plan, enforce_quota_override)
                     VALUES ($1, 'enforce', 'team', 1000000000) RETURNING id",
                )
                .bind(format!("Tenant {i}"))
                .fetch_one(&state.db)
                .await
                .unwrap();
                let t = TenantCtx {
                    org_id: org,
                    role: Role::Owner,
                    actor: Actor::Member { user_id: owner },
                };
                agent_key(state, &t, up_url).await
            }))
            .await;
            secrets.extend(made);
        }
        let setup = started.elapsed();
        // Tokens live minutes: fresh ones for this step.
        let mut sessions = Vec::with_capacity(n);
        for chunk in secrets[..n].chunks(16) {
            let made = futures_util::future::join_all(chunk.iter().map(|s| {
                let http = http.clone();
                let base = base.clone();
                async move {
                    let token = agent_token(public, s).await;
                    let cfg = StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
                        .auth_header(token);
                    ClientConfig::new(
                        ClientCapabilities::default(),
                        Implementation::new("bench", "1"),
                    )
                    .serve_with_lifecycle(
                        StreamableHttpClientTransport::with_client(http, cfg),
                        ClientLifecycleMode::Discover {
                            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                        },
                    )
                    .await
                    .unwrap()
                }
            }))
            .await;
            sessions.extend(made);
        }
        let sessions = Arc::new(sessions);
        round(&sessions, clients).await;
        let before = cache_counts(&http, &base).await;
        let t0 = Instant::now();
        let mut lat = round(&sessions, clients).await;
        lat.extend(round(&sessions, clients).await);
        let rate = lat.len() as f64 / t0.elapsed().as_secs_f64();
        let after = cache_counts(&http, &base).await;
        lat.sort();
        let hit_rate = |cache: &str| {
            let d = |o: &str| {
                after
                    .get(&(cache.to_owned(), o.to_owned()))
                    .copied()
                    .unwrap_or(0.0)
                    - before
                        .get(&(cache.to_owned(), o.to_owned()))
                        .copied()
                        .unwrap_or(0.0)
            };
            let (h, m) = (d("hit"), d("miss"));
            if h + m == 0.0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", 100.0 * h / (h + m))
            }
        };
        let rss_mb = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(f64::NAN, |kb| kb / 1024.0);
        println!(
            "  {:>6} {:>8.1} {:>8.3} {:>8.3} {:>7.0} {:>7} {:>7} {:>8} {:>8} {:>8.0}",
            n,
            setup.as_secs_f64(),
            ms(pct(&lat, 0.5)),
            ms(pct(&lat, 0.99)),
            rate,
            hit_rate("agent_access"),
            hit_rate("routes"),
            hit_rate("rules"),
            hit_rate("tool_policies"),
            rss_mb
        );
        if let Ok(sessions) = Arc::try_unwrap(sessions) {
            for s in sessions {
                let _ = s.cancel().await;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One round: every session makes a call (and, with fewer than
/// [`ROUND_CALLS`] sessions, they take turns until that many are made),
/// `clients` at a time; each call's duration.
async fn round(
    sessions: &Arc<Vec<RunningService<RoleClient, ClientConfig>>>,
    clients: usize,
) -> Vec<Duration> {
    let calls = sessions.len().max(ROUND_CALLS);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (sessions, next) = (sessions.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let args = payload();
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= calls {
                    break;
                }
                let s = &sessions[i % sessions.len()];
                let t = Instant::now();
                let r = s
                    .peer()
                    .call_tool(CallToolRequestParams::new("up__echo").with_arguments(args.clone()))
                    .await
                    .unwrap();
                out.push(t.elapsed());
                assert_ne!(r.is_error, Some(true));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// `gatehouse_cache_lookups_total` of a server, by (cache, outcome).
async fn cache_counts(
    http: &reqwest::Client,
    base: &str,
) -> std::collections::HashMap<(String, String), f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = |line: &str, name: &str| {
        line.split(&format!("{name}=\"")[..])
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned)
    };
    text.lines()
        .filter(|l| l.starts_with("gatehouse_cache_lookups_total{"))
        .filter_map(|l| {
            let value = l.rsplit(' ').next()?.parse().ok()?;
            Some(((label(l, "cache")?, label(l, "outcome")?), value))
        })
        .collect()
}
