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
