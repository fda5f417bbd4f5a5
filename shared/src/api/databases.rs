//! Postgres connectors: the target (write-only), a connection test, and
//! what each Tool Pack may reach in a database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, FieldErrors};

/// How the connection to a Postgres target is encrypted. There is no
/// `prefer`: a mode that falls back to clear text is not a mode.
///
/// ```
/// use shared::api::PostgresSslMode;
/// assert_eq!("verify-full".parse::<PostgresSslMode>(), Ok(PostgresSslMode::VerifyFull));
/// assert!("prefer".parse::<PostgresSslMode>().is_err());
/// assert_eq!(PostgresSslMode::Require.as_str(), "require");
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostgresSslMode {
    /// No TLS: only for a database on Gatehouse's own machine (loopback).
    Disable,
    /// TLS, certificate not checked (libpq's `require`).
    Require,
    /// TLS, certificate checked against the system's CAs (and the
    /// connector's CA bundle) for the host name.
    VerifyFull,
}

impl PostgresSslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PostgresSslMode::Disable => "disable",
            PostgresSslMode::Require => "require",
            PostgresSslMode::VerifyFull => "verify-full",
        }
    }
}

impl std::str::FromStr for PostgresSslMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "disable" => Ok(PostgresSslMode::Disable),
            "require" => Ok(PostgresSslMode::Require),
            "verify-full" | "verify-ca" => Ok(PostgresSslMode::VerifyFull),
            other => Err(format!(
                "sslmode {other:?} is not supported: use require or verify-full (disable only \
                 for a database on this machine)."
            )),
        }
    }
}

/// Where a Postgres connector points: a `postgres://` URL, or the fields.
/// Write-only: never sent back.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct PostgresTargetInput {
    /// `postgres://user:password@host:5432/database?sslmode=require`
    #[serde(default)]
    pub dsn: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Overrides the URL's `sslmode` (default `verify-full`).
    #[serde(default)]
    pub ssl_mode: Option<PostgresSslMode>,
    /// PEM certificates to trust for `verify-full` (a provider's CA).
    #[serde(default)]
    pub ca_bundle: Option<String>,
}

impl std::fmt::Debug for PostgresTargetInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresTargetInput(<redacted>)")
    }
}

/// The body of `POST /connectors/postgres` and `PUT
/// /connectors/{id}/postgres`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PostgresConnectorInput {
    pub name: String,
    #[serde(flatten)]
    pub target: PostgresTargetInput,
}

/// A Postgres connector as shown: the target without its password.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostgresConnector {
    pub connector_id: Uuid,
    pub name: String,
    /// `user@host:port/database`
    pub target: String,
    pub ssl_mode: PostgresSslMode,
    pub ca_bundle_set: bool,
    /// The last connection test.
    pub last_test: Option<ConnectionTest>,
    pub used_by_packs: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// What a connection test found.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
    pub server_version: Option<String>,
    /// Whether the role can change data (then prefer a read-only role).
    pub can_write: Option<bool>,
    /// Schemas the role can see.
    pub schemas: Vec<String>,
    pub tested_at: DateTime<Utc>,
}

/// A connector's save answer: the connector and its first test.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostgresConnectorSaved {
    pub connector: PostgresConnector,
    pub test: ConnectionTest,
}

/// What one Tool Pack may reach in one Postgres connector.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackDatabase {
    pub connector_id: Uuid,
    pub connector_name: String,
    /// `schema.table` or `schema.*` (none = no table).
    pub tables: Vec<String>,
    /// `schema.table.column`: always masked in results.
    pub masked_columns: Vec<String>,
    /// `schema.table`: writes to these score higher.
    pub sensitive_tables: Vec<String>,
    /// Write proposals scoring this or more wait for approval (0–100).
    pub risk_threshold: u8,
    /// Whether `db_query_explain` may run `EXPLAIN ANALYZE` (it executes
    /// the query).
    pub allow_analyze: bool,
    /// Most rows a read returns.
    pub max_rows: u32,
    /// Most rows one write may change (more rolls back).
    pub max_write_rows: u32,
}

/// Defaults for a pack that has not configured a connector yet.
pub const DEFAULT_RISK_THRESHOLD: u8 = 50;
pub const DEFAULT_MAX_ROWS: u32 = 100;
pub const DEFAULT_MAX_WRITE_ROWS: u32 = 10;

