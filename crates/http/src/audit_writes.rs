//! Records every admin write that did not succeed (failure or denial) through the audit sink.
//! Successful writes are recorded by storage in the write's own transaction; this middleware
//! only sees answers of 400 and above, so nothing is recorded twice.

use actix_web::HttpMessage;
use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use scaikey_domain::audit::{ActorType, AuditRecord, AuditResult};
use scaikey_domain::principal::Principal;
use serde_json::json;

use crate::extract::request_meta;
use crate::state::AppState;

/// Longest resource ID copied from a path into an event.
const MAX_ID: usize = 64;

/// The action and resource type of an admin write, from its method and path below
/// `/api/v1/admin/`, named as the services name their successes.
#[must_use]
pub fn classify(method: &Method, path: &str) -> (&'static str, &'static str, Option<String>) {
    let segs: Vec<&str> = path.trim_start_matches("/api/v1/admin/").trim_end_matches('/').split('/').collect();
    let m = method.as_str();
    let (action, resource) = match (m, segs.as_slice()) {
        ("POST", ["partners"]) => ("partner.create", "partner"),
        ("PATCH", ["partners", _]) => ("partner.update", "partner"),
        ("DELETE", ["partners", _]) => ("partner.delete", "partner"),
        ("POST", ["tenants"]) => ("tenant.create", "tenant"),
        ("PATCH", ["tenants", _]) => ("tenant.update", "tenant"),
        ("DELETE", ["tenants", _]) => ("tenant.delete", "tenant"),
        ("POST", ["users"]) => ("user.create", "user"),
        ("PATCH", ["users", _]) => ("user.update", "user"),
        ("DELETE", ["users", _]) => ("user.delete", "user"),
        ("POST", ["users", _, "reset-password"]) => ("user.reset_password", "user"),
        ("POST", ["users", _, "mfa", "disable"]) => ("user.mfa_disable", "user"),
        ("POST", ["users", _, "invite"]) => ("user.invite", "user"),
        ("POST", ["groups"]) => ("group.create", "group"),
        ("PATCH", ["groups", _]) => ("group.update", "group"),
        ("DELETE", ["groups", _]) => ("group.delete", "group"),
        ("POST", ["groups", _, "members"]) => ("group.member_add", "group"),
        ("DELETE", ["groups", _, "members", _]) => ("group.member_remove", "group"),
        ("POST", ["groups", _, "nested"]) => ("group.nest", "group"),
        ("DELETE", ["groups", _, "nested", _]) => ("group.unnest", "group"),
        ("POST", ["sessions", _, "revoke"]) => ("session.revoke", "session"),
        ("POST", ["applications"]) => ("application.create", "application"),
        ("PATCH", ["applications", _]) => ("application.update", "application"),
        ("DELETE", ["applications", _]) => ("application.delete", "application"),
        ("POST", ["applications", _, "rotate-secret"]) => ("application.rotate_secret", "application"),
        ("POST", ["applications", _, "assignments"]) => ("application.assign", "application"),
        ("DELETE", ["applications", _, "assignments", _]) => ("application.unassign", "application"),
        ("POST", ["registration-requests"]) => ("registration.create", "registration_request"),
        ("DELETE", ["registration-requests", _]) => ("registration.cancel", "registration_request"),
        ("POST", ["registration-requests", _, "approve"]) => ("registration.approve", "registration_request"),
        ("POST", ["registration-requests", _, "reject"]) => ("registration.reject", "registration_request"),
        ("POST", ["identity-providers"]) => ("identity_provider.create", "identity_provider"),
        ("PATCH", ["identity-providers", _]) => ("identity_provider.update", "identity_provider"),
        ("DELETE", ["identity-providers", _]) => ("identity_provider.delete", "identity_provider"),
        ("POST", ["agents"]) => ("agent.create", "agent"),
        ("PATCH", ["agents", _]) => ("agent.update", "agent"),
        ("DELETE", ["agents", _]) => ("agent.delete", "agent"),
        ("POST", ["agents", _, "rotate-secret"]) => ("agent.rotate_secret", "agent"),
        _ => ("admin.write", "unknown"),
    };
    let id = segs.get(1).map(|s| s.chars().take(MAX_ID).collect());
    (action, resource, id)
}

/// Called after every admin request: a write that succeeded drops the dashboard's cached counts
/// of this process (a caller reads its own writes).
pub fn note_if_written(res: &ServiceResponse) {
    let req = res.request();
    if req.method() == Method::GET || req.method() == Method::HEAD || !res.status().is_success() {
        return;
    }
    if let Some(state) = req.app_data::<actix_web::web::Data<AppState>>() {
        state.audit.note_write();
    }
}

/// Called after every admin request; records non-GET answers of 400 and above.
pub fn record_if_refused_response(res: &ServiceResponse) {
    let req = res.request();
    if req.method() == Method::GET || req.method() == Method::HEAD || res.status().as_u16() < 400 {
        return;
    }
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>() else { return };
    let status = res.status().as_u16();
    let result = if matches!(status, 401 | 403) { AuditResult::Denied } else { AuditResult::Failure };
    let (action, resource_type, resource_id) = classify(req.method(), req.path());
    let meta = request_meta(req);
    let principal = req.extensions().get::<Principal>().cloned();
    let mut rec = match &principal {
        Some(p) => AuditRecord::success(p, &meta, action, resource_type).with_result(result),
        None => AuditRecord::anonymous(&meta, action, resource_type, result),
    };
    if let Some(Principal::User(u)) = &principal {
        // A refused write belongs to the actor's tenant, so its admins see it.
        rec = rec.within(u.tenant_id, u.partner_id);
    }
    rec.resource_id = resource_id;
    rec.details = json!({"status": status});
    if rec.actor_type == ActorType::Anonymous {
        rec.details["reason"] = json!("not authenticated");
    }
    state.audit_sink.submit(rec, chrono::Utc::now());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_match_the_services_names() {
        let c = |m: Method, p: &str| classify(&m, p);
        assert_eq!(c(Method::POST, "/api/v1/admin/tenants"), ("tenant.create", "tenant", None));
        assert_eq!(c(Method::PATCH, "/api/v1/admin/tenants/tnt_x").0, "tenant.update");
        assert_eq!(c(Method::POST, "/api/v1/admin/users/usr_x/mfa/disable").0, "user.mfa_disable");
        assert_eq!(c(Method::DELETE, "/api/v1/admin/groups/g/members/u").0, "group.member_remove");
        assert_eq!(c(Method::POST, "/api/v1/admin/nowhere").0, "admin.write");
        let long = format!("/api/v1/admin/partners/{}", "x".repeat(500));
        assert_eq!(c(Method::PATCH, &long).2.unwrap().len(), MAX_ID);
    }
}
