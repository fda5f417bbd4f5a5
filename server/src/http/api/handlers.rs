//! Admin API handlers: parse at the edge, call one service function, answer.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use shared::account::{Me, ModeInput};
use shared::api::{
    AgentKeyInput, ApiTokenInput, Approval, ApprovalDecisionInput, ApprovalFilter,
    ApprovalSettings, ApprovalSettingsInput, CallFilter, ConnectorCreated, ConnectorInput,
    DefaultToolActionInput, Enforcement, EntityRuleInput, KeyQuery, OrgEvent, OrgStatus,
    OverrideInput, PackToolsInput, Page, PausedBehaviourInput, PlanInput, PolicyTestInput,
    RegionsInput, RegisteredUserInput, RetentionInput, RetentionStatus, RuleTestInput,
    RuntimeSession, SessionDetail, SessionFilter, ToolPackInput, ToolPoliciesView, ToolPolicyInput,
    ToolPolicyMoveInput, UserQuery, ViolationFilter, WebhookInput,
};
use shared::detect::Entity;
use shared::error::{ApiError, ErrorKind};
use shared::policy::{CustomRuleInput, RuleKey};
use uuid::Uuid;

use super::auth::{Operator, Tenant};
use crate::http::HttpError;
use crate::service::{
    accounts, agent_keys, api_tokens, approvals, connectors, databases, enforcement, github,
    integrity, packs, records, registered_users, retention, rules, sessions, tester, tool_policies,
    webhooks,
};
use crate::state::AppState;

type Res<T> = Result<Json<T>, HttpError>;

/// A JSON body whose rejection is our JSON error.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = HttpError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(HttpError(ApiError::new(
                ErrorKind::Invalid,
                match e {
                    JsonRejection::MissingJsonContentType(_) => {
                        "Send a JSON body with Content-Type: application/json.".to_owned()
                    }
                    other => format!(
                        "The request body is not valid for this endpoint: {}",
                        other.body_text()
                    ),
                },
            ))),
        }
    }
}

/// Query parameters whose rejection is our JSON error.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = HttpError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(HttpError(ApiError::new(
                ErrorKind::Invalid,
                format!(
                    "Invalid query parameters: {}",
                    QueryRejection::body_text(&e)
                ),
            ))),
        }
    }
}

/// A path id; anything that is not a UUID cannot exist.
pub struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = HttpError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<Uuid>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(_) => Err(HttpError(ApiError::new(
                ErrorKind::NotFound,
                "No such object.",
            ))),
        }
    }
}

pub async fn not_found() -> Response {
    HttpError(ApiError::new(
        ErrorKind::NotFound,
        "No such API endpoint. See /api/v1/openapi.json.",
    ))
    .into_response()
}

fn deleted() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// --- org ---------------------------------------------------------------

pub async fn me(Tenant(t): Tenant) -> Res<Me> {
    Ok(Json(Me {
        org_id: t.org_id,
        role: t.role,
        actor: t.actor,
    }))
}

pub async fn org(State(s): State<AppState>, Tenant(t): Tenant) -> Res<OrgStatus> {
    let org = accounts::org_summary(&s.db, &t).await?;
    let enforcement = enforcement::of_tenant(&s.db, &t, &s.config.plans, s.clock.now()).await?;
    Ok(Json(OrgStatus { org, enforcement }))
}

pub async fn set_mode(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ModeInput>,
) -> Res<OrgStatus> {
    let now = s.clock.now();
    let org = accounts::set_mode(&s.db, &t, now, b.parse()?).await?;
    let enforcement = enforcement::of_tenant(&s.db, &t, &s.config.plans, now).await?;
    Ok(Json(OrgStatus { org, enforcement }))
}

pub async fn get_retention(State(s): State<AppState>, Tenant(t): Tenant) -> Res<RetentionStatus> {
    Ok(Json(
        retention::status(&s.db, &t, s.config.retention_days).await?,
    ))
}

