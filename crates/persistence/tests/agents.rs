//! Agent credentials and call counting against PostgreSQL: the first secret rotation gives the
//! client ID and later ones keep it, a deleted agent gets none, and calls counted from many
//! connections at once all count, per window.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_app::ports::AgentRepository;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::AgentId;
use scaikey_persistence::Database;
use scaikey_testkit::TestDb;

#[path = "support/db.rs"]
mod db;
use db::{at, audit};

fn rotation() -> AuditRecord {
    audit("agent.rotate_secret")
}

async fn setup() -> (TestDb, Database, AgentId) {
    let (t, db) = db::fresh().await;
    let agent = AgentId::generate_from(ulid::Ulid::new());
    let uuid = uuid::Uuid::from(agent.ulid());
    let mut c = t.connect().await.unwrap();
    for sql in [
        "INSERT INTO tenants (id, name, slug, status, created_at, updated_at) VALUES ('00000000-0000-0000-0000-0000000000aa', 'Acme', 'acme', 'active', now(), now())".to_string(),
        format!("INSERT INTO agents (id, tenant_id, name, status, created_at, updated_at) VALUES ('{uuid}', '00000000-0000-0000-0000-0000000000aa', 'Bot', 'active', now(), now())"),
    ] {
        diesel::sql_query(sql).execute(&mut c).await.unwrap();
    }
    (t, db, agent)
}

#[tokio::test]
async fn the_client_id_is_given_once_and_kept() {
    let (t, db, agent) = setup().await;
    let repo = db.agents();
    assert_eq!(
        repo.set_secret(agent, "ag_first", b"d1", at(0), &rotation()).await.unwrap().as_deref(),
        Some("ag_first")
    );
    assert_eq!(
        repo.set_secret(agent, "ag_second", b"d2", at(1), &rotation()).await.unwrap().as_deref(),
        Some("ag_first")
    );
    let (found, digest) = repo.by_client_id("ag_first").await.unwrap().unwrap();
    assert_eq!((found.id, found.client_id.as_deref(), digest.as_deref()), (agent, Some("ag_first"), Some(&b"d2"[..])));
    assert!(repo.by_client_id("ag_second").await.unwrap().is_none());
    let mut c = t.connect().await.unwrap();
    diesel::sql_query("UPDATE agents SET deleted_at = now()").execute(&mut c).await.unwrap();
    assert!(repo.by_client_id("ag_first").await.unwrap().is_none());
    assert_eq!(repo.set_secret(agent, "ag_x", b"d3", at(2), &rotation()).await.unwrap(), None);
}

#[tokio::test]
async fn calls_from_many_connections_all_count_per_window() {
    let (_t, db, agent) = setup().await;
    let repo = db.agents();
    let counts = futures_util::future::join_all((0..24).map(|_| {
        let repo = repo.clone();
        async move { repo.count_call(agent, at(60)).await.unwrap() }
    }))
    .await;
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=24).collect::<Vec<i64>>(), "each call saw its own count");
    // The next window starts again at one.
    assert_eq!(repo.count_call(agent, at(120)).await.unwrap(), 1);
    assert_eq!(repo.count_call(agent, at(120)).await.unwrap(), 2);
}
