//! What every request handler can reach.

use std::sync::Arc;

use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::agent_tokens::AgentTokens;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::gateway::Gateway;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::scanning::Scanning;
use crate::upstream::{UpstreamLimits, UpstreamPool};

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub leptos: LeptosOptions,
    pub clock: Clock,
    pub keyring: Arc<Keyring>,
    pub upstreams: Arc<UpstreamPool>,
    pub metrics: Metrics,
    pub gateway: Arc<Gateway>,
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// Wires the shared services and starts the recorder's writer task.
    /// Touches no database: signing keys load on first use (or call
    /// `gateway.tokens.load` to fail fast at start-up).
    pub async fn build(
        db: PgPool,
        config: Config,
        keyring: Keyring,
        leptos: LeptosOptions,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        // reqwest (upstream MCP clients) needs a process-wide TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keyring = Arc::new(keyring);
        // As many connectors' clients as packs keep their compiled rules.
        let upstreams = Arc::new(UpstreamPool::new(
            UpstreamLimits {
                call_timeout: config.upstream_timeout,
                max_response_bytes: config.upstream_max_response_bytes,
                egress: config.egress(),
            },
            config.policy_cache_size,
        ));
        let metrics = Metrics::new();
        let tokens = AgentTokens::new(
            db.clone(),
            keyring.clone(),
            config.public_base(),
            config.mcp_resource_url(),
        );
        // Twice the policy cache: orgs' own rules (Rule Tester) besides packs'.
        let scanning = Arc::new(Scanning::new(
            config.policy_cache_size.saturating_mul(
                std::num::NonZeroUsize::new(2).unwrap_or(std::num::NonZeroUsize::MIN),
            ),
            config.scan_parallelism,
        ));
        // Sixteen agent keys per cached pack; an entry is a few hundred bytes.
        let access = Arc::new(
            crate::service::data_path::AgentAccess::new(
                config.policy_cache_size.saturating_mul(
                    std::num::NonZeroUsize::new(16).unwrap_or(std::num::NonZeroUsize::MIN),
                ),
                config.agent_access_cache,
            )
            .counted(metrics.cache(crate::metrics::Cache::agent_access)),
        );
        // Here rather than in `serve`: whoever builds the state (a test, a
        // benchmark) serves agents, and a cache without its invalidations
        // would answer up to a second stale.
        access.spawn_listener(db.clone());
        let recorder = Recorder::spawn(db.clone(), config.plans, clock.clone(), access.clone());
        let gateway = Arc::new(Gateway::new(
            db.clone(),
            keyring.clone(),
            upstreams.clone(),
            tokens,
            access,
            recorder,
            metrics.clone(),
            clock.clone(),
            scanning,
            config.policy_cache_size,
            config.public_base(),
            config.plans,
            Arc::new(crate::github::GitHub::new(config.upstream_timeout)),
            Arc::new(crate::postgres::Databases::new(
                config.egress(),
                config.database_limits(),
            )),
        ));
        let limits = RateLimits::new(config.rates);
        limits.spawn_cleanup();
        Ok(Self {
            limits,
            db,
            config: Arc::new(config),
            leptos,
            clock,
            keyring,
            upstreams,
            metrics,
            gateway,
        })
    }

    /// The connector services' dependencies.
    pub fn connector_deps(&self) -> crate::service::connectors::Deps<'_> {
        crate::service::connectors::Deps {
            db: &self.db,
            keyring: &self.keyring,
            upstreams: &self.upstreams,
            egress: self.config.egress(),
            allow_plaintext_auth: self.config.allow_plaintext_upstream_auth,
            github: &self.gateway.github,
            databases: &self.gateway.databases,
            now: self.clock.now(),
            links_base: self.config.public_base(),
        }
    }
}
