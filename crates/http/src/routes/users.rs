//! `/api/v1/admin/users` — users within the caller's reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::UserFilter;
use scaikey_domain::id::{TenantId, UserId};
use scaikey_domain::role::Role;
use scaikey_domain::status::Status;
use scaikey_domain::validation::{FieldError, ValidationErrors};

use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::schema::{self as s, PageParams};
use crate::dto::users::{ResetPassword, UserCreate, UserList, UserOut, UserUpdate};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "User";

/// List users.
#[utoipa::path(
    get, path = "/api/v1/admin/users", tag = "Users", operation_id = "list_users",
    description = "List live users within the caller's reach, newest first.",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive match on e-mail or names"),
        ("status" = Option<s::Status>, Query, description = "Only users with this status"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Users of this tenant"),
        ("role" = Option<s::Role>, Query, description = "Users holding this role"),
    ),
    responses((status = 200, body = UserList, description = "A page of users")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = UserFilter {
        search: q.text("search"),
        status: q.choice("status", &Status::ALL, Status::as_str),
        tenant_id: q.id::<TenantId>("tenant_id"),
        role: q.choice("role", &Role::ALL, Role::as_str),
    };
    q.finish()?;
    let result = state.users.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, UserOut::from)))
}

/// Create a user.
#[utoipa::path(
    post, path = "/api/v1/admin/users", tag = "Users", operation_id = "create_user",
    description = "Create a user. Without a password the user is invited by mail to choose one (password_set false). The password is checked against the tenant's password_policy (422 names the rule). Only roles at or below the caller's reach may be granted (403). The partner's max_users_per_tenant is enforced (409); e-mail is unique per tenant (409).",
    request_body = UserCreate,
    responses(
        (status = 201, body = UserOut, description = "The user created"),
        (status = 409, body = ErrorDetail, description = "E-mail taken in the tenant, or the partner's max_users_per_tenant reached"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<UserCreate>,
) -> ApiResult<HttpResponse> {
    let u = state.users.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().json(UserOut::from(u)))
}

/// Get a user.
#[utoipa::path(
    get, path = "/api/v1/admin/users/{user_id}", tag = "Users", operation_id = "get_user",
    description = "Get a user by ID. Users outside the caller's reach answer 404.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    responses((status = 200, body = UserOut, description = "The user")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(UserOut::from(state.users.get(&auth.0, id).await?)))
}

/// Update a user.
#[utoipa::path(
    patch, path = "/api/v1/admin/users/{user_id}", tag = "Users", operation_id = "update_user",
    description = "Update a user. Never changes the password. Suspending ends the user's sessions. Admins may only change users whose roles they could grant themselves.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    request_body = UserUpdate,
    responses(
        (status = 200, body = UserOut, description = "The user as changed"),
        (status = 409, body = ErrorDetail, description = "E-mail taken in the tenant"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<UserUpdate>,
) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    let input = body.0.into_input().map_err(|e| ApiError::Invalid("body", e))?;
    Ok(HttpResponse::Ok().json(UserOut::from(state.users.update(&auth.0, id, input).await?)))
}

/// Delete a user.
#[utoipa::path(
    delete, path = "/api/v1/admin/users/{user_id}", tag = "Users", operation_id = "delete_user",
    description = "Soft delete a user and end its sessions. The e-mail may be reused afterwards.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, body = ErrorDetail, description = "The caller's own account"),
    ),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    state.users.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reset a user's password.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{user_id}/reset-password", tag = "Users", operation_id = "reset_user_password",
    description = "Set a new password (an admin reset, checked against the tenant's password_policy) and end every session of the user: its tokens are refused from then on.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    request_body = ResetPassword,
    responses((status = 204, description = "Password set, sessions ended")),
    security(("bearer" = []))
)]
pub async fn reset_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<ResetPassword>,
) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    let pw = body
        .0
        .new_password
        .ok_or_else(|| ApiError::Invalid("body", ValidationErrors::single(FieldError::missing("new_password"))))?;
    state.users.reset_password(&auth.0, id, &pw).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send an invitation again.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{user_id}/invite", tag = "Users", operation_id = "invite_user",
    description = "Mail the user a new invitation link (valid 7 days, single use) to choose a password; earlier invitation links stop working. 409 once the user has set a password, for a suspended user, or while ScaiKey cannot send mail.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    responses(
        (status = 202, description = "Invitation queued for delivery"),
        (status = 409, body = ErrorDetail, description = "Password set already, user suspended, or mail not configured"),
    ),
    security(("bearer" = []))
)]
pub async fn invite(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    state.users.invite(&auth.0, id).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// List a user's linked identities.
#[utoipa::path(
    get, path = "/api/v1/admin/users/{user_id}/identities", tag = "Users", operation_id = "list_user_identities",
    description = "The upstream identities (identity provider and its subject) linked to the user by federated sign-in (contract §11), oldest first.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    responses((status = 200, body = crate::dto::federation::LinkedIdentityList, description = "The user's linked identities")),
    security(("bearer" = []))
)]
pub async fn identities(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    let items = state.users.identities(&auth.0, id).await?.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(crate::dto::federation::LinkedIdentityList { items }))
}

/// Remove a user's linked identity.
#[utoipa::path(
    delete, path = "/api/v1/admin/users/{user_id}/identities/{idp_id}", tag = "Users", operation_id = "unlink_user_identity",
    description = "Remove the link between the user and their identity at this identity provider. The next sign-in through it links by verified e-mail or provisions again, as a first sign-in does.",
    params(("user_id" = s::UserId, Path, description = "The user"), ("idp_id" = s::IdentityProviderId, Path, description = "The identity provider")),
    responses((status = 204, description = "Unlinked"), (status = 404, body = ErrorDetail, description = "No such user or link")),
    security(("bearer" = []))
)]
pub async fn unlink(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (user, idp) = path.into_inner();
    let id: UserId = path_id(&user, R)?;
    let idp: scaikey_domain::id::IdentityProviderId = path_id(&idp, "Linked identity")?;
    state.users.unlink(&auth.0, id, idp).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Disable a user's MFA.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{user_id}/mfa/disable", tag = "Users", operation_id = "disable_user_mfa",
    description = "Clear the user's MFA enrolment.",
    params(("user_id" = s::UserId, Path, description = "The user")),
    responses((status = 200, body = UserOut, description = "The user, without MFA")),
    security(("bearer" = []))
)]
pub async fn disable_mfa(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id: UserId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(UserOut::from(state.users.disable_mfa(&auth.0, id).await?)))
}
