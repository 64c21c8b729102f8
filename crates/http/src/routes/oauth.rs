//! `POST /oauth/token` (RFC 6749): the `client_credentials` grant with HTTP Basic or form client
//! authentication, RFC 8707 `resource` parameters, and §5.2 errors.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use scaikey_app::oauth::OAuthError;
use scaikey_app::ports::TokenRejection;
use scaikey_domain::delegation::{ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE};

use crate::dto::apps::{OAuthErrorOut, OAuthTokenOut};
use crate::state::AppState;

/// Largest form accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

fn error(e: &OAuthError, basic: bool) -> HttpResponse {
    crate::error::oauth_response(e, basic)
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
    description = "RFC 6749 token endpoint, `application/x-www-form-urlencoded`. Grants `authorization_code` (with `code`, `redirect_uri`, and `code_verifier` when the authorization request had a PKCE challenge), `refresh_token` (rotates the refresh token; optional narrower `scope`; the JSON login's refresh tokens belong to the built-in public client `scaikey-admin`, may be sent without any client, and yield an admin token again), `client_credentials` (applications, and MCP agents whose tokens are for `{issuer}/mcp`) and `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693, for applications with `token_exchange_allowed`: `subject_token` and optional `actor_token` access tokens, `resource`/`audience`; the answer names `issued_token_type` and the token carries `act`). Client authentication by HTTP Basic or `client_id`/`client_secret` form fields (not both); public clients send only `client_id` (code and refresh grants). Optional `scope`: space-separated scope-tokens, a subset of the application's allowed_scopes (else `invalid_scope`); all allowed scopes when absent. Optional `resource` (RFC 8707): an absolute URI from the application's allowed_resources (else `invalid_target`); it becomes the token's `aud`, which is `scaikey` (ScaiKey's own APIs) when no resource is given. Access tokens are RFC 9068 JWTs (`typ: at+jwt`). Errors follow RFC 6749 §5.2; `invalid_client` is a 401, `temporarily_unavailable` a 503.",
    request_body(content_type = "application/x-www-form-urlencoded", content = crate::dto::schema::TokenRequest),
    responses(
        (status = 200, body = OAuthTokenOut, description = "The tokens (`Cache-Control: no-store`)"),
        (status = 400, body = OAuthErrorOut, description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope` or `invalid_target`"),
        (status = 401, body = OAuthErrorOut, description = "`invalid_client`", headers(("WWW-Authenticate" = String, description = "`Basic realm=\"scaikey\"`"))),
        (status = 413, description = "The request body is larger than 256 KiB (plain-text answer)"),
        (status = 500, body = OAuthErrorOut, description = "`server_error`"),
        (status = 503, body = OAuthErrorOut, description = "`temporarily_unavailable`"),
    )
)]
pub async fn token(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let basic = req.headers().contains_key(header::AUTHORIZATION);
    let r = match issue(&state, &req, &body).await {
        Ok(t) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"))
            .json(t),
        Err(e) => error(&e, basic),
    };
    crate::cors::allow(&state, &req, r).await
}

/// A form of the token, introspection or revocation endpoint, with the client that sent it.
struct ClientForm {
    params: std::collections::HashMap<String, String>,
    /// RFC 8707 `resource` values (a parameter that may repeat).
    resources: Vec<String>,
    /// RFC 8693 `audience` values (token exchange; may repeat too).
    audiences: Vec<String>,
    client_id: String,
    /// `None` for a public client that names itself (`none` authentication).
    secret: Option<String>,
}

/// Parses the form and the client authentication: HTTP Basic or `client_id`/`client_secret`
/// (not both), or `client_id` alone when `public_allowed`.
fn client_form(
    req: &HttpRequest,
    body: &[u8],
    public_allowed: impl Fn(&std::collections::HashMap<String, String>) -> bool,
) -> Result<ClientForm, OAuthError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(bad("Request body too large"));
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(bad("Content-Type must be application/x-www-form-urlencoded"));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| bad("Malformed form body"))?;
    // No stored text can hold NUL; a parameter with one is malformed, not a lookup.
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(bad("Parameters must not contain NUL characters"));
    }
    let mut params = std::collections::HashMap::new();
    // RFC 8707 §2: `resource` may repeat; every other parameter appears at most once.
    let mut resources: Vec<String> = Vec::new();
    let mut audiences: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k == "resource" {
            resources.push(v);
        } else if k == "audience" {
            audiences.push(v);
        } else if params.insert(k.clone(), v).is_some() {
            return Err(OAuthError::InvalidRequest(format!("Parameter '{k}' given more than once")));
        }
    }
    let form = match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), Some(secret.clone()))),
        (None, None) => None,
        // A public client_id alongside HTTP Basic is allowed (and must match, below).
        (Some(_), None) => None,
        (None, Some(_)) => return Err(bad("client_secret without client_id")),
    };
    let (client_id, secret) = match (basic_credentials(req)?, form) {
        (Some(_), Some(_)) => return Err(bad("Use one client authentication method, not two")),
        (Some((id, secret)), None) => (id, Some(secret)),
        (None, Some(c)) => c,
        // A public client names itself; the grant (PKCE, token binding) proves the rest.
        (None, None) => match params.get("client_id") {
            Some(id) if public_allowed(&params) => (id.clone(), None),
            // The JSON login's refresh tokens need no client (contract §2); the empty ID says
            // so to the token endpoint.
            None if params.get("grant_type").is_some_and(|g| g == "refresh_token") => (String::new(), None),
            _ => return Err(OAuthError::InvalidClient),
        },
    };
    if let Some(id) = params.get("client_id")
        && *id != client_id
    {
        return Err(bad("client_id does not match the authenticated client"));
    }
    Ok(ClientForm { params, resources, audiences, client_id, secret })
}

