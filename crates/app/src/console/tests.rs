//! The console's sign-in against mocks: its cookie opens only as sealed for it, a callback code
//! becomes the session and user it signed in (refusals unauthenticated, outages unavailable),
//! and a console session acts as its user with the roles held now, only while the SSO session
//! lives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use scaikey_domain::access::Denial;
use scaikey_domain::application::{Application, ApplicationType};
use scaikey_domain::audit::{RequestMeta, action};
use scaikey_domain::id::{ApplicationId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::principal::{ClientPrincipal, Principal, UserPrincipal};
use scaikey_domain::role::{Role, Roles};
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use serde_json::json;
use ulid::Ulid;

use super::{CLIENT_ID, ConsoleService, ConsoleSession};
use crate::auth::{AuthService, AuthSettings};
use crate::error::{AppError, RepoError};
use crate::oidc::{OidcService, OidcSettings};
use crate::ports::oidc::{BrowserSession, MockGrantRepository, NewCode, SignInUser, StoredCode};
use crate::ports::{
    AccessToken, AuditSink, EndedSession, LoginCandidate, MockApplicationRepository, MockAuditSink, MockAuthRepository,
    MockClientDirectory, MockClientSecrets, MockPasswordHasher, MockSecretSealer, MockSessionRepository,
    MockTenantRepository, MockTokenCodec, TokenRejection,
};
use crate::revocation::RevocationList;
use crate::test_support::{fixed_clock, fixed_now, ids, login_candidate, no_mfa, open_throttle, service_app};

/// The issuer the services run under (with a trailing slash, which the callback drops).
const ISSUER: &str = "https://id.example/";
/// The console's callback under [`ISSUER`].
const CALLBACK: &str = "https://id.example/console/callback";
/// RFC 7636 Appendix B: this verifier proves [`CHALLENGE`].
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// What the web console's cookie is sealed for.
const CONSOLE_AAD: &[u8] = b"scaikey/console/v1";

fn uid(n: u64) -> UserId {
    UserId::generate_from(Ulid::from_parts(70, u128::from(n)))
}

fn sid(n: u64) -> SessionId {
    SessionId::generate_from(Ulid::from_parts(71, u128::from(n)))
}

fn tenant() -> (TenantId, PartnerId) {
    (TenantId::generate_from(Ulid::from_parts(72, 1)), PartnerId::generate_from(Ulid::from_parts(72, 2)))
}

fn meta() -> RequestMeta {
    RequestMeta::new(Some("192.0.2.7".into()), Some("console browser"))
}

fn roles(r: &[Role]) -> Roles {
    r.iter().copied().collect()
}

/// Session `sid(1)` of user `uid(1)`.
fn signed_in() -> ConsoleSession {
    ConsoleSession { session_id: sid(1), user_id: uid(1) }
}

/// A digest standing in for AES-GCM's tag: any change to `aad` or `plain` changes it.
fn tag(aad: &[u8], plain: &[u8]) -> [u8; 8] {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    (aad, plain).hash(&mut h);
    h.finish().to_be_bytes()
}

/// A sealer that, like AES-GCM, opens a blob only with the associated data it was sealed with
/// and refuses any change to it: `aad ":" plain tag`.
fn bound_sealer() -> MockSecretSealer {
    let mut s = MockSecretSealer::new();
    s.expect_seal().returning(|plain, aad| Ok([aad, b":", plain, &tag(aad, plain)].concat()));
    s.expect_open().returning(|blob, aad| {
        let rest = blob.strip_prefix([aad, b":"].concat().as_slice()).ok_or_else(|| anyhow::anyhow!("other aad"))?;
        let cut = rest.len().checked_sub(8).ok_or_else(|| anyhow::anyhow!("too short"))?;
        let (plain, t) = rest.split_at(cut);
        if t == tag(aad, plain) { Ok(plain.to_vec()) } else { Err(anyhow::anyhow!("tampered")) }
    });
    s
}

/// `plain` sealed by [`bound_sealer`] for `aad`, as cookie text.
fn sealed_text(plain: &[u8], aad: &[u8]) -> String {
    crate::sealed::seal(&bound_sealer(), plain, aad).unwrap()
}

/// The ports of a console service; each mock expects nothing until a test says so.
struct Ports {
    /// The OIDC provider's client directory.
    apps: MockClientDirectory,
    grants: MockGrantRepository,
    auth: MockAuthRepository,
    /// The OIDC provider's signer.
    oidc_codec: MockTokenCodec,
    /// The console's own token codec.
    codec: MockTokenCodec,
    /// The console's cookie sealer.
    sealer: MockSecretSealer,
}

impl Ports {
    fn new() -> Self {
        Self {
            apps: MockClientDirectory::new(),
            grants: MockGrantRepository::new(),
            auth: MockAuthRepository::new(),
            oidc_codec: MockTokenCodec::new(),
            codec: MockTokenCodec::new(),
            sealer: bound_sealer(),
        }
    }

    /// The service and the revocation list the OIDC service asks. Codes hash to `h(<code>)`.
    fn build(self) -> (ConsoleService, Arc<RevocationList>) {
        let revocations = Arc::new(RevocationList::new());
        let mut sink = MockAuditSink::new();
        sink.expect_submit().returning(|_, _| ());
        sink.expect_written().returning(|_| ());
        let sink: Arc<dyn AuditSink> = Arc::new(sink);
        let auth = Arc::new(AuthService::new(
            Arc::new(self.auth),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(MockTokenCodec::new()),
            Arc::new(fixed_clock()),
            Arc::new(ids(2)),
            AuthSettings { access_token_ttl: Duration::hours(1), default_session_ttl: Duration::hours(8) },
            revocations.clone(),
            sink.clone(),
            open_throttle(),
            no_mfa(),
        ));
        let mut secrets = MockClientSecrets::new();
        secrets.expect_digest().returning(|s| format!("h({s})").into_bytes());
        let oidc = Arc::new(OidcService::new(
            Arc::new(self.apps),
            Arc::new(self.grants),
            Arc::new(MockSessionRepository::new()),
            Arc::new(MockTenantRepository::new()),
            auth.clone(),
            Arc::new(secrets),
            Arc::new(MockSecretSealer::new()),
            Arc::new(self.oidc_codec),
            revocations.clone(),
            sink,
            Arc::new(fixed_clock()),
            Arc::new(ids(3)),
            OidcSettings {
                issuer: ISSUER.into(),
                interaction_ttl: Duration::minutes(15),
                refresh_ttl: Duration::days(30),
                refresh_grace: Duration::seconds(5),
            },
        ));
        let svc = ConsoleService::new(oidc, auth, Arc::new(self.codec), Arc::new(self.sealer));
        (svc, revocations)
    }

    /// The console's client is registered (public: no secret digest).
    fn with_console_client(mut self) -> Self {
        self.apps
            .expect_by_client_id()
            .withf(|id| id == CLIENT_ID)
            .returning(|_| Ok(Some(Arc::new((console_app(), None)))));
        self
    }

    /// The code `the-code` is stored as `code`.
    fn with_code(mut self, code: StoredCode) -> Self {
        self.grants
            .expect_code()
            .withf(|h, at| h == b"h(the-code)" && *at == fixed_now())
            .returning(move |_, _| Ok(Some(code.clone())));
        self
    }

    /// The store knows session `id` of `owner`, live or not (revoked or expired) at the clock's
    /// now; any other time is no match.
    fn with_session(mut self, id: SessionId, owner: UserId, live: bool) -> Self {
        self.grants
            .expect_browser_session()
            .withf(move |s, at| *s == id && *at == fixed_now())
            .returning(move |s, _| Ok(Some(browser_session(s, owner, live))));
        self
    }
}

/// The console's client as `ensure_client` makes it under [`ISSUER`].
fn console_app() -> Application {
    let mut a = service_app(7);
    a.client_id = CLIENT_ID.into();
    a.application_type = ApplicationType::Spa;
    a.scope = ScopeLevel::Global;
    a.redirect_uris = vec![CALLBACK.into()];
    a.post_logout_redirect_uris = vec!["https://id.example/console".into()];
    a.allowed_scopes = vec!["openid".into()];
    a.allowed_resources = vec![];
    a.grant_types = vec!["authorization_code".into()];
    a.token_lifetime = 300;
    a.has_secret = false;
    a
}

/// An unused code of the console for session `sid(1)` of `uid(1)`, issued five seconds ago at
/// the callback with the challenge of [`VERIFIER`].
fn console_code() -> StoredCode {
    StoredCode {
        code: NewCode {
            code_hmac: b"h(the-code)".to_vec(),
            application_id: console_app().id,
            client_id: CLIENT_ID.into(),
            user_id: uid(1),
            session_id: sid(1),
            redirect_uri: CALLBACK.into(),
            scopes: vec!["openid".into()],
            resource: None,
            nonce: None,
            code_challenge: Some(CHALLENGE.into()),
            auth_time: fixed_now() - Duration::minutes(1),
            amr: vec!["pwd".into()],
            issued_at: fixed_now() - Duration::seconds(5),
        },
        used_at: None,
        session_live: true,
        user: Some(platform_admin(uid(1))),
    }
}

fn browser_session(id: SessionId, owner: UserId, live: bool) -> BrowserSession {
    BrowserSession {
        id,
        user_id: owner,
        auth_time: fixed_now() - Duration::hours(1),
        cookie_hmac: Some(b"h(cookie)".to_vec()),
        amr: vec!["pwd".into()],
        live,
    }
}

/// An active platform super admin.
fn platform_admin(id: UserId) -> SignInUser {
    SignInUser {
        user_id: id,
        tenant_id: None,
        partner_id: None,
        email: "admin@id.example".into(),
        email_verified: true,
        first_name: None,
        last_name: None,
        display_name: None,
        roles: roles(&[Role::SuperAdmin]),
        user_active: true,
        tenant_active: true,
        partner_active: true,
    }
}

/// An access token of `principal` as the console's codec reads it.
fn token_of(principal: Principal) -> AccessToken {
    let ms = u64::try_from(fixed_now().timestamp_millis()).unwrap();
    AccessToken {
        principal,
        scope: vec!["openid".into()],
        audience: "scaikey".into(),
        client_id: Some(CLIENT_ID.into()),
        jti: Ulid::from_parts(ms, 1),
        issued_at: fixed_now(),
        expires_at: fixed_now() + Duration::minutes(5),
        act: None,
    }
}

fn user_principal(user: UserId, session: SessionId, r: Roles) -> Principal {
    Principal::User(UserPrincipal { user_id: user, session_id: session, tenant_id: None, partner_id: None, roles: r })
}

/// User `id` of [`tenant`] as a login candidate holding `r`, all statuses active.
fn candidate(id: UserId, r: &[Role]) -> LoginCandidate {
    let (t, p) = tenant();
    LoginCandidate {
        partner_id: Some(p),
        partner_status: Some(Status::Active),
        roles: roles(r),
        ..login_candidate(id, Some(t), json!({}), vec![])
    }
}

// --- The cookie ---

#[test]
fn a_sealed_cookie_opens_to_the_same_session_and_user() {
    let (svc, _) = Ports::new().build();
    let value = svc.seal(signed_in()).unwrap();
    assert_eq!(svc.open(&value), Some(signed_in()));
    let other = ConsoleSession { session_id: sid(2), user_id: uid(3) };
    assert_eq!(svc.open(&svc.seal(other).unwrap()), Some(other));
}

#[test]
fn the_cookie_is_the_session_and_user_sealed_for_the_console() {
    let mut ports = Ports::new();
    ports.sealer = MockSecretSealer::new();
    ports
        .sealer
        .expect_seal()
        .withf(move |plain, aad| aad == CONSOLE_AAD && plain == format!("{}~{}", sid(1), uid(1)).as_bytes())
        .times(1)
        .returning(|_, _| Ok(b"sealed blob".to_vec()));
    let (svc, _) = ports.build();
    // The value is the sealer's blob as base64url, nothing else.
    assert_eq!(svc.seal(signed_in()).unwrap(), URL_SAFE_NO_PAD.encode(b"sealed blob"));
}

#[test]
fn a_sealer_failure_is_an_internal_error_not_a_cookie() {
    let mut ports = Ports::new();
    ports.sealer = MockSecretSealer::new();
    ports.sealer.expect_seal().times(1).returning(|_, _| Err(anyhow::anyhow!("no master key")));
    let (svc, _) = ports.build();
    let e = svc.seal(signed_in()).unwrap_err();
    assert!(matches!(e, AppError::Internal(_)), "{e:?}");
}

#[test]
fn a_tampered_cookie_opens_to_nobody() {
    let (svc, _) = Ports::new().build();
    let value = svc.seal(signed_in()).unwrap();
    let blob = URL_SAFE_NO_PAD.decode(&value).unwrap();
    // Every single changed byte, in the purpose, the IDs or the tag, is refused.
    for i in 0..blob.len() {
        let mut changed = blob.clone();
        changed[i] ^= 0x01;
        assert_eq!(svc.open(&URL_SAFE_NO_PAD.encode(&changed)), None, "byte {i} changed");
    }
    // Another session's IDs under this cookie's tag.
    let mut swapped = blob.clone();
    let theirs = format!("{}~{}", sid(2), uid(1));
    let at = CONSOLE_AAD.len() + 1;
    swapped[at..at + theirs.len()].copy_from_slice(theirs.as_bytes());
    assert_eq!(svc.open(&URL_SAFE_NO_PAD.encode(&swapped)), None);
}

#[test]
fn a_truncated_cookie_opens_to_nobody() {
    let (svc, _) = Ports::new().build();
    let value = svc.seal(signed_in()).unwrap();
    for cut in [1, 4, 12, value.len() / 2, value.len() - 1] {
        assert_eq!(svc.open(&value[..value.len() - cut]), None, "{cut} characters cut");
    }
    let blob = URL_SAFE_NO_PAD.decode(&value).unwrap();
    assert_eq!(svc.open(&URL_SAFE_NO_PAD.encode(&blob[..blob.len() - 8])), None, "without its tag");
}

#[test]
fn a_value_sealed_for_another_purpose_opens_to_nobody() {
    let (svc, _) = Ports::new().build();
    let plain = format!("{}~{}", sid(1), uid(1));
    // The same IDs, sealed under the same key for the OIDC interaction or another version.
    for aad in [b"scaikey/interaction/v1".as_slice(), b"scaikey/console/v2", b"", b"scaikey/totp/v1/"] {
        assert_eq!(svc.open(&sealed_text(plain.as_bytes(), aad)), None, "{}", String::from_utf8_lossy(aad));
    }
    // The control: sealed for the console, it opens.
    assert_eq!(svc.open(&sealed_text(plain.as_bytes(), CONSOLE_AAD)), Some(signed_in()));
}

#[test]
fn garbage_opens_to_nobody() {
    let (svc, _) = Ports::new().build();
    for value in
        ["", "x", "not a cookie", "!!!!", "AAAA", "ses_01ARZ3NDEKTSV4RRFFQ69G5FAV~usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"]
    {
        assert_eq!(svc.open(value), None, "{value:?}");
    }
    // The IDs as base64url but never sealed.
    assert_eq!(svc.open(&URL_SAFE_NO_PAD.encode(format!("{}~{}", sid(1), uid(1)))), None);
}

#[test]
fn a_well_sealed_value_that_is_not_a_session_and_a_user_opens_to_nobody() {
    let (svc, _) = Ports::new().build();
    let (s, u) = (sid(1).to_string(), uid(1).to_string());
    let bad: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        s.clone().into_bytes(),
        format!("{s}{u}").into_bytes(),
        format!("{u}~{s}").into_bytes(),
        format!("{s}~{s}").into_bytes(),
        format!("{s}~{u}~x").into_bytes(),
        format!("{s} ~{u}").into_bytes(),
        [s.as_bytes(), b"~", u.as_bytes(), &[0xff]].concat(),
    ];
    for plain in bad {
        assert_eq!(svc.open(&sealed_text(&plain, CONSOLE_AAD)), None, "{}", String::from_utf8_lossy(&plain));
    }
}

