//! What the data path (`tools/call`, `tools/list`) reads, keyed by a
//! verified agent instead of a dashboard tenant.
//!
//! Every function here takes an [`AgentCtx`], which only [`authorize`] can
//! build (after checking the bearer token and that its agent key is still
//! live), so no dashboard or admin-API handler can reach another org's
//! rules or connector secrets through these reads by mistake. Caching the
//! results per configuration version is the gateway's job.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::account::OrgMode;
use shared::api::{EffectiveMode, Period, QuotaLevel, exposed_name};
use shared::policy::OrgRules;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, connectors, databases, github, rules, tool_policies};
use crate::agent_tokens::{AgentClaims, AgentTokens, TokenError};
use crate::config::Plans;
use crate::crypto::Keyring;
use crate::upstream::Target;

/// A verified agent: its token's claims, and its org's mode and
/// configuration version as of this request.
#[derive(Debug, Clone)]
pub struct AgentCtx {
    claims: AgentClaims,
    mode: OrgMode,
    config_version: i64,
    store_full_arguments: bool,
    /// The Registered User's external id and display name, and the pack's
    /// name (what tool policy conditions see as `user` and `pack`).
    user: (String, String),
    pack_name: String,
    approvals: shared::api::ApprovalSettings,
    enforcement: AgentEnforcement,
}

/// The org's enforcement as of this request: the effective state (enforce
/// pauses when the period's quota is used up) and what a call counts
/// against.
#[derive(Debug, Clone, Copy)]
pub struct AgentEnforcement {
    pub effective: EffectiveMode,
    /// The period of this request, and its quota (None = unlimited).
    pub period: Period,
    pub quota: Option<u64>,
    /// While paused: block every call (strict) instead of monitoring.
    pub paused_blocks_calls: bool,
}

impl AgentCtx {
    pub fn claims(&self) -> &AgentClaims {
        &self.claims
    }

    pub fn mode(&self) -> OrgMode {
        self.mode
    }

    /// Caches built at this version or later are current for this request.
    pub fn config_version(&self) -> i64 {
        self.config_version
    }

    /// Whether records keep full (redacted) arguments, not their shape.
    pub fn store_full_arguments(&self) -> bool {
        self.store_full_arguments
    }

    /// The Registered User's `(external id, display name)`.
    pub fn user(&self) -> (&str, &str) {
        (&self.user.0, &self.user.1)
    }

    pub fn pack_name(&self) -> &str {
        &self.pack_name
    }

    /// The effective enforcement (configured mode, quota, pause).
    pub fn enforcement(&self) -> AgentEnforcement {
        self.enforcement
    }

    /// The org's approval hold time and expiry.
    pub fn approvals(&self) -> shared::api::ApprovalSettings {
        self.approvals
    }

    /// The cache key of everything per pack: `(org, pack)`.
    pub fn pack_key(&self) -> (Uuid, Uuid) {
        (self.claims.org, self.claims.pack)
    }
}

/// Why a bearer token was refused (all but `Unavailable` map to 401).
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("the agent key behind this token was revoked or deleted")]
    Revoked,
    #[error("database unavailable")]
    Unavailable,
}

/// What the authorisation query was asked (see [`AgentAccess`]).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct AccessKey {
    key: Uuid,
    org: Uuid,
    pack: Uuid,
    sub: Uuid,
    /// The enforce period whose usage was read.
    period: chrono::NaiveDate,
}

impl crate::access_cache::OrgScoped for AccessKey {
    fn org(&self) -> Uuid {
        self.org
    }
}

/// The authorisation query's answers, `None` for a revoked or deleted key
/// (see [`crate::access_cache`]).
pub type AgentAccess = crate::access_cache::AccessCache<AccessKey, Option<std::sync::Arc<AuthRow>>>;

