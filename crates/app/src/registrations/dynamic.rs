//! Dynamic client registration (RFC 7591) and its read endpoint (RFC 7592), contract §12: a
//! registration becomes a registration request in the admin queue, for a public third-party
//! application whose client ID is answered at once and works once approved — at once under
//! `SCAIKEY_DCR_POLICY=auto` for clients asking only for sign-in scopes and the MCP resource.
//! The metadata rules are the domain's [`scaikey_domain::dcr`]; the request's fields are checked
//! like any other registration request's.

use chrono::Duration;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::dcr::{self, ClientMetadata, DcrPolicy};
use scaikey_domain::id::{RegistrationRequestId, TenantId};
use scaikey_domain::registration::{NewRegistration, RegistrationRequest};
use serde_json::json;

use super::{RegistrationInput, RegistrationService};
use crate::applications::new_client_id;
use crate::error::AppError;
use crate::ports::{DynamicClient, RegistrationRecord, TenantFilter};
use scaikey_domain::audit::action;

/// How dynamic registration behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcrSettings {
    /// `SCAIKEY_DCR_POLICY`.
    pub policy: DcrPolicy,
    /// `{issuer}/mcp`.
    pub mcp_resource: String,
    /// `{issuer}/oauth/register` (the base of `registration_client_uri`).
    pub endpoint: String,
    /// `SCAIKEY_CIMD=on`: URL client IDs name client metadata documents.
    pub cimd: bool,
}

/// Where a dynamically registered client's metadata came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An RFC 7591 registration: ScaiKey chooses the client ID.
    Registration,
    /// A client ID metadata document: its URL is the client ID.
    Document(String),
}

/// Why a registration is refused.
#[derive(Debug)]
pub enum DcrError {
    /// RFC 7591 `invalid_client_metadata` (or `invalid_redirect_uri`), with its description.
    InvalidMetadata(&'static str, String),
    /// Too many registrations from this IP.
    RateLimited,
    /// A server failure.
    Failed(AppError),
}

impl From<AppError> for DcrError {
    fn from(e: AppError) -> Self {
        DcrError::Failed(e)
    }
}

/// A registered client as answered (RFC 7591 §3.2.1 / RFC 7592 §3).
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// The request in the queue.
    pub request: RegistrationRequest,
    /// The client ID.
    pub client_id: String,
    /// The registration access token (only when just registered).
    pub registration_access_token: Option<String>,
    /// `{endpoint}/{client_id}`.
    pub registration_client_uri: String,
}

impl RegistrationService {
    async fn tenant_named(
        &self,
        name: &str,
    ) -> Result<Option<(TenantId, Option<scaikey_domain::id::PartnerId>)>, AppError> {
        if let Ok(id) = name.parse::<TenantId>() {
            return Ok(self.tenants.get(id).await?.map(|t| (t.id, t.partner_id)));
        }
        let page = crate::page::PageRequest::new(Some(1), Some(100)).map_err(AppError::Invalid)?;
        let filter = TenantFilter { search: Some(name.to_string()), ..TenantFilter::default() };
        let found = self.tenants.list(scaikey_domain::access::Reach::Platform, &filter, page).await?;
        Ok(found.items.into_iter().find(|t| t.slug == name).map(|t| (t.id, t.partner_id)))
    }

    /// RFC 7591 registration from `meta.ip`.
    pub async fn register_client(
        &self,
        body: &serde_json::Value,
        meta: &RequestMeta,
        settings: &DcrSettings,
    ) -> Result<RegisteredClient, DcrError> {
        let m = ClientMetadata::read(body).map_err(|e| DcrError::InvalidMetadata("invalid_client_metadata", e))?;
        self.register(m, Source::Registration, meta, settings).await
    }

