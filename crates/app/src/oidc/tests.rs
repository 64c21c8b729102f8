//! The provider's grants with mocked ports: what reuse revokes, what a lost race means, and that
//! a tampered or foreign interaction goes nowhere.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use scaikey_domain::application::{Application, ApplicationType, IdTokenAlg};
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::id::{SessionId, TenantId, UserId};
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use ulid::Ulid;

use super::*;
use crate::auth::{AuthService, AuthSettings};
use crate::ports::oidc::{MockGrantRepository, StoredCode, StoredRefresh};
use crate::ports::{
    MockAuditSink, MockAuthRepository, MockClientDirectory, MockClientSecrets, MockPasswordHasher, MockSecretSealer,
    MockTokenCodec,
};
use crate::test_support::{fixed_clock, ids};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default()
}

fn web_app() -> Application {
    let mut a = crate::test_support::service_app(1);
    a.client_id = "ck_web".into();
    a.application_type = ApplicationType::Web;
    a.scope = ScopeLevel::Tenant;
    a.tenant_id = Some(TenantId::generate_from(Ulid::from_parts(3, 3)));
    a.redirect_uris = vec!["https://app.example/cb".into()];
    a.allowed_scopes = vec!["openid".into(), "email".into()];
    a.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    a.id_token_signed_response_alg = IdTokenAlg::Es256;
    a.status = Status::Active;
    a
}

fn code(used: bool) -> StoredCode {
    let app = web_app();
    StoredCode {
        code: NewCode {
            code_hmac: b"h(code)".to_vec(),
            application_id: app.id,
            client_id: app.client_id,
            user_id: UserId::generate_from(Ulid::from_parts(4, 4)),
            session_id: SessionId::generate_from(Ulid::from_parts(5, 5)),
            redirect_uri: "https://app.example/cb".into(),
            scopes: vec!["openid".into()],
            resource: None,
            nonce: None,
            code_challenge: None,
            auth_time: now(),
            amr: vec!["pwd".into()],
            issued_at: now() - Duration::seconds(5),
        },
        used_at: used.then(|| now() - Duration::seconds(1)),
        session_live: true,
        user: Some(SignInUser {
            user_id: UserId::generate_from(Ulid::from_parts(4, 4)),
            tenant_id: app.tenant_id,
            partner_id: None,
            email: "a@b.example".into(),
            email_verified: false,
            first_name: None,
            last_name: None,
            display_name: None,
            roles: scaikey_domain::role::Roles::default(),
            user_active: true,
            tenant_active: true,
            partner_active: true,
        }),
    }
}

/// `ck_web` with its secret redeems `the-code` at the registered redirect URI, without PKCE.
async fn redeem_the_code(svc: &OidcService) -> OAuthError {
    svc.authorization_code(
        "ck_web",
        Some("secret"),
        "the-code",
        Some("https://app.example/cb"),
        None,
        &RequestMeta::default(),
    )
    .await
    .unwrap_err()
}

fn service(grants: MockGrantRepository) -> OidcService {
    service_with(grants, web_app(), Some(b"digest".to_vec()), MockTokenCodec::new())
}

/// [`service`] for the client `app` (with secret digest `digest`), the login's tokens signed by
/// `auth_codec`.
fn service_with(
    grants: MockGrantRepository,
    app: Application,
    digest: Option<Vec<u8>>,
    auth_codec: MockTokenCodec,
) -> OidcService {
    service_with_sessions(grants, app, digest, auth_codec, crate::ports::MockSessionRepository::new())
}

/// [`service_with`] whose session repository is `sessions`.
fn service_with_sessions(
    grants: MockGrantRepository,
    app: Application,
    digest: Option<Vec<u8>>,
    auth_codec: MockTokenCodec,
    sessions: crate::ports::MockSessionRepository,
) -> OidcService {
    let mut apps = MockClientDirectory::new();
    apps.expect_by_client_id().returning(move |_| Ok(Some(Arc::new((app.clone(), digest.clone())))));
    let mut secrets = MockClientSecrets::new();
    secrets.expect_verify().returning(|s, d| s.as_bytes() == b"secret" && d == b"digest");
    secrets.expect_digest().returning(|s| format!("h({s})").into_bytes());
    secrets.expect_generate().returning(|| Ok(("r".into(), b"h(r)".to_vec())));
    let mut sink = MockAuditSink::new();
    sink.expect_submit().returning(|_, _| ());
    let sink: Arc<dyn crate::ports::AuditSink> = Arc::new(sink);
    let mut sealer = MockSecretSealer::new();
    sealer.expect_open().returning(|_, _| Err(anyhow::anyhow!("cannot decrypt")));
    let auth = Arc::new(AuthService::new(
        Arc::new(MockAuthRepository::new()),
        Arc::new(MockPasswordHasher::new()),
        Arc::new(auth_codec),
        Arc::new(fixed_clock()),
        Arc::new(ids(2)),
        AuthSettings { access_token_ttl: Duration::hours(1), default_session_ttl: Duration::hours(8) },
        Arc::new(RevocationList::new()),
        sink.clone(),
        crate::test_support::open_throttle(),
        crate::test_support::no_mfa(),
    ));
    OidcService::new(
        Arc::new(apps),
        Arc::new(grants),
        Arc::new(sessions),
        Arc::new(crate::ports::MockTenantRepository::new()),
        auth,
        Arc::new(secrets),
        Arc::new(sealer),
        Arc::new(MockTokenCodec::new()),
        Arc::new(RevocationList::new()),
        sink,
        Arc::new(fixed_clock()),
        Arc::new(ids(3)),
        OidcSettings {
            issuer: "https://id.example".into(),
            interaction_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            refresh_grace: Duration::seconds(5),
        },
    )
}

