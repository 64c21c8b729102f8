//! # scaikey-upstream
//!
//! ScaiKey's outbound HTTP adapter to what lives on other servers: tenants' upstream OpenID
//! Connect providers (contract §11) and client ID metadata documents ([`documents`], contract
//! §12). For the providers it
//! implements [`scaikey_app::ports::federation::UpstreamOidc`] with the `openidconnect` crate
//! over `reqwest` (rustls, no redirects followed, bounded timeouts). Discovery documents and
//! their JWKS are cached per issuer and fetched again when an ID token names a key the cached
//! set does not hold (the upstream rotated its keys). The protocol checks (signature, `iss`,
//! `aud`, `azp`, `exp`, `nonce`) are the crate's; which user the identity becomes is the
//! domain's and the app's.
//!
//! May depend on `scaikey-app` (the port), `scaikey-domain` (its types), openidconnect,
//! reqwest and tokio; never on another adapter.

pub mod documents;
mod guard;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdToken, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
};
use scaikey_app::ports::federation::{UpstreamClient, UpstreamError, UpstreamOidc};
use scaikey_domain::federated::UpstreamIdentity;
use serde_json::{Map, Value};

/// How long a discovery document (with its JWKS) is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);
/// Signature algorithms accepted on upstream ID tokens: asymmetric ones only (an HMAC-signed
/// ID token would be keyed by the client secret, which ScaiKey does not want to rely on).
const ALGORITHMS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The claims of a userinfo answer beyond the standard ones (for `attribute_mapping`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    all: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for OtherClaims {}

/// Upstream OpenID Connect providers, with a discovery cache.
pub struct OidcUpstreams {
    http: guard::Guarded,
    cache: Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for OidcUpstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OidcUpstreams")
    }
}

impl OidcUpstreams {
    /// A client whose every upstream request (discovery, JWKS, token, userinfo) ends within
    /// `timeout` and, with `public_only` (production), reaches public addresses only.
    ///
    /// # Errors
    /// When the TLS stack cannot be set up.
    pub fn new(timeout: Duration, public_only: bool) -> Result<Self, reqwest::Error> {
        let http = guard::Guarded { http: guard::client(timeout, public_only)?, public_only };
        Ok(Self { http, cache: Mutex::default() })
    }

    /// The issuer's discovery document: cached, or fetched (`fresh` forces a fetch).
    async fn metadata(&self, issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, UpstreamError> {
        if !fresh {
            let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((at, m)) = cache.get(issuer)
                && at.elapsed() < METADATA_TTL
            {
                return Ok(m.clone());
            }
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(|e| UpstreamError::Refused(format!("issuer: {e}")))?;
        let m = CoreProviderMetadata::discover_async(url, &self.http).await.map_err(|e| match e {
            DiscoveryError::Request(e) => UpstreamError::Unreachable(format!("discovery: {e}")),
            other => UpstreamError::Refused(format!("discovery: {other}")),
        })?;
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(issuer.to_string(), (Instant::now(), m.clone()));
        Ok(m)
    }
}

/// Builds the client of `c` against `m` and runs `f` with it (the client's type names every
/// endpoint it has, so it is built where it is used).
macro_rules! with_client {
    ($m:expr, $c:expr, |$client:ident| $body:expr) => {{
        let m: CoreProviderMetadata = $m;
        let c: &UpstreamClient = $c;
        // client_secret_basic unless the upstream offers only client_secret_post.
        let post_only = m.token_endpoint_auth_methods_supported().is_some_and(|ms| {
            ms.contains(&CoreClientAuthMethod::ClientSecretPost)
                && !ms.contains(&CoreClientAuthMethod::ClientSecretBasic)
        });
        let redirect = RedirectUrl::new(c.redirect_uri.clone())
            .map_err(|e| UpstreamError::Refused(format!("redirect URI: {e}")))?;
        let $client = CoreClient::from_provider_metadata(
            m,
            ClientId::new(c.client_id.clone()),
            c.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(if post_only { AuthType::RequestBody } else { AuthType::BasicAuth });
        $body
    }};
}

/// What a verified ID token proves. Every claim is read from the payload of the very token
/// whose signature and claims the crate has just verified (for `attribute_mapping`).
fn identity(token: &CoreIdToken, verified: &openidconnect::core::CoreIdTokenClaims) -> UpstreamIdentity {
    let claims = token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|p| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()
        })
        .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .unwrap_or_default();
    UpstreamIdentity {
        subject: verified.subject().as_str().to_string(),
        email: verified.email().map(|e| e.as_str().to_string()),
        email_verified: verified.email_verified().unwrap_or(false),
        given_name: verified.given_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()),
        family_name: verified.family_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()),
        claims,
    }
}

