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
            } else if c.contains("client_id") {
                RepoError::Duplicate("client_id")
            } else {
                RepoError::Unknown(e.into())
            }
        }
        _ if lost(&e) => RepoError::Unavailable(anyhow::anyhow!("{e}")),
        _ => RepoError::Unknown(e.into()),
    }
}

/// Whether diesel's error means the connection or the server went away. A connection-level
/// failure without an SQLSTATE (closed socket, reset, timeout) comes from diesel-async as
/// `UnableToSendCommand`; a server that is terminating or recovering as `Unknown` with its
/// message; a commit whose rollback also failed carries both.
fn lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | DieselError::BrokenTransactionManager => {
            true
        }
        DieselError::DatabaseError(DatabaseErrorKind::Unknown | DatabaseErrorKind::UnableToSendCommand, info) => {
            lost_database(info.message())
        }
        DieselError::RollbackErrorOnCommit { rollback_error, commit_error } => {
            lost(rollback_error) || lost(commit_error)
        }
        _ => false,
    }
}

/// Whether a driver error means the database went away (a 503, not a 500): the connection was
/// closed or reset ("error communicating with the server: Connection reset by peer"), the server
/// is terminating or still recovering ("the database system is in recovery mode"). Case-blind:
/// the OS part of the message is capitalised.
fn lost_database(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["connection", "communicating with the server", "the database system is", "broken pipe", "terminating", "timeout"]
        .iter()
        .any(|needle| m.contains(needle))
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

/// A domain refusal as a repository reports it: located at its field (`Invalid`, a 422) when it
/// concerns the caller's input, else a `Conflict` with the domain's message.
pub(crate) fn refused(r: &impl scaikey_domain::group::Refusal) -> RepoError {
    match r.field() {
        Some(f) => RepoError::Invalid(scaikey_domain::validation::FieldError::new(f, "value_error", r.to_string())),
        None => RepoError::Conflict(r.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{db, lost_database};
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    use scaikey_app::RepoError;

    fn unsent(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, Box::new(message.to_string()))
    }

    /// What diesel-async reports when the socket dies mid-request (the crash test's 500s).
    #[test]
    fn a_connection_failure_without_sqlstate_is_unavailable() {
        assert!(matches!(db(unsent("connection closed")), RepoError::Unavailable(_)));
        assert!(matches!(db(unsent("timeout waiting for server")), RepoError::Unavailable(_)));
        let commit = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(unsent("connection closed")),
            commit_error: Box::new(unsent("error communicating with the server: Broken pipe (os error 32)")),
        };
        assert!(matches!(db(commit), RepoError::Unavailable(_)));
        // Too many bind parameters is also "unable to send", and a bug.
        assert!(matches!(db(unsent("too many bind parameters: 70000")), RepoError::Unknown(_)));
        assert!(matches!(db(DieselError::NotFound), RepoError::Unknown(_)));
    }

    #[test]
    fn a_lost_database_is_told_from_a_bug() {
        for m in [
            "connection closed",
            "error communicating with the server: Connection reset by peer (os error 104)",
            "error communicating with the server: Broken pipe (os error 32)",
            "terminating connection due to administrator command",
            "FATAL: the database system is in recovery mode",
            "the database system is starting up",
        ] {
            assert!(lost_database(m), "{m}");
        }
        assert!(!lost_database("column \"x\" does not exist"));
        assert!(!lost_database("invalid input syntax for type uuid"));
    }
}