#[tokio::test]
async fn a_reused_code_revokes_what_it_issued() {
    let mut grants = MockGrantRepository::new();
    grants.expect_code().returning(|_, _| Ok(Some(code(true))));
    grants.expect_revoke_code_family().times(1).returning(|h, _| {
        assert_eq!(h, b"h(the-code)");
        Ok(2)
    });
    grants.expect_redeem_code().never();
    let svc = ending_the_codes_session(grants);
    let e = redeem_the_code(&svc).await;
    assert_eq!(e, OAuthError::InvalidGrant("The authorization code was already used".into()));
}

#[tokio::test]
async fn losing_the_redemption_race_counts_as_a_reuse() {
    let mut grants = MockGrantRepository::new();
    // The code is read with its session and user: nothing else is read before redeeming.
    grants.expect_code().times(1).returning(|_, _| Ok(Some(code(false))));
    grants.expect_sign_in_user().never();
    grants.expect_browser_session().never();
    grants.expect_redeem_code().times(1).returning(|_, _, r| {
        assert!(r.is_some(), "the refresh token is stored with the redemption");
        Ok(false)
    });
    grants.expect_revoke_code_family().times(1).returning(|_, _| Ok(1));
    let svc = ending_the_codes_session(grants);
    let e = redeem_the_code(&svc).await;
    assert_eq!(e.code(), "invalid_grant");
}

/// [`service`] that expects the code's SSO session to be ended once (its access token names
/// it), audited as a revocation.
fn ending_the_codes_session(grants: MockGrantRepository) -> OidcService {
    let mut sessions = crate::ports::MockSessionRepository::new();
    sessions.expect_revoke().times(1).returning(|id, _, rec| {
        assert_eq!(id, code(false).code.session_id, "the session the code was issued in");
        assert_eq!(rec.action, scaikey_domain::audit::action::SESSION_REVOKE);
        Ok(None)
    });
    service_with_sessions(grants, web_app(), Some(b"digest".to_vec()), MockTokenCodec::new(), sessions)
}

#[tokio::test]
async fn a_refresh_token_replaced_before_the_grace_revokes_its_family() {
    let family = Ulid::from_parts(8, 8);
    let mut grants = MockGrantRepository::new();
    grants.expect_refresh_token().returning(move |_, _, _| {
        let app = web_app();
        Ok(Some(StoredRefresh {
            token: NewRefresh {
                id: Ulid::from_parts(9, 9),
                token_hmac: b"h(rt)".to_vec(),
                family_id: family,
                application_id: app.id,
                client_id: app.client_id,
                user_id: UserId::generate_from(Ulid::from_parts(4, 4)),
                session_id: Some(SessionId::generate_from(Ulid::from_parts(5, 5))),
                scopes: vec!["openid".into()],
                resource: None,
                auth_time: now(),
                amr: vec!["pwd".into()],
                issued_at: now() - Duration::minutes(10),
                expires_at: now() + Duration::days(1),
            },
            rotated_at: Some(now() - Duration::seconds(30)),
            grace_used: false,
            revoked_at: None,
            session_live: true,
            session_ends_at: None,
            user: Some(live_user()),
        }))
    });
    grants.expect_revoke_family().times(1).returning(move |f, _| {
        assert_eq!(f, family);
        Ok(3)
    });
    grants.expect_rotate().never();
    let svc = service(grants);
    let e = svc.refresh_token("ck_web", Some("secret"), "rt", None, &RequestMeta::default()).await.unwrap_err();
    assert_eq!(e, OAuthError::InvalidGrant("The refresh token was already used".into()));
    // Another client presenting it is refused without touching the family.
    let mut grants = MockGrantRepository::new();
    grants.expect_refresh_token().returning(|_, _, _| Ok(None));
    let svc = service(grants);
    let e = svc.refresh_token("ck_web", Some("wrong"), "rt", None, &RequestMeta::default()).await.unwrap_err();
    assert_eq!(e, OAuthError::InvalidClient);
}

