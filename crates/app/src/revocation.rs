//! The in-process list of revoked sessions that token checks consult without a database round
//! trip.
//!
//! A process adds the sessions it revokes itself at once, and [`RevocationList::refresh`] (run
//! every second by the server) adds those revoked by other processes sharing the database. So a
//! revoked session's tokens fail at once on the process that revoked it and within about one poll
//! interval (plus clock skew, covered by [`OVERLAP`]) everywhere else. Entries are dropped when
//! the session would have expired anyway: every token of a session expires with it.
//!
//! It also holds the owner-level cutoffs of `domain::token_cutoff` (role changes, suspensions,
//! deletions, tenant moves), kept the same way: at once for this process's own changes, within a
//! poll for the others'. [`RevocationList::refuses`] is the one question every token check asks.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::id::{ApplicationId, SessionId, UserId};
use scaikey_domain::principal::Principal;
use scaikey_domain::token_cutoff::{self, CutState, TokenOwner};

use crate::error::RepoError;
use crate::ports::{AccessToken, ClientDirectory, CutoffRepository, EndedSession, SessionRepository};
use crate::sync::{lock, read, write};

/// How far back each poll looks before its last high-water mark, to catch revocations committed
/// late or stamped by a process whose clock runs behind.
pub const OVERLAP: Duration = Duration::seconds(10);

/// How long an unblocked cutoff is remembered: past it, no token issued before the cutoff is
/// still alive (the longest token lifetime is a day).
pub const CUTOFF_MEMORY: Duration = Duration::hours(48);

/// Revoked, unexpired sessions, applications whose tokens are refused, and owner cutoffs.
#[derive(Debug, Default)]
pub struct RevocationList {
    revoked: RwLock<HashMap<SessionId, DateTime<Utc>>>,
    high_water: Mutex<Option<DateTime<Utc>>>,
    disabled_apps: RwLock<HashSet<ApplicationId>>,
    cutoffs: RwLock<HashMap<TokenOwner, CutState>>,
    cutoff_high_water: Mutex<Option<DateTime<Utc>>>,
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
    pub async fn refresh_apps(&self, repo: &dyn ClientDirectory, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let set: HashSet<ApplicationId> = repo.disabled(now).await?.into_iter().collect();
        let n = set.len();
        *write(&self.disabled_apps) = set;
        Ok(n)
    }

    /// `true` if `token` must be refused: its session revoked, its application disabled, or
    /// one of its owners cut after it was issued (or blocked). Its issue time is its `jti`'s, to
    /// the millisecond.
    #[must_use]
    pub fn refuses(&self, token: &AccessToken) -> bool {
        let direct = match &token.principal {
            Principal::User(u) => self.is_revoked(u.session_id),
            Principal::Client(c) => self.is_app_disabled(c.app_id),
            // An agent's status is read on every MCP request (the adapter loads the agent).
            Principal::Agent(_) => false,
        };
        if direct {
            return true;
        }
        let issued = DateTime::from_timestamp_millis(i64::try_from(token.jti.timestamp_ms()).unwrap_or(i64::MAX))
            .unwrap_or(token.issued_at);
        let cutoffs = read(&self.cutoffs);
        !cutoffs.is_empty()
            && token_cutoff::owners(&token.principal).iter().any(|o| cutoffs.get(o).is_some_and(|c| c.refuses(issued)))
    }

    /// `true` if every token of `owner` is refused (a suspended or deleted tenant or partner):
    /// nothing may be issued for it either.
    #[must_use]
    pub fn is_blocked(&self, owner: TokenOwner) -> bool {
        read(&self.cutoffs).get(&owner).is_some_and(|c| c.blocked)
    }

    /// Applies what storage just did to a user whose credentials changed (password set, second
    /// factors removed, user deleted): the sessions it ended, and the cut refusing every token
    /// issued to the user before `now`.
    pub fn cut_user(&self, user: UserId, ended: &[EndedSession], now: DateTime<Utc>) {
        self.add(ended);
        self.cut(TokenOwner::User(user), token_cutoff::Cut::Before, now);
    }

    /// Applies a cut this process just stored (the same rule storage applied).
    pub fn cut(&self, owner: TokenOwner, cut: token_cutoff::Cut, now: DateTime<Utc>) {
        let mut m = write(&self.cutoffs);
        let next = token_cutoff::apply(m.get(&owner).copied(), cut, now);
        m.insert(owner, next);
    }

