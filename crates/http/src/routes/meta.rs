//! Health, readiness, well-known documents and the OpenAPI document.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// Process is up.
#[utoipa::path(get, path = "/healthz", tag = "Meta", responses((status = 200, description = "Up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Database reachable.
#[utoipa::path(get, path = "/readyz", tag = "Meta",
    responses((status = 200, description = "Ready"), (status = 503, description = "Database unreachable")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.readiness.ready().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "detail": "Database unreachable"}))
    }
}

/// Public signing keys.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "Meta", responses((status = 200, description = "JWK Set")))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(state.jwks.as_ref())
}

/// The discovery document (RFC 8414 / OpenID Connect Discovery fields that apply).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "Meta", responses((status = 200, description = "Discovery document")))]
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    let iss = state.issuer.trim_end_matches('/');
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "scopes_supported": ["openid", "profile", "email", "admin:read", "admin:write"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [state.signing_alg],
        "token_endpoint_auth_signing_alg_values_supported": [state.signing_alg],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti", "scope", "sid", "tenant_id", "partner_id", "roles", "client_id", "app_id", "scope_level"],
        "scaikey_login_endpoint": format!("{iss}/api/v1/auth/login"),
    }))
}

/// The OpenAPI document; 404 in production.
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    if !state.expose_openapi {
        return HttpResponse::NotFound().json(json!({"detail": "Not Found"}));
    }
    HttpResponse::Ok().json(crate::openapi::document())
}
