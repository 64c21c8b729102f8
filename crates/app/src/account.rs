//! `/account` (contract §9): a signed-in person's own profile, password, sessions and consents.
//! The browser's SSO session is the only credential; every change is audited with the person
//! as the actor, and the rules are the admin API's (name validation, the tenant's password
//! policy, a password change ends every session).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use scaikey_domain::audit::{AuditRecord, RequestMeta};
use scaikey_domain::id::{ApplicationId, SessionId, UserId};
use scaikey_domain::password::PasswordPolicy;
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::user::{User, UserChanges, UserInput};
use scaikey_domain::validation::FieldError;
use serde_json::json;

use crate::auth::{AuthService, LoginRequest};
use crate::error::AppError;
use crate::mfa::{MfaStatus, TotpSetup};
use crate::oidc::{After, OidcService, SecondStepView, SessionCookie};
use crate::page::PageRequest;
use crate::ports::oidc::{ConsentSummary, GrantRepository};
use crate::ports::{
    Clock, PasswordHasher, Session, SessionFilter, SessionRepository, SessionState, TenantRepository, UserRepository,
};
use crate::revocation::RevocationList;
use crate::throttle::wait_message;
use scaikey_domain::audit::action;
use scaikey_domain::mfa::{Method, MfaPolicy};

/// The most sessions the page lists (newest first).
const SESSIONS_SHOWN: i64 = 50;

/// The signed-in person of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// As an audit actor (no roles: the account pages grant none).
    principal: Principal,
    /// The user.
    pub user_id: UserId,
    /// The session the browser holds.
    pub session_id: SessionId,
}

/// Everything the account page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    /// The profile.
    pub user: User,
    /// Open sessions, newest first.
    pub sessions: Vec<Session>,
    /// The browser's own session among them.
    pub current_session: SessionId,
    /// Consents to applications.
    pub consents: Vec<ConsentSummary>,
    /// The tenant's password policy, for the form's hint.
    pub password_policy: PasswordPolicy,
    /// Second factors and the tenant's policy for them.
    pub mfa: MfaStatus,
}

/// The result of the account pages' login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountLogin {
    /// Signed in: set the cookie.
    SignedIn(SessionCookie, DateTime<Utc>),
    /// Refused: the message for the form, and the seconds to wait when throttled.
    Refused(String, Option<i64>),
    /// The password was right; a second factor is needed.
    SecondStep(SecondStepView),
}

/// The account pages' operations.
pub struct AccountService {
    oidc: Arc<OidcService>,
    auth: Arc<AuthService>,
    users: Arc<dyn UserRepository>,
    tenants: Arc<dyn TenantRepository>,
    sessions: Arc<dyn SessionRepository>,
    grants: Arc<dyn GrantRepository>,
    hasher: Arc<dyn PasswordHasher>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountService")
    }
}

impl AccountService {
    /// Wires the service to its ports.
    #[allow(clippy::too_many_arguments)] // One argument per port.
    pub fn new(
        oidc: Arc<OidcService>,
        auth: Arc<AuthService>,
        users: Arc<dyn UserRepository>,
        tenants: Arc<dyn TenantRepository>,
        sessions: Arc<dyn SessionRepository>,
        grants: Arc<dyn GrantRepository>,
        hasher: Arc<dyn PasswordHasher>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { oidc, auth, users, tenants, sessions, grants, hasher, revocations, clock }
    }

    /// The person the cookie proves a live session of, if any (a suspended user, tenant or
    /// partner has none).
    pub async fn me(&self, cookie: Option<&SessionCookie>) -> Result<Option<Me>, AppError> {
        let Some(s) = self.oidc.browser(cookie).await? else { return Ok(None) };
        let Some(u) = self.grants.sign_in_user(s.user_id).await? else { return Ok(None) };
        if !(u.user_active && u.tenant_active && u.partner_active) {
            return Ok(None);
        }
        let principal = Principal::User(UserPrincipal {
            user_id: u.user_id,
            session_id: s.id,
            tenant_id: u.tenant_id,
            partner_id: u.partner_id,
            roles: scaikey_domain::role::Roles::default(),
        });
        Ok(Some(Me { principal, user_id: u.user_id, session_id: s.id }))
    }

