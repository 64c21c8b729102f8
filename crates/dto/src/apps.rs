//! Application, assignment, effective-user and registration-request wire types.

use chrono::{DateTime, Utc};
use scaikey_app::applications::ApplicationInput;
use scaikey_app::ports::{Assignee, Assignment, EffectiveUser};
use scaikey_app::registrations::RegistrationInput;
use scaikey_domain::application::Application;
use scaikey_domain::registration::RegistrationRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema as s;
use crate::double_option;

/// An application. The client secret is never shown here.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationOut {
    /// `app_…`
    #[schema(value_type = s::ApplicationId)]
    pub id: String,
    /// Public client ID.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// WEB, SPA, NATIVE, SERVICE or SAML_SP.
    #[schema(value_type = s::ApplicationType)]
    pub application_type: String,
    /// GLOBAL, PARTNER or TENANT.
    #[schema(value_type = s::ScopeLevel)]
    pub scope: String,
    /// Partner (PARTNER apps; the tenant's partner for TENANT apps).
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Tenant (TENANT apps).
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Redirect URIs.
    #[schema(value_type = Vec<s::RedirectUri>)]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[schema(value_type = Vec<s::RedirectUri>)]
    pub post_logout_redirect_uris: Vec<String>,
    /// CORS origins.
    #[schema(value_type = Vec<s::Origin>)]
    pub allowed_origins: Vec<String>,
    /// Scopes the application may be granted.
    #[schema(value_type = Vec<s::ScopeToken>)]
    pub allowed_scopes: Vec<String>,
    /// Resources (RFC 8707 absolute URIs) it may ask tokens for; each becomes the token's `aud`.
    #[schema(value_type = Vec<s::ResourceIndicator>)]
    pub allowed_resources: Vec<String>,
    /// Grant types it may use.
    #[schema(value_type = Vec<s::GrantType>)]
    pub grant_types: Vec<String>,
    /// Access token lifetime in seconds.
    #[schema(minimum = 60, maximum = 86400)]
    pub token_lifetime: i64,
    /// May exchange tokens.
    pub token_exchange_allowed: bool,
    /// Only its effective users (assigned directly or through nested groups) may sign in.
    pub assignment_required: bool,
    /// First-party applications sign users in without a consent page.
    pub first_party: bool,
    /// `ES256` or `RS256`: how its ID tokens are signed.
    #[schema(value_type = s::SigningAlg)]
    pub id_token_signed_response_alg: String,
    /// `active` or `suspended`.
    #[schema(value_type = s::Status)]
    pub status: String,
    /// `true` for SPA, NATIVE and SAML_SP (no secret).
    pub public_client: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Application> for ApplicationOut {
    fn from(a: Application) -> Self {
        ApplicationOut {
            id: a.id.to_string(),
            client_id: a.client_id,
            name: a.name,
            description: a.description,
            application_type: a.application_type.as_str().into(),
            scope: a.scope.as_str().into(),
            partner_id: a.partner_id.map(|p| p.to_string()),
            tenant_id: a.tenant_id.map(|t| t.to_string()),
            redirect_uris: a.redirect_uris,
            post_logout_redirect_uris: a.post_logout_redirect_uris,
            allowed_origins: a.allowed_origins,
            allowed_scopes: a.allowed_scopes,
            allowed_resources: a.allowed_resources,
            grant_types: a.grant_types,
            token_lifetime: a.token_lifetime,
            token_exchange_allowed: a.token_exchange_allowed,
            assignment_required: a.assignment_required,
            first_party: a.first_party,
            id_token_signed_response_alg: a.id_token_signed_response_alg.as_str().into(),
            status: a.status.as_str().into(),
            public_client: !a.application_type.is_confidential(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// An application just created (or approved), with its client secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCreatedOut {
    /// The application.
    #[serde(flatten)]
    pub application: ApplicationOut,
    /// The client secret (confidential clients only); store it now, it is never shown again.
    #[schema(required = true)]
    pub client_secret: Option<String>,
    /// The registration request that led to it (approvals only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = s::RegistrationRequestId)]
    pub registration_request_id: Option<String>,
}

/// A page of applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    /// Applications, newest first.
    pub items: Vec<ApplicationOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /applications`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationCreate {
    /// Name.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4096)]
    pub description: Option<Option<String>>,
    /// WEB, SPA, NATIVE, SERVICE or SAML_SP.
    #[schema(required = true, value_type = s::ApplicationType)]
    pub application_type: Option<String>,
    /// GLOBAL, PARTNER or TENANT (tenant admins: TENANT by default).
    #[schema(value_type = Option<s::ScopeLevel>)]
    pub scope: Option<String>,
    /// Required for PARTNER.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Required for TENANT (tenant admins: their own by default).
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Absolute https URLs (http only for localhost), no fragment.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub redirect_uris: Option<Vec<String>>,
    /// Same rules as redirect URIs.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `https://host[:port]` origins.
    #[schema(value_type = Option<Vec<s::Origin>>, max_items = 50)]
    pub allowed_origins: Option<Vec<String>>,
    /// RFC 6749 scope-tokens (1-128 printable ASCII characters, no space, `"` or `\\`): the
    /// application's own (`reports:read`) and the reserved OIDC scopes; `admin:read` and
    /// `admin:write` only for GLOBAL SERVICE apps.
    #[schema(value_type = Option<Vec<s::ScopeToken>>, max_items = 200)]
    pub allowed_scopes: Option<Vec<String>>,
    /// Absolute URIs (RFC 8707 resource indicators, no fragment) that `resource` may name.
    #[schema(value_type = Option<Vec<s::ResourceIndicator>>, max_items = 200)]
    pub allowed_resources: Option<Vec<String>>,
    /// Defaults by type: SERVICE `[client_credentials]`, others `[authorization_code, refresh_token]`.
    #[schema(value_type = Option<Vec<s::GrantType>>, max_items = 50)]
    pub grant_types: Option<Vec<String>>,
    /// Seconds, 60-86400 (default 3600).
    #[schema(minimum = 60, maximum = 86400)]
    pub token_lifetime: Option<i64>,
    /// Default false.
    pub token_exchange_allowed: Option<bool>,
    /// Only effective users may sign in (default false).
    pub assignment_required: Option<bool>,
    /// No consent page (default true).
    pub first_party: Option<bool>,
    /// `ES256` (default) or `RS256`.
    #[schema(value_type = Option<s::SigningAlg>)]
    pub id_token_signed_response_alg: Option<String>,
    /// `active` (default) or `suspended`.
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
}

impl ApplicationCreate {
    /// To the service's raw input.
    #[must_use]
    pub fn into_input(self) -> ApplicationInput {
        ApplicationInput {
            name: self.name,
            description: self.description,
            application_type: self.application_type,
            scope: self.scope,
            partner_id: self.partner_id,
            tenant_id: self.tenant_id,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allowed_origins: self.allowed_origins,
            allowed_scopes: self.allowed_scopes,
            allowed_resources: self.allowed_resources,
            grant_types: self.grant_types,
            token_lifetime: self.token_lifetime,
            token_exchange_allowed: self.token_exchange_allowed,
            assignment_required: self.assignment_required,
            first_party: self.first_party,
            id_token_signed_response_alg: self.id_token_signed_response_alg,
            status: self.status,
            immutable_present: Vec::new(),
        }
    }
}

/// Body of `PATCH /applications/{id}`. Type, scope, partner, tenant and client ID never change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationUpdate {
    /// Name.
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4096)]
    pub description: Option<Option<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub redirect_uris: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::Origin>>, max_items = 50)]
    pub allowed_origins: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::ScopeToken>>, max_items = 200)]
    pub allowed_scopes: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::ResourceIndicator>>, max_items = 200)]
    pub allowed_resources: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(value_type = Option<Vec<s::GrantType>>, max_items = 50)]
    pub grant_types: Option<Vec<String>>,
    /// Seconds, 60-86400.
    #[schema(minimum = 60, maximum = 86400)]
    pub token_lifetime: Option<i64>,
    /// Token exchange.
    pub token_exchange_allowed: Option<bool>,
    /// Only effective users may sign in.
    pub assignment_required: Option<bool>,
    /// No consent page.
    pub first_party: Option<bool>,
    /// `ES256` or `RS256`.
    #[schema(value_type = Option<s::SigningAlg>)]
    pub id_token_signed_response_alg: Option<String>,
    /// `active` or `suspended` (suspended apps get no tokens and their tokens are refused).
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
    /// Refused.
    #[serde(default)]
    #[schema(ignore)]
    pub application_type: Option<serde_json::Value>,
    /// Refused.
    #[serde(default)]
    #[schema(ignore)]
    pub scope: Option<serde_json::Value>,
    /// Refused.
    #[serde(default)]
    #[schema(ignore)]
    pub partner_id: Option<serde_json::Value>,
    /// Refused.
    #[serde(default)]
    #[schema(ignore)]
    pub tenant_id: Option<serde_json::Value>,
    /// Refused.
    #[serde(default)]
    #[schema(ignore)]
    pub client_id: Option<serde_json::Value>,
}

