//! Mailed links (contract §10): "forgot password" mails a single-use reset link, an admin's
//! invitation mails a link to choose a first password, and following either sets a password
//! under the tenant's policy, proves the address (`email_verified`) and ends every session and
//! refresh token of the user. The links' rules are the domain's [`scaikey_domain::mail_link`];
//! tokens are 256 random bits, stored as a keyed hash.
//!
//! Mail is off when no [`Mailer`] is configured (production without `SCAIKEY_SMTP_URL`).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::mail_link::{self, LinkState, Purpose, StoredLink, TOKEN_BYTES};
use scaikey_domain::password::PasswordPolicy;
use scaikey_domain::user::User;
use scaikey_domain::validation::FieldError;
use serde_json::json;

use crate::auth::refusal;
use crate::error::AppError;
use crate::ports::mail::{Mail, MailLinkRepository, Mailer};
use crate::ports::{AuthRepository, ClientSecrets, Clock, PasswordHasher};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

/// What `/login/forgot` always answers, whether or not the address has an account.
pub const FORGOT_ANSWER: &str =
    "If an account uses this address, a link to choose a new password is on its way. It works once.";
/// What mail-sending operations answer while mail is off.
pub const MAIL_OFF: &str = "ScaiKey cannot send e-mail: SCAIKEY_SMTP_URL is not configured";
/// What a used, expired or unknown link shows.
pub const LINK_INVALID: &str = "This link is invalid, has been used or has expired. Ask for a new one.";

/// How the links are built and how long a reset link lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLinkSettings {
    /// The issuer URL the links start with.
    pub base_url: String,
    /// Reset link life (`SCAIKEY_RESET_LINK_MINUTES`).
    pub reset_minutes: i64,
}

/// The result of setting a password through a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The password is set.
    Done(Purpose),
    /// Unknown, used, expired, or its user can no longer sign in.
    Invalid,
}

/// Mails links and redeems them.
pub struct MailLinkService {
    auth: Arc<dyn AuthRepository>,
    links: Arc<dyn MailLinkRepository>,
    mailer: Option<Arc<dyn Mailer>>,
    secrets: Arc<dyn ClientSecrets>,
    hasher: Arc<dyn PasswordHasher>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
    settings: MailLinkSettings,
}

impl std::fmt::Debug for MailLinkService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailLinkService").field("enabled", &self.enabled()).finish_non_exhaustive()
    }
}

impl MailLinkService {
    /// Wires the service to its ports; `mailer: None` turns mail off.
    #[allow(clippy::too_many_arguments)] // One argument per port.
    pub fn new(
        auth: Arc<dyn AuthRepository>,
        links: Arc<dyn MailLinkRepository>,
        mailer: Option<Arc<dyn Mailer>>,
        secrets: Arc<dyn ClientSecrets>,
        hasher: Arc<dyn PasswordHasher>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
        settings: MailLinkSettings,
    ) -> Self {
        Self { auth, links, mailer, secrets, hasher, revocations, clock, settings }
    }

