//! `/api/v1/admin/partners` — platform only.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::partners::PartnerService;
use scaikey_app::ports::PartnerFilter;
use scaikey_domain::access::Action;
use scaikey_domain::id::PartnerId;
use scaikey_domain::status::Status;

use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::partners::{PartnerCreate, PartnerList, PartnerOut, PartnerUpdate};
use crate::dto::schema::{self as s, PageParams};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Partner";

/// List partners.
#[utoipa::path(
    get, path = "/api/v1/admin/partners", tag = "Partners", operation_id = "list_partners",
    description = "List live partners, newest first (platform admin only).",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive match on name or slug"),
        ("status" = Option<s::Status>, Query, description = "Only partners with this status"),
    ),
    responses((status = 200, body = PartnerList, description = "A page of partners")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Read)?;
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = PartnerFilter { search: q.text("search"), status: q.choice("status", &Status::ALL, Status::as_str) };
    q.finish()?;
    let page = page.unwrap_or_default();
    let result = state.partners.list(&auth.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, PartnerOut::from)))
}

/// Create a partner.
#[utoipa::path(
    post, path = "/api/v1/admin/partners", tag = "Partners", operation_id = "create_partner",
    description = "Create a new partner (platform admin only).",
    request_body = PartnerCreate,
    responses(
        (status = 201, body = PartnerOut, description = "The partner created"),
        (status = 409, body = ErrorDetail, description = "Slug taken"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<PartnerCreate>,
) -> ApiResult<HttpResponse> {
    let p = state.partners.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().json(PartnerOut::from(p)))
}

/// Get a partner.
#[utoipa::path(
    get, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners", operation_id = "get_partner",
    description = "Get a partner by ID.",
    params(("partner_id" = s::PartnerId, Path, description = "The partner")),
    responses((status = 200, body = PartnerOut, description = "The partner")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Read)?;
    let id: PartnerId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(PartnerOut::from(state.partners.get(&auth.0, id).await?)))
}

/// Update a partner.
#[utoipa::path(
    patch, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners", operation_id = "update_partner",
    description = "Update a partner. Only the fields present change; null clears a nullable field.",
    params(("partner_id" = s::PartnerId, Path, description = "The partner")),
    request_body = PartnerUpdate,
    responses(
        (status = 200, body = PartnerOut, description = "The partner as changed"),
        (status = 409, body = ErrorDetail, description = "Slug taken"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<PartnerUpdate>,
) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Write)?;
    let id: PartnerId = path_id(&id, R)?;
    let input = body.0.into_input().map_err(|e| ApiError::Invalid("body", e))?;
    Ok(HttpResponse::Ok().json(PartnerOut::from(state.partners.update(&auth.0, id, input).await?)))
}

/// Delete a partner.
#[utoipa::path(
    delete, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners", operation_id = "delete_partner",
    description = "Soft delete a partner. Refused (409) while live tenants stand under it.",
    params(("partner_id" = s::PartnerId, Path, description = "The partner")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, body = ErrorDetail, description = "Live tenants stand under the partner"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Write)?;
    let id: PartnerId = path_id(&id, R)?;
    state.partners.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
