//! Passkeys (WebAuthn) as a second factor (contract §10): added and removed in `/account`,
//! answered in the second step of a login. The ceremonies are the [`PasskeyCeremonies`] port's;
//! each challenge is stored server-side and taken when answered, so an answer counts once. A
//! failed sign-in counts against the e-mail and IP like a wrong code.

use std::sync::Arc;

use scaikey_domain::audit::RequestMeta;
use scaikey_domain::id::UserId;
use scaikey_domain::mfa::{self, Method, MfaPolicy};
use serde_json::json;
use ulid::Ulid;

use super::{MfaService, by_user};
use crate::error::{AppError, RepoError};
use crate::ports::LoginCandidate;
use crate::ports::passkeys::{ChallengePurpose, PasskeyCeremonies, PasskeyRepository, StoredChallenge, StoredPasskey};
use scaikey_domain::audit::action;

/// Passkey storage and the relying party, when passkeys are available (the issuer's host is a
/// domain name).
#[derive(Clone)]
pub(crate) struct Passkeys {
    pub(crate) repo: Arc<dyn PasskeyRepository>,
    pub(crate) rp: Arc<dyn PasskeyCeremonies>,
}

/// A ceremony for the browser: the challenge's ID (for the form) and the options for
/// `navigator.credentials`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyPrompt {
    /// The stored challenge's ID.
    pub challenge: String,
    /// JSON options (`{"publicKey": …}`).
    pub options: String,
}

/// A passkey as `/account` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySummary {
    /// Its ID (for the remove form).
    pub id: String,
    /// The person's name for it.
    pub name: String,
    /// Added.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last sign-in.
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What the person is told when a passkey answer is not accepted.
pub const PASSKEY_REFUSED: &str = "The passkey was not accepted. Try again, or use another sign-in method.";

impl MfaService {
    /// Turns passkeys on.
    #[must_use]
    pub fn with_passkeys(mut self, repo: Arc<dyn PasskeyRepository>, rp: Arc<dyn PasskeyCeremonies>) -> Self {
        self.passkeys = Some(Passkeys { repo, rp });
        self
    }

    /// Whether passkeys can be used here.
    #[must_use]
    pub fn passkeys_available(&self) -> bool {
        self.passkeys.is_some()
    }

    fn pk(&self) -> Result<&Passkeys, AppError> {
        self.passkeys.as_ref().ok_or_else(|| AppError::Conflict("Passkeys are not available on this server".into()))
    }

    async fn save(
        &self,
        p: &Passkeys,
        user: UserId,
        purpose: ChallengePurpose,
        state: String,
        options: String,
    ) -> Result<PasskeyPrompt, AppError> {
        let id = Ulid::new();
        let challenge = StoredChallenge { state, expires_at: self.clock.now() + mfa::PASSKEY_CHALLENGE_LIFETIME };
        p.repo.save_challenge(id, user, purpose, &challenge).await?;
        Ok(PasskeyPrompt { challenge: id.to_string(), options })
    }

    /// The state of a challenge of `user`, taken so it cannot be answered again; `None` when it
    /// is unknown, someone else's, answered already or expired.
    async fn take(
        &self,
        p: &Passkeys,
        user: UserId,
        purpose: ChallengePurpose,
        id: &str,
    ) -> Result<Option<String>, AppError> {
        let Ok(id) = id.parse::<Ulid>() else { return Ok(None) };
        let Some(c) = p.repo.take_challenge(id, user, purpose).await? else { return Ok(None) };
        Ok((c.expires_at > self.clock.now()).then_some(c.state))
    }

    /// The stored credentials of the user's passkeys, for a sign-in ceremony.
    async fn credentials(&self, p: &Passkeys, user: UserId) -> Result<Vec<String>, AppError> {
        Ok(p.repo.passkeys(user).await?.into_iter().map(|k| k.credential).collect())
    }

    /// Begins adding a passkey for `user` (`Conflict` when the tenant does not offer passkeys or
    /// this server cannot use them).
    pub async fn begin_passkey(&self, user: &LoginCandidate, display: &str) -> Result<PasskeyPrompt, AppError> {
        let p = self.pk()?;
        if !MfaPolicy::of(&user.tenant_settings).offers(Method::Webauthn) {
            return Err(AppError::Conflict("Your organisation does not offer passkeys".into()));
        }
        let exclude: Vec<Vec<u8>> = p.repo.passkeys(user.user_id).await?.into_iter().map(|k| k.credential_id).collect();
        let c = p.rp.start_registration(user.user_id, &user.email, display, &exclude).map_err(AppError::Internal)?;
        self.save(p, user.user_id, ChallengePurpose::Register, c.state, c.options).await
    }

