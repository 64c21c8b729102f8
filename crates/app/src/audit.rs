//! The audit log and the dashboard, within the caller's reach.
//!
//! Dashboard counts are cached per reach for [`STATS_TTL`], so a page polling every few seconds
//! costs at most one round of counts per reach per interval; platform-wide counts of large tables
//! come from planner statistics (exact below [`EXACT_BELOW`] rows), so no request scans millions
//! of rows. Partner and tenant counts are exact and use the per-tenant indexes. A write in this
//! process ([`AuditService::note_write`]) drops the cache, so a caller reads its own writes;
//! other processes' writes show within [`STATS_TTL`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scaikey_domain::access::{Action, Reach, Target, can, reach};
use scaikey_domain::audit::AuditEvent;
use scaikey_domain::id::AuditEventId;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{AuditFilter, AuditRepository, Clock, Stats};
use crate::sync::lock;

const RESOURCE: &str = "Audit event";

/// How long dashboard counts are reused.
pub const STATS_TTL: Duration = Duration::from_secs(5);
/// Tables smaller than this are counted exactly even platform-wide.
pub const EXACT_BELOW: i64 = 100_000;
/// Events in the activity feed.
pub const ACTIVITY_LIMIT: u32 = 20;

/// Audit reads and dashboard.
pub struct AuditService {
    repo: Arc<dyn AuditRepository>,
    clock: Arc<dyn Clock>,
    /// Counts per reach, with when they were taken and the write generation they saw.
    cache: Mutex<HashMap<String, (Instant, u64, Stats)>>,
    writes: AtomicU64,
}

impl std::fmt::Debug for AuditService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditService")
    }
}

impl AuditService {
    /// Wires the service.
    pub fn new(repo: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock, cache: Mutex::new(HashMap::new()), writes: AtomicU64::new(0) }
    }

    /// Records that this process changed something the dashboard counts: cached counts taken
    /// before are not served again.
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::Release);
    }

    /// Events within reach, newest first.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.repo.list(r, filter, page).await?)
    }

    /// One event within reach.
    pub async fn get(&self, ctx: &RequestContext, id: AuditEventId) -> Result<AuditEvent, AppError> {
        reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let e = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, Action::Read, Target::Owned(&e.owner()))
            .into_result()
            .map_err(AppError::denied(RESOURCE))?;
        Ok(e)
    }

    /// Counts within reach (cached for [`STATS_TTL`] unless this process wrote since).
    pub async fn stats(&self, ctx: &RequestContext) -> Result<Stats, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let key = format!("{r:?}");
        // Read before counting: a write that lands during the count makes the next read recount.
        let generation = self.writes.load(Ordering::Acquire);
        if let Some((at, seen, s)) = lock(&self.cache).get(&key)
            && at.elapsed() < STATS_TTL
            && *seen == generation
        {
            return Ok(*s);
        }
        let s = self.repo.stats(r, self.clock.now(), EXACT_BELOW).await?;
        let mut cache = lock(&self.cache);
        cache.retain(|_, (at, seen, _)| at.elapsed() < STATS_TTL && *seen == generation);
        cache.insert(key, (Instant::now(), generation, s));
        Ok(s)
    }

    /// Sign-ins and tokens issued per hour over the last 24 hours within reach, oldest first,
    /// one entry per hour (zeros included).
    pub async fn last_day(&self, ctx: &RequestContext) -> Result<Vec<crate::ports::HourlyCount>, AppError> {
        use chrono::{DurationRound, TimeDelta};
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let now = self.clock.now();
        let this_hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
        let first = this_hour - TimeDelta::hours(23);
        let found = self.repo.hourly(r, first).await?;
        Ok((0..24)
            .map(|h| {
                let hour = first + TimeDelta::hours(h);
                found.iter().find(|c| c.hour == hour).copied().unwrap_or(crate::ports::HourlyCount {
                    hour,
                    sign_ins: 0,
                    tokens: 0,
                })
            })
            .collect())
    }

    /// The newest events within reach.
    pub async fn activity(&self, ctx: &RequestContext) -> Result<Vec<AuditEvent>, AppError> {
        let r: Reach = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let page = PageRequest::new(Some(1), Some(i64::from(ACTIVITY_LIMIT)))?;
        Ok(self.repo.list(r, &AuditFilter::default(), page).await?.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockAuditRepository;
    use crate::test_support::{ctx_super, fixed_clock};

    #[tokio::test]
    async fn stats_are_cached_per_reach() {
        let mut repo = MockAuditRepository::new();
        repo.expect_stats().times(1).returning(|_, _, _| Ok(Stats { users: 7, ..Stats::default() }));
        let svc = AuditService::new(Arc::new(repo), Arc::new(fixed_clock()));
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().users, 7);
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().users, 7, "second call served from cache");
    }

    #[tokio::test]
    async fn a_write_in_this_process_drops_the_cached_counts() {
        let mut repo = MockAuditRepository::new();
        let mut seq = mockall::Sequence::new();
        repo.expect_stats()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(Stats { partners: 1, ..Stats::default() }));
        repo.expect_stats()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(Stats { partners: 2, ..Stats::default() }));
        let svc = AuditService::new(Arc::new(repo), Arc::new(fixed_clock()));
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().partners, 1);
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().partners, 1, "cached");
        svc.note_write();
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().partners, 2, "recounted after a write");
        assert_eq!(svc.stats(&ctx_super()).await.unwrap().partners, 2, "cached again");
    }
}
