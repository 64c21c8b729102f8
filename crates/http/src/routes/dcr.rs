//! `/oauth/register` — dynamic client registration (RFC 7591) and reading a registration
//! (RFC 7592), contract §12. Public endpoints (CORS for any origin: browser-based MCP clients
//! register too); what a registration becomes is `RegistrationService::register_client`'s.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::registrations::{DcrError, RegisteredClient};
use serde_json::{Value, json};

use crate::dto::apps::OAuthErrorOut;
use crate::state::AppState;

/// Largest registration body.
const MAX_BODY: usize = 64 * 1024;

fn error(status: actix_web::http::StatusCode, code: &str, description: &str) -> HttpResponse {
    crate::cors::public(
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({"error": code, "error_description": description})),
    )
}

fn answer(c: &RegisteredClient) -> Value {
    let r = &c.request;
    let mut v = json!({
        "client_id": c.client_id,
        "client_id_issued_at": r.created_at.timestamp(),
        "client_name": r.name,
        "redirect_uris": r.settings.redirect_uris,
        "grant_types": r.settings.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": scaikey_domain::dcr::AUTH_METHOD,
        "scope": r.settings.allowed_scopes.join(" "),
        "registration_client_uri": c.registration_client_uri,
        // ScaiKey's own: where the request stands in the approval queue.
        "scaikey_registration_request_id": r.id.to_string(),
        "scaikey_registration_status": r.status.as_str(),
    });
    if let Some(t) = &c.registration_access_token {
        v["registration_access_token"] = json!(t);
    }
    v
}

/// Register a client (RFC 7591).
#[utoipa::path(
    post, path = "/oauth/register", tag = "OAuth", operation_id = "register_client",
    description = "Dynamic client registration (RFC 7591) for public clients (`token_endpoint_auth_method: none`, PKCE), such as MCP clients. The registration becomes a registration request in the admin queue (GLOBAL, or TENANT when `scaikey_tenant` names a tenant by slug or ID) for a third-party application with the `client_id` answered here, which works once the request is approved (at once under `SCAIKEY_DCR_POLICY=auto` for clients asking only for `openid profile email offline_access` and the MCP resource). Unknown metadata is ignored. Answers the registration with its `registration_access_token` (RFC 7592) and `scaikey_registration_status`. 20 registrations an hour per client IP.",
    request_body(content_type = "application/json", content = Object, description = "RFC 7591 client metadata: `redirect_uris` (required), `client_name`, `grant_types`, `response_types`, `scope`, `contacts`, `client_uri`, `token_endpoint_auth_method` (`none`), `scaikey_tenant`"),
    responses(
        (status = 201, body = Object, description = "The registered client (`Cache-Control: no-store`)"),
        (status = 400, body = OAuthErrorOut, description = "`invalid_client_metadata` or `invalid_redirect_uri`"),
        (status = 415, body = OAuthErrorOut, description = "Not `application/json`"),
        (status = 429, body = OAuthErrorOut, description = "Too many registrations from this address", headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn register(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    use actix_web::http::StatusCode;
    if body.len() > MAX_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_client_metadata", "The registration is too large");
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_client_metadata",
            "Content-Type must be application/json",
        );
    }
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "The body is not JSON");
    };
    if crate::extract::contains_nul(&metadata) {
        return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", "Text must not contain NUL characters");
    }
    let meta = crate::extract::request_meta(&req);
    match state.registrations.register_client(&metadata, &meta, &state.dcr).await {
        Ok(c) => crate::cors::public(
            HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(answer(&c)),
        ),
        Err(DcrError::InvalidMetadata(code, d)) => error(StatusCode::BAD_REQUEST, code, &d),
        Err(DcrError::RateLimited) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_client_metadata",
                "Too many registrations from this address; try again later",
            );
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("3600"));
            r
        }
        Err(DcrError::Failed(e)) => actix_web::ResponseError::error_response(&crate::error::ApiError::App(e)),
    }
}

/// Read a registration (RFC 7592).
#[utoipa::path(
    get, path = "/oauth/register/{client_id}", tag = "OAuth", operation_id = "read_client_registration",
    description = "A dynamically registered client's registration and where its request stands, for the holder of its `registration_access_token` (`Authorization: Bearer`).",
    params(("client_id" = String, Path, description = "The registered client ID")),
    responses(
        (status = 200, body = Object, description = "The registration"),
        (status = 401, body = OAuthErrorOut, description = "`invalid_token`: unknown client or wrong token"),
    ),
    security(("bearer" = []))
)]
pub async fn read(state: web::Data<AppState>, req: HttpRequest, client_id: web::Path<String>) -> HttpResponse {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let unauthorized = || {
        crate::cors::public(
            HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"error": "invalid_token", "error_description": "A valid registration access token is required"})),
        )
    };
    let Some(token) = token else { return unauthorized() };
    match state.registrations.read_client(&client_id, &token, &state.dcr).await {
        Ok(Some(c)) => {
            crate::cors::public(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(answer(&c)))
        }
        Ok(None) => unauthorized(),
        Err(e) => actix_web::ResponseError::error_response(&crate::error::ApiError::App(e)),
    }
}
