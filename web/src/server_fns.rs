//! Server functions: the dashboard's only way to reach the server.
//!
//! Each is a public HTTP endpoint, so each authenticates (via
//! [`crate::port::tenant`]) and the service behind the port checks the
//! caller's role; hiding a button is never the only protection.

use leptos::prelude::*;
use shared::account::{Member, OrgSettings, Viewer};
use uuid::Uuid;

use crate::error::AppError;

/// Who is signed in (None when signed out).
#[server(prefix = "/api/ui", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Viewer>, AppError> {
    let (backend, parts) = crate::port::request()?;
    Ok(backend.viewer(&parts).await?)
}

/// Whether this installation still needs its first organization.
#[server(prefix = "/api/ui", endpoint = "needs_setup")]
pub async fn needs_setup() -> Result<bool, AppError> {
    let (backend, _) = crate::port::request()?;
    Ok(backend.needs_setup().await?)
}

/// Creates an organization and its owner account, and signs the owner in.
#[server(prefix = "/api/ui", endpoint = "sign_up")]
pub async fn sign_up(org_name: String, email: String, password: String) -> Result<(), AppError> {
    let input = shared::account::SignUpInput {
        org_name,
        email,
        password,
    }
    .parse()?;
    let (backend, parts) = crate::port::request()?;
    backend.sign_up(&parts, input).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.sign_in(&parts, &email, &password).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.sign_out(&parts).await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend
        .change_password(&parts, &current_password, &new_password)
        .await?;
    Ok(())
}

/// Makes another of the user's organizations the current one.
#[server(prefix = "/api/ui", endpoint = "switch_org")]
pub async fn switch_org(org_id: Uuid) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.switch_org(&parts, org_id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Creates another organization owned by the signed-in user.
#[server(prefix = "/api/ui", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<(), AppError> {
    let name = shared::account::OrgName::parse(&name)
        .map_err(|e| shared::error::ApiError::invalid("name", e.to_string()))?;
    let (backend, parts) = crate::port::request()?;
    backend.create_org(&parts, name).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_members(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "invite")]
pub async fn invite(
    email: String,
    role: String,
) -> Result<shared::account::InvitationCreated, AppError> {
    let input = shared::account::InviteInput { email, role }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.invite(&t, input).await?)
}

/// Owners: a single-use link for a member to choose a new password.
#[server(prefix = "/api/ui", endpoint = "reset_link")]
pub async fn reset_link(user_id: Uuid) -> Result<String, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.reset_link(&t, user_id).await?)
}

/// Public: the link is the credential.
#[server(prefix = "/api/ui", endpoint = "redeem_reset")]
pub async fn redeem_reset(token: String, password: String) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend.redeem_reset(&parts, &token, &password).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<shared::account::Invitation>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_invitations(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.revoke_invitation(&t, id).await?)
}

/// Public: the link itself is the credential to see what it invites to.
#[server(prefix = "/api/ui", endpoint = "preview_invitation")]
pub async fn preview_invitation(
    token: String,
) -> Result<shared::account::InvitationPreview, AppError> {
    let (backend, _) = crate::port::request()?;
    Ok(backend.preview_invitation(&token).await?)
}

/// Accepts as the signed-in person, or signs in with `password` first.
#[server(prefix = "/api/ui", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, password: Option<String>) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend
        .accept_invitation(
            &parts,
            &token,
            password.as_deref().filter(|p| !p.is_empty()),
        )
        .await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Accepts with a new account whose password the person chooses.
#[server(prefix = "/api/ui", endpoint = "accept_invitation_new")]
pub async fn accept_invitation_new(token: String, password: String) -> Result<(), AppError> {
    let (backend, parts) = crate::port::request()?;
    backend
        .accept_invitation_new(&parts, &token, &password)
        .await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "set_member_role")]
pub async fn set_member_role(user_id: Uuid, role: String) -> Result<(), AppError> {
    let role = role.parse().map_err(|e: shared::account::UnknownRole| {
        shared::error::ApiError::invalid("role", e.to_string())
    })?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_member_role(&t, user_id, role).await?)
}

#[server(prefix = "/api/ui", endpoint = "remove_member")]
pub async fn remove_member(user_id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.remove_member(&t, user_id).await?)
}

#[server(prefix = "/api/ui", endpoint = "get_org_settings")]
pub async fn get_org_settings() -> Result<OrgSettings, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.org_settings(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "rename_org")]
pub async fn rename_org(name: String) -> Result<OrgSettings, AppError> {
    let name = shared::account::OrgName::parse(&name)
        .map_err(|e| shared::error::ApiError::invalid("name", e.to_string()))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.rename_org(&t, name).await?)
}

