//! Registration requests: admins ask for an application; an admin with write reach over the
//! request's scope approves (creating the application in the same transaction) or rejects it.

use std::sync::Arc;

pub mod cimd;
mod dynamic;
pub use dynamic::{DcrError, DcrSettings, RegisteredClient, Source};

use chrono::Duration;
use scaikey_domain::access::{Action, Denial, Target, can, reach};
use scaikey_domain::application::{self as appdom, Application, ClientSettingsInput};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, RegistrationRequestId};
use scaikey_domain::registration::{IllegalTransition, RegistrationEvent, RegistrationRequest, effective_status};
use scaikey_domain::status::Status;
use scaikey_domain::validation::{self as v, FieldError, ValidationErrors};

use crate::applications::{ApplicationService, new_client_id};
use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    ApplicationRecord, ClientSecrets, Clock, IdGenerator, RegistrationFilter, RegistrationRecord,
    RegistrationRepository, Review, Reviewed, TenantRepository,
};
use scaikey_domain::audit::action;

const RESOURCE: &str = "Registration request";

/// Reads and decisions a review makes before giving up on a request that keeps changing (each
/// change but the last must be another writer's; past a review the request is final).
const REVIEW_ATTEMPTS: usize = 3;

/// An illegal move as the API answers it: a blank reason is the caller's input, the rest a 409.
fn illegal(e: IllegalTransition) -> AppError {
    match e {
        IllegalTransition::MissingReason => AppError::field(FieldError::new("reason", "missing", e.to_string())),
        IllegalTransition::NotPending { .. } => AppError::Conflict(e.to_string()),
    }
}

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

/// The outcome of an approval: the request and the new application with its secret.
#[derive(Debug, Clone)]
pub struct Approved {
    /// The request, now APPROVED.
    pub request: RegistrationRequest,
    /// The application created.
    pub app: Application,
    /// Its client secret (confidential clients), shown once.
    pub client_secret: Option<String>,
}

/// Registration requests.
#[derive(Clone)]
pub struct RegistrationService {
    repo: Arc<dyn RegistrationRepository>,
    tenants: Arc<dyn TenantRepository>,
    secrets: Arc<dyn ClientSecrets>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    ttl: Duration,
}

impl std::fmt::Debug for RegistrationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationService").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

fn opt_text(errs: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    errs.take(v::optional_text(field, value, max)).flatten()
}

impl RegistrationService {
    /// Wires the service; `ttl` is the age at which a pending request expires.
    pub fn new(
        repo: Arc<dyn RegistrationRepository>,
        tenants: Arc<dyn TenantRepository>,
        secrets: Arc<dyn ClientSecrets>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        ttl: Duration,
    ) -> Self {
        Self { repo, tenants, secrets, clock, ids, ttl }
    }

    /// A request as it reads now: a pending request past `expires_at` shows as EXPIRED.
    #[must_use]
    pub fn effective(&self, mut r: RegistrationRequest) -> RegistrationRequest {
        r.status = effective_status(r.status, r.expires_at, self.clock.now());
        r
    }

