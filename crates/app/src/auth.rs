//! Authentication: password login opening an SSO session, bearer-token verification into a
//! [`Principal`], and the bootstrap super admin.

use std::sync::{Arc, OnceLock};

use chrono::Duration;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::{ApplicationId, SessionId, TenantId, UserId};
use scaikey_domain::oauth_scope::SCAIKEY_AUDIENCE;
use scaikey_domain::password::MAX_PASSWORD_LEN;
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::status::Status;
use scaikey_domain::tenant::session_timeout_minutes;
use serde_json::json;
use ulid::Ulid;

use crate::error::AppError;
use crate::mfa::MfaService;
use crate::ports::oidc::NewRefresh;
use crate::ports::{
    AccessToken, AuditSink, AuthRepository, Clock, IdGenerator, LoginCandidate, NewSession, PasswordHasher, TokenCodec,
    TokenRejection,
};
use crate::revocation::RevocationList;
use crate::throttle::LoginThrottle;
use scaikey_domain::audit::action;
use scaikey_domain::mfa::SecondFactor;

/// The one answer to any failed login (contract §2): it never tells which part was wrong.
pub const INVALID_CREDENTIALS: &str = "Invalid credentials";

/// The JSON login's answer when the password was right and a second factor is needed: send
/// the TOTP or a recovery code as `code`.
pub const SECOND_FACTOR_REQUIRED: &str = "A second factor is required: send the authenticator or recovery code as code";

/// The JSON login's answer when the tenant requires a second factor the user has not enrolled.
pub const ENROLMENT_REQUIRED: &str = "A second factor is required: enrol one by signing in at /account";

/// Scopes carried by user access tokens.
pub const USER_TOKEN_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Lifetimes used at login.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// Access token lifetime (capped by the session's end).
    pub access_token_ttl: Duration,
    /// Session lifetime when the tenant sets no `session_timeout`.
    pub default_session_ttl: Duration,
}

/// A login attempt.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// E-mail (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
    /// Tenant to log in to; `None` for platform users or an e-mail unique across tenants.
    pub tenant_id: Option<TenantId>,
    /// A TOTP or recovery code, for users with a second factor (JSON login only).
    pub code: Option<String>,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// The refresh token a JSON login stores with its session (contract §2): made by the caller,
/// which owns refresh tokens ([`crate::oidc::OidcService::admin_login`]).
#[derive(Debug, Clone)]
pub struct RefreshSeed {
    /// Its ID, also its family's.
    pub id: Ulid,
    /// Keyed hash of the token.
    pub token_hmac: Vec<u8>,
    /// The built-in client that owns it.
    pub application_id: ApplicationId,
    /// That client's ID.
    pub client_id: String,
    /// Its lifetime (capped by the session's end).
    pub ttl: Duration,
}

/// Login, token verification and bootstrap.
pub struct AuthService {
    repo: Arc<dyn AuthRepository>,
    hasher: Arc<dyn PasswordHasher>,
    codec: Arc<dyn TokenCodec>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    settings: AuthSettings,
    revocations: Arc<RevocationList>,
    audit: Arc<dyn AuditSink>,
    throttle: Arc<LoginThrottle>,
    mfa: Arc<MfaService>,
    /// A hash of a random password, verified against when no user matches, so a wrong e-mail
    /// costs the same time as a wrong password.
    dummy_hash: OnceLock<String>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The user a session speaks for.
pub(crate) fn principal_of(user: &LoginCandidate, session: SessionId) -> Principal {
    Principal::User(UserPrincipal {
        user_id: user.user_id,
        session_id: session,
        tenant_id: user.tenant_id,
        partner_id: user.partner_id,
        roles: user.roles,
    })
}

/// Why a user, tenant or partner status refuses a login, for logs (the caller only ever sees
/// [`INVALID_CREDENTIALS`]).
pub(crate) fn refusal(c: &LoginCandidate) -> Option<&'static str> {
    if c.status != Status::Active {
        Some("user suspended")
    } else if c.tenant_status == Some(Status::Suspended) {
        Some("tenant suspended")
    } else if c.partner_status == Some(Status::Suspended) {
        Some("partner suspended")
    } else {
        None
    }
}

