//! A Postgres connector's target, parsed from what the admin typed.
//!
//! Parsed here rather than by `tokio_postgres::Config::from_str` on
//! purpose: libpq's syntax reaches further than a hosted database needs
//! (`host=/path` is a Unix socket on Gatehouse's own machine, several hosts
//! are tried in turn, `sslmode=prefer` quietly falls back to clear text),
//! and each of those would step around the target checks. A target is one
//! TCP host, one port, one database, one role and a TLS mode that never
//! downgrades.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::api::{PostgresSslMode, PostgresTargetInput};

/// Where a Postgres connector points. The password never prints.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: SecretString,
    pub ssl_mode: PostgresSslMode,
    /// PEM certificates trusted for `verify-full` besides the system's.
    pub ca_bundle: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

/// `user@host:port/database`: what the dashboard shows.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}@{host}:{}/{}", self.user, self.port, self.database)
    }
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// The sealed form (JSON under the master key).
#[derive(Serialize, Deserialize)]
struct Stored {
    host: String,
    port: u16,
    database: String,
    user: String,
    password: String,
    ssl_mode: PostgresSslMode,
    ca_bundle: Option<String>,
}

impl Target {
    /// From a `postgres://` URL, or from the separate fields when no URL
    /// is given. Fields given beside a URL override nothing: one source.
    pub fn parse(input: &PostgresTargetInput) -> Result<Target, Invalid> {
        let ca_bundle = input
            .ca_bundle
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if let Some(b) = &ca_bundle
            && !b.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(invalid(
                "ca_bundle",
                "Paste PEM certificates (-----BEGIN CERTIFICATE----- …).",
            ));
        }
        let t = match input
            .dsn
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(dsn) => Self::from_url(dsn, input.ssl_mode, ca_bundle)?,
            None => {
                let host = input.host.as_deref().map(str::trim).unwrap_or_default();
                Target {
                    host: host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned(),
                    port: input.port.unwrap_or(5432),
                    database: input
                        .database
                        .as_deref()
                        .map(str::trim)
                        .unwrap_or_default()
                        .to_owned(),
                    user: input
                        .user
                        .as_deref()
                        .map(str::trim)
                        .unwrap_or_default()
                        .to_owned(),
                    password: SecretString::from(input.password.clone().unwrap_or_default()),
                    ssl_mode: input.ssl_mode.unwrap_or(PostgresSslMode::VerifyFull),
                    ca_bundle,
                }
            }
        };
        t.checked()
    }

    fn from_url(
        dsn: &str,
        ssl_mode: Option<PostgresSslMode>,
        ca_bundle: Option<String>,
    ) -> Result<Target, Invalid> {
        let bad = || {
            invalid(
                "dsn",
                "Enter a URL like postgres://user:password@host:5432/database?sslmode=require.",
            )
        };
        let url = url::Url::parse(dsn).map_err(|_| bad())?;
        if url.scheme() != "postgres" && url.scheme() != "postgresql" {
            return Err(bad());
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => pct(d)?,
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(invalid("dsn", "The URL names no host.")),
        };
        let mut mode = ssl_mode;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "sslmode" => {
                    mode = Some(v.parse().map_err(|e: String| invalid("dsn", e))?);
                }
                other => {
                    return Err(invalid(
                        "dsn",
                        format!(
                            "The URL parameter {other} is not supported (only sslmode; \
                             the CA bundle has its own field)."
                        ),
                    ));
                }
            }
        }
        if url.fragment().is_some() {
            return Err(bad());
        }
        Ok(Target {
            host,
            port: url.port().unwrap_or(5432),
            database: pct(url.path().trim_start_matches('/'))?,
            user: pct(url.username())?,
            password: SecretString::from(pct(url.password().unwrap_or_default())?),
            ssl_mode: mode.unwrap_or(PostgresSslMode::VerifyFull),
            ca_bundle,
        })
    }

    fn checked(self) -> Result<Target, Invalid> {
        let host_ok = !self.host.is_empty()
            && self.host.len() <= 253
            && !self.host.starts_with('/')
            && self
                .host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !host_ok {
            return Err(invalid(
                "host",
                "Enter one host name or IP address (no socket path, no list of hosts).",
            ));
        }
        if self.port == 0 {
            return Err(invalid("port", "Enter a port between 1 and 65535."));
        }
        if self.database.is_empty() || self.database.len() > 63 || self.database.contains('/') {
            return Err(invalid("database", "Enter the database name."));
        }
        if self.user.is_empty() || self.user.len() > 63 {
            return Err(invalid("user", "Enter the role to connect as."));
        }
        if [&self.database, &self.user]
            .iter()
            .any(|s| s.chars().any(char::is_control))
        {
            return Err(invalid("user", "Names may not contain control characters."));
        }
        Ok(self)
    }

    /// The JSON that is sealed at rest.
    pub fn to_sealed_json(&self) -> Vec<u8> {
        serde_json::to_vec(&Stored {
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            user: self.user.clone(),
            password: self.password.expose_secret().to_owned(),
            ssl_mode: self.ssl_mode,
            ca_bundle: self.ca_bundle.clone(),
        })
        .unwrap_or_default()
    }

    pub fn from_sealed_json(bytes: &[u8]) -> anyhow::Result<Target> {
        let s: Stored = serde_json::from_slice(bytes)?;
        Ok(Target {
            host: s.host,
            port: s.port,
            database: s.database,
            user: s.user,
            password: SecretString::from(s.password),
            ssl_mode: s.ssl_mode,
            ca_bundle: s.ca_bundle,
        })
    }
}

fn pct(s: &str) -> Result<String, Invalid> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| invalid("dsn", "The URL is not valid UTF-8 once decoded."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(dsn: &str) -> Result<Target, Invalid> {
        Target::parse(&PostgresTargetInput {
            dsn: Some(dsn.to_owned()),
            ..PostgresTargetInput::default()
        })
    }

    #[test]
    fn a_url_parses_and_prints_without_its_password() {
        let t =
            url("postgres://app%40x:s3cr%2Ft@db.example.com:6543/shop?sslmode=require").unwrap();
        assert_eq!(t.to_string(), "app@x@db.example.com:6543/shop");
        assert_eq!(t.password.expose_secret(), "s3cr/t");
        assert_eq!(t.ssl_mode, PostgresSslMode::Require);
        assert!(!format!("{t:?}").contains("s3cr"));
        let back = Target::from_sealed_json(&t.to_sealed_json()).unwrap();
        assert_eq!(back.password.expose_secret(), "s3cr/t");
        // No sslmode: the strictest.
        assert_eq!(
            url("postgresql://u@db.example.com/shop").unwrap().ssl_mode,
            PostgresSslMode::VerifyFull
        );
    }

    #[test]
    fn libpq_escapes_are_refused() {
        for dsn in [
            "postgres://u@db.example.com/shop?host=/var/run/postgresql",
            "postgres://u@db.example.com/shop?sslmode=prefer",
            "postgres://u@db.example.com/shop?sslmode=allow",
            "postgres://u@db.example.com/shop?options=-c%20statement_timeout%3D0",
            "postgres://u@/shop",
            "mysql://u@db.example.com/shop",
            "postgres://db.example.com/shop",
            "postgres://u@db.example.com/",
        ] {
            assert!(url(dsn).is_err(), "{dsn}");
        }
        let fields = Target::parse(&PostgresTargetInput {
            host: Some("/tmp".to_owned()),
            database: Some("d".to_owned()),
            user: Some("u".to_owned()),
            ..PostgresTargetInput::default()
        });
        assert_eq!(fields.unwrap_err().field, "host");
    }
}
