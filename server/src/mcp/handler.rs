//! The MCP server handler: rmcp calls it for `tools/list` and `tools/call`
//! (both protocol eras; rmcp handles initialize, discover and sessions).

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ResultType, ServerCapabilities, ServerConfig,
};
use rmcp::model::{
    CancelTaskParams, CreateTaskResult, DetailedTask, GetTaskParams, GetTaskResult, Task,
    TaskPayload, TaskStatus, UpdateTaskParams,
};
use rmcp::model::{ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::gateway::{Answer, CallMeta, Error, Gateway, ProgressSink, TaskAnswer};
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

/// What the request says about itself. A session name that is not valid
/// is refused (not ignored: the run would silently split).
fn meta(cx: &RequestContext<RoleServer>) -> Result<CallMeta, McpError> {
    let parts = cx.extensions.get::<http::request::Parts>();
    let named = match cx.meta.get(shared::api::SESSION_META_KEY) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => Some(String::new()),
        None => parts
            .and_then(|p| p.headers.get(shared::api::SESSION_HEADER))
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default()),
    };
    let session_name = named
        .map(|n| shared::api::session_name(&n))
        .transpose()
        .map_err(|e| McpError::invalid_params(e, None))?;
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
    Ok(CallMeta {
        mcp_session_id: session,
        session_name,
        client_name: info.as_ref().map(|i| i.name.clone()),
        client_version: info.as_ref().map(|i| i.version.clone()),
        protocol_version: cx.protocol_version().map(|v| v.to_string()),
        progress: cx.meta.get_progress_token().map(|token| ProgressSink {
            peer: cx.peer.clone(),
            token,
        }),
        tasks: cx.client_capabilities().is_some_and(|c| c.supports_tasks()),
    })
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                // Held calls are answered as tasks to clients that declare
                // the tasks extension (others wait, see `Gateway::hold`).
                .enable_tasks()
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
        let meta = meta(&cx)?;
        match self
            .gateway
            .call_tool(&agent, &meta, &request.name, request.arguments)
            .await?
        {
            Answer::Result(result) => Ok(result.into()),
            Answer::Task {
                id,
                created_at,
                expires_at,
            } => Ok(CreateTaskResult::new(task(id, created_at, expires_at)).into()),
        }
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        let agent = agent(&cx)?;
        let meta = meta(&cx)?;
        // Another Registered User's task, or none: the same answer.
        let unknown =
            || McpError::invalid_params(format!("Unknown task: {}", request.task_id), None);
        let id: uuid::Uuid = request.task_id.parse().map_err(|_| unknown())?;
        let detailed = match self.gateway.task(&agent, &meta, id).await? {
            TaskAnswer::Unknown => return Err(unknown()),
            TaskAnswer::Working {
                id,
                created_at,
                expires_at,
            } => DetailedTask::new(task(id, created_at, expires_at), TaskPayload::Working),
            TaskAnswer::Completed(result) => {
                let now = self.gateway.clock.now().to_rfc3339();
                let result = match serde_json::to_value(&result) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => return Err(Error::CannotDecide.into()),
                };
                DetailedTask::new(
                    Task::new(id.to_string(), TaskStatus::Completed, now.clone(), now),
                    TaskPayload::Completed { result },
                )
            }
        };
        Ok(GetTaskResult::new(detailed))
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // A held call never asks the client for input: nothing to update.
        let _ = (agent(&cx)?, request);
        Ok(())
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let agent = agent(&cx)?;
        let unknown =
            || McpError::invalid_params(format!("Unknown task: {}", request.task_id), None);
        let id: uuid::Uuid = request.task_id.parse().map_err(|_| unknown())?;
        if self.gateway.cancel_task(&agent, id).await? {
            Ok(())
        } else {
            Err(unknown())
        }
    }
}

/// The task of a held call: working until a person decides; clients poll
/// every second (a decision is picked up on the next poll).
fn task(
    id: uuid::Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> Task {
    let ttl = (expires_at - created_at).num_milliseconds().max(0) as u64;
    Task::new(
        id.to_string(),
        TaskStatus::Working,
        created_at.to_rfc3339(),
        created_at.to_rfc3339(),
    )
    .with_status_message(format!(
        "Waiting for a person to approve this call (approval {id})."
    ))
    .with_ttl_ms(ttl)
    .with_poll_interval_ms(1000)
}
