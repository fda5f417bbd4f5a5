//! Command dispatch for the `gatehouse` binary.

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use leptos::config::LeptosOptions;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use crate::clock::Clock;
use crate::config::{
    Cli, Command, Config, DbArgs, GitHubAppCommand, GitHubAppSetArgs, LogFormat, OrgCommand,
    OrgPlanArgs, ServeArgs,
};
use crate::crypto::Keyring;
use crate::embedded_pg::EmbeddedPostgres;
use crate::master_key::MasterKey;
use crate::state::AppState;
use crate::{db, http, telemetry};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Scanning is synchronous and must keep stdout clean for its output.
    if let Some(Command::Scan(args)) = &cli.command {
        return scan(args);
    }
    let format = match &cli.command {
        Some(Command::Serve(a)) => a.log_format,
        None => cli.serve.log_format,
        _ => LogFormat::Pretty,
    };
    telemetry::init(format);
    // At least four workers, however few CPUs: Leptos' server rendering
    // can stall with one or two (leptos-rs/leptos#4647, #4578), and
    // waiting calls (approvals) must never starve page rendering.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(4);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Some(Command::Serve(args)) => serve(args).await,
            None => serve(cli.serve).await,
            Some(Command::Migrate(args)) => migrate(args).await,
            Some(Command::Scan(_)) => Ok(()),
            Some(Command::Connect(args)) => crate::connect::run(args).await,
            Some(Command::RotateSigningKey(args)) => rotate_signing_key(args).await,
            Some(Command::RotateMasterKey(args)) => rotate_master_key(args).await,
            Some(Command::Org(OrgCommand::Plan(args))) => org_plan(args).await,
            Some(Command::GitHubApp(GitHubAppCommand::Set(args))) => github_app_set(args).await,
            Some(Command::GitHubApp(GitHubAppCommand::Show(args))) => github_app_show(args).await,
            Some(Command::GitHubApp(GitHubAppCommand::Remove(args))) => {
                github_app_remove(args).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `gatehouse scan`: exit 0 nothing found / 1 found / 2 error.
fn scan(args: &crate::scan_cli::ScanArgs) -> ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut input = stdin.lock();
    let mut output = stdout.lock();
    match crate::scan_cli::run(args, &mut input, &mut output) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The database to use: the configured one, or an embedded cluster we start
/// (and must stop).
async fn open_database(
    args: &DbArgs,
) -> anyhow::Result<(PgConnectOptions, Option<EmbeddedPostgres>)> {
    match &args.database_url {
        Some(url) => {
            let opts = PgConnectOptions::from_str(url.expose_secret())
                .context("DATABASE_URL is not a valid Postgres URL")?;
            Ok((opts, None))
        }
        None => {
            let pg = EmbeddedPostgres::start(&args.data_dir, args.pg_bin.as_deref()).await?;
            Ok((pg.connect_options(), Some(pg)))
        }
    }
}

async fn migrate(args: DbArgs) -> anyhow::Result<()> {
    let (opts, embedded) = open_database(&args).await?;
    let result = async {
        let pool = db::connect(opts, 2)
            .await
            .context("connecting to the database")?;
        db::migrate(&pool).await.context("applying migrations")?;
        pool.close().await;
        anyhow::Ok(())
    }
    .await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    result?;
    println!("migrations applied");
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    let keyring = keyring(&args, &config)?;
    let (opts, embedded) = open_database(&args.db).await?;
    let result = run_server(config, opts, keyring).await;
    if let Some(pg) = embedded
        && let Err(e) = pg.stop().await
    {
        tracing::error!("stopping embedded Postgres: {e:#}");
    }
    result
}

/// The master key and any previous ones kept for decryption.
fn keyring(args: &ServeArgs, config: &Config) -> anyhow::Result<Keyring> {
    let primary = MasterKey::load_or_generate(args.master_key.as_ref(), &config.data_dir)?;
    let older = args
        .old_master_keys
        .iter()
        .filter(|k| !k.expose_secret().trim().is_empty())
        .map(|k| MasterKey::from_base64(k.expose_secret()))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("GATEHOUSE_OLD_MASTER_KEYS")?;
    Ok(Keyring::new(&primary, &older))
}

async fn run_server(
    config: Config,
    opts: PgConnectOptions,
    keyring: Keyring,
) -> anyhow::Result<()> {
    let pool = db::connect(opts, config.db_pool)
        .await
        .context("connecting to the database")?;
    db::migrate(&pool).await.context("applying migrations")?;
    let pinned = crate::service::integrity::backfill(&pool)
        .await
        .context("fingerprinting pinned tool definitions")?;
    if pinned > 0 {
        tracing::info!(pins = pinned, "pinned tool definitions fingerprinted");
    }

    // The engine's lazy tables (gazetteer, phone metadata, the
    // prompt-injection patterns: ~0.2 s together) load now, on the blocking
    // pool, instead of during the first agent's tools/call.
    tokio::task::spawn_blocking(|| {
        if let Err(e) = shared::detect::compile_default() {
            tracing::error!(error = %e, "warming the detection engine");
        }
    });

    let sessions = PostgresStore::new(pool.clone());
    let cleanup = tokio::spawn(
        sessions
            .clone()
            .continuously_delete_expired(Duration::from_secs(3600)),
    );

    if !config.site_root.join("pkg").join("web.js").is_file() {
        tracing::warn!(
            site_root = %config.site_root.display(),
            "browser assets not found: pages will render but not become interactive \
             (build them with scripts/build-site)"
        );
    }
    let leptos = LeptosOptions::builder()
        .output_name("web")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let state = AppState::build(
        pool.clone(),
        config.clone(),
        keyring,
        leptos,
        Clock::system(),
    )
    .await?;
    state.gateway.tokens.load(state.clock.now()).await.context(
        "loading agent-token signing keys (is GATEHOUSE_MASTER_KEY the key they were sealed with?)",
    )?;
    state
        .gateway
        .tokens
        .spawn_refresh(state.clock.clone(), config.signing_key_reload);
    state.gateway.signals.spawn_listener(state.db.clone());
    crate::webhooks::spawn_sender(
        state.db.clone(),
        state.keyring.clone(),
        config.egress(),
        state.clock.clone(),
    );
    crate::service::retention::spawn_maintenance(
        state.db.clone(),
        state.clock.clone(),
        config.retention_days,
    );
    if let Some(every) = config.discovery_interval {
        spawn_discovery(state.clone(), every);
    }
    let app = http::router(state, sessions);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, url = %config.public_url, "Gatehouse is ready");
    println!("Gatehouse is running at {}", config.public_url);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    cleanup.abort();
    pool.close().await;
    tracing::info!("Gatehouse stopped");
    Ok(())
}

