//! Mailed links against PostgreSQL: a new link replaces the user's earlier unused one of the
//! same purpose, one link sets one password however many requests race with it, using it
//! verifies the address, ends the user's sessions and kills its other links, and a deleted
//! user's links are not found.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_app::ports::mail::MailLinkRepository;
use scaikey_domain::id::UserId;
use scaikey_domain::mail_link::{Purpose, StoredLink};
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
    // Invited: no password yet. One open session.
    for sql in [
        format!(
            "INSERT INTO users (id, email, status, created_at, updated_at) VALUES ('{uuid}', 'ana@x.test', 'active', now(), now())"
        ),
        format!(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES (gen_random_uuid(), '{uuid}', now(), now(), now() + interval '100 years')"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut c).await.unwrap();
    }
    (t, db, user)
}

#[derive(diesel::QueryableByName)]
struct UserState {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    email_verified: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    password_hash: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    open_sessions: i64,
}

async fn user_state(t: &TestDb) -> UserState {
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(
        "SELECT email_verified, password_hash, (SELECT count(*) FROM sessions WHERE revoked_at IS NULL) AS open_sessions FROM users",
    )
    .get_result(&mut c)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_link_sets_one_password_under_racing_requests() {
    let (t, db, user) = setup().await;
    let repo = db.mail_links();
    let first = StoredLink::issued(Purpose::Invitation, at(0), 30);
    assert!(repo.issue(user, b"first", &first, &audit("user.invite")).await.unwrap());
    assert_eq!(repo.last_sent(user, Purpose::Invitation).await.unwrap(), Some(at(0)));
    assert_eq!(repo.last_sent(user, Purpose::Reset).await.unwrap(), None);
    // A second invitation replaces the first; a reset link lives beside it.
    let second = StoredLink::issued(Purpose::Invitation, at(60), 30);
    assert!(repo.issue(user, b"second", &second, &audit("user.invite")).await.unwrap());
    let reset = StoredLink::issued(Purpose::Reset, at(61), 30);
    assert!(repo.issue(user, b"reset", &reset, &audit("auth.password_forgot")).await.unwrap());
    assert!(repo.find(b"first").await.unwrap().is_none());
    let found = repo.find(b"second").await.unwrap().unwrap();
    assert_eq!((found.user_id, found.link.clone()), (user, second));

    // Twelve requests race with the invitation: exactly one sets its password.
    let tries = futures_util::future::join_all((0..12).map(|i| {
        let repo = repo.clone();
        async move { repo.redeem(b"second", &format!("phc-{i}"), at(70), &audit("auth.invitation_accept")).await }
    }))
    .await;
    let wins: Vec<_> = tries.into_iter().map(Result::unwrap).filter(Option::is_some).collect();
    assert_eq!(wins.len(), 1);
    assert_eq!(wins[0].as_ref().unwrap().len(), 1, "the open session ended");
    let s = user_state(&t).await;
    assert!(s.email_verified);
    assert!(s.password_hash.unwrap().starts_with("phc-"));
    assert_eq!(s.open_sessions, 0);
    // Used now, and the user's other link died with it.
    assert!(repo.find(b"second").await.unwrap().unwrap().link.used_at.is_some());
    assert!(repo.find(b"reset").await.unwrap().is_none());
    assert!(repo.redeem(b"second", "phc-again", at(80), &audit("auth.invitation_accept")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_deleted_users_links_are_gone() {
    let (t, db, user) = setup().await;
    let repo = db.mail_links();
    let link = StoredLink::issued(Purpose::Reset, at(0), 30);
    assert!(repo.issue(user, b"tok", &link, &audit("auth.password_forgot")).await.unwrap());
    let mut c = t.connect().await.unwrap();
    diesel::sql_query("UPDATE users SET deleted_at = now()").execute(&mut c).await.unwrap();
    assert!(repo.find(b"tok").await.unwrap().is_none());
    assert!(repo.redeem(b"tok", "phc", at(5), &audit("auth.password_reset")).await.unwrap().is_none());
    assert!(!repo.issue(user, b"tok2", &link, &audit("auth.password_forgot")).await.unwrap());
    assert_eq!(user_state(&t).await.password_hash, None);
}
