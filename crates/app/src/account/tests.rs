//! `/account` against mocks: who the cookie proves (always without admin roles), the login
//! form's refusals, that a person changes only their own profile, password, sessions and
//! consents (each audited with the person as actor), and that a password change or a session
//! revoke is refused in this process at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use scaikey_domain::access::Reach;
use scaikey_domain::audit::{ActorType, RequestMeta, action};
use scaikey_domain::id::{ApplicationId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::mfa::Method;
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::role::{Role, Roles};
use serde_json::json;
use ulid::Ulid;

use super::{AccountLogin, AccountService, Me};
use crate::auth::{AuthService, AuthSettings, INVALID_CREDENTIALS};
use crate::error::AppError;
use crate::mfa::LAST_FACTOR;
use crate::oidc::{OidcService, OidcSettings, SessionCookie};
use crate::page::Page;
use crate::ports::mfa::MockMfaRepository;
use crate::ports::oidc::{BrowserSession, ConsentSummary, GrantRepository, MockGrantRepository, SignInUser};
use crate::ports::{
    AuditSink, EndedSession, MockAuditSink, MockAuthRepository, MockClientDirectory, MockClientSecrets,
    MockPasswordHasher, MockSecretSealer, MockSessionRepository, MockTenantRepository, MockTokenCodec,
    MockUserRepository, PasswordHasher, SessionRepository, SessionState, TenantRepository,
};
use crate::revocation::RevocationList;
use crate::test_support::{
    closed_throttle, counting_throttle, fixed_clock, fixed_now, ids, login_candidate, mfa_over, open_throttle,
    session_record, tenant_record, user_record,
};
use crate::throttle::{LoginThrottle, wait_message};

fn uid(n: u64) -> UserId {
    UserId::generate_from(Ulid::from_parts(50, u128::from(n)))
}

fn sid(n: u64) -> SessionId {
    SessionId::generate_from(Ulid::from_parts(51, u128::from(n)))
}

fn tenant() -> (TenantId, PartnerId) {
    (TenantId::generate_from(Ulid::from_parts(52, 1)), PartnerId::generate_from(Ulid::from_parts(52, 2)))
}

fn meta() -> RequestMeta {
    RequestMeta::new(Some("192.0.2.9".into()), Some("browser"))
}

/// Person `uid(1)` of [`tenant`], signed in with session `sid(1)`.
fn me() -> Me {
    let (t, p) = tenant();
    Me {
        principal: Principal::User(UserPrincipal {
            user_id: uid(1),
            session_id: sid(1),
            tenant_id: Some(t),
            partner_id: Some(p),
            roles: Roles::default(),
        }),
        user_id: uid(1),
        session_id: sid(1),
    }
}

/// The ports of an account service; each mock expects nothing until a test says so.
struct Ports {
    users: MockUserRepository,
    tenants: MockTenantRepository,
    sessions: MockSessionRepository,
    grants: MockGrantRepository,
    auth: MockAuthRepository,
    hasher: MockPasswordHasher,
    mfa: MockMfaRepository,
    throttle: Arc<LoginThrottle>,
}

impl Ports {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            tenants: MockTenantRepository::new(),
            sessions: MockSessionRepository::new(),
            grants: MockGrantRepository::new(),
            auth: MockAuthRepository::new(),
            hasher: MockPasswordHasher::new(),
            mfa: MockMfaRepository::new(),
            throttle: open_throttle(),
        }
    }

    /// The service and the revocation list it reports to. Cookie secrets are their own digest;
    /// a new browser session's secret is `cookie-secret`.
    fn build(self) -> (AccountService, Arc<RevocationList>) {
        let revocations = Arc::new(RevocationList::new());
        let hasher: Arc<dyn PasswordHasher> = Arc::new(self.hasher);
        let grants: Arc<dyn GrantRepository> = Arc::new(self.grants);
        let sessions: Arc<dyn SessionRepository> = Arc::new(self.sessions);
        let tenants: Arc<dyn TenantRepository> = Arc::new(self.tenants);
        let mut sink = MockAuditSink::new();
        sink.expect_submit().returning(|_, _| ());
        sink.expect_written().returning(|_| ());
        let sink: Arc<dyn AuditSink> = Arc::new(sink);
        let auth = Arc::new(AuthService::new(
            Arc::new(self.auth),
            hasher.clone(),
            Arc::new(MockTokenCodec::new()),
            Arc::new(fixed_clock()),
            Arc::new(ids(2)),
            AuthSettings { access_token_ttl: Duration::hours(1), default_session_ttl: Duration::hours(8) },
            revocations.clone(),
            sink.clone(),
            self.throttle.clone(),
            mfa_over(self.mfa, self.throttle),
        ));
        let mut secrets = MockClientSecrets::new();
        secrets.expect_verify().returning(|secret, digest| secret.as_bytes() == digest);
        secrets.expect_generate().returning(|| Ok(("cookie-secret".into(), b"cookie-secret".to_vec())));
        let oidc = Arc::new(OidcService::new(
            Arc::new(MockClientDirectory::new()),
            grants.clone(),
            sessions.clone(),
            tenants.clone(),
            auth.clone(),
            Arc::new(secrets),
            Arc::new(MockSecretSealer::new()),
            Arc::new(MockTokenCodec::new()),
            revocations.clone(),
            sink,
            Arc::new(fixed_clock()),
            Arc::new(ids(3)),
            OidcSettings {
                issuer: "https://id.example".into(),
                interaction_ttl: Duration::minutes(15),
                refresh_ttl: Duration::days(30),
                refresh_grace: Duration::seconds(5),
            },
        ));
        let svc = AccountService::new(
            oidc,
            auth,
            Arc::new(self.users),
            tenants,
            sessions,
            grants,
            hasher,
            revocations.clone(),
            Arc::new(fixed_clock()),
        );
        (svc, revocations)
    }

    /// The person `uid(1)` exists in [`tenant`], whose settings are `settings`.
    fn with_person(mut self, settings: serde_json::Value) -> Self {
        let (t, p) = tenant();
        self.users
            .expect_get()
            .withf(|id| *id == uid(1))
            .returning(move |id| Ok(Some(user_record(id, Some(t), Some(p), &[]))));
        self.tenants
            .expect_get()
            .withf(move |id| *id == t)
            .returning(move |id| Ok(Some(tenant_record(id, Some(p), settings.clone()))));
        self
    }

    /// The person may sign in, with these factors under these tenant settings.
    fn with_candidate(mut self, settings: serde_json::Value, methods: Vec<Method>) -> Self {
        let (t, _) = tenant();
        self.auth
            .expect_candidate()
            .returning(move |id| Ok(Some(login_candidate(id, Some(t), settings.clone(), methods.clone()))));
        self
    }
}

