//! The one place where service errors become HTTP answers (contract §3).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use scaikey_app::AppError;
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