pub async fn set_retention(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<RetentionInput>,
) -> Res<RetentionStatus> {
    let now = s.clock.now();
    Ok(Json(
        retention::set(&s.db, &t, now, s.config.retention_days, b).await?,
    ))
}

pub async fn set_paused_behaviour(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<PausedBehaviourInput>,
) -> Res<Enforcement> {
    Ok(Json(
        enforcement::set_paused_behaviour(&s.db, &t, &s.config.plans, s.clock.now(), b).await?,
    ))
}

pub async fn org_events(State(s): State<AppState>, Tenant(t): Tenant) -> Res<Vec<OrgEvent>> {
    Ok(Json(enforcement::events(&s.db, &t, 200).await?))
}

// --- operator ----------------------------------------------------------

pub async fn operator_plan(
    _: Operator,
    State(s): State<AppState>,
    Id(org): Id,
) -> Res<Enforcement> {
    Ok(Json(
        enforcement::status(&s.db, &s.config.plans, org, s.clock.now()).await?,
    ))
}

pub async fn operator_set_plan(
    _: Operator,
    State(s): State<AppState>,
    Id(org): Id,
    Body(b): Body<PlanInput>,
) -> Res<Enforcement> {
    Ok(Json(
        enforcement::set_plan(&s.db, &s.config.plans, s.clock.now(), org, b.parse()?).await?,
    ))
}

// --- sessions ----------------------------------------------------------

pub async fn list_sessions(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<SessionFilter>,
) -> Res<Page<RuntimeSession>> {
    Ok(Json(sessions::list(&s.db, &t, &f).await?))
}

pub async fn get_session(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<SessionDetail> {
    Ok(Json(sessions::get(&s.db, &t, s.clock.now(), id).await?))
}

pub async fn export_session(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    sessions::require(&s.db, &t, id).await?;
    let f = CallFilter {
        session_id: Some(id),
        ..CallFilter::default()
    };
    Ok(jsonl(s, t, f, format!("gatehouse-session-{id}.jsonl")))
}

pub async fn export_calls(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<CallFilter>,
) -> Result<Response, HttpError> {
    t.require(shared::account::Role::Viewer)?;
    Ok(jsonl(s, t, f, "gatehouse-calls.jsonl".to_owned()))
}

/// A decision-trail export as JSON Lines, streamed batch by batch (oldest
/// call first) so a long session never sits in memory. A database failure
/// mid-way ends the stream with an error: the client sees a broken
/// download, never a silently short file.
fn jsonl(s: AppState, t: shared::account::TenantCtx, f: CallFilter, filename: String) -> Response {
    use futures_util::stream;
    let start: Option<Option<sessions::ExportCursor>> = Some(None);
    let body = stream::unfold(start, move |state| {
        let (s, f) = (s.clone(), f.clone());
        async move {
            let after = state?;
            match sessions::export_batch(&s.db, &t, &f, after).await {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    let more = i64::try_from(batch.len()).unwrap_or(0) == sessions::EXPORT_BATCH;
                    let next = batch.last().map(|c| (c.call.created_at, c.call.id));
                    let mut buf = Vec::new();
                    for c in &batch {
                        if serde_json::to_writer(&mut buf, c).is_err() {
                            return Some((Err(std::io::Error::other("encoding")), None));
                        }
                        buf.push(b'\n');
                    }
                    Some((Ok(axum::body::Bytes::from(buf)), more.then_some(next)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "exporting the decision trail");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/jsonl; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

pub async fn set_evidence(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<shared::account::EvidenceInput>,
) -> Res<shared::account::OrgSettings> {
    Ok(Json(accounts::set_evidence(&s.db, &t, b).await?))
}

// --- connectors --------------------------------------------------------

pub async fn list_connectors(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::Connector>> {
    Ok(Json(connectors::list(&s.db, &t).await?))
}

pub async fn create_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ConnectorInput>,
) -> Result<(StatusCode, Json<ConnectorCreated>), HttpError> {
    let input = b.parse()?;
    let (connector, discovery) = connectors::create(&s.connector_deps(), &t, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectorCreated {
            connector,
            discovery,
        }),
    ))
}

pub async fn get_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::Connector> {
    Ok(Json(connectors::get(&s.db, &t, id).await?))
}

pub async fn update_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ConnectorInput>,
) -> Res<shared::api::Connector> {
    let input = b.parse()?;
    Ok(Json(
        connectors::update(&s.connector_deps(), &t, id, &input).await?,
    ))
}

pub async fn delete_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    connectors::delete(&s.connector_deps(), &t, id).await?;
    Ok(deleted())
}

pub async fn refresh_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::DiscoveryReport> {
    Ok(Json(
        connectors::refresh(&s.connector_deps(), &t, id).await?,
    ))
}

pub async fn connector_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::ConnectorTool>> {
    Ok(Json(connectors::tools(&s.db, &t, Some(id)).await?))
}

pub async fn all_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::ConnectorTool>> {
    Ok(Json(connectors::tools(&s.db, &t, None).await?))
}

// --- packs -------------------------------------------------------------

pub async fn list_packs(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::ToolPack>> {
    Ok(Json(packs::list(&s.db, &t).await?))
}

pub async fn create_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ToolPackInput>,
) -> Result<(StatusCode, Json<shared::api::ToolPack>), HttpError> {
    let input = b.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(packs::save(&s.db, &t, None, &input).await?),
    ))
}

pub async fn get_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::ToolPack> {
    Ok(Json(packs::get(&s.db, &t, id).await?))
}

pub async fn update_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ToolPackInput>,
) -> Res<shared::api::ToolPack> {
    let input = b.parse()?;
    Ok(Json(packs::save(&s.db, &t, Some(id), &input).await?))
}