async fn issue(state: &AppState, req: &HttpRequest, body: &[u8]) -> Result<OAuthTokenOut, OAuthError> {
    let ClientForm { params, resources, audiences, client_id, secret } =
        client_form(req, body, |p| p.get("grant_type").is_some_and(|g| g != "client_credentials"))?;
    let grant = params.get("grant_type").ok_or_else(|| bad("Missing grant_type"))?.clone();
    if !matches!(grant.as_str(), "client_credentials" | "authorization_code" | "refresh_token" | TOKEN_EXCHANGE) {
        return Err(OAuthError::UnsupportedGrantType);
    }
    let meta = crate::extract::request_meta(req);
    let scope = params.get("scope").map(String::as_str);
    let needed = |name: &str| params.get(name).map(String::as_str).ok_or_else(|| bad(&format!("Missing {name}")));
    let granted = match grant.as_str() {
        "authorization_code" => {
            let code = needed("code")?;
            let redirect_uri = params.get("redirect_uri").map(String::as_str);
            let verifier = params.get("code_verifier").map(String::as_str);
            state.oidc.authorization_code(&client_id, secret.as_deref(), code, redirect_uri, verifier, &meta).await?
        }
        "refresh_token" => {
            let token = needed("refresh_token")?;
            if client_id.is_empty() {
                state.oidc.refresh_login_token(token, scope, &meta).await?
            } else {
                state.oidc.refresh_token(&client_id, secret.as_deref(), token, scope, &meta).await?
            }
        }
        TOKEN_EXCHANGE => {
            let secret = secret.ok_or(OAuthError::InvalidClient)?;
            let targets: Vec<&str> = resources.iter().chain(&audiences).map(String::as_str).collect();
            let actor_token =
                params.get("actor_token").map(|t| (t.as_str(), params.get("actor_token_type").map(String::as_str)));
            let request = scaikey_app::oauth::ExchangeRequest {
                client_id: &client_id,
                secret: &secret,
                subject_token: needed("subject_token")?,
                subject_token_type: needed("subject_token_type")?,
                actor_token,
                scope,
                targets: &targets,
            };
            let t = state.oauth.token_exchange(&request, &meta).await?;
            return Ok(OAuthTokenOut {
                access_token: t.access_token,
                token_type: "Bearer",
                expires_in: t.expires_in,
                scope: t.scope,
                refresh_token: None,
                id_token: None,
                issued_token_type: Some(ACCESS_TOKEN_TYPE),
            });
        }
        _ => {
            let secret = secret.ok_or(OAuthError::InvalidClient)?;
            let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
            let t = state.oauth.client_credentials(&client_id, &secret, scope, &resources, &meta).await?;
            return Ok(OAuthTokenOut {
                access_token: t.access_token,
                token_type: "Bearer",
                expires_in: t.expires_in,
                scope: t.scope,
                refresh_token: None,
                id_token: None,
                issued_token_type: None,
            });
        }
    };
    Ok(OAuthTokenOut {
        access_token: granted.access_token,
        token_type: "Bearer",
        expires_in: granted.expires_in,
        scope: granted.scope,
        refresh_token: granted.refresh_token,
        id_token: granted.id_token,
        issued_token_type: None,
    })
}

/// The claims of the access token's scopes (OpenID Connect Core §5.3).
#[utoipa::path(
    get, path = "/oauth/userinfo", tag = "OAuth", operation_id = "userinfo",
    description = "OpenID Connect userinfo: the claims released by the access token's scopes (`sub` and `tenant_id` always; `email`, `profile`, `groups`, `roles` by scope). Needs an access token of the code flow with `openid` (GET or POST, `Authorization: Bearer`).",
    responses(
        (status = 200, description = "The user's claims", content_type = "application/json", body = Object),
        (status = 401, body = OAuthErrorOut, description = "`invalid_token`", headers(("WWW-Authenticate" = String, description = "`Bearer error=\"invalid_token\"`"))),
        (status = 403, body = OAuthErrorOut, description = "`insufficient_scope`: a valid token without `openid`", headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_scope\", scope=\"openid\"`"))),
    ),
    security(("bearer" = []))
)]
pub async fn userinfo(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let r = userinfo_answer(&state, bearer).await;
    crate::cors::allow(&state, &req, r).await
}