#[tokio::test]
async fn a_tampered_interaction_is_an_error_page() {
    let svc = service(MockGrantRepository::new());
    let o = svc.resume("not-a-sealed-blob", None, &RequestMeta::default()).await.unwrap();
    assert!(matches!(o, Outcome::ErrorPage(_)), "{o:?}");
    let r = svc.login("AAAA", "a@b.example", "pw", None, &RequestMeta::default()).await.unwrap();
    assert!(matches!(r, LoginResult::Done(Outcome::ErrorPage(_))), "{r:?}");
    let c = SessionCookie { session_id: SessionId::generate_from(Ulid::from_parts(5, 5)), secret: "s3cr3t".into() };
    assert_eq!(SessionCookie::parse(&c.value()), Some(c));
    assert!(SessionCookie::parse("no-separator").is_none());
    assert!(SessionCookie::parse("usr_01ARZ3NDEKTSV4RRFFQ69G5FAV~x").is_none(), "only a session ID");
}

/// The JSON login's client: GLOBAL, public, only the refresh grant.
fn admin_login_app() -> Application {
    let mut a = web_app();
    a.client_id = ADMIN_LOGIN_CLIENT_ID.into();
    a.application_type = ApplicationType::Native;
    a.scope = ScopeLevel::Global;
    a.tenant_id = None;
    a.redirect_uris = vec![];
    a.allowed_scopes = vec![];
    a.grant_types = vec!["refresh_token".into()];
    a
}

fn admin_login_refresh(session_ends_at: Option<DateTime<Utc>>) -> StoredRefresh {
    let app = admin_login_app();
    StoredRefresh {
        token: NewRefresh {
            id: Ulid::from_parts(9, 9),
            token_hmac: b"h(rt)".to_vec(),
            family_id: Ulid::from_parts(9, 9),
            application_id: app.id,
            client_id: app.client_id,
            user_id: UserId::generate_from(Ulid::from_parts(4, 4)),
            session_id: Some(SessionId::generate_from(Ulid::from_parts(5, 5))),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            resource: None,
            auth_time: now(),
            amr: vec!["pwd".into()],
            issued_at: now() - Duration::minutes(10),
            expires_at: now() + Duration::days(1),
        },
        rotated_at: None,
        grace_used: false,
        revoked_at: None,
        session_live: session_ends_at.is_some(),
        session_ends_at,
        user: Some(live_user()),
    }
}

fn live_user() -> SignInUser {
    SignInUser {
        user_id: UserId::generate_from(Ulid::from_parts(4, 4)),
        tenant_id: None,
        partner_id: None,
        email: "admin@example.com".into(),
        email_verified: true,
        first_name: None,
        last_name: None,
        display_name: None,
        roles: scaikey_domain::role::Roles::from_iter([scaikey_domain::role::Role::SuperAdmin]),
        user_active: true,
        tenant_active: true,
        partner_active: true,
    }
}

#[tokio::test]
async fn a_login_refresh_yields_an_admin_token_ending_with_the_session() {
    let ends = now() + Duration::minutes(10);
    let mut grants = MockGrantRepository::new();
    grants.expect_refresh_token().returning(move |_, _, _| Ok(Some(admin_login_refresh(Some(ends)))));
    // The user comes with the token: no second read.
    grants.expect_sign_in_user().never();
    grants.expect_rotate().times(1).returning(|old, _, how, _, new| {
        assert_eq!((old, how), (Ulid::from_parts(9, 9), Replace::Current));
        assert_eq!(new.id, old, "rotated in its row");
        assert_eq!(new.family_id, Ulid::from_parts(9, 9), "the same family");
        assert_eq!(new.session_id, Some(SessionId::generate_from(Ulid::from_parts(5, 5))), "still the session's");
        Ok(true)
    });
    let mut codec = MockTokenCodec::new();
    codec
        .expect_sign()
        .withf(move |t: &AccessToken| {
            // No client: the admin API takes it; never longer than the session.
            t.client_id.is_none() && t.audience == SCAIKEY_AUDIENCE && t.expires_at == ends
        })
        .times(1)
        .returning(|_| Ok("admin.jwt".into()));
    let svc = service_with(grants, admin_login_app(), None, codec);
    let t = svc.refresh_login_token("rt", Some("openid email"), &RequestMeta::default()).await.unwrap();
    assert_eq!(t.access_token, "admin.jwt");
    assert_eq!(t.scope, "openid email");
    assert_eq!(t.expires_in, 600);
    assert!(t.id_token.is_none());
    let rotated = t.refresh_token.unwrap();
    assert_eq!(refresh_handle::row_of(&rotated), Some(Ulid::from_parts(9, 9)), "names its row: {rotated}");
}

