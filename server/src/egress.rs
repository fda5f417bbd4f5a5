//! Outbound HTTP to addresses tenants choose (upstream MCP servers today,
//! every later connector and webhook tomorrow), without server-side request
//! forgery.
//!
//! A check at save time is not enough: the name is resolved again when the
//! connection is made, and a DNS answer can change in between (rebinding).
//! So the check runs *inside* the HTTP client: [`PinnedResolver`] resolves
//! the name, refuses the whole answer if any address is not globally
//! routable, and hands reqwest exactly the addresses it checked, which are
//! the ones it connects to. IP literals never reach a resolver, so
//! [`check_host`] runs before every connection too. Redirects are not
//! followed and proxies from the environment are ignored (a proxy would
//! resolve the name itself, after our check).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether outbound connections may reach non-global addresses (the
/// operator's `GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS`, for self-hosted setups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressPolicy {
    pub allow_private: bool,
}

/// Why a destination was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("the host {0} could not be resolved")]
    Unresolved(String),
    #[error(
        "{host} resolves to {addr}, which is not a public address (loopback, private, \
         link-local, metadata or reserved); the operator can allow private upstreams with \
         GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true"
    )]
    NotGlobal { host: String, addr: IpAddr },
    #[error("the URL has no host")]
    NoHost,
}

/// Addresses of cloud metadata services that are not already covered by a
/// reserved range below (listed so the intent survives range edits).
const METADATA: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)), // AWS, GCP, Azure, OpenStack
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)), // Alibaba Cloud
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),     // Oracle Cloud
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)), // AWS IPv6
];

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(Ipv6Addr::from(net)) & mask)
}

/// Whether `ip` is a globally routable unicast address. Hand-written
/// because `IpAddr::is_global` is unstable; the ranges are IANA's
/// special-purpose registries (RFC 6890 and successors), plus every
/// transition prefix that embeds an IPv4 address a router may translate to
/// an internal one (NAT64, 6to4, Teredo, IPv4-compatible).
pub fn is_global(ip: IpAddr) -> bool {
    if METADATA.contains(&ip) {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => {
            const RESERVED: [([u8; 4], u32); 15] = [
                ([0, 0, 0, 0], 8),       // "this network"
                ([10, 0, 0, 0], 8),      // private
                ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
                ([127, 0, 0, 0], 8),     // loopback
                ([169, 254, 0, 0], 16),  // link-local, cloud metadata
                ([172, 16, 0, 0], 12),   // private
                ([192, 0, 0, 0], 24),    // IETF protocol assignments
                ([192, 0, 2, 0], 24),    // documentation
                ([192, 88, 99, 0], 24),  // 6to4 relay anycast
                ([192, 168, 0, 0], 16),  // private
                ([198, 18, 0, 0], 15),   // benchmarking
                ([198, 51, 100, 0], 24), // documentation
                ([203, 0, 113, 0], 24),  // documentation
                ([224, 0, 0, 0], 4),     // multicast
                ([240, 0, 0, 0], 4),     // reserved, broadcast
            ];
            !RESERVED.iter().any(|(net, p)| in_v4(v4, *net, *p))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_global(IpAddr::V4(v4));
            }
            const RESERVED: [([u16; 8], u32); 13] = [
                ([0, 0, 0, 0, 0, 0, 0, 0], 96), // ::, ::1, IPv4-compatible ::a.b.c.d
                ([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96), // NAT64
                ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64
                ([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
                ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments, Teredo
                ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
                ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), // 6to4
                ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation
                ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16), // segment routing SIDs
                ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), // unique local (incl. fd00:ec2::254)
                ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
                ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
                ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
            ];
            !RESERVED.iter().any(|(net, p)| in_v6(v6, *net, *p))
        }
    }
}

