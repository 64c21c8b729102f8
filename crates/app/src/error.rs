//! Errors of services and of the repository ports. The HTTP adapter maps [`AppError`] to status
//! codes in one place.

use scaikey_domain::access::Denial;
use scaikey_domain::limits::LimitReached;
use scaikey_domain::validation::{FieldError, ValidationErrors};

/// Failures a repository reports. Adapters MUST map unique-constraint violations to
/// [`RepoError::Duplicate`] and lost or exhausted connections to [`RepoError::Unavailable`].
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique field (`slug`, `email`, …) is already taken by a live row.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A partner limit would be passed.
    #[error(transparent)]
    LimitReached(#[from] LimitReached),
    /// A referenced row (named by the input field) does not exist or is deleted.
    #[error("missing reference {0}")]
    MissingReference(&'static str),
    /// The input refers to something that does not fit (e.g. a user of another tenant).
    #[error("invalid reference: {0:?}")]
    Invalid(FieldError),
    /// The row cannot be changed in its current state (e.g. a partner that still has tenants).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached or has no free connection.
    #[error("database unavailable: {0}")]
    Unavailable(anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(anyhow::Error),
}

/// Failures of an application service.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials (401). The text is safe to show.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The access rules refuse (403 or 404 by kind).
    #[error("access denied ({0:?})")]
    Denied(Denial, &'static str),
    /// The resource does not exist or is hidden (404 `<Resource> not found`).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A conflict (409).
    #[error("{0}")]
    Conflict(String),
    /// Invalid input (422), one entry per problem.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// Too many failed logins (429): the try may be repeated after this many seconds. The
    /// answer is the same whether or not the account exists.
    #[error("too many failed logins; retry after {0} s")]
    Throttled(i64),
    /// A dependency is down (503).
    #[error("service unavailable: {0}")]
    Unavailable(anyhow::Error),
    /// A bug or unexpected failure (500; logged, never shown).
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// What a throttled login answers (contract §10).
pub const THROTTLED: &str = "Too many failed login attempts. Try again later.";

impl AppError {
    /// An invalid single field.
    pub fn field(e: FieldError) -> Self {
        AppError::Invalid(ValidationErrors::single(e))
    }

    /// Maps a denial of access to `resource` (`"Tenant"`, …).
    pub fn denied(resource: &'static str) -> impl Fn(Denial) -> AppError {
        move |d| match d {
            Denial::NotFound => AppError::NotFound(resource),
            other => AppError::Denied(other, resource),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Duplicate(field) => {
                AppError::Conflict(format!("A live record with this {field} already exists"))
            }
            RepoError::LimitReached(l) => AppError::Conflict(l.to_string()),
            RepoError::MissingReference(field) => {
                AppError::field(FieldError::new(field, "value_error", "Referenced record does not exist"))
            }
            RepoError::Invalid(e) => AppError::field(e),
            RepoError::Conflict(msg) => AppError::Conflict(msg),
            RepoError::Unavailable(e) => AppError::Unavailable(e),
            RepoError::Unknown(e) => AppError::Internal(e),
        }
    }
}
