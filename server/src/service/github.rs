//! The GitHub connector as stored: the deployment's App (operator), the
//! installations orgs connect ("Connect GitHub" → GitHub → our callback),
//! installation webhooks, and the repositories each Tool Pack may reach.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use shared::account::{Actor, Role, TenantCtx};
use shared::api::{
    ConnectorName, GitHubAppStatus, GitHubConnectStarted, GitHubInstallation, InstallationStatus,
    PackRepositories, ToolPolicyInput,
};
use shared::error::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceResult, config_version, packs, tool_policies};
use crate::crypto::{Keyring, Sealed};
use crate::github::{AppConfig, AppError, GitHub, Scope, tools, webhook};
use crate::secret_tokens;

const KEY_AAD: &[u8] = b"gatehouse:github-app:private-key";
const WEBHOOK_AAD: &[u8] = b"gatehouse:github-app:webhook-secret";
/// How long a "Connect GitHub" may take, GitHub's pages included.
const STATE_TTL: chrono::Duration = chrono::Duration::minutes(15);

/// What the operator sets (`gatehouse github-app set`).
pub struct NewApp {
    pub app_id: u64,
    pub slug: String,
    pub private_key_pem: SecretBox<Vec<u8>>,
    pub webhook_secret: Option<SecretString>,
    pub api_url: url::Url,
    pub web_url: url::Url,
}

fn with_slash(mut u: url::Url) -> url::Url {
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u
}

/// Stores the App, its secrets sealed (checked first: the key must be an
/// RSA private key, the URLs http(s), the slug a slug).
pub async fn set_app(db: &PgPool, keyring: &Keyring, app: NewApp) -> anyhow::Result<()> {
    jsonwebtoken::EncodingKey::from_rsa_pem(app.private_key_pem.expose_secret()).map_err(|_| {
        anyhow::anyhow!(
            "the private key is not an RSA private key in PEM form (the .pem file GitHub gave you)"
        )
    })?;
    let slug_ok = !app.slug.is_empty()
        && app.slug.len() <= 100
        && app
            .slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !slug_ok {
        anyhow::bail!("the slug is the last part of https://github.com/apps/<slug>");
    }
    for u in [&app.api_url, &app.web_url] {
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            anyhow::bail!("{u} is not an http(s) URL");
        }
    }
    let key = keyring.seal(app.private_key_pem.expose_secret(), KEY_AAD)?;
    let hook = match &app.webhook_secret {
        Some(s) if !s.expose_secret().is_empty() => {
            Some(keyring.seal(s.expose_secret().as_bytes(), WEBHOOK_AAD)?)
        }
        _ => None,
    };
    sqlx::query(
        "INSERT INTO github_app (singleton, app_id, slug, api_url, web_url, key_ciphertext, key_nonce,
           key_key_id, webhook_ciphertext, webhook_nonce, webhook_key_id, updated_at)
         VALUES (true, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
         ON CONFLICT (singleton) DO UPDATE SET app_id = $1, slug = $2, api_url = $3, web_url = $4,
           key_ciphertext = $5, key_nonce = $6, key_key_id = $7, webhook_ciphertext = $8,
           webhook_nonce = $9, webhook_key_id = $10, updated_at = now()",
    )
    .bind(i64::try_from(app.app_id)?)
    .bind(&app.slug)
    .bind(with_slash(app.api_url).as_str())
    .bind(with_slash(app.web_url).as_str())
    .bind(&key.ciphertext)
    .bind(&key.nonce)
    .bind(&key.key_id)
    .bind(hook.as_ref().map(|s| s.ciphertext.clone()))
    .bind(hook.as_ref().map(|s| s.nonce.clone()))
    .bind(hook.as_ref().map(|s| s.key_id.clone()))
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the App's configuration.
pub async fn remove_app(db: &PgPool) -> anyhow::Result<bool> {
    Ok(sqlx::query("DELETE FROM github_app")
        .execute(db)
        .await?
        .rows_affected()
        > 0)
}

type AppRow = (
    i64,
    String,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<String>,
    DateTime<Utc>,
);

