//! The GitHub connector's client side: the App's JWT, installation tokens
//! scoped down to a Tool Pack and cached in memory, and the governed
//! tools' REST calls (through `octocrab`).
//!
//! Nothing here reads the database: the App's configuration and a pack's
//! scope come in as arguments (from [`crate::service::github`] and the
//! data path), so this module is the only place that speaks to GitHub.
//! Tokens are never stored or logged; the cache keeps each until shortly
//! before it expires.

pub mod tools;
pub mod webhook;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use lru::LruCache;
use octocrab::Octocrab;
use rmcp::model::CallToolResult;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::upstream::UpstreamError;
use tools::Call;

/// The deployment's GitHub App, secrets decrypted.
pub struct AppConfig {
    pub app_id: u64,
    pub slug: String,
    /// REST API base, with a trailing slash.
    pub api_url: url::Url,
    /// Web base (installation pages), with a trailing slash.
    pub web_url: url::Url,
    pub private_key: SecretBox<Vec<u8>>,
    pub webhook_secret: Option<SecretString>,
    /// When it was last set: cached clients built before are stale.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("app_id", &self.app_id)
            .field("slug", &self.slug)
            .field("api_url", &self.api_url.as_str())
            .finish_non_exhaustive()
    }
}

impl AppConfig {
    /// The App's installation page, carrying `state`.
    pub fn install_url(&self, state: &str) -> String {
        let mut u = self.web_url.clone();
        u.set_path(&format!(
            "{}apps/{}/installations/new",
            self.web_url.path(),
            self.slug
        ));
        u.query_pairs_mut().append_pair("state", state);
        u.to_string()
    }
}

/// What a Tool Pack may do with one installation: the token for its calls
/// is minted with exactly these repositories and permissions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub installation_id: i64,
    /// Full names (`owner/name`), sorted: the pack's choice that the
    /// installation still grants.
    pub repositories: Vec<String>,
    pub permissions: BTreeMap<String, String>,
}

impl Scope {
    /// Whether the pack may reach `repository` (GitHub names are
    /// case-insensitive).
    pub fn allows(&self, repository: &str) -> bool {
        self.repositories
            .iter()
            .any(|r| r.eq_ignore_ascii_case(repository))
    }
}

/// An installation as GitHub describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Installation {
    pub id: i64,
    pub app_id: i64,
    pub account: Account,
    pub repository_selection: String,
    #[serde(default)]
    pub permissions: BTreeMap<String, String>,
    pub suspended_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Why the App could not look at an installation.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// GitHub does not know it for this App (another App's, or removed).
    #[error("GitHub has no installation {0} of this App")]
    NotFound(i64),
    #[error("GitHub refused the App's credentials: {0}")]
    Refused(String),
    #[error("{0}")]
    Unavailable(String),
}

/// A governed call's answer: the result the agent sees (an `isError`
/// result when GitHub refused) and GitHub's request id, for the record.
#[derive(Debug)]
pub struct Reply {
    pub result: CallToolResult,
    pub request_id: Option<String>,
}

struct Cached {
    client: Octocrab,
    refresh_after: DateTime<Utc>,
    app_updated_at: DateTime<Utc>,
}

/// Renew a token this long before GitHub says it expires.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::minutes(5);
/// Largest GitHub answer read (bytes).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Most text of one file, diff or body an agent gets.
pub const MAX_TEXT: usize = 64 * 1024;

/// The client side of the GitHub connector, shared by every call.
pub struct GitHub {
    tokens: Mutex<LruCache<Scope, Cached>>,
    timeout: Duration,
}

