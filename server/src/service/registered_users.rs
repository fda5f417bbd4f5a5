//! Registered Users: the end users agents act for.

use chrono::{DateTime, Utc};
use shared::account::{Role, TenantCtx};
use shared::api::{NewRegisteredUser, RegisteredUser};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, Table, found, save_row};

type Row = (
    Uuid,
    String,
    String,
    DateTime<Utc>,
    i64,
    Option<DateTime<Utc>>,
);

const SELECT: &str = "SELECT u.id, u.external_id, u.display_name, u.created_at,
        (SELECT count(*) FROM agent_keys k WHERE k.registered_user_id = u.id AND k.revoked_at IS NULL),
        (SELECT max(c.created_at) FROM tool_calls c WHERE c.org_id = u.org_id AND c.registered_user_id = u.id)
     FROM registered_users u";

fn to_dto(r: Row) -> RegisteredUser {
    RegisteredUser {
        id: r.0,
        external_id: r.1,
        display_name: r.2,
        created_at: r.3,
        key_count: r.4,
        last_call_at: r.5,
    }
}

/// Lists users, optionally matching `search` in the id or name, in pages of
/// `limit` after the given external id.
pub async fn list(
    db: &PgPool,
    t: &TenantCtx,
    search: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> ServiceResult<Vec<RegisteredUser>> {
    t.require(Role::Viewer)?;
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE u.org_id = $1
           AND ($2::text IS NULL OR u.external_id ILIKE $2 OR u.display_name ILIKE $2)
           AND ($3::text IS NULL OR u.external_id > $3)
         ORDER BY u.external_id LIMIT $4"
    ))
    .bind(t.org_id)
    .bind(pattern)
    .bind(after)
    .bind(limit.clamp(1, 200))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(to_dto).collect())
}

pub async fn get(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<RegisteredUser> {
    t.require(Role::Viewer)?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE u.org_id = $1 AND u.id = $2"))
        .bind(t.org_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(to_dto)
        .ok_or_else(|| ApiError::not_found("Registered User").into())
}

const TABLE: Table = Table {
    name: "registered_users",
    columns: &["external_id", "display_name"],
    what: "Registered User",
    unique: (
        "external_id",
        "A Registered User with this external id already exists.",
    ),
};

/// Creates a Registered User (no id) or changes one.
pub async fn save(
    db: &PgPool,
    t: &TenantCtx,
    id: Option<Uuid>,
    input: &NewRegisteredUser,
) -> ServiceResult<RegisteredUser> {
    t.require(Role::Admin)?;
    let (external_id, name) = (input.external_id.clone(), input.display_name.clone());
    let id = save_row(db, t, id, &TABLE, |q| q.bind(external_id).bind(name)).await?;
    get(db, t, id).await
}

/// Deletes the user and their agent keys; their recorded calls stay.
pub async fn delete(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let done = sqlx::query("DELETE FROM registered_users WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .execute(db)
        .await?;
    found(done, "Registered User")
}
