//! The Postgres connector: connections to tenants' databases and the
//! governed database tools that run on them.
//!
//! Every connection is made to an address checked at that moment (the
//! same rules as every outbound connection, see [`crate::egress`]): the
//! name is resolved, every address of the answer must be allowed, and the
//! socket is opened to one of exactly those addresses before Postgres'
//! protocol starts on it — so a DNS answer that changes after the
//! connector was saved cannot reach an internal address. TLS is required
//! unless the database is on this machine, and never downgrades.
//!
//! One small pool per connector (see [`Databases`]); each session gets a
//! statement timeout, a lock timeout, an idle-in-transaction timeout and an
//! `application_name` naming Gatehouse and the org.

pub mod dsn;
pub mod exec;
pub mod sql;
pub mod tools;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, RecycleError, RecycleResult};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use shared::api::PostgresSslMode;
use tokio::net::TcpStream;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::egress::EgressPolicy;
pub use dsn::Target;

/// Limits of every session Gatehouse opens on a tenant's database.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub connect_timeout: Duration,
    /// Connections per connector.
    pub pool_size: usize,
    /// A connection unused this long is closed.
    pub idle: Duration,
}

impl Limits {
    /// The longest one tool call may take on the client side (several
    /// statements, each under the server's statement timeout).
    pub fn call_limit(&self) -> Duration {
        self.statement_timeout * 3 + Duration::from_secs(5)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            pool_size: 4,
            idle: Duration::from_secs(300),
        }
    }
}

/// Why a database could not be used. The texts are safe to show: they
/// never hold the password (Postgres' own errors do not carry it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Forbidden(String),
    #[error("could not connect to the database: {0}")]
    Connect(String),
    #[error("the database did not answer within {0} seconds")]
    Timeout(u64),
    /// Postgres refused a statement (its message).
    #[error("{0}")]
    Statement(String),
    /// Gatehouse refused it (tables, masks, caps).
    #[error("{0}")]
    Refused(String),
}

impl DbError {
    fn from_pg(e: &tokio_postgres::Error) -> DbError {
        match e.as_db_error() {
            Some(db) => DbError::Statement(format!(
                "Postgres: {}{}",
                db.message(),
                db.hint()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default()
            )),
            None if e.is_closed() => DbError::Connect("the connection was closed".to_owned()),
            None => {
                // The cause is the useful part ("invalid peer certificate:
                // UnknownIssuer"), and tokio-postgres keeps it as a source.
                let mut text = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                DbError::Connect(text)
            }
        }
    }

    pub fn upstream(self) -> crate::upstream::UpstreamError {
        use crate::upstream::UpstreamError;
        match self {
            DbError::Forbidden(m) => UpstreamError::Forbidden(m),
            DbError::Timeout(s) => UpstreamError::Timeout(s),
            DbError::Connect(m) => UpstreamError::Unreachable(m),
            DbError::Statement(m) | DbError::Refused(m) => UpstreamError::Rejected(m),
        }
    }
}

/// Why a target may not be reached.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TargetRefused {
    /// An address the egress rules refuse (or a name that does not resolve).
    #[error("{0}")]
    Address(#[from] crate::egress::EgressError),
    /// No TLS to a database that is not on this machine.
    #[error(
        "{0} is not on this machine, so the connection must be encrypted: use sslmode=require \
         or verify-full"
    )]
    Cleartext(String),
}

/// The addresses `target` may be reached at now: every address of the
/// answer allowed by `egress`, and TLS unless all of them are loopback.
/// Run when a target is saved and before every connection.
pub async fn checked_addresses(
    target: &Target,
    egress: EgressPolicy,
) -> Result<Vec<SocketAddr>, TargetRefused> {
    let addrs = egress.addresses(&target.host, target.port).await?;
    if target.ssl_mode == PostgresSslMode::Disable && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(TargetRefused::Cleartext(target.host.clone()));
    }
    Ok(addrs)
}

/// Opens one session on `target`: resolve and check, connect to a checked
/// address, TLS as the target asks, then the session's limits.
pub async fn connect(
    target: &Target,
    egress: EgressPolicy,
    app_name: &str,
    limits: &Limits,
) -> Result<Client, DbError> {
    let addrs = checked_addresses(target, egress)
        .await
        .map_err(|e| DbError::Forbidden(e.to_string()))?;
    let secs = limits.connect_timeout.as_secs().max(1);
    let limit = limits.connect_timeout;
    // The socket goes to an address that was just checked, and only there.
    let mut stream = None;
    let mut last = String::from("no address");
    for a in &addrs {
        match tokio::time::timeout(limit, TcpStream::connect(*a)).await {
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => last = format!("{a}: {e}"),
            Err(_) => last = format!("{a}: no answer within {secs} seconds"),
        }
    }
    let stream = stream.ok_or(DbError::Connect(last))?;
    let _ = stream.set_nodelay(true);

    let mut config = tokio_postgres::Config::new();
    config
        .user(&target.user)
        .password(target.password.expose_secret())
        .dbname(&target.database)
        .application_name(app_name);
    let client = match target.ssl_mode {
        PostgresSslMode::Disable => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, conn) =
                tokio::time::timeout(limit, config.connect_raw(stream, tokio_postgres::NoTls))
                    .await
                    .map_err(|_| DbError::Timeout(secs))?
                    .map_err(|e| DbError::from_pg(&e))?;
            tokio::spawn(conn);
            client
        }
        mode => {
            use tokio_postgres::tls::MakeTlsConnect;
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            let tls = tls_config(mode, target.ca_bundle.as_deref())?;
            let mut make = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
            let connector =
                <_ as MakeTlsConnect<TcpStream>>::make_tls_connect(&mut make, &target.host)
                    .map_err(|e| DbError::Connect(e.to_string()))?;
            let (client, conn) = tokio::time::timeout(limit, config.connect_raw(stream, connector))
                .await
                .map_err(|_| DbError::Timeout(secs))?
                .map_err(|e| DbError::from_pg(&e))?;
            tokio::spawn(conn);
            client
        }
    };
    // Values are ours (whole milliseconds), never input.
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; \
             SET idle_in_transaction_session_timeout = {};",
            limits.statement_timeout.as_millis(),
            limits.lock_timeout.as_millis(),
            (limits.statement_timeout * 2).as_millis()
        ))
        .await
        .map_err(|e| DbError::from_pg(&e))?;
    Ok(client)
}