#[test]
fn the_callback_is_the_issuers_console_callback() {
    let (svc, _) = Ports::new().build();
    assert_eq!(svc.callback(), CALLBACK);
}

// --- finish ---

/// Ports where `the-code` redeems to a token of `uid(1)` in `sid(1)`, read by the console's
/// codec as `read`.
fn redeemable(read: Result<AccessToken, TokenRejection>) -> Ports {
    let mut ports = Ports::new().with_console_client().with_code(console_code());
    ports
        .grants
        .expect_redeem_code()
        .withf(|h, at, refresh| h == b"h(the-code)" && *at == fixed_now() && refresh.is_none())
        .times(1)
        .returning(|_, _, _| Ok(true));
    ports
        .oidc_codec
        .expect_sign()
        .withf(|t| {
            t.principal == user_principal(uid(1), sid(1), roles(&[Role::SuperAdmin]))
                && t.client_id.as_deref() == Some(CLIENT_ID)
        })
        .times(1)
        .returning(|_| Ok("console.jwt".into()));
    ports.oidc_codec.expect_sign_id_token().returning(|_, _| Ok("id.jwt".into()));
    ports.codec.expect_verify_any_audience().withf(|jwt| jwt == "console.jwt").times(1).return_once(move |_| read);
    ports
}

