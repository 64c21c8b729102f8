//! The one place where service errors become HTTP answers: the admin API's bodies (contract §3)
//! and the OAuth endpoints' RFC 6749 §5.2 bodies, each status decided here and unit-tested
//! status by status. A lost database is a 503 in both.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scaikey_app::AppError;
use scaikey_app::oauth::OAuthError;
use scaikey_app::ports::TokenRejection;
use scaikey_domain::access::Denial;
use scaikey_domain::validation::{FieldError, ValidationErrors};
use serde_json::json;

/// The 403 text for client tokens without the admin scope they need.
pub const PLATFORM_SCOPE_DETAIL: &str = "Platform token requires admin:read or admin:write scope";

/// An error answer.
#[derive(Debug)]
pub enum ApiError {
    /// A service error.
    App(AppError),
    /// A rejected or missing bearer token.
    Token(&'static str),
    /// Invalid input located at `body`, `query` or `path`.
    Invalid(&'static str, ValidationErrors),
    /// The body is larger than we accept.
    TooLarge,
    /// A body that is not declared as JSON.
    UnsupportedMediaType,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::App(e) => write!(f, "{e}"),
            ApiError::Token(t) => f.write_str(t),
            ApiError::Invalid(_, e) => write!(f, "{e}"),
            ApiError::TooLarge => f.write_str("payload too large"),
            ApiError::UnsupportedMediaType => f.write_str("unsupported media type"),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<TokenRejection> for ApiError {
    fn from(e: TokenRejection) -> Self {
        ApiError::Token(match e {
            TokenRejection::Invalid => "Invalid token",
            TokenRejection::Expired => "Token has expired",
            TokenRejection::WrongIssuer => "Invalid token issuer",
            TokenRejection::WrongAudience => "Token is not meant for this API",
            TokenRejection::Revoked => "Session has been revoked",
            TokenRejection::InsufficientScope => "The token lacks the scope this endpoint needs",
        })
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

fn detail(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "detail": text }))
}

/// The 422 body: one entry per problem, `loc` starting with `location`.
#[must_use]
pub fn validation_body(location: &str, errs: &ValidationErrors) -> serde_json::Value {
    let items: Vec<_> = errs
        .errors()
        .iter()
        .map(|e: &FieldError| {
            let mut loc = vec![location.to_string()];
            loc.extend(e.loc.iter().cloned());
            json!({ "loc": loc, "msg": e.msg, "type": e.kind })
        })
        .collect();
    json!({ "detail": items })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Token(_) | ApiError::App(AppError::Unauthenticated(_)) => StatusCode::UNAUTHORIZED,
            ApiError::App(AppError::Denied(Denial::NotFound, _) | AppError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApiError::App(AppError::Denied(..)) => StatusCode::FORBIDDEN,
            ApiError::App(AppError::Conflict(_)) => StatusCode::CONFLICT,
            ApiError::App(AppError::Invalid(_)) | ApiError::Invalid(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::App(AppError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::App(AppError::Throttled(_)) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::App(AppError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Token(text) => {
                let mut r = detail(status, text);
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            ApiError::App(AppError::Unauthenticated(text)) => detail(status, text),
            ApiError::App(AppError::Denied(Denial::PlatformScopeMissing, _)) => detail(status, PLATFORM_SCOPE_DETAIL),
            ApiError::App(AppError::Denied(Denial::NotFound, r) | AppError::NotFound(r)) => {
                detail(status, &format!("{r} not found"))
            }
            ApiError::App(AppError::Denied(..)) => detail(status, "Access denied"),
            ApiError::App(AppError::Conflict(msg)) => detail(status, msg),
            ApiError::App(AppError::Invalid(errs)) => HttpResponse::build(status).json(validation_body("body", errs)),
            ApiError::Invalid(loc, errs) => HttpResponse::build(status).json(validation_body(loc, errs)),
            ApiError::TooLarge => detail(status, "Request body too large"),
            ApiError::UnsupportedMediaType => detail(status, "Content-Type must be application/json"),
            ApiError::App(AppError::Throttled(seconds)) => {
                let mut r = detail(status, scaikey_app::error::THROTTLED);
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*seconds));
                r
            }
            ApiError::App(AppError::Unavailable(e)) => {
                tracing::warn!(error = %e, "dependency unavailable");
                detail(status, "Service temporarily unavailable")
            }
            ApiError::App(AppError::Internal(e)) => {
                tracing::error!(error = ?e, "internal error");
                detail(status, "Internal server error")
            }
        }
    }
}

/// The HTTP status of an OAuth endpoint's error (RFC 6749 §5.2): 401 for a failed client
/// authentication, 503 for a lost dependency, 500 for the server's own failure, else 400.
#[must_use]
pub fn oauth_status(e: &OAuthError) -> StatusCode {
    match e {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        OAuthError::InvalidRequest(_)
        | OAuthError::UnauthorizedClient
        | OAuthError::UnsupportedGrantType
        | OAuthError::InvalidGrant(_)
        | OAuthError::UnsupportedTokenType
        | OAuthError::InvalidScope(_)
        | OAuthError::InvalidTarget(_) => StatusCode::BAD_REQUEST,
    }
}

/// An OAuth endpoint's error answer: `error` and `error_description`, never cached; a failed
/// client authentication challenges for Basic (with the error when the client did not use it).
#[must_use]
pub fn oauth_response(e: &OAuthError, basic: bool) -> HttpResponse {
    let mut r = HttpResponse::build(oauth_status(e))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(scaikey_dto::apps::OAuthErrorOut { error: e.code().into(), error_description: e.description() });
    if matches!(e, OAuthError::InvalidClient) {
        let v = if basic { "Basic realm=\"scaikey\"" } else { "Basic realm=\"scaikey\", error=\"invalid_client\"" };
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use scaikey_app::RepoError;

    #[test]
    fn every_service_error_has_its_status() {
        let field = || ValidationErrors::single(FieldError::new("name", "missing", "Field required"));
        let table: Vec<(ApiError, u16)> = vec![
            (ApiError::Token("Invalid token"), 401),
            (ApiError::App(AppError::Unauthenticated("Invalid credentials")), 401),
            (ApiError::App(AppError::Denied(Denial::NotFound, "User")), 404),
            (ApiError::App(AppError::NotFound("User")), 404),
            (ApiError::App(AppError::Denied(Denial::Forbidden, "User")), 403),
            (ApiError::App(AppError::Denied(Denial::PlatformScopeMissing, "User")), 403),
            (ApiError::App(AppError::Conflict("taken".into())), 409),
            (ApiError::App(AppError::Invalid(field())), 422),
            (ApiError::Invalid("query", field()), 422),
            (ApiError::App(AppError::Throttled(30)), 429),
            (ApiError::App(AppError::Unavailable(anyhow::anyhow!("pool timed out"))), 503),
            (ApiError::App(AppError::Internal(anyhow::anyhow!("bug"))), 500),
            (ApiError::TooLarge, 413),
            (ApiError::UnsupportedMediaType, 415),
        ];
        for (e, status) in table {
            assert_eq!(e.status_code().as_u16(), status, "{e:?}");
            assert_eq!(e.error_response().status().as_u16(), status, "{e:?}");
        }
    }

    #[test]
    fn storage_errors_answer_the_same_on_the_admin_api_and_the_token_endpoint() {
        let lost = || RepoError::Unavailable(anyhow::anyhow!("connection refused"));
        assert_eq!(ApiError::App(AppError::from(lost())).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let oauth = OAuthError::from(AppError::from(lost()));
        assert_eq!((oauth_status(&oauth), oauth.code()), (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable"));
        let broken = || RepoError::Unknown(anyhow::anyhow!("corrupt row"));
        assert_eq!(ApiError::App(AppError::from(broken())).status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let oauth = OAuthError::from(AppError::from(broken()));
        assert_eq!((oauth_status(&oauth), oauth.code()), (StatusCode::INTERNAL_SERVER_ERROR, "server_error"));
    }

    #[test]
    fn every_oauth_error_has_its_status_and_code() {
        let table = [
            (OAuthError::InvalidRequest("x".into()), 400, "invalid_request"),
            (OAuthError::InvalidClient, 401, "invalid_client"),
            (OAuthError::UnauthorizedClient, 400, "unauthorized_client"),
            (OAuthError::UnsupportedGrantType, 400, "unsupported_grant_type"),
            (OAuthError::InvalidGrant("x".into()), 400, "invalid_grant"),
            (OAuthError::UnsupportedTokenType, 400, "unsupported_token_type"),
            (OAuthError::InvalidScope("x".into()), 400, "invalid_scope"),
            (OAuthError::InvalidTarget("x".into()), 400, "invalid_target"),
            (OAuthError::TemporarilyUnavailable, 503, "temporarily_unavailable"),
            (OAuthError::ServerError, 500, "server_error"),
        ];
        for (e, status, code) in table {
            let r = oauth_response(&e, false);
            assert_eq!((r.status().as_u16(), e.code()), (status, code), "{e:?}");
            assert_eq!(r.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
            assert_eq!(r.headers().contains_key(header::WWW_AUTHENTICATE), e == OAuthError::InvalidClient);
        }
        let basic = oauth_response(&OAuthError::InvalidClient, true);
        assert_eq!(basic.headers().get(header::WWW_AUTHENTICATE).unwrap(), "Basic realm=\"scaikey\"");
    }
}
