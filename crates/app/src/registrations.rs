//! Registration requests: admins ask for an application; an admin with write reach over the
//! request's scope approves (creating the application in the same transaction) or rejects it.

use std::sync::Arc;

pub mod cimd;
mod dynamic;
pub use dynamic::{DcrError, DcrSettings, RegisteredClient, Source};

use chrono::Duration;
use scaikey_domain::access::{Action, Denial, Target, can, reach};
use scaikey_domain::application::{Application, NewApplication};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, RegistrationRequestId};
use scaikey_domain::registration::{
    IllegalTransition, NewRegistration, RegistrationEvent, RegistrationRequest, effective_status,
};
use scaikey_domain::validation::{self as v, FieldError};

use crate::applications::{ApplicationService, Minted, mint};
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

pub use scaikey_domain::registration::{DEFAULT_REQUESTED_SCOPES, RegistrationInput};

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
        let mut new = NewRegistration::validate(&input)?;
        let (tenant, partner) = (new.tenant_id, new.partner_id);
        let owner =
            ApplicationService::resolve_owner(self.tenants.as_ref(), &ctx.principal, new.scope, partner, tenant)
                .await?;
        can(&ctx.principal, Action::Write, Target::RegistrationRequest(&owner))
            .into_result()
            .map_err(|_| AppError::Denied(Denial::Forbidden, RESOURCE))?;
        if let scaikey_domain::access::Owner::Tenant { partner: p, .. } = owner {
            new.partner_id = p;
        }
        let partner = new.partner_id;
        let now = self.clock.now();
        let id = RegistrationRequestId::generate_from(self.ids.next());
        let record = RegistrationRecord {
            request: new,
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
        let new = NewApplication::approved(r, dynamic.is_some());
        let Minted { id: app_id, record, secret } =
            mint(self.secrets.as_ref(), self.ids.as_ref(), new, dynamic.map(|d| d.client_id))?;
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

#[cfg(test)]
mod tests;