pub async fn delete_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    packs::delete(&s.db, &t, id).await?;
    Ok(deleted())
}

pub async fn pack_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::PackTool>> {
    Ok(Json(packs::tools(&s.db, &t, id).await?))
}

pub async fn set_pack_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<PackToolsInput>,
) -> Res<Vec<shared::api::PackTool>> {
    Ok(Json(
        packs::set_tools(
            &s.db,
            &t,
            s.clock.now(),
            &s.config.public_base(),
            id,
            &b.tools,
        )
        .await?,
    ))
}

pub async fn github_status(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<shared::api::GitHubAppStatus> {
    Ok(Json(github::status(&s.db, &t).await?))
}

pub async fn github_installation(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::GitHubInstallation> {
    Ok(Json(github::installation(&s.db, &t, id).await?))
}

pub async fn list_databases(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::PostgresConnector>> {
    Ok(Json(databases::list(&s.db, &t).await?))
}

pub async fn create_database(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<shared::api::PostgresConnectorInput>,
) -> Result<(StatusCode, Json<shared::api::PostgresConnectorSaved>), HttpError> {
    let saved = databases::create(&s.connector_deps().databases(), &t, &b).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

pub async fn get_database(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::PostgresConnector> {
    Ok(Json(databases::get(&s.db, &t, id).await?))
}

pub async fn update_database(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<shared::api::PostgresConnectorInput>,
) -> Res<shared::api::PostgresConnectorSaved> {
    Ok(Json(
        databases::update(&s.connector_deps().databases(), &t, id, &b).await?,
    ))
}

pub async fn test_database(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::ConnectionTest> {
    Ok(Json(
        databases::test(&s.connector_deps().databases(), &t, id).await?,
    ))
}

pub async fn pack_databases(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::PackDatabase>> {
    Ok(Json(databases::pack_databases(&s.db, &t, id).await?))
}

pub async fn set_pack_database(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<shared::api::PackDatabaseInput>,
) -> Res<Vec<shared::api::PackDatabase>> {
    Ok(Json(databases::set_pack_database(&s.db, &t, id, &b).await?))
}

pub async fn pack_repositories(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::PackRepositories>> {
    Ok(Json(github::pack_repositories(&s.db, &t, id).await?))
}

pub async fn set_pack_repositories(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<shared::api::PackRepositoriesInput>,
) -> Res<Vec<shared::api::PackRepositories>> {
    let repositories = b.parse()?;
    Ok(Json(
        github::set_pack_repositories(&s.db, &t, id, b.connector_id, &repositories).await?,
    ))
}

pub async fn pack_rules(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::PackRuleRow>> {
    Ok(Json(packs::rule_rows(&s.db, &t, id).await?))
}

fn pack_id(raw: &str) -> Result<Uuid, HttpError> {
    raw.parse::<Uuid>()
        .map_err(|_| HttpError(ApiError::not_found("Tool Pack")))
}

fn rule_key(raw: &str) -> Result<RuleKey, HttpError> {
    raw.parse::<RuleKey>()
        .map_err(|_| HttpError(ApiError::not_found("rule")))
}

pub async fn set_override(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Path((id, rule)): Path<(String, String)>,
    Body(b): Body<OverrideInput>,
) -> Res<Vec<shared::api::PackRuleRow>> {
    let id = pack_id(&id)?;
    let key = rule_key(&rule)?;
    let o = b.parse(key)?;
    packs::set_override(&s.db, &t, id, &o).await?;
    Ok(Json(packs::rule_rows(&s.db, &t, id).await?))
}

pub async fn clear_override(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Path((id, rule)): Path<(String, String)>,
) -> Res<Vec<shared::api::PackRuleRow>> {
    let id = pack_id(&id)?;
    let key = rule_key(&rule)?;
    packs::set_override(&s.db, &t, id, &shared::policy::RuleOverride::none(key)).await?;
    Ok(Json(packs::rule_rows(&s.db, &t, id).await?))
}

// --- registered users --------------------------------------------------

pub async fn list_users(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(q): Params<UserQuery>,
) -> Res<Vec<shared::api::RegisteredUser>> {
    Ok(Json(
        registered_users::list(
            &s.db,
            &t,
            q.search.as_deref(),
            q.after.as_deref(),
            q.limit.unwrap_or(50),
        )
        .await?,
    ))
}

pub async fn create_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<RegisteredUserInput>,
) -> Result<(StatusCode, Json<shared::api::RegisteredUser>), HttpError> {
    let input = b.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(registered_users::save(&s.db, &t, None, &input).await?),
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::RegisteredUser> {
    Ok(Json(registered_users::get(&s.db, &t, id).await?))
}

pub async fn update_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<RegisteredUserInput>,
) -> Res<shared::api::RegisteredUser> {
    let input = b.parse()?;
    Ok(Json(
        registered_users::save(&s.db, &t, Some(id), &input).await?,
    ))
}

pub async fn delete_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    registered_users::delete(&s.db, &t, id).await?;
    Ok(deleted())
}

// --- keys and tokens ---------------------------------------------------

pub async fn list_keys(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(q): Params<KeyQuery>,
) -> Res<Vec<shared::api::AgentKey>> {
    Ok(Json(
        agent_keys::list(&s.db, &t, q.pack_id, q.registered_user_id).await?,
    ))
}

pub async fn create_key(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<AgentKeyInput>,
) -> Result<
    (
        StatusCode,
        Json<shared::api::CreatedSecret<shared::api::AgentKey>>,
    ),
    HttpError,
> {
    Ok((
        StatusCode::CREATED,
        Json(agent_keys::create(&s.db, &t, &b).await?),
    ))
}

pub async fn revoke_key(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::AgentKey> {
    Ok(Json(
        agent_keys::revoke(&s.db, &t, s.clock.now(), id).await?,
    ))
}

pub async fn list_api_tokens(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::ApiToken>> {
    Ok(Json(api_tokens::list(&s.db, &t, s.clock.now()).await?))
}

pub async fn create_api_token(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ApiTokenInput>,
) -> Result<
    (
        StatusCode,
        Json<shared::api::CreatedSecret<shared::api::ApiToken>>,
    ),
    HttpError,
> {
    Ok((
        StatusCode::CREATED,
        Json(api_tokens::create(&s.db, &t, s.clock.now(), &b).await?),
    ))
}

pub async fn revoke_api_token(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    api_tokens::revoke(&s.db, &t, s.clock.now(), id).await?;
    Ok(deleted())
}

// --- rules -------------------------------------------------------------

pub async fn rules(State(s): State<AppState>, Tenant(t): Tenant) -> Res<shared::api::RulesView> {
    Ok(Json(rules::view(&s.db, &t).await?))
}

pub async fn set_regions(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<RegionsInput>,
) -> Res<shared::api::RulesView> {
    rules::set_regions(&s.db, &t, &b.parse()?).await?;
    Ok(Json(rules::view(&s.db, &t).await?))
}

fn entity(raw: &str) -> Result<Entity, HttpError> {
    raw.parse::<Entity>()
        .map_err(|_| HttpError(ApiError::not_found("entity")))
}

pub async fn set_entity_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Path(e): Path<String>,
    Body(b): Body<EntityRuleInput>,
) -> Res<shared::api::RulesView> {
    let rule = b.parse(entity(&e)?)?;
    rules::set_entity_rule(&s.db, &t, &rule).await?;
    Ok(Json(rules::view(&s.db, &t).await?))
}

pub async fn reset_entity_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Path(e): Path<String>,
) -> Res<shared::api::RulesView> {
    rules::reset_entity_rule(&s.db, &t, entity(&e)?).await?;
    Ok(Json(rules::view(&s.db, &t).await?))
}

pub async fn create_custom_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<CustomRuleInput>,
) -> Result<(StatusCode, Json<shared::policy::CustomRegexRule>), HttpError> {
    Ok((
        StatusCode::CREATED,
        Json(rules::save_custom_rule(&s.db, &t, None, &b).await?),
    ))
}

pub async fn update_custom_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<CustomRuleInput>,
) -> Res<shared::policy::CustomRegexRule> {
    Ok(Json(
        rules::save_custom_rule(&s.db, &t, Some(id), &b).await?,
    ))
}

pub async fn delete_custom_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    rules::delete_custom_rule(&s.db, &t, id).await?;
    Ok(deleted())
}

pub async fn test_rules(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<RuleTestInput>,
) -> Res<shared::api::RuleTestResult> {
    Ok(Json(
        tester::test(&s.db, &s.gateway.scanning, &t, &b).await?,
    ))
}

// --- webhooks ----------------------------------------------------------

pub async fn list_webhooks(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::Webhook>> {
    Ok(Json(webhooks::list(&s.db, &t).await?))
}

pub async fn create_webhook(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<WebhookInput>,
) -> Result<
    (
        StatusCode,
        Json<shared::api::CreatedSecret<shared::api::Webhook>>,
    ),
    HttpError,
> {
    let input = b.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(webhooks::create(&s.db, &s.keyring, &s.config.egress(), &t, &input).await?),
    ))
}

pub async fn delete_webhook(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    webhooks::delete(&s.db, &t, id).await?;
    Ok(deleted())
}

pub async fn webhook_deliveries(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::api::WebhookDelivery>> {
    Ok(Json(webhooks::deliveries(&s.db, &t, id).await?))
}

// --- tool integrity ----------------------------------------------------

pub async fn list_pins(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::api::PinnedTool>> {
    Ok(Json(integrity::pins(&s.db, &t).await?))
}

pub async fn list_tool_changes(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(q): Params<shared::api::ToolChangeQuery>,
) -> Res<Vec<shared::api::ToolChange>> {
    Ok(Json(integrity::changes(&s.db, &t, &q).await?))
}

pub async fn get_tool_change(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::ToolChangeDetail> {
    Ok(Json(integrity::change(&s.db, &t, id).await?))
}

pub async fn review_tool_change(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<shared::api::ToolReviewInput>,
) -> Res<shared::api::ToolChangeDetail> {
    Ok(Json(
        integrity::review(&s.db, &t, s.clock.now(), id, b.decision).await?,
    ))
}

pub async fn tool_integrity_settings(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<shared::api::ToolIntegritySettings> {
    Ok(Json(integrity::settings(&s.db, &t).await?))
}

pub async fn set_tool_integrity_settings(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<shared::api::ToolIntegrityInput>,
) -> Res<shared::api::ToolIntegritySettings> {
    let settings = b.parse()?;
    Ok(Json(integrity::set_settings(&s.db, &t, settings).await?))
}

// --- approvals ---------------------------------------------------------

pub async fn list_approvals(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<ApprovalFilter>,
) -> Res<Vec<Approval>> {
    Ok(Json(approvals::list(&s.db, &t, s.clock.now(), &f).await?))
}

pub async fn get_approval(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Approval> {
    Ok(Json(approvals::get(&s.db, &t, s.clock.now(), id).await?))
}

pub async fn decide_approval(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ApprovalDecisionInput>,
) -> Res<Approval> {
    let d = b.parse()?;
    Ok(Json(
        approvals::decide(&s.db, &t, s.clock.now(), id, &d).await?,
    ))
}

pub async fn approval_settings(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<ApprovalSettings> {
    Ok(Json(approvals::settings(&s.db, &t).await?))
}

pub async fn set_approval_settings(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ApprovalSettingsInput>,
) -> Res<ApprovalSettings> {
    let settings = b.parse()?;
    Ok(Json(approvals::set_settings(&s.db, &t, &settings).await?))
}

// --- tool policies -----------------------------------------------------

pub async fn list_tool_policies(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<ToolPoliciesView> {
    Ok(Json(tool_policies::view(&s.db, &t).await?))
}

pub async fn create_tool_policy(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ToolPolicyInput>,
) -> Result<(StatusCode, Json<shared::api::ToolPolicy>), HttpError> {
    Ok((
        StatusCode::CREATED,
        Json(tool_policies::save(&s.db, &t, None, &b).await?),
    ))
}

pub async fn update_tool_policy(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ToolPolicyInput>,
) -> Res<shared::api::ToolPolicy> {
    Ok(Json(tool_policies::save(&s.db, &t, Some(id), &b).await?))
}

pub async fn delete_tool_policy(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Result<Response, HttpError> {
    tool_policies::delete(&s.db, &t, id).await?;
    Ok(deleted())
}

pub async fn move_tool_policy(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ToolPolicyMoveInput>,
) -> Res<ToolPoliciesView> {
    let up = match b.direction.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(ApiError::invalid("direction", "Choose up or down.").into()),
    };
    tool_policies::move_rule(&s.db, &t, id, up).await?;
    Ok(Json(tool_policies::view(&s.db, &t).await?))
}

pub async fn set_default_tool_action(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<DefaultToolActionInput>,
) -> Res<ToolPoliciesView> {
    tool_policies::set_default(&s.db, &t, &b.action).await?;
    Ok(Json(tool_policies::view(&s.db, &t).await?))
}

pub async fn test_tool_policies(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<PolicyTestInput>,
) -> Res<shared::api::PolicyTestResult> {
    Ok(Json(
        tool_policies::test(&s.db, &s.gateway.scanning, &t, &b).await?,
    ))
}

// --- records -----------------------------------------------------------

pub async fn list_violations(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<ViolationFilter>,
) -> Res<shared::api::Page<shared::api::Violation>> {
    Ok(Json(records::violations(&s.db, &t, &f).await?))
}

pub async fn list_calls(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<CallFilter>,
) -> Res<shared::api::Page<shared::api::ToolCall>> {
    Ok(Json(records::calls(&s.db, &t, &f).await?))
}

pub async fn get_call(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::api::ToolCallDetail> {
    Ok(Json(records::call(&s.db, &t, s.clock.now(), id).await?))
}
