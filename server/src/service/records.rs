//! Reading the decision trail: calls and violations, filtered and paged
//! with keyset cursors (stable under inserts, index-friendly at millions of
//! rows).

use chrono::{DateTime, Utc};
use shared::account::{OrgMode, Role, TenantCtx};
use shared::api::{
    AlertBucket, AlertsQuery, AlertsSummary, CallFilter, CountRow, Decision, Outcome,
    OverviewStats, Page, ToolCall, ToolCallDetail, Violation, ViolationFilter,
};
use shared::error::ApiError;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::paging::{self, After};
use super::{ServiceError, ServiceResult};

type VRow = (
    i64,
    Uuid,
    DateTime<Utc>,
    String,
    String,
    String,
    Option<String>,
    f32,
    String,
    bool,
    String,
    String,
    Option<Uuid>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
);

fn to_violation(r: VRow) -> ServiceResult<Violation> {
    let bad = |w: &str| ServiceError::Internal(anyhow::anyhow!("bad {w} in violations"));
    Ok(Violation {
        id: r.0,
        call_id: r.1,
        created_at: r.2,
        rule_key: r.3,
        label: r.4,
        direction: r.5.parse().map_err(|_| bad("direction"))?,
        pointer: r.6,
        score: r.7,
        action: r.8.parse().map_err(|_| bad("action"))?,
        enforced: r.9,
        snippet: r.10,
        tool: r.11,
        pack_id: r.12,
        pack_name: r.13,
        registered_user_id: r.14,
        registered_user_name: r.15,
    })
}

// The call is joined by id alone, although (id, created_at) is its key: on
// both columns Postgres multiplies their selectivities, expects a handful
// of rows, and hashes the whole range before sorting it (9 s for the first
// alerts page at 10 M violations instead of 27 ms; BENCHMARKS.md).
const V_SELECT: &str = "SELECT v.id, v.call_id, v.created_at, v.rule_key, v.label, v.direction, v.pointer, v.score,
        v.action, v.enforced, v.snippet, c.tool, v.pack_id, p.name, v.registered_user_id, u.display_name
     FROM violations v
     JOIN tool_calls c ON c.id = v.call_id
     LEFT JOIN tool_packs p ON p.id = v.pack_id
     LEFT JOIN registered_users u ON u.id = v.registered_user_id";

/// Appends ` AND <condition> <value>` when the filter has a value; an absent
/// filter adds nothing (so each query the planner sees has only the
/// conditions that apply).
fn push_if<'a, T>(q: &mut QueryBuilder<'a, Postgres>, condition: &str, value: Option<T>)
where
    T: 'a + sqlx::Encode<'a, Postgres> + sqlx::Type<Postgres>,
{
    if let Some(v) = value {
        q.push(" AND ").push(condition).push(" ").push_bind(v);
    }
}

/// The conditions of a violations filter; the list and the alerts
/// aggregate filter the same way.
fn push_violation_filter(q: &mut QueryBuilder<'_, Postgres>, f: &ViolationFilter) {
    push_if(q, "v.created_at >=", f.from);
    push_if(q, "v.created_at <", f.to);
    push_dimension_filter(q, "v", f);
}

/// The filter's conditions on what a violation is (not when): the same
/// columns in `violations` and in the hourly roll-up.
fn push_dimension_filter(q: &mut QueryBuilder<'_, Postgres>, alias: &str, f: &ViolationFilter) {
    push_if(q, &format!("{alias}.rule_key ="), f.rule.clone());
    push_if(q, &format!("{alias}.label ="), f.label.clone());
    push_if(
        q,
        &format!("{alias}.action ="),
        f.action.map(|a| a.as_str()),
    );
    push_if(
        q,
        &format!("{alias}.direction ="),
        f.direction.map(|d| d.as_str()),
    );
    push_if(q, &format!("{alias}.pack_id ="), f.pack_id);
    push_if(
        q,
        &format!("{alias}.registered_user_id ="),
        f.registered_user_id,
    );
}

