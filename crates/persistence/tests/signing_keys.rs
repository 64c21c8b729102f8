//! Signing keys against PostgreSQL: a rotation stores the new keys, schedules the old ones'
//! retirement and records its audit event in one transaction; retired keys are not published.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use scaikey_app::ports::keys::{SigningKeyRepository, StoredSigningKey};
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::oidc::signing_key::KeySchedule;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000 + secs, 0).unwrap()
}

fn key(kid: &str, alg: &str, created: i64, activates: i64) -> StoredSigningKey {
    StoredSigningKey {
        kid: kid.into(),
        alg: alg.into(),
        public_jwk: serde_json::json!({"kid": kid}),
        private_key_enc: vec![1, 2, 3],
        schedule: KeySchedule { created_at: at(created), activates_at: at(activates), retires_at: None },
    }
}

fn audit() -> AuditRecord {
    AuditRecord::anonymous(&RequestMeta::default(), "signing_key.rotate", "signing_key", AuditResult::Success)
}

#[tokio::test]
async fn rotation_is_one_transaction_and_retired_keys_leave() {
    let t = TestDb::create().await.unwrap();
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let repo = db.signing_keys();
    repo.insert(&key("es-1", "ES256", 0, 0)).await.unwrap();
    repo.insert(&key("rs-1", "RS256", 1, 1)).await.unwrap();

    repo.rotate(&[key("es-2", "ES256", 10, 310)], &[("es-1".into(), at(1000))], at(10), &audit()).await.unwrap();
    let kids =
        |keys: Vec<StoredSigningKey>| keys.into_iter().map(|k| (k.kid, k.schedule.retires_at)).collect::<Vec<_>>();
    assert_eq!(
        kids(repo.published(at(999)).await.unwrap()),
        [("es-1".to_string(), Some(at(1000))), ("rs-1".into(), None), ("es-2".into(), None)]
    );
    assert_eq!(repo.published(at(999)).await.unwrap()[2].schedule.activates_at, at(310));
    assert_eq!(kids(repo.published(at(1000)).await.unwrap()), [("rs-1".to_string(), None), ("es-2".into(), None)]);

    // A duplicate kid fails the whole rotation: no retirement, no audit event.
    let err = repo.rotate(&[key("rs-1", "RS256", 20, 20)], &[("es-2".into(), at(30))], at(20), &audit()).await;
    assert!(err.is_err());
    assert_eq!(repo.published(at(999)).await.unwrap()[2].schedule.retires_at, None);
    let mut c = t.connect().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM audit_events WHERE action = 'signing_key.rotate'")
        .get_result(&mut c)
        .await
        .unwrap();
    assert_eq!(n.n, 1);
}