#[async_trait]
impl UpstreamOidc for OidcUpstreams {
    async fn authorization_url(
        &self,
        c: &UpstreamClient,
        state: &str,
        nonce: &str,
        code_verifier: &str,
    ) -> Result<String, UpstreamError> {
        let m = self.metadata(&c.issuer, false).await?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(code_verifier.to_string()));
        let (state, nonce) = (state.to_string(), nonce.to_string());
        with_client!(m, c, |client| {
            let mut req = client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    move || CsrfToken::new(state),
                    move || Nonce::new(nonce),
                )
                .set_pkce_challenge(challenge);
            // `openid` is always asked for.
            for s in c.scopes.iter().filter(|s| *s != "openid") {
                req = req.add_scope(Scope::new(s.clone()));
            }
            Ok(req.url().0.to_string())
        })
    }

    async fn redeem(
        &self,
        c: &UpstreamClient,
        code: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<UpstreamIdentity, UpstreamError> {
        let m = self.metadata(&c.issuer, false).await?;
        let response = with_client!(m.clone(), c, |client| {
            client
                .exchange_code(AuthorizationCode::new(code.to_string()))
                .map_err(|e| UpstreamError::Refused(format!("token endpoint: {e}")))?
                .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_string()))
                .request_async(&self.http)
                .await
                .map_err(|e| match e {
                    RequestTokenError::Request(e) => UpstreamError::Unreachable(format!("token endpoint: {e}")),
                    RequestTokenError::ServerResponse(r) => UpstreamError::Refused(format!("token endpoint: {r}")),
                    other => UpstreamError::Refused(format!("token endpoint: {other}")),
                })?
        });
        use openidconnect::{OAuth2TokenResponse, TokenResponse};
        let token = response.id_token().ok_or_else(|| UpstreamError::Invalid("no ID token".into()))?.clone();
        let nonce = Nonce::new(nonce.to_string());
        let verify =
            |m: CoreProviderMetadata| -> Result<Result<UpstreamIdentity, ClaimsVerificationError>, UpstreamError> {
                with_client!(m, c, |client| {
                    let verifier = client.id_token_verifier().set_allowed_algs(ALGORITHMS);
                    Ok(token.claims(&verifier, &nonce).map(|claims| identity(&token, claims)))
                })
            };
        let first = verify(m.clone())?;
        let outcome = match first {
            // A key the cached JWKS does not hold: the upstream rotated; fetch again, once.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                verify(self.metadata(&c.issuer, true).await?)?
            }
            other => other,
        };
        let mut who = outcome.map_err(|e| UpstreamError::Invalid(format!("ID token: {e}")))?;
        // A conformant provider may keep the profile out of the ID token and serve it at
        // userinfo (node oidc-provider does by default): ask there for what is missing.
        if who.email.is_none() && m.userinfo_endpoint().is_some() {
            let subject = openidconnect::SubjectIdentifier::new(who.subject.clone());
            let access = response.access_token().clone();
            let info: openidconnect::UserInfoClaims<OtherClaims, openidconnect::core::CoreGenderClaim> =
                with_client!(m, c, |client| {
                    client
                        .user_info(access, Some(subject))
                        .map_err(|e| UpstreamError::Refused(format!("userinfo: {e}")))?
                        .request_async(&self.http)
                        .await
                        .map_err(|e| UpstreamError::Refused(format!("userinfo: {e}")))?
                });
            who.email = info.email().map(|e| e.as_str().to_string());
            who.email_verified = info.email_verified().unwrap_or(false);
            if who.given_name.is_none() {
                who.given_name = info.given_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
            }
            if who.family_name.is_none() {
                who.family_name = info.family_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
            }
            if let Ok(Value::Object(all)) = serde_json::to_value(&info) {
                for (k, v) in all {
                    who.claims.entry(k).or_insert(v);
                }
            }
        }
        Ok(who)
    }
}
