//! `/api/v1/admin/tenants` — the platform writes; partner and tenant admins read within reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::TenantFilter;
use scaikey_app::tenants::TenantService;
use scaikey_domain::id::{PartnerId, TenantId};
use scaikey_domain::status::Status;

use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::schema::{self as s, PageParams};
use crate::dto::tenants::{TenantCreate, TenantList, TenantOut, TenantUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Tenant";

/// List tenants.
#[utoipa::path(
    get, path = "/api/v1/admin/tenants", tag = "Tenants", operation_id = "list_tenants",
    description = "List live tenants within the caller's reach, newest first.",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive match on name or slug"),
        ("status" = Option<s::Status>, Query, description = "Only tenants with this status"),
        ("partner_id" = Option<s::PartnerId>, Query, description = "Tenants of this partner"),
    ),
    responses((status = 200, body = TenantList, description = "A page of tenants")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = TenantFilter {
        search: q.text("search"),
        status: q.choice("status", &Status::ALL, Status::as_str),
        partner_id: q.id::<PartnerId>("partner_id"),
    };
    q.finish()?;
    let result = state.tenants.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, TenantOut::from)))
}

/// Create a tenant.
#[utoipa::path(
    post, path = "/api/v1/admin/tenants", tag = "Tenants", operation_id = "create_tenant",
    description = "Create a new tenant (platform admin only), under a partner or directly under the platform. The partner's max_tenants is enforced (409).",
    request_body = TenantCreate,
    responses(
        (status = 201, body = TenantOut, description = "The tenant created"),
        (status = 409, body = ErrorDetail, description = "Slug taken or partner limit reached"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<TenantCreate>,
) -> ApiResult<HttpResponse> {
    let t = state.tenants.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().json(TenantOut::from(t)))
}

/// Get a tenant.
#[utoipa::path(
    get, path = "/api/v1/admin/tenants/{tenant_id}", tag = "Tenants", operation_id = "get_tenant",
    description = "Get a tenant by ID. Tenants outside the caller's reach answer 404.",
    params(("tenant_id" = s::TenantId, Path, description = "The tenant")),
    responses((status = 200, body = TenantOut, description = "The tenant")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: TenantId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(TenantOut::from(state.tenants.get(&auth.0, id).await?)))
}

/// Update a tenant.
#[utoipa::path(
    patch, path = "/api/v1/admin/tenants/{tenant_id}", tag = "Tenants", operation_id = "update_tenant",
    description = "Update a tenant (platform admin only). PATCH accepts name, slug, status, contact_email, partner_id (cross-partner transfer), settings and branding.\n\nSettings can include:\n- mfa_required: bool - Whether MFA is required for all users\n- mfa_methods: list - Allowed MFA methods ['totp', 'sms', 'email', 'webauthn']\n- password_policy: dict - Password requirements\n- session_timeout: int - Session timeout in minutes",
    params(("tenant_id" = s::TenantId, Path, description = "The tenant")),
    request_body = TenantUpdate,
    responses(
        (status = 200, body = TenantOut, description = "The tenant as changed"),
        (status = 409, body = ErrorDetail, description = "Slug taken, or the new partner's max_tenants reached"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<TenantUpdate>,
) -> ApiResult<HttpResponse> {
    TenantService::authorize_write(&auth.0)?;
    let id: TenantId = path_id(&id, R)?;
    let input = body.0.into_input().map_err(|e| ApiError::Invalid("body", e))?;
    Ok(HttpResponse::Ok().json(TenantOut::from(state.tenants.update(&auth.0, id, input).await?)))
}

/// Delete a tenant.
#[utoipa::path(
    delete, path = "/api/v1/admin/tenants/{tenant_id}", tag = "Tenants", operation_id = "delete_tenant",
    description = "Soft delete a tenant (platform admin only). Its slug may be reused afterwards.",
    params(("tenant_id" = s::TenantId, Path, description = "The tenant")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    TenantService::authorize_write(&auth.0)?;
    let id: TenantId = path_id(&id, R)?;
    state.tenants.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
