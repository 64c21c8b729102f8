//! Audit and dashboard wire types.

use chrono::{DateTime, Utc};
use scaikey_app::ports::Stats;
use scaikey_domain::audit::AuditEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema as s;

/// An audit event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    /// `aud_…`
    #[schema(value_type = s::AuditEventId)]
    pub id: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// `user`, `application` or `anonymous`.
    #[schema(value_type = s::ActorType)]
    pub actor_type: String,
    /// `usr_…` / `app_…`.
    pub actor_id: Option<String>,
    /// E.g. `tenant.update`, `auth.login`.
    pub action: String,
    /// E.g. `tenant`.
    pub resource_type: String,
    /// The resource's ID.
    pub resource_id: Option<String>,
    /// `success`, `failure` or `denied`.
    #[schema(value_type = s::AuditResult)]
    pub result: String,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Tenant.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Partner.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Non-secret facts.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(e: AuditEvent) -> Self {
        AuditEventOut {
            id: e.id.to_string(),
            occurred_at: e.occurred_at,
            actor_type: e.actor_type.as_str().into(),
            actor_id: e.actor_id,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            result: e.result.as_str().into(),
            ip: e.ip,
            user_agent: e.user_agent,
            tenant_id: e.tenant_id.map(|t| t.to_string()),
            partner_id: e.partner_id.map(|p| p.to_string()),
            details: e.details,
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Events, newest first.
    pub items: Vec<AuditEventOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Counts within the caller's reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsOut {
    /// Live partners (platform only; 0 below it).
    #[schema(minimum = 0)]
    pub partners: i64,
    /// Live tenants.
    #[schema(minimum = 0)]
    pub tenants: i64,
    /// Live users.
    #[schema(minimum = 0)]
    pub users: i64,
    /// Visible applications.
    #[schema(minimum = 0)]
    pub applications: i64,
    /// Active SSO sessions.
    #[schema(minimum = 0)]
    pub active_sessions: i64,
    /// Pending registration requests.
    #[schema(minimum = 0)]
    pub pending_registration_requests: i64,
    /// `true` when platform-wide counts of large tables are planner estimates.
    pub estimated: bool,
}

impl From<Stats> for StatsOut {
    fn from(s: Stats) -> Self {
        StatsOut {
            partners: s.partners,
            tenants: s.tenants,
            users: s.users,
            applications: s.applications,
            active_sessions: s.active_sessions,
            pending_registration_requests: s.pending_registration_requests,
            estimated: s.estimated,
        }
    }
}

/// The newest events within reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityOut {
    /// Up to 20 events, newest first.
    #[schema(max_items = 20)]
    pub items: Vec<AuditEventOut>,
}
