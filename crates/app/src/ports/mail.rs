//! Mail and mailed links (contract §10): the outbound mailer and the storage of the single-use
//! links that reset a password or accept an invitation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use scaikey_domain::mail_link::{Purpose, StoredLink};

use crate::error::RepoError;
use crate::ports::EndedSession;

/// One plain-text mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Body (plain text).
    pub text: String,
}

/// Sends mail. `send` hands the mail over for delivery and returns at once (the adapter queues
/// it), so whether a mail was sent never shows in an answer's timing.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Mailer: Send + Sync {
    /// Queues `mail`; an error only when the queue refuses it (full or closed).
    fn send(&self, mail: Mail) -> anyhow::Result<()>;
}

/// A stored link and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The user it was mailed to.
    pub user_id: UserId,
    /// The link.
    pub link: StoredLink,
}

/// Storage of mailed links, keyed by the keyed hash of their token.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MailLinkRepository: Send + Sync {
    /// Stores a new link of `user` (its earlier unused links of the same purpose are deleted: the
    /// newest mail is the one that works) and `audit`, in one transaction; `false` when the user
    /// is gone.
    async fn issue(
        &self,
        user: UserId,
        digest: &[u8],
        link: &StoredLink,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
    /// When the user's newest unused link of `purpose` was created.
    async fn last_sent(&self, user: UserId, purpose: Purpose) -> Result<Option<DateTime<Utc>>, RepoError>;
    /// The link with this digest, used or not, if its user is live.
    async fn find(&self, digest: &[u8]) -> Result<Option<LinkRecord>, RepoError>;
    /// In one transaction: marks the link used (compare-and-set: `None` when it was used
    /// already, by a racing request too), sets the user's password hash and `email_verified`,
    /// deletes the user's other unused links, ends every session and refresh token of the user,
    /// cuts its tokens and records `audit`. Returns the ended sessions.
    async fn redeem(
        &self,
        digest: &[u8],
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError>;
}
