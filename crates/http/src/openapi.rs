//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::routes::{
    applications, audit, auth, dcr, federation, groups, keys, meta, oauth, partners, registrations, sessions, tenants,
    users,
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

/// The answers every request of a kind can get, added to each operation that does not name
/// them itself (the annotations name the answers that depend on the handler):
///
/// - 401 and 403 for bearer operations of the admin API: the `Authenticated` extractor, then the
///   access rules (a user without an admin role, a client token without the admin scope); the
///   OAuth endpoints (`/oauth/…`) name their own RFC 6750 answers;
/// - 404 for operations with a path ID: a wrong shape is a 404 like a missing resource;
/// - 413, 415 and 422 for JSON bodies (`JsonBody`), 422 for query parameters (`ListQuery`);
/// - 503 for everything under `/api/`: the database is unreachable or its pool exhausted.
struct StandardAnswers;

impl StandardAnswers {
    fn add(op: &mut Operation, path: &str) {
        let bearer = op.security.as_ref().is_some_and(|s| !s.is_empty()) && path.starts_with("/api/");
        let params = op.parameters.as_deref().unwrap_or_default();
        let in_path = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
        let in_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
        let json_body = op.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
        let answers = [
            ("401", "Unauthorized", bearer),
            ("403", "Forbidden", bearer),
            ("404", "NotFound", in_path),
            ("413", "PayloadTooLarge", json_body),
            ("415", "UnsupportedMediaType", json_body),
            ("422", "ValidationFailed", json_body || in_query),
            ("503", "Unavailable", path.starts_with("/api/")),
        ];
        for (status, response, applies) in answers {
            if applies {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(response)));
            }
        }
    }
}

impl Modify for StandardAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                Self::add(op, path);
            }
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
        users::list, users::create, users::get, users::update, users::delete, users::reset_password, users::invite, users::identities, users::unlink, users::disable_mfa,
        groups::list, groups::create, groups::get, groups::update, groups::delete,
        groups::add_member, groups::remove_member, groups::add_child, groups::remove_child,
        sessions::list, sessions::get, sessions::revoke,
        keys::list, keys::rotate,
        applications::list, applications::create, applications::get, applications::update, applications::delete,
        applications::rotate_secret, applications::assignments, applications::assign, applications::unassign,
        applications::effective_users,
        registrations::list, registrations::create, registrations::get, registrations::cancel,
        registrations::approve, registrations::reject,
        oauth::token, oauth::userinfo, oauth::introspect, oauth::revoke, dcr::register, dcr::read,
        audit::list, audit::get, audit::stats, audit::activity,
        federation::idp_list, federation::idp_create, federation::idp_get, federation::idp_update, federation::idp_delete,
        federation::agent_list, federation::agent_create, federation::agent_get, federation::agent_update, federation::agent_delete, federation::agent_rotate_secret,
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
        dto::federation::LinkedIdentityOut, dto::federation::LinkedIdentityList,
        dto::federation::AgentOut, dto::federation::AgentList, dto::federation::AgentWrite,
        dto::audit::AuditEventOut, dto::audit::AuditList, dto::audit::StatsOut, dto::audit::ActivityOut,
        dto::apps::ApprovalData, dto::apps::RejectionData, dto::apps::OAuthTokenOut, dto::apps::OAuthErrorOut,
        dto::schema::Status, dto::schema::Role, dto::schema::ApplicationType, dto::schema::ScopeLevel,
        dto::schema::RegistrationStatus, dto::schema::Protocol, dto::schema::AuditResult, dto::schema::ActorType,
        dto::schema::GrantType, dto::schema::MfaMethod, dto::schema::TenantSettings,
        dto::schema::PartnerId, dto::schema::TenantId, dto::schema::UserId, dto::schema::GroupId,
        dto::schema::ApplicationId, dto::schema::IdentityProviderId, dto::schema::AgentId, dto::schema::SessionId,
        dto::schema::RegistrationRequestId, dto::schema::AuditEventId, dto::schema::AssignmentId,
        sessions::SessionActivity,
        dto::keys::SigningKeyOut, dto::keys::SigningKeyList, dto::keys::KeyRotation, dto::schema::KeyState,
    ), responses(
        dto::schema::Unauthorized, dto::schema::Forbidden, dto::schema::NotFound, dto::schema::Conflict,
        dto::schema::PayloadTooLarge, dto::schema::UnsupportedMediaType, dto::schema::ValidationFailed,
        dto::schema::Unavailable,
    )),
    modifiers(&BearerAuth, &StandardAnswers),
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
        (name = "Signing Keys", description = "The keys that sign tokens, and their rotation"),
        (name = "Meta", description = "Health, readiness and well-known documents"),
    )
)]
struct ApiDoc;

