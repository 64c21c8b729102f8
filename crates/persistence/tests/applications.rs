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

#[tokio::test]
async fn a_review_is_stored_only_on_the_row_it_was_decided_on_and_unknown_values_are_errors() {
    use scaikey_app::ports::Review;
    use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
    use scaikey_domain::id::RegistrationRequestId;
    use scaikey_domain::registration::{RegistrationEvent, RegistrationStatus};
    use std::str::FromStr;

    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(
        "INSERT INTO registration_requests (id, scope, name, application_type, grant_types, contact_email, status, expires_at, created_at, updated_at) VALUES
         ('00000000-0000-0000-0000-000000000001', 'GLOBAL', 'Reports', 'SERVICE', '{client_credentials}', 'a@b.c', 'PENDING', now() + interval '1 hour', now(), now())",
    )
    .execute(&mut c)
    .await
    .unwrap();
    let repo = db(&t).registrations();
    let id = RegistrationRequestId::from_str("reg_00000000000000000000000001").unwrap();
    let read = repo.get(id).await.unwrap().unwrap();
    let now = Utc::now();
    let audit = AuditRecord::anonymous(
        &RequestMeta::default(),
        "registration.cancel",
        "registration_request",
        AuditResult::Success,
    );
    let review =
        Review { outcome: read.review(&RegistrationEvent::Cancel, "usr_x", None, now).unwrap(), application: None };
    let (stored, app) = repo.store_review(&read, &review, now, &audit).await.unwrap().unwrap();
    assert_eq!((stored.status, app), (RegistrationStatus::Cancelled, None));

    // The same decision again, on the row as it was: nothing is written, not even the audit.
    assert!(repo.store_review(&read, &review, now, &audit).await.unwrap().is_none());
    let audits: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "SELECT count(*) FROM audit_events WHERE action = 'registration.cancel'",
    )
    .get_result(&mut c)
    .await
    .unwrap();
    assert_eq!(audits, 1);

    // A status this binary does not know (a newer version's, written past its dropped check)
    // is an error on read, not a guess.
    for sql in [
        "ALTER TABLE registration_requests DROP CONSTRAINT registration_requests_status_check",
        "UPDATE registration_requests SET status = 'ARCHIVED'",
    ] {
        diesel::sql_query(sql).execute(&mut c).await.unwrap();
    }
    let err = repo.get(id).await.unwrap_err();
    assert!(err.to_string().contains("unknown status \"ARCHIVED\""), "{err}");
}