pub async fn violations(
    db: &PgPool,
    t: &TenantCtx,
    f: &ViolationFilter,
) -> ServiceResult<Page<Violation>> {
    t.require(Role::Viewer)?;
    let after = After::<i64>::decode(f.cursor.as_deref())?;
    let n = paging::limit(f.limit);
    let mut q = QueryBuilder::new(V_SELECT);
    q.push(" WHERE v.org_id = ").push_bind(t.org_id);
    push_violation_filter(&mut q, f);
    paging::push_page(&mut q, "v", after, n);
    let rows: Vec<VRow> = q.build_query_as().fetch_all(db).await?;
    let items = rows
        .into_iter()
        .map(to_violation)
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(paging::page(items, n, |v| (v.created_at, v.id)))
}

#[derive(sqlx::FromRow)]
pub(super) struct CRow {
    id: Uuid,
    created_at: DateTime<Utc>,
    tool: String,
    upstream_tool: Option<String>,
    connector_name: Option<String>,
    pack_id: Option<Uuid>,
    pack_name: Option<String>,
    registered_user_id: Option<Uuid>,
    registered_user_name: Option<String>,
    key_prefix: Option<String>,
    session_id: Option<Uuid>,
    mode: String,
    decision: String,
    reasons: Vec<String>,
    outcome: String,
    error_message: Option<String>,
    latency_us: i64,
    upstream_us: Option<i64>,
    client_name: Option<String>,
    client_version: Option<String>,
    violation_count: i64,
    resource: Option<String>,
    upstream_request_id: Option<String>,
}

pub(super) const C_SELECT: &str = "SELECT c.id, c.created_at, c.tool, c.upstream_tool, cn.name AS connector_name, c.pack_id,
        p.name AS pack_name, c.registered_user_id, u.display_name AS registered_user_name, k.prefix AS key_prefix,
        c.session_id, c.mode, c.decision, c.reasons, c.outcome, c.error_message, c.latency_us, c.upstream_us,
        c.client_name, c.client_version,
        (SELECT count(*) FROM violations v WHERE v.call_id = c.id AND v.created_at = c.created_at) AS violation_count,
        c.resource, c.upstream_request_id
     FROM tool_calls c
     LEFT JOIN connectors cn ON cn.id = c.connector_id
     LEFT JOIN tool_packs p ON p.id = c.pack_id
     LEFT JOIN registered_users u ON u.id = c.registered_user_id
     LEFT JOIN agent_keys k ON k.id = c.agent_key_id";

pub(super) fn to_call(r: CRow) -> ServiceResult<ToolCall> {
    Ok(ToolCall {
        id: r.id,
        created_at: r.created_at,
        tool: r.tool,
        upstream_tool: r.upstream_tool,
        connector_name: r.connector_name,
        pack_id: r.pack_id,
        pack_name: r.pack_name,
        registered_user_id: r.registered_user_id,
        registered_user_name: r.registered_user_name,
        agent_key_prefix: r.key_prefix,
        session_id: r.session_id,
        mode: r.mode.parse().unwrap_or(OrgMode::Monitor),
        decision: r
            .decision
            .parse::<Decision>()
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?,
        reasons: r.reasons,
        outcome: r
            .outcome
            .parse::<Outcome>()
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!(e)))?,
        error_message: r.error_message,
        latency_ms: r.latency_us as f64 / 1000.0,
        upstream_ms: r.upstream_us.map(|u| u as f64 / 1000.0),
        client_name: r.client_name,
        client_version: r.client_version,
        violation_count: r.violation_count,
        resource: r.resource,
        upstream_request_id: r.upstream_request_id,
    })
}

/// The conditions of a calls filter (the list and the export filter the
/// same way).
pub(super) fn push_call_filter(q: &mut QueryBuilder<'_, Postgres>, f: &CallFilter) {
    push_if(q, "c.created_at >=", f.from);
    push_if(q, "c.created_at <", f.to);
    push_if(q, "c.decision =", f.decision.map(|d| d.as_str()));
    push_if(q, "c.tool =", f.tool.clone());
    push_if(q, "c.pack_id =", f.pack_id);
    push_if(q, "c.registered_user_id =", f.registered_user_id);
    push_if(q, "c.session_id =", f.session_id);
}