/// The App with its secrets opened; `None` when the operator set none.
pub async fn app(db: &PgPool, keyring: &Keyring) -> ServiceResult<Option<AppConfig>> {
    let row: Option<AppRow> = sqlx::query_as(
        "SELECT app_id, slug, api_url, web_url, key_ciphertext, key_nonce, key_key_id,
                webhook_ciphertext, webhook_nonce, webhook_key_id, updated_at FROM github_app",
    )
    .fetch_optional(db)
    .await?;
    let Some((app_id, slug, api, web, kc, kn, kk, wc, wn, wk, updated_at)) = row else {
        return Ok(None);
    };
    let key = keyring
        .open(
            &Sealed {
                ciphertext: kc,
                nonce: kn,
                key_id: kk,
            },
            KEY_AAD,
        )
        .map_err(|e| anyhow::anyhow!("the GitHub App's private key: {e}"))?;
    let webhook_secret = match (wc, wn, wk) {
        (Some(ciphertext), Some(nonce), Some(key_id)) => {
            let s = keyring
                .open(
                    &Sealed {
                        ciphertext,
                        nonce,
                        key_id,
                    },
                    WEBHOOK_AAD,
                )
                .map_err(|e| anyhow::anyhow!("the GitHub App's webhook secret: {e}"))?;
            Some(SecretString::from(
                String::from_utf8(s).map_err(|_| anyhow::anyhow!("webhook secret not UTF-8"))?,
            ))
        }
        _ => None,
    };
    Ok(Some(AppConfig {
        app_id: u64::try_from(app_id).map_err(anyhow::Error::from)?,
        slug,
        api_url: url::Url::parse(&api).map_err(anyhow::Error::from)?,
        web_url: url::Url::parse(&web).map_err(anyhow::Error::from)?,
        private_key: SecretBox::new(Box::new(key)),
        webhook_secret,
        updated_at,
    }))
}

async fn require_app(db: &PgPool, keyring: &Keyring) -> ServiceResult<AppConfig> {
    app(db, keyring).await?.ok_or_else(|| {
        ApiError::conflict(
            "No GitHub App is configured for this Gatehouse: the operator sets one with \
             `gatehouse github-app set`.",
        )
        .into()
    })
}

