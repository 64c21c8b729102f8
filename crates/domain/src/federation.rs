//! Upstream identity providers (OIDC, SAML) and MCP agents: their inputs and validation.

use x509_cert::Certificate;
use x509_cert::der::DecodePem;

use crate::validation::{self as v, FieldError, ValidationErrors};

mod input;
pub use input::{
    AgentFields, AgentInput, DEFAULT_OIDC_SCOPES, IdpFields, IdpInput, MAX_SECRET_LEN, Write, target_tenant,
};

/// Federation protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect.
    Oidc,
    /// SAML 2.0.
    Saml,
}

impl Protocol {
    /// Every protocol.
    pub const ALL: [Protocol; 2] = [Protocol::Oidc, Protocol::Saml];

    /// Wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Oidc => "OIDC",
            Protocol::Saml => "SAML",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Longest PEM certificate accepted.
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// Longest identifier-like value (client ID, entity ID, tool name).
pub const MAX_IDENT_LEN: usize = 1024;
/// Most list entries (scopes, tools).
pub const MAX_ITEMS: usize = 200;
/// Largest `rate_limit_rpm`.
pub const MAX_RATE_LIMIT_RPM: i64 = 1_000_000;

/// A PEM X.509 certificate that parses.
///
/// ```
/// use scaikey_domain::federation::certificate;
/// assert!(certificate("certificate", "not a certificate").is_err());
/// ```
pub fn certificate(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.len() > MAX_CERTIFICATE_LEN {
        return Err(FieldError::new(field, "string_too_long", "Certificate is too long"));
    }
    Certificate::from_pem(v.as_bytes())
        .map_err(|_| FieldError::new(field, "value_error", "Not a PEM-encoded X.509 certificate"))?;
    Ok(v.to_string())
}

/// A one-line identifier (client ID, entity ID).
pub fn ident(field: &str, value: &str) -> Result<String, FieldError> {
    v::text(field, value, MAX_IDENT_LEN)
}

/// A list of names made of letters, digits and `_ . : / -` (scopes, tools), without duplicates.
pub fn names(errs: &mut ValidationErrors, field: &str, items: &[String]) -> Option<Vec<String>> {
    if items.len() > MAX_ITEMS {
        errs.push(FieldError::new(field, "too_long", format!("At most {MAX_ITEMS} entries")));
        return None;
    }
    let mut ok = true;
    for (i, s) in items.iter().enumerate() {
        let valid =
            !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.:/-".contains(c));
        if !valid {
            errs.push(FieldError::at(
                &[field, &i.to_string()],
                "string_pattern_mismatch",
                "1-128 letters, digits or _ . : / -",
            ));
            ok = false;
        } else if items[..i].contains(s) {
            errs.push(FieldError::at(&[field, &i.to_string()], "value_error", "Duplicate entry"));
            ok = false;
        }
    }
    ok.then(|| items.to_vec())
}

/// `rate_limit_rpm`: positive, or `None` for unlimited.
pub fn rate_limit(value: Option<i64>) -> Result<Option<i32>, FieldError> {
    match value {
        None => Ok(None),
        Some(n) if (1..=MAX_RATE_LIMIT_RPM).contains(&n) => Ok(i32::try_from(n).ok()),
        Some(_) => Err(FieldError::new(
            "rate_limit_rpm",
            "greater_than",
            format!("rate_limit_rpm must be 1 to {MAX_RATE_LIMIT_RPM}, or null for unlimited"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed P-256 certificate made with `openssl req -x509` (see tests/fixtures).
    const PEM: &str = include_str!("../tests/fixtures/saml-idp.pem");

    #[test]
    fn certificates_must_parse() {
        assert!(certificate("certificate", PEM).is_ok());
        let broken = PEM.replace("MII", "MIX");
        assert!(certificate("certificate", &broken).is_err());
        assert!(certificate("certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
    }

    #[test]
    fn names_and_limits() {
        let mut e = ValidationErrors::new();
        assert!(names(&mut e, "allowed_tools", &["search".into(), "fs:read".into()]).is_some());
        assert!(names(&mut e, "allowed_tools", &["rm -rf".into()]).is_none());
        assert_eq!(rate_limit(Some(60)).unwrap(), Some(60));
        assert!(rate_limit(Some(0)).is_err());
        assert_eq!(rate_limit(None).unwrap(), None);
    }
}

/// A stored identity provider (its client secret never leaves storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Its ID.
    pub id: crate::id::IdentityProviderId,
    /// Its tenant.
    pub tenant_id: crate::id::TenantId,
    /// The tenant's partner.
    pub partner_id: Option<crate::id::PartnerId>,
    /// Name.
    pub name: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Offered at login.
    pub enabled: bool,
    /// OIDC issuer.
    pub issuer: Option<String>,
    /// OIDC client ID.
    pub client_id: Option<String>,
    /// Whether an OIDC client secret is stored.
    pub client_secret_set: bool,
    /// OIDC scopes.
    pub scopes: Vec<String>,
    /// SAML entity ID.
    pub entity_id: Option<String>,
    /// SAML SSO URL.
    pub sso_url: Option<String>,
    /// SAML signing certificate (PEM).
    pub certificate: Option<String>,
    /// Create a user on the first sign-in of an unknown person (contract §11).
    pub jit_provisioning: bool,
    /// `custom_attributes` key → upstream claim copied on each sign-in.
    pub attribute_mapping: std::collections::BTreeMap<String, String>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A stored MCP agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Its ID.
    pub id: crate::id::AgentId,
    /// Its tenant.
    pub tenant_id: crate::id::TenantId,
    /// The tenant's partner.
    pub partner_id: Option<crate::id::PartnerId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// MCP tools it may call.
    pub allowed_tools: Vec<String>,
    /// Scopes it may hold.
    pub allowed_scopes: Vec<String>,
    /// Requests per minute (`None`: unlimited).
    pub rate_limit_rpm: Option<i32>,
    /// Status.
    pub status: crate::status::Status,
    /// Its OAuth client ID, once a secret was issued (`POST …/agents/{id}/rotate-secret`).
    pub client_id: Option<String>,
    /// Creation time.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}