#[tokio::test]
async fn a_login_refresh_of_an_ended_session_or_another_client_is_refused() {
    let mut grants = MockGrantRepository::new();
    grants.expect_refresh_token().returning(|_, _, _| Ok(Some(admin_login_refresh(None))));
    grants.expect_rotate().never();
    let svc = service_with(grants, admin_login_app(), None, MockTokenCodec::new());
    let e = svc.refresh_login_token("rt", None, &RequestMeta::default()).await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
    // Naming no client, a token of another client reads as no client at all.
    let mut grants = MockGrantRepository::new();
    grants.expect_refresh_token().returning(|_, _, _| {
        let mut r = admin_login_refresh(Some(now() + Duration::minutes(10)));
        r.token.client_id = "ck_web".into();
        Ok(Some(r))
    });
    grants.expect_rotate().never();
    let svc = service_with(grants, admin_login_app(), None, MockTokenCodec::new());
    let e = svc.refresh_login_token("rt", None, &RequestMeta::default()).await.unwrap_err();
    assert_eq!(e, OAuthError::InvalidClient);
}

#[tokio::test]
async fn a_refresh_for_a_suspended_or_deleted_user_is_refused() {
    for user in [
        Some(SignInUser { user_active: false, ..live_user() }),
        Some(SignInUser { partner_active: false, ..live_user() }),
        None,
    ] {
        let mut grants = MockGrantRepository::new();
        grants.expect_refresh_token().returning(move |_, _, _| {
            let mut r = admin_login_refresh(Some(now() + Duration::minutes(10)));
            r.user = user.clone();
            Ok(Some(r))
        });
        grants.expect_rotate().never();
        let svc = service_with(grants, admin_login_app(), None, MockTokenCodec::new());
        let e = svc.refresh_login_token("rt", None, &RequestMeta::default()).await.unwrap_err();
        assert_eq!(e, OAuthError::InvalidGrant("The user may no longer sign in".into()));
    }
}

/// Userinfo over `grants`, remembering claims for a minute, its bearer `"t"` verifying to an
/// `openid profile` token of [`live_user`] issued a minute before the fixed clock; with the
/// revocation list it asks.
fn userinfo_service(grants: MockGrantRepository) -> (OidcService, Arc<RevocationList>) {
    let user = live_user();
    let issued = now() - Duration::minutes(1);
    let token = AccessToken {
        principal: Principal::User(scaikey_domain::principal::UserPrincipal {
            user_id: user.user_id,
            session_id: SessionId::generate_from(Ulid::from_parts(9, 9)),
            tenant_id: None,
            partner_id: None,
            roles: user.roles,
        }),
        scope: vec!["openid".into(), "profile".into(), "email".into()],
        audience: "https://api.example".into(),
        client_id: Some("ck_web".into()),
        jti: Ulid::from_parts(u64::try_from(issued.timestamp_millis()).unwrap(), 1),
        issued_at: issued,
        expires_at: issued + Duration::hours(1),
        act: None,
    };
    let mut codec = MockTokenCodec::new();
    codec.expect_verify().returning(move |_| Ok(token.clone()));
    let revocations = Arc::new(RevocationList::new());
    let base = service(MockGrantRepository::new());
    let svc =
        OidcService { grants: Arc::new(grants), codec: Arc::new(codec), revocations: revocations.clone(), ..base }
            .with_claims_cache(std::time::Duration::from_secs(60));
    (svc, revocations)
}

#[tokio::test]
async fn userinfo_remembers_claims_but_refuses_a_cut_user_at_once() {
    let mut grants = MockGrantRepository::new();
    grants.expect_sign_in_user().times(1).returning(|_| Ok(Some(live_user())));
    let (svc, revocations) = userinfo_service(grants);
    for _ in 0..3 {
        let claims = svc.userinfo("t").await.unwrap();
        assert_eq!(claims["email"], "admin@example.com");
    }
    // A password reset, suspension or deletion cuts the user's tokens: the remembered claims
    // answer nobody.
    revocations.cut_user(live_user().user_id, &[], now());
    assert!(matches!(svc.userinfo("t").await, Err(TokenRejection::Revoked)));
}

#[tokio::test]
async fn userinfo_refuses_an_inactive_user_even_from_memory() {
    let mut grants = MockGrantRepository::new();
    let suspended = SignInUser { tenant_active: false, ..live_user() };
    grants.expect_sign_in_user().times(1).returning(move |_| Ok(Some(suspended.clone())));
    let (svc, _) = userinfo_service(grants);
    assert!(matches!(svc.userinfo("t").await, Err(TokenRejection::Revoked)));
    assert!(matches!(svc.userinfo("t").await, Err(TokenRejection::Revoked)), "remembered, still refused");
}
