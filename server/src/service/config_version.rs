//! The org's configuration version: every change to what the data path
//! reads (rules, overrides, pack tools, connectors) bumps it in the same
//! transaction, and every server process drops what it cached for the org
//! (compiled rules, tool routes) when it sees a newer version on the next
//! call. Postgres holds the number, so all replicas agree.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::ServiceResult;

/// Bumps the version inside the transaction that made the change, so no
/// process can see the change without the new version (or the reverse).
pub(super) async fn bump_in(tx: &mut Transaction<'_, Postgres>, org_id: Uuid) -> ServiceResult<()> {
    sqlx::query("UPDATE orgs SET config_version = config_version + 1 WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
