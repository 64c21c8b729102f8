//! A [`ClientDirectory`] decorator that keeps client records (application + secret digest) in
//! memory, so the token endpoint's client lookup costs no database round trip.
//!
//! Freshness, in order of strength:
//! - the admin service drops an application's entry after each of its writes (update, rotate,
//!   suspend, delete: [`CachedApplications::invalidate_app`]), so on the process that made the
//!   change the old secret fails on the very next request;
//! - [`CachedApplications::refresh`], run every second by the server, drops entries of
//!   applications any process changed since the last poll (minus the revocation list's
//!   [`OVERLAP`] for late commits and clock skew), so other processes follow within about a
//!   second;
//! - every entry expires after the configured time-to-live regardless, should polling fail.
//!
//! A generation counter keeps a lookup that raced with a write from caching what it read before
//! the write. Unknown client IDs are never cached (nothing for a guesser to fill memory with),
//! and the map is cleared when it reaches [`MAX_ENTRIES`]. A time-to-live of zero turns the cache
//! off: every lookup goes to storage.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::id::ApplicationId;

use crate::error::RepoError;
use crate::ports::{ApplicationWithDigest, ClientDirectory};
use crate::revocation::OVERLAP;
use crate::sync::{lock, write};

/// Entries kept at most; the map is cleared when full.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry {
    found: ApplicationWithDigest,
    loaded: Instant,
}

/// Caches `by_client_id`; delegates the other two reads to `inner`.
pub struct CachedApplications {
    inner: Arc<dyn ClientDirectory>,
    ttl: StdDuration,
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every invalidation; a lookup caches its result only if none happened meanwhile.
    generation: AtomicU64,
    high_water: Mutex<Option<DateTime<Utc>>>,
}

impl std::fmt::Debug for CachedApplications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedApplications").field("ttl", &self.ttl).field("entries", &self.len()).finish()
    }
}

impl CachedApplications {
    /// Wraps `inner`; `ttl` zero disables caching.
    #[must_use]
    pub fn new(inner: Arc<dyn ClientDirectory>, ttl: StdDuration) -> Self {
        Self {
            inner,
            ttl,
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            high_water: Mutex::new(None),
        }
    }

    /// `true` when lookups are cached.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Cached entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |m| m.len())
    }

    /// `true` when nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the entry of application `id`, whatever its client ID.
    pub fn invalidate_app(&self, id: ApplicationId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        write(&self.entries).retain(|_, e| e.found.0.id != id);
    }

    /// Drops entries of applications changed in storage since the last poll (by any process).
    /// Returns how many changes storage reported.
    pub async fn refresh(&self, now: DateTime<Utc>) -> Result<usize, RepoError> {
        if !self.enabled() {
            return Ok(0);
        }
        let since = lock(&self.high_water).unwrap_or(now) - OVERLAP;
        let changed = self.inner.changed_since(since).await?;
        if !changed.is_empty() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            let mut m = write(&self.entries);
            for (client_id, _) in &changed {
                m.remove(client_id);
            }
        }
        // The next poll starts from the newer of "now" and the newest change seen (a writer's
        // clock may run ahead of ours).
        let newest = changed.iter().map(|(_, t)| *t).max().map_or(now, |t| t.max(now));
        *lock(&self.high_water) = Some(newest);
        Ok(changed.len())
    }

    fn cached(&self, client_id: &str) -> Option<ApplicationWithDigest> {
        let m = self.entries.read().ok()?;
        let e = m.get(client_id)?;
        (e.loaded.elapsed() < self.ttl).then(|| e.found.clone())
    }
}

#[async_trait]
impl ClientDirectory for CachedApplications {
    async fn by_client_id(&self, client_id: &str) -> Result<Option<ApplicationWithDigest>, RepoError> {
        if !self.enabled() {
            return self.inner.by_client_id(client_id).await;
        }
        if let Some(found) = self.cached(client_id) {
            return Ok(Some(found));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = self.inner.by_client_id(client_id).await?;
        if let Some(f) = &found {
            let mut m = write(&self.entries);
            if self.generation.load(Ordering::SeqCst) == generation {
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
                m.insert(client_id.to_string(), Entry { found: f.clone(), loaded: Instant::now() });
            }
        }
        Ok(found)
    }

    async fn disabled(&self, now: DateTime<Utc>) -> Result<Vec<ApplicationId>, RepoError> {
        self.inner.disabled(now).await
    }

    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, RepoError> {
        self.inner.changed_since(since).await
    }
}

#[cfg(test)]
mod tests;