/// Re-seals the App's secrets under the primary key (master-key rotation).
pub(super) async fn reseal(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    ring: &Keyring,
) -> anyhow::Result<usize> {
    type R = (
        Vec<u8>,
        Vec<u8>,
        String,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<String>,
    );
    let row: Option<R> = sqlx::query_as(
        "SELECT key_ciphertext, key_nonce, key_key_id, webhook_ciphertext, webhook_nonce,
                webhook_key_id FROM github_app FOR UPDATE",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some((kc, kn, kk, wc, wn, wk)) = row else {
        return Ok(0);
    };
    let mut n = 0;
    if kk != ring.primary_id() {
        let s = ring.reseal(
            &Sealed {
                ciphertext: kc,
                nonce: kn,
                key_id: kk,
            },
            KEY_AAD,
        )?;
        sqlx::query("UPDATE github_app SET key_ciphertext = $1, key_nonce = $2, key_key_id = $3")
            .bind(&s.ciphertext)
            .bind(&s.nonce)
            .bind(&s.key_id)
            .execute(&mut **tx)
            .await?;
        n += 1;
    }
    if let (Some(ciphertext), Some(nonce), Some(key_id)) = (wc, wn, wk)
        && key_id != ring.primary_id()
    {
        let s = ring.reseal(
            &Sealed {
                ciphertext,
                nonce,
                key_id,
            },
            WEBHOOK_AAD,
        )?;
        sqlx::query(
            "UPDATE github_app SET webhook_ciphertext = $1, webhook_nonce = $2, webhook_key_id = $3",
        )
        .bind(&s.ciphertext)
        .bind(&s.nonce)
        .bind(&s.key_id)
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

type InstRow = (
    Uuid,
    String,
    i64,
    String,
    String,
    String,
    Vec<String>,
    serde_json::Value,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
);

const SELECT_INST: &str = "SELECT i.connector_id, c.name, i.installation_id, i.account_login,
        i.account_type, i.repository_selection, i.repositories, i.permissions, i.status,
        i.connected_at, i.refreshed_at
     FROM github_installations i JOIN connectors c ON c.id = i.connector_id";

fn to_installation(r: InstRow) -> GitHubInstallation {
    GitHubInstallation {
        connector_id: r.0,
        connector_name: r.1,
        installation_id: r.2,
        account_login: r.3,
        account_type: r.4,
        repository_selection: r.5,
        repositories: r.6,
        permissions: serde_json::from_value(r.7).unwrap_or_default(),
        status: InstallationStatus::parse(&r.8).unwrap_or(InstallationStatus::Deleted),
        connected_at: r.9,
        refreshed_at: r.10,
    }
}

/// Whether a GitHub App is configured, and this org's installations.
pub async fn status(db: &PgPool, t: &TenantCtx) -> ServiceResult<GitHubAppStatus> {
    t.require(Role::Viewer)?;
    // The page needs the slug and where GitHub is, not the App's secrets.
    let app: Option<(String, String)> = sqlx::query_as("SELECT slug, web_url FROM github_app")
        .fetch_optional(db)
        .await?;
    let rows: Vec<InstRow> = sqlx::query_as(&format!(
        "{SELECT_INST} WHERE i.org_id = $1 ORDER BY c.name"
    ))
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    Ok(GitHubAppStatus {
        configured: app.is_some(),
        slug: app.as_ref().map(|a| a.0.clone()),
        web_url: app.map(|a| a.1),
        installations: rows.into_iter().map(to_installation).collect(),
    })
}

/// One of this org's installations, by its connector.
pub async fn installation(
    db: &PgPool,
    t: &TenantCtx,
    connector_id: Uuid,
) -> ServiceResult<GitHubInstallation> {
    t.require(Role::Viewer)?;
    let row: Option<InstRow> = sqlx::query_as(&format!(
        "{SELECT_INST} WHERE i.org_id = $1 AND i.connector_id = $2"
    ))
    .bind(t.org_id)
    .bind(connector_id)
    .fetch_optional(db)
    .await?;
    row.map(to_installation)
        .ok_or_else(|| ApiError::not_found("GitHub installation").into())
}

/// A dashboard session's id, hashed: binds a connect state to the browser
/// session that started it.
pub fn session_marker(session_id: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"gatehouse:github-connect:");
    h.update(session_id.as_bytes());
    h.finalize().to_vec()
}

fn member(t: &TenantCtx) -> ServiceResult<Uuid> {
    match t.actor {
        Actor::Member { user_id } => Ok(user_id),
        // The installation flow runs in a browser: an API token has none.
        Actor::ApiToken { .. } => Err(ApiError::forbidden().into()),
    }
}

/// "Connect GitHub": a single-use state bound to this org, this admin and
/// their session, and the App's installation page to send the browser to.
pub async fn start_connect(
    db: &PgPool,
    keyring: &Keyring,
    t: &TenantCtx,
    now: DateTime<Utc>,
    session: &[u8],
    account: &str,
) -> ServiceResult<GitHubConnectStarted> {
    t.require(Role::Admin)?;
    let user_id = member(t)?;
    let app = require_app(db, keyring).await?;
    let state = secret_tokens::mint(secret_tokens::Kind::GitHubConnect)?;
    let expires_at = now + STATE_TTL;
    sqlx::query("DELETE FROM github_connect_states WHERE expires_at < $1")
        .bind(now)
        .execute(db)
        .await?;
    sqlx::query(
        "INSERT INTO github_connect_states (state_hash, org_id, user_id, session_hash, account_login, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&state.hash)
    .bind(t.org_id)
    .bind(user_id)
    .bind(session)
    .bind(account)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(GitHubConnectStarted {
        url: app.install_url(&state.secret),
        expires_at,
    })
}

/// Why a callback from GitHub was refused: what the admin is told (the
/// field names which check failed).
fn refused(message: &str) -> ApiError {
    ApiError::invalid("state", message)
}

/// GitHub's redirect after an installation: the state must be one this
/// admin started in this session for this org (used once, not expired);
/// the installation must be this App's (asked of GitHub with the App's
/// JWT) and on the account the admin named. Then it is stored.
#[allow(clippy::too_many_arguments)]
pub async fn complete_connect(
    db: &PgPool,
    keyring: &Keyring,
    gh: &GitHub,
    t: &TenantCtx,
    now: DateTime<Utc>,
    session: &[u8],
    state: &str,
    installation_id: i64,
) -> ServiceResult<GitHubInstallation> {
    let user_id = member(t)?;
    // Single use whatever happens next: the row goes now.
    let row: Option<(Uuid, Uuid, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
        "DELETE FROM github_connect_states WHERE state_hash = $1
         RETURNING org_id, user_id, session_hash, account_login, expires_at",
    )
    .bind(secret_tokens::hash(state))
    .fetch_optional(db)
    .await?;
    let Some((org_id, state_user, state_session, account, expires_at)) = row else {
        return Err(refused(
            "This GitHub connection link is not valid (it was already used, or not started \
             here). Click Connect GitHub again.",
        )
        .into());
    };
    if org_id != t.org_id || state_user != user_id || state_session != session {
        return Err(refused(
            "This GitHub connection was started by another person, session or organization. \
             Click Connect GitHub again.",
        )
        .into());
    }
    if expires_at < now {
        return Err(
            refused("This GitHub connection link expired. Click Connect GitHub again.").into(),
        );
    }
    t.require(Role::Admin)?;
    let app = require_app(db, keyring).await?;
    let inst = match gh.installation(&app, installation_id).await {
        Ok(i) => i,
        Err(AppError::NotFound(_)) => {
            return Err(ApiError::invalid(
                "installation",
                "GitHub does not know this installation as one of this Gatehouse's GitHub App.",
            )
            .into());
        }
        Err(e) => {
            return Err(ApiError::unavailable(format!("GitHub could not be asked: {e}.")).into());
        }
    };
    if !inst.account.login.eq_ignore_ascii_case(&account) {
        return Err(ApiError::invalid(
            "account",
            format!(
                "The App was installed on {}, not on {account} as chosen. Connect again and pick \
             {account} on GitHub (or name {} when connecting).",
                inst.account.login, inst.account.login
            ),
        )
        .into());
    }
    let taken: Option<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT org_id, connector_id FROM github_installations WHERE installation_id = $1",
    )
    .bind(installation_id)
    .fetch_optional(db)
    .await?;
    if let Some((other, connector_id)) = taken {
        if other == t.org_id {
            return refresh(db, keyring, gh, t, now, connector_id).await;
        }
        return Err(ApiError::conflict(
            "This GitHub installation is already connected to another organization.",
        )
        .into());
    }
    let repositories = gh
        .installation_repositories(&app, installation_id)
        .await
        .map_err(|e| {
            ApiError::unavailable(format!("GitHub could not list the repositories: {e}."))
        })?;
    let status = if inst.suspended_at.is_some() {
        InstallationStatus::Suspended
    } else {
        InstallationStatus::Active
    };
    let connector_id = Uuid::new_v4();
    let mut tx = db.begin().await?;
    let name = free_name(&mut tx, t.org_id, &inst.account.login).await?;
    let mut html = app.web_url.clone();
    html.set_path(&format!("{}{}", app.web_url.path(), inst.account.login));
    sqlx::query(
        "INSERT INTO connectors (id, org_id, name, url, kind, discovered_at) VALUES ($1, $2, $3, $4, 'github', $5)",
    )
    .bind(connector_id)
    .bind(t.org_id)
    .bind(name.as_str())
    .bind(html.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO github_installations (connector_id, org_id, installation_id, account_login,
           account_type, repository_selection, repositories, permissions, status, connected_by,
           connected_at, refreshed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(connector_id)
    .bind(t.org_id)
    .bind(installation_id)
    .bind(&inst.account.login)
    .bind(&inst.account.kind)
    .bind(&inst.repository_selection)
    .bind(&repositories)
    .bind(serde_json::to_value(&inst.permissions).map_err(anyhow::Error::from)?)
    .bind(status.as_str())
    .bind(user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    super::insert_builtin_tools(
        &mut tx,
        t.org_id,
        connector_id,
        tools::TOOLS
            .iter()
            .map(|d| {
                (
                    d.name,
                    d.title,
                    d.description,
                    d.input_schema(),
                    d.annotations(),
                )
            })
            .collect(),
        now,
    )
    .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    default_policies(db, t, name.as_str()).await?;
    tracing::info!(org_id = %t.org_id, connector_id = %connector_id, installation_id, "GitHub installation connected");
    installation(db, t, connector_id).await
}

/// `github`, or `github-<account>` when taken, or with a number.
async fn free_name(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    org_id: Uuid,
    account: &str,
) -> ServiceResult<ConnectorName> {
    let account: String = account
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(30)
        .collect();
    let mut candidates = vec!["github".to_owned(), format!("github-{account}")];
    candidates.extend((2..50).map(|n| format!("github-{n}")));
    for c in candidates {
        let Ok(name) = ConnectorName::parse(&c) else {
            continue;
        };
        let used: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM connectors WHERE org_id = $1 AND name = $2)",
        )
        .bind(org_id)
        .bind(name.as_str())
        .fetch_one(&mut **tx)
        .await?;
        if !used {
            return Ok(name);
        }
    }
    Err(ApiError::conflict("Too many connectors are named github…; remove one first.").into())
}

/// The default runtime policies of a new GitHub connector (once per
/// connector name): merges and file writes to a default branch wait for
/// approval, other writes are monitored, reads are allowed. Admins edit
/// them like any other tool policy.
async fn default_policies(db: &PgPool, t: &TenantCtx, connector: &str) -> ServiceResult<()> {
    let merge = format!("{connector}__merge_pull_request");
    let existing: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tool_policies
           WHERE org_id = $1 AND pack_id IS NULL AND tools = ANY($2))",
    )
    .bind(t.org_id)
    .bind([format!("{connector}__*"), merge.clone()])
    .fetch_one(db)
    .await?;
    if existing {
        return Ok(());
    }
    let names = |write: bool| {
        let list: Vec<String> = tools::TOOLS
            .iter()
            .filter(|d| d.write == write)
            .map(|d| format!("\"{connector}__{}\"", d.name))
            .collect();
        format!("tool in [{}]", list.join(", "))
    };
    let rules = [
        (
            format!("{connector}: merging a pull request needs approval"),
            merge,
            String::new(),
            "approve",
        ),
        (
            format!("{connector}: file writes to a default branch need approval"),
            format!("{connector}__create_or_update_file"),
            "args.branch in [\"main\", \"master\"]".to_owned(),
            "approve",
        ),
        (
            format!("{connector}: writes are monitored"),
            format!("{connector}__*"),
            names(true),
            "monitor",
        ),
        (
            format!("{connector}: reads are allowed"),
            format!("{connector}__*"),
            names(false),
            "allow",
        ),
    ];
    for (name, tools, condition, action) in rules {
        let input = ToolPolicyInput {
            name: name.chars().take(80).collect(),
            tools,
            condition,
            action: action.to_owned(),
            pack_id: None,
        };
        tool_policies::save(db, t, None, &input).await?;
    }
    Ok(())
}

