//! Health, readiness, well-known documents and the OpenAPI document.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

/// Process is up.
#[utoipa::path(get, path = "/healthz", tag = "Meta", operation_id = "get_health",
    responses((status = 200, body = crate::dto::schema::Health, description = "Up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Database reachable.
#[utoipa::path(get, path = "/readyz", tag = "Meta", operation_id = "get_readiness",
    responses(
        (status = 200, body = crate::dto::schema::Readiness, description = "Ready"),
        (status = 503, body = crate::dto::schema::Readiness, description = "Database unreachable"),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.readiness.ready().await {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "detail": "Database unreachable"}))
    }
}

/// Public signing keys.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "Meta", operation_id = "get_jwks",
    responses((status = 200, body = crate::dto::schema::Jwks, description = "JWK Set")))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    crate::cors::public(
        HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(state.keys.jwks().as_ref()),
    )
}

/// The discovery document (OpenID Connect Discovery 1.0, also served as RFC 8414 authorization
/// server metadata). It names only what this server does, so a stock client configures itself
/// from it and nothing else.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "Meta", operation_id = "openid_configuration",
    responses((status = 200, body = crate::dto::schema::Discovery, description = "Discovery document")))]
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    crate::cors::public(
        HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(metadata(&state)),
    )
}

/// RFC 8414 authorization server metadata: the same document as the OpenID discovery.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "Meta", operation_id = "oauth_authorization_server_metadata",
    responses((status = 200, body = crate::dto::schema::Discovery, description = "Authorization server metadata")))]
pub async fn authorization_server_metadata(state: web::Data<AppState>) -> HttpResponse {
    discovery(state).await
}

/// The path-inserted forms of the metadata (RFC 8414 §3.1: `/.well-known/oauth-authorization-server/{path}`,
/// and `/.well-known/openid-configuration/{path}` as the MCP authorization spec also tries) for
/// an issuer with a path, e.g. `https://id.example.com/acme` behind a proxy that forwards
/// `/.well-known/…` to ScaiKey; any other path is a 404.
pub async fn path_inserted_metadata(state: web::Data<AppState>, tail: web::Path<String>) -> HttpResponse {
    let issuer_path =
        url::Url::parse(&state.issuer).map(|u| u.path().trim_matches('/').to_string()).unwrap_or_default();
    if !issuer_path.is_empty() && tail.trim_matches('/') == issuer_path {
        discovery(state).await
    } else {
        HttpResponse::NotFound().json(json!({"detail": "Not Found"}))
    }
}

fn metadata(state: &AppState) -> serde_json::Value {
    use scaikey_domain::oauth_scope::{ADMIN_SCOPES, OIDC_SCOPES};
    let iss = state.issuer.trim_end_matches('/');
    let scopes: Vec<&str> =
        OIDC_SCOPES.iter().filter(|s| !matches!(**s, "phone" | "address")).chain(&ADMIN_SCOPES).copied().collect();
    json!({
        "issuer": state.issuer,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "end_session_endpoint": format!("{iss}/oauth/logout"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "registration_endpoint": format!("{iss}/oauth/register"),
        "client_id_metadata_document_supported": state.dcr.cimd,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
        // Absent, OIDC Discovery §3 reads both as true; `request` and `request_uri` are refused.
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        // Reserved scopes ScaiKey gives a meaning to; applications add their own.
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": state.id_token_algs,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp", "amr", "acr", "at_hash", "tenant_id", "email", "email_verified", "name", "given_name", "family_name", "groups", "roles"],
        "scaikey_login_endpoint": format!("{iss}/api/v1/auth/login"),
    })
}

/// The OpenAPI document; 404 in production.
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    if !state.expose_openapi {
        return HttpResponse::NotFound().json(json!({"detail": "Not Found"}));
    }
    HttpResponse::Ok().json(crate::openapi::document())
}
