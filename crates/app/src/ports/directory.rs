//! Users, groups and sessions.

use crate::error::RepoError;
use crate::page::{Page, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::access::Reach;
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::group::{Group, GroupChanges};
use scaikey_domain::id::GroupId;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::role::Role;
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
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
    ) -> Result<Option<super::mfa::MfaDisabled>, RepoError>;
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