impl ApplicationUpdate {
    /// To the service's raw input.
    #[must_use]
    pub fn into_input(self) -> ApplicationInput {
        let mut immutable = Vec::new();
        for (present, name) in [
            (self.application_type.is_some(), "application_type"),
            (self.scope.is_some(), "scope"),
            (self.partner_id.is_some(), "partner_id"),
            (self.tenant_id.is_some(), "tenant_id"),
            (self.client_id.is_some(), "client_id"),
        ] {
            if present {
                immutable.push(name);
            }
        }
        ApplicationInput {
            name: self.name,
            description: self.description,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allowed_origins: self.allowed_origins,
            allowed_scopes: self.allowed_scopes,
            allowed_resources: self.allowed_resources,
            grant_types: self.grant_types,
            token_lifetime: self.token_lifetime,
            token_exchange_allowed: self.token_exchange_allowed,
            assignment_required: self.assignment_required,
            first_party: self.first_party,
            id_token_signed_response_alg: self.id_token_signed_response_alg,
            status: self.status,
            immutable_present: immutable,
            ..Default::default()
        }
    }
}

/// A new client secret, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    /// Public client ID.
    pub client_id: String,
    /// The new secret; the old one no longer works.
    pub client_secret: String,
}

/// Body of `POST /applications/{id}/assignments`: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentCreate {
    /// `usr_…`
    #[schema(value_type = Option<s::UserId>)]
    pub user_id: Option<String>,
    /// `grp_…` (members through nesting get access).
    #[schema(value_type = Option<s::GroupId>)]
    pub group_id: Option<String>,
}

