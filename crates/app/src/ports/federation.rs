//! Federated sign-in (contract §11): the upstream OpenID Connect provider as an outbound port,
//! and the storage of started sign-ins and of the links between upstream identities and users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federated::UpstreamIdentity;
use scaikey_domain::id::{IdentityProviderId, PartnerId, TenantId, UserId};

use crate::error::RepoError;

/// What ScaiKey tells an upstream provider about itself, from the IdP's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamClient {
    /// The IdP.
    pub idp_id: IdentityProviderId,
    /// The upstream issuer (its discovery document is at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// ScaiKey's client ID there.
    pub client_id: String,
    /// ScaiKey's client secret there (opened from its seal), if it is a confidential client.
    pub client_secret: Option<String>,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
    /// ScaiKey's callback (`{issuer}/oauth/callback/{idp_id}`).
    pub redirect_uri: String,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("idp_id", &self.idp_id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// Why the upstream leg failed; the text is for the audit record and the log, not the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Discovery, JWKS or the token endpoint could not be reached or timed out.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// The upstream refused (an OAuth error from its token endpoint, a malformed document).
    #[error("upstream refused: {0}")]
    Refused(String),
    /// Its answer failed a check: signature, `iss`, `aud`, `exp`, `nonce`, a missing ID token.
    #[error("upstream answer invalid: {0}")]
    Invalid(String),
}

/// An upstream OpenID Connect provider, found by its discovery document (cached by the
/// adapter and fetched again when an ID token names a key its JWKS does not hold).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UpstreamOidc: Send + Sync {
    /// The upstream authorization URL for one sign-in: code flow with `state`, `nonce` and
    /// the S256 challenge of `code_verifier`.
    async fn authorization_url(
        &self,
        client: &UpstreamClient,
        state: &str,
        nonce: &str,
        code_verifier: &str,
    ) -> Result<String, UpstreamError>;

    /// Redeems `code` (with the PKCE verifier and the client's authentication) and verifies
    /// the ID token fully: signature from the upstream JWKS, `iss`, `aud`, `azp`, `exp`,
    /// `nonce`. Answers what it proves.
    async fn redeem(
        &self,
        client: &UpstreamClient,
        code: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<UpstreamIdentity, UpstreamError>;
}

/// ScaiKey's SAML service provider for one IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlServiceProvider {
    /// Its entity ID (the metadata URL, `{issuer}/saml/{idp_id}/metadata`).
    pub entity_id: String,
    /// Its assertion consumer service (`{issuer}/saml/{idp_id}/acs`).
    pub acs_url: String,
}

/// A SAML identity provider as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdp {
    /// Its entity ID (the `Issuer` of its responses).
    pub entity_id: String,
    /// Its single sign-on URL (HTTP-Redirect binding).
    pub sso_url: String,
    /// Its signing certificate (PEM).
    pub certificate: String,
}

/// A verified SAML assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAssertion {
    /// What it proves.
    pub identity: UpstreamIdentity,
    /// Its `ID` (accepted once).
    pub id: String,
    /// Until when it is valid (how long its ID is remembered).
    pub expires_at: DateTime<Utc>,
}

/// A SAML 2.0 service provider (SP-initiated, HTTP-Redirect AuthnRequest, HTTP-POST response).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SamlServiceProviders: Send + Sync {
    /// The redirect-binding URL of an AuthnRequest with this `ID` asking for a persistent
    /// NameID, carrying `relay_state`.
    async fn authn_request_url(
        &self,
        sp: &SamlServiceProvider,
        idp: &SamlIdp,
        request_id: &str,
        relay_state: &str,
    ) -> Result<String, UpstreamError>;

    /// Verifies a POSTed `SAMLResponse` (base64) answering request `request_id`: the XML
    /// signature (of the response or of the assertion; unsigned never) against the IdP's
    /// certificate, only what the signature covers, issuer, audience, recipient and
    /// destination, `InResponseTo`, time conditions within the allowed skew, a success status.
    async fn verify(
        &self,
        sp: &SamlServiceProvider,
        idp: &SamlIdp,
        saml_response: &str,
        request_id: &str,
    ) -> Result<SamlAssertion, UpstreamError>;

    /// The SP's metadata document.
    fn metadata(&self, sp: &SamlServiceProvider) -> Result<String, UpstreamError>;
}

/// A sign-in sent upstream, to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewFederationState {
    /// Keyed hash of the `state` sent upstream.
    pub state_hmac: Vec<u8>,
    /// The IdP.
    pub idp_id: IdentityProviderId,
    /// Keyed hash of the browser-binding cookie.
    pub binding_hmac: Vec<u8>,
    /// The nonce sent upstream (OIDC), or the AuthnRequest's `ID` (SAML).
    pub nonce: String,
    /// The PKCE verifier (OIDC; empty for SAML).
    pub code_verifier: String,
    /// The sealed authorization request to resume.
    pub interaction: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// The verified identity, once a SAML response was accepted for it (none when stored).
    pub identity: Option<UpstreamIdentity>,
}

