//! What a caller sends to create or change an application, and the checks that turn it into
//! values to store. The admin API, the console and the MCP tools send an [`ApplicationInput`];
//! an approved registration request becomes a [`NewApplication`] through
//! [`NewApplication::approved`], so every application is made from the same validated value.

use crate::access::Reach;
use crate::registration::RegistrationRequest;
use crate::scope::ScopeLevel;
use crate::status::Status;
use crate::validation::{self as v, FieldError, ValidationErrors};

use super::{
    Application, ApplicationType, ClientSettings, ClientSettingsInput, DEFAULT_TOKEN_LIFETIME, IdTokenAlg,
    application_type, scope_fields, token_lifetime,
};
use crate::id::{PartnerId, TenantId};

/// Raw application fields as a client sent them (create or PATCH).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationInput {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<Option<String>>,
    /// `application_type`.
    pub application_type: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `partner_id`.
    pub partner_id: Option<String>,
    /// `tenant_id`.
    pub tenant_id: Option<String>,
    /// `redirect_uris`.
    pub redirect_uris: Option<Vec<String>>,
    /// `post_logout_redirect_uris`.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// `allowed_origins`.
    pub allowed_origins: Option<Vec<String>>,
    /// `allowed_scopes`.
    pub allowed_scopes: Option<Vec<String>>,
    /// `allowed_resources`.
    pub allowed_resources: Option<Vec<String>>,
    /// `grant_types`.
    pub grant_types: Option<Vec<String>>,
    /// `token_lifetime`.
    pub token_lifetime: Option<i64>,
    /// `token_exchange_allowed`.
    pub token_exchange_allowed: Option<bool>,
    /// `assignment_required`.
    pub assignment_required: Option<bool>,
    /// `first_party`.
    pub first_party: Option<bool>,
    /// `id_token_signed_response_alg`.
    pub id_token_signed_response_alg: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// Fields that may not change after creation, present in a PATCH.
    pub immutable_present: Vec<&'static str>,
}

/// A valid new application: everything stored but its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Scope level.
    pub scope: ScopeLevel,
    /// Partner (PARTNER applications, and TENANT ones under a partner once the owner is known).
    pub partner_id: Option<PartnerId>,
    /// Tenant (TENANT applications).
    pub tenant_id: Option<TenantId>,
    /// OAuth settings.
    pub settings: ClientSettings,
    /// Token lifetime, seconds.
    pub token_lifetime: i64,
    /// Token exchange allowed.
    pub token_exchange_allowed: bool,
    /// Only effective users may sign in.
    pub assignment_required: bool,
    /// No consent page.
    pub first_party: bool,
    /// ID-token algorithm.
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Status.
    pub status: Status,
}

/// Validated changes to an application (`None`: unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New OAuth settings (validated as a whole).
    pub settings: Option<ClientSettings>,
    /// New token lifetime.
    pub token_lifetime: Option<i64>,
    /// New token-exchange flag.
    pub token_exchange_allowed: Option<bool>,
    /// New assignment rule.
    pub assignment_required: Option<bool>,
    /// New first-party flag.
    pub first_party: Option<bool>,
    /// New ID-token algorithm.
    pub id_token_signed_response_alg: Option<IdTokenAlg>,
    /// New status.
    pub status: Option<Status>,
}

/// The scope triple as parsed: level, partner, tenant.
pub(crate) type ScopeTriple = (ScopeLevel, Option<PartnerId>, Option<TenantId>);

/// What an application and a registration request are named and owned by, checked alike.
pub(crate) struct Identity {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<Option<String>>,
    pub(crate) application_type: Option<ApplicationType>,
    pub(crate) triple: Option<ScopeTriple>,
}

/// Checks name (required), description, type (required) and the scope triple.
pub(crate) fn identity(
    errs: &mut ValidationErrors,
    name: Option<&str>,
    description: Option<&str>,
    app_type: Option<&str>,
    (scope, partner, tenant): (Option<&str>, Option<&str>, Option<&str>),
) -> Identity {
    let name = match name {
        Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
        None => {
            errs.push(FieldError::missing("name"));
            None
        }
    };
    let description = errs.take(v::optional_text("description", description, v::MAX_DESCRIPTION_LEN));
    let application_type = errs.take(application_type(app_type));
    let triple = scope_fields(errs, scope, partner, tenant);
    Identity { name, description, application_type, triple }
}