/// The violations of some calls of the tenant's org, by call.
pub(super) async fn violations_of(
    db: &PgPool,
    t: &TenantCtx,
    calls: &[Uuid],
) -> ServiceResult<std::collections::HashMap<Uuid, Vec<Violation>>> {
    let rows: Vec<VRow> = sqlx::query_as(&format!(
        "{V_SELECT} WHERE v.org_id = $1 AND v.call_id = ANY($2) ORDER BY v.id"
    ))
    .bind(t.org_id)
    .bind(calls)
    .fetch_all(db)
    .await?;
    let mut by_call: std::collections::HashMap<Uuid, Vec<Violation>> = Default::default();
    for r in rows {
        let v = to_violation(r)?;
        by_call.entry(v.call_id).or_default().push(v);
    }
    Ok(by_call)
}

pub async fn calls(db: &PgPool, t: &TenantCtx, f: &CallFilter) -> ServiceResult<Page<ToolCall>> {
    t.require(Role::Viewer)?;
    let after = After::<Uuid>::decode(f.cursor.as_deref())?;
    let n = paging::limit(f.limit);
    let mut q = QueryBuilder::new(C_SELECT);
    q.push(" WHERE c.org_id = ").push_bind(t.org_id);
    push_call_filter(&mut q, f);
    paging::push_page(&mut q, "c", after, n);
    let rows: Vec<CRow> = q.build_query_as().fetch_all(db).await?;
    let items = rows
        .into_iter()
        .map(to_call)
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(paging::page(items, n, |c| (c.created_at, c.id)))
}

