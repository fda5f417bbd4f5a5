//! Running the governed database tools on a session: every relation a
//! statement names is resolved by the database itself (its `search_path`,
//! its quoting rules) and must be one the Tool Pack may reach; masked
//! columns are masked inside the database; reads run in a `READ ONLY`
//! transaction with row and byte caps; writes run in a transaction that
//! rolls back when they change more rows than the pack's cap.

use std::collections::HashMap;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};
use shared::api::{ConnectionTest, PackDatabase, table_allowed};
use tokio_postgres::{Client, Transaction};

use super::sql::{self, Analysis, Kind, RelationName, Write, quote_ident};
use super::tools::DbCall;
use super::{DbError, Target};

/// Most bytes of rows one read returns.
pub const MAX_RESULT_BYTES: usize = 256 * 1024;
/// What a masked value reads as.
pub const MASK: &str = "[MASKED]";

fn pg(e: tokio_postgres::Error) -> DbError {
    DbError::from_pg(&e)
}

/// A relation the database resolved a name to.
#[derive(Debug, Clone)]
struct Resolved {
    schema: String,
    name: String,
    oid: i64,
}

impl Resolved {
    fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Resolves every relation of `a` and checks each against the pack.
/// `WITH` names may not hide a real table (which would make the check and
/// the statement disagree about what a name means).
async fn resolve(
    tx: &Transaction<'_>,
    a: &Analysis,
    access: &PackDatabase,
) -> Result<HashMap<RelationName, Resolved>, DbError> {
    let names: Vec<String> = a.relations.iter().map(|r| r.regclass_text()).collect();
    let rows = tx
        .query(
            "SELECT n.nspname::text, c.relname::text, c.oid::int8
             FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i)
             LEFT JOIN pg_class c ON c.oid = to_regclass(u.name)
             LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
             ORDER BY u.i",
            &[&names],
        )
        .await
        .map_err(pg)?;
    let mut out = HashMap::new();
    for (rel, row) in a.relations.iter().zip(rows) {
        let found: Option<Resolved> = match (row.get(0), row.get(1), row.get(2)) {
            (Some(schema), Some(name), Some(oid)) => Some(Resolved { schema, name, oid }),
            _ => None,
        };
        let cte = rel.bare().is_some_and(|b| a.ctes.contains(b));
        match (found, cte) {
            (Some(r), true) => {
                return Err(DbError::Refused(format!(
                    "The WITH name {rel} hides the table {}; rename it.",
                    r.qualified()
                )));
            }
            (None, true) => {}
            (None, false) => {
                return Err(DbError::Refused(format!(
                    "The table {rel} does not exist or is not visible to this connection."
                )));
            }
            (Some(r), false) => {
                if !table_allowed(&access.tables, &r.schema, &r.name) {
                    return Err(DbError::Refused(format!(
                        "The table {} is not available to this Tool Pack.",
                        r.qualified()
                    )));
                }
                out.insert(rel.clone(), r);
            }
        }
    }
    Ok(out)
}

/// The masked columns of `schema.table` in this pack.
fn masks_of<'a>(access: &'a PackDatabase, r: &Resolved) -> Vec<&'a str> {
    let prefix = format!("{}.", r.qualified());
    access
        .masked_columns
        .iter()
        .filter_map(|c| c.strip_prefix(&prefix))
        .collect()
}

async fn columns_of(tx: &Transaction<'_>, oid: i64) -> Result<Vec<String>, DbError> {
    let rows = tx
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::int8::oid AND attnum > 0
             AND NOT attisdropped ORDER BY attnum",
            &[&oid],
        )
        .await
        .map_err(pg)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The statement to run: `a` with every table that has masked columns
/// read through a SELECT that masks them.
async fn masked_sql(
    tx: &Transaction<'_>,
    a: &Analysis,
    access: &PackDatabase,
    resolved: &HashMap<RelationName, Resolved>,
) -> Result<String, DbError> {
    let mut replacements = HashMap::new();
    for (rel, r) in resolved {
        let masks = masks_of(access, r);
        if masks.is_empty() {
            continue;
        }
        let cols = columns_of(tx, r.oid).await?;
        let list: Vec<String> = cols
            .iter()
            .map(|c| {
                if masks.contains(&c.as_str()) {
                    format!("'{MASK}'::text AS {}", quote_ident(c))
                } else {
                    quote_ident(c)
                }
            })
            .collect();
        replacements.insert(
            rel.clone(),
            format!(
                "SELECT {} FROM {}.{}",
                list.join(", "),
                quote_ident(&r.schema),
                quote_ident(&r.name)
            ),
        );
    }
    sql::with_replacements(a, &replacements).map_err(|e| DbError::Refused(e.to_string()))
}

