//! The OpenAPI 3.1 description of the admin API, served at
//! `/api/v1/openapi.json`.
//!
//! Schemas come from the wire types themselves (schemars derives in
//! `shared`, feature `schema`), so they cannot drift from what the handlers
//! (de)serialize. The paths are the table below, kept next to `routes()`;
//! a test checks that every routed path is described.

use std::sync::LazyLock;

use axum::Json;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};
use shared::account::{EvidenceInput, Me, ModeInput, OrgSettings};
use shared::api::*;
use shared::error::ApiError;
use shared::policy::{CustomRegexRule, CustomRuleInput};

/// One operation: method, path, summary, request body, response body,
/// success status, minimum role.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<fn(&mut SchemaGenerator) -> Value>,
    response: Option<fn(&mut SchemaGenerator) -> Value>,
    status: u16,
    role: &'static str,
    query: Option<fn() -> Vec<Value>>,
}

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    serde_json::to_value(g.subschema_for::<T>()).unwrap_or(Value::Null)
}

/// Query parameters from the type the handler deserializes them into: one
/// per field, described by the field's doc comment.
fn q<T: JsonSchema>() -> Vec<Value> {
    let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| {
                    json!({"name": name, "in": "query", "required": false,
                           "description": p["description"], "schema": {"type": "string"}})
                })
                .collect()
        })
        .unwrap_or_default()
}

macro_rules! op {
    ($m:literal, $p:literal, $sum:literal, $req:expr, $res:expr, $st:literal, $role:literal) => {
        Op {
            method: $m,
            path: $p,
            summary: $sum,
            request: $req,
            response: $res,
            status: $st,
            role: $role,
            query: None,
        }
    };
    ($m:literal, $p:literal, $sum:literal, $req:expr, $res:expr, $st:literal, $role:literal, $q:expr) => {
        Op {
            method: $m,
            path: $p,
            summary: $sum,
            request: $req,
            response: $res,
            status: $st,
            role: $role,
            query: Some($q),
        }
    };
}

