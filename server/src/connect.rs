//! `gatehouse connect`: a local stdio MCP server for clients that only
//! speak stdio or static configuration (Claude Desktop, Cursor). It holds
//! the agent key, obtains and refreshes the short-lived agent token, and
//! relays `tools/list` and `tools/call` to the hosted `/mcp` endpoint.
//!
//! The key comes from `GATEHOUSE_AGENT_KEY` or a file readable only by its
//! owner — never from the command line, where `ps` would show it.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ResultType, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientLifecycleMode, ClientServiceExt, ErrorData as McpError, RoleClient, RoleServer,
    ServerHandler, ServiceError, ServiceExt,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use uuid::Uuid;

/// Arguments of `gatehouse connect`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Your Gatehouse URL, e.g. https://gatehouse.example.com
    #[arg(long, env = "GATEHOUSE_URL")]
    pub url: url::Url,
    /// File holding the agent key (must not be readable by other users).
    /// Otherwise the key is read from GATEHOUSE_AGENT_KEY.
    #[arg(long, env = "GATEHOUSE_AGENT_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

/// Reads the agent key from the environment or a private file.
fn load_key(args: &ConnectArgs) -> anyhow::Result<SecretString> {
    if let Some(path) = &args.key_file {
        let meta =
            std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "{} is readable by other users; run `chmod 600 {}` first",
                path.display(),
                path.display()
            );
        }
        let key = std::fs::read_to_string(path)?.trim().to_owned();
        return Ok(SecretString::from(key));
    }
    match std::env::var("GATEHOUSE_AGENT_KEY") {
        Ok(k) if !k.trim().is_empty() => Ok(SecretString::from(k.trim().to_owned())),
        _ => bail!(
            "set GATEHOUSE_AGENT_KEY, or --key-file pointing at a 0600 file with the agent key"
        ),
    }
}

/// The current connection to Gatehouse and when its token runs out.
struct Upstream {
    running: RunningService<RoleClient, ClientConfig>,
    renew_at: Instant,
}

struct Bridge {
    base: String,
    key: SecretString,
    /// One runtime session across token refreshes.
    session: Uuid,
    http: reqwest::Client,
    conn: Mutex<Option<Arc<Upstream>>>,
}

impl Bridge {
    async fn fetch_token(&self) -> anyhow::Result<(String, u64)> {
        let res = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_secret", self.key.expose_secret()),
                ("session_id", &self.session.to_string()),
            ])
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "Gatehouse refused the agent key ({status}): {}",
                body["error_description"].as_str().unwrap_or("no details")
            );
        }
        let token = body["access_token"]
            .as_str()
            .context("no access_token in the answer")?
            .to_owned();
        Ok((token, body["expires_in"].as_u64().unwrap_or(300)))
    }

    /// A connection whose token is good for at least another minute.
    async fn upstream(&self, force: bool) -> Result<Arc<Upstream>, McpError> {
        let mut guard = self.conn.lock().await;
        if let Some(u) = guard.as_ref()
            && !force
            && Instant::now() < u.renew_at
            && !u.running.peer().is_transport_closed()
        {
            return Ok(u.clone());
        }
        let (token, expires_in) = self
            .fetch_token()
            .await
            .map_err(|e| McpError::internal_error(format!("{e:#}"), None))?;
        let cfg = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.base))
            .auth_header(token);
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("gatehouse-connect", env!("CARGO_PKG_VERSION")),
        );
        let running = info
            .serve_with_lifecycle(
                StreamableHttpClientTransport::from_config(cfg),
                ClientLifecycleMode::Auto {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    legacy_version: Some(ProtocolVersion::V_2025_11_25),
                },
            )
            .await
            .map_err(|e| McpError::internal_error(format!("connecting to Gatehouse: {e}"), None))?;
        running
            .set_response_cache_config(rmcp::ClientCacheConfig::disabled())
            .await;
        let u = Arc::new(Upstream {
            running,
            renew_at: Instant::now() + Duration::from_secs(expires_in.saturating_sub(60).max(10)),
        });
        *guard = Some(u.clone());
        Ok(u)
    }
}

fn relay(e: ServiceError) -> McpError {
    match e {
        ServiceError::McpError(e) => e,
        other => McpError::internal_error(format!("Gatehouse: {other}"), None),
    }
}

/// Whether an error means "get a new token and try again".
fn needs_new_token(e: &ServiceError) -> bool {
    !matches!(e, ServiceError::McpError(_))
}

#[derive(Clone)]
struct Handler(Arc<Bridge>);

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("gatehouse-connect", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let params = request.map(|r| PaginatedRequestParams::default().with_cursor(r.cursor));
        let up = self.0.upstream(false).await?;
        let res = match up.running.peer().list_tools(params.clone()).await {
            Err(e) if needs_new_token(&e) => {
                let up = self.0.upstream(true).await?;
                up.running.peer().list_tools(params).await
            }
            r => r,
        };
        let mut res = res.map_err(relay)?;
        res.result_type = Some(ResultType::COMPLETE);
        Ok(res)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let mut params = CallToolRequestParams::new(request.name.clone());
        if let Some(a) = request.arguments {
            params = params.with_arguments(a);
        }
        let up = self.0.upstream(false).await?;
        let res = match up.running.peer().call_tool(params.clone()).await {
            Err(e) if needs_new_token(&e) => {
                let up = self.0.upstream(true).await?;
                up.running.peer().call_tool(params).await
            }
            r => r,
        };
        let mut res = res.map_err(relay)?;
        res.result_type = Some(ResultType::COMPLETE);
        Ok(res.into())
    }
}

/// Runs the bridge until the client closes stdin.
pub async fn run(args: ConnectArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = load_key(&args)?;
    let bridge = Arc::new(Bridge {
        base: args.url.as_str().trim_end_matches('/').to_owned(),
        key,
        session: Uuid::new_v4(),
        http: reqwest::Client::new(),
        conn: Mutex::new(None),
    });
    // Fail early and clearly (bad URL or key) instead of on the first call.
    bridge
        .upstream(false)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    tracing::info!(url = %bridge.base, "gatehouse connect: relaying stdio to Gatehouse");
    let running = Handler(bridge).serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_key_file_others_can_read() {
        let dir = std::env::temp_dir().join(format!("gh-connect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("key");
        std::fs::write(&f, "ghk_x\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let args = ConnectArgs {
            url: "http://localhost:1".parse().unwrap(),
            key_file: Some(f.clone()),
        };
        let err = load_key(&args).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(load_key(&args).unwrap().expose_secret(), "ghk_x");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
