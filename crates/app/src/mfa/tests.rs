//! Second factors against mocks: a TOTP step or recovery code counts once (the store claims
//! it), failures are throttled like passwords, an enrolment stores what its first code
//! confirmed under a seal bound to the user, and a tenant's required last factor stays.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_domain::audit::{ActorType, AuditRecord, RequestMeta, action};
use scaikey_domain::id::{TenantId, UserId};
use scaikey_domain::mfa::{self, Method, Totp};
use serde_json::json;
use ulid::Ulid;

use super::{LAST_FACTOR, MfaService, SETUP_AAD, TOTP_AAD, UsedFactor};
use crate::error::{AppError, RepoError};
use crate::ports::mfa::{MockMfaRepository, NewTotp, StoredTotp};
use crate::ports::{LoginCandidate, MockClientSecrets, MockSecretSealer};
use crate::test_support::{closed_throttle, counting_throttle, fixed_clock, fixed_now, login_candidate, open_throttle};
use crate::throttle::LoginThrottle;

fn uid(n: u64) -> UserId {
    UserId::generate_from(Ulid::from_parts(60, u128::from(n)))
}

fn tid() -> TenantId {
    TenantId::generate_from(Ulid::from_parts(61, 1))
}

fn meta() -> RequestMeta {
    RequestMeta::new(Some("192.0.2.5".into()), Some("phone"))
}

/// What [`bound_sealer`] makes of `plain` under `aad`.
fn sealed(prefix: &str, user: UserId, plain: &[u8]) -> Vec<u8> {
    [format!("{prefix}{user}|").as_bytes(), plain].concat()
}

/// A sealer whose blobs open only with the associated data they were sealed with.
fn bound_sealer() -> MockSecretSealer {
    let mut s = MockSecretSealer::new();
    s.expect_seal().returning(|plain, aad| Ok([aad, b"|", plain].concat()));
    s.expect_open().returning(|blob, aad| {
        let prefix = [aad, b"|"].concat();
        blob.strip_prefix(prefix.as_slice()).map(<[u8]>::to_vec).ok_or_else(|| anyhow::anyhow!("does not open"))
    });
    s
}

/// Random bytes `[1; n]`, then `[2; n]`, …; a digest is `h(<text>)`.
fn secrets() -> MockClientSecrets {
    let mut s = MockClientSecrets::new();
    let mut next = 0u8;
    s.expect_random_bytes().returning(move |n| {
        next += 1;
        Ok(vec![next; n])
    });
    s.expect_digest().returning(|text| format!("h({text})").into_bytes());
    s
}

fn service(repo: MockMfaRepository, throttle: Arc<LoginThrottle>) -> MfaService {
    MfaService::new(
        Arc::new(repo),
        Arc::new(bound_sealer()),
        Arc::new(secrets()),
        throttle,
        Arc::new(fixed_clock()),
        "id.example".into(),
    )
}

/// The first secret [`secrets`] hands out: the one a fresh setup uses.
fn first_secret() -> Vec<u8> {
    vec![1; mfa::TOTP_SECRET_BYTES]
}

fn step_now() -> i64 {
    Totp::step_of(fixed_now())
}

fn code_now(secret: &[u8]) -> String {
    Totp::new(secret.to_vec()).unwrap().code_at_step(step_now())
}

