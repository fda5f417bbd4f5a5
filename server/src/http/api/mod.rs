//! The admin API, `/api/v1/...`: JSON for everything the dashboard can do,
//! for operators who automate. Authenticated by an org API token
//! (`Authorization: Bearer gha_…`) or the dashboard session cookie; every
//! handler passes the verified tenant to the same service functions the
//! dashboard uses. Bad input → 4xx with field-level messages.

mod auth;
mod handlers;
pub mod openapi;

use axum::Router;
use axum::routing::{get, post, put};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .route("/me", get(me))
        .route("/org", get(org))
        .route("/org/mode", put(set_mode))
        .route("/org/evidence", put(set_evidence))
        .route("/org/paused-behaviour", put(set_paused_behaviour))
        .route("/org/retention", get(get_retention).put(set_retention))
        .route("/org/events", get(org_events))
        .route(
            "/operator/orgs/{id}/plan",
            get(operator_plan).put(operator_set_plan),
        )
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", get(get_session))
        .route("/sessions/{id}/export", get(export_session))
        .route("/calls/export", get(export_calls))
        .route(
            "/org/approvals",
            get(approval_settings).put(set_approval_settings),
        )
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", axum::routing::delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(webhook_deliveries))
        .route(
            "/org/tool-integrity",
            get(tool_integrity_settings).put(set_tool_integrity_settings),
        )
        .route("/tool-pins", get(list_pins))
        .route("/tool-changes", get(list_tool_changes))
        .route("/tool-changes/{id}", get(get_tool_change))
        .route("/tool-changes/{id}/decision", post(review_tool_change))
        .route("/approvals", get(list_approvals))
        .route("/approvals/{id}", get(get_approval))
        .route("/approvals/{id}/decision", post(decide_approval))
        .route("/connectors", get(list_connectors).post(create_connector))
        .route(
            "/connectors/{id}",
            get(get_connector)
                .put(update_connector)
                .delete(delete_connector),
        )
        .route("/connectors/{id}/refresh", post(refresh_connector))
        .route("/connectors/{id}/tools", get(connector_tools))
        .route("/connectors/{id}/github", get(github_installation))
        .route("/github", get(github_status))
        .route("/databases", get(list_databases).post(create_database))
        .route("/databases/{id}", get(get_database).put(update_database))
        .route("/databases/{id}/test", post(test_database))
        .route("/tools", get(all_tools))
        .route("/packs", get(list_packs).post(create_pack))
        .route(
            "/packs/{id}",
            get(get_pack).put(update_pack).delete(delete_pack),
        )
        .route("/packs/{id}/tools", get(pack_tools).put(set_pack_tools))
        .route("/packs/{id}/rules", get(pack_rules))
        .route(
            "/packs/{id}/databases",
            get(pack_databases).put(set_pack_database),
        )
        .route(
            "/packs/{id}/repositories",
            get(pack_repositories).put(set_pack_repositories),
        )
        .route(
            "/packs/{id}/rules/{rule}",
            put(set_override).delete(clear_override),
        )
        .route("/users", get(list_users).post(create_user))
        .route(
            "/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route("/keys", get(list_keys).post(create_key))
        .route("/keys/{id}/revoke", post(revoke_key))
        .route("/api-tokens", get(list_api_tokens).post(create_api_token))
        .route("/api-tokens/{id}/revoke", post(revoke_api_token))
        .route("/rules", get(rules))
        .route("/rules/regions", put(set_regions))
        .route(
            "/rules/entities/{entity}",
            put(set_entity_rule).delete(reset_entity_rule),
        )
        .route("/rules/custom", post(create_custom_rule))
        .route(
            "/rules/custom/{id}",
            put(update_custom_rule).delete(delete_custom_rule),
        )
        .route("/rules/test", post(test_rules))
        .route(
            "/tool-policies",
            get(list_tool_policies).post(create_tool_policy),
        )
        .route("/tool-policies/default", put(set_default_tool_action))
        .route("/tool-policies/test", post(test_tool_policies))
        .route(
            "/tool-policies/{id}",
            put(update_tool_policy).delete(delete_tool_policy),
        )
        .route("/tool-policies/{id}/move", post(move_tool_policy))
        .route("/violations", get(list_violations))
        .route("/calls", get(list_calls))
        .route("/calls/{id}", get(get_call))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
}