/// Asks GitHub again about an installation (account, permissions,
/// repositories, suspension) and stores the answer; an installation GitHub
/// no longer knows is marked deleted.
pub async fn refresh(
    db: &PgPool,
    keyring: &Keyring,
    gh: &GitHub,
    t: &TenantCtx,
    now: DateTime<Utc>,
    connector_id: Uuid,
) -> ServiceResult<GitHubInstallation> {
    t.require(Role::Admin)?;
    let current = installation(db, t, connector_id).await?;
    let app = require_app(db, keyring).await?;
    let id = current.installation_id;
    gh.forget(id);
    let (status, inst) = match gh.installation(&app, id).await {
        Ok(i) if i.suspended_at.is_some() => (InstallationStatus::Suspended, Some(i)),
        Ok(i) => (InstallationStatus::Active, Some(i)),
        Err(AppError::NotFound(_)) => (InstallationStatus::Deleted, None),
        Err(e) => {
            return Err(ApiError::unavailable(format!("GitHub could not be asked: {e}.")).into());
        }
    };
    let repositories = match (&inst, status) {
        (Some(_), InstallationStatus::Active) => {
            Some(gh.installation_repositories(&app, id).await.map_err(|e| {
                ApiError::unavailable(format!("GitHub could not list the repositories: {e}."))
            })?)
        }
        _ => None,
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE github_installations SET status = $3, refreshed_at = $4,
           account_login = COALESCE($5, account_login), account_type = COALESCE($6, account_type),
           repository_selection = COALESCE($7, repository_selection),
           permissions = COALESCE($8, permissions), repositories = COALESCE($9, repositories)
         WHERE org_id = $1 AND connector_id = $2",
    )
    .bind(t.org_id)
    .bind(connector_id)
    .bind(status.as_str())
    .bind(now)
    .bind(inst.as_ref().map(|i| i.account.login.clone()))
    .bind(inst.as_ref().map(|i| i.account.kind.clone()))
    .bind(inst.as_ref().map(|i| i.repository_selection.clone()))
    .bind(
        inst.as_ref()
            .and_then(|i| serde_json::to_value(&i.permissions).ok()),
    )
    .bind(repositories)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE connectors SET discovered_at = $3, discovery_error = NULL WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(connector_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    installation(db, t, connector_id).await
}

/// The repositories a pack may reach, per GitHub connector of the org.
pub async fn pack_repositories(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
) -> ServiceResult<Vec<PackRepositories>> {
    packs::get(db, t, pack_id).await?;
    let rows: Vec<(Uuid, String, Vec<String>, Vec<String>)> = sqlx::query_as(
        "SELECT c.id, c.name, i.repositories,
           COALESCE((SELECT array_agg(r.repository ORDER BY r.repository) FROM tool_pack_repositories r
                     WHERE r.pack_id = $2 AND r.connector_id = c.id), '{}')
         FROM github_installations i JOIN connectors c ON c.id = i.connector_id
         WHERE i.org_id = $1 ORDER BY c.name",
    )
    .bind(t.org_id)
    .bind(pack_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(connector_id, connector_name, available, selected)| PackRepositories {
                connector_id,
                connector_name,
                available,
                selected,
            },
        )
        .collect())
}

