//! The governance of ScaiKey's MCP server (contract §12): who may call (an agent with its own
//! token, or a user with a token for `{issuer}/mcp`), which tools each sees and may call, the
//! per-agent rate limit shared by every process, and the audit record of every call. The tools
//! themselves call the same services as the REST API (the `scaikey-mcp` adapter dispatches
//! them); this module decides nothing a service decides.

use std::sync::Arc;

use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::federation::Agent;
use scaikey_domain::mcp::{self, RateVerdict, Tool};
use scaikey_domain::principal::Principal;
use scaikey_domain::status::Status;
use serde_json::json;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::ports::{AgentRepository, AuditSink, Clock, TokenCodec, TokenRejection};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

/// Who is calling the MCP server.
#[derive(Debug, Clone)]
pub struct McpCaller {
    /// The token's principal.
    pub principal: Principal,
    /// The agent as stored now (for agents), read on every request so a suspension or a
    /// change of its tools takes effect at once.
    pub agent: Option<Agent>,
}

/// Why a tool call does not run (JSON-RPC errors, not tool results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallRefusal {
    /// No such tool, or not one of the agent's `allowed_tools` (the same answer, so an agent
    /// learns nothing of the tools it lacks).
    UnknownTool(String),
    /// The agent used up its calls for this minute: retry after this many seconds.
    RateLimited(i64),
}

/// Admits MCP callers and their tool calls.
pub struct McpGate {
    codec: Arc<dyn TokenCodec>,
    revocations: Arc<RevocationList>,
    agents: Arc<dyn AgentRepository>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    /// `{issuer}/mcp`.
    resource: String,
}

impl std::fmt::Debug for McpGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpGate").field("resource", &self.resource).finish_non_exhaustive()
    }
}

impl McpGate {
    /// Wires the gate to its ports; `resource` is `{issuer}/mcp`.
    pub fn new(
        codec: Arc<dyn TokenCodec>,
        revocations: Arc<RevocationList>,
        agents: Arc<dyn AgentRepository>,
        audit: Arc<dyn AuditSink>,
        clock: Arc<dyn Clock>,
        resource: String,
    ) -> Self {
        Self { codec, revocations, agents, audit, clock, resource }
    }

    /// The MCP server's resource identifier (`{issuer}/mcp`, RFC 9728's `resource`).
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Verifies a bearer token for the MCP server: its audience must be `{issuer}/mcp`; it must
    /// not be revoked; an agent must exist and be active (read now, not from the token). The
    /// inner error is why the token is refused (a 401); the outer one a storage failure.
    pub async fn authenticate(&self, jwt: &str) -> Result<Result<McpCaller, TokenRejection>, AppError> {
        let token = match self.codec.verify_any_audience(jwt) {
            Ok(t) => t,
            Err(r) => return Ok(Err(r)),
        };
        if token.audience != self.resource {
            return Ok(Err(TokenRejection::WrongAudience));
        }
        if self.revocations.refuses(&token) {
            return Ok(Err(TokenRejection::Revoked));
        }
        let agent = match &token.principal {
            Principal::Agent(a) => match self.agents.get(a.agent_id).await? {
                Some(s) if s.status == Status::Active && s.client_id.as_deref() == Some(a.client_id.as_str()) => {
                    Some(s)
                }
                _ => return Ok(Err(TokenRejection::Revoked)),
            },
            Principal::User(_) => None,
            // Applications reach ScaiKey through the REST API.
            Principal::Client(_) => return Ok(Err(TokenRejection::WrongAudience)),
        };
        Ok(Ok(McpCaller { principal: token.principal, agent }))
    }

