//! Upstream MCP connectors and their discovered tools.

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{
    Connector, ConnectorKind, ConnectorTool, DiscoveryReport, NewConnector, ToolChangeAction,
    ToolChangeKind, ToolDefinition, exposed_name,
};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, capitalised, config_version, found, integrity, taken};
use crate::crypto::{Keyring, Sealed};
use crate::egress::EgressPolicy;
use crate::upstream::{Target, UpstreamPool};

/// What the connector code needs besides the database.
pub struct Deps<'a> {
    pub db: &'a PgPool,
    pub keyring: &'a Keyring,
    pub upstreams: &'a UpstreamPool,
    /// Which addresses connectors may reach (see [`crate::egress`]).
    pub egress: EgressPolicy,
    /// Whether an auth header may go to an `http://` (non-loopback) URL.
    pub allow_plaintext_auth: bool,
    /// The GitHub connector's client (refreshing a GitHub installation).
    pub github: &'a crate::github::GitHub,
    /// Postgres connectors' session pools (closed when one changes).
    pub databases: &'a crate::postgres::Databases,
    pub now: DateTime<Utc>,
    /// The dashboard's base URL (links in webhook payloads).
    pub links_base: String,
}

impl Deps<'_> {
    /// What the Postgres connector's services need.
    pub fn databases(&self) -> super::databases::Deps<'_> {
        super::databases::Deps {
            db: self.db,
            keyring: self.keyring,
            egress: self.egress,
            databases: self.databases,
            now: self.now,
        }
    }
}

/// Associated data binding a connector's sealed auth header to its org and
/// connector, so a ciphertext copied to another row does not open.
pub(crate) fn aad(org_id: Uuid, connector_id: Uuid) -> Vec<u8> {
    let mut v = b"gatehouse:connector-auth:".to_vec();
    v.extend_from_slice(org_id.as_bytes());
    v.extend_from_slice(connector_id.as_bytes());
    v
}

/// Where a connector may point: a public address (unless the operator
/// allows private ones), and no secret sent in clear over the network.
/// The address is checked again on every connection (see
/// [`crate::egress`]); this check gives the admin the message at save time.
async fn check_destination(d: &Deps<'_>, url: &str, carries_auth: bool) -> ServiceResult<()> {
    let parsed =
        url::Url::parse(url).map_err(|_| ApiError::invalid("url", "Enter a valid URL."))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(h)) => h.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() == "http" && carries_auth && !loopback && !d.allow_plaintext_auth {
        return Err(ApiError::invalid(
            "url",
            "This URL is not encrypted (http://), so the auth header would cross the network in \
             clear. Use https://, or ask the operator to set \
             GATEHOUSE_ALLOW_PLAINTEXT_UPSTREAM_AUTH=true.",
        )
        .into());
    }
    d.egress
        .check_url(&parsed)
        .await
        .map_err(|e| ApiError::invalid("url", capitalised(&e.to_string())).into())
}

type Row = (
    Uuid,
    String,
    String,
    String,
    Option<String>,
    bool,
    i64,
    Option<DateTime<Utc>>,
    Option<String>,
    Vec<String>,
    DateTime<Utc>,
);

const SELECT: &str =
    "SELECT c.id, c.name, c.kind, c.url, c.auth_header_name, c.auth_ciphertext IS NOT NULL,
        (SELECT count(*) FROM connector_tools t WHERE t.connector_id = c.id),
        c.discovered_at, c.discovery_error,
        COALESCE((SELECT array_agg(DISTINCT p.name ORDER BY p.name) FROM tool_pack_tools pt
                  JOIN tool_packs p ON p.id = pt.pack_id WHERE pt.connector_id = c.id), '{}'),
        c.created_at
     FROM connectors c";

fn to_dto(r: Row) -> Connector {
    Connector {
        id: r.0,
        name: r.1,
        kind: match r.2.as_str() {
            "github" => ConnectorKind::GitHub,
            "postgres" => ConnectorKind::Postgres,
            _ => ConnectorKind::Mcp,
        },
        url: r.3,
        auth_header_name: r.4,
        auth_set: r.5,
        tool_count: r.6,
        discovered_at: r.7,
        discovery_error: r.8,
        used_by_packs: r.9,
        created_at: r.10,
    }
}