fn sign_in_user(id: UserId, roles: Roles, tenant_active: bool) -> SignInUser {
    let (t, p) = tenant();
    SignInUser {
        user_id: id,
        tenant_id: Some(t),
        partner_id: Some(p),
        email: "u@x.test".into(),
        email_verified: true,
        first_name: None,
        last_name: None,
        display_name: None,
        roles,
        user_active: true,
        tenant_active,
        partner_active: true,
    }
}

/// A grant store holding browser session `sid(1)` of `uid(1)`, proven by the secret `right`.
fn browser_sessions() -> MockGrantRepository {
    let mut grants = MockGrantRepository::new();
    grants.expect_browser_session().returning(|id, _| {
        Ok(Some(BrowserSession {
            id,
            user_id: uid(1),
            auth_time: fixed_now(),
            cookie_hmac: Some(b"right".to_vec()),
            amr: vec!["pwd".into()],
            live: true,
        }))
    });
    grants
}

fn cookie(secret: &str) -> SessionCookie {
    SessionCookie { session_id: sid(1), secret: secret.into() }
}

/// The single field error of an `Invalid`, as `(loc, kind, msg)`.
/// An access token of `user` issued at `at` under a session nothing ended (as offline tokens
/// carry their token family, not an SSO session).
fn offline_token(user: UserId, at: chrono::DateTime<chrono::Utc>) -> crate::ports::AccessToken {
    let ms = u64::try_from(at.timestamp_millis()).unwrap();
    crate::ports::AccessToken {
        principal: Principal::User(UserPrincipal {
            user_id: user,
            session_id: sid(99),
            tenant_id: None,
            partner_id: None,
            roles: Roles::default(),
        }),
        scope: vec!["openid".into(), "offline_access".into()],
        audience: "https://api.example".into(),
        client_id: Some("ck_app".into()),
        jti: Ulid::from_parts(ms, 1),
        issued_at: at,
        expires_at: at + Duration::hours(1),
        act: None,
    }
}

