//! Identity providers (OIDC, SAML) and MCP agents: tenant-scoped resources within reach.

use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Target, can, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federation::{self as fed, Agent, AgentFields, IdentityProvider, IdpFields, Write};
use scaikey_domain::id::{AgentId, IdentityProviderId, TenantId};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    AgentFilter, AgentRepository, Clock, IdGenerator, IdpFilter, IdpRepository, SecretSealer, TenantRepository,
};
use crate::users::UserService;
use scaikey_domain::audit::action;

pub use scaikey_domain::federation::{AgentInput, DEFAULT_OIDC_SCOPES, IdpInput, MAX_SECRET_LEN};

fn owner(tenant: TenantId, partner: Option<scaikey_domain::id::PartnerId>) -> Owner {
    Owner::Tenant { tenant, partner }
}

/// Identity providers.
#[derive(Clone)]
pub struct IdpService {
    repo: Arc<dyn IdpRepository>,
    tenants: Arc<dyn TenantRepository>,
    sealer: Arc<dyn SecretSealer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    /// Outside production, issuers and SSO URLs may be http on a loopback host (contract §11).
    loopback_allowed: bool,
}

impl std::fmt::Debug for IdpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdpService")
    }
}

const IDP: &str = "Identity provider";

impl IdpService {
    /// Wires the service.
    pub fn new(
        repo: Arc<dyn IdpRepository>,
        tenants: Arc<dyn TenantRepository>,
        sealer: Arc<dyn SecretSealer>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { repo, tenants, sealer, clock, ids, loopback_allowed: false }
    }

    /// Accepts http issuers and SSO URLs on loopback hosts (outside production: tests and
    /// local setups federate to a provider on the same machine).
    #[must_use]
    pub fn with_loopback_upstreams(mut self, allowed: bool) -> Self {
        self.loopback_allowed = allowed;
        self
    }

    fn seal(
        &self,
        secret: Option<Option<String>>,
        id: IdentityProviderId,
    ) -> Result<Option<Option<Vec<u8>>>, AppError> {
        secret
            .map(|s| s.map(|s| self.sealer.seal(s.as_bytes(), id.to_string().as_bytes())).transpose())
            .transpose()
            .map_err(AppError::Internal)
    }

    /// Creates an identity provider; the OIDC client secret is sealed and never returned.
    pub async fn create(&self, ctx: &RequestContext, input: IdpInput) -> Result<IdentityProvider, AppError> {
        let r = reach(&ctx.principal, Action::Write).map_err(AppError::denied(IDP))?;
        let protocol = input.protocol().map_err(AppError::field)?;
        let (mut fields, secret) = IdpFields::validate(&input, protocol, Write::Create, self.loopback_allowed)?;
        let tenant_id = fed::target_tenant(r, input.tenant_id.as_deref()).map_err(AppError::field)?;
        let tenant = UserService::writable_tenant(self.tenants.as_ref(), &ctx.principal, tenant_id, IDP).await?;
        let id = IdentityProviderId::generate_from(self.ids.next());
        fields.client_secret_enc = self.seal(secret, id)?;
        let audit =
            AuditRecord::success(&ctx.principal, &ctx.meta, action::IDENTITY_PROVIDER_CREATE, "identity_provider")
                .resource(id)
                .within(Some(tenant.id), tenant.partner_id)
                .details(serde_json::json!({"protocol": protocol.as_str()}));
        Ok(self.repo.insert(id, tenant_id, &fields, self.clock.now(), &audit).await?)
    }

    async fn visible(
        &self,
        ctx: &RequestContext,
        id: IdentityProviderId,
        action: Action,
    ) -> Result<IdentityProvider, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(IDP))?;
        let i = self.repo.get(id).await?.ok_or(AppError::NotFound(IDP))?;
        can(&ctx.principal, action, Target::Owned(&owner(i.tenant_id, i.partner_id)))
            .into_result()
            .map_err(AppError::denied(IDP))?;
        Ok(i)
    }

    /// Reads one within reach.
    pub async fn get(&self, ctx: &RequestContext, id: IdentityProviderId) -> Result<IdentityProvider, AppError> {
        self.visible(ctx, id, Action::Read).await
    }

    /// Lists those within reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &IdpFilter,
        page: PageRequest,
    ) -> Result<Page<IdentityProvider>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(IDP))?;
        Ok(self.repo.list(r, filter, page).await?)
    }

    /// Applies a PATCH; the protocol never changes; `client_secret` replaces (or with `null`
    /// clears) the stored secret.
    pub async fn update(
        &self,
        ctx: &RequestContext,
        id: IdentityProviderId,
        input: IdpInput,
    ) -> Result<IdentityProvider, AppError> {
        input.fixed_fields_untouched().map_err(AppError::field)?;
        let existing = self.visible(ctx, id, Action::Write).await?;
        let (mut fields, secret) =
            IdpFields::validate(&input, existing.protocol, Write::Update, self.loopback_allowed)?;
        fields.client_secret_enc = self.seal(secret, id)?;
        if fields == IdpFields::default() {
            return Ok(existing);
        }
        let audit =
            AuditRecord::success(&ctx.principal, &ctx.meta, action::IDENTITY_PROVIDER_UPDATE, "identity_provider")
                .resource(id)
                .within(Some(existing.tenant_id), existing.partner_id)
                .details(serde_json::json!({"client_secret_changed": fields.client_secret_enc.is_some()}));
        self.repo.update(id, &fields, self.clock.now(), &audit).await?.ok_or(AppError::NotFound(IDP))
    }

    /// Soft-deletes.
    pub async fn delete(&self, ctx: &RequestContext, id: IdentityProviderId) -> Result<(), AppError> {
        let existing = self.visible(ctx, id, Action::Write).await?;
        let audit =
            AuditRecord::success(&ctx.principal, &ctx.meta, action::IDENTITY_PROVIDER_DELETE, "identity_provider")
                .resource(id)
                .within(Some(existing.tenant_id), existing.partner_id);
        if self.repo.delete(id, self.clock.now(), &audit).await? { Ok(()) } else { Err(AppError::NotFound(IDP)) }
    }
}

