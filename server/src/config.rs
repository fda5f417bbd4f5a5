//! Typed configuration, parsed once from flags and environment variables.
//!
//! Every setting can be given as a flag or as the environment variable named
//! in `--help`. Secrets (`DATABASE_URL`, `GATEHOUSE_MASTER_KEY`) are held in
//! [`secrecy::SecretString`] so they never reach a log line or `Debug`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use url::Url;

/// Gatehouse: a control plane between AI agents and the tools they call.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings for `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

// Parsed once at start-up: the size difference between variants is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the dashboard, the admin API and the MCP endpoint (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Scan text or JSON for sensitive data with the detection engine.
    Scan(crate::scan_cli::ScanArgs),
    /// Serve your Tool Pack over stdio (for Claude Desktop, Cursor…),
    /// relaying to a Gatehouse MCP endpoint with your agent key.
    Connect(crate::connect::ConnectArgs),
    /// Start signing agent tokens with a new key (old tokens stay valid
    /// until they expire).
    RotateSigningKey(ServeArgs),
    /// Re-encrypt every stored secret under the current master key (after
    /// moving the old key to GATEHOUSE_OLD_MASTER_KEYS).
    RotateMasterKey(ServeArgs),
    /// Operator commands for one organization.
    #[command(subcommand)]
    Org(OrgCommand),
    /// The deployment's GitHub App (for the GitHub connector).
    #[command(subcommand, name = "github-app")]
    GitHubApp(GitHubAppCommand),
}