/// Sets the repositories of one GitHub connector a pack may reach: each
/// must be one the installation can reach.
pub async fn set_pack_repositories(
    db: &PgPool,
    t: &TenantCtx,
    pack_id: Uuid,
    connector_id: Uuid,
    repositories: &[String],
) -> ServiceResult<Vec<PackRepositories>> {
    t.require(Role::Admin)?;
    packs::get(db, t, pack_id).await?;
    let available: Vec<String> = sqlx::query_scalar(
        "SELECT repositories FROM github_installations WHERE org_id = $1 AND connector_id = $2",
    )
    .bind(t.org_id)
    .bind(connector_id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| ApiError::invalid("connector_id", "No such GitHub connector."))?;
    let mut chosen = Vec::with_capacity(repositories.len());
    for r in repositories {
        match available.iter().find(|a| a.eq_ignore_ascii_case(r)) {
            Some(a) => chosen.push(a.clone()),
            None => {
                return Err(ApiError::invalid(
                    "repositories",
                    format!("{r} is not a repository this GitHub installation can reach."),
                )
                .into());
            }
        }
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM tool_pack_repositories WHERE org_id = $1 AND pack_id = $2 AND connector_id = $3",
    )
    .bind(t.org_id)
    .bind(pack_id)
    .bind(connector_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO tool_pack_repositories (pack_id, org_id, connector_id, repository)
         SELECT $1, $2, $3, r FROM UNNEST($4::text[]) AS r ON CONFLICT DO NOTHING",
    )
    .bind(pack_id)
    .bind(t.org_id)
    .bind(connector_id)
    .bind(&chosen)
    .execute(&mut *tx)
    .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    pack_repositories(db, t, pack_id).await
}