fn text_result(v: &Value) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(v.to_string())])
}

/// Runs one parsed call (writes: already allowed, approval included).
/// `assessed`: a proposal's risk as the gateway already assessed it (and
/// an approver saw it), so it is not assessed twice.
pub async fn run(
    client: &mut Client,
    access: &PackDatabase,
    call: &DbCall,
    assessed: Option<&Value>,
) -> Result<CallToolResult, DbError> {
    match call {
        DbCall::SchemaRead => schema_read(client, access).await,
        DbCall::TableDescribe { table } => describe(client, access, table).await,
        DbCall::QueryRead(a) => query_read(client, access, a).await,
        DbCall::Explain { query, analyze } => explain(client, access, query, *analyze).await,
        DbCall::Propose { write, dry_run } => {
            let risk = match assessed {
                Some(r) => r.clone(),
                None => assess(client, access, write).await?.to_json(),
            };
            if *dry_run {
                return Ok(text_result(&json!({"executed": false, "risk": risk})));
            }
            let mut done = execute_write(client, access, write).await?;
            done["risk"] = risk;
            Ok(text_result(&done))
        }
        DbCall::Safe(write) => Ok(text_result(&execute_write(client, access, write).await?)),
    }
}

async fn read_only(client: &mut Client) -> Result<Transaction<'_>, DbError> {
    client
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(pg)
}

async fn schema_read(
    client: &mut Client,
    access: &PackDatabase,
) -> Result<CallToolResult, DbError> {
    let tx = read_only(client).await?;
    let rows = tx
        .query(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%'
               AND has_table_privilege(c.oid, 'SELECT')
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(pg)?;
    let mut tables = Vec::new();
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        if !table_allowed(&access.tables, &schema, &name) {
            continue;
        }
        let kind = match r.get::<_, String>(2).as_str() {
            "v" => "view",
            "m" => "materialized view",
            "p" => "partitioned table",
            "f" => "foreign table",
            _ => "table",
        };
        let estimate: f64 = r.get(3);
        tables.push(json!({
            "schema": schema, "name": name, "kind": kind,
            "estimated_rows": (estimate >= 0.0).then_some(estimate.round() as i64),
        }));
    }
    let mut schemas: Vec<&str> = tables.iter().filter_map(|t| t["schema"].as_str()).collect();
    schemas.dedup();
    Ok(text_result(&json!({"schemas": schemas, "tables": tables})))
}

async fn describe(
    client: &mut Client,
    access: &PackDatabase,
    table: &str,
) -> Result<CallToolResult, DbError> {
    let tx = read_only(client).await?;
    let found = tx
        .query_opt(
            "SELECT n.nspname::text, c.relname::text, c.oid::int8 FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
            &[&table],
        )
        .await;
    let row = match found {
        Ok(Some(r)) => r,
        // An unparsable name reads like a missing one.
        Ok(None) | Err(_) => {
            return Err(DbError::Refused(format!(
                "The table {table} does not exist or is not visible to this connection."
            )));
        }
    };
    let r = Resolved {
        schema: row.get(0),
        name: row.get(1),
        oid: row.get(2),
    };
    if !table_allowed(&access.tables, &r.schema, &r.name) {
        return Err(DbError::Refused(format!(
            "The table {} is not available to this Tool Pack.",
            r.qualified()
        )));
    }
    let masks = masks_of(access, &r);
    let cols = tx
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid)
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&r.oid],
        )
        .await
        .map_err(pg)?;
    let columns: Vec<Value> = cols
        .iter()
        .map(|c| {
            let name: String = c.get(0);
            json!({"name": name, "type": c.get::<_, String>(1), "nullable": c.get::<_, bool>(2),
                   "default": c.get::<_, Option<String>>(3), "masked": masks.contains(&name.as_str())})
        })
        .collect();
    let cons = tx
        .query(
            "SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = $1::int8::oid AND contype IN ('p', 'f', 'u') ORDER BY contype, conname",
            &[&r.oid],
        )
        .await
        .map_err(pg)?;
    let constraint = |kind: &str| -> Vec<Value> {
        cons.iter()
            .filter(|c| c.get::<_, String>(1) == kind)
            .map(|c| json!({"name": c.get::<_, String>(0), "definition": c.get::<_, String>(2)}))
            .collect()
    };
    let idx = tx
        .query(
            "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::int8::oid ORDER BY 1",
            &[&r.oid],
        )
        .await
        .map_err(pg)?;
    let indexes: Vec<Value> = idx
        .iter()
        .map(|i| json!({"name": i.get::<_, String>(0), "definition": i.get::<_, String>(1)}))
        .collect();
    Ok(text_result(&json!({
        "table": r.qualified(),
        "columns": columns,
        "primary_key": constraint("p").into_iter().next(),
        "foreign_keys": constraint("f"),
        "unique": constraint("u"),
        "indexes": indexes,
    })))
}