#[tokio::test]
async fn a_redeemed_callback_code_signs_in_its_session_and_user() {
    let token = token_of(user_principal(uid(1), sid(1), roles(&[Role::SuperAdmin])));
    let (svc, _) = redeemable(Ok(token)).build();
    let s = svc.finish("the-code", VERIFIER, &meta()).await.unwrap();
    assert_eq!(s, signed_in());
    // What it signed in seals into a cookie that opens to it.
    assert_eq!(svc.open(&svc.seal(s).unwrap()), Some(signed_in()));
}

#[tokio::test]
async fn an_unknown_code_is_unauthenticated() {
    let mut ports = Ports::new().with_console_client();
    ports.grants.expect_code().withf(|h, _| h == b"h(the-code)").times(1).returning(|_, _| Ok(None));
    ports.codec.expect_verify_any_audience().never();
    let (svc, _) = ports.build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unauthenticated("The sign-in could not be completed")), "{e:?}");
}

#[tokio::test]
async fn a_code_without_its_pkce_verifier_is_unauthenticated_and_stays_unspent() {
    let mut ports = Ports::new().with_console_client().with_code(console_code());
    ports.grants.expect_redeem_code().never();
    ports.oidc_codec.expect_sign().never();
    ports.codec.expect_verify_any_audience().never();
    let (svc, _) = ports.build();
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
    let e = svc.finish("the-code", wrong, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unauthenticated(_)), "{e:?}");
}