fn ops() -> Vec<Op> {
    vec![
        op!(
            "get",
            "/me",
            "Who the credentials belong to",
            None,
            Some(s::<Me>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/org",
            "The organization's name, configured mode, effective state (enforce / enforce_paused / monitor) with the pause's reason, plan and usage",
            None,
            Some(s::<OrgStatus>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/org/mode",
            "Switch between monitor and enforce (recorded with who and when)",
            Some(s::<ModeInput>),
            Some(s::<OrgStatus>),
            200,
            "admin"
        ),
        op!(
            "put",
            "/org/paused-behaviour",
            "While enforce is paused: decide as in monitor mode (default) or block every call",
            Some(s::<PausedBehaviourInput>),
            Some(s::<Enforcement>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/org/retention",
            "How long call records and detections are kept: the org's own choice or the server's",
            None,
            Some(s::<RetentionStatus>),
            200,
            "admin"
        ),
        op!(
            "put",
            "/org/retention",
            "Keep call records and detections for fewer days than the server does (days: null = the server's); older records are deleted within the hour",
            Some(s::<RetentionInput>),
            Some(s::<RetentionStatus>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/org/events",
            "Mode switches, plan changes, quota warnings, enforce paused / resumed, newest first",
            None,
            Some(s::<Vec<OrgEvent>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/operator/orgs/{id}/plan",
            "An organization's plan, quota, usage and effective state (operator token: GATEHOUSE_OPERATOR_TOKEN)",
            None,
            Some(s::<Enforcement>),
            200,
            "operator"
        ),
        op!(
            "put",
            "/operator/orgs/{id}/plan",
            "Set an organization's plan and, optionally, its own enforce quota (operator token)",
            Some(s::<PlanInput>),
            Some(s::<Enforcement>),
            200,
            "operator"
        ),
        op!(
            "get",
            "/sessions",
            "Runtime sessions (agent runs), newest first, filtered and paged",
            None,
            Some(s::<Page<RuntimeSession>>),
            200,
            "viewer",
            q::<SessionFilter>
        ),
        op!(
            "get",
            "/sessions/{id}",
            "A runtime session with its counts and timeline (oldest call first)",
            None,
            Some(s::<SessionDetail>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/sessions/{id}/export",
            "The session's decision trail as JSON Lines (one ExportedCall per line, redacted evidence only)",
            None,
            None,
            200,
            "viewer"
        ),
        op!(
            "get",
            "/calls/export",
            "The filtered calls' decision trail as JSON Lines (one ExportedCall per line, oldest first)",
            None,
            None,
            200,
            "viewer",
            q::<CallFilter>
        ),
        op!(
            "put",
            "/org/evidence",
            "Choose what call records keep of the arguments: their shape (default) or full arguments with detected values redacted",
            Some(s::<EvidenceInput>),
            Some(s::<OrgSettings>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/connectors",
            "List upstream MCP connectors",
            None,
            Some(s::<Vec<Connector>>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/connectors",
            "Add a connector and discover its tools (the auth header is write-only)",
            Some(s::<ConnectorInput>),
            Some(s::<ConnectorCreated>),
            201,
            "admin"
        ),
        op!(
            "get",
            "/connectors/{id}",
            "One connector",
            None,
            Some(s::<Connector>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/connectors/{id}",
            "Change a connector (empty auth value keeps the stored one)",
            Some(s::<ConnectorInput>),
            Some(s::<Connector>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/connectors/{id}",
            "Remove a connector",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "post",
            "/connectors/{id}/refresh",
            "Test the connection and refresh the discovered tools",
            None,
            Some(s::<DiscoveryReport>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/connectors/{id}/tools",
            "A connector's discovered tools",
            None,
            Some(s::<Vec<ConnectorTool>>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/tools",
            "Every discovered tool of every connector",
            None,
            Some(s::<Vec<ConnectorTool>>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/packs",
            "List Tool Packs",
            None,
            Some(s::<Vec<ToolPack>>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/packs",
            "Create a Tool Pack",
            Some(s::<ToolPackInput>),
            Some(s::<ToolPack>),
            201,
            "admin"
        ),
        op!(
            "get",
            "/packs/{id}",
            "One Tool Pack",
            None,
            Some(s::<ToolPack>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/packs/{id}",
            "Rename or describe a Tool Pack",
            Some(s::<ToolPackInput>),
            Some(s::<ToolPack>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/packs/{id}",
            "Delete a Tool Pack (its agent keys stop working)",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "get",
            "/packs/{id}/tools",
            "The tools a pack exposes",
            None,
            Some(s::<Vec<PackTool>>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/packs/{id}/tools",
            "Replace the tools a pack exposes",
            Some(s::<PackToolsInput>),
            Some(s::<Vec<PackTool>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/packs/{id}/repositories",
            "The repositories of each GitHub connector the pack may reach",
            None,
            Some(s::<Vec<PackRepositories>>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/packs/{id}/repositories",
            "Choose the repositories of one GitHub connector the pack may reach",
            Some(s::<PackRepositoriesInput>),
            Some(s::<Vec<PackRepositories>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/databases",
            "The org's Postgres connectors (targets shown as user@host:port/db, never the password)",
            None,
            Some(s::<Vec<PostgresConnector>>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/databases",
            "Add a Postgres connector (DSN or fields, write-only; the target is checked, sealed and tested)",
            Some(s::<PostgresConnectorInput>),
            Some(s::<PostgresConnectorSaved>),
            201,
            "admin"
        ),
        op!(
            "get",
            "/databases/{id}",
            "One Postgres connector",
            None,
            Some(s::<PostgresConnector>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/databases/{id}",
            "Replace a Postgres connector's name and target (fields without a password keep the stored one)",
            Some(s::<PostgresConnectorInput>),
            Some(s::<PostgresConnectorSaved>),
            200,
            "admin"
        ),
        op!(
            "post",
            "/databases/{id}/test",
            "Test the connection: server version, whether the role can write, visible schemas",
            None,
            Some(s::<ConnectionTest>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/packs/{id}/databases",
            "What the pack may reach in each Postgres connector",
            None,
            Some(s::<Vec<PackDatabase>>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/packs/{id}/databases",
            "Set the tables, masked columns, risk threshold and row caps of one Postgres connector for the pack",
            Some(s::<PackDatabaseInput>),
            Some(s::<Vec<PackDatabase>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/connectors/{id}/github",
            "A GitHub connector's installation: account, repositories, permissions, status",
            None,
            Some(s::<GitHubInstallation>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/github",
            "Whether a GitHub App is configured, and the org's installations",
            None,
            Some(s::<GitHubAppStatus>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/packs/{id}/rules",
            "Every org rule as the pack sees it (inherited or overridden)",
            None,
            Some(s::<Vec<PackRuleRow>>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/packs/{id}/rules/{rule}",
            "Override one rule for this pack (empty fields inherit)",
            Some(s::<OverrideInput>),
            Some(s::<Vec<PackRuleRow>>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/packs/{id}/rules/{rule}",
            "Remove the pack's override of one rule",
            None,
            Some(s::<Vec<PackRuleRow>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/users",
            "List Registered Users",
            None,
            Some(s::<Vec<RegisteredUser>>),
            200,
            "viewer",
            q::<UserQuery>
        ),
        op!(
            "post",
            "/users",
            "Create a Registered User",
            Some(s::<RegisteredUserInput>),
            Some(s::<RegisteredUser>),
            201,
            "admin"
        ),
        op!(
            "get",
            "/users/{id}",
            "One Registered User",
            None,
            Some(s::<RegisteredUser>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/users/{id}",
            "Change a Registered User",
            Some(s::<RegisteredUserInput>),
            Some(s::<RegisteredUser>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/users/{id}",
            "Delete a Registered User and their keys",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "get",
            "/keys",
            "List agent keys (by prefix; never the secret)",
            None,
            Some(s::<Vec<AgentKey>>),
            200,
            "viewer",
            q::<KeyQuery>
        ),
        op!(
            "post",
            "/keys",
            "Create an agent key; the secret is in this response only",
            Some(s::<AgentKeyInput>),
            Some(s::<CreatedSecret<AgentKey>>),
            201,
            "admin"
        ),
        op!(
            "post",
            "/keys/{id}/revoke",
            "Revoke an agent key (live tokens stop on their next call)",
            None,
            Some(s::<AgentKey>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/api-tokens",
            "List admin API tokens",
            None,
            Some(s::<Vec<ApiToken>>),
            200,
            "admin"
        ),
        op!(
            "post",
            "/api-tokens",
            "Create an admin API token; the secret is in this response only",
            Some(s::<ApiTokenInput>),
            Some(s::<CreatedSecret<ApiToken>>),
            201,
            "admin"
        ),
        op!(
            "post",
            "/api-tokens/{id}/revoke",
            "Revoke an admin API token",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "get",
            "/rules",
            "The org's entity rules, custom rules and regions",
            None,
            Some(s::<RulesView>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/rules/regions",
            "Set the enabled regions",
            Some(s::<RegionsInput>),
            Some(s::<RulesView>),
            200,
            "admin"
        ),
        op!(
            "put",
            "/rules/entities/{entity}",
            "Change one entity rule",
            Some(s::<EntityRuleInput>),
            Some(s::<RulesView>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/rules/entities/{entity}",
            "Reset one entity rule to its default",
            None,
            Some(s::<RulesView>),
            200,
            "admin"
        ),
        op!(
            "post",
            "/rules/custom",
            "Create a custom regex rule",
            Some(s::<CustomRuleInput>),
            Some(s::<CustomRegexRule>),
            201,
            "admin"
        ),
        op!(
            "put",
            "/rules/custom/{id}",
            "Change a custom regex rule",
            Some(s::<CustomRuleInput>),
            Some(s::<CustomRegexRule>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/rules/custom/{id}",
            "Delete a custom regex rule",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "post",
            "/rules/test",
            "Rule Tester: scan a sample with the org's or a pack's rules",
            Some(s::<RuleTestInput>),
            Some(s::<RuleTestResult>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/org/approvals",
            "How long held calls wait for a decision, and how long requests stay valid",
            None,
            Some(s::<ApprovalSettings>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/org/approvals",
            "Set the approval hold time (0–600 s) and expiry (1–720 h)",
            Some(s::<ApprovalSettingsInput>),
            Some(s::<ApprovalSettings>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/webhooks",
            "Outgoing webhooks (approval requested / decided, call blocked, tool changed)",
            None,
            Some(s::<Vec<Webhook>>),
            200,
            "admin"
        ),
        op!(
            "post",
            "/webhooks",
            "Add a webhook; its signing secret is returned this once",
            Some(s::<WebhookInput>),
            Some(s::<CreatedSecret<Webhook>>),
            201,
            "admin"
        ),
        op!(
            "delete",
            "/webhooks/{id}",
            "Remove a webhook (queued deliveries go too)",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "get",
            "/webhooks/{id}/deliveries",
            "A webhook's last 50 deliveries: status, attempts, last answer",
            None,
            Some(s::<Vec<WebhookDelivery>>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/org/tool-integrity",
            "What an upstream change to an exposed tool does: quarantine (default) or alert",
            None,
            Some(s::<ToolIntegritySettings>),
            200,
            "viewer"
        ),
        op!(
            "put",
            "/org/tool-integrity",
            "Choose quarantine or alert for upstream tool changes",
            Some(s::<ToolIntegrityInput>),
            Some(s::<ToolIntegritySettings>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/tool-pins",
            "Every exposed tool with the definition an admin approved (pinned), its fingerprint and status",
            None,
            Some(s::<Vec<PinnedTool>>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/tool-changes",
            "Changes upstreams made to tools (changed, removed, injected instructions, appeared), newest first",
            None,
            Some(s::<Vec<ToolChange>>),
            200,
            "viewer",
            q::<ToolChangeQuery>
        ),
        op!(
            "get",
            "/tool-changes/{id}",
            "One change: the approved and the upstream's definition, side by side",
            None,
            Some(s::<ToolChangeDetail>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/tool-changes/{id}/decision",
            "Review an open change: approve the upstream's definition, or remove the tool from every pack",
            Some(s::<ToolReviewInput>),
            Some(s::<ToolChangeDetail>),
            200,
            "admin"
        ),
        op!(
            "get",
            "/approvals",
            "The approvals inbox: pending requests (oldest first) or decided ones (newest first)",
            None,
            Some(s::<Vec<Approval>>),
            200,
            "viewer",
            q::<ApprovalFilter>
        ),
        op!(
            "get",
            "/approvals/{id}",
            "One approval request (its session's calls: GET /calls?session_id=)",
            None,
            Some(s::<Approval>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/approvals/{id}/decision",
            "Approve or deny a pending request; the waiting agent resumes at once",
            Some(s::<ApprovalDecisionInput>),
            Some(s::<Approval>),
            200,
            "approver"
        ),
        op!(
            "get",
            "/tool-policies",
            "Tool policies (packs' rules, then the org's) and the default action",
            None,
            Some(s::<ToolPoliciesView>),
            200,
            "viewer"
        ),
        op!(
            "post",
            "/tool-policies",
            "Create a tool policy rule (last in its scope); the CEL condition is compiled and checked",
            Some(s::<ToolPolicyInput>),
            Some(s::<ToolPolicy>),
            201,
            "admin"
        ),
        op!(
            "put",
            "/tool-policies/{id}",
            "Change a tool policy rule",
            Some(s::<ToolPolicyInput>),
            Some(s::<ToolPolicy>),
            200,
            "admin"
        ),
        op!(
            "delete",
            "/tool-policies/{id}",
            "Delete a tool policy rule",
            None,
            None,
            204,
            "admin"
        ),
        op!(
            "post",
            "/tool-policies/{id}/move",
            "Move a rule one place up (earlier) or down within its scope",
            Some(s::<ToolPolicyMoveInput>),
            Some(s::<ToolPoliciesView>),
            200,
            "admin"
        ),
        op!(
            "put",
            "/tool-policies/default",
            "Set the action when no tool policy rule matches",
            Some(s::<DefaultToolActionInput>),
            Some(s::<ToolPoliciesView>),
            200,
            "admin"
        ),
        op!(
            "post",
            "/tool-policies/test",
            "Policy tester: which rule the gateway would apply to a tool call, and why",
            Some(s::<PolicyTestInput>),
            Some(s::<PolicyTestResult>),
            200,
            "viewer"
        ),
        op!(
            "get",
            "/violations",
            "Detections, newest first, filtered and paged",
            None,
            Some(s::<Page<Violation>>),
            200,
            "viewer",
            q::<ViolationFilter>
        ),
        op!(
            "get",
            "/calls",
            "Tool calls (the decision trail), newest first",
            None,
            Some(s::<Page<ToolCall>>),
            200,
            "viewer",
            q::<CallFilter>
        ),
        op!(
            "get",
            "/calls/{id}",
            "One call with its redacted arguments and detections",
            None,
            Some(s::<ToolCallDetail>),
            200,
            "viewer"
        ),
    ]
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"$ref": "#/components/schemas/ApiError"}}}}}})
}

fn build() -> Value {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    g.subschema_for::<ApiError>();
    let mut paths: Map<String, Value> = Map::new();
    for op in ops() {
        let mut params: Vec<Value> = Vec::new();
        for name in ["id", "rule", "entity"] {
            if op.path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        let query = op.query.map(|f| f()).unwrap_or_default();
        let has_query = !query.is_empty();
        params.extend(query);
        let mut responses = Map::new();
        let ok = match op.response {
            Some(f) => {
                json!({"description": "Success", "content": {"application/json": {"schema": f(&mut g)}}})
            }
            None => json!({"description": "Done (no content)"}),
        };
        responses.insert(op.status.to_string(), ok);
        responses.insert(
            "401".into(),
            error_response("Missing, unknown or revoked credentials"),
        );
        responses.insert(
            "403".into(),
            error_response(&format!("Needs the {} role", op.role)),
        );
        responses.insert(
            "404".into(),
            error_response("No such object (another organization's objects read the same)"),
        );
        responses.insert(
            "429".into(),
            error_response(
                "Too many requests for this organization (GATEHOUSE_API_RATE_PER_ORG); see Retry-After",
            ),
        );
        if op.request.is_some() || has_query {
            responses.insert(
                "422".into(),
                error_response("Invalid input; `fields` names each bad field"),
            );
        }
        let mut operation = json!({
            "summary": op.summary,
            "description": format!("Minimum role: {}.", op.role),
            "parameters": params,
            "responses": responses,
        });
        if let Some(f) = op.request {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": f(&mut g)}}});
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    let schemas = g.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Configure connectors, Tool Packs, Registered Users, agent keys and rules, and read the decision trail. Authenticate with an org API token (Authorization: Bearer gha_…) or a dashboard session cookie."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiToken": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiToken": {"type": "http", "scheme": "bearer", "description": "An org API token (gha_…)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gatehouse_session"}
            }
        }
    })
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

pub async fn document() -> Json<Value> {
    Json(DOCUMENT.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_resolvable_schemas() {
        let doc = build();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        assert!(doc["paths"]["/connectors"]["post"]["requestBody"].is_object());
        assert_eq!(doc["paths"].as_object().unwrap().len(), 61);
    }

    #[test]
    fn the_routed_paths_are_the_documented_ones() {
        let src = include_str!("mod.rs");
        let routed: std::collections::BTreeSet<String> = src
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
            .filter(|p| *p != "/openapi.json")
            .map(str::to_owned)
            .collect();
        let documented: std::collections::BTreeSet<String> =
            ops().iter().map(|o| o.path.to_owned()).collect();
        assert_eq!(routed, documented);
    }
}