pub async fn call(
    db: &PgPool,
    t: &TenantCtx,
    now: chrono::DateTime<chrono::Utc>,
    id: Uuid,
) -> ServiceResult<ToolCallDetail> {
    t.require(Role::Viewer)?;
    let row: Option<CRow> =
        sqlx::query_as(&format!("{C_SELECT} WHERE c.org_id = $1 AND c.id = $2"))
            .bind(t.org_id)
            .bind(id)
            .fetch_optional(db)
            .await?;
    let call = to_call(row.ok_or_else(|| ApiError::not_found("tool call"))?)?;
    type Extra = (
        Option<serde_json::Value>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let extra: Extra = sqlx::query_as(
        "SELECT arguments_redacted, mcp_session_id, protocol_version, statement FROM tool_calls
         WHERE org_id = $1 AND id = $2",
    )
    .bind(t.org_id)
    .bind(id)
    .fetch_one(db)
    .await?;
    let rows: Vec<VRow> = sqlx::query_as(&format!(
        "{V_SELECT} WHERE v.org_id = $1 AND v.call_id = $2 ORDER BY v.id"
    ))
    .bind(t.org_id)
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(ToolCallDetail {
        approval: super::approvals::of_call(db, t, now, id).await?,
        call,
        arguments_redacted: extra.0,
        statement: extra.3,
        violations: rows
            .into_iter()
            .map(to_violation)
            .collect::<ServiceResult<Vec<_>>>()?,
        mcp_session_id: extra.1,
        protocol_version: extra.2,
    })
}

/// The longest custom range the alerts page charts (a year), and the most
/// buckets it draws; wider ranges get wider buckets.
const MAX_RANGE_SECS: i64 = 366 * 86_400;
const MAX_BUCKETS: i64 = 200;

/// The alerts summary: violations per bucket and action, and the top rules,
/// entities, packs and users, for one range and set of filters.
///
/// One scan of the range serves all of it (`GROUPING SETS`), bounded by the
/// `(org_id, created_at)` index, so the page's cost grows with the range's
/// rows, never with the table's.
pub async fn alerts(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    q: &AlertsQuery,
) -> ServiceResult<AlertsSummary> {
    t.require(Role::Viewer)?;
    let window = resolve_range(now, q)?;
    let mut summary = aggregate(db, t, window, &q.filter).await?;
    summary.chart_svg =
        crate::charts::violations_svg(&summary.buckets, summary.bucket_secs, q.split)
            .map_err(ServiceError::Internal)?;
    Ok(summary)
}

/// The `[from, to)` window and bucket width of an alerts query: presets end
/// now; custom ranges are checked and get a bucket width that keeps the
/// chart at most [`MAX_BUCKETS`] wide.
fn resolve_range(
    now: DateTime<Utc>,
    q: &AlertsQuery,
) -> ServiceResult<(DateTime<Utc>, DateTime<Utc>, i64)> {
    Ok(match q.range.span_and_bucket() {
        Some((span, bucket)) => (now - chrono::Duration::seconds(span), now, bucket),
        None => {
            let (Some(from), Some(to)) = (q.filter.from, q.filter.to) else {
                return Err(ApiError::invalid("from", "Choose both a start and an end.").into());
            };
            let span = (to - from).num_seconds();
            if span <= 0 {
                return Err(ApiError::invalid("to", "The end must be after the start.").into());
            }
            if span > MAX_RANGE_SECS {
                return Err(ApiError::invalid("from", "Choose a range of at most a year.").into());
            }
            // Round the bucket up to a whole minute so labels stay
            // readable, and to whole hours from two days on, so the
            // hourly roll-ups can serve the chart (see `aggregate`).
            let raw = (span + MAX_BUCKETS - 1) / MAX_BUCKETS;
            let unit = if span >= 2 * 86_400 { 3600 } else { 60 };
            (from, to, ((raw + unit - 1) / unit).max(1) * unit)
        }
    })
}

/// The violations table of the alerts page: the same window and filters
/// as the chart, newest first, paged.
pub async fn alert_violations(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
    q: &AlertsQuery,
    cursor: Option<String>,
) -> ServiceResult<Page<Violation>> {
    t.require(Role::Viewer)?;
    let (from, to, _) = resolve_range(now, q)?;
    let f = ViolationFilter {
        from: Some(from),
        to: Some(to),
        cursor,
        limit: Some(25),
        ..q.filter.clone()
    };
    violations(db, t, &f).await
}

/// [`alerts`] without the chart.
/// `(from, to, bucket_secs)` is the window, resolved.
async fn aggregate(
    db: &PgPool,
    t: &TenantCtx,
    (from, to, bucket_secs): (DateTime<Utc>, DateTime<Utc>, i64),
    filter: &ViolationFilter,
) -> ServiceResult<AlertsSummary> {
    t.require(Role::Viewer)?;
    // Bucket boundaries are aligned to the epoch, so a bucket means the
    // same wall-clock slot on every reload.
    let first = from.timestamp().div_euclid(bucket_secs) * bucket_secs;
    type Agg = (
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<Uuid>,
        Option<Uuid>,
        i32,
        i64,
    );
    let window = ViolationFilter {
        from: Some(from),
        to: Some(to),
        ..filter.clone()
    };
    let (rows, users): (Vec<Agg>, Option<Vec<(Option<Uuid>, i64)>>) =
        match rolled_up_hours(from, to, bucket_secs, &window) {
            None => (
                raw_aggregate(t.org_id, bucket_secs, first, &window)
                    .build_query_as()
                    .fetch_all(db)
                    .await?,
                None,
            ),
            Some(hours) => {
                // Two connections at once: the page waits for the slower.
                let mut rows = rolled_up_aggregate(t.org_id, bucket_secs, first, &window, hours);
                let mut users = users_aggregate(t.org_id, &window, hours);
                let (rows, users) = tokio::try_join!(
                    rows.build_query_as().fetch_all(db),
                    users.build_query_as().fetch_all(db)
                )?;
                (rows, Some(users))
            }
        };

    let n_buckets = ((to.timestamp() - first) + bucket_secs - 1) / bucket_secs;
    let mut buckets: Vec<AlertBucket> = (0..n_buckets.max(1))
        .filter_map(|i| DateTime::from_timestamp(first + i * bucket_secs, 0))
        .map(|start| AlertBucket {
            start,
            allow: 0,
            redact: 0,
            block: 0,
        })
        .collect();
    let (mut by_rule, mut by_entity, mut by_pack, mut by_user) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut total = 0;
    // GROUPING() is a bit mask over its six arguments, first argument in
    // the highest bit: 0b000011 = bucket and action grouped on, etc.
    for (bucket, action, rule, label, pack, user, g, count) in rows {
        match g {
            0b001111 => {
                let (Some(b), Some(a)) = (bucket, action) else {
                    continue;
                };
                let i = (b.timestamp() - first).div_euclid(bucket_secs);
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| buckets.get_mut(i)) {
                    match a.as_str() {
                        "block" => slot.block += count,
                        "redact" => slot.redact += count,
                        _ => slot.allow += count,
                    }
                }
                total += count;
            }
            0b110011 => by_rule.push((rule.unwrap_or_default(), label.unwrap_or_default(), count)),
            0b111011 => by_entity.push((label.unwrap_or_default(), count)),
            0b111101 => by_pack.push((pack, count)),
            0b111110 => by_user.push((user, count)),
            _ => {}
        }
    }
    if let Some(users) = users {
        by_user = users;
    }
    let top = |mut v: Vec<CountRow>| {
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
        v.truncate(10);
        v
    };
    let rule_names = custom_rule_names(db, t.org_id).await?;
    let by_rule = top(by_rule
        .into_iter()
        .map(|(key, label, count)| CountRow {
            label: rule_names
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| label.clone()),
            key,
            count,
        })
        .collect());
    let by_entity = top(by_entity
        .into_iter()
        .map(|(label, count)| CountRow {
            key: label.clone(),
            label,
            count,
        })
        .collect());
    let pack_names = names(db, "tool_packs", "name", t.org_id).await?;
    let user_names = names(db, "registered_users", "display_name", t.org_id).await?;
    // No id: the call had none (e.g. an unknown tool); an id without a
    // name: the pack or user was deleted since.
    let named = |v: Vec<(Option<Uuid>, i64)>, names: &[(Uuid, String)], gone: &str| {
        top(v
            .into_iter()
            .map(|(id, count)| CountRow {
                key: id.map(|i| i.to_string()).unwrap_or_default(),
                label: match id {
                    None => "(none)".to_owned(),
                    Some(i) => names
                        .iter()
                        .find(|(k, _)| *k == i)
                        .map_or_else(|| gone.to_owned(), |(_, n)| n.clone()),
                },
                count,
            })
            .collect())
    };
    let by_pack = named(by_pack, &pack_names, "(deleted pack)");
    let by_user = named(by_user, &user_names, "(deleted user)");
    Ok(AlertsSummary {
        from,
        to,
        bucket_secs,
        buckets,
        total,
        chart_svg: String::new(),
        by_rule,
        by_entity,
        by_pack,
        by_user,
    })
}

