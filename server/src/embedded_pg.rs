//! The embedded Postgres used when no `DATABASE_URL` is configured.
//!
//! We run the system's own `postgres` binary as a child process on a
//! cluster inside the data directory, reachable only through a unix socket
//! in that directory (`listen_addresses=''`: no TCP port). The cluster uses
//! scram-sha-256 with a random password kept in a 0600 file, so other local
//! users cannot connect even if they can reach the socket.
//!
//! Why not a crate that downloads Postgres: this machine class (and many
//! air-gapped installs) cannot download binaries, while Debian's `postgresql`
//! package is one `apt-get` away.
//!
//! Lifecycle guarantees:
//! * an exclusive `flock` on `<data>/gatehouse.lock` means one Gatehouse per
//!   data directory; the kernel drops it if we crash;
//! * a postmaster left running by a crashed Gatehouse is found through
//!   `postmaster.pid` and shut down before we start our own (Postgres then
//!   replays its WAL, so no committed data is lost);
//! * [`EmbeddedPostgres::stop`] performs a fast shutdown and waits for it.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::process::{Child, Command};

const DB_USER: &str = "gatehouse";
const DB_NAME: &str = "gatehouse";
const PORT: u16 = 5432;

/// A running embedded cluster. Call [`EmbeddedPostgres::stop`] on shutdown.
pub struct EmbeddedPostgres {
    child: Child,
    connect: PgConnectOptions,
    log_path: PathBuf,
    _lock: Flock<File>,
}

/// Where the cluster's files live inside the data directory.
struct Layout {
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    password: PathBuf,
}

impl Layout {
    fn new(data_dir: &Path) -> Self {
        let root = data_dir.join("postgres");
        Self {
            pgdata: root.join("data"),
            socket_dir: root.join("run"),
            log: root.join("postgres.log"),
            password: root.join("password"),
            root,
        }
    }
}

impl EmbeddedPostgres {
    /// Initialises (first run) or reuses the cluster in `data_dir`, starts
    /// it and waits until it accepts connections.
    pub async fn start(data_dir: &Path, pg_bin: Option<&Path>) -> anyhow::Result<Self> {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("resolving {}", data_dir.display()))?;
        let lock = lock_data_dir(&data_dir)?;
        let bin = find_bin_dir(pg_bin)?;
        let layout = Layout::new(&data_dir);
        let sock = layout.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        // Unix socket paths are limited to 107 bytes on Linux.
        if sock.as_os_str().len() > 100 {
            bail!(
                "the data directory path is too long for a Postgres unix socket ({}); \
                 set GATEHOUSE_DATA_DIR to a shorter path",
                sock.display()
            );
        }
        let owner = cluster_owner()?;
        if let Some(u) = &owner {
            check_reachable(&data_dir, u)?;
        }
        fs::create_dir_all(&layout.root)?;
        fs::create_dir_all(&layout.socket_dir)?;
        fs::set_permissions(&layout.socket_dir, fs::Permissions::from_mode(0o700))?;
        if let Some(u) = &owner {
            chown(&layout.root, Some(u.uid), Some(u.gid))?;
            chown(&layout.socket_dir, Some(u.uid), Some(u.gid))?;
        }