/// The body of `PUT /packs/{id}/databases`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackDatabaseInput {
    pub connector_id: Uuid,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub masked_columns: Vec<String>,
    #[serde(default)]
    pub sensitive_tables: Vec<String>,
    #[serde(default)]
    pub risk_threshold: Option<u8>,
    #[serde(default)]
    pub allow_analyze: bool,
    #[serde(default)]
    pub max_rows: Option<u32>,
    #[serde(default)]
    pub max_write_rows: Option<u32>,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A table pattern: `schema.table` or `schema.*`.
///
/// ```
/// assert!(shared::api::is_table_pattern("public.customers"));
/// assert!(shared::api::is_table_pattern("sales.*"));
/// assert!(!shared::api::is_table_pattern("customers"));
/// ```
pub fn is_table_pattern(s: &str) -> bool {
    match s.split_once('.') {
        Some((schema, table)) => is_ident(schema) && (table == "*" || is_ident(table)),
        None => false,
    }
}

/// Whether `schema.table` is matched by one of `patterns`.
///
/// ```
/// let p = vec!["public.customers".to_owned(), "sales.*".to_owned()];
/// assert!(shared::api::table_allowed(&p, "public", "customers"));
/// assert!(shared::api::table_allowed(&p, "sales", "orders"));
/// assert!(!shared::api::table_allowed(&p, "public", "secrets"));
/// ```
pub fn table_allowed(patterns: &[String], schema: &str, table: &str) -> bool {
    patterns.iter().any(|p| match p.split_once('.') {
        Some((s, "*")) => s == schema,
        Some((s, t)) => s == schema && t == table,
        None => false,
    })
}

impl PackDatabaseInput {
    /// Checks every name and bound; names are trimmed, sorted and
    /// de-duplicated.
    ///
    /// ```
    /// use shared::api::PackDatabaseInput;
    /// let i = PackDatabaseInput { tables: vec![" public.customers".into()],
    ///     masked_columns: vec!["public.customers.ssn".into()], ..Default::default() };
    /// let ok = i.parse().unwrap();
    /// assert_eq!(ok.tables, vec!["public.customers".to_owned()]);
    /// assert_eq!(ok.max_rows, 100);
    /// let bad = PackDatabaseInput { tables: vec!["customers".into()], ..Default::default() };
    /// assert!(bad.parse().unwrap_err().field("tables").is_some());
    /// ```
    pub fn parse(&self) -> Result<PackDatabase, ApiError> {
        let mut errors = FieldErrors::new();
        let clean = |v: &[String]| {
            let mut out: Vec<String> = v
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            out.sort();
            out.dedup();
            out
        };
        let tables = clean(&self.tables);
        if let Some(bad) = tables.iter().find(|t| !is_table_pattern(t)) {
            errors = errors.with(
                "tables",
                format!("{bad:?} is not schema.table or schema.*."),
            );
        }
        let sensitive = clean(&self.sensitive_tables);
        if let Some(bad) = sensitive
            .iter()
            .find(|t| !is_table_pattern(t) || t.ends_with(".*"))
        {
            errors = errors.with("sensitive_tables", format!("{bad:?} is not schema.table."));
        }
        let masked = clean(&self.masked_columns);
        if let Some(bad) = masked.iter().find(|c| {
            let parts: Vec<&str> = c.split('.').collect();
            parts.len() != 3 || !parts.iter().all(|p| is_ident(p))
        }) {
            errors = errors.with(
                "masked_columns",
                format!("{bad:?} is not schema.table.column."),
            );
        }
        let risk_threshold = self.risk_threshold.unwrap_or(DEFAULT_RISK_THRESHOLD);
        if risk_threshold > 100 {
            errors = errors.with("risk_threshold", "Use 0 to 100.");
        }
        let max_rows = self.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
        if !(1..=10_000).contains(&max_rows) {
            errors = errors.with("max_rows", "Use 1 to 10000.");
        }
        let max_write_rows = self.max_write_rows.unwrap_or(DEFAULT_MAX_WRITE_ROWS);
        if !(1..=100_000).contains(&max_write_rows) {
            errors = errors.with("max_write_rows", "Use 1 to 100000.");
        }
        if !errors.is_empty() {
            return Err(errors.into_error());
        }
        Ok(PackDatabase {
            connector_id: self.connector_id,
            connector_name: String::new(),
            tables,
            masked_columns: masked,
            sensitive_tables: sensitive,
            risk_threshold,
            allow_analyze: self.allow_analyze,
            max_rows,
            max_write_rows,
        })
    }
}
