//! Partner and tenant storage.

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::access::Reach;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, TenantId};
use scaikey_domain::partner::{NewPartner, Partner, PartnerChanges};
use scaikey_domain::status::Status;
use scaikey_domain::tenant::{NewTenant, Tenant, TenantChanges};

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