/// The scheduled discovery: every tenth of the interval (so connectors
/// come due spread out), MCP connectors not discovered for a whole
/// interval are discovered again and compared with their pins.
fn spawn_discovery(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval((every / 10).max(Duration::from_secs(5)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match crate::service::connectors::refresh_due(&state.connector_deps(), every, 20).await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(connectors = n, "scheduled discovery"),
                Err(e) => tracing::warn!(error = %e, "scheduled discovery"),
            }
        }
    });
}

/// Connects to the database (embedded or configured) for a maintenance
/// command, runs `f`, and stops an embedded cluster again.
async fn with_database<F, Fut>(args: &DbArgs, f: F) -> anyhow::Result<()>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let (opts, embedded) = open_database(args).await?;
    let result = async {
        let pool = db::connect(opts, 2)
            .await
            .context("connecting to the database")?;
        db::migrate(&pool).await.context("applying migrations")?;
        let r = f(pool.clone()).await;
        pool.close().await;
        r
    }
    .await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    result
}

async fn rotate_signing_key(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    let ring = std::sync::Arc::new(keyring(&args, &config)?);
    with_database(&args.db, |pool| async move {
        let tokens = crate::agent_tokens::AgentTokens::new(
            pool,
            ring,
            config.public_base(),
            config.mcp_resource_url(),
        );
        let kid = tokens.rotate(chrono::Utc::now()).await?;
        println!(
            "agent tokens are now signed with key {kid}; older keys verify for 15 more minutes"
        );
        Ok(())
    })
    .await
}