    /// Registers a client from its metadata (a registration's, or a metadata document's) as a
    /// registration request, approved at once when the policy says so. The per-IP limit counts
    /// both kinds.
    pub(crate) async fn register(
        &self,
        m: ClientMetadata,
        source: Source,
        meta: &RequestMeta,
        settings: &DcrSettings,
    ) -> Result<RegisteredClient, DcrError> {
        let now = self.clock.now();
        if let Some(ip) = meta.ip.as_deref() {
            let recent = self
                .repo
                .dynamic_registrations_from(ip, now - Duration::minutes(dcr::IP_WINDOW_MINUTES))
                .await
                .map_err(AppError::from)?;
            if !dcr::ip_may_register(recent) {
                return Err(DcrError::RateLimited);
            }
        }
        let (scope, tenant_id) = match m.tenant.as_deref() {
            Some(t) => match self.tenant_named(t).await? {
                Some((id, _)) => ("TENANT", Some(id.to_string())),
                None => {
                    return Err(DcrError::InvalidMetadata(
                        "invalid_client_metadata",
                        "scaikey_tenant names no tenant".into(),
                    ));
                }
            },
            None => ("GLOBAL", None),
        };
        let contact = m
            .contact
            .as_deref()
            .map(|c| c.trim_start_matches("mailto:"))
            .filter(|c| scaikey_domain::validation::email("contact_email", c).is_ok())
            .unwrap_or("unknown@dcr.invalid")
            .to_string();
        let input = RegistrationInput {
            scope: Some(scope.into()),
            tenant_id,
            name: Some(m.client_name.clone()),
            description: Some(match &source {
                Source::Registration => "Registered through dynamic client registration (RFC 7591)".into(),
                Source::Document(_) => "Registered from its client ID metadata document".into(),
            }),
            application_type: Some(m.application_type.into()),
            redirect_uris: Some(m.redirect_uris.clone()),
            requested_scopes: Some(m.scopes.clone()),
            // Registered clients are MCP clients first: they may ask tokens for `/mcp`.
            requested_resources: Some(if m.resources.is_empty() {
                vec![settings.mcp_resource.clone()]
            } else {
                m.resources.clone()
            }),
            grant_types: Some(m.grant_types.clone()),
            contact_email: Some(contact),
            website_url: m.client_uri.clone(),
            ..RegistrationInput::default()
        };
        let valid = match NewRegistration::validate(&input) {
            Ok(v) => v,
            Err(errs) => {
                let redirect = errs.errors().iter().any(|e| e.loc.first().is_some_and(|l| l == "redirect_uris"));
                let text: Vec<String> =
                    errs.errors().iter().map(|e| format!("{}: {}", e.loc.join("."), e.msg)).collect();
                let code = if redirect { "invalid_redirect_uri" } else { "invalid_client_metadata" };
                return Err(DcrError::InvalidMetadata(code, text.join("; ")));
            }
        };
        let tenant = valid.tenant_id;
        let partner = match tenant {
            Some(t) => self.tenants.get(t).await.map_err(AppError::from)?.and_then(|x| x.partner_id),
            None => None,
        };
        let client_id = match &source {
            Source::Registration => new_client_id(self.ids.as_ref()),
            Source::Document(url) => url.clone(),
        };
        // A document client gets no registration access token (nothing to read it with): the
        // digest stored is of a token nobody is given.
        let (token, digest) = self.secrets.generate().map_err(AppError::Internal)?;
        let token = (source == Source::Registration).then_some(token);
        let created_by = if source == Source::Registration { "dcr" } else { "cimd" };
        let id = RegistrationRequestId::generate_from(self.ids.next());
        let reserved = DynamicClient { client_id: client_id.clone(), token_digest: digest, ip: meta.ip.clone() };
        let record = RegistrationRecord {
            request: NewRegistration { partner_id: partner, ..valid },
            created_by: created_by.into(),
            expires_at: now + self.ttl,
            dynamic: Some(reserved),
        };
        let audit =
            AuditRecord::anonymous(meta, action::REGISTRATION_CREATE, "registration_request", AuditResult::Success)
                .resource(id)
                .within(tenant, partner)
                .details(json!({"dynamic": true, "client_id": client_id, "source": created_by}));
        let mut request = self.repo.insert(id, &record, now, &audit).await.map_err(AppError::from)?;
        if settings.policy.approves_at_once(
            &request.settings.allowed_scopes,
            &request.settings.allowed_resources,
            &settings.mcp_resource,
        ) {
            let audit = AuditRecord::anonymous(
                meta,
                action::REGISTRATION_APPROVE,
                "registration_request",
                AuditResult::Success,
            )
            .resource(id)
            .within(tenant, partner)
            .details(json!({"policy": "auto"}));
            request = self.approval(&request, "dcr-policy:auto".into(), None, &audit).await?.request;
        }
        Ok(RegisteredClient {
            request,
            registration_client_uri: format!("{}/{client_id}", settings.endpoint),
            client_id,
            registration_access_token: token,
        })
    }

    /// RFC 7592 read: the client's registration, for the holder of its registration access
    /// token; `None` for an unknown client or a wrong token (the same answer).
    pub async fn read_client(
        &self,
        client_id: &str,
        token: &str,
        settings: &DcrSettings,
    ) -> Result<Option<RegisteredClient>, AppError> {
        let Some((request, d)) = self.repo.by_dynamic_client_id(client_id).await? else { return Ok(None) };
        if !self.secrets.verify(token, &d.token_digest) {
            return Ok(None);
        }
        Ok(Some(RegisteredClient {
            request: self.effective(request),
            registration_client_uri: format!("{}/{client_id}", settings.endpoint),
            client_id: d.client_id,
            registration_access_token: None,
        }))
    }
}
