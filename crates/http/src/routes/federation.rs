//! `/api/v1/admin/identity-providers` and `/api/v1/admin/agents` — tenant-scoped, within reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_domain::id::{AgentId, IdentityProviderId, TenantId};

use crate::dto::common::{ErrorDetail, HTTPValidationError, ListOut};
use crate::dto::federation::{
    AgentList, AgentOut, AgentWrite, IdentityProviderList, IdentityProviderOut, IdentityProviderWrite,
};
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

/// List identity providers.
#[utoipa::path(
    get, path = "/api/v1/admin/identity-providers", tag = "Identity Providers",
    description = "Identity providers within the caller's reach, newest first.",
    params(
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("per_page" = Option<i64>, Query, description = "Items per page, 1-100 (default 20)"),
        ("tenant_id" = Option<String>, Query, description = "Only this tenant's"),
    ),
    responses((status = 200, body = IdentityProviderList), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
    security(("bearer" = []))
)]
pub async fn idp_list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let tenant = q.id::<TenantId>("tenant_id");
    q.finish()?;
    let result = state.identity_providers.list(&auth.0, tenant, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, IdentityProviderOut::from)))
}

/// Create an identity provider.
#[utoipa::path(
    post, path = "/api/v1/admin/identity-providers", tag = "Identity Providers",
    description = "Create an OIDC or SAML identity provider for a tenant. OIDC: https issuer, client_id, scopes including openid, optional client_secret (write-only, stored encrypted under the master key, never returned: see client_secret_set). SAML: entity_id, https sso_url and a PEM certificate that parses.",
    request_body = IdentityProviderWrite,
    responses((status = 201, body = IdentityProviderOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
    security(("bearer" = []))
)]
pub async fn idp_create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<IdentityProviderWrite>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created()
        .json(IdentityProviderOut::from(state.identity_providers.create(&auth.0, body.0.into_input()).await?)))
}

/// Get an identity provider.
#[utoipa::path(
    get, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers",
    description = "One within the caller's reach.",
    params(("id" = String, Path, description = "idp_…")),
    responses((status = 200, body = IdentityProviderOut), (status = 401, body = ErrorDetail), (status = 404, body = ErrorDetail)),
    security(("bearer" = []))
)]
pub async fn idp_get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: IdentityProviderId = path_id(&id, "Identity provider")?;
    Ok(HttpResponse::Ok().json(IdentityProviderOut::from(state.identity_providers.get(&auth.0, id).await?)))
}

/// Update an identity provider.
#[utoipa::path(
    patch, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers",
    description = "Update an identity provider; the protocol never changes. client_secret replaces the stored secret (null clears it).",
    params(("id" = String, Path, description = "idp_…")),
    request_body = IdentityProviderWrite,
    responses((status = 200, body = IdentityProviderOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
    security(("bearer" = []))
)]
pub async fn idp_update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<IdentityProviderWrite>,
) -> ApiResult<HttpResponse> {
    let id: IdentityProviderId = path_id(&id, "Identity provider")?;
    Ok(HttpResponse::Ok()
        .json(IdentityProviderOut::from(state.identity_providers.update(&auth.0, id, body.0.into_input()).await?)))
}

/// Delete an identity provider.
#[utoipa::path(
    delete, path = "/api/v1/admin/identity-providers/{id}", tag = "Identity Providers",
    description = "Soft delete.",
    params(("id" = String, Path, description = "idp_…")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail)),
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
    get, path = "/api/v1/admin/agents", tag = "MCP Agents",
    description = "Agents within the caller's reach, newest first.",
    params(
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("per_page" = Option<i64>, Query, description = "Items per page, 1-100 (default 20)"),
        ("tenant_id" = Option<String>, Query, description = "Only this tenant's"),
    ),
    responses((status = 200, body = AgentList), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
    security(("bearer" = []))
)]
pub async fn agent_list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let tenant = q.id::<TenantId>("tenant_id");
    q.finish()?;
    let result = state.agents.list(&auth.0, tenant, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, AgentOut::from)))
}

/// Create an agent.
#[utoipa::path(
    post, path = "/api/v1/admin/agents", tag = "MCP Agents",
    description = "Create an AI agent identity for the MCP integration, with allowed_tools, allowed_scopes and an optional rate_limit_rpm (positive, or null for unlimited).",
    request_body = AgentWrite,
    responses((status = 201, body = AgentOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
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
    get, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents",
    description = "One within the caller's reach.",
    params(("id" = String, Path, description = "agt_…")),
    responses((status = 200, body = AgentOut), (status = 401, body = ErrorDetail), (status = 404, body = ErrorDetail)),
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
    patch, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents",
    description = "Update an agent.",
    params(("id" = String, Path, description = "agt_…")),
    request_body = AgentWrite,
    responses((status = 200, body = AgentOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
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
    delete, path = "/api/v1/admin/agents/{id}", tag = "MCP Agents",
    description = "Soft delete.",
    params(("id" = String, Path, description = "agt_…")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail)),
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
