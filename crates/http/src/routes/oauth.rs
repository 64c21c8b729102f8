//! `POST /oauth/token` (RFC 6749): the `client_credentials` grant with HTTP Basic or form client
//! authentication, RFC 8707 `resource` parameters, and §5.2 errors.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use scaikey_app::oauth::OAuthError;

use crate::dto::apps::{ClientTokenOut, OAuthErrorOut};
use crate::state::AppState;

/// Largest form accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

fn error(e: &OAuthError, basic: bool) -> HttpResponse {
    let status = match e {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut r = HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(OAuthErrorOut { error: e.code().into(), error_description: e.description() });
    if matches!(e, OAuthError::InvalidClient) {
        let v = if basic { "Basic realm=\"scaikey\"" } else { "Basic realm=\"scaikey\", error=\"invalid_client\"" };
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
    }
    r
}

fn bad(msg: &str) -> OAuthError {
    OAuthError::InvalidRequest(msg.to_string())
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-encoded).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, OAuthError> {
    let Some(h) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let h = h.to_str().map_err(|_| OAuthError::InvalidClient)?;
    let Some((scheme, value)) = h.split_once(' ') else { return Err(OAuthError::InvalidClient) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad("Only HTTP Basic client authentication is accepted in the Authorization header"));
    }
    let decoded = STANDARD.decode(value.trim()).map_err(|_| OAuthError::InvalidClient)?;
    let text = String::from_utf8(decoded).map_err(|_| OAuthError::InvalidClient)?;
    let (id, secret) = text.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let unescape = |s: &str| -> Result<String, OAuthError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| OAuthError::InvalidClient)?;
        pairs.into_iter().next().map(|(_, v)| v).ok_or(OAuthError::InvalidClient)
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// Issue a token.
#[utoipa::path(
    post, path = "/oauth/token", tag = "OAuth", operation_id = "issue_token",
    description = "RFC 6749 token endpoint, `application/x-www-form-urlencoded`. Grant `client_credentials`, with client authentication by HTTP Basic or `client_id`/`client_secret` form fields (not both). Optional `scope`: space-separated scope-tokens, a subset of the application's allowed_scopes (else `invalid_scope`); all allowed scopes when absent. Optional `resource` (RFC 8707): an absolute URI from the application's allowed_resources (else `invalid_target`); it becomes the token's `aud`, which is `scaikey` (ScaiKey's own APIs) when no resource is given. Access tokens are RFC 9068 JWTs (`typ: at+jwt`). Errors follow RFC 6749 §5.2; `invalid_client` is a 401, `temporarily_unavailable` a 503.",
    request_body(content_type = "application/x-www-form-urlencoded", content = crate::dto::schema::TokenRequest),
    responses(
        (status = 200, body = ClientTokenOut, description = "A client access token (`Cache-Control: no-store`)"),
        (status = 400, body = OAuthErrorOut, description = "`invalid_request`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope` or `invalid_target`"),
        (status = 401, body = OAuthErrorOut, description = "`invalid_client`", headers(("WWW-Authenticate" = String, description = "`Basic realm=\"scaikey\"`"))),
        (status = 413, description = "The request body is larger than 256 KiB (plain-text answer)"),
        (status = 500, body = OAuthErrorOut, description = "`server_error`"),
        (status = 503, body = OAuthErrorOut, description = "`temporarily_unavailable`"),
    )
)]
pub async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let basic = req.headers().contains_key(header::AUTHORIZATION);
    match issue(&state, &req, &body).await {
        Ok(t) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"))
            .json(t),
        Err(e) => error(&e, basic),
    }
}

async fn issue(state: &AppState, req: &HttpRequest, body: &[u8]) -> Result<ClientTokenOut, OAuthError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(bad("Request body too large"));
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(bad("Content-Type must be application/x-www-form-urlencoded"));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| bad("Malformed form body"))?;
    let mut params = std::collections::HashMap::new();
    // RFC 8707 §2: `resource` may repeat; every other parameter appears at most once.
    let mut resources: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k == "resource" {
            resources.push(v);
        } else if params.insert(k.clone(), v).is_some() {
            return Err(OAuthError::InvalidRequest(format!("Parameter '{k}' given more than once")));
        }
    }
    let grant = params.get("grant_type").ok_or_else(|| bad("Missing grant_type"))?;
    if grant != "client_credentials" {
        return Err(OAuthError::UnsupportedGrantType);
    }
    let form = match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        // A public client_id alongside HTTP Basic is allowed (and must match, below).
        (Some(_), None) => None,
        (None, Some(_)) => return Err(bad("client_secret without client_id")),
    };
    let (client_id, secret) = match (basic_credentials(req)?, form) {
        (Some(_), Some(_)) => return Err(bad("Use one client authentication method, not two")),
        (Some(c), None) | (None, Some(c)) => c,
        (None, None) => return Err(OAuthError::InvalidClient),
    };
    if let Some(id) = params.get("client_id")
        && *id != client_id
    {
        return Err(bad("client_id does not match the authenticated client"));
    }
    let scope = params.get("scope").map(String::as_str);
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let t = state
        .oauth
        .client_credentials(&client_id, &secret, scope, &resources, &crate::extract::request_meta(req))
        .await?;
    Ok(ClientTokenOut { access_token: t.access_token, token_type: "Bearer", expires_in: t.expires_in, scope: t.scope })
}
