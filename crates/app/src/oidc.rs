//! ScaiKey as an OpenID Connect provider (contract §8–9): the authorization request and the
//! interaction it needs (login, consent), the `authorization_code` and `refresh_token` grants,
//! and userinfo. The protocol rules are the domain's ([`scaikey_domain::oidc`]); this service
//! runs them in order, stores outcomes through [`GrantRepository`] and signs tokens.
//!
//! Between pages the pending request travels sealed (AES-GCM under the master key) in the
//! login and consent forms, with the time it started: no server state per visitor, and any
//! process can resume it. A login made after that time satisfies `prompt=login` and `max_age`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::application::{ADMIN_LOGIN_CLIENT_ID, Application};
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::SessionId;
use scaikey_domain::mfa::{Method, SecondFactor};
use scaikey_domain::oauth_scope::SCAIKEY_AUDIENCE;
use scaikey_domain::oidc::authorize::{self, AuthorizationRequest, AuthorizeError, Params, ReplyTo, ResponseMode};
use scaikey_domain::oidc::claims::{self, Profile};
use scaikey_domain::oidc::grant::{self, CodeGrant, RefreshGrant, RefreshRefusal, RefreshUse};
use scaikey_domain::oidc::interaction::{self, SessionFacts, Step};
use scaikey_domain::oidc::pkce::CodeChallenge;
use scaikey_domain::oidc::refresh_handle;
use scaikey_domain::oidc::signin::{self, Admission, SignInRefusal, Subject};
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::status::Status;
use serde_json::{Map, Value, json};
use ulid::Ulid;

use crate::auth::{AuthService, LoginRequest, RefreshSeed};
use crate::error::AppError;
use crate::oauth::{OAuthError, authenticate_client, repo_error, server_error};
use crate::ports::oidc::{GrantRepository, NewCode, NewRefresh, Replace, SignInUser, StoredRefresh};
use crate::ports::{
    AccessToken, AuditSink, ClientDirectory, ClientSecrets, Clock, EndedSession, IdGenerator, SecretSealer,
    SessionRepository, TenantRepository, TokenCodec, TokenRejection,
};
use crate::revocation::RevocationList;
use crate::throttle::{Record, wait_message};
use scaikey_domain::audit::action;

/// Associated data of sealed interactions (a sealed IdP secret cannot pass for one).
const INTERACTION_AAD: &[u8] = b"scaikey/interaction/v1";
/// Associated data of sealed pending logins (between the password and the second factor).
const PENDING_AAD: &[u8] = b"scaikey/pending-login/v1";

/// Lifetimes and the issuer.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `iss` (also sent as RFC 9207 `iss` on authorization responses).
    pub issuer: String,
    /// How long a login or consent page may take.
    pub interaction_ttl: Duration,
    /// Refresh-token lifetime (bounded by the SSO session for session-bound tokens).
    pub refresh_ttl: Duration,
    /// Reuse grace of a replaced refresh token.
    pub refresh_grace: Duration,
}

/// The SSO cookie's content: the session and the secret that proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// The session.
    pub session_id: SessionId,
    /// 256 random bits, base64url; only its keyed hash is stored.
    pub secret: String,
}

impl SessionCookie {
    /// Parses a cookie value `ses_…~secret`.
    #[must_use]
    pub fn parse(value: &str) -> Option<SessionCookie> {
        let (id, secret) = value.split_once('~')?;
        Some(SessionCookie { session_id: id.parse().ok()?, secret: secret.to_string() })
    }

    /// The cookie value.
    #[must_use]
    pub fn value(&self) -> String {
        format!("{}~{}", self.session_id, self.secret)
    }
}

/// What the login page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginView {
    /// The sealed pending request, for the form.
    pub interaction: String,
    /// The application's name.
    pub client_name: String,
    /// E-mail to prefill.
    pub login_hint: Option<String>,
    /// Tenant to prefill.
    pub tenant_hint: Option<String>,
    /// The application spans tenants: offer the organisation field.
    pub ask_tenant: bool,
    /// A message after a refused attempt.
    pub error: Option<String>,
    /// Seconds to wait, when the try was throttled (the page answers 429 with `Retry-After`).
    pub retry_after: Option<i64>,
    /// The application's tenant's look (TENANT applications).
    pub branding: scaikey_domain::tenant::PageBranding,
    /// The tenant's enabled identity providers, one button each: (ID, name).
    pub identity_providers: Vec<(String, String)>,
}

/// Where a browser goes once its second step is passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Back to the sealed authorization request.
    Interaction(String),
    /// To `/account`.
    Account,
}

/// What the second step of a login asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// A TOTP or recovery code.
    Code,
    /// The tenant requires a second factor: set up an authenticator app and confirm it.
    Enrol(crate::mfa::TotpSetup),
    /// The tenant requires a second factor and offers passkeys only: create one.
    EnrolPasskey(crate::mfa::PasskeyPrompt),
}

/// The second-step page (after a correct password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondStepView {
    /// The sealed pending login, for the form.
    pub pending: String,
    /// Code or enrolment.
    pub kind: StepKind,
    /// Whether a code is accepted (the user has an authenticator app, or enrols one).
    pub code: bool,
    /// A passkey sign-in, when the user has passkeys.
    pub passkey: Option<crate::mfa::PasskeyPrompt>,
    /// A message after a refused code.
    pub error: Option<String>,
    /// Seconds to wait, when the try was throttled.
    pub retry_after: Option<i64>,
}

/// What the second-step form sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepAnswer<'a> {
    /// A TOTP or recovery code (or the first code of an enrolment).
    Code(&'a str),
    /// A passkey's answer to the page's challenge.
    Passkey {
        /// The challenge's ID.
        challenge: &'a str,
        /// The `PublicKeyCredential` as JSON.
        response: &'a str,
    },
}

/// The result of a second-step form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// Signed in: set the cookie, show any new recovery codes, then go on.
    SignedIn {
        /// The new SSO cookie.
        cookie: SessionCookie,
        /// Its end.
        expires_at: DateTime<Utc>,
        /// Where to go.
        after: After,
        /// Recovery codes of a new enrolment, shown once.
        recovery_codes: Option<Vec<String>>,
    },
    /// The page again, with a message.
    Again(SecondStepView),
    /// The pending login expired or its user can no longer sign in: start again.
    Expired,
}

/// A pending login between the password and the second step.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingLogin {
    user_id: scaikey_domain::id::UserId,
    email: String,
    after: After,
    setup: Option<String>,
    /// The tenant makes the user create a passkey in this step.
    enrol_passkey: bool,
    at: DateTime<Utc>,
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentView {
    /// The sealed pending request, for the form.
    pub interaction: String,
    /// The application's name.
    pub client_name: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

/// An authorization response for the client (a code, or an error), with RFC 9207 `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Where.
    pub redirect_uri: String,
    /// As query parameters (303) or an auto-posting form.
    pub mode: ResponseMode,
    /// `code`/`error`, `state`, `iss`.
    pub params: Vec<(String, String)>,
}

/// The next thing the browser sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An error page (400): the client or redirect URI cannot be trusted, or the interaction
    /// expired.
    ErrorPage(String),
    /// The login page.
    Login(LoginView),
    /// The consent page.
    Consent(ConsentView),
    /// Back to the client.
    Reply(Reply),
    /// To the tenant's identity provider (contract §11): set the browser-binding cookie to
    /// `binding`, then go to `url`.
    Upstream {
        /// The upstream authorization URL.
        url: String,
        /// The value of the cookie that binds the callback to this browser.
        binding: String,
    },
}

/// The result of a login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginResult {
    /// Signed in: set the cookie, then continue with `next`.
    SignedIn {
        /// The new SSO cookie.
        cookie: SessionCookie,
        /// Its end.
        expires_at: DateTime<Utc>,
        /// Where to go now.
        next: Outcome,
    },
    /// Show the login page again (wrong credentials or a bad form).
    Again(LoginView),
    /// The password was right; a second factor is needed.
    SecondStep(SecondStepView),
    /// The interaction cannot go on (expired, or the client is gone).
    Done(Outcome),
}

