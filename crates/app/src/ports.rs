//! Port traits: what the services need from the outside world. Adapters implement them
//! (`scaikey-persistence`, `scaikey-crypto`); tests use the `mockall` mocks generated here.

pub mod cimd;
pub mod federation;
pub mod keys;
pub mod mail;
pub mod mfa;
pub mod oidc;
pub mod passkeys;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ulid::Ulid;

use scaikey_domain::access::Reach;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::partner::{NewPartner, Partner, PartnerChanges};
use scaikey_domain::principal::Principal;
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
use scaikey_domain::tenant::{NewTenant, Tenant, TenantChanges};

use crate::error::RepoError;
use crate::page::{Page, PageRequest};

pub use ulid;

/// Current time. Services never call `Utc::now()` themselves, so tests can fix time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// New ULIDs, monotonic within a process so IDs sort in creation order.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A fresh ULID.
    fn next(&self) -> Ulid;
}

/// Filters of the partner list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFilter {
    /// Case-insensitive substring of name or slug.
    pub search: Option<String>,
    /// Exact status.
    pub status: Option<Status>,
}

/// Partner storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PartnerRepository: Send + Sync {
    /// Stores a new partner and its audit record in one transaction.
    /// MUST return `Duplicate("slug")` when a live partner has the slug.
    async fn insert(
        &self,
        id: PartnerId,
        partner: &NewPartner,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Partner, RepoError>;
    /// A live partner.
    async fn get(&self, id: PartnerId) -> Result<Option<Partner>, RepoError>;
    /// Live partners, newest first.
    async fn list(&self, filter: &PartnerFilter, page: PageRequest) -> Result<Page<Partner>, RepoError>;
    /// Applies changes, the token `cut` the service decided (for the partner) and the audit
    /// record in one transaction; `None` if no live partner has this ID. MUST return
    /// `Duplicate("slug")` on a slug clash.
    async fn update(
        &self,
        id: PartnerId,
        changes: &PartnerChanges,
        cut: Option<scaikey_domain::token_cutoff::Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Partner>, RepoError>;
    /// Soft-deletes and blocks the partner's tokens in one transaction; `false` if no live
    /// partner has this ID. MUST return `Conflict` while live tenants stand under the partner.
    async fn delete(&self, id: PartnerId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
}

/// Filters of the tenant list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantFilter {
    /// Case-insensitive substring of name or slug.
    pub search: Option<String>,
    /// Exact status.
    pub status: Option<Status>,
    /// Tenants of this partner.
    pub partner_id: Option<PartnerId>,
}

/// Tenant storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Stores a new tenant and its audit record in one transaction. With a partner, MUST lock
    /// the partner row, return `MissingReference("partner_id")` if it is not live and
    /// `LimitReached` if `max_tenants` live tenants already exist; `Duplicate("slug")` on a clash.
    async fn insert(
        &self,
        id: TenantId,
        tenant: &NewTenant,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Tenant, RepoError>;
    /// A live tenant.
    async fn get(&self, id: TenantId) -> Result<Option<Tenant>, RepoError>;
    /// Live tenants within `reach`, newest first.
    async fn list(&self, reach: Reach, filter: &TenantFilter, page: PageRequest) -> Result<Page<Tenant>, RepoError>;
    /// Applies changes, the token `cut` the service decided (for the tenant) and the audit
    /// record in one transaction; `None` if not live. A move to another partner follows the same
    /// partner checks as `insert`.
    async fn update(
        &self,
        id: TenantId,
        changes: &TenantChanges,
        cut: Option<scaikey_domain::token_cutoff::Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Tenant>, RepoError>;
    /// Soft-deletes and blocks the tenant's tokens in one transaction; `false` if not live.
    async fn delete(&self, id: TenantId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
}

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
    pub refresh: Option<oidc::NewRefresh>,
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

/// Why a bearer token is refused (all 401); the text is safe to show.
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

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A process-wide monotonic ULID generator: IDs made in the same millisecond still sort in
/// creation order.
#[derive(Default)]
pub struct MonotonicIds(std::sync::Mutex<ulid::Generator>);

impl std::fmt::Debug for MonotonicIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MonotonicIds")
    }
}

impl IdGenerator for MonotonicIds {
    fn next(&self) -> Ulid {
        let mut g = crate::sync::lock(&self.0);
        // Overflow needs 2^80 IDs in one millisecond; fall back to a fresh random ULID.
        g.generate().unwrap_or_else(|_| Ulid::new())
    }
}

// ---------------------------------------------------------------------------------------------
// Users, groups and sessions
// ---------------------------------------------------------------------------------------------

use scaikey_domain::group::{Group, GroupChanges};
use scaikey_domain::id::GroupId;
use scaikey_domain::role::Role;
use scaikey_domain::user::{User, UserChanges};

/// A session ended by a write, for the in-process revocation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndedSession {
    /// The session.
    pub id: SessionId,
    /// When it would have expired (the list forgets it then).
    pub expires_at: DateTime<Utc>,
}