    /// The tools `caller` sees: an agent its `allowed_tools`, a user every tool (the services
    /// then apply the user's reach).
    #[must_use]
    pub fn tools(&self, caller: &McpCaller) -> Vec<&'static Tool> {
        match &caller.agent {
            Some(a) => mcp::visible(&a.allowed_tools),
            None => mcp::TOOLS.iter().collect(),
        }
    }

    /// Admits a call of `name`: the tool must be visible to the caller and an agent within its
    /// rate limit (the call is counted, across processes). Answers the request context the
    /// services run it with.
    pub async fn admit(
        &self,
        caller: &McpCaller,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<Result<(&'static Tool, RequestContext), CallRefusal>, AppError> {
        let Some(tool) = self.tools(caller).into_iter().find(|t| t.name == name) else {
            return Ok(Err(CallRefusal::UnknownTool(name.to_string())));
        };
        if let Some(agent) = &caller.agent
            && agent.rate_limit_rpm.is_some()
        {
            let now = self.clock.now();
            let calls = self.agents.count_call(agent.id, mcp::window_start(now)).await?;
            if let RateVerdict::Wait(s) = mcp::rate(calls, agent.rate_limit_rpm, now) {
                self.record(caller, name, AuditResult::Denied, meta, Some("rate limited"));
                return Ok(Err(CallRefusal::RateLimited(s)));
            }
        }
        Ok(Ok((tool, RequestContext { principal: caller.principal.clone(), meta: meta.clone() })))
    }

    /// Audits a tool call (`mcp.tool_call`, the caller as actor, the tool and its outcome).
    pub fn record(&self, caller: &McpCaller, tool: &str, result: AuditResult, meta: &RequestMeta, error: Option<&str>) {
        let (tenant, partner) = caller.principal.home();
        let mut details = json!({"tool": tool});
        if let Some(e) = error {
            details["error"] = json!(e);
        }
        let rec = AuditRecord::success(&caller.principal, meta, action::MCP_TOOL_CALL, "mcp_tool")
            .with_result(result)
            .within(tenant, partner)
            .details(details);
        self.audit.submit(rec, self.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::{TimeZone, Utc};
    use scaikey_domain::id::{AgentId, TenantId};
    use scaikey_domain::principal::AgentPrincipal;

    use super::*;
    use crate::ports::{AccessToken, MockAgentRepository, MockAuditSink, MockTokenCodec};
    use crate::test_support::fixed_clock;

    const RESOURCE: &str = "https://id.example.com/mcp";

    fn agent_id() -> AgentId {
        AgentId::generate_from(ulid::Ulid::from_parts(1, 1))
    }

    fn tenant() -> TenantId {
        TenantId::generate_from(ulid::Ulid::from_parts(1, 2))
    }

    fn stored(status: Status, rpm: Option<i32>) -> Agent {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default();
        Agent {
            id: agent_id(),
            tenant_id: tenant(),
            partner_id: None,
            name: "Bot".into(),
            description: None,
            allowed_tools: vec!["list_users".into(), "get_user".into()],
            allowed_scopes: vec!["admin:read".into()],
            rate_limit_rpm: rpm,
            status,
            client_id: Some("ag_1".into()),
            created_at: t,
            updated_at: t,
        }
    }

    fn token(audience: &str) -> AccessToken {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default();
        AccessToken {
            principal: Principal::Agent(AgentPrincipal {
                agent_id: agent_id(),
                client_id: "ag_1".into(),
                tenant_id: tenant(),
                partner_id: None,
                scopes: vec!["admin:read".into()],
            }),
            scope: vec!["admin:read".into()],
            audience: audience.into(),
            client_id: None,
            jti: ulid::Ulid::from_parts(1_700_000_000_000, 9),
            issued_at: t,
            expires_at: t + chrono::Duration::minutes(15),
            act: None,
        }
    }

    fn gate(agents: MockAgentRepository, audience: &'static str, audited: Arc<Mutex<Vec<AuditRecord>>>) -> McpGate {
        let mut codec = MockTokenCodec::new();
        codec.expect_verify_any_audience().returning(move |_| Ok(token(audience)));
        let mut audit = MockAuditSink::new();
        audit.expect_submit().returning(move |r, _| audited.lock().map(|mut v| v.push(r)).unwrap_or(()));
        McpGate::new(
            Arc::new(codec),
            Arc::new(RevocationList::new()),
            Arc::new(agents),
            Arc::new(audit),
            Arc::new(fixed_clock()),
            RESOURCE.into(),
        )
    }

    #[tokio::test]
    async fn only_active_agents_with_tokens_for_the_mcp_server_get_in() {
        let mut agents = MockAgentRepository::new();
        agents.expect_get().times(1).returning(|_| Ok(Some(stored(Status::Suspended, None))));
        let g = gate(agents, RESOURCE, Arc::default());
        assert_eq!(g.authenticate("t").await.unwrap().unwrap_err(), TokenRejection::Revoked);
        // A token for ScaiKey's admin API is not one for /mcp (the store is not asked).
        let g = gate(MockAgentRepository::new(), "scaikey", Arc::default());
        assert_eq!(g.authenticate("t").await.unwrap().unwrap_err(), TokenRejection::WrongAudience);
    }

    #[tokio::test]
    async fn calls_are_admitted_by_tool_and_rate_and_refusals_audited() {
        let calls = Arc::new(Mutex::new(0i64));
        let mut agents = MockAgentRepository::new();
        agents.expect_get().returning(|_| Ok(Some(stored(Status::Active, Some(2)))));
        let c = calls.clone();
        agents.expect_count_call().returning(move |_, window| {
            assert_eq!(window, Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default());
            let mut n = c.lock().map_err(|_| crate::error::RepoError::Conflict("poisoned".into()))?;
            *n += 1;
            Ok(*n)
        });
        let audited = Arc::new(Mutex::new(Vec::new()));
        let g = gate(agents, RESOURCE, audited.clone());
        let caller = g.authenticate("t").await.unwrap().unwrap();
        assert_eq!(g.tools(&caller).iter().map(|t| t.name).collect::<Vec<_>>(), ["list_users", "get_user"]);
        let meta = RequestMeta::default();
        // A tool the agent lacks is refused before it is counted.
        let r = g.admit(&caller, "create_user", &meta).await.unwrap();
        assert_eq!(r.unwrap_err(), CallRefusal::UnknownTool("create_user".into()));
        assert!(g.admit(&caller, "list_users", &meta).await.unwrap().is_ok());
        let (tool, ctx) = g.admit(&caller, "get_user", &meta).await.unwrap().unwrap();
        assert_eq!(tool.name, "get_user");
        assert_eq!(ctx.principal, caller.principal);
        // The third call of the minute waits for the next one (the clock stands at :00).
        assert_eq!(g.admit(&caller, "get_user", &meta).await.unwrap().unwrap_err(), CallRefusal::RateLimited(60));
        let audited = audited.lock().unwrap();
        assert_eq!(audited.len(), 1);
        assert_eq!((audited[0].action, audited[0].result), ("mcp.tool_call", AuditResult::Denied));
        assert_eq!(audited[0].actor_id.as_deref(), Some(agent_id().to_string().as_str()));
        assert_eq!(audited[0].tenant_id, Some(tenant()));
    }
}
