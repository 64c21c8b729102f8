//! Sign-in through a tenant's identity provider (contract §11), as a step of the authorization
//! interaction: the login page's buttons, `idp=` on authorize, the trip to the upstream
//! provider and the callback that links or provisions the user and opens the SSO session.
//!
//! A started sign-in is stored (`federation_states`) under the keyed hash of the `state` sent
//! upstream, with the PKCE verifier, the nonce and the sealed authorization request; the
//! callback takes it exactly once and only in the browser that started it (a cookie whose keyed
//! hash is stored beside it). Every refusal ends on an error page with nothing created or
//! linked, audited as a failed `auth.login` with its reason.

use std::sync::Arc;

use scaikey_domain::application::Application;
use scaikey_domain::audit::{ActorType, AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::federated::{self, Link, UpstreamIdentity};
use scaikey_domain::federation::{IdentityProvider, Protocol};
use scaikey_domain::id::{IdentityProviderId, TenantId, UserId};
use scaikey_domain::oidc::authorize::AuthorizationRequest;
use scaikey_domain::oidc::signin::{self, Admission, Subject};
use scaikey_domain::validation as v;
use serde_json::json;

use super::{Interaction, OidcService, Outcome, SessionCookie, expired, subject};
use crate::error::{AppError, RepoError};
use crate::ports::IdpRepository;
use crate::ports::federation::{
    FederatedSignIn, FederationRepository, LinkTarget, NewFederationState, UpstreamClient, UpstreamOidc,
};
use scaikey_domain::audit::action;

/// The audit action of callbacks that belong to no started sign-in.
pub const CALLBACK_REFUSED: &str = action::AUTH_FEDERATION_CALLBACK;

/// Shown when the button or `idp=` names no usable identity provider.
const UNAVAILABLE: &str = "That sign-in option is not available.";
/// Shown when a callback fails a check that says nothing useful to the person.
const NOT_COMPLETED: &str = "The sign-in could not be completed. Go back to the application and try again.";

/// What federated sign-in needs.
#[derive(Clone)]
pub struct Federation {
    /// Identity providers.
    pub idps: Arc<dyn IdpRepository>,
    /// Started sign-ins and links.
    pub store: Arc<dyn FederationRepository>,
    /// Upstream OpenID Connect providers.
    pub upstream: Arc<dyn UpstreamOidc>,
    /// The SAML service provider, when this build has one.
    pub saml: Option<Arc<dyn crate::ports::federation::SamlServiceProviders>>,
}

impl Federation {
    /// Whether sign-in through providers of `protocol` is available.
    fn offers(&self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Oidc => true,
            Protocol::Saml => self.saml.is_some(),
        }
    }
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Federation")
    }
}

/// The result of an upstream callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackResult {
    /// Signed in: set the cookie, then continue with `next`.
    SignedIn {
        /// The new SSO cookie.
        cookie: SessionCookie,
        /// Its end.
        expires_at: chrono::DateTime<chrono::Utc>,
        /// Where to go now.
        next: Outcome,
    },
    /// An error page, or the client's `access_denied`.
    Done(Outcome),
}

/// An upstream-supplied code for the audit record: at most 64 printable characters.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

mod saml;

pub use saml::AcsResult;

fn failed(message: &str) -> Result<CallbackResult, AppError> {
    Ok(CallbackResult::Done(Outcome::ErrorPage(message.to_string())))
}

impl OidcService {
    fn federation(&self) -> Option<&Federation> {
        self.federation.as_ref()
    }

    /// Whether `app` admits users of `tenant` (its scope, and the tenant and partner active).
    async fn admits_tenant(&self, f: &Federation, app: &Application, tenant: TenantId) -> Result<bool, AppError> {
        let Some(st) = f.store.tenant_standing(tenant).await? else { return Ok(false) };
        let s = Subject {
            tenant_id: Some(tenant),
            partner_id: st.partner_id,
            user_active: true,
            tenant_active: st.tenant_active,
            partner_active: st.partner_active,
        };
        Ok(signin::admits(app, &s).is_ok())
    }

    /// The login page's identity-provider buttons: the enabled OIDC providers of the tenant the
    /// page is for (the application's, or the one `tenant=` names), when the application admits
    /// that tenant's users.
    pub(super) async fn buttons(
        &self,
        app: &Application,
        req: &AuthorizationRequest,
    ) -> Result<Vec<(String, String)>, AppError> {
        let Some(f) = self.federation() else { return Ok(Vec::new()) };
        let tenant = match (app.tenant_id, req.tenant_hint.as_deref()) {
            (Some(t), _) => Some(t),
            (None, Some(hint)) => self.grants.tenant_by_slug_or_id(hint).await?,
            (None, None) => None,
        };
        let Some(tenant) = tenant else { return Ok(Vec::new()) };
        if !self.admits_tenant(f, app, tenant).await? {
            return Ok(Vec::new());
        }
        Ok(f.idps
            .enabled_of(tenant)
            .await?
            .into_iter()
            .filter(|i| f.offers(i.protocol))
            .map(|i| (i.id.to_string(), i.name))
            .collect())
    }

