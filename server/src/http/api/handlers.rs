//! Admin API handlers: parse at the edge, call one service function, answer.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::account::{OrgMode, TenantCtx};
use shared::detect::{Entity, Region};
use shared::error::{ApiError, ErrorKind};
use shared::gateway::{
    AgentKeyInput, ApiTokenInput, CallFilter, ConnectorInput, EntityRuleInput, OverrideInput,
    PackToolsInput, RegisteredUserInput, RuleTestInput, ToolPackInput, ViolationFilter,
};
use shared::policy::{CustomRuleInput, RuleKey};
use uuid::Uuid;

use super::auth::Tenant;
use crate::http::HttpError;
use crate::service::{
    accounts, agent_keys, api_tokens, connectors, packs, records, registered_users, rules,
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

#[derive(serde::Serialize)]
pub struct Me {
    org_id: Uuid,
    role: shared::account::Role,
    actor: shared::account::Actor,
}

pub async fn me(Tenant(t): Tenant) -> Res<Me> {
    Ok(Json(Me {
        org_id: t.org_id,
        role: t.role,
        actor: t.actor,
    }))
}

pub async fn org(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<shared::account::OrgSettings> {
    Ok(Json(accounts::org_summary(&s.db, &t).await?))
}

#[derive(Deserialize)]
pub struct ModeInput {
    mode: String,
}

pub async fn set_mode(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ModeInput>,
) -> Res<shared::account::OrgSettings> {
    let mode: OrgMode = b
        .mode
        .parse()
        .map_err(|e: String| ApiError::invalid("mode", e))?;
    Ok(Json(accounts::set_mode(&s.db, &t, mode).await?))
}

// --- connectors --------------------------------------------------------

pub async fn list_connectors(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::gateway::Connector>> {
    Ok(Json(connectors::list(&s.db, &t).await?))
}

#[derive(serde::Serialize)]
pub struct ConnectorCreated {
    connector: shared::gateway::Connector,
    discovery: shared::gateway::DiscoveryReport,
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
) -> Res<shared::gateway::Connector> {
    Ok(Json(connectors::get(&s.db, &t, id).await?))
}

pub async fn update_connector(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ConnectorInput>,
) -> Res<shared::gateway::Connector> {
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
) -> Res<shared::gateway::DiscoveryReport> {
    Ok(Json(
        connectors::refresh(&s.connector_deps(), &t, id).await?,
    ))
}

pub async fn connector_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::gateway::ConnectorTool>> {
    connectors::get(&s.db, &t, id).await?;
    Ok(Json(connectors::tools(&s.db, &t, Some(id)).await?))
}

pub async fn all_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::gateway::ConnectorTool>> {
    Ok(Json(connectors::tools(&s.db, &t, None).await?))
}

// --- packs -------------------------------------------------------------

pub async fn list_packs(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::gateway::ToolPack>> {
    Ok(Json(packs::list(&s.db, &t).await?))
}

pub async fn create_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ToolPackInput>,
) -> Result<(StatusCode, Json<shared::gateway::ToolPack>), HttpError> {
    let input = b.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(packs::create(&s.db, &t, &input).await?),
    ))
}

pub async fn get_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::gateway::ToolPack> {
    Ok(Json(packs::get(&s.db, &t, id).await?))
}

pub async fn update_pack(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<ToolPackInput>,
) -> Res<shared::gateway::ToolPack> {
    let input = b.parse()?;
    Ok(Json(packs::update(&s.db, &t, id, &input).await?))
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
) -> Res<Vec<shared::gateway::PackTool>> {
    Ok(Json(packs::tools(&s.db, &t, id).await?))
}

pub async fn set_pack_tools(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<PackToolsInput>,
) -> Res<Vec<shared::gateway::PackTool>> {
    Ok(Json(packs::set_tools(&s.db, &t, id, &b.tools).await?))
}

pub async fn pack_rules(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<Vec<shared::gateway::PackRuleRow>> {
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
) -> Res<Vec<shared::gateway::PackRuleRow>> {
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
) -> Res<Vec<shared::gateway::PackRuleRow>> {
    let id = pack_id(&id)?;
    let key = rule_key(&rule)?;
    packs::set_override(&s.db, &t, id, &shared::policy::RuleOverride::none(key)).await?;
    Ok(Json(packs::rule_rows(&s.db, &t, id).await?))
}

// --- registered users --------------------------------------------------

#[derive(Deserialize, Default)]
pub struct UserQuery {
    search: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

pub async fn list_users(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(q): Params<UserQuery>,
) -> Res<Vec<shared::gateway::RegisteredUser>> {
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
) -> Result<(StatusCode, Json<shared::gateway::RegisteredUser>), HttpError> {
    let input = b.parse()?;
    Ok((
        StatusCode::CREATED,
        Json(registered_users::create(&s.db, &t, &input).await?),
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::gateway::RegisteredUser> {
    Ok(Json(registered_users::get(&s.db, &t, id).await?))
}

pub async fn update_user(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
    Body(b): Body<RegisteredUserInput>,
) -> Res<shared::gateway::RegisteredUser> {
    let input = b.parse()?;
    Ok(Json(registered_users::update(&s.db, &t, id, &input).await?))
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

#[derive(Deserialize, Default)]
pub struct KeyQuery {
    pack_id: Option<Uuid>,
    registered_user_id: Option<Uuid>,
}

pub async fn list_keys(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(q): Params<KeyQuery>,
) -> Res<Vec<shared::gateway::AgentKey>> {
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
        Json<shared::gateway::CreatedSecret<shared::gateway::AgentKey>>,
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
) -> Res<shared::gateway::AgentKey> {
    Ok(Json(
        agent_keys::revoke(&s.db, &t, s.clock.now(), id).await?,
    ))
}

pub async fn list_api_tokens(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<Vec<shared::gateway::ApiToken>> {
    Ok(Json(api_tokens::list(&s.db, &t).await?))
}

pub async fn create_api_token(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<ApiTokenInput>,
) -> Result<
    (
        StatusCode,
        Json<shared::gateway::CreatedSecret<shared::gateway::ApiToken>>,
    ),
    HttpError,
> {
    Ok((
        StatusCode::CREATED,
        Json(api_tokens::create(&s.db, &t, &b).await?),
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

pub async fn rules(
    State(s): State<AppState>,
    Tenant(t): Tenant,
) -> Res<shared::gateway::RulesView> {
    Ok(Json(rules::view(&s.db, &t).await?))
}

#[derive(Deserialize)]
pub struct RegionsInput {
    regions: Vec<String>,
}

pub async fn set_regions(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Body(b): Body<RegionsInput>,
) -> Res<shared::gateway::RulesView> {
    let mut out = Vec::new();
    for r in &b.regions {
        out.push(r.parse::<Region>().map_err(|_| {
            ApiError::invalid(
                "regions",
                format!("Unknown region {r:?}; use US, UK, EU, AU, IN or SG."),
            )
        })?);
    }
    rules::set_regions(&s.db, &t, &out).await?;
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
) -> Res<shared::gateway::RulesView> {
    let rule = b.parse(entity(&e)?)?;
    rules::set_entity_rule(&s.db, &t, &rule).await?;
    Ok(Json(rules::view(&s.db, &t).await?))
}

pub async fn reset_entity_rule(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Path(e): Path<String>,
) -> Res<shared::gateway::RulesView> {
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
) -> Res<shared::gateway::RuleTestResult> {
    Ok(Json(rules::test(&s.db, &t, &b).await?))
}

// --- records -----------------------------------------------------------

pub async fn list_violations(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<ViolationFilter>,
) -> Res<shared::gateway::Page<shared::gateway::Violation>> {
    Ok(Json(records::violations(&s.db, &t, &f).await?))
}

pub async fn list_calls(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Params(f): Params<CallFilter>,
) -> Res<shared::gateway::Page<shared::gateway::ToolCall>> {
    Ok(Json(records::calls(&s.db, &t, &f).await?))
}

pub async fn get_call(
    State(s): State<AppState>,
    Tenant(t): Tenant,
    Id(id): Id,
) -> Res<shared::gateway::ToolCallDetail> {
    Ok(Json(records::call(&s.db, &t, id).await?))
}

#[allow(dead_code)]
fn _assert_tenant(_: &TenantCtx) {}
