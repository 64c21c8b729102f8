use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, TimeZone, Utc};
use scaikey_domain::status::Status;
use serde_json::json;

use super::*;
use crate::ports::mfa::{MockMfaRepository, MockThrottleRepository};
use crate::ports::passkeys::{Assertion, Ceremony, MockPasskeyCeremonies, MockPasskeyRepository};
use crate::test_support::{fixed_clock, mfa_over, open_throttle};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default()
}

fn uid() -> UserId {
    UserId::generate_from(Ulid::from_parts(3, 3))
}

fn candidate(settings: serde_json::Value, methods: Vec<Method>) -> LoginCandidate {
    LoginCandidate {
        user_id: uid(),
        tenant_id: None,
        partner_id: None,
        email: "ana@acme.example".into(),
        password_hash: Some("phc".into()),
        roles: scaikey_domain::role::Roles::default(),
        status: Status::Active,
        tenant_status: None,
        partner_status: None,
        tenant_settings: settings,
        mfa_methods: methods,
    }
}

fn stored(name: &str) -> StoredPasskey {
    StoredPasskey {
        id: Ulid::new(),
        name: name.into(),
        credential_id: name.as_bytes().to_vec(),
        credential: format!("{{\"k\":\"{name}\"}}"),
        created_at: now(),
        last_used_at: None,
    }
}