impl GitHub {
    pub fn new(timeout: Duration) -> Self {
        GitHub {
            tokens: Mutex::new(LruCache::new(
                NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN),
            )),
            timeout,
        }
    }

    fn builder(
        &self,
    ) -> octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    > {
        Octocrab::builder()
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(self.timeout))
            .set_write_timeout(Some(self.timeout))
    }

    /// A client that signs each request with the App's JWT.
    fn app_client(&self, app: &AppConfig) -> Result<Octocrab, UpstreamError> {
        self.builder()
            .base_uri(app.api_url.as_str())
            .and_then(|b| {
                b.app_from_rsa_pem(
                    octocrab::models::AppId(app.app_id),
                    app.private_key.expose_secret(),
                )
            })
            .and_then(|b| b.build())
            .map_err(|e| UpstreamError::Unreachable(format!("GitHub client: {}", describe(&e))))
    }

    /// Looks an installation up with the App's JWT: GitHub answers only
    /// for installations of this App.
    pub async fn installation(&self, app: &AppConfig, id: i64) -> Result<Installation, AppError> {
        let client = self
            .app_client(app)
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        let r = self
            .send(
                &client,
                Method::GET,
                &format!("/app/installations/{id}"),
                None,
                None,
            )
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        match r.status {
            s if s.is_success() => {
                let i: Installation = serde_json::from_slice(&r.body).map_err(|e| {
                    AppError::Unavailable(format!("GitHub's installation is unreadable: {e}"))
                })?;
                if u64::try_from(i.app_id).ok() != Some(app.app_id) || i.id != id {
                    return Err(AppError::NotFound(id));
                }
                Ok(i)
            }
            StatusCode::NOT_FOUND => Err(AppError::NotFound(id)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(AppError::Refused(r.message())),
            s => Err(AppError::Unavailable(format!(
                "GitHub answered {s}: {}",
                r.message()
            ))),
        }
    }

    /// Every repository an installation can reach (full names, sorted),
    /// with a token limited to `metadata: read`.
    pub async fn installation_repositories(
        &self,
        app: &AppConfig,
        id: i64,
    ) -> Result<Vec<String>, AppError> {
        let app_client = self
            .app_client(app)
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        let body = json!({"permissions": {"metadata": "read"}});
        let token = self
            .mint(&app_client, id, &body)
            .await
            .map_err(|e| match e {
                Minted::Refused(m) => AppError::Refused(m),
                Minted::Failed(e) => AppError::Unavailable(e.to_string()),
            })?;
        let client = self
            .token_client(app, token.0)
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        let mut out = Vec::new();
        // GitHub pages by 100; an installation with more than 5,000
        // repositories is listed partially (and the admin is told so by
        // the count staying at 5,000).
        for page in 1..=50 {
            let r = self
                .send(
                    &client,
                    Method::GET,
                    &format!("/installation/repositories?per_page=100&page={page}"),
                    None,
                    None,
                )
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            if !r.status.is_success() {
                return Err(AppError::Unavailable(format!(
                    "GitHub answered {}: {}",
                    r.status,
                    r.message()
                )));
            }
            #[derive(Deserialize)]
            struct Page {
                repositories: Vec<Repo>,
            }
            #[derive(Deserialize)]
            struct Repo {
                full_name: String,
            }
            let p: Page = serde_json::from_slice(&r.body)
                .map_err(|e| AppError::Unavailable(format!("unreadable repository list: {e}")))?;
            let n = p.repositories.len();
            out.extend(p.repositories.into_iter().map(|r| r.full_name));
            if n < 100 {
                break;
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// `POST /app/installations/{id}/access_tokens` with `body`.
    async fn mint(
        &self,
        app_client: &Octocrab,
        id: i64,
        body: &Value,
    ) -> Result<(SecretString, DateTime<Utc>), Minted> {
        let r = self
            .send(
                app_client,
                Method::POST,
                &format!("/app/installations/{id}/access_tokens"),
                Some(body),
                None,
            )
            .await
            .map_err(Minted::Failed)?;
        if !r.status.is_success() {
            return Err(Minted::Refused(match r.status {
                StatusCode::NOT_FOUND => {
                    "GitHub no longer knows this installation (was the App uninstalled?)".to_owned()
                }
                _ => r.message(),
            }));
        }
        // Read into a type whose Debug cannot print the token.
        #[derive(Deserialize)]
        struct Token {
            token: SecretString,
            expires_at: DateTime<Utc>,
        }
        let t: Token = serde_json::from_slice(&r.body).map_err(|_| {
            Minted::Failed(UpstreamError::Rejected(
                "GitHub's installation token answer is unreadable".to_owned(),
            ))
        })?;
        Ok((t.token, t.expires_at))
    }

    fn token_client(
        &self,
        app: &AppConfig,
        token: SecretString,
    ) -> Result<Octocrab, UpstreamError> {
        self.builder()
            .base_uri(app.api_url.as_str())
            .and_then(|b| b.personal_token(token).build())
            .map_err(|e| UpstreamError::Unreachable(format!("GitHub client: {}", describe(&e))))
    }

    /// A client holding a token for exactly `scope`, minted when the cache
    /// has none fresh. `Err(Ok(result))`: GitHub refused to mint (told to
    /// the agent as the tool's error).
    async fn scoped_client(
        &self,
        app: &AppConfig,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Result<Octocrab, String>, UpstreamError> {
        if let Ok(mut cache) = self.tokens.lock()
            && let Some(c) = cache.get(scope)
            && c.refresh_after > now
            && c.app_updated_at == app.updated_at
        {
            return Ok(Ok(c.client.clone()));
        }
        let app_client = self.app_client(app)?;
        // Repository names without the owner: one installation has one owner.
        let names: Vec<&str> = scope
            .repositories
            .iter()
            .filter_map(|r| r.split_once('/').map(|(_, n)| n))
            .collect();
        let body = json!({"repositories": names, "permissions": scope.permissions});
        let (token, expires_at) = match self.mint(&app_client, scope.installation_id, &body).await {
            Ok(t) => t,
            Err(Minted::Refused(m)) => {
                return Ok(Err(format!(
                    "GitHub would not issue a token for this Tool Pack's repositories and \
                     permissions: {m}. An admin can refresh the GitHub connection or change the \
                     pack."
                )));
            }
            Err(Minted::Failed(e)) => return Err(e),
        };
        let client = self.token_client(app, token)?;
        if let Ok(mut cache) = self.tokens.lock() {
            cache.put(
                scope.clone(),
                Cached {
                    client: client.clone(),
                    refresh_after: expires_at - RENEW_BEFORE,
                    app_updated_at: app.updated_at,
                },
            );
        }
        Ok(Ok(client))
    }

    /// Forgets cached tokens of an installation (disconnected, suspended,
    /// or GitHub stopped accepting them).
    pub fn forget(&self, installation_id: i64) {
        if let Ok(mut cache) = self.tokens.lock() {
            let stale: Vec<Scope> = cache
                .iter()
                .filter(|(s, _)| s.installation_id == installation_id)
                .map(|(s, _)| s.clone())
                .collect();
            for s in stale {
                cache.pop(&s);
            }
        }
    }

    /// Runs one governed call (its repository already checked against
    /// `scope` by the caller, and again here).
    pub async fn call(
        &self,
        app: &AppConfig,
        scope: &Scope,
        call: &Call,
        now: DateTime<Utc>,
    ) -> Result<Reply, UpstreamError> {
        if let Some(r) = call.repository()
            && !scope.allows(r)
        {
            return Ok(Reply::refused(format!(
                "Repository {r} is not available to this Tool Pack."
            )));
        }
        // GitHub reads an empty repository list in a token request as "every
        // repository of the installation": never ask for one.
        if scope.repositories.is_empty() {
            return Ok(Reply::refused(
                "This Tool Pack has no GitHub repository: an admin chooses them on the pack's \
                 Tools tab."
                    .to_owned(),
            ));
        }
        let client = match self.scoped_client(app, scope, now).await? {
            Ok(c) => c,
            Err(message) => return Ok(Reply::refused(message)),
        };
        let run = Run {
            gh: self,
            client: &client,
            request_id: None,
            now,
        };
        let reply = tokio::time::timeout(self.timeout, run.go(scope, call))
            .await
            .map_err(|_| UpstreamError::Timeout(self.timeout.as_secs()))??;
        if reply.unauthorized {
            self.forget(scope.installation_id);
        }
        Ok(reply.reply)
    }

    /// One request; 4xx/5xx come back as answers, not errors.
    async fn send(
        &self,
        client: &Octocrab,
        method: Method,
        route: &str,
        body: Option<&Value>,
        accept: Option<&str>,
    ) -> Result<Answer, UpstreamError> {
        let builder = http::Request::builder().method(method).uri(route).header(
            http::header::ACCEPT,
            accept.unwrap_or("application/vnd.github+json"),
        );
        let req = client
            .build_request(builder, body)
            .map_err(|e| UpstreamError::Unreachable(describe(&e)))?;
        let res = client
            .execute(req)
            .await
            .map_err(|e| UpstreamError::Unreachable(describe(&e)))?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = http_body_util::Limited::new(res.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    UpstreamError::TooLarge(MAX_BODY)
                } else {
                    UpstreamError::Unreachable(e.to_string())
                }
            })?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

enum Minted {
    Refused(String),
    Failed(UpstreamError),
}

/// An octocrab error in words, without its (credential-free) debug dump.
fn describe(e: &octocrab::Error) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => source.message.clone(),
        octocrab::Error::Service { source, .. } => source.to_string(),
        octocrab::Error::Hyper { source, .. } => source.to_string(),
        octocrab::Error::JWT { .. } => "the App's private key is not a usable RSA key".to_owned(),
        other => other.to_string(),
    }
}

/// A GitHub answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// GitHub's `message` (its errors have one), or the start of the body.
    fn message(&self) -> String {
        #[derive(Deserialize)]
        struct E {
            message: Option<String>,
            #[serde(default)]
            errors: Vec<Value>,
        }
        match serde_json::from_slice::<E>(&self.body) {
            Ok(E {
                message: Some(m),
                errors,
            }) => {
                let details: Vec<String> = errors
                    .iter()
                    .filter_map(|e| {
                        e.get("message")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .or_else(|| {
                                let field = e.get("field")?.as_str()?;
                                let code = e.get("code")?.as_str()?;
                                Some(format!("{field} is {code}"))
                            })
                    })
                    .collect();
                if details.is_empty() {
                    m
                } else {
                    format!("{m} ({})", details.join("; "))
                }
            }
            _ => cut(&String::from_utf8_lossy(&self.body), 300).0,
        }
    }

    fn json(&self) -> Result<Value, UpstreamError> {
        serde_json::from_slice(&self.body).map_err(|_| {
            UpstreamError::Rejected("GitHub's answer is not the JSON expected".to_owned())
        })
    }
}

/// `s` cut to at most `max` bytes (at a character boundary), and whether
/// it was cut.
fn cut(s: &str, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s.to_owned(), false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s[..end].to_owned(), true)
}

