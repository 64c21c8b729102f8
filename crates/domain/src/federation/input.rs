//! What an admin sends to create or change an identity provider or an agent, and the checks
//! that turn it into fields to store.

use std::collections::BTreeMap;

use crate::access::Reach;
use crate::federated;
use crate::id::TenantId;
use crate::status::Status;
use crate::validation::{self as v, FieldError, ValidationErrors};

use super::{Protocol, certificate, ident, names, rate_limit};

/// Longest OIDC client secret accepted.
pub const MAX_SECRET_LEN: usize = 1024;
/// OIDC scopes when none are given.
pub const DEFAULT_OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Raw identity-provider fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdpInput {
    /// `name`.
    pub name: Option<String>,
    /// `protocol`.
    pub protocol: Option<String>,
    /// `tenant_id`.
    pub tenant_id: Option<String>,
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `issuer`.
    pub issuer: Option<Option<String>>,
    /// `client_id`.
    pub client_id: Option<Option<String>>,
    /// `client_secret` (write-only).
    pub client_secret: Option<Option<String>>,
    /// `scopes`.
    pub scopes: Option<Vec<String>>,
    /// `entity_id`.
    pub entity_id: Option<Option<String>>,
    /// `sso_url`.
    pub sso_url: Option<Option<String>>,
    /// `certificate`.
    pub certificate: Option<Option<String>>,
    /// `jit_provisioning`.
    pub jit_provisioning: Option<bool>,
    /// `attribute_mapping` (`null` clears it).
    pub attribute_mapping: Option<Option<serde_json::Value>>,
}

/// Raw agent fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentInput {
    /// `name`.
    pub name: Option<String>,
    /// `tenant_id` (create only).
    pub tenant_id: Option<String>,
    /// `description`.
    pub description: Option<Option<String>>,
    /// `allowed_tools`.
    pub allowed_tools: Option<Vec<String>>,
    /// `allowed_scopes`.
    pub allowed_scopes: Option<Vec<String>>,
    /// `rate_limit_rpm`.
    pub rate_limit_rpm: Option<Option<i64>>,
    /// `status`.
    pub status: Option<String>,
}

/// Identity-provider fields to store or change (`None`: unchanged on update).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdpFields {
    /// Name.
    pub name: Option<String>,
    /// Protocol (create only).
    pub protocol: Option<Protocol>,
    /// Enabled.
    pub enabled: Option<bool>,
    /// OIDC issuer.
    pub issuer: Option<Option<String>>,
    /// OIDC client ID.
    pub client_id: Option<Option<String>>,
    /// Sealed OIDC client secret (`Some(None)` clears); the service seals what
    /// [`IdpFields::validate`] hands back in the clear.
    pub client_secret_enc: Option<Option<Vec<u8>>>,
    /// OIDC scopes.
    pub scopes: Option<Vec<String>>,
    /// SAML entity ID.
    pub entity_id: Option<Option<String>>,
    /// SAML SSO URL.
    pub sso_url: Option<Option<String>>,
    /// SAML certificate.
    pub certificate: Option<Option<String>>,
    /// Create users on first sign-in.
    pub jit_provisioning: Option<bool>,
    /// `custom_attributes` key → upstream claim.
    pub attribute_mapping: Option<BTreeMap<String, String>>,
}

/// Agent fields to store or change (`None`: unchanged on update).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentFields {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<Option<String>>,
    /// Tools.
    pub allowed_tools: Option<Vec<String>>,
    /// Scopes.
    pub allowed_scopes: Option<Vec<String>>,
    /// Rate limit.
    pub rate_limit_rpm: Option<Option<i32>>,
    /// Status.
    pub status: Option<Status>,
}

/// Create or PATCH: a create requires what a new resource needs and defaults the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A new resource.
    Create,
    /// A PATCH of a stored one.
    Update,
}

