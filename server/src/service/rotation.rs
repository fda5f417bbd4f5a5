//! Master-key rotation: re-seal every stored secret under the primary key.

use sqlx::PgPool;
use uuid::Uuid;

use crate::crypto::{Keyring, Sealed};

/// Re-encrypts connector auth headers, webhook secrets, held tasks'
/// arguments and signing keys sealed with an older key. Returns how many
/// secrets were re-sealed. Idempotent.
pub async fn reseal_all(db: &PgPool, ring: &Keyring) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let mut n = 0;
    // Secrets bound to an org's row: table, its [ciphertext, nonce, key id]
    // columns, and the AAD that binds a secret to its row.
    let per_org: [(&str, [&str; 3], fn(Uuid, Uuid) -> Vec<u8>); 4] = [
        (
            "connectors",
            ["auth_ciphertext", "auth_nonce", "auth_key_id"],
            super::connectors::aad,
        ),
        (
            "postgres_connectors",
            ["dsn_ciphertext", "dsn_nonce", "dsn_key_id"],
            super::databases::aad,
        ),
        (
            "webhooks",
            ["secret_ciphertext", "secret_nonce", "secret_key_id"],
            super::webhooks::aad,
        ),
        (
            "approvals",
            [
                "task_args_ciphertext",
                "task_args_nonce",
                "task_args_key_id",
            ],
            super::approvals::task_aad,
        ),
    ];
    for (table, [ct, nonce, kid], aad) in per_org {
        n += reseal_table(&mut tx, ring, table, [ct, nonce, kid], aad).await?;
    }
    let keys: Vec<(String, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT kid, ciphertext, nonce, key_id FROM signing_keys WHERE key_id <> $1 FOR UPDATE",
    )
    .bind(ring.primary_id())
    .fetch_all(&mut *tx)
    .await?;
    for (kid, ciphertext, nonce, key_id) in keys {
        let sealed = Sealed {
            ciphertext,
            nonce,
            key_id,
        };
        let s = ring.reseal(&sealed, &crate::agent_tokens::aad(&kid))?;
        sqlx::query(
            "UPDATE signing_keys SET ciphertext = $2, nonce = $3, key_id = $4 WHERE kid = $1",
        )
        .bind(&kid)
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut *tx)
        .await?;
        n += 1;
    }
    n += super::github::reseal(&mut tx, ring).await?;
    tx.commit().await?;
    Ok(n)
}

/// Re-seals one table's secrets (columns: ciphertext, nonce, key id; rows
/// keyed by `(org_id, id)`, AAD from both). The names are ours, never input.
async fn reseal_table(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    ring: &Keyring,
    table: &str,
    [ct, nonce, kid]: [&str; 3],
    aad: fn(Uuid, Uuid) -> Vec<u8>,
) -> anyhow::Result<usize> {
    let rows: Vec<(Uuid, Uuid, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(&format!(
        "SELECT id, org_id, {ct}, {nonce}, {kid} FROM {table}
         WHERE {ct} IS NOT NULL AND {kid} <> $1 FOR UPDATE"
    ))
    .bind(ring.primary_id())
    .fetch_all(&mut **tx)
    .await?;
    let n = rows.len();
    for (id, org_id, ciphertext, nonce_bytes, key_id) in rows {
        let sealed = Sealed {
            ciphertext,
            nonce: nonce_bytes,
            key_id,
        };
        let s = ring.reseal(&sealed, &aad(org_id, id))?;
        sqlx::query(&format!(
            "UPDATE {table} SET {ct} = $3, {nonce} = $4, {kid} = $5 WHERE org_id = $1 AND id = $2"
        ))
        .bind(org_id)
        .bind(id)
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(n)
}
