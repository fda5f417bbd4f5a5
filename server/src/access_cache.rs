//! The agent-access cache: what the per-request authorisation query reads
//! (is the agent key live, the org's mode and configuration version, the
//! period's enforce usage…), kept for at most a second.
//!
//! Every `/mcp` request used to make that query, a round trip to Postgres
//! on the hot path of every call. Here its answer is kept per agent key
//! for at most [`MAX_STALENESS`], and dropped sooner when it changes:
//!
//! * triggers on `agent_keys`, `orgs`, `tool_packs` and `registered_users`
//!   `NOTIFY` [`CHANNEL`] with the org's id when a row the query reads
//!   changes (a key revoked, a mode or rules change, which bumps the org's
//!   configuration version, a pack renamed…), and so does the recorder
//!   when an org's enforce quota runs out (having dropped its own
//!   server's answers for that org before answering the call that used it
//!   up);
//! * every server process listens and drops that org's entries at once,
//!   on every replica.
//!
//! Notifications can be missed (a reconnect), and one can arrive while a
//! query that started before the change is still running; so every entry
//! also expires [`MAX_STALENESS`] after its query *started*, and an answer
//! whose query started before the latest notification is not stored.
//! Staleness is therefore bounded by [`MAX_STALENESS`] whatever happens to
//! the notifications; in practice a change reaches every replica in
//! milliseconds.
//!
//! A refused key ("revoked or deleted") is cached too, under the same
//! rules, so a flood of calls with a revoked token costs the database one
//! query a second, not one per call.

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use prometheus_client::metrics::counter::Counter;
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

/// The notification channel (payload: the org's id).
pub const CHANNEL: &str = "gatehouse_agent_access";

/// The longest an answer is used after its query started.
pub const MAX_STALENESS: Duration = Duration::from_secs(1);

/// What identifies a cached answer: the org it belongs to, and the rest of
/// what the query was asked.
pub trait OrgScoped: Hash + Eq + Copy {
    fn org(&self) -> Uuid;
}

struct Inner<K: OrgScoped, V> {
    entries: LruCache<K, (Instant, V)>,
    /// Moves on every invalidation: an answer whose query started under
    /// an older generation may predate the change, so it is not stored.
    generation: u64,
}

/// A bounded cache of authorisation answers (see the module docs).
pub struct AccessCache<K: OrgScoped, V> {
    inner: Mutex<Inner<K, V>>,
    /// Zero turns the cache off (every request queries).
    fresh: Duration,
    /// Lookups answered from memory, and not (`/metrics`; standalone
    /// counters until [`AccessCache::counted`] links them).
    hits: Counter,
    misses: Counter,
}

/// Taken before the query: when it started and under which generation.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    started: Instant,
    generation: u64,
}

