//! `/api/v1/admin/groups` — groups, members and nesting.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::GroupFilter;
use scaikey_domain::id::{GroupId, TenantId, UserId};
use scaikey_domain::validation::{FieldError, ValidationErrors};

use crate::dto::common::{ErrorDetail, ListOut};
use crate::dto::schema::{self as s, PageParams};
use crate::dto::users::{
    GroupCreate, GroupDetailOut, GroupList, GroupOut, GroupUpdate, MemberAdd, MembershipOut, NestedAdd, NestingOut,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Authenticated, JsonBody, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Group";

fn missing(field: &str) -> ApiError {
    ApiError::Invalid("body", ValidationErrors::single(FieldError::missing(field)))
}

/// List groups.
#[utoipa::path(
    get, path = "/api/v1/admin/groups", tag = "Groups", operation_id = "list_groups",
    description = "List live groups within the caller's reach, newest first.",
    params(
        PageParams,
        ("search" = Option<String>, Query, max_length = 255, description = "Case-insensitive match on the name"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Groups of this tenant"),
    ),
    responses((status = 200, body = GroupList, description = "A page of groups")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = GroupFilter { search: q.text("search"), tenant_id: q.id::<TenantId>("tenant_id") };
    q.finish()?;
    let result = state.groups.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, GroupOut::from)))
}

/// Create a group.
#[utoipa::path(
    post, path = "/api/v1/admin/groups", tag = "Groups", operation_id = "create_group",
    description = "Create a group in a tenant within reach (tenant admins: their own tenant by default). Names are unique per tenant (409).",
    request_body = GroupCreate,
    responses(
        (status = 201, body = GroupOut, description = "The group created"),
        (status = 409, body = ErrorDetail, description = "Name taken in the tenant"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<GroupCreate>,
) -> ApiResult<HttpResponse> {
    let g = state.groups.create(&auth.0, body.0.into_input()).await?;
    Ok(HttpResponse::Created().json(GroupOut::from(g)))
}

/// Get a group.
#[utoipa::path(
    get, path = "/api/v1/admin/groups/{group_id}", tag = "Groups", operation_id = "get_group",
    description = "Get a group with its direct members and child groups.",
    params(("group_id" = s::GroupId, Path, description = "The group")),
    responses((status = 200, body = GroupDetailOut, description = "The group with its direct members and children")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: GroupId = path_id(&id, R)?;
    Ok(HttpResponse::Ok().json(GroupDetailOut::from(state.groups.get(&auth.0, id).await?)))
}

/// Update a group.
#[utoipa::path(
    patch, path = "/api/v1/admin/groups/{group_id}", tag = "Groups", operation_id = "update_group",
    description = "Update a group's name or description.",
    params(("group_id" = s::GroupId, Path, description = "The group")),
    request_body = GroupUpdate,
    responses(
        (status = 200, body = GroupOut, description = "The group as changed"),
        (status = 409, body = ErrorDetail, description = "Name taken in the tenant"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<GroupUpdate>,
) -> ApiResult<HttpResponse> {
    let id: GroupId = path_id(&id, R)?;
    let input = body.0.into_input().map_err(|e| ApiError::Invalid("body", e))?;
    Ok(HttpResponse::Ok().json(GroupOut::from(state.groups.update(&auth.0, id, input).await?)))
}

/// Delete a group.
#[utoipa::path(
    delete, path = "/api/v1/admin/groups/{group_id}", tag = "Groups", operation_id = "delete_group",
    description = "Soft delete a group; its memberships and nesting edges are removed.",
    params(("group_id" = s::GroupId, Path, description = "The group")),
    responses((status = 204, description = "Deleted")),
    security(("bearer" = []))
)]
pub async fn delete(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: GroupId = path_id(&id, R)?;
    state.groups.delete(&auth.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add a member.
#[utoipa::path(
    post, path = "/api/v1/admin/groups/{group_id}/members", tag = "Groups", operation_id = "add_group_member",
    description = "Add a user of the same tenant as a direct member (another tenant's user: 422; already a member: 409).",
    params(("group_id" = s::GroupId, Path, description = "The group")),
    request_body = MemberAdd,
    responses(
        (status = 201, body = MembershipOut, description = "The membership created"),
        (status = 409, body = ErrorDetail, description = "Already a member, or the group was deleted meanwhile"),
    ),
    security(("bearer" = []))
)]
pub async fn add_member(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<MemberAdd>,
) -> ApiResult<HttpResponse> {
    let gid: GroupId = path_id(&id, R)?;
    let user = body.0.user_id.ok_or_else(|| missing("user_id"))?;
    let uid = state.groups.add_member(&auth.0, gid, &user).await?;
    Ok(HttpResponse::Created().json(MembershipOut { group_id: gid.to_string(), user_id: uid.to_string() }))
}

/// Remove a member.
#[utoipa::path(
    delete, path = "/api/v1/admin/groups/{group_id}/members/{user_id}", tag = "Groups", operation_id = "remove_group_member",
    description = "Remove a direct member.",
    params(("group_id" = s::GroupId, Path, description = "The group"), ("user_id" = s::UserId, Path, description = "The member")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []))
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let gid: GroupId = path_id(&path.0, R)?;
    let uid: UserId = path_id(&path.1, "Member")?;
    state.groups.remove_member(&auth.0, gid, uid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Nest a group.
#[utoipa::path(
    post, path = "/api/v1/admin/groups/{group_id}/nested", tag = "Groups", operation_id = "add_child_group",
    description = "Nest a group of the same tenant under this one. A nesting that would make a cycle is a 409; another tenant's group a 422.",
    params(("group_id" = s::GroupId, Path, description = "The parent group")),
    request_body = NestedAdd,
    responses(
        (status = 201, body = NestingOut, description = "The nesting created"),
        (status = 409, body = ErrorDetail, description = "A cycle, already nested, or a group deleted meanwhile"),
    ),
    security(("bearer" = []))
)]
pub async fn add_child(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
    body: JsonBody<NestedAdd>,
) -> ApiResult<HttpResponse> {
    let gid: GroupId = path_id(&id, R)?;
    let child = body.0.child_group_id.ok_or_else(|| missing("child_group_id"))?;
    let cid = state.groups.add_child(&auth.0, gid, &child).await?;
    Ok(HttpResponse::Created().json(NestingOut { group_id: gid.to_string(), child_group_id: cid.to_string() }))
}

/// Un-nest a group.
#[utoipa::path(
    delete, path = "/api/v1/admin/groups/{group_id}/nested/{child_group_id}", tag = "Groups", operation_id = "remove_child_group",
    description = "Remove a nesting edge.",
    params(("group_id" = s::GroupId, Path, description = "The parent group"), ("child_group_id" = s::GroupId, Path, description = "The child group")),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []))
)]
pub async fn remove_child(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let gid: GroupId = path_id(&path.0, R)?;
    let cid: GroupId = path_id(&path.1, "Child group")?;
    state.groups.remove_child(&auth.0, gid, cid).await?;
    Ok(HttpResponse::NoContent().finish())
}