/// An assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    /// `asg_…`
    #[schema(value_type = s::AssignmentId)]
    pub id: String,
    /// The application.
    #[schema(value_type = s::ApplicationId)]
    pub application_id: String,
    /// The user, for a user assignment.
    #[schema(value_type = Option<s::UserId>)]
    pub user_id: Option<String>,
    /// The group, for a group assignment.
    #[schema(value_type = Option<s::GroupId>)]
    pub group_id: Option<String>,
    /// The assignee's tenant.
    #[schema(value_type = s::TenantId)]
    pub tenant_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Assignment> for AssignmentOut {
    fn from(a: Assignment) -> Self {
        let (user_id, group_id) = match a.assignee {
            Assignee::User(u) => (Some(u.to_string()), None),
            Assignee::Group(g) => (None, Some(g.to_string())),
        };
        AssignmentOut {
            id: a.id.to_string(),
            application_id: a.application_id.to_string(),
            user_id,
            group_id,
            tenant_id: a.tenant_id.to_string(),
            created_at: a.created_at,
        }
    }
}

/// A page of assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentList {
    /// Assignments, newest first.
    pub items: Vec<AssignmentOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// How a user got access.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantOut {
    /// Assigned directly.
    pub direct: bool,
    /// Assigned groups (`grp_…`) the user belongs to, directly or through nesting.
    #[schema(value_type = Vec<s::GroupId>)]
    pub groups: Vec<String>,
}