impl<K: OrgScoped, V: Clone> AccessCache<K, V> {
    /// `fresh` is capped at [`MAX_STALENESS`].
    pub fn new(capacity: NonZeroUsize, fresh: Duration) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::new(capacity),
                generation: 0,
            }),
            fresh: fresh.min(MAX_STALENESS),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// Counts lookups in these counters (see [`crate::metrics::Metrics::cache`]).
    pub fn counted(self, (hits, misses): (Counter, Counter)) -> Self {
        Self {
            hits,
            misses,
            ..self
        }
    }

    /// The answer for `key` if its query started less than `fresh` before
    /// `now`.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        if self.fresh.is_zero() {
            return None;
        }
        let mut inner = self.inner.lock().ok()?;
        let found = match inner.entries.get(key) {
            Some((at, v)) if now.saturating_duration_since(*at) < self.fresh => Some(v.clone()),
            Some(_) => {
                inner.entries.pop(key);
                None
            }
            None => None,
        };
        drop(inner);
        if found.is_some() {
            &self.hits
        } else {
            &self.misses
        }
        .inc();
        found
    }

    /// Call before querying; hand the ticket to [`AccessCache::put`].
    pub fn ticket(&self, now: Instant) -> Ticket {
        let generation = self.inner.lock().map(|i| i.generation).unwrap_or(u64::MAX);
        Ticket {
            started: now,
            generation,
        }
    }

    /// Stores an answer, unless something was invalidated since its query
    /// started.
    pub fn put(&self, key: K, value: V, ticket: Ticket) {
        if self.fresh.is_zero() {
            return;
        }
        if let Ok(mut inner) = self.inner.lock()
            && inner.generation == ticket.generation
        {
            inner.entries.put(key, (ticket.started, value));
        }
    }

    /// Drops every answer about `org`.
    pub fn invalidate_org(&self, org: Uuid) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation = inner.generation.wrapping_add(1);
            let gone: Vec<K> = inner
                .entries
                .iter()
                .filter(|(k, _)| k.org() == org)
                .map(|(k, _)| *k)
                .collect();
            for k in gone {
                inner.entries.pop(&k);
            }
        }
    }

    /// Drops everything (notifications may have been missed).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation = inner.generation.wrapping_add(1);
            inner.entries.clear();
        }
    }

    /// How many answers are held.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: OrgScoped + Send + 'static, V: Clone + Send + 'static> AccessCache<K, V> {
    /// Listens on [`CHANNEL`] until the pool closes (server shutdown). A
    /// payload that is not an org id, or a broken connection, clears the
    /// whole cache: better a query too many than a stale answer.
    pub fn spawn_listener(self: &Arc<Self>, db: PgPool) {
        if self.fresh.is_zero() {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            while !db.is_closed() {
                let mut listener = match sqlx::postgres::PgListener::connect_with(&db).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "agent-access notifications unavailable; answers expire after a second");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "agent-access notifications unavailable; answers expire after a second");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
                // Anything cached before we listened may have missed its
                // notification.
                cache.clear();
                loop {
                    match listener.recv().await {
                        Ok(n) => match n.payload().parse::<Uuid>() {
                            Ok(org) => cache.invalidate_org(org),
                            Err(_) => cache.clear(),
                        },
                        Err(e) => {
                            cache.clear();
                            tracing::warn!(error = %e, "agent-access notifications interrupted");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            break;
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Hash, PartialEq, Eq, Debug)]
    struct Key(Uuid, u8);

    impl OrgScoped for Key {
        fn org(&self) -> Uuid {
            self.0
        }
    }

    fn cache() -> AccessCache<Key, &'static str> {
        AccessCache::new(NonZeroUsize::new(4).unwrap(), MAX_STALENESS)
    }

    #[test]
    fn an_answer_expires_a_second_after_its_query_started() {
        let c = cache();
        let t0 = Instant::now();
        let k = Key(Uuid::new_v4(), 1);
        c.put(k, "live", c.ticket(t0));
        assert_eq!(c.get(&k, t0 + Duration::from_millis(999)), Some("live"));
        assert_eq!(c.get(&k, t0 + Duration::from_millis(1000)), None);
        assert!(c.is_empty(), "an expired answer is dropped");
    }

    #[test]
    fn an_answer_from_before_an_invalidation_is_not_stored() {
        let c = cache();
        let t0 = Instant::now();
        let (org, other) = (Uuid::new_v4(), Uuid::new_v4());
        let k = Key(org, 1);
        // The query starts, the key is revoked and notified, then the
        // (stale) answer comes back.
        let ticket = c.ticket(t0);
        c.invalidate_org(other);
        c.put(k, "stale", ticket);
        assert_eq!(c.get(&k, t0), None);
        // A query started after the notification is stored.
        c.put(k, "fresh", c.ticket(t0));
        assert_eq!(c.get(&k, t0), Some("fresh"));
    }

    #[test]
    fn invalidation_drops_only_that_orgs_answers() {
        let c = cache();
        let t0 = Instant::now();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        for (k, v) in [(Key(a, 1), "a1"), (Key(a, 2), "a2"), (Key(b, 1), "b1")] {
            c.put(k, v, c.ticket(t0));
        }
        c.invalidate_org(a);
        assert_eq!(c.get(&Key(a, 1), t0), None);
        assert_eq!(c.get(&Key(a, 2), t0), None);
        assert_eq!(c.get(&Key(b, 1), t0), Some("b1"));
        c.clear();
        assert_eq!(c.get(&Key(b, 1), t0), None);
    }

    #[test]
    fn bounded_and_never_longer_than_a_second() {
        let c: AccessCache<Key, u8> =
            AccessCache::new(NonZeroUsize::new(2).unwrap(), Duration::from_secs(60));
        let t0 = Instant::now();
        let org = Uuid::new_v4();
        for i in 0..10 {
            c.put(Key(org, i), i, c.ticket(t0));
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&Key(org, 9), t0 + Duration::from_millis(1001)), None);
        let off: AccessCache<Key, u8> = AccessCache::new(NonZeroUsize::MIN, Duration::ZERO);
        off.put(Key(org, 1), 1, off.ticket(t0));
        assert_eq!(off.get(&Key(org, 1), t0), None);
    }
}