// --- the Security Gateway ------------------------------------------------
//
// Forms post flat fields (url-encoded) and are parsed into domain types
// here, at the edge; calls made from code with structured filters use JSON.

use shared::api::{
    AgentKey, AlertsQuery, AlertsSummary, ApiToken, CallFilter, Connector, ConnectorTool,
    CreatedSecret, DiscoveryReport, OverviewStats, PackRuleRow, PackTool, Page, RegisteredUser,
    RuleTestInput, RuleTestResult, RulesView, ToolCall, ToolCallDetail, ToolPack, Violation,
    ViolationFilter,
};
use shared::policy::CustomRegexRule;

#[cfg(feature = "ssr")]
fn not_found(what: &str) -> AppError {
    AppError(shared::error::ApiError::not_found(what))
}

/// The public base URL agents connect to.
#[server(prefix = "/api/ui", endpoint = "public_url")]
pub async fn public_url() -> Result<String, AppError> {
    let (backend, _t) = crate::port::tenant().await?;
    Ok(backend.public_url())
}

#[server(prefix = "/api/ui", endpoint = "set_evidence")]
pub async fn set_evidence(store_full_arguments: bool) -> Result<OrgSettings, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend
        .set_evidence(
            &t,
            shared::account::EvidenceInput {
                store_full_arguments,
            },
        )
        .await?)
}

#[server(prefix = "/api/ui", endpoint = "set_mode")]
pub async fn set_mode(mode: String) -> Result<OrgSettings, AppError> {
    let mode = shared::account::ModeInput { mode }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_mode(&t, mode).await?)
}

#[server(prefix = "/api/ui", endpoint = "overview")]
pub async fn overview() -> Result<OverviewStats, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.overview(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_connectors")]
pub async fn list_connectors() -> Result<Vec<Connector>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_connectors(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "create_connector")]
pub async fn create_connector(
    name: String,
    url: String,
    auth_header_name: String,
    auth_header_value: String,
) -> Result<(Connector, DiscoveryReport), AppError> {
    let input = shared::api::ConnectorInput {
        name,
        url,
        auth_header_name,
        auth_header_value,
        clear_auth: false,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.create_connector(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "delete_connector")]
pub async fn delete_connector(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.delete_connector(&t, id).await?)
}

/// Connects to the upstream again and refreshes its tool list.
#[server(prefix = "/api/ui", endpoint = "refresh_connector")]
pub async fn refresh_connector(id: Uuid) -> Result<DiscoveryReport, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.refresh_connector(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "github_status")]
pub async fn github_status() -> Result<shared::api::GitHubAppStatus, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.github_status(&t).await?)
}

/// "Connect GitHub": where to send the browser (the App's installation
/// page, with a single-use state bound to this session).
#[server(prefix = "/api/ui", endpoint = "start_github_connect")]
pub async fn start_github_connect(
    account: String,
) -> Result<shared::api::GitHubConnectStarted, AppError> {
    let account = shared::api::GitHubConnectInput { account }.parse()?;
    let (backend, parts) = crate::port::request()?;
    let t = backend.tenant(&parts).await?;
    Ok(backend.start_github_connect(&parts, &t, account).await?)
}

#[server(prefix = "/api/ui", endpoint = "pack_repositories")]
pub async fn pack_repositories(
    pack_id: Uuid,
) -> Result<Vec<shared::api::PackRepositories>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.pack_repositories(&t, pack_id).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_pack_repositories", input = leptos::server_fn::codec::Json)]
pub async fn set_pack_repositories(
    pack_id: Uuid,
    connector_id: Uuid,
    repositories: Vec<String>,
) -> Result<Vec<shared::api::PackRepositories>, AppError> {
    let repositories = shared::api::PackRepositoriesInput {
        connector_id,
        repositories,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend
        .set_pack_repositories(&t, pack_id, connector_id, repositories)
        .await?)
}

#[server(prefix = "/api/ui", endpoint = "list_databases")]
pub async fn list_databases() -> Result<Vec<shared::api::PostgresConnector>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_databases(&t).await?)
}

