//! The audit log and the dashboard's counts.

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::access::Reach;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::audit::{AuditEvent, AuditResult};
use scaikey_domain::id::AuditEventId;
use scaikey_domain::id::TenantId;

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