/// The nil uuid: "no pack" / "no Registered User" in the roll-ups, whose
/// keys cannot hold NULL.
const NONE_ID: Uuid = Uuid::nil();

/// `[first, end)`: the whole hours of the window that the hourly roll-ups
/// can count, when they can: the chart's buckets are whole hours (so an
/// hour never straddles two buckets) and no Registered User is filtered
/// on (the roll-up by pack and rule has no user).
fn rolled_up_hours(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket_secs: i64,
    f: &ViolationFilter,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if bucket_secs % 3600 != 0 || f.registered_user_id.is_some() {
        return None;
    }
    let first = DateTime::from_timestamp((from.timestamp() + 3599).div_euclid(3600) * 3600, 0)?;
    let end = DateTime::from_timestamp(to.timestamp().div_euclid(3600) * 3600, 0)?;
    (first < end).then_some((first, end))
}

/// The bucket of `column`: widths are aligned to the epoch, so a bucket
/// means the same wall-clock slot on every reload.
fn push_bucket<'a>(q: &mut QueryBuilder<'a, Postgres>, column: &str, bucket_secs: i64, first: i64) {
    q.push("date_bin(make_interval(secs => ")
        .push_bind(bucket_secs as f64)
        .push("), ")
        .push(column)
        .push(", to_timestamp(")
        .push_bind(first as f64)
        .push("))");
}

