//! The in-process list of revoked sessions that token checks consult without a database round
//! trip.
//!
//! A process adds the sessions it revokes itself at once, and [`RevocationList::refresh`] (run
//! every second by the server) adds those revoked by other processes sharing the database. So a
//! revoked session's tokens fail at once on the process that revoked it and within about one poll
//! interval (plus clock skew, covered by [`OVERLAP`]) everywhere else. Entries are dropped when
//! the session would have expired anyway: every token of a session expires with it.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::id::{ApplicationId, SessionId};

use crate::error::RepoError;
use crate::ports::{ApplicationRepository, EndedSession, SessionRepository};
use crate::sync::{lock, read, write};

/// How far back each poll looks before its last high-water mark, to catch revocations committed
/// late or stamped by a process whose clock runs behind.
pub const OVERLAP: Duration = Duration::seconds(10);

/// Revoked, unexpired sessions, and applications whose tokens are refused.
#[derive(Debug, Default)]
pub struct RevocationList {
    revoked: RwLock<HashMap<SessionId, DateTime<Utc>>>,
    high_water: Mutex<Option<DateTime<Utc>>>,
    disabled_apps: RwLock<HashSet<ApplicationId>>,
}

impl RevocationList {
    /// An empty list; call [`RevocationList::refresh`] before serving.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `true` if tokens of `id` must be refused.
    #[must_use]
    pub fn is_revoked(&self, id: SessionId) -> bool {
        read(&self.revoked).contains_key(&id)
    }

    /// Records sessions this process ended.
    pub fn add(&self, ended: &[EndedSession]) {
        if ended.is_empty() {
            return;
        }
        let mut m = write(&self.revoked);
        for e in ended {
            m.insert(e.id, e.expires_at);
        }
    }

    /// `true` if client tokens of `app` must be refused (deleted or suspended).
    #[must_use]
    pub fn is_app_disabled(&self, app: ApplicationId) -> bool {
        read(&self.disabled_apps).contains(&app)
    }

    /// Records an application this process deleted or suspended.
    pub fn disable_app(&self, app: ApplicationId) {
        write(&self.disabled_apps).insert(app);
    }

    /// Records an application this process re-activated.
    pub fn enable_app(&self, app: ApplicationId) {
        write(&self.disabled_apps).remove(&app);
    }

    /// Replaces the disabled-application set with storage's view.
    pub async fn refresh_apps(&self, repo: &dyn ApplicationRepository, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let set: HashSet<ApplicationId> = repo.disabled(now).await?.into_iter().collect();
        let n = set.len();
        *write(&self.disabled_apps) = set;
        Ok(n)
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.revoked.read().map_or(0, |m| m.len())
    }

    /// `true` if empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pulls revocations from storage and forgets expired entries.
    pub async fn refresh(&self, repo: &dyn SessionRepository, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let since = lock(&self.high_water).map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t - OVERLAP);
        let found = repo.revoked_since(since, now).await?;
        let newest = found.iter().map(|r| r.revoked_at).max();
        {
            let mut m = write(&self.revoked);
            for r in &found {
                m.insert(r.id, r.expires_at);
            }
            m.retain(|_, expires| *expires > now);
        }
        if let Some(n) = newest {
            let mut h = lock(&self.high_water);
            if h.is_none_or(|old| n > old) {
                *h = Some(n);
            }
        }
        Ok(found.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockSessionRepository, Revocation};

    fn sid(n: u64) -> SessionId {
        SessionId::generate_from(ulid::Ulid::from_parts(n, 0))
    }

    #[tokio::test]
    async fn refresh_adds_remote_revocations_and_forgets_expired_ones() {
        let now = Utc::now();
        let list = RevocationList::new();
        list.add(&[EndedSession { id: sid(1), expires_at: now - Duration::seconds(1) }]);
        assert!(list.is_revoked(sid(1)));

        let mut repo = MockSessionRepository::new();
        let mut calls = 0;
        repo.expect_revoked_since().times(2).returning(move |since, _| {
            calls += 1;
            if calls == 1 {
                assert_eq!(since, DateTime::<Utc>::UNIX_EPOCH);
                Ok(vec![Revocation { id: sid(2), expires_at: now + Duration::hours(1), revoked_at: now }])
            } else {
                // The second poll starts from the high-water mark, minus the overlap.
                assert_eq!(since, now - OVERLAP);
                Ok(vec![])
            }
        });
        list.refresh(&repo, now).await.unwrap();
        assert!(list.is_revoked(sid(2)));
        assert!(!list.is_revoked(sid(1)), "expired entries are forgotten");
        list.refresh(&repo, now).await.unwrap();
        assert_eq!(list.len(), 1);
    }
}