/// `gatehouse github-app …`.
// Parsed once at start-up: the size difference between variants is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum GitHubAppCommand {
    /// Store (or replace) the GitHub App every org connects through: its id,
    /// slug and private key (encrypted with the master key, never shown
    /// again), optional webhook secret, and where GitHub is.
    Set(GitHubAppSetArgs),
    /// Show the configured App (never its secrets).
    Show(ServeArgs),
    /// Remove the App's configuration (connected installations stay, but
    /// their calls fail until an App is set again).
    Remove(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct GitHubAppSetArgs {
    /// The App's numeric id (App settings → About).
    #[arg(long)]
    pub app_id: u64,
    /// The App's slug, as in https://github.com/apps/<slug>.
    #[arg(long)]
    pub slug: String,
    /// The App's private key, the PEM file GitHub let you download.
    #[arg(long)]
    pub private_key_file: PathBuf,
    /// The webhook secret set on the App (installation events are refused
    /// unless signed with it). Unset: the webhook endpoint is off.
    #[arg(long, env = "GATEHOUSE_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<SecretString>,
    /// GitHub's REST API base (GitHub Enterprise Server:
    /// https://HOST/api/v3/).
    #[arg(long, default_value = "https://api.github.com/")]
    pub api_url: Url,
    /// GitHub's web address, where the App's installation page is
    /// (GitHub Enterprise Server: https://HOST/).
    #[arg(long, default_value = "https://github.com/")]
    pub web_url: Url,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `gatehouse org …`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Set an organization's plan and, optionally, its own enforce quota:
    /// `gatehouse org plan <org> --plan team --enforce-quota 100000`.
    Plan(OrgPlanArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OrgPlanArgs {
    /// The organization: its id, or its exact name.
    pub org: String,
    /// free, team or enterprise.
    #[arg(long)]
    pub plan: shared::api::Plan,
    /// This organization's own quota (calls decided in enforce mode per
    /// calendar month) instead of the plan's.
    #[arg(long)]
    pub enforce_quota: Option<u64>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub plans: PlanArgs,
}

/// The built-in plans' enforce quotas (calls decided in enforce mode per
/// calendar month; enterprise is unlimited) and the plan of organizations
/// the operator has not given one.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanArgs {
    /// The plan of every organization without one of its own.
    #[arg(long, env = "GATEHOUSE_DEFAULT_PLAN", default_value = "free")]
    pub default_plan: shared::api::Plan,
    /// The free plan's enforce quota per month.
    #[arg(long, env = "GATEHOUSE_FREE_ENFORCE_QUOTA", default_value_t = 10_000)]
    pub free_enforce_quota: u64,
    /// The team plan's enforce quota per month.
    #[arg(long, env = "GATEHOUSE_TEAM_ENFORCE_QUOTA", default_value_t = 100_000)]
    pub team_enforce_quota: u64,
}

/// The plans in force (see [`PlanArgs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plans {
    pub default_plan: shared::api::Plan,
    pub free: u64,
    pub team: u64,
}

impl Plans {
    /// The enforce quota of an org on `plan` (None = unlimited), unless
    /// the operator gave it its own.
    pub fn quota(&self, plan: shared::api::Plan, own: Option<u64>) -> Option<u64> {
        use shared::api::Plan;
        own.or(match plan {
            Plan::Free => Some(self.free),
            Plan::Team => Some(self.team),
            Plan::Enterprise => None,
        })
    }
}

impl From<PlanArgs> for Plans {
    fn from(a: PlanArgs) -> Self {
        Plans {
            default_plan: a.default_plan,
            free: a.free_enforce_quota,
            team: a.team_enforce_quota,
        }
    }
}

/// Where the database is, shared by every command that needs one.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Postgres connection URL. When unset, Gatehouse runs its own Postgres
    /// cluster inside the data directory (unix socket only, no TCP port)
    /// using the system's Postgres binaries.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Directory for local state: the embedded Postgres cluster, and the
    /// development master key when none is configured.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./.gatehouse")]
    pub data_dir: PathBuf,

    /// Directory holding the Postgres binaries (`initdb`, `pg_ctl`) for the
    /// embedded cluster. Found automatically when unset.
    #[arg(long, env = "GATEHOUSE_PG_BIN")]
    pub pg_bin: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// The URL users and agents reach Gatehouse at (scheme, host, port).
    /// Used for links, cookie security (https ⇒ Secure cookies), the MCP
    /// token audience and Host/Origin checks. Defaults to http://<addr>.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// 32-byte key (base64) that encrypts connector secrets at rest. When
    /// unset, a key is generated once into `<data-dir>/master.key` (0600)
    /// — fine for development; set it explicitly in production and share it
    /// between replicas.
    #[arg(long, env = "GATEHOUSE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<SecretString>,

    /// Directory with the compiled browser assets (`pkg/web.js`,
    /// `pkg/web_bg.wasm`, CSS).
    #[arg(long, env = "GATEHOUSE_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Log output format.
    #[arg(
        long,
        env = "GATEHOUSE_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,

    /// Largest database connection pool per process.
    #[arg(long, env = "GATEHOUSE_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,

    /// Previous master keys (comma-separated base64), still accepted for
    /// decrypting after a rotation; `gatehouse rotate-master-key` re-seals
    /// everything under the current key.
    #[arg(
        long,
        env = "GATEHOUSE_OLD_MASTER_KEYS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub old_master_keys: Vec<SecretString>,

    /// Lifetime of agent tokens issued at /oauth/token, in minutes (1–15).
    #[arg(long, env = "GATEHOUSE_TOKEN_TTL_MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(i64).range(1..=15))]
    pub token_ttl_minutes: i64,

    /// Allow upstream connectors on private, loopback or link-local
    /// addresses (self-hosted setups). Off by default to prevent SSRF.
    #[arg(long, env = "GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub allow_private_upstreams: bool,

    /// Allow connectors whose `http://` (unencrypted) URL carries an auth
    /// header. Loopback hosts are always allowed; anything else sends the
    /// secret in clear over the network, so it is refused by default.
    #[arg(long, env = "GATEHOUSE_ALLOW_PLAINTEXT_UPSTREAM_AUTH", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub allow_plaintext_upstream_auth: bool,

    /// Statement timeout of every session on a Postgres connector's
    /// database, in milliseconds (the lock timeout is at most 2 s).
    #[arg(long, env = "GATEHOUSE_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub db_statement_timeout_ms: u64,

    /// Largest answer read from an upstream server, in bytes (one JSON body
    /// or one streamed event). Larger answers are discarded and the agent
    /// is told so.
    #[arg(long, env = "GATEHOUSE_UPSTREAM_MAX_RESPONSE_BYTES", default_value_t = 8 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=(64 * 1024 * 1024)))]
    pub upstream_max_response_bytes: u64,

    /// How long an upstream tool call may take, in seconds.
    #[arg(long, env = "GATEHOUSE_UPSTREAM_TIMEOUT_SECS", default_value_t = 30)]
    pub upstream_timeout_secs: u64,

    /// Bearer token that `GET /metrics` requires (Prometheus
    /// `authorization: { credentials: … }`). Unset: `/metrics` is off
    /// (404), since counters describe every tenant's traffic.
    #[arg(long, env = "GATEHOUSE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,

    /// Absolute lifetime of a dashboard session, in hours: it ends this
    /// long after sign-in however active it is (it also ends after 12 idle
    /// hours).
    #[arg(long, env = "GATEHOUSE_SESSION_MAX_AGE_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(i64).range(1..=2160))]
    pub session_max_age_hours: i64,

    /// How often each server reloads the agent-token signing keys, in
    /// seconds (a rotation is also picked up at once through a database
    /// notification).
    #[arg(long, env = "GATEHOUSE_SIGNING_KEY_RELOAD_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub signing_key_reload_secs: u64,

    /// How often each MCP connector's tools are discovered again and
    /// compared with the approved (pinned) definitions, in seconds; 0 turns
    /// the scheduled refresh off (refreshes from the dashboard or API
    /// still compare).
    #[arg(long, env = "GATEHOUSE_DISCOVERY_INTERVAL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(0..=86400))]
    pub discovery_interval_secs: u64,

    /// How many Tool Packs keep their compiled rules and tool routes in
    /// memory (least recently used ones are dropped and reloaded on use).
    #[arg(long, env = "GATEHOUSE_POLICY_CACHE_SIZE", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub policy_cache_size: u64,

    /// How long, in milliseconds, an agent key's authorisation (is it
    /// live, its org's mode and settings) is reused before the database is
    /// asked again; changes are also pushed to every server at once through
    /// a database notification. At most 1000; 0 asks on every request.
    #[arg(long, env = "GATEHOUSE_AGENT_ACCESS_CACHE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub agent_access_cache_ms: u64,

    /// Days the decision trail (call records and detections) is kept: the
    /// default of every organization, and the longest one may choose. A
    /// month's records are dropped together once the month's last day is
    /// this old.
    #[arg(long, env = "GATEHOUSE_RETENTION_DAYS", default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub retention_days: u32,

    /// How many scans run at once on the blocking pool (default: the
    /// number of CPUs); further scans wait their turn.
    #[arg(long, env = "GATEHOUSE_SCAN_PARALLELISM")]
    pub scan_parallelism: Option<usize>,

    /// Requests per second to `/mcp` for one organization (all its agent
    /// keys together); 0 = unlimited. Per server process.
    #[arg(long, env = "GATEHOUSE_MCP_RATE_PER_ORG", default_value_t = 500)]
    pub mcp_rate_per_org: u32,

    /// Requests per second to `/mcp` for one agent key; 0 = unlimited.
    #[arg(long, env = "GATEHOUSE_MCP_RATE_PER_KEY", default_value_t = 100)]
    pub mcp_rate_per_key: u32,

    /// Token exchanges per minute at `/oauth/token` for one agent key;
    /// 0 = unlimited.
    #[arg(long, env = "GATEHOUSE_TOKEN_RATE_PER_KEY", default_value_t = 60)]
    pub token_rate_per_key: u32,

    /// Admin API requests per second for one organization; 0 = unlimited.
    #[arg(long, env = "GATEHOUSE_API_RATE_PER_ORG", default_value_t = 50)]
    pub api_rate_per_org: u32,

    /// Largest MCP request body, in bytes.
    #[arg(long, env = "GATEHOUSE_MCP_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub mcp_max_body_bytes: usize,

    /// Bearer token of the operator endpoints (`/api/v1/operator/…`: plans
    /// and quotas of every organization). Unset: they are off (404).
    #[arg(long, env = "GATEHOUSE_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<SecretString>,

    #[command(flatten)]
    pub plans: PlanArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The resolved settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub public_url: Url,
    pub site_root: PathBuf,
    pub data_dir: PathBuf,
    pub db_pool: u32,
    pub token_ttl_minutes: i64,
    pub allow_private_upstreams: bool,
    pub allow_plaintext_upstream_auth: bool,
    pub db_statement_timeout: std::time::Duration,
    pub upstream_max_response_bytes: usize,
    pub upstream_timeout: std::time::Duration,
    pub mcp_max_body_bytes: usize,
    pub metrics_token: Option<SecretString>,
    pub session_max_age: chrono::Duration,
    pub signing_key_reload: std::time::Duration,
    /// None: no scheduled discovery.
    pub discovery_interval: Option<std::time::Duration>,
    pub policy_cache_size: std::num::NonZeroUsize,
    /// How long an authorisation answer is reused (≤ 1 s).
    pub agent_access_cache: std::time::Duration,
    /// Days the decision trail is kept at most (and by default).
    pub retention_days: u32,
    pub scan_parallelism: usize,
    pub rates: crate::limits::RateSettings,
    pub operator_token: Option<SecretString>,
    pub plans: Plans,
}

