//! Second factors (contract §10): what a login needs after the password, checking TOTP and
//! recovery codes (each accepted once, failures throttled like passwords), enrolling an
//! authenticator app with its recovery codes, and removing it. The codes' rules are the
//! domain's [`scaikey_domain::mfa`]; secrets are sealed under the master key, bound to the user.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::{AuditRecord, RequestMeta};
use scaikey_domain::id::UserId;
use scaikey_domain::mfa::{self, Method, MfaPolicy, SecondFactor, Totp};
use serde_json::json;

use crate::error::AppError;
use crate::ports::mfa::{MfaRepository, NewTotp};
use crate::ports::{ClientSecrets, Clock, LoginCandidate, SecretSealer};
use crate::throttle::LoginThrottle;
use scaikey_domain::audit::action;

mod passkeys;
pub use passkeys::{PASSKEY_REFUSED, PasskeyPrompt, PasskeySummary};

/// What the setup page says when the first code does not match its key.
pub const CODE_MISMATCH: &str = "That code did not match. Check the time on your device and try again.";

/// Associated data of a stored TOTP secret (followed by the user's ID).
const TOTP_AAD: &str = "scaikey/totp/v1/";
/// Associated data of an enrolment in progress, carried in a form (followed by the user's ID).
const SETUP_AAD: &str = "scaikey/totp-setup/v1/";

/// Which second factor proved the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsedFactor {
    /// A TOTP code.
    Totp,
    /// A recovery code.
    RecoveryCode,
    /// A passkey (WebAuthn).
    Passkey,
}

impl UsedFactor {
    /// The `amr` of a session it completes (RFC 8176: both are one-time passwords).
    #[must_use]
    pub fn amr(self) -> Vec<String> {
        match self {
            UsedFactor::Totp | UsedFactor::RecoveryCode => vec!["pwd".into(), "otp".into()],
            // RFC 8176: proof of possession of a hardware-bound key.
            UsedFactor::Passkey => vec!["pwd".into(), "hwk".into()],
        }
    }
}

/// An authenticator-app enrolment in progress: what the page shows, and the sealed secret its
/// form sends back with the first code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSetup {
    /// The `otpauth://` URI (for the QR code).
    pub otpauth_uri: String,
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
    /// The secret sealed for this user, for the form.
    pub sealed: String,
}

/// A user's second factors, for `/account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStatus {
    /// When the authenticator app was enrolled.
    pub totp_since: Option<DateTime<Utc>>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// The tenant's policy.
    pub policy: MfaPolicy,
    /// The passkeys, oldest first.
    pub passkeys: Vec<PasskeySummary>,
    /// Whether this server can use passkeys (its issuer's host is a domain name).
    pub passkeys_available: bool,
}

/// Second-factor operations.
pub struct MfaService {
    repo: Arc<dyn MfaRepository>,
    sealer: Arc<dyn SecretSealer>,
    secrets: Arc<dyn ClientSecrets>,
    throttle: Arc<LoginThrottle>,
    clock: Arc<dyn Clock>,
    /// The name authenticator apps show (the issuer's host).
    issuer_name: String,
    passkeys: Option<passkeys::Passkeys>,
}

impl std::fmt::Debug for MfaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaService").field("issuer_name", &self.issuer_name).finish_non_exhaustive()
    }
}

/// What removing a factor answers while the tenant requires one and it is the last.
pub const LAST_FACTOR: &str = "Your organisation requires a second factor; add another one first.";

/// An audit record of the user's own change to their account (factors, password by link).
pub(crate) fn by_user(user: &LoginCandidate, meta: &RequestMeta, action: &'static str) -> AuditRecord {
    AuditRecord::by_user(user.user_id, meta, action, "user")
        .resource(user.user_id)
        .within(user.tenant_id, user.partner_id)
}

fn aad(prefix: &str, user: UserId) -> Vec<u8> {
    format!("{prefix}{user}").into_bytes()
}

impl MfaService {
    /// Wires the service to its ports.
    pub fn new(
        repo: Arc<dyn MfaRepository>,
        sealer: Arc<dyn SecretSealer>,
        secrets: Arc<dyn ClientSecrets>,
        throttle: Arc<LoginThrottle>,
        clock: Arc<dyn Clock>,
        issuer_name: String,
    ) -> Self {
        Self { repo, sealer, secrets, throttle, clock, issuer_name, passkeys: None }
    }

    /// What `user` needs after a correct password.
    #[must_use]
    pub fn next(&self, user: &LoginCandidate) -> SecondFactor {
        mfa::second_factor(&MfaPolicy::of(&user.tenant_settings), &user.mfa_methods)
    }