#[tokio::test]
async fn a_code_issued_for_another_redirect_is_unauthenticated() {
    let mut code = console_code();
    code.code.redirect_uri = "https://id.example/console/elsewhere".into();
    let mut ports = Ports::new().with_console_client().with_code(code);
    ports.grants.expect_redeem_code().never();
    ports.codec.expect_verify_any_audience().never();
    let (svc, _) = ports.build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unauthenticated(_)), "{e:?}");
}

#[tokio::test]
async fn a_storage_outage_while_redeeming_is_unavailable_not_a_refused_sign_in() {
    let mut ports = Ports::new().with_console_client();
    ports.grants.expect_code().times(1).returning(|_, _| Err(RepoError::Unavailable(anyhow::anyhow!("no connection"))));
    ports.codec.expect_verify_any_audience().never();
    let (svc, _) = ports.build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");
}

#[tokio::test]
async fn a_storage_fault_while_redeeming_is_an_internal_error_not_a_refused_sign_in() {
    let mut ports = Ports::new().with_console_client();
    ports.grants.expect_code().times(1).returning(|_, _| Err(RepoError::Unknown(anyhow::anyhow!("corrupt row"))));
    ports.codec.expect_verify_any_audience().never();
    let (svc, _) = ports.build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Internal(_)), "{e:?}");
}

