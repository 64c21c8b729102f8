//! `POST /api/v1/auth/login`.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::auth::LoginRequest;
use scaikey_domain::id::TenantId;
use scaikey_domain::validation::{FieldError, ValidationErrors};

use crate::dto::auth::{LoginBody, TokenOut};
use crate::dto::common::ErrorDetail;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, request_meta};
use crate::state::AppState;

/// Log in with e-mail and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "Auth", operation_id = "login",
    description = "Check credentials, open an SSO session and return a user access token whose `sid` is the session, and a `refresh_token` bound to that session (refresh it at `/oauth/token` with `grant_type=refresh_token`, no client needed: the answer is a new admin token and refresh token). Any failure answers 401 `Invalid credentials`. A user with a second factor also sends `code` (TOTP or recovery code); without it, after a correct password, the answer is 401 saying a second factor is required. Failed logins are throttled per e-mail and per client IP: 429 with `Retry-After`.",
    request_body = LoginBody,
    responses(
        (status = 200, body = TokenOut, description = "A user access token (`Cache-Control: no-store`)"),
        (status = 401, body = ErrorDetail, description = "Invalid credentials", example = json!({"detail": "Invalid credentials"})),
        (status = 429, body = ErrorDetail, description = "Too many failed logins for this e-mail or client IP; see `Retry-After`"),
    )
)]
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<LoginBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let mut errs = ValidationErrors::new();
    let email = errs.take(b.email.ok_or_else(|| FieldError::missing("email")));
    let password = errs.take(b.password.ok_or_else(|| FieldError::missing("password")));
    let tenant_id = b
        .tenant_id
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| errs.take(scaikey_domain::validation::id::<TenantId>("tenant_id", t.trim())));
    errs.clone().into_result().map_err(|e| ApiError::Invalid("body", e))?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::Invalid("body", errs));
    };
    let code = b.code;
    let (token, refresh_token) =
        state.oidc.admin_login(LoginRequest { email, password, tenant_id, code }, &request_meta(&req)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenOut {
        access_token: token.access_token,
        token_type: "Bearer",
        expires_in: token.expires_in,
        refresh_token,
    }))
}
