//! A report service on actix-web that accepts ScaiKey access tokens meant for it.
//!
//! ```text
//! SCAIKEY_ISSUER=http://127.0.0.1:8080 RESOURCE=https://reports.example \
//!   cargo run -p scaikey-verifier --features actix --example actix_service
//! ```
//!
//! - `GET /reports` needs a token with the scope `reports:read` and answers who called.
//! - `GET /tenants/{tenant_id}/reports` also asks ScaiKey's access rules whether the caller
//!   reaches that tenant (a tenant admin its own, a partner admin its partner's, the platform all).

use actix_web::{App, HttpResponse, HttpServer, web};
use scaikey_domain::access::{Action, Owner, Target, can};
use scaikey_domain::id::TenantId;
use scaikey_verifier::actix::Bearer;
use scaikey_verifier::{Principal, Verified, Verifier, VerifyError};
use serde_json::json;

fn who(token: &Verified) -> serde_json::Value {
    let (kind, subject) = match &token.principal {
        Principal::User(u) => ("user", u.user_id.to_string()),
        Principal::Client(c) => ("client", c.client_id.clone()),
        Principal::Agent(a) => ("agent", a.client_id.clone()),
    };
    json!({
        "kind": kind,
        "subject": subject,
        "tenant_id": token.tenant_id.map(|t| t.to_string()),
        "client_id": token.client_id,
        "scopes": token.scopes,
    })
}

async fn reports(Bearer(token): Bearer) -> Result<HttpResponse, VerifyError> {
    token.require_scopes(&["reports:read"])?;
    Ok(HttpResponse::Ok().json(who(&token)))
}

async fn tenant_reports(Bearer(token): Bearer, tenant: web::Path<String>) -> Result<HttpResponse, VerifyError> {
    token.require_scopes(&["reports:read"])?;
    let Ok(tenant) = tenant.parse::<TenantId>() else {
        return Ok(HttpResponse::NotFound().json(json!({"detail": "Tenant not found"})));
    };
    // The partner is unknown to this service; ScaiKey's rule needs it only for partner admins,
    // whose own tenants a real service would look up.
    let owner = Owner::Tenant { tenant, partner: token.partner_id };
    if !can(&token.principal, Action::Read, Target::Owned(&owner)).is_allowed() {
        return Ok(HttpResponse::Forbidden().json(json!({"detail": "Not your tenant"})));
    }
    Ok(HttpResponse::Ok().json(json!({"tenant_id": tenant.to_string(), "caller": who(&token)})))
}

/// The routes; the [`Verifier`] must be registered as `web::Data`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports", web::get().to(reports)).route("/tenants/{tenant_id}/reports", web::get().to(tenant_reports));
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("SCAIKEY_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let resource = std::env::var("RESOURCE").unwrap_or_else(|_| "https://reports.example".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let verifier = web::Data::new(Verifier::builder(&issuer, &resource).discover().await?);
    println!("report service on http://{listen}, accepting tokens of {issuer} for {resource}");
    HttpServer::new(move || App::new().app_data(verifier.clone()).configure(routes)).bind(listen)?.run().await?;
    Ok(())
}
