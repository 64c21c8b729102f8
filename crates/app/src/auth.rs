//! Authentication: password login opening an SSO session, bearer-token verification into a
//! [`Principal`], and the bootstrap super admin.

use std::sync::{Arc, OnceLock};

use chrono::Duration;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::{SessionId, TenantId, UserId};
use scaikey_domain::oauth_scope::SCAIKEY_AUDIENCE;
use scaikey_domain::password::MAX_PASSWORD_LEN;
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::status::Status;
use scaikey_domain::tenant::session_timeout_minutes;
use serde_json::json;

use crate::error::AppError;
use crate::ports::{
    AccessToken, AuditSink, AuthRepository, Clock, IdGenerator, LoginCandidate, NewSession, PasswordHasher, TokenCodec,
    TokenRejection,
};
use crate::revocation::RevocationList;

/// The one answer to any failed login (contract §2): it never tells which part was wrong.
pub const INVALID_CREDENTIALS: &str = "Invalid credentials";

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
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
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
fn principal_of(user: &LoginCandidate, session: SessionId) -> Principal {
    Principal::User(UserPrincipal {
        user_id: user.user_id,
        session_id: session,
        tenant_id: user.tenant_id,
        partner_id: user.partner_id,
        roles: user.roles,
    })
}

/// Why a login was refused, for logs (the caller only ever sees [`INVALID_CREDENTIALS`]).
fn refusal(c: &LoginCandidate) -> Option<&'static str> {
    if c.status != Status::Active {
        Some("user suspended")
    } else if c.tenant_status == Some(Status::Suspended) {
        Some("tenant suspended")
    } else if c.partner_status == Some(Status::Suspended) {
        Some("partner suspended")
    } else if c.password_hash.is_none() {
        Some("no password set")
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
    ) -> Self {
        Self { repo, hasher, codec, clock, ids, settings, revocations, audit, dummy_hash: OnceLock::new() }
    }

    /// Records a refused login (never the password).
    fn refused<T>(&self, meta: &RequestMeta, email: &str, reason: &'static str) -> Result<T, AppError> {
        let rec = AuditRecord::anonymous(meta, "auth.login", "session", AuditResult::Failure)
            .details(json!({"email": email, "reason": reason}));
        self.audit.submit(rec, self.clock.now());
        Err(AppError::Unauthenticated(INVALID_CREDENTIALS))
    }

    /// Records a bearer token refused by the admin API (never the token).
    pub fn token_refused(&self, meta: &RequestMeta, rejection: TokenRejection) {
        let rec = AuditRecord::anonymous(meta, "auth.token_refused", "token", AuditResult::Denied)
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

    /// Checks credentials, opens a session and returns a user access token whose `sid` is the
    /// session.
    pub async fn login(&self, req: LoginRequest, meta: &RequestMeta) -> Result<IssuedToken, AppError> {
        let user = self.check_password(req, meta, |_| true).await?;
        let now = self.clock.now();
        let session = self.new_session(&user, meta, None, now);
        let principal = principal_of(&user, session.id);
        let token = AccessToken {
            principal: principal.clone(),
            scope: USER_TOKEN_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            audience: SCAIKEY_AUDIENCE.to_string(),
            client_id: None,
            jti: self.ids.next(),
            issued_at: now,
            expires_at: (now + self.settings.access_token_ttl).min(session.expires_at),
        };
        let jwt = self.codec.sign(&token).map_err(AppError::Internal)?;
        self.open(&user, &session, meta).await?;
        Ok(IssuedToken { access_token: jwt, expires_in: (token.expires_at - now).num_seconds() })
    }

    /// Checks an e-mail and password among the users `admit` accepts (the hosted login passes
    /// the application's sign-in rule, so an e-mail known in several tenants resolves to the
    /// application's). Every refusal is one message, costs one Argon2id verification and is
    /// audited with its reason.
    pub async fn check_password(
        &self,
        req: LoginRequest,
        meta: &RequestMeta,
        admit: impl Fn(&LoginCandidate) -> bool + Send,
    ) -> Result<LoginCandidate, AppError> {
        let email = req.email.trim().to_lowercase();
        if req.password.chars().count() > MAX_PASSWORD_LEN || email.is_empty() {
            tracing::info!(reason = "input out of bounds", "login refused");
            return self.refused(meta, &email, "input out of bounds");
        }
        let mut candidates = self.repo.login_candidates(&email, req.tenant_id).await?;
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
            return self.refused(meta, &email, "no such user or ambiguous e-mail");
        };
        let Some(hash) = user.password_hash.clone() else {
            self.burn_time(req.password).await?;
            tracing::info!(user_id = %user.user_id, reason = "no password set", "login refused");
            return self.refused(meta, &email, "no password set");
        };
        if !self.hasher.verify(req.password, hash).await.map_err(AppError::Internal)? {
            tracing::info!(user_id = %user.user_id, reason = "wrong password", "login refused");
            return self.refused(meta, &email, "wrong password");
        }
        if let Some(reason) = refusal(&user) {
            tracing::info!(user_id = %user.user_id, reason, "login refused");
            return self.refused(meta, &email, reason);
        }
        Ok(user)
    }

    /// A session for `user` opened `now`, lasting the tenant's `session_timeout` (or the default).
    #[must_use]
    pub fn new_session(
        &self,
        user: &LoginCandidate,
        meta: &RequestMeta,
        cookie_hmac: Option<Vec<u8>>,
        now: chrono::DateTime<chrono::Utc>,
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
            amr: vec!["pwd".into()],
        }
    }

    /// Stores a session with its `auth.login` audit record.
    pub async fn open(&self, user: &LoginCandidate, session: &NewSession, meta: &RequestMeta) -> Result<(), AppError> {
        let principal = principal_of(user, session.id);
        let method = if session.cookie_hmac.is_some() { "hosted_login" } else { "password" };
        let audit = AuditRecord::success(&principal, meta, "auth.login", "session")
            .resource(session.id)
            .within(user.tenant_id, user.partner_id)
            .details(json!({"method": method}));
        Ok(self.repo.open_session(session, &audit).await?)
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
        }
    }

    fn sink() -> Arc<dyn AuditSink> {
        let mut s = crate::ports::MockAuditSink::new();
        s.expect_submit().returning(|_, _| ());
        Arc::new(s)
    }

    fn settings() -> AuthSettings {
        AuthSettings { access_token_ttl: Duration::hours(1), default_session_ttl: Duration::hours(8) }
    }

    fn service(repo: MockAuthRepository, hasher: MockPasswordHasher, codec: MockTokenCodec) -> AuthService {
        AuthService::new(
            Arc::new(repo),
            Arc::new(hasher),
            Arc::new(codec),
            Arc::new(fixed_clock()),
            Arc::new(ids(7)),
            settings(),
            Arc::new(RevocationList::new()),
            sink(),
        )
    }

    fn req(pw: &str) -> LoginRequest {
        LoginRequest { email: " Admin@Example.com ".into(), password: pw.into(), tenant_id: None }
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
}
