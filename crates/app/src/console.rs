//! The web console's sign-in (contract §13): the console is a first-party OpenID Connect client
//! of ScaiKey itself (`scaikey-console`, created on start-up), signing admins in through the
//! authorization endpoint with code + PKCE like any application. Its session is the SSO
//! session the sign-in used: each console request is the admin acting through that session,
//! with the roles the user holds now, and it ends when the SSO session ends.

use std::sync::Arc;

use scaikey_domain::application::{ApplicationType, ClientSettingsInput};
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::id::{SessionId, UserId};
use scaikey_domain::principal::Principal;

use crate::auth::AuthService;
use crate::context::RequestContext;
use crate::error::AppError;
use crate::oauth::OAuthError;
use crate::oidc::OidcService;
use crate::ports::{AccessToken, ApplicationRepository, IdGenerator, SecretSealer, TokenCodec};

/// Associated data of sealed console cookies.
const COOKIE_AAD: &[u8] = b"scaikey/console/v1";

/// The console's client ID.
pub const CLIENT_ID: &str = scaikey_domain::application::CONSOLE_CLIENT_ID;

/// Who is signed in to the console: the SSO session and its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The SSO session the sign-in used.
    pub session_id: SessionId,
    /// Its user.
    pub user_id: UserId,
}

/// The console's sign-in.
pub struct ConsoleService {
    oidc: Arc<OidcService>,
    auth: Arc<AuthService>,
    codec: Arc<dyn TokenCodec>,
    sealer: Arc<dyn SecretSealer>,
    callback: String,
}

impl std::fmt::Debug for ConsoleService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleService").field("callback", &self.callback).finish_non_exhaustive()
    }
}

impl ConsoleService {
    /// Wires it; the callback is `{issuer}/console/callback`.
    pub fn new(
        oidc: Arc<OidcService>,
        auth: Arc<AuthService>,
        codec: Arc<dyn TokenCodec>,
        sealer: Arc<dyn SecretSealer>,
    ) -> Self {
        let callback = format!("{}/console/callback", oidc.issuer().trim_end_matches('/'));
        Self { oidc, auth, codec, sealer, callback }
    }

    /// The console cookie's value for `s`: sealed under the master key, so it cannot be made
    /// for someone else's session.
    pub fn seal(&self, s: ConsoleSession) -> Result<String, AppError> {
        crate::sealed::seal(self.sealer.as_ref(), format!("{}~{}", s.session_id, s.user_id).as_bytes(), COOKIE_AAD)
    }

    /// Opens a console cookie; `None` when tampered with or foreign.
    #[must_use]
    pub fn open(&self, value: &str) -> Option<ConsoleSession> {
        let plain = String::from_utf8(crate::sealed::open(self.sealer.as_ref(), value, COOKIE_AAD)?).ok()?;
        let (session, user) = plain.split_once('~')?;
        Some(ConsoleSession { session_id: session.parse().ok()?, user_id: user.parse().ok()? })
    }

    /// The console's redirect URI.
    #[must_use]
    pub fn callback(&self) -> &str {
        &self.callback
    }

    /// Creates the console's client when it is missing (start-up; any process may race another:
    /// a duplicate client ID is the other's success). A GLOBAL public client (PKCE), first
    /// party, whose one redirect URI is the console's callback.
    pub async fn ensure_client(
        clients: &dyn crate::ports::ClientDirectory,
        apps: &dyn ApplicationRepository,
        ids: &dyn IdGenerator,
        issuer: &str,
    ) -> Result<(), AppError> {
        let base = issuer.trim_end_matches('/');
        // The same rules as any application's: an issuer that is neither https nor loopback
        // gets no console (its callback would be refused).
        let settings = ClientSettingsInput {
            application_type: ApplicationType::Spa,
            redirect_uris: vec![format!("{base}/console/callback")],
            post_logout_redirect_uris: vec![format!("{base}/console")],
            allowed_origins: vec![],
            allowed_scopes: vec!["openid".into()],
            allowed_resources: vec![],
            grant_types: vec!["authorization_code".into()],
        };
        let b = crate::built_in::BuiltIn {
            client_id: CLIENT_ID,
            name: "ScaiKey console",
            description: "The admin console served by ScaiKey itself",
            settings,
            token_lifetime: 300,
        };
        crate::built_in::ensure(clients, apps, ids, b).await
    }

    /// Redeems the callback's code (PKCE `verifier`): the session and user it signed in.
    pub async fn finish(&self, code: &str, verifier: &str, meta: &RequestMeta) -> Result<ConsoleSession, AppError> {
        let tokens = self
            .oidc
            .authorization_code(CLIENT_ID, None, code, Some(&self.callback), Some(verifier), meta)
            .await
            .map_err(|e| match e {
                OAuthError::TemporarilyUnavailable => AppError::Unavailable(anyhow::anyhow!("storage")),
                // A fault of ours (storage, signing; logged where it happened) is no refused
                // sign-in: the admin gets the error page of a 500, not "try again".
                OAuthError::ServerError => AppError::Internal(anyhow::anyhow!("the console's code redemption failed")),
                _ => AppError::Unauthenticated("The sign-in could not be completed"),
            })?;
        let token: AccessToken = self
            .codec
            .verify_any_audience(&tokens.access_token)
            .map_err(|_| AppError::Unauthenticated("The sign-in could not be completed"))?;
        match token.principal {
            Principal::User(u) => Ok(ConsoleSession { session_id: u.session_id, user_id: u.user_id }),
            _ => Err(AppError::Unauthenticated("The sign-in could not be completed")),
        }
    }

    /// The admin a console session acts as now: its SSO session still live (not revoked, not
    /// expired), its user still active, with the roles the user holds now. `Ok(None)` when the
    /// session ended; `Denied` when the user is no admin.
    pub async fn context(&self, s: ConsoleSession, meta: &RequestMeta) -> Result<Option<RequestContext>, AppError> {
        let Some(session) = self.oidc.live_session(s.session_id).await? else { return Ok(None) };
        if session.user_id != s.user_id {
            return Ok(None);
        }
        let Some(user) = self.auth.candidate(s.user_id).await? else { return Ok(None) };
        if user.roles.is_empty() {
            return Err(AppError::Denied(scaikey_domain::access::Denial::Forbidden, "Console"));
        }
        let principal = crate::auth::principal_of(&user, s.session_id);
        Ok(Some(RequestContext { principal, meta: meta.clone() }))
    }
}

#[cfg(test)]
mod tests;
