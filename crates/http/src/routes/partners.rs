//! `/api/v1/admin/partners` — platform only.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::partners::PartnerService;
use scaikey_app::ports::PartnerFilter;
use scaikey_domain::access::Action;
use scaikey_domain::id::PartnerId;
use scaikey_domain::status::Status;

use crate::dto::common::{ErrorDetail, HTTPValidationError, ListOut};
use crate::dto::partners::{PartnerCreate, PartnerList, PartnerOut, PartnerUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Partner";

/// List partners.
#[utoipa::path(
    get, path = "/api/v1/admin/partners", tag = "Partners",
    description = "List live partners, newest first (platform admin only).",
    params(
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("per_page" = Option<i64>, Query, description = "Items per page, 1-100 (default 20)"),
        ("search" = Option<String>, Query, description = "Case-insensitive match on name or slug"),
        ("status" = Option<String>, Query, description = "active or suspended"),
    ),
    responses(
        (status = 200, body = PartnerList), (status = 401, body = ErrorDetail),
        (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError),
    ),
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
    post, path = "/api/v1/admin/partners", tag = "Partners",
    description = "Create a new partner (platform admin only).",
    request_body = PartnerCreate,
    responses(
        (status = 201, body = PartnerOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail),
        (status = 409, body = ErrorDetail, description = "Slug taken"), (status = 422, body = HTTPValidationError),
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
    get, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners",
    description = "Get a partner by ID.",
    params(("partner_id" = String, Path, description = "prt_…")),
    responses(
        (status = 200, body = PartnerOut), (status = 401, body = ErrorDetail),
        (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail),
    ),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Read)?;
    let id: PartnerId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(PartnerOut::from(state.partners.get(&auth.0, id).await?)))
}

/// Update a partner.
#[utoipa::path(
    patch, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners",
    description = "Update a partner. Only the fields present change; null clears a nullable field.",
    params(("partner_id" = String, Path, description = "prt_…")),
    request_body = PartnerUpdate,
    responses(
        (status = 200, body = PartnerOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail),
        (status = 404, body = ErrorDetail), (status = 409, body = ErrorDetail), (status = 422, body = HTTPValidationError),
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
    delete, path = "/api/v1/admin/partners/{partner_id}", tag = "Partners",
    description = "Soft delete a partner. Refused (409) while live tenants stand under it.",
    params(("partner_id" = String, Path, description = "prt_…")),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail),
        (status = 404, body = ErrorDetail), (status = 409, body = ErrorDetail),
    ),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    PartnerService::authorize(&auth.0, Action::Write)?;
    let id: PartnerId = path_id(&id, R)?;
    state.partners.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
