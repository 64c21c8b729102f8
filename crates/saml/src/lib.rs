//! # scaikey-saml
//!
//! ScaiKey's SAML 2.0 service-provider adapter (contract §11): it implements
//! [`scaikey_app::ports::federation::SamlServiceProviders`] with `samael` over Debian's
//! `libxmlsec1` (OpenSSL backend). XML signatures are checked by xmlsec, and only what a
//! verified signature covers is read (samael prunes every unsigned node before parsing), so a
//! signature-wrapping document yields nothing. samael checks issuer, destination, recipient,
//! `InResponseTo`, the time conditions and the status; this crate adds what it leaves to the
//! caller: an IdP without a signing certificate is refused, an `AudienceRestriction` must be
//! present, and only SHA-256 and stronger signature algorithms are accepted. Which user the
//! identity becomes is the domain's and the app's.
//!
//! libxml2 and xmlsec are C libraries with global state: every call here runs on the blocking
//! pool, one at a time (a process-wide lock), and never holds a libxml object across an await.
//!
//! May depend on `scaikey-app` (the port), `scaikey-domain`, samael and tokio; never on another
//! adapter.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, mime_encode_x509_cert};
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{Endpoint, EntityDescriptor, HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;
use scaikey_app::ports::federation::{
    SamlAssertion, SamlIdp, SamlServiceProvider, SamlServiceProviders, UpstreamError,
};
use scaikey_domain::federated::{self, SamlAttribute};

/// libxml2/xmlsec calls, one at a time in the process.
static XML: Mutex<()> = Mutex::new(());

/// The SAML service provider, backed by samael.
#[derive(Debug, Default)]
pub struct SamaelServiceProviders;

impl SamaelServiceProviders {
    /// The adapter.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

fn invalid(e: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Invalid(e.to_string())
}

/// The IdP's SAML description from its settings: its entity ID, its redirect-binding SSO URL
/// and its signing certificate (DER inside the PEM).
fn idp_descriptor(idp: &SamlIdp) -> Result<EntityDescriptor, UpstreamError> {
    let der = pem_to_der(&idp.certificate).ok_or_else(|| UpstreamError::Refused("certificate is not PEM".into()))?;
    let cert = mime_encode_x509_cert(&CertificateDer::from(der));
    Ok(EntityDescriptor {
        entity_id: Some(idp.entity_id.clone()),
        idp_sso_descriptors: Some(vec![IdpSsoDescriptor {
            id: None,
            valid_until: None,
            cache_duration: None,
            protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
            error_url: None,
            signature: None,
            key_descriptors: vec![KeyDescriptor {
                key_use: Some("signing".into()),
                key_info: KeyInfo { id: None, x509_data: Some(X509Data { certificates: vec![cert] }) },
                encryption_methods: None,
            }],
            organization: None,
            contact_people: vec![],
            artifact_resolution_service: vec![],
            single_logout_services: vec![],
            manage_name_id_services: vec![],
            name_id_formats: vec![],
            want_authn_requests_signed: None,
            single_sign_on_services: vec![Endpoint {
                binding: HTTP_REDIRECT_BINDING.into(),
                location: idp.sso_url.clone(),
                response_location: None,
            }],
            name_id_mapping_services: vec![],
            assertion_id_request_services: vec![],
            attribute_profiles: vec![],
            attributes: vec![],
        }]),
        ..EntityDescriptor::default()
    })
}

/// The DER bytes of the first certificate of a PEM document.
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body = pem.split("-----BEGIN CERTIFICATE-----").nth(1)?.split("-----END CERTIFICATE-----").next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

fn service_provider(sp: &SamlServiceProvider, idp: Option<&SamlIdp>) -> Result<ServiceProvider, UpstreamError> {
    let skew = Duration::seconds(federated::SAML_CLOCK_SKEW_SECONDS);
    let mut b = ServiceProviderBuilder::default();
    b.entity_id(sp.entity_id.clone())
        .metadata_url(sp.entity_id.clone())
        .acs_url(sp.acs_url.clone())
        // samael's metadata needs one; ScaiKey's metadata leaves single logout out.
        .slo_url(sp.acs_url.clone())
        .allow_idp_initiated(false)
        .authn_name_id_format(federated::PERSISTENT_NAME_ID.to_string())
        .max_clock_skew(skew)
        .max_issue_delay(skew)
        .allowed_signature_algorithms(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ]);
    if let Some(idp) = idp {
        b.idp_metadata(idp_descriptor(idp)?);
    }
    b.build().map_err(|e| UpstreamError::Refused(format!("service provider: {e}")))
}

/// What a verified assertion proves, and how long its ID must be remembered.
fn assertion_facts(
    a: &Assertion,
    sp: &SamlServiceProvider,
    now: DateTime<Utc>,
) -> Result<SamlAssertion, UpstreamError> {
    // samael checks the audience only when a restriction is present; ScaiKey requires one.
    let audiences: Vec<&str> = a
        .conditions
        .iter()
        .flat_map(|c| c.audience_restrictions.iter().flatten())
        .flat_map(|r| r.audience.iter().map(String::as_str))
        .collect();
    if !audiences.contains(&sp.entity_id.as_str()) {
        return Err(invalid("the assertion is not restricted to this service provider"));
    }
    let name_id = a
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .filter(|n| !n.value.trim().is_empty())
        .ok_or_else(|| invalid("the assertion has no NameID"))?;
    let attributes: Vec<SamlAttribute> = a
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .map(|at| SamlAttribute {
            name: at.name.clone(),
            friendly_name: at.friendly_name.clone(),
            values: at.values.iter().filter_map(|v| v.value.clone()).collect(),
        })
        .collect();
    let identity = federated::saml_identity(name_id.value.trim(), name_id.format.as_deref(), &attributes);
    let expires_at = a.conditions.as_ref().and_then(|c| c.not_on_or_after).unwrap_or(now + Duration::minutes(10))
        + Duration::seconds(federated::SAML_CLOCK_SKEW_SECONDS);
    Ok(SamlAssertion { identity, id: a.id.clone(), expires_at })
}

/// Runs `f` on the blocking pool under the XML lock.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UpstreamError> + Send + 'static,
) -> Result<T, UpstreamError> {
    tokio::task::spawn_blocking(move || {
        let _one = XML.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    })
    .await
    .map_err(|e| UpstreamError::Refused(format!("SAML task: {e}")))?
}

