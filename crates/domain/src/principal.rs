//! Who is calling: a signed-in user, an application holding a client-credentials token, or an
//! MCP agent holding its own.

use crate::id::{AgentId, ApplicationId, PartnerId, SessionId, TenantId, UserId};
use crate::role::{Role, Roles};
use crate::scope::ScopeLevel;

/// Scope a platform token needs for admin reads.
pub const ADMIN_READ_SCOPE: &str = "admin:read";
/// Scope a platform token needs for admin writes.
pub const ADMIN_WRITE_SCOPE: &str = "admin:write";

/// The authenticated caller of a request, built from a verified access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user signed in through `/api/v1/auth/login`.
    User(UserPrincipal),
    /// An application holding a `client_credentials` token.
    Client(ClientPrincipal),
    /// An MCP agent holding a `client_credentials` token of its own (contract §12).
    Agent(AgentPrincipal),
}

/// An MCP agent: it acts within its tenant with a tenant admin's reach, capped by its scopes
/// (`admin:read` for reads, `admin:write` for writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPrincipal {
    /// The agent.
    pub agent_id: AgentId,
    /// Its client ID (the token's `sub`).
    pub client_id: String,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// OAuth scopes granted to this token.
    pub scopes: Vec<String>,
}

impl AgentPrincipal {
    /// `true` if the token carries `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    /// The user.
    pub user_id: UserId,
    /// The SSO session the token belongs to.
    pub session_id: SessionId,
    /// The user's tenant; `None` for platform-level users (super admins).
    pub tenant_id: Option<TenantId>,
    /// The partner of the user's tenant, if any.
    pub partner_id: Option<PartnerId>,
    /// Admin roles held.
    pub roles: Roles,
}

/// An application authenticated by client credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPrincipal {
    /// The application.
    pub app_id: ApplicationId,
    /// Its public client ID.
    pub client_id: String,
    /// Its scope level.
    pub scope_level: ScopeLevel,
    /// Its tenant, for TENANT apps.
    pub tenant_id: Option<TenantId>,
    /// Its partner, for PARTNER apps (and TENANT apps under a partner).
    pub partner_id: Option<PartnerId>,
    /// OAuth scopes granted to this token.
    pub scopes: Vec<String>,
}

impl ClientPrincipal {
    /// `true` if the token carries `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

impl Principal {
    /// The widest admin role of a user; `None` for clients and non-admin users.
    #[must_use]
    pub fn highest_role(&self) -> Option<Role> {
        match self {
            Principal::User(u) => u.roles.highest(),
            Principal::Client(_) => None,
            // An agent acts with a tenant admin's reach (and grants no more).
            Principal::Agent(_) => Some(Role::TenantAdmin),
        }
    }

    /// Where the caller lives: its tenant and that tenant's partner (or, for a PARTNER
    /// application, its partner); `(None, None)` at platform level.
    #[must_use]
    pub fn home(&self) -> (Option<TenantId>, Option<PartnerId>) {
        match self {
            Principal::User(u) => (u.tenant_id, u.partner_id),
            Principal::Client(c) => (c.tenant_id, c.partner_id),
            Principal::Agent(a) => (Some(a.tenant_id), a.partner_id),
        }
    }

    /// A stable text for audit and logs: `usr_…` or the application's `app_…`.
    #[must_use]
    pub fn actor_id(&self) -> String {
        match self {
            Principal::User(u) => u.user_id.to_string(),
            Principal::Client(c) => c.app_id.to_string(),
            Principal::Agent(a) => a.agent_id.to_string(),
        }
    }
}
