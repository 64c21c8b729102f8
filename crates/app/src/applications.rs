//! Application administration: CRUD with the seed's scope and visibility rules, secret
//! rotation, assignments and effective users.

use std::sync::Arc;

use scaikey_domain::access::{Action, Denial, Owner, Reach, Target, can, reach};
use scaikey_domain::application::{self as appdom, Application, ApplicationPatch, NewApplication};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, AssignmentId, GroupId, TenantId, UserId};
use scaikey_domain::principal::Principal;
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use scaikey_domain::validation::{self as v, FieldError};
use serde_json::json;

use crate::client_cache::CachedApplications;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    ApplicationFilter, ApplicationRecord, ApplicationRepository, Assignee, Assignment, ClientSecrets, Clock,
    EffectiveUser, GroupRepository, IdGenerator, TenantRepository, UserRepository,
};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Application";

pub use scaikey_domain::application::ApplicationInput;

/// A created application with its secret, shown this once.
#[derive(Debug, Clone)]
pub struct WithSecret {
    /// The application.
    pub app: Application,
    /// The client secret (confidential clients).
    pub client_secret: Option<String>,
}

/// Applications, secrets, assignments, effective users.
#[derive(Clone)]
pub struct ApplicationService {
    apps: Arc<dyn ApplicationRepository>,
    tenants: Arc<dyn TenantRepository>,
    users: Arc<dyn UserRepository>,
    groups: Arc<dyn GroupRepository>,
    secrets: Arc<dyn ClientSecrets>,
    revocations: Arc<RevocationList>,
    /// The token endpoint's client cache: each write drops the application's entry, so this
    /// process never serves a replaced secret or setting.
    clients: Arc<CachedApplications>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for ApplicationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicationService")
    }
}

fn forbidden() -> AppError {
    AppError::Denied(Denial::Forbidden, RESOURCE)
}

/// Generates a public client ID.
pub(crate) fn new_client_id(ids: &dyn IdGenerator) -> String {
    format!("ck_{}", ids.next().to_string().to_lowercase())
}

/// A new application as it is stored: its ID, its record and (confidential clients) the secret
/// shown once. The admin API and approvals make every application here (the built-in public
/// clients, which need no secret, are stored as their [`ApplicationRecord`] directly).
pub(crate) struct Minted {
    /// The new ID.
    pub(crate) id: ApplicationId,
    /// What to store.
    pub(crate) record: ApplicationRecord,
    /// The client secret, never stored.
    pub(crate) secret: Option<String>,
}

/// Gives `new` its ID, client ID (`client_id`, or a fresh `ck_…`) and, for a confidential
/// client, a secret.
pub(crate) fn mint(
    secrets: &dyn ClientSecrets,
    ids: &dyn IdGenerator,
    new: NewApplication,
    client_id: Option<String>,
) -> Result<Minted, AppError> {
    let (secret, digest) = if new.settings.application_type.is_confidential() {
        let (s, d) = secrets.generate().map_err(AppError::Internal)?;
        (Some(s), Some(d))
    } else {
        (None, None)
    };
    let id = ApplicationId::generate_from(ids.next());
    let client_id = client_id.unwrap_or_else(|| new_client_id(ids));
    Ok(Minted { id, record: ApplicationRecord { client_id, secret_digest: digest, app: new }, secret })
}