impl Config {
    /// Resolves defaults that depend on other settings.
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<Self> {
        let public_url = match &args.public_url {
            Some(u) => u.clone(),
            None => Url::parse(&format!("http://{}", args.addr))?,
        };
        if !matches!(public_url.scheme(), "http" | "https") {
            anyhow::bail!("GATEHOUSE_PUBLIC_URL must be an http:// or https:// URL");
        }
        Ok(Self {
            addr: args.addr,
            public_url,
            site_root: args.site_root.clone(),
            data_dir: args.db.data_dir.clone(),
            db_pool: args.db_pool.max(2),
            token_ttl_minutes: args.token_ttl_minutes,
            allow_private_upstreams: args.allow_private_upstreams,
            allow_plaintext_upstream_auth: args.allow_plaintext_upstream_auth,
            db_statement_timeout: std::time::Duration::from_millis(args.db_statement_timeout_ms),
            upstream_max_response_bytes: usize::try_from(args.upstream_max_response_bytes)?,
            upstream_timeout: std::time::Duration::from_secs(args.upstream_timeout_secs.max(1)),
            mcp_max_body_bytes: args.mcp_max_body_bytes,
            metrics_token: args.metrics_token.clone(),
            operator_token: args.operator_token.clone(),
            plans: args.plans.into(),
            session_max_age: chrono::Duration::hours(args.session_max_age_hours),
            signing_key_reload: std::time::Duration::from_secs(args.signing_key_reload_secs),
            discovery_interval: (args.discovery_interval_secs > 0)
                .then(|| std::time::Duration::from_secs(args.discovery_interval_secs)),
            policy_cache_size: std::num::NonZeroUsize::new(usize::try_from(
                args.policy_cache_size,
            )?)
            .unwrap_or(std::num::NonZeroUsize::MIN),
            agent_access_cache: std::time::Duration::from_millis(args.agent_access_cache_ms),
            retention_days: args.retention_days,
            rates: crate::limits::RateSettings {
                mcp_per_org: crate::limits::Rate::per_second(args.mcp_rate_per_org),
                mcp_per_key: crate::limits::Rate::per_second(args.mcp_rate_per_key),
                token_per_key: crate::limits::Rate::per_minute(args.token_rate_per_key),
                api_per_org: crate::limits::Rate::per_second(args.api_rate_per_org),
            },
            scan_parallelism: args
                .scan_parallelism
                .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
                .unwrap_or(2)
                .max(1),
        })
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public origin (`scheme://host[:port]`), for Origin checks.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// The public URL without a trailing slash: the base of every link
    /// and the agent tokens' issuer.
    pub fn public_base(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// How outbound connections to tenant-chosen addresses are checked.
    pub fn egress(&self) -> crate::egress::EgressPolicy {
        crate::egress::EgressPolicy {
            allow_private: self.allow_private_upstreams,
        }
    }

    /// Limits of sessions on Postgres connectors' databases.
    pub fn database_limits(&self) -> crate::postgres::Limits {
        let statement_timeout = self.db_statement_timeout;
        crate::postgres::Limits {
            statement_timeout,
            lock_timeout: statement_timeout.min(std::time::Duration::from_secs(2)),
            ..crate::postgres::Limits::default()
        }
    }

    /// The MCP endpoint's resource URL: the agent tokens' audience.
    pub fn mcp_resource_url(&self) -> String {
        format!("{}/mcp", self.public_base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let cli = Cli::parse_from([
            "gatehouse",
            "serve",
            "--database-url",
            "postgres://u:hunter2@db/x",
            "--master-key",
            "c2VjcmV0LWtleS1tYXRlcmlhbA==",
        ]);
        let dbg = format!("{cli:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
    }

    #[test]
    fn public_url_defaults_to_listen_address() {
        let cli = Cli::parse_from(["gatehouse", "--addr", "127.0.0.1:9999"]);
        let cfg = Config::from_args(&cli.serve).unwrap();
        assert_eq!(cfg.public_origin(), "http://127.0.0.1:9999");
        assert!(!cfg.secure_cookies());
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let cli = Cli::parse_from(["gatehouse", "--public-url", "https://gate.example.com"]);
        let cfg = Config::from_args(&cli.serve).unwrap();
        assert!(cfg.secure_cookies());
        assert_eq!(cfg.public_origin(), "https://gate.example.com");
    }

    #[test]
    fn rejects_non_http_public_url() {
        let cli = Cli::parse_from(["gatehouse", "--public-url", "ftp://x.example"]);
        assert!(Config::from_args(&cli.serve).is_err());
    }
}
