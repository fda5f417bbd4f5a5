//! The backend port: everything the dashboard's server functions need from
//! the server, as one trait. The `server` crate implements it and provides
//! an `Arc<dyn Backend>` through Leptos context; this keeps the dependency
//! arrow pointing `server → web` and the server-fn bodies one line long.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::*;
use shared::account::{
    Invitation, InvitationCreated, InvitationPreview, Invite, Member, OrgMode, OrgName,
    OrgSettings, Role, SignUp, TenantCtx, Viewer,
};
use shared::api::{
    AgentKey, AgentKeyInput, AlertsQuery, AlertsSummary, ApiToken, ApiTokenInput, Approval,
    ApprovalDecision, ApprovalFilter, ApprovalSettings, CallFilter, ConnectionTest, Connector,
    ConnectorTool, CreatedSecret, DiscoveryReport, Enforcement, GitHubAppStatus,
    GitHubConnectStarted, NewConnector, NewRegisteredUser, NewToolPack, NewWebhook, OrgEvent,
    OverviewStats, PackDatabase, PackDatabaseInput, PackRepositories, PackRuleRow, PackTool, Page,
    PausedBehaviourInput, PolicyTestInput, PolicyTestResult, PostgresConnector,
    PostgresConnectorInput, PostgresConnectorSaved, RegisteredUser, RuleTestInput, RuleTestResult,
    RulesView, RuntimeSession, SessionDetail, SessionFilter, ToolCall, ToolCallDetail, ToolPack,
    ToolPoliciesView, ToolPolicy, ToolPolicyInput, Violation, ViolationFilter, Webhook,
    WebhookDelivery,
};
use shared::detect::{Entity, Region};
use shared::error::ApiError;
use shared::policy::{CustomRegexRule, CustomRuleInput, EntityRule, RuleOverride};
use uuid::Uuid;

use crate::error::AppError;