    /// Whether ScaiKey can send mail (else "forgot password" and invitations are off).
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.mailer.is_some()
    }

    fn mailer(&self) -> Result<&Arc<dyn Mailer>, AppError> {
        self.mailer.as_ref().ok_or_else(|| AppError::Conflict(MAIL_OFF.into()))
    }

    /// "Forgot password": mails a reset link to every active user with this address (an address
    /// may have an account in several tenants; each gets its own link), at most once per
    /// [`mail_link::RESEND_INTERVAL`] each. The caller answers [`FORGOT_ANSWER`] whatever
    /// happened; sending is queued, so the answer takes the same time either way.
    pub async fn forgot(&self, email: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let mailer = self.mailer()?;
        let email = email.trim().to_lowercase();
        if email.is_empty() || email.len() > 320 {
            return Ok(());
        }
        let now = self.clock.now();
        for c in self.auth.login_candidates(&email, None).await? {
            if refusal(&c).is_some() {
                continue;
            }
            if !mail_link::may_send(self.links.last_sent(c.user_id, Purpose::Reset).await?, now) {
                tracing::info!(user_id = %c.user_id, "reset mail not sent again so soon");
                continue;
            }
            let audit = AuditRecord::anonymous(meta, action::AUTH_PASSWORD_FORGOT, "user", AuditResult::Success)
                .resource(c.user_id)
                .within(c.tenant_id, c.partner_id);
            self.send_link(mailer, c.user_id, &c.email, Purpose::Reset, &audit).await?;
        }
        Ok(())
    }

    /// Mails `user` an invitation to choose a first password; `audit` records who sent it.
    /// `Conflict` when mail is off or the user has a password already.
    pub async fn invite(&self, user: &User, audit: &AuditRecord) -> Result<(), AppError> {
        let mailer = self.mailer()?;
        if !mail_link::may_invite(user.password_set) {
            return Err(AppError::Conflict("The user has set a password already".into()));
        }
        self.send_link(mailer, user.id, &user.email, Purpose::Invitation, audit).await
    }

    async fn send_link(
        &self,
        mailer: &Arc<dyn Mailer>,
        user: scaikey_domain::id::UserId,
        to: &str,
        purpose: Purpose,
        audit: &AuditRecord,
    ) -> Result<(), AppError> {
        let token = URL_SAFE_NO_PAD.encode(self.secrets.random_bytes(TOKEN_BYTES).map_err(AppError::Internal)?);
        let link = StoredLink::issued(purpose, self.clock.now(), self.settings.reset_minutes);
        if !self.links.issue(user, &self.secrets.digest(&token), &link, audit).await? {
            return Ok(());
        }
        let mail = self.compose(to, purpose, &token);
        if let Err(e) = mailer.send(mail) {
            // The link is stored; the person can ask again once the queue drains.
            tracing::warn!(error = %e, user_id = %user, "mail not queued");
        }
        Ok(())
    }

    fn compose(&self, to: &str, purpose: Purpose, token: &str) -> Mail {
        let url = format!("{}/login/reset?token={token}", self.settings.base_url.trim_end_matches('/'));
        let (subject, text) = match purpose {
            Purpose::Reset => (
                "Choose a new password".to_string(),
                format!(
                    "Someone, hopefully you, asked to reset the password of the account {to}.\n\n\
                     Choose a new password here within {} minutes (the link works once):\n\n{url}\n\n\
                     If you did not ask, ignore this mail: your password stays as it is.\n",
                    self.settings.reset_minutes.max(1)
                ),
            ),
            Purpose::Invitation => (
                "You are invited: choose your password".to_string(),
                format!(
                    "An account has been created for you: {to}.\n\n\
                     Choose your password here within 7 days (the link works once):\n\n{url}\n"
                ),
            ),
        };
        Mail { to: to.to_string(), subject, text }
    }

    /// What a link is for, or `None` when it cannot be used (unknown, used, expired, or its
    /// user can no longer sign in).
    pub async fn open(&self, token: &str) -> Result<Option<Purpose>, AppError> {
        Ok(self.usable(token).await?.map(|(p, _)| p))
    }

    async fn usable(&self, token: &str) -> Result<Option<(Purpose, crate::ports::LoginCandidate)>, AppError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some(rec) = self.links.find(&self.secrets.digest(token)).await? else { return Ok(None) };
        if rec.link.state(self.clock.now()) != LinkState::Usable {
            return Ok(None);
        }
        let Some(c) = self.auth.candidate(rec.user_id).await? else { return Ok(None) };
        if refusal(&c).is_some() {
            return Ok(None);
        }
        Ok(Some((rec.link.purpose, c)))
    }

    /// Sets the password a link allows: the tenant's policy applies (a violation leaves the link
    /// usable), the link is used up, the address is verified and every session and refresh
    /// token of the user ends.
    pub async fn set_password(
        &self,
        token: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> Result<LinkOutcome, AppError> {
        let Some((purpose, user)) = self.usable(token).await? else { return Ok(LinkOutcome::Invalid) };
        PasswordPolicy::from_settings(&user.tenant_settings)
            .check(new_password)
            .map_err(|v| AppError::field(FieldError::new("new_password", "password_policy", v.to_string())))?;
        let hash = self.hasher.hash(new_password.to_string()).await.map_err(AppError::Internal)?;
        let action = match purpose {
            Purpose::Reset => action::AUTH_PASSWORD_RESET,
            Purpose::Invitation => action::AUTH_INVITATION_ACCEPT,
        };
        let audit = crate::mfa::by_user(&user, meta, action).details(json!({"email_verified": true}));
        let now = self.clock.now();
        let Some(ended) = self.links.redeem(&self.secrets.digest(token), &hash, now, &audit).await? else {
            return Ok(LinkOutcome::Invalid);
        };
        self.revocations.cut_user(user.user_id, &ended, now);
        Ok(LinkOutcome::Done(purpose))
    }
}

#[cfg(test)]
mod tests;