/// The tenant a new tenant-scoped resource goes to: `tenant_id` when given, else a tenant
/// admin's own.
///
/// # Errors
/// A `tenant_id` that is no ID, or none where the caller has no tenant of its own.
pub fn target_tenant(caller: Reach, tenant_id: Option<&str>) -> Result<TenantId, FieldError> {
    let named = tenant_id.map(str::trim).filter(|t| !t.is_empty()).map(|t| v::id::<TenantId>("tenant_id", t));
    caller.home_tenant(named.transpose()?)
}

fn fixed(field: &str) -> FieldError {
    FieldError::new(field, "value_error", "This field cannot change after creation")
}

fn opt_field<T>(
    errs: &mut ValidationErrors,
    value: &Option<Option<String>>,
    check: impl Fn(&str) -> Result<T, FieldError>,
) -> Option<Option<T>> {
    match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => errs.take(check(s)).map(Some),
    }
}

impl IdpInput {
    /// The protocol of a new provider.
    ///
    /// # Errors
    /// Missing or unknown.
    pub fn protocol(&self) -> Result<Protocol, FieldError> {
        match self.protocol.as_deref() {
            Some(p) => v::one_of("protocol", p, &Protocol::ALL, Protocol::as_str),
            None => Err(FieldError::missing("protocol")),
        }
    }

    /// Refuses a PATCH that names the protocol or the tenant.
    ///
    /// # Errors
    /// The first such field.
    pub fn fixed_fields_untouched(&self) -> Result<(), FieldError> {
        match (&self.protocol, &self.tenant_id) {
            (Some(_), _) => Err(fixed("protocol")),
            (None, Some(_)) => Err(fixed("tenant_id")),
            (None, None) => Ok(()),
        }
    }

    fn present(&self, f: &str) -> bool {
        match f {
            "issuer" => self.issuer.is_some(),
            "client_id" => self.client_id.is_some(),
            "client_secret" => self.client_secret.is_some(),
            "scopes" => self.scopes.is_some(),
            "entity_id" => self.entity_id.is_some(),
            "sso_url" => self.sso_url.is_some(),
            _ => self.certificate.is_some(),
        }
    }

    fn nulled(&self, f: &str) -> bool {
        match f {
            "issuer" => self.issuer == Some(None),
            "client_id" => self.client_id == Some(None),
            "entity_id" => self.entity_id == Some(None),
            "sso_url" => self.sso_url == Some(None),
            _ => self.certificate == Some(None),
        }
    }
}