/// What the dashboard needs from the server. Request-bound methods take the
/// request parts (the session lives in their extensions); tenant-bound
/// methods take a [`TenantCtx`] that [`Backend::tenant`] verified.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in user and their current org, or `None` when signed out.
    async fn viewer(&self, req: &Parts) -> Result<Option<Viewer>, ApiError>;
    /// The verified tenant context of the request (signed in, member of the
    /// current org), or `Unauthenticated`.
    async fn tenant(&self, req: &Parts) -> Result<TenantCtx, ApiError>;
    /// True until the first organization exists.
    async fn needs_setup(&self) -> Result<bool, ApiError>;

    async fn sign_up(&self, req: &Parts, input: SignUp) -> Result<(), ApiError>;
    async fn sign_in(&self, req: &Parts, email: &str, password: &str) -> Result<(), ApiError>;
    async fn sign_out(&self, req: &Parts) -> Result<(), ApiError>;
    /// Changes the signed-in person's password; their other sessions end.
    async fn change_password(
        &self,
        req: &Parts,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), ApiError>;
    async fn switch_org(&self, req: &Parts, org_id: Uuid) -> Result<(), ApiError>;
    async fn create_org(&self, req: &Parts, name: OrgName) -> Result<(), ApiError>;

    async fn list_members(&self, t: &TenantCtx) -> Result<Vec<Member>, ApiError>;
    /// Invites an e-mail address; the link is returned once.
    async fn invite(&self, t: &TenantCtx, input: Invite) -> Result<InvitationCreated, ApiError>;
    async fn list_invitations(&self, t: &TenantCtx) -> Result<Vec<Invitation>, ApiError>;
    /// An owner's single-use link for a member to choose a new password.
    async fn reset_link(&self, t: &TenantCtx, user_id: Uuid) -> Result<String, ApiError>;
    /// Uses a reset link; signs the person in.
    async fn redeem_reset(&self, req: &Parts, token: &str, password: &str) -> Result<(), ApiError>;
    async fn revoke_invitation(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    /// What an invitation link invites to (no sign-in needed).
    async fn preview_invitation(&self, token: &str) -> Result<InvitationPreview, ApiError>;
    /// Accepts as the signed-in person; `password` given: signs in as the
    /// invited address first. The session then works in the org joined.
    async fn accept_invitation(
        &self,
        req: &Parts,
        token: &str,
        password: Option<&str>,
    ) -> Result<(), ApiError>;
    /// Accepts with a new account (the person's own password), signed in.
    async fn accept_invitation_new(
        &self,
        req: &Parts,
        token: &str,
        password: &str,
    ) -> Result<(), ApiError>;
    async fn set_member_role(
        &self,
        t: &TenantCtx,
        user_id: Uuid,
        role: Role,
    ) -> Result<(), ApiError>;
    async fn remove_member(&self, t: &TenantCtx, user_id: Uuid) -> Result<(), ApiError>;

    async fn org_settings(&self, t: &TenantCtx) -> Result<OrgSettings, ApiError>;
    async fn rename_org(&self, t: &TenantCtx, name: OrgName) -> Result<OrgSettings, ApiError>;
    async fn set_mode(&self, t: &TenantCtx, mode: OrgMode) -> Result<OrgSettings, ApiError>;
    async fn set_evidence(
        &self,
        t: &TenantCtx,
        input: shared::account::EvidenceInput,
    ) -> Result<OrgSettings, ApiError>;
    /// The public base URL agents connect to (for setup snippets).
    fn public_url(&self) -> String;

    // Connectors.
    async fn list_connectors(&self, t: &TenantCtx) -> Result<Vec<Connector>, ApiError>;
    async fn create_connector(
        &self,
        t: &TenantCtx,
        input: NewConnector,
    ) -> Result<(Connector, DiscoveryReport), ApiError>;
    async fn delete_connector(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn refresh_connector(&self, t: &TenantCtx, id: Uuid)
    -> Result<DiscoveryReport, ApiError>;
    // GitHub connector.
    async fn github_status(&self, t: &TenantCtx) -> Result<GitHubAppStatus, ApiError>;
    /// Starts "Connect GitHub" for this session (`req`).
    async fn start_github_connect(
        &self,
        req: &Parts,
        t: &TenantCtx,
        account: String,
    ) -> Result<GitHubConnectStarted, ApiError>;
    async fn pack_repositories(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
    ) -> Result<Vec<PackRepositories>, ApiError>;
    async fn set_pack_repositories(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
        connector_id: Uuid,
        repositories: Vec<String>,
    ) -> Result<Vec<PackRepositories>, ApiError>;
    // Postgres connectors.
    async fn list_databases(&self, t: &TenantCtx) -> Result<Vec<PostgresConnector>, ApiError>;
    /// Creates (`id` None) or replaces a Postgres connector; tests it.
    async fn save_database(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: PostgresConnectorInput,
    ) -> Result<PostgresConnectorSaved, ApiError>;
    async fn test_database(&self, t: &TenantCtx, id: Uuid) -> Result<ConnectionTest, ApiError>;
    async fn pack_databases(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
    ) -> Result<Vec<PackDatabase>, ApiError>;
    async fn set_pack_database(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
        input: PackDatabaseInput,
    ) -> Result<Vec<PackDatabase>, ApiError>;
    /// Discovered tools of one connector, or of all of them.
    async fn tools(
        &self,
        t: &TenantCtx,
        connector: Option<Uuid>,
    ) -> Result<Vec<ConnectorTool>, ApiError>;

    // Tool Packs.
    async fn list_packs(&self, t: &TenantCtx) -> Result<Vec<ToolPack>, ApiError>;
    async fn get_pack(&self, t: &TenantCtx, id: Uuid) -> Result<ToolPack, ApiError>;
    /// Creates (no id) or renames / re-describes a pack.
    async fn save_pack(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: NewToolPack,
    ) -> Result<ToolPack, ApiError>;
    async fn delete_pack(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn pack_tools(&self, t: &TenantCtx, id: Uuid) -> Result<Vec<PackTool>, ApiError>;
    async fn set_pack_tools(
        &self,
        t: &TenantCtx,
        id: Uuid,
        exposed: Vec<String>,
    ) -> Result<Vec<PackTool>, ApiError>;
    async fn pack_rules(&self, t: &TenantCtx, id: Uuid) -> Result<Vec<PackRuleRow>, ApiError>;
    async fn set_override(&self, t: &TenantCtx, id: Uuid, o: RuleOverride) -> Result<(), ApiError>;

    // Registered Users and agent keys.
    /// Registered Users by external id, `limit` at a time after `after`.
    async fn list_users(
        &self,
        t: &TenantCtx,
        search: Option<String>,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<RegisteredUser>, ApiError>;
    async fn save_user(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: NewRegisteredUser,
    ) -> Result<RegisteredUser, ApiError>;
    async fn delete_user(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn list_keys(&self, t: &TenantCtx, pack: Option<Uuid>)
    -> Result<Vec<AgentKey>, ApiError>;
    async fn create_key(
        &self,
        t: &TenantCtx,
        input: AgentKeyInput,
    ) -> Result<CreatedSecret<AgentKey>, ApiError>;
    async fn revoke_key(&self, t: &TenantCtx, id: Uuid) -> Result<AgentKey, ApiError>;

    // Admin API tokens.
    async fn list_api_tokens(&self, t: &TenantCtx) -> Result<Vec<ApiToken>, ApiError>;
    async fn create_api_token(
        &self,
        t: &TenantCtx,
        input: ApiTokenInput,
    ) -> Result<CreatedSecret<ApiToken>, ApiError>;
    async fn revoke_api_token(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;

    // Rules.
    async fn rules(&self, t: &TenantCtx) -> Result<RulesView, ApiError>;
    async fn set_entity_rule(&self, t: &TenantCtx, rule: EntityRule) -> Result<(), ApiError>;
    async fn reset_entity_rule(&self, t: &TenantCtx, entity: Entity) -> Result<(), ApiError>;
    async fn set_regions(&self, t: &TenantCtx, regions: Vec<Region>) -> Result<(), ApiError>;
    async fn save_custom_rule(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: CustomRuleInput,
    ) -> Result<CustomRegexRule, ApiError>;
    /// Checks a custom rule form without saving it (live validation).
    fn check_custom_rule(&self, t: &TenantCtx, input: CustomRuleInput) -> Result<(), ApiError>;
    async fn delete_custom_rule(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn test_rules(
        &self,
        t: &TenantCtx,
        input: RuleTestInput,
    ) -> Result<RuleTestResult, ApiError>;

    // Approvals.
    async fn approvals(&self, t: &TenantCtx, f: ApprovalFilter) -> Result<Vec<Approval>, ApiError>;
    async fn pending_approvals(&self, t: &TenantCtx) -> Result<i64, ApiError>;
    async fn decide_approval(
        &self,
        t: &TenantCtx,
        id: Uuid,
        d: ApprovalDecision,
    ) -> Result<Approval, ApiError>;
    async fn approval_settings(&self, t: &TenantCtx) -> Result<ApprovalSettings, ApiError>;
    async fn set_approval_settings(
        &self,
        t: &TenantCtx,
        s: ApprovalSettings,
    ) -> Result<ApprovalSettings, ApiError>;

    // Tool integrity.
    async fn tool_pins(&self, t: &TenantCtx) -> Result<Vec<shared::api::PinnedTool>, ApiError>;
    async fn tool_changes(
        &self,
        t: &TenantCtx,
        q: shared::api::ToolChangeQuery,
    ) -> Result<Vec<shared::api::ToolChange>, ApiError>;
    async fn tool_change(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<shared::api::ToolChangeDetail, ApiError>;
    async fn review_tool_change(
        &self,
        t: &TenantCtx,
        id: Uuid,
        d: shared::api::ToolReview,
    ) -> Result<shared::api::ToolChangeDetail, ApiError>;
    async fn tool_integrity(
        &self,
        t: &TenantCtx,
    ) -> Result<shared::api::ToolIntegritySettings, ApiError>;
    async fn set_tool_integrity(
        &self,
        t: &TenantCtx,
        s: shared::api::ToolIntegritySettings,
    ) -> Result<shared::api::ToolIntegritySettings, ApiError>;

    // Webhooks.
    async fn webhooks(&self, t: &TenantCtx) -> Result<Vec<Webhook>, ApiError>;
    async fn create_webhook(
        &self,
        t: &TenantCtx,
        input: NewWebhook,
    ) -> Result<CreatedSecret<Webhook>, ApiError>;
    async fn delete_webhook(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn webhook_deliveries(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<Vec<WebhookDelivery>, ApiError>;

    // Tool policies.
    async fn tool_policies(&self, t: &TenantCtx) -> Result<ToolPoliciesView, ApiError>;
    async fn save_tool_policy(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: ToolPolicyInput,
    ) -> Result<ToolPolicy, ApiError>;
    /// Checks a rule form without saving it (the condition compiled).
    fn check_tool_policy(&self, t: &TenantCtx, input: ToolPolicyInput) -> Result<(), ApiError>;
    async fn delete_tool_policy(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError>;
    async fn move_tool_policy(&self, t: &TenantCtx, id: Uuid, up: bool) -> Result<(), ApiError>;
    async fn set_default_tool_action(&self, t: &TenantCtx, action: String) -> Result<(), ApiError>;
    async fn test_tool_policies(
        &self,
        t: &TenantCtx,
        input: PolicyTestInput,
    ) -> Result<PolicyTestResult, ApiError>;

    // The decision trail.
    async fn violations(
        &self,
        t: &TenantCtx,
        f: ViolationFilter,
    ) -> Result<Page<Violation>, ApiError>;
    async fn calls(&self, t: &TenantCtx, f: CallFilter) -> Result<Page<ToolCall>, ApiError>;
    async fn call(&self, t: &TenantCtx, id: Uuid) -> Result<ToolCallDetail, ApiError>;
    async fn alerts(&self, t: &TenantCtx, q: AlertsQuery) -> Result<AlertsSummary, ApiError>;
    /// The alerts page's table: same window and filters as the chart.
    async fn alert_violations(
        &self,
        t: &TenantCtx,
        q: AlertsQuery,
        cursor: Option<String>,
    ) -> Result<Page<Violation>, ApiError>;
    async fn overview(&self, t: &TenantCtx) -> Result<OverviewStats, ApiError>;

    // Enforcement: plan, usage, Enforce Paused, the event list.
    async fn enforcement(&self, t: &TenantCtx) -> Result<Enforcement, ApiError>;
    async fn set_paused_behaviour(
        &self,
        t: &TenantCtx,
        input: PausedBehaviourInput,
    ) -> Result<Enforcement, ApiError>;
    async fn org_events(&self, t: &TenantCtx) -> Result<Vec<OrgEvent>, ApiError>;
    async fn retention(&self, t: &TenantCtx) -> Result<shared::api::RetentionStatus, ApiError>;
    async fn set_retention(
        &self,
        t: &TenantCtx,
        input: shared::api::RetentionInput,
    ) -> Result<shared::api::RetentionStatus, ApiError>;

    // Runtime sessions.
    async fn sessions(
        &self,
        t: &TenantCtx,
        f: SessionFilter,
    ) -> Result<Page<RuntimeSession>, ApiError>;
    async fn session(&self, t: &TenantCtx, id: Uuid) -> Result<SessionDetail, ApiError>;
}

/// The backend and this request's parts, from Leptos context.
pub fn request() -> Result<(Arc<dyn Backend>, Parts), AppError> {
    let backend = use_context::<Arc<dyn Backend>>();
    let parts = use_context::<Parts>();
    match (backend, parts) {
        (Some(b), Some(p)) => Ok((b, p)),
        // Only reachable if the server forgot to provide context: a bug.
        _ => Err(AppError(ApiError::internal())),
    }
}

/// The backend and the caller's verified tenant context.
pub async fn tenant() -> Result<(Arc<dyn Backend>, TenantCtx), AppError> {
    let (backend, parts) = request()?;
    let ctx = backend.tenant(&parts).await?;
    Ok((backend, ctx))
}