/// Adds (no id) or replaces a Postgres connector, then tests it. The
/// target is write-only: it never comes back.
#[server(prefix = "/api/ui", endpoint = "save_database", input = leptos::server_fn::codec::Json)]
pub async fn save_database(
    id: Option<Uuid>,
    input: shared::api::PostgresConnectorInput,
) -> Result<shared::api::PostgresConnectorSaved, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.save_database(&t, id, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "test_database")]
pub async fn test_database(id: Uuid) -> Result<shared::api::ConnectionTest, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.test_database(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "pack_databases")]
pub async fn pack_databases(pack_id: Uuid) -> Result<Vec<shared::api::PackDatabase>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.pack_databases(&t, pack_id).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_pack_database", input = leptos::server_fn::codec::Json)]
pub async fn set_pack_database(
    pack_id: Uuid,
    input: shared::api::PackDatabaseInput,
) -> Result<Vec<shared::api::PackDatabase>, AppError> {
    // Parsed (names, bounds) by the service, for the API too.
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_pack_database(&t, pack_id, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_tools")]
pub async fn list_tools(connector: Option<Uuid>) -> Result<Vec<ConnectorTool>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tools(&t, connector).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_packs")]
pub async fn list_packs() -> Result<Vec<ToolPack>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_packs(&t).await?)
}

/// A pack by its id as written in the address bar (a malformed id reads as
/// not found, like another org's).
#[server(prefix = "/api/ui", endpoint = "get_pack")]
pub async fn get_pack(id: String) -> Result<ToolPack, AppError> {
    let id: Uuid = id.parse().map_err(|_| not_found("Tool Pack"))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.get_pack(&t, id).await?)
}

/// Creates a pack (no id) or renames one.
#[server(prefix = "/api/ui", endpoint = "save_pack")]
pub async fn save_pack(
    id: Option<Uuid>,
    name: String,
    description: String,
) -> Result<ToolPack, AppError> {
    let input = shared::api::ToolPackInput { name, description }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.save_pack(&t, id, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "delete_pack")]
pub async fn delete_pack(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    backend.delete_pack(&t, id).await?;
    leptos_axum::redirect("/packs");
    Ok(())
}

#[server(prefix = "/api/ui", endpoint = "pack_tools")]
pub async fn pack_tools(id: Uuid) -> Result<Vec<PackTool>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.pack_tools(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_pack_tools", input = leptos::server_fn::codec::Json)]
pub async fn set_pack_tools(id: Uuid, tools: Vec<String>) -> Result<Vec<PackTool>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_pack_tools(&t, id, tools).await?)
}

#[server(prefix = "/api/ui", endpoint = "pack_rules")]
pub async fn pack_rules(id: Uuid) -> Result<Vec<PackRuleRow>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.pack_rules(&t, id).await?)
}

/// Overrides one rule for a pack; empty fields inherit the org's value.
#[server(prefix = "/api/ui", endpoint = "set_override")]
pub async fn set_override(
    pack_id: Uuid,
    rule: String,
    enabled: String,
    threshold: String,
    arguments: String,
    results: String,
) -> Result<(), AppError> {
    let key: shared::policy::RuleKey = rule.parse().map_err(|_| not_found("rule"))?;
    let o = shared::api::OverrideInput {
        enabled,
        threshold,
        arguments,
        results,
    }
    .parse(key)?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_override(&t, pack_id, o).await?)
}

#[server(prefix = "/api/ui", endpoint = "clear_override")]
pub async fn clear_override(pack_id: Uuid, rule: String) -> Result<(), AppError> {
    let key: shared::policy::RuleKey = rule.parse().map_err(|_| not_found("rule"))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend
        .set_override(&t, pack_id, shared::policy::RuleOverride::none(key))
        .await?)
}

/// Registered Users for pickers (the first 200 by external id).
#[server(prefix = "/api/ui", endpoint = "list_users")]
pub async fn list_users(search: Option<String>) -> Result<Vec<RegisteredUser>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    let search = search.filter(|s| !s.trim().is_empty());
    Ok(backend.list_users(&t, search, None, 200).await?)
}

/// One page of Registered Users (50) after the external id `after`.
#[server(prefix = "/api/ui", endpoint = "users_page")]
pub async fn users_page(
    search: Option<String>,
    after: Option<String>,
) -> Result<Vec<RegisteredUser>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    let search = search.filter(|s| !s.trim().is_empty());
    Ok(backend.list_users(&t, search, after, USERS_PAGE).await?)
}

/// Registered Users per page on the users page.
pub const USERS_PAGE: i64 = 50;