    /// Creates a request for an application within the caller's reach.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: RegistrationInput,
    ) -> Result<RegistrationRequest, AppError> {
        reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let Valid {
            name,
            description,
            level,
            partner,
            tenant,
            contact_email,
            contact_name,
            organization_name,
            website_url,
            settings,
        } = Self::validate(&input)?;
        let owner =
            ApplicationService::resolve_owner(self.tenants.as_ref(), &ctx.principal, level, partner, tenant).await?;
        can(&ctx.principal, Action::Write, Target::RegistrationRequest(&owner))
            .into_result()
            .map_err(|_| AppError::Denied(Denial::Forbidden, RESOURCE))?;
        let partner = match owner {
            scaikey_domain::access::Owner::Tenant { partner, .. } => partner,
            _ => partner,
        };
        let now = self.clock.now();
        let id = RegistrationRequestId::generate_from(self.ids.next());
        let record = RegistrationRecord {
            scope: level,
            partner_id: partner,
            tenant_id: tenant,
            name,
            description,
            settings,
            contact_email,
            contact_name,
            organization_name,
            website_url,
            created_by: ctx.principal.actor_id(),
            expires_at: now + self.ttl,
            dynamic: None,
        };
        let audit =
            AuditRecord::success(&ctx.principal, &ctx.meta, action::REGISTRATION_CREATE, "registration_request")
                .resource(id)
                .within(tenant, partner);
        Ok(self.repo.insert(id, &record, now, &audit).await?)
    }

    async fn visible(
        &self,
        ctx: &RequestContext,
        id: RegistrationRequestId,
        action: Action,
    ) -> Result<RegistrationRequest, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(RESOURCE))?;
        let r = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, action, Target::RegistrationRequest(&r.owner()))
            .into_result()
            .map_err(AppError::denied(RESOURCE))?;
        Ok(r)
    }

    /// Reads a request within reach.
    pub async fn get(&self, ctx: &RequestContext, id: RegistrationRequestId) -> Result<RegistrationRequest, AppError> {
        Ok(self.effective(self.visible(ctx, id, Action::Read).await?))
    }

    /// Lists requests within reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &RegistrationFilter,
        page: PageRequest,
    ) -> Result<Page<RegistrationRequest>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.repo.list(r, filter, self.clock.now(), page).await?.map(|x| self.effective(x)))
    }

    /// Reviews `r` with `event`: the domain decides at the clock's now and the repository stores
    /// the outcome if the request is unchanged since it was read; if it changed meanwhile it is
    /// read again and decided anew, so a concurrent second approval gets the domain's 409.
    async fn review(
        &self,
        mut r: RegistrationRequest,
        event: RegistrationEvent,
        by: String,
        notes: Option<String>,
        application: Option<(ApplicationId, ApplicationRecord)>,
        audit: &AuditRecord,
    ) -> Result<Reviewed, AppError> {
        for _ in 0..REVIEW_ATTEMPTS {
            let now = self.clock.now();
            let outcome = r.review(&event, &by, notes.clone(), now).map_err(illegal)?;
            let review = Review { outcome, application: application.clone() };
            if let Some((request, app)) = self.repo.store_review(&r, &review, now, audit).await? {
                return Ok((self.effective(request), app));
            }
            r = self.repo.get(r.id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        }
        Err(AppError::Conflict("The registration request kept changing during the review; try again".into()))
    }

    fn audit(ctx: &RequestContext, r: &RegistrationRequest, action: &'static str) -> AuditRecord {
        AuditRecord::success(&ctx.principal, &ctx.meta, action, "registration_request")
            .resource(r.id)
            .within(r.tenant_id, r.partner_id)
    }

    /// Cancels a pending request (DELETE); it stays readable as CANCELLED.
    pub async fn cancel(
        &self,
        ctx: &RequestContext,
        id: RegistrationRequestId,
    ) -> Result<RegistrationRequest, AppError> {
        let r = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &r, action::REGISTRATION_CANCEL);
        Ok(self.review(r, RegistrationEvent::Cancel, ctx.principal.actor_id(), None, None, &audit).await?.0)
    }

    /// Rejects a pending request with a non-empty reason (the domain refuses a blank one).
    pub async fn reject(
        &self,
        ctx: &RequestContext,
        id: RegistrationRequestId,
        reason: Option<&str>,
    ) -> Result<RegistrationRequest, AppError> {
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => v::text("reason", r, v::MAX_DESCRIPTION_LEN).map_err(AppError::field)?,
            None => String::new(),
        };
        let r = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &r, action::REGISTRATION_REJECT);
        let event = RegistrationEvent::Reject { reason };
        Ok(self.review(r, event, ctx.principal.actor_id(), None, None, &audit).await?.0)
    }

    /// Approves a pending request: the application is created in the same transaction and
    /// returned with its secret, once. A concurrent second approval gets a 409.
    pub async fn approve(
        &self,
        ctx: &RequestContext,
        id: RegistrationRequestId,
        notes: Option<&str>,
    ) -> Result<Approved, AppError> {
        let notes = notes
            .map(|n| v::optional_text("notes", Some(n), v::MAX_DESCRIPTION_LEN))
            .transpose()
            .map_err(AppError::field)?
            .flatten();
        let r = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &r, action::REGISTRATION_APPROVE);
        self.approval(&r, ctx.principal.actor_id(), notes, &audit).await
    }

    /// Approves `r` (access already checked): creates its application — with the client ID a
    /// dynamic registration reserved, as a third-party application — and a secret for a
    /// confidential one.
    async fn approval(
        &self,
        r: &RegistrationRequest,
        by: String,
        notes: Option<String>,
        audit: &AuditRecord,
    ) -> Result<Approved, AppError> {
        let dynamic = self.repo.dynamic_client(r.id).await?;
        let (secret, digest) = if r.settings.application_type.is_confidential() {
            let (s, d) = self.secrets.generate().map_err(AppError::Internal)?;
            (Some(s), Some(d))
        } else {
            (None, None)
        };
        let app_id = ApplicationId::generate_from(self.ids.next());
        let record = ApplicationRecord {
            client_id: dynamic.as_ref().map_or_else(|| new_client_id(self.ids.as_ref()), |d| d.client_id.clone()),
            secret_digest: digest,
            name: r.name.clone(),
            description: r.description.clone(),
            scope: r.scope,
            partner_id: r.partner_id,
            tenant_id: r.tenant_id,
            settings: r.settings.clone(),
            token_lifetime: appdom::DEFAULT_TOKEN_LIFETIME,
            token_exchange_allowed: false,
            assignment_required: false,
            // A client that registered itself is a third party: people consent to it.
            first_party: dynamic.is_none(),
            id_token_signed_response_alg: appdom::IdTokenAlg::default(),
            status: Status::Active,
        };
        let (request, app) =
            self.review(r.clone(), RegistrationEvent::Approve, by, notes, Some((app_id, record)), audit).await?;
        let app = app.ok_or_else(|| AppError::Internal(anyhow::anyhow!("approval created no application")))?;
        Ok(Approved { request, app, client_secret: secret })
    }

    /// Records EXPIRED on due requests (the periodic sweep).
    pub async fn sweep(&self) -> Result<u64, AppError> {
        Ok(self.repo.expire_due(self.clock.now()).await?)
    }
}