        let fresh = !layout.pgdata.join("PG_VERSION").exists();
        if fresh {
            init_cluster(&bin, &layout, owner.as_ref()).await?;
        } else {
            stop_orphan(&layout).await?;
        }
        let password = fs::read_to_string(&layout.password)
            .with_context(|| format!("reading {}", layout.password.display()))?;

        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&layout.log)
            .with_context(|| format!("opening {}", layout.log.display()))?;
        if let Some(u) = &owner {
            chown(&layout.log, Some(u.uid), Some(u.gid))?;
        }
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&layout.pgdata)
            .arg("-k")
            .arg(&layout.socket_dir)
            .arg("-p")
            .arg(PORT.to_string())
            .arg("-c")
            .arg("listen_addresses=")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Our own process group: a terminal's Ctrl-C reaches only
            // Gatehouse, which then drains requests before stopping Postgres.
            .process_group(0);
        if let Some(u) = &owner {
            cmd.uid(u.uid.as_raw()).gid(u.gid.as_raw());
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.join("postgres").display()))?;

        let base = PgConnectOptions::new()
            .socket(&layout.socket_dir)
            .port(PORT)
            .username(DB_USER)
            .password(password.trim());
        let mut pg = Self {
            child,
            connect: base.clone().database(DB_NAME),
            log_path: layout.log.clone(),
            _lock: lock,
        };
        pg.wait_ready(&base.clone().database("postgres")).await?;
        if fresh {
            let mut conn = base.clone().database("postgres").connect().await?;
            sqlx::query(&format!("CREATE DATABASE {DB_NAME}"))
                .execute(&mut conn)
                .await
                .context("creating the gatehouse database")?;
            conn.close().await?;
        }
        tracing::info!(
            data = %layout.pgdata.display(),
            socket = %layout.socket_dir.display(),
            "embedded Postgres is running (unix socket only)"
        );
        Ok(pg)
    }

    /// How to connect to the Gatehouse database.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.connect.clone()
    }

    async fn wait_ready(&mut self, opts: &PgConnectOptions) -> anyhow::Result<()> {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "Postgres exited during start-up ({status}). Last log lines from {}:\n{}",
                    self.log_path.display(),
                    tail(&self.log_path, 15)
                );
            }
            if let Ok(conn) = opts.connect().await {
                let _ = conn.close().await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "Postgres did not accept connections within 60 s. Last log lines:\n{}",
            tail(&self.log_path, 15)
        )
    }

    /// Fast shutdown: active transactions are rolled back, everything
    /// committed is on disk. Waits for the postmaster to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let pid = Pid::from_raw(i32::try_from(pid)?);
            let _ = kill(pid, Signal::SIGINT);
            match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
                Ok(status) => {
                    status?;
                }
                Err(_) => {
                    tracing::warn!("Postgres did not stop within 30 s; forcing an immediate stop");
                    let _ = kill(pid, Signal::SIGQUIT);
                    self.child.wait().await?;
                }
            }
        }
        tracing::info!("embedded Postgres stopped");
        Ok(())
    }
}

/// One Gatehouse per data directory. The lock dies with the process.
fn lock_data_dir(data_dir: &Path) -> anyhow::Result<Flock<File>> {
    let path = data_dir.join("gatehouse.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        anyhow::anyhow!(
            "another Gatehouse process is already using {} (stop it first, or set \
             GATEHOUSE_DATA_DIR to another directory)",
            data_dir.display()
        )
    })
}

/// The directory with `initdb` and `postgres`.
fn find_bin_dir(configured: Option<&Path>) -> anyhow::Result<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = configured {
        if has(d) {
            return Ok(d.to_path_buf());
        }
        bail!(
            "GATEHOUSE_PG_BIN={} does not contain initdb and postgres",
            d.display()
        );
    }
    // Debian/Ubuntu keep server binaries outside PATH, one dir per version.
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| has(p))
        .collect();
    candidates.sort();
    if let Some((_, p)) = candidates.pop() {
        return Ok(p);
    }
    for dir in std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if has(&dir) {
            return Ok(dir);
        }
        // PATH may hold symlinks (e.g. /usr/local/bin/initdb); follow them.
        if let Ok(real) = fs::canonicalize(dir.join("initdb"))
            && let Some(parent) = real.parent()
            && has(parent)
        {
            return Ok(parent.to_path_buf());
        }
    }
    bail!(
        "Postgres server binaries (initdb, postgres) were not found.\n\
         Install them — Debian/Ubuntu: `sudo apt-get install -y postgresql` — or set \
         GATEHOUSE_PG_BIN to the directory that contains them, or set DATABASE_URL to use \
         an existing database instead of the embedded one."
    )
}