/// rustls for a target: `verify-full` checks the certificate against the
/// system's CAs and the connector's bundle; `require` encrypts without
/// checking who answers (libpq's meaning of the word).
fn tls_config(
    mode: PostgresSslMode,
    bundle: Option<&str>,
) -> Result<rustls::ClientConfig, DbError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::Connect(e.to_string()))?;
    if mode == PostgresSslMode::Require {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = bundle {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert =
                cert.map_err(|_| DbError::Connect("the CA bundle is not valid PEM".into()))?;
            roots
                .add(cert)
                .map_err(|e| DbError::Connect(format!("the CA bundle: {e}")))?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `sslmode=require`: any certificate, but the handshake's signatures are
/// still checked (hand-written: rustls has no such mode by design).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// deadpool's hook: how a pooled session is made and checked (fields
/// private: only [`Databases`] builds one).
pub struct Manager {
    target: Target,
    egress: EgressPolicy,
    app_name: String,
    limits: Limits,
}

impl managed::Manager for Manager {
    type Type = Client;
    type Error = DbError;

    async fn create(&self) -> Result<Client, DbError> {
        connect(&self.target, self.egress, &self.app_name, &self.limits).await
    }

    async fn recycle(&self, c: &mut Client, _: &Metrics) -> RecycleResult<DbError> {
        if c.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        Ok(())
    }
}

type DbPool = Pool<Manager>;

/// Pools of sessions per connector, shared by every call.
pub struct Databases {
    egress: EgressPolicy,
    limits: Limits,
    /// connector → (digest of its target, org, pool). A new target (an
    /// edited DSN) replaces the pool.
    pools: Mutex<HashMap<Uuid, ([u8; 32], DbPool)>>,
}

impl Databases {
    pub fn new(egress: EgressPolicy, limits: Limits) -> Self {
        Databases {
            egress,
            limits,
            pools: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Runs `work` on a session from the connector's pool, bounded on the
    /// client side too: the statement timeout is the server's, and this
    /// bounds a server that does not keep it (or stops answering). A
    /// session that overruns is closed, never handed to another call.
    pub async fn with_session<T>(
        &self,
        org: Uuid,
        connector: Uuid,
        target: &Target,
        work: impl AsyncFnOnce(&mut Client) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut session = self.session(org, connector, target).await?;
        let limit = self.limits.call_limit();
        match tokio::time::timeout(limit, work(&mut session)).await {
            Ok(r) => r,
            Err(_) => {
                drop(managed::Object::take(session));
                Err(DbError::Timeout(limit.as_secs()))
            }
        }
    }

    /// A session on a connector's database, from its pool.
    async fn session(
        &self,
        org: Uuid,
        connector: Uuid,
        target: &Target,
    ) -> Result<managed::Object<Manager>, DbError> {
        let pool = self.pool(org, connector, target)?;
        pool.get().await.map_err(|e| match e {
            managed::PoolError::Backend(e) => e,
            managed::PoolError::Timeout(_) => {
                DbError::Timeout(self.limits.connect_timeout.as_secs())
            }
            other => DbError::Connect(other.to_string()),
        })
    }

    fn pool(&self, org: Uuid, connector: Uuid, target: &Target) -> Result<DbPool, DbError> {
        let digest: [u8; 32] = Sha256::digest(target.to_sealed_json()).into();
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| DbError::Connect("pool lock poisoned".to_owned()))?;
        if let Some((d, p)) = pools.get(&connector)
            && *d == digest
        {
            let idle = self.limits.idle;
            p.retain(|_, m| m.last_used() < idle);
            return Ok(p.clone());
        }
        let wait = self.limits.connect_timeout + Duration::from_secs(2);
        let pool = Pool::builder(Manager {
            target: target.clone(),
            egress: self.egress,
            app_name: app_name(org),
            limits: self.limits,
        })
        .max_size(self.limits.pool_size)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Connect(e.to_string()))?;
        if let Some((_, old)) = pools.insert(connector, (digest, pool.clone())) {
            old.close();
        }
        Ok(pool)
    }

    /// Closes a connector's sessions (deleted or edited connector).
    pub fn forget(&self, connector: Uuid) {
        if let Ok(mut pools) = self.pools.lock()
            && let Some((_, p)) = pools.remove(&connector)
        {
            p.close();
        }
    }
}

/// What the database sees as the client: Gatehouse and the org.
pub fn app_name(org: Uuid) -> String {
    format!("gatehouse org={org}")
}