/// Verifies a bearer token and checks that its key is still valid and what
/// its org's settings are — from the database, or from an answer at most a
/// second old that no change has invalidated since (see
/// [`crate::access_cache`]), so revocation takes effect within a second on
/// every replica, in practice at once.
pub async fn authorize(
    db: &PgPool,
    tokens: &AgentTokens,
    access: &AgentAccess,
    plans: &Plans,
    (now, at): (DateTime<Utc>, tokio::time::Instant),
    token: &str,
) -> Result<AgentCtx, AuthFailure> {
    let claims = tokens.verify(now, token).await?;
    let period = Period::of(now);
    let key = AccessKey {
        key: claims.key,
        org: claims.org,
        pack: claims.pack,
        sub: claims.sub,
        period: period.first_day(),
    };
    let row = match access.get(&key, at) {
        Some(row) => row,
        None => {
            let ticket = access.ticket(at);
            let row = access_row(db, &claims, period)
                .await?
                .map(std::sync::Arc::new);
            access.put(key, row.clone(), ticket);
            row
        }
    };
    let r = row.ok_or(AuthFailure::Revoked)?;
    let bad = |what: &str, e: String| {
        tracing::error!(error = %e, "org {what} in database");
        AuthFailure::Unavailable
    };
    let mode: OrgMode = r.mode.parse().map_err(|e| bad("mode", e))?;
    let plan = match r.plan.as_deref() {
        Some(p) => p.parse().map_err(|e| bad("plan", e))?,
        None => plans.default_plan,
    };
    let quota = plans.quota(plan, r.own_quota.and_then(|q| u64::try_from(q).ok()));
    let used = u64::try_from(r.used).unwrap_or(0);
    Ok(AgentCtx {
        claims,
        mode,
        config_version: r.config_version,
        store_full_arguments: r.store_full_arguments,
        user: (r.external_id.clone(), r.display_name.clone()),
        pack_name: r.pack_name.clone(),
        approvals: shared::api::ApprovalSettings {
            hold_secs: u32::try_from(r.hold).unwrap_or(0),
            expiry_hours: u32::try_from(r.expiry).unwrap_or(1),
        },
        enforcement: AgentEnforcement {
            effective: EffectiveMode::of(
                mode,
                QuotaLevel::of(used, quota) == QuotaLevel::Exhausted,
            ),
            period,
            quota,
            paused_blocks_calls: r.paused_blocks_calls,
        },
    })
}

/// The authorisation query: None when the key is revoked or deleted.
async fn access_row(
    db: &PgPool,
    claims: &AgentClaims,
    period: Period,
) -> Result<Option<AuthRow>, AuthFailure> {
    // The quota check rides on this query (one index lookup of the
    // period's usage row): no round trip of its own on the hot path.
    sqlx::query_as(
        "SELECT o.mode, o.config_version, o.store_full_arguments, u.external_id, u.display_name,
           p.name AS pack_name, o.approval_hold_secs AS hold, o.approval_expiry_hours AS expiry, o.plan,
           o.enforce_quota_override AS own_quota, o.paused_blocks_calls, COALESCE(eu.used, 0) AS used
         FROM agent_keys k JOIN orgs o ON o.id = k.org_id
         JOIN tool_packs p ON p.id = k.pack_id
         JOIN registered_users u ON u.id = k.registered_user_id
         LEFT JOIN enforce_usage eu ON eu.org_id = o.id AND eu.period = $5
         WHERE k.id = $1 AND k.org_id = $2 AND k.pack_id = $3 AND k.registered_user_id = $4
           AND k.revoked_at IS NULL",
    )
    .bind(claims.key)
    .bind(claims.org)
    .bind(claims.pack)
    .bind(claims.sub)
    .bind(period.first_day())
    .fetch_optional(db)
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "authorising agent token");
        AuthFailure::Unavailable
    })
}

/// What the authorisation query reads about a live agent key.
#[derive(Debug, sqlx::FromRow)]
pub struct AuthRow {
    mode: String,
    config_version: i64,
    store_full_arguments: bool,
    external_id: String,
    display_name: String,
    pack_name: String,
    hold: i32,
    expiry: i32,
    plan: Option<String>,
    own_quota: Option<i64>,
    paused_blocks_calls: bool,
    used: i64,
}

/// A tool of the agent's pack, as an admin approved it (its pin).
#[derive(Debug, Clone)]
pub struct PackToolDef {
    /// `<connector>__<tool>`, what the agent calls.
    pub exposed_name: String,
    pub definition: shared::api::ToolDefinition,
}

/// The agent's pack's tools as pinned: never a definition nobody approved.
/// Quarantined tools and tools the upstream no longer offers are left out.
pub async fn pack_tools(db: &PgPool, agent: &AgentCtx) -> ServiceResult<Vec<PackToolDef>> {
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT c.name, p.tool_name, p.definition
         FROM tool_pack_tools pt
         JOIN connectors c ON c.id = pt.connector_id
         JOIN tool_pins p ON p.connector_id = pt.connector_id AND p.tool_name = pt.tool_name
         WHERE pt.org_id = $1 AND pt.pack_id = $2 AND p.quarantined_at IS NULL
           AND EXISTS (SELECT 1 FROM connector_tools t WHERE t.connector_id = pt.connector_id
                         AND t.name = pt.tool_name)
         ORDER BY c.name, p.tool_name",
    )
    .bind(agent.claims.org)
    .bind(agent.claims.pack)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(connector, name, definition)| {
            // A pin that does not parse is not served (fail closed).
            let definition = serde_json::from_value(definition)
                .map_err(
                    |e| tracing::error!(error = %e, tool = %name, "pinned definition unreadable"),
                )
                .ok()?;
            Some(PackToolDef {
                exposed_name: exposed_name(&connector, &name),
                definition,
            })
        })
        .collect())
}