#[tokio::test]
async fn a_redeemed_token_the_console_cannot_verify_is_unauthenticated() {
    let (svc, _) = redeemable(Err(TokenRejection::Invalid)).build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unauthenticated("The sign-in could not be completed")), "{e:?}");
}

#[tokio::test]
async fn a_redeemed_token_of_a_client_rather_than_a_person_is_unauthenticated() {
    let client = Principal::Client(ClientPrincipal {
        app_id: ApplicationId::generate_from(Ulid::from_parts(73, 1)),
        client_id: CLIENT_ID.into(),
        scope_level: ScopeLevel::Global,
        tenant_id: None,
        partner_id: None,
        scopes: vec!["openid".into()],
    });
    let (svc, _) = redeemable(Ok(token_of(client))).build();
    let e = svc.finish("the-code", VERIFIER, &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unauthenticated("The sign-in could not be completed")), "{e:?}");
}

// --- context ---

#[tokio::test]
async fn a_live_session_of_an_admin_acts_as_the_user_with_the_roles_held_now() {
    let (t, p) = tenant();
    let mut ports = Ports::new().with_session(sid(1), uid(1), true);
    // Between two console requests an admin makes the user partner admin too.
    let mut held = [vec![Role::TenantAdmin], vec![Role::TenantAdmin, Role::PartnerAdmin]].into_iter();
    ports
        .auth
        .expect_candidate()
        .withf(|id| *id == uid(1))
        .times(2)
        .returning(move |id| Ok(Some(candidate(id, &held.next().unwrap()))));
    let (svc, _) = ports.build();
    let principal = |r: &[Role]| {
        Principal::User(UserPrincipal {
            user_id: uid(1),
            session_id: sid(1),
            tenant_id: Some(t),
            partner_id: Some(p),
            roles: roles(r),
        })
    };
    let first = svc.context(signed_in(), &meta()).await.unwrap().unwrap();
    assert_eq!(first.principal, principal(&[Role::TenantAdmin]));
    assert_eq!(first.meta, meta());
    let second = svc.context(signed_in(), &RequestMeta::default()).await.unwrap().unwrap();
    assert_eq!(second.principal, principal(&[Role::TenantAdmin, Role::PartnerAdmin]), "the roles of now");
    assert_eq!(second.meta, RequestMeta::default(), "this request's facts");
}

