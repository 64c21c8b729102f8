//! Identity providers (OIDC, SAML) and MCP agents: tenant-scoped resources within reach.

use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Reach, Target, can, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federated;
use scaikey_domain::federation::{self as fed, Agent, IdentityProvider, Protocol};
use scaikey_domain::id::{AgentId, IdentityProviderId, TenantId};
use scaikey_domain::status::Status;
use scaikey_domain::validation::{self as v, FieldError, ValidationErrors};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    AgentFields, AgentFilter, AgentRepository, Clock, IdGenerator, IdpFields, IdpFilter, IdpRepository, SecretSealer,
    TenantRepository,
};
use crate::users::UserService;
use scaikey_domain::audit::action;

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

fn owner(tenant: TenantId, partner: Option<scaikey_domain::id::PartnerId>) -> Owner {
    Owner::Tenant { tenant, partner }
}

/// The tenant a new resource goes to: given, or the tenant admin's own.
fn target_tenant(r: Reach, given: Option<&str>) -> Result<TenantId, AppError> {
    match (given.map(str::trim).filter(|t| !t.is_empty()), r) {
        (Some(t), _) => v::id::<TenantId>("tenant_id", t).map_err(AppError::field),
        (None, Reach::Tenant { tenant, .. }) => Ok(tenant),
        (None, _) => Err(AppError::field(FieldError::missing("tenant_id"))),
    }
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

/// Validates identity-provider fields for `protocol`; `creating` requires the protocol's
/// mandatory fields.
fn idp_fields(
    input: &IdpInput,
    protocol: Protocol,
    creating: bool,
    loopback_allowed: bool,
) -> Result<(IdpFields, Option<Option<String>>), ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
    if creating && input.name.is_none() {
        errs.push(FieldError::missing("name"));
    }
    let issuer = opt_field(&mut errs, &input.issuer, |s| federated::upstream_url("issuer", s, loopback_allowed));
    let client_id = opt_field(&mut errs, &input.client_id, |s| fed::ident("client_id", s));
    let entity_id = opt_field(&mut errs, &input.entity_id, |s| fed::ident("entity_id", s));
    let sso_url = opt_field(&mut errs, &input.sso_url, |s| federated::upstream_url("sso_url", s, loopback_allowed));
    let attribute_mapping = match &input.attribute_mapping {
        None => None,
        Some(None) => Some(Default::default()),
        Some(Some(m)) => errs.take(federated::attribute_mapping(m)),
    };
    let certificate = opt_field(&mut errs, &input.certificate, |s| fed::certificate("certificate", s));
    let secret = match &input.client_secret {
        Some(Some(s)) if s.is_empty() || s.len() > MAX_SECRET_LEN => {
            errs.push(FieldError::new("client_secret", "string_too_long", format!("1 to {MAX_SECRET_LEN} characters")));
            None
        }
        other => other.clone(),
    };
    let scopes = match &input.scopes {
        Some(s) => fed::names(&mut errs, "scopes", s),
        None if creating && protocol == Protocol::Oidc => Some(DEFAULT_OIDC_SCOPES.map(String::from).to_vec()),
        None => None,
    };
    let present = |f: &str| match f {
        "issuer" => input.issuer.is_some(),
        "client_id" => input.client_id.is_some(),
        "client_secret" => input.client_secret.is_some(),
        "scopes" => input.scopes.is_some(),
        "entity_id" => input.entity_id.is_some(),
        "sso_url" => input.sso_url.is_some(),
        _ => input.certificate.is_some(),
    };
    let nulled = |f: &str| match f {
        "issuer" => input.issuer == Some(None),
        "client_id" => input.client_id == Some(None),
        "entity_id" => input.entity_id == Some(None),
        "sso_url" => input.sso_url == Some(None),
        _ => input.certificate == Some(None),
    };
    let (required, foreign): (&[&str], &[&str]) = match protocol {
        Protocol::Oidc => (&["issuer", "client_id"], &["entity_id", "sso_url", "certificate"]),
        Protocol::Saml => {
            (&["entity_id", "sso_url", "certificate"], &["issuer", "client_id", "client_secret", "scopes"])
        }
    };
    for &f in required {
        if (creating && !present(f)) || nulled(f) {
            errs.push(FieldError::new(f, "missing", format!("{} identity providers need {f}", protocol.as_str())));
        }
    }
    for &f in foreign {
        if present(f) {
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
    Ok((
        IdpFields {
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
            attribute_mapping: attribute_mapping.or(creating.then(Default::default)),
        },
        secret,
    ))
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
        let protocol = match input.protocol.as_deref() {
            Some(p) => v::one_of("protocol", p, &Protocol::ALL, Protocol::as_str).map_err(AppError::field)?,
            None => return Err(AppError::field(FieldError::missing("protocol"))),
        };
        let (mut fields, secret) = idp_fields(&input, protocol, true, self.loopback_allowed)?;
        let tenant_id = target_tenant(r, input.tenant_id.as_deref())?;
        let tenant = UserService::writable_tenant(self.tenants.as_ref(), &ctx.principal, tenant_id).await?;
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
        if input.protocol.is_some() || input.tenant_id.is_some() {
            let f = if input.protocol.is_some() { "protocol" } else { "tenant_id" };
            return Err(AppError::field(FieldError::new(f, "value_error", "This field cannot change after creation")));
        }
        let existing = self.visible(ctx, id, Action::Write).await?;
        let (mut fields, secret) = idp_fields(&input, existing.protocol, false, self.loopback_allowed)?;
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

fn agent_fields(input: &AgentInput, creating: bool) -> Result<AgentFields, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    if creating && input.name.is_none() {
        errs.push(FieldError::missing("name"));
    }
    let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
    let description = input
        .description
        .as_ref()
        .and_then(|d| errs.take(v::optional_text("description", d.as_deref(), v::MAX_DESCRIPTION_LEN)));
    let allowed_tools = input.allowed_tools.as_ref().and_then(|t| fed::names(&mut errs, "allowed_tools", t));
    let allowed_scopes = input
        .allowed_scopes
        .as_ref()
        .and_then(|s| scaikey_domain::oauth_scope::scope_list(&mut errs, "allowed_scopes", s));
    let rate_limit_rpm = input.rate_limit_rpm.and_then(|r| errs.take(fed::rate_limit(r)));
    let status = input.status.as_deref().and_then(|s| errs.take(v::one_of("status", s, &Status::ALL, Status::as_str)));
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
        let fields = agent_fields(&input, true)?;
        let tenant_id = target_tenant(r, input.tenant_id.as_deref())?;
        let tenant = UserService::writable_tenant(self.tenants.as_ref(), &ctx.principal, tenant_id).await?;
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
        if input.tenant_id.is_some() {
            return Err(AppError::field(FieldError::new(
                "tenant_id",
                "value_error",
                "An agent cannot move to another tenant",
            )));
        }
        let fields = agent_fields(&input, false)?;
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
