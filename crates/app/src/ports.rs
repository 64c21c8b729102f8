//! Port traits: what the services need from the outside world. Adapters implement them
//! (`scaikey-persistence`, `scaikey-crypto`); tests use the `mockall` mocks generated here.

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
    /// Applies changes and stores the audit record in one transaction; `None` if no live partner
    /// has this ID. MUST return `Duplicate("slug")` on a slug clash.
    async fn update(
        &self,
        id: PartnerId,
        changes: &PartnerChanges,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Partner>, RepoError>;
    /// Soft-deletes; `false` if no live partner has this ID. MUST return `Conflict` while live
    /// tenants stand under the partner.
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
    /// Applies changes with their audit record in one transaction; `None` if not live. A move to
    /// another partner follows the same partner checks as `insert`.
    async fn update(
        &self,
        id: TenantId,
        changes: &TenantChanges,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Tenant>, RepoError>;
    /// Soft-deletes; `false` if not live.
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
    /// Tenant settings (session timeout); `{}` without tenant.
    pub tenant_settings: serde_json::Value,
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
}

/// User and session storage needed for authentication.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuthRepository: Send + Sync {
    /// Live users with this e-mail (case-insensitive): in `tenant` when given, else in any
    /// tenant or none.
    async fn login_candidates(&self, email: &str, tenant: Option<TenantId>) -> Result<Vec<LoginCandidate>, RepoError>;
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
    /// Unique token ID.
    pub jti: Ulid,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
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
}

/// Signs and verifies access tokens (JWT with a `kid`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// Encodes and signs.
    fn sign(&self, token: &AccessToken) -> anyhow::Result<String>;
    /// Verifies signature, issuer and expiry, and decodes.
    fn verify(&self, jwt: &str) -> Result<AccessToken, TokenRejection>;
}

/// A stored token-signing key; the private key is encrypted under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Key ID, as in the JWT header.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The public JWK, as JSON.
    pub public_jwk: serde_json::Value,
    /// Encrypted PKCS#8 private key.
    pub private_key_enc: Vec<u8>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Storage of signing keys.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// Keys not retired, oldest first.
    async fn active(&self) -> Result<Vec<StoredSigningKey>, RepoError>;
    /// Stores a new key.
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError>;
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
        let mut g = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Overflow needs 2^80 IDs in one millisecond; fall back to a fresh random ULID.
        g.generate().unwrap_or_else(|_| Ulid::new())
    }
}