#[tokio::test]
async fn the_roles_the_user_had_at_sign_in_do_not_carry_over() {
    // Signed in as super admin; since then only tenant admin.
    let token = token_of(user_principal(uid(1), sid(1), roles(&[Role::SuperAdmin])));
    let mut ports = redeemable(Ok(token)).with_session(sid(1), uid(1), true);
    ports.auth.expect_candidate().times(1).returning(|id| Ok(Some(candidate(id, &[Role::TenantAdmin]))));
    let (svc, _) = ports.build();
    let s = svc.finish("the-code", VERIFIER, &meta()).await.unwrap();
    let ctx = svc.context(svc.open(&svc.seal(s).unwrap()).unwrap(), &meta()).await.unwrap().unwrap();
    let Principal::User(u) = &ctx.principal else { panic!("{ctx:?}") };
    assert_eq!(u.roles, roles(&[Role::TenantAdmin]));
}

#[tokio::test]
async fn a_session_that_ended_or_expired_in_storage_is_no_console_session() {
    let mut ports = Ports::new().with_session(sid(1), uid(1), false);
    ports.auth.expect_candidate().never();
    let (svc, _) = ports.build();
    assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none());
}

#[tokio::test]
async fn an_unknown_session_is_no_console_session() {
    let mut ports = Ports::new();
    ports.grants.expect_browser_session().times(1).returning(|_, _| Ok(None));
    ports.auth.expect_candidate().never();
    let (svc, _) = ports.build();
    assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_session_revoked_in_this_process_is_no_console_session_though_storage_still_says_live() {
    let mut ports = Ports::new().with_session(sid(1), uid(1), true).with_session(sid(2), uid(1), true);
    ports.auth.expect_candidate().times(1).returning(|id| Ok(Some(candidate(id, &[Role::TenantAdmin]))));
    let (svc, revocations) = ports.build();
    revocations.add(&[EndedSession { id: sid(1), expires_at: fixed_now() + Duration::hours(1) }]);
    assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none());
    // Only the revoked one: another session of the same user still acts.
    let other = ConsoleSession { session_id: sid(2), user_id: uid(1) };
    assert!(svc.context(other, &meta()).await.unwrap().is_some());
}

