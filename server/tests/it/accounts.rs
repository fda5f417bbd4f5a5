//! Accounts, organizations and memberships through the service layer.

use chrono::{Duration, TimeZone, Utc};
use server::service::ServiceError;
use server::service::accounts::{self, authenticate};
use shared::account::{InviteInput, OrgName, Role, SignUpInput};
use shared::error::ErrorKind;
use sqlx::PgPool;

use crate::support::{PASSWORD, add, ctx, org_with_owner};

fn kind(e: ServiceError) -> ErrorKind {
    e.into_api().kind
}

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_up_creates_org_and_owner_and_never_reveals_an_existing_account(db: PgPool) {
    assert!(accounts::needs_setup(&db).await.unwrap());
    let (_, user, org) = org_with_owner(&db, "Acme", "Ada@Example.com").await;
    assert!(!accounts::needs_setup(&db).await.unwrap());
    let orgs = accounts::user_orgs(&db, user).await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].org_id, org);
    assert_eq!(orgs[0].org_name, "Acme");
    assert_eq!(orgs[0].role, Role::Owner);
    // Stored normalised, hashed with Argon2id, never in clear.
    let (email, hash): (String, String) = sqlx::query_as("SELECT email, password_hash FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(email, "ada@example.com");
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));

    // Sign-up never says an address has an account. A wrong password reads
    // exactly like a wrong sign-in password (and counts against the same
    // throttle); nothing is created.
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let ip = Some("10.0.0.9".parse().unwrap());
    let dup = SignUpInput {
        org_name: "Other".into(),
        email: "ADA@example.com".into(),
        password: "another long passphrase".into(),
    }
    .parse()
    .unwrap();
    let err = accounts::register(&db, t0, &dup, ip)
        .await
        .unwrap_err()
        .into_api();
    let sign_in = authenticate(&db, t0, "ada@example.com", "another long passphrase", ip)
        .await
        .unwrap_err()
        .into_api();
    assert_eq!(err.kind, ErrorKind::Unauthenticated);
    assert_eq!(err.message, sign_in.message);
    assert!(err.fields.is_empty() && !err.message.contains("exist"));
    assert_eq!(count(&db, "SELECT count(*) FROM orgs").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 1);
    // One account was tried, so there is one per-account counter.
    let attempts: i32 =
        sqlx::query_scalar("SELECT failures FROM signin_throttle WHERE scope = 'account'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(attempts, 2, "both wrong passwords counted");

    // With the account's own password, the organization is added to it:
    // still one account, now owner of two organizations.
    let mine = SignUpInput {
        org_name: "Other".into(),
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
    }
    .parse()
    .unwrap();
    let (same_user, other) = accounts::register(&db, t0, &mine, ip).await.unwrap();
    assert_eq!(same_user, user);
    assert_ne!(other, org);
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 1);
    let orgs = accounts::user_orgs(&db, user).await.unwrap();
    assert_eq!(orgs.len(), 2);
    assert!(orgs.iter().all(|o| o.role == Role::Owner));

    // A new address still gets its own account.
    let new = SignUpInput {
        org_name: "Globex".into(),
        email: "hank@globex.test".into(),
        password: "hank's long passphrase".into(),
    }
    .parse()
    .unwrap();
    let (hank, _) = accounts::register(&db, t0, &new, ip).await.unwrap();
    assert_ne!(hank, user);
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 2);
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_in_is_generic_on_failure_and_throttles_per_account(db: PgPool) {
    let (_, user, _) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let ip = Some("10.0.0.1".parse().unwrap());

    assert_eq!(
        authenticate(&db, t0, "ada@example.com", PASSWORD, ip)
            .await
            .unwrap(),
        user
    );
    // Unknown account and wrong password read the same.
    let unknown = authenticate(&db, t0, "nobody@example.com", PASSWORD, ip)
        .await
        .unwrap_err()
        .into_api();
    let wrong = authenticate(&db, t0, "ada@example.com", "wrong password!!", ip)
        .await
        .unwrap_err()
        .into_api();
    assert_eq!(unknown.message, wrong.message);
    assert_eq!(wrong.kind, ErrorKind::Unauthenticated);

    for _ in 0..4 {
        let _ = authenticate(&db, t0, "ada@example.com", "wrong password!!", ip).await;
    }
    // Five failures: even the right password is refused for a while.
    let locked = authenticate(&db, t0, "ADA@example.com", PASSWORD, ip)
        .await
        .unwrap_err()
        .into_api();
    assert_eq!(locked.kind, ErrorKind::RateLimited);
    assert!(
        locked.message.contains("Try again in 15 minutes"),
        "{}",
        locked.message
    );
    assert_eq!(locked.retry_after_secs, Some(900));

    let later = t0 + Duration::minutes(16);
    assert_eq!(
        authenticate(&db, later, "ada@example.com", PASSWORD, ip)
            .await
            .unwrap(),
        user
    );
    // Success resets the account counter.
    let _ = authenticate(&db, later, "ada@example.com", "wrong password!!", ip).await;
    assert_eq!(
        authenticate(&db, later, "ada@example.com", PASSWORD, ip)
            .await
            .unwrap(),
        user
    );
    // The table holds hashes, not emails or addresses.
    let keys: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM signin_throttle")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(
        keys.iter()
            .all(|k| k.len() == 64 && !k.contains('@') && !k.contains("10.0"))
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_in_throttles_per_client_address_across_accounts(db: PgPool) {
    let (_, user, _) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let attacker = Some("203.0.113.9".parse().unwrap());
    for i in 0..30 {
        let _ = authenticate(
            &db,
            t0,
            &format!("guess{i}@example.com"),
            "wrong password!!",
            attacker,
        )
        .await;
    }
    let e = authenticate(&db, t0, "ada@example.com", PASSWORD, attacker)
        .await
        .unwrap_err();
    assert_eq!(kind(e), ErrorKind::RateLimited);
    // Another address is unaffected.
    let other = Some("198.51.100.7".parse().unwrap());
    assert_eq!(
        authenticate(&db, t0, "ada@example.com", PASSWORD, other)
            .await
            .unwrap(),
        user
    );
}

fn invite(email: &str, role: &str) -> shared::account::Invite {
    InviteInput {
        email: email.into(),
        role: role.into(),
    }
    .parse()
    .unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn people_join_by_single_use_invitations_and_set_their_own_passwords(db: PgPool) {
    use server::service::invitations;
    let (acme, _, acme_id) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let t0 = Utc::now();
    // A new person: the link lets them choose their password, once.
    let (inv, link) = invitations::create(&db, &acme, t0, &invite("bo@example.com", "viewer"))
        .await
        .unwrap();
    assert_eq!(inv.role, Role::Viewer);
    assert_eq!(invitations::list(&db, &acme, t0).await.unwrap().len(), 1);
    let preview = invitations::preview(&db, t0, &link).await.unwrap();
    assert_eq!(
        (preview.org_name.as_str(), preview.email.as_str()),
        ("Acme", "bo@example.com")
    );
    let weak = invitations::accept_new(&db, t0, &link, "short")
        .await
        .unwrap_err();
    assert!(weak.into_api().field("password").is_some());
    let (bo, org) = invitations::accept_new(&db, t0, &link, PASSWORD)
        .await
        .unwrap();
    assert_eq!(org, acme_id);
    assert_eq!(
        authenticate(&db, t0, "bo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        bo
    );
    // Used up.
    let again = invitations::accept_new(&db, t0, &link, PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(kind(again), ErrorKind::NotFound);
    assert!(invitations::list(&db, &acme, t0).await.unwrap().is_empty());

    // Another org invites Bo: joining needs Bo's own sign-in, and Globex
    // never learns whether Bo has an account nor sets anything on it.
    let (globex, _, globex_id) = org_with_owner(&db, "Globex", "hank@globex.test").await;
    let (_, link) = invitations::create(&db, &globex, t0, &invite("bo@example.com", "admin"))
        .await
        .unwrap();
    let taken = invitations::accept_new(&db, t0, &link, "another long passphrase")
        .await
        .unwrap_err()
        .into_api();
    assert!(
        taken.field("password").unwrap().contains("sign in"),
        "{taken:?}"
    );
    assert_eq!(
        authenticate(&db, t0, "bo@example.com", PASSWORD, None)
            .await
            .unwrap(),
        bo
    );
    // Someone else signed in cannot use Bo's invitation.
    let ada: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    let wrong = invitations::accept(&db, t0, &link, ada).await.unwrap_err();
    assert_eq!(kind(wrong), ErrorKind::Forbidden);
    assert_eq!(
        invitations::accept(&db, t0, &link, bo).await.unwrap(),
        globex_id
    );
    let members = accounts::list_members(&db, &globex).await.unwrap();
    let emails: Vec<_> = members.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(emails, ["bo@example.com", "hank@globex.test"]);

    // Expired and revoked links do nothing.
    let (_, old) = invitations::create(&db, &acme, t0, &invite("cy@example.com", "viewer"))
        .await
        .unwrap();
    let late = t0 + chrono::Duration::days(8);
    assert_eq!(
        kind(
            invitations::accept_new(&db, late, &old, PASSWORD)
                .await
                .unwrap_err()
        ),
        ErrorKind::NotFound
    );
    let (inv, revoked) = invitations::create(&db, &acme, t0, &invite("di@example.com", "viewer"))
        .await
        .unwrap();
    invitations::revoke(&db, &acme, t0, inv.id).await.unwrap();
    assert_eq!(
        kind(
            invitations::accept_new(&db, t0, &revoked, PASSWORD)
                .await
                .unwrap_err()
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE email IN ('cy@example.com', 'di@example.com')"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn roles_limit_who_may_change_what(db: PgPool) {
    let (owner, owner_id, org) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let admin_id = add(&db, &owner, "admin@example.com", Role::Admin).await;
    let viewer_id = add(&db, &owner, "viewer@example.com", Role::Viewer).await;
    let admin = ctx(org, admin_id, Role::Admin);
    let viewer = ctx(org, viewer_id, Role::Viewer);
    let approver_id = add(&db, &owner, "approver@example.com", Role::Approver).await;
    let approver = ctx(org, approver_id, Role::Approver);

    // Viewers and approvers read but never write.
    assert_eq!(accounts::list_members(&db, &viewer).await.unwrap().len(), 4);
    for who in [&viewer, &approver] {
        assert_eq!(
            kind(
                server::service::invitations::create(
                    &db,
                    who,
                    Utc::now(),
                    &invite("x@example.com", "viewer")
                )
                .await
                .unwrap_err()
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(
            kind(
                accounts::remove_member(&db, who, chrono::Utc::now(), owner_id)
                    .await
                    .unwrap_err()
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(
            kind(
                accounts::rename_org(&db, who, &OrgName::parse("Pwned").unwrap())
                    .await
                    .unwrap_err()
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(
            kind(accounts::org_settings(&db, who).await.unwrap_err()),
            ErrorKind::Forbidden
        );
    }
    // Admins manage non-owners, but cannot touch owners or mint them.
    accounts::set_member_role(&db, &admin, viewer_id, Role::Approver)
        .await
        .unwrap();
    assert_eq!(
        kind(
            accounts::set_member_role(&db, &admin, viewer_id, Role::Owner)
                .await
                .unwrap_err()
        ),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(
            accounts::set_member_role(&db, &admin, owner_id, Role::Viewer)
                .await
                .unwrap_err()
        ),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(
            accounts::remove_member(&db, &admin, chrono::Utc::now(), owner_id)
                .await
                .unwrap_err()
        ),
        ErrorKind::Forbidden
    );
    assert_eq!(
        accounts::role_in(&db, owner_id, org).await.unwrap(),
        Some(Role::Owner)
    );
    assert_eq!(
        accounts::role_in(&db, viewer_id, org).await.unwrap(),
        Some(Role::Approver)
    );
    assert_eq!(
        accounts::rename_org(&db, &admin, &OrgName::parse("Acme Inc").unwrap())
            .await
            .unwrap()
            .name,
        "Acme Inc"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_org_always_keeps_an_owner(db: PgPool) {
    let (owner, owner_id, org) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let e = accounts::set_member_role(&db, &owner, owner_id, Role::Admin)
        .await
        .unwrap_err()
        .into_api();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(e.message.contains("at least one owner"));
    assert_eq!(
        kind(
            accounts::remove_member(&db, &owner, chrono::Utc::now(), owner_id)
                .await
                .unwrap_err()
        ),
        ErrorKind::Conflict
    );

    // With a second owner, the first may step down.
    let second = add(&db, &owner, "second@example.com", Role::Owner).await;
    accounts::set_member_role(&db, &owner, owner_id, Role::Admin)
        .await
        .unwrap();
    let second_ctx = ctx(org, second, Role::Owner);
    assert_eq!(
        kind(
            accounts::remove_member(&db, &second_ctx, chrono::Utc::now(), second)
                .await
                .unwrap_err()
        ),
        ErrorKind::Conflict
    );
    accounts::remove_member(&db, &second_ctx, chrono::Utc::now(), owner_id)
        .await
        .unwrap();
    assert_eq!(accounts::role_in(&db, owner_id, org).await.unwrap(), None);
    // The account itself remains (it may belong to other orgs).
    assert!(accounts::account(&db, owner_id).await.unwrap().is_some());
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn another_orgs_members_read_as_not_found(db: PgPool) {
    let (acme, _, _) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let acme_member = add(&db, &acme, "bo@example.com", Role::Viewer).await;
    let (globex, hank, _) = org_with_owner(&db, "Globex", "hank@globex.test").await;

    assert_eq!(
        kind(
            accounts::set_member_role(&db, &globex, acme_member, Role::Admin)
                .await
                .unwrap_err()
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            accounts::remove_member(&db, &globex, chrono::Utc::now(), acme_member)
                .await
                .unwrap_err()
        ),
        ErrorKind::NotFound
    );
    let acme_members = accounts::list_members(&db, &acme).await.unwrap();
    assert!(acme_members.iter().all(|m| m.user_id != hank));
    // A context claiming an org the caller is not in sees nothing either.
    let forged = ctx(uuid::Uuid::nil(), hank, Role::Owner);
    assert!(
        accounts::list_members(&db, &forged)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kind(accounts::org_settings(&db, &forged).await.unwrap_err()),
        ErrorKind::NotFound
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn parallel_guesses_cannot_slip_past_the_throttle_together(db: PgPool) {
    org_with_owner(&db, "Acme", "ada@example.com").await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let ip: Option<std::net::IpAddr> = Some("203.0.113.9".parse().unwrap());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            authenticate(&db, t0, "ada@example.com", "wrong password!!", ip)
                .await
                .unwrap_err()
                .into_api()
                .kind
        }));
    }
    let mut checked = 0;
    for t in tasks {
        if t.await.unwrap() == ErrorKind::Unauthenticated {
            checked += 1;
        }
    }
    assert_eq!(
        checked, 5,
        "exactly the allowance reached the password check"
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_attacker_cannot_lock_the_owner_out_from_elsewhere(db: PgPool) {
    let (_, user, _) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let attacker = Some("203.0.113.9".parse().unwrap());
    for _ in 0..10 {
        let _ = authenticate(&db, t0, "ada@example.com", "wrong password!!", attacker).await;
    }
    let e = authenticate(&db, t0, "ada@example.com", PASSWORD, attacker)
        .await
        .unwrap_err();
    assert_eq!(kind(e), ErrorKind::RateLimited);
    // Ada, from her own network, signs in as usual.
    let home = Some("198.51.100.7".parse().unwrap());
    assert_eq!(
        authenticate(&db, t0, "ada@example.com", PASSWORD, home)
            .await
            .unwrap(),
        user
    );
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_ups_are_throttled_per_address(db: PgPool) {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
    let ip = Some("203.0.113.9".parse().unwrap());
    for _ in 0..10 {
        accounts::sign_up_allowed(&db, t0, ip).await.unwrap();
    }
    let e = accounts::sign_up_allowed(&db, t0, ip).await.unwrap_err();
    assert_eq!(kind(e), ErrorKind::RateLimited);
    let other = Some("198.51.100.7".parse().unwrap());
    accounts::sign_up_allowed(&db, t0, other).await.unwrap();
    accounts::sign_up_allowed(&db, t0 + Duration::minutes(61), ip)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn sign_in_lands_on_the_last_used_org(db: PgPool) {
    let (acme_owner, ada, acme) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let globex = accounts::create_org(&db, ada, &OrgName::parse("Globex").unwrap())
        .await
        .unwrap();
    assert_eq!(accounts::landing_org(&db, ada).await.unwrap(), Some(acme));
    accounts::remember_org(&db, ada, globex).await.unwrap();
    assert_eq!(accounts::landing_org(&db, ada).await.unwrap(), Some(globex));
    // An org she is not a member of is never remembered.
    let (_, _, initech) = org_with_owner(&db, "Initech", "ian@example.com").await;
    accounts::remember_org(&db, ada, initech).await.unwrap();
    assert_eq!(accounts::landing_org(&db, ada).await.unwrap(), Some(globex));
    let _ = acme_owner;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn owners_give_reset_links_only_for_members_of_no_other_org(db: PgPool) {
    use server::service::resets;
    let (owner, owner_id, org) = org_with_owner(&db, "Acme", "ada@example.com").await;
    let bo = add(&db, &owner, "bo@example.com", Role::Viewer).await;
    let admin_id = add(&db, &owner, "al@example.com", Role::Admin).await;
    let t0 = Utc::now();
    // Only owners; not for oneself.
    let admin = ctx(org, admin_id, Role::Admin);
    assert_eq!(
        kind(resets::create(&db, &admin, t0, bo).await.unwrap_err()),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(resets::create(&db, &owner, t0, owner_id).await.unwrap_err()),
        ErrorKind::Conflict
    );
    // Another org's person reads as not found.
    let (_, hank, _) = org_with_owner(&db, "Globex", "hank@globex.test").await;
    assert_eq!(
        kind(resets::create(&db, &owner, t0, hank).await.unwrap_err()),
        ErrorKind::NotFound
    );

    let link = resets::create(&db, &owner, t0, bo).await.unwrap();
    let weak = resets::redeem(&db, t0, &link, "short").await.unwrap_err();
    assert!(weak.into_api().field("password").is_some());
    let (user, joined, _) = resets::redeem(&db, t0, &link, "bo's own new passphrase")
        .await
        .unwrap();
    assert_eq!((user, joined), (bo, org));
    assert_eq!(
        authenticate(&db, t0, "bo@example.com", "bo's own new passphrase", None)
            .await
            .unwrap(),
        bo
    );
    // Once only.
    assert_eq!(
        kind(
            resets::redeem(&db, t0, &link, "yet another passphrase")
                .await
                .unwrap_err()
        ),
        ErrorKind::NotFound
    );

    // A member who also belongs elsewhere is not this org's to recover,
    // even with a link made before they joined the other org.
    let early = resets::create(&db, &owner, t0, bo).await.unwrap();
    let (globex, _, _) = org_with_owner(&db, "Initech", "ian@example.com").await;
    add(&db, &globex, "bo@example.com", Role::Viewer).await;
    assert_eq!(
        kind(resets::create(&db, &owner, t0, bo).await.unwrap_err()),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(
            resets::redeem(&db, t0, &early, "taken over passphrase")
                .await
                .unwrap_err()
        ),
        ErrorKind::Conflict
    );
    assert_eq!(
        authenticate(&db, t0, "bo@example.com", "bo's own new passphrase", None)
            .await
            .unwrap(),
        bo
    );
}
