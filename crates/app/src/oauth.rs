//! The token endpoint's `client_credentials` grant (RFC 6749 §4.4) with RFC 8707 resource
//! indicators, and its errors (§5.2). Scope narrowing and the audience rule are the domain's
//! ([`scaikey_domain::oauth_scope`]).

use scaikey_domain::token_cutoff::TokenOwner;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::application::{Application, CLIENT_CREDENTIALS};
use scaikey_domain::audit::{ActorType, AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::ApplicationId;
use scaikey_domain::oauth_scope::{self, SCAIKEY_AUDIENCE};
use scaikey_domain::principal::{AgentPrincipal, ClientPrincipal, Principal};
use scaikey_domain::status::Status;
use serde_json::json;

use crate::ports::{
    AccessToken, AgentRepository, ApplicationWithDigest, AuditSink, ClientDirectory, ClientSecrets, Clock, IdGenerator,
    TokenCodec,
};
use crate::sync::lock;
use scaikey_domain::audit::action;

mod exchange;
pub use exchange::ExchangeRequest;

/// RFC 6749 §5.2 error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// Missing or duplicated parameter, or two client authentication methods.
    InvalidRequest(String),
    /// Unknown client, wrong secret, public or disabled client (HTTP 401).
    InvalidClient,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// A grant type ScaiKey does not serve here.
    UnsupportedGrantType,
    /// The code or refresh token is unknown, expired, used, revoked or not this client's.
    InvalidGrant(String),
    /// RFC 7009 §2.2.1: this kind of token cannot be revoked here.
    UnsupportedTokenType,
    /// A requested scope is not in the application's `allowed_scopes`.
    InvalidScope(String),
    /// A requested `resource` is malformed or not in the application's `allowed_resources`
    /// (RFC 8707 §2).
    InvalidTarget(String),
    /// The database cannot be reached (HTTP 503); the cause is logged.
    TemporarilyUnavailable,
    /// Storage or signing failed (HTTP 500); the cause is logged.
    ServerError,
}

impl OAuthError {
    /// The `error` value.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthError::ServerError => "server_error",
        }
    }

    /// The `error_description` value.
    #[must_use]
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidScope(d)
            | OAuthError::InvalidTarget(d)
            | OAuthError::InvalidGrant(d) => d.clone(),
            OAuthError::InvalidClient => "Client authentication failed".into(),
            OAuthError::UnauthorizedClient => "This client may not use this grant".into(),
            OAuthError::UnsupportedGrantType => {
                "Supported grants: authorization_code, refresh_token, client_credentials, \
                 urn:ietf:params:oauth:grant-type:token-exchange"
                    .into()
            }
            OAuthError::TemporarilyUnavailable => "The service is temporarily unavailable; try again".into(),
            OAuthError::UnsupportedTokenType => {
                "Access tokens expire on their own; revoke the refresh token or end the session".into()
            }
            OAuthError::ServerError => "The server could not issue a token".into(),
        }
    }
}

/// An issued client token.
#[derive(Debug, Clone)]
pub struct ClientToken {
    /// The JWT.
    pub access_token: String,
    /// Seconds until expiry.
    pub expires_in: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The token's `aud`.
    pub audience: String,
}

/// Tokens issued to one client since the last [`OAuthService::flush_issued`].
#[derive(Debug)]
struct Issued {
    record: AuditRecord,
    tokens: u64,
    scopes: Vec<String>,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

/// Issues client-credentials tokens.
///
/// Auditing: a refused request is one audit event each (a security signal). Issued tokens are
/// tallied per client and written as one `auth.token` success event per client per flush (the
/// server flushes every second and on shutdown) with the count, the scopes granted and the first
/// and last issue time: every token is accounted for, but the audit table grows with clients,
/// not with token traffic (one row per token would make it the token endpoint's bottleneck at
/// tens of thousands of tokens per second; see docs/decisions.md).
pub struct OAuthService {
    issued: Mutex<HashMap<ApplicationId, Issued>>,
    audit: Arc<dyn AuditSink>,
    apps: Arc<dyn ClientDirectory>,
    secrets: Arc<dyn ClientSecrets>,
    codec: Arc<dyn TokenCodec>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    revocations: Arc<crate::revocation::RevocationList>,
    agents: Option<AgentTokens>,
}

/// Where agents' tokens come from and what they are for.
#[derive(Clone)]
struct AgentTokens {
    repo: Arc<dyn AgentRepository>,
    /// `{issuer}/mcp`, the audience of every agent token.
    audience: String,
}

/// Client IDs of agents start with this (applications' with `ck_`).
pub const AGENT_CLIENT_PREFIX: &str = "ag_";
/// Lifetime of an agent's token: short, since the agent asks again with its secret.
pub const AGENT_TOKEN_SECONDS: i64 = 900;

impl std::fmt::Debug for OAuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OAuthService")
    }
}