/// A user to store (validated, password hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// Tenant, if any.
    pub tenant_id: Option<TenantId>,
    /// E-mail.
    pub email: String,
    /// Argon2id PHC string; `None` for an invited user who has not chosen one yet.
    pub password_hash: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Status.
    pub status: Status,
    /// Roles.
    pub roles: Roles,
    /// Attributes.
    pub custom_attributes: serde_json::Value,
}

/// Filters of the user list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Case-insensitive substring of e-mail or names.
    pub search: Option<String>,
    /// Exact status.
    pub status: Option<Status>,
    /// Users of this tenant.
    pub tenant_id: Option<TenantId>,
    /// Users holding this role.
    pub role: Option<Role>,
}

/// User storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a user and its audit record in one transaction. With a tenant, MUST lock the tenant
    /// row, return `MissingReference("tenant_id")` if it is not live and `LimitReached` when the
    /// partner's `max_users_per_tenant` live users exist; `Duplicate("email")` on a clash.
    async fn insert(
        &self,
        id: UserId,
        user: &UserRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<User, RepoError>;
    /// A live user.
    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError>;
    /// Live users within `reach`, newest first.
    async fn list(&self, reach: Reach, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, RepoError>;
    /// Applies changes, the token `cut` the service decided (for the user) and the audit record
    /// in one transaction. A status other than `active` also revokes the user's open sessions
    /// (returned) and refresh tokens.
    async fn update(
        &self,
        id: UserId,
        changes: &UserChanges,
        cut: Option<scaikey_domain::token_cutoff::Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<(User, Vec<EndedSession>)>, RepoError>;
    /// Sets the password hash, revokes every open session and refresh token of the user and cuts
    /// its tokens, in one transaction.
    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError>;
    /// In one transaction: removes every second factor and recovery code, clears
    /// `mfa_methods`/`mfa_enabled`, ends the user's sessions and refresh tokens (offline ones
    /// included), cuts its tokens and records `audit`. `None` when the user is gone.
    async fn disable_mfa(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<mfa::MfaDisabled>, RepoError>;
    /// Soft-deletes the user, revokes its open sessions and refresh tokens and cuts its tokens,
    /// in one transaction.
    async fn delete(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError>;
}

/// A member as shown in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// The user.
    pub user_id: UserId,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub display_name: Option<String>,
}

/// A child group as shown in its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// The group.
    pub id: GroupId,
    /// Its name.
    pub name: String,
}

/// A group to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// Filters of the group list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    /// Groups of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// Group storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait GroupRepository: Send + Sync {
    /// Stores a group in a live tenant (`MissingReference("tenant_id")` otherwise);
    /// `Duplicate("name")` when a live group of the tenant has the name.
    async fn insert(
        &self,
        id: GroupId,
        group: &GroupRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Group, RepoError>;
    /// A live group (with its tenant's partner).
    async fn get(&self, id: GroupId) -> Result<Option<Group>, RepoError>;
    /// Live groups within `reach`, newest first.
    async fn list(&self, reach: Reach, filter: &GroupFilter, page: PageRequest) -> Result<Page<Group>, RepoError>;
    /// Applies changes.
    async fn update(
        &self,
        id: GroupId,
        changes: &GroupChanges,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Group>, RepoError>;
    /// Soft-deletes the group and removes its memberships and nesting edges.
    async fn delete(&self, id: GroupId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// Direct live members.
    async fn members(&self, id: GroupId) -> Result<Vec<MemberSummary>, RepoError>;
    /// Direct live child groups.
    async fn children(&self, id: GroupId) -> Result<Vec<GroupSummary>, RepoError>;
    /// Adds a live user of the group's tenant: `Invalid` for a missing user or one of another
    /// tenant, `Conflict` if already a member.
    async fn add_member(
        &self,
        group: GroupId,
        user: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;
    /// Removes a direct member; `false` if it was not one.
    async fn remove_member(
        &self,
        group: GroupId,
        user: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
    /// Nests `child` under `parent`. MUST serialise nesting changes per tenant so that two
    /// requests racing to close a cycle cannot both succeed; `Conflict` for a cycle or an
    /// existing edge, `Invalid` for a missing child or one of another tenant.
    async fn add_child(
        &self,
        parent: GroupId,
        child: GroupId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;
    /// Removes a nesting edge; `false` if there was none.
    async fn remove_child(
        &self,
        parent: GroupId,
        child: GroupId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
    /// Every live user in the group or any group nested below it, each once, ordered by user ID
    /// descending; one page and the total.
    async fn effective_members(&self, id: GroupId, page: PageRequest) -> Result<Page<UserId>, RepoError>;
}

/// A stored SSO session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its ID.
    pub id: SessionId,
    /// The user.
    pub user_id: UserId,
    /// The user's tenant.
    pub tenant_id: Option<TenantId>,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last seen (login time until activity tracking lands).
    pub last_seen_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Session {
    /// Neither revoked nor expired at `now`.
    #[must_use]
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionState {
    /// Neither revoked nor expired (default).
    #[default]
    Active,
    /// Revoked or expired.
    Ended,
    /// All.
    Any,
}

/// Filters of the session list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this user.
    pub user_id: Option<UserId>,
    /// Sessions in this tenant.
    pub tenant_id: Option<TenantId>,
    /// Active, ended or any.
    pub state: SessionState,
}

/// A revocation seen by the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// The session.
    pub id: SessionId,
    /// Its end.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: DateTime<Utc>,
}

/// Session storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// A session (live user or not).
    async fn get(&self, id: SessionId) -> Result<Option<Session>, RepoError>;
    /// Sessions within `reach`, newest first.
    async fn list(
        &self,
        reach: Reach,
        filter: &SessionFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Session>, RepoError>;
    /// Revokes an open session with its audit record; returns it (unchanged if already ended).
    async fn revoke(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Session>, RepoError>;
    /// Sessions revoked at or after `since` that have not expired by `now`.
    async fn revoked_since(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<Revocation>, RepoError>;
}

// ---------------------------------------------------------------------------------------------
// Applications, assignments, registration requests
// ---------------------------------------------------------------------------------------------

use scaikey_domain::application::{Application, ApplicationType, ClientSettings, IdTokenAlg};
use scaikey_domain::id::{ApplicationId, AssignmentId, RegistrationRequestId};
use scaikey_domain::registration::{RegistrationRequest, RegistrationStatus, ReviewOutcome};
use scaikey_domain::scope::ScopeLevel;

/// Client secrets: generated by the server (256 random bits), stored as a keyed HMAC.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ClientSecrets: Send + Sync {
    /// A new secret and the digest to store.
    fn generate(&self) -> anyhow::Result<(String, Vec<u8>)>;
    /// Compares `secret` with a stored digest in constant time.
    fn verify(&self, secret: &str, stored: &[u8]) -> bool;
    /// The digest of a server-generated secret, to look it up (codes, refresh tokens, cookies:
    /// 256 random bits each, so a keyed hash is enough and equality lookup is safe).
    fn digest(&self, secret: &str) -> Vec<u8>;
    /// `n` bytes from the system's secure random source (TOTP secrets, recovery codes).
    fn random_bytes(&self, n: usize) -> anyhow::Result<Vec<u8>>;
}

/// An application to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRecord {
    /// Public client ID.
    pub client_id: String,
    /// Secret digest (confidential clients).
    pub secret_digest: Option<Vec<u8>>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Scope level.
    pub scope: ScopeLevel,
    /// Partner (PARTNER apps; filled in from the tenant for TENANT apps by storage).
    pub partner_id: Option<PartnerId>,
    /// Tenant (TENANT apps).
    pub tenant_id: Option<TenantId>,
    /// OAuth settings.
    pub settings: ClientSettings,
    /// Token lifetime, seconds.
    pub token_lifetime: i64,
    /// Token exchange allowed.
    pub token_exchange_allowed: bool,
    /// Only effective users may sign in.
    pub assignment_required: bool,
    /// No consent page.
    pub first_party: bool,
    /// ID-token algorithm.
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Status.
    pub status: Status,
}

/// Validated changes to an application.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New OAuth settings (validated as a whole).
    pub settings: Option<ClientSettings>,
    /// New token lifetime.
    pub token_lifetime: Option<i64>,
    /// New token-exchange flag.
    pub token_exchange_allowed: Option<bool>,
    /// New assignment rule.
    pub assignment_required: Option<bool>,
    /// New first-party flag.
    pub first_party: Option<bool>,
    /// New ID-token algorithm.
    pub id_token_signed_response_alg: Option<IdTokenAlg>,
    /// New status.
    pub status: Option<Status>,
}

/// Filters of the application list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationFilter {
    /// Case-insensitive substring of name or client ID.
    pub search: Option<String>,
    /// Scope level.
    pub scope: Option<ScopeLevel>,
    /// Type.
    pub application_type: Option<ApplicationType>,
    /// TENANT apps of this tenant.
    pub tenant_id: Option<TenantId>,
    /// PARTNER apps of this partner and TENANT apps of its tenants.
    pub partner_id: Option<PartnerId>,
    /// Client IDs left out (the service leaves out ScaiKey's own clients).
    pub exclude_client_ids: Vec<String>,
}

/// Who an assignment grants access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    /// One user.
    User(UserId),
    /// Every member of a group, through nesting.
    Group(GroupId),
}

/// An application assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Its ID.
    pub id: AssignmentId,
    /// The application.
    pub application_id: ApplicationId,
    /// The user or group.
    pub assignee: Assignee,
    /// The assignee's tenant.
    pub tenant_id: TenantId,
    /// That tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A user with access to an application, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveUser {
    /// The user.
    pub user_id: UserId,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Tenant name.
    pub tenant_name: String,
    /// Assigned directly.
    pub direct: bool,
    /// Assigned groups through which the user has access (directly or via nesting).
    pub via_groups: Vec<GroupId>,
}

/// An application with its stored secret digest (`None` for public clients), shared: the token
/// endpoint's client cache hands out the same record to every request without copying it.
pub type ApplicationWithDigest = std::sync::Arc<(Application, Option<Vec<u8>>)>;

/// What the token endpoints (and the revocation poller) need of applications: the client
/// record by client ID, and which applications changed or are disabled. A port of its own, so
/// the client cache wraps three reads, not the whole repository.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ClientDirectory: Send + Sync {
    /// The live application with `client_id` and its secret digest (`None` for public clients),
    /// or `None`: a deleted application is never returned. A suspended one is (the caller
    /// refuses it).
    async fn by_client_id(&self, client_id: &str) -> Result<Option<ApplicationWithDigest>, RepoError>;
    /// Applications whose tokens must be refused at `now`: suspended, or deleted within the
    /// longest token lifetime.
    async fn disabled(&self, now: DateTime<Utc>) -> Result<Vec<ApplicationId>, RepoError>;
    /// Client IDs of applications changed in any way (updated, secret rotated, suspended,
    /// deleted) after `since`, with their `updated_at`, for client caches in other processes.
    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, RepoError>;
}

/// Application storage for the admin API. Every write runs with its audit record in one
/// transaction; reads return live (not deleted) applications only.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ApplicationRepository: Send + Sync {
    /// Stores an application. TENANT apps: MUST lock the live tenant (`MissingReference` else)
    /// and enforce the partner's `max_applications_per_tenant` (`LimitReached`); PARTNER apps:
    /// the partner must be live.
    async fn insert(
        &self,
        id: ApplicationId,
        app: &ApplicationRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Application, RepoError>;
    /// A live application.
    async fn get(&self, id: ApplicationId) -> Result<Option<Application>, RepoError>;
    /// Live applications visible within `reach`, newest first.
    async fn list(
        &self,
        reach: Reach,
        filter: &ApplicationFilter,
        page: PageRequest,
    ) -> Result<Page<Application>, RepoError>;
    /// Applies `patch` to the live application; `None` if there is none. The record's
    /// `updated_at` becomes `now`, which [`ClientDirectory::changed_since`] reports.
    async fn update(
        &self,
        id: ApplicationId,
        patch: &ApplicationPatch,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Application>, RepoError>;
    /// Replaces the secret digest of the live application (the old secret stops at once);
    /// `None` if there is none.
    async fn set_secret(
        &self,
        id: ApplicationId,
        digest: &[u8],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Application>, RepoError>;
    /// Soft-deletes the live application (its assignments and effective users go with it);
    /// `false`, writing nothing, if there is none.
    async fn delete(&self, id: ApplicationId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// Assigns a user or group the caller read in `tenant` under `partner` (and found to fit the
    /// application, a rule of the domain): stored with the audit record in one transaction only
    /// if the assignee is still live there, under that partner; `None`, writing nothing, when it
    /// is not. MUST return `Conflict` when already assigned. Decides nothing.
    async fn assign(
        &self,
        id: AssignmentId,
        app: &Application,
        assignee: Assignee,
        home: (TenantId, Option<PartnerId>),
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Assignment>, RepoError>;
    /// Assignments whose assignee lies within `reach`, newest first.
    async fn assignments(
        &self,
        app: ApplicationId,
        reach: Reach,
        page: PageRequest,
    ) -> Result<Page<Assignment>, RepoError>;
    /// One assignment of `app`.
    async fn assignment(&self, app: ApplicationId, id: AssignmentId) -> Result<Option<Assignment>, RepoError>;
    /// Removes an assignment.
    async fn unassign(
        &self,
        app: ApplicationId,
        id: AssignmentId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
    /// Users with access through assignments (nested groups followed to any depth), each once,
    /// limited to the application's scope, `reach` and `tenant`; paginated in SQL.
    async fn effective_users(
        &self,
        app: &Application,
        reach: Reach,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<EffectiveUser>, RepoError>;
}

/// A registration request to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// Scope level.
    pub scope: ScopeLevel,
    /// Partner.
    pub partner_id: Option<PartnerId>,
    /// Tenant.
    pub tenant_id: Option<TenantId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Requested settings.
    pub settings: ClientSettings,
    /// Contact.
    pub contact_email: String,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Organisation.
    pub organization_name: Option<String>,
    /// Website.
    pub website_url: Option<String>,
    /// Creator (`usr_…`/`app_…`; `dcr` for a dynamic registration).
    pub created_by: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// What a dynamic registration (RFC 7591) reserves with the request.
    pub dynamic: Option<DynamicClient>,
}

/// A dynamically registered client's reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicClient {
    /// The client ID answered at registration (the application gets it at approval).
    pub client_id: String,
    /// Keyed hash of the RFC 7592 registration access token.
    pub token_digest: Vec<u8>,
    /// The registering client's IP.
    pub ip: Option<String>,
}

/// Filters of the registration list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationFilter {
    /// Case-insensitive literal substring of the name, description or contact e-mail.
    pub search: Option<String>,
    /// Effective status.
    pub status: Option<RegistrationStatus>,
    /// Scope level.
    pub scope: Option<ScopeLevel>,
}

/// A review to store: what the domain decided and, for approvals, the application to create in
/// the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// What changes on the request ([`RegistrationRequest::review`]).
    pub outcome: ReviewOutcome,
    /// For approvals: the application to create.
    pub application: Option<(ApplicationId, ApplicationRecord)>,
}

/// A reviewed request and, for approvals, the application created.
pub type Reviewed = (RegistrationRequest, Option<Application>);

/// Registration request storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RegistrationRepository: Send + Sync {
    /// Stores a request; `MissingReference` when its tenant or partner is not live.
    async fn insert(
        &self,
        id: RegistrationRequestId,
        rec: &RegistrationRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<RegistrationRequest, RepoError>;
    /// A request, or `None`. Every read of this port fails with `Unknown` on a stored value the
    /// domain does not know (a status, scope or type), never guessing one.
    async fn get(&self, id: RegistrationRequestId) -> Result<Option<RegistrationRequest>, RepoError>;
    /// Requests within `reach` (by their owner), newest first; status filters use the effective
    /// status at `now`.
    async fn list(
        &self,
        reach: Reach,
        filter: &RegistrationFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<RegistrationRequest>, RepoError>;
    /// Stores `review` on the request `read` was read from, if it is unchanged since (same
    /// stored status and `updated_at`): the outcome, the approved application and the audit
    /// record, in one transaction. Returns `None`, having written nothing, when the request has
    /// changed or is gone — the caller reads it again and decides anew — so two concurrent
    /// approvals create one application. Decides nothing.
    async fn store_review(
        &self,
        read: &RegistrationRequest,
        review: &Review,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Reviewed>, RepoError>;
    /// Records EXPIRED on the requests in the domain's [`DUE`] form at `now`; returns how many.
    ///
    /// [`DUE`]: scaikey_domain::registration::DUE
    async fn expire_due(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
    /// The dynamic registration behind a request, if it is one.
    async fn dynamic_client(&self, id: RegistrationRequestId) -> Result<Option<DynamicClient>, RepoError>;
    /// The request reserved for a dynamically registered client ID.
    async fn by_dynamic_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<(RegistrationRequest, DynamicClient)>, RepoError>;
    /// Dynamic registrations made from `ip` since `since`.
    async fn dynamic_registrations_from(&self, ip: &str, since: DateTime<Utc>) -> Result<i64, RepoError>;
}

// ---------------------------------------------------------------------------------------------
// Audit and dashboard
// ---------------------------------------------------------------------------------------------

use scaikey_domain::audit::{AuditEvent, AuditResult};
use scaikey_domain::id::AuditEventId;

/// Records audit events off the request path (failures, denials, authentication events). MUST
/// NOT block; the adapter batches and MUST flush what it holds on graceful shutdown.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait AuditSink: Send + Sync {
    /// Queues a record stamped `at`.
    fn submit(&self, record: AuditRecord, at: DateTime<Utc>);

    /// Notes a record already written in its change's own transaction (a successful login),
    /// so the sinks that count events see it too; nothing is queued.
    fn written(&self, _record: &AuditRecord) {}
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact action (`tenant.update`).
    pub action: Option<String>,
    /// Exact actor ID.
    pub actor_id: Option<String>,
    /// Exact resource type.
    pub resource_type: Option<String>,
    /// Exact resource ID.
    pub resource_id: Option<String>,
    /// Outcome.
    pub result: Option<AuditResult>,
    /// Events of this tenant.
    pub tenant_id: Option<TenantId>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Live partners.
    pub partners: i64,
    /// Live tenants.
    pub tenants: i64,
    /// Live users.
    pub users: i64,
    /// Live applications.
    pub applications: i64,
    /// Active sessions.
    pub active_sessions: i64,
    /// Pending (unexpired) registration requests.
    pub pending_registration_requests: i64,
    /// `true` when some counts are planner estimates (platform-wide counts of large tables).
    pub estimated: bool,
}

/// One hour of sign-ins and token issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourlyCount {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    /// Successful sign-ins.
    pub sign_ins: i64,
    /// Tokens issued.
    pub tokens: i64,
}

/// Audit and dashboard reads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Events within `reach`, newest first.
    async fn list(&self, reach: Reach, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>, RepoError>;
    /// One event.
    async fn get(&self, id: AuditEventId) -> Result<Option<AuditEvent>, RepoError>;
    /// Stores a batch of records (the sink's writer).
    async fn insert_batch(&self, records: &[(AuditRecord, DateTime<Utc>)]) -> Result<(), RepoError>;
    /// Counts within `reach` at `now`. Platform-wide counts of tables larger than
    /// `exact_below` rows MAY be planner estimates (then `estimated` is set).
    async fn stats(&self, reach: Reach, now: DateTime<Utc>, exact_below: i64) -> Result<Stats, RepoError>;
    /// Successful sign-ins (`auth.login`) and tokens issued (`auth.token`, summing each
    /// tally's `tokens`) per hour since `since`, within reach, read through the
    /// `(action, id)` index (IDs are time-ordered). Hours without any are left out.
    async fn hourly(&self, reach: Reach, since: DateTime<Utc>) -> Result<Vec<HourlyCount>, RepoError>;
}

// ---------------------------------------------------------------------------------------------
// Identity providers and agents
// ---------------------------------------------------------------------------------------------

use scaikey_domain::federation::{Agent, IdentityProvider, Protocol};
use scaikey_domain::id::{AgentId, IdentityProviderId};

/// Encrypts secrets at rest under the master key.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretSealer: Send + Sync {
    /// Encrypts `plain`, bound to `aad` (the owning row's ID).
    fn seal(&self, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>>;
    /// Decrypts a blob of [`SecretSealer::seal`] with the same `aad`; fails on any tampering.
    fn open(&self, blob: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>>;
}

/// Identity-provider fields to store or change (`None`: unchanged on update).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdpFields {
    /// Name.
    pub name: Option<String>,
    /// Protocol (create only).
    pub protocol: Option<Protocol>,
    /// Enabled.
    pub enabled: Option<bool>,
    /// OIDC issuer.
    pub issuer: Option<Option<String>>,
    /// OIDC client ID.
    pub client_id: Option<Option<String>>,
    /// Sealed OIDC client secret (`Some(None)` clears).
    pub client_secret_enc: Option<Option<Vec<u8>>>,
    /// OIDC scopes.
    pub scopes: Option<Vec<String>>,
    /// SAML entity ID.
    pub entity_id: Option<Option<String>>,
    /// SAML SSO URL.
    pub sso_url: Option<Option<String>>,
    /// SAML certificate.
    pub certificate: Option<Option<String>>,
    /// Create users on first sign-in.
    pub jit_provisioning: Option<bool>,
    /// `custom_attributes` key → upstream claim.
    pub attribute_mapping: Option<std::collections::BTreeMap<String, String>>,
}

/// Agent fields to store or change (`None`: unchanged on update).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentFields {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Tools.
    pub allowed_tools: Option<Vec<String>>,
    /// Scopes.
    pub allowed_scopes: Option<Vec<String>>,
    /// Rate limit.
    pub rate_limit_rpm: Option<Option<i32>>,
    /// Status.
    pub status: Option<Status>,
}

/// Filters of the identity-provider list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdpFilter {
    /// Case-insensitive literal substring of the name.
    pub search: Option<String>,
    /// Those of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// Filters of the agent list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentFilter {
    /// Case-insensitive literal substring of the name or description.
    pub search: Option<String>,
    /// Those of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// Identity-provider storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdpRepository: Send + Sync {
    /// Stores one in a live tenant (`MissingReference("tenant_id")` otherwise).
    async fn insert(
        &self,
        id: IdentityProviderId,
        tenant: TenantId,
        f: &IdpFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<IdentityProvider, RepoError>;
    /// A live one.
    async fn get(&self, id: IdentityProviderId) -> Result<Option<IdentityProvider>, RepoError>;
    /// Live ones within reach matching `filter`, newest first.
    async fn list(
        &self,
        reach: Reach,
        filter: &IdpFilter,
        page: PageRequest,
    ) -> Result<Page<IdentityProvider>, RepoError>;
    /// Applies changes.
    async fn update(
        &self,
        id: IdentityProviderId,
        f: &IdpFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<IdentityProvider>, RepoError>;
    /// Soft-deletes.
    async fn delete(&self, id: IdentityProviderId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// The sealed OIDC client secret of a live one (`None`: none stored or not found).
    async fn sealed_secret(&self, id: IdentityProviderId) -> Result<Option<Vec<u8>>, RepoError>;
    /// The tenant's live, enabled ones, by name (the login page's buttons).
    async fn enabled_of(&self, tenant: TenantId) -> Result<Vec<IdentityProvider>, RepoError>;
}

/// An agent and its secret's digest (none before the first rotation).
pub type AgentWithDigest = (Agent, Option<Vec<u8>>);

/// Agent storage.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AgentRepository: Send + Sync {
    /// Stores one in a live tenant (`MissingReference("tenant_id")` otherwise).
    async fn insert(
        &self,
        id: AgentId,
        tenant: TenantId,
        f: &AgentFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Agent, RepoError>;
    /// A live one.
    async fn get(&self, id: AgentId) -> Result<Option<Agent>, RepoError>;
    /// Live ones within reach (optionally one tenant), newest first.
    async fn list(&self, reach: Reach, filter: &AgentFilter, page: PageRequest) -> Result<Page<Agent>, RepoError>;
    /// Applies changes.
    async fn update(
        &self,
        id: AgentId,
        f: &AgentFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Agent>, RepoError>;
    /// Soft-deletes.
    async fn delete(&self, id: AgentId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// In one transaction: gives the agent `client_id` unless it has one already, stores
    /// `digest` as its secret and records `audit`. Answers the agent's client ID; `None` when
    /// the agent is not live.
    async fn set_secret(
        &self,
        id: AgentId,
        client_id: &str,
        digest: &[u8],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<String>, RepoError>;
    /// A live agent by its client ID, with its secret's digest.
    async fn by_client_id(&self, client_id: &str) -> Result<Option<AgentWithDigest>, RepoError>;
    /// Counts one tool call of the agent in the one-minute window starting at `window` (atomic
    /// across processes) and answers the window's calls so far, this one included.
    async fn count_call(&self, id: AgentId, window: DateTime<Utc>) -> Result<i64, RepoError>;
}
