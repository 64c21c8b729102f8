//! Identity providers and MCP agents, and the sealing of their secrets.

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::access::Reach;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federation::{Agent, IdentityProvider};
use scaikey_domain::id::TenantId;
use scaikey_domain::id::{AgentId, IdentityProviderId};

/// Encrypts secrets at rest under the master key.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretSealer: Send + Sync {
    /// Encrypts `plain`, bound to `aad` (the owning row's ID).
    fn seal(&self, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>>;
    /// Decrypts a blob of [`SecretSealer::seal`] with the same `aad`; fails on any tampering.
    fn open(&self, blob: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>>;
}

pub use scaikey_domain::federation::{AgentFields, IdpFields};

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
