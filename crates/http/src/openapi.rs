//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::routes::{auth, meta, partners, tenants};

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
        meta::healthz, meta::readyz, meta::jwks, meta::discovery,
    ),
    components(schemas(
        dto::common::Pagination, dto::common::ValidationError, dto::common::HTTPValidationError, dto::common::ErrorDetail,
        dto::auth::LoginBody, dto::auth::TokenOut,
        dto::partners::PartnerOut, dto::partners::PartnerList, dto::partners::PartnerCreate, dto::partners::PartnerUpdate,
        dto::tenants::TenantOut, dto::tenants::TenantList, dto::tenants::TenantCreate, dto::tenants::TenantUpdate,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "Auth", description = "Logging in"),
        (name = "Partners", description = "Partners resell ScaiKey and run tenants"),
        (name = "Tenants", description = "Tenants hold users, groups and applications"),
        (name = "Meta", description = "Health, readiness and well-known documents"),
    )
)]
struct ApiDoc;

/// The document as JSON.
#[must_use]
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
