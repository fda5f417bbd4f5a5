//! The governed database tools (`<connector>__db_…`): what agents see, and
//! what a call is once its arguments (and SQL) are parsed ([`DbCall`]).
//!
//! Like GitHub's, the catalogue is ours: a Postgres connector's tools are
//! written into `connector_tools` when it is saved, and Tool Packs choose
//! them like any other tool.

use serde::Deserialize;
use serde_json::{Value, json};

use super::sql::{self, Analysis, Kind, Write};

/// One governed tool.
pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub write: bool,
    schema: fn() -> Value,
}

impl ToolDef {
    pub fn input_schema(&self) -> Value {
        (self.schema)()
    }

    pub fn annotations(&self) -> Value {
        json!({
            "title": self.title,
            "readOnlyHint": !self.write,
            "destructiveHint": self.write,
            "openWorldHint": false,
        })
    }
}

fn object(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

fn sql_prop(what: &str) -> Value {
    json!({"type": "string", "maxLength": sql::MAX_SQL, "description": what})
}

pub const TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "db_schema_read",
        title: "List tables",
        description: "List the schemas, tables and views this Tool Pack may read, with their kind and estimated row count.",
        write: false,
        schema: || object(json!({}), &[]),
    },
    ToolDef {
        name: "db_table_describe",
        title: "Describe a table",
        description: "Columns (type, nullability, default), primary and foreign keys, and indexes of one table.",
        write: false,
        schema: || {
            object(
                json!({"table": {"type": "string", "description": "schema.table (public.customers)", "maxLength": 200}}),
                &["table"],
            )
        },
    },
    ToolDef {
        name: "db_query_read",
        title: "Run a read query",
        description: "Run one read-only SELECT on the tables this Tool Pack may read. Rows are capped (the answer says so); detected personal data is redacted.",
        write: false,
        schema: || object(json!({"sql": sql_prop("One SELECT statement.")}), &["sql"]),
    },
    ToolDef {
        name: "db_query_explain",
        title: "Explain a read query",
        description: "The query plan (EXPLAIN, FORMAT JSON) of one SELECT. analyze: true runs it (EXPLAIN ANALYZE) when the Tool Pack allows.",
        write: false,
        schema: || {
            object(
                json!({"sql": sql_prop("One SELECT statement."),
                       "analyze": {"type": "boolean", "default": false}}),
                &["sql"],
            )
        },
    },
    ToolDef {
        name: "db_write_propose",
        title: "Propose a write",
        description: "Propose one INSERT, UPDATE or DELETE. Gatehouse estimates the rows it changes and scores its risk with reasons; a risky proposal waits for a person's approval. Once allowed it runs in a transaction that rolls back if it would change more rows than the Tool Pack's cap. dry_run: true only assesses.",
        write: true,
        schema: || {
            object(
                json!({"sql": sql_prop("One INSERT, UPDATE or DELETE statement."),
                       "dry_run": {"type": "boolean", "default": false}}),
                &["sql"],
            )
        },
    },
    ToolDef {
        name: "db_update_safe",
        title: "Update rows (capped)",
        description: "Run one UPDATE with a WHERE clause, in a transaction that rolls back if it would change more rows than the Tool Pack's cap; reports the count.",
        write: true,
        schema: || {
            object(
                json!({"sql": sql_prop("One UPDATE … WHERE … statement.")}),
                &["sql"],
            )
        },
    },
    ToolDef {
        name: "db_delete_safe",
        title: "Delete rows (capped)",
        description: "Run one DELETE with a WHERE clause, in a transaction that rolls back if it would delete more rows than the Tool Pack's cap; reports the count.",
        write: true,
        schema: || {
            object(
                json!({"sql": sql_prop("One DELETE … WHERE … statement.")}),
                &["sql"],
            )
        },
    },
];

