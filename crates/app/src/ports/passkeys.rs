//! Passkeys (WebAuthn) as a second factor (contract §10): the ceremonies (a WebAuthn library
//! behind [`PasskeyCeremonies`], so the services stay testable with mocks) and the storage of
//! credentials and of pending challenges.
//!
//! Everything the library produces is opaque JSON text to the app: the options a browser passes
//! to `navigator.credentials`, the state a ceremony must be finished with, and the stored
//! credential (public key, counter; no secret).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use ulid::Ulid;

use crate::error::RepoError;

/// A ceremony begun: the options for the browser and the state to finish it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// JSON for `navigator.credentials.create`/`get` (`{"publicKey": …}`).
    pub options: String,
    /// The server's state (the challenge), kept server-side until the answer comes.
    pub state: String,
}

/// A credential the browser created, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCredential {
    /// The credential ID (unique across every user).
    pub credential_id: Vec<u8>,
    /// The credential to store (public key, counter), as JSON.
    pub credential: String,
}

/// A verified assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// Which credential signed.
    pub credential_id: Vec<u8>,
    /// The credential with its new counter, when it changed.
    pub updated: Option<String>,
}

/// The WebAuthn relying party (adapter: `scaikey-crypto`'s `webauthn-rs` wrapper). Its errors
/// are reasons for logs; the person only learns that the passkey was not accepted.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait PasskeyCeremonies: Send + Sync {
    /// Begins registering a passkey for `user` (`name` and `display` are what the authenticator
    /// shows), excluding the credential IDs the user has already.
    fn start_registration(
        &self,
        user: UserId,
        name: &str,
        display: &str,
        exclude: &[Vec<u8>],
    ) -> anyhow::Result<Ceremony>;
    /// Verifies the browser's answer (JSON of the `PublicKeyCredential`) to a registration.
    fn finish_registration(&self, response: &str, state: &str) -> anyhow::Result<CreatedCredential>;
    /// Begins a sign-in with any of `credentials` (stored JSON).
    fn start_authentication(&self, credentials: &[String]) -> anyhow::Result<Ceremony>;
    /// Verifies the browser's answer to a sign-in against `credentials`.
    fn finish_authentication(&self, response: &str, state: &str, credentials: &[String]) -> anyhow::Result<Assertion>;
}

/// A stored passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// Its ID (in `/account` forms).
    pub id: Ulid,
    /// The person's name for it.
    pub name: String,
    /// The credential ID.
    pub credential_id: Vec<u8>,
    /// The credential JSON.
    pub credential: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What a pending challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengePurpose {
    /// Adding a passkey.
    Register,
    /// Signing in with one.
    Authenticate,
}

impl ChallengePurpose {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengePurpose::Register => "register",
            ChallengePurpose::Authenticate => "authenticate",
        }
    }
}

/// A pending challenge as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChallenge {
    /// The ceremony state.
    pub state: String,
    /// Its end.
    pub expires_at: DateTime<Utc>,
}

/// Storage of passkeys and of pending challenges.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasskeyRepository: Send + Sync {
    /// The user's passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, RepoError>;
    /// In one transaction: stores the passkey, adds `webauthn` to the user's `mfa_methods`
    /// (setting `mfa_enabled`), records `audit`. `Duplicate("credential")` when the credential
    /// is registered already (to anyone); `false` when the user is gone.
    async fn add(
        &self,
        user: UserId,
        passkey: &StoredPasskey,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
    /// Stamps a sign-in, storing the credential's new counter when given.
    async fn used(
        &self,
        user: UserId,
        credential_id: &[u8],
        updated: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError>;
    /// In one transaction: removes the user's passkey `id`, drops `webauthn` from `mfa_methods`
    /// when it was the last one, records `audit`. `false` when the user has no such passkey.
    async fn remove(&self, user: UserId, id: Ulid, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError>;
    /// Stores a pending challenge of `user` (deleting the user's expired ones).
    async fn save_challenge(
        &self,
        id: Ulid,
        user: UserId,
        purpose: ChallengePurpose,
        challenge: &StoredChallenge,
    ) -> Result<(), RepoError>;
    /// Takes (deletes and answers) the pending challenge `id` of `user` for `purpose`, so each
    /// is answered at most once; `None` when there is none. Whether it expired is the caller's.
    async fn take_challenge(
        &self,
        id: Ulid,
        user: UserId,
        purpose: ChallengePurpose,
    ) -> Result<Option<StoredChallenge>, RepoError>;
}
