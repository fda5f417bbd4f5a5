//! The server's implementation of the dashboard's backend port: resolve the
//! session into a verified tenant context, then call the service layer.

use std::net::SocketAddr;

use async_trait::async_trait;
use axum::extract::ConnectInfo;
use http::request::Parts;
use shared::account::{
    Actor, Invitation, InvitationCreated, InvitationPreview, Invite, Member, OrgMode, OrgName,
    OrgSettings, Role, SignUp, TenantCtx, Viewer,
};
use shared::api::{
    AgentKey, AgentKeyInput, AlertsQuery, AlertsSummary, ApiToken, ApiTokenInput, Approval,
    ApprovalDecision, ApprovalFilter, ApprovalSettings, CallFilter, Connector, ConnectorTool,
    CreatedSecret, DiscoveryReport, Enforcement, GitHubAppStatus, GitHubConnectStarted,
    NewConnector, NewRegisteredUser, NewToolPack, NewWebhook, OrgEvent, OverviewStats,
    PackRepositories, PackRuleRow, PackTool, Page, PausedBehaviourInput, PolicyTestInput,
    PolicyTestResult, RegisteredUser, RuleTestInput, RuleTestResult, RulesView, RuntimeSession,
    SessionDetail, SessionFilter, ToolCall, ToolCallDetail, ToolPack, ToolPoliciesView, ToolPolicy,
    ToolPolicyInput, Violation, ViolationFilter, Webhook, WebhookDelivery,
};
use shared::detect::{Entity, Region};
use shared::error::ApiError;
use shared::policy::{CustomRegexRule, CustomRuleInput, EntityRule, RuleOverride};
use tower_sessions::Session;
use uuid::Uuid;
use web::port::Backend;

use crate::service::{
    accounts, agent_keys, api_tokens, approvals, connectors, enforcement, integrity, invitations,
    packs, records, registered_users, resets, retention, rules, sessions, tester, tool_policies,
    webhooks,
};
use crate::session::{self, SessionAuth};
use crate::state::AppState;

pub struct WebBackend(pub AppState);

fn session_of(req: &Parts) -> Result<&Session, ApiError> {
    req.extensions.get::<Session>().ok_or_else(|| {
        tracing::error!("session layer missing on a dashboard route");
        ApiError::internal()
    })
}

/// The dashboard session's id, hashed (binds a GitHub connect state to
/// the browser session that started it).
pub async fn session_marker(req: &Parts) -> Result<Vec<u8>, ApiError> {
    let session = session_of(req)?;
    let id = session.id().ok_or_else(ApiError::unauthenticated)?;
    Ok(crate::service::github::session_marker(&id.to_string()))
}

impl WebBackend {
    /// The signed-in user and current org, repairing the session when the
    /// user was removed from the org (or deleted) since signing in.
    async fn resolve(&self, req: &Parts) -> Result<Option<Viewer>, ApiError> {
        let db = &self.0.db;
        let session = session_of(req)?;
        let Some(auth) = session::read(session).await? else {
            return Ok(None);
        };
        // One read: the account may be gone, or its password changed
        // since this session signed in.
        let email = match accounts::account(db, auth.user_id).await? {
            Some((email, generation))
                if generation == auth.generation
                    && !auth.expired(self.0.clock.now(), self.0.config.session_max_age) =>
            {
                email
            }
            _ => {
                session::sign_out(session).await?;
                return Ok(None);
            }
        };
        let orgs = accounts::user_orgs(db, auth.user_id).await?;
        let current = auth
            .org_id
            .and_then(|id| orgs.iter().find(|o| o.org_id == id))
            .or_else(|| orgs.first())
            .cloned();
        let current_id = current.as_ref().map(|c| c.org_id);
        if current_id != auth.org_id {
            session::set_org(session, current_id).await?;
        }
        let effective_mode = match current_id {
            Some(org) => Some(
                enforcement::effective_mode(db, &self.0.config.plans, org, self.0.clock.now())
                    .await?,
            ),
            None => None,
        };
        Ok(Some(Viewer {
            user_id: auth.user_id,
            email,
            current,
            orgs,
            effective_mode,
        }))
    }
}

