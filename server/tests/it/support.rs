//! Shared test helpers.

use axum::Router;
use chrono::{DateTime, Utc};
use leptos::config::LeptosOptions;
use server::clock::Clock;
use server::config::{Cli, Config};
use server::crypto::Keyring;
use server::master_key::MasterKey;
use server::state::AppState;
use shared::account::{Actor, InviteInput, Role, SignUpInput, TenantCtx};
use sqlx::PgPool;
use tower_sessions_sqlx_store::PostgresStore;
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

pub fn config(public_url: &str) -> Config {
    use clap::Parser;
    let cli = Cli::parse_from([
        "gatehouse",
        "--public-url",
        public_url,
        "--site-root",
        "/nonexistent",
    ]);
    Config::from_args(&cli.serve).unwrap()
}

/// The built-in plans with their default quotas.
pub fn plans() -> server::config::Plans {
    config("http://127.0.0.1:1").plans
}

pub fn keyring() -> Keyring {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let key = MasterKey::from_base64(&text).unwrap();
    Keyring::new(&key, &[])
}

pub async fn state(db: PgPool, public_url: &str, now: DateTime<Utc>) -> AppState {
    let config = config(public_url);
    AppState::build(
        db,
        config,
        keyring(),
        LeptosOptions::builder()
            .output_name("web")
            .site_root("/nonexistent")
            .build(),
        Clock::from_fn(move || now),
    )
    .await
    .unwrap()
}

/// The full application router over `db`, as `gatehouse serve` builds it.
pub async fn app(db: PgPool, public_url: &str) -> Router {
    let store = PostgresStore::new(db.clone());
    store.migrate().await.unwrap();
    server::http::router(state(db, public_url, Utc::now()).await, store)
}

/// Signs up an org with an owner; returns (owner ctx, owner id, org id).
pub async fn org_with_owner(db: &PgPool, org: &str, email: &str) -> (TenantCtx, Uuid, Uuid) {
    let input = SignUpInput {
        org_name: org.into(),
        email: email.into(),
        password: PASSWORD.into(),
    }
    .parse()
    .unwrap();
    let (user, org) = server::service::accounts::sign_up(db, &input)
        .await
        .unwrap();
    (ctx(org, user, Role::Owner), user, org)
}

pub fn ctx(org_id: Uuid, user_id: Uuid, role: Role) -> TenantCtx {
    TenantCtx {
        org_id,
        role,
        actor: Actor::Member { user_id },
    }
}

/// Adds a member with `role` the way people join: an invitation, accepted
/// by their account (or a new one with [`PASSWORD`]); returns their id.
pub async fn add(db: &PgPool, owner: &TenantCtx, email: &str, role: Role) -> Uuid {
    use server::service::invitations;
    let invite = InviteInput {
        email: email.into(),
        role: role.as_str().into(),
    }
    .parse()
    .unwrap();
    let now = chrono::Utc::now();
    let (_, link) = invitations::create(db, owner, now, &invite).await.unwrap();
    let existing: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(invite.email.as_str())
        .fetch_optional(db)
        .await
        .unwrap();
    match existing {
        Some(id) => {
            invitations::accept(db, now, &link, id).await.unwrap();
            id
        }
        None => {
            invitations::accept_new(db, now, &link, PASSWORD)
                .await
                .unwrap()
                .0
        }
    }
}