/// Validates `settings` for the checked type and level, reporting each error under the caller's
/// name for the field (`rename`: ours → theirs).
pub(crate) fn settings(
    errs: &mut ValidationErrors,
    identity: &Identity,
    settings: impl FnOnce(ApplicationType) -> ClientSettingsInput,
    rename: &[(&str, &str)],
) -> Option<ClientSettings> {
    let (Some(t), Some((level, _, _))) = (identity.application_type, identity.triple) else { return None };
    match settings(t).validate(level) {
        Ok(s) => Some(s),
        Err(e) => {
            for x in e.errors() {
                let mut x = x.clone();
                if let Some((_, theirs)) = rename.iter().find(|(ours, _)| x.loc.first().is_some_and(|l| l == ours)) {
                    x.loc[0] = (*theirs).to_string();
                }
                errs.push(x);
            }
            None
        }
    }
}

/// Parses `id_token_signed_response_alg`.
fn id_token_alg(a: &str) -> Result<IdTokenAlg, FieldError> {
    v::one_of("id_token_signed_response_alg", a, &IdTokenAlg::ALL, IdTokenAlg::as_str)
}

fn status(s: &str) -> Result<Status, FieldError> {
    v::one_of("status", s, &Status::ALL, Status::as_str)
}

impl NewApplication {
    /// Validates a create, reporting every problem. A tenant admin (`caller`) who names no scope
    /// asks for a TENANT application, of their own tenant unless `tenant_id` says otherwise.
    ///
    /// # Errors
    /// Every invalid or missing field.
    pub fn validate(input: &ApplicationInput, caller: Reach) -> Result<NewApplication, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let (scope, tenant_id) = match (&input.scope, caller) {
            (None, Reach::Tenant { tenant, .. }) => {
                (Some("TENANT".to_string()), input.tenant_id.clone().or(Some(tenant.to_string())))
            }
            _ => (input.scope.clone(), input.tenant_id.clone()),
        };
        let id = identity(
            &mut errs,
            input.name.as_deref(),
            input.description.clone().flatten().as_deref(),
            input.application_type.as_deref(),
            (scope.as_deref(), input.partner_id.as_deref(), tenant_id.as_deref()),
        );
        let lifetime = errs.take(token_lifetime(input.token_lifetime));
        let alg = match input.id_token_signed_response_alg.as_deref() {
            Some(a) => errs.take(id_token_alg(a)),
            None => Some(IdTokenAlg::default()),
        };
        let state = match input.status.as_deref() {
            Some(s) => errs.take(status(s)),
            None => Some(Status::Active),
        };
        let settings = settings(
            &mut errs,
            &id,
            |t| ClientSettingsInput {
                application_type: t,
                redirect_uris: input.redirect_uris.clone().unwrap_or_default(),
                post_logout_redirect_uris: input.post_logout_redirect_uris.clone().unwrap_or_default(),
                allowed_origins: input.allowed_origins.clone().unwrap_or_default(),
                allowed_scopes: input.allowed_scopes.clone().unwrap_or_default(),
                allowed_resources: input.allowed_resources.clone().unwrap_or_default(),
                grant_types: input.grant_types.clone().unwrap_or_else(|| t.default_grant_types()),
            },
            &[],
        );
        errs.clone().into_result()?;
        let (
            Some(name),
            Some(description),
            Some((scope, partner_id, tenant_id)),
            Some(lifetime),
            Some(alg),
            Some(status),
            Some(settings),
        ) = (id.name, id.description, id.triple, lifetime, alg, state, settings)
        else {
            // Each check above that kept no value recorded an error.
            return Err(errs);
        };
        Ok(NewApplication {
            name,
            description,
            scope,
            partner_id,
            tenant_id,
            settings,
            token_lifetime: lifetime,
            token_exchange_allowed: input.token_exchange_allowed.unwrap_or(false),
            assignment_required: input.assignment_required.unwrap_or(false),
            first_party: input.first_party.unwrap_or(true),
            id_token_signed_response_alg: alg,
            status,
        })
    }

    /// The application an approved request becomes: its name, owner and settings with the
    /// defaults of a create. A client that registered itself (`self_registered`) is a third
    /// party: people consent to it.
    #[must_use]
    pub fn approved(request: &RegistrationRequest, self_registered: bool) -> NewApplication {
        NewApplication {
            name: request.name.clone(),
            description: request.description.clone(),
            scope: request.scope,
            partner_id: request.partner_id,
            tenant_id: request.tenant_id,
            settings: request.settings.clone(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            token_exchange_allowed: false,
            assignment_required: false,
            first_party: !self_registered,
            id_token_signed_response_alg: IdTokenAlg::default(),
            status: Status::Active,
        }
    }
}