impl WebBackend {
    /// Starts a signed-in session under a fresh id (see `session::sign_in`).
    async fn start_session(
        &self,
        req: &Parts,
        user_id: Uuid,
        org_id: Option<Uuid>,
        generation: i32,
    ) -> Result<(), ApiError> {
        let auth = SessionAuth {
            user_id,
            org_id,
            signed_in_at: self.0.clock.now(),
            generation,
        };
        Ok(session::sign_in(session_of(req)?, auth).await?)
    }

    /// Makes `org_id` the session's current org and the one the person
    /// lands on next time.
    async fn enter_org(&self, req: &Parts, user_id: Uuid, org_id: Uuid) -> Result<(), ApiError> {
        session::set_org(session_of(req)?, Some(org_id)).await?;
        Ok(accounts::remember_org(&self.0.db, user_id, org_id).await?)
    }
}

#[async_trait]
impl Backend for WebBackend {
    async fn viewer(&self, req: &Parts) -> Result<Option<Viewer>, ApiError> {
        self.resolve(req).await
    }

    async fn tenant(&self, req: &Parts) -> Result<TenantCtx, ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let current = viewer.current.ok_or_else(ApiError::unauthenticated)?;
        Ok(TenantCtx {
            org_id: current.org_id,
            role: current.role,
            actor: Actor::Member {
                user_id: viewer.user_id,
            },
        })
    }

    async fn needs_setup(&self) -> Result<bool, ApiError> {
        Ok(accounts::needs_setup(&self.0.db).await?)
    }

    async fn sign_up(&self, req: &Parts, input: SignUp) -> Result<(), ApiError> {
        let client = req
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let now = self.0.clock.now();
        accounts::sign_up_allowed(&self.0.db, now, client).await?;
        let (user_id, org_id) = accounts::register(&self.0.db, now, &input, client).await?;
        accounts::remember_org(&self.0.db, user_id, org_id).await?;
        let generation = accounts::account(&self.0.db, user_id)
            .await?
            .map_or(0, |(_, generation)| generation);
        self.start_session(req, user_id, Some(org_id), generation)
            .await
    }

    async fn sign_in(&self, req: &Parts, email: &str, password: &str) -> Result<(), ApiError> {
        let client = req
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let now = self.0.clock.now();
        let user_id = accounts::authenticate(&self.0.db, now, email, password, client).await?;
        let generation = accounts::account(&self.0.db, user_id)
            .await?
            .map_or(0, |(_, generation)| generation);
        let org_id = accounts::landing_org(&self.0.db, user_id).await?;
        self.start_session(req, user_id, org_id, generation).await
    }

    async fn sign_out(&self, req: &Parts) -> Result<(), ApiError> {
        Ok(session::sign_out(session_of(req)?).await?)
    }

    async fn change_password(
        &self,
        req: &Parts,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let now = self.0.clock.now();
        let generation = accounts::change_password(
            &self.0.db,
            now,
            viewer.user_id,
            current_password,
            new_password,
        )
        .await?;
        // This session carries on, as a fresh sign-in; all others end.
        let org_id = viewer.current.map(|c| c.org_id);
        self.start_session(req, viewer.user_id, org_id, generation)
            .await
    }

    async fn switch_org(&self, req: &Parts, org_id: Uuid) -> Result<(), ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        // Not a member reads exactly like an org that does not exist.
        accounts::role_in(&self.0.db, viewer.user_id, org_id)
            .await?
            .ok_or_else(|| ApiError::not_found("organization"))?;
        self.enter_org(req, viewer.user_id, org_id).await
    }

    async fn create_org(&self, req: &Parts, name: OrgName) -> Result<(), ApiError> {
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let org_id = accounts::create_org(&self.0.db, viewer.user_id, &name).await?;
        self.enter_org(req, viewer.user_id, org_id).await
    }

    async fn list_members(&self, t: &TenantCtx) -> Result<Vec<Member>, ApiError> {
        Ok(accounts::list_members(&self.0.db, t).await?)
    }

    async fn invite(&self, t: &TenantCtx, input: Invite) -> Result<InvitationCreated, ApiError> {
        let (invitation, secret) =
            invitations::create(&self.0.db, t, self.0.clock.now(), &input).await?;
        Ok(InvitationCreated {
            invitation,
            link: format!("{}/invite/{secret}", self.0.config.public_base()),
        })
    }

    async fn reset_link(&self, t: &TenantCtx, user_id: Uuid) -> Result<String, ApiError> {
        let secret = resets::create(&self.0.db, t, self.0.clock.now(), user_id).await?;
        Ok(format!("{}/reset/{secret}", self.0.config.public_base()))
    }

    async fn redeem_reset(&self, req: &Parts, token: &str, password: &str) -> Result<(), ApiError> {
        let now = self.0.clock.now();
        let (user_id, org_id, generation) =
            resets::redeem(&self.0.db, now, token, password).await?;
        self.start_session(req, user_id, Some(org_id), generation)
            .await
    }

    async fn list_invitations(&self, t: &TenantCtx) -> Result<Vec<Invitation>, ApiError> {
        Ok(invitations::list(&self.0.db, t, self.0.clock.now()).await?)
    }

    async fn revoke_invitation(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(invitations::revoke(&self.0.db, t, self.0.clock.now(), id).await?)
    }

    async fn preview_invitation(&self, token: &str) -> Result<InvitationPreview, ApiError> {
        Ok(invitations::preview(&self.0.db, self.0.clock.now(), token).await?)
    }

    async fn accept_invitation(
        &self,
        req: &Parts,
        token: &str,
        password: Option<&str>,
    ) -> Result<(), ApiError> {
        let now = self.0.clock.now();
        if let Some(password) = password {
            // Signing in here is signing in: same checks and throttles.
            let preview = invitations::preview(&self.0.db, now, token).await?;
            self.sign_in(req, &preview.email, password).await?;
        }
        let viewer = self
            .resolve(req)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let org_id = invitations::accept(&self.0.db, now, token, viewer.user_id).await?;
        session::set_org(session_of(req)?, Some(org_id)).await?;
        Ok(())
    }

    async fn accept_invitation_new(
        &self,
        req: &Parts,
        token: &str,
        password: &str,
    ) -> Result<(), ApiError> {
        let now = self.0.clock.now();
        let (user_id, org_id) = invitations::accept_new(&self.0.db, now, token, password).await?;
        self.start_session(req, user_id, Some(org_id), 0).await
    }

    async fn set_member_role(
        &self,
        t: &TenantCtx,
        user_id: Uuid,
        role: Role,
    ) -> Result<(), ApiError> {
        Ok(accounts::set_member_role(&self.0.db, t, user_id, role).await?)
    }

    async fn remove_member(&self, t: &TenantCtx, user_id: Uuid) -> Result<(), ApiError> {
        Ok(accounts::remove_member(&self.0.db, t, self.0.clock.now(), user_id).await?)
    }

    async fn org_settings(&self, t: &TenantCtx) -> Result<OrgSettings, ApiError> {
        Ok(accounts::org_settings(&self.0.db, t).await?)
    }

    async fn rename_org(&self, t: &TenantCtx, name: OrgName) -> Result<OrgSettings, ApiError> {
        Ok(accounts::rename_org(&self.0.db, t, &name).await?)
    }

    async fn set_mode(&self, t: &TenantCtx, mode: OrgMode) -> Result<OrgSettings, ApiError> {
        Ok(accounts::set_mode(&self.0.db, t, self.0.clock.now(), mode).await?)
    }

    async fn set_evidence(
        &self,
        t: &TenantCtx,
        input: shared::account::EvidenceInput,
    ) -> Result<OrgSettings, ApiError> {
        Ok(accounts::set_evidence(&self.0.db, t, input).await?)
    }

    fn public_url(&self) -> String {
        self.0.config.public_base()
    }

    async fn list_connectors(&self, t: &TenantCtx) -> Result<Vec<Connector>, ApiError> {
        Ok(connectors::list(&self.0.db, t).await?)
    }

    async fn create_connector(
        &self,
        t: &TenantCtx,
        input: NewConnector,
    ) -> Result<(Connector, DiscoveryReport), ApiError> {
        Ok(connectors::create(&self.0.connector_deps(), t, &input).await?)
    }

    async fn delete_connector(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(connectors::delete(&self.0.connector_deps(), t, id).await?)
    }

    async fn list_databases(
        &self,
        t: &TenantCtx,
    ) -> Result<Vec<shared::api::PostgresConnector>, ApiError> {
        Ok(crate::service::databases::list(&self.0.db, t).await?)
    }

    async fn save_database(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: shared::api::PostgresConnectorInput,
    ) -> Result<shared::api::PostgresConnectorSaved, ApiError> {
        let all = self.0.connector_deps();
        let deps = all.databases();
        Ok(match id {
            Some(id) => crate::service::databases::update(&deps, t, id, &input).await?,
            None => crate::service::databases::create(&deps, t, &input).await?,
        })
    }

    async fn test_database(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<shared::api::ConnectionTest, ApiError> {
        Ok(crate::service::databases::test(&self.0.connector_deps().databases(), t, id).await?)
    }

    async fn pack_databases(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
    ) -> Result<Vec<shared::api::PackDatabase>, ApiError> {
        Ok(crate::service::databases::pack_databases(&self.0.db, t, pack_id).await?)
    }

    async fn set_pack_database(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
        input: shared::api::PackDatabaseInput,
    ) -> Result<Vec<shared::api::PackDatabase>, ApiError> {
        Ok(crate::service::databases::set_pack_database(&self.0.db, t, pack_id, &input).await?)
    }

    async fn github_status(&self, t: &TenantCtx) -> Result<GitHubAppStatus, ApiError> {
        Ok(crate::service::github::status(&self.0.db, t).await?)
    }

    async fn start_github_connect(
        &self,
        req: &Parts,
        t: &TenantCtx,
        account: String,
    ) -> Result<GitHubConnectStarted, ApiError> {
        let marker = session_marker(req).await?;
        Ok(crate::service::github::start_connect(
            &self.0.db,
            &self.0.keyring,
            t,
            self.0.clock.now(),
            &marker,
            &account,
        )
        .await?)
    }

    async fn pack_repositories(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
    ) -> Result<Vec<PackRepositories>, ApiError> {
        Ok(crate::service::github::pack_repositories(&self.0.db, t, pack_id).await?)
    }

    async fn set_pack_repositories(
        &self,
        t: &TenantCtx,
        pack_id: Uuid,
        connector_id: Uuid,
        repositories: Vec<String>,
    ) -> Result<Vec<PackRepositories>, ApiError> {
        Ok(crate::service::github::set_pack_repositories(
            &self.0.db,
            t,
            pack_id,
            connector_id,
            &repositories,
        )
        .await?)
    }

    async fn refresh_connector(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<DiscoveryReport, ApiError> {
        Ok(connectors::refresh(&self.0.connector_deps(), t, id).await?)
    }

    async fn tools(
        &self,
        t: &TenantCtx,
        connector: Option<Uuid>,
    ) -> Result<Vec<ConnectorTool>, ApiError> {
        Ok(connectors::tools(&self.0.db, t, connector).await?)
    }

    async fn list_packs(&self, t: &TenantCtx) -> Result<Vec<ToolPack>, ApiError> {
        Ok(packs::list(&self.0.db, t).await?)
    }

    async fn get_pack(&self, t: &TenantCtx, id: Uuid) -> Result<ToolPack, ApiError> {
        Ok(packs::get(&self.0.db, t, id).await?)
    }

    async fn save_pack(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: NewToolPack,
    ) -> Result<ToolPack, ApiError> {
        Ok(packs::save(&self.0.db, t, id, &input).await?)
    }

    async fn delete_pack(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(packs::delete(&self.0.db, t, id).await?)
    }

    async fn pack_tools(&self, t: &TenantCtx, id: Uuid) -> Result<Vec<PackTool>, ApiError> {
        Ok(packs::tools(&self.0.db, t, id).await?)
    }

    async fn set_pack_tools(
        &self,
        t: &TenantCtx,
        id: Uuid,
        exposed: Vec<String>,
    ) -> Result<Vec<PackTool>, ApiError> {
        Ok(packs::set_tools(
            &self.0.db,
            t,
            self.0.clock.now(),
            &self.0.config.public_base(),
            id,
            &exposed,
        )
        .await?)
    }

    async fn pack_rules(&self, t: &TenantCtx, id: Uuid) -> Result<Vec<PackRuleRow>, ApiError> {
        Ok(packs::rule_rows(&self.0.db, t, id).await?)
    }

    async fn set_override(&self, t: &TenantCtx, id: Uuid, o: RuleOverride) -> Result<(), ApiError> {
        Ok(packs::set_override(&self.0.db, t, id, &o).await?)
    }

    async fn list_users(
        &self,
        t: &TenantCtx,
        search: Option<String>,
        after: Option<String>,
        limit: i64,
    ) -> Result<Vec<RegisteredUser>, ApiError> {
        Ok(
            registered_users::list(&self.0.db, t, search.as_deref(), after.as_deref(), limit)
                .await?,
        )
    }

    async fn save_user(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: NewRegisteredUser,
    ) -> Result<RegisteredUser, ApiError> {
        Ok(registered_users::save(&self.0.db, t, id, &input).await?)
    }

    async fn delete_user(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(registered_users::delete(&self.0.db, t, id).await?)
    }

    async fn list_keys(
        &self,
        t: &TenantCtx,
        pack: Option<Uuid>,
    ) -> Result<Vec<AgentKey>, ApiError> {
        Ok(agent_keys::list(&self.0.db, t, pack, None).await?)
    }

    async fn create_key(
        &self,
        t: &TenantCtx,
        input: AgentKeyInput,
    ) -> Result<CreatedSecret<AgentKey>, ApiError> {
        Ok(agent_keys::create(&self.0.db, t, &input).await?)
    }

    async fn revoke_key(&self, t: &TenantCtx, id: Uuid) -> Result<AgentKey, ApiError> {
        Ok(agent_keys::revoke(&self.0.db, t, self.0.clock.now(), id).await?)
    }

    async fn list_api_tokens(&self, t: &TenantCtx) -> Result<Vec<ApiToken>, ApiError> {
        Ok(api_tokens::list(&self.0.db, t, self.0.clock.now()).await?)
    }

    async fn create_api_token(
        &self,
        t: &TenantCtx,
        input: ApiTokenInput,
    ) -> Result<CreatedSecret<ApiToken>, ApiError> {
        Ok(api_tokens::create(&self.0.db, t, self.0.clock.now(), &input).await?)
    }

    async fn revoke_api_token(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(api_tokens::revoke(&self.0.db, t, self.0.clock.now(), id).await?)
    }

    async fn rules(&self, t: &TenantCtx) -> Result<RulesView, ApiError> {
        Ok(rules::view(&self.0.db, t).await?)
    }

    async fn set_entity_rule(&self, t: &TenantCtx, rule: EntityRule) -> Result<(), ApiError> {
        Ok(rules::set_entity_rule(&self.0.db, t, &rule).await?)
    }

    async fn reset_entity_rule(&self, t: &TenantCtx, entity: Entity) -> Result<(), ApiError> {
        Ok(rules::reset_entity_rule(&self.0.db, t, entity).await?)
    }

    async fn set_regions(&self, t: &TenantCtx, regions: Vec<Region>) -> Result<(), ApiError> {
        Ok(rules::set_regions(&self.0.db, t, &regions).await?)
    }

    async fn save_custom_rule(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: CustomRuleInput,
    ) -> Result<CustomRegexRule, ApiError> {
        Ok(rules::save_custom_rule(&self.0.db, t, id, &input).await?)
    }

    fn check_custom_rule(&self, t: &TenantCtx, input: CustomRuleInput) -> Result<(), ApiError> {
        Ok(rules::check_custom_rule(t, &input)?)
    }

    async fn delete_custom_rule(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(rules::delete_custom_rule(&self.0.db, t, id).await?)
    }

    async fn test_rules(
        &self,
        t: &TenantCtx,
        input: RuleTestInput,
    ) -> Result<RuleTestResult, ApiError> {
        Ok(tester::test(&self.0.db, &self.0.gateway.scanning, t, &input).await?)
    }

    async fn approvals(&self, t: &TenantCtx, f: ApprovalFilter) -> Result<Vec<Approval>, ApiError> {
        Ok(approvals::list(&self.0.db, t, self.0.clock.now(), &f).await?)
    }

    async fn pending_approvals(&self, t: &TenantCtx) -> Result<i64, ApiError> {
        Ok(approvals::pending_count(&self.0.db, t, self.0.clock.now()).await?)
    }

    async fn decide_approval(
        &self,
        t: &TenantCtx,
        id: Uuid,
        d: ApprovalDecision,
    ) -> Result<Approval, ApiError> {
        Ok(approvals::decide(&self.0.db, t, self.0.clock.now(), id, &d).await?)
    }

    async fn tool_pins(&self, t: &TenantCtx) -> Result<Vec<shared::api::PinnedTool>, ApiError> {
        Ok(integrity::pins(&self.0.db, t).await?)
    }

    async fn tool_changes(
        &self,
        t: &TenantCtx,
        q: shared::api::ToolChangeQuery,
    ) -> Result<Vec<shared::api::ToolChange>, ApiError> {
        Ok(integrity::changes(&self.0.db, t, &q).await?)
    }

    async fn tool_change(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<shared::api::ToolChangeDetail, ApiError> {
        Ok(integrity::change(&self.0.db, t, id).await?)
    }

    async fn review_tool_change(
        &self,
        t: &TenantCtx,
        id: Uuid,
        d: shared::api::ToolReview,
    ) -> Result<shared::api::ToolChangeDetail, ApiError> {
        Ok(integrity::review(&self.0.db, t, self.0.clock.now(), id, d).await?)
    }

    async fn tool_integrity(
        &self,
        t: &TenantCtx,
    ) -> Result<shared::api::ToolIntegritySettings, ApiError> {
        Ok(integrity::settings(&self.0.db, t).await?)
    }

    async fn set_tool_integrity(
        &self,
        t: &TenantCtx,
        s: shared::api::ToolIntegritySettings,
    ) -> Result<shared::api::ToolIntegritySettings, ApiError> {
        Ok(integrity::set_settings(&self.0.db, t, s).await?)
    }

    async fn approval_settings(&self, t: &TenantCtx) -> Result<ApprovalSettings, ApiError> {
        Ok(approvals::settings(&self.0.db, t).await?)
    }

    async fn set_approval_settings(
        &self,
        t: &TenantCtx,
        s: ApprovalSettings,
    ) -> Result<ApprovalSettings, ApiError> {
        Ok(approvals::set_settings(&self.0.db, t, &s).await?)
    }

    async fn webhooks(&self, t: &TenantCtx) -> Result<Vec<Webhook>, ApiError> {
        Ok(webhooks::list(&self.0.db, t).await?)
    }

    async fn create_webhook(
        &self,
        t: &TenantCtx,
        input: NewWebhook,
    ) -> Result<CreatedSecret<Webhook>, ApiError> {
        Ok(webhooks::create(
            &self.0.db,
            &self.0.keyring,
            &self.0.config.egress(),
            t,
            &input,
        )
        .await?)
    }

    async fn delete_webhook(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(webhooks::delete(&self.0.db, t, id).await?)
    }

    async fn webhook_deliveries(
        &self,
        t: &TenantCtx,
        id: Uuid,
    ) -> Result<Vec<WebhookDelivery>, ApiError> {
        Ok(webhooks::deliveries(&self.0.db, t, id).await?)
    }

    async fn tool_policies(&self, t: &TenantCtx) -> Result<ToolPoliciesView, ApiError> {
        Ok(tool_policies::view(&self.0.db, t).await?)
    }

    async fn save_tool_policy(
        &self,
        t: &TenantCtx,
        id: Option<Uuid>,
        input: ToolPolicyInput,
    ) -> Result<ToolPolicy, ApiError> {
        Ok(tool_policies::save(&self.0.db, t, id, &input).await?)
    }

    fn check_tool_policy(&self, t: &TenantCtx, input: ToolPolicyInput) -> Result<(), ApiError> {
        Ok(tool_policies::check(t, &input)?)
    }

    async fn delete_tool_policy(&self, t: &TenantCtx, id: Uuid) -> Result<(), ApiError> {
        Ok(tool_policies::delete(&self.0.db, t, id).await?)
    }

    async fn move_tool_policy(&self, t: &TenantCtx, id: Uuid, up: bool) -> Result<(), ApiError> {
        Ok(tool_policies::move_rule(&self.0.db, t, id, up).await?)
    }

    async fn set_default_tool_action(&self, t: &TenantCtx, action: String) -> Result<(), ApiError> {
        Ok(tool_policies::set_default(&self.0.db, t, &action).await?)
    }

    async fn test_tool_policies(
        &self,
        t: &TenantCtx,
        input: PolicyTestInput,
    ) -> Result<PolicyTestResult, ApiError> {
        Ok(tool_policies::test(&self.0.db, &self.0.gateway.scanning, t, &input).await?)
    }

    async fn violations(
        &self,
        t: &TenantCtx,
        f: ViolationFilter,
    ) -> Result<Page<Violation>, ApiError> {
        Ok(records::violations(&self.0.db, t, &f).await?)
    }

    async fn calls(&self, t: &TenantCtx, f: CallFilter) -> Result<Page<ToolCall>, ApiError> {
        Ok(records::calls(&self.0.db, t, &f).await?)
    }

    async fn call(&self, t: &TenantCtx, id: Uuid) -> Result<ToolCallDetail, ApiError> {
        Ok(records::call(&self.0.db, t, self.0.clock.now(), id).await?)
    }

    async fn alerts(&self, t: &TenantCtx, q: AlertsQuery) -> Result<AlertsSummary, ApiError> {
        Ok(records::alerts(&self.0.db, t, self.0.clock.now(), &q).await?)
    }

    async fn alert_violations(
        &self,
        t: &TenantCtx,
        q: AlertsQuery,
        cursor: Option<String>,
    ) -> Result<Page<Violation>, ApiError> {
        Ok(records::alert_violations(&self.0.db, t, self.0.clock.now(), &q, cursor).await?)
    }

    async fn overview(&self, t: &TenantCtx) -> Result<OverviewStats, ApiError> {
        Ok(records::overview(&self.0.db, t, self.0.clock.now()).await?)
    }

    async fn enforcement(&self, t: &TenantCtx) -> Result<Enforcement, ApiError> {
        Ok(enforcement::of_tenant(&self.0.db, t, &self.0.config.plans, self.0.clock.now()).await?)
    }

    async fn set_paused_behaviour(
        &self,
        t: &TenantCtx,
        input: PausedBehaviourInput,
    ) -> Result<Enforcement, ApiError> {
        Ok(enforcement::set_paused_behaviour(
            &self.0.db,
            t,
            &self.0.config.plans,
            self.0.clock.now(),
            input,
        )
        .await?)
    }

    async fn org_events(&self, t: &TenantCtx) -> Result<Vec<OrgEvent>, ApiError> {
        Ok(enforcement::events(&self.0.db, t, 50).await?)
    }

    async fn retention(&self, t: &TenantCtx) -> Result<shared::api::RetentionStatus, ApiError> {
        Ok(retention::status(&self.0.db, t, self.0.config.retention_days).await?)
    }

    async fn set_retention(
        &self,
        t: &TenantCtx,
        input: shared::api::RetentionInput,
    ) -> Result<shared::api::RetentionStatus, ApiError> {
        let now = self.0.clock.now();
        Ok(retention::set(&self.0.db, t, now, self.0.config.retention_days, input).await?)
    }

    async fn sessions(
        &self,
        t: &TenantCtx,
        f: SessionFilter,
    ) -> Result<Page<RuntimeSession>, ApiError> {
        Ok(sessions::list(&self.0.db, t, &f).await?)
    }

    async fn session(&self, t: &TenantCtx, id: Uuid) -> Result<SessionDetail, ApiError> {
        Ok(sessions::get(&self.0.db, t, self.0.clock.now(), id).await?)
    }
}