/// Tokens of the code and refresh grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedTokens {
    /// The access token (RFC 9068 JWT).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// A new refresh token, when the client may refresh.
    pub refresh_token: Option<String>,
    /// The ID token, for `openid` requests.
    pub id_token: Option<String>,
}

/// What `/oauth/introspect` says of a token (RFC 7662 §2.2); `None` fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Introspection {
    /// Whether the token is active and the caller may know about it.
    pub active: bool,
    /// `access_token` or `refresh_token`.
    pub token_type: Option<&'static str>,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
    /// The client it was issued to.
    pub client_id: Option<String>,
    /// Subject.
    pub sub: Option<String>,
    /// Audience.
    pub aud: Option<String>,
    /// Issuer.
    pub iss: Option<String>,
    /// Expiry (seconds since the epoch).
    pub exp: Option<i64>,
    /// Issue time.
    pub iat: Option<i64>,
    /// The user's tenant.
    pub tenant_id: Option<String>,
    /// The SSO session.
    pub sid: Option<String>,
}

/// Where `/oauth/logout` sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// To the client's registered post-logout URI (with `state`).
    Redirect(String),
    /// To ScaiKey's signed-out page.
    SignedOut,
    /// An error page: the post-logout URI is not registered for the client (nothing ended).
    ErrorPage(String),
}

/// The pending request between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Interaction {
    params: Vec<(String, String)>,
    started_at: DateTime<Utc>,
}

/// The OpenID Connect provider.
pub struct OidcService {
    apps: Arc<dyn ClientDirectory>,
    grants: Arc<dyn GrantRepository>,
    sessions: Arc<dyn SessionRepository>,
    tenants: Arc<dyn TenantRepository>,
    auth: Arc<AuthService>,
    secrets: Arc<dyn ClientSecrets>,
    sealer: Arc<dyn SecretSealer>,
    codec: Arc<dyn TokenCodec>,
    revocations: Arc<RevocationList>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    settings: OidcSettings,
    /// CORS answers per origin, with when they were looked up.
    origins: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, bool)>>,
    /// Sign-in through tenants' identity providers, when wired.
    federation: Option<federated::Federation>,
    /// Client ID metadata documents, when `SCAIKEY_CIMD=on`.
    cimd: Option<Arc<crate::registrations::cimd::CimdClients>>,
    /// Userinfo's memory of the claims it answered (`with_claims_cache`; off until wired).
    claims: claims_cache::ClaimsCache,
}

impl std::fmt::Debug for OidcService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcService").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Who a live browser session signs in, as the next step of an interaction needs them.
#[derive(Debug, Clone)]
pub(crate) struct SessionUser {
    session: crate::ports::oidc::BrowserSession,
    user_id: scaikey_domain::id::UserId,
    tenant_id: Option<scaikey_domain::id::TenantId>,
    partner_id: Option<scaikey_domain::id::PartnerId>,
    subject: Subject,
}

impl SessionUser {
    /// A session read back from the database with its user.
    fn read(session: crate::ports::oidc::BrowserSession, u: &SignInUser) -> Self {
        Self { session, user_id: u.user_id, tenant_id: u.tenant_id, partner_id: u.partner_id, subject: subject(u) }
    }

    /// The session just opened for `user` (live: nothing can have ended it yet).
    fn opened(s: &crate::ports::NewSession, user: &crate::ports::LoginCandidate) -> Self {
        use scaikey_domain::status::Status;
        Self {
            session: crate::ports::oidc::BrowserSession {
                id: s.id,
                user_id: s.user_id,
                auth_time: s.created_at,
                cookie_hmac: s.cookie_hmac.clone(),
                amr: s.amr.clone(),
                live: true,
            },
            user_id: user.user_id,
            tenant_id: user.tenant_id,
            partner_id: user.partner_id,
            subject: Subject {
                tenant_id: user.tenant_id,
                partner_id: user.partner_id,
                user_active: user.status == Status::Active,
                tenant_active: user.tenant_status.is_none_or(|t| t == Status::Active),
                partner_active: user.partner_status.is_none_or(|p| p == Status::Active),
            },
        }
    }
}

fn subject(u: &SignInUser) -> Subject {
    Subject {
        tenant_id: u.tenant_id,
        partner_id: u.partner_id,
        user_active: u.user_active,
        tenant_active: u.tenant_active,
        partner_active: u.partner_active,
    }
}

/// `user`, if they may still sign in to `app` (a grant speaks for them).
fn admitted(app: &Application, user: Option<SignInUser>) -> Result<SignInUser, OAuthError> {
    match user {
        Some(u) if signin::admits(app, &subject(&u)).is_ok() => Ok(u),
        _ => Err(OAuthError::InvalidGrant("The user may no longer sign in".into())),
    }
}

impl OidcService {
    /// Wires the service to its ports.
    #[allow(clippy::too_many_arguments)] // One argument per port.
    pub fn new(
        apps: Arc<dyn ClientDirectory>,
        grants: Arc<dyn GrantRepository>,
        sessions: Arc<dyn SessionRepository>,
        tenants: Arc<dyn TenantRepository>,
        auth: Arc<AuthService>,
        secrets: Arc<dyn ClientSecrets>,
        sealer: Arc<dyn SecretSealer>,
        codec: Arc<dyn TokenCodec>,
        revocations: Arc<RevocationList>,
        audit: Arc<dyn AuditSink>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        settings: OidcSettings,
    ) -> Self {
        Self {
            apps,
            grants,
            sessions,
            tenants,
            auth,
            secrets,
            sealer,
            codec,
            revocations,
            audit,
            clock,
            ids,
            settings,
            origins: std::sync::Mutex::default(),
            federation: None,
            cimd: None,
            claims: claims_cache::ClaimsCache::new(std::time::Duration::ZERO),
        }
    }

    /// Lets userinfo remember each person's claims for `ttl` (`SCAIKEY_USERINFO_CACHE_MILLIS`;
    /// access is still checked on every call, see [`claims_cache`]).
    #[must_use]
    pub fn with_claims_cache(mut self, ttl: std::time::Duration) -> Self {
        self.claims = claims_cache::ClaimsCache::new(ttl);
        self
    }

    /// Accepts client ID metadata documents (contract §12, `SCAIKEY_CIMD=on`).
    #[must_use]
    pub fn with_cimd(mut self, cimd: Arc<crate::registrations::cimd::CimdClients>) -> Self {
        self.cimd = Some(cimd);
        self
    }

    /// For a `client_id` that is a metadata document URL no application has yet: registers
    /// it (or reads its registration's state); the error page when it cannot be used yet.
    async fn document_client(&self, params: &Params, meta: &RequestMeta) -> Result<Option<Outcome>, AppError> {
        use crate::registrations::cimd::CimdOutcome;
        let Some(cimd) = &self.cimd else { return Ok(None) };
        let Ok(client_id) = authorize::client_id(params) else { return Ok(None) };
        if !cimd.handles(client_id) || self.client(client_id).await?.is_some() {
            return Ok(None);
        }
        Ok(match cimd.resolve(client_id, meta).await? {
            CimdOutcome::Ready => None,
            CimdOutcome::Pending => Some(Outcome::ErrorPage(
                "This application is registered and waits for an administrator's approval. Try again once it is approved."
                    .into(),
            )),
            CimdOutcome::Refused(text) => Some(Outcome::ErrorPage(text)),
        })
    }

