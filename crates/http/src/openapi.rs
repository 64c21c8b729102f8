//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::routes::{
    applications, audit, auth, federation, groups, meta, oauth, partners, registrations, sessions, tenants, users,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "ScaiKey", description = "Multi-tenant identity platform: admin API, authentication and discovery."),
    paths(
        auth::login,
        partners::list, partners::create, partners::get, partners::update, partners::delete,
        tenants::list, tenants::create, tenants::get, tenants::update, tenants::delete,
        users::list, users::create, users::get, users::update, users::delete, users::reset_password, users::disable_mfa,
        groups::list, groups::create, groups::get, groups::update, groups::delete,
        groups::add_member, groups::remove_member, groups::add_child, groups::remove_child,
        sessions::list, sessions::get, sessions::revoke,
        applications::list, applications::create, applications::get, applications::update, applications::delete,
        applications::rotate_secret, applications::assignments, applications::assign, applications::unassign,
        applications::effective_users,
        registrations::list, registrations::create, registrations::get, registrations::cancel,
        registrations::approve, registrations::reject,
        oauth::token,
        audit::list, audit::get, audit::stats, audit::activity,
        federation::idp_list, federation::idp_create, federation::idp_get, federation::idp_update, federation::idp_delete,
        federation::agent_list, federation::agent_create, federation::agent_get, federation::agent_update, federation::agent_delete,
        meta::healthz, meta::readyz, meta::jwks, meta::discovery, meta::authorization_server_metadata,
    ),
    components(schemas(
        dto::common::Pagination, dto::common::ValidationError, dto::common::HTTPValidationError, dto::common::ErrorDetail,
        dto::auth::LoginBody, dto::auth::TokenOut,
        dto::partners::PartnerOut, dto::partners::PartnerList, dto::partners::PartnerCreate, dto::partners::PartnerUpdate,
        dto::tenants::TenantOut, dto::tenants::TenantList, dto::tenants::TenantCreate, dto::tenants::TenantUpdate,
        dto::users::UserOut, dto::users::UserList, dto::users::UserCreate, dto::users::UserUpdate, dto::users::ResetPassword,
        dto::users::GroupOut, dto::users::GroupDetailOut, dto::users::GroupList, dto::users::GroupCreate, dto::users::GroupUpdate,
        dto::users::MemberOut, dto::users::ChildGroupOut, dto::users::MemberAdd, dto::users::NestedAdd,
        dto::users::MembershipOut, dto::users::NestingOut, dto::users::SessionOut, dto::users::SessionList,
        dto::apps::ApplicationOut, dto::apps::ApplicationCreatedOut, dto::apps::ApplicationList, dto::apps::ApplicationCreate,
        dto::apps::ApplicationUpdate, dto::apps::SecretOut, dto::apps::AssignmentCreate, dto::apps::AssignmentOut,
        dto::apps::AssignmentList, dto::apps::GrantOut, dto::apps::EffectiveUserOut, dto::apps::EffectiveUserList,
        dto::apps::RegistrationOut, dto::apps::RegistrationList, dto::apps::RegistrationRequestCreate,
        dto::federation::IdentityProviderOut, dto::federation::IdentityProviderList, dto::federation::IdentityProviderWrite,
        dto::federation::AgentOut, dto::federation::AgentList, dto::federation::AgentWrite,
        dto::audit::AuditEventOut, dto::audit::AuditList, dto::audit::StatsOut, dto::audit::ActivityOut,
        dto::apps::ApprovalData, dto::apps::RejectionData, dto::apps::ClientTokenOut, dto::apps::OAuthErrorOut,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "Auth", description = "Logging in"),
        (name = "Partners", description = "Partners resell ScaiKey and run tenants"),
        (name = "Tenants", description = "Tenants hold users, groups and applications"),
        (name = "Users", description = "People who log in, with admin roles"),
        (name = "Groups", description = "Groups of users, nested to any depth"),
        (name = "Sessions", description = "SSO sessions opened at login"),
        (name = "Applications", description = "OAuth clients and SAML service providers"),
        (name = "Registration Requests", description = "Requests for new applications, approved by an admin"),
        (name = "OAuth", description = "The token endpoint"),
        (name = "Identity Providers", description = "Upstream OIDC and SAML providers for federation"),
        (name = "MCP Agents", description = "AI agent identities for the MCP integration"),
        (name = "Audit", description = "Who did what, when, with what result"),
        (name = "Dashboard", description = "Counts and recent activity for the admin home page"),
        (name = "Meta", description = "Health, readiness and well-known documents"),
    )
)]
struct ApiDoc;

/// The document as JSON.
#[must_use]
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