    /// Signs a person in to the account pages (any tenant; `tenant` picks one when the e-mail
    /// is in several), with the second step of contract §10 when they need one.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        tenant: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<AccountLogin, AppError> {
        let tenant_id = match tenant.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => match self.grants.tenant_by_slug_or_id(t).await? {
                Some(id) => Some(id),
                None => return Ok(AccountLogin::Refused(crate::auth::INVALID_CREDENTIALS.into(), None)),
            },
            None => None,
        };
        let req = LoginRequest { email: email.to_string(), password: password.to_string(), tenant_id, code: None };
        let (user, record) = match self.auth.check_password(req, meta, |_| true).await {
            Ok(checked) => checked,
            Err(AppError::Unauthenticated(m)) => return Ok(AccountLogin::Refused(m.into(), None)),
            Err(AppError::Throttled(s)) => {
                return Ok(AccountLogin::Refused(wait_message(s), Some(s)));
            }
            Err(e) => return Err(e),
        };
        if let Some(step) = self.oidc.begin_second_step(&user, After::Account).await? {
            return Ok(AccountLogin::SecondStep(step));
        }
        self.auth.completed(email, record).await?;
        let (cookie, expires_at) = self.oidc.open_browser_session(&user, meta, vec!["pwd".into()]).await?;
        Ok(AccountLogin::SignedIn(cookie, expires_at))
    }

    /// The page's content.
    pub async fn view(&self, me: &Me) -> Result<AccountView, AppError> {
        let user = self.users.get(me.user_id).await?.ok_or(AppError::NotFound("User"))?;
        let filter = SessionFilter { user_id: Some(me.user_id), tenant_id: None, state: SessionState::Active };
        let page = PageRequest::new(Some(1), Some(SESSIONS_SHOWN))?;
        let sessions =
            self.sessions.list(scaikey_domain::access::Reach::Platform, &filter, self.clock.now(), page).await?.items;
        let consents = self.grants.consents_of(me.user_id).await?;
        let password_policy = self.policy(&user).await?;
        let mfa = self.auth.mfa().status(&self.candidate(me).await?).await?;
        Ok(AccountView { user, sessions, current_session: me.session_id, consents, password_policy, mfa })
    }

    async fn candidate(&self, me: &Me) -> Result<crate::ports::LoginCandidate, AppError> {
        self.auth.candidate(me.user_id).await?.ok_or(AppError::NotFound("User"))
    }

    /// Starts setting up an authenticator app (nothing is stored until it is confirmed).
    pub async fn begin_totp(&self, me: &Me) -> Result<TotpSetup, AppError> {
        let user = self.candidate(me).await?;
        if !MfaPolicy::of(&user.tenant_settings).offers(Method::Totp) {
            return Err(AppError::Conflict("Your organisation does not offer authenticator apps.".into()));
        }
        self.auth.mfa().begin_totp(user.user_id, &user.email)
    }

    /// The setup of a sealed secret again, after a wrong code.
    pub async fn reopen_totp(&self, me: &Me, sealed: &str) -> Result<Option<TotpSetup>, AppError> {
        let user = self.candidate(me).await?;
        Ok(self.auth.mfa().reopen_totp(user.user_id, &user.email, sealed))
    }

    /// Confirms the setup with its first code; answers the recovery codes to show once, or
    /// `None` when the code does not match.
    pub async fn confirm_totp(
        &self,
        me: &Me,
        sealed: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Option<Vec<String>>, AppError> {
        let user = self.candidate(me).await?;
        self.auth.mfa().confirm_totp(&user, sealed, code, meta).await
    }

    /// Removes the authenticator app after checking one of its codes (or a recovery code), so
    /// a borrowed browser alone cannot take the second factor away.
    pub async fn remove_totp(&self, me: &Me, code: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let user = self.candidate(me).await?;
        let refusal = |kind: &'static str, msg: String| AppError::field(FieldError::new("code", kind, msg));
        let refused = |e: AppError| match e {
            AppError::Conflict(m) => refusal("mfa_required", m),
            e => e,
        };
        // Asked first, so a refused removal spends no recovery code (nor the code's time step).
        crate::mfa::MfaService::totp_removable(&user).map_err(refused)?;
        match self.auth.mfa().verify(user.user_id, &user.email, code, meta).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(refusal("invalid_code", "That code is not valid".into())),
            Err(AppError::Throttled(s)) => {
                return Err(refusal("throttled", wait_message(s)));
            }
            Err(e) => return Err(e),
        }
        self.auth.mfa().remove_totp(&user, meta).await.map(|_| ()).map_err(refused)
    }

    /// Starts adding a passkey: the options for the browser.
    pub async fn begin_passkey(&self, me: &Me) -> Result<crate::mfa::PasskeyPrompt, AppError> {
        let user = self.candidate(me).await?;
        let profile = self.users.get(me.user_id).await?.ok_or(AppError::NotFound("User"))?;
        let display = profile.display_name.clone().unwrap_or_else(|| user.email.clone());
        self.auth.mfa().begin_passkey(&user, &display).await
    }

    /// Finishes adding a passkey; `false` when the browser's answer is not accepted.
    pub async fn confirm_passkey(
        &self,
        me: &Me,
        challenge: &str,
        name: &str,
        response: &str,
        meta: &RequestMeta,
    ) -> Result<bool, AppError> {
        let user = self.candidate(me).await?;
        self.auth.mfa().confirm_passkey(&user, challenge, name, response, meta).await
    }

    /// Removes one of the person's passkeys; `false` when there is no such one.
    pub async fn remove_passkey(&self, me: &Me, id: &str, meta: &RequestMeta) -> Result<bool, AppError> {
        let user = self.candidate(me).await?;
        self.auth.mfa().remove_passkey(&user, id, meta).await
    }

    async fn policy(&self, user: &User) -> Result<PasswordPolicy, AppError> {
        let settings = match user.tenant_id {
            Some(t) => self.tenants.get(t).await?.map(|t| t.settings).unwrap_or_else(|| json!({})),
            None => json!({}),
        };
        Ok(PasswordPolicy::from_settings(&settings))
    }

    fn audit(me: &Me, user: &User, action: &'static str, meta: &RequestMeta) -> AuditRecord {
        AuditRecord::success(&me.principal, meta, action, "user")
            .resource(user.id)
            .within(user.tenant_id, user.partner_id)
            .details(json!({"via": "account"}))
    }

    /// Changes the person's names (validated as the admin API validates them).
    pub async fn update_profile(
        &self,
        me: &Me,
        first_name: &str,
        last_name: &str,
        display_name: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let opt = |s: &str| Some(Some(s.trim().to_string()).filter(|s| !s.is_empty()));
        let changes = UserChanges::validate(UserInput {
            first_name: opt(first_name),
            last_name: opt(last_name),
            display_name: opt(display_name),
            ..UserInput::default()
        })?;
        let user = self.users.get(me.user_id).await?.ok_or(AppError::NotFound("User"))?;
        let audit = Self::audit(me, &user, action::USER_UPDATE, meta);
        // Names only: nothing a token carries changes, so nothing is cut.
        self.users
            .update(me.user_id, &changes, None, self.clock.now(), &audit)
            .await?
            .ok_or(AppError::NotFound("User"))?;
        Ok(())
    }

    /// Changes the password after checking the current one and the tenant's policy. Every
    /// session of the person ends (this browser's too), with their session-bound refresh tokens.
    pub async fn change_password(
        &self,
        me: &Me,
        current: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let user = self.users.get(me.user_id).await?.ok_or(AppError::NotFound("User"))?;
        let check = LoginRequest {
            email: user.email.clone(),
            password: current.to_string(),
            tenant_id: user.tenant_id,
            code: None,
        };
        let me_id = me.user_id;
        match self.auth.check_password(check, meta, move |c| c.user_id == me_id).await {
            Ok(_) => {}
            Err(AppError::Unauthenticated(_)) => {
                return Err(AppError::field(FieldError::new(
                    "password",
                    "invalid_credentials",
                    "The current password is not right",
                )));
            }
            Err(AppError::Throttled(s)) => {
                return Err(AppError::field(FieldError::new("password", "throttled", wait_message(s))));
            }
            Err(e) => return Err(e),
        }
        self.policy(&user)
            .await?
            .check(new_password)
            .map_err(|v| AppError::field(FieldError::new("new_password", "password_policy", v.to_string())))?;
        let hash = self.hasher.hash(new_password.to_string()).await.map_err(AppError::Internal)?;
        let audit = Self::audit(me, &user, action::USER_CHANGE_PASSWORD, meta);
        let now = self.clock.now();
        let ended = self.users.set_password(me.user_id, &hash, now, &audit).await?.ok_or(AppError::NotFound("User"))?;
        // Storage cut the user's tokens; this process refuses them at once, as after a reset.
        self.revocations.cut_user(me.user_id, &ended, now);
        Ok(())
    }

    /// Ends one of the person's sessions (someone else's is "not found").
    pub async fn revoke_session(&self, me: &Me, id: SessionId, meta: &RequestMeta) -> Result<(), AppError> {
        let s =
            self.sessions.get(id).await?.filter(|s| s.user_id == me.user_id).ok_or(AppError::NotFound("Session"))?;
        let audit = AuditRecord::success(&me.principal, meta, action::SESSION_REVOKE, "session")
            .resource(id)
            .within(s.tenant_id, s.partner_id)
            .details(json!({"via": "account"}));
        let revoked = self.sessions.revoke(id, self.clock.now(), &audit).await?.ok_or(AppError::NotFound("Session"))?;
        self.revocations.add(&[crate::ports::EndedSession { id, expires_at: revoked.expires_at }]);
        Ok(())
    }

    /// Withdraws the person's consent to an application; its refresh tokens for the person end.
    pub async fn revoke_consent(&self, me: &Me, app: ApplicationId, meta: &RequestMeta) -> Result<(), AppError> {
        let user = self.users.get(me.user_id).await?.ok_or(AppError::NotFound("User"))?;
        let audit = AuditRecord::success(&me.principal, meta, action::CONSENT_REVOKE, "application")
            .resource(app)
            .within(user.tenant_id, user.partner_id)
            .details(json!({"user_id": me.user_id.to_string(), "via": "account"}));
        if self.grants.revoke_consent(me.user_id, app, self.clock.now(), &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("Consent"))
        }
    }
}

#[cfg(test)]
mod tests;