impl OAuthService {
    /// Wires the service to its ports.
    pub fn new(
        apps: Arc<dyn ClientDirectory>,
        secrets: Arc<dyn ClientSecrets>,
        codec: Arc<dyn TokenCodec>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        audit: Arc<dyn AuditSink>,
        revocations: Arc<crate::revocation::RevocationList>,
    ) -> Self {
        Self { issued: Mutex::new(HashMap::new()), audit, apps, secrets, codec, clock, ids, revocations, agents: None }
    }

    /// Lets MCP agents get `client_credentials` tokens for `mcp_audience` (`{issuer}/mcp`).
    #[must_use]
    pub fn with_agents(mut self, repo: Arc<dyn AgentRepository>, mcp_audience: String) -> Self {
        self.agents = Some(AgentTokens { repo, audience: mcp_audience });
        self
    }

    /// An agent's token (contract §12): `sub` its client ID, `agent_id`, its tenant, the scopes
    /// asked for among its `allowed_scopes`, audience `{issuer}/mcp`. Unknown, wrongly
    /// authenticated, suspended agents and those of a suspended tenant are all `invalid_client`.
    async fn agent_token(
        &self,
        agents: &AgentTokens,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
        resources: &[&str],
        meta: &RequestMeta,
    ) -> Result<ClientToken, OAuthError> {
        let found = agents.repo.by_client_id(client_id).await.map_err(repo_error)?;
        let Some((agent, Some(digest))) = found else { return Err(OAuthError::InvalidClient) };
        if !self.secrets.verify(secret, &digest)
            || agent.status != Status::Active
            || self.revocations.is_blocked(TokenOwner::Tenant(agent.tenant_id))
            || agent.partner_id.is_some_and(|p| self.revocations.is_blocked(TokenOwner::Partner(p)))
        {
            tracing::info!(client_id, "agent token refused");
            return Err(OAuthError::InvalidClient);
        }
        if resources.iter().any(|r| *r != agents.audience) {
            return Err(OAuthError::InvalidTarget(format!("Agent tokens are for {} only", agents.audience)));
        }
        let granted =
            oauth_scope::narrow(scope, &agent.allowed_scopes).map_err(|r| OAuthError::InvalidScope(r.describe()))?;
        let now = self.clock.now();
        let principal = Principal::Agent(AgentPrincipal {
            agent_id: agent.id,
            client_id: client_id.to_string(),
            tenant_id: agent.tenant_id,
            partner_id: agent.partner_id,
            scopes: granted.clone(),
        });
        let token = AccessToken {
            principal: principal.clone(),
            scope: granted.clone(),
            audience: agents.audience.clone(),
            client_id: None,
            jti: self.ids.next(),
            issued_at: now,
            expires_at: now + Duration::seconds(AGENT_TOKEN_SECONDS),
            act: None,
        };
        let jwt = self.codec.sign(&token).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            OAuthError::ServerError
        })?;
        self.audit.submit(
            AuditRecord::success(&principal, meta, action::AUTH_TOKEN, "token")
                .within(Some(agent.tenant_id), agent.partner_id)
                .details(json!({"grant_type": "client_credentials", "client_id": client_id, "scope": granted})),
            now,
        );
        Ok(ClientToken {
            access_token: jwt,
            expires_in: AGENT_TOKEN_SECONDS,
            scope: granted.join(" "),
            audience: agents.audience.clone(),
        })
    }

    /// Authenticates the client and issues a token for `scope` (space-separated; all allowed
    /// scopes when absent) meant for `resources` (RFC 8707; at most one distinct, from the
    /// client's `allowed_resources`; ScaiKey's own APIs when none). Issued and refused tokens
    /// are audited (never the secret or token).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
        resources: &[&str],
        meta: &RequestMeta,
    ) -> Result<ClientToken, OAuthError> {
        if let Some(agents) = self.agents.as_ref().filter(|_| client_id.starts_with(AGENT_CLIENT_PREFIX)) {
            let result = self.agent_token(agents, client_id, secret, scope, resources, meta).await;
            if let Err(e) = &result {
                self.audit.submit(
                    AuditRecord::anonymous(meta, action::AUTH_TOKEN, "token", AuditResult::Failure).details(
                        json!({"grant_type": "client_credentials", "client_id": client_id, "error": e.code()}),
                    ),
                    self.clock.now(),
                );
            }
            return result;
        }
        let result = self.issue(client_id, secret, scope, resources).await;
        match &result {
            Ok((found, t)) => self.tally(&found.0, t, client_id, meta),
            Err(e) => self.audit.submit(
                AuditRecord::anonymous(meta, action::AUTH_TOKEN, "token", AuditResult::Failure)
                    .details(json!({"grant_type": "client_credentials", "client_id": client_id, "error": e.code()})),
                self.clock.now(),
            ),
        }
        result.map(|(_, t)| t)
    }

    fn tally(&self, app: &Application, t: &ClientToken, client_id: &str, meta: &RequestMeta) {
        let now = self.clock.now();
        let mut issued = lock(&self.issued);
        let entry = issued.entry(app.id).or_insert_with(|| Issued {
            record: AuditRecord {
                actor_type: ActorType::Application,
                actor_id: Some(app.id.to_string()),
                ..AuditRecord::anonymous(meta, action::AUTH_TOKEN, "token", AuditResult::Success)
            }
            .resource(app.id)
            .within(app.tenant_id, app.partner_id)
            .details(json!({"grant_type": "client_credentials", "client_id": client_id})),
            tokens: 0,
            scopes: Vec::new(),
            first_at: now,
            last_at: now,
        });
        entry.tokens += 1;
        entry.last_at = now;
        for s in t.scope.split_whitespace() {
            if !entry.scopes.iter().any(|x| x == s) {
                entry.scopes.push(s.to_string());
            }
        }
        if t.audience != SCAIKEY_AUDIENCE
            && let Some(d) = entry.record.details.as_object_mut()
        {
            let auds = d.entry("audiences").or_insert_with(|| json!([]));
            if let Some(a) = auds.as_array_mut()
                && !a.iter().any(|x| x == &json!(t.audience))
            {
                a.push(json!(t.audience));
            }
        }
    }

    /// Writes one audit event per client that was issued tokens since the last call. Returns the
    /// number of events written.
    pub fn flush_issued(&self) -> usize {
        let now = self.clock.now();
        let drained: Vec<Issued> = lock(&self.issued).drain().map(|(_, v)| v).collect();
        let n = drained.len();
        for i in drained {
            let mut details = i.record.details.clone();
            if let Some(d) = details.as_object_mut() {
                d.insert("tokens".into(), json!(i.tokens));
                d.insert("scope".into(), json!(i.scopes.join(" ")));
                d.insert("first_issued_at".into(), json!(i.first_at.to_rfc3339()));
                d.insert("last_issued_at".into(), json!(i.last_at.to_rfc3339()));
            }
            // Stamped when written: the window it sums up ends then (details hold its bounds).
            self.audit.submit(AuditRecord { details, ..i.record }, now);
        }
        n
    }

    async fn issue(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
        resources: &[&str],
    ) -> Result<(ApplicationWithDigest, ClientToken), OAuthError> {
        let found = authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), client_id, Some(secret)).await?;
        let app = &found.0;
        if !app.grant_types.iter().any(|g| g == CLIENT_CREDENTIALS) {
            return Err(OAuthError::UnauthorizedClient);
        }
        // An application of a suspended or deleted tenant or partner gets nothing (its tokens
        // would be refused anyway).
        let blocked = app.tenant_id.is_some_and(|t| self.revocations.is_blocked(TokenOwner::Tenant(t)))
            || app.partner_id.is_some_and(|p| self.revocations.is_blocked(TokenOwner::Partner(p)));
        if blocked {
            return Err(OAuthError::InvalidClient);
        }
        let granted =
            oauth_scope::narrow(scope, &app.allowed_scopes).map_err(|r| OAuthError::InvalidScope(r.describe()))?;
        let audience = oauth_scope::audience(resources, &app.allowed_resources, SCAIKEY_AUDIENCE)
            .map_err(|r| OAuthError::InvalidTarget(r.describe()))?;
        let now = self.clock.now();
        let token = AccessToken {
            principal: Principal::Client(ClientPrincipal {
                app_id: app.id,
                client_id: app.client_id.clone(),
                scope_level: app.scope,
                tenant_id: app.tenant_id,
                partner_id: app.partner_id,
                scopes: granted.clone(),
            }),
            scope: granted.clone(),
            audience: audience.clone(),
            client_id: None,
            jti: self.ids.next(),
            issued_at: now,
            expires_at: now + Duration::seconds(app.token_lifetime),
            act: None,
        };
        let jwt = self.codec.sign(&token).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            OAuthError::ServerError
        })?;
        let token =
            ClientToken { access_token: jwt, expires_in: app.token_lifetime, scope: granted.join(" "), audience };
        Ok((found.clone(), token))
    }
}

