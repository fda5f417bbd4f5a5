//! Abuse limits: request rates per organization and per agent key, so one
//! tenant (or one runaway agent) cannot take the capacity of the others.
//!
//! GCRA buckets from `governor`, kept per process: with N replicas behind a
//! load balancer a tenant gets up to N times the configured rate, which is
//! the usual trade for not putting a shared store on the hot path. Idle
//! buckets are dropped periodically, so memory follows active tenants.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// Requests allowed per period (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_period: Option<NonZeroU32>,
    pub period: Duration,
}

impl Rate {
    pub fn per_second(n: u32) -> Self {
        Self {
            per_period: NonZeroU32::new(n),
            period: Duration::from_secs(1),
        }
    }

    pub fn per_minute(n: u32) -> Self {
        Self {
            per_period: NonZeroU32::new(n),
            period: Duration::from_secs(60),
        }
    }

    fn quota(&self) -> Option<Quota> {
        let n = self.per_period?;
        // A full period's worth may arrive at once (burst), then the
        // requests are spread evenly.
        Quota::with_period(self.period / n.get()).map(|q| q.allow_burst(n))
    }
}

/// The configured rates.
#[derive(Debug, Clone, Copy)]
pub struct RateSettings {
    pub mcp_per_org: Rate,
    pub mcp_per_key: Rate,
    pub token_per_key: Rate,
    pub api_per_org: Rate,
}

/// A refused request: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds for `Retry-After` (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0)
    }
}

struct Keyed<K: Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(rate: Rate) -> Self {
        Keyed(rate.quota().map(RateLimiter::keyed))
    }

    fn check(&self, key: &K) -> Result<(), Limited> {
        let Some(l) = &self.0 else { return Ok(()) };
        l.check_key(key).map_err(|not_until| Limited {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    fn forget_idle(&self) {
        if let Some(l) = &self.0 {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

pub struct RateLimits {
    mcp_org: Keyed<Uuid>,
    mcp_key: Keyed<Uuid>,
    token_key: Keyed<[u8; 32]>,
    api_org: Keyed<Uuid>,
}

impl RateLimits {
    pub fn new(s: RateSettings) -> Arc<Self> {
        Arc::new(Self {
            mcp_org: Keyed::new(s.mcp_per_org),
            mcp_key: Keyed::new(s.mcp_per_key),
            token_key: Keyed::new(s.token_per_key),
            api_org: Keyed::new(s.api_per_org),
        })
    }

    /// Drops the buckets of idle keys every minute (needs a runtime).
    pub fn spawn_cleanup(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(l) = weak.upgrade() else { return };
                l.mcp_org.forget_idle();
                l.mcp_key.forget_idle();
                l.token_key.forget_idle();
                l.api_org.forget_idle();
            }
        });
    }

    /// One request to `/mcp` by an agent key of an org. The key's own
    /// bucket is checked first, so one runaway agent spends its own
    /// allowance before its org's.
    pub fn mcp(&self, org: Uuid, key: Uuid) -> Result<(), Limited> {
        self.mcp_key.check(&key)?;
        self.mcp_org.check(&org)
    }

    /// One token exchange presenting this (hashed) agent key.
    pub fn token(&self, key_hash: [u8; 32]) -> Result<(), Limited> {
        self.token_key.check(&key_hash)
    }

    /// One admin API request for an org.
    pub fn api(&self, org: Uuid) -> Result<(), Limited> {
        self.api_org.check(&org)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u32) -> Arc<RateLimits> {
        RateLimits::new(RateSettings {
            mcp_per_org: Rate::per_second(n * 2),
            mcp_per_key: Rate::per_second(n),
            token_per_key: Rate::per_minute(n),
            api_per_org: Rate::per_second(0),
        })
    }

    #[test]
    fn a_key_gets_its_burst_then_waits_and_other_tenants_are_unaffected() {
        let l = limits(3);
        let (org, key) = (Uuid::new_v4(), Uuid::new_v4());
        for _ in 0..3 {
            assert!(l.mcp(org, key).is_ok());
        }
        let refused = l.mcp(org, key).unwrap_err();
        assert!(refused.retry_after > Duration::ZERO);
        assert!(refused.retry_after_secs() >= 1);
        // Another org, and another key of the same org, still pass.
        assert!(l.mcp(Uuid::new_v4(), Uuid::new_v4()).is_ok());
        assert!(l.mcp(org, Uuid::new_v4()).is_ok());
        // A zero rate means unlimited.
        for _ in 0..1000 {
            assert!(l.api(org).is_ok());
        }
    }

    #[test]
    fn an_org_is_capped_across_its_keys() {
        let l = limits(3);
        let org = Uuid::new_v4();
        let passed = (0..20)
            .filter(|_| l.mcp(org, Uuid::new_v4()).is_ok())
            .count();
        assert_eq!(passed, 6);
    }
}
