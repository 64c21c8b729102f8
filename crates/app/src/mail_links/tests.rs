use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use scaikey_domain::id::{SessionId, TenantId, UserId};
use scaikey_domain::status::Status;
use serde_json::json;

use super::*;
use crate::ports::mail::{LinkRecord, MockMailLinkRepository, MockMailer};
use crate::ports::{EndedSession, LoginCandidate, MockAuthRepository, MockClientSecrets, MockPasswordHasher};
use crate::test_support::fixed_clock;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default()
}

fn uid(n: u64) -> UserId {
    UserId::generate_from(ulid::Ulid::from_parts(7, u128::from(n)))
}

fn candidate(n: u64, status: Status) -> LoginCandidate {
    LoginCandidate {
        user_id: uid(n),
        tenant_id: Some(TenantId::generate_from(ulid::Ulid::from_parts(8, 1))),
        partner_id: None,
        email: "ada@example.com".into(),
        password_hash: Some("phc".into()),
        roles: scaikey_domain::role::Roles::default(),
        status,
        tenant_status: Some(Status::Active),
        partner_status: None,
        tenant_settings: json!({"password_policy": {"min_length": 12}}),
        mfa_methods: vec![],
    }
}

fn user() -> User {
    User {
        id: uid(1),
        tenant_id: None,
        partner_id: None,
        email: "new.hire@example.com".into(),
        first_name: None,
        last_name: None,
        display_name: None,
        status: Status::Active,
        roles: scaikey_domain::role::Roles::default(),
        custom_attributes: json!({}),
        mfa_enabled: false,
        mfa_methods: Vec::new(),
        email_verified: false,
        password_set: false,
        last_login_at: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn secrets() -> MockClientSecrets {
    let mut s = MockClientSecrets::new();
    s.expect_random_bytes().returning(|n| Ok(vec![7; n]));
    s.expect_digest().returning(|t| format!("d:{t}").into_bytes());
    s
}

/// A mailer that keeps what it was given.
fn mailbox() -> (MockMailer, Arc<Mutex<Vec<Mail>>>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut m = MockMailer::new();
    let s = sent.clone();
    m.expect_send().returning(move |mail| {
        s.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(mail);
        Ok(())
    });
    (m, sent)
}

fn service(
    auth: MockAuthRepository,
    links: MockMailLinkRepository,
    mailer: Option<MockMailer>,
    hasher: MockPasswordHasher,
) -> MailLinkService {
    MailLinkService::new(
        Arc::new(auth),
        Arc::new(links),
        mailer.map(|m| Arc::new(m) as Arc<dyn Mailer>),
        Arc::new(secrets()),
        Arc::new(hasher),
        Arc::new(RevocationList::new()),
        Arc::new(fixed_clock()),
        MailLinkSettings { base_url: "https://id.example.com/".into(), reset_minutes: 30 },
    )
}

fn meta() -> RequestMeta {
    RequestMeta::new(Some("192.0.2.1".into()), Some("test"))
}

#[tokio::test]
async fn forgot_mails_active_users_only_and_spaces_the_mails() {
    let mut auth = MockAuthRepository::new();
    auth.expect_login_candidates().withf(|e, t| e == "ada@example.com" && t.is_none()).returning(|_, _| {
        Ok(vec![candidate(1, Status::Active), candidate(2, Status::Suspended), candidate(3, Status::Active)])
    });
    let mut links = MockMailLinkRepository::new();
    // User 3 was mailed 10 s ago: not again.
    links.expect_last_sent().returning(|u, p| {
        assert_eq!(p, Purpose::Reset);
        Ok((u == uid(3)).then(|| now() - Duration::seconds(10)))
    });
    links
        .expect_issue()
        .withf(|u, digest, link, audit| {
            *u == uid(1)
                && digest == b"d:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
                && link.purpose == Purpose::Reset
                && link.expires_at == now() + Duration::minutes(30)
                && audit.action == "auth.password_forgot"
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let (mailer, sent) = mailbox();
    let svc = service(auth, links, Some(mailer), MockPasswordHasher::new());
    svc.forgot("  Ada@Example.com ", &meta()).await.unwrap();
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "ada@example.com");
    assert!(
        sent[0].text.contains("https://id.example.com/login/reset?token=BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\n"),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("30 minutes"));
}

#[tokio::test]
async fn without_a_mailer_links_are_off() {
    let svc = service(MockAuthRepository::new(), MockMailLinkRepository::new(), None, MockPasswordHasher::new());
    assert!(!svc.enabled());
    assert!(matches!(svc.forgot("a@b.example", &meta()).await, Err(AppError::Conflict(_))));
}

fn stored(purpose: Purpose, age: Duration, used: bool) -> LinkRecord {
    let mut link = StoredLink::issued(purpose, now() - age, 30);
    link.used_at = used.then(now);
    LinkRecord { user_id: uid(1), link }
}

#[tokio::test]
async fn used_expired_and_unknown_links_are_refused_alike() {
    let mut links = MockMailLinkRepository::new();
    links.expect_find().returning(|d| {
        Ok(match d {
            b"d:used" => Some(stored(Purpose::Reset, Duration::minutes(1), true)),
            b"d:old" => Some(stored(Purpose::Reset, Duration::minutes(31), false)),
            b"d:week" => Some(stored(Purpose::Invitation, Duration::days(6), false)),
            _ => None,
        })
    });
    let mut auth = MockAuthRepository::new();
    auth.expect_candidate().returning(|_| Ok(Some(candidate(1, Status::Active))));
    let svc = service(auth, links, None, MockPasswordHasher::new());
    for t in ["used", "old", "nope", ""] {
        assert_eq!(svc.open(t).await.unwrap(), None, "{t}");
        assert_eq!(svc.set_password(t, "a long new password", &meta()).await.unwrap(), LinkOutcome::Invalid);
    }
    // An invitation lives a week.
    assert_eq!(svc.open("week").await.unwrap(), Some(Purpose::Invitation));
}

#[tokio::test]
async fn a_reset_applies_the_policy_then_ends_every_session() {
    let sid = SessionId::generate_from(ulid::Ulid::from_parts(9, 9));
    let mut links = MockMailLinkRepository::new();
    links.expect_find().returning(|_| Ok(Some(stored(Purpose::Reset, Duration::minutes(1), false))));
    links
        .expect_redeem()
        .withf(|d, hash, _, audit| {
            d == b"d:tok"
                && hash == "phc-new"
                && audit.action == "auth.password_reset"
                && audit.actor_id.as_deref() == Some(uid(1).to_string().as_str())
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Some(vec![EndedSession { id: sid, expires_at: now() + Duration::hours(1) }])));
    let mut auth = MockAuthRepository::new();
    auth.expect_candidate().returning(|_| Ok(Some(candidate(1, Status::Active))));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_hash().times(1).returning(|_| Ok("phc-new".into()));
    let svc = service(auth, links, None, hasher);
    // Too short for the tenant: a field error, the link untouched (redeem not called).
    match svc.set_password("tok", "short", &meta()).await {
        Err(AppError::Invalid(e)) => assert_eq!(e.errors()[0].loc, ["new_password"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        svc.set_password("tok", "a long new password", &meta()).await.unwrap(),
        LinkOutcome::Done(Purpose::Reset)
    );
    assert!(svc.revocations.is_revoked(sid));
}

#[tokio::test]
async fn a_link_raced_away_is_invalid() {
    let mut links = MockMailLinkRepository::new();
    links.expect_find().returning(|_| Ok(Some(stored(Purpose::Invitation, Duration::minutes(1), false))));
    links.expect_redeem().returning(|_, _, _, _| Ok(None));
    let mut auth = MockAuthRepository::new();
    auth.expect_candidate().returning(|_| Ok(Some(candidate(1, Status::Active))));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_hash().returning(|_| Ok("phc".into()));
    let svc = service(auth, links, None, hasher);
    assert_eq!(svc.set_password("tok", "a long new password", &meta()).await.unwrap(), LinkOutcome::Invalid);
}

#[tokio::test]
async fn a_suspended_user_cannot_use_a_link() {
    let mut links = MockMailLinkRepository::new();
    links.expect_find().returning(|_| Ok(Some(stored(Purpose::Reset, Duration::minutes(1), false))));
    let mut auth = MockAuthRepository::new();
    auth.expect_candidate().returning(|_| Ok(Some(candidate(1, Status::Suspended))));
    let svc = service(auth, links, None, MockPasswordHasher::new());
    assert_eq!(svc.open("tok").await.unwrap(), None);
}

#[tokio::test]
async fn invitations_only_without_a_password() {
    let mut links = MockMailLinkRepository::new();
    links
        .expect_issue()
        .withf(|_, _, l, _| l.purpose == Purpose::Invitation && l.expires_at == now() + Duration::days(7))
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let (mailer, sent) = mailbox();
    let svc = service(MockAuthRepository::new(), links, Some(mailer), MockPasswordHasher::new());
    let mut u = user();
    u.password_set = true;
    let audit = AuditRecord::by_user(u.id, &meta(), "user.invite", "user");
    assert!(matches!(svc.invite(&u, &audit).await, Err(AppError::Conflict(_))));
    u.password_set = false;
    svc.invite(&u, &audit).await.unwrap();
    let sent = sent.lock().unwrap();
    assert_eq!(sent[0].to, u.email);
    assert!(sent[0].text.contains("7 days"), "{}", sent[0].text);
}
