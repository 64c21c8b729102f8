//! SQL behaviour of the repositories against a real PostgreSQL (one fresh database per test).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use scaikey_app::RepoError;
use scaikey_app::ports::{PartnerRepository, TenantRepository};
use scaikey_domain::audit::{AuditRecord, RequestMeta};
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::partner::{NewPartner, PartnerInput};
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::role::{Role, Roles};
use scaikey_domain::tenant::{NewTenant, TenantInput};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;
use ulid::Ulid;

fn audit(action: &'static str) -> AuditRecord {
    let p = Principal::User(UserPrincipal {
        user_id: UserId::generate_from(Ulid::new()),
        session_id: SessionId::generate_from(Ulid::new()),
        tenant_id: None,
        partner_id: None,
        roles: Roles::from_iter([Role::SuperAdmin]),
    });
    AuditRecord::success(&p, &RequestMeta::default(), action, "test")
}

async fn db(t: &TestDb) -> Database {
    Database::connect(&DbConfig { url: t.url.clone(), max_connections: 10, acquire_timeout: Duration::from_secs(5) })
        .unwrap()
}

fn new_partner(name: &str, slug: &str, max_tenants: Option<i64>) -> NewPartner {
    NewPartner::validate(PartnerInput {
        name: Some(name.into()),
        slug: Some(slug.into()),
        max_tenants: Some(max_tenants),
        ..Default::default()
    })
    .unwrap()
}

fn new_tenant(name: &str, partner: PartnerId) -> NewTenant {
    NewTenant::validate(TenantInput {
        name: Some(name.into()),
        partner_id: Some(Some(partner.to_string())),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn slugs_are_unique_among_live_rows_only() {
    let t = TestDb::create().await.unwrap();
    let repo = db(&t).await.partners();
    let a = PartnerId::generate_from(Ulid::new());
    repo.insert(a, &new_partner("A", "same", None), Utc::now(), &audit("p")).await.unwrap();
    let b = PartnerId::generate_from(Ulid::new());
    let dup = repo.insert(b, &new_partner("B", "same", None), Utc::now(), &audit("p")).await;
    assert!(matches!(dup, Err(RepoError::Duplicate("slug"))), "{dup:?}");
    assert!(repo.delete(a, Utc::now(), &audit("d")).await.unwrap());
    assert!(repo.get(a).await.unwrap().is_none());
    repo.insert(b, &new_partner("B", "same", None), Utc::now(), &audit("p")).await.unwrap();
}

#[tokio::test]
async fn max_tenants_holds_under_concurrent_creates() {
    let t = TestDb::create().await.unwrap();
    let db = db(&t).await;
    let p = PartnerId::generate_from(Ulid::new());
    db.partners().insert(p, &new_partner("P", "p", Some(3)), Utc::now(), &audit("p")).await.unwrap();
    let repo = Arc::new(db.tenants());
    let mut tasks = Vec::new();
    for i in 0..10 {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            let id = TenantId::generate_from(Ulid::new());
            repo.insert(id, &new_tenant(&format!("T{i}"), p), Utc::now(), &audit("t")).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(RepoError::LimitReached(l)) => {
                assert_eq!((l.name, l.limit), ("max_tenants", 3));
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((ok, refused), (3, 7));
}

#[tokio::test]
async fn a_failed_write_leaves_no_audit_record() {
    use diesel_async::RunQueryDsl;
    let t = TestDb::create().await.unwrap();
    let db = db(&t).await;
    let missing = PartnerId::generate_from(Ulid::new());
    let r = db
        .tenants()
        .insert(TenantId::generate_from(Ulid::new()), &new_tenant("T", missing), Utc::now(), &audit("tenant.create"))
        .await;
    assert!(matches!(r, Err(RepoError::MissingReference("partner_id"))), "{r:?}");
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = t.connect().await.unwrap();
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM audit_events").get_result(&mut c).await.unwrap();
    assert_eq!(n.n, 0);
}

#[tokio::test]
async fn migrations_revert_and_reapply_cleanly() {
    let t = TestDb::create().await.unwrap();
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        use diesel_async::AsyncPgConnection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_migrations::MigrationHarness;
        let mut c = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url).unwrap();
        let reverted = c.revert_all_migrations(scaikey_persistence::MIGRATIONS).unwrap().len();
        assert!(reverted > 0);
        let applied = c.run_pending_migrations(scaikey_persistence::MIGRATIONS).unwrap();
        assert_eq!(applied.len(), reverted);
    })
    .await
    .unwrap();
    // The re-applied schema works.
    let repo = db(&t).await.partners();
    repo.insert(PartnerId::generate_from(Ulid::new()), &new_partner("A", "a", None), Utc::now(), &audit("p"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_audited_write_records_its_event_only_when_it_changed_something() {
    use diesel_async::RunQueryDsl;
    use scaikey_app::ports::SessionRepository;
    use std::str::FromStr;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    for sql in [
        "INSERT INTO users (id, email, status, created_at, updated_at) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'active', now(), now())",
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', now(), now(), now() + interval '1 hour')",
    ] {
        diesel::sql_query(sql).execute(&mut c).await.unwrap();
    }
    let sessions = db(&t).await.sessions();
    let id = SessionId::from_str("ses_00000000000000000000000002").unwrap();
    let count = async |c: &mut diesel_async::AsyncPgConnection| {
        let n: N = diesel::sql_query("SELECT count(*) AS n FROM audit_events WHERE action = 'session.revoke'")
            .get_result(c)
            .await
            .unwrap();
        n.n
    };
    assert!(sessions.revoke(id, Utc::now(), &audit("session.revoke")).await.unwrap().is_some());
    assert_eq!(count(&mut c).await, 1);
    // Revoked already: nothing changes, nothing is recorded.
    assert!(sessions.revoke(id, Utc::now(), &audit("session.revoke")).await.unwrap().is_some());
    let unknown = SessionId::from_str("ses_00000000000000000000000009").unwrap();
    assert!(sessions.revoke(unknown, Utc::now(), &audit("session.revoke")).await.unwrap().is_none());
    assert_eq!(count(&mut c).await, 1);
}
