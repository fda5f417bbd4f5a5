//! Postgres connectors: saving a target (sealed, checked), testing it, and
//! what each Tool Pack may reach in it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{
    ConnectionTest, ConnectorName, PackDatabase, PackDatabaseInput, PostgresConnector,
    PostgresConnectorInput, PostgresConnectorSaved, PostgresSslMode,
};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, capitalised, config_version, packs, taken};
use crate::crypto::{Keyring, Sealed};
use crate::postgres::{Target, exec, tools};

/// What saving and testing a database needs besides the tenant (built by
/// [`super::connectors::Deps::databases`]).
pub struct Deps<'a> {
    pub db: &'a PgPool,
    pub keyring: &'a Keyring,
    /// Which addresses targets may resolve to (see [`crate::egress`]).
    pub egress: crate::egress::EgressPolicy,
    pub databases: &'a crate::postgres::Databases,
    pub now: DateTime<Utc>,
}

/// Associated data binding a sealed target to its org and connector.
pub(crate) fn aad(org_id: Uuid, connector_id: Uuid) -> Vec<u8> {
    let mut v = b"gatehouse:postgres-target:".to_vec();
    v.extend_from_slice(org_id.as_bytes());
    v.extend_from_slice(connector_id.as_bytes());
    v
}

fn parse_target(
    input: &shared::api::PostgresTargetInput,
    keep_password: Option<&Target>,
) -> ServiceResult<Target> {
    let mut t = Target::parse(input).map_err(|e| ApiError::invalid(e.field, e.message))?;
    // Editing the fields without retyping the password keeps the stored
    // one (the form never shows it).
    if input.dsn.as_deref().is_none_or(|d| d.trim().is_empty())
        && input.password.as_deref().is_none_or(str::is_empty)
        && let Some(old) = keep_password
    {
        t.password = old.password.clone();
    }
    Ok(t)
}

/// Where a target may point, as a field error for the admin (the same
/// check runs again before every connection, see
/// [`crate::postgres::checked_addresses`]).
async fn check_target(d: &Deps<'_>, t: &Target) -> ServiceResult<()> {
    use crate::postgres::TargetRefused;
    match crate::postgres::checked_addresses(t, d.egress).await {
        Ok(_) => Ok(()),
        Err(e @ TargetRefused::Address(_)) => {
            Err(ApiError::invalid("host", capitalised(&e.to_string())).into())
        }
        Err(TargetRefused::Cleartext(_)) => Err(ApiError::invalid(
            "ssl_mode",
            "This database is not on Gatehouse's machine, so the connection must be encrypted: \
             choose require or verify-full.",
        )
        .into()),
    }
}

type Row = (
    Uuid,
    String,
    String,
    String,
    bool,
    Option<serde_json::Value>,
    Vec<String>,
    DateTime<Utc>,
);

const SELECT: &str = "SELECT c.id, c.name, c.url, p.ssl_mode, p.ca_bundle_set, p.last_test,
        COALESCE((SELECT array_agg(DISTINCT tp.name ORDER BY tp.name) FROM tool_pack_tools pt
                  JOIN tool_packs tp ON tp.id = pt.pack_id WHERE pt.connector_id = c.id), '{}'),
        c.created_at
     FROM postgres_connectors p JOIN connectors c ON c.id = p.id";

fn to_dto(r: Row) -> PostgresConnector {
    PostgresConnector {
        connector_id: r.0,
        name: r.1,
        target: r.2,
        ssl_mode: r.3.parse().unwrap_or(PostgresSslMode::VerifyFull),
        ca_bundle_set: r.4,
        last_test: r.5.and_then(|v| serde_json::from_value(v).ok()),
        used_by_packs: r.6,
        created_at: r.7,
    }
}

pub async fn list(db: &PgPool, t: &TenantCtx) -> ServiceResult<Vec<PostgresConnector>> {
    t.require(Role::Viewer)?;
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.org_id = $1 ORDER BY c.name"))
        .bind(t.org_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(to_dto).collect())
}