    /// Finishes adding a passkey named `name` with the browser's answer; `Ok(false)` when the
    /// answer is not accepted (or its challenge is gone), a field error for a bad name.
    pub async fn confirm_passkey(
        &self,
        user: &LoginCandidate,
        challenge: &str,
        name: &str,
        response: &str,
        meta: &RequestMeta,
    ) -> Result<bool, AppError> {
        let p = self.pk()?;
        let name = mfa::passkey_name(name).map_err(AppError::field)?;
        let Some(state) = self.take(p, user.user_id, ChallengePurpose::Register, challenge).await? else {
            return Ok(false);
        };
        let created = match p.rp.finish_registration(response, &state) {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(user_id = %user.user_id, error = %e, "passkey registration refused");
                return Ok(false);
            }
        };
        let now = self.clock.now();
        let key = StoredPasskey {
            id: Ulid::new(),
            name: name.clone(),
            credential_id: created.credential_id,
            credential: created.credential,
            created_at: now,
            last_used_at: None,
        };
        let audit = by_user(user, meta, action::USER_MFA_ENROL)
            .details(json!({"method": Method::Webauthn.as_str(), "name": name}));
        match p.repo.add(user.user_id, &key, now, &audit).await {
            Ok(true) => Ok(true),
            Ok(false) => Err(AppError::NotFound("User")),
            Err(RepoError::Duplicate(_)) => Err(AppError::Conflict("This passkey is registered already".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// A sign-in ceremony over the user's passkeys, or `None` when the user has none.
    pub async fn passkey_prompt(&self, user: UserId) -> Result<Option<PasskeyPrompt>, AppError> {
        let Some(p) = self.passkeys.as_ref() else { return Ok(None) };
        let keys = self.credentials(p, user).await?;
        if keys.is_empty() {
            return Ok(None);
        }
        let c = p.rp.start_authentication(&keys).map_err(AppError::Internal)?;
        self.save(p, user, ChallengePurpose::Authenticate, c.state, c.options).await.map(Some)
    }

    /// Checks a passkey answer of `user` (signing in as `email`): `true` when accepted, `false`
    /// when not (counted as a failure), `Throttled` while held back.
    pub async fn verify_passkey(
        &self,
        user: UserId,
        email: &str,
        challenge: &str,
        response: &str,
        meta: &RequestMeta,
    ) -> Result<bool, AppError> {
        let p = self.pk()?;
        let record = self.throttle.hold_back(email, meta).await?;
        let ok = match self.take(p, user, ChallengePurpose::Authenticate, challenge).await? {
            None => false,
            Some(state) => {
                let keys = self.credentials(p, user).await?;
                match p.rp.finish_authentication(response, &state, &keys) {
                    Ok(a) => {
                        p.repo.used(user, &a.credential_id, a.updated, self.clock.now()).await?;
                        true
                    }
                    Err(e) => {
                        tracing::info!(user_id = %user, error = %e, "passkey sign-in refused");
                        false
                    }
                }
            }
        };
        if ok {
            self.throttle.succeeded(email, record).await?;
        } else {
            self.throttle.failed(email, meta).await?;
        }
        Ok(ok)
    }

    /// The user's passkeys, oldest first.
    pub async fn list_passkeys(&self, user: UserId) -> Result<Vec<PasskeySummary>, AppError> {
        let Some(p) = self.passkeys.as_ref() else { return Ok(Vec::new()) };
        Ok(p.repo
            .passkeys(user)
            .await?
            .into_iter()
            .map(|k| PasskeySummary {
                id: k.id.to_string(),
                name: k.name,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
            })
            .collect())
    }

    /// Removes one of the user's passkeys (audited as `user.mfa_remove`); refused while the
    /// tenant requires a second factor and it is the last one. `false` when there is no such one.
    pub async fn remove_passkey(&self, user: &LoginCandidate, id: &str, meta: &RequestMeta) -> Result<bool, AppError> {
        let p = self.pk()?;
        let Ok(id) = id.parse::<Ulid>() else { return Ok(false) };
        let keys = p.repo.passkeys(user.user_id).await?;
        let Some(key) = keys.iter().find(|k| k.id == id) else { return Ok(false) };
        let mut left: Vec<Method> = user.mfa_methods.iter().copied().filter(|m| *m != Method::Webauthn).collect();
        if keys.len() > 1 {
            left.push(Method::Webauthn);
        }
        if !mfa::may_remove(&MfaPolicy::of(&user.tenant_settings), &left) {
            return Err(AppError::Conflict(super::LAST_FACTOR.into()));
        }
        let audit = by_user(user, meta, action::USER_MFA_REMOVE)
            .details(json!({"method": Method::Webauthn.as_str(), "name": key.name}));
        Ok(p.repo.remove(user.user_id, id, self.clock.now(), &audit).await?)
    }
}

#[cfg(test)]
mod tests;