/// Creates a Registered User (no id) or edits one.
#[server(prefix = "/api/ui", endpoint = "save_user")]
pub async fn save_user(
    id: Option<Uuid>,
    external_id: String,
    display_name: String,
) -> Result<RegisteredUser, AppError> {
    let input = shared::api::RegisteredUserInput {
        external_id,
        display_name,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.save_user(&t, id, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "delete_user")]
pub async fn delete_user(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.delete_user(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_keys")]
pub async fn list_keys(pack_id: Option<Uuid>) -> Result<Vec<AgentKey>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_keys(&t, pack_id).await?)
}

/// Creates an agent key; the secret is in the answer and never again.
#[server(prefix = "/api/ui", endpoint = "create_key")]
pub async fn create_key(
    pack_id: String,
    registered_user_id: String,
    name: String,
) -> Result<CreatedSecret<AgentKey>, AppError> {
    let input = shared::api::AgentKeyInput {
        pack_id,
        registered_user_id,
        name,
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.create_key(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "revoke_key")]
pub async fn revoke_key(id: Uuid) -> Result<AgentKey, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.revoke_key(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.list_api_tokens(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    role: String,
    expires_in_days: Option<i64>,
) -> Result<CreatedSecret<ApiToken>, AppError> {
    let input = shared::api::ApiTokenInput {
        name,
        role,
        expires_in_days,
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.create_api_token(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.revoke_api_token(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "get_rules")]
pub async fn get_rules() -> Result<RulesView, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.rules(&t).await?)
}

#[cfg(feature = "ssr")]
fn entity_of(raw: &str) -> Result<shared::detect::Entity, AppError> {
    raw.parse().map_err(|_| not_found("entity"))
}

/// Saves one standard entity rule (`enabled` is a checkbox: absent = off).
#[server(prefix = "/api/ui", endpoint = "set_entity_rule")]
pub async fn set_entity_rule(
    entity: String,
    enabled: Option<String>,
    threshold: String,
    arguments: String,
    results: String,
    context: String,
) -> Result<(), AppError> {
    let rule = shared::api::EntityRuleInput {
        enabled: enabled.is_some(),
        threshold,
        arguments,
        results,
        context,
    }
    .parse(entity_of(&entity)?)?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_entity_rule(&t, rule).await?)
}

#[server(prefix = "/api/ui", endpoint = "reset_entity_rule")]
pub async fn reset_entity_rule(entity: String) -> Result<(), AppError> {
    let e = entity_of(&entity)?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.reset_entity_rule(&t, e).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_regions", input = leptos::server_fn::codec::Json)]
pub async fn set_regions(regions: Vec<String>) -> Result<(), AppError> {
    let regions = shared::api::RegionsInput { regions }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_regions(&t, regions).await?)
}

/// Creates (no id) or edits a custom regex rule.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/ui", endpoint = "save_custom_rule")]
pub async fn save_custom_rule(
    id: Option<Uuid>,
    name: String,
    label: String,
    pattern: String,
    score: String,
    context: String,
    arguments: String,
    results: String,
    threshold: String,
    enabled: Option<String>,
) -> Result<CustomRegexRule, AppError> {
    let input = shared::policy::CustomRuleInput {
        name,
        label,
        pattern,
        score,
        context,
        arguments,
        results,
        threshold,
        enabled: enabled.is_some(),
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.save_custom_rule(&t, id, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "delete_custom_rule")]
pub async fn delete_custom_rule(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.delete_custom_rule(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "test_rules", input = leptos::server_fn::codec::Json)]
pub async fn test_rules(input: RuleTestInput) -> Result<RuleTestResult, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.test_rules(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<Vec<shared::api::Webhook>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.webhooks(&t).await?)
}

/// Adds a webhook; one checkbox per event.
#[server(prefix = "/api/ui", endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    approval_requested: Option<String>,
    approval_decided: Option<String>,
    call_blocked: Option<String>,
    tool_changed: Option<String>,
    format: String,
) -> Result<shared::api::CreatedSecret<shared::api::Webhook>, AppError> {
    let events = [
        (approval_requested, "approval.requested"),
        (approval_decided, "approval.decided"),
        (call_blocked, "call.blocked"),
        (tool_changed, "tool.changed"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.map(|_| name.to_owned()))
    .collect();
    let input = shared::api::WebhookInput {
        url,
        events,
        format,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.create_webhook(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.delete_webhook(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(id: Uuid) -> Result<Vec<shared::api::WebhookDelivery>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.webhook_deliveries(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_approvals")]
pub async fn list_approvals(state: Option<String>) -> Result<Vec<shared::api::Approval>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend
        .approvals(&t, shared::api::ApprovalFilter { state })
        .await?)
}

/// Pending approval requests (the navigation's badge).
#[server(prefix = "/api/ui", endpoint = "pending_approvals")]
pub async fn pending_approvals() -> Result<i64, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.pending_approvals(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "decide_approval")]
pub async fn decide_approval(
    id: Uuid,
    decision: String,
    comment: String,
) -> Result<shared::api::Approval, AppError> {
    let d = shared::api::ApprovalDecisionInput { decision, comment }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.decide_approval(&t, id, d).await?)
}

/// Every exposed tool with its approved (pinned) definition.
#[server(prefix = "/api/ui", endpoint = "tool_pins")]
pub async fn tool_pins() -> Result<Vec<shared::api::PinnedTool>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tool_pins(&t).await?)
}

/// Changes upstreams made to tools; `open` only, or all.
#[server(prefix = "/api/ui", endpoint = "tool_changes")]
pub async fn tool_changes(open: bool) -> Result<Vec<shared::api::ToolChange>, AppError> {
    let q = shared::api::ToolChangeQuery {
        status: open.then_some(shared::api::ToolChangeStatus::Open),
        limit: Some(200),
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tool_changes(&t, q).await?)
}

#[server(prefix = "/api/ui", endpoint = "tool_change")]
pub async fn tool_change(id: String) -> Result<shared::api::ToolChangeDetail, AppError> {
    let id: Uuid = id.parse().map_err(|_| not_found("tool change"))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tool_change(&t, id).await?)
}

