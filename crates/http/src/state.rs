//! Shared state of the HTTP layer.

use std::sync::Arc;

use async_trait::async_trait;
use scaikey_app::applications::ApplicationService;
use scaikey_app::audit::AuditService;
use scaikey_app::auth::AuthService;
use scaikey_app::federation::{AgentService, IdpService};
use scaikey_app::groups::GroupService;
use scaikey_app::oauth::OAuthService;
use scaikey_app::partners::PartnerService;
use scaikey_app::ports::AuditSink;
use scaikey_app::registrations::RegistrationService;
use scaikey_app::sessions::SessionService;
use scaikey_app::tenants::TenantService;
use scaikey_app::users::UserService;

/// Whether the process can serve (database reachable); answers `/readyz`.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `true` when dependencies answer.
    async fn ready(&self) -> bool;
}

/// Everything handlers need; built once by the binary.
#[derive(Clone)]
pub struct AppState {
    /// Dynamic client registration (RFC 7591).
    pub dcr: scaikey_app::registrations::DcrSettings,
    /// Login and token verification.
    pub auth: Arc<AuthService>,
    /// Partner administration.
    pub partners: PartnerService,
    /// Tenant administration.
    pub tenants: TenantService,
    /// User administration.
    pub users: UserService,
    /// Group administration.
    pub groups: GroupService,
    /// Session administration.
    pub sessions: SessionService,
    /// Applications.
    pub applications: ApplicationService,
    /// Registration requests.
    pub registrations: RegistrationService,
    /// The token endpoint's client-credentials grant.
    pub oauth: Arc<OAuthService>,
    /// The OpenID Connect provider (code and refresh grants, userinfo).
    pub oidc: Arc<scaikey_app::oidc::OidcService>,
    /// Identity providers.
    pub identity_providers: IdpService,
    /// MCP agents.
    pub agents: AgentService,
    /// Audit log and dashboard.
    pub audit: Arc<AuditService>,
    /// Where refused writes and authentication events are recorded.
    pub audit_sink: Arc<dyn AuditSink>,
    /// Prometheus metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Signing keys: the JWKS, listing and rotation.
    pub keys: scaikey_app::keys::KeyService,
    /// Token issuer and discovery base.
    pub issuer: String,
    /// `alg` of issued tokens.
    pub signing_alg: &'static str,
    /// Algorithms ID tokens may be signed with.
    pub id_token_algs: Vec<&'static str>,
    /// `/readyz` probe.
    pub readiness: Arc<dyn Readiness>,
    /// Serve `/openapi.json` (not in production).
    pub expose_openapi: bool,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: scaikey_domain::client_ip::TrustedProxies,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}