/// MCP agents.
#[derive(Clone)]
pub struct AgentService {
    repo: Arc<dyn AgentRepository>,
    tenants: Arc<dyn TenantRepository>,
    secrets: Option<Arc<dyn crate::ports::ClientSecrets>>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

/// An agent's credentials, shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCredentials {
    /// Its client ID (stable across rotations).
    pub client_id: String,
    /// The new secret.
    pub client_secret: String,
}

impl std::fmt::Debug for AgentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentService")
    }
}

const AGENT: &str = "Agent";

impl AgentService {
    /// Wires the service.
    pub fn new(
        repo: Arc<dyn AgentRepository>,
        tenants: Arc<dyn TenantRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { repo, tenants, secrets: None, clock, ids }
    }

    /// Lets the service issue agent secrets.
    #[must_use]
    pub fn with_secrets(mut self, secrets: Arc<dyn crate::ports::ClientSecrets>) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Issues the agent a new secret (the old one stops working at once), and a client ID at the
    /// first rotation; audited as `agent.rotate_secret`. The secret is shown only here.
    pub async fn rotate_secret(&self, ctx: &RequestContext, id: AgentId) -> Result<AgentCredentials, AppError> {
        let secrets =
            self.secrets.as_ref().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no secret generator")))?;
        let existing = self.visible(ctx, id, Action::Write).await?;
        let (secret, digest) = secrets.generate().map_err(AppError::Internal)?;
        let client_id = existing.client_id.clone().unwrap_or_else(|| {
            format!("{}{}", crate::oauth::AGENT_CLIENT_PREFIX, self.ids.next().to_string().to_lowercase())
        });
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::AGENT_ROTATE_SECRET, "agent")
            .resource(id)
            .within(Some(existing.tenant_id), existing.partner_id);
        let client_id = self
            .repo
            .set_secret(id, &client_id, &digest, self.clock.now(), &audit)
            .await?
            .ok_or(AppError::NotFound(AGENT))?;
        Ok(AgentCredentials { client_id, client_secret: secret })
    }

    /// Creates an agent.
    pub async fn create(&self, ctx: &RequestContext, input: AgentInput) -> Result<Agent, AppError> {
        let r = reach(&ctx.principal, Action::Write).map_err(AppError::denied(AGENT))?;
        let fields = AgentFields::validate(&input, Write::Create)?;
        let tenant_id = fed::target_tenant(r, input.tenant_id.as_deref()).map_err(AppError::field)?;
        let tenant = UserService::writable_tenant(self.tenants.as_ref(), &ctx.principal, tenant_id, AGENT).await?;
        let id = AgentId::generate_from(self.ids.next());
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::AGENT_CREATE, "agent")
            .resource(id)
            .within(Some(tenant.id), tenant.partner_id);
        Ok(self.repo.insert(id, tenant_id, &fields, self.clock.now(), &audit).await?)
    }

    async fn visible(&self, ctx: &RequestContext, id: AgentId, action: Action) -> Result<Agent, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(AGENT))?;
        let a = self.repo.get(id).await?.ok_or(AppError::NotFound(AGENT))?;
        can(&ctx.principal, action, Target::Owned(&owner(a.tenant_id, a.partner_id)))
            .into_result()
            .map_err(AppError::denied(AGENT))?;
        Ok(a)
    }

    /// Reads one within reach.
    pub async fn get(&self, ctx: &RequestContext, id: AgentId) -> Result<Agent, AppError> {
        self.visible(ctx, id, Action::Read).await
    }

    /// Lists those within reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &AgentFilter,
        page: PageRequest,
    ) -> Result<Page<Agent>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(AGENT))?;
        Ok(self.repo.list(r, filter, page).await?)
    }

    /// Applies a PATCH.
    pub async fn update(&self, ctx: &RequestContext, id: AgentId, input: AgentInput) -> Result<Agent, AppError> {
        input.fixed_fields_untouched().map_err(AppError::field)?;
        let fields = AgentFields::validate(&input, Write::Update)?;
        let existing = self.visible(ctx, id, Action::Write).await?;
        if fields == AgentFields::default() {
            return Ok(existing);
        }
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::AGENT_UPDATE, "agent")
            .resource(id)
            .within(Some(existing.tenant_id), existing.partner_id);
        self.repo.update(id, &fields, self.clock.now(), &audit).await?.ok_or(AppError::NotFound(AGENT))
    }

    /// Soft-deletes.
    pub async fn delete(&self, ctx: &RequestContext, id: AgentId) -> Result<(), AppError> {
        let existing = self.visible(ctx, id, Action::Write).await?;
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::AGENT_DELETE, "agent")
            .resource(id)
            .within(Some(existing.tenant_id), existing.partner_id);
        if self.repo.delete(id, self.clock.now(), &audit).await? { Ok(()) } else { Err(AppError::NotFound(AGENT)) }
    }
}

#[cfg(test)]
mod tests;