impl AuthService {
    /// Wires the service to its ports.
    #[allow(clippy::too_many_arguments)] // One argument per port; a struct would only rename them.
    pub fn new(
        repo: Arc<dyn AuthRepository>,
        hasher: Arc<dyn PasswordHasher>,
        codec: Arc<dyn TokenCodec>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        settings: AuthSettings,
        revocations: Arc<RevocationList>,
        audit: Arc<dyn AuditSink>,
        throttle: Arc<LoginThrottle>,
        mfa: Arc<MfaService>,
    ) -> Self {
        Self {
            repo,
            hasher,
            codec,
            clock,
            ids,
            settings,
            revocations,
            audit,
            throttle,
            mfa,
            dummy_hash: OnceLock::new(),
        }
    }

    /// The second-factor service logins use.
    #[must_use]
    pub fn mfa(&self) -> &Arc<MfaService> {
        &self.mfa
    }

    /// A login of `email` is complete: its failures (if `record` saw any) are forgotten.
    pub async fn completed(&self, email: &str, record: crate::throttle::Record) -> Result<(), AppError> {
        self.throttle.succeeded(email, record).await
    }

    /// The live user `id` as a login candidate, if it may still sign in (active, and its
    /// tenant and partner too).
    pub async fn candidate(&self, id: UserId) -> Result<Option<LoginCandidate>, AppError> {
        Ok(self.repo.candidate(id).await?.filter(|c| refusal(c).is_none()))
    }

    /// Records a refused login (never the password).
    fn refused<T>(&self, meta: &RequestMeta, email: &str, reason: &'static str) -> Result<T, AppError> {
        self.audit_refusal(meta, email, reason);
        Err(AppError::Unauthenticated(INVALID_CREDENTIALS))
    }

    /// Audits a refused login as `auth.login` failure with its reason.
    pub fn audit_refusal(&self, meta: &RequestMeta, email: &str, reason: &'static str) {
        let rec = AuditRecord::anonymous(meta, action::AUTH_LOGIN, "session", AuditResult::Failure)
            .details(json!({"email": email, "reason": reason}));
        self.audit.submit(rec, self.clock.now());
    }

    /// Records a bearer token refused by the admin API (never the token).
    pub fn token_refused(&self, meta: &RequestMeta, rejection: TokenRejection) {
        let rec = AuditRecord::anonymous(meta, action::AUTH_TOKEN_REFUSED, "token", AuditResult::Denied)
            .details(json!({"reason": rejection.to_string()}));
        self.audit.submit(rec, self.clock.now());
    }

    async fn burn_time(&self, password: String) -> Result<(), AppError> {
        let dummy = match self.dummy_hash.get() {
            Some(h) => h.clone(),
            None => {
                let h = self.hasher.hash(self.ids.next().to_string()).await.map_err(AppError::Internal)?;
                self.dummy_hash.get_or_init(|| h).clone()
            }
        };
        self.hasher.verify(password, dummy).await.map_err(AppError::Internal)?;
        Ok(())
    }

    /// Checks credentials (and the second factor of a user who has one), opens a session and
    /// returns a user access token whose `sid` is the session.
    pub async fn login(&self, req: LoginRequest, meta: &RequestMeta) -> Result<IssuedToken, AppError> {
        self.login_with_refresh(req, meta, None).await
    }

