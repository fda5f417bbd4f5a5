//! The HTTP surface: probes, security headers, sessions and server functions
//! as a browser or a script would call them.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower::ServiceExt;

use crate::support::{PASSWORD, add, app, org_with_owner, state};
use shared::account::Role;

const BASE: &str = "http://127.0.0.1:8080";

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn post_form(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, BASE);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

/// The `name=value` part of the session cookie a response set.
fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gatehouse_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

async fn sign_in(app: &Router, email: &str) -> String {
    let (status, headers, body) = send(
        app,
        post_form(
            "/api/ui/sign_in",
            &format!("email={email}&password={}", PASSWORD.replace(' ', "+")),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    session_cookie(&headers).expect("sign-in sets a session cookie")
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn probes_report_process_and_database(db: PgPool) {
    let app = app(db, BASE).await;
    let (s, h, body) = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ok"));
    assert!(
        h.get("x-request-id").is_some(),
        "every response carries a request id"
    );
    let (s, _, body) = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "ready"));
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_unreachable() {
    // Nothing listens on port 1; the pool connects lazily and fails.
    let db = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .unwrap();
    let store = tower_sessions::MemoryStore::default();
    let app = server::http::router(state(db, BASE, chrono::Utc::now()).await, store);
    let (s, _, body) = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "database unreachable");
    let (s, _, _) = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn pages_carry_security_headers_and_signed_out_visitors_are_redirected(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    // A real server: see the next test for why pages are not rendered in
    // process.
    let gh = crate::harness::Gatehouse::start(&db, &[]);
    let res = no_redirects()
        .get(format!("{}/members", gh.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    let h = res.headers().clone();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(h[header::LOCATION], "/signin");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    // http deployments send no HSTS (it would pin a scheme they lack).
    assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

// Against the real binary (multi-threaded runtime, as deployed): Leptos'
// server rendering can stall on a single-threaded runtime (upstream
// leptos-rs/leptos#4647), which is what an in-process test would use.
#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn unauthenticated_pages_answer_303_see_other_whatever_the_client_accepts(db: PgPool) {
    let gh = crate::harness::Gatehouse::start(&db, &[]);
    let client = no_redirects();
    let get = |path: &str, accept: Option<&str>| {
        let mut req = client.get(format!("{}{path}", gh.base));
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap())
        }
    };
    // First run: pages send the visitor to sign in, which sends them on to
    // the setup page.
    for accept in [None, Some("text/html"), Some("*/*")] {
        let (s, h, body) = get("/packs", accept).await;
        assert_eq!(s, 303, "Accept {accept:?}");
        assert_eq!(h[header::LOCATION], "/signin");
        assert!(body.is_empty(), "{body}");
    }
    let (s, h, _) = get("/signin", None).await;
    assert_eq!(s, 303);
    assert_eq!(h[header::LOCATION], "/setup");
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let (s, h, _) = get("/alerts", None).await;
    assert_eq!(s, 303);
    assert_eq!(h[header::LOCATION], "/signin");
    // The sign-in page itself renders on the server, with a CSP whose
    // nonce is the one on its inline hydration script.
    let (s, h, body) = get("/signin", None).await;
    assert_eq!(s, 200);
    assert!(body.contains("Sign in"), "{body}");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("the page CSP carries a nonce");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    assert!(
        !csp.contains("'unsafe-inline' 'nonce")
            && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_in_sets_a_hardened_cookie_and_rotates_the_session(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let app = app(db.clone(), BASE).await;
    let first = sign_in(&app, "ada@example.com").await;

    let (_, headers, _) = send(
        &app,
        post_form(
            "/api/ui/sign_in",
            &format!(
                "email=ada@example.com&password={}",
                PASSWORD.replace(' ', "+")
            ),
            None,
        ),
    )
    .await;
    let raw = headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Lax"), "{raw}");
    assert!(
        !raw.contains("Secure"),
        "plain-http deployments cannot use Secure cookies: {raw}"
    );

    // Signing in again with the old cookie issues a new id; the old one is dead.
    let (_, headers, _) = send(
        &app,
        post_form(
            "/api/ui/sign_in",
            &format!(
                "email=ada@example.com&password={}",
                PASSWORD.replace(' ', "+")
            ),
            Some(&first),
        ),
    )
    .await;
    let second = session_cookie(&headers).unwrap();
    assert_ne!(first, second);
    let (_, _, who_old) = send(&app, post_form("/api/ui/whoami", "", Some(&first))).await;
    let (_, _, who_new) = send(&app, post_form("/api/ui/whoami", "", Some(&second))).await;
    assert_eq!(who_old, "null");
    assert!(who_new.contains("ada@example.com"), "{who_new}");

    // Sign out ends the session server-side.
    send(&app, post_form("/api/ui/sign_out", "", Some(&second))).await;
    let (_, _, who) = send(&app, post_form("/api/ui/whoami", "", Some(&second))).await;
    assert_eq!(who, "null");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn https_deployments_get_secure_cookies(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let app = app(db, "https://gate.example.com").await;
    let req = Request::post("/api/ui/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://gate.example.com")
        .body(Body::from(format!(
            "email=ada@example.com&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let (_, headers, _) = send(&app, req).await;
    let raw = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(raw.contains("Secure"), "{raw}");
    assert_eq!(
        headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn metrics_need_the_operator_token_and_name_no_custom_rule(db: PgPool) {
    // Off unless the operator sets a token.
    let app = app(db.clone(), BASE).await;
    let (s, _, _) = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let mut st = state(db, BASE, chrono::Utc::now()).await;
    let mut cfg = (*st.config).clone();
    cfg.metrics_token = Some("scrape-me".to_owned().into());
    st.config = std::sync::Arc::new(cfg);
    let app = server::http::router(st, tower_sessions::MemoryStore::default());
    let (s, _, _) = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = send(
        &app,
        Request::get("/metrics")
            .header(header::AUTHORIZATION, "Bearer wrong")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, body) = send(
        &app,
        Request::get("/metrics")
            .header(header::AUTHORIZATION, "Bearer scrape-me")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("gatehouse_tool_calls_total"), "{body}");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sessions_end_at_their_absolute_lifetime(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let store = tower_sessions::MemoryStore::default();
    let signed_in_at = chrono::Utc::now();
    let app = server::http::router(state(db.clone(), BASE, signed_in_at).await, store.clone());
    let cookie = sign_in(&app, "ada@example.com").await;
    let (_, _, who) = send(&app, post_form("/api/ui/whoami", "", Some(&cookie))).await;
    assert!(who.contains("ada@example.com"), "{who}");
    // The same session store, seven days later: signed out.
    let later = signed_in_at + chrono::Duration::days(7);
    let app = server::http::router(state(db, BASE, later).await, store);
    let (_, _, who) = send(&app, post_form("/api/ui/whoami", "", Some(&cookie))).await;
    assert_eq!(who, "null");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn cross_site_writes_are_refused_before_any_handler(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let app = app(db.clone(), BASE).await;
    let req = Request::post("/api/ui/sign_up")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::from(
            "org_name=Evil&email=e@evil.example&password=a+long+evil+passphrase",
        ))
        .unwrap();
    let (s, _, _) = send(&app, req).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM orgs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(orgs, 1);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn server_functions_enforce_roles_and_tenancy(db: PgPool) {
    let (owner, _, _) = org_with_owner(&db, "Acme", "ada@example.com").await;
    add(&db, &owner, "viewer@example.com", Role::Viewer).await;
    let (_, _, globex) = org_with_owner(&db, "Globex", "hank@globex.test").await;
    let app = app(db.clone(), BASE).await;

    // Signed out: 401 with a clear kind.
    let (s, _, body) = send(&app, post_form("/api/ui/list_members", "", None)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"unauthenticated\""), "{body}");

    let viewer = sign_in(&app, "viewer@example.com").await;
    let (s, _, body) = send(&app, post_form("/api/ui/list_members", "", Some(&viewer))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("ada@example.com") && !body.contains("hank@globex.test"),
        "{body}"
    );
    let (s, _, body) = send(
        &app,
        post_form(
            "/api/ui/invite",
            "email=x%40example.com&role=owner",
            Some(&viewer),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("\"forbidden\""));

    // Switching into an org one does not belong to looks like it does not exist.
    let (s, _, body) = send(
        &app,
        post_form(
            "/api/ui/switch_org",
            &format!("org_id={globex}"),
            Some(&viewer),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");

    // Bad input: field-level errors, 422.
    let owner_cookie = sign_in(&app, "ada@example.com").await;
    let (s, _, body) = send(
        &app,
        post_form(
            "/api/ui/invite",
            "email=not-an-email&role=king",
            Some(&owner_cookie),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let err: shared::error::ApiError = serde_json::from_str(&body).unwrap();
    assert!(err.field("email").is_some() && err.field("role").is_some());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 3);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let app = app(db, BASE).await;
    let laptop = sign_in(&app, "ada@example.com").await;
    let phone = sign_in(&app, "ada@example.com").await;
    let new = "a brand new passphrase";

    let (status, _, body) = send(
        &app,
        post_form(
            "/api/ui/change_password",
            &format!(
                "current_password=guess+guess+guess&new_password={}",
                new.replace(' ', "+")
            ),
            Some(&laptop),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("current_password"), "{body}");

    let (status, headers, body) = send(
        &app,
        post_form(
            "/api/ui/change_password",
            &format!(
                "current_password={}&new_password={}",
                PASSWORD.replace(' ', "+"),
                new.replace(' ', "+")
            ),
            Some(&laptop),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // This session carries on (under a fresh id); the other one is over.
    let laptop = session_cookie(&headers).expect("a fresh session id");
    let (_, _, who) = send(&app, post_form("/api/ui/whoami", "", Some(&laptop))).await;
    assert!(who.contains("ada@example.com"), "{who}");
    let (_, _, who) = send(&app, post_form("/api/ui/whoami", "", Some(&phone))).await;
    assert_eq!(who, "null");
    // The old password no longer signs in; the new one does.
    let (status, _, _) = send(
        &app,
        post_form(
            "/api/ui/sign_in",
            &format!(
                "email=ada@example.com&password={}",
                PASSWORD.replace(' ', "+")
            ),
            None,
        ),
    )
    .await;
    assert_ne!(status, StatusCode::OK);
    let (status, _, _) = send(
        &app,
        post_form(
            "/api/ui/sign_in",
            &format!("email=ada@example.com&password={}", new.replace(' ', "+")),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