async fn userinfo_answer(state: &AppState, bearer: Option<String>) -> HttpResponse {
    let Some(token) = bearer else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scaikey\""))
            .insert_header(("Cache-Control", "no-store"))
            .json(OAuthErrorOut {
                error: "invalid_token".into(),
                error_description: "A bearer token is required".into(),
            });
    };
    match state.oidc.userinfo(&token).await {
        Ok(claims) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(claims),
        Err(e) => {
            // A valid token without `openid` is 403 `insufficient_scope` (RFC 6750 §3.1).
            let (status, challenge, error) = match e {
                TokenRejection::InsufficientScope => (
                    actix_web::http::StatusCode::FORBIDDEN,
                    "Bearer realm=\"scaikey\", error=\"insufficient_scope\", scope=\"openid\"",
                    "insufficient_scope",
                ),
                _ => (
                    actix_web::http::StatusCode::UNAUTHORIZED,
                    "Bearer realm=\"scaikey\", error=\"invalid_token\"",
                    "invalid_token",
                ),
            };
            HttpResponse::build(status)
                .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge)))
                .insert_header(("Cache-Control", "no-store"))
                .json(OAuthErrorOut { error: error.into(), error_description: e.to_string() })
        }
    }
}

fn no_store(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// RFC 7662 token introspection.
#[utoipa::path(
    post, path = "/oauth/introspect", tag = "OAuth", operation_id = "introspect_token",
    description = "RFC 7662 introspection, `application/x-www-form-urlencoded` with `token` (and an optional `token_type_hint`). The client authenticates as at the token endpoint (public clients with `client_id`). A token issued to the client, or whose `aud` names it (its client ID or one of its allowed_resources), shows `active` and its claims; any other token is `{\"active\": false}`.",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…&token_type_hint=…"),
    responses(
        (status = 200, description = "The token's state", content_type = "application/json", body = Object),
        (status = 400, body = OAuthErrorOut, description = "`invalid_request`"),
        (status = 401, body = OAuthErrorOut, description = "`invalid_client`"),
        (status = 503, body = OAuthErrorOut, description = "`temporarily_unavailable`"),
    )
)]
pub async fn introspect(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let basic = req.headers().contains_key(header::AUTHORIZATION);
    let result = async {
        let f = client_form(&req, &body, |_| true)?;
        let token = f.params.get("token").ok_or_else(|| bad("Missing token"))?;
        state.oidc.introspect(&f.client_id, f.secret.as_deref(), token, &crate::extract::request_meta(&req)).await
    }
    .await;
    match result {
        Ok(i) => {
            let mut out = serde_json::Map::new();
            out.insert("active".into(), i.active.into());
            let fields: [(&str, Option<serde_json::Value>); 10] = [
                ("token_type", i.token_type.map(Into::into)),
                ("scope", i.scope.map(Into::into)),
                ("client_id", i.client_id.map(Into::into)),
                ("sub", i.sub.map(Into::into)),
                ("aud", i.aud.map(Into::into)),
                ("iss", i.iss.map(Into::into)),
                ("exp", i.exp.map(Into::into)),
                ("iat", i.iat.map(Into::into)),
                ("tenant_id", i.tenant_id.map(Into::into)),
                ("sid", i.sid.map(Into::into)),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    out.insert(k.into(), v);
                }
            }
            no_store(HttpResponse::Ok().json(out))
        }
        Err(e) => error(&e, basic),
    }
}

/// RFC 7009 token revocation.
#[utoipa::path(
    post, path = "/oauth/revoke", tag = "OAuth", operation_id = "revoke_token",
    description = "RFC 7009 revocation, `application/x-www-form-urlencoded` with `token`. A refresh token of the client is revoked with its whole rotation family; unknown tokens and other clients' tokens (refresh or access) answer 200 and change nothing. The client's own access tokens are self-contained and expire on their own: `unsupported_token_type`.",
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token=…&token_type_hint=…"),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke)"),
        (status = 400, body = OAuthErrorOut, description = "`invalid_request` or `unsupported_token_type`"),
        (status = 401, body = OAuthErrorOut, description = "`invalid_client`"),
        (status = 503, body = OAuthErrorOut, description = "`temporarily_unavailable`"),
    )
)]
pub async fn revoke(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let basic = req.headers().contains_key(header::AUTHORIZATION);
    let result = async {
        let f = client_form(&req, &body, |_| true)?;
        let token = f.params.get("token").ok_or_else(|| bad("Missing token"))?;
        state.oidc.revoke(&f.client_id, f.secret.as_deref(), token, &crate::extract::request_meta(&req)).await
    }
    .await;
    let r = match result {
        Ok(()) => no_store(HttpResponse::Ok().finish()),
        Err(e) => error(&e, basic),
    };
    crate::cors::allow(&state, &req, r).await
}