/// The document as JSON.
#[must_use]
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use scaikey_domain::application::{MAX_LIST_LEN, MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME};
    use scaikey_domain::federation::{MAX_CERTIFICATE_LEN, MAX_IDENT_LEN, MAX_ITEMS, MAX_RATE_LIMIT_RPM};
    use scaikey_domain::oauth_scope::MAX_SCOPES;
    use scaikey_domain::password::MAX_PASSWORD_LEN;
    use scaikey_domain::validation::{MAX_DESCRIPTION_LEN, MAX_EMAIL_LEN, MAX_LIMIT, MAX_NAME_LEN, MAX_SLUG_LEN};
    use serde_json::{Value, json};

    use super::document;

    /// The literal bounds in the annotations are the constants the server checks.
    #[test]
    fn declared_bounds_are_the_enforced_ones() {
        let doc = document();
        let field = |schema: &str, name: &str, key: &str| -> Value {
            doc["components"]["schemas"][schema]["properties"][name][key].clone()
        };
        for (schema, name) in [("PartnerCreate", "name"), ("TenantUpdate", "name"), ("GroupCreate", "name")] {
            assert_eq!(field(schema, name, "maxLength"), json!(MAX_NAME_LEN), "{schema}.{name}");
        }
        for (schema, name) in [("UserCreate", "first_name"), ("AgentWrite", "name"), ("ApplicationCreate", "name")] {
            assert_eq!(field(schema, name, "maxLength"), json!(MAX_NAME_LEN), "{schema}.{name}");
        }
        for (schema, name) in [("GroupCreate", "description"), ("ApplicationCreate", "description")] {
            assert_eq!(field(schema, name, "maxLength"), json!(MAX_DESCRIPTION_LEN), "{schema}.{name}");
        }
        assert_eq!(field("RejectionData", "reason", "maxLength"), json!(MAX_DESCRIPTION_LEN));
        assert_eq!(field("UserCreate", "email", "maxLength"), json!(MAX_EMAIL_LEN));
        assert_eq!(field("PartnerCreate", "contact_email", "maxLength"), json!(MAX_EMAIL_LEN));
        assert_eq!(field("PartnerCreate", "slug", "maxLength"), json!(MAX_SLUG_LEN));
        assert_eq!(field("PartnerCreate", "max_tenants", "maximum"), json!(MAX_LIMIT));
        assert_eq!(field("UserCreate", "password", "maxLength"), json!(MAX_PASSWORD_LEN));
        assert_eq!(field("ResetPassword", "new_password", "maxLength"), json!(MAX_PASSWORD_LEN));
        assert_eq!(field("ApplicationCreate", "token_lifetime", "minimum"), json!(MIN_TOKEN_LIFETIME));
        assert_eq!(field("ApplicationCreate", "token_lifetime", "maximum"), json!(MAX_TOKEN_LIFETIME));
        assert_eq!(field("ApplicationCreate", "redirect_uris", "maxItems"), json!(MAX_LIST_LEN));
        assert_eq!(field("ApplicationCreate", "allowed_scopes", "maxItems"), json!(MAX_SCOPES));
        assert_eq!(field("IdentityProviderWrite", "client_id", "maxLength"), json!(MAX_IDENT_LEN));
        assert_eq!(field("IdentityProviderWrite", "certificate", "maxLength"), json!(MAX_CERTIFICATE_LEN));
        assert_eq!(field("IdentityProviderWrite", "scopes", "maxItems"), json!(MAX_ITEMS));
        assert_eq!(field("AgentWrite", "rate_limit_rpm", "maximum"), json!(MAX_RATE_LIMIT_RPM));
        assert_eq!(
            field("IdentityProviderWrite", "client_secret", "maxLength"),
            json!(scaikey_app::federation::MAX_SECRET_LEN)
        );
        let page = &doc["paths"]["/api/v1/admin/partners"]["get"]["parameters"][0]["schema"];
        assert_eq!(page["maximum"], json!(crate::dto::schema::MAX_PAGE));
    }
}
