//! Maps diesel and pool errors onto the port's `RepoError`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use scaikey_app::RepoError;

pub(crate) fn db(e: DieselError) -> RepoError {
    match &e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let c = info.constraint_name().unwrap_or_default();
            if c.contains("slug") {
                RepoError::Duplicate("slug")
            } else if c.contains("email") {
                RepoError::Duplicate("email")
            } else if c.contains("name") {
                RepoError::Duplicate("name")
            } else {
                RepoError::Unknown(e.into())
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | DieselError::BrokenTransactionManager => {
            RepoError::Unavailable(e.into())
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) if info.message().contains("connection") => {
            RepoError::Unavailable(anyhow::anyhow!("{}", info.message()))
        }
        _ => RepoError::Unknown(e.into()),
    }
}

/// An error raised inside a transaction: either the port's own outcome or diesel's.
#[derive(Debug)]
pub(crate) enum TxError {
    Repo(RepoError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl From<RepoError> for TxError {
    fn from(e: RepoError) -> Self {
        TxError::Repo(e)
    }
}

impl From<TxError> for RepoError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Repo(r) => r,
            TxError::Db(d) => db(d),
        }
    }
}