/// Where one exposed tool goes.
#[derive(Clone)]
pub struct Route {
    pub connector_id: Uuid,
    pub upstream_tool: String,
    pub target: Dispatch,
    /// Quarantined (see [`super::integrity`]): refused, reads as unknown.
    pub quarantined: bool,
}

/// How a connector is reached.
#[derive(Clone, Debug)]
pub enum Dispatch {
    /// An upstream MCP server.
    Mcp(Target),
    /// A GitHub installation, through the governed GitHub tools, with what
    /// the pack may reach there.
    GitHub {
        scope: crate::github::Scope,
        status: shared::api::InstallationStatus,
    },
    /// A Postgres database, through the governed database tools, with what
    /// the pack may reach there.
    Postgres {
        target: crate::postgres::Target,
        access: shared::api::PackDatabase,
    },
}

/// Every tool of the agent's pack by exposed name, with how to reach its
/// connector (auth header decrypted). A tool outside this map does not
/// exist for the agent.
pub async fn routes(
    db: &PgPool,
    keyring: &Keyring,
    agent: &AgentCtx,
) -> ServiceResult<HashMap<String, Route>> {
    let org = agent.claims.org;
    // Only pinned tools the upstream still offers exist for the agent.
    let rows: Vec<(Uuid, String, String, String, bool)> = sqlx::query_as(
        "SELECT c.id, c.name, c.kind, pt.tool_name, p.quarantined_at IS NOT NULL FROM tool_pack_tools pt
         JOIN connectors c ON c.id = pt.connector_id
         JOIN connector_tools t ON t.connector_id = pt.connector_id AND t.name = pt.tool_name
         JOIN tool_pins p ON p.connector_id = pt.connector_id AND p.tool_name = pt.tool_name
         WHERE pt.org_id = $1 AND pt.pack_id = $2",
    )
    .bind(org)
    .bind(agent.claims.pack)
    .fetch_all(db)
    .await?;
    let mut targets: HashMap<Uuid, Dispatch> = HashMap::new();
    if rows.iter().any(|r| r.2 == "github") {
        for (connector_id, scope, status) in github::scopes(db, org, agent.claims.pack).await? {
            targets.insert(connector_id, Dispatch::GitHub { scope, status });
        }
    }
    if rows.iter().any(|r| r.2 == "postgres") {
        let found = databases::access_for_pack(db, keyring, org, agent.claims.pack).await?;
        for (connector_id, (target, access)) in found {
            targets.insert(connector_id, Dispatch::Postgres { target, access });
        }
    }
    let mut by_name = HashMap::new();
    for (connector_id, connector, _, tool, quarantined) in rows {
        let target = match targets.get(&connector_id) {
            Some(t) => t.clone(),
            None => {
                let t = Dispatch::Mcp(connectors::target(db, keyring, org, connector_id).await?);
                targets.insert(connector_id, t.clone());
                t
            }
        };
        by_name.insert(
            exposed_name(&connector, &tool),
            Route {
                connector_id,
                upstream_tool: tool,
                target,
                quarantined,
            },
        );
    }
    Ok(by_name)
}

/// The rules the agent's pack sees (org rules with the pack's overrides)
/// and the configuration version they belong to.
/// The tool policies of the agent's pack in evaluation order, and the
/// org's default action.
pub async fn tool_policies(
    db: &PgPool,
    agent: &AgentCtx,
) -> ServiceResult<(Vec<shared::api::ToolPolicy>, shared::decision::ToolAction)> {
    tool_policies::for_pack(db, agent.claims.org, Some(agent.claims.pack)).await
}

/// Calls recorded so far in a runtime session of this agent key (what
/// `session.calls` is in policy conditions).
pub async fn session_calls(db: &PgPool, agent: &AgentCtx, session_id: Uuid) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT call_count FROM runtime_sessions WHERE id = $1 AND org_id = $2 AND agent_key_id = $3",
    )
    .bind(session_id)
    .bind(agent.claims.org)
    .bind(agent.claims.key)
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}

pub async fn effective_rules(db: &PgPool, agent: &AgentCtx) -> ServiceResult<(OrgRules, i64)> {
    let (org, version) = rules::load_org(db, agent.claims.org).await?;
    let overrides = rules::pack_overrides(db, agent.claims.org, agent.claims.pack).await?;
    Ok((org.with_overrides(&overrides), version))
}
