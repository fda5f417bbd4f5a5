//! Tool policies as stored: the org's ordered rules, each pack's ordered
//! overrides, the org's default action, and the policy tester. The engine
//! that evaluates them is [`crate::tool_policy`].

use shared::account::{Role, TenantCtx};
use shared::api::{
    MAX_TOOL_POLICIES, PolicyTestInput, PolicyTestResult, ToolPoliciesView, ToolPolicy,
    ToolPolicyInput,
};
use shared::decision::ToolAction;
use shared::error::ApiError;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, config_version, found, packs, registered_users, rules};
use crate::scanning::Scanning;
use crate::tool_policy::{Condition, Facts, Policies, finding_labels};

type Row = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    i32,
    String,
    String,
    Option<String>,
    String,
);

const SELECT: &str =
    "SELECT t.id, t.pack_id, p.name, t.position, t.name, t.tools, t.condition, t.action
     FROM tool_policies t LEFT JOIN tool_packs p ON p.id = t.pack_id AND p.org_id = t.org_id";

fn to_policy(r: Row) -> ServiceResult<ToolPolicy> {
    let (id, pack_id, pack_name, position, name, tools, condition, action) = r;
    Ok(ToolPolicy {
        id,
        pack_id,
        pack_name,
        position,
        name,
        tools,
        condition,
        action: action
            .parse()
            .map_err(|e: String| ServiceError::Internal(anyhow::anyhow!(e)))?,
    })
}

async fn default_action(db: &PgPool, org_id: Uuid) -> ServiceResult<ToolAction> {
    let a: String = sqlx::query_scalar("SELECT default_tool_action FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    a.parse()
        .map_err(|e: String| ServiceError::Internal(anyhow::anyhow!(e)))
}

/// Every rule of the org in evaluation order per scope: packs' rules (by
/// pack name), then the org's.
pub async fn view(db: &PgPool, t: &TenantCtx) -> ServiceResult<ToolPoliciesView> {
    t.require(Role::Viewer)?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE t.org_id = $1 ORDER BY t.pack_id IS NULL, p.name, t.pack_id, t.position, t.id"
    ))
    .bind(t.org_id)
    .fetch_all(db)
    .await?;
    Ok(ToolPoliciesView {
        default_action: default_action(db, t.org_id).await?,
        rules: rows.into_iter().map(to_policy).collect::<Result<_, _>>()?,
    })
}

/// The rules that apply to one pack, in evaluation order (the pack's, then
/// the org's), and the org's default. Unchecked ids: callers verified the
/// tenant or the agent.
pub(super) async fn for_pack(
    db: &PgPool,
    org_id: Uuid,
    pack_id: Option<Uuid>,
) -> ServiceResult<(Vec<ToolPolicy>, ToolAction)> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE t.org_id = $1 AND (t.pack_id IS NULL OR t.pack_id = $2)
         ORDER BY t.pack_id IS NULL, t.position, t.id"
    ))
    .bind(org_id)
    .bind(pack_id)
    .fetch_all(db)
    .await?;
    let rules = rows.into_iter().map(to_policy).collect::<Result<_, _>>()?;
    Ok((rules, default_action(db, org_id).await?))
}

/// Checks a rule form as saving would (the condition compiled and
/// type-checked), without saving.
pub fn check(t: &TenantCtx, input: &ToolPolicyInput) -> ServiceResult<()> {
    t.require(Role::Viewer)?;
    parse(input)?;
    Ok(())
}

fn parse(input: &ToolPolicyInput) -> ServiceResult<shared::api::NewToolPolicy> {
    let rule = input.parse()?;
    if let Some(c) = &rule.condition {
        Condition::compile(c).map_err(|e| ApiError::invalid("condition", e))?;
    }
    Ok(rule)
}