impl EgressPolicy {
    /// Refuses an address this policy does not allow.
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), EgressError> {
        if self.allow_private || is_global(addr) {
            Ok(())
        } else {
            Err(EgressError::NotGlobal {
                host: host.to_owned(),
                addr,
            })
        }
    }

    /// Checks a URL's host: an IP literal directly, a name by resolving it.
    /// Used to give a clear message when a connector is saved; the
    /// connection itself is checked again by the pinned client.
    pub async fn check_url(&self, url: &url::Url) -> Result<(), EgressError> {
        match url.host() {
            None => Err(EgressError::NoHost),
            Some(url::Host::Ipv4(ip)) => self.check_addr(&ip.to_string(), IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_addr(&ip.to_string(), IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let port = url.port_or_known_default().unwrap_or(443);
                self.resolve(name, port).await.map(|_| ())
            }
        }
    }

    /// The addresses a host (name or IP literal) and port may be reached
    /// at, every one checked: what a connection to tenant-chosen
    /// `host:port` (not a URL) may use.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        match host.parse::<IpAddr>() {
            Ok(ip) => {
                self.check_addr(host, ip)?;
                Ok(vec![SocketAddr::new(ip, port)])
            }
            Err(_) => self.resolve(host, port).await,
        }
    }

    /// Resolves a name and checks every address of the answer. One bad
    /// address refuses the whole answer: a name that mixes public and
    /// internal addresses is an attack, not a misconfiguration.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| EgressError::Unresolved(host.to_owned()))?
            .collect();
        if addrs.is_empty() {
            return Err(EgressError::Unresolved(host.to_owned()));
        }
        for a in &addrs {
            self.check_addr(host, a.ip())?;
        }
        Ok(addrs)
    }

    /// An HTTP client whose every connection goes only to checked
    /// addresses: names through [`PinnedResolver`], no redirects, no
    /// environment proxies. IP-literal URLs must pass [`Self::check_url`]
    /// first (they bypass resolvers).
    pub fn client(&self, connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
        // reqwest is built without a bundled TLS provider; installing the
        // process-wide one is idempotent (an already installed one stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .dns_resolver(Arc::new(PinnedResolver { policy: *self }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            // A fresh connection (and so a fresh, checked resolution) per
            // request; rmcp's own default for the same Delayed-ACK reason.
            .pool_max_idle_per_host(0)
            .build()
    }
}

/// reqwest's resolver hook: the addresses it returns are the only ones the
/// connection may use, so the check and the connection cannot disagree.
#[derive(Debug)]
pub struct PinnedResolver {
    policy: EgressPolicy,
}

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            // The port is replaced by the connector with the URL's port.
            let addrs = policy.resolve(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_global_addresses_are_refused() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.100.100.200",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.0.192",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:808:808::1",
            "3fff::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_global(ip.parse().unwrap()), "{ip} must be allowed");
        }
    }

    #[test]
    fn the_operator_can_allow_private_addresses() {
        let open = EgressPolicy {
            allow_private: true,
        };
        assert!(open.check_addr("x", "127.0.0.1".parse().unwrap()).is_ok());
        let closed = EgressPolicy {
            allow_private: false,
        };
        assert!(
            closed
                .check_addr("x", "127.0.0.1".parse().unwrap())
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
        let policy = EgressPolicy {
            allow_private: false,
        };
        let err = policy.resolve("localhost", 80).await.unwrap_err();
        assert!(matches!(err, EgressError::NotGlobal { .. }), "{err:?}");
        let url = url::Url::parse("http://[::ffff:127.0.0.1]:8080/mcp").unwrap();
        assert!(policy.check_url(&url).await.is_err());
    }

    #[tokio::test]
    async fn the_pinned_client_does_not_connect_to_a_name_answering_loopback() {
        // A listener on loopback: the request must never reach it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let client = EgressPolicy {
            allow_private: false,
        }
        .client(Duration::from_secs(2))
        .unwrap();
        let err = client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!accepted.is_finished(), "the loopback listener was reached");
        accepted.abort();
    }
}
