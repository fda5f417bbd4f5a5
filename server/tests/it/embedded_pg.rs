//! The embedded Postgres and the `gatehouse` binary's process lifecycle.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::embedded_pg::EmbeddedPostgres;
use sqlx::{ConnectOptions, Connection};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gh-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether any process is a Postgres serving a cluster inside `dir`.
fn postgres_running(dir: &Path) -> bool {
    let needle = dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .any(|c| c.contains("postgres") && c.contains(&needle) && !c.contains("gh-it-test-runner"))
}

async fn query_i64(pg: &EmbeddedPostgres, sql: &str) -> Vec<i64> {
    let mut c = pg.connect_options().connect().await.unwrap();
    let rows: Vec<i64> = sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap();
    c.close().await.unwrap();
    rows
}

async fn exec(pg: &EmbeddedPostgres, sql: &str) {
    let mut c = pg.connect_options().connect().await.unwrap();
    sqlx::query(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

#[tokio::test]
async fn embedded_cluster_keeps_data_stops_cleanly_and_recovers_from_crashes() {
    let dir = temp_dir("lifecycle");
    let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
    exec(&pg, "CREATE TABLE t (v bigint)").await;
    exec(&pg, "INSERT INTO t VALUES (1)").await;
    // Unix socket only: no TCP listener configured.
    let listen: Vec<String> = {
        let mut c = pg.connect_options().connect().await.unwrap();
        sqlx::query_scalar("SELECT setting FROM pg_settings WHERE name = 'listen_addresses'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(listen, [""]);
    pg.stop().await.unwrap();
    assert!(
        !postgres_running(&dir),
        "stop leaves no Postgres process behind"
    );

    // A second start reuses the data.
    let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
    assert_eq!(query_i64(&pg, "SELECT v FROM t").await, [1]);
    // Simulate Gatehouse dying without stopping Postgres.
    drop(pg);
    assert!(
        postgres_running(&dir),
        "the orphan keeps running until the next start"
    );
    let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
    exec(&pg, "INSERT INTO t VALUES (2)").await;
    assert_eq!(query_i64(&pg, "SELECT v FROM t ORDER BY v").await, [1, 2]);
    pg.stop().await.unwrap();

    // A stale postmaster.pid naming some unrelated live process.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(
        dir.join("postgres/data/postmaster.pid"),
        format!(
            "{}\n{}\n",
            sleeper.id(),
            dir.join("postgres/data").display()
        ),
    )
    .unwrap();
    let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
    assert_eq!(query_i64(&pg, "SELECT count(*) FROM t").await, [2]);
    pg.stop().await.unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert!(!postgres_running(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn one_gatehouse_per_data_directory_and_clear_errors() {
    let dir = temp_dir("lock");
    let pg = EmbeddedPostgres::start(&dir, None).await.unwrap();
    let err = EmbeddedPostgres::start(&dir, None).await.err().unwrap();
    assert!(
        err.to_string().contains("another Gatehouse process"),
        "{err}"
    );
    pg.stop().await.unwrap();

    let err = EmbeddedPostgres::start(&temp_dir("nobin"), Some(Path::new("/nonexistent/bin")))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("does not contain initdb"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_binary_serves_with_embedded_postgres_and_stops_it_on_sigterm() {
    let dir = temp_dir("binary");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("GATEHOUSE_DATA_DIR", &dir)
        .env("GATEHOUSE_ADDR", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_SITE_ROOT", "/nonexistent")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let mut url_line = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("Gatehouse is running at") {
            url_line = line;
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no start-up line"
        );
    }
    assert_eq!(
        url_line,
        format!("Gatehouse is running at http://127.0.0.1:{port}/")
    );
    assert!(http_get(port, "/readyz").ends_with("ready"));
    // The development master key was generated with private permissions.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("master.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(postgres_running(&dir));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !postgres_running(&dir),
        "Gatehouse stops its Postgres on SIGTERM"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_explains_every_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for setting in [
        "GATEHOUSE_ADDR",
        "DATABASE_URL",
        "GATEHOUSE_DATA_DIR",
        "GATEHOUSE_PUBLIC_URL",
        "GATEHOUSE_MASTER_KEY",
    ] {
        assert!(
            help.contains(setting),
            "--help should mention {setting}:\n{help}"
        );
    }
    let top = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("--help")
        .output()
        .unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    assert!(top.contains("serve") && top.contains("migrate"), "{top}");
}