fn field_error(e: &AppError) -> (String, &'static str, String) {
    let AppError::Invalid(errs) = e else { panic!("expected a field error, got {e:?}") };
    assert_eq!(errs.errors().len(), 1, "{errs}");
    let f = &errs.errors()[0];
    (f.loc.join("."), f.kind, f.msg.clone())
}

#[tokio::test]
async fn no_cookie_or_a_cookie_without_its_secret_is_nobody() {
    let mut ports = Ports::new();
    ports.grants = browser_sessions();
    ports.grants.expect_sign_in_user().never();
    let (svc, _) = ports.build();
    assert_eq!(svc.me(None).await.unwrap(), None);
    assert_eq!(svc.me(Some(&cookie("wrong"))).await.unwrap(), None);
}

#[tokio::test]
async fn an_admin_on_the_account_pages_acts_as_the_person_with_no_roles() {
    let mut ports = Ports::new();
    ports.grants = browser_sessions();
    ports
        .grants
        .expect_sign_in_user()
        .returning(|id| Ok(Some(sign_in_user(id, [Role::TenantAdmin].into_iter().collect(), true))));
    let (svc, _) = ports.build();
    let found = svc.me(Some(&cookie("right"))).await.unwrap().unwrap();
    assert_eq!(found, me());
    let Principal::User(u) = &found.principal else { panic!("{found:?}") };
    assert!(u.roles.iter().next().is_none(), "the account pages grant no admin role");
}

#[tokio::test]
async fn a_person_whose_tenant_is_suspended_has_no_account_session() {
    let mut ports = Ports::new();
    ports.grants = browser_sessions();
    ports.grants.expect_sign_in_user().times(1).returning(|id| Ok(Some(sign_in_user(id, Roles::default(), false))));
    let (svc, _) = ports.build();
    assert_eq!(svc.me(Some(&cookie("right"))).await.unwrap(), None);
}

#[tokio::test]
async fn an_unknown_tenant_is_refused_like_a_wrong_password_without_checking_one() {
    let mut ports = Ports::new();
    ports.grants.expect_tenant_by_slug_or_id().withf(|s| s == "nope").times(1).returning(|_| Ok(None));
    // The user store and the hasher expect nothing: no password is checked.
    let (svc, _) = ports.build();
    let out = svc.login("u@x.test", "pw", Some(" nope "), &meta()).await.unwrap();
    assert_eq!(out, AccountLogin::Refused(INVALID_CREDENTIALS.into(), None));
}

#[tokio::test]
async fn a_held_back_login_is_refused_with_the_wait_for_the_form() {
    let mut ports = Ports::new();
    ports.throttle = closed_throttle();
    let (svc, _) = ports.build();
    let out = svc.login("u@x.test", "pw", None, &meta()).await.unwrap();
    assert_eq!(out, AccountLogin::Refused(wait_message(30), Some(30)));
}

