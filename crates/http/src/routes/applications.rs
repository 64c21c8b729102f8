//! `/api/v1/admin/applications` — OAuth clients, secrets, assignments, effective users.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::ApplicationFilter;
use scaikey_domain::application::ApplicationType;
use scaikey_domain::id::{ApplicationId, AssignmentId, PartnerId, TenantId};
use scaikey_domain::scope::ScopeLevel;

use crate::dto::apps::{
    ApplicationCreate, ApplicationCreatedOut, ApplicationList, ApplicationOut, ApplicationUpdate, AssignmentCreate,
    AssignmentList, AssignmentOut, EffectiveUserList, EffectiveUserOut, SecretOut,
};
use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::schema::{self as s, PageParams};
use crate::error::ApiResult;
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Application";

/// List applications.
#[utoipa::path(
    get, path = "/api/v1/admin/applications", tag = "Applications", operation_id = "list_applications",
    description = "List applications based on admin's access level.\n\nVisibility rules:\n- Super admins: All applications\n- Partner admins: Global apps + Partner apps for their partner + Tenant apps in their partner's tenants\n- Tenant admins: Global apps + Partner apps for their parent partner + Tenant apps for their tenant",
    params(
        PageParams,
        ("tenant_id" = Option<s::TenantId>, Query, description = "TENANT apps of this tenant"),
        ("partner_id" = Option<s::PartnerId>, Query, description = "Filter by partner (all tenants in partner)"),
        ("scope" = Option<s::ScopeLevel>, Query, description = "Filter by scope: GLOBAL, PARTNER, TENANT"),
        ("application_type" = Option<s::ApplicationType>, Query, description = "Filter by type"),
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive match on name or client_id"),
    ),
    responses((status = 200, body = ApplicationList, description = "A page of applications")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = ApplicationFilter {
        search: q.text("search"),
        scope: q.choice("scope", &ScopeLevel::ALL, ScopeLevel::as_str),
        application_type: q.choice("application_type", &ApplicationType::ALL, ApplicationType::as_str),
        tenant_id: q.id::<TenantId>("tenant_id"),
        partner_id: q.id::<PartnerId>("partner_id"),
        ..ApplicationFilter::default()
    };
    q.finish()?;
    let result = state.applications.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, ApplicationOut::from)))
}

/// Create an application.
#[utoipa::path(
    post, path = "/api/v1/admin/applications", tag = "Applications", operation_id = "create_application",
    description = "Create a new application (OAuth client). The client_secret of confidential clients (WEB, SERVICE) is in this answer only.\n\nScope rules:\n- Super admin: Can create any scope (GLOBAL, PARTNER, TENANT)\n- Partner admin: Can create PARTNER (for their partner) or TENANT (for tenants in their partner)\n- Tenant admin: Can only create TENANT scope for their tenant",
    request_body = ApplicationCreate,
    responses(
        (status = 201, body = ApplicationCreatedOut, description = "The application created, with its client secret (confidential clients)"),
        (status = 409, body = ErrorDetail, description = "The partner's max_applications_per_tenant reached"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<ApplicationCreate>,
) -> ApiResult<HttpResponse> {
    let created = state.applications.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().insert_header(("Cache-Control", "no-store")).json(ApplicationCreatedOut {
        application: created.app.into(),
        client_secret: created.client_secret,
        registration_request_id: None,
    }))
}

/// Get an application.
#[utoipa::path(
    get, path = "/api/v1/admin/applications/{application_id}", tag = "Applications", operation_id = "get_application",
    description = "Get an application by ID.",
    params(("application_id" = s::ApplicationId, Path, description = "The application")),
    responses((status = 200, body = ApplicationOut, description = "The application")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(ApplicationOut::from(state.applications.get(&auth.0, id).await?)))
}

/// Update an application.
#[utoipa::path(
    patch, path = "/api/v1/admin/applications/{application_id}", tag = "Applications", operation_id = "update_application",
    description = "Update an application. OAuth settings are re-validated as a whole for its type; type, scope and client_id never change.",
    params(("application_id" = s::ApplicationId, Path, description = "The application")),
    request_body = ApplicationUpdate,
    responses((status = 200, body = ApplicationOut, description = "The application as changed")),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ApplicationUpdate>,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    Ok(HttpResponse::Ok()
        .json(ApplicationOut::from(state.applications.update(&auth.0, id, body.0.into_input()).await?)))
}

