//! Connections to upstream MCP servers (rmcp's Streamable HTTP client).
//!
//! One long-lived client per connector and process, shared by every call
//! (rmcp multiplexes concurrent requests over it). A client is rebuilt when
//! the connector's URL or auth header changes, or when its transport has
//! closed. Either protocol era upstream works: we try 2026-07-28 discovery
//! first and fall back to a 2025-11-25 `initialize`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
    JsonObject, ProtocolVersion, Tool,
};
use rmcp::service::{Peer, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceError};
use tokio::sync::Mutex;
use uuid::Uuid;

/// How to reach one connector (auth header already decrypted).
#[derive(Clone)]
pub struct Target {
    pub connector_id: Uuid,
    pub url: String,
    pub header: Option<(String, String)>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("connector_id", &self.connector_id)
            .field("url", &self.url)
            .field(
                "header",
                &self.header.as_ref().map(|(n, _)| (n, "<redacted>")),
            )
            .finish()
    }
}

impl Target {
    fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.url.hash(&mut h);
        self.header.hash(&mut h);
        h.finish()
    }
}

/// Why an upstream call failed, in words an agent and an admin can act on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream server could not be reached ({0})")]
    Unreachable(String),
    #[error("the upstream server did not answer within {0} seconds")]
    Timeout(u64),
    #[error("the upstream server returned an error: {0}")]
    Rejected(String),
}

impl UpstreamError {
    /// The outcome code recorded for the call.
    pub fn outcome(&self) -> &'static str {
        match self {
            UpstreamError::Unreachable(_) => "upstream_unreachable",
            UpstreamError::Timeout(_) => "upstream_timeout",
            UpstreamError::Rejected(_) => "upstream_error",
        }
    }
}

struct Conn {
    fingerprint: u64,
    // Keeps the connection alive; dropping it closes the transport.
    running: RunningService<RoleClient, ClientConfig>,
}

/// What discovery found.
pub struct Discovered {
    pub tools: Vec<Tool>,
    pub server_name: Option<String>,
    pub protocol_version: String,
    pub elapsed: Duration,
}

pub struct UpstreamPool {
    conns: Mutex<HashMap<Uuid, Arc<Conn>>>,
    call_timeout: Duration,
    connect_timeout: Duration,
}

fn describe(e: &ServiceError) -> String {
    match e {
        ServiceError::McpError(d) => d.message.to_string(),
        other => {
            // Transport errors can be long chains; keep the first line.
            other
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect()
        }
    }
}

impl UpstreamPool {
    pub fn new(call_timeout: Duration) -> Self {
        Self {
            conns: Mutex::new(HashMap::new()),
            call_timeout,
            connect_timeout: Duration::from_secs(10),
        }
    }

    async fn connect(
        &self,
        target: &Target,
    ) -> Result<RunningService<RoleClient, ClientConfig>, UpstreamError> {
        let mut cfg = StreamableHttpClientTransportConfig::with_uri(target.url.clone());
        if let Some((name, value)) = &target.header {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| UpstreamError::Rejected("invalid auth header name".into()))?;
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|_| UpstreamError::Rejected("invalid auth header value".into()))?;
            value.set_sensitive(true);
            cfg = cfg.custom_headers(HashMap::from([(name, value)]));
        }
        let transport = StreamableHttpClientTransport::from_config(cfg);
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")),
        );
        let fut = info.serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            },
        );
        let running = tokio::time::timeout(self.connect_timeout, fut)
            .await
            .map_err(|_| UpstreamError::Timeout(self.connect_timeout.as_secs()))?
            .map_err(|e| {
                UpstreamError::Unreachable(
                    e.to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .chars()
                        .take(300)
                        .collect(),
                )
            })?;
        // A gateway must never answer from a stale cached tool list.
        running
            .set_response_cache_config(rmcp::ClientCacheConfig::disabled())
            .await;
        Ok(running)
    }

    /// A live client for `target`, connecting when needed.
    async fn conn(&self, target: &Target) -> Result<Arc<Conn>, UpstreamError> {
        let fp = target.fingerprint();
        {
            let conns = self.conns.lock().await;
            if let Some(c) = conns.get(&target.connector_id)
                && c.fingerprint == fp
                && !c.running.peer().is_transport_closed()
            {
                return Ok(c.clone());
            }
        }
        let running = self.connect(target).await?;
        let conn = Arc::new(Conn {
            fingerprint: fp,
            running,
        });
        self.conns
            .lock()
            .await
            .insert(target.connector_id, conn.clone());
        Ok(conn)
    }

    fn peer(conn: &Conn) -> Peer<RoleClient> {
        conn.running.peer().clone()
    }

    /// Drops the client of a connector (after it was changed or removed).
    pub async fn forget(&self, connector_id: Uuid) {
        self.conns.lock().await.remove(&connector_id);
    }

    /// Lists every tool the upstream offers (following pagination).
    pub async fn discover(&self, target: &Target) -> Result<Discovered, UpstreamError> {
        let started = Instant::now();
        // Discovery always starts from a fresh connection: it is also the
        // connection test the dashboard offers.
        self.forget(target.connector_id).await;
        let conn = self.conn(target).await?;
        let peer = Self::peer(&conn);
        let tools = tokio::time::timeout(self.call_timeout, peer.list_all_tools())
            .await
            .map_err(|_| UpstreamError::Timeout(self.call_timeout.as_secs()))?
            .map_err(|e| UpstreamError::Rejected(describe(&e)))?;
        let info = peer.peer_info();
        Ok(Discovered {
            tools,
            server_name: info
                .as_ref()
                .and_then(|i| i.server_info.as_ref().map(|s| s.name.clone())),
            protocol_version: info
                .as_ref()
                .map(|i| i.protocol_version.to_string())
                .unwrap_or_default(),
            elapsed: started.elapsed(),
        })
    }

    /// Calls one tool. Upstream tool-level errors (`isError: true`) are a
    /// normal result; protocol and transport failures are errors.
    pub async fn call(
        &self,
        target: &Target,
        tool: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, UpstreamError> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Some(a) = arguments {
            params = params.with_arguments(a);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let conn = self.conn(target).await?;
            let peer = Self::peer(&conn);
            match tokio::time::timeout(self.call_timeout, peer.call_tool(params.clone())).await {
                Err(_) => return Err(UpstreamError::Timeout(self.call_timeout.as_secs())),
                Ok(Ok(r)) => return Ok(r),
                Ok(Err(ServiceError::McpError(e))) => {
                    return Err(UpstreamError::Rejected(e.message.to_string()));
                }
                // A dead connection (upstream restarted): reconnect once.
                Ok(Err(e)) if attempt == 1 => {
                    tracing::info!(connector = %target.connector_id, error = %describe(&e), "upstream connection failed; reconnecting");
                    self.forget(target.connector_id).await;
                }
                Ok(Err(e)) => return Err(UpstreamError::Unreachable(describe(&e))),
            }
        }
    }
}