    /// Pulls cutoffs from storage (every blocked owner, and what changed since the last poll)
    /// and forgets unblocked ones older than [`CUTOFF_MEMORY`].
    pub async fn refresh_cutoffs(&self, repo: &dyn CutoffRepository, now: DateTime<Utc>) -> Result<usize, RepoError> {
        let since = lock(&self.cutoff_high_water).map_or(now - CUTOFF_MEMORY, |t| t - OVERLAP);
        let found = repo.changed_since(since).await?;
        // As for revocations: the next poll looks back from this poll's time at least, or a
        // mass change stamped long ago (a tenant's users cut at once) is read again every poll.
        let newest = found.iter().map(|(_, _, changed)| *changed).fold(now, DateTime::max);
        {
            let mut m = write(&self.cutoffs);
            for (owner, state, _) in &found {
                // Another process's later view wins; a cutoff never moves back.
                let merged = match m.get(owner) {
                    Some(mine) if mine.cutoff > state.cutoff => {
                        CutState { cutoff: mine.cutoff, blocked: state.blocked }
                    }
                    _ => *state,
                };
                m.insert(*owner, merged);
            }
            m.retain(|_, c| c.blocked || c.cutoff > now - CUTOFF_MEMORY);
        }
        let mut h = lock(&self.cutoff_high_water);
        if h.is_none_or(|old| newest > old) {
            *h = Some(newest);
        }
        Ok(found.len())
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
        // The next poll looks back from this one's time too, not only from the newest stamp it
        // found: after a quiet spell, a newest stamp long past would have every poll read again
        // all that was revoked around it (a tenant's thousands of sessions, every second).
        let newest = found.iter().map(|r| r.revoked_at).fold(now, DateTime::max);
        {
            let mut m = write(&self.revoked);
            for r in &found {
                m.insert(r.id, r.expires_at);
            }
            m.retain(|_, expires| *expires > now);
        }
        let mut h = lock(&self.high_water);
        if h.is_none_or(|old| newest > old) {
            *h = Some(newest);
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

    #[tokio::test]
    async fn revocations_found_long_after_their_stamp_are_not_read_again_every_poll() {
        let now = Utc::now();
        let list = RevocationList::new();
        let mut repo = MockSessionRepository::new();
        let mut calls = 0;
        repo.expect_revoked_since().times(2).returning(move |since, _| {
            calls += 1;
            if calls == 1 {
                // A mass revocation an hour ago, all with one stamp.
                let at = now - Duration::hours(1);
                Ok((0..3)
                    .map(|n| Revocation { id: sid(n), expires_at: now + Duration::hours(1), revoked_at: at })
                    .collect())
            } else {
                assert_eq!(since, now - OVERLAP, "from the last poll's time, not from the old stamp");
                Ok(vec![])
            }
        });
        list.refresh(&repo, now).await.unwrap();
        list.refresh(&repo, now + Duration::seconds(1)).await.unwrap();
        assert_eq!(list.len(), 3);
    }

    #[tokio::test]
    async fn cutoffs_found_long_after_their_stamp_are_not_read_again_every_poll() {
        use crate::ports::MockCutoffRepository;
        let now = Utc::now();
        let list = RevocationList::new();
        let mut repo = MockCutoffRepository::new();
        let mut calls = 0;
        repo.expect_changed_since().times(3).returning(move |since| {
            calls += 1;
            let at = now - Duration::hours(1);
            match calls {
                1 => {
                    assert_eq!(since, now - CUTOFF_MEMORY, "the first poll reads what a token may still carry");
                    // Three users cut an hour ago, all with one stamp.
                    Ok((0..3)
                        .map(|n| {
                            let user = UserId::generate_from(ulid::Ulid::from_parts(n, 1));
                            (TokenOwner::User(user), CutState { cutoff: at, blocked: false }, at)
                        })
                        .collect())
                }
                2 => {
                    assert_eq!(since, now - OVERLAP, "from the last poll's time, not from the old stamp");
                    // A stamp ahead of this clock (another process's): the next poll looks back from it.
                    let user = UserId::generate_from(ulid::Ulid::from_parts(9, 1));
                    let ahead = now + Duration::seconds(30);
                    Ok(vec![(TokenOwner::User(user), CutState { cutoff: ahead, blocked: false }, ahead)])
                }
                _ => {
                    assert_eq!(since, now + Duration::seconds(30) - OVERLAP);
                    Ok(vec![])
                }
            }
        });
        list.refresh_cutoffs(&repo, now).await.unwrap();
        list.refresh_cutoffs(&repo, now + Duration::seconds(1)).await.unwrap();
        list.refresh_cutoffs(&repo, now + Duration::seconds(2)).await.unwrap();
        let user = UserId::generate_from(ulid::Ulid::from_parts(0, 1));
        assert!(read(&list.cutoffs).contains_key(&TokenOwner::User(user)), "what was read is kept");
    }
}