/// Delete an application.
#[utoipa::path(
    delete, path = "/api/v1/admin/applications/{application_id}", tag = "Applications", operation_id = "delete_application",
    description = "Soft delete an application; its tokens are refused from then on.",
    params(("application_id" = s::ApplicationId, Path, description = "The application")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    state.applications.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the client secret.
#[utoipa::path(
    post, path = "/api/v1/admin/applications/{application_id}/rotate-secret", tag = "Applications", operation_id = "rotate_application_secret",
    description = "Rotate an application's client secret. The old secret stops working at once; the new one is shown only here.",
    params(("application_id" = s::ApplicationId, Path, description = "The application")),
    responses(
        (status = 200, body = SecretOut, description = "The new secret, shown this once"),
        (status = 409, body = ErrorDetail, description = "Public client"),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    let (client_id, client_secret) = state.applications.rotate_secret(&auth.0, id).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(SecretOut { client_id, client_secret }))
}

/// List assignments.
#[utoipa::path(
    get, path = "/api/v1/admin/applications/{application_id}/assignments", tag = "Applications", operation_id = "list_application_assignments",
    description = "Users and groups assigned to the application, within the caller's reach.",
    params(("application_id" = s::ApplicationId, Path, description = "The application"), PageParams),
    responses((status = 200, body = AssignmentList, description = "A page of assignments")),
    security(("bearer" = []))
)]
pub async fn assignments(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    q.finish()?;
    let result = state.applications.assignments(&auth.0, id, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, AssignmentOut::from)))
}

/// Assign a user or group.
#[utoipa::path(
    post, path = "/api/v1/admin/applications/{application_id}/assignments", tag = "Applications", operation_id = "create_application_assignment",
    description = "Assign a user or a group (with everyone in it, through nesting) to the application. The assignee must lie inside the application's scope and the caller's reach.",
    params(("application_id" = s::ApplicationId, Path, description = "The application")),
    request_body = AssignmentCreate,
    responses(
        (status = 201, body = AssignmentOut, description = "The assignment created"),
        (status = 409, body = ErrorDetail, description = "Already assigned"),
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<AssignmentCreate>,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    let a = state.applications.assign(&auth.0, id, body.0.user_id.as_deref(), body.0.group_id.as_deref()).await?;
    Ok(HttpResponse::Created().json(AssignmentOut::from(a)))
}

/// Remove an assignment.
#[utoipa::path(
    delete, path = "/api/v1/admin/applications/{application_id}/assignments/{assignment_id}", tag = "Applications", operation_id = "delete_application_assignment",
    description = "Remove an assignment.",
    params(("application_id" = s::ApplicationId, Path, description = "The application"), ("assignment_id" = s::AssignmentId, Path, description = "The assignment")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []))
)]
pub async fn unassign(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&path.0, R)?;
    let asg: AssignmentId = path_id(&path.1, "Assignment")?;
    state.applications.unassign(&auth.0, id, asg).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Users with access.
#[utoipa::path(
    get, path = "/api/v1/admin/applications/{application_id}/effective-users", tag = "Applications", operation_id = "list_application_effective_users",
    description = "Get all users who have access to an application across all tenants, assigned directly or via group membership (nested groups followed to any depth), each once.\n\nAuthentication:\n- Admin users with appropriate access can query any application they can see (results limited to their reach)\n- Applications can query their own effective users using their own token (no admin:read scope required)\n\nFor GLOBAL apps: users from all tenants; PARTNER apps: tenants of the partner; TENANT apps: that tenant only.",
    params(
        ("application_id" = s::ApplicationId, Path, description = "The application"),
        PageParams,
        ("tenant_id" = Option<s::TenantId>, Query, description = "Filter by specific tenant"),
    ),
    responses((status = 200, body = EffectiveUserList, description = "A page of users with access, each once")),
    security(("bearer" = []))
)]
pub async fn effective_users(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id: ApplicationId = path_id(&id, R)?;
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let tenant = q.id::<TenantId>("tenant_id");
    q.finish()?;
    let result = state.applications.effective_users(&auth.0, id, tenant, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, EffectiveUserOut::from)))
}