async fn query_read(
    client: &mut Client,
    access: &PackDatabase,
    a: &Analysis,
) -> Result<CallToolResult, DbError> {
    let tx = read_only(client).await?;
    let resolved = resolve(&tx, a, access).await?;
    let text = masked_sql(&tx, a, access, &resolved).await?;
    // Prepared first: the extended protocol refuses a second statement,
    // and the columns' names come back even for no rows.
    let stmt = tx.prepare(&text).await.map_err(pg)?;
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for c in stmt.columns() {
        let mut n = c.name().to_owned();
        let mut k = 2;
        while names.contains(&n) {
            n = format!("{}_{k}", c.name());
            k += 1;
        }
        names.push(n);
        types.push(c.type_().name().to_owned());
    }
    let cap = access.max_rows as usize;
    // Each row as JSON text, built by Postgres (every type has a JSON
    // form); the columns renamed positionally so duplicates survive.
    let aliases: Vec<String> = (0..names.len()).map(|i| format!("c{i}")).collect();
    // A row larger than the byte cap comes back as NULL: the database, not
    // Gatehouse, holds a value an agent made huge.
    let json = if names.is_empty() {
        format!(
            "SELECT '{{}}'::text AS j FROM ({text}) AS q LIMIT {}",
            cap + 1
        )
    } else {
        format!(
            "SELECT row_to_json(q)::text AS j FROM ({text}) AS q({}) LIMIT {}",
            aliases.join(", "),
            cap + 1
        )
    };
    let wrapped = format!(
        "SELECT CASE WHEN octet_length(j) > {MAX_RESULT_BYTES} THEN NULL ELSE j END FROM ({json}) AS r"
    );
    // Streamed and cut at the caps: a hostile server that ignores LIMIT
    // cannot make Gatehouse hold more than the caps allow.
    let stream = tx
        .query_raw(&wrapped, std::iter::empty::<i32>())
        .await
        .map_err(pg)?;
    futures_util::pin_mut!(stream);
    let mut out: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    let mut note = None;
    let mut i = 0usize;
    while let Some(row) = futures_util::StreamExt::next(&mut stream).await {
        let row = row.map_err(pg)?;
        i += 1;
        if i > cap {
            note = Some(format!(
                "Capped at {cap} rows (the Tool Pack's limit); add a WHERE or LIMIT to see others."
            ));
            break;
        }
        let raw: Option<String> = row.get(0);
        let Some(raw) = raw else {
            note = Some(format!(
                "Capped at {} rows: the next row alone is larger than {} KiB.",
                out.len(),
                MAX_RESULT_BYTES / 1024
            ));
            break;
        };
        bytes += raw.len();
        if bytes > MAX_RESULT_BYTES {
            note = Some(format!(
                "Capped at {} rows: the answer reached {} KiB.",
                out.len(),
                MAX_RESULT_BYTES / 1024
            ));
            break;
        }
        let v: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let mut obj = Map::new();
        for (idx, name) in names.iter().enumerate() {
            obj.insert(
                name.clone(),
                v.get(format!("c{idx}")).cloned().unwrap_or(Value::Null),
            );
        }
        out.push(Value::Object(obj));
    }
    let columns: Vec<Value> = names
        .iter()
        .zip(&types)
        .map(|(n, t)| json!({"name": n, "type": t}))
        .collect();
    Ok(text_result(&json!({
        "columns": columns,
        "rows": out,
        "row_count": out.len(),
        "truncated": note.is_some(),
        "note": note,
    })))
}

