//! The MCP server handler: rmcp calls it for `tools/list` and `tools/call`
//! (both protocol eras; rmcp handles initialize, discover and sessions).

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ResultType, ServerCapabilities, ServerConfig,
};
use rmcp::model::{ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::gateway::{CallMeta, Error, Gateway, ProgressSink};
use crate::service::data_path::AgentCtx;

#[derive(Clone)]
pub struct GatewayHandler {
    pub gateway: Arc<Gateway>,
}

/// The verified agent of this request (set by the bearer middleware on
/// every POST, in both eras).
fn agent(cx: &RequestContext<RoleServer>) -> Result<AgentCtx, McpError> {
    cx.extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<AgentCtx>())
        .cloned()
        .ok_or_else(|| Error::NotAuthenticated.into())
}

fn meta(cx: &RequestContext<RoleServer>) -> CallMeta {
    let parts = cx.extensions.get::<http::request::Parts>();
    let session = parts
        .and_then(|p| p.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // rmcp substitutes a placeholder when a stateless client sends no
    // clientInfo; only record what the client actually said.
    let info = cx
        .meta
        .client_info()
        .or_else(|| session.as_ref().and_then(|_| cx.client_info()));
    CallMeta {
        mcp_session_id: session,
        client_name: info.as_ref().map(|i| i.name.clone()),
        client_version: info.as_ref().map(|i| i.version.clone()),
        protocol_version: cx.protocol_version().map(|v| v.to_string()),
        progress: cx.meta.get_progress_token().map(|token| ProgressSink {
            peer: cx.peer.clone(),
            token,
        }),
    }
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("gatehouse", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Tools of your Gatehouse Tool Pack. Calls are checked against your organization's \
                 policies; sensitive values may be redacted or calls blocked.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let agent = agent(&cx)?;
        let tools = self.gateway.list_tools(&agent).await?;
        let mut res = ListToolsResult::with_all_items(tools).with_cache_scope(CacheScope::Private);
        res.result_type = Some(ResultType::COMPLETE);
        Ok(res)
    }

    // Gatehouse relays tools only; it declares prompts and resources with
    // empty lists so clients that probe them get a well-formed answer
    // (with caching hints) rather than an undeclared capability.
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        agent(&cx)?;
        let mut r = ListPromptsResult::with_all_items(vec![]).with_cache_scope(CacheScope::Private);
        r.result_type = Some(ResultType::COMPLETE);
        Ok(r)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        agent(&cx)?;
        let mut r =
            ListResourcesResult::with_all_items(vec![]).with_cache_scope(CacheScope::Private);
        r.result_type = Some(ResultType::COMPLETE);
        Ok(r)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        agent(&cx)?;
        let mut r = ListResourceTemplatesResult::with_all_items(vec![])
            .with_cache_scope(CacheScope::Private);
        r.result_type = Some(ResultType::COMPLETE);
        Ok(r)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let agent = agent(&cx)?;
        let meta = meta(&cx);
        let result = self
            .gateway
            .call_tool(&agent, &meta, &request.name, request.arguments)
            .await?;
        Ok(result.into())
    }
}
