//! Agent tokens in-process, with the clock under the test's control:
//! expiry, audience, and signing-key rotation without breaking tokens in
//! flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use leptos::config::LeptosOptions;
use server::agent_tokens::{AgentClaims, AgentTokens, TokenError};
use server::clock::Clock;
use server::state::AppState;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::{config, keyring};

/// A clock that starts at a fixed instant and moves when told to.
fn clock() -> (Clock, Arc<AtomicI64>) {
    let offset = Arc::new(AtomicI64::new(0));
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let o = offset.clone();
    (
        Clock::from_fn(move || t0 + Duration::seconds(o.load(Ordering::SeqCst))),
        offset,
    )
}

fn claims(now: chrono::DateTime<Utc>, minutes: i64) -> AgentClaims {
    AgentClaims {
        iss: String::new(),
        aud: String::new(),
        sub: Uuid::new_v4(),
        org: Uuid::new_v4(),
        pack: Uuid::new_v4(),
        key: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        jti: Uuid::new_v4(),
        iat: now.timestamp(),
        exp: (now + Duration::minutes(minutes)).timestamp(),
    }
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn tokens_expire_and_are_bound_to_their_audience(db: PgPool) {
    let (clock, offset) = clock();
    let ring = Arc::new(keyring());
    let tokens = AgentTokens::new(
        db.clone(),
        ring.clone(),
        "https://gh.example".into(),
        "https://gh.example/mcp".into(),
    );
    let t = tokens.sign(claims(clock.now(), 10)).await.unwrap();
    assert_eq!(
        tokens.verify(clock.now(), &t).await.unwrap().aud,
        "https://gh.example/mcp"
    );

    offset.store(10 * 60 + 1, Ordering::SeqCst);
    assert_eq!(
        tokens.verify(clock.now(), &t).await.unwrap_err(),
        TokenError::Expired
    );

    // A token for another Gatehouse (other audience) is refused here.
    let other = AgentTokens::new(
        db.clone(),
        ring,
        "https://other.example".into(),
        "https://other.example/mcp".into(),
    );
    let foreign = other.sign(claims(clock.now(), 10)).await.unwrap();
    assert_eq!(
        tokens.verify(clock.now(), &foreign).await.unwrap_err(),
        TokenError::WrongAudience
    );

    // Tampering breaks the signature.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(tokens.verify(clock.now(), &parts.join(".")).await.is_err());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn rotating_the_signing_key_keeps_tokens_in_flight_valid(db: PgPool) {
    let (clock, offset) = clock();
    let ring = Arc::new(keyring());
    let a = AgentTokens::new(
        db.clone(),
        ring.clone(),
        "https://gh.example".into(),
        "https://gh.example/mcp".into(),
    );
    // A second replica on the same database.
    let b = AgentTokens::new(
        db.clone(),
        ring,
        "https://gh.example".into(),
        "https://gh.example/mcp".into(),
    );
    let old = a.sign(claims(clock.now(), 15)).await.unwrap();
    assert!(b.verify(clock.now(), &old).await.is_ok());

    a.rotate(clock.now()).await.unwrap();
    let new = a.sign(claims(clock.now(), 15)).await.unwrap();
    let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    assert_ne!(kid(&old), kid(&new));
    // B has never seen the new key: it reloads on the unknown kid.
    assert!(b.verify(clock.now(), &new).await.is_ok());
    // The old token keeps working until it expires…
    offset.store(14 * 60, Ordering::SeqCst);
    assert!(b.verify(clock.now(), &old).await.is_ok());
    // …and the retired key verifies nothing after one maximum lifetime.
    offset.store(16 * 60, Ordering::SeqCst);
    let reloaded = AgentTokens::new(
        db.clone(),
        Arc::new(keyring()),
        "https://gh.example".into(),
        "https://gh.example/mcp".into(),
    );
    reloaded.load(clock.now()).await.unwrap();
    assert!(reloaded.verify(clock.now(), &old).await.is_err());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn invented_kids_reload_the_signing_keys_at_most_once_per_interval(db: PgPool) {
    let (clock, offset) = clock();
    let ring = Arc::new(keyring());
    let make = || {
        AgentTokens::new(
            db.clone(),
            ring.clone(),
            "https://gh.example".into(),
            "https://gh.example/mcp".into(),
        )
    };
    let (a, b) = (make(), make());
    a.load(clock.now()).await.unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("invented".into());
    let forged = jsonwebtoken::encode(
        &header,
        &claims(clock.now(), 10),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    // The invented kid spends this interval's reload…
    assert!(a.verify(clock.now(), &forged).await.is_err());
    // …so a real rotation elsewhere is only seen after the interval (or
    // at once through the rotation notification, in a running server).
    offset.store(1, Ordering::SeqCst);
    b.rotate(clock.now()).await.unwrap();
    let new = b.sign(claims(clock.now(), 10)).await.unwrap();
    offset.store(5, Ordering::SeqCst);
    assert_eq!(
        a.verify(clock.now(), &new).await.unwrap_err(),
        TokenError::BadSignature
    );
    offset.store(11, Ordering::SeqCst);
    assert!(a.verify(clock.now(), &new).await.is_ok());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_mcp_endpoint_refuses_an_expired_token(db: PgPool) {
    let (clock, offset) = clock();
    let cfg = config("http://127.0.0.1:8080");
    let state = AppState::build(
        db.clone(),
        cfg,
        keyring(),
        LeptosOptions::builder()
            .output_name("web")
            .site_root("/nonexistent")
            .build(),
        clock.clone(),
    )
    .await
    .unwrap();
    let store = tower_sessions::MemoryStore::default();
    let app = server::http::router(state.clone(), store);
    let token = state
        .gateway
        .tokens
        .sign(claims(clock.now(), 10))
        .await
        .unwrap();
    offset.store(11 * 60, Ordering::SeqCst);
    let req = Request::post("/mcp")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        ))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
    assert!(
        challenge.contains("error=\"invalid_token\"") && challenge.contains("expired"),
        "{challenge}"
    );
}

/// An org (`Acme`) with a pack (`support`), a Registered User and an agent
/// key, and a token for it minted by `state`: (owner, pack id, key id,
/// token).
async fn agent_token(
    db: &PgPool,
    state: &AppState,
    now: chrono::DateTime<Utc>,
) -> (shared::account::TenantCtx, Uuid, Uuid, String) {
    use server::service::{agent_keys, packs, registered_users, token_exchange};
    use shared::api::{AgentKeyInput, RegisteredUserInput, ToolPackInput};
    let (owner, _, _) = crate::support::org_with_owner(db, "Acme", "o@acme.test").await;
    let pack = packs::save(
        db,
        &owner,
        None,
        &ToolPackInput {
            name: "support".into(),
            description: String::new(),
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    let user = registered_users::save(
        db,
        &owner,
        None,
        &RegisteredUserInput {
            external_id: "u1".into(),
            display_name: "U".into(),
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    let key = agent_keys::create(
        db,
        &owner,
        &AgentKeyInput {
            pack_id: pack.id.to_string(),
            registered_user_id: user.id.to_string(),
            name: String::new(),
        },
    )
    .await
    .unwrap();
    let token = token_exchange::exchange(
        db,
        &state.gateway.tokens,
        Duration::minutes(10),
        now,
        token_exchange::TokenRequest {
            secret: Some(&key.secret),
            resource: None,
            session_id: None,
            client: None,
        },
    )
    .await
    .unwrap()
    .access_token;
    (owner, pack.id, key.item.id, token)
}

/// Two servers on one database: one caches the agent's authorisation, the
/// other revokes the key and renames the pack; the first sees both well
/// within the cache's one-second bound (through the database
/// notification), and meanwhile answered from its cache.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn a_revocation_reaches_every_server_at_once(db: PgPool) {
    use server::service::agent_keys;
    let now = Utc::now();
    let a = crate::support::state(db.clone(), "http://127.0.0.1:8080", now).await;
    let b = crate::support::state(db.clone(), "http://127.0.0.1:8080", now).await;
    let (owner, pack_id, key_id, token) = agent_token(&db, &a, now).await;

    // Server b answers from its cache once it has asked: a change made
    // behind Postgres' back (no notification) is not seen at once…
    assert_eq!(
        b.gateway.authorize(&token).await.unwrap().pack_name(),
        "support"
    );
    sqlx::query("ALTER TABLE tool_packs DISABLE TRIGGER tool_packs_agent_access")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE tool_packs SET name = 'renamed quietly' WHERE id = $1")
        .bind(pack_id)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE tool_packs ENABLE TRIGGER tool_packs_agent_access")
        .execute(&db)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        b.gateway.authorize(&token).await.unwrap().pack_name(),
        "support"
    );
    // …and never for longer than a second.
    tokio::time::sleep(std::time::Duration::from_millis(1000).saturating_sub(started.elapsed()))
        .await;
    assert_eq!(
        b.gateway.authorize(&token).await.unwrap().pack_name(),
        "renamed quietly"
    );

    // A revocation on server a is notified: b refuses the token within a
    // few milliseconds, long before its cached answer would expire.
    assert!(b.gateway.authorize(&token).await.is_ok());
    agent_keys::revoke(&db, &owner, now, key_id).await.unwrap();
    let revoked = std::time::Instant::now();
    loop {
        match b.gateway.authorize(&token).await {
            Err(server::service::data_path::AuthFailure::Revoked) => break,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
        assert!(
            revoked.elapsed() < std::time::Duration::from_millis(500),
            "server b still accepted a revoked key after {:?}",
            revoked.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    println!(
        "revocation seen by the other server after {:?}",
        revoked.elapsed()
    );
    // The refusal is cached too.
    assert!(matches!(
        b.gateway.authorize(&token).await,
        Err(server::service::data_path::AuthFailure::Revoked)
    ));
}

/// The call that uses up the enforce quota: the same agent's next call,
/// on the same server, finds enforce paused at once — not the cached
/// "enforce" of a moment ago.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_call_that_uses_up_the_quota_pauses_the_next_one(db: PgPool) {
    use shared::api::EffectiveMode;
    let now = Utc::now();
    let state = crate::support::state(db.clone(), "http://127.0.0.1:8080", now).await;
    let (owner, _, _, token) = agent_token(&db, &state, now).await;
    server::service::accounts::set_mode(&db, &owner, now, shared::account::OrgMode::Enforce)
        .await
        .unwrap();
    server::service::enforcement::set_plan(
        &db,
        &state.config.plans,
        now,
        owner.org_id,
        shared::api::PlanChange {
            plan: shared::api::Plan::Team,
            enforce_quota: Some(1),
        },
    )
    .await
    .unwrap();
    // Let the notifications of those changes arrive, then cache "enforce".
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let agent = state.gateway.authorize(&token).await.unwrap();
    let e = agent.enforcement();
    assert_eq!(e.effective, EffectiveMode::Enforce);
    let mut call = crate::hardening::record(owner.org_id, "fx__echo");
    call.charge = Some(server::recorder::Charge {
        period: e.period,
        quota: e.quota,
    });
    state.gateway.recorder.record(call).await.unwrap();
    let next = state.gateway.authorize(&token).await.unwrap();
    assert_eq!(next.enforcement().effective, EffectiveMode::EnforcePaused);
}