impl ApplicationInput {
    /// Refuses a PATCH that names a field fixed at creation (type, scope, owner).
    ///
    /// # Errors
    /// One error per such field.
    pub fn fixed_fields_untouched(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::new();
        for f in &self.immutable_present {
            errs.push(FieldError::new(f, "value_error", "This field cannot change after creation"));
        }
        errs.into_result()
    }

    fn touches_settings(&self) -> bool {
        self.redirect_uris.is_some()
            || self.post_logout_redirect_uris.is_some()
            || self.allowed_origins.is_some()
            || self.allowed_scopes.is_some()
            || self.allowed_resources.is_some()
            || self.grant_types.is_some()
    }
}

impl ApplicationPatch {
    /// Validates a PATCH of `app`: changed OAuth settings are re-validated as a whole, merged
    /// with the stored ones, for the application's type and level.
    ///
    /// # Errors
    /// Every invalid field.
    pub fn validate(input: &ApplicationInput, app: &Application) -> Result<ApplicationPatch, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        let description = input
            .description
            .as_ref()
            .and_then(|d| errs.take(v::optional_text("description", d.as_deref(), v::MAX_DESCRIPTION_LEN)));
        let token_lifetime = input.token_lifetime.and_then(|t| errs.take(token_lifetime(Some(t))));
        let status = input.status.as_deref().and_then(|s| errs.take(status(s)));
        let id_token_signed_response_alg =
            input.id_token_signed_response_alg.as_deref().and_then(|a| errs.take(id_token_alg(a)));
        let settings = if input.touches_settings() {
            let merged = ClientSettingsInput {
                application_type: app.application_type,
                redirect_uris: input.redirect_uris.clone().unwrap_or_else(|| app.redirect_uris.clone()),
                post_logout_redirect_uris: input
                    .post_logout_redirect_uris
                    .clone()
                    .unwrap_or_else(|| app.post_logout_redirect_uris.clone()),
                allowed_origins: input.allowed_origins.clone().unwrap_or_else(|| app.allowed_origins.clone()),
                allowed_scopes: input.allowed_scopes.clone().unwrap_or_else(|| app.allowed_scopes.clone()),
                allowed_resources: input.allowed_resources.clone().unwrap_or_else(|| app.allowed_resources.clone()),
                grant_types: input.grant_types.clone().unwrap_or_else(|| app.grant_types.clone()),
            };
            match merged.validate(app.scope) {
                Ok(s) => Some(s),
                Err(e) => {
                    e.errors().iter().for_each(|x| errs.push(x.clone()));
                    None
                }
            }
        } else {
            None
        };
        errs.into_result()?;
        Ok(ApplicationPatch {
            name,
            description,
            settings,
            token_lifetime,
            token_exchange_allowed: input.token_exchange_allowed,
            assignment_required: input.assignment_required,
            first_party: input.first_party,
            id_token_signed_response_alg,
            status,
        })
    }

    /// `true` when the PATCH changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == ApplicationPatch::default()
    }
}

#[cfg(test)]
mod tests;
