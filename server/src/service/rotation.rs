//! Master-key rotation: re-seal every stored secret under the primary key.

use sqlx::PgPool;
use uuid::Uuid;

use crate::crypto::{Keyring, Sealed};

/// Re-encrypts connector auth headers, webhook secrets, held tasks' arguments and signing keys sealed with an older
/// key. Returns how many secrets were re-sealed. Idempotent.
pub async fn reseal_all(db: &PgPool, ring: &Keyring) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let mut n = 0;
    let rows: Vec<(Uuid, Uuid, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT id, org_id, auth_ciphertext, auth_nonce, auth_key_id FROM connectors
         WHERE auth_ciphertext IS NOT NULL AND auth_key_id <> $1 FOR UPDATE",
    )
    .bind(ring.primary_id())
    .fetch_all(&mut *tx)
    .await?;
    for (id, org_id, ciphertext, nonce, key_id) in rows {
        let sealed = Sealed {
            ciphertext,
            nonce,
            key_id,
        };
        let s = ring.reseal(&sealed, &super::connectors::aad(org_id, id))?;
        sqlx::query(
            "UPDATE connectors SET auth_ciphertext = $3, auth_nonce = $4, auth_key_id = $5
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut *tx)
        .await?;
        n += 1;
    }
    let hooks: Vec<(Uuid, Uuid, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT id, org_id, secret_ciphertext, secret_nonce, secret_key_id FROM webhooks
         WHERE secret_key_id <> $1 FOR UPDATE",
    )
    .bind(ring.primary_id())
    .fetch_all(&mut *tx)
    .await?;
    for (id, org_id, ciphertext, nonce, key_id) in hooks {
        let sealed = Sealed {
            ciphertext,
            nonce,
            key_id,
        };
        let s = ring.reseal(&sealed, &super::webhooks::aad(org_id, id))?;
        sqlx::query(
            "UPDATE webhooks SET secret_ciphertext = $3, secret_nonce = $4, secret_key_id = $5
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut *tx)
        .await?;
        n += 1;
    }
    let tasks: Vec<(Uuid, Uuid, Vec<u8>, Vec<u8>, String)> = sqlx::query_as(
        "SELECT id, org_id, task_args_ciphertext, task_args_nonce, task_args_key_id FROM approvals
         WHERE task_args_ciphertext IS NOT NULL AND task_args_key_id <> $1 FOR UPDATE",
    )
    .bind(ring.primary_id())
    .fetch_all(&mut *tx)
    .await?;
    for (id, org_id, ciphertext, nonce, key_id) in tasks {
        let sealed = Sealed {
            ciphertext,
            nonce,
            key_id,
        };
        let s = ring.reseal(&sealed, &super::approvals::task_aad(org_id, id))?;
        sqlx::query(
            "UPDATE approvals SET task_args_ciphertext = $3, task_args_nonce = $4, task_args_key_id = $5
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut *tx)
        .await?;
        n += 1;
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
    tx.commit().await?;
    Ok(n)
}