pub async fn list(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<Connector>> {
    t.require(Role::Viewer)?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE c.org_id = $1 ORDER BY c.name"))
        .bind(t.org_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(to_dto).collect())
}

pub async fn get(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<Connector> {
    t.require(Role::Viewer)?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE c.org_id = $1 AND c.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(to_dto)
        .ok_or_else(|| ApiError::not_found("connector").into())
}

const NAME_TAKEN: &str = "A connector with this name already exists.";

/// Creates a connector and runs a first discovery (its outcome is stored;
/// a failing upstream does not prevent saving).
pub async fn create(
    d: &Deps<'_>,
    t: &TenantCtx,
    input: &NewConnector,
) -> ServiceResult<(Connector, DiscoveryReport)> {
    t.require(Role::Admin)?;
    check_destination(d, &input.url, input.auth_header_value.is_some()).await?;
    let id = Uuid::new_v4();
    let sealed = match (&input.auth_header_name, &input.auth_header_value) {
        (Some(_), Some(v)) => Some(
            d.keyring
                .seal(v.as_bytes(), &aad(t.org_id, id))
                .map_err(anyhow::Error::from)?,
        ),
        (Some(_), None) => {
            return Err(ApiError::invalid("auth_header_value", "Enter the header's value.").into());
        }
        _ => None,
    };
    sqlx::query(
        "INSERT INTO connectors (id, org_id, name, url, auth_header_name, auth_ciphertext, auth_nonce, auth_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(t.org_id)
    .bind(input.name.as_str())
    .bind(&input.url)
    .bind(sealed.as_ref().and(input.auth_header_name.as_ref()))
    .bind(sealed.as_ref().map(|s| s.ciphertext.clone()))
    .bind(sealed.as_ref().map(|s| s.nonce.clone()))
    .bind(sealed.as_ref().map(|s| s.key_id.clone()))
    .execute(d.db)
    .await
    .map_err(taken("name", NAME_TAKEN))?;
    tracing::info!(org_id = %t.org_id, connector_id = %id, "connector created");
    let report = refresh(d, t, id).await?;
    Ok((get(d.db, t, id).await?, report))
}

/// Changes a connector. An empty auth value keeps the stored secret.
pub async fn update(
    d: &Deps<'_>,
    t: &TenantCtx,
    id: Uuid,
    input: &NewConnector,
) -> ServiceResult<Connector> {
    t.require(Role::Admin)?;
    let current = get(d.db, t, id).await?;
    match current.kind {
        ConnectorKind::GitHub => {
            return Err(ApiError::conflict(
                "A GitHub connector follows its installation: refresh it, or disconnect it.",
            )
            .into());
        }
        ConnectorKind::Postgres => {
            return Err(ApiError::conflict(
                "A Postgres connector's target is changed with PUT /databases/{id} (or on the Connectors page).",
            )
            .into());
        }
        ConnectorKind::Mcp => {}
    }
    let carries_auth = !input.clear_auth
        && (input.auth_header_value.is_some()
            || (current.auth_set && input.auth_header_name.is_some()));
    check_destination(d, &input.url, carries_auth).await?;
    let mut tx = d.db.begin().await?;
    sqlx::query("UPDATE connectors SET name = $3, url = $4 WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .bind(input.name.as_str())
        .bind(&input.url)
        .execute(&mut *tx)
        .await
        .map_err(taken("name", NAME_TAKEN))?;
    if input.clear_auth {
        sqlx::query(
            "UPDATE connectors SET auth_header_name = NULL, auth_ciphertext = NULL, auth_nonce = NULL,
             auth_key_id = NULL WHERE org_id = $1 AND id = $2",
        )
        .bind(t.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    } else if let Some(name) = &input.auth_header_name {
        match &input.auth_header_value {
            Some(v) => {
                let s = d
                    .keyring
                    .seal(v.as_bytes(), &aad(t.org_id, id))
                    .map_err(anyhow::Error::from)?;
                sqlx::query(
                    "UPDATE connectors SET auth_header_name = $3, auth_ciphertext = $4, auth_nonce = $5,
                     auth_key_id = $6 WHERE org_id = $1 AND id = $2",
                )
                .bind(t.org_id)
                .bind(id)
                .bind(name)
                .bind(&s.ciphertext)
                .bind(&s.nonce)
                .bind(&s.key_id)
                .execute(&mut *tx)
                .await?;
            }
            None if current.auth_set => {
                sqlx::query(
                    "UPDATE connectors SET auth_header_name = $3 WHERE org_id = $1 AND id = $2",
                )
                .bind(t.org_id)
                .bind(id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                return Err(
                    ApiError::invalid("auth_header_value", "Enter the header's value.").into(),
                );
            }
        }
    }
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    d.upstreams.forget(id).await;
    get(d.db, t, id).await
}

/// Removes a connector; packs lose its tools.
pub async fn delete(d: &Deps<'_>, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = d.db.begin().await?;
    let done = sqlx::query("DELETE FROM connectors WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    found(done, "connector")?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    d.upstreams.forget(id).await;
    d.databases.forget(id);
    tracing::info!(org_id = %t.org_id, connector_id = %id, "connector removed");
    Ok(())
}

/// How to reach a connector, with its secret decrypted. Unchecked org id:
/// callers verified the tenant or the agent.
pub(super) async fn target(
    db: &PgPool,
    keyring: &Keyring,
    org_id: Uuid,
    id: Uuid,
) -> ServiceResult<Target> {
    type T = (
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<String>,
    );
    let row: Option<T> = sqlx::query_as(
        "SELECT url, auth_header_name, auth_ciphertext, auth_nonce, auth_key_id FROM connectors
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    let (url, name, ct, nonce, key_id) = row.ok_or_else(|| ApiError::not_found("connector"))?;
    let header = match (name, ct, nonce, key_id) {
        (Some(name), Some(ciphertext), Some(nonce), Some(key_id)) => {
            let plain = keyring
                .open(
                    &Sealed {
                        ciphertext,
                        nonce,
                        key_id,
                    },
                    &aad(org_id, id),
                )
                .map_err(|e| anyhow::anyhow!("connector {id} auth header: {e}"))?;
            Some((
                name,
                String::from_utf8(plain)
                    .map_err(|_| anyhow::anyhow!("auth header is not UTF-8"))?,
            ))
        }
        _ => None,
    };
    Ok(Target {
        connector_id: id,
        url,
        header,
    })
}

/// Connects, lists the upstream's tools and stores them (replacing the
/// previous list). Failures are stored on the connector and reported.
pub async fn refresh(d: &Deps<'_>, t: &TenantCtx, id: Uuid) -> ServiceResult<DiscoveryReport> {
    t.require(Role::Admin)?;
    let connector = get(d.db, t, id).await?;
    match connector.kind {
        ConnectorKind::GitHub => return github_refresh(d, t, id).await,
        ConnectorKind::Postgres => {
            // Its tools are Gatehouse's own: refreshing is a connection test.
            let test = super::databases::test(&d.databases(), t, id).await?;
            return Ok(DiscoveryReport {
                ok: test.ok,
                message: test.message,
                tools: tools(d.db, t, Some(id)).await?,
                server_name: test.server_version.map(|v| format!("PostgreSQL {v}")),
                protocol_version: None,
                changes: Vec::new(),
            });
        }
        ConnectorKind::Mcp => {}
    }
    discover(d, t.org_id, &connector).await
}

/// Lists an MCP connector's tools, stores them, compares them with the
/// pins ([`integrity::observe`]) and reports. Failures are stored on the
/// connector and reported. Unchecked org id: callers verified the tenant,
/// or are the scheduled refresh.
async fn discover(
    d: &Deps<'_>,
    org_id: Uuid,
    connector: &Connector,
) -> ServiceResult<DiscoveryReport> {
    let id = connector.id;
    let target = target(d.db, d.keyring, org_id, id).await?;
    if let Err(e) = check_destination(d, &target.url, target.header.is_some()).await {
        let msg = e
            .into_api()
            .field("url")
            .unwrap_or("private address")
            .to_owned();
        return Ok(DiscoveryReport::failed(msg));
    }
    match d.upstreams.discover(&target).await {
        Ok(found) => {
            // Scanned before the transaction: the org's rules compile once.
            let scanner = integrity::org_scanner(d.db, org_id).await?;
            // A name listed twice counts once (the first, as stored): what
            // is compared must be what is stored.
            let mut seen = std::collections::HashSet::new();
            let discovered: Vec<integrity::Discovered> = found
                .tools
                .iter()
                .filter(|tool| seen.insert(tool.name.to_string()))
                .map(|tool| integrity::Discovered::new(&scanner, definition_of(tool)))
                .collect();
            let mut tx = d.db.begin().await?;
            // One discovery of a connector at a time (replicas, the
            // scheduler and an admin's refresh may meet here).
            let first: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT discovered_at FROM connectors WHERE org_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(org_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let previous: std::collections::HashSet<String> = sqlx::query_scalar(
                "SELECT name FROM connector_tools WHERE connector_id = $1 AND org_id = $2",
            )
            .bind(id)
            .bind(org_id)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
            sqlx::query("DELETE FROM connector_tools WHERE connector_id = $1 AND org_id = $2")
                .bind(id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            for tool in &discovered {
                let def = &tool.definition;
                sqlx::query(
                    "INSERT INTO connector_tools (connector_id, org_id, name, title, description, input_schema,
                     output_schema, annotations, fingerprint, findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (connector_id, name) DO NOTHING",
                )
                .bind(id)
                .bind(org_id)
                .bind(&def.name)
                .bind(def.title.as_deref())
                .bind(def.description.as_deref())
                .bind(&def.input_schema)
                .bind(def.output_schema.as_ref())
                .bind(def.annotations.as_ref())
                .bind(&tool.fingerprint)
                .bind(serde_json::to_value(&tool.findings).map_err(anyhow::Error::from)?)
                .execute(&mut *tx)
                .await?;
            }
            let changes = integrity::observe(
                &mut tx,
                org_id,
                id,
                &connector.name,
                first.is_some().then_some(&previous),
                &discovered,
                d.now,
                &d.links_base,
            )
            .await?;
            sqlx::query(
                "UPDATE connectors SET discovered_at = $3, discovery_error = NULL
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(org_id)
            .bind(id)
            .bind(d.now)
            .execute(&mut *tx)
            .await?;
            config_version::bump_in(&mut tx, org_id).await?;
            tx.commit().await?;
            let tools = list_tools(d.db, org_id, Some(id)).await?;
            let held = changes
                .iter()
                .filter(|c| c.action == ToolChangeAction::Quarantined)
                .count();
            let changed = changes
                .iter()
                .filter(|c| c.kind != ToolChangeKind::Appeared)
                .count();
            let mut message = format!(
                "Connected{} and found {} tool{} in {} ms.",
                found
                    .server_name
                    .as_ref()
                    .map(|n| format!(" to {n}"))
                    .unwrap_or_default(),
                tools.len(),
                if tools.len() == 1 { "" } else { "s" },
                found.elapsed.as_millis()
            );
            if changed > 0 {
                message.push_str(&format!(
                    " {changed} exposed tool{} changed upstream{}: review on the Tool integrity page.",
                    if changed == 1 { "" } else { "s" },
                    if held > 0 {
                        format!(" ({held} quarantined)")
                    } else {
                        String::new()
                    }
                ));
            }
            Ok(DiscoveryReport {
                ok: true,
                message,
                tools,
                server_name: found.server_name,
                protocol_version: Some(found.protocol_version),
                changes,
            })
        }
        Err(e) => {
            // The upstream wrote this text (an HTTP error body, say): shown
            // capped (see `upstream`) and with detected values redacted.
            let said = super::rules::redact_for_org(d.db, org_id, &e.to_string()).await;
            let message = format!("Could not list tools at {}: {said}.", connector.url);
            sqlx::query("UPDATE connectors SET discovery_error = $3 WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id)
                .bind(&message)
                .execute(d.db)
                .await?;
            Ok(DiscoveryReport::failed(message))
        }
    }
}

/// The scheduled refresh: discovers every MCP connector (any org) not
/// discovered for `every`, oldest first, at most `batch` per run; each is
/// compared with its pins like an admin's refresh. Returns how many ran.
pub async fn refresh_due(
    d: &Deps<'_>,
    every: std::time::Duration,
    batch: i64,
) -> ServiceResult<usize> {
    let before = d.now - chrono::Duration::from_std(every).map_err(anyhow::Error::from)?;
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT org_id, id FROM connectors WHERE kind = 'mcp' AND (discovered_at IS NULL OR discovered_at < $1)
         ORDER BY discovered_at NULLS FIRST LIMIT $2",
    )
    .bind(before)
    .bind(batch)
    .fetch_all(d.db)
    .await?;
    for (org_id, id) in &due {
        let connector: Option<Row> =
            sqlx::query_as(&format!("{SELECT} WHERE c.org_id = $1 AND c.id = $2"))
                .bind(org_id)
                .bind(id)
                .fetch_optional(d.db)
                .await?;
        let Some(connector) = connector.map(to_dto) else {
            continue;
        };
        match discover(d, *org_id, &connector).await {
            Ok(r) if !r.ok => {
                tracing::info!(org_id = %org_id, connector_id = %id, "scheduled discovery failed");
                // Not retried before the next period.
                sqlx::query(
                    "UPDATE connectors SET discovered_at = $3 WHERE org_id = $1 AND id = $2",
                )
                .bind(org_id)
                .bind(id)
                .bind(d.now)
                .execute(d.db)
                .await?;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(org_id = %org_id, connector_id = %id, error = %e, "scheduled discovery")
            }
        }
    }
    Ok(due.len())
}

/// What an upstream's tool says about itself, as Gatehouse pins it.
fn definition_of(tool: &rmcp::model::Tool) -> ToolDefinition {
    ToolDefinition {
        name: tool.name.to_string(),
        title: tool.title.clone(),
        description: tool.description.as_deref().map(str::to_owned),
        input_schema: serde_json::Value::Object((*tool.input_schema).clone()),
        output_schema: tool
            .output_schema
            .as_ref()
            .map(|s| serde_json::Value::Object((**s).clone())),
        annotations: tool
            .annotations
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok()),
    }
}

/// Refreshing a GitHub connector asks GitHub about its installation; its
/// tools are Gatehouse's own and do not change.
async fn github_refresh(d: &Deps<'_>, t: &TenantCtx, id: Uuid) -> ServiceResult<DiscoveryReport> {
    let report = |ok: bool, message: String, tools: Vec<ConnectorTool>| DiscoveryReport {
        ok,
        message,
        tools,
        server_name: Some("GitHub".to_owned()),
        protocol_version: None,
        changes: Vec::new(),
    };
    match super::github::refresh(d.db, d.keyring, d.github, t, d.now, id).await {
        Ok(i) => Ok(report(
            true,
            format!(
                "GitHub installation on {} is {}, with {} repositor{}.",
                i.account_login,
                i.status.as_str(),
                i.repositories.len(),
                if i.repositories.len() == 1 {
                    "y"
                } else {
                    "ies"
                }
            ),
            tools(d.db, t, Some(id)).await?,
        )),
        Err(super::ServiceError::Client(e)) if e.kind == shared::error::ErrorKind::Unavailable => {
            Ok(report(false, e.message, vec![]))
        }
        Err(e) => Err(e),
    }
}

/// Discovered tools of one connector (which must be this org's), or of
/// all.
pub async fn tools(
    db: &PgPool,
    t: &TenantCtx,
    connector: Option<Uuid>,
) -> ServiceResult<Vec<ConnectorTool>> {
    if let Some(id) = connector {
        get(db, t, id).await?;
    }
    t.require(Role::Viewer)?;
    list_tools(db, t.org_id, connector).await
}

async fn list_tools(
    db: &PgPool,
    org_id: Uuid,
    connector: Option<Uuid>,
) -> ServiceResult<Vec<ConnectorTool>> {
    let rows: Vec<(
        Uuid,
        String,
        String,
        Option<String>,
        Option<String>,
        serde_json::Value,
        serde_json::Value,
    )> = sqlx::query_as(
        "SELECT c.id, c.name, t.name, t.title, t.description, t.input_schema, t.findings
         FROM connector_tools t JOIN connectors c ON c.id = t.connector_id
         WHERE t.org_id = $1 AND ($2::uuid IS NULL OR c.id = $2) ORDER BY c.name, t.name",
    )
    .bind(org_id)
    .bind(connector)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(cid, cname, name, title, description, input_schema, findings)| ConnectorTool {
                exposed_name: exposed_name(&cname, &name),
                connector_id: cid,
                connector_name: cname,
                name,
                title,
                description,
                input_schema,
                findings: serde_json::from_value(findings).unwrap_or_default(),
            },
        )
        .collect())
}