impl Reply {
    /// The tool's error, told without GitHub having answered.
    pub fn refused(message: String) -> Reply {
        Reply {
            result: CallToolResult::error(vec![rmcp::model::ContentBlock::text(message)]),
            request_id: None,
        }
    }
}

/// A call in progress: the request id of its last GitHub answer.
struct Run<'a> {
    gh: &'a GitHub,
    client: &'a Octocrab,
    request_id: Option<String>,
    now: DateTime<Utc>,
}

struct Ran {
    reply: Reply,
    unauthorized: bool,
}

/// The outcome of one step: a value to go on with, or the agent's answer
/// (GitHub refused).
enum Step<T> {
    Ok(T),
    Refused(String, bool),
}

macro_rules! step {
    ($e:expr) => {
        match $e? {
            Step::Ok(v) => v,
            Step::Refused(m, unauthorized) => return Ok((Err(m), unauthorized)),
        }
    };
}

/// Like `step!`, inside a helper that itself returns a `Step`.
macro_rules! step_ok {
    ($e:expr) => {
        match $e? {
            Step::Ok(v) => v,
            Step::Refused(m, unauthorized) => return Ok(Step::Refused(m, unauthorized)),
        }
    };
}

/// Paths in GitHub URLs: each segment percent-encoded (the names were
/// checked when the arguments were parsed; this keeps odd characters from
/// changing the route).
fn enc(s: &str) -> String {
    s.split('/')
        .map(|p| url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Picks fields from a GitHub object (absent ones are skipped).
fn pick(v: &Value, fields: &[&str]) -> Value {
    let mut o = serde_json::Map::new();
    for f in fields {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => (k, p),
            None => (*f, *f),
        };
        let mut cur = v;
        let mut found = true;
        for part in path.split('.') {
            match cur.get(part) {
                Some(n) => cur = n,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            o.insert(key.to_owned(), cur.clone());
        }
    }
    Value::Object(o)
}

fn capped_text(v: &Value, key: &str) -> Value {
    let mut v = v.clone();
    if let Some(s) = v.get(key).and_then(Value::as_str) {
        let (text, was_cut) = cut(s, MAX_TEXT);
        v[key] = Value::String(text);
        if was_cut {
            v[format!("{key}_truncated")] = Value::Bool(true);
        }
    }
    v
}

const ISSUE: &[&str] = &[
    "number",
    "title",
    "state",
    "author=user.login",
    "labels",
    "comments",
    "created_at",
    "updated_at",
    "html_url",
];
const PULL: &[&str] = &[
    "number",
    "title",
    "state",
    "draft",
    "merged",
    "mergeable",
    "author=user.login",
    "head=head.ref",
    "head_sha=head.sha",
    "base=base.ref",
    "additions",
    "deletions",
    "changed_files",
    "created_at",
    "updated_at",
    "html_url",
];

impl Run<'_> {
    async fn go(mut self, scope: &Scope, call: &Call) -> Result<Ran, UpstreamError> {
        let (out, unauthorized) = self.dispatch(scope, call).await?;
        let result = match out {
            Ok(v) => CallToolResult::structured(v),
            Err(m) => CallToolResult::error(vec![rmcp::model::ContentBlock::text(m)]),
        };
        Ok(Ran {
            reply: Reply {
                result,
                request_id: self.request_id,
            },
            unauthorized,
        })
    }

    /// One request; a refusal becomes the agent's answer.
    async fn req(
        &mut self,
        method: Method,
        route: &str,
        body: Option<&Value>,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Step<Answer>, UpstreamError> {
        let a = self
            .gh
            .send(self.client, method, route, body, accept)
            .await?;
        if let Some(id) = a.header("x-github-request-id") {
            self.request_id = Some(id.to_owned());
        }
        let s = a.status;
        if s.is_success() {
            return Ok(Step::Ok(a));
        }
        let rate_limited = s == StatusCode::TOO_MANY_REQUESTS
            || (s == StatusCode::FORBIDDEN && a.header("x-ratelimit-remaining") == Some("0"));
        let message = if rate_limited {
            let reset = a
                .header("x-ratelimit-reset")
                .and_then(|r| r.parse::<i64>().ok())
                .and_then(|r| DateTime::<Utc>::from_timestamp(r, 0));
            match reset {
                Some(at) => format!(
                    "GitHub's API rate limit for this installation is used up; it resets at {} (in {} seconds). Try again after that.",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    (at - self.now).num_seconds().max(0)
                ),
                None => format!(
                    "GitHub's API rate limit for this installation is used up ({}). Try again later.",
                    a.message()
                ),
            }
        } else {
            match s {
                StatusCode::NOT_FOUND => format!(
                    "Not found on GitHub: {what} (it does not exist, or this installation cannot see it)."
                ),
                StatusCode::UNAUTHORIZED => "GitHub did not accept this installation's token (was the App uninstalled or its key replaced?).".to_owned(),
                StatusCode::FORBIDDEN => format!(
                    "GitHub refused: the installation's permissions do not allow this ({}).",
                    a.message()
                ),
                s if s.is_server_error() => {
                    return Err(UpstreamError::Rejected(format!(
                        "GitHub answered {s}: {}",
                        a.message()
                    )));
                }
                _ => format!("GitHub rejected the request: {}.", a.message().trim_end_matches('.')),
            }
        };
        Ok(Step::Refused(message, s == StatusCode::UNAUTHORIZED))
    }

    async fn get_json(&mut self, route: &str, what: &str) -> Result<Step<Value>, UpstreamError> {
        Ok(
            match self.req(Method::GET, route, None, None, what).await? {
                Step::Ok(a) => Step::Ok(a.json()?),
                Step::Refused(m, u) => Step::Refused(m, u),
            },
        )
    }

    async fn send_json(
        &mut self,
        method: Method,
        route: &str,
        body: &Value,
        what: &str,
    ) -> Result<Step<Value>, UpstreamError> {
        Ok(
            match self.req(method, route, Some(body), None, what).await? {
                Step::Ok(a) if a.body.is_empty() => Step::Ok(Value::Null),
                Step::Ok(a) => Step::Ok(a.json()?),
                Step::Refused(m, u) => Step::Refused(m, u),
            },
        )
    }

    async fn default_branch(&mut self, repo: &str) -> Result<Step<String>, UpstreamError> {
        let r = step_ok!(self.get_json(&format!("/repos/{}", enc(repo)), repo).await);
        Ok(Step::Ok(
            r.get("default_branch")
                .and_then(Value::as_str)
                .unwrap_or("main")
                .to_owned(),
        ))
    }

    async fn dispatch(
        &mut self,
        scope: &Scope,
        call: &Call,
    ) -> Result<(Result<Value, String>, bool), UpstreamError> {
        let v = match call {
            Call::ListRepositories => {
                // What the pack may reach, as GitHub describes it.
                let r = step!(
                    self.get_json("/installation/repositories?per_page=100", "repositories")
                        .await
                );
                let repos: Vec<Value> = r
                    .get("repositories")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter(|r| {
                                r.get("full_name")
                                    .and_then(Value::as_str)
                                    .is_some_and(|n| scope.allows(n))
                            })
                            .map(|r| {
                                pick(
                                    r,
                                    &[
                                        "full_name",
                                        "description",
                                        "private",
                                        "default_branch",
                                        "html_url",
                                    ],
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"repositories": repos})
            }
            Call::GetFile {
                repository,
                path,
                r#ref,
            } => {
                let mut route = format!("/repos/{}/contents/{}", enc(repository), enc(path));
                if let Some(r) = r#ref {
                    route.push_str(&format!("?ref={}", q(r)));
                }
                let what = format!("{path:?} in {repository}");
                let v = step!(self.get_json(&route, &what).await);
                if let Some(list) = v.as_array() {
                    let entries: Vec<Value> = list
                        .iter()
                        .take(1000)
                        .map(|e| pick(e, &["name", "path", "type", "size", "sha"]))
                        .collect();
                    json!({"repository": repository, "path": path, "type": "dir",
                           "entries": entries, "truncated": list.len() > 1000})
                } else {
                    let raw = v
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .replace(['\n', '\r'], "");
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(raw.as_bytes())
                        .unwrap_or_default();
                    let mut out = pick(&v, &["path", "sha", "size", "html_url"]);
                    out["repository"] = json!(repository);
                    out["type"] = json!("file");
                    match String::from_utf8(bytes) {
                        Ok(text) => {
                            let (text, was_cut) = cut(&text, MAX_TEXT);
                            out["content"] = json!(text);
                            if was_cut {
                                out["truncated"] = json!(true);
                                out["note"] = json!(format!(
                                    "Only the first {MAX_TEXT} bytes of the file are shown."
                                ));
                            }
                        }
                        Err(_) => {
                            out["content"] = Value::Null;
                            out["note"] = json!("Binary file: its content is not shown.");
                        }
                    }
                    out
                }
            }
            Call::SearchCode {
                query,
                repository,
                limit,
            } => {
                // Search is limited to the pack's repositories by
                // qualifiers we add (the agent's query may not carry any).
                let repos: Vec<&str> = match repository {
                    Some(r) => vec![r.as_str()],
                    None => scope.repositories.iter().map(String::as_str).collect(),
                };
                if repos.is_empty() {
                    return Ok((Ok(json!({"total_count": 0, "items": []})), false));
                }
                let qualifiers: Vec<String> = repos.iter().map(|r| format!("repo:{r}")).collect();
                let full = format!("{query} {}", qualifiers.join(" "));
                let route = format!("/search/code?q={}&per_page={limit}", q(&full));
                let v = step!(self.get_json(&route, "code search").await);
                let items: Vec<Value> = v
                    .get("items")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            // GitHub answers only for the qualifiers; a
                            // result outside the pack is dropped anyway.
                            .filter(|i| {
                                i.pointer("/repository/full_name")
                                    .and_then(Value::as_str)
                                    .is_some_and(|n| scope.allows(n))
                            })
                            .map(|i| {
                                pick(
                                    i,
                                    &["repository=repository.full_name", "path", "sha", "html_url"],
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"total_count": v.get("total_count"), "items": items})
            }
            Call::ListIssues {
                repository,
                state,
                limit,
            } => {
                let route = format!(
                    "/repos/{}/issues?state={}&per_page={limit}",
                    enc(repository),
                    state.as_str()
                );
                let v = step!(self.get_json(&route, repository).await);
                let issues: Vec<Value> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|i| i.get("pull_request").is_none())
                            .map(|i| pick(i, ISSUE))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"repository": repository, "issues": issues})
            }
            Call::GetIssue { repository, number } => {
                let route = format!("/repos/{}/issues/{number}", enc(repository));
                let v = step!(
                    self.get_json(&route, &format!("issue #{number} in {repository}"))
                        .await
                );
                let mut out = pick(&v, ISSUE);
                out["body"] = v.get("body").cloned().unwrap_or(Value::Null);
                out["is_pull_request"] = json!(v.get("pull_request").is_some());
                capped_text(&out, "body")
            }
            Call::ListPullRequests {
                repository,
                state,
                limit,
            } => {
                let route = format!(
                    "/repos/{}/pulls?state={}&per_page={limit}",
                    enc(repository),
                    state.as_str()
                );
                let v = step!(self.get_json(&route, repository).await);
                let pulls: Vec<Value> = v
                    .as_array()
                    .map(|a| a.iter().map(|p| pick(p, PULL)).collect())
                    .unwrap_or_default();
                json!({"repository": repository, "pull_requests": pulls})
            }
            Call::GetPullRequest {
                repository,
                number,
                include_diff,
            } => {
                let route = format!("/repos/{}/pulls/{number}", enc(repository));
                let what = format!("pull request #{number} in {repository}");
                let v = step!(self.get_json(&route, &what).await);
                let mut out = pick(&v, PULL);
                out["body"] = v.get("body").cloned().unwrap_or(Value::Null);
                out["requested_reviewers"] = json!(
                    v.get("requested_reviewers")
                        .and_then(Value::as_array)
                        .map(|a| a
                            .iter()
                            .filter_map(|r| r.get("login").cloned())
                            .collect::<Vec<_>>())
                        .unwrap_or_default()
                );
                let mut out = capped_text(&out, "body");
                if *include_diff {
                    let a = step!(
                        self.req(
                            Method::GET,
                            &route,
                            None,
                            Some("application/vnd.github.diff"),
                            &what
                        )
                        .await
                    );
                    let (diff, was_cut) = cut(&String::from_utf8_lossy(&a.body), MAX_TEXT);
                    out["diff"] = json!(diff);
                    if was_cut {
                        out["diff_truncated"] = json!(true);
                        out["note"] = json!(format!(
                            "Only the first {MAX_TEXT} bytes of the diff are shown."
                        ));
                    }
                }
                out
            }
            Call::ListCommits {
                repository,
                r#ref,
                limit,
            } => {
                let mut route = format!("/repos/{}/commits?per_page={limit}", enc(repository));
                if let Some(r) = r#ref {
                    route.push_str(&format!("&sha={}", q(r)));
                }
                let v = step!(self.get_json(&route, repository).await);
                let commits: Vec<Value> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| {
                                let mut c2 = pick(
                                    c,
                                    &[
                                        "sha",
                                        "message=commit.message",
                                        "author=commit.author.name",
                                        "date=commit.author.date",
                                        "html_url",
                                    ],
                                );
                                if let Some(m) = c2.get("message").and_then(Value::as_str) {
                                    c2["message"] = json!(cut(m, 4096).0);
                                }
                                c2
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"repository": repository, "commits": commits})
            }
            Call::GetWorkflowRun { repository, run_id } => {
                let route = format!("/repos/{}/actions/runs/{run_id}", enc(repository));
                let v = step!(
                    self.get_json(&route, &format!("workflow run {run_id} in {repository}"))
                        .await
                );
                pick(
                    &v,
                    &[
                        "id",
                        "name",
                        "status",
                        "conclusion",
                        "head_branch",
                        "head_sha",
                        "event",
                        "run_started_at",
                        "updated_at",
                        "html_url",
                    ],
                )
            }
            Call::CreateIssue {
                repository,
                title,
                body,
                labels,
            } => {
                let mut b = json!({"title": title});
                if let Some(body) = body {
                    b["body"] = json!(body);
                }
                if !labels.is_empty() {
                    b["labels"] = json!(labels);
                }
                let route = format!("/repos/{}/issues", enc(repository));
                let v = step!(self.send_json(Method::POST, &route, &b, repository).await);
                pick(&v, &["number", "title", "state", "html_url"])
            }
            Call::CreateComment {
                repository,
                number,
                body,
            } => {
                let route = format!("/repos/{}/issues/{number}/comments", enc(repository));
                let what = format!("issue or pull request #{number} in {repository}");
                let v = step!(
                    self.send_json(Method::POST, &route, &json!({"body": body}), &what)
                        .await
                );
                pick(&v, &["id", "html_url", "created_at"])
            }
            Call::CreateBranch {
                repository,
                branch,
                from,
            } => {
                let from = match from {
                    Some(f) => f.clone(),
                    None => step!(self.default_branch(repository).await),
                };
                let route = format!("/repos/{}/git/ref/heads/{}", enc(repository), enc(&from));
                let v = step!(
                    self.get_json(&route, &format!("branch {from} in {repository}"))
                        .await
                );
                let Some(sha) = v.pointer("/object/sha").and_then(Value::as_str) else {
                    return Err(UpstreamError::Rejected(
                        "GitHub's branch answer has no commit".to_owned(),
                    ));
                };
                let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
                let route = format!("/repos/{}/git/refs", enc(repository));
                step!(
                    self.send_json(Method::POST, &route, &body, repository)
                        .await
                );
                json!({"repository": repository, "branch": branch, "from": from, "sha": sha})
            }
            Call::CreateOrUpdateFile {
                repository,
                path,
                branch,
                content,
                message,
                sha,
            } => {
                let mut b = json!({
                    "message": message,
                    "content": base64::engine::general_purpose::STANDARD.encode(content.as_bytes()),
                    "branch": branch,
                });
                if let Some(sha) = sha {
                    b["sha"] = json!(sha);
                }
                let route = format!("/repos/{}/contents/{}", enc(repository), enc(path));
                let what = format!("branch {branch} of {repository}");
                let v = step!(self.send_json(Method::PUT, &route, &b, &what).await);
                json!({
                    "repository": repository,
                    "path": v.pointer("/content/path"),
                    "sha": v.pointer("/content/sha"),
                    "branch": branch,
                    "commit": v.pointer("/commit/sha"),
                    "html_url": v.pointer("/commit/html_url"),
                })
            }
            Call::CreatePullRequest {
                repository,
                title,
                head,
                base,
                body,
                draft,
            } => {
                let base = match base {
                    Some(b) => b.clone(),
                    None => step!(self.default_branch(repository).await),
                };
                let mut b = json!({"title": title, "head": head, "base": base, "draft": draft});
                if let Some(body) = body {
                    b["body"] = json!(body);
                }
                let route = format!("/repos/{}/pulls", enc(repository));
                let v = step!(self.send_json(Method::POST, &route, &b, repository).await);
                pick(&v, PULL)
            }
            Call::RequestReviewers {
                repository,
                number,
                reviewers,
            } => {
                let route = format!(
                    "/repos/{}/pulls/{number}/requested_reviewers",
                    enc(repository)
                );
                let what = format!("pull request #{number} in {repository}");
                let v = step!(
                    self.send_json(
                        Method::POST,
                        &route,
                        &json!({"reviewers": reviewers}),
                        &what
                    )
                    .await
                );
                json!({
                    "number": number,
                    "requested_reviewers": v.get("requested_reviewers")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|r| r.get("login").cloned()).collect::<Vec<_>>())
                        .unwrap_or_default(),
                    "html_url": v.get("html_url"),
                })
            }
            Call::MergePullRequest {
                repository,
                number,
                merge_method,
                commit_title,
            } => {
                let mut b = json!({"merge_method": merge_method.as_str()});
                if let Some(t) = commit_title {
                    b["commit_title"] = json!(t);
                }
                let route = format!("/repos/{}/pulls/{number}/merge", enc(repository));
                let what = format!("pull request #{number} in {repository}");
                let v = step!(self.send_json(Method::PUT, &route, &b, &what).await);
                pick(&v, &["merged", "sha", "message"])
            }
        };
        Ok((Ok(v), false))
    }
}