async fn explain(
    client: &mut Client,
    access: &PackDatabase,
    a: &Analysis,
    analyze: bool,
) -> Result<CallToolResult, DbError> {
    if analyze && !access.allow_analyze {
        return Err(DbError::Refused(
            "EXPLAIN ANALYZE runs the query, and this Tool Pack does not allow it; ask without analyze."
                .to_owned(),
        ));
    }
    let tx = read_only(client).await?;
    let resolved = resolve(&tx, a, access).await?;
    let text = masked_sql(&tx, a, access, &resolved).await?;
    let options = if analyze {
        "ANALYZE, FORMAT JSON"
    } else {
        "FORMAT JSON"
    };
    let row = tx
        .query_one(&format!("EXPLAIN ({options}) {text}"), &[])
        .await
        .map_err(pg)?;
    let plan: Value = row.get(0);
    Ok(text_result(&json!({"analyze": analyze, "plan": plan})))
}

/// A write proposal's assessment: a score (0–100) and its reasons.
#[derive(Debug, Clone)]
pub struct Risk {
    pub score: u8,
    pub reasons: Vec<String>,
    pub table: String,
    pub estimated_rows: Option<i64>,
    pub kind: Kind,
}

impl Risk {
    pub fn to_json(&self) -> Value {
        json!({
            "score": self.score,
            "reasons": self.reasons,
            "table": self.table,
            "statement": self.kind.as_str(),
            "estimated_rows": self.estimated_rows,
        })
    }
}

/// Checks a write against the pack and scores it. The row estimate is the
/// planner's (`EXPLAIN`, which does not run the statement).
pub async fn assess(
    client: &mut Client,
    access: &PackDatabase,
    w: &Write,
) -> Result<Risk, DbError> {
    let tx = read_only(client).await?;
    let resolved = check_write(&tx, access, w).await?;
    let target = resolved
        .get(&w.target)
        .map(Resolved::qualified)
        .unwrap_or_else(|| w.target.to_string());
    let estimate = match tx
        .query_one(
            &format!("EXPLAIN (FORMAT JSON) {}", w.analysis.canonical),
            &[],
        )
        .await
    {
        Ok(row) => {
            let plan: Value = row.get(0);
            estimated_rows(&plan)
        }
        Err(_) => None,
    };
    let mut score: u32 = 0;
    let mut reasons = Vec::new();
    let mut add = |points: u32, why: String| {
        score += points;
        reasons.push(format!("+{points} {why}"));
    };
    match w.analysis.kind {
        Kind::Delete => add(15, "deletes rows".to_owned()),
        Kind::Update => add(10, "changes existing rows".to_owned()),
        _ => {}
    }
    if w.analysis.kind != Kind::Insert {
        match (&w.condition, w.condition_names_a_column) {
            (None, _) => add(50, "no WHERE clause: every row of the table".to_owned()),
            (Some(_), false) => add(40, "the WHERE clause names no column".to_owned()),
            _ => {}
        }
    }
    match estimate {
        Some(n) if n > 1000 => add(30, format!("about {n} rows estimated")),
        Some(n) if n > 100 => add(20, format!("about {n} rows estimated")),
        Some(n) if n > 10 => add(10, format!("about {n} rows estimated")),
        Some(_) => {}
        None => add(20, "the row count could not be estimated".to_owned()),
    }
    if access.sensitive_tables.contains(&target) {
        add(25, format!("{target} is marked sensitive"));
    }
    if w.columns.len() > 5 {
        add(5, format!("sets {} columns", w.columns.len()));
    }
    Ok(Risk {
        score: u8::try_from(score.min(100)).unwrap_or(100),
        reasons,
        table: target,
        estimated_rows: estimate,
        kind: w.analysis.kind,
    })
}