/// What a pack may do with each of the org's GitHub connectors (for the
/// data path): the scope its tokens are minted with, and whether the
/// installation is usable.
pub(super) async fn scopes(
    db: &PgPool,
    org_id: Uuid,
    pack_id: Uuid,
) -> ServiceResult<Vec<(Uuid, Scope, InstallationStatus)>> {
    let rows: Vec<(Uuid, i64, String, Vec<String>, Vec<String>, Vec<String>)> = sqlx::query_as(
        "SELECT i.connector_id, i.installation_id, i.status, i.repositories,
           COALESCE((SELECT array_agg(r.repository) FROM tool_pack_repositories r
                     WHERE r.pack_id = $2 AND r.connector_id = i.connector_id), '{}'),
           COALESCE((SELECT array_agg(pt.tool_name) FROM tool_pack_tools pt
                     WHERE pt.pack_id = $2 AND pt.connector_id = i.connector_id), '{}')
         FROM github_installations i WHERE i.org_id = $1",
    )
    .bind(org_id)
    .bind(pack_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(connector_id, installation_id, status, granted, chosen, tool_names)| {
                let mut repositories: Vec<String> = chosen
                    .into_iter()
                    .filter(|c| granted.iter().any(|g| g.eq_ignore_ascii_case(c)))
                    .collect();
                repositories.sort();
                let scope = Scope {
                    installation_id,
                    repositories,
                    permissions: tools::permissions_for(tool_names.iter().map(String::as_str)),
                };
                (
                    connector_id,
                    scope,
                    InstallationStatus::parse(&status).unwrap_or(InstallationStatus::Deleted),
                )
            },
        )
        .collect())
}