/// A parsed database tool call.
#[derive(Debug, Clone)]
pub enum DbCall {
    SchemaRead,
    TableDescribe {
        table: String,
    },
    QueryRead(Analysis),
    Explain {
        query: Analysis,
        analyze: bool,
    },
    Propose {
        write: Write,
        dry_run: bool,
    },
    /// `db_update_safe` / `db_delete_safe`.
    Safe(Write),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableArgs {
    table: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlArgs {
    sql: String,
    #[serde(default)]
    analyze: bool,
    #[serde(default)]
    dry_run: bool,
}

fn args<T: for<'de> Deserialize<'de>>(a: &Value) -> Result<T, String> {
    serde_json::from_value(a.clone()).map_err(|e| e.to_string())
}

/// Why a call does not parse: its arguments, or its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Arguments(String),
    Statement(sql::SqlError),
}

impl DbCall {
    pub fn parse(tool: &str, a: &Value) -> Result<DbCall, Refusal> {
        let a = if a.is_null() { &json!({}) } else { a };
        let bad = Refusal::Arguments;
        let stmt = Refusal::Statement;
        Ok(match tool {
            "db_schema_read" => {
                args::<NoArgs>(a).map_err(bad)?;
                DbCall::SchemaRead
            }
            "db_table_describe" => {
                let t: TableArgs = args(a).map_err(bad)?;
                DbCall::TableDescribe {
                    table: t.table.trim().to_owned(),
                }
            }
            "db_query_read" | "db_query_explain" | "db_write_propose" | "db_update_safe"
            | "db_delete_safe" => {
                let s: SqlArgs = args(a).map_err(bad)?;
                if s.analyze && tool != "db_query_explain" {
                    return Err(bad("unknown field `analyze`".to_owned()));
                }
                if s.dry_run && tool != "db_write_propose" {
                    return Err(bad("unknown field `dry_run`".to_owned()));
                }
                match tool {
                    "db_query_read" => DbCall::QueryRead(sql::read(&s.sql).map_err(stmt)?),
                    "db_query_explain" => DbCall::Explain {
                        query: sql::read(&s.sql).map_err(stmt)?,
                        analyze: s.analyze,
                    },
                    "db_write_propose" => DbCall::Propose {
                        write: sql::write(&s.sql, &[Kind::Insert, Kind::Update, Kind::Delete])
                            .map_err(stmt)?,
                        dry_run: s.dry_run,
                    },
                    "db_update_safe" => DbCall::Safe(safe(&s.sql, Kind::Update)?),
                    _ => DbCall::Safe(safe(&s.sql, Kind::Delete)?),
                }
            }
            other => return Err(bad(format!("unknown database tool {other}"))),
        })
    }

    /// The statement, if the call has one.
    pub fn analysis(&self) -> Option<&Analysis> {
        match self {
            DbCall::QueryRead(a) | DbCall::Explain { query: a, .. } => Some(a),
            DbCall::Propose { write, .. } | DbCall::Safe(write) => Some(&write.analysis),
            _ => None,
        }
    }

    /// What compact surfaces show: the kind, tables and fingerprint of
    /// the statement (never its text), or the table described.
    pub fn resource(&self) -> Option<String> {
        if let DbCall::TableDescribe { table } = self {
            return Some(table.clone());
        }
        let a = self.analysis()?;
        let mut tables: Vec<String> = a
            .relations
            .iter()
            .filter(|r| r.bare().is_none_or(|b| !a.ctes.contains(b)))
            .map(|r| r.to_string())
            .collect();
        tables.sort();
        tables.dedup();
        let resource = format!(
            "{} {} #{}",
            a.kind.as_str(),
            if tables.is_empty() {
                "-".to_owned()
            } else {
                tables.join(",")
            },
            a.fingerprint
        );
        Some(resource.chars().take(300).collect())
    }
}

fn safe(sql: &str, kind: Kind) -> Result<Write, Refusal> {
    let w = sql::write(sql, &[kind]).map_err(Refusal::Statement)?;
    if w.condition.is_none() {
        return Err(Refusal::Statement(sql::SqlError::NoWhere(kind.as_str())));
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_parses_its_arguments() {
        assert!(matches!(
            DbCall::parse("db_schema_read", &Value::Null),
            Ok(DbCall::SchemaRead)
        ));
        let c = DbCall::parse(
            "db_query_read",
            &json!({"sql": "SELECT email FROM public.customers WHERE id = 7"}),
        )
        .unwrap();
        let r = c.resource().unwrap();
        assert!(r.starts_with("SELECT public.customers #"), "{r}");
        assert!(!r.contains("WHERE") && !r.contains("= 7"));
        assert!(matches!(
            DbCall::parse("db_delete_safe", &json!({"sql": "DELETE FROM customers"})),
            Err(Refusal::Statement(sql::SqlError::NoWhere("DELETE")))
        ));
        assert!(matches!(
            DbCall::parse(
                "db_query_read",
                &json!({"sql": "SELECT 1", "dry_run": true})
            ),
            Err(Refusal::Arguments(_))
        ));
        assert!(matches!(
            DbCall::parse("db_query_read", &json!({"query": "SELECT 1"})),
            Err(Refusal::Arguments(_))
        ));
    }
}