#[tokio::test]
async fn a_session_of_another_user_than_the_cookie_names_is_no_console_session() {
    let mut ports = Ports::new().with_session(sid(1), uid(2), true);
    // Neither the cookie's user nor the session's is looked up.
    ports.auth.expect_candidate().never();
    let (svc, _) = ports.build();
    assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_user_gone_since_sign_in_is_no_console_session() {
    let mut ports = Ports::new().with_session(sid(1), uid(1), true);
    ports.auth.expect_candidate().withf(|id| *id == uid(1)).times(1).returning(|_| Ok(None));
    let (svc, _) = ports.build();
    assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_suspended_user_tenant_or_partner_is_no_console_session() {
    let suspended: [fn(LoginCandidate) -> LoginCandidate; 3] = [
        |c| LoginCandidate { status: Status::Suspended, ..c },
        |c| LoginCandidate { tenant_status: Some(Status::Suspended), ..c },
        |c| LoginCandidate { partner_status: Some(Status::Suspended), ..c },
    ];
    for (i, suspend) in suspended.into_iter().enumerate() {
        let mut ports = Ports::new().with_session(sid(1), uid(1), true);
        ports
            .auth
            .expect_candidate()
            .times(1)
            .returning(move |id| Ok(Some(suspend(candidate(id, &[Role::SuperAdmin])))));
        let (svc, _) = ports.build();
        assert!(svc.context(signed_in(), &meta()).await.unwrap().is_none(), "case {i}");
    }
}

#[tokio::test]
async fn a_user_without_admin_roles_is_refused_the_console() {
    let mut ports = Ports::new().with_session(sid(1), uid(1), true);
    ports.auth.expect_candidate().times(1).returning(|id| Ok(Some(candidate(id, &[]))));
    let (svc, _) = ports.build();
    let e = svc.context(signed_in(), &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, "Console")), "{e:?}");
}