/// Approve the upstream's definition, or remove the tool from every pack.
#[server(prefix = "/api/ui", endpoint = "review_tool_change")]
pub async fn review_tool_change(
    id: Uuid,
    decision: String,
) -> Result<shared::api::ToolChangeDetail, AppError> {
    let d = match decision.as_str() {
        "approve" => shared::api::ToolReview::Approve,
        "remove" => shared::api::ToolReview::Remove,
        _ => {
            return Err(
                shared::error::ApiError::invalid("decision", "Choose approve or remove.").into(),
            );
        }
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.review_tool_change(&t, id, d).await?)
}

#[server(prefix = "/api/ui", endpoint = "tool_integrity")]
pub async fn tool_integrity() -> Result<shared::api::ToolIntegritySettings, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tool_integrity(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_tool_integrity")]
pub async fn set_tool_integrity(
    on_change: String,
) -> Result<shared::api::ToolIntegritySettings, AppError> {
    let s = shared::api::ToolIntegrityInput { on_change }.parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_tool_integrity(&t, s).await?)
}

#[server(prefix = "/api/ui", endpoint = "approval_settings")]
pub async fn approval_settings() -> Result<shared::api::ApprovalSettings, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.approval_settings(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_approval_settings")]
pub async fn set_approval_settings(
    hold_secs: String,
    expiry_hours: String,
) -> Result<shared::api::ApprovalSettings, AppError> {
    let s = shared::api::ApprovalSettingsInput {
        hold_secs,
        expiry_hours,
    }
    .parse()?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_approval_settings(&t, s).await?)
}

#[server(prefix = "/api/ui", endpoint = "tool_policies")]
pub async fn tool_policies() -> Result<shared::api::ToolPoliciesView, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.tool_policies(&t).await?)
}

/// Creates (no id) or edits a tool policy rule.
#[server(prefix = "/api/ui", endpoint = "save_tool_policy")]
pub async fn save_tool_policy(
    id: Option<Uuid>,
    name: String,
    tools: String,
    condition: String,
    action: String,
    pack_id: Option<String>,
) -> Result<shared::api::ToolPolicy, AppError> {
    let pack_id = match pack_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<Uuid>()
                .map_err(|_| shared::error::ApiError::invalid("pack_id", "Choose a Tool Pack."))?,
        ),
    };
    let input = shared::api::ToolPolicyInput {
        name,
        tools,
        condition,
        action,
        pack_id,
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.save_tool_policy(&t, id, input).await?)
}

/// Validates a tool policy form without saving it (live validation).
#[server(prefix = "/api/ui", endpoint = "check_tool_policy", input = leptos::server_fn::codec::Json)]
pub async fn check_tool_policy(input: shared::api::ToolPolicyInput) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.check_tool_policy(&t, input)?)
}

