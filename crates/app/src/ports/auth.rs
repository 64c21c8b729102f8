//! Signing in and tokens: what login reads and writes, password hashing, the token codec and
//! owner-level token cutoffs.

use crate::error::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::principal::Principal;
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
use ulid::Ulid;

/// What login needs to know about a user, its tenant and partner.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginCandidate {
    /// The user.
    pub user_id: UserId,
    /// Its tenant.
    pub tenant_id: Option<TenantId>,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// The stored e-mail.
    pub email: String,
    /// Argon2id PHC string; `None` for users who cannot log in with a password.
    pub password_hash: Option<String>,
    /// Admin roles.
    pub roles: Roles,
    /// User status.
    pub status: Status,
    /// Tenant status (`None` without tenant).
    pub tenant_status: Option<Status>,
    /// Partner status (`None` without partner).
    pub partner_status: Option<Status>,
    /// Tenant settings (session timeout, MFA policy); `{}` without tenant.
    pub tenant_settings: serde_json::Value,
    /// The enrolled second factors.
    pub mfa_methods: Vec<scaikey_domain::mfa::Method>,
}

/// A session to open at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Its ID.
    pub id: SessionId,
    /// The user.
    pub user_id: UserId,
    /// The user's tenant.
    pub tenant_id: Option<TenantId>,
    /// Opening time.
    pub created_at: DateTime<Utc>,
    /// End of the session.
    pub expires_at: DateTime<Utc>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Keyed hash of the browser cookie's secret (hosted login); `None` for API logins.
    pub cookie_hmac: Option<Vec<u8>>,
    /// How the person authenticated (`amr`).
    pub amr: Vec<String>,
    /// A refresh token stored with the session in the same transaction (the JSON login's,
    /// bound to this session).
    pub refresh: Option<super::oidc::NewRefresh>,
}

/// User and session storage needed for authentication.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuthRepository: Send + Sync {
    /// Live users with this e-mail (case-insensitive): in `tenant` when given, else in any
    /// tenant or none.
    async fn login_candidates(&self, email: &str, tenant: Option<TenantId>) -> Result<Vec<LoginCandidate>, RepoError>;
    /// One live user as a login candidate (statuses included, so the caller can refuse).
    async fn candidate(&self, user: UserId) -> Result<Option<LoginCandidate>, RepoError>;
    /// Opens a session, stamps the user's `last_login_at` and stores the audit record, in one
    /// transaction.
    async fn open_session(&self, session: &NewSession, audit: &AuditRecord) -> Result<(), RepoError>;
    /// Creates a platform super admin unless an active one exists; `true` if created. MUST be
    /// safe when several processes start at once (at most one is created).
    async fn bootstrap_super_admin(
        &self,
        id: UserId,
        email: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;
}

/// Argon2id hashing, run off the async workers by the adapter.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string for `password`.
    async fn hash(&self, password: String) -> anyhow::Result<String>;
    /// `true` if `password` matches `phc`. A malformed `phc` is `Ok(false)`.
    async fn verify(&self, password: String, phc: String) -> anyhow::Result<bool>;
}

/// An access token's content, independent of its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// Whom it speaks for.
    pub principal: Principal,
    /// OAuth scopes granted.
    pub scope: Vec<String>,
    /// Whom it is meant for (`aud`): a resource indicator, or `scaikey` for ScaiKey's own APIs
    /// ([`scaikey_domain::oauth_scope::SCAIKEY_AUDIENCE`]).
    pub audience: String,
    /// For user tokens: the application it was issued to (`client_id`); `None` for tokens of
    /// ScaiKey's own login, the only user tokens the admin API accepts.
    pub client_id: Option<String>,
    /// Unique token ID.
    pub jti: Ulid,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Who acts for the subject (RFC 8693 `act`), on tokens made by token exchange.
    pub act: Option<scaikey_domain::delegation::Actor>,
}

impl AccessToken {
    /// The token's subject (`sub`): the user's ID, or the client ID of an application or agent.
    #[must_use]
    pub fn subject(&self) -> String {
        match &self.principal {
            Principal::User(u) => u.user_id.to_string(),
            Principal::Client(c) => c.client_id.clone(),
            Principal::Agent(a) => a.client_id.clone(),
        }
    }

    /// The OAuth client it was issued to: the application a user signed in to (none for
    /// ScaiKey's own login), or the client itself.
    #[must_use]
    pub fn issued_to(&self) -> Option<String> {
        match &self.principal {
            Principal::User(_) => self.client_id.clone(),
            Principal::Client(c) => Some(c.client_id.clone()),
            Principal::Agent(a) => Some(a.client_id.clone()),
        }
    }
}

/// Why a bearer token is refused (401, but 403 for [`TokenRejection::InsufficientScope`]); the
/// text is safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Not a JWT, unknown `kid`, bad signature, wrong algorithm.
    #[error("Invalid token")]
    Invalid,
    /// Past `exp`.
    #[error("Token has expired")]
    Expired,
    /// `iss` is not ours.
    #[error("Invalid token issuer")]
    WrongIssuer,
    /// `aud` names another resource: the token is not meant for this API.
    #[error("Token is not meant for this API")]
    WrongAudience,
    /// The session was revoked (or the user suspended, deleted or its password reset).
    #[error("Session has been revoked")]
    Revoked,
    /// Valid, but without the scope the endpoint needs (userinfo without `openid`): 403 with
    /// `insufficient_scope` where RFC 6750 §3.1 applies.
    #[error("The token lacks the scope this endpoint needs")]
    InsufficientScope,
}

/// Signs and verifies access tokens (JWT with a `kid`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// Encodes and signs as an RFC 9068 access token (`typ: at+jwt`, `aud` = `token.audience`).
    fn sign(&self, token: &AccessToken) -> anyhow::Result<String>;
    /// Verifies signature, `typ`, issuer and expiry, and decodes a token meant for ScaiKey's own
    /// APIs (`aud` = `scaikey`; any other audience is [`TokenRejection::WrongAudience`]).
    fn verify(&self, jwt: &str) -> Result<AccessToken, TokenRejection>;
    /// Verifies an access token like [`TokenCodec::verify`] whatever its audience (for
    /// introspection, which then decides who may see it).
    fn verify_any_audience(&self, jwt: &str) -> Result<AccessToken, TokenRejection>;
    /// The claims of an ID token this issuer signed, expired or not (`id_token_hint`); `None`
    /// for anything else.
    fn id_token_hint(&self, jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>>;
    /// Signs an OpenID Connect ID token (`typ: JWT`) with these claims (`iss` added) by `alg`.
    fn sign_id_token(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        alg: scaikey_domain::application::IdTokenAlg,
    ) -> anyhow::Result<String>;
}

/// Owner-level token cutoffs as stored (`domain::token_cutoff`); written by the repositories
/// of the changes that cut, inside their transactions.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CutoffRepository: Send + Sync {
    /// Every owner whose state changed at or after `since`, and every blocked owner, with the
    /// time of its last change.
    async fn changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<
        Vec<(scaikey_domain::token_cutoff::TokenOwner, scaikey_domain::token_cutoff::CutState, DateTime<Utc>)>,
        RepoError,
    >;
}
