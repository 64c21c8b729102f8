//! Identity-provider and agent wire types.

use chrono::{DateTime, Utc};
use scaikey_app::federation::{AgentInput, IdpInput};
use scaikey_domain::federation::{Agent, IdentityProvider};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema as s;
use crate::double_option;

/// An identity provider. The OIDC client secret is never returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProviderOut {
    /// `idp_…`
    #[schema(value_type = s::IdentityProviderId)]
    pub id: String,
    /// Its tenant.
    #[schema(value_type = s::TenantId)]
    pub tenant_id: String,
    /// Name.
    pub name: String,
    /// `OIDC` or `SAML`.
    #[schema(value_type = s::Protocol)]
    pub protocol: String,
    /// Offered at login.
    pub enabled: bool,
    /// OIDC issuer.
    #[schema(format = "uri")]
    pub issuer: Option<String>,
    /// OIDC client ID.
    pub client_id: Option<String>,
    /// Whether an OIDC client secret is stored.
    pub client_secret_set: bool,
    /// OIDC scopes.
    #[schema(value_type = Vec<s::NameToken>)]
    pub scopes: Vec<String>,
    /// SAML entity ID.
    pub entity_id: Option<String>,
    /// SAML SSO URL.
    #[schema(format = "uri")]
    pub sso_url: Option<String>,
    /// SAML signing certificate (PEM).
    pub certificate: Option<String>,
    /// Create a user on the first sign-in of someone with no account (default true).
    pub jit_provisioning: bool,
    /// `custom_attributes` key → upstream claim (OIDC) or attribute (SAML) copied on each sign-in.
    #[schema(value_type = Object)]
    pub attribute_mapping: std::collections::BTreeMap<String, String>,
    /// The URL to register at the provider: the OIDC callback or the SAML ACS (read-only).
    #[schema(format = "uri")]
    pub redirect_uri: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl IdentityProviderOut {
    /// The wire form of `i`, its `redirect_uri` under `issuer`.
    #[must_use]
    pub fn new(i: IdentityProvider, issuer: &str) -> Self {
        IdentityProviderOut {
            redirect_uri: scaikey_domain::federated::callback_url(issuer, i.id, i.protocol),
            jit_provisioning: i.jit_provisioning,
            attribute_mapping: i.attribute_mapping,
            id: i.id.to_string(),
            tenant_id: i.tenant_id.to_string(),
            name: i.name,
            protocol: i.protocol.as_str().into(),
            enabled: i.enabled,
            issuer: i.issuer,
            client_id: i.client_id,
            client_secret_set: i.client_secret_set,
            scopes: i.scopes,
            entity_id: i.entity_id,
            sso_url: i.sso_url,
            certificate: i.certificate,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A page of identity providers.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityProviderList {
    /// Newest first.
    pub items: Vec<IdentityProviderOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /identity-providers` and `PATCH /identity-providers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityProviderWrite {
    /// Name (required on create).
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// `OIDC` or `SAML` (create only).
    #[schema(value_type = Option<s::Protocol>)]
    pub protocol: Option<String>,
    /// Tenant (create only; tenant admins: their own by default).
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// OIDC: https issuer URL.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = "uri", max_length = 2048)]
    pub issuer: Option<Option<String>>,
    /// OIDC: client ID at the provider.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 1024)]
    pub client_id: Option<Option<String>>,
    /// OIDC: client secret, write-only (stored encrypted; `null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 1024, format = Password, write_only)]
    pub client_secret: Option<Option<String>>,
    /// OIDC: scopes, must include `openid` (default openid, profile, email).
    #[schema(value_type = Option<Vec<s::NameToken>>, max_items = 200)]
    pub scopes: Option<Vec<String>>,
    /// SAML: entity ID.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 1024)]
    pub entity_id: Option<Option<String>>,
    /// SAML: https SSO URL.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = "uri", max_length = 2048)]
    pub sso_url: Option<Option<String>>,
    /// SAML: PEM X.509 signing certificate.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 16384)]
    pub certificate: Option<Option<String>>,
    /// Create a user on the first sign-in of someone with no account (default true).
    pub jit_provisioning: Option<bool>,
    /// `custom_attributes` key → upstream claim name, copied on each sign-in (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub attribute_mapping: Option<Option<serde_json::Value>>,
}

impl IdentityProviderWrite {
    /// To the service's raw input.
    #[must_use]
    pub fn into_input(self) -> IdpInput {
        IdpInput {
            name: self.name,
            protocol: self.protocol,
            tenant_id: self.tenant_id,
            enabled: self.enabled,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret,
            scopes: self.scopes,
            entity_id: self.entity_id,
            sso_url: self.sso_url,
            certificate: self.certificate,
            jit_provisioning: self.jit_provisioning,
            attribute_mapping: self.attribute_mapping,
        }
    }
}

/// An MCP agent.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentOut {
    /// `agt_…`
    #[schema(value_type = s::AgentId)]
    pub id: String,
    /// Its tenant.
    #[schema(value_type = s::TenantId)]
    pub tenant_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// MCP tools it may call.
    #[schema(value_type = Vec<s::NameToken>)]
    pub allowed_tools: Vec<String>,
    /// Scopes it may hold.
    #[schema(value_type = Vec<s::ScopeToken>)]
    pub allowed_scopes: Vec<String>,
    /// Requests per minute (null: unlimited).
    #[schema(minimum = 1, maximum = 1000000)]
    pub rate_limit_rpm: Option<i32>,
    /// `active` or `suspended`.
    #[schema(value_type = s::Status)]
    pub status: String,
    /// Its OAuth client ID for `client_credentials`, once `rotate-secret` issued one.
    pub client_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Agent> for AgentOut {
    fn from(a: Agent) -> Self {
        AgentOut {
            id: a.id.to_string(),
            tenant_id: a.tenant_id.to_string(),
            name: a.name,
            description: a.description,
            allowed_tools: a.allowed_tools,
            allowed_scopes: a.allowed_scopes,
            rate_limit_rpm: a.rate_limit_rpm,
            status: a.status.as_str().into(),
            client_id: a.client_id,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A page of agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    /// Newest first.
    pub items: Vec<AgentOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /agents` and `PATCH /agents/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AgentWrite {
    /// Name (required on create).
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Tenant (create only; tenant admins: their own by default).
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4096)]
    pub description: Option<Option<String>>,
    /// Tool names.
    #[schema(value_type = Option<Vec<s::NameToken>>, max_items = 200)]
    pub allowed_tools: Option<Vec<String>>,
    /// Scopes.
    #[schema(value_type = Option<Vec<s::ScopeToken>>, max_items = 200)]
    pub allowed_scopes: Option<Vec<String>>,
    /// Positive, or null for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub rate_limit_rpm: Option<Option<i64>>,
    /// `active` (default) or `suspended`.
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
}

impl AgentWrite {
    /// To the service's raw input.
    #[must_use]
    pub fn into_input(self) -> AgentInput {
        AgentInput {
            name: self.name,
            tenant_id: self.tenant_id,
            description: self.description,
            allowed_tools: self.allowed_tools,
            allowed_scopes: self.allowed_scopes,
            rate_limit_rpm: self.rate_limit_rpm,
            status: self.status,
        }
    }
}

/// An upstream identity linked to a user (contract §11).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedIdentityOut {
    /// The identity provider.
    #[schema(value_type = s::IdentityProviderId)]
    pub idp_id: String,
    /// Its name.
    pub idp_name: String,
    /// The upstream subject (`sub` or NameID).
    pub subject: String,
    /// The e-mail the provider asserted last.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// Its last sign-in.
    pub last_login_at: DateTime<Utc>,
}

impl From<scaikey_app::ports::federation::FederatedLink> for LinkedIdentityOut {
    fn from(l: scaikey_app::ports::federation::FederatedLink) -> Self {
        LinkedIdentityOut {
            idp_id: l.idp_id.to_string(),
            idp_name: l.idp_name,
            subject: l.subject,
            email: l.email,
            created_at: l.created_at,
            last_login_at: l.last_login_at,
        }
    }
}

/// The user's linked identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedIdentityList {
    /// Oldest first.
    pub items: Vec<LinkedIdentityOut>,
}
