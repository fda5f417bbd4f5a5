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

use crate::egress::EgressPolicy;

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
    #[error("the upstream server's answer is larger than the {0}-byte limit and was discarded")]
    TooLarge(usize),
    #[error("the upstream server's address is not allowed: {0}")]
    Forbidden(String),
}

impl UpstreamError {
    /// The outcome code recorded for the call.
    pub fn outcome(&self) -> shared::api::Outcome {
        use shared::api::Outcome;
        match self {
            UpstreamError::Unreachable(_) => Outcome::UpstreamUnreachable,
            UpstreamError::Timeout(_) => Outcome::UpstreamTimeout,
            UpstreamError::Rejected(_) => Outcome::UpstreamError,
            UpstreamError::TooLarge(_) => Outcome::UpstreamTooLarge,
            UpstreamError::Forbidden(_) => Outcome::UpstreamForbidden,
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

/// How upstream connections are made and bounded.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamLimits {
    pub call_timeout: Duration,
    /// Largest answer (one JSON body or one SSE event) read from an
    /// upstream; larger answers are discarded, never buffered whole.
    pub max_response_bytes: usize,
    pub egress: EgressPolicy,
}

pub struct UpstreamPool {
    /// Live clients by connector, the least recently used dropped beyond
    /// the capacity (memory must not grow with tenants; a dropped one
    /// reconnects on its next call, and a call in flight keeps its own).
    conns: Mutex<lru::LruCache<Uuid, Arc<Conn>>>,
    limits: UpstreamLimits,
    connect_timeout: Duration,
    /// One HTTP client for every connector (a clone shares it). A client
    /// per connection held its own TLS configuration and root store, about
    /// 0.2 MB per connector: 2 GB at 10,000 tenants (BENCHMARKS.md,
    /// tenants). Sharing exposes nothing across tenants: connector headers
    /// travel per request, the client keeps no cookies and no idle
    /// connections, and the egress checks run per connection.
    http: Result<reqwest::Client, String>,
}

/// Upstream error text is written by whoever runs the upstream, possibly
/// hostile: keep the first line, at most 300 characters. The data path
/// scans and redacts it before anyone sees it.
fn excerpt(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// rmcp reports an oversized answer as a transport error whose text names
/// the limit; recognise it so the agent is told why.
fn too_large(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("too large") || t.contains("toolarge") || t.contains("exceeded the maximum size")
}

fn describe(e: &ServiceError) -> String {
    match e {
        ServiceError::McpError(d) => excerpt(&d.message),
        // Transport errors can be long chains; keep the first line.
        other => excerpt(&other.to_string()),
    }
}

impl UpstreamPool {
    /// Keeps at most `capacity` connectors' clients.
    pub fn new(limits: UpstreamLimits, capacity: std::num::NonZeroUsize) -> Self {
        let connect_timeout = Duration::from_secs(10);
        Self {
            conns: Mutex::new(lru::LruCache::new(capacity)),
            limits,
            connect_timeout,
            http: limits
                .egress
                .client(connect_timeout)
                .map_err(|e| excerpt(&e.to_string())),
        }
    }

    async fn connect(
        &self,
        target: &Target,
    ) -> Result<RunningService<RoleClient, ClientConfig>, UpstreamError> {
        // Checked before every connection, for a clear error: IP literals
        // never reach a resolver, and a name's answer may have changed
        // since the connector was saved. The pinned client checks the
        // addresses it actually connects to again (that is the guarantee;
        // this is the message).
        let url = url::Url::parse(&target.url)
            .map_err(|_| UpstreamError::Forbidden("invalid URL".into()))?;
        self.limits
            .egress
            .check_url(&url)
            .await
            .map_err(|e| UpstreamError::Forbidden(e.to_string()))?;
        let client = self.http.clone().map_err(UpstreamError::Unreachable)?;
        let mut cfg = StreamableHttpClientTransportConfig::with_uri(target.url.clone())
            .max_sse_event_size(self.limits.max_response_bytes);
        if let Some((name, value)) = &target.header {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| UpstreamError::Rejected("invalid auth header name".into()))?;
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|_| UpstreamError::Rejected("invalid auth header value".into()))?;
            value.set_sensitive(true);
            cfg = cfg.custom_headers(HashMap::from([(name, value)]));
        }
        let transport = StreamableHttpClientTransport::with_client(client, cfg);
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
            .map_err(|e| classify(&e.to_string(), self.limits.max_response_bytes))?;
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
            let mut conns = self.conns.lock().await;
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
            .put(target.connector_id, conn.clone());
        Ok(conn)
    }

    fn peer(conn: &Conn) -> Peer<RoleClient> {
        conn.running.peer().clone()
    }

    /// Drops the client of a connector (after it was changed or removed).
    pub async fn forget(&self, connector_id: Uuid) {
        self.conns.lock().await.pop(&connector_id);
    }

    /// Lists every tool the upstream offers (following pagination).
    pub async fn discover(&self, target: &Target) -> Result<Discovered, UpstreamError> {
        let started = Instant::now();
        // Discovery always starts from a fresh connection: it is also the
        // connection test the dashboard offers.
        self.forget(target.connector_id).await;
        let conn = self.conn(target).await?;
        let peer = Self::peer(&conn);
        let tools = tokio::time::timeout(self.limits.call_timeout, peer.list_all_tools())
            .await
            .map_err(|_| UpstreamError::Timeout(self.limits.call_timeout.as_secs()))?
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
            match tokio::time::timeout(self.limits.call_timeout, peer.call_tool(params.clone()))
                .await
            {
                Err(_) => return Err(UpstreamError::Timeout(self.limits.call_timeout.as_secs())),
                Ok(Ok(r)) => return self.within_limit(r),
                Ok(Err(ServiceError::McpError(e))) => {
                    return Err(UpstreamError::Rejected(excerpt(&e.message)));
                }
                // An oversized answer: never retried (the tool ran once).
                Ok(Err(e)) if too_large(&e.to_string()) => {
                    self.forget(target.connector_id).await;
                    return Err(UpstreamError::TooLarge(self.limits.max_response_bytes));
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

    /// rmcp bounds each SSE event by the limit but a plain JSON answer by
    /// its own 16 MiB: hold every answer to the configured limit.
    fn within_limit(&self, r: CallToolResult) -> Result<CallToolResult, UpstreamError> {
        let max = self.limits.max_response_bytes;
        match serde_json::to_vec(&r) {
            Ok(v) if v.len() <= max => Ok(r),
            _ => Err(UpstreamError::TooLarge(max)),
        }
    }
}

/// Maps a connection failure to what the admin or agent can act on.
fn classify(text: &str, max: usize) -> UpstreamError {
    if too_large(text) {
        UpstreamError::TooLarge(max)
    } else {
        UpstreamError::Unreachable(excerpt(text))
    }
}
