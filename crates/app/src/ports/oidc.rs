//! Ports of the OpenID Connect provider: authorization codes, refresh tokens, consents and the
//! browser's SSO session. Codes and refresh tokens are stored only as keyed hashes
//! ([`crate::ports::ClientSecrets`]-style digests computed by the service); the repository never
//! sees a usable credential.
//!
//! The rules (a code's life, rotation and reuse, who may sign in) are the domain's
//! ([`scaikey_domain::oidc`]); these ports store outcomes with compare-and-set updates, so two
//! processes racing on one code or refresh token cannot both win.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::role::Roles;
use ulid::Ulid;

use crate::error::RepoError;

/// A code to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    /// Keyed hash of the code.
    pub code_hmac: Vec<u8>,
    /// The application.
    pub application_id: ApplicationId,
    /// Its client ID.
    pub client_id: String,
    /// The user who signed in.
    pub user_id: UserId,
    /// The SSO session.
    pub session_id: SessionId,
    /// The authorization request's redirect URI.
    pub redirect_uri: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// RFC 8707 resource (the access token's audience).
    pub resource: Option<String>,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// When the person authenticated.
    pub auth_time: DateTime<Utc>,
    /// `amr` of that authentication.
    pub amr: Vec<String>,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
}

/// A stored code, as it was before any redemption this call makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// What was stored.
    pub code: NewCode,
    /// When it was redeemed.
    pub used_at: Option<DateTime<Utc>>,
    /// Its SSO session is still open (not revoked, not expired at the time of the read).
    pub session_live: bool,
    /// The user it was issued to, read with it (as [`GrantRepository::sign_in_user`] would);
    /// `None` once deleted.
    pub user: Option<SignInUser>,
}

/// A refresh token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    /// Its row ID, which the token names.
    pub id: Ulid,
    /// Keyed hash of the token.
    pub token_hmac: Vec<u8>,
    /// The family: the first token of a grant and every token rotated from it.
    pub family_id: Ulid,
    /// The application.
    pub application_id: ApplicationId,
    /// Its client ID.
    pub client_id: String,
    /// The user.
    pub user_id: UserId,
    /// The SSO session it dies with (`None` with `offline_access`).
    pub session_id: Option<SessionId>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Audience of the access tokens it yields.
    pub resource: Option<String>,
    /// When the person authenticated.
    pub auth_time: DateTime<Utc>,
    /// `amr` of that authentication.
    pub amr: Vec<String>,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    /// What was stored.
    pub token: NewRefresh,
    /// When a newer token replaced the presented one.
    pub rotated_at: Option<DateTime<Utc>>,
    /// The presented token's one use within the reuse grace was spent.
    pub grace_used: bool,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its SSO session is still open (not revoked, not expired at the time of the read); always
    /// `true` for offline tokens.
    pub session_live: bool,
    /// When its SSO session ends (`None` for offline tokens and ended sessions).
    pub session_ends_at: Option<DateTime<Utc>>,
    /// The user it speaks for, read with it (as [`GrantRepository::sign_in_user`] would);
    /// `None` once deleted.
    pub user: Option<SignInUser>,
}

/// How a rotation replaces the presented token (compare-and-set on its state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// The row's current token: it becomes the previous one, `new` the current.
    Current,
    /// The row's previous token, within the grace: set `grace_used` if still unset and store
    /// `new` as a row of its own.
    WithinGrace,
}

/// A browser's SSO session, as the cookie check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    /// The session.
    pub id: SessionId,
    /// Its user.
    pub user_id: UserId,
    /// When the person authenticated (the session's opening).
    pub auth_time: DateTime<Utc>,
    /// Keyed hash of the cookie's secret (`None`: an API session, never a browser's).
    pub cookie_hmac: Option<Vec<u8>>,
    /// How the person authenticated.
    pub amr: Vec<String>,
    /// Not revoked and not expired at the time of the read.
    pub live: bool,
}

/// A consent as its person sees it in `/account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentSummary {
    /// The application.
    pub application_id: ApplicationId,
    /// Its name.
    pub application_name: String,
    /// The scopes consented to.
    pub scopes: Vec<String>,
    /// When last granted.
    pub granted_at: DateTime<Utc>,
}

