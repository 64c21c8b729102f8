//! Token signing keys: their storage, and the process's key ring that signs, publishes and
//! rotates them (implemented by `scaikey-crypto`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::oidc::signing_key::{KeySchedule, KeyState, SigningAlg};

use crate::error::{AppError, RepoError};

/// A stored token-signing key; the private key is encrypted under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Key ID, as in the JWT header.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The public JWK, as JSON.
    pub public_jwk: serde_json::Value,
    /// The encrypted private key.
    pub private_key_enc: Vec<u8>,
    /// When it was made, signs and retires.
    pub schedule: KeySchedule,
}

/// Storage of signing keys.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// The keys still published at `now` (never retired, or retiring later), oldest first.
    async fn published(&self, now: DateTime<Utc>) -> Result<Vec<StoredSigningKey>, RepoError>;
    /// Stores a first key (at start-up, when an algorithm has none). Not audited: no one asked.
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError>;
    /// In one transaction: each `(kid, at)` of `retire` gets `retired_at = at`, `new` is stored
    /// and `audit` is recorded (stamped `now`). Nothing changes if any step fails.
    async fn rotate(
        &self,
        new: &[StoredSigningKey],
        retire: &[(String, DateTime<Utc>)],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError>;
}

/// A signing key as an administrator sees it (never its private half).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    /// Key ID.
    pub kid: String,
    /// Algorithm.
    pub alg: SigningAlg,
    /// When it was made, signs and retires.
    pub schedule: KeySchedule,
    /// What it does now.
    pub state: KeyState,
}

pub use scaikey_domain::oidc::signing_key::RotationRequest;

/// The process's key ring: signs with the current keys, publishes the JWKS, and rotates. Every
/// ScaiKey process reloads the keys from the database, so a rotation made by one (or by the
/// `scaikey keys rotate` command) reaches all of them.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SigningKeys: Send + Sync {
    /// The public keys as a JWK Set (`/.well-known/jwks.json`), pending and retiring ones
    /// included.
    fn jwks(&self) -> Arc<serde_json::Value>;
    /// Every published key, oldest first.
    async fn list(&self) -> Result<Vec<SigningKeyInfo>, AppError>;
    /// Makes a new key of each requested algorithm, schedules the old ones' retirement, records
    /// `audit` in the same transaction, reloads this process's ring and answers the published
    /// keys.
    async fn rotate(&self, request: &RotationRequest, audit: &AuditRecord) -> Result<Vec<SigningKeyInfo>, AppError>;
}
