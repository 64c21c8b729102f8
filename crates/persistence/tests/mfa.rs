//! Second factors and failed-login counters against PostgreSQL, under concurrency: one TOTP
//! step and one recovery code are accepted once however many logins race for them, failures
//! from many connections all count, enrolment keeps `mfa_methods` with the factor rows, and
//! counters that hold nothing back are purged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_app::ports::mfa::{MfaRepository, NewTotp, ThrottleRepository};
use scaikey_domain::id::UserId;
use scaikey_domain::throttle::{self, Key, Scope};
use scaikey_persistence::Database;
use scaikey_testkit::TestDb;

#[path = "support/db.rs"]
mod db;
use db::{at, audit};

async fn setup() -> (TestDb, Database, UserId) {
    let (t, db) = db::fresh().await;
    let user = UserId::generate_from(ulid::Ulid::new());
    let uuid = uuid::Uuid::from(user.ulid());
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO users (id, email, password_hash, status, created_at, updated_at) VALUES ('{uuid}', 'ana@x.test', 'phc', 'active', now(), now())"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    (t, db, user)
}

async fn methods(t: &TestDb) -> (bool, Vec<String>) {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        mfa_enabled: bool,
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
        mfa_methods: Vec<String>,
    }
    let mut c = t.connect().await.unwrap();
    let r: Row = diesel::sql_query("SELECT mfa_enabled, mfa_methods FROM users").get_result(&mut c).await.unwrap();
    (r.mfa_enabled, r.mfa_methods)
}

#[tokio::test]
async fn a_step_and_a_recovery_code_are_accepted_once_under_racing_logins() {
    let (t, db, user) = setup().await;
    let repo = db.mfa();
    let new = NewTotp {
        user_id: user,
        sealed_secret: vec![9; 48],
        confirmed_step: 100,
        recovery_codes: (0..10u8).map(|i| vec![i; 32]).collect(),
    };
    assert!(repo.enrol_totp(&new, at(0), &audit("user.mfa_enrol")).await.unwrap());
    assert_eq!(methods(&t).await, (true, vec!["totp".to_string()]));
    assert_eq!(repo.recovery_codes_left(user).await.unwrap(), 10);
    // A second enrolment is a conflict and changes nothing.
    assert!(matches!(
        repo.enrol_totp(&new, at(1), &audit("user.mfa_enrol")).await,
        Err(scaikey_app::RepoError::Conflict(_))
    ));
    assert_eq!(repo.totp(user).await.unwrap().unwrap().last_step, Some(100));

    // Sixteen logins race for step 101: exactly one wins; the confirming step and older ones never.
    let wins = futures_util::future::join_all((0..16).map(|_| repo.use_totp_step(user, 101))).await;
    assert_eq!(wins.iter().filter(|w| *w.as_ref().unwrap()).count(), 1);
    assert!(!repo.use_totp_step(user, 100).await.unwrap());
    assert!(!repo.use_totp_step(user, 101).await.unwrap());
    let wins = futures_util::future::join_all((0..16).map(|_| repo.use_recovery_code(user, &[3; 32], at(5)))).await;
    assert_eq!(wins.iter().filter(|w| *w.as_ref().unwrap()).count(), 1);
    assert!(!repo.use_recovery_code(user, &[42; 32], at(5)).await.unwrap(), "an unknown code");
    assert_eq!(repo.recovery_codes_left(user).await.unwrap(), 9);

    // Removal takes the codes along and clears the flags.
    assert!(repo.remove_totp(user, at(9), &audit("user.mfa_remove")).await.unwrap());
    assert!(!repo.remove_totp(user, at(9), &audit("user.mfa_remove")).await.unwrap());
    assert_eq!(methods(&t).await, (false, vec![]));
    assert_eq!(repo.recovery_codes_left(user).await.unwrap(), 0);
}

#[tokio::test]
async fn failures_from_many_connections_all_count_and_old_counters_are_purged() {
    let (_t, db, _) = setup().await;
    let repo = db.throttle();
    let keys = Key::of_login("Ana@X.test", Some("10.1.2.3"));
    let now = at(0);
    let all = futures_util::future::join_all((0..24).map(|_| repo.record_failure(&keys, now))).await;
    assert!(all.iter().all(Result::is_ok));
    let counters = repo.failures(&keys).await.unwrap();
    assert_eq!(counters.len(), 2);
    for (scope, f) in &counters {
        assert_eq!(f.count, 24, "{scope:?}");
    }
    let account = counters.iter().find(|(s, _)| *s == Scope::Account).unwrap().1;
    assert!(account.wait(Scope::Account, now).is_some());
    // A complete login clears the account, not the IP.
    repo.clear(&Key::account("ana@x.test")).await.unwrap();
    let left = repo.failures(&keys).await.unwrap();
    assert_eq!(left.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [Scope::Ip]);
    // Nothing is purged while it could still count; everything once it cannot.
    assert_eq!(repo.purge(now + chrono::Duration::minutes(5)).await.unwrap(), 0);
    let later = now + throttle::ACCOUNT_MAX_WAIT + throttle::ACCOUNT_WINDOW + chrono::Duration::seconds(1);
    assert_eq!(repo.purge(later).await.unwrap(), 1);
    assert!(repo.failures(&keys).await.unwrap().is_empty());
}
