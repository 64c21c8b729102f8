//! Application administration: CRUD with the seed's scope and visibility rules, secret
//! rotation, assignments and effective users.

use std::sync::Arc;

use scaikey_domain::access::{Action, Denial, Owner, Reach, Target, can, reach};
use scaikey_domain::application::{self as appdom, Application, ClientSettingsInput, IdTokenAlg};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, AssignmentId, GroupId, TenantId, UserId};
use scaikey_domain::principal::Principal;
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use scaikey_domain::validation::{self as v, FieldError, ValidationErrors};
use serde_json::json;

use crate::client_cache::CachedApplications;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    ApplicationFilter, ApplicationPatch, ApplicationRecord, ApplicationRepository, Assignee, Assignment, ClientSecrets,
    Clock, EffectiveUser, GroupRepository, IdGenerator, TenantRepository, UserRepository,
};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Application";

/// Raw application fields as a client sent them.
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

/// Parses `id_token_signed_response_alg`.
fn id_token_alg(a: &str) -> Result<IdTokenAlg, FieldError> {
    v::one_of("id_token_signed_response_alg", a, &IdTokenAlg::ALL, IdTokenAlg::as_str)
}

/// Generates a public client ID.
pub(crate) fn new_client_id(ids: &dyn IdGenerator) -> String {
    format!("ck_{}", ids.next().to_string().to_lowercase())
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
        let mut errs = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
            None => {
                errs.push(FieldError::missing("name"));
                None
            }
        };
        let description = errs.take(v::optional_text(
            "description",
            input.description.clone().flatten().as_deref(),
            v::MAX_DESCRIPTION_LEN,
        ));
        let app_type = errs.take(appdom::application_type(input.application_type.as_deref()));
        let (scope, tenant_id) = match (&input.scope, r) {
            (None, Reach::Tenant { tenant, .. }) => {
                (Some("TENANT".to_string()), input.tenant_id.clone().or(Some(tenant.to_string())))
            }
            _ => (input.scope.clone(), input.tenant_id.clone()),
        };
        let triple =
            appdom::scope_fields(&mut errs, scope.as_deref(), input.partner_id.as_deref(), tenant_id.as_deref());
        let lifetime = errs.take(appdom::token_lifetime(input.token_lifetime));
        let id_token_alg = match input.id_token_signed_response_alg.as_deref() {
            Some(a) => errs.take(id_token_alg(a)),
            None => Some(IdTokenAlg::default()),
        };
        let status = match input.status.as_deref() {
            Some(s) => errs.take(v::one_of("status", s, &Status::ALL, Status::as_str)),
            None => Some(Status::Active),
        };
        let settings = match (app_type, triple) {
            (Some(t), Some((level, _, _))) => match (ClientSettingsInput {
                application_type: t,
                redirect_uris: input.redirect_uris.clone().unwrap_or_default(),
                post_logout_redirect_uris: input.post_logout_redirect_uris.clone().unwrap_or_default(),
                allowed_origins: input.allowed_origins.clone().unwrap_or_default(),
                allowed_scopes: input.allowed_scopes.clone().unwrap_or_default(),
                allowed_resources: input.allowed_resources.clone().unwrap_or_default(),
                grant_types: input.grant_types.clone().unwrap_or_else(|| t.default_grant_types()),
            })
            .validate(level)
            {
                Ok(s) => Some(s),
                Err(e) => {
                    e.errors().iter().for_each(|x| errs.push(x.clone()));
                    None
                }
            },
            _ => None,
        };
        errs.clone().into_result()?;
        let (
            Some(name),
            Some(description),
            Some((level, partner, tenant)),
            Some(lifetime),
            Some(status),
            Some(settings),
            Some(id_token_alg),
        ) = (name, description, triple, lifetime, status, settings, id_token_alg)
        else {
            return Err(AppError::Invalid(errs));
        };
        let owner = Self::resolve_owner(self.tenants.as_ref(), &ctx.principal, level, partner, tenant).await?;
        can(&ctx.principal, Action::Write, Target::Application(&owner)).into_result().map_err(|_| forbidden())?;
        let (secret, digest) = if settings.application_type.is_confidential() {
            let (s, d) = self.secrets.generate().map_err(AppError::Internal)?;
            (Some(s), Some(d))
        } else {
            (None, None)
        };
        let id = ApplicationId::generate_from(self.ids.next());
        let (tenant_of, partner_of) = match owner {
            Owner::Tenant { tenant, partner } => (Some(tenant), partner),
            Owner::Partner(p) => (None, Some(p)),
            Owner::Platform => (None, None),
        };
        let record = ApplicationRecord {
            client_id: new_client_id(self.ids.as_ref()),
            secret_digest: digest,
            name,
            description,
            scope: level,
            partner_id: partner_of,
            tenant_id: tenant_of,
            settings,
            token_lifetime: lifetime,
            token_exchange_allowed: input.token_exchange_allowed.unwrap_or(false),
            assignment_required: input.assignment_required.unwrap_or(false),
            first_party: input.first_party.unwrap_or(true),
            id_token_signed_response_alg: id_token_alg,
            status,
        };
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::APPLICATION_CREATE, "application")
            .resource(id)
            .within(tenant_of, partner_of)
            .details(json!({"client_id": record.client_id, "scope": level.as_str()}));
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
        let mut errs = ValidationErrors::new();
        for f in &input.immutable_present {
            errs.push(FieldError::new(f, "value_error", "This field cannot change after creation"));
        }
        errs.clone().into_result()?;
        let app = self.writable(ctx, id).await?;
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        let description = input
            .description
            .as_ref()
            .and_then(|d| errs.take(v::optional_text("description", d.as_deref(), v::MAX_DESCRIPTION_LEN)));
        let token_lifetime = input.token_lifetime.and_then(|t| errs.take(appdom::token_lifetime(Some(t))));
        let status =
            input.status.as_deref().and_then(|s| errs.take(v::one_of("status", s, &Status::ALL, Status::as_str)));
        let id_token_signed_response_alg =
            input.id_token_signed_response_alg.as_deref().and_then(|a| errs.take(id_token_alg(a)));
        let touches_settings = input.redirect_uris.is_some()
            || input.post_logout_redirect_uris.is_some()
            || input.allowed_origins.is_some()
            || input.allowed_scopes.is_some()
            || input.allowed_resources.is_some()
            || input.grant_types.is_some();
        let settings = if touches_settings {
            match (ClientSettingsInput {
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
            })
            .validate(app.scope)
            {
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
        let patch = ApplicationPatch {
            name,
            description,
            settings,
            token_lifetime,
            token_exchange_allowed: input.token_exchange_allowed,
            assignment_required: input.assignment_required,
            first_party: input.first_party,
            id_token_signed_response_alg,
            status,
        };
        if patch == ApplicationPatch::default() {
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