#[async_trait]
impl SamlServiceProviders for SamaelServiceProviders {
    async fn authn_request_url(
        &self,
        sp: &SamlServiceProvider,
        idp: &SamlIdp,
        request_id: &str,
        relay_state: &str,
    ) -> Result<String, UpstreamError> {
        let (sp, idp, request_id, relay_state) =
            (sp.clone(), idp.clone(), request_id.to_string(), relay_state.to_string());
        blocking(move || {
            let provider = service_provider(&sp, Some(&idp))?;
            let mut req = provider
                .make_authentication_request(&idp.sso_url)
                .map_err(|e| UpstreamError::Refused(format!("AuthnRequest: {e}")))?;
            // samael's own ID has 32 random bits; ScaiKey's has 160.
            req.id = request_id;
            let url = req
                .redirect(&relay_state)
                .map_err(|e| UpstreamError::Refused(format!("AuthnRequest: {e}")))?
                .ok_or_else(|| UpstreamError::Refused("AuthnRequest without destination".into()))?;
            Ok(url.to_string())
        })
        .await
    }

    async fn verify(
        &self,
        sp: &SamlServiceProvider,
        idp: &SamlIdp,
        saml_response: &str,
        request_id: &str,
    ) -> Result<SamlAssertion, UpstreamError> {
        let (sp, idp, response, request_id) =
            (sp.clone(), idp.clone(), saml_response.to_string(), request_id.to_string());
        blocking(move || {
            let provider = service_provider(&sp, Some(&idp))?;
            // Without a signing certificate samael would skip the signature check.
            if !provider.idp_signing_certs().is_ok_and(|c| c.is_some_and(|c| !c.is_empty())) {
                return Err(UpstreamError::Refused("the identity provider has no signing certificate".into()));
            }
            let assertion = provider
                .parse_base64_response(response.trim(), Some(&[request_id.as_str()]))
                .map_err(|e| invalid(format!("SAML response: {e}")))?;
            assertion_facts(&assertion, &sp, Utc::now())
        })
        .await
    }

    fn metadata(&self, sp: &SamlServiceProvider) -> Result<String, UpstreamError> {
        let _one = XML.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let provider = service_provider(sp, None)?;
        let mut m = provider.metadata().map_err(|e| UpstreamError::Refused(format!("metadata: {e}")))?;
        for d in m.sp_sso_descriptors.iter_mut().flatten() {
            d.single_logout_services = None;
        }
        m.to_string().map_err(|e| UpstreamError::Refused(format!("metadata: {e}")))
    }
}
