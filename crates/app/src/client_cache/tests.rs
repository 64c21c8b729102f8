//! The cache must save storage round trips and never serve a record a write has replaced.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{TimeZone, Utc};

use super::CachedApplications;
use crate::ports::{ClientDirectory, MockClientDirectory};
use crate::revocation::OVERLAP;
use crate::test_support::service_app as app;

/// A mock that answers `by_client_id` with `digest` and expects exactly `lookups` calls.
fn repo_answering(lookups: usize, digest: &'static [u8]) -> MockClientDirectory {
    let mut repo = MockClientDirectory::new();
    repo.expect_by_client_id().times(lookups).returning(move |id| {
        let n = id.trim_start_matches("ck_").parse().unwrap_or(0);
        Ok(Some(Arc::new((app(n), Some(digest.to_vec())))))
    });
    repo
}

#[tokio::test]
async fn a_second_lookup_is_served_from_memory() {
    let cache = CachedApplications::new(Arc::new(repo_answering(1, b"d1")), StdDuration::from_secs(60));
    for _ in 0..3 {
        let found = cache.by_client_id("ck_1").await.unwrap_or_default();
        assert_eq!(found.map(|f| f.1.clone()), Some(Some(b"d1".to_vec())));
    }
    assert_eq!(cache.len(), 1);
}

#[tokio::test]
async fn zero_ttl_goes_to_storage_every_time() {
    let cache = CachedApplications::new(Arc::new(repo_answering(3, b"d1")), StdDuration::ZERO);
    for _ in 0..3 {
        assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
    }
    assert!(cache.is_empty());
}

#[tokio::test]
async fn unknown_clients_are_not_cached() {
    let mut repo = MockClientDirectory::new();
    repo.expect_by_client_id().times(2).returning(|_| Ok(None));
    let cache = CachedApplications::new(Arc::new(repo), StdDuration::from_secs(60));
    assert!(cache.by_client_id("ck_nope").await.unwrap_or_default().is_none());
    assert!(cache.by_client_id("ck_nope").await.unwrap_or_default().is_none());
}

#[tokio::test]
async fn an_invalidation_drops_the_entry_at_once_and_the_next_lookup_reads_storage() {
    let cache = CachedApplications::new(Arc::new(repo_answering(2, b"old")), StdDuration::from_secs(60));
    assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
    cache.invalidate_app(app(1).id);
    assert!(cache.is_empty(), "the entry must go with the write");
    // The next lookup reads storage again (times(2) above fails the test otherwise).
    assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
}

#[tokio::test]
async fn a_poll_drops_what_other_processes_changed_and_advances() {
    let now = Utc.timestamp_opt(1_900_000_000, 0).single().unwrap_or_default();
    let later = now + chrono::Duration::seconds(1);
    let mut repo = repo_answering(2, b"d");
    let mut seq = mockall::Sequence::new();
    // First poll: nothing seen yet, so it looks back OVERLAP from now.
    repo.expect_changed_since()
        .withf(move |since| *since == now - OVERLAP)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(vec![]));
    // Second poll: from the first poll's high-water mark minus OVERLAP; reports ck_1 changed.
    repo.expect_changed_since()
        .withf(move |since| *since == now - OVERLAP)
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(vec![("ck_1".into(), later)]));
    // Third poll: from the newest change seen.
    repo.expect_changed_since()
        .withf(move |since| *since == later - OVERLAP)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(vec![]));
    let cache = CachedApplications::new(Arc::new(repo), StdDuration::from_secs(60));
    assert_eq!(cache.refresh(now).await.unwrap_or(99), 0);
    assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
    assert!(cache.by_client_id("ck_2").await.unwrap_or_default().is_some());
    assert_eq!(cache.refresh(later).await.unwrap_or(0), 1);
    assert_eq!(cache.len(), 1, "only the changed client is dropped");
    assert!(cache.cached("ck_2").is_some());
    assert_eq!(cache.refresh(later).await.unwrap_or(99), 0);
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let cache = CachedApplications::new(Arc::new(repo_answering(2, b"d")), StdDuration::from_millis(30));
    assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
    tokio::time::sleep(StdDuration::from_millis(60)).await;
    assert!(cache.by_client_id("ck_1").await.unwrap_or_default().is_some());
}