/// A user as sign-in and the claims need them: profile and the statuses that decide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct SignInUser {
    /// The user.
    pub user_id: UserId,
    /// Its tenant.
    pub tenant_id: Option<TenantId>,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// E-mail.
    pub email: String,
    /// Whether the user proved the e-mail (a mailed link, or a provider that vouched for it).
    pub email_verified: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Admin roles.
    pub roles: Roles,
    /// The user is active (and not deleted).
    pub user_active: bool,
    /// Its tenant is active (true without one).
    pub tenant_active: bool,
    /// Its partner is active (true without one).
    pub partner_active: bool,
}

/// Codes, refresh tokens and consents.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GrantRepository: Send + Sync {
    /// Stores a code.
    async fn insert_code(&self, code: &NewCode) -> Result<(), RepoError>;

    /// The code with this hash, as stored, with its session's state as of `now` and its user,
    /// all that the code grant reads, in one read; `None` when unknown.
    async fn code(&self, code_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<StoredCode>, RepoError>;

    /// Redeems the code: sets `used_at = now` only if unset and, in the same transaction, stores
    /// `refresh` (the grant's first refresh token) and records its family on the code. Returns
    /// `false`, storing nothing, when the code was redeemed meanwhile (another process won).
    async fn redeem_code(
        &self,
        code_hmac: &[u8],
        now: DateTime<Utc>,
        refresh: Option<NewRefresh>,
    ) -> Result<bool, RepoError>;

    /// Revokes every refresh token of the family the code's first redemption created (a code
    /// used twice). Returns how many were revoked.
    async fn revoke_code_family(&self, code_hmac: &[u8], now: DateTime<Utc>) -> Result<u64, RepoError>;

    /// The refresh token with this keyed hash, found by the row it names (`row`, see
    /// `domain::oidc::refresh_handle`) or, for a token of the older form, by the hash, with its
    /// session's liveness at `now`. The state answered is the presented token's: unrotated when
    /// it is the row's current token; the row's rotation state when it is the previous one; and
    /// rotated with its grace spent when it is neither (an older token of the row). Its
    /// `token.token_hmac` is the presented token's.
    async fn refresh_token(
        &self,
        row: Option<Ulid>,
        token_hmac: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefresh>, RepoError>;

    /// Replaces the presented token (keyed hash `presented`) of row `old` by `new` if it is
    /// still in the state `how` expects and not revoked; `false`, storing nothing, otherwise.
    /// The current token is replaced in place (`new.id` is `old`); the previous one, within the
    /// grace, starts a row of its own in the family (`new.id` is new).
    async fn rotate(
        &self,
        old: Ulid,
        presented: &[u8],
        how: Replace,
        now: DateTime<Utc>,
        new: NewRefresh,
    ) -> Result<bool, RepoError>;

    /// Revokes every live token of a family (reuse detected). Returns how many.
    async fn revoke_family(&self, family_id: Ulid, now: DateTime<Utc>) -> Result<u64, RepoError>;

    /// A session by ID, with its liveness at `now`.
    async fn browser_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<Option<BrowserSession>, RepoError>;

    /// The live tenant with this slug or `tnt_…` ID.
    async fn tenant_by_slug_or_id(&self, slug_or_id: &str) -> Result<Option<TenantId>, RepoError>;

    /// A live user with its tenant's and partner's status; `None` when deleted or unknown.
    async fn sign_in_user(&self, id: UserId) -> Result<Option<SignInUser>, RepoError>;

    /// Whether the user is an effective user of the application (assigned directly or through
    /// groups nested to any depth).
    async fn is_effective_user(&self, app: ApplicationId, user: UserId) -> Result<bool, RepoError>;

    /// Names of the groups the user is in, directly or through nesting, sorted.
    async fn group_names(&self, user: UserId) -> Result<Vec<String>, RepoError>;

    /// Whether a live, active application lists `origin` in its `allowed_origins` (CORS for
    /// browser-based clients).
    async fn origin_allowed(&self, origin: &str) -> Result<bool, RepoError>;

    /// The scopes the user consented to for the application (empty when none).
    async fn consent(&self, user: UserId, app: ApplicationId) -> Result<Vec<String>, RepoError>;

    /// The user's consents to live applications, newest first.
    async fn consents_of(&self, user: UserId) -> Result<Vec<ConsentSummary>, RepoError>;

    /// In one transaction: forgets the user's consent to the application, revokes the user's
    /// live refresh tokens for it, and records `audit`. `false` (nothing written) when there
    /// was no consent.
    async fn revoke_consent(
        &self,
        user: UserId,
        app: ApplicationId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;

    /// Records a consent to `scopes` (added to what was consented before).
    async fn grant_consent(
        &self,
        user: UserId,
        app: ApplicationId,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
}