/// The window's raw rows, counted: the chart and every breakdown in one
/// scan (`GROUPING SETS`), bounded by the `(org_id, created_at)` index.
/// The bucket is computed once, in the inner query, and grouped on by
/// name: each grouping set is one breakdown.
fn raw_aggregate<'a>(
    org: Uuid,
    bucket_secs: i64,
    first: i64,
    window: &ViolationFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut sql = QueryBuilder::new("SELECT bucket, action, rule_key, label, pack_id, registered_user_id,
            GROUPING(bucket, action, rule_key, label, pack_id, registered_user_id)::int AS g, count(*)
         FROM (SELECT ");
    push_bucket(&mut sql, "v.created_at", bucket_secs, first);
    sql.push(
        " AS bucket, v.action, v.rule_key, v.label, v.pack_id, v.registered_user_id
         FROM violations v WHERE v.org_id = ",
    )
    .push_bind(org);
    push_violation_filter(&mut sql, window);
    sql.push(
        ") v GROUP BY GROUPING SETS ((bucket, action), (rule_key, label), (label), (pack_id),
                                    (registered_user_id))",
    );
    sql
}

/// Raw rows of the window's edges, outside the whole hours: `UNION ALL
/// SELECT <columns> FROM violations v` for `[from, first)` and `[end,
/// to)`, each bounded by the time index on its own.
fn push_raw_edges<'a>(
    sql: &mut QueryBuilder<'a, Postgres>,
    columns: impl Fn(&mut QueryBuilder<'a, Postgres>),
    org: Uuid,
    window: &ViolationFilter,
    (first, end): (DateTime<Utc>, DateTime<Utc>),
) {
    for (lo, hi) in [(window.from, Some(first)), (Some(end), window.to)] {
        sql.push(" UNION ALL SELECT ");
        columns(sql);
        sql.push(" FROM violations v WHERE v.org_id = ")
            .push_bind(org);
        let edge = ViolationFilter {
            from: lo,
            to: hi,
            ..window.clone()
        };
        push_violation_filter(sql, &edge);
    }
}

/// [`raw_aggregate`] from the hourly roll-up for the whole hours and the
/// raw rows for the edges; the same rows come back (the user breakdown
/// aside, which [`users_aggregate`] counts): `GROUPING` over the five
/// columns, shifted to read like the six-column mask with the user
/// grouped out.
fn rolled_up_aggregate<'a>(
    org: Uuid,
    bucket_secs: i64,
    first: i64,
    window: &ViolationFilter,
    hours: (DateTime<Utc>, DateTime<Utc>),
) -> QueryBuilder<'a, Postgres> {
    let mut sql = QueryBuilder::new(
        "SELECT bucket, action, rule_key, label, pack_id, NULL::uuid AS registered_user_id,
            (GROUPING(bucket, action, rule_key, label, pack_id) * 2 + 1)::int AS g, sum(n)::int8
         FROM (SELECT ",
    );
    push_bucket(&mut sql, "h.hour", bucket_secs, first);
    sql.push(" AS bucket, h.action, h.rule_key, h.label, NULLIF(h.pack_id, ")
        .push_bind(NONE_ID)
        .push(") AS pack_id, h.n FROM violation_hourly h WHERE h.org_id = ")
        .push_bind(org)
        .push(" AND h.hour >= ")
        .push_bind(hours.0)
        .push(" AND h.hour < ")
        .push_bind(hours.1);
    push_dimension_filter(&mut sql, "h", window);
    let columns = |q: &mut QueryBuilder<'a, Postgres>| {
        push_bucket(q, "v.created_at", bucket_secs, first);
        q.push(", v.action, v.rule_key, v.label, v.pack_id, 1::int8");
    };
    push_raw_edges(&mut sql, columns, org, window, hours);
    sql.push(
        ") x GROUP BY GROUPING SETS ((bucket, action), (rule_key, label), (label), (pack_id))",
    );
    sql
}