impl std::fmt::Debug for NewFederationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFederationState").field("idp_id", &self.idp_id).finish_non_exhaustive()
    }
}

/// How the first sign-in of an upstream identity finds its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// Linked already.
    Linked(UserId),
    /// Link to this user (same verified e-mail).
    Existing(UserId),
    /// Create this user (`jit_provisioning`) and link it.
    Create(UserId),
}

/// A federated sign-in to write: the link and the profile the upstream asserts.
#[derive(Debug, Clone, PartialEq)]
pub struct FederatedSignIn {
    /// The IdP.
    pub idp_id: IdentityProviderId,
    /// The IdP's tenant (where a new user goes).
    pub tenant_id: TenantId,
    /// The upstream subject.
    pub subject: String,
    /// The user.
    pub target: LinkTarget,
    /// The e-mail to store (new users; others only when it changed upstream and no other user
    /// of the tenant has it).
    pub email: Option<String>,
    /// Whether the upstream verified it (sets `email_verified`; never clears it).
    pub email_verified: bool,
    /// Given name, when asserted.
    pub first_name: Option<String>,
    /// Family name, when asserted.
    pub last_name: Option<String>,
    /// `custom_attributes` entries to set (merged over the stored ones).
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A tenant's standing at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantStanding {
    /// Its partner.
    pub partner_id: Option<PartnerId>,
    /// The tenant is active.
    pub tenant_active: bool,
    /// Its partner (if any) is active.
    pub partner_active: bool,
}

/// A link as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedLink {
    /// The IdP.
    pub idp_id: IdentityProviderId,
    /// The IdP's name.
    pub idp_name: String,
    /// The upstream subject.
    pub subject: String,
    /// The e-mail the upstream asserted last.
    pub email: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// Its last sign-in.
    pub last_login_at: DateTime<Utc>,
}

/// Started sign-ins and links.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FederationRepository: Send + Sync {
    /// Stores a started sign-in unless `ip` started `per_minute` or more in the minute before
    /// `now` (`false`, nothing stored), and forgets those expired before `now`.
    async fn insert_state(
        &self,
        state: &NewFederationState,
        ip: Option<String>,
        per_minute: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Takes the started sign-in with this `state` hash: deleted by the same statement that
    /// reads it, so a replayed callback finds nothing. `None` when unknown, taken or expired.
    async fn take_state(&self, state_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<NewFederationState>, RepoError>;

    /// The started sign-in with this `state` hash, without taking it (the SAML ACS reads the
    /// request ID it must answer). `None` when unknown, taken, expired or answered already.
    async fn peek_state(&self, state_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<NewFederationState>, RepoError>;

    /// Attaches the verified identity to the started sign-in, once: `false` when it is gone,
    /// expired or has one already.
    async fn attach_identity(
        &self,
        state_hmac: &[u8],
        identity: &UpstreamIdentity,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// Records that IdP `idp` issued assertion `assertion_id`, valid until `expires_at`, and
    /// forgets those expired before `now`: `false` when it was seen already (a replay).
    async fn first_use_of_assertion(
        &self,
        idp: IdentityProviderId,
        assertion_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError>;

    /// The live user linked to (`idp`, `subject`).
    async fn linked_user(&self, idp: IdentityProviderId, subject: &str) -> Result<Option<UserId>, RepoError>;

    /// Whether the live tenant and its partner are active (who may sign in is decided with
    /// them before a user is created); `None` when the tenant is gone.
    async fn tenant_standing(&self, tenant: TenantId) -> Result<Option<TenantStanding>, RepoError>;

    /// The live user of `tenant` with this e-mail (case-blind), and whether it holds roles.
    async fn user_by_email(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> Result<Option<scaikey_domain::federated::EmailMatch>, RepoError>;

    /// In one transaction: creates the user when the target says so (partner limits apply:
    /// `LimitReached`; an e-mail taken meanwhile: `Duplicate("email")`), links the identity
    /// (`Conflict` when the user is linked to another subject of this IdP), updates the
    /// profile and `last_login_at` of the link and the user, and records `audit` when given (a
    /// created or newly linked user).
    async fn sign_in(
        &self,
        s: &FederatedSignIn,
        now: DateTime<Utc>,
        audit: Option<AuditRecord>,
    ) -> Result<UserId, RepoError>;

    /// The user's links, oldest first.
    async fn links_of(&self, user: UserId) -> Result<Vec<FederatedLink>, RepoError>;

    /// Removes the user's link to `idp` and records `audit`; `false` (nothing written) when
    /// there was none.
    async fn unlink(
        &self,
        user: UserId,
        idp: IdentityProviderId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError>;
}
