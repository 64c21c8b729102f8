//! Token exchange (RFC 8693, contract §12) at `/oauth/token`: an application allowed to
//! exchange turns an access token meant for it into one for a resource it may call, speaking for
//! the same subject with an `act` claim naming who acts (the actor token's subject, or the
//! application itself), nested when the subject token already had one. The rules are the
//! domain's [`scaikey_domain::delegation`].

use chrono::Duration;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::delegation::{self, ACCESS_TOKEN_TYPE, Actor, Exchanger, TOKEN_EXCHANGE};
use scaikey_domain::oauth_scope;
use serde_json::json;

use super::{ClientToken, OAuthError, OAuthService, authenticate_client};
use crate::ports::AccessToken;
use scaikey_domain::audit::action;

/// What the client sent.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeRequest<'a> {
    /// The authenticated client.
    pub client_id: &'a str,
    /// Its secret (token exchange is for confidential clients).
    pub secret: &'a str,
    /// `subject_token`.
    pub subject_token: &'a str,
    /// `subject_token_type`.
    pub subject_token_type: &'a str,
    /// `actor_token`, with its `actor_token_type`.
    pub actor_token: Option<(&'a str, Option<&'a str>)>,
    /// `scope`.
    pub scope: Option<&'a str>,
    /// `resource` and `audience` values (RFC 8693 §2.1: both name the target).
    pub targets: &'a [&'a str],
}

impl OAuthService {
    fn verified(&self, token: &str, what: &str) -> Result<AccessToken, OAuthError> {
        let t = self
            .codec
            .verify_any_audience(token)
            .map_err(|r| OAuthError::InvalidGrant(format!("The {what} is not valid: {r}")))?;
        if self.revocations.refuses(&t) {
            return Err(OAuthError::InvalidGrant(format!("The {what} has been revoked")));
        }
        Ok(t)
    }

    /// Exchanges `req.subject_token`; audited as `auth.token_exchange` either way.
    pub async fn token_exchange(
        &self,
        req: &ExchangeRequest<'_>,
        meta: &RequestMeta,
    ) -> Result<ClientToken, OAuthError> {
        let result = self.exchange(req, meta).await;
        if let Err(e) = &result {
            self.audit.submit(
                AuditRecord::anonymous(meta, action::AUTH_TOKEN_EXCHANGE, "token", AuditResult::Failure)
                    .details(json!({"client_id": req.client_id, "error": e.code()})),
                self.clock.now(),
            );
        }
        result
    }

    async fn exchange(&self, req: &ExchangeRequest<'_>, meta: &RequestMeta) -> Result<ClientToken, OAuthError> {
        let found =
            authenticate_client(self.apps.as_ref(), self.secrets.as_ref(), req.client_id, Some(req.secret)).await?;
        let app = &found.0;
        if !(app.token_exchange_allowed && app.grant_types.iter().any(|g| g == TOKEN_EXCHANGE)) {
            return Err(OAuthError::UnauthorizedClient);
        }
        if req.subject_token_type != ACCESS_TOKEN_TYPE {
            return Err(OAuthError::InvalidRequest(format!("subject_token_type must be {ACCESS_TOKEN_TYPE}")));
        }
        let subject = self.verified(req.subject_token, "subject_token")?;
        let (sub, issued_to) = (subject.subject(), subject.issued_to());
        let by = Exchanger { client_id: &app.client_id, allowed_resources: &app.allowed_resources };
        if !delegation::meant_for(issued_to.as_deref(), &subject.audience, by) {
            return Err(OAuthError::InvalidGrant("The subject_token is not meant for this client".into()));
        }
        let actor = match req.actor_token {
            Some((token, kind)) => {
                if kind != Some(ACCESS_TOKEN_TYPE) {
                    return Err(OAuthError::InvalidRequest(format!("actor_token_type must be {ACCESS_TOKEN_TYPE}")));
                }
                let a = self.verified(token, "actor_token")?;
                Actor::new(&a.subject(), a.issued_to().as_deref())
            }
            None => Actor::new(&app.client_id, Some(&app.client_id)),
        };
        if !delegation::chain_may_grow(subject.act.as_ref()) {
            return Err(OAuthError::InvalidGrant("The delegation chain is too long".into()));
        }
        let act = actor.acting_after(subject.act.clone());
        let granted = delegation::exchanged_scope(req.scope, &subject.scope, &app.allowed_scopes)
            .map_err(|r| OAuthError::InvalidScope(r.describe()))?;
        let audience = oauth_scope::audience(req.targets, &app.allowed_resources, &subject.audience)
            .map_err(|r| OAuthError::InvalidTarget(r.describe()))?;
        let now = self.clock.now();
        // Never longer than the subject token it stands for.
        let expires_at = (now + Duration::seconds(app.token_lifetime)).min(subject.expires_at);
        let chain: Vec<String> = act.chain().iter().map(|s| (*s).to_string()).collect();
        let token = AccessToken {
            principal: subject.principal.clone(),
            scope: granted.clone(),
            audience: audience.clone(),
            // A user's exchanged token is the exchanging client's (so never an admin token).
            client_id: Some(app.client_id.clone()),
            jti: self.ids.next(),
            issued_at: now,
            expires_at,
            act: Some(act),
        };
        let jwt = self.codec.sign(&token).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            OAuthError::ServerError
        })?;
        let record = AuditRecord::anonymous(meta, action::AUTH_TOKEN_EXCHANGE, "token", AuditResult::Success);
        self.audit.submit(
            AuditRecord {
                actor_type: scaikey_domain::audit::ActorType::Application,
                actor_id: Some(app.id.to_string()),
                ..record
            }
            .within(app.tenant_id, app.partner_id)
            .details(json!({"client_id": app.client_id, "sub": sub, "act": chain, "aud": audience, "scope": granted})),
            now,
        );
        Ok(ClientToken {
            access_token: jwt,
            expires_in: (expires_at - now).num_seconds().max(0),
            scope: granted.join(" "),
            audience,
        })
    }
}
