//! The SAML leg of a federated sign-in (contract §11): the HTTP-Redirect AuthnRequest, the
//! assertion consumer service and the continue step.
//!
//! The IdP answers with a cross-site POST to the ACS, which the `SameSite=Lax` binding cookie
//! does not accompany. So the ACS only verifies: the started sign-in named by `RelayState`
//! (read, not taken) supplies the request `ID` the response must answer; an assertion `ID` is
//! accepted once per IdP; the verified identity is attached to the started sign-in (once) and
//! the browser is sent with a 303 to `/saml/{idp_id}/continue?h=…` (the relay state as a
//! one-time handle). That GET carries the cookie: it takes the sign-in, checks the binding and
//! finishes as an OIDC callback does. No `RelayState` (IdP-initiated) is refused.

use scaikey_domain::audit::RequestMeta;
use scaikey_domain::federated;
use scaikey_domain::federation::{IdentityProvider, Protocol};
use scaikey_domain::id::IdentityProviderId;

use super::{CallbackResult, Federation, NOT_COMPLETED, failed};
use crate::error::AppError;
use crate::oidc::OidcService;
use crate::ports::federation::{SamlIdp, SamlServiceProvider, UpstreamError};

/// What the ACS answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcsResult {
    /// Verified: a 303 to this continue URL (path and query).
    Continue(String),
    /// An error page with this message.
    Refused(String),
}