/// Creates (no `id`) or replaces a rule. A new rule, or one moved to
/// another scope, goes last in its scope.
pub async fn save(
    db: &PgPool,
    t: &TenantCtx,
    id: Option<Uuid>,
    input: &ToolPolicyInput,
) -> ServiceResult<ToolPolicy> {
    t.require(Role::Admin)?;
    let rule = parse(input)?;
    if let Some(p) = rule.pack_id {
        // Another org's pack reads as not found.
        packs::get(db, t, p)
            .await
            .map_err(|_| ApiError::invalid("pack_id", "No such Tool Pack."))?;
    }
    let mut tx = lock_org(db, t.org_id).await?;
    let current: Option<Option<Uuid>> = match id {
        Some(id) => Some(
            sqlx::query_scalar("SELECT pack_id FROM tool_policies WHERE org_id = $1 AND id = $2")
                .bind(t.org_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ApiError::not_found("tool policy"))?,
        ),
        None => {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tool_policies WHERE org_id = $1")
                .bind(t.org_id)
                .fetch_one(&mut *tx)
                .await?;
            if n >= MAX_TOOL_POLICIES as i64 {
                return Err(ApiError::conflict(format!(
                    "An organization can have at most {MAX_TOOL_POLICIES} tool policies; delete one first."
                ))
                .into());
            }
            None
        }
    };
    let last: i32 = sqlx::query_scalar(
        "SELECT COALESCE(max(position) + 1, 0) FROM tool_policies
         WHERE org_id = $1 AND pack_id IS NOT DISTINCT FROM $2",
    )
    .bind(t.org_id)
    .bind(rule.pack_id)
    .fetch_one(&mut *tx)
    .await?;
    let rule_id = id.unwrap_or_else(Uuid::new_v4);
    match current {
        None => {
            sqlx::query(
                "INSERT INTO tool_policies (id, org_id, pack_id, position, name, tools, condition, action)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(rule_id)
            .bind(t.org_id)
            .bind(rule.pack_id)
            .bind(last)
            .bind(&rule.name)
            .bind(rule.tools.as_str())
            .bind(&rule.condition)
            .bind(rule.action.as_str())
            .execute(&mut *tx)
            .await?;
        }
        Some(scope) => {
            sqlx::query(
                "UPDATE tool_policies SET pack_id = $3, name = $4, tools = $5, condition = $6, action = $7,
                   position = CASE WHEN pack_id IS NOT DISTINCT FROM $3 THEN position ELSE $8 END
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(t.org_id)
            .bind(rule_id)
            .bind(rule.pack_id)
            .bind(&rule.name)
            .bind(rule.tools.as_str())
            .bind(&rule.condition)
            .bind(rule.action.as_str())
            .bind(last)
            .execute(&mut *tx)
            .await?;
            if scope != rule.pack_id {
                renumber(&mut tx, t.org_id, scope).await?;
            }
        }
    }
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    let row: Row = sqlx::query_as(&format!("{SELECT} WHERE t.org_id = $1 AND t.id = $2"))
        .bind(t.org_id)
        .bind(rule_id)
        .fetch_one(db)
        .await?;
    to_policy(row)
}

pub async fn delete(db: &PgPool, t: &TenantCtx, id: Uuid) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = lock_org(db, t.org_id).await?;
    let scope: Option<Option<Uuid>> = sqlx::query_scalar(
        "DELETE FROM tool_policies WHERE org_id = $1 AND id = $2 RETURNING pack_id",
    )
    .bind(t.org_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let scope = scope.ok_or_else(|| ApiError::not_found("tool policy"))?;
    renumber(&mut tx, t.org_id, scope).await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a rule one place earlier (`up`) or later within its scope.
pub async fn move_rule(db: &PgPool, t: &TenantCtx, id: Uuid, up: bool) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let mut tx = lock_org(db, t.org_id).await?;
    let (scope, position): (Option<Uuid>, i32) =
        sqlx::query_as("SELECT pack_id, position FROM tool_policies WHERE org_id = $1 AND id = $2")
            .bind(t.org_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("tool policy"))?;
    let target = if up { position - 1 } else { position + 1 };
    let swapped = sqlx::query(
        "UPDATE tool_policies SET position = $4
         WHERE org_id = $1 AND pack_id IS NOT DISTINCT FROM $2 AND position = $3",
    )
    .bind(t.org_id)
    .bind(scope)
    .bind(target)
    .bind(position)
    .execute(&mut *tx)
    .await?;
    if swapped.rows_affected() == 0 {
        // Already first (or last): nothing to do.
        return Ok(());
    }
    let done = sqlx::query("UPDATE tool_policies SET position = $3 WHERE org_id = $1 AND id = $2")
        .bind(t.org_id)
        .bind(id)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    found(done, "tool policy")?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets what happens when no rule matches.
pub async fn set_default(db: &PgPool, t: &TenantCtx, action: &str) -> ServiceResult<()> {
    t.require(Role::Admin)?;
    let action =
        shared::api::parse_rule_action(action).map_err(|e| ApiError::invalid("action", e))?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE orgs SET default_tool_action = $2 WHERE id = $1")
        .bind(t.org_id)
        .bind(action.as_str())
        .execute(&mut *tx)
        .await?;
    config_version::bump_in(&mut tx, t.org_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Serialises rule changes of one org, so counts and positions hold.
async fn lock_org(db: &PgPool, org_id: Uuid) -> ServiceResult<Transaction<'static, Postgres>> {
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR UPDATE")
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Closes the gaps in one scope's positions (0, 1, 2…).
async fn renumber(
    tx: &mut Transaction<'static, Postgres>,
    org_id: Uuid,
    scope: Option<Uuid>,
) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE tool_policies t SET position = n.rn - 1
         FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rn FROM tool_policies
               WHERE org_id = $1 AND pack_id IS NOT DISTINCT FROM $2) n
         WHERE t.id = n.id AND t.org_id = $1",
    )
    .bind(org_id)
    .bind(scope)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The largest arguments sample the policy tester takes (viewers can use
/// it).
const MAX_SAMPLE: usize = 64 * 1024;

/// The policy tester: what the gateway's policy stage would decide for
/// this tool, arguments and Registered User, through this pack — with the
/// same engine, the same rules and the same findings.
pub async fn test(
    db: &PgPool,
    scanning: &Scanning,
    t: &TenantCtx,
    input: &PolicyTestInput,
) -> ServiceResult<PolicyTestResult> {
    t.require(Role::Viewer)?;
    if input.arguments.len() > MAX_SAMPLE {
        return Err(ApiError::invalid("arguments", "Use at most 64 KiB of arguments.").into());
    }
    let tool = input.tool.trim();
    if tool.is_empty() {
        return Err(ApiError::invalid("tool", "Enter the tool's exposed name.").into());
    }
    let args: serde_json::Value = if input.arguments.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(&input.arguments)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| {
                ApiError::invalid("arguments", "Enter the arguments as a JSON object.")
            })?
    };
    let (mut org_rules, _) = rules::load_org(db, t.org_id).await?;
    let mut pack_name = String::new();
    if let Some(p) = input.pack_id {
        let pack = packs::get(db, t, p).await?;
        pack_name = pack.name;
        org_rules = org_rules.with_overrides(&rules::pack_overrides(db, t.org_id, p).await?);
    }
    let (user_id, user_name) = match input.registered_user_id {
        Some(u) => {
            let u = registered_users::get(db, t, u).await?;
            (u.external_id, u.display_name)
        }
        None => (String::new(), String::new()),
    };
    let (policies, default) = for_pack(db, t.org_id, input.pack_id).await?;
    let compiled = scanning
        .compiled(&org_rules.to_rule_set())
        .await
        .map_err(anyhow::Error::from)?;
    let facts = Facts {
        tool: tool.to_owned(),
        args,
        user_id,
        user_name,
        pack_id: input.pack_id.map(|p| p.to_string()).unwrap_or_default(),
        pack_name,
        findings: Vec::new(),
        session_calls: 0,
    };
    scanning
        .run(move || {
            let mut facts = facts;
            facts.findings = finding_labels(&compiled.scan_json(&facts.args).unwrap_or_default());
            let policies = Policies::compile(policies, default);
            let e = policies.evaluate(&facts);
            let rule = e.matched.and_then(|i| policies.rules().nth(i).cloned());
            let explanation = match &rule {
                Some(r) => format!(
                    "Rule \"{}\" ({}) matched {}: {}.",
                    r.name,
                    r.pack_name
                        .as_deref()
                        .map(|p| format!("Tool Pack {p}"))
                        .unwrap_or_else(|| "organization".to_owned()),
                    facts.tool,
                    r.action
                ),
                None => format!(
                    "No rule matched {}: the organization's default applies ({}).",
                    facts.tool, e.verdict.action
                ),
            };
            PolicyTestResult {
                action: e.verdict.action,
                rule,
                explanation,
                findings: facts.findings,
                errors: e
                    .errors
                    .into_iter()
                    .map(|(name, err)| format!("{name}: {err}"))
                    .collect(),
            }
        })
        .await
        .map_err(|e| anyhow::Error::from(e).into())
}