/// A user with access to an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveUserOut {
    /// `usr_…`
    #[schema(value_type = s::UserId)]
    pub user_id: String,
    /// E-mail.
    #[schema(format = Email)]
    pub email: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Tenant.
    #[schema(value_type = s::TenantId)]
    pub tenant_id: String,
    /// Tenant name.
    pub tenant_name: String,
    /// How access was granted.
    pub granted_via: GrantOut,
}

impl From<EffectiveUser> for EffectiveUserOut {
    fn from(u: EffectiveUser) -> Self {
        EffectiveUserOut {
            user_id: u.user_id.to_string(),
            email: u.email,
            display_name: u.display_name,
            tenant_id: u.tenant_id.to_string(),
            tenant_name: u.tenant_name,
            granted_via: GrantOut { direct: u.direct, groups: u.via_groups.iter().map(ToString::to_string).collect() },
        }
    }
}

/// A page of effective users.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectiveUserList {
    /// Users, each once, by user ID descending.
    pub items: Vec<EffectiveUserOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// A registration request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOut {
    /// `reg_…`
    #[schema(value_type = s::RegistrationRequestId)]
    pub id: String,
    /// GLOBAL, PARTNER or TENANT.
    #[schema(value_type = s::ScopeLevel)]
    pub scope: String,
    /// Tenant.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Partner.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Requested application name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Requested type.
    #[schema(value_type = s::ApplicationType)]
    pub application_type: String,
    /// Redirect URIs.
    #[schema(value_type = Vec<s::RedirectUri>)]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[schema(value_type = Vec<s::RedirectUri>)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Origins.
    #[schema(value_type = Vec<s::Origin>)]
    pub allowed_origins: Vec<String>,
    /// Requested scopes.
    #[schema(value_type = Vec<s::ScopeToken>)]
    pub requested_scopes: Vec<String>,
    /// Requested resources (the application's `allowed_resources` once approved).
    #[schema(value_type = Vec<s::ResourceIndicator>)]
    pub requested_resources: Vec<String>,
    /// Grant types.
    #[schema(value_type = Vec<s::GrantType>)]
    pub grant_types: Vec<String>,
    /// Contact.
    #[schema(format = Email)]
    pub contact_email: String,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Organisation.
    pub organization_name: Option<String>,
    /// Website.
    pub website_url: Option<String>,
    /// PENDING, APPROVED, REJECTED, CANCELLED or EXPIRED (a pending request past `expires_at`
    /// reads EXPIRED at once).
    #[schema(value_type = s::RegistrationStatus)]
    pub status: String,
    /// Creator.
    pub created_by: Option<String>,
    /// Reviewer.
    pub reviewed_by: Option<String>,
    /// Review time.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Approval notes.
    pub review_notes: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// The application approval created.
    #[schema(value_type = Option<s::ApplicationId>)]
    pub application_id: Option<String>,
    /// When a pending request expires.
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<RegistrationRequest> for RegistrationOut {
    fn from(r: RegistrationRequest) -> Self {
        RegistrationOut {
            id: r.id.to_string(),
            scope: r.scope.as_str().into(),
            tenant_id: r.tenant_id.map(|t| t.to_string()),
            partner_id: r.partner_id.map(|p| p.to_string()),
            name: r.name,
            description: r.description,
            application_type: r.settings.application_type.as_str().into(),
            redirect_uris: r.settings.redirect_uris,
            post_logout_redirect_uris: r.settings.post_logout_redirect_uris,
            allowed_origins: r.settings.allowed_origins,
            requested_scopes: r.settings.allowed_scopes,
            requested_resources: r.settings.allowed_resources,
            grant_types: r.settings.grant_types,
            contact_email: r.contact_email,
            contact_name: r.contact_name,
            organization_name: r.organization_name,
            website_url: r.website_url,
            status: r.status.as_str().into(),
            created_by: r.created_by,
            reviewed_by: r.reviewed_by,
            reviewed_at: r.reviewed_at,
            review_notes: r.review_notes,
            rejection_reason: r.rejection_reason,
            application_id: r.application_id.map(|a| a.to_string()),
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of registration requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationList {
    /// Requests, newest first.
    pub items: Vec<RegistrationOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /registration-requests` (seed `RegistrationRequestCreate`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationRequestCreate {
    /// GLOBAL, PARTNER, or TENANT.
    #[schema(required = true, value_type = s::ScopeLevel)]
    pub scope: Option<String>,
    /// Required for TENANT scope.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Required for PARTNER scope.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Application name.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Description.
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    /// WEB, SPA, NATIVE, SERVICE, SAML_SP.
    #[schema(required = true, value_type = s::ApplicationType)]
    pub application_type: Option<String>,
    /// Redirect URIs.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub redirect_uris: Option<Vec<String>>,
    /// Post-logout redirect URIs.
    #[schema(value_type = Option<Vec<s::RedirectUri>>, max_items = 50)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Origins.
    #[schema(value_type = Option<Vec<s::Origin>>, max_items = 50)]
    pub allowed_origins: Option<Vec<String>>,
    /// Scope-tokens, the application's own or reserved; default `['openid', 'profile', 'email']`.
    #[schema(value_type = Option<Vec<s::ScopeToken>>, max_items = 200)]
    pub requested_scopes: Option<Vec<String>>,
    /// Absolute URIs (RFC 8707) the application will ask tokens for.
    #[schema(value_type = Option<Vec<s::ResourceIndicator>>, max_items = 200)]
    pub requested_resources: Option<Vec<String>>,
    /// Default `['authorization_code', 'refresh_token']` (`['client_credentials']` for SERVICE).
    #[schema(value_type = Option<Vec<s::GrantType>>, max_items = 50)]
    pub grant_types: Option<Vec<String>>,
    /// Contact e-mail.
    #[schema(required = true, value_type = String, format = Email, max_length = 254)]
    pub contact_email: Option<String>,
    /// Contact name.
    #[schema(max_length = 255)]
    pub contact_name: Option<String>,
    /// Organisation.
    #[schema(max_length = 255)]
    pub organization_name: Option<String>,
    /// Website.
    #[schema(format = "uri", max_length = 2048)]
    pub website_url: Option<String>,
}

impl RegistrationRequestCreate {
    /// To the service's raw input.
    #[must_use]
    pub fn into_input(self) -> RegistrationInput {
        RegistrationInput {
            scope: self.scope,
            tenant_id: self.tenant_id,
            partner_id: self.partner_id,
            name: self.name,
            description: self.description,
            application_type: self.application_type,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            allowed_origins: self.allowed_origins,
            requested_scopes: self.requested_scopes,
            requested_resources: self.requested_resources,
            grant_types: self.grant_types,
            contact_email: self.contact_email,
            contact_name: self.contact_name,
            organization_name: self.organization_name,
            website_url: self.website_url,
        }
    }
}

/// Data for approving a request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApprovalData {
    /// Notes kept with the review.
    #[schema(max_length = 4096)]
    pub notes: Option<String>,
}

/// Data for rejecting a request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectionData {
    /// Why (required, non-empty).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 4096)]
    pub reason: Option<String>,
}

/// A client-credentials token.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthTokenOut {
    /// The access token (an RFC 9068 JWT).
    pub access_token: String,
    /// `Bearer`.
    #[schema(value_type = s::TokenType)]
    pub token_type: &'static str,
    /// Seconds until expiry (the application's `token_lifetime`).
    #[schema(minimum = 60, maximum = 86400)]
    pub expires_in: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// A new refresh token (code and refresh grants, for applications with the refresh grant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The OpenID Connect ID token (when `openid` was granted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693: the kind of token issued by a token exchange
    /// (`urn:ietf:params:oauth:token-type:access_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorOut {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`, `unsupported_grant_type`,
    /// `invalid_scope`, `server_error`.
    pub error: String,
    /// For people.
    pub error_description: String,
}
