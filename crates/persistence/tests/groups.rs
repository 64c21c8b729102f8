//! Effective membership through nesting, on a deep (60 levels) and wide (10,000 members)
//! hierarchy built directly in SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use scaikey_app::page::PageRequest;
use scaikey_app::ports::GroupRepository;
use scaikey_domain::id::GroupId;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "support/hierarchy.rs"]
mod hierarchy;
use hierarchy::build_hierarchy;

#[tokio::test]
async fn effective_members_through_deep_and_wide_nesting() {
    let t = TestDb::create().await.unwrap();
    let root = build_hierarchy(&t, 60, 10_000).await;
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let repo = db.groups();
    let page = repo.effective_members(root, PageRequest::new(Some(1), Some(100)).unwrap()).await.unwrap();
    // 10,000 live members (the deleted one and the unrelated group's member are out), each once.
    assert_eq!(page.total, 10_000);
    assert_eq!(page.items.len(), 100);
    let mut ids: Vec<_> = page.items.clone();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert!(page.items.windows(2).all(|w| w[0] > w[1]), "ordered by user ID, descending");

    // The deepest group alone holds the spill-over members.
    let deepest = GroupId::generate_from(ulid::Ulid::from(
        uuid::Uuid::parse_str("00000000-0000-0000-0001-00000000003b").unwrap(),
    ));
    let tail = repo.effective_members(deepest, PageRequest::new(Some(1), Some(1)).unwrap()).await.unwrap();
    assert_eq!(tail.total, 10_000 - 59);

    // A deep page is served from SQL too.
    let last = repo.effective_members(root, PageRequest::new(Some(100), Some(100)).unwrap()).await.unwrap();
    assert_eq!(last.items.len(), 100);
    assert!(!last.items.iter().any(|u| page.items.contains(u)));
}