/// Violations per Registered User in the window: from the per-user hourly
/// roll-up (and the edges' raw rows) when nothing but the time is
/// filtered; otherwise from the raw rows, which that roll-up cannot
/// filter.
fn users_aggregate<'a>(
    org: Uuid,
    window: &ViolationFilter,
    hours: (DateTime<Utc>, DateTime<Utc>),
) -> QueryBuilder<'a, Postgres> {
    let filtered = window.rule.is_some()
        || window.label.is_some()
        || window.action.is_some()
        || window.direction.is_some()
        || window.pack_id.is_some()
        || window.registered_user_id.is_some();
    if filtered {
        let mut sql = QueryBuilder::new(
            "SELECT v.registered_user_id, count(*) FROM violations v WHERE v.org_id = ",
        );
        sql.push_bind(org);
        push_violation_filter(&mut sql, window);
        sql.push(" GROUP BY 1");
        return sql;
    }
    let mut sql = QueryBuilder::new("SELECT NULLIF(registered_user_id, ");
    sql.push_bind(NONE_ID)
        .push(
            "), sum(n)::int8 FROM (SELECT u.registered_user_id, u.n FROM violation_user_hourly u
             WHERE u.org_id = ",
        )
        .push_bind(org)
        .push(" AND u.hour >= ")
        .push_bind(hours.0)
        .push(" AND u.hour < ")
        .push_bind(hours.1);
    let columns = |q: &mut QueryBuilder<'a, Postgres>| {
        q.push("COALESCE(v.registered_user_id, ")
            .push_bind(NONE_ID)
            .push("), 1::int8");
    };
    push_raw_edges(&mut sql, columns, org, window, hours);
    sql.push(") x GROUP BY 1");
    sql
}

/// `(rule key, name)` of the org's custom rules, for labelling breakdowns.
async fn custom_rule_names(db: &PgPool, org_id: Uuid) -> ServiceResult<Vec<(String, String)>> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM custom_rules WHERE org_id = $1")
            .bind(org_id)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (format!("custom:{id}"), n))
        .collect())
}

/// `(id, name)` of one org's rows in a small table (packs, users).
async fn names(
    db: &PgPool,
    table: &str,
    column: &str,
    org_id: Uuid,
) -> ServiceResult<Vec<(Uuid, String)>> {
    // Table and column come from this module's callers, never from input.
    Ok(sqlx::query_as(&format!(
        "SELECT id, {column} FROM {table} WHERE org_id = $1"
    ))
    .bind(org_id)
    .fetch_all(db)
    .await?)
}

/// The overview: today's numbers (since UTC midnight), the top rules and
/// the last blocked calls.
pub async fn overview(
    db: &PgPool,
    t: &TenantCtx,
    now: DateTime<Utc>,
) -> ServiceResult<OverviewStats> {
    t.require(Role::Viewer)?;
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    type Counts = (String, i64, i64, i64, i64, i64);
    let (mode, connector_count, pack_count, key_count, open_tool_changes, quarantined_tools): Counts =
        sqlx::query_as(
            "SELECT o.mode,
                (SELECT count(*) FROM connectors WHERE org_id = o.id),
                (SELECT count(*) FROM tool_packs WHERE org_id = o.id),
                (SELECT count(*) FROM agent_keys WHERE org_id = o.id AND revoked_at IS NULL),
                (SELECT count(*) FROM tool_changes WHERE org_id = o.id AND status = 'open'),
                (SELECT count(*) FROM tool_pins WHERE org_id = o.id AND quarantined_at IS NOT NULL)
         FROM orgs o WHERE o.id = $1",
        )
    .bind(t.org_id)
    .fetch_one(db)
    .await?;
    let (calls_today, blocked_today): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE decision = 'block')
         FROM tool_calls WHERE org_id = $1 AND created_at >= $2",
    )
    .bind(t.org_id)
    .bind(midnight)
    .fetch_one(db)
    .await?;
    // Hourly buckets (no chart is drawn): today's whole hours come from
    // the roll-ups.
    let today = (
        midnight,
        now.max(midnight + chrono::Duration::seconds(1)),
        3600,
    );
    let summary = aggregate(db, t, today, &ViolationFilter::default()).await?;
    let last_blocked = calls(
        db,
        t,
        &CallFilter {
            decision: Some(Decision::Block),
            limit: Some(5),
            ..CallFilter::default()
        },
    )
    .await?
    .items;
    Ok(OverviewStats {
        mode: mode.parse().unwrap_or(OrgMode::Monitor),
        calls_today,
        violations_today: summary.total,
        blocked_today,
        top_rules: summary.by_rule.into_iter().take(5).collect(),
        last_blocked,
        connector_count,
        pack_count,
        key_count,
        open_tool_changes,
        quarantined_tools,
    })
}
