//! `/api/v1/admin/sessions` — SSO sessions within reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::{SessionFilter, SessionState};
use scaikey_domain::id::{SessionId, TenantId, UserId};

use crate::dto::common::ListOut;
use crate::dto::schema::{self as s, PageParams};
use crate::dto::users::{SessionList, SessionOut};
use crate::error::ApiResult;
use crate::extract::{Authenticated, ListQuery, path_id};
use crate::state::AppState;

const R: &str = "Session";
const STATES: [SessionState; 3] = [SessionState::Active, SessionState::Ended, SessionState::Any];

fn state_name(s: SessionState) -> &'static str {
    match s {
        SessionState::Active => "true",
        SessionState::Ended => "false",
        SessionState::Any => "any",
    }
}

/// The `active` filter of the session list (schema only).
#[derive(Debug)]
pub struct SessionActivity;

impl utoipa::PartialSchema for SessionActivity {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(STATES.map(state_name)))
            .description(Some("`true`: active sessions only; `false`: revoked or expired only; `any`: all."))
            .into()
    }
}

impl utoipa::ToSchema for SessionActivity {}

/// List sessions.
#[utoipa::path(
    get, path = "/api/v1/admin/sessions", tag = "Sessions", operation_id = "list_sessions",
    description = "List SSO sessions within the caller's reach, newest first; active ones only unless `active` says otherwise.",
    params(
        PageParams,
        ("user_id" = Option<s::UserId>, Query, description = "Sessions of this user"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Sessions in this tenant"),
        ("active" = Option<SessionActivity>, Query, description = "true (default): active only; false: revoked or expired only; any: all"),
    ),
    responses((status = 200, body = SessionList, description = "A page of sessions")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = SessionFilter {
        user_id: q.id::<UserId>("user_id"),
        tenant_id: q.id::<TenantId>("tenant_id"),
        state: q.choice("active", &STATES, state_name).unwrap_or_default(),
    };
    q.finish()?;
    let result = state.sessions.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    let now = state.sessions.now();
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, |s| SessionOut::new(s, now))))
}

/// Get a session.
#[utoipa::path(
    get, path = "/api/v1/admin/sessions/{session_id}", tag = "Sessions", operation_id = "get_session",
    description = "Get a session by ID.",
    params(("session_id" = s::SessionId, Path, description = "The session")),
    responses((status = 200, body = SessionOut, description = "The session")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: SessionId = path_id(&id, R)?;
    let s = state.sessions.get(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(SessionOut::new(s, state.sessions.now())))
}

/// Revoke a session.
#[utoipa::path(
    post, path = "/api/v1/admin/sessions/{session_id}/revoke", tag = "Sessions", operation_id = "revoke_session",
    description = "End a session: its access tokens are refused from then on (at once on this process, within about a second on others). Revoking an ended session changes nothing.",
    params(("session_id" = s::SessionId, Path, description = "The session")),
    responses((status = 200, body = SessionOut, description = "The session, ended")),
    security(("bearer" = []))
)]
pub async fn revoke(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: SessionId = path_id(&id, R)?;
    let s = state.sessions.revoke(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(SessionOut::new(s, state.sessions.now())))
}
