//! Application and registration storage against PostgreSQL: effective users at scale and the
//! expiry sweep.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use chrono::Utc;
use diesel_async::RunQueryDsl;
use scaikey_app::page::PageRequest;
use scaikey_app::ports::{ApplicationRepository, RegistrationRepository};
use scaikey_domain::access::Reach;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "support/apps.rs"]
mod apps;

fn db(t: &TestDb) -> Database {
    Database::connect(&DbConfig { url: t.url.clone(), max_connections: 2, acquire_timeout: Duration::from_secs(5) })
        .unwrap()
}

#[tokio::test]
async fn effective_users_are_counted_once_and_paged_in_sql() {
    let t = TestDb::create().await.unwrap();
    let id = apps::seed_application(&t, 10_000).await;
    let repo = db(&t).applications();
    let app = repo.get(id).await.unwrap().unwrap();
    let page =
        repo.effective_users(&app, Reach::Platform, None, PageRequest::new(Some(1), Some(100)).unwrap()).await.unwrap();
    assert_eq!(page.total, 10_000, "1,000 direct users are also group members: each counts once");
    assert_eq!(page.items.len(), 100);
    let direct = page.items.iter().filter(|u| u.direct).count();
    assert!(
        page.items.iter().all(|u| u.via_groups.len() == 1),
        "every user reaches the app through its tenant's root group"
    );
    assert!(direct <= 100);
    let deep = repo
        .effective_users(&app, Reach::Platform, None, PageRequest::new(Some(100), Some(100)).unwrap())
        .await
        .unwrap();
    assert_eq!(deep.items.len(), 100);
}

#[tokio::test]
async fn the_sweep_records_expired_requests_only() {
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(
        "INSERT INTO registration_requests (id, scope, name, application_type, contact_email, status, expires_at, created_at, updated_at) VALUES
         ('00000000-0000-0000-0000-000000000001', 'GLOBAL', 'due', 'SERVICE', 'a@b.c', 'PENDING', now() - interval '1 second', now(), now()),
         ('00000000-0000-0000-0000-000000000002', 'GLOBAL', 'later', 'SERVICE', 'a@b.c', 'PENDING', now() + interval '1 hour', now(), now()),
         ('00000000-0000-0000-0000-000000000003', 'GLOBAL', 'done', 'SERVICE', 'a@b.c', 'APPROVED', now() - interval '1 hour', now(), now())",
    )
    .execute(&mut c)
    .await
    .unwrap();
    let repo = db(&t).registrations();
    assert_eq!(repo.expire_due(Utc::now()).await.unwrap(), 1);
    assert_eq!(repo.expire_due(Utc::now()).await.unwrap(), 0, "idempotent");
}