impl IdpFields {
    /// Validates a provider's fields for `protocol`: a create needs the protocol's mandatory
    /// fields, no write may name another protocol's or clear a mandatory one, OIDC scopes
    /// include `openid`. Issuers and SSO URLs are https (http on a loopback host when
    /// `loopback_allowed`). Returns the fields and the client secret to seal (`Some(None)`
    /// clears it).
    ///
    /// # Errors
    /// Every invalid, missing or foreign field.
    pub fn validate(
        input: &IdpInput,
        protocol: Protocol,
        write: Write,
        loopback_allowed: bool,
    ) -> Result<(IdpFields, Option<Option<String>>), ValidationErrors> {
        let creating = write == Write::Create;
        let mut errs = ValidationErrors::new();
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        if creating && input.name.is_none() {
            errs.push(FieldError::missing("name"));
        }
        let issuer = opt_field(&mut errs, &input.issuer, |s| federated::upstream_url("issuer", s, loopback_allowed));
        let client_id = opt_field(&mut errs, &input.client_id, |s| ident("client_id", s));
        let entity_id = opt_field(&mut errs, &input.entity_id, |s| ident("entity_id", s));
        let sso_url = opt_field(&mut errs, &input.sso_url, |s| federated::upstream_url("sso_url", s, loopback_allowed));
        let attribute_mapping = match &input.attribute_mapping {
            None => None,
            Some(None) => Some(BTreeMap::new()),
            Some(Some(m)) => errs.take(federated::attribute_mapping(m)),
        };
        let certificate = opt_field(&mut errs, &input.certificate, |s| certificate("certificate", s));
        let secret = match &input.client_secret {
            Some(Some(s)) if s.is_empty() || s.len() > MAX_SECRET_LEN => {
                errs.push(FieldError::new(
                    "client_secret",
                    "string_too_long",
                    format!("1 to {MAX_SECRET_LEN} characters"),
                ));
                None
            }
            other => other.clone(),
        };
        let scopes = match &input.scopes {
            Some(s) => names(&mut errs, "scopes", s),
            None if creating && protocol == Protocol::Oidc => Some(DEFAULT_OIDC_SCOPES.map(String::from).to_vec()),
            None => None,
        };
        let (required, foreign): (&[&str], &[&str]) = match protocol {
            Protocol::Oidc => (&["issuer", "client_id"], &["entity_id", "sso_url", "certificate"]),
            Protocol::Saml => {
                (&["entity_id", "sso_url", "certificate"], &["issuer", "client_id", "client_secret", "scopes"])
            }
        };
        for &f in required {
            if (creating && !input.present(f)) || input.nulled(f) {
                errs.push(FieldError::new(f, "missing", format!("{} identity providers need {f}", protocol.as_str())));
            }
        }
        for &f in foreign {
            if input.present(f) {
                errs.push(FieldError::new(
                    f,
                    "extra_forbidden",
                    format!("Not a field of {} identity providers", protocol.as_str()),
                ));
            }
        }
        if protocol == Protocol::Oidc && scopes.as_ref().is_some_and(|s| !s.iter().any(|x| x == "openid")) {
            errs.push(FieldError::new("scopes", "value_error", "OIDC scopes must include openid"));
        }
        errs.into_result()?;
        let fields = IdpFields {
            name,
            protocol: creating.then_some(protocol),
            enabled: input.enabled.or(creating.then_some(true)),
            issuer,
            client_id,
            client_secret_enc: None,
            scopes,
            entity_id,
            sso_url,
            certificate,
            jit_provisioning: input.jit_provisioning.or(creating.then_some(true)),
            attribute_mapping: attribute_mapping.or(creating.then(BTreeMap::new)),
        };
        Ok((fields, secret))
    }
}

impl AgentInput {
    /// Refuses a PATCH that names a tenant: an agent never moves.
    ///
    /// # Errors
    /// `tenant_id` present.
    pub fn fixed_fields_untouched(&self) -> Result<(), FieldError> {
        match self.tenant_id {
            Some(_) => Err(FieldError::new("tenant_id", "value_error", "An agent cannot move to another tenant")),
            None => Ok(()),
        }
    }
}

impl AgentFields {
    /// Validates an agent's fields; a create needs a name and starts active with no tools or
    /// scopes unless given.
    ///
    /// # Errors
    /// Every invalid or missing field.
    pub fn validate(input: &AgentInput, write: Write) -> Result<AgentFields, ValidationErrors> {
        let creating = write == Write::Create;
        let mut errs = ValidationErrors::new();
        if creating && input.name.is_none() {
            errs.push(FieldError::missing("name"));
        }
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        let description = input
            .description
            .as_ref()
            .and_then(|d| errs.take(v::optional_text("description", d.as_deref(), v::MAX_DESCRIPTION_LEN)));
        let allowed_tools = input.allowed_tools.as_ref().and_then(|t| names(&mut errs, "allowed_tools", t));
        let allowed_scopes =
            input.allowed_scopes.as_ref().and_then(|s| crate::oauth_scope::scope_list(&mut errs, "allowed_scopes", s));
        let rate_limit_rpm = input.rate_limit_rpm.and_then(|r| errs.take(rate_limit(r)));
        let status =
            input.status.as_deref().and_then(|s| errs.take(v::one_of("status", s, &Status::ALL, Status::as_str)));
        errs.into_result()?;
        Ok(AgentFields {
            name,
            description,
            allowed_tools: allowed_tools.or(creating.then(Vec::new)),
            allowed_scopes: allowed_scopes.or(creating.then(Vec::new)),
            rate_limit_rpm,
            status: status.or(creating.then_some(Status::Active)),
        })
    }
}

#[cfg(test)]
mod tests;
