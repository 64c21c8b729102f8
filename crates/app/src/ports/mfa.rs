//! Second factors and login throttling (contract §10): storage of TOTP factors, recovery codes
//! and failed-login counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use scaikey_domain::throttle::{Failures, Key, Scope};

use crate::error::RepoError;
use crate::ports::EndedSession;

/// A user's TOTP factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTotp {
    /// The secret, sealed under the master key with the user's ID as associated data.
    pub sealed_secret: Vec<u8>,
    /// The last accepted step.
    pub last_step: Option<i64>,
    /// Enrolment time.
    pub created_at: DateTime<Utc>,
}

/// A confirmed TOTP enrolment to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTotp {
    /// The user.
    pub user_id: UserId,
    /// The sealed secret.
    pub sealed_secret: Vec<u8>,
    /// The step of the confirming code (so it cannot be used again to sign in).
    pub confirmed_step: i64,
    /// Keyed hashes of the new recovery codes.
    pub recovery_codes: Vec<Vec<u8>>,
}

/// Storage of second factors.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MfaRepository: Send + Sync {
    /// The user's TOTP factor, if enrolled.
    async fn totp(&self, user: UserId) -> Result<Option<StoredTotp>, RepoError>;
    /// Unused recovery codes left.
    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, RepoError>;
    /// In one transaction: stores the factor and replaces the user's recovery codes, adds
    /// `totp` to the user's `mfa_methods` (and sets `mfa_enabled`), records `audit`.
    /// `Conflict` when the user already has a TOTP factor; `Ok(false)` when the user is gone.
    async fn enrol_totp(&self, totp: &NewTotp, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// Stores `step` as the last accepted step if it is later than the stored one
    /// (compare-and-set); `false` when another login used it or a later one first.
    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, RepoError>;
    /// Marks the unused recovery code with this digest used at `now`; `false` when none is.
    async fn use_recovery_code(&self, user: UserId, digest: &[u8], now: DateTime<Utc>) -> Result<bool, RepoError>;
    /// In one transaction: removes the TOTP factor and the recovery codes, drops `totp` from
    /// `mfa_methods` (clearing `mfa_enabled` when none is left), records `audit`. `false` when
    /// there was none.
    async fn remove_totp(&self, user: UserId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
}

/// Failed-login counters, shared by every process on the database.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ThrottleRepository: Send + Sync {
    /// The counters of these keys that exist.
    async fn failures(&self, keys: &[Key]) -> Result<Vec<(Scope, Failures)>, RepoError>;
    /// Counts one failure at `now` for each key, each row locked while
    /// [`Failures::after_failure`] computes its next value (so concurrent failures from several
    /// processes all count).
    async fn record_failure(&self, keys: &[Key], now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Forgets a key's counter (a complete login).
    async fn clear(&self, key: &Key) -> Result<(), RepoError>;
    /// Deletes counters that no longer hold anything back at `now`; answers how many.
    async fn purge(&self, now: DateTime<Utc>) -> Result<u64, RepoError>;
}

/// What ending a user's second factors by an admin ended.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaDisabled {
    /// The user afterwards.
    pub user: scaikey_domain::user::User,
    /// The sessions that were open.
    pub ended: Vec<EndedSession>,
}