async fn rotate_master_key(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    let ring = keyring(&args, &config)?;
    with_database(&args.db, |pool| async move {
        let n = crate::service::rotation::reseal_all(&pool, &ring).await?;
        println!(
            "re-encrypted {n} secrets under key {}; the old key can now be removed",
            ring.primary_id()
        );
        Ok(())
    })
    .await
}

/// `gatehouse org plan <org> --plan team [--enforce-quota N]`.
async fn org_plan(args: OrgPlanArgs) -> anyhow::Result<()> {
    use crate::service::enforcement;
    let plans = crate::config::Plans::from(args.plans);
    let change = shared::api::PlanInput {
        plan: args.plan.as_str().to_owned(),
        enforce_quota: args.enforce_quota,
    }
    .parse()
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    with_database(&args.db, |pool| async move {
        let org = enforcement::find_org(&pool, &args.org)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let s = enforcement::set_plan(&pool, &plans, chrono::Utc::now(), org, change)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let quota = match s.usage.enforce_quota {
            Some(q) => format!("{q} calls decided in enforce mode per month"),
            None => "unlimited".to_owned(),
        };
        println!(
            "organization {org}: plan {}, enforce quota {quota}; {} used in {}; effective mode {}",
            s.usage.plan.as_str(),
            s.usage.used,
            s.usage.period,
            s.effective.label()
        );
        Ok(())
    })
    .await
}

/// `gatehouse github-app set …`: stores the App, its private key and
/// webhook secret sealed under the master key.
async fn github_app_set(args: GitHubAppSetArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args.serve)?;
    let ring = keyring(&args.serve, &config)?;
    let pem = std::fs::read(&args.private_key_file).with_context(|| {
        format!(
            "reading the private key file {}",
            args.private_key_file.display()
        )
    })?;
    let app = crate::service::github::NewApp {
        app_id: args.app_id,
        slug: args.slug.trim().to_owned(),
        private_key_pem: secrecy::SecretBox::new(Box::new(pem)),
        webhook_secret: args.webhook_secret.clone(),
        api_url: args.api_url.clone(),
        web_url: args.web_url.clone(),
    };
    let hook = app.webhook_secret.is_some();
    let public = config.public_base();
    with_database(&args.serve.db, |pool| async move {
        crate::service::github::set_app(&pool, &ring, app).await?;
        println!(
            "GitHub App {} (id {}) is set; its private key is encrypted and will not be shown again.",
            args.slug.trim(),
            args.app_id
        );
        println!("  Setup URL (App settings → Post installation): {public}/github/setup");
        if hook {
            println!("  Webhook URL: {public}/github/webhook (installation events are verified)");
        } else {
            println!("  No webhook secret: installation changes are seen on Refresh only.");
        }
        Ok(())
    })
    .await
}

async fn github_app_show(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    let ring = keyring(&args, &config)?;
    with_database(&args.db, |pool| async move {
        match crate::service::github::app(&pool, &ring)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            Some(app) => println!(
                "GitHub App {} (id {}), API {}, web {}, webhook secret {}, set {}",
                app.slug,
                app.app_id,
                app.api_url,
                app.web_url,
                if app.webhook_secret.is_some() {
                    "set"
                } else {
                    "not set"
                },
                app.updated_at.to_rfc3339()
            ),
            None => println!("no GitHub App is configured"),
        }
        Ok(())
    })
    .await
}

async fn github_app_remove(args: ServeArgs) -> anyhow::Result<()> {
    with_database(&args.db, |pool| async move {
        if crate::service::github::remove_app(&pool).await? {
            println!("the GitHub App configuration was removed");
        } else {
            println!("no GitHub App was configured");
        }
        Ok(())
    })
    .await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