/// Why a webhook delivery was not applied (the HTTP status says which).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// No App or no webhook secret configured.
    #[error("GitHub webhooks are not configured")]
    Off,
    #[error("the signature does not match")]
    BadSignature,
    #[error("{0}")]
    Malformed(String),
    #[error(transparent)]
    Service(#[from] super::ServiceError),
}

/// Applies an installation webhook after checking its signature: keeps a
/// connected installation's status and repositories current, and makes
/// every server drop what it cached for the org.
#[allow(clippy::too_many_arguments)]
pub async fn apply_webhook(
    db: &PgPool,
    keyring: &Keyring,
    gh: &GitHub,
    now: DateTime<Utc>,
    event: &str,
    delivery: &str,
    signature: &str,
    body: &[u8],
) -> Result<bool, HookError> {
    let app = app(db, keyring).await?.ok_or(HookError::Off)?;
    let secret = app.webhook_secret.as_ref().ok_or(HookError::Off)?;
    if !webhook::verify(secret.expose_secret().as_bytes(), body, signature) {
        return Err(HookError::BadSignature);
    }
    let Some((installation_id, change)) =
        webhook::parse(event, body).map_err(HookError::Malformed)?
    else {
        return Ok(false);
    };
    let mut tx = db.begin().await.map_err(super::ServiceError::from)?;
    // Each delivery applies once: a signed delivery captured and replayed
    // later (say, an old "suspend") changes nothing.
    if !delivery.is_empty() {
        sqlx::query("DELETE FROM github_webhook_deliveries WHERE received_at < $1")
            .bind(now - chrono::Duration::days(30))
            .execute(&mut *tx)
            .await
            .map_err(super::ServiceError::from)?;
        let fresh = sqlx::query(
            "INSERT INTO github_webhook_deliveries (delivery_id, received_at) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(delivery.chars().take(100).collect::<String>())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(super::ServiceError::from)?
        .rows_affected();
        if fresh == 0 {
            return Ok(false);
        }
    }
    let row: Option<(Uuid, Vec<String>)> = sqlx::query_as(
        "SELECT org_id, repositories FROM github_installations WHERE installation_id = $1 FOR UPDATE",
    )
    .bind(installation_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(super::ServiceError::from)?;
    let Some((org_id, mut repositories)) = row else {
        tx.commit().await.map_err(super::ServiceError::from)?;
        return Ok(false);
    };
    let (status, permissions, selection): (
        Option<&str>,
        Option<BTreeMap<String, String>>,
        Option<String>,
    ) = match change {
        webhook::Change::Deleted => (Some("deleted"), None, None),
        webhook::Change::Suspended => (Some("suspended"), None, None),
        webhook::Change::Unsuspended => (Some("active"), None, None),
        webhook::Change::Permissions(p) => (None, Some(p), None),
        webhook::Change::Repositories {
            added,
            removed,
            selection,
        } => {
            repositories.retain(|r| !removed.iter().any(|x| x.eq_ignore_ascii_case(r)));
            repositories.extend(added);
            repositories.sort();
            repositories.dedup();
            (None, None, selection)
        }
    };
    sqlx::query(
        "UPDATE github_installations SET status = COALESCE($2, status), repositories = $3,
           permissions = COALESCE($4, permissions),
           repository_selection = COALESCE($5, repository_selection), refreshed_at = $6
         WHERE installation_id = $1",
    )
    .bind(installation_id)
    .bind(status)
    .bind(&repositories)
    .bind(permissions.and_then(|p| serde_json::to_value(p).ok()))
    .bind(selection)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(super::ServiceError::from)?;
    config_version::bump_in(&mut tx, org_id).await?;
    tx.commit().await.map_err(super::ServiceError::from)?;
    gh.forget(installation_id);
    tracing::info!(%org_id, installation_id, event, "GitHub installation webhook applied");
    Ok(true)
}