/// A failure of the token endpoint's own (logged; the client sees `server_error`).
pub(crate) fn server_error(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "token endpoint failure");
    OAuthError::ServerError
}

/// A storage failure at the token endpoint, classified as everywhere ([`crate::AppError`]'s
/// `From<RepoError>`) and rendered as RFC 6749 says.
pub(crate) fn repo_error(e: crate::error::RepoError) -> OAuthError {
    OAuthError::from(crate::AppError::from(e))
}

/// A service error met at the token endpoint, as RFC 6749 answers it: a lost dependency is
/// `temporarily_unavailable` (503), anything else the client cannot fix is `server_error`
/// (500, logged).
impl From<crate::AppError> for OAuthError {
    fn from(e: crate::AppError) -> Self {
        match e {
            crate::AppError::Unavailable(_) => OAuthError::TemporarilyUnavailable,
            other => server_error(other),
        }
    }
}

/// Authenticates a client at the token endpoint: a confidential client by its secret; a public
/// client (no secret stored) only when `secret` is `None` and it is allowed for the grant (the
/// caller decides: the code and refresh grants, where PKCE and the token binding prove it).
/// Unknown, suspended or wrongly authenticated clients are all `invalid_client`.
pub(crate) async fn authenticate_client(
    apps: &dyn ClientDirectory,
    secrets: &dyn ClientSecrets,
    client_id: &str,
    secret: Option<&str>,
) -> Result<ApplicationWithDigest, OAuthError> {
    let found = apps.by_client_id(client_id).await.map_err(repo_error)?;
    let Some(found) = found else {
        tracing::info!(client_id, reason = "unknown client", "token refused");
        return Err(OAuthError::InvalidClient);
    };
    let (app, digest) = &*found;
    match (digest, secret) {
        (Some(d), Some(s)) if secrets.verify(s, d) => {}
        (None, None) => {}
        (Some(_), Some(_)) => {
            tracing::info!(client_id, reason = "wrong secret", "token refused");
            return Err(OAuthError::InvalidClient);
        }
        (Some(_), None) => {
            tracing::info!(client_id, reason = "no secret", "token refused");
            return Err(OAuthError::InvalidClient);
        }
        (None, Some(_)) => {
            tracing::info!(client_id, reason = "public client sent a secret", "token refused");
            return Err(OAuthError::InvalidClient);
        }
    }
    if app.status != Status::Active {
        tracing::info!(client_id, reason = "application suspended", "token refused");
        return Err(OAuthError::InvalidClient);
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