    /// Adds sign-in through tenants' identity providers (contract §11).
    #[must_use]
    pub fn with_federation(mut self, federation: federated::Federation) -> Self {
        self.federation = Some(federation);
        self
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    fn seal(&self, i: &Interaction) -> Result<String, AppError> {
        let body = json!({"p": i.params, "t": i.started_at.timestamp()});
        crate::sealed::seal(self.sealer.as_ref(), body.to_string().as_bytes(), INTERACTION_AAD)
    }

    /// Opens a sealed interaction; `None` when tampered with, foreign or expired.
    fn open(&self, sealed: &str) -> Option<Interaction> {
        let plain = crate::sealed::open(self.sealer.as_ref(), sealed, INTERACTION_AAD)?;
        let v: Value = serde_json::from_slice(&plain).ok()?;
        let params: Vec<(String, String)> = serde_json::from_value(v.get("p")?.clone()).ok()?;
        let started_at = DateTime::from_timestamp(v.get("t")?.as_i64()?, 0)?;
        (self.clock.now() - started_at <= self.settings.interaction_ttl).then_some(Interaction { params, started_at })
    }

    async fn client(&self, client_id: &str) -> Result<Option<Application>, AppError> {
        Ok(self.apps.by_client_id(client_id).await?.map(|a| a.0.clone()))
    }

    /// The live session `id` (not expired, not revoked, in the revocation list or not), whoever
    /// asks: for the console, whose own sealed cookie names it.
    pub(crate) async fn live_session(
        &self,
        id: SessionId,
    ) -> Result<Option<crate::ports::oidc::BrowserSession>, AppError> {
        let s = self.grants.browser_session(id, self.clock.now()).await?;
        Ok(s.filter(|s| s.live && !self.revocations.is_revoked(s.id)))
    }

    /// The browser's live session, if its cookie proves one.
    pub(crate) async fn browser(
        &self,
        cookie: Option<&SessionCookie>,
    ) -> Result<Option<crate::ports::oidc::BrowserSession>, AppError> {
        let Some(c) = cookie else { return Ok(None) };
        let Some(s) = self.grants.browser_session(c.session_id, self.clock.now()).await? else { return Ok(None) };
        let proven = s.cookie_hmac.as_deref().is_some_and(|h| self.secrets.verify(&c.secret, h));
        Ok((proven && s.live && !self.revocations.is_revoked(s.id)).then_some(s))
    }

    /// `GET /oauth/authorize`: checks the request and decides the next step.
    pub async fn authorize(
        &self,
        params: Params,
        cookie: Option<&SessionCookie>,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        if let Some(page) = self.document_client(&params, meta).await? {
            return Ok(page);
        }
        let i = Interaction { params: params.pairs().to_vec(), started_at: self.clock.now() };
        self.advance(i, cookie, false, meta).await
    }

    /// Continues a sealed interaction (after login).
    pub async fn resume(
        &self,
        sealed: &str,
        cookie: Option<&SessionCookie>,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        match self.open(sealed) {
            Some(i) => self.advance(i, cookie, false, meta).await,
            None => Ok(expired()),
        }
    }

    async fn advance(
        &self,
        i: Interaction,
        cookie: Option<&SessionCookie>,
        consented_now: bool,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        let who = match self.browser(cookie).await? {
            Some(s) => self.grants.sign_in_user(s.user_id).await?.map(|u| SessionUser::read(s, &u)),
            None => None,
        };
        self.advance_as(i, who, consented_now, meta).await
    }

    /// [`Self::advance`] with the browser's session and its user already known (`None`: no
    /// live session).
    async fn advance_as(
        &self,
        i: Interaction,
        who: Option<SessionUser>,
        consented_now: bool,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        let (app, req) = match self.recheck(&i).await? {
            Ok(checked) => checked,
            Err(page) => return Ok(page),
        };
        // The session counts only if its user may sign in to this application; a user of
        // another tenant is asked to sign in as someone who may.
        let mut facts = None;
        let mut user = None;
        if let Some(u) = who
            && let Ok(admission) = signin::admits(&app, &u.subject)
        {
            if admission == Admission::NeedsAssignment
                && signin::assignment(self.grants.is_effective_user(app.id, u.user_id).await?).is_err()
            {
                return Ok(self.reply_error(&req.reply, "access_denied", "The user may not use this application"));
            }
            facts = Some(SessionFacts { auth_time: u.session.auth_time, fresh: u.session.auth_time >= i.started_at });
            user = Some(u);
        }
        let consented = match &user {
            Some(u) if !app.first_party && !consented_now => {
                interaction::covers(&self.grants.consent(u.user_id, app.id).await?, &req.scopes)
            }
            _ => true,
        };
        let step = interaction::next_step(
            facts,
            req.prompt,
            req.max_age,
            self.clock.now(),
            app.first_party,
            consented,
            consented_now,
        );
        match step {
            Err(silent) => Ok(self.reply_error(&req.reply, silent.code(), "The user must interact")),
            Ok(Step::Login) => match i.params.iter().find(|(k, _)| k == "idp") {
                // `idp=idp_…` goes straight to that identity provider.
                Some((_, idp)) => self.to_upstream(&app, &req, &i, idp, meta).await,
                None => Ok(Outcome::Login(self.login_view(&app, &req, &i, None).await?)),
            },
            Ok(Step::Consent) => Ok(Outcome::Consent(ConsentView {
                interaction: self.seal(&i)?,
                client_name: app.name.clone(),
                scopes: req.scopes.clone(),
            })),
            Ok(Step::Issue) => {
                let Some(u) = user else { return Ok(expired()) };
                self.issue_code(&app, &req, &u, meta).await.map(Outcome::Reply)
            }
        }
    }

    /// Re-checks the request of an interaction: its client and every rule, as on the first
    /// step (a client suspended meanwhile stops it). `Err` is what the browser sees instead.
    async fn recheck(&self, i: &Interaction) -> Result<Result<(Application, AuthorizationRequest), Outcome>, AppError> {
        let params = Params::new(i.params.clone());
        let app = match authorize::client_id(&params) {
            Ok(c) => self.client(c).await?,
            Err(e) => return Ok(Err(self.refusal(e))),
        };
        let req = match authorize::check(&params, app.as_ref()) {
            Ok(r) => r,
            Err(e) => return Ok(Err(self.refusal(e))),
        };
        Ok(app.map(|a| (a, req)).ok_or_else(expired))
    }

    async fn login_view(
        &self,
        app: &Application,
        req: &AuthorizationRequest,
        i: &Interaction,
        error: Option<String>,
    ) -> Result<LoginView, AppError> {
        let branding = match app.tenant_id {
            Some(t) => self
                .tenants
                .get(t)
                .await?
                .map(|t| scaikey_domain::tenant::PageBranding::from_document(&t.branding))
                .unwrap_or_default(),
            None => scaikey_domain::tenant::PageBranding::default(),
        };
        let identity_providers = self.buttons(app, req).await?;
        Ok(LoginView {
            identity_providers,
            branding,
            interaction: self.seal(i)?,
            client_name: app.name.clone(),
            login_hint: req.login_hint.clone(),
            tenant_hint: req.tenant_hint.clone(),
            ask_tenant: app.scope != scaikey_domain::scope::ScopeLevel::Tenant,
            error,
            retry_after: None,
        })
    }

    fn refusal(&self, e: AuthorizeError) -> Outcome {
        match e {
            AuthorizeError::Page(m) => Outcome::ErrorPage(m),
            AuthorizeError::Reply { to, error, description } => self.reply_error(&to, error, &description),
        }
    }

    fn reply_error(&self, to: &ReplyTo, error: &str, description: &str) -> Outcome {
        let mut params =
            vec![("error".to_string(), error.to_string()), ("error_description".into(), description.into())];
        self.finish(to, &mut params);
        Outcome::Reply(Reply { redirect_uri: to.redirect_uri.clone(), mode: to.response_mode, params })
    }

    fn finish(&self, to: &ReplyTo, params: &mut Vec<(String, String)>) {
        if let Some(s) = &to.state {
            params.push(("state".into(), s.clone()));
        }
        params.push(("iss".into(), self.settings.issuer.clone()));
    }

    async fn issue_code(
        &self,
        app: &Application,
        req: &AuthorizationRequest,
        user: &SessionUser,
        meta: &RequestMeta,
    ) -> Result<Reply, AppError> {
        let session = &user.session;
        let (code, code_hmac) = self.secrets.generate().map_err(AppError::Internal)?;
        let now = self.clock.now();
        self.grants
            .insert_code(&NewCode {
                code_hmac,
                application_id: app.id,
                client_id: app.client_id.clone(),
                user_id: user.user_id,
                session_id: session.id,
                redirect_uri: req.reply.redirect_uri.clone(),
                scopes: req.scopes.clone(),
                resource: req.resource.clone(),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.as_ref().map(|c| c.as_str().to_string()),
                auth_time: session.auth_time,
                amr: session.amr.clone(),
                issued_at: now,
            })
            .await?;
        self.audit.submit(
            AuditRecord {
                actor_type: scaikey_domain::audit::ActorType::User,
                actor_id: Some(user.user_id.to_string()),
                ..AuditRecord::anonymous(meta, action::OAUTH_AUTHORIZE, "application", AuditResult::Success)
            }
            .resource(app.id)
            .within(user.tenant_id, user.partner_id)
            .details(json!({"client_id": app.client_id, "scope": req.scopes.join(" "), "session_id": session.id.to_string()})),
            now,
        );
        let mut params = vec![("code".to_string(), code)];
        self.finish(&req.reply, &mut params);
        Ok(Reply { redirect_uri: req.reply.redirect_uri.clone(), mode: req.reply.response_mode, params })
    }

    /// `POST /login`: checks the credentials for the pending request's application and opens
    /// an SSO session.
    pub async fn login(
        &self,
        sealed: &str,
        email: &str,
        password: &str,
        tenant: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<LoginResult, AppError> {
        let Some(i) = self.open(sealed) else { return Ok(LoginResult::Done(expired())) };
        let (app, req) = match self.recheck(&i).await? {
            Ok(checked) => checked,
            Err(page) => return Ok(LoginResult::Done(page)),
        };
        let tenant_id = match tenant.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => match self.grants.tenant_by_slug_or_id(t).await? {
                Some(id) => Some(id),
                None => {
                    let msg = "Invalid credentials".to_string();
                    return Ok(LoginResult::Again(self.login_view(&app, &req, &i, Some(msg)).await?));
                }
            },
            None => None,
        };
        let login = LoginRequest { email: email.to_string(), password: password.to_string(), tenant_id, code: None };
        // Outside the application's tenants is a wrong password; statuses are the password
        // check's own (same answer).
        let placed = |c: &crate::ports::LoginCandidate| Subject {
            tenant_id: c.tenant_id,
            partner_id: c.partner_id,
            user_active: true,
            tenant_active: true,
            partner_active: true,
        };
        let admit = |c: &crate::ports::LoginCandidate| signin::admits(&app, &placed(c)).is_ok();
        let (user, record) = match self.auth.check_password(login, meta, admit).await {
            Ok(checked) => checked,
            Err(AppError::Unauthenticated(m)) => {
                return Ok(LoginResult::Again(self.login_view(&app, &req, &i, Some(m.to_string())).await?));
            }
            Err(AppError::Throttled(seconds)) => {
                let mut v = self.login_view(&app, &req, &i, Some(wait_message(seconds))).await?;
                v.retry_after = Some(seconds);
                return Ok(LoginResult::Again(v));
            }
            Err(e) => return Err(e),
        };
        if let Ok(Admission::NeedsAssignment) = signin::admits(&app, &placed(&user))
            && let Err(SignInRefusal::NotAssigned) =
                signin::assignment(self.grants.is_effective_user(app.id, user.user_id).await?)
        {
            return Ok(LoginResult::Done(self.reply_error(
                &req.reply,
                "access_denied",
                "The user may not use this application",
            )));
        }
        if let Some(step) = self.begin_second_step(&user, After::Interaction(sealed.to_string())).await? {
            return Ok(LoginResult::SecondStep(step));
        }
        self.auth.completed(email, record).await?;
        let (cookie, expires_at, who) = self.open_browser_session_via(&user, meta, vec!["pwd".into()], None).await?;
        // On with the session just opened (no need to read it back).
        let next = self.advance_as(i, Some(who), false, meta).await?;
        Ok(LoginResult::SignedIn { cookie, expires_at, next })
    }

    fn seal_pending(&self, p: &PendingLogin) -> Result<String, AppError> {
        let after = match &p.after {
            After::Interaction(i) => i.as_str(),
            After::Account => "",
        };
        let body = json!({"u": p.user_id.to_string(), "e": p.email, "a": after, "s": p.setup, "k": p.enrol_passkey, "t": p.at.timestamp()});
        crate::sealed::seal(self.sealer.as_ref(), body.to_string().as_bytes(), PENDING_AAD)
    }

    /// Opens a sealed pending login; `None` when tampered with, foreign or older than the
    /// interaction lifetime.
    fn open_pending(&self, sealed: &str) -> Option<PendingLogin> {
        let plain = crate::sealed::open(self.sealer.as_ref(), sealed, PENDING_AAD)?;
        let v: Value = serde_json::from_slice(&plain).ok()?;
        let at = DateTime::from_timestamp(v.get("t")?.as_i64()?, 0)?;
        let after = match v.get("a")?.as_str()? {
            "" => After::Account,
            i => After::Interaction(i.to_string()),
        };
        let p = PendingLogin {
            user_id: v.get("u")?.as_str()?.parse().ok()?,
            email: v.get("e")?.as_str()?.to_string(),
            after,
            setup: v.get("s").and_then(Value::as_str).map(str::to_string),
            enrol_passkey: v.get("k").and_then(Value::as_bool).unwrap_or(false),
            at,
        };
        (self.clock.now() - at <= self.settings.interaction_ttl).then_some(p)
    }

    /// The second step `user` needs after a correct password, if any (contract §10): a code
    /// when a factor is enrolled, enrolment when the tenant requires one and none is.
    pub(crate) async fn begin_second_step(
        &self,
        user: &crate::ports::LoginCandidate,
        after: After,
    ) -> Result<Option<SecondStepView>, AppError> {
        let (kind, setup) = match self.auth.mfa().next(user) {
            SecondFactor::None => return Ok(None),
            SecondFactor::Verify(_) => (StepKind::Code, None),
            // A tenant that offers passkeys only (on a server that can use them) gets a passkey
            // created here; any other an authenticator app.
            SecondFactor::Enrol(offered)
                if !offered.contains(&Method::Totp)
                    && offered.contains(&Method::Webauthn)
                    && self.auth.mfa().passkeys_available() =>
            {
                let prompt = self.auth.mfa().begin_passkey(user, &user.email).await?;
                (StepKind::EnrolPasskey(prompt), None)
            }
            SecondFactor::Enrol(_) => {
                let setup = self.auth.mfa().begin_totp(user.user_id, &user.email)?;
                (StepKind::Enrol(setup.clone()), Some(setup.sealed))
            }
        };
        let pending = self.seal_pending(&PendingLogin {
            user_id: user.user_id,
            email: user.email.to_lowercase(),
            after,
            setup,
            enrol_passkey: matches!(kind, StepKind::EnrolPasskey(_)),
            at: self.clock.now(),
        })?;
        match kind {
            StepKind::Code => self.code_step(user, pending, None, None).await.map(Some),
            kind => {
                Ok(Some(SecondStepView { pending, kind, code: true, passkey: None, error: None, retry_after: None }))
            }
        }
    }

    /// The code step of `user`'s pending login: a code field when the user has an
    /// authenticator app, and a new passkey challenge when the user has passkeys.
    async fn code_step(
        &self,
        user: &crate::ports::LoginCandidate,
        pending: String,
        error: Option<String>,
        retry_after: Option<i64>,
    ) -> Result<SecondStepView, AppError> {
        let passkey = if user.mfa_methods.contains(&Method::Webauthn) {
            self.auth.mfa().passkey_prompt(user.user_id).await?
        } else {
            None
        };
        // Recovery codes come with an authenticator app; without passkeys they are all there is.
        let code = user.mfa_methods.contains(&Method::Totp) || passkey.is_none();
        Ok(SecondStepView { pending, kind: StepKind::Code, code, passkey, error, retry_after })
    }

    /// `POST /login/second-factor`: checks the code of a pending login (or confirms the
    /// enrolment it carries) and opens the SSO session with the `amr` it earned.
    pub async fn second_step(
        &self,
        sealed: &str,
        answer: StepAnswer<'_>,
        meta: &RequestMeta,
    ) -> Result<StepResult, AppError> {
        let Some(p) = self.open_pending(sealed) else { return Ok(StepResult::Expired) };
        let Some(user) = self.auth.candidate(p.user_id).await? else { return Ok(StepResult::Expired) };
        let again = |kind: StepKind, error: String, retry_after: Option<i64>| {
            Ok(StepResult::Again(SecondStepView {
                pending: sealed.to_string(),
                kind,
                code: true,
                passkey: None,
                error: Some(error),
                retry_after,
            }))
        };
        let code_again = async |error: String, retry_after: Option<i64>| {
            self.code_step(&user, sealed.to_string(), Some(error), retry_after).await.map(StepResult::Again)
        };
        if p.enrol_passkey {
            return self.enrol_passkey_step(&user, p, sealed, answer, meta).await;
        }
        let code = match answer {
            StepAnswer::Code(c) => c,
            StepAnswer::Passkey { challenge, response } if p.setup.is_none() => {
                return match self.auth.mfa().verify_passkey(user.user_id, &p.email, challenge, response, meta).await {
                    Ok(true) => {
                        self.auth.completed(&p.email, Record::UNKNOWN).await?;
                        let amr = crate::mfa::UsedFactor::Passkey.amr();
                        let (cookie, expires_at) = self.open_browser_session(&user, meta, amr).await?;
                        Ok(StepResult::SignedIn { cookie, expires_at, after: p.after, recovery_codes: None })
                    }
                    Ok(false) => {
                        self.auth.audit_refusal(meta, &p.email, "wrong second factor");
                        code_again(crate::mfa::PASSKEY_REFUSED.into(), None).await
                    }
                    Err(AppError::Throttled(s)) => code_again(wait_message(s), Some(s)).await,
                    Err(e) => Err(e),
                };
            }
            // A passkey answer to an authenticator-app setup: the setup again.
            StepAnswer::Passkey { .. } => "",
        };
        let (amr, recovery_codes) = match &p.setup {
            Some(setup) => match self.auth.mfa().confirm_totp(&user, setup, code, meta).await {
                Ok(Some(codes)) => (crate::mfa::UsedFactor::Totp.amr(), Some(codes)),
                // The page again (its setup opened only now, for the wrong code), or start over
                // when the setup was not sealed for this user.
                Ok(None) => match self.auth.mfa().reopen_totp(user.user_id, &user.email, setup) {
                    Some(view) => return again(StepKind::Enrol(view), crate::mfa::CODE_MISMATCH.into(), None),
                    None => return Ok(StepResult::Expired),
                },
                // Enrolled meanwhile (another tab): sign in with a code instead.
                Err(AppError::Conflict(_)) => {
                    let msg = "An authenticator app is already set up. Enter its code.";
                    return code_again(msg.into(), None).await;
                }
                Err(e) => return Err(e),
            },
            None => match self.auth.mfa().verify(user.user_id, &p.email, code, meta).await {
                Ok(Some(used)) => (used.amr(), None),
                Ok(None) => {
                    self.auth.audit_refusal(meta, &p.email, "wrong second factor");
                    return code_again("That code is not valid.".into(), None).await;
                }
                Err(AppError::Throttled(s)) => return code_again(wait_message(s), Some(s)).await,
                Err(e) => return Err(e),
            },
        };
        self.auth.completed(&p.email, Record::UNKNOWN).await?;
        let (cookie, expires_at) = self.open_browser_session(&user, meta, amr).await?;
        Ok(StepResult::SignedIn { cookie, expires_at, after: p.after, recovery_codes })
    }

    /// The forced passkey creation of a pending login: signed in once the passkey is stored,
    /// else the page again with a new challenge.
    async fn enrol_passkey_step(
        &self,
        user: &crate::ports::LoginCandidate,
        p: PendingLogin,
        sealed: &str,
        answer: StepAnswer<'_>,
        meta: &RequestMeta,
    ) -> Result<StepResult, AppError> {
        let refusal = match answer {
            StepAnswer::Passkey { challenge, response } => {
                match self.auth.mfa().confirm_passkey(user, challenge, "", response, meta).await {
                    Ok(true) => {
                        self.auth.completed(&p.email, Record::UNKNOWN).await?;
                        let amr = crate::mfa::UsedFactor::Passkey.amr();
                        let (cookie, expires_at) = self.open_browser_session(user, meta, amr).await?;
                        return Ok(StepResult::SignedIn { cookie, expires_at, after: p.after, recovery_codes: None });
                    }
                    Ok(false) => crate::mfa::PASSKEY_REFUSED.to_string(),
                    Err(AppError::Conflict(m)) => m,
                    Err(e) => return Err(e),
                }
            }
            StepAnswer::Code(_) => crate::mfa::PASSKEY_REFUSED.to_string(),
        };
        let prompt = self.auth.mfa().begin_passkey(user, &user.email).await?;
        Ok(StepResult::Again(SecondStepView {
            pending: sealed.to_string(),
            kind: StepKind::EnrolPasskey(prompt),
            code: false,
            passkey: None,
            error: Some(refusal),
            retry_after: None,
        }))
    }

    /// Opens an SSO session for a user whose password was checked: the session row with the
    /// keyed hash of a new cookie secret, and its audit record. Answers the cookie and its end.
    pub(crate) async fn open_browser_session(
        &self,
        user: &crate::ports::LoginCandidate,
        meta: &RequestMeta,
        amr: Vec<String>,
    ) -> Result<(SessionCookie, DateTime<Utc>), AppError> {
        let (cookie, expires_at, _) = self.open_browser_session_via(user, meta, amr, None).await?;
        Ok((cookie, expires_at))
    }

    /// [`Self::open_browser_session`], for a sign-in through identity provider `idp` when given.
    pub(crate) async fn open_browser_session_via(
        &self,
        user: &crate::ports::LoginCandidate,
        meta: &RequestMeta,
        amr: Vec<String>,
        idp: Option<scaikey_domain::id::IdentityProviderId>,
    ) -> Result<(SessionCookie, DateTime<Utc>, SessionUser), AppError> {
        let (secret, cookie_hmac) = self.secrets.generate().map_err(AppError::Internal)?;
        let session = self.auth.new_session(user, meta, Some(cookie_hmac), self.clock.now(), amr);
        self.auth.open_via(user, &session, meta, idp).await?;
        let who = SessionUser::opened(&session, user);
        Ok((SessionCookie { session_id: session.id, secret }, session.expires_at, who))
    }

    /// `POST /consent`: records the person's answer and continues.
    pub async fn consent(
        &self,
        sealed: &str,
        cookie: Option<&SessionCookie>,
        approve: bool,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        let Some(i) = self.open(sealed) else { return Ok(expired()) };
        let (app, req) = match self.recheck(&i).await? {
            Ok(checked) => checked,
            Err(page) => return Ok(page),
        };
        let Some(session) = self.browser(cookie).await? else {
            return self.advance(i, cookie, false, meta).await;
        };
        if !approve {
            return Ok(self.reply_error(&req.reply, "access_denied", "The user declined"));
        }
        self.grants.grant_consent(session.user_id, app.id, &req.scopes, self.clock.now()).await?;
        self.advance(i, cookie, true, meta).await
    }

    /// The `authorization_code` grant.
    pub async fn authorization_code(
        &self,
        client_id: &str,
        secret: Option<&str>,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<GrantedTokens, OAuthError> {
        let found = authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), client_id, secret).await?;
        let app = &found.0;
        if !app.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(OAuthError::UnauthorizedClient);
        }
        let hmac = self.secrets.digest(code);
        let now = self.clock.now();
        let Some(stored) = self.grants.code(&hmac, now).await.map_err(repo_error)? else {
            return Err(OAuthError::InvalidGrant("Unknown authorization code".into()));
        };
        let c = &stored.code;
        let decision = grant::redeem(
            &CodeGrant {
                client_id: c.client_id.clone(),
                redirect_uri: c.redirect_uri.clone(),
                code_challenge: c.code_challenge.clone().map(CodeChallenge::from_stored),
                issued_at: c.issued_at,
                used_at: stored.used_at,
            },
            now,
            client_id,
            redirect_uri,
            verifier,
        );
        if let Err(refusal) = decision {
            if refusal == grant::CodeRefusal::Reused {
                return Err(self.code_reused(app, &hmac, c.session_id, meta).await);
            }
            return Err(OAuthError::InvalidGrant(refusal.describe().into()));
        }
        let user = admitted(app, stored.user.clone())?;
        if !stored.session_live || self.revocations.is_revoked(c.session_id) {
            return Err(OAuthError::InvalidGrant("The sign-in session has ended".into()));
        }
        let family = self.ids.next();
        let bound = match grant::binding(&c.scopes, c.session_id) {
            grant::Binding::Session(s) => Some(s),
            grant::Binding::Offline => None,
        };
        let refresh = self.new_refresh(
            app,
            &user,
            bound,
            &c.scopes,
            c.resource.clone(),
            c.auth_time,
            &c.amr,
            (self.ids.next(), family),
        )?;
        let won =
            self.grants.redeem_code(&hmac, now, refresh.as_ref().map(|(_, r)| r.clone())).await.map_err(repo_error)?;
        if !won {
            // Another request redeemed it between our read and write: a reuse.
            return Err(self.code_reused(app, &hmac, c.session_id, meta).await);
        }
        let tokens = self
            .tokens(
                app,
                &user,
                c.session_id,
                &c.scopes,
                c.resource.clone(),
                c.auth_time,
                &c.amr,
                c.nonce.clone(),
                refresh.map(|(t, _)| t),
            )
            .await?;
        self.audit_grant(
            app,
            meta,
            action::AUTH_TOKEN,
            AuditResult::Success,
            json!({"grant_type": "authorization_code", "user_id": user.user_id.to_string(), "scope": tokens.scope}),
        );
        Ok(tokens)
    }

    /// The JSON login (contract §2): [`AuthService::login`], and when the built-in client
    /// [`ADMIN_LOGIN_CLIENT_ID`] is there and active, a refresh token bound to the new session
    /// (stored with it). Refreshing it at the token endpoint yields an admin token again.
    pub async fn admin_login(
        &self,
        req: LoginRequest,
        meta: &RequestMeta,
    ) -> Result<(crate::auth::IssuedToken, Option<String>), AppError> {
        let app = self.apps.by_client_id(ADMIN_LOGIN_CLIENT_ID).await?;
        let app = app.map(|found| found.0.clone());
        let seed =
            match app.filter(|a| a.status == Status::Active && a.grant_types.iter().any(|g| g == "refresh_token")) {
                Some(a) => {
                    let id = self.ids.next();
                    let (token, token_hmac) = self.refresh_secret(id).map_err(AppError::Internal)?;
                    let seed = RefreshSeed {
                        id,
                        token_hmac,
                        application_id: a.id,
                        client_id: a.client_id,
                        ttl: self.settings.refresh_ttl,
                    };
                    Some((token, seed))
                }
                None => None,
            };
        let (token, seed) = seed.unzip();
        let issued = self.auth.login_with_refresh(req, meta, seed).await?;
        Ok((issued, token))
    }

    /// The `refresh_token` grant: rotates the token (reuse within the grace gets a new pair
    /// once; any other reuse revokes the family).
    pub async fn refresh_token(
        &self,
        client_id: &str,
        secret: Option<&str>,
        token: &str,
        scope: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<GrantedTokens, OAuthError> {
        self.refresh(client_id, secret, token, scope, meta, false).await
    }

    /// The `refresh_token` grant of a request naming no client: only the JSON login's tokens
    /// (the client [`ADMIN_LOGIN_CLIENT_ID`]) may be refreshed so; any other is `invalid_client`,
    /// as it would be without this.
    pub async fn refresh_login_token(
        &self,
        token: &str,
        scope: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<GrantedTokens, OAuthError> {
        self.refresh(ADMIN_LOGIN_CLIENT_ID, None, token, scope, meta, true).await
    }

    async fn refresh(
        &self,
        client_id: &str,
        secret: Option<&str>,
        token: &str,
        scope: Option<&str>,
        meta: &RequestMeta,
        unnamed_client: bool,
    ) -> Result<GrantedTokens, OAuthError> {
        let found = authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), client_id, secret).await?;
        let app = &found.0;
        if !app.grant_types.iter().any(|g| g == "refresh_token") {
            return Err(OAuthError::UnauthorizedClient);
        }
        let now = self.clock.now();
        let stored = self.stored_refresh(token, now).await?;
        if unnamed_client && stored.as_ref().is_none_or(|s| s.token.client_id != client_id) {
            return Err(OAuthError::InvalidClient);
        }
        let Some(stored) = stored else {
            return Err(OAuthError::InvalidGrant("Unknown refresh token".into()));
        };
        let t = &stored.token;
        let state = RefreshGrant {
            client_id: t.client_id.clone(),
            expires_at: t.expires_at,
            revoked: stored.revoked_at.is_some() || !stored.session_live,
            rotated_at: stored.rotated_at,
            grace_used: stored.grace_used,
        };
        let how = match grant::refresh(&state, now, client_id, self.settings.refresh_grace) {
            Ok(RefreshUse::Rotate) => Replace::Current,
            Ok(RefreshUse::GraceReuse) => Replace::WithinGrace,
            Err(RefreshRefusal::ReuseDetected) => return Err(self.refresh_reused(app, t, meta).await),
            Err(r) => return Err(OAuthError::InvalidGrant(r.describe().into())),
        };
        // A narrower scope may be asked for; never a wider one.
        let scopes = scaikey_domain::oauth_scope::narrow(scope, &t.scopes)
            .map_err(|r| OAuthError::InvalidScope(r.describe()))?;
        // Read with the token: one query for what a refresh reads.
        let user = admitted(app, stored.user.clone())?;
        // An offline family is its own session: its tokens carry a `sid` no SSO session has, so
        // signing out of the browser leaves them be (contract §8).
        let session_id = t.session_id.unwrap_or_else(|| SessionId::generate_from(t.family_id));
        // The current token is replaced in its row; a grace reuse starts a row of its own.
        let row = match how {
            Replace::Current => t.id,
            Replace::WithinGrace => self.ids.next(),
        };
        let Some((refresh_token, new)) = self.new_refresh(
            app,
            &user,
            t.session_id,
            &scopes,
            t.resource.clone(),
            t.auth_time,
            &t.amr,
            (row, t.family_id),
        )?
        else {
            return Err(OAuthError::UnauthorizedClient);
        };
        if !self.grants.rotate(t.id, &t.token_hmac, how, now, new).await.map_err(repo_error)? {
            // A parallel request changed the token first: treat as a reuse of a spent token.
            return Err(self.refresh_reused(app, t, meta).await);
        }
        let tokens = match (app.client_id.as_str(), stored.session_ends_at) {
            // The JSON login's token: an admin token again, ending with its session.
            (ADMIN_LOGIN_CLIENT_ID, Some(ends)) => {
                let principal = Principal::User(UserPrincipal {
                    user_id: user.user_id,
                    session_id,
                    tenant_id: user.tenant_id,
                    partner_id: user.partner_id,
                    roles: user.roles,
                });
                let issued = self.auth.admin_token(principal, scopes.clone(), ends).map_err(server_error)?;
                GrantedTokens {
                    access_token: issued.access_token,
                    expires_in: issued.expires_in,
                    scope: scopes.join(" "),
                    refresh_token: Some(refresh_token),
                    id_token: None,
                }
            }
            (ADMIN_LOGIN_CLIENT_ID, None) => return Err(OAuthError::InvalidGrant("The session has ended".into())),
            _ => {
                self.tokens(
                    app,
                    &user,
                    session_id,
                    &scopes,
                    t.resource.clone(),
                    t.auth_time,
                    &t.amr,
                    None,
                    Some(refresh_token),
                )
                .await?
            }
        };
        self.audit_grant(
            app,
            meta,
            action::AUTH_TOKEN,
            AuditResult::Success,
            json!({"grant_type": "refresh_token", "user_id": user.user_id.to_string(), "scope": tokens.scope}),
        );
        Ok(tokens)
    }

    /// A code used twice (RFC 6749 §4.1.2): the sign-in it came from is taken as compromised.
    /// The refresh family its first use created is revoked and the SSO session it was issued in
    /// ended, so the access token it gave is refused too (it names that session); audit, refuse.
    async fn code_reused(
        &self,
        app: &Application,
        code_hmac: &[u8],
        session: SessionId,
        meta: &RequestMeta,
    ) -> OAuthError {
        let now = self.clock.now();
        let n = match self.grants.revoke_code_family(code_hmac, now).await {
            Ok(n) => n,
            Err(e) => return repo_error(e),
        };
        let rec = AuditRecord {
            actor_type: scaikey_domain::audit::ActorType::Application,
            actor_id: Some(app.id.to_string()),
            ..AuditRecord::anonymous(meta, action::SESSION_REVOKE, "session", AuditResult::Success)
        }
        .resource(session)
        .within(app.tenant_id, app.partner_id)
        .details(json!({"reason": "authorization code used twice", "client_id": app.client_id}));
        if let Err(e) = self.end_session(session, now, &rec).await {
            return repo_error(e);
        }
        let details = json!({"revoked_refresh_tokens": n, "session_ended": session.to_string()});
        self.audit_grant(app, meta, action::OAUTH_CODE_REUSE, AuditResult::Denied, details);
        OAuthError::InvalidGrant(grant::CodeRefusal::Reused.describe().into())
    }

    /// Ends SSO session `id` with its audit record, and refuses its access tokens in this
    /// process at once (others within the revocation window).
    async fn end_session(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
        rec: &AuditRecord,
    ) -> Result<(), crate::error::RepoError> {
        if let Some(ended) = self.sessions.revoke(id, now, rec).await? {
            self.revocations.add(&[EndedSession { id: ended.id, expires_at: ended.expires_at }]);
        }
        Ok(())
    }

    /// A replaced refresh token used again: revoke its family, audit, refuse.
    async fn refresh_reused(&self, app: &Application, t: &NewRefresh, meta: &RequestMeta) -> OAuthError {
        match self.grants.revoke_family(t.family_id, self.clock.now()).await {
            Ok(n) => {
                let details = json!({"revoked_refresh_tokens": n, "user_id": t.user_id.to_string()});
                self.audit_grant(app, meta, action::OAUTH_REFRESH_REUSE, AuditResult::Denied, details);
                OAuthError::InvalidGrant(RefreshRefusal::ReuseDetected.describe().into())
            }
            Err(e) => repo_error(e),
        }
    }

    /// Refresh token `token` as it stands in its row (see `GrantRepository::refresh_token`);
    /// its keyed hash is `token.token_hmac`.
    async fn stored_refresh(&self, token: &str, now: DateTime<Utc>) -> Result<Option<StoredRefresh>, OAuthError> {
        let hmac = self.secrets.digest(token);
        self.grants.refresh_token(refresh_handle::row_of(token), &hmac, now).await.map_err(repo_error)
    }

    /// A new refresh token for row `row` (see `refresh_handle`) and its keyed hash.
    fn refresh_secret(&self, row: Ulid) -> anyhow::Result<(String, Vec<u8>)> {
        let (secret, _) = self.secrets.generate()?;
        let token = refresh_handle::compose(row, &secret);
        let hmac = self.secrets.digest(&token);
        Ok((token, hmac))
    }

    /// A refresh token of `family` stored in row `row`, unless the application has no
    /// refresh grant.
    #[allow(clippy::too_many_arguments)]
    fn new_refresh(
        &self,
        app: &Application,
        user: &SignInUser,
        session: Option<SessionId>,
        scopes: &[String],
        resource: Option<String>,
        auth_time: DateTime<Utc>,
        amr: &[String],
        (row, family): (Ulid, Ulid),
    ) -> Result<Option<(String, NewRefresh)>, OAuthError> {
        if !app.grant_types.iter().any(|g| g == "refresh_token") {
            return Ok(None);
        }
        let (token, token_hmac) = self.refresh_secret(row).map_err(server_error)?;
        let now = self.clock.now();
        Ok(Some((
            token,
            NewRefresh {
                id: row,
                token_hmac,
                family_id: family,
                application_id: app.id,
                client_id: app.client_id.clone(),
                user_id: user.user_id,
                session_id: session,
                scopes: scopes.to_vec(),
                resource,
                auth_time,
                amr: amr.to_vec(),
                issued_at: now,
                expires_at: now + self.settings.refresh_ttl,
            },
        )))
    }

    #[allow(clippy::too_many_arguments)]
    async fn tokens(
        &self,
        app: &Application,
        user: &SignInUser,
        session: SessionId,
        scopes: &[String],
        resource: Option<String>,
        auth_time: DateTime<Utc>,
        amr: &[String],
        nonce: Option<String>,
        refresh_token: Option<String>,
    ) -> Result<GrantedTokens, OAuthError> {
        let now = self.clock.now();
        let access = AccessToken {
            principal: Principal::User(UserPrincipal {
                user_id: user.user_id,
                session_id: session,
                tenant_id: user.tenant_id,
                partner_id: user.partner_id,
                roles: user.roles,
            }),
            scope: scopes.to_vec(),
            audience: resource.unwrap_or_else(|| SCAIKEY_AUDIENCE.to_string()),
            client_id: Some(app.client_id.clone()),
            jti: self.ids.next(),
            issued_at: now,
            expires_at: now + Duration::seconds(app.token_lifetime),
            act: None,
        };
        let access_token = self.codec.sign(&access).map_err(server_error)?;
        let id_token = if scopes.iter().any(|s| s == "openid") {
            let groups = if claims::wants_groups(scopes) {
                self.grants.group_names(user.user_id).await.map_err(repo_error)?
            } else {
                Vec::new()
            };
            let profile = profile(user, groups);
            Some(self.id_token(app, &profile, session, scopes, auth_time, amr, nonce, &access_token, now)?)
        } else {
            None
        };
        Ok(GrantedTokens {
            access_token,
            expires_in: app.token_lifetime,
            scope: scopes.join(" "),
            refresh_token,
            id_token,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn id_token(
        &self,
        app: &Application,
        profile: &Profile,
        session: SessionId,
        scopes: &[String],
        auth_time: DateTime<Utc>,
        amr: &[String],
        nonce: Option<String>,
        access_token: &str,
        now: DateTime<Utc>,
    ) -> Result<String, OAuthError> {
        let mut c: Map<String, Value> = claims::user_claims(scopes, profile);
        let authn = claims::Authentication::of_session(amr);
        c.insert("aud".into(), json!(app.client_id));
        c.insert("azp".into(), json!(app.client_id));
        c.insert("iat".into(), json!(now.timestamp()));
        c.insert("exp".into(), json!((now + Duration::seconds(app.token_lifetime)).timestamp()));
        c.insert("auth_time".into(), json!(auth_time.timestamp()));
        c.insert("sid".into(), json!(session.to_string()));
        c.insert("amr".into(), json!(authn.amr()));
        c.insert("acr".into(), json!(authn.acr()));
        c.insert("at_hash".into(), json!(claims::left_hash(access_token)));
        if let Some(n) = nonce {
            c.insert("nonce".into(), json!(n));
        }
        self.codec.sign_id_token(&c, app.id_token_signed_response_alg).map_err(server_error)
    }

    fn audit_grant(
        &self,
        app: &Application,
        meta: &RequestMeta,
        action: &'static str,
        result: AuditResult,
        details: Value,
    ) {
        let mut d = details;
        if let Some(o) = d.as_object_mut() {
            o.insert("client_id".into(), json!(app.client_id));
        }
        self.audit.submit(
            AuditRecord {
                actor_type: scaikey_domain::audit::ActorType::Application,
                actor_id: Some(app.id.to_string()),
                ..AuditRecord::anonymous(meta, action, "token", result)
            }
            .resource(app.id)
            .within(app.tenant_id, app.partner_id)
            .details(d),
            self.clock.now(),
        );
    }

    /// `GET/POST /oauth/userinfo`: the claims of the token's scopes (OIDC Core §5.3).
    pub async fn userinfo(&self, bearer: &str) -> Result<Map<String, Value>, TokenRejection> {
        let token = self.codec.verify(bearer)?;
        let Principal::User(u) = &token.principal else { return Err(TokenRejection::WrongAudience) };
        if self.revocations.refuses(&token) {
            return Err(TokenRejection::Revoked);
        }
        if !token.scope.iter().any(|s| s == "openid") {
            return Err(TokenRejection::InsufficientScope);
        }
        let found =
            self.claims.claims_of(self.grants.as_ref(), u.user_id, claims::wants_groups(&token.scope)).await.map_err(
                |e| {
                    tracing::error!(error = %e, "userinfo lookup failed");
                    TokenRejection::Invalid
                },
            )?;
        let Some((user, groups)) = found.filter(|(x, _)| x.user_active && x.tenant_active && x.partner_active) else {
            return Err(TokenRejection::Revoked);
        };
        Ok(claims::user_claims(&token.scope, &profile(&user, groups.to_vec())))
    }
}

impl OidcService {
    /// RFC 7662 introspection by an authenticated client: a token issued to it, or whose `aud`
    /// names it (its client ID or one of its `allowed_resources`), shows its state; any other
    /// token is `active: false` (and the refusal is audited).
    pub async fn introspect(
        &self,
        client_id: &str,
        secret: Option<&str>,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<Introspection, OAuthError> {
        let found = authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), client_id, secret).await?;
        let app = &found.0;
        let now = self.clock.now();
        let inactive = Introspection::default();
        if let Ok(t) = self.codec.verify_any_audience(token) {
            let revoked = self.revocations.refuses(&t);
            let (issued_to, sub, tenant) = (t.issued_to(), t.subject(), t.principal.home().0);
            let sid = match &t.principal {
                Principal::User(u) => Some(u.session_id.to_string()),
                Principal::Client(_) | Principal::Agent(_) => None,
            };
            let by = scaikey_domain::delegation::Exchanger {
                client_id: &app.client_id,
                allowed_resources: &app.allowed_resources,
            };
            if !scaikey_domain::delegation::meant_for(issued_to.as_deref(), &t.audience, by) {
                self.audit_grant(
                    app,
                    meta,
                    action::OAUTH_INTROSPECT,
                    AuditResult::Denied,
                    json!({"reason": "token not meant for the client"}),
                );
                return Ok(inactive);
            }
            if revoked {
                return Ok(inactive);
            }
            return Ok(Introspection {
                active: true,
                token_type: Some("access_token"),
                scope: Some(t.scope.join(" ")),
                client_id: issued_to,
                sub: Some(sub),
                aud: Some(t.audience.clone()),
                iss: Some(self.settings.issuer.clone()),
                exp: Some(t.expires_at.timestamp()),
                iat: Some(t.issued_at.timestamp()),
                tenant_id: tenant.map(|x| x.to_string()),
                sid,
            });
        }
        let Some(r) = self.stored_refresh(token, now).await? else {
            return Ok(inactive);
        };
        if r.token.client_id != client_id {
            self.audit_grant(
                app,
                meta,
                action::OAUTH_INTROSPECT,
                AuditResult::Denied,
                json!({"reason": "token of another client"}),
            );
            return Ok(inactive);
        }
        let state = RefreshGrant {
            client_id: r.token.client_id.clone(),
            expires_at: r.token.expires_at,
            revoked: r.revoked_at.is_some() || !r.session_live,
            rotated_at: r.rotated_at,
            grace_used: r.grace_used,
        };
        if grant::refresh(&state, now, client_id, self.settings.refresh_grace).is_err() {
            return Ok(inactive);
        }
        Ok(Introspection {
            active: true,
            token_type: Some("refresh_token"),
            scope: Some(r.token.scopes.join(" ")),
            client_id: Some(r.token.client_id.clone()),
            sub: Some(r.token.user_id.to_string()),
            aud: None,
            iss: Some(self.settings.issuer.clone()),
            exp: Some(r.token.expires_at.timestamp()),
            iat: Some(r.token.issued_at.timestamp()),
            tenant_id: None,
            sid: r.token.session_id.map(|s| s.to_string()),
        })
    }

    /// RFC 7009 revocation of a refresh token (its whole family) by the client it was issued
    /// to. Unknown tokens and other clients' tokens change nothing and answer the same (§2.2).
    /// The client's own access tokens are self-contained and short-lived:
    /// `unsupported_token_type` (§2.2.1); revoking the refresh token or ending the session cuts
    /// them.
    pub async fn revoke(
        &self,
        client_id: &str,
        secret: Option<&str>,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<(), OAuthError> {
        let found = authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), client_id, secret).await?;
        let app = &found.0;
        let now = self.clock.now();
        if let Some(r) = self.stored_refresh(token, now).await? {
            if r.token.client_id == client_id {
                let n = self.grants.revoke_family(r.token.family_id, now).await.map_err(repo_error)?;
                self.audit_grant(
                    app,
                    meta,
                    action::OAUTH_REVOKE,
                    AuditResult::Success,
                    json!({"revoked_refresh_tokens": n, "user_id": r.token.user_id.to_string()}),
                );
            }
            return Ok(());
        }
        // Only the client's own access tokens are told apart: another client's answers like an
        // unknown token, or this endpoint would tell any client whether a token is genuine.
        if let Ok(t) = self.codec.verify_any_audience(token)
            && t.issued_to().as_deref() == Some(client_id)
        {
            return Err(OAuthError::UnsupportedTokenType);
        }
        Ok(())
    }

    /// RP-initiated logout (OIDC RP-Initiated Logout 1.0): ends the browser's SSO session (its
    /// refresh tokens die with it) and sends the browser on. The post-logout URI must be
    /// registered for the client named by `client_id` or the `id_token_hint`'s audience.
    pub async fn logout(
        &self,
        cookie: Option<&SessionCookie>,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<LogoutOutcome, AppError> {
        let hinted = id_token_hint.and_then(|h| self.codec.id_token_hint(h));
        let hinted_client = hinted.as_ref().and_then(|c| c.get("aud")).and_then(|a| a.as_str()).map(str::to_string);
        let client = client_id.map(str::to_string).or(hinted_client);
        // A request refused for its post-logout URI takes no effect: the session stays.
        if let Some(uri) = post_logout_redirect_uri {
            let registered = match &client {
                Some(c) => self.client(c).await?.is_some_and(|a| a.post_logout_redirect_uris.iter().any(|u| u == uri)),
                None => false,
            };
            if !registered {
                return Ok(LogoutOutcome::ErrorPage(
                    "The post_logout_redirect_uri is not registered for this client".into(),
                ));
            }
        }
        if let Some(s) = self.browser(cookie).await? {
            let now = self.clock.now();
            let rec = AuditRecord {
                actor_type: scaikey_domain::audit::ActorType::User,
                actor_id: Some(s.user_id.to_string()),
                ..AuditRecord::anonymous(meta, action::AUTH_LOGOUT, "session", AuditResult::Success)
            }
            .resource(s.id)
            .details(json!({"client_id": client}));
            self.end_session(s.id, now, &rec).await?;
        }
        let Some(uri) = post_logout_redirect_uri else { return Ok(LogoutOutcome::SignedOut) };
        let mut to = uri.to_string();
        if let Some(s) = state {
            let sep = if to.contains('?') { '&' } else { '?' };
            to.push(sep);
            to.push_str(&format!("state={}", urlencode(s)));
        }
        Ok(LogoutOutcome::Redirect(to))
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl OidcService {
    /// CORS: whether a browser at `origin` may call the token, userinfo and revocation
    /// endpoints — some live, active application lists it in `allowed_origins` (which client
    /// the request is for is not known before its body is read). Answers are cached a few
    /// seconds, so a single-page app's calls cost no query each.
    pub async fn origin_allowed(&self, origin: &str) -> bool {
        const TTL: std::time::Duration = std::time::Duration::from_secs(5);
        if let Some((at, ok)) = crate::sync::lock(&self.origins).get(origin)
            && at.elapsed() < TTL
        {
            return *ok;
        }
        let ok = match self.grants.origin_allowed(origin).await {
            Ok(ok) => ok,
            Err(e) => {
                tracing::warn!(error = %e, "origin check failed");
                return false;
            }
        };
        let mut cache = crate::sync::lock(&self.origins);
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(origin.to_string(), (std::time::Instant::now(), ok));
        ok
    }
}

fn profile(u: &SignInUser, groups: Vec<String>) -> Profile {
    Profile {
        subject: u.user_id.to_string(),
        tenant_id: u.tenant_id.map(|t| t.to_string()),
        email: u.email.clone(),
        email_verified: u.email_verified,
        given_name: u.first_name.clone(),
        family_name: u.last_name.clone(),
        display_name: u.display_name.clone(),
        groups,
        roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
    }
}

fn expired() -> Outcome {
    Outcome::ErrorPage("This sign-in has expired or is invalid. Go back to the application and try again.".into())
}

#[cfg(test)]
mod tests;

mod claims_cache;
pub mod federated;
