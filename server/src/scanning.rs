//! Detection work, kept away from the async threads and compiled once.
//!
//! Scanning a large argument is milliseconds of CPU: run on the async
//! worker threads it would stall every other tenant's requests queued
//! behind it. [`Scanning::run`] moves the work to Tokio's blocking threads,
//! at most `max_parallel` scans at a time (the rest wait their turn without
//! holding a thread), so one tenant's big payloads cost others little.
//!
//! Compiling rules (dozens of regexes) is the other expensive step. Compiled
//! rules are cached by the content of the rule set, in a bounded LRU: packs
//! (and orgs) whose effective rules are identical share one compiled copy,
//! and the Rule Tester reuses what the data path compiled.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};
use shared::detect::{CompiledRules, RuleError, RuleSet};
use tokio::sync::Semaphore;

/// Why detection work could not be done (the caller fails closed).
#[derive(Debug, thiserror::Error)]
pub enum ScanPoolError {
    #[error("the scanner stopped unexpectedly")]
    Crashed,
    #[error("the rules could not be compiled: {0}")]
    Rules(#[from] RuleError),
}

pub struct Scanning {
    compiled: Mutex<LruCache<[u8; 32], Arc<CompiledRules>>>,
    permits: Arc<Semaphore>,
}

impl Scanning {
    /// `cache_size` distinct rule sets stay compiled; `max_parallel` scans
    /// run at once.
    pub fn new(cache_size: NonZeroUsize, max_parallel: usize) -> Self {
        Self {
            compiled: Mutex::new(LruCache::new(cache_size)),
            permits: Arc::new(Semaphore::new(max_parallel.max(1))),
        }
    }

    /// The compiled form of `set`, shared by every caller with the same
    /// rules. Compiling happens on the blocking pool too.
    pub async fn compiled(&self, set: &RuleSet) -> Result<Arc<CompiledRules>, ScanPoolError> {
        // The serialised rule set is the identity of the compiled rules.
        let key: [u8; 32] =
            Sha256::digest(serde_json::to_vec(set).map_err(|_| ScanPoolError::Crashed)?).into();
        if let Some(c) = self
            .compiled
            .lock()
            .ok()
            .and_then(|mut m| m.get(&key).cloned())
        {
            return Ok(c);
        }
        let set = set.clone();
        let compiled = Arc::new(self.run(move || CompiledRules::compile(&set)).await??);
        if let Ok(mut m) = self.compiled.lock() {
            m.put(key, compiled.clone());
        }
        Ok(compiled)
    }

    /// Runs `work` on a blocking thread once a scan slot is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ScanPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ScanPoolError::Crashed)?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|_| ScanPoolError::Crashed)
    }

    /// How many distinct rule sets are compiled right now.
    pub fn cached(&self) -> usize {
        self.compiled.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn identical_rule_sets_share_one_compiled_copy_and_the_cache_is_bounded() {
        let s = Scanning::new(NonZeroUsize::new(2).unwrap(), 2);
        let a = s.compiled(&RuleSet::default()).await.unwrap();
        let b = s.compiled(&RuleSet::default()).await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let other = RuleSet {
            only_listed: true,
            ..RuleSet::default()
        };
        let c = s.compiled(&other).await.unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        let third = RuleSet::all_regions();
        s.compiled(&third).await.unwrap();
        assert_eq!(s.cached(), 2, "the least recently used set was dropped");
    }

    #[tokio::test]
    async fn scans_wait_for_a_free_slot() {
        let s = Arc::new(Scanning::new(NonZeroUsize::new(1).unwrap(), 1));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (s, running, peak) = (s.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                s.run(move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    let now = running.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                })
                .await
                .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