fn settings(idp: &IdentityProvider) -> SamlIdp {
    SamlIdp {
        entity_id: idp.entity_id.clone().unwrap_or_default(),
        sso_url: idp.sso_url.clone().unwrap_or_default(),
        certificate: idp.certificate.clone().unwrap_or_default(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl OidcService {
    fn service_provider(&self, idp: IdentityProviderId) -> SamlServiceProvider {
        let (entity_id, acs_url) = federated::saml_service_provider(&self.settings.issuer, idp);
        SamlServiceProvider { entity_id, acs_url }
    }

    /// A new AuthnRequest `ID`: an XML ID starts with a letter or `_`; 160 random bits.
    pub(super) fn saml_request_id(&self) -> Result<String, AppError> {
        Ok(format!("_{}", hex(&self.secrets.random_bytes(20).map_err(AppError::Internal)?)))
    }

    /// The redirect URL of the AuthnRequest `request_id` of a started sign-in.
    pub(super) async fn saml_request(
        &self,
        f: &Federation,
        idp: &IdentityProvider,
        request_id: &str,
        relay_state: &str,
    ) -> Result<String, UpstreamError> {
        let Some(saml) = &f.saml else { return Err(UpstreamError::Refused("SAML is not available".into())) };
        let sp = self.service_provider(idp.id);
        saml.authn_request_url(&sp, &settings(idp), request_id, relay_state).await
    }

    /// The enabled SAML IdP `idp` names, when SAML is available.
    async fn saml_idp(&self, idp: &str) -> Result<Option<(&Federation, IdentityProvider)>, AppError> {
        let (Some(f), Ok(id)) = (self.federation(), idp.parse::<IdentityProviderId>()) else { return Ok(None) };
        if f.saml.is_none() {
            return Ok(None);
        }
        Ok(f.idps.get(id).await?.filter(|p| p.enabled && p.protocol == Protocol::Saml).map(|p| (f, p)))
    }

    /// `GET /saml/{idp_id}/metadata`: the SP metadata an IdP admin imports; `None` when the
    /// IdP is not an enabled SAML provider.
    pub async fn saml_metadata(&self, idp: &str) -> Result<Option<String>, AppError> {
        let Some((f, idp)) = self.saml_idp(idp).await? else { return Ok(None) };
        let Some(saml) = &f.saml else { return Ok(None) };
        saml.metadata(&self.service_provider(idp.id)).map(Some).map_err(|e| AppError::Internal(e.into()))
    }

    /// `POST /saml/{idp_id}/acs`: the IdP's response (`SAMLResponse`, `RelayState`).
    pub async fn saml_acs(
        &self,
        idp: &str,
        form: &[(String, String)],
        meta: &RequestMeta,
    ) -> Result<AcsResult, AppError> {
        let done = |m: &str| Ok(AcsResult::Refused(m.to_string()));
        let get = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(relay) = get("RelayState").filter(|r| !r.is_empty()) else {
            self.callback_refused(meta, "SAML response without RelayState (IdP-initiated)");
            return done(NOT_COMPLETED);
        };
        let now = self.clock.now();
        let state_hmac = self.secrets.digest(relay);
        let (Some((f, idp)), Some(started)) = (self.saml_idp(idp).await?, self.peek(&state_hmac, now).await?) else {
            self.callback_refused(meta, "unknown, used or expired state");
            return done(NOT_COMPLETED);
        };
        let Some(saml) = f.saml.as_ref().filter(|_| started.idp_id == idp.id) else {
            self.callback_refused(meta, "unknown, used or expired state");
            return done(NOT_COMPLETED);
        };
        // Any refusal from here on uses the started sign-in up.
        let refuse = async |reason: &str, message: &str| {
            let _ = f.store.take_state(&state_hmac, now).await;
            self.federation_refused(meta, Some(&idp), reason);
            done(message)
        };
        let Some(response) = get("SAMLResponse") else {
            return refuse("SAML form without SAMLResponse", NOT_COMPLETED).await;
        };
        let sp = self.service_provider(idp.id);
        let assertion = match saml.verify(&sp, &settings(&idp), response, &started.nonce).await {
            Ok(a) => a,
            Err(e) => {
                let message = format!("Signing in through {} failed. Try again later.", idp.name);
                return refuse(&e.to_string(), &message).await;
            }
        };
        if !f.store.first_use_of_assertion(idp.id, &assertion.id, assertion.expires_at, now).await? {
            return refuse("SAML assertion replayed", NOT_COMPLETED).await;
        }
        if !f.store.attach_identity(&state_hmac, &assertion.identity, now).await? {
            return refuse("sign-in answered already", NOT_COMPLETED).await;
        }
        let query = serde_urlencoded::to_string([("h", relay)]).map_err(|e| AppError::Internal(e.into()))?;
        Ok(AcsResult::Continue(format!("/saml/{}/continue?{query}", idp.id)))
    }

    async fn peek(
        &self,
        state_hmac: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<crate::ports::federation::NewFederationState>, AppError> {
        match self.federation() {
            Some(f) => Ok(f.store.peek_state(state_hmac, now).await?),
            None => Ok(None),
        }
    }

    /// `GET /saml/{idp_id}/continue?h=…`: in the browser that started the sign-in, finishes it
    /// with the identity the ACS verified.
    pub async fn saml_continue(
        &self,
        idp: &str,
        handle: Option<&str>,
        binding: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<CallbackResult, AppError> {
        let now = self.clock.now();
        let (Some((f, idp)), Some(handle)) = (self.saml_idp(idp).await?, handle) else {
            self.callback_refused(meta, "continue without handle");
            return failed(NOT_COMPLETED);
        };
        let Some(started) = f.store.take_state(&self.secrets.digest(handle), now).await? else {
            self.callback_refused(meta, "unknown, used or expired state");
            return failed(NOT_COMPLETED);
        };
        let Some(identity) = started.identity.clone().filter(|_| started.idp_id == idp.id) else {
            self.federation_refused(meta, Some(&idp), "continue before a verified response");
            return failed(NOT_COMPLETED);
        };
        let (app, req, i) = match self.resume_started(&started, &idp, binding, meta).await? {
            Ok(resumed) => resumed,
            Err(answer) => return Ok(answer),
        };
        self.finish_federated(f, &app, &req, i, &idp, identity, meta).await
    }
}
