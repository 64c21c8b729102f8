//! Login throttling (contract §10) around every password and second-factor check: a try is
//! held back while its account name or client IP must wait, each failure is counted for both,
//! and a complete login clears the account's count. The counters live in the database, so
//! every process sees the same ones; the rule of how they grow is `domain::throttle`.

use std::sync::Arc;

use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::throttle::{self, Key};
use serde_json::json;

use crate::error::AppError;
use crate::ports::mfa::ThrottleRepository;
use crate::ports::{AuditSink, Clock};
use scaikey_domain::audit::action;

/// What a page says of a throttled try.
#[must_use]
pub fn wait_message(seconds: i64) -> String {
    format!("Too many failed attempts. Wait {seconds} seconds, then try again.")
}

/// What [`LoginThrottle::hold_back`] found of the e-mail's failures: whether a success then has
/// a count to clear (no statement is spent clearing what is not there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// The e-mail had failures on record.
    pub counted: bool,
}

impl Record {
    /// For a success whose earlier look is not at hand (a second step in a later request).
    pub const UNKNOWN: Record = Record { counted: true };
}

/// The throttle of login tries.
pub struct LoginThrottle {
    repo: Arc<dyn ThrottleRepository>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle")
    }
}

impl LoginThrottle {
    /// Wires the throttle to its ports.
    pub fn new(repo: Arc<dyn ThrottleRepository>, audit: Arc<dyn AuditSink>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, audit, clock }
    }

    /// `Err(Throttled)` (audited as a refused `auth.login` with reason `throttled`) when the
    /// e-mail or the client IP must still wait. Known and unknown e-mails are treated alike.
    pub async fn hold_back(&self, email: &str, meta: &RequestMeta) -> Result<Record, AppError> {
        let keys = Key::of_login(email, meta.ip.as_deref());
        let counters = self.repo.failures(&keys).await?;
        let now = self.clock.now();
        let counted = counters.iter().any(|(s, _)| *s == throttle::Scope::Account);
        match throttle::longest_wait(counters.iter().map(|(s, f)| (*s, f)), now) {
            None => Ok(Record { counted }),
            Some(wait) => {
                let seconds = throttle::retry_after_seconds(wait);
                tracing::info!(retry_after = seconds, "login throttled");
                let rec = AuditRecord::anonymous(meta, action::AUTH_LOGIN, "session", AuditResult::Failure)
                    .details(json!({"email": email.trim().to_lowercase(), "reason": "throttled"}));
                self.audit.submit(rec, now);
                Err(AppError::Throttled(seconds))
            }
        }
    }

    /// Counts a failed try for the e-mail and the client IP.
    pub async fn failed(&self, email: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let keys = Key::of_login(email, meta.ip.as_deref());
        Ok(self.repo.record_failure(&keys, self.clock.now()).await?)
    }

    /// Forgets the e-mail's failures after a complete login (the IP's stay counted), when
    /// `record` says there were any. A failure counted meanwhile by another try stays counted.
    pub async fn succeeded(&self, email: &str, record: Record) -> Result<(), AppError> {
        if !record.counted {
            return Ok(());
        }
        Ok(self.repo.clear(&Key::account(email)).await?)
    }

    /// Deletes counters that hold nothing back any more; answers how many.
    pub async fn purge(&self) -> Result<u64, AppError> {
        Ok(self.repo.purge(self.clock.now()).await?)
    }
}
