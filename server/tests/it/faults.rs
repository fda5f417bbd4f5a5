//! Faults: the database going away in the middle of a load of tool calls.
//! In enforce mode nothing runs that cannot be recorded, and every call
//! that reached the upstream is on record afterwards.

use std::path::{Path, PathBuf};

use serde_json::json;
use server::embedded_pg::EmbeddedPostgres;
use sqlx::postgres::PgPoolOptions;

use crate::harness::{Admin, Gatehouse, Upstream, agent_with, temp_dir};

/// A cluster of our own (Gatehouse's embedded Postgres, which also runs
/// under root), which this test may crash and restart at will.
struct Cluster {
    dir: PathBuf,
    pg: Option<EmbeddedPostgres>,
}

impl Cluster {
    async fn start(dir: &Path) -> Self {
        let pg = EmbeddedPostgres::start(dir, None).await.unwrap();
        Cluster {
            dir: dir.to_owned(),
            pg: Some(pg),
        }
    }

    fn url(&self) -> String {
        let root = self.dir.join("postgres");
        let password = std::fs::read_to_string(root.join("password")).unwrap();
        assert!(
            password
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        );
        format!(
            "postgres://gatehouse:{}@localhost:5432/gatehouse?host={}",
            password.trim(),
            root.join("run").display()
        )
    }

    /// Like a crash: the postmaster gets SIGQUIT (immediate shutdown, no
    /// checkpoint, every connection cut).
    async fn crash(&mut self) {
        let pid_file = self.dir.join("postgres/data/postmaster.pid");
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGQUIT,
        )
        .unwrap();
        for _ in 0..100 {
            if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // Releases the data directory's lock.
        self.pg = None;
    }

    async fn restart(&mut self) {
        self.pg = Some(EmbeddedPostgres::start(&self.dir, None).await.unwrap());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.pg.is_some() {
            let pid_file = self.dir.join("postgres/data/postmaster.pid");
            if let Some(pid) = std::fs::read_to_string(pid_file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGQUIT,
                );
            }
        }
    }
}

fn echo(i: usize) -> serde_json::Value {
    json!({"op": "call", "tool": "fixture__echo", "args": {"text": format!("call {i}")}})
}

#[tokio::test]
async fn postgres_stopped_under_load_fails_closed_and_leaves_no_call_unrecorded() {
    let mut cluster = Cluster::start(&temp_dir("faults")).await;
    let db = PgPoolOptions::new().connect(&cluster.url()).await.unwrap();
    server::db::MIGRATOR.run(&db).await.unwrap();
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start_at(&cluster.url(), &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["echo"]).await;
    admin.set_mode("enforce").await;
    db.close().await;

    // A steady load of calls from an agent…
    let base = gh.base.clone();
    let key2 = key.clone();
    let load = std::thread::spawn(move || {
        let steps: Vec<_> = (0..200).map(echo).collect();
        agent_with(&base, Some(&key2), None, "auto", json!(steps))
    });
    // …while the database dies (once the load is well under way) and
    // comes back.
    for _ in 0..300 {
        if upstream.calls().len() >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    cluster.crash().await;
    let down_at = upstream.calls().len();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let while_down = upstream.calls().len();
    cluster.restart().await;
    let outcome = load.join().unwrap();

    // Nothing reached the upstream while nothing could be recorded (one
    // call may have been dispatched, after its intent was written, at the
    // moment of the crash).
    assert!(
        while_down <= down_at + 1,
        "{down_at} calls before, {while_down} after the crash"
    );
    // Every call the upstream saw is on record: intent before dispatch.
    let db = PgPoolOptions::new().connect(&cluster.url()).await.unwrap();
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tool_calls WHERE tool = 'fixture__echo'
           AND outcome IN ('ok', 'in_flight', 'tool_error')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let seen = upstream.calls().len() as i64;
    eprintln!(
        "faults: {down_at} upstream calls before the crash, {while_down} while down, {seen} in all; {recorded} recorded"
    );
    assert!(seen > 0, "the load never ran: {outcome:?}");
    assert!(
        recorded >= seen,
        "{seen} upstream calls, {recorded} on record"
    );
    // And the gateway recovers by itself.
    let out = agent_with(&gh.base, Some(&key), None, "auto", json!([echo(999)])).unwrap();
    assert_eq!(out[0]["text"], "call 999");
}

#[sqlx::test(migrator = "server::db::MIGRATOR")]
async fn an_upstream_killed_mid_call_is_a_clear_recorded_error(db: sqlx::PgPool) {
    let upstream = Upstream::start(true, None);
    let gh = Gatehouse::start(&db, &[]);
    let admin = Admin::create(&db, &gh.base, "Acme").await;
    let (_, key) = admin.agent_setup(&upstream, None, &["slow"]).await;
    let base = gh.base.clone();
    let running = std::thread::spawn(move || {
        agent_with(
            &base,
            Some(&key),
            None,
            "auto",
            json!([{"op": "call", "tool": "fixture__slow", "args": {"seconds": 5}}]),
        )
    });
    // Once the upstream is working on the call, it dies.
    for _ in 0..200 {
        if !upstream.calls().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(upstream.calls().len(), 1);
    upstream.kill();
    let out = running.join().unwrap().unwrap();
    assert_eq!(out[0]["is_error"], true, "{}", out[0]);
    let text = out[0]["text"].as_str().unwrap();
    assert!(text.contains("could not be reached"), "{text}");
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM tool_calls WHERE tool = 'fixture__slow'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(outcome, "upstream_unreachable");
}
