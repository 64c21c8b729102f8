//! A report service on axum that accepts ScaiKey access tokens meant for it, through the
//! tower layer.
//!
//! ```text
//! SCAIKEY_ISSUER=http://127.0.0.1:8080 RESOURCE=https://reports.example \
//!   cargo run -p scaikey-verifier --features tower --example axum_service
//! ```
//!
//! Every route needs a token with the scope `reports:read`; `GET /reports` answers who called.

use axum::routing::get;
use axum::{Extension, Json, Router};
use scaikey_verifier::tower::VerifyLayer;
use scaikey_verifier::{Principal, Verified, Verifier};
use serde_json::json;

async fn reports(Extension(token): Extension<Verified>) -> Json<serde_json::Value> {
    let (kind, subject) = match &token.principal {
        Principal::User(u) => ("user", u.user_id.to_string()),
        Principal::Client(c) => ("client", c.client_id.clone()),
        Principal::Agent(a) => ("agent", a.client_id.clone()),
    };
    Json(json!({
        "kind": kind,
        "subject": subject,
        "tenant_id": token.tenant_id.map(|t| t.to_string()),
        "scopes": token.scopes,
    }))
}

/// The service: routes behind the verifying layer.
pub fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/reports", get(reports))
        .layer(VerifyLayer::new(verifier).require_scopes(&["reports:read"]).realm("reports"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("SCAIKEY_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let resource = std::env::var("RESOURCE").unwrap_or_else(|_| "https://reports.example".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8091".into());
    let verifier = Verifier::builder(&issuer, &resource).discover().await?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("report service on http://{listen}, accepting tokens of {issuer} for {resource}");
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}
