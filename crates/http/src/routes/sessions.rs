//! `/api/v1/admin/sessions` — SSO sessions within reach.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::ports::{SessionFilter, SessionState};
use scaikey_domain::id::{SessionId, TenantId, UserId};

use crate::dto::common::{ErrorDetail, HTTPValidationError, ListOut};
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

/// List sessions.
#[utoipa::path(
    get, path = "/api/v1/admin/sessions", tag = "Sessions",
    description = "List SSO sessions within the caller's reach, newest first; active ones only unless `active` says otherwise.",
    params(
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("per_page" = Option<i64>, Query, description = "Items per page, 1-100 (default 20)"),
        ("user_id" = Option<String>, Query, description = "Sessions of this user"),
        ("tenant_id" = Option<String>, Query, description = "Sessions in this tenant"),
        ("active" = Option<String>, Query, description = "true (default): active only; false: revoked or expired only; any: all"),
    ),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 422, body = HTTPValidationError)),
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
    get, path = "/api/v1/admin/sessions/{session_id}", tag = "Sessions",
    description = "Get a session by ID.",
    params(("session_id" = String, Path, description = "ses_…")),
    responses((status = 200, body = SessionOut), (status = 401, body = ErrorDetail), (status = 404, body = ErrorDetail)),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: SessionId = path_id(&id, R)?;
    let s = state.sessions.get(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(SessionOut::new(s, state.sessions.now())))
}

/// Revoke a session.
#[utoipa::path(
    post, path = "/api/v1/admin/sessions/{session_id}/revoke", tag = "Sessions",
    description = "End a session: its access tokens are refused from then on (at once on this process, within about a second on others). Revoking an ended session changes nothing.",
    params(("session_id" = String, Path, description = "ses_…")),
    responses((status = 200, body = SessionOut), (status = 401, body = ErrorDetail), (status = 403, body = ErrorDetail), (status = 404, body = ErrorDetail)),
    security(("bearer" = []))
)]
pub async fn revoke(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: SessionId = path_id(&id, R)?;
    let s = state.sessions.revoke(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(SessionOut::new(s, state.sessions.now())))
}
