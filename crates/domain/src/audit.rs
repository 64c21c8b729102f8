//! Audit records: what every admin write and authentication event leaves behind
//! (contract §4, Audit event). Storage writes a successful write's record in the same transaction
//! as the change; failures, denials and authentication events go through a batched sink.

pub mod action;

use serde_json::Value;

use crate::id::{PartnerId, TenantId};
use crate::principal::Principal;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorType {
    /// A signed-in user.
    User,
    /// An application with a client token.
    Application,
    /// Nobody authenticated (a failed login, for example).
    Anonymous,
}

impl ActorType {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::Application => "application",
            ActorType::Anonymous => "anonymous",
        }
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// Done.
    Success,
    /// Attempted and failed (bad credentials, conflict, validation).
    Failure,
    /// Refused by the access rules.
    Denied,
}

impl AuditResult {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
            AuditResult::Denied => "denied",
        }
    }
}

/// Request facts that every audit record carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestMeta {
    /// Client IP as seen by the server.
    pub ip: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
}

/// Longest `User-Agent` kept.
pub const MAX_USER_AGENT: usize = 512;

impl RequestMeta {
    /// The facts of one request; the user agent is cut to [`MAX_USER_AGENT`] characters.
    #[must_use]
    pub fn new(ip: Option<String>, user_agent: Option<&str>) -> RequestMeta {
        RequestMeta { ip, user_agent: user_agent.map(|s| s.chars().take(MAX_USER_AGENT).collect()) }
    }

    /// The facts of a request from `peer` with these headers: the client IP as
    /// [`TrustedProxies::client`](crate::client_ip::TrustedProxies::client) decides.
    #[must_use]
    pub fn of_request(
        peer: Option<std::net::IpAddr>,
        forwarded_for: Option<&str>,
        user_agent: Option<&str>,
        trusted: &crate::client_ip::TrustedProxies,
    ) -> RequestMeta {
        RequestMeta::new(peer.map(|p| trusted.client(p, forwarded_for).to_string()), user_agent)
    }
}

/// One audit record to store. `details` must never hold a secret, password or token.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Actor kind.
    pub actor_type: ActorType,
    /// `usr_…`, `app_…`, or `None` for anonymous.
    pub actor_id: Option<String>,
    /// Dotted action name, e.g. `tenant.update`.
    pub action: &'static str,
    /// Resource kind, e.g. `tenant`.
    pub resource_type: &'static str,
    /// The resource's ID, once known.
    pub resource_id: Option<String>,
    /// Outcome.
    pub result: AuditResult,
    /// Request facts.
    pub meta: RequestMeta,
    /// Tenant the resource belongs to.
    pub tenant_id: Option<TenantId>,
    /// Partner the resource belongs to.
    pub partner_id: Option<PartnerId>,
    /// Non-secret facts about the change (e.g. which fields changed).
    pub details: Value,
}

impl AuditRecord {
    /// A successful action by `principal`.
    #[must_use]
    pub fn success(
        principal: &Principal,
        meta: &RequestMeta,
        action: &'static str,
        resource_type: &'static str,
    ) -> AuditRecord {
        let actor_type = match principal {
            Principal::User(_) => ActorType::User,
            // Agents are non-human clients: `application` actors with their `agt_` ID.
            Principal::Client(_) | Principal::Agent(_) => ActorType::Application,
        };
        AuditRecord {
            actor_type,
            actor_id: Some(principal.actor_id()),
            action,
            resource_type,
            resource_id: None,
            result: AuditResult::Success,
            meta: meta.clone(),
            tenant_id: None,
            partner_id: None,
            details: Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the resource ID.
    #[must_use]
    pub fn resource(mut self, id: impl ToString) -> Self {
        self.resource_id = Some(id.to_string());
        self
    }

    /// Sets where the resource lives.
    #[must_use]
    pub fn within(mut self, tenant: Option<TenantId>, partner: Option<PartnerId>) -> Self {
        self.tenant_id = tenant;
        self.partner_id = partner;
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Its ID.
    pub id: crate::id::AuditEventId,
    /// When.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// Actor kind.
    pub actor_type: ActorType,
    /// Actor ID.
    pub actor_id: Option<String>,
    /// Action.
    pub action: String,
    /// Resource kind.
    pub resource_type: String,
    /// Resource ID.
    pub resource_id: Option<String>,
    /// Outcome.
    pub result: AuditResult,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Tenant.
    pub tenant_id: Option<TenantId>,
    /// Partner.
    pub partner_id: Option<PartnerId>,
    /// Non-secret facts.
    pub details: Value,
}

impl AuditEvent {
    /// Where the event belongs, for the access rules: its tenant, else its partner, else the
    /// platform.
    #[must_use]
    pub fn owner(&self) -> crate::access::Owner {
        match (self.tenant_id, self.partner_id) {
            (Some(tenant), partner) => crate::access::Owner::Tenant { tenant, partner },
            (None, Some(p)) => crate::access::Owner::Partner(p),
            (None, None) => crate::access::Owner::Platform,
        }
    }
}

impl ActorType {
    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<ActorType> {
        [ActorType::User, ActorType::Application, ActorType::Anonymous].into_iter().find(|a| a.as_str() == s)
    }
}

impl AuditResult {
    /// Every result.
    pub const ALL: [AuditResult; 3] = [AuditResult::Success, AuditResult::Failure, AuditResult::Denied];

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<AuditResult> {
        AuditResult::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl AuditRecord {
    /// An event with no authenticated actor (failed login, refused token).
    #[must_use]
    pub fn anonymous(
        meta: &RequestMeta,
        action: &'static str,
        resource_type: &'static str,
        result: AuditResult,
    ) -> AuditRecord {
        AuditRecord {
            actor_type: ActorType::Anonymous,
            actor_id: None,
            action,
            resource_type,
            resource_id: None,
            result,
            meta: meta.clone(),
            tenant_id: None,
            partner_id: None,
            details: Value::Object(serde_json::Map::new()),
        }
    }

    /// A successful action of a person proven by something other than a session (a mailed
    /// link): the actor is the user.
    #[must_use]
    pub fn by_user(
        user: crate::id::UserId,
        meta: &RequestMeta,
        action: &'static str,
        resource_type: &'static str,
    ) -> AuditRecord {
        AuditRecord {
            actor_type: ActorType::User,
            actor_id: Some(user.to_string()),
            ..AuditRecord::anonymous(meta, action, resource_type, AuditResult::Success)
        }
    }

    /// Sets the outcome.
    #[must_use]
    pub fn with_result(mut self, result: AuditResult) -> Self {
        self.result = result;
        self
    }
}
