//! `/api/v1/admin/identity-providers` and `/api/v1/admin/agents` — tenant-scoped, within reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_domain::id::{AgentId, IdentityProviderId, TenantId};

use crate::dto::common::ListOut;
use crate::dto::federation::{
    AgentList, AgentOut, AgentWrite, IdentityProviderList, IdentityProviderOut, IdentityProviderWrite,
};
use crate::dto::schema::{self as s, PageParams};
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;
use scaikey_app::ports::{AgentFilter, IdpFilter};

/// List identity providers.
#[utoipa::path(
    get, path = "/api/v1/admin/identity-providers", tag = "Identity Providers", operation_id = "list_identity_providers",
    description = "Identity providers within the caller's reach, newest first.",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive literal match on the name"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Only this tenant's"),
    ),
    responses((status = 200, body = IdentityProviderList, description = "A page of identity providers")),
    security(("bearer" = []))
)]
pub async fn idp_list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = IdpFilter { search: q.text("search"), tenant_id: q.id::<TenantId>("tenant_id") };
    q.finish()?;
    let result = state.identity_providers.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, |i| IdentityProviderOut::new(i, &state.issuer))))
}

/// Create an identity provider.
#[utoipa::path(
    post, path = "/api/v1/admin/identity-providers", tag = "Identity Providers", operation_id = "create_identity_provider",
    description = "Create an OIDC or SAML identity provider for a tenant. OIDC: https issuer, client_id, scopes including openid, optional client_secret (write-only, stored encrypted under the master key, never returned: see client_secret_set). SAML: entity_id, https sso_url and a PEM certificate that parses.",
    request_body = IdentityProviderWrite,
    responses((status = 201, body = IdentityProviderOut, description = "The identity provider created")),
    security(("bearer" = []))
)]
pub async fn idp_create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<IdentityProviderWrite>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(IdentityProviderOut::new(
        state.identity_providers.create(&auth.0, body.0.into_input()).await?,
        &state.issuer,
    )))
}

/// Get an identity provider.
#[utoipa::path(
    get, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers", operation_id = "get_identity_provider",
    description = "One within the caller's reach.",
    params(("id" = s::IdentityProviderId, Path, description = "The identity provider")),
    responses((status = 200, body = IdentityProviderOut, description = "The identity provider")),
    security(("bearer" = []))
)]
pub async fn idp_get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: IdentityProviderId = path_id(&id, "Identity provider")?;
    Ok(HttpResponse::Ok()
        .json(IdentityProviderOut::new(state.identity_providers.get(&auth.0, id).await?, &state.issuer)))
}

/// Update an identity provider.
#[utoipa::path(
    patch, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers", operation_id = "update_identity_provider",
    description = "Update an identity provider; the protocol never changes. client_secret replaces the stored secret (null clears it).",
    params(("id" = s::IdentityProviderId, Path, description = "The identity provider")),
    request_body = IdentityProviderWrite,
    responses((status = 200, body = IdentityProviderOut, description = "The identity provider as changed")),
    security(("bearer" = []))
)]
pub async fn idp_update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<IdentityProviderWrite>,
) -> ApiResult<HttpResponse> {
    let id: IdentityProviderId = path_id(&id, "Identity provider")?;
    Ok(HttpResponse::Ok().json(IdentityProviderOut::new(
        state.identity_providers.update(&auth.0, id, body.0.into_input()).await?,
        &state.issuer,
    )))
}

/// Delete an identity provider.
#[utoipa::path(
    delete, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers", operation_id = "delete_identity_provider",
    description = "Soft delete.",
    params(("id" = s::IdentityProviderId, Path, description = "The identity provider")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn idp_delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: IdentityProviderId = path_id(&id, "Identity provider")?;
    state.identity_providers.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List agents.
#[utoipa::path(
    get, path = "/api/v1/admin/agents", tag = "MCP Agents", operation_id = "list_agents",
    description = "Agents within the caller's reach, newest first.",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive literal match on the name or description"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Only this tenant's"),
    ),
    responses((status = 200, body = AgentList, description = "A page of agents")),
    security(("bearer" = []))
)]
pub async fn agent_list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = AgentFilter { search: q.text("search"), tenant_id: q.id::<TenantId>("tenant_id") };
    q.finish()?;
    let result = state.agents.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, AgentOut::from)))
}

/// Create an agent.
#[utoipa::path(
    post, path = "/api/v1/admin/agents", tag = "MCP Agents", operation_id = "create_agent",
    description = "Create an AI agent identity for the MCP integration, with allowed_tools, allowed_scopes and an optional rate_limit_rpm (positive, or null for unlimited).",
    request_body = AgentWrite,
    responses((status = 201, body = AgentOut, description = "The agent created")),
    security(("bearer" = []))
)]
pub async fn agent_create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<AgentWrite>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(AgentOut::from(state.agents.create(&auth.0, body.0.into_input()).await?)))
}

/// Get an agent.
#[utoipa::path(
    get, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents", operation_id = "get_agent",
    description = "One within the caller's reach.",
    params(("id" = s::AgentId, Path, description = "The agent")),
    responses((status = 200, body = AgentOut, description = "The agent")),
    security(("bearer" = []))
)]
pub async fn agent_get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: AgentId = path_id(&id, "Agent")?;
    Ok(HttpResponse::Ok().json(AgentOut::from(state.agents.get(&auth.0, id).await?)))
}

/// Update an agent.
#[utoipa::path(
    patch, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents", operation_id = "update_agent",
    description = "Update an agent.",
    params(("id" = s::AgentId, Path, description = "The agent")),
    request_body = AgentWrite,
    responses((status = 200, body = AgentOut, description = "The agent as changed")),
    security(("bearer" = []))
)]
pub async fn agent_update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<AgentWrite>,
) -> ApiResult<HttpResponse> {
    let id: AgentId = path_id(&id, "Agent")?;
    Ok(HttpResponse::Ok().json(AgentOut::from(state.agents.update(&auth.0, id, body.0.into_input()).await?)))
}

/// Delete an agent.
#[utoipa::path(
    delete, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents", operation_id = "delete_agent",
    description = "Soft delete.",
    params(("id" = s::AgentId, Path, description = "The agent")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn agent_delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: AgentId = path_id(&id, "Agent")?;
    state.agents.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issue an agent's credentials.
#[utoipa::path(
    post, path = "/api/v1/admin/agents/{id}/rotate-secret", tag = "MCP Agents", operation_id = "rotate_agent_secret",
    description = "Issue the agent a new client secret for `client_credentials` at /oauth/token (its token is for the MCP server, `{issuer}/mcp`). The first rotation also gives the agent its client ID, which later rotations keep. The old secret stops working at once; the new one is shown only here.",
    params(("id" = s::AgentId, Path, description = "The agent")),
    responses((status = 200, body = crate::dto::apps::SecretOut, description = "The client ID and the new secret, shown this once")),
    security(("bearer" = []))
)]
pub async fn agent_rotate_secret(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: AgentId = path_id(&id, "Agent")?;
    let c = state.agents.rotate_secret(&auth.0, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(crate::dto::apps::SecretOut { client_id: c.client_id, client_secret: c.client_secret }))
}
