//! The service layer: every business rule lives here, once. The dashboard's
//! server functions and the admin API both call these functions; tenant-bound
//! functions take the verified [`shared::account::TenantCtx`] first and check
//! the caller's role themselves, so no surface can forget to.

pub mod accounts;
pub mod agent_keys;
pub mod api_tokens;
pub mod approvals;
mod config_version;
pub mod connectors;
pub mod data_path;
pub mod databases;
pub mod enforcement;
pub mod github;
pub mod integrity;
pub mod invitations;
pub mod packs;
mod paging;
pub mod passwords;
pub mod records;
pub mod registered_users;
pub mod resets;
pub mod retention;
pub mod rotation;
pub mod rules;
pub mod sessions;
pub mod tester;
pub mod throttle;
pub mod token_exchange;
pub mod tool_policies;
pub mod webhooks;

use shared::account::TenantCtx;
use shared::error::{ApiError, ErrorKind};
use sqlx::postgres::{PgArguments, PgQueryResult};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use uuid::Uuid;

/// What a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A failure the caller caused and may see (bad input, not found,
    /// forbidden, conflict, rate limited).
    #[error("{0}")]
    Client(ApiError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl From<ApiError> for ServiceError {
    fn from(e: ApiError) -> Self {
        ServiceError::Client(e)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// The wire form. Internal details are logged here and never returned.
    pub fn into_api(self) -> ApiError {
        match self {
            ServiceError::Client(e) => e,
            ServiceError::Db(e) => {
                // A NUL or other byte Postgres cannot store slipped past the
                // field checks: the input is at fault, not the server.
                if let sqlx::Error::Database(d) = &e
                    && d.code().as_deref() == Some("22021")
                {
                    return ApiError::new(
                        ErrorKind::Invalid,
                        "The input contains a character that cannot be stored (such as NUL).",
                    );
                }
                if matches!(
                    e,
                    sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
                ) {
                    tracing::error!(error = %e, "database unavailable");
                    ApiError::unavailable(
                        "The database is unavailable right now. Please try again shortly.",
                    )
                } else {
                    tracing::error!(error = %e, "database error");
                    ApiError::internal()
                }
            }
            ServiceError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        e.into_api()
    }
}

/// True when `e` is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// Maps a unique-constraint violation to a field error (`field` is taken),
/// any other database error through unchanged.
///
/// `.map_err(taken("name", "A Tool Pack with this name already exists."))`
pub(crate) fn taken(
    field: &'static str,
    message: &'static str,
) -> impl FnOnce(sqlx::Error) -> ServiceError {
    move |e| {
        if is_unique_violation(&e) {
            ApiError::invalid(field, message).into()
        } else {
            e.into()
        }
    }
}

/// A tenant table that [`save_row`] writes: its name, the columns a form
/// sets, what to call a row in "No such …", and the field and message for
/// a unique violation.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub what: &'static str,
    pub unique: (&'static str, &'static str),
}

/// Creates (no `id`) or updates (`id`, which must be this org's) one row of
/// `table`, binding its columns' values in order with `bind`; returns the
/// row's id. Unique violation → field error; an update that matches no row
/// of this org → not found. The caller has checked the role.
pub(crate) async fn save_row(
    db: &PgPool,
    t: &TenantCtx,
    id: Option<Uuid>,
    table: &Table,
    bind: impl for<'q> FnOnce(Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments>,
) -> ServiceResult<Uuid> {
    let cols = table.columns;
    let param = |i: usize| format!("${}", i + 2);
    // Table and column names are this crate's constants, never input.
    let sql = match id {
        None => format!(
            "INSERT INTO {} (org_id, {}) VALUES ($1, {}) RETURNING id",
            table.name,
            cols.join(", "),
            (0..cols.len()).map(param).collect::<Vec<_>>().join(", ")
        ),
        Some(_) => format!(
            "UPDATE {} SET {} WHERE org_id = $1 AND id = {} RETURNING id",
            table.name,
            cols.iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = {}", param(i)))
                .collect::<Vec<_>>()
                .join(", "),
            param(cols.len())
        ),
    };
    let mut q = bind(sqlx::query(&sql).bind(t.org_id));
    if let Some(id) = id {
        q = q.bind(id);
    }
    let (field, message) = table.unique;
    let row = q.fetch_optional(db).await.map_err(taken(field, message))?;
    let row = row.ok_or_else(|| ApiError::not_found(table.what))?;
    Ok(row.try_get(0)?)
}

/// An `UPDATE` / `DELETE` scoped by `org_id` that touched no row: the
/// object is not this tenant's, or never existed — both read as not found.
/// A lower-case message (an error's text) as a sentence for a field error.
pub(crate) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// One tool of a catalogue Gatehouse defines itself (GitHub's, Postgres'):
/// `(name, title, description, input schema, annotations)`.
pub(crate) type BuiltinTool = (
    &'static str,
    &'static str,
    &'static str,
    serde_json::Value,
    serde_json::Value,
);

/// Writes a connector's built-in tools into `connector_tools`, so Tool
/// Packs choose them like discovered ones; pins of them follow (they are
/// Gatehouse's own definitions, see [`integrity::follow_builtin`]).
pub(crate) async fn insert_builtin_tools(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    org_id: Uuid,
    connector_id: Uuid,
    tools: Vec<BuiltinTool>,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let mut definitions = Vec::new();
    for (name, title, description, schema, annotations) in tools {
        let d = shared::api::ToolDefinition {
            name: name.to_owned(),
            title: Some(title.to_owned()),
            description: Some(description.to_owned()),
            input_schema: schema,
            output_schema: None,
            annotations: Some(annotations),
        };
        sqlx::query(
            "INSERT INTO connector_tools (connector_id, org_id, name, title, description, input_schema, annotations,
               fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(connector_id)
        .bind(org_id)
        .bind(&d.name)
        .bind(&d.title)
        .bind(&d.description)
        .bind(&d.input_schema)
        .bind(&d.annotations)
        .bind(integrity::fingerprint(&d))
        .execute(&mut **tx)
        .await?;
        definitions.push(d);
    }
    integrity::follow_builtin(tx, org_id, connector_id, &definitions, now).await
}

pub(crate) fn found(done: PgQueryResult, what: &str) -> ServiceResult<()> {
    if done.rows_affected() == 0 {
        Err(ApiError::not_found(what).into())
    } else {
        Ok(())
    }
}

/// Shorthand for a rate-limit error with a retry hint.
pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> ServiceError {
    let mut e = ApiError::new(ErrorKind::RateLimited, message);
    e.retry_after_secs = Some(retry_after_secs);
    ServiceError::Client(e)
}