    /// [`Self::login`], storing with the session the refresh token `refresh` describes (bound
    /// to that session, with the admin token's scopes) when given.
    pub async fn login_with_refresh(
        &self,
        req: LoginRequest,
        meta: &RequestMeta,
        refresh: Option<RefreshSeed>,
    ) -> Result<IssuedToken, AppError> {
        let email = req.email.trim().to_lowercase();
        let code = req.code.clone();
        let (user, record) = self.check_password(req, meta, |_| true).await?;
        let amr = match self.mfa.next(&user) {
            SecondFactor::None => vec!["pwd".to_string()],
            SecondFactor::Enrol(_) => return Err(AppError::Unauthenticated(ENROLMENT_REQUIRED)),
            SecondFactor::Verify(_) => {
                let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
                    return Err(AppError::Unauthenticated(SECOND_FACTOR_REQUIRED));
                };
                match self.mfa.verify(user.user_id, &email, &code, meta).await? {
                    Some(used) => used.amr(),
                    None => return self.refused(meta, &email, "wrong second factor"),
                }
            }
        };
        self.completed(&email, record).await?;
        let now = self.clock.now();
        let mut session = self.new_session(&user, meta, None, now, amr);
        let scopes: Vec<String> = USER_TOKEN_SCOPES.iter().map(|s| (*s).to_string()).collect();
        session.refresh = refresh.map(|r| NewRefresh {
            id: r.id,
            token_hmac: r.token_hmac,
            family_id: r.id,
            application_id: r.application_id,
            client_id: r.client_id,
            user_id: user.user_id,
            session_id: Some(session.id),
            scopes: scopes.clone(),
            resource: None,
            auth_time: now,
            amr: session.amr.clone(),
            issued_at: now,
            expires_at: (now + r.ttl).min(session.expires_at),
        });
        let issued = self.admin_token(principal_of(&user, session.id), scopes, session.expires_at)?;
        self.open(&user, &session, meta).await?;
        Ok(issued)
    }

    /// An admin API token for `principal` (no `client_id`: only ScaiKey's own login and its
    /// refresh make these), ending no later than its session.
    pub fn admin_token(
        &self,
        principal: Principal,
        scopes: Vec<String>,
        session_ends_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<IssuedToken, AppError> {
        let now = self.clock.now();
        let token = AccessToken {
            principal,
            scope: scopes,
            audience: SCAIKEY_AUDIENCE.to_string(),
            client_id: None,
            jti: self.ids.next(),
            issued_at: now,
            expires_at: (now + self.settings.access_token_ttl).min(session_ends_at),
            act: None,
        };
        let jwt = self.codec.sign(&token).map_err(AppError::Internal)?;
        Ok(IssuedToken { access_token: jwt, expires_in: (token.expires_at - now).num_seconds() })
    }

    /// Checks an e-mail and password among the users `admit` accepts (the hosted login passes
    /// the application's sign-in rule, so an e-mail known in several tenants resolves to the
    /// application's). A try while the e-mail or the IP must wait is `Throttled` before any
    /// check; every refusal is one message, costs one Argon2id verification, counts as a
    /// failure for the e-mail and the IP, and is audited with its reason. The e-mail's count
    /// is cleared only by [`AuthService::completed`] (after any second factor), given the
    /// throttle's [`Record`](crate::throttle::Record) answered with the user.
    pub async fn check_password(
        &self,
        req: LoginRequest,
        meta: &RequestMeta,
        admit: impl Fn(&LoginCandidate) -> bool + Send,
    ) -> Result<(LoginCandidate, crate::throttle::Record), AppError> {
        let email = req.email.trim().to_lowercase();
        if req.password.chars().count() > MAX_PASSWORD_LEN || email.is_empty() {
            tracing::info!(reason = "input out of bounds", "login refused");
            return self.refused(meta, &email, "input out of bounds");
        }
        let record = self.throttle.hold_back(&email, meta).await?;
        match self.password_matches(req, &email, admit).await? {
            Ok(user) => Ok((user, record)),
            Err(reason) => {
                self.throttle.failed(&email, meta).await?;
                self.refused(meta, &email, reason)
            }
        }
    }

    /// The user whose password this is, or why not.
    async fn password_matches(
        &self,
        req: LoginRequest,
        email: &str,
        admit: impl Fn(&LoginCandidate) -> bool + Send,
    ) -> Result<Result<LoginCandidate, &'static str>, AppError> {
        let mut candidates = self.repo.login_candidates(email, req.tenant_id).await?;
        candidates.retain(|c| admit(c));
        // Without a tenant, a platform user wins; otherwise the e-mail must be unambiguous.
        let chosen = match candidates.iter().position(|c| c.tenant_id.is_none()) {
            Some(i) if req.tenant_id.is_none() => Some(candidates.swap_remove(i)),
            _ if candidates.len() == 1 => candidates.pop(),
            _ => None,
        };
        let Some(user) = chosen else {
            self.burn_time(req.password).await?;
            tracing::info!(reason = "no such user or ambiguous e-mail", "login refused");
            return Ok(Err("no such user or ambiguous e-mail"));
        };
        let Some(hash) = user.password_hash.clone() else {
            self.burn_time(req.password).await?;
            tracing::info!(user_id = %user.user_id, reason = "no password set", "login refused");
            return Ok(Err("no password set"));
        };
        if !self.hasher.verify(req.password, hash).await.map_err(AppError::Internal)? {
            tracing::info!(user_id = %user.user_id, reason = "wrong password", "login refused");
            return Ok(Err("wrong password"));
        }
        if let Some(reason) = refusal(&user) {
            tracing::info!(user_id = %user.user_id, reason, "login refused");
            return Ok(Err(reason));
        }
        Ok(Ok(user))
    }

    /// A session for `user` opened `now`, lasting the tenant's `session_timeout` (or the default).
    #[must_use]
    pub fn new_session(
        &self,
        user: &LoginCandidate,
        meta: &RequestMeta,
        cookie_hmac: Option<Vec<u8>>,
        now: chrono::DateTime<chrono::Utc>,
        amr: Vec<String>,
    ) -> NewSession {
        let session_ttl = session_timeout_minutes(&user.tenant_settings)
            .and_then(|m| i64::try_from(m).ok())
            .map_or(self.settings.default_session_ttl, Duration::minutes);
        NewSession {
            id: SessionId::generate_from(self.ids.next()),
            user_id: user.user_id,
            tenant_id: user.tenant_id,
            created_at: now,
            expires_at: now + session_ttl,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.clone(),
            cookie_hmac,
            amr,
            refresh: None,
        }
    }

    /// Stores a session with its `auth.login` audit record.
    pub async fn open(&self, user: &LoginCandidate, session: &NewSession, meta: &RequestMeta) -> Result<(), AppError> {
        self.open_via(user, session, meta, None).await
    }

    /// [`Self::open`] for a sign-in through identity provider `idp` when given (contract §11:
    /// audited as `auth.login` with the IdP).
    pub async fn open_via(
        &self,
        user: &LoginCandidate,
        session: &NewSession,
        meta: &RequestMeta,
        idp: Option<scaikey_domain::id::IdentityProviderId>,
    ) -> Result<(), AppError> {
        let principal = principal_of(user, session.id);
        let method = match (idp, session.cookie_hmac.is_some()) {
            (Some(_), _) => "federated",
            (None, true) => "hosted_login",
            (None, false) => "password",
        };
        let mut details = json!({"method": method, "amr": session.amr});
        if let Some(i) = idp {
            details["idp_id"] = json!(i.to_string());
        }
        let audit = AuditRecord::success(&principal, meta, action::AUTH_LOGIN, "session")
            .resource(session.id)
            .within(user.tenant_id, user.partner_id)
            .details(details);
        self.repo.open_session(session, &audit).await?;
        self.audit.written(&audit);
        Ok(())
    }

    /// Verifies a bearer token and returns who it speaks for. A token of a revoked session, a
    /// disabled application or a cut owner is refused; the check is an in-memory lookup (see
    /// [`RevocationList::refuses`]).
    pub fn authenticate(&self, jwt: &str) -> Result<Principal, TokenRejection> {
        let token = self.codec.verify(jwt)?;
        // A user's token issued to an application speaks for the user to that application (and
        // userinfo), never as an admin: only ScaiKey's own login makes admin user tokens.
        if matches!(token.principal, Principal::User(_)) && token.client_id.is_some() {
            return Err(TokenRejection::WrongAudience);
        }
        if self.revocations.refuses(&token) {
            return Err(TokenRejection::Revoked);
        }
        Ok(token.principal)
    }

    /// Creates the platform super admin from configuration unless an active one exists.
    pub async fn bootstrap_super_admin(&self, email: &str, password: &str) -> Result<bool, AppError> {
        let email = scaikey_domain::validation::email("email", email).map_err(AppError::field)?.to_lowercase();
        scaikey_domain::password::PasswordPolicy::default().check(password).map_err(|v| {
            AppError::field(scaikey_domain::validation::FieldError::new("password", "value_error", v.to_string()))
        })?;
        let hash = self.hasher.hash(password.to_string()).await.map_err(AppError::Internal)?;
        let id = UserId::generate_from(self.ids.next());
        Ok(self.repo.bootstrap_super_admin(id, &email, &hash, self.clock.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockAuthRepository, MockPasswordHasher, MockTokenCodec};
    use crate::test_support::{fixed_clock, ids};
    use scaikey_domain::role::{Role, Roles};

    fn candidate(tenant: Option<TenantId>) -> LoginCandidate {
        LoginCandidate {
            user_id: UserId::generate_from(ulid::Ulid::from_parts(5, 5)),
            tenant_id: tenant,
            partner_id: None,
            password_hash: Some("phc".into()),
            roles: Roles::from_iter([Role::SuperAdmin]),
            status: Status::Active,
            tenant_status: None,
            partner_status: None,
            tenant_settings: json!({"session_timeout": 30}),
            email: "admin@example.com".into(),
            mfa_methods: vec![],
        }
    }

    fn sink() -> Arc<dyn AuditSink> {
        let mut s = crate::ports::MockAuditSink::new();
        s.expect_submit().returning(|_, _| ());
        // Only a session's own record is noted as written (for the metrics), after it is stored.
        s.expect_written().withf(|r| r.action == "auth.login" && r.result == AuditResult::Success).returning(|_| ());
        Arc::new(s)
    }

    fn settings() -> AuthSettings {
        AuthSettings { access_token_ttl: Duration::hours(1), default_session_ttl: Duration::hours(8) }
    }

    fn service(repo: MockAuthRepository, hasher: MockPasswordHasher, codec: MockTokenCodec) -> AuthService {
        service_with(repo, hasher, codec, crate::test_support::open_throttle(), crate::test_support::no_mfa())
    }

    fn req(pw: &str) -> LoginRequest {
        LoginRequest { email: " Admin@Example.com ".into(), password: pw.into(), tenant_id: None, code: None }
    }

    #[tokio::test]
    async fn good_login_opens_a_session_and_caps_the_token_at_its_end() {
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates()
            .withf(|e, t| e == "admin@example.com" && t.is_none())
            .returning(|_, _| Ok(vec![candidate(None)]));
        repo.expect_open_session()
            .withf(|s, a| (s.expires_at - s.created_at) == Duration::minutes(30) && a.action == "auth.login")
            .times(1)
            .returning(|_, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|pw, _| Ok(pw == "right"));
        let mut codec = MockTokenCodec::new();
        codec
            .expect_sign()
            .withf(|t| (t.expires_at - t.issued_at) == Duration::minutes(30))
            .returning(|_| Ok("jwt".into()));
        let t = service(repo, hasher, codec).login(req("right"), &RequestMeta::default()).await.unwrap();
        assert_eq!((t.access_token.as_str(), t.expires_in), ("jwt", 1800));
    }

    #[tokio::test]
    async fn every_failure_reads_the_same() {
        for (pw, mut user) in [
            ("wrong", candidate(None)),
            ("right", LoginCandidate { status: Status::Suspended, ..candidate(None) }),
            ("right", LoginCandidate { tenant_status: Some(Status::Suspended), ..candidate(None) }),
            ("right", LoginCandidate { partner_status: Some(Status::Suspended), ..candidate(None) }),
        ] {
            user.tenant_settings = json!({});
            let mut repo = MockAuthRepository::new();
            repo.expect_login_candidates().returning(move |_, _| Ok(vec![user.clone()]));
            let mut hasher = MockPasswordHasher::new();
            hasher.expect_verify().returning(|pw, _| Ok(pw == "right"));
            let e =
                service(repo, hasher, MockTokenCodec::new()).login(req(pw), &RequestMeta::default()).await.unwrap_err();
            assert!(matches!(e, AppError::Unauthenticated(INVALID_CREDENTIALS)));
        }
    }

    #[test]
    fn revoked_sessions_are_refused_without_io() {
        let principal = candidate(None);
        let session = SessionId::generate_from(ulid::Ulid::from_parts(9, 9));
        let token = AccessToken {
            principal: Principal::User(UserPrincipal {
                user_id: principal.user_id,
                session_id: session,
                tenant_id: None,
                partner_id: None,
                roles: principal.roles,
            }),
            scope: vec![],
            audience: SCAIKEY_AUDIENCE.into(),
            client_id: None,
            jti: ulid::Ulid::nil(),
            issued_at: chrono::Utc::now(),
            expires_at: chrono::Utc::now() + Duration::hours(1),
            act: None,
        };
        let mut codec = MockTokenCodec::new();
        codec.expect_verify().returning(move |_| Ok(token.clone()));
        let revocations = Arc::new(RevocationList::new());
        let svc = AuthService::new(
            Arc::new(MockAuthRepository::new()),
            Arc::new(MockPasswordHasher::new()),
            Arc::new(codec),
            Arc::new(fixed_clock()),
            Arc::new(ids(7)),
            settings(),
            revocations.clone(),
            sink(),
            crate::test_support::open_throttle(),
            crate::test_support::no_mfa(),
        );
        assert!(svc.authenticate("jwt").is_ok());
        revocations
            .add(&[crate::ports::EndedSession { id: session, expires_at: chrono::Utc::now() + Duration::hours(1) }]);
        assert_eq!(svc.authenticate("jwt"), Err(TokenRejection::Revoked));
    }

    #[tokio::test]
    async fn unknown_email_still_spends_a_hash() {
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().returning(|_, _| Ok(vec![]));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().times(1).returning(|_| Ok("dummy".into()));
        hasher.expect_verify().times(1).returning(|_, _| Ok(false));
        let e =
            service(repo, hasher, MockTokenCodec::new()).login(req("x"), &RequestMeta::default()).await.unwrap_err();
        assert!(matches!(e, AppError::Unauthenticated(_)));
    }

    #[tokio::test]
    async fn failed_logins_are_audited_without_the_password() {
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().returning(|_, _| Ok(vec![candidate(None)]));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|_, _| Ok(false));
        let mut audit = crate::ports::MockAuditSink::new();
        audit
            .expect_submit()
            .withf(|r, _| {
                r.action == "auth.login"
                    && r.result == AuditResult::Failure
                    && r.details["reason"] == "wrong password"
                    && !r.details.to_string().contains("s3cret")
            })
            .times(1)
            .returning(|_, _| ());
        let svc = AuthService::new(
            Arc::new(repo),
            Arc::new(hasher),
            Arc::new(MockTokenCodec::new()),
            Arc::new(fixed_clock()),
            Arc::new(ids(7)),
            settings(),
            Arc::new(RevocationList::new()),
            Arc::new(audit),
            crate::test_support::open_throttle(),
            crate::test_support::no_mfa(),
        );
        assert!(svc.login(req("s3cret"), &RequestMeta::default()).await.is_err());
    }

    #[tokio::test]
    async fn ambiguous_email_across_tenants_is_refused() {
        let t1 = TenantId::generate_from(ulid::Ulid::from_parts(1, 0));
        let t2 = TenantId::generate_from(ulid::Ulid::from_parts(2, 0));
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().returning(move |_, _| Ok(vec![candidate(Some(t1)), candidate(Some(t2))]));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("dummy".into()));
        hasher.expect_verify().returning(|_, _| Ok(true));
        let e = service(repo, hasher, MockTokenCodec::new())
            .login(req("right"), &RequestMeta::default())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Unauthenticated(_)));
    }

    fn service_with(
        repo: MockAuthRepository,
        hasher: MockPasswordHasher,
        codec: MockTokenCodec,
        throttle: Arc<LoginThrottle>,
        mfa: Arc<MfaService>,
    ) -> AuthService {
        AuthService::new(
            Arc::new(repo),
            Arc::new(hasher),
            Arc::new(codec),
            Arc::new(fixed_clock()),
            Arc::new(ids(7)),
            settings(),
            Arc::new(RevocationList::new()),
            sink(),
            throttle,
            mfa,
        )
    }

    #[tokio::test]
    async fn a_throttled_try_is_refused_before_the_user_is_even_looked_up() {
        use crate::ports::mfa::MockThrottleRepository;
        use scaikey_domain::throttle::{Failures, Scope};
        let mut store = MockThrottleRepository::new();
        let now = fixed_clock().now();
        store
            .expect_failures()
            .withf(|keys| keys.len() == 2 && keys[0].name == "acct:admin@example.com")
            .returning(move |_| Ok(vec![(Scope::Account, Failures { count: 5, first_at: now, last_at: now })]));
        let mut audit = crate::ports::MockAuditSink::new();
        audit
            .expect_submit()
            .withf(|r, _| r.details["reason"] == "throttled" && r.result == AuditResult::Failure)
            .times(1)
            .returning(|_, _| ());
        let throttle = Arc::new(LoginThrottle::new(Arc::new(store), Arc::new(audit), Arc::new(fixed_clock())));
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().never();
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().never();
        let svc = service_with(repo, hasher, MockTokenCodec::new(), throttle, crate::test_support::no_mfa());
        let meta = RequestMeta::new(Some("198.51.100.7".into()), None);
        let e = svc.login(req("right"), &meta).await.unwrap_err();
        assert!(matches!(e, AppError::Throttled(30)), "{e:?}");
    }

    #[tokio::test]
    async fn a_refusal_counts_for_the_email_and_the_ip_and_success_clears_the_email() {
        use crate::ports::mfa::MockThrottleRepository;
        use scaikey_domain::throttle::{Failures, Scope};
        use std::sync::atomic::{AtomicBool, Ordering};
        // The store as PostgreSQL keeps it: the failure is on record for the next try.
        let counted = Arc::new(AtomicBool::new(false));
        let mut store = MockThrottleRepository::new();
        let seen = counted.clone();
        store.expect_failures().returning(move |_| {
            let one = Failures { count: 1, first_at: fixed_clock().now(), last_at: fixed_clock().now() };
            Ok(if seen.load(Ordering::SeqCst) { vec![(Scope::Account, one)] } else { vec![] })
        });
        let recorded = counted.clone();
        store
            .expect_record_failure()
            .withf(|keys, _| {
                keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>() == ["acct:admin@example.com", "ip:10.0.0.9"]
            })
            .times(1)
            .returning(move |_, _| {
                recorded.store(true, Ordering::SeqCst);
                Ok(())
            });
        store.expect_clear().withf(|k| k.name == "acct:admin@example.com").times(1).returning(move |_| {
            counted.store(false, Ordering::SeqCst);
            Ok(())
        });
        let mut audit = crate::ports::MockAuditSink::new();
        audit.expect_submit().returning(|_, _| ());
        let throttle = Arc::new(LoginThrottle::new(Arc::new(store), Arc::new(audit), Arc::new(fixed_clock())));
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().returning(|_, _| Ok(vec![candidate(None)]));
        repo.expect_open_session().returning(|_, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|pw, _| Ok(pw == "right"));
        let mut codec = MockTokenCodec::new();
        codec.expect_sign().returning(|_| Ok("jwt".into()));
        let svc = service_with(repo, hasher, codec, throttle, crate::test_support::no_mfa());
        let meta = RequestMeta::new(Some("10.0.0.9".into()), None);
        assert!(svc.login(req("wrong"), &meta).await.is_err());
        assert!(svc.login(req("right"), &meta).await.is_ok());
        // Nothing on record any more: the next success spends no clear (`times(1)` above).
        assert!(svc.login(req("right"), &meta).await.is_ok());
    }

    #[tokio::test]
    async fn a_user_with_totp_needs_a_valid_unused_code() {
        use crate::ports::mfa::{MockMfaRepository, StoredTotp};
        use scaikey_domain::mfa::{Method, Totp};
        let secret = vec![3u8; 20];
        let now = fixed_clock().now();
        let step = Totp::step_of(now);
        let code = Totp::new(secret.clone()).unwrap().code_at_step(step);
        let mut store = MockMfaRepository::new();
        let stored = secret.clone();
        store.expect_totp().returning(move |_| {
            Ok(Some(StoredTotp { sealed_secret: stored.clone(), last_step: Some(step - 3), created_at: now }))
        });
        store.expect_use_totp_step().withf(move |_, s| *s == step).times(1).returning(|_, _| Ok(true));
        store.expect_use_recovery_code().returning(|_, _, _| Ok(false));
        let mfa = crate::test_support::mfa_over(store, crate::test_support::open_throttle());
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates()
            .returning(|_, _| Ok(vec![LoginCandidate { mfa_methods: vec![Method::Totp], ..candidate(None) }]));
        repo.expect_open_session().withf(|s, _| s.amr == ["pwd", "otp"]).times(1).returning(|_, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|pw, _| Ok(pw == "right"));
        let mut codec = MockTokenCodec::new();
        codec.expect_sign().returning(|_| Ok("jwt".into()));
        let svc = service_with(repo, hasher, codec, crate::test_support::open_throttle(), mfa);
        let meta = RequestMeta::default();
        let e = svc.login(req("right"), &meta).await.unwrap_err();
        assert!(matches!(e, AppError::Unauthenticated(SECOND_FACTOR_REQUIRED)));
        let wrong = LoginRequest { code: Some("000000".into()), ..req("right") };
        let wrong = if code == "000000" { LoginRequest { code: Some("111111".into()), ..req("right") } } else { wrong };
        assert!(matches!(svc.login(wrong, &meta).await.unwrap_err(), AppError::Unauthenticated(INVALID_CREDENTIALS)));
        let good = LoginRequest { code: Some(code), ..req("right") };
        assert_eq!(svc.login(good, &meta).await.unwrap().access_token, "jwt");
    }

    #[tokio::test]
    async fn a_tenant_that_requires_mfa_sends_an_unenrolled_user_to_enrol() {
        let mut repo = MockAuthRepository::new();
        repo.expect_login_candidates().returning(|_, _| {
            Ok(vec![LoginCandidate { tenant_settings: json!({"mfa_required": true}), ..candidate(None) }])
        });
        repo.expect_open_session().never();
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|_, _| Ok(true));
        let svc = service(repo, hasher, MockTokenCodec::new());
        let e = svc.login(req("right"), &RequestMeta::default()).await.unwrap_err();
        assert!(matches!(e, AppError::Unauthenticated(ENROLMENT_REQUIRED)));
    }
}
