//! Userinfo's short memory of the people it answered for: each person's sign-in record and
//! group names, kept for a time-to-live so a resource server that calls userinfo on every
//! request costs no database read per call.
//!
//! Access is never remembered: every call still verifies the token and asks the revocation
//! list, which refuses the tokens of a suspended, deleted or signed-out person (and of a
//! suspended tenant or partner) at once in this process and within its poll in the others.
//! Only the claims' content — a renamed person, a new group — may be up to one time-to-live
//! old. Unknown users are never remembered, the map is cleared when it reaches
//! [`MAX_ENTRIES`], and a time-to-live of zero reads storage on every call.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use scaikey_domain::id::UserId;

use crate::error::RepoError;
use crate::ports::oidc::{GrantRepository, SignInUser};
use crate::sync::{read, write};

/// People remembered at most; the map is cleared when full.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone)]
struct Entry {
    loaded: Instant,
    user: Arc<SignInUser>,
    /// Read on the first call that asked for the `groups` claim.
    groups: Option<Arc<Vec<String>>>,
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct ClaimsCache {
    ttl: Duration,
    entries: RwLock<HashMap<UserId, Entry>>,
}

impl ClaimsCache {
    /// Remembers for `ttl` (zero: never).
    pub(crate) fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()) }
    }

    fn fresh(&self, id: UserId) -> Option<Entry> {
        read(&self.entries).get(&id).filter(|e| e.loaded.elapsed() < self.ttl).cloned()
    }

    fn keep(&self, id: UserId, entry: Entry) {
        if self.ttl.is_zero() {
            return;
        }
        let mut m = write(&self.entries);
        if m.len() >= MAX_ENTRIES {
            // Expired entries go first; a map full of fresh ones starts again.
            m.retain(|_, e| e.loaded.elapsed() < self.ttl);
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
        }
        m.insert(id, entry);
    }

    /// The person's sign-in record and, when `with_groups`, their group names.
    pub(crate) async fn claims_of(
        &self,
        grants: &dyn GrantRepository,
        id: UserId,
        with_groups: bool,
    ) -> Result<Option<(Arc<SignInUser>, Arc<Vec<String>>)>, RepoError> {
        let none = || Arc::new(Vec::new());
        let entry = match self.fresh(id) {
            Some(e) if !with_groups || e.groups.is_some() => {
                let groups = e.groups.unwrap_or_else(none);
                return Ok(Some((e.user, groups)));
            }
            Some(e) => e,
            None => match grants.sign_in_user(id).await? {
                Some(u) => Entry { loaded: Instant::now(), user: Arc::new(u), groups: None },
                None => return Ok(None),
            },
        };
        let entry =
            if with_groups { Entry { groups: Some(Arc::new(grants.group_names(id).await?)), ..entry } } else { entry };
        let out = (entry.user.clone(), entry.groups.clone().unwrap_or_else(none));
        self.keep(id, entry);
        Ok(Some(out))
    }

    /// People remembered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        read(&self.entries).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::oidc::MockGrantRepository;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn person(id: UserId) -> SignInUser {
        SignInUser {
            user_id: id,
            tenant_id: None,
            partner_id: None,
            email: "ana@acme.example".into(),
            email_verified: true,
            first_name: Some("Ana".into()),
            last_name: None,
            display_name: None,
            roles: Default::default(),
            user_active: true,
            tenant_active: true,
            partner_active: true,
        }
    }

    /// A store that counts its reads; `known` decides whether the user exists.
    fn store(known: bool, reads: Arc<AtomicUsize>, group_reads: Arc<AtomicUsize>) -> MockGrantRepository {
        let mut g = MockGrantRepository::new();
        g.expect_sign_in_user().returning(move |id| {
            reads.fetch_add(1, Ordering::SeqCst);
            Ok(known.then(|| person(id)))
        });
        g.expect_group_names().returning(move |_| {
            group_reads.fetch_add(1, Ordering::SeqCst);
            Ok(vec!["engineering".into()])
        });
        g
    }

    fn uid(n: u64) -> UserId {
        UserId::generate_from(ulid::Ulid::from_parts(n, 1))
    }

    #[tokio::test]
    async fn a_person_is_read_once_per_time_to_live_and_groups_only_when_asked() {
        let (reads, groups) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let g = store(true, reads.clone(), groups.clone());
        let c = ClaimsCache::new(Duration::from_secs(60));
        for _ in 0..3 {
            let (u, gs) = c.claims_of(&g, uid(1), false).await.unwrap().unwrap();
            assert_eq!((u.user_id, gs.len()), (uid(1), 0));
        }
        assert_eq!((reads.load(Ordering::SeqCst), groups.load(Ordering::SeqCst)), (1, 0));
        // The first call asking for groups reads them; later ones remember them too.
        for _ in 0..2 {
            let (_, gs) = c.claims_of(&g, uid(1), true).await.unwrap().unwrap();
            assert_eq!(*gs, ["engineering"]);
        }
        assert_eq!((reads.load(Ordering::SeqCst), groups.load(Ordering::SeqCst)), (1, 1));
        c.claims_of(&g, uid(2), false).await.unwrap().unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "each person has their own entry");
    }

    #[tokio::test]
    async fn past_its_time_to_live_or_with_none_a_person_is_read_again() {
        let (reads, groups) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let g = store(true, reads.clone(), groups);
        let c = ClaimsCache::new(Duration::from_millis(30));
        c.claims_of(&g, uid(1), false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        c.claims_of(&g, uid(1), false).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        let off = ClaimsCache::new(Duration::ZERO);
        off.claims_of(&g, uid(1), false).await.unwrap();
        off.claims_of(&g, uid(1), false).await.unwrap();
        assert_eq!((reads.load(Ordering::SeqCst), off.len()), (4, 0));
    }

    #[tokio::test]
    async fn unknown_people_are_never_remembered() {
        let (reads, groups) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let g = store(false, reads.clone(), groups);
        let c = ClaimsCache::new(Duration::from_secs(60));
        assert!(c.claims_of(&g, uid(1), true).await.unwrap().is_none());
        assert!(c.claims_of(&g, uid(1), true).await.unwrap().is_none());
        assert_eq!((reads.load(Ordering::SeqCst), c.len()), (2, 0));
    }
}