/// The planner's row estimate of what a write changes: the rows its
/// modify node reads.
fn estimated_rows(plan: &Value) -> Option<i64> {
    let top = plan.get(0)?.get("Plan")?;
    let node = top
        .get("Plans")
        .and_then(|p| p.get(0))
        .filter(|_| top.get("Node Type").and_then(Value::as_str) == Some("ModifyTable"))
        .unwrap_or(top);
    node.get("Plan Rows")
        .and_then(Value::as_f64)
        .map(|r| r.round() as i64)
}

/// Every table of a write must be the pack's, and it may not name a
/// masked column anywhere (it could copy one out, or test it row by row).
async fn check_write(
    tx: &Transaction<'_>,
    access: &PackDatabase,
    w: &Write,
) -> Result<HashMap<RelationName, Resolved>, DbError> {
    let resolved = resolve(tx, &w.analysis, access).await?;
    for r in resolved.values() {
        if let Some(c) = masks_of(access, r)
            .into_iter()
            .find(|c| w.analysis.identifiers.contains(*c))
        {
            return Err(DbError::Refused(format!(
                "The column {}.{c} is masked for this Tool Pack; a write may not use it.",
                r.qualified()
            )));
        }
    }
    Ok(resolved)
}

/// Runs a write in a transaction; more rows than the pack's cap roll back.
pub async fn execute_write(
    client: &mut Client,
    access: &PackDatabase,
    w: &Write,
) -> Result<Value, DbError> {
    let tx = client.transaction().await.map_err(pg)?;
    let resolved = check_write(&tx, access, w).await?;
    let table = resolved
        .get(&w.target)
        .map(Resolved::qualified)
        .unwrap_or_else(|| w.target.to_string());
    let n = tx.execute(&w.analysis.canonical, &[]).await.map_err(pg)?;
    let cap = u64::from(access.max_write_rows);
    if n > cap {
        tx.rollback().await.map_err(pg)?;
        return Err(DbError::Refused(format!(
            "The {} would change {n} rows of {table}, more than this Tool Pack's cap of {cap}; \
             it was rolled back and nothing changed.",
            w.analysis.kind.as_str()
        )));
    }
    tx.commit().await.map_err(pg)?;
    Ok(
        json!({"executed": true, "statement": w.analysis.kind.as_str(), "table": table, "rows_affected": n}),
    )
}

/// A connection test: who answers, whether the role can write, and what
/// it can see.
pub async fn test(
    target: &Target,
    egress: crate::egress::EgressPolicy,
    app_name: &str,
    limits: &super::Limits,
) -> Result<(String, bool, Vec<String>), DbError> {
    let client = super::connect(target, egress, app_name, limits).await?;
    let row = client
        .query_one(
            "SELECT current_setting('server_version'),
               (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
               OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
                       OR has_table_privilege(c.oid, 'DELETE'))),
               COALESCE((SELECT array_agg(nspname::text ORDER BY nspname) FROM pg_namespace
                  WHERE has_schema_privilege(oid, 'USAGE') AND nspname NOT LIKE 'pg\\_%'
                  AND nspname <> 'information_schema'), '{}')",
            &[],
        )
        .await
        .map_err(pg)?;
    Ok((
        row.get(0),
        row.get::<_, Option<bool>>(1).unwrap_or(false),
        row.get(2),
    ))
}

/// A test's outcome as shown.
pub fn test_report(
    outcome: Result<(String, bool, Vec<String>), DbError>,
    now: chrono::DateTime<chrono::Utc>,
) -> ConnectionTest {
    match outcome {
        Ok((version, can_write, schemas)) => ConnectionTest {
            ok: true,
            message: format!(
                "Connected to PostgreSQL {version}. {}",
                if can_write {
                    "This role can change data: the write tools can change it too. Prefer a read-only role unless the pack should write."
                } else {
                    "This role can only read."
                }
            ),
            server_version: Some(version),
            can_write: Some(can_write),
            schemas,
            tested_at: now,
        },
        Err(e) => ConnectionTest {
            ok: false,
            message: format!("Could not use the database: {e}."),
            server_version: None,
            can_write: None,
            schemas: vec![],
            tested_at: now,
        },
    }
}