    /// `POST /login/idp`: the login page's button for identity provider `idp`.
    pub async fn federate(&self, sealed: &str, idp: &str, meta: &RequestMeta) -> Result<Outcome, AppError> {
        let Some(i) = self.open(sealed) else { return Ok(expired()) };
        let (app, req) = match self.recheck(&i).await? {
            Ok(checked) => checked,
            Err(page) => return Ok(page),
        };
        self.to_upstream(&app, &req, &i, idp, meta).await
    }

    /// Starts the upstream leg: stores the sign-in and answers where to send the browser. An
    /// IdP that is unknown, disabled, of another protocol or outside the application's
    /// tenants shows the login page with a notice.
    pub(super) async fn to_upstream(
        &self,
        app: &Application,
        req: &AuthorizationRequest,
        i: &Interaction,
        idp: &str,
        meta: &RequestMeta,
    ) -> Result<Outcome, AppError> {
        let usable = match (self.federation(), idp.parse::<IdentityProviderId>()) {
            (Some(f), Ok(id)) => match f.idps.get(id).await?.filter(|p| p.enabled && f.offers(p.protocol)) {
                Some(p) if self.admits_tenant(f, app, p.tenant_id).await? => Some((f, p)),
                _ => None,
            },
            _ => None,
        };
        let Some((f, idp)) = usable else {
            return Ok(Outcome::Login(self.login_view(app, req, i, Some(UNAVAILABLE.into())).await?));
        };
        let generate = || self.secrets.generate().map_err(AppError::Internal);
        let ((state, state_hmac), (binding, binding_hmac)) = (generate()?, generate()?);
        // OIDC: a nonce and a PKCE verifier; SAML: the AuthnRequest's ID, kept as the nonce.
        let (nonce, code_verifier) = match idp.protocol {
            Protocol::Oidc => (generate()?.0, generate()?.0),
            Protocol::Saml => (self.saml_request_id()?, String::new()),
        };
        // Stored (and counted against the address's bound) before anything goes upstream.
        let now = self.clock.now();
        let started = NewFederationState {
            state_hmac,
            idp_id: idp.id,
            binding_hmac,
            nonce: nonce.clone(),
            code_verifier: code_verifier.clone(),
            interaction: self.seal(i)?,
            expires_at: now + self.settings.interaction_ttl,
            identity: None,
        };
        if !f.store.insert_state(&started, meta.ip.clone(), federated::MAX_STARTS_PER_MINUTE, now).await? {
            self.federation_refused(meta, Some(&idp), "too many sign-ins started from this address");
            let text = "Too many sign-ins were started from your network. Wait a minute and try again.";
            return Ok(Outcome::ErrorPage(text.into()));
        }
        let url = match idp.protocol {
            Protocol::Oidc => {
                let client = self.upstream_client(f, &idp).await?;
                f.upstream.authorization_url(&client, &state, &nonce, &code_verifier).await
            }
            Protocol::Saml => self.saml_request(f, &idp, &nonce, &state).await,
        };
        let url = match url {
            Ok(url) => url,
            Err(e) => {
                self.federation_refused(meta, Some(&idp), &e.to_string());
                return Ok(Outcome::ErrorPage(format!("{} cannot be reached right now. Try again later.", idp.name)));
            }
        };
        Ok(Outcome::Upstream { url, binding })
    }

    /// ScaiKey's registration at the upstream, its secret opened from the seal.
    async fn upstream_client(&self, f: &Federation, idp: &IdentityProvider) -> Result<UpstreamClient, AppError> {
        let client_secret = match f.idps.sealed_secret(idp.id).await? {
            Some(blob) => {
                let plain = self.sealer.open(&blob, idp.id.to_string().as_bytes()).map_err(AppError::Internal)?;
                Some(String::from_utf8(plain).map_err(|e| AppError::Internal(e.into()))?)
            }
            None => None,
        };
        Ok(UpstreamClient {
            idp_id: idp.id,
            issuer: idp.issuer.clone().unwrap_or_default(),
            client_id: idp.client_id.clone().unwrap_or_default(),
            client_secret,
            scopes: idp.scopes.clone(),
            redirect_uri: federated::callback_url(&self.settings.issuer, idp.id, Protocol::Oidc),
        })
    }