/// Postgres refuses to run as root; when we are root, the cluster belongs
/// to the system's `postgres` user instead.
fn cluster_owner() -> anyhow::Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres")? {
        Some(u) => Ok(Some(u)),
        None => bail!(
            "Postgres cannot run as root and there is no `postgres` user to run it as. \
             Run Gatehouse as a regular user, or create the user \
             (`useradd --system postgres`), or set DATABASE_URL."
        ),
    }
}

/// When the cluster runs as another user, every directory above it must be
/// traversable by that user (e.g. not inside root's 0700 home).
fn check_reachable(data_dir: &Path, user: &User) -> anyhow::Result<()> {
    for dir in data_dir.ancestors() {
        let meta = fs::metadata(dir)?;
        let mode = meta.permissions().mode();
        use std::os::unix::fs::MetadataExt;
        let ok = mode & 0o001 != 0 || (meta.uid() == user.uid.as_raw() && mode & 0o100 != 0);
        if !ok {
            bail!(
                "the `postgres` user cannot reach {} ({} is not accessible to it). \
                 Run Gatehouse as a regular user, or set GATEHOUSE_DATA_DIR to a directory \
                 outside {}, or set DATABASE_URL.",
                data_dir.display(),
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

async fn init_cluster(bin: &Path, layout: &Layout, owner: Option<&User>) -> anyhow::Result<()> {
    tracing::info!(data = %layout.pgdata.display(), "creating the embedded Postgres cluster (first run)");
    // A half-initialised cluster from an interrupted first run is useless.
    if layout.pgdata.exists() {
        fs::remove_dir_all(&layout.pgdata)?;
    }
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let password = hex::encode(raw);
    write_private(&layout.password, &password, None)?;
    let pwfile = layout.root.join("initdb.pw");
    write_private(&pwfile, &password, owner)?;

    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(&layout.pgdata)
        .arg("-U")
        .arg(DB_USER)
        .arg("--auth=scram-sha-256")
        .arg(format!("--pwfile={}", pwfile.display()))
        .arg("-E")
        .arg("UTF8")
        .arg("--locale=C")
        .stdin(Stdio::null());
    if let Some(u) = owner {
        cmd.uid(u.uid.as_raw()).gid(u.gid.as_raw());
    }
    let out = cmd.output().await.context("running initdb")?;
    let _ = fs::remove_file(&pwfile);
    if !out.status.success() {
        bail!(
            "initdb failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str, owner: Option<&User>) -> anyhow::Result<()> {
    let _ = fs::remove_file(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    if let Some(u) = owner {
        chown(path, Some(u.uid), Some(u.gid))?;
    }
    Ok(())
}

/// Stops a postmaster left behind by a Gatehouse that died without
/// shutting it down. Safe because we hold the data-dir lock: no living
/// Gatehouse owns it.
async fn stop_orphan(layout: &Layout) -> anyhow::Result<()> {
    let pidfile = layout.pgdata.join("postmaster.pid");
    let Ok(text) = fs::read_to_string(&pidfile) else {
        return Ok(());
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        return Ok(());
    };
    let pid = Pid::from_raw(pid);
    let is_postgres = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("postgres"))
        .unwrap_or(false);
    if kill(pid, None).is_ok() && is_postgres {
        tracing::warn!(%pid, "found a Postgres left running by an earlier Gatehouse; stopping it");
        let _ = kill(pid, Signal::SIGINT);
        for _ in 0..300 {
            if kill(pid, None).is_err() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the leftover Postgres (pid {pid}) did not stop; stop it by hand and retry");
    }
    // Stale lock files from a crash; Postgres would refuse to start if the
    // recorded pid now belongs to another process.
    tracing::info!("removing stale Postgres lock files left by a crash");
    let _ = fs::remove_file(&pidfile);
    let _ = fs::remove_file(layout.socket_dir.join(format!(".s.PGSQL.{PORT}.lock")));
    Ok(())
}

fn tail(path: &Path, n: usize) -> String {
    let Ok(f) = File::open(path) else {
        return String::new();
    };
    let lines: Vec<String> = BufReader::new(f).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