impl ApplicationService {
    /// Wires the service to its ports.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        apps: Arc<dyn ApplicationRepository>,
        tenants: Arc<dyn TenantRepository>,
        users: Arc<dyn UserRepository>,
        groups: Arc<dyn GroupRepository>,
        secrets: Arc<dyn ClientSecrets>,
        revocations: Arc<RevocationList>,
        clients: Arc<CachedApplications>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { apps, tenants, users, groups, secrets, revocations, clients, clock, ids }
    }

    /// The owner of a new TENANT/PARTNER/GLOBAL resource, with the tenant's partner looked up;
    /// a tenant outside the caller's reach (or missing, below the platform) is a 403.
    pub(crate) async fn resolve_owner(
        tenants: &dyn TenantRepository,
        principal: &Principal,
        level: ScopeLevel,
        partner: Option<scaikey_domain::id::PartnerId>,
        tenant: Option<TenantId>,
    ) -> Result<Owner, AppError> {
        match (level, tenant) {
            (ScopeLevel::Tenant, Some(t)) => match tenants.get(t).await? {
                Some(t) => Ok(Owner::Tenant { tenant: t.id, partner: t.partner_id }),
                None if reach(principal, Action::Write) == Ok(Reach::Platform) => {
                    Err(AppError::field(FieldError::new("tenant_id", "value_error", "Tenant not found")))
                }
                None => Err(forbidden()),
            },
            _ => Ok(Owner::from_scope(level, partner, tenant).unwrap_or(Owner::Platform)),
        }
    }

    /// Creates an application; tenant admins default to a TENANT app of their own tenant.
    pub async fn create(&self, ctx: &RequestContext, input: ApplicationInput) -> Result<WithSecret, AppError> {
        let r = reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let mut new = NewApplication::validate(&input, r)?;
        let owner =
            Self::resolve_owner(self.tenants.as_ref(), &ctx.principal, new.scope, new.partner_id, new.tenant_id)
                .await?;
        can(&ctx.principal, Action::Write, Target::Application(&owner)).into_result().map_err(|_| forbidden())?;
        (new.tenant_id, new.partner_id) = match owner {
            Owner::Tenant { tenant, partner } => (Some(tenant), partner),
            Owner::Partner(p) => (None, Some(p)),
            Owner::Platform => (None, None),
        };
        let Minted { id, record, secret } = mint(self.secrets.as_ref(), self.ids.as_ref(), new, None)?;
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::APPLICATION_CREATE, "application")
            .resource(id)
            .within(record.app.tenant_id, record.app.partner_id)
            .details(json!({"client_id": record.client_id, "scope": record.app.scope.as_str()}));
        let app = self.apps.insert(id, &record, self.clock.now(), &audit).await?;
        Ok(WithSecret { app, client_secret: secret })
    }

    async fn visible(&self, ctx: &RequestContext, id: ApplicationId) -> Result<Application, AppError> {
        reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let app = self.apps.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, Action::Read, Target::Application(&app.owner()))
            .into_result()
            .map_err(AppError::denied(RESOURCE))?;
        Ok(app)
    }

    async fn writable(&self, ctx: &RequestContext, id: ApplicationId) -> Result<Application, AppError> {
        reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let app = self.apps.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, Action::Write, Target::Application(&app.owner()))
            .into_result()
            .map_err(AppError::denied(RESOURCE))?;
        if appdom::is_built_in(&app.client_id) {
            return Err(AppError::Conflict(format!(
                "{} is one of ScaiKey's own applications; ScaiKey manages it and it cannot be changed",
                app.client_id
            )));
        }
        Ok(app)
    }

    fn audit(ctx: &RequestContext, app: &Application, action: &'static str) -> AuditRecord {
        AuditRecord::success(&ctx.principal, &ctx.meta, action, "application")
            .resource(app.id)
            .within(app.tenant_id, app.partner_id)
    }

    /// Reads an application within reach.
    pub async fn get(&self, ctx: &RequestContext, id: ApplicationId) -> Result<Application, AppError> {
        self.visible(ctx, id).await
    }

    /// Lists applications visible to the caller; ScaiKey's own clients are not listed (they
    /// are read by ID, never changed).
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &ApplicationFilter,
        page: PageRequest,
    ) -> Result<Page<Application>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let filter = ApplicationFilter {
            exclude_client_ids: appdom::BUILT_IN_CLIENTS.iter().map(|c| (*c).to_string()).collect(),
            ..filter.clone()
        };
        Ok(self.apps.list(r, &filter, page).await?)
    }

    /// Applies a PATCH; the OAuth settings are re-validated as a whole for the app's type.
    pub async fn update(
        &self,
        ctx: &RequestContext,
        id: ApplicationId,
        input: ApplicationInput,
    ) -> Result<Application, AppError> {
        input.fixed_fields_untouched()?;
        let app = self.writable(ctx, id).await?;
        let patch = ApplicationPatch::validate(&input, &app)?;
        if patch.is_empty() {
            return Ok(app);
        }
        let audit = Self::audit(ctx, &app, action::APPLICATION_UPDATE);
        let updated = self.apps.update(id, &patch, self.clock.now(), &audit).await;
        // Dropped whatever storage answered: a write that failed late may still have landed.
        self.clients.invalidate_app(id);
        let updated = updated?.ok_or(AppError::NotFound(RESOURCE))?;
        if updated.status != Status::Active {
            self.revocations.disable_app(updated.id);
        } else {
            self.revocations.enable_app(updated.id);
        }
        Ok(updated)
    }

    /// Replaces the client secret: the old one stops working at once.
    pub async fn rotate_secret(&self, ctx: &RequestContext, id: ApplicationId) -> Result<(String, String), AppError> {
        let app = self.writable(ctx, id).await?;
        if !app.application_type.is_confidential() {
            return Err(AppError::Conflict(format!(
                "{} applications are public clients and have no secret",
                app.application_type.as_str()
            )));
        }
        let (secret, digest) = self.secrets.generate().map_err(AppError::Internal)?;
        let audit = Self::audit(ctx, &app, action::APPLICATION_ROTATE_SECRET);
        let stored = self.apps.set_secret(id, &digest, self.clock.now(), &audit).await;
        self.clients.invalidate_app(id);
        stored?.ok_or(AppError::NotFound(RESOURCE))?;
        Ok((app.client_id, secret))
    }

    /// Soft-deletes; its tokens are refused from then on.
    pub async fn delete(&self, ctx: &RequestContext, id: ApplicationId) -> Result<(), AppError> {
        let app = self.writable(ctx, id).await?;
        let audit = Self::audit(ctx, &app, action::APPLICATION_DELETE);
        let deleted = self.apps.delete(id, self.clock.now(), &audit).await;
        self.clients.invalidate_app(id);
        if !deleted? {
            return Err(AppError::NotFound(RESOURCE));
        }
        self.revocations.disable_app(id);
        Ok(())
    }

    /// Assigns a user or group (exactly one of the two IDs) within the caller's reach.
    pub async fn assign(
        &self,
        ctx: &RequestContext,
        id: ApplicationId,
        user_id: Option<&str>,
        group_id: Option<&str>,
    ) -> Result<Assignment, AppError> {
        let assignee = match (user_id, group_id) {
            (Some(u), None) => Assignee::User(v::id::<UserId>("user_id", u).map_err(AppError::field)?),
            (None, Some(g)) => Assignee::Group(v::id::<GroupId>("group_id", g).map_err(AppError::field)?),
            _ => {
                return Err(AppError::field(FieldError::new(
                    "user_id",
                    "value_error",
                    "Give exactly one of user_id or group_id",
                )));
            }
        };
        reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let app = self.visible(ctx, id).await?;
        // The caller must be able to change the assignee's tenant; otherwise it is not found.
        let (owner, field, what) = match assignee {
            Assignee::User(u) => {
                (self.users.get(u).await?.map(|u| crate::users::owner_of(&u)), "user_id", "User not found")
            }
            Assignee::Group(g) => {
                (self.groups.get(g).await?.map(|g| crate::groups::owner_of(&g)), "group_id", "Group not found")
            }
        };
        let not_found = || AppError::field(FieldError::new(field, "value_error", what));
        let home = match owner {
            Some(o) if can(&ctx.principal, Action::Write, Target::Owned(&o)).is_allowed() => o,
            _ => return Err(not_found()),
        };
        app.fits_assignee(&home).map_err(|m| AppError::field(FieldError::new(field, "value_error", m.to_string())))?;
        let Owner::Tenant { tenant, partner } = home else { return Err(not_found()) };
        let asg = AssignmentId::generate_from(self.ids.next());
        let audit = Self::audit(ctx, &app, action::APPLICATION_ASSIGN).details(
            json!({"assignment_id": asg.to_string(), field: match assignee {
                Assignee::User(u) => u.to_string(),
                Assignee::Group(g) => g.to_string(),
            }}),
        );
        // `None`: deleted or moved since it was read; as if it had not been found.
        self.apps.assign(asg, &app, assignee, (tenant, partner), self.clock.now(), &audit).await?.ok_or_else(not_found)
    }

    /// Assignments of an application whose assignees lie within reach.
    pub async fn assignments(
        &self,
        ctx: &RequestContext,
        id: ApplicationId,
        page: PageRequest,
    ) -> Result<Page<Assignment>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        self.visible(ctx, id).await?;
        Ok(self.apps.assignments(id, r, page).await?)
    }

    /// Removes an assignment within reach.
    pub async fn unassign(&self, ctx: &RequestContext, id: ApplicationId, asg: AssignmentId) -> Result<(), AppError> {
        reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let app = self.visible(ctx, id).await?;
        let a = self.apps.assignment(id, asg).await?.ok_or(AppError::NotFound("Assignment"))?;
        let owner = Owner::Tenant { tenant: a.tenant_id, partner: a.partner_id };
        can(&ctx.principal, Action::Write, Target::Owned(&owner))
            .into_result()
            .map_err(AppError::denied("Assignment"))?;
        let audit =
            Self::audit(ctx, &app, action::APPLICATION_UNASSIGN).details(json!({"assignment_id": asg.to_string()}));
        if self.apps.unassign(id, asg, self.clock.now(), &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("Assignment"))
        }
    }

    /// Users with access to the application. Callable by admins within reach, and by the
    /// application itself with its own token (no admin scope); no other application.
    pub async fn effective_users(
        &self,
        ctx: &RequestContext,
        id: ApplicationId,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<EffectiveUser>, AppError> {
        let (app, r) = match &ctx.principal {
            Principal::Client(c) if c.app_id == id => {
                (self.apps.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?, Reach::Platform)
            }
            _ => {
                let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
                (self.visible(ctx, id).await?, r)
            }
        };
        Ok(self.apps.effective_users(&app, r, tenant, page).await?)
    }
}

#[cfg(test)]
mod tests;