/// A throttle whose store counts the failures it is told of.
fn counting_throttle(failures: Arc<AtomicUsize>) -> Arc<crate::throttle::LoginThrottle> {
    let mut repo = MockThrottleRepository::new();
    repo.expect_failures().returning(|_| Ok(vec![]));
    repo.expect_record_failure().returning(move |_, _| {
        failures.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    repo.expect_clear().returning(|_| Ok(()));
    let mut audit = crate::ports::MockAuditSink::new();
    audit.expect_submit().returning(|_, _| ());
    Arc::new(crate::throttle::LoginThrottle::new(Arc::new(repo), Arc::new(audit), Arc::new(fixed_clock())))
}

fn service(
    repo: MockPasskeyRepository,
    rp: MockPasskeyCeremonies,
    throttle: Arc<crate::throttle::LoginThrottle>,
) -> MfaService {
    let base = mfa_over(MockMfaRepository::new(), throttle);
    let base = Arc::try_unwrap(base).unwrap_or_else(|_| unreachable!("one owner"));
    base.with_passkeys(Arc::new(repo), Arc::new(rp))
}

fn meta() -> RequestMeta {
    RequestMeta::new(Some("192.0.2.7".into()), Some("test"))
}

#[tokio::test]
async fn an_answer_counts_once_and_refusals_count_like_wrong_codes() {
    let challenge = Ulid::from_parts(9, 9);
    let taken = Arc::new(AtomicUsize::new(0));
    let mut repo = MockPasskeyRepository::new();
    let t = taken.clone();
    // The store hands the challenge out once, as `DELETE … RETURNING` does.
    repo.expect_take_challenge().returning(move |id, user, purpose| {
        assert_eq!((id, user, purpose), (challenge, uid(), ChallengePurpose::Authenticate));
        Ok((t.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| StoredChallenge { state: "st".into(), expires_at: now() + Duration::minutes(1) }))
    });
    repo.expect_passkeys().returning(|_| Ok(vec![stored("laptop")]));
    repo.expect_used()
        .withf(|_, cred, updated, _| cred == b"laptop" && updated.as_deref() == Some("{\"k\":2}"))
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let mut rp = MockPasskeyCeremonies::new();
    rp.expect_finish_authentication().times(1).returning(|response, state, keys| {
        assert_eq!((state, keys.len()), ("st", 1));
        if response == "good" {
            Ok(Assertion { credential_id: b"laptop".to_vec(), updated: Some("{\"k\":2}".into()) })
        } else {
            Err(anyhow::anyhow!("bad signature"))
        }
    });
    let failures = Arc::new(AtomicUsize::new(0));
    let svc = service(repo, rp, counting_throttle(failures.clone()));
    let c = challenge.to_string();
    assert!(svc.verify_passkey(uid(), "ana@acme.example", &c, "good", &meta()).await.unwrap());
    // The same answer again: its challenge is gone, the relying party is not asked.
    assert!(!svc.verify_passkey(uid(), "ana@acme.example", &c, "good", &meta()).await.unwrap());
    assert!(!svc.verify_passkey(uid(), "ana@acme.example", "not-a-ulid", "good", &meta()).await.unwrap());
    assert_eq!(failures.load(Ordering::SeqCst), 2, "each refusal counts against the e-mail");
}

#[tokio::test]
async fn an_expired_challenge_is_refused_without_asking_the_relying_party() {
    let mut repo = MockPasskeyRepository::new();
    repo.expect_take_challenge().returning(|_, _, _| {
        Ok(Some(StoredChallenge { state: "st".into(), expires_at: now() - Duration::seconds(1) }))
    });
    // The mocks expect no ceremony and no stamp.
    let svc = service(repo, MockPasskeyCeremonies::new(), open_throttle());
    let c = Ulid::new().to_string();
    assert!(!svc.verify_passkey(uid(), "ana@acme.example", &c, "good", &meta()).await.unwrap());
    let user = candidate(json!({}), vec![]);
    assert!(!svc.confirm_passkey(&user, &c, "Key", "{}", &meta()).await.unwrap(), "an expired registration too");
}

#[tokio::test]
async fn registration_follows_the_tenant_and_names_are_checked() {
    let mut repo = MockPasskeyRepository::new();
    repo.expect_passkeys().returning(|_| Ok(vec![stored("old")]));
    repo.expect_save_challenge()
        .withf(|_, _, purpose, c| {
            *purpose == ChallengePurpose::Register && c.expires_at == now() + Duration::minutes(5)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    let mut rp = MockPasskeyCeremonies::new();
    rp.expect_start_registration()
        .withf(|_, name, display, exclude| {
            name == "ana@acme.example" && display == "Ana" && exclude == [b"old".to_vec()]
        })
        .times(1)
        .returning(|_, _, _, _| Ok(Ceremony { options: "{\"publicKey\":{}}".into(), state: "st".into() }));
    let svc = service(repo, rp, open_throttle());
    let totp_only = candidate(json!({"mfa_methods": ["totp"]}), vec![]);
    assert!(matches!(svc.begin_passkey(&totp_only, "Ana").await, Err(AppError::Conflict(_))));
    let prompt = svc.begin_passkey(&candidate(json!({}), vec![]), "Ana").await.unwrap();
    assert_eq!(prompt.options, "{\"publicKey\":{}}");
    assert!(prompt.challenge.parse::<Ulid>().is_ok());
    // A name with a control character is refused before the challenge is touched.
    let e = svc.confirm_passkey(&candidate(json!({}), vec![]), &prompt.challenge, "a\u{1b}b", "{}", &meta()).await;
    assert!(matches!(e, Err(AppError::Invalid(_))), "{e:?}");
}

#[tokio::test]
async fn the_last_factor_stays_while_the_tenant_requires_one() {
    let (one, two) = (stored("one"), stored("two"));
    let (one_id, two_id) = (one.id, two.id);
    let mut repo = MockPasskeyRepository::new();
    let keys = [one, two];
    let removed = Arc::new(AtomicUsize::new(0));
    let r = removed.clone();
    repo.expect_passkeys().returning(move |_| {
        let n = r.load(Ordering::SeqCst);
        Ok(keys[n..].to_vec())
    });
    let r = removed.clone();
    repo.expect_remove().times(1).returning(move |_, _, _, audit| {
        assert_eq!(audit.action, "user.mfa_remove");
        r.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    });
    let svc = service(repo, MockPasskeyCeremonies::new(), open_throttle());
    let user = candidate(json!({"mfa_required": true}), vec![Method::Webauthn]);
    assert!(svc.remove_passkey(&user, &one_id.to_string(), &meta()).await.unwrap());
    let e = svc.remove_passkey(&user, &two_id.to_string(), &meta()).await;
    assert!(matches!(e, Err(AppError::Conflict(_))), "{e:?}");
    assert!(!svc.remove_passkey(&user, "nonsense", &meta()).await.unwrap());
}