/// A repository holding `user`'s authenticator app over `secret`, last used at `last_step`.
fn enrolled(user: UserId, secret: &[u8], last_step: Option<i64>) -> MockMfaRepository {
    let blob = sealed(TOTP_AAD, user, secret);
    let mut repo = MockMfaRepository::new();
    repo.expect_totp()
        .withf(move |u| *u == user)
        .returning(move |_| Ok(Some(StoredTotp { sealed_secret: blob.clone(), last_step, created_at: fixed_now() })));
    repo
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

fn count(c: &AtomicUsize) -> usize {
    c.load(Ordering::SeqCst)
}

fn person(settings: serde_json::Value, methods: Vec<Method>) -> LoginCandidate {
    login_candidate(uid(1), Some(tid()), settings, methods)
}

#[tokio::test]
async fn a_current_code_counts_once_the_store_claims_its_step_and_the_accounts_failures_are_forgotten() {
    let secret = vec![9; 20];
    let mut repo = enrolled(uid(1), &secret, Some(step_now() - 1));
    repo.expect_use_totp_step()
        .withf(|u, step| (*u, *step) == (uid(1), step_now()))
        .times(1)
        .returning(|_, _| Ok(true));
    repo.expect_use_recovery_code().never();
    let (failed, cleared) = counters();
    let svc = service(repo, counting_throttle(failed.clone(), cleared.clone(), true));
    let used = svc.verify(uid(1), "u@x.test", &code_now(&secret), &meta()).await.unwrap();
    assert_eq!(used, Some(UsedFactor::Totp));
    assert_eq!(used.unwrap().amr(), ["pwd", "otp"]);
    assert_eq!((count(&failed), count(&cleared)), (0, 1));
}

#[tokio::test]
async fn a_current_code_with_no_failures_on_record_spends_no_clear() {
    let secret = vec![9; 20];
    let mut repo = enrolled(uid(1), &secret, Some(step_now() - 1));
    repo.expect_use_totp_step().times(1).returning(|_, _| Ok(true));
    let (failed, cleared) = counters();
    let svc = service(repo, counting_throttle(failed.clone(), cleared.clone(), false));
    assert_eq!(svc.verify(uid(1), "u@x.test", &code_now(&secret), &meta()).await.unwrap(), Some(UsedFactor::Totp));
    assert_eq!((count(&failed), count(&cleared)), (0, 0));
}

#[tokio::test]
async fn a_replayed_code_is_refused_without_claiming_its_step_and_counts_as_a_failure() {
    let secret = vec![9; 20];
    let mut repo = enrolled(uid(1), &secret, Some(step_now()));
    repo.expect_use_totp_step().never();
    repo.expect_use_recovery_code().never();
    let (failed, cleared) = counters();
    let svc = service(repo, counting_throttle(failed.clone(), cleared.clone(), true));
    assert_eq!(svc.verify(uid(1), "u@x.test", &code_now(&secret), &meta()).await.unwrap(), None);
    assert_eq!((count(&failed), count(&cleared)), (1, 0));
}

#[tokio::test]
async fn a_code_whose_step_a_concurrent_login_claimed_first_is_refused() {
    let secret = vec![9; 20];
    let mut repo = enrolled(uid(1), &secret, None);
    repo.expect_use_totp_step().times(1).returning(|_, _| Ok(false));
    let (failed, cleared) = counters();
    let svc = service(repo, counting_throttle(failed.clone(), cleared.clone(), true));
    assert_eq!(svc.verify(uid(1), "u@x.test", &code_now(&secret), &meta()).await.unwrap(), None);
    assert_eq!((count(&failed), count(&cleared)), (1, 0));
}

#[tokio::test]
async fn a_recovery_code_is_used_up_by_the_digest_of_its_normalised_form() {
    let mut repo = MockMfaRepository::new();
    repo.expect_totp().returning(|_| Ok(None));
    repo.expect_use_recovery_code()
        .withf(|u, digest, at| *u == uid(1) && digest == b"h(abcdefghijklmnop)" && *at == fixed_now())
        .times(1)
        .returning(|_, _, _| Ok(true));
    let (failed, cleared) = counters();
    let svc = service(repo, counting_throttle(failed.clone(), cleared.clone(), true));
    let used = svc.verify(uid(1), "u@x.test", " ABCD efgh-IJKL mnop ", &meta()).await.unwrap();
    assert_eq!(used, Some(UsedFactor::RecoveryCode));
    assert_eq!((count(&failed), count(&cleared)), (0, 1));
}

#[tokio::test]
async fn a_held_back_try_is_refused_before_any_code_is_checked() {
    // The repository expects nothing: no factor is read, no step or code used.
    let svc = service(MockMfaRepository::new(), closed_throttle());
    let e = svc.verify(uid(1), "u@x.test", "123456", &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Throttled(30)), "{e:?}");
}

#[tokio::test]
async fn a_new_setup_is_sealed_for_its_user_only_and_nothing_is_stored() {
    let svc = service(MockMfaRepository::new(), open_throttle());
    let setup = svc.begin_totp(uid(1), "u@x.test").unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(&setup.sealed).unwrap(), sealed(SETUP_AAD, uid(1), &first_secret()));
    assert_eq!(setup.secret_base32, mfa::base32(&first_secret()));
    assert!(
        setup.otpauth_uri.starts_with(&format!("otpauth://totp/id.example:u%40x.test?secret={}&", setup.secret_base32)),
        "{}",
        setup.otpauth_uri
    );
    assert_eq!(svc.reopen_totp(uid(1), "u@x.test", &setup.sealed), Some(setup.clone()));
    assert_eq!(svc.reopen_totp(uid(2), "u@x.test", &setup.sealed), None, "a setup is bound to its user");
    assert_eq!(svc.reopen_totp(uid(1), "u@x.test", "not base64!"), None);
}

