//! `/api/v1/admin/audit` and `/api/v1/admin/dashboard`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use scaikey_app::ports::AuditFilter;
use scaikey_domain::audit::AuditResult;
use scaikey_domain::id::{AuditEventId, TenantId};
use scaikey_domain::validation::FieldError;

use crate::dto::audit::{ActivityOut, AuditEventOut, AuditList, StatsOut};
use crate::dto::common::ListOut;
use crate::dto::schema::{self as s, PageParams};
use crate::error::ApiResult;
use crate::extract::{Authenticated, ListQuery, path_id};
use crate::state::AppState;

fn time(q: &mut ListQuery, name: &str) -> Option<DateTime<Utc>> {
    let raw = q.text(name)?;
    match DateTime::parse_from_rfc3339(&raw) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            q.push(FieldError::new(name, "datetime_parsing", "Input should be an RFC 3339 timestamp"));
            None
        }
    }
}

/// List audit events.
#[utoipa::path(
    get, path = "/api/v1/admin/audit", tag = "Audit", operation_id = "list_audit_events",
    description = "Audit events within the caller's reach, newest first. Every admin write (success, failure, denial) and every authentication event is recorded.",
    params(
        PageParams,
        ("action" = Option<String>, Query, max_length = 255, description = "e.g. tenant.update, auth.login"),
        ("actor_id" = Option<String>, Query, max_length = 255, description = "usr_… or app_…"),
        ("resource_type" = Option<String>, Query, max_length = 255, description = "e.g. tenant"),
        ("resource_id" = Option<String>, Query, max_length = 255, description = "The resource's ID"),
        ("result" = Option<s::AuditResult>, Query, description = "Only events with this result"),
        ("tenant_id" = Option<s::TenantId>, Query, description = "Events of this tenant"),
        ("since" = Option<DateTime<Utc>>, Query, description = "RFC 3339, inclusive"),
        ("until" = Option<DateTime<Utc>>, Query, description = "RFC 3339, exclusive"),
    ),
    responses((status = 200, body = AuditList, description = "A page of audit events")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated, req: HttpRequest) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::from_request(&req)?;
    let page = q.page();
    let filter = AuditFilter {
        action: q.text("action"),
        actor_id: q.text("actor_id"),
        resource_type: q.text("resource_type"),
        resource_id: q.text("resource_id"),
        result: q.choice("result", &AuditResult::ALL, AuditResult::as_str),
        tenant_id: q.id::<TenantId>("tenant_id"),
        since: time(&mut q, "since"),
        until: time(&mut q, "until"),
    };
    q.finish()?;
    let result = state.audit.list(&auth.0, &filter, page.unwrap_or_default()).await?;
    Ok(HttpResponse::Ok().json(ListOut::from_page(result, AuditEventOut::from)))
}

/// Get an audit event.
#[utoipa::path(
    get, path = "/api/v1/admin/audit/{event_id}", tag = "Audit", operation_id = "get_audit_event",
    description = "One audit event within the caller's reach.",
    params(("event_id" = s::AuditEventId, Path, description = "The audit event")),
    responses((status = 200, body = AuditEventOut, description = "The audit event")),
    security(("bearer" = []))
)]
pub async fn get(state: web::Data<AppState>, auth: Authenticated, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id: AuditEventId = path_id(&id, "Audit event")?;
    Ok(HttpResponse::Ok().json(AuditEventOut::from(state.audit.get(&auth.0, id).await?)))
}

/// Dashboard counts.
#[utoipa::path(
    get, path = "/api/v1/admin/dashboard/stats", tag = "Dashboard", operation_id = "get_dashboard_stats",
    description = "Counts of partners, tenants, users, applications, active sessions and pending registration requests within the caller's reach. Cached for 5 seconds per reach; platform-wide counts of large tables are planner estimates (`estimated: true`).",
    responses((status = 200, body = StatsOut, description = "Counts within the caller's reach")),
    security(("bearer" = []))
)]
pub async fn stats(state: web::Data<AppState>, auth: Authenticated) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(StatsOut::from(state.audit.stats(&auth.0).await?)))
}

/// Recent activity.
#[utoipa::path(
    get, path = "/api/v1/admin/dashboard/activity", tag = "Dashboard", operation_id = "list_dashboard_activity",
    description = "The 20 newest audit events within the caller's reach.",
    responses((status = 200, body = ActivityOut, description = "The newest events")),
    security(("bearer" = []))
)]
pub async fn activity(state: web::Data<AppState>, auth: Authenticated) -> ApiResult<HttpResponse> {
    let items = state.audit.activity(&auth.0).await?.into_iter().map(AuditEventOut::from).collect();
    Ok(HttpResponse::Ok().json(ActivityOut { items }))
}