#[tokio::test]
async fn a_right_password_without_a_second_factor_opens_a_browser_session_and_clears_the_count() {
    let (t, _) = tenant();
    let cleared = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut ports = Ports::new();
    ports.throttle = counting_throttle(failed.clone(), cleared.clone(), true);
    ports.grants.expect_tenant_by_slug_or_id().returning(move |_| Ok(Some(t)));
    ports
        .auth
        .expect_login_candidates()
        .withf(move |email, tenant| email == "u@x.test" && *tenant == Some(t))
        .returning(move |_, _| Ok(vec![login_candidate(uid(1), Some(t), json!({}), vec![])]));
    ports.hasher.expect_verify().withf(|pw, phc| pw == "pw" && phc == "phc").returning(|_, _| Ok(true));
    ports
        .auth
        .expect_open_session()
        .withf(|s, a| {
            s.user_id == uid(1)
                && s.cookie_hmac.as_deref() == Some(b"cookie-secret".as_slice())
                && s.amr == ["pwd"]
                && a.action == action::AUTH_LOGIN
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let (svc, _) = ports.build();
    let out = svc.login(" U@x.test ", "pw", Some("t"), &meta()).await.unwrap();
    let AccountLogin::SignedIn(c, ends) = out else { panic!("{out:?}") };
    assert_eq!(c.secret, "cookie-secret");
    assert_eq!(ends, fixed_now() + Duration::hours(8));
    assert_eq!((failed.load(Ordering::SeqCst), cleared.load(Ordering::SeqCst)), (0, 1));
}

#[tokio::test]
async fn profile_names_are_trimmed_blanks_cleared_and_the_change_audited_as_the_persons() {
    let (t, p) = tenant();
    let mut ports = Ports::new().with_person(json!({}));
    ports
        .users
        .expect_update()
        .withf(move |id, c, cut, at, a| {
            *id == uid(1)
                && c.first_name == Some(Some("Ada".into()))
                && c.last_name == Some(None)
                && c.display_name == Some(Some("Countess".into()))
                && (c.email.is_none() && c.status.is_none() && c.roles.is_none() && c.custom_attributes.is_none())
                && cut.is_none()
                && *at == fixed_now()
                && a.action == action::USER_UPDATE
                && a.actor_type == ActorType::User
                && a.actor_id == Some(uid(1).to_string())
                && a.resource_id == Some(uid(1).to_string())
                && (a.tenant_id, a.partner_id) == (Some(t), Some(p))
                && a.meta == meta()
                && a.details == json!({"via": "account"})
        })
        .times(1)
        .returning(move |id, _, _, _, _| Ok(Some((user_record(id, Some(t), Some(p), &[]), vec![]))));
    let (svc, _) = ports.build();
    svc.update_profile(&me(), "  Ada ", "   ", "Countess", &meta()).await.unwrap();
}

#[tokio::test]
async fn an_invalid_name_never_reaches_storage() {
    let (svc, _) = Ports::new().build();
    let e = svc.update_profile(&me(), "Ada\u{7}", "", "", &meta()).await.unwrap_err();
    assert_eq!(field_error(&e).0, "first_name");
    let e = svc.update_profile(&me(), "", "", &"x".repeat(500), &meta()).await.unwrap_err();
    assert_eq!(field_error(&e).0, "display_name");
}

#[tokio::test]
async fn a_wrong_current_password_is_a_field_error_and_nothing_is_stored() {
    let (t, _) = tenant();
    let mut ports = Ports::new().with_person(json!({}));
    ports
        .auth
        .expect_login_candidates()
        .returning(move |_, _| Ok(vec![login_candidate(uid(1), Some(t), json!({}), vec![])]));
    ports.hasher.expect_verify().times(1).returning(|_, _| Ok(false));
    ports.hasher.expect_hash().never();
    ports.users.expect_set_password().never();
    let (svc, revocations) = ports.build();
    let e = svc.change_password(&me(), "not it", "a brand new password", &meta()).await.unwrap_err();
    assert_eq!(field_error(&e), ("password".into(), "invalid_credentials", "The current password is not right".into()));
    assert!(revocations.is_empty());
}

#[tokio::test]
async fn only_the_persons_own_current_password_counts_not_another_users_with_the_address() {
    // A platform user: the address may also be taken in tenants, whose users must not count.
    let mut ports = Ports::new();
    ports.users.expect_get().returning(|id| Ok(Some(user_record(id, None, None, &[Role::SuperAdmin]))));
    let (elsewhere, _) = tenant();
    ports
        .auth
        .expect_login_candidates()
        .withf(|_, tenant| tenant.is_none())
        .returning(move |_, _| Ok(vec![login_candidate(uid(2), Some(elsewhere), json!({}), vec![])]));
    // The only hash made is the dummy a refused login burns time on; it "matches" anything.
    ports.hasher.expect_hash().withf(|pw| pw != "a brand new password").times(1).returning(|_| Ok("dummy".into()));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports.users.expect_set_password().never();
    let (svc, _) = ports.build();
    let mut platform_me = me();
    platform_me.principal = Principal::User(UserPrincipal {
        user_id: uid(1),
        session_id: sid(1),
        tenant_id: None,
        partner_id: None,
        roles: Roles::default(),
    });
    let e = svc.change_password(&platform_me, "their password", "a brand new password", &meta()).await.unwrap_err();
    assert_eq!(field_error(&e).1, "invalid_credentials");
}

#[tokio::test]
async fn a_new_password_against_the_tenants_policy_is_refused_before_hashing() {
    let (t, _) = tenant();
    let mut ports = Ports::new().with_person(json!({"password_policy": {"min_length": 16}}));
    ports
        .auth
        .expect_login_candidates()
        .returning(move |_, _| Ok(vec![login_candidate(uid(1), Some(t), json!({}), vec![])]));
    ports.hasher.expect_verify().returning(|_, _| Ok(true));
    ports.hasher.expect_hash().never();
    ports.users.expect_set_password().never();
    let (svc, _) = ports.build();
    let e = svc.change_password(&me(), "old password", "twelve chars", &meta()).await.unwrap_err();
    let (loc, kind, msg) = field_error(&e);
    assert_eq!((loc.as_str(), kind), ("new_password", "password_policy"));
    assert!(msg.contains("at least 16"), "{msg}");
}

#[tokio::test]
async fn a_password_change_stores_the_new_hash_once_and_ends_every_session_in_this_process() {
    let (t, p) = tenant();
    let mut ports = Ports::new().with_person(json!({}));
    ports
        .auth
        .expect_login_candidates()
        .returning(move |_, _| Ok(vec![login_candidate(uid(1), Some(t), json!({}), vec![])]));
    ports.hasher.expect_verify().withf(|pw, _| pw == "old password").returning(|_, _| Ok(true));
    ports.hasher.expect_hash().withf(|pw| pw == "a brand new password").times(1).returning(|_| Ok("phc(new)".into()));
    ports
        .users
        .expect_set_password()
        .withf(move |id, hash, at, a| {
            *id == uid(1)
                && hash == "phc(new)"
                && *at == fixed_now()
                && a.action == action::USER_CHANGE_PASSWORD
                && a.actor_id == Some(uid(1).to_string())
                && a.resource_id == Some(uid(1).to_string())
                && (a.tenant_id, a.partner_id) == (Some(t), Some(p))
                && a.details == json!({"via": "account"})
        })
        .times(1)
        .returning(|_, _, _, _| {
            let ends = fixed_now() + Duration::hours(1);
            Ok(Some(vec![EndedSession { id: sid(1), expires_at: ends }, EndedSession { id: sid(2), expires_at: ends }]))
        });
    let (svc, revocations) = ports.build();
    svc.change_password(&me(), "old password", "a brand new password", &meta()).await.unwrap();
    assert!(revocations.is_revoked(sid(1)), "this browser's session ends too");
    assert!(revocations.is_revoked(sid(2)));
    // Tokens not tied to a session (offline access) are refused at once too.
    assert!(revocations.refuses(&offline_token(uid(1), fixed_now() - Duration::minutes(1))));
    assert!(!revocations.refuses(&offline_token(uid(1), fixed_now() + Duration::seconds(1))), "only older ones");
}

#[tokio::test]
async fn another_persons_session_is_not_found_and_stays_open() {
    let mut ports = Ports::new();
    ports.sessions.expect_get().returning(|id| Ok(Some(session_record(id, uid(2), None, None))));
    ports.sessions.expect_revoke().never();
    let (svc, revocations) = ports.build();
    let e = svc.revoke_session(&me(), sid(7), &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound("Session")), "{e:?}");
    assert!(!revocations.is_revoked(sid(7)));
}

#[tokio::test]
async fn ending_an_own_session_is_audited_and_its_tokens_are_refused_at_once() {
    let (t, p) = tenant();
    let mut ports = Ports::new();
    ports.sessions.expect_get().returning(move |id| Ok(Some(session_record(id, uid(1), Some(t), Some(p)))));
    ports
        .sessions
        .expect_revoke()
        .withf(move |id, at, a| {
            *id == sid(7)
                && *at == fixed_now()
                && a.action == action::SESSION_REVOKE
                && a.actor_id == Some(uid(1).to_string())
                && a.resource_id == Some(sid(7).to_string())
                && (a.tenant_id, a.partner_id) == (Some(t), Some(p))
                && a.details == json!({"via": "account"})
        })
        .times(1)
        .returning(move |id, at, _| {
            Ok(Some(crate::ports::Session { revoked_at: Some(at), ..session_record(id, uid(1), Some(t), Some(p)) }))
        });
    let (svc, revocations) = ports.build();
    svc.revoke_session(&me(), sid(7), &meta()).await.unwrap();
    assert!(revocations.is_revoked(sid(7)));
    assert!(!revocations.is_revoked(sid(1)), "only the named session ends");
}

#[tokio::test]
async fn a_withdrawn_consent_is_audited_on_the_application_and_a_missing_one_is_not_found() {
    let (t, p) = tenant();
    let app = ApplicationId::generate_from(Ulid::from_parts(53, 1));
    let mut ports = Ports::new().with_person(json!({}));
    let mut answers = [true, false].into_iter();
    ports
        .grants
        .expect_revoke_consent()
        .withf(move |u, a, at, rec| {
            (*u, *a, *at) == (uid(1), app, fixed_now())
                && rec.action == action::CONSENT_REVOKE
                && rec.resource_type == "application"
                && rec.resource_id == Some(app.to_string())
                && (rec.tenant_id, rec.partner_id) == (Some(t), Some(p))
                && rec.details == json!({"user_id": uid(1).to_string(), "via": "account"})
        })
        .times(2)
        .returning(move |_, _, _, _| Ok(answers.next().unwrap()));
    let (svc, _) = ports.build();
    svc.revoke_consent(&me(), app, &meta()).await.unwrap();
    assert!(matches!(svc.revoke_consent(&me(), app, &meta()).await, Err(AppError::NotFound("Consent"))));
}

#[tokio::test]
async fn the_page_shows_the_persons_newest_active_sessions_consents_and_the_tenants_password_policy() {
    let (t, p) = tenant();
    let mut ports =
        Ports::new().with_person(json!({"password_policy": {"min_length": 14}})).with_candidate(json!({}), vec![]);
    ports
        .sessions
        .expect_list()
        .withf(|r, f, at, page| {
            *r == Reach::Platform
                && f.user_id == Some(uid(1))
                && f.tenant_id.is_none()
                && f.state == SessionState::Active
                && *at == fixed_now()
                && (page.page(), page.per_page()) == (1, 50)
        })
        .times(1)
        .returning(move |_, _, _, page| {
            let items = vec![
                session_record(sid(1), uid(1), Some(t), Some(p)),
                session_record(sid(2), uid(1), Some(t), Some(p)),
            ];
            Ok(Page { items, request: page, total: 2 })
        });
    let consent = ConsentSummary {
        application_id: ApplicationId::generate_from(Ulid::from_parts(53, 1)),
        application_name: "Reports".into(),
        scopes: vec!["openid".into()],
        granted_at: fixed_now(),
    };
    let kept = consent.clone();
    ports.grants.expect_consents_of().withf(|u| *u == uid(1)).returning(move |_| Ok(vec![kept.clone()]));
    ports.mfa.expect_totp().returning(|_| Ok(None));
    let (svc, _) = ports.build();
    let view = svc.view(&me()).await.unwrap();
    assert_eq!(view.user.id, uid(1));
    assert_eq!(view.sessions.iter().map(|s| s.id).collect::<Vec<_>>(), [sid(1), sid(2)]);
    assert_eq!(view.current_session, sid(1));
    assert_eq!(view.consents, vec![consent]);
    assert_eq!(view.password_policy.min_length, 14);
    assert_eq!((view.mfa.totp_since, view.mfa.recovery_codes_left), (None, 0));
}

#[tokio::test]
async fn an_authenticator_app_is_refused_where_the_tenant_offers_none() {
    let (svc, _) = Ports::new().with_candidate(json!({"mfa_methods": ["webauthn"]}), vec![]).build();
    let e = svc.begin_totp(&me()).await.unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m == "Your organisation does not offer authenticator apps."),
        "{e:?}"
    );
}

#[tokio::test]
async fn removing_the_authenticator_app_needs_one_of_its_codes() {
    let mut ports = Ports::new().with_candidate(json!({}), vec![Method::Totp]);
    ports.mfa.expect_totp().returning(|_| Ok(None));
    ports.mfa.expect_remove_totp().never();
    let (svc, _) = ports.build();
    let e = svc.remove_totp(&me(), "123456", &meta()).await.unwrap_err();
    assert_eq!(field_error(&e), ("code".into(), "invalid_code", "That code is not valid".into()));
}

#[tokio::test]
async fn the_last_factor_a_tenant_requires_stays_and_the_form_says_why() {
    let mut ports = Ports::new().with_candidate(json!({"mfa_required": true}), vec![Method::Totp]);
    ports.mfa.expect_totp().returning(|_| Ok(None));
    // Refused before the code is checked: the recovery code stays usable.
    ports.mfa.expect_use_recovery_code().never();
    ports.mfa.expect_remove_totp().never();
    let (svc, _) = ports.build();
    let e = svc.remove_totp(&me(), "ABCD-EFGH-IJKL-MNOP", &meta()).await.unwrap_err();
    assert_eq!(field_error(&e), ("code".into(), "mfa_required", LAST_FACTOR.into()));
}