#[tokio::test]
async fn an_enrolment_stores_the_confirmed_step_the_sealed_secret_and_digests_of_the_codes_it_shows() {
    let kept: Arc<Mutex<Option<(NewTotp, AuditRecord)>>> = Arc::default();
    let store = kept.clone();
    let mut repo = MockMfaRepository::new();
    repo.expect_enrol_totp().withf(|_, at, _| *at == fixed_now()).times(1).returning(move |new, _, audit| {
        *store.lock().unwrap() = Some((new.clone(), audit.clone()));
        Ok(true)
    });
    let svc = service(repo, open_throttle());
    let setup = svc.begin_totp(uid(1), "u@x.test").unwrap();
    let codes = svc.confirm_totp(&person(json!({}), vec![]), &setup.sealed, &code_now(&first_secret()), &meta()).await;
    let codes = codes.unwrap().expect("the first code matches");

    assert_eq!(codes.len(), mfa::RECOVERY_CODES);
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), codes.len(), "{codes:?}");
    let (new, audit) = kept.lock().unwrap().clone().unwrap();
    assert_eq!(new.user_id, uid(1));
    assert_eq!(new.confirmed_step, step_now(), "the confirming code cannot sign in again");
    assert_eq!(new.sealed_secret, sealed(TOTP_AAD, uid(1), &first_secret()), "stored under the factor's own seal");
    let digests: Vec<Vec<u8>> =
        codes.iter().map(|c| format!("h({})", mfa::normalize_recovery_code(c).unwrap()).into_bytes()).collect();
    assert_eq!(new.recovery_codes, digests, "only digests of the shown codes are stored");
    assert_eq!(audit.action, action::USER_MFA_ENROL);
    assert_eq!((audit.actor_type, audit.actor_id.clone()), (ActorType::User, Some(uid(1).to_string())));
    assert_eq!((audit.resource_id.clone(), audit.tenant_id), (Some(uid(1).to_string()), Some(tid())));
    assert_eq!(audit.details, json!({"method": "totp", "recovery_codes": 10}));
    assert_eq!(audit.meta, meta());
}

#[tokio::test]
async fn a_wrong_first_code_or_another_users_setup_stores_nothing() {
    let mut repo = MockMfaRepository::new();
    repo.expect_enrol_totp().never();
    let svc = service(repo, open_throttle());
    let setup = svc.begin_totp(uid(1), "u@x.test").unwrap();
    let totp = Totp::new(first_secret()).unwrap();
    let window: Vec<String> = (step_now() - 1..=step_now() + 1).map(|s| totp.code_at_step(s)).collect();
    let wrong = (0..).map(|i| format!("{i:06}")).find(|c| !window.contains(c)).unwrap();
    let me = person(json!({}), vec![]);
    assert_eq!(svc.confirm_totp(&me, &setup.sealed, &wrong, &meta()).await.unwrap(), None);
    let other = login_candidate(uid(2), Some(tid()), json!({}), vec![]);
    let right = code_now(&first_secret());
    assert_eq!(svc.confirm_totp(&other, &setup.sealed, &right, &meta()).await.unwrap(), None);
}

#[tokio::test]
async fn an_enrolment_for_a_user_gone_meanwhile_is_not_found_and_a_second_app_a_conflict() {
    let mut answers =
        [Ok(false), Err(RepoError::Conflict("An authenticator app is already enrolled".into()))].into_iter();
    let mut repo = MockMfaRepository::new();
    repo.expect_enrol_totp().times(2).returning(move |_, _, _| answers.next().unwrap());
    let svc = service(repo, open_throttle());
    let me = person(json!({}), vec![]);
    let setup = svc.begin_totp(uid(1), "u@x.test").unwrap();
    let e = svc.confirm_totp(&me, &setup.sealed, &code_now(&first_secret()), &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound("User")), "{e:?}");
    let e = svc.confirm_totp(&me, &setup.sealed, &code_now(&first_secret()), &meta()).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m == "An authenticator app is already enrolled"), "{e:?}");
}

#[tokio::test]
async fn the_last_factor_a_tenant_requires_cannot_be_removed_but_one_of_two_can() {
    let mut repo = MockMfaRepository::new();
    repo.expect_remove_totp()
        .withf(|u, at, a| {
            (*u, *at) == (uid(1), fixed_now())
                && a.action == action::USER_MFA_REMOVE
                && a.actor_id == Some(uid(1).to_string())
                && a.tenant_id == Some(tid())
                && a.details == json!({"method": "totp"})
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    let svc = service(repo, open_throttle());
    let required = json!({"mfa_required": true});
    let e = svc.remove_totp(&person(required.clone(), vec![Method::Totp]), &meta()).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m == LAST_FACTOR), "{e:?}");
    assert!(svc.remove_totp(&person(required, vec![Method::Totp, Method::Webauthn]), &meta()).await.unwrap());
}

#[tokio::test]
async fn the_status_counts_recovery_codes_only_of_an_enrolled_app() {
    let mut repo = enrolled(uid(1), &[9; 20], None);
    repo.expect_totp().withf(|u| *u == uid(2)).returning(|_| Ok(None));
    repo.expect_recovery_codes_left().withf(|u| *u == uid(1)).times(1).returning(|_| Ok(7));
    let svc = service(repo, open_throttle());
    let with_app = svc.status(&person(json!({"mfa_required": true}), vec![Method::Totp])).await.unwrap();
    assert_eq!((with_app.totp_since, with_app.recovery_codes_left), (Some(fixed_now()), 7));
    assert!(with_app.policy.required);
    assert!(!with_app.passkeys_available && with_app.passkeys.is_empty());
    let without = svc.status(&login_candidate(uid(2), Some(tid()), json!({}), vec![])).await.unwrap();
    assert_eq!((without.totp_since, without.recovery_codes_left), (None, 0));
    assert!(!without.policy.required);
}
