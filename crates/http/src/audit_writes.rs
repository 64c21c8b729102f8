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
use scaikey_domain::audit::action;

/// Longest resource ID copied from a path into an event.
const MAX_ID: usize = 64;

/// The action and resource type of an admin write, from its method and path below
/// `/api/v1/admin/`, named as the services name their successes.
#[must_use]
pub fn classify(method: &Method, path: &str) -> (&'static str, &'static str, Option<String>) {
    let segs: Vec<&str> = path.trim_start_matches("/api/v1/admin/").trim_end_matches('/').split('/').collect();
    let m = method.as_str();
    let (action, resource) = match (m, segs.as_slice()) {
        ("POST", ["partners"]) => (action::PARTNER_CREATE, "partner"),
        ("PATCH", ["partners", _]) => (action::PARTNER_UPDATE, "partner"),
        ("DELETE", ["partners", _]) => (action::PARTNER_DELETE, "partner"),
        ("POST", ["tenants"]) => (action::TENANT_CREATE, "tenant"),
        ("PATCH", ["tenants", _]) => (action::TENANT_UPDATE, "tenant"),
        ("DELETE", ["tenants", _]) => (action::TENANT_DELETE, "tenant"),
        ("POST", ["users"]) => (action::USER_CREATE, "user"),
        ("PATCH", ["users", _]) => (action::USER_UPDATE, "user"),
        ("DELETE", ["users", _]) => (action::USER_DELETE, "user"),
        ("POST", ["users", _, "reset-password"]) => (action::USER_RESET_PASSWORD, "user"),
        ("POST", ["users", _, "mfa", "disable"]) => (action::USER_MFA_DISABLE, "user"),
        ("POST", ["users", _, "invite"]) => (action::USER_INVITE, "user"),
        ("POST", ["groups"]) => (action::GROUP_CREATE, "group"),
        ("PATCH", ["groups", _]) => (action::GROUP_UPDATE, "group"),
        ("DELETE", ["groups", _]) => (action::GROUP_DELETE, "group"),
        ("POST", ["groups", _, "members"]) => (action::GROUP_MEMBER_ADD, "group"),
        ("DELETE", ["groups", _, "members", _]) => (action::GROUP_MEMBER_REMOVE, "group"),
        ("POST", ["groups", _, "nested"]) => (action::GROUP_NEST, "group"),
        ("DELETE", ["groups", _, "nested", _]) => (action::GROUP_UNNEST, "group"),
        ("POST", ["sessions", _, "revoke"]) => (action::SESSION_REVOKE, "session"),
        ("POST", ["applications"]) => (action::APPLICATION_CREATE, "application"),
        ("PATCH", ["applications", _]) => (action::APPLICATION_UPDATE, "application"),
        ("DELETE", ["applications", _]) => (action::APPLICATION_DELETE, "application"),
        ("POST", ["applications", _, "rotate-secret"]) => (action::APPLICATION_ROTATE_SECRET, "application"),
        ("POST", ["applications", _, "assignments"]) => (action::APPLICATION_ASSIGN, "application"),
        ("DELETE", ["applications", _, "assignments", _]) => (action::APPLICATION_UNASSIGN, "application"),
        ("POST", ["registration-requests"]) => (action::REGISTRATION_CREATE, "registration_request"),
        ("DELETE", ["registration-requests", _]) => (action::REGISTRATION_CANCEL, "registration_request"),
        ("POST", ["registration-requests", _, "approve"]) => (action::REGISTRATION_APPROVE, "registration_request"),
        ("POST", ["registration-requests", _, "reject"]) => (action::REGISTRATION_REJECT, "registration_request"),
        ("POST", ["identity-providers"]) => (action::IDENTITY_PROVIDER_CREATE, "identity_provider"),
        ("PATCH", ["identity-providers", _]) => (action::IDENTITY_PROVIDER_UPDATE, "identity_provider"),
        ("DELETE", ["identity-providers", _]) => (action::IDENTITY_PROVIDER_DELETE, "identity_provider"),
        ("POST", ["agents"]) => (action::AGENT_CREATE, "agent"),
        ("PATCH", ["agents", _]) => (action::AGENT_UPDATE, "agent"),
        ("DELETE", ["agents", _]) => (action::AGENT_DELETE, "agent"),
        ("POST", ["agents", _, "rotate-secret"]) => (action::AGENT_ROTATE_SECRET, "agent"),
        _ => (action::ADMIN_WRITE, "unknown"),
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
