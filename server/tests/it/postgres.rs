//! The Postgres connector against a real second database: a shop with a
//! customers table full of personal data, reached by a real MCP client
//! through the governed database tools.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::harness::{Admin, Gatehouse, agent, database_url, dump, temp_dir};

const SSN: &str = "536-22-8726";

/// Where the test database server listens over TCP (a connector's target
/// is always a host and port): `GATEHOUSE_TEST_PG_TCP`, or DATABASE_URL's.
fn pg_tcp() -> (String, u16) {
    if let Ok(hp) = std::env::var("GATEHOUSE_TEST_PG_TCP")
        && let Some((h, p)) = hp.rsplit_once(':')
    {
        return (h.to_owned(), p.parse().unwrap());
    }
    let url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    (
        url.host_str().unwrap_or("127.0.0.1").to_owned(),
        url.port().unwrap_or(5432),
    )
}

/// A second database on the same server: the tenant's shop.
struct Shop {
    name: String,
    pool: PgPool,
    admin: PgPool,
}

impl Shop {
    async fn create(db: &PgPool) -> Shop {
        let name = format!("shop_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(db)
            .await
            .unwrap();
        let url = database_url(db).replacen(
            &format!("/{}", db.connect_options().get_database().unwrap()),
            &format!("/{name}"),
            1,
        );
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL,
               ssn text, phone text, tier int NOT NULL DEFAULT 1);
             CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers (id),
               total numeric(10,2) NOT NULL, note text);
             CREATE INDEX orders_customer ON orders (customer_id);
             CREATE TABLE secrets (id serial PRIMARY KEY, token text);
             INSERT INTO secrets (token) VALUES ('tok-top-secret');",
        )
        .execute(&pool)
        .await
        .unwrap();
        for i in 0..40 {
            sqlx::query(
                "INSERT INTO customers (name, email, ssn, phone, tier) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(format!("Customer {i}"))
            .bind(format!("jane.roe{i}@example.com"))
            .bind(format!("536-22-87{:02}", i + 10))
            .bind(format!("+1 415 555 01{:02}", i))
            .bind(i % 3)
            .execute(&pool)
            .await
            .unwrap();
        }
        // The SSN the tests look for belongs to customer 17 (8726).
        sqlx::raw_sql(
            "INSERT INTO orders (customer_id, total, note) SELECT id, id * 10, 'gift' FROM customers WHERE id <= 5",
        )
        .execute(&pool)
        .await
        .unwrap();
        Shop {
            name,
            pool,
            admin: db.clone(),
        }
    }

    fn dsn(&self, password: &str) -> String {
        let (host, port) = pg_tcp();
        format!(
            "postgres://postgres:{password}@{host}:{port}/{}?sslmode=disable",
            self.name
        )
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn drop(self) {
        self.pool.close().await;
        let _ = sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await;
    }
}