    /// Audits a callback that belongs to no started sign-in (no, unknown, used or expired
    /// `state`): anyone can send those, so they are aggregated per reason and client IP
    /// ([`crate::refusals`]).
    fn callback_refused(&self, meta: &RequestMeta, reason: &str) {
        let rec = AuditRecord::anonymous(meta, CALLBACK_REFUSED, "session", AuditResult::Failure)
            .details(json!({"method": "federated", "reason": reason}));
        self.audit.submit(rec, self.clock.now());
    }

    /// Audits a refused federated sign-in.
    fn federation_refused(&self, meta: &RequestMeta, idp: Option<&IdentityProvider>, reason: &str) {
        let mut rec = AuditRecord::anonymous(meta, action::AUTH_LOGIN, "session", AuditResult::Failure)
            .details(json!({"method": "federated", "idp_id": idp.map(|i| i.id.to_string()), "reason": reason}));
        if let Some(i) = idp {
            rec = rec.within(Some(i.tenant_id), i.partner_id);
        }
        self.audit.submit(rec, self.clock.now());
    }

    /// `GET /oauth/callback/{idp}`: the upstream's answer. `binding` is the browser's binding
    /// cookie.
    pub async fn upstream_callback(
        &self,
        idp: &str,
        query: &[(String, String)],
        binding: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<CallbackResult, AppError> {
        let Some(f) = self.federation() else { return failed(NOT_COMPLETED) };
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let (Ok(idp_id), Some(state)) = (idp.parse::<IdentityProviderId>(), get("state")) else {
            self.callback_refused(meta, "callback without state");
            return failed(NOT_COMPLETED);
        };
        let now = self.clock.now();
        let Some(started) = f.store.take_state(&self.secrets.digest(state), now).await? else {
            self.callback_refused(meta, "unknown, used or expired state");
            return failed(NOT_COMPLETED);
        };
        let found = f.idps.get(idp_id).await?;
        let ours = |p: &IdentityProvider| p.enabled && p.protocol == Protocol::Oidc && p.id == started.idp_id;
        let Some(idp) = found.filter(|p| ours(p) && started.identity.is_none()) else {
            self.federation_refused(meta, None, "identity provider disabled, deleted or not the one started");
            return failed(NOT_COMPLETED);
        };
        let (app, req, i) = match self.resume_started(&started, &idp, binding, meta).await? {
            Ok(resumed) => resumed,
            Err(answer) => return Ok(answer),
        };
        if let Some(error) = get("error") {
            self.federation_refused(meta, Some(&idp), &format!("upstream error: {}", printable(error)));
            if error == "access_denied" {
                let to = &req.reply;
                let text = "The user cancelled the sign-in at the identity provider";
                return Ok(CallbackResult::Done(self.reply_error(to, "access_denied", text)));
            }
            return failed(&format!("{} could not sign you in.", idp.name));
        }
        // RFC 9207: an `iss` in the answer must be the provider's.
        if get("iss").is_some_and(|iss| Some(iss) != idp.issuer.as_deref()) {
            self.federation_refused(meta, Some(&idp), "iss of the authorization response mismatched");
            return failed(NOT_COMPLETED);
        }
        let Some(code) = get("code") else {
            self.federation_refused(meta, Some(&idp), "callback without code");
            return failed(NOT_COMPLETED);
        };
        let client = self.upstream_client(f, &idp).await?;
        let who = match f.upstream.redeem(&client, code, &started.code_verifier, &started.nonce).await {
            Ok(who) => who,
            Err(e) => {
                self.federation_refused(meta, Some(&idp), &e.to_string());
                return failed(&format!("Signing in through {} failed. Try again later.", idp.name));
            }
        };
        self.finish_federated(f, &app, &req, i, &idp, who, meta).await
    }

    /// A started sign-in coming back: refused unless in the browser that started it (its
    /// binding cookie), else its authorization request opened and re-checked (`Err` is what the
    /// browser gets instead).
    pub(super) async fn resume_started(
        &self,
        started: &NewFederationState,
        idp: &IdentityProvider,
        binding: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<Result<(Application, AuthorizationRequest, Interaction), CallbackResult>, AppError> {
        if !binding.is_some_and(|b| self.secrets.verify(b, &started.binding_hmac)) {
            self.federation_refused(meta, Some(idp), "callback in another browser");
            return failed(NOT_COMPLETED).map(Err);
        }
        let Some(i) = self.open(&started.interaction) else { return Ok(Err(CallbackResult::Done(expired()))) };
        Ok(match self.recheck(&i).await? {
            Ok((app, req)) => Ok((app, req, i)),
            Err(page) => Err(CallbackResult::Done(page)),
        })
    }

    /// Links or provisions the user of a verified upstream identity, then signs in.
    #[allow(clippy::too_many_arguments)] // The interaction's parts, as the other steps pass them.
    async fn finish_federated(
        &self,
        f: &Federation,
        app: &Application,
        req: &AuthorizationRequest,
        i: Interaction,
        idp: &IdentityProvider,
        who: UpstreamIdentity,
        meta: &RequestMeta,
    ) -> Result<CallbackResult, AppError> {
        let email =
            federated::clean_text(who.email.as_deref(), v::MAX_EMAIL_LEN).and_then(|e| v::email("email", &e).ok());
        let who = UpstreamIdentity { email, ..who };
        let linked = f.store.linked_user(idp.id, &who.subject).await?;
        let same_email = match (&linked, &who.email) {
            (None, Some(e)) => f.store.user_by_email(idp.tenant_id, e).await?,
            _ => None,
        };
        let target = match federated::link(linked, same_email, &who, idp.jit_provisioning) {
            Ok(Link::Linked(u)) => LinkTarget::Linked(u),
            Ok(Link::ByEmail(u)) => LinkTarget::Existing(u),
            Ok(Link::Create) => LinkTarget::Create(UserId::generate_from(self.ids.next())),
            Err(refusal) => {
                self.federation_refused(meta, Some(idp), refusal.reason());
                return failed(refusal.message());
            }
        };
        // Who may sign in is decided before anything is written.
        let admission = match &target {
            LinkTarget::Linked(u) | LinkTarget::Existing(u) => match self.grants.sign_in_user(*u).await? {
                Some(user) => match signin::admits(app, &subject(&user)) {
                    Ok(Admission::NeedsAssignment) => Some(self.grants.is_effective_user(app.id, *u).await?),
                    Ok(_) => Some(true),
                    Err(_) => None,
                },
                None => None,
            },
            // A new user has no assignments yet.
            LinkTarget::Create(_) => {
                self.admits_tenant(f, app, idp.tenant_id).await?.then_some(!app.assignment_required)
            }
        };
        match admission {
            None => {
                self.federation_refused(meta, Some(idp), "user, tenant or partner may not sign in");
                return failed("Your account cannot sign in to this application.");
            }
            Some(false) => {
                self.federation_refused(meta, Some(idp), "not assigned to the application");
                let text = "The user may not use this application";
                return Ok(CallbackResult::Done(self.reply_error(&req.reply, "access_denied", text)));
            }
            Some(true) => {}
        }
        let sign_in = FederatedSignIn {
            idp_id: idp.id,
            tenant_id: idp.tenant_id,
            subject: who.subject.clone(),
            target: target.clone(),
            email: who.email.clone(),
            email_verified: who.email_verified,
            first_name: federated::clean_text(who.given_name.as_deref(), v::MAX_NAME_LEN),
            last_name: federated::clean_text(who.family_name.as_deref(), v::MAX_NAME_LEN),
            attributes: federated::mapped_attributes(&idp.attribute_mapping, &who.claims),
        };
        let audit = match &target {
            LinkTarget::Linked(_) => None,
            LinkTarget::Existing(u) | LinkTarget::Create(u) => {
                let action = if matches!(target, LinkTarget::Create(_)) {
                    action::USER_CREATE
                } else {
                    action::USER_LINK_IDENTITY
                };
                Some(
                    AuditRecord {
                        actor_type: ActorType::User,
                        actor_id: Some(u.to_string()),
                        ..AuditRecord::anonymous(meta, action, "user", AuditResult::Success)
                    }
                    .resource(*u)
                    .within(Some(idp.tenant_id), idp.partner_id)
                    .details(json!({"idp_id": idp.id.to_string(), "subject": who.subject, "method": "federated"})),
                )
            }
        };
        let now = self.clock.now();
        let user = match f.store.sign_in(&sign_in, now, audit).await {
            Ok(u) => u,
            Err(RepoError::LimitReached(l)) => {
                self.federation_refused(meta, Some(idp), &l.to_string());
                return failed("Your organisation cannot take more users. Ask an administrator.");
            }
            Err(e @ (RepoError::Duplicate(_) | RepoError::Conflict(_))) => {
                self.federation_refused(meta, Some(idp), &e.to_string());
                return failed(NOT_COMPLETED);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(candidate) = self.auth.candidate(user).await? else {
            self.federation_refused(meta, Some(idp), "user may not sign in");
            return failed("Your account cannot sign in to this application.");
        };
        let amr = vec![scaikey_domain::oidc::claims::Authentication::FEDERATED_AMR.to_string()];
        let (cookie, expires_at, who) = self.open_browser_session_via(&candidate, meta, amr, Some(idp.id)).await?;
        let next = self.advance_as(i, Some(who), false, meta).await?;
        Ok(CallbackResult::SignedIn { cookie, expires_at, next })
    }
}
