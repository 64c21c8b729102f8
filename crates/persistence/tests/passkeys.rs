//! Passkeys against PostgreSQL: adding one keeps `mfa_methods` in step, a credential belongs to
//! one user only, a sign-in stores the new counter, a challenge is taken by exactly one of many
//! racing answers (and only by its user, for its purpose), removing the last passkey drops the
//! method, and the admin's MFA disable removes passkeys and challenges with the rest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use chrono::Utc;
use diesel_async::RunQueryDsl;
use scaikey_app::ports::UserRepository;
use scaikey_app::ports::passkeys::{ChallengePurpose, PasskeyRepository, StoredChallenge, StoredPasskey};
use scaikey_domain::id::UserId;
use scaikey_testkit::TestDb;

#[path = "support/db.rs"]
mod db;
use db::{at, audit};

async fn user(t: &TestDb, email: &str) -> UserId {
    let user = UserId::generate_from(ulid::Ulid::new());
    let uuid = uuid::Uuid::from(user.ulid());
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO users (id, email, password_hash, status, created_at, updated_at) VALUES ('{uuid}', '{email}', 'phc', 'active', now(), now())"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    user
}

fn key(name: &str, credential_id: &[u8]) -> StoredPasskey {
    StoredPasskey {
        id: ulid::Ulid::new(),
        name: name.into(),
        credential_id: credential_id.to_vec(),
        credential: format!("{{\"cred\":\"{name}\",\"counter\":0}}"),
        created_at: at(0),
        last_used_at: None,
    }
}

#[tokio::test]
async fn passkeys_keep_the_methods_in_step_and_belong_to_one_user() {
    let (t, db) = db::fresh().await;
    let (ana, bo) = (user(&t, "ana@x.test").await, user(&t, "bo@x.test").await);
    let repo = db.passkeys();
    let laptop = key("Laptop ☕", b"cred-1");
    assert!(repo.add(ana, &laptop, at(1), &audit("user.mfa_enrol")).await.unwrap());
    assert!(repo.add(ana, &key("Phone", b"cred-2"), at(2), &audit("user.mfa_enrol")).await.unwrap());
    // Bo cannot register Ana's credential.
    assert!(matches!(
        repo.add(bo, &key("Stolen", b"cred-1"), at(3), &audit("user.mfa_enrol")).await,
        Err(scaikey_app::RepoError::Duplicate(_))
    ));
    let users = db.users();
    assert_eq!(users.get(ana).await.unwrap().unwrap().mfa_methods, [scaikey_domain::mfa::Method::Webauthn]);
    assert!(users.get(bo).await.unwrap().unwrap().mfa_methods.is_empty());
    let keys = repo.passkeys(ana).await.unwrap();
    assert_eq!(keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["Laptop ☕", "Phone"]);

    // A sign-in stamps the key and stores its new counter; someone else's credential is untouched.
    repo.used(ana, b"cred-1", Some("{\"counter\":7}".into()), at(10)).await.unwrap();
    repo.used(bo, b"cred-2", Some("{\"counter\":99}".into()), at(11)).await.unwrap();
    let keys = repo.passkeys(ana).await.unwrap();
    assert_eq!((keys[0].credential.as_str(), keys[0].last_used_at), ("{\"counter\":7}", Some(at(10))));
    assert_eq!(keys[1].last_used_at, None);

    // Removing one keeps the method; the last one drops it. Someone else's ID removes nothing.
    assert!(!repo.remove(bo, laptop.id, at(20), &audit("user.mfa_remove")).await.unwrap());
    assert!(repo.remove(ana, laptop.id, at(20), &audit("user.mfa_remove")).await.unwrap());
    assert!(!users.get(ana).await.unwrap().unwrap().mfa_methods.is_empty());
    let phone = repo.passkeys(ana).await.unwrap().remove(0);
    assert!(repo.remove(ana, phone.id, at(21), &audit("user.mfa_remove")).await.unwrap());
    let u = users.get(ana).await.unwrap().unwrap();
    assert!(u.mfa_methods.is_empty() && !u.mfa_enabled);
}

#[tokio::test]
async fn a_challenge_is_taken_once_by_its_user_for_its_purpose() {
    let (t, db) = db::fresh().await;
    let (ana, bo) = (user(&t, "ana@x.test").await, user(&t, "bo@x.test").await);
    let repo = db.passkeys();
    let id = ulid::Ulid::new();
    let c = StoredChallenge { state: "{\"challenge\":\"abc\"}".into(), expires_at: at(300) };
    repo.save_challenge(id, ana, ChallengePurpose::Authenticate, &c).await.unwrap();
    assert_eq!(repo.take_challenge(id, bo, ChallengePurpose::Authenticate).await.unwrap(), None);
    assert_eq!(repo.take_challenge(id, ana, ChallengePurpose::Register).await.unwrap(), None);
    let takes = futures_util::future::join_all((0..12).map(|_| {
        let repo = repo.clone();
        async move { repo.take_challenge(id, ana, ChallengePurpose::Authenticate).await }
    }))
    .await;
    let won: Vec<_> = takes.into_iter().filter_map(Result::unwrap).collect();
    assert_eq!(won.len(), 1);
    assert_eq!(won[0].state, c.state);

    // The admin's MFA disable takes passkeys and pending challenges along.
    repo.add(ana, &key("Key", b"cred-9"), at(1), &audit("user.mfa_enrol")).await.unwrap();
    let pending = StoredChallenge { state: "{}".into(), expires_at: Utc::now() + chrono::Duration::minutes(5) };
    let other = ulid::Ulid::new();
    repo.save_challenge(other, ana, ChallengePurpose::Register, &pending).await.unwrap();
    let done = db.users().disable_mfa(ana, Utc::now(), &audit("user.mfa_disable")).await.unwrap().unwrap();
    assert!(done.user.mfa_methods.is_empty());
    assert!(repo.passkeys(ana).await.unwrap().is_empty());
    assert_eq!(repo.take_challenge(other, ana, ChallengePurpose::Register).await.unwrap(), None);
}