/// An admin with a Postgres connector `shop` and a pack that may use its
/// database tools on customers and orders; returns the agent's key and
/// the ids.
async fn setup(admin: &Admin, dsn: &str, access: Value) -> (String, String, String) {
    let saved = admin
        .ok(
            Method::POST,
            "/databases",
            Some(json!({"name": "shop", "dsn": dsn})),
        )
        .await;
    assert_eq!(saved["test"]["ok"], true, "{saved}");
    let connector = saved["connector"]["connector_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pack = admin
        .ok(Method::POST, "/packs", Some(json!({"name": "Analyst"})))
        .await;
    let pack_id = pack["id"].as_str().unwrap().to_owned();
    let tools: Vec<String> = [
        "db_schema_read",
        "db_table_describe",
        "db_query_read",
        "db_query_explain",
        "db_write_propose",
        "db_update_safe",
        "db_delete_safe",
    ]
    .iter()
    .map(|t| format!("shop__{t}"))
    .collect();
    admin
        .ok(
            Method::PUT,
            &format!("/packs/{pack_id}/tools"),
            Some(json!({"tools": tools})),
        )
        .await;
    let mut body = access;
    body["connector_id"] = json!(connector);
    admin
        .ok(
            Method::PUT,
            &format!("/packs/{pack_id}/databases"),
            Some(body),
        )
        .await;
    let user = admin
        .ok(
            Method::POST,
            "/users",
            Some(json!({"external_id": "u-1", "display_name": "Ursula"})),
        )
        .await;
    let key = admin
        .ok(
            Method::POST,
            "/keys",
            Some(json!({"pack_id": pack_id, "registered_user_id": user["id"], "name": "tests"})),
        )
        .await;
    (
        key["secret"].as_str().unwrap().to_owned(),
        connector,
        pack_id,
    )
}

fn call(tool: &str, args: Value) -> Value {
    json!({"op": "call", "tool": format!("shop__{tool}"), "args": args})
}

fn sql(tool: &str, sql: &str) -> Value {
    call(tool, json!({"sql": sql}))
}

fn rows(out: &Value) -> Value {
    serde_json::from_str(out["text"].as_str().unwrap()).unwrap()
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_agent_reads_two_tables_with_pii_redacted_and_a_risky_delete_waits_for_approval(
    db: PgPool,
) {
    let shop = Shop::create(&db).await;
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (key, connector, _) = setup(
        &admin,
        &shop.dsn("pw-not-checked"),
        json!({"tables": ["public.customers", "public.orders"],
               "masked_columns": ["public.customers.phone"]}),
    )
    .await;
    let shown = admin
        .ok(Method::GET, &format!("/databases/{connector}"), None)
        .await;
    let (host, port) = pg_tcp();
    assert_eq!(
        shown["target"],
        format!("postgres@{host}:{port}/{}", shop.name)
    );
    assert!(
        shown["last_test"]["server_version"]
            .as_str()
            .unwrap()
            .starts_with(|c: char| c.is_ascii_digit()),
        "{shown}"
    );
    assert_eq!(shown["last_test"]["can_write"], true, "{shown}");
    for entity in ["EMAIL_ADDRESS", "US_SSN"] {
        admin
            .ok(
                Method::PUT,
                &format!("/rules/entities/{entity}"),
                Some(json!({"enabled": true, "threshold": "0.5", "arguments": "allow", "results": "redact"})),
            )
            .await;
    }
    admin.set_mode("enforce").await;
    admin
        .ok(
            Method::PUT,
            "/org/approvals",
            Some(json!({"hold_secs": "0", "expiry_hours": "24"})),
        )
        .await;

    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([
            {"op": "list"},
            call("db_schema_read", json!({})),
            call("db_table_describe", json!({"table": "public.customers"})),
            sql("db_query_read", "SELECT c.id, c.name, c.email, c.ssn, c.phone, o.total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE c.id BETWEEN 16 AND 18 ORDER BY c.id"),
            sql("db_query_read", "SELECT * FROM secrets"),
            call("db_table_describe", json!({"table": "secrets"})),
            sql("db_write_propose", "DELETE FROM orders"),
            sql("db_query_read", "SELECT id FROM customers WHERE email = 'jane.roe7@example.com'"),
        ]),
    );
    assert_eq!(rows(&out[7])["rows"][0]["id"], 8, "{}", out[7]);
    let listed: Vec<&str> = out[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(listed.contains(&"shop__db_query_read"), "{listed:?}");

    // The schema: the pack's two tables, not the third.
    assert_eq!(out[1]["is_error"], false, "{}", out[1]);
    let schema = rows(&out[1]);
    let names: Vec<&str> = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["customers", "orders"], "{schema}");

    // Describe: columns, keys, indexes; the masked column says so.
    let described = rows(&out[2]);
    let phone = described["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "phone")
        .unwrap();
    assert_eq!(phone["masked"], true);
    assert_eq!(described["primary_key"]["definition"], "PRIMARY KEY (id)");

    // Read: e-mail and SSN values redacted in their columns, the masked
    // column masked, the other values as stored.
    assert_eq!(out[3]["is_error"], false, "{}", out[3]);
    let read = rows(&out[3]);
    assert_eq!(read["row_count"], 3, "{read}");
    let r = &read["rows"][1];
    assert_eq!(r["id"], 17);
    assert_eq!(r["name"], "Customer 16");
    assert_eq!(r["email"], "[REDACTED:EMAIL_ADDRESS]", "{read}");
    assert_eq!(r["ssn"], "[REDACTED:US_SSN]", "{read}");
    assert_eq!(r["phone"], "[MASKED]");
    let text = out[3]["text"].as_str().unwrap();
    assert!(
        !text.contains("@example.com") && !text.contains(SSN),
        "{text}"
    );

    // The pooled sessions name Gatehouse and the org to the database.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()
           AND application_name LIKE 'gatehouse%'",
    )
    .fetch_all(&shop.pool)
    .await
    .unwrap();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.starts_with("gatehouse org=")),
        "{names:?}"
    );

    // A table outside the pack does not exist for the agent.
    for o in [&out[4], &out[5]] {
        assert_eq!(o["is_error"], true, "{o}");
        assert!(
            o["text"]
                .as_str()
                .unwrap()
                .contains("public.secrets is not available to this Tool Pack"),
            "{o}"
        );
    }

    // A DELETE without WHERE: scored, held for a person, not run.
    assert_eq!(out[6]["is_error"], true, "{}", out[6]);
    assert!(
        out[6]["text"].as_str().unwrap().contains("approval"),
        "{}",
        out[6]
    );
    assert_eq!(shop.count("orders").await, 5, "nothing ran before approval");
    let pending = admin
        .ok(Method::GET, "/approvals?status=pending", None)
        .await;
    let request = pending.as_array().unwrap().first().cloned().unwrap();
    let risk = &request["arguments_redacted"]["gatehouse_risk"];
    assert!(risk["score"].as_u64().unwrap() >= 50, "{request}");
    assert!(
        risk["reasons"].to_string().contains("no WHERE clause"),
        "{request}"
    );
    assert_eq!(risk["table"], "public.orders");
    let id = request["id"].as_str().unwrap();
    admin
        .ok(
            Method::POST,
            &format!("/approvals/{id}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    // Approved: the same proposal now runs, once, in a transaction capped
    // at the pack's write limit (10 rows; the table has 5).
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([sql("db_write_propose", "DELETE FROM orders")]),
    );
    assert_eq!(out[0]["is_error"], false, "{}", out[0]);
    let done = rows(&out[0]);
    assert_eq!(done["rows_affected"], 5, "{done}");
    assert_eq!(shop.count("orders").await, 0);

    // Compact records: kind, tables and fingerprint, never the SQL text.
    let resources: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT tool, resource FROM tool_calls ORDER BY created_at")
            .fetch_all(&db)
            .await
            .unwrap();
    let read_resource = resources
        .iter()
        .find(|(t, r)| {
            t == "shop__db_query_read" && r.as_deref().is_some_and(|r| r.contains("customers"))
        })
        .and_then(|(_, r)| r.clone())
        .unwrap();
    assert!(
        read_resource.starts_with("SELECT customers,orders #"),
        "{read_resource}"
    );
    assert!(!read_resource.contains("BETWEEN"), "{read_resource}");
    // The drill-down shows the SQL, detected values redacted.
    let (call_id,): (uuid::Uuid,) =
        sqlx::query_as("SELECT id FROM tool_calls WHERE statement LIKE '%WHERE email%' LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    let detail = admin
        .ok(Method::GET, &format!("/calls/{call_id}"), None)
        .await;
    assert_eq!(
        detail["statement"], "SELECT id FROM customers WHERE email = '[REDACTED:EMAIL_ADDRESS]'",
        "{detail}"
    );
    assert!(!detail["call"].to_string().contains("email"), "{detail}");
    // The alerts' evidence names the statement, not its text.
    let snippet: String = sqlx::query_scalar(
        "SELECT snippet FROM violations WHERE call_id = $1 AND direction = 'arguments'",
    )
    .bind(call_id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        snippet.starts_with("SELECT customers #")
            && snippet.ends_with(" · [REDACTED:EMAIL_ADDRESS]"),
        "{snippet}"
    );
    shop.drop().await;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn statements_that_escape_a_read_are_refused_and_caps_hold(db: PgPool) {
    let shop = Shop::create(&db).await;
    let gh = Gatehouse::start(&db, &[("GATEHOUSE_DB_STATEMENT_TIMEOUT_MS", "700")]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (key, _, _) = setup(
        &admin,
        &shop.dsn("x"),
        json!({"tables": ["public.customers", "public.orders"],
               "masked_columns": ["public.customers.phone"],
               "max_rows": 10, "max_write_rows": 3}),
    )
    .await;
    let refused = [
        ("SELECT 1; SELECT 2", "only one statement"),
        (
            "SELECT * FROM customers; DROP TABLE customers",
            "only one statement",
        ),
        (
            "WITH gone AS (DELETE FROM customers RETURNING *) SELECT * FROM gone",
            "WITH clause may not change data",
        ),
        (
            "COPY customers TO PROGRAM 'touch /tmp/pwned'",
            "the statement is COPY",
        ),
        ("SELECT pg_sleep(30)", "function pg_sleep is not allowed"),
        (
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "function set_config is not allowed",
        ),
        (
            "SELECT query_to_xml('select * from secrets', true, true, '')",
            "function query_to_xml is not allowed",
        ),
        ("SELECT * INTO stolen FROM customers", "SELECT … INTO"),
        ("DROP TABLE customers", "the statement is DROP"),
    ];
    let steps: Vec<Value> = refused
        .iter()
        .map(|(q, _)| sql("db_query_read", q))
        .collect();
    let out = agent(&gh.base, &key, "auto", json!(steps));
    for ((q, why), o) in refused.iter().zip(&out) {
        assert_eq!(o["is_error"], true, "{q}: {o}");
        let text = o["text"].as_str().unwrap();
        assert!(
            text.contains("refused and not sent to the database") && text.contains(why),
            "{q}: {text}"
        );
    }
    assert_eq!(shop.count("customers").await, 40, "nothing ran");

    let started = Instant::now();
    let out = agent(
        &gh.base,
        &key,
        "auto",
        json!([
            // Statement timeout (700 ms here): a cross join of 40^5 rows.
            sql(
                "db_query_read",
                "SELECT count(*) FROM customers a, customers b, customers c, customers d, customers e"
            ),
            // Row cap.
            sql("db_query_read", "SELECT id FROM customers ORDER BY id"),
            // The mask holds inside expressions and conditions too.
            sql(
                "db_query_read",
                "SELECT substr(phone, 1, 3) AS p FROM customers WHERE phone LIKE '+1%' LIMIT 1"
            ),
            sql(
                "db_query_read",
                "SELECT to_jsonb(c) AS whole FROM customers c WHERE id = 1"
            ),
            // Explain without ANALYZE.
            sql(
                "db_query_explain",
                "SELECT * FROM orders WHERE customer_id = 2"
            ),
            call(
                "db_query_explain",
                json!({"sql": "SELECT 1 FROM orders", "analyze": true})
            ),
            // Safe writes: WHERE required, the cap rolls back.
            sql("db_delete_safe", "DELETE FROM orders"),
            sql("db_delete_safe", "DELETE FROM orders WHERE id > 0"),
            sql("db_delete_safe", "DELETE FROM orders WHERE id = 1"),
            sql(
                "db_update_safe",
                "UPDATE customers SET tier = 9 WHERE id = 2"
            ),
            sql(
                "db_update_safe",
                "UPDATE customers SET tier = 9 WHERE phone LIKE '+1%'"
            ),
            // Byte cap: a huge value is never sent to Gatehouse.
            sql(
                "db_query_read",
                "SELECT id, repeat('x', 200000) AS big FROM customers ORDER BY id",
            ),
            sql(
                "db_query_read",
                "SELECT id, repeat('x', 2000000) AS big FROM customers ORDER BY id",
            ),
        ]),
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    assert!(
        out[0]["text"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{}",
        out[0]
    );
    let capped = rows(&out[1]);
    assert_eq!(capped["row_count"], 10, "{capped}");
    assert_eq!(capped["truncated"], true);
    assert!(
        capped["note"]
            .as_str()
            .unwrap()
            .contains("Capped at 10 rows")
    );
    assert_eq!(rows(&out[2])["row_count"], 0, "{}", out[2]);
    let whole = rows(&out[3]);
    assert_eq!(whole["rows"][0]["whole"]["phone"], "[MASKED]", "{whole}");
    let plan = rows(&out[4]);
    assert!(plan["plan"][0]["Plan"]["Node Type"].is_string(), "{plan}");
    assert_eq!(out[5]["is_error"], true);
    assert!(
        out[5]["text"]
            .as_str()
            .unwrap()
            .contains("does not allow it")
    );
    assert!(
        out[6]["text"]
            .as_str()
            .unwrap()
            .contains("DELETE needs a WHERE clause"),
        "{}",
        out[6]
    );
    assert_eq!(out[7]["is_error"], true, "{}", out[7]);
    assert!(
        out[7]["text"].as_str().unwrap().contains("would change 5 rows of public.orders, more than this Tool Pack's cap of 3; it was rolled back"),
        "{}",
        out[7]
    );
    assert_eq!(rows(&out[8])["rows_affected"], 1, "{}", out[8]);
    assert_eq!(shop.count("orders").await, 4);
    assert_eq!(rows(&out[9])["rows_affected"], 1, "{}", out[9]);
    assert!(
        out[10]["text"]
            .as_str()
            .unwrap()
            .contains("is masked for this Tool Pack"),
        "{}",
        out[10]
    );
    let big = rows(&out[11]);
    assert_eq!(big["row_count"], 1, "{}", out[11]);
    assert!(big["note"].as_str().unwrap().contains("256 KiB"), "{big}");
    let huge = rows(&out[12]);
    assert_eq!(huge["row_count"], 0);
    assert!(
        huge["note"]
            .as_str()
            .unwrap()
            .contains("the next row alone is larger"),
        "{huge}"
    );
    shop.drop().await;
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn the_dsn_never_leaves_gatehouse_and_private_targets_stay_refused(db: PgPool) {
    let shop = Shop::create(&db).await;
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let log = temp_dir("pglog").join("gatehouse.log");
    let open = Gatehouse::start_logged(&db, &[], &log);
    let admin = Admin::create(&db, &open.base, "Acme").await;
    // Saved by name while private addresses were allowed…
    let (host, port) = pg_tcp();
    let by_name = shop
        .dsn(&password)
        .replace(&format!("@{host}:"), "@localhost:");
    let (key, connector, _) =
        setup(&admin, &by_name, json!({"tables": ["public.customers"]})).await;
    let out = agent(
        &open.base,
        &key,
        "auto",
        json!([sql("db_query_read", "SELECT count(*) AS n FROM customers")]),
    );
    assert_eq!(rows(&out[0])["rows"][0]["n"], 40, "{}", out[0]);
    let mut answers = String::new();
    for path in [
        "/databases",
        "/connectors",
        &format!("/databases/{connector}"),
    ] {
        answers.push_str(&admin.ok(Method::GET, path, None).await.to_string());
    }
    answers.push_str(
        &admin
            .ok(Method::POST, &format!("/databases/{connector}/test"), None)
            .await
            .to_string(),
    );
    // Editing without the password keeps it (the form never shows it).
    let edited = admin
        .ok(
            Method::PUT,
            &format!("/databases/{connector}"),
            Some(json!({"name": "shop", "host": "localhost", "port": port,
                        "database": shop.name, "user": "postgres", "ssl_mode": "disable"})),
        )
        .await;
    assert_eq!(edited["test"]["ok"], true, "{edited}");
    answers.push_str(&edited.to_string());
    // TLS asked for is TLS or nothing (never a quiet fall-back to clear
    // text), and verify-full checks the certificate.
    let tls_dsn = |mode: &str| by_name.replace("sslmode=disable", &format!("sslmode={mode}"));
    let require = admin
        .ok(
            Method::POST,
            "/databases",
            Some(json!({"name": "shop-tls", "dsn": tls_dsn("require")})),
        )
        .await;
    // By address: Debian's certificate names localhost only.
    let verify = admin
        .ok(
            Method::POST,
            "/databases",
            Some(json!({"name": "shop-verify",
                        "dsn": tls_dsn("verify-full").replace("@localhost:", "@127.0.0.1:")})),
        )
        .await;
    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&shop.pool)
        .await
        .unwrap();
    let said = |v: &Value| v["test"]["message"].as_str().unwrap().to_owned();
    if ssl == "on" {
        // A server with Debian's certificate (for localhost): encrypted is
        // fine; verified for another name is not.
        assert_eq!(require["test"]["ok"], true, "{require}");
        assert_eq!(verify["test"]["ok"], false, "{verify}");
        assert!(said(&verify).contains("certificate"), "{verify}");
    } else {
        for v in [&require, &verify] {
            assert_eq!(v["test"]["ok"], false, "{v}");
            assert!(said(v).contains("TLS"), "{v}");
        }
    }
    answers.push_str(&require.to_string());
    answers.push_str(&verify.to_string());
    drop(open);

    // …and used once the operator forbids private targets: the name now
    // answers loopback, so nothing connects, whatever was saved.
    let strict = Gatehouse::start(&db, &[("GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS", "false")]);
    let admin = admin.at(&strict.base);
    let out = agent(
        &strict.base,
        &key,
        "auto",
        json!([sql("db_query_read", "SELECT count(*) FROM customers")]),
    );
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    assert!(
        out[0]["text"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{}",
        out[0]
    );
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM tool_calls ORDER BY created_at DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(outcome, "upstream_forbidden");
    let test = admin
        .ok(Method::POST, &format!("/databases/{connector}/test"), None)
        .await;
    assert_eq!(test["ok"], false);
    assert!(
        test["message"]
            .as_str()
            .unwrap()
            .contains("not a public address"),
        "{test}"
    );
    // Saving one is refused with the reason, for names and addresses.
    for dsn in [
        shop.dsn("x"),
        by_name.clone(),
        "postgres://u:p@169.254.169.254:5432/db?sslmode=require".to_owned(),
        "postgres://u:p@[::ffff:127.0.0.1]:5432/db?sslmode=require".to_owned(),
    ] {
        let (status, body) = admin
            .send(
                Method::POST,
                "/databases",
                Some(json!({"name": "internal", "dsn": dsn})),
            )
            .await;
        assert_eq!(status, 422, "{dsn}: {body}");
        assert!(body.to_string().contains("not a public address"), "{body}");
    }
    // A public target must be encrypted; libpq's escapes are refused.
    for (dsn, field, why) in [
        (
            "postgres://u:p@8.8.8.8:5432/db?sslmode=disable",
            "ssl_mode",
            "must be encrypted",
        ),
        (
            "postgres://u:p@db.example.com:5432/db?sslmode=prefer",
            "dsn",
            "not supported",
        ),
        (
            "postgres://u:p@db.example.com:5432/db?host=/var/run/postgresql",
            "dsn",
            "not supported",
        ),
    ] {
        let (status, body) = admin
            .send(
                Method::POST,
                "/databases",
                Some(json!({"name": "other", "dsn": dsn})),
            )
            .await;
        assert_eq!(status, 422, "{dsn}: {body}");
        let text = body.to_string();
        assert!(text.contains(field) && text.contains(why), "{dsn}: {text}");
        assert!(!text.contains("u:p@"), "{text}");
    }
    drop(strict);

    // `gatehouse rotate-master-key` re-seals the target: a server with only
    // the new key still reaches the database.
    use server::crypto::Keyring;
    use server::master_key::MasterKey;
    let old = MasterKey::from_base64(crate::harness::MASTER_KEY).unwrap();
    let new_b64 = "bmV3LW1hc3Rlci1rZXktZm9yLXRlc3RzLTMyLWJ5dGU=";
    let ring = Keyring::new(&MasterKey::from_base64(new_b64).unwrap(), &[old]);
    let n = server::service::rotation::reseal_all(&db, &ring)
        .await
        .unwrap();
    assert!(n >= 2, "both targets were re-sealed ({n})");
    let rotated = Gatehouse::start(&db, &[("GATEHOUSE_MASTER_KEY", new_b64)]);
    let test = admin
        .at(&rotated.base)
        .ok(Method::POST, &format!("/databases/{connector}/test"), None)
        .await;
    assert_eq!(test["ok"], true, "{test}");
    drop(rotated);

    // The password is nowhere: API answers, logs, Gatehouse's database.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("Postgres connector created"), "{logged}");
    for (what, text) in [
        ("answers", &answers),
        ("log", &logged),
        ("pg_dump", &dump(&db)),
    ] {
        assert!(!text.contains(&password), "the password is in the {what}");
    }
    shop.drop().await;
}
