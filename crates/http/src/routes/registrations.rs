//! `/api/v1/admin/registration-requests`.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::RegistrationFilter;
use scaikey_domain::id::RegistrationRequestId;
use scaikey_domain::registration::RegistrationStatus;
use scaikey_domain::scope::ScopeLevel;

use crate::dto::apps::{
    ApplicationCreatedOut, ApprovalData, RegistrationList, RegistrationOut, RegistrationRequestCreate, RejectionData,
};
use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::schema::{self as s, PageParams};
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonBody, ListQuery, optional_json, path_id};
use crate::state::AppState;

const R: &str = "Registration request";

/// List registration requests.
#[utoipa::path(
    get, path = "/api/v1/admin/registration-requests", tag = "Registration Requests", operation_id = "list_registration_requests",
    description = "List registration requests based on admin's access level.\n\n- Super admins: See all requests\n- Partner admins: See PARTNER requests for their partner + TENANT requests for tenants in their partner\n- Tenant admins: See TENANT requests for their tenant only",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive literal match on the name, description or contact e-mail"),
        ("status" = Option<s::RegistrationStatus>, Query, description = "Filter by status"),
        ("scope" = Option<s::ScopeLevel>, Query, description = "Filter by scope"),
    ),
    responses((status = 200, body = RegistrationList, description = "A page of registration requests")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = RegistrationFilter {
        search: q.text("search"),
        status: q.choice("status", &RegistrationStatus::ALL, RegistrationStatus::as_str),
        scope: q.choice("scope", &ScopeLevel::ALL, ScopeLevel::as_str),
    };
    q.finish()?;
    let result = state.registrations.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, RegistrationOut::from)))
}

/// Create a registration request.
#[utoipa::path(
    post, path = "/api/v1/admin/registration-requests", tag = "Registration Requests", operation_id = "create_registration_request",
    description = "Create a new application registration request (admin-initiated). The request will need to be approved by an admin with appropriate permissions. TENANT needs tenant_id, PARTNER needs partner_id (422 otherwise).",
    request_body = RegistrationRequestCreate,
    responses((status = 201, body = RegistrationOut, description = "The request created, PENDING")),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<RegistrationRequestCreate>,
) -> ApiResult<HttpResponse> {
    let r = state.registrations.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().json(RegistrationOut::from(r)))
}

/// Get a registration request.
#[utoipa::path(
    get, path = "/api/v1/admin/registration-requests/{request_id}", tag = "Registration Requests", operation_id = "get_registration_request",
    description = "Get details of a specific registration request.",
    params(("request_id" = s::RegistrationRequestId, Path, description = "The registration request")),
    responses((status = 200, body = RegistrationOut, description = "The registration request")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: RegistrationRequestId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(RegistrationOut::from(state.registrations.get(&auth.0, id).await?)))
}

/// Cancel a registration request.
#[utoipa::path(
    delete, path = "/api/v1/admin/registration-requests/{request_id}", tag = "Registration Requests", operation_id = "cancel_registration_request",
    description = "Cancel a pending registration request. It stays readable as CANCELLED; any other state is a 409.",
    params(("request_id" = s::RegistrationRequestId, Path, description = "The registration request")),
    responses(
        (status = 200, body = RegistrationOut, description = "The request, CANCELLED"),
        (status = 409, body = ErrorDetail, description = "Not PENDING"),
    ),
    security(("bearer" = []))
)]
pub async fn cancel(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: RegistrationRequestId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(RegistrationOut::from(state.registrations.cancel(&auth.0, id).await?)))
}

/// Approve a registration request.
#[utoipa::path(
    post, path = "/api/v1/admin/registration-requests/{request_id}/approve", tag = "Registration Requests", operation_id = "approve_registration_request",
    description = "Approve a registration request and create the application, in one transaction. Returns the created application with client_id and client_secret (secret shown only once). Anything but PENDING is a 409.",
    params(("request_id" = s::RegistrationRequestId, Path, description = "The registration request")),
    request_body(content = Option<ApprovalData>, description = "Optional: an empty body or `null` approves without notes"),
    responses(
        (status = 200, body = ApplicationCreatedOut, description = "The application created, with its client secret (confidential clients)"),
        (status = 409, body = ErrorDetail, description = "Not PENDING, or the partner's max_applications_per_tenant reached"),
        (status = 413, description = "The request body is larger than 256 KiB (plain-text answer)"),
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id: RegistrationRequestId = path_id(&id, R)?;
    // The body is optional: empty or `null` approves without notes.
    let notes = optional_json::<ApprovalData>(&req, &body)?.and_then(|d| d.notes);
    let a = state.registrations.approve(&auth.0, id, notes.as_deref()).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(ApplicationCreatedOut {
        application: a.app.into(),
        client_secret: a.client_secret,
        registration_request_id: Some(a.request.id.to_string()),
    }))
}

/// Reject a registration request.
#[utoipa::path(
    post, path = "/api/v1/admin/registration-requests/{request_id}/reject", tag = "Registration Requests", operation_id = "reject_registration_request",
    description = "Reject a registration request with a reason (required, non-empty: 422 otherwise). Anything but PENDING is a 409.",
    params(("request_id" = s::RegistrationRequestId, Path, description = "The registration request")),
    request_body = RejectionData,
    responses(
        (status = 200, body = RegistrationOut, description = "The request, REJECTED"),
        (status = 409, body = ErrorDetail, description = "Not PENDING"),
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<RejectionData>,
) -> ApiResult<HttpResponse> {
    let id: RegistrationRequestId = path_id(&id, R)?;
    Ok(HttpResponse::Ok()
        .json(RegistrationOut::from(state.registrations.reject(&auth.0, id, body.0.reason.as_deref()).await?)))
}