#[tokio::test]
async fn a_storage_outage_is_unavailable_not_a_signed_out_console() {
    let mut ports = Ports::new();
    ports
        .grants
        .expect_browser_session()
        .times(1)
        .returning(|_, _| Err(RepoError::Unavailable(anyhow::anyhow!("down"))));
    ports.auth.expect_candidate().never();
    let (svc, _) = ports.build();
    let e = svc.context(signed_in(), &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");

    let mut ports = Ports::new().with_session(sid(1), uid(1), true);
    ports.auth.expect_candidate().times(1).returning(|_| Err(RepoError::Unavailable(anyhow::anyhow!("down"))));
    let (svc, _) = ports.build();
    let e = svc.context(signed_in(), &meta()).await.unwrap_err();
    assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");
}

// --- ensure_client ---

#[tokio::test]
async fn a_missing_console_client_is_made_global_public_and_first_party_for_the_callback() {
    let mut clients = MockClientDirectory::new();
    clients.expect_by_client_id().withf(|id| id == CLIENT_ID).times(1).returning(|_| Ok(None));
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert()
        .withf(|_, rec, _, a| {
            let (r, s) = (&rec.app, &rec.app.settings);
            rec.client_id == CLIENT_ID
                && rec.secret_digest.is_none()
                && (r.scope, r.tenant_id, r.partner_id) == (ScopeLevel::Global, None, None)
                && r.first_party
                && !r.assignment_required
                && r.status == Status::Active
                && r.token_lifetime == 300
                && s.application_type == ApplicationType::Spa
                && s.redirect_uris == [CALLBACK]
                && s.post_logout_redirect_uris == ["https://id.example/console"]
                && s.allowed_scopes == ["openid"]
                && s.grant_types == ["authorization_code"]
                && s.allowed_origins.is_empty()
                && s.allowed_resources.is_empty()
                && a.action == action::APPLICATION_CREATE
        })
        .times(1)
        .returning(|_, _, _, _| Ok(console_app()));
    ConsoleService::ensure_client(&clients, &apps, &ids(4), ISSUER).await.unwrap();
}

#[tokio::test]
async fn an_existing_console_client_is_left_as_it_is() {
    let mut clients = MockClientDirectory::new();
    clients.expect_by_client_id().times(1).returning(|_| Ok(Some(Arc::new((console_app(), None)))));
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert().never();
    ConsoleService::ensure_client(&clients, &apps, &ids(4), ISSUER).await.unwrap();
}

#[tokio::test]
async fn a_console_client_another_process_just_made_counts_as_made() {
    let mut clients = MockClientDirectory::new();
    clients.expect_by_client_id().returning(|_| Ok(None));
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert().times(1).returning(|_, _, _, _| Err(RepoError::Duplicate("client_id")));
    ConsoleService::ensure_client(&clients, &apps, &ids(4), ISSUER).await.unwrap();
    // Any other failure is one.
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert().times(1).returning(|_, _, _, _| Err(RepoError::Unavailable(anyhow::anyhow!("down"))));
    let e = ConsoleService::ensure_client(&clients, &apps, &ids(4), ISSUER).await.unwrap_err();
    assert!(matches!(e, AppError::Unavailable(_)), "{e:?}");
}

#[tokio::test]
async fn an_issuer_neither_https_nor_loopback_gets_no_console_client() {
    let mut clients = MockClientDirectory::new();
    clients.expect_by_client_id().returning(|_| Ok(None));
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert().never();
    let e = ConsoleService::ensure_client(&clients, &apps, &ids(4), "http://id.example").await.unwrap_err();
    assert!(matches!(e, AppError::Invalid(_)), "{e:?}");
    // On loopback plain http is fine.
    let mut apps = MockApplicationRepository::new();
    apps.expect_insert()
        .withf(|_, r, _, _| r.app.settings.redirect_uris == ["http://127.0.0.1:8080/console/callback"])
        .times(1)
        .returning(|_, _, _, _| Ok(console_app()));
    ConsoleService::ensure_client(&clients, &apps, &ids(4), "http://127.0.0.1:8080").await.unwrap();
}
