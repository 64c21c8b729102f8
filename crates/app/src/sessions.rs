//! SSO session administration: list, read, revoke.

use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Target, can, can_manage_user, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::SessionId;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, EndedSession, Session, SessionFilter, SessionRepository, UserRepository};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Session";

/// Where a session lives.
#[must_use]
pub fn owner_of(s: &Session) -> Owner {
    match s.tenant_id {
        Some(tenant) => Owner::Tenant { tenant, partner: s.partner_id },
        None => Owner::Platform,
    }
}

/// Lists, reads and revokes sessions.
#[derive(Clone)]
pub struct SessionService {
    sessions: Arc<dyn SessionRepository>,
    users: Arc<dyn UserRepository>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SessionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionService")
    }
}

impl SessionService {
    /// Wires the service to its ports.
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        users: Arc<dyn UserRepository>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { sessions, users, revocations, clock }
    }

    /// The current time (for `active` in answers).
    #[must_use]
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    async fn visible(&self, ctx: &RequestContext, id: SessionId, action: Action) -> Result<Session, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(RESOURCE))?;
        let s = self.sessions.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, action, Target::Owned(&owner_of(&s))).into_result().map_err(AppError::denied(RESOURCE))?;
        Ok(s)
    }

    /// Reads a session within reach.
    pub async fn get(&self, ctx: &RequestContext, id: SessionId) -> Result<Session, AppError> {
        self.visible(ctx, id, Action::Read).await
    }

    /// Lists sessions within reach (active ones unless the filter says otherwise).
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &SessionFilter,
        page: PageRequest,
    ) -> Result<Page<Session>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.sessions.list(r, filter, self.clock.now(), page).await?)
    }

    /// Revokes a session: its tokens are refused from then on. Revoking an ended session changes
    /// nothing and answers it as it is.
    pub async fn revoke(&self, ctx: &RequestContext, id: SessionId) -> Result<Session, AppError> {
        let s = self.visible(ctx, id, Action::Write).await?;
        if let Some(u) = self.users.get(s.user_id).await? {
            can_manage_user(&ctx.principal, u.roles).into_result().map_err(|d| AppError::Denied(d, RESOURCE))?;
        }
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::SESSION_REVOKE, "session")
            .resource(id)
            .within(s.tenant_id, s.partner_id)
            .details(serde_json::json!({"user_id": s.user_id.to_string()}));
        let s = self.sessions.revoke(id, self.clock.now(), &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        if s.revoked_at.is_some() {
            self.revocations.add(&[EndedSession { id: s.id, expires_at: s.expires_at }]);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests;