/// A request's fields, validated.
struct Valid {
    name: String,
    description: Option<String>,
    level: scaikey_domain::scope::ScopeLevel,
    partner: Option<scaikey_domain::id::PartnerId>,
    tenant: Option<scaikey_domain::id::TenantId>,
    contact_email: String,
    contact_name: Option<String>,
    organization_name: Option<String>,
    website_url: Option<String>,
    settings: scaikey_domain::application::ClientSettings,
}

impl RegistrationService {
    /// Validates a request's fields, reporting every problem.
    fn validate(input: &RegistrationInput) -> Result<Valid, AppError> {
        let mut errs = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
            None => {
                errs.push(FieldError::missing("name"));
                None
            }
        };
        let description = opt_text(&mut errs, "description", input.description.as_deref(), v::MAX_DESCRIPTION_LEN);
        let app_type = errs.take(appdom::application_type(input.application_type.as_deref()));
        let triple = appdom::scope_fields(
            &mut errs,
            input.scope.as_deref(),
            input.partner_id.as_deref(),
            input.tenant_id.as_deref(),
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
            Some(w) => match appdom::redirect_uri(w) {
                Ok(()) => Some(w.to_string()),
                Err(msg) => {
                    errs.push(FieldError::new("website_url", "value_error", msg));
                    None
                }
            },
            None => None,
        };
        let settings = match (app_type, triple) {
            (Some(t), Some((level, _, _))) => {
                let scopes = input
                    .requested_scopes
                    .clone()
                    .unwrap_or_else(|| DEFAULT_REQUESTED_SCOPES.map(String::from).to_vec());
                match (ClientSettingsInput {
                    application_type: t,
                    redirect_uris: input.redirect_uris.clone().unwrap_or_default(),
                    post_logout_redirect_uris: input.post_logout_redirect_uris.clone().unwrap_or_default(),
                    allowed_origins: input.allowed_origins.clone().unwrap_or_default(),
                    allowed_scopes: scopes,
                    allowed_resources: input.requested_resources.clone().unwrap_or_default(),
                    grant_types: input.grant_types.clone().unwrap_or_else(|| t.default_grant_types()),
                })
                .validate(level)
                {
                    Ok(s) => Some(s),
                    Err(e) => {
                        for x in e.errors() {
                            // The request calls them requested_scopes and requested_resources.
                            let mut x = x.clone();
                            match x.loc.first().map(String::as_str) {
                                Some("allowed_scopes") => x.loc[0] = "requested_scopes".into(),
                                Some("allowed_resources") => x.loc[0] = "requested_resources".into(),
                                _ => {}
                            }
                            errs.push(x);
                        }
                        None
                    }
                }
            }
            _ => None,
        };
        errs.clone().into_result()?;
        let (Some(name), Some((level, partner, tenant)), Some(contact_email), Some(settings)) =
            (name, triple, contact_email, settings)
        else {
            return Err(AppError::Invalid(errs));
        };
        Ok(Valid {
            name,
            description,
            level,
            partner,
            tenant,
            contact_email,
            contact_name,
            organization_name,
            website_url,
            settings,
        })
    }
}

#[cfg(test)]
mod tests;