pub async fn get(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<PostgresConnector> {
    t.require(Role::Viewer)?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE p.org_id = $1 AND p.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(to_dto)
        .ok_or_else(|| ApiError::not_found("Postgres connector").into())
}

const NAME_TAKEN: &str = "A connector with this name already exists.";

/// Saves a Postgres connector (target checked, sealed) with its governed
/// tools, then tests it (a failing test does not prevent saving).
pub async fn create(
    d: &Deps<'_>,
    t: &TenantCtx,
    input: &PostgresConnectorInput,
) -> ServiceResult<PostgresConnectorSaved> {
    t.require(Role::Admin)?;
    let name = ConnectorName::parse(&input.name).map_err(|e| ApiError::invalid("name", e))?;
    let target = parse_target(&input.target, None)?;
    check_target(d, &target).await?;
    let id = Uuid::new_v4();
    let sealed = d
        .keyring
        .seal(&target.to_sealed_json(), &aad(t.org_id, id))
        .map_err(anyhow::Error::from)?;
    let mut tx = d.db.begin().await?;
    sqlx::query(
        "INSERT INTO connectors (id, org_id, name, url, kind, discovered_at) VALUES ($1, $2, $3, $4, 'postgres', $5)",
    )
    .bind(id)
    .bind(t.org_id)
    .bind(name.as_str())
    .bind(target.to_string())
    .bind(d.now)
    .execute(&mut *tx)
    .await
    .map_err(taken("name", NAME_TAKEN))?;
    sqlx::query(
        "INSERT INTO postgres_connectors (id, org_id, ssl_mode, ca_bundle_set, dsn_ciphertext, dsn_nonce, dsn_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(t.org_id)
    .bind(target.ssl_mode.as_str())
    .bind(target.ca_bundle.is_some())
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .execute(&mut *tx)
    .await?;
    super::insert_builtin_tools(
        &mut tx,
        t.org_id,
        id,
        tools::TOOLS
            .iter()
            .map(|d| {
                (
                    d.name,
                    d.title,
                    d.description,
                    d.input_schema(),
                    d.annotations(),
                )
            })
            .collect(),
        d.now,
    )
    .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, connector_id = %id, "Postgres connector created");
    let test = test(d, t, id).await?;
    Ok(PostgresConnectorSaved {
        connector: get(d.db, t, id).await?,
        test,
    })
}

/// Replaces a connector's name and target (the password is kept when the
/// fields come without one), then tests it.
pub async fn update(
    d: &Deps<'_>,
    t: &TenantCtx,
    id: Uuid,
    input: &PostgresConnectorInput,
) -> ServiceResult<PostgresConnectorSaved> {
    t.require(Role::Admin)?;
    let old = target(d.db, d.keyring, t.org_id, id).await?;
    let name = ConnectorName::parse(&input.name).map_err(|e| ApiError::invalid("name", e))?;
    let target = parse_target(&input.target, Some(&old))?;
    check_target(d, &target).await?;
    let sealed = d
        .keyring
        .seal(&target.to_sealed_json(), &aad(t.org_id, id))
        .map_err(anyhow::Error::from)?;
    let mut tx = d.db.begin().await?;
    sqlx::query("UPDATE connectors SET name = $3, url = $4 WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .bind(name.as_str())
        .bind(target.to_string())
        .execute(&mut *tx)
        .await
        .map_err(taken("name", NAME_TAKEN))?;
    sqlx::query(
        "UPDATE postgres_connectors SET ssl_mode = $3, ca_bundle_set = $4, dsn_ciphertext = $5,
           dsn_nonce = $6, dsn_key_id = $7, last_test = NULL WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .bind(target.ssl_mode.as_str())
    .bind(target.ca_bundle.is_some())
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .execute(&mut *tx)
    .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    d.databases.forget(id);
    let test = test(d, t, id).await?;
    Ok(PostgresConnectorSaved {
        connector: get(d.db, t, id).await?,
        test,
    })
}

/// Connects afresh (not from the pool) and reports; the report is kept.
pub async fn test(d: &Deps<'_>, t: &TenantCtx, id: Uuid) -> ServiceResult<ConnectionTest> {
    t.require(Role::Admin)?;
    let target = target(d.db, d.keyring, t.org_id, id).await?;
    // Connecting checks the target first (addresses, TLS).
    let outcome = exec::test(
        &target,
        d.egress,
        &crate::postgres::app_name(t.org_id),
        &d.databases.limits(),
    )
    .await;
    let mut report = exec::test_report(outcome, d.now);
    if !report.ok {
        // Postgres wrote part of this text; detected values are redacted.
        report.message = super::rules::redact_for_org(d.db, t.org_id, &report.message).await;
    }
    sqlx::query("UPDATE postgres_connectors SET last_test = $3 WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .bind(serde_json::to_value(&report).map_err(anyhow::Error::from)?)
        .execute(d.db)
        .await?;
    Ok(report)
}

/// A connector's target, opened. Unchecked org id: callers verified the
/// tenant or the agent.
pub(crate) async fn target(
    db: &PgPool,
    keyring: &Keyring,
    org_id: Uuid,
    id: Uuid,
) -> ServiceResult<Target> {
    let row: Option<(Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT dsn_ciphertext, dsn_nonce, dsn_key_id FROM postgres_connectors WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    let (ciphertext, nonce, key_id) =
        row.ok_or_else(|| ApiError::not_found("Postgres connector"))?;
    let plain = keyring
        .open(
            &Sealed {
                ciphertext,
                nonce,
                key_id,
            },
            &aad(org_id, id),
        )
        .map_err(|e| anyhow::anyhow!("Postgres connector {id} target: {e}"))?;
    Ok(Target::from_sealed_json(&plain)?)
}

type AccessRow = (
    Uuid,
    String,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
    Option<i16>,
    Option<bool>,
    Option<i32>,
    Option<i32>,
);

fn to_access(r: AccessRow) -> PackDatabase {
    PackDatabase {
        connector_id: r.0,
        connector_name: r.1,
        tables: r.2.unwrap_or_default(),
        masked_columns: r.3.unwrap_or_default(),
        sensitive_tables: r.4.unwrap_or_default(),
        risk_threshold: r
            .5
            .and_then(|v| u8::try_from(v).ok())
            .unwrap_or(shared::api::DEFAULT_RISK_THRESHOLD),
        allow_analyze: r.6.unwrap_or(false),
        max_rows: r
            .7
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(shared::api::DEFAULT_MAX_ROWS),
        max_write_rows: r
            .8
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(shared::api::DEFAULT_MAX_WRITE_ROWS),
    }
}

const ACCESS: &str = "SELECT c.id, c.name, a.tables, a.masked_columns, a.sensitive_tables,
        a.risk_threshold, a.allow_analyze, a.max_rows, a.max_write_rows
     FROM postgres_connectors p JOIN connectors c ON c.id = p.id
     LEFT JOIN tool_pack_databases a ON a.connector_id = c.id AND a.pack_id = $2
     WHERE p.org_id = $1";

/// What a pack may reach in each of the org's Postgres connectors (a
/// connector the pack has not configured: no table).
pub async fn pack_databases(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
) -> ServiceResult<Vec<PackDatabase>> {
    packs::get(db, t, pack_id).await?;
    let rows: Vec<AccessRow> = sqlx::query_as(&format!("{ACCESS} ORDER BY c.name"))
        .bind(t.org_id)
        .bind(pack_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(to_access).collect())
}

/// Sets what a pack may reach in one Postgres connector.
pub async fn set_pack_database(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
    input: &PackDatabaseInput,
) -> ServiceResult<Vec<PackDatabase>> {
    t.require(Role::Admin)?;
    packs::get(db, t, pack_id).await?;
    let a = input.parse()?;
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM postgres_connectors WHERE org_id = $1 AND id = $2)",
    )
    .bind(t.org_id)
    .bind(a.connector_id)
    .fetch_one(db)
    .await?;
    if !known {
        return Err(ApiError::invalid("connector_id", "No such Postgres connector.").into());
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO tool_pack_databases (pack_id, connector_id, org_id, tables, masked_columns,
           sensitive_tables, risk_threshold, allow_analyze, max_rows, max_write_rows)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (pack_id, connector_id) DO UPDATE SET tables = $4, masked_columns = $5,
           sensitive_tables = $6, risk_threshold = $7, allow_analyze = $8, max_rows = $9,
           max_write_rows = $10",
    )
    .bind(pack_id)
    .bind(a.connector_id)
    .bind(t.org_id)
    .bind(&a.tables)
    .bind(&a.masked_columns)
    .bind(&a.sensitive_tables)
    .bind(i16::from(a.risk_threshold))
    .bind(a.allow_analyze)
    .bind(i32::try_from(a.max_rows).unwrap_or(i32::MAX))
    .bind(i32::try_from(a.max_write_rows).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    tracing::info!(org_id = %t.org_id, pack_id = %pack_id, connector_id = %a.connector_id, "pack database access set");
    pack_databases(db, t, pack_id).await
}

/// The data path's view: per Postgres connector whose tools the agent's
/// pack exposes (no other target is opened), its target and what the pack
/// may reach. Unchecked org id (the agent was verified).
pub(super) async fn access_for_pack(
    db: &PgPool,
    keyring: &Keyring,
    org_id: Uuid,
    pack_id: Uuid,
) -> ServiceResult<HashMap<Uuid, (Target, PackDatabase)>> {
    let rows: Vec<AccessRow> = sqlx::query_as(&format!(
        "{ACCESS} AND EXISTS (SELECT 1 FROM tool_pack_tools pt WHERE pt.pack_id = $2 AND pt.connector_id = c.id)"
    ))
        .bind(org_id)
        .bind(pack_id)
        .fetch_all(db)
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let access = to_access(r);
        let target = target(db, keyring, org_id, access.connector_id).await?;
        out.insert(access.connector_id, (target, access));
    }
    Ok(out)
}
