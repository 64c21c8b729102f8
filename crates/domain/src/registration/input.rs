//! What an admin (or a dynamic registration) sends to ask for an application, checked as an
//! application's fields are, with the request's names for scopes and resources.

use crate::application::input::{identity, settings};
use crate::application::{ClientSettings, ClientSettingsInput, redirect_uri};
use crate::id::{PartnerId, TenantId};
use crate::scope::ScopeLevel;
use crate::validation::{self as v, FieldError, ValidationErrors};

/// Scopes requested when none are given (seed `RegistrationRequestCreate`).
pub const DEFAULT_REQUESTED_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Raw request fields (seed `RegistrationRequestCreate`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationInput {
    /// `scope`.
    pub scope: Option<String>,
    /// `tenant_id`.
    pub tenant_id: Option<String>,
    /// `partner_id`.
    pub partner_id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `application_type`.
    pub application_type: Option<String>,
    /// `redirect_uris`.
    pub redirect_uris: Option<Vec<String>>,
    /// `post_logout_redirect_uris`.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `allowed_origins`.
    pub allowed_origins: Option<Vec<String>>,
    /// `requested_scopes`.
    pub requested_scopes: Option<Vec<String>>,
    /// `requested_resources`.
    pub requested_resources: Option<Vec<String>>,
    /// `grant_types`.
    pub grant_types: Option<Vec<String>>,
    /// `contact_email`.
    pub contact_email: Option<String>,
    /// `contact_name`.
    pub contact_name: Option<String>,
    /// `organization_name`.
    pub organization_name: Option<String>,
    /// `website_url`.
    pub website_url: Option<String>,
}

/// A request's fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    /// Requested application name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Scope level.
    pub scope: ScopeLevel,
    /// Partner named (PARTNER requests).
    pub partner_id: Option<PartnerId>,
    /// Tenant (TENANT requests).
    pub tenant_id: Option<TenantId>,
    /// Contact.
    pub contact_email: String,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Organisation.
    pub organization_name: Option<String>,
    /// Website (an absolute https URL, http only for loopback hosts).
    pub website_url: Option<String>,
    /// Requested settings (`allowed_scopes` are the requested scopes).
    pub settings: ClientSettings,
}

fn opt_text(errs: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    errs.take(v::optional_text(field, value, max)).flatten()
}

impl NewRegistration {
    /// Validates a request's fields, reporting every problem; errors in the requested scopes and
    /// resources carry the request's field names.
    ///
    /// # Errors
    /// Every invalid or missing field.
    pub fn validate(input: &RegistrationInput) -> Result<NewRegistration, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let id = identity(
            &mut errs,
            input.name.as_deref(),
            input.description.as_deref(),
            input.application_type.as_deref(),
            (input.scope.as_deref(), input.partner_id.as_deref(), input.tenant_id.as_deref()),
        );
        let contact_email = match input.contact_email.as_deref() {
            Some(e) => errs.take(v::email("contact_email", e)),
            None => {
                errs.push(FieldError::missing("contact_email"));
                None
            }
        };
        let contact_name = opt_text(&mut errs, "contact_name", input.contact_name.as_deref(), v::MAX_NAME_LEN);
        let organization_name =
            opt_text(&mut errs, "organization_name", input.organization_name.as_deref(), v::MAX_NAME_LEN);
        let website_url = match input.website_url.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => match redirect_uri(w) {
                Ok(()) => Some(w.to_string()),
                Err(msg) => {
                    errs.push(FieldError::new("website_url", "value_error", msg));
                    None
                }
            },
            None => None,
        };
        let settings = settings(
            &mut errs,
            &id,
            |t| ClientSettingsInput {
                application_type: t,
                redirect_uris: input.redirect_uris.clone().unwrap_or_default(),
                post_logout_redirect_uris: input.post_logout_redirect_uris.clone().unwrap_or_default(),
                allowed_origins: input.allowed_origins.clone().unwrap_or_default(),
                allowed_scopes: input
                    .requested_scopes
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REQUESTED_SCOPES.map(String::from).to_vec()),
                allowed_resources: input.requested_resources.clone().unwrap_or_default(),
                grant_types: input.grant_types.clone().unwrap_or_else(|| t.default_grant_types()),
            },
            &[("allowed_scopes", "requested_scopes"), ("allowed_resources", "requested_resources")],
        );
        errs.clone().into_result()?;
        let (Some(name), Some(description), Some((scope, partner_id, tenant_id)), Some(contact_email), Some(settings)) =
            (id.name, id.description, id.triple, contact_email, settings)
        else {
            // Each check above that kept no value recorded an error.
            return Err(errs);
        };
        Ok(NewRegistration {
            name,
            description,
            scope,
            partner_id,
            tenant_id,
            contact_email,
            contact_name,
            organization_name,
            website_url,
            settings,
        })
    }
}