    /// Checks a TOTP or recovery code of `user` (signing in as `email`): `Ok(Some(_))` when it
    /// is accepted (and used up), `Ok(None)` when it is wrong, replayed or already used (the
    /// failure counted against the e-mail and the IP), `Err(Throttled)` while held back.
    pub async fn verify(
        &self,
        user: UserId,
        email: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Option<UsedFactor>, AppError> {
        let record = self.throttle.hold_back(email, meta).await?;
        let used = self.try_code(user, code).await?;
        match used {
            Some(_) => self.throttle.succeeded(email, record).await?,
            None => self.throttle.failed(email, meta).await?,
        }
        Ok(used)
    }

    async fn try_code(&self, user: UserId, code: &str) -> Result<Option<UsedFactor>, AppError> {
        let now = self.clock.now();
        if let Some(stored) = self.repo.totp(user).await? {
            let secret = self.sealer.open(&stored.sealed_secret, &aad(TOTP_AAD, user)).map_err(AppError::Internal)?;
            if let Some(step) = Totp::new(secret).and_then(|t| t.matching_step(code, now)) {
                // The domain's rule first; the store's compare-and-set then stops a
                // concurrent login from using the same step.
                let accepted = mfa::accept_step(step, stored.last_step) && self.repo.use_totp_step(user, step).await?;
                return Ok(accepted.then_some(UsedFactor::Totp));
            }
        }
        if let Some(normalized) = mfa::normalize_recovery_code(code) {
            let digest = self.secrets.digest(&normalized);
            if self.repo.use_recovery_code(user, &digest, now).await? {
                return Ok(Some(UsedFactor::RecoveryCode));
            }
        }
        Ok(None)
    }

    /// A new authenticator-app secret for `user` (nothing stored until it is confirmed).
    pub fn begin_totp(&self, user: UserId, account: &str) -> Result<TotpSetup, AppError> {
        let secret = self.secrets.random_bytes(mfa::TOTP_SECRET_BYTES).map_err(AppError::Internal)?;
        let sealed = self.sealer.seal(&secret, &aad(SETUP_AAD, user)).map_err(AppError::Internal)?;
        Ok(TotpSetup {
            otpauth_uri: mfa::otpauth_uri(&self.issuer_name, account, &secret),
            secret_base32: mfa::base32(&secret),
            sealed: URL_SAFE_NO_PAD.encode(sealed),
        })
    }

    /// The setup of a sealed secret again (to show the page once more after a wrong code);
    /// `None` when it was not sealed for this user.
    #[must_use]
    pub fn reopen_totp(&self, user: UserId, account: &str, sealed: &str) -> Option<TotpSetup> {
        let secret = self.open_setup(user, sealed)?;
        Some(TotpSetup {
            otpauth_uri: mfa::otpauth_uri(&self.issuer_name, account, &secret),
            secret_base32: mfa::base32(&secret),
            sealed: sealed.to_string(),
        })
    }

    fn open_setup(&self, user: UserId, sealed: &str) -> Option<Vec<u8>> {
        let blob = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        self.sealer.open(&blob, &aad(SETUP_AAD, user)).ok()
    }

    /// Confirms an enrolment with its first code: stores the factor and ten new recovery codes
    /// (audited as the user's `user.mfa_enrol`) and answers the codes, shown once. `Ok(None)`
    /// when the code does not match the secret; `Conflict` when an app is already enrolled.
    pub async fn confirm_totp(
        &self,
        user: &LoginCandidate,
        sealed: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Option<Vec<String>>, AppError> {
        let Some(secret) = self.open_setup(user.user_id, sealed) else { return Ok(None) };
        let now = self.clock.now();
        let Some(step) = Totp::new(secret.clone()).and_then(|t| t.matching_step(code, now)) else {
            return Ok(None);
        };
        let mut codes = Vec::with_capacity(mfa::RECOVERY_CODES);
        let mut digests = Vec::with_capacity(mfa::RECOVERY_CODES);
        for _ in 0..mfa::RECOVERY_CODES {
            let raw = self.secrets.random_bytes(mfa::RECOVERY_CODE_BYTES).map_err(AppError::Internal)?;
            let shown = mfa::recovery_code(&raw);
            let stored = mfa::normalize_recovery_code(&shown)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a generated recovery code does not read back")))?;
            digests.push(self.secrets.digest(&stored));
            codes.push(shown);
        }
        let sealed_secret = self.sealer.seal(&secret, &aad(TOTP_AAD, user.user_id)).map_err(AppError::Internal)?;
        let audit = by_user(user, meta, action::USER_MFA_ENROL)
            .details(json!({"method": Method::Totp.as_str(), "recovery_codes": codes.len()}));
        let new = NewTotp { user_id: user.user_id, sealed_secret, confirmed_step: step, recovery_codes: digests };
        if !self.repo.enrol_totp(&new, now, &audit).await? {
            return Err(AppError::NotFound("User"));
        }
        Ok(Some(codes))
    }

    /// Refuses taking the authenticator app away from `user` when it is the last factor the
    /// tenant requires (a 409 with [`LAST_FACTOR`]); asked before any code is spent on it.
    pub fn totp_removable(user: &LoginCandidate) -> Result<(), AppError> {
        let left: Vec<Method> = user.mfa_methods.iter().copied().filter(|m| *m != Method::Totp).collect();
        if mfa::may_remove(&MfaPolicy::of(&user.tenant_settings), &left) {
            Ok(())
        } else {
            Err(AppError::Conflict(LAST_FACTOR.into()))
        }
    }

    /// Removes the authenticator app and its recovery codes (audited as `user.mfa_remove`);
    /// refused while the tenant requires a second factor and it is the only one.
    pub async fn remove_totp(&self, user: &LoginCandidate, meta: &RequestMeta) -> Result<bool, AppError> {
        Self::totp_removable(user)?;
        let audit = by_user(user, meta, action::USER_MFA_REMOVE).details(json!({"method": Method::Totp.as_str()}));
        Ok(self.repo.remove_totp(user.user_id, self.clock.now(), &audit).await?)
    }

    /// The user's factors and the tenant's policy, for `/account`.
    pub async fn status(&self, user: &LoginCandidate) -> Result<MfaStatus, AppError> {
        let totp = self.repo.totp(user.user_id).await?;
        let left = if totp.is_some() { self.repo.recovery_codes_left(user.user_id).await? } else { 0 };
        Ok(MfaStatus {
            totp_since: totp.map(|t| t.created_at),
            recovery_codes_left: left,
            policy: MfaPolicy::of(&user.tenant_settings),
            passkeys: self.list_passkeys(user.user_id).await?,
            passkeys_available: self.passkeys_available(),
        })
    }
}

#[cfg(test)]
mod tests;