#[server(prefix = "/api/ui", endpoint = "delete_tool_policy")]
pub async fn delete_tool_policy(id: Uuid) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.delete_tool_policy(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "move_tool_policy")]
pub async fn move_tool_policy(id: Uuid, up: bool) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.move_tool_policy(&t, id, up).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_default_tool_action")]
pub async fn set_default_tool_action(action: String) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_default_tool_action(&t, action).await?)
}

#[server(prefix = "/api/ui", endpoint = "test_tool_policies", input = leptos::server_fn::codec::Json)]
pub async fn test_tool_policies(
    input: shared::api::PolicyTestInput,
) -> Result<shared::api::PolicyTestResult, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.test_tool_policies(&t, input).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_violations", input = leptos::server_fn::codec::Json)]
pub async fn list_violations(filter: ViolationFilter) -> Result<Page<Violation>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.violations(&t, filter).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_calls", input = leptos::server_fn::codec::Json)]
pub async fn list_calls(filter: CallFilter) -> Result<Page<ToolCall>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.calls(&t, filter).await?)
}

#[server(prefix = "/api/ui", endpoint = "get_call")]
pub async fn get_call(id: String) -> Result<ToolCallDetail, AppError> {
    let id: Uuid = id.parse().map_err(|_| not_found("tool call"))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.call(&t, id).await?)
}

#[server(prefix = "/api/ui", endpoint = "alerts", input = leptos::server_fn::codec::Json)]
pub async fn alerts(query: AlertsQuery) -> Result<AlertsSummary, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.alerts(&t, query).await?)
}

/// Validates a custom rule form without saving it (live validation as the
/// admin types); compiles the pattern exactly as saving would.
#[server(prefix = "/api/ui", endpoint = "check_custom_rule", input = leptos::server_fn::codec::Json)]
pub async fn check_custom_rule(input: shared::policy::CustomRuleInput) -> Result<(), AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.check_custom_rule(&t, input)?)
}

#[server(prefix = "/api/ui", endpoint = "alert_violations", input = leptos::server_fn::codec::Json)]
pub async fn alert_violations(
    query: AlertsQuery,
    cursor: Option<String>,
) -> Result<Page<Violation>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.alert_violations(&t, query, cursor).await?)
}

/// The org's configured mode, effective state (Enforce Paused), plan and
/// usage (any member).
#[server(prefix = "/api/ui", endpoint = "enforcement")]
pub async fn enforcement() -> Result<shared::api::Enforcement, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.enforcement(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "set_paused_behaviour")]
pub async fn set_paused_behaviour(
    paused_blocks_calls: String,
) -> Result<shared::api::Enforcement, AppError> {
    let input = shared::api::PausedBehaviourInput {
        paused_blocks_calls: match paused_blocks_calls.as_str() {
            "block" => true,
            "monitor" => false,
            _ => {
                return Err(shared::error::ApiError::invalid(
                    "paused_blocks_calls",
                    "Choose monitor or block.",
                )
                .into());
            }
        },
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.set_paused_behaviour(&t, input).await?)
}

/// How long the org's call records and detections are kept (admins).
#[server(prefix = "/api/ui", endpoint = "retention")]
pub async fn retention() -> Result<shared::api::RetentionStatus, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.retention(&t).await?)
}

/// `days` as typed in the form; empty = the server's retention.
#[server(prefix = "/api/ui", endpoint = "set_retention")]
pub async fn set_retention(days: String) -> Result<shared::api::RetentionStatus, AppError> {
    let days = match days.trim() {
        "" => None,
        d => Some(d.parse::<u32>().map_err(|_| {
            shared::error::ApiError::invalid("days", "Enter a whole number of days.")
        })?),
    };
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend
        .set_retention(&t, shared::api::RetentionInput { days })
        .await?)
}

#[server(prefix = "/api/ui", endpoint = "org_events")]
pub async fn org_events() -> Result<Vec<shared::api::OrgEvent>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.org_events(&t).await?)
}

#[server(prefix = "/api/ui", endpoint = "list_sessions", input = leptos::server_fn::codec::Json)]
pub async fn list_sessions(
    filter: shared::api::SessionFilter,
) -> Result<Page<shared::api::RuntimeSession>, AppError> {
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.sessions(&t, filter).await?)
}

#[server(prefix = "/api/ui", endpoint = "get_session")]
pub async fn get_session(id: String) -> Result<shared::api::SessionDetail, AppError> {
    let id: Uuid = id.parse().map_err(|_| not_found("session"))?;
    let (backend, t) = crate::port::tenant().await?;
    Ok(backend.session(&t, id).await?)
}
