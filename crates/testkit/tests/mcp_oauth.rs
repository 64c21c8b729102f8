//! MCP authorization end to end (contract §12) with the official Python MCP SDK's own OAuth
//! client (`py/mcp_oauth_client.py`): a 401 from `/mcp` leads it through the protected-resource
//! metadata and the authorization server metadata to dynamic registration (approved at once
//! under `SCAIKEY_DCR_POLICY=auto`), the hosted login and consent with PKCE and `resource`, and
//! the code redemption; its token (audience `{issuer}/mcp`) then lists and calls tools with the
//! person's reach.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{TestApp, tools};
use serde_json::{Value, json};

#[tokio::test]
async fn the_official_sdk_authorizes_itself_and_calls_tools_as_the_person() {
    let app = TestApp::spawn_discoverable(&[("SCAIKEY_DCR_POLICY", "auto")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let acme = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let other = admin.post("/api/v1/admin/tenants", json!({"name": "Other", "slug": "other"})).await.unwrap().id();
    for (email, tenant, roles) in [
        ("boss@acme.example", &acme, json!(["tenant_admin"])),
        ("ana@acme.example", &acme, json!([])),
        ("olaf@other.example", &other, json!([])),
    ] {
        let u = admin
            .post(
                "/api/v1/admin/users",
                json!({"email": email, "password": "Boss-Passw0rd!", "tenant_id": tenant, "roles": roles}),
            )
            .await
            .unwrap();
        assert_eq!(u.status, 201, "{}", u.body);
    }
    let mcp = format!("{}/mcp", app.base_url);
    let url = mcp.clone();
    let raw = tokio::task::spawn_blocking(move || {
        tools::run_python_script("mcp_oauth_client.py", &[&url, "boss@acme.example", "Boss-Passw0rd!"], &[])
    })
    .await
    .unwrap()
    .unwrap();
    let out: Value = serde_json::from_str(raw.trim()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    // The SDK asked for the MCP resource with PKCE, and went through login and consent.
    assert_eq!(out["authorize"]["resource"], mcp.as_str(), "{out}");
    assert_eq!(out["authorize"]["code_challenge_method"], "S256");
    let pages: Vec<&str> = out["pages"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(pages.contains(&"303 POST /login") && pages.contains(&"303 POST /consent"), "{pages:?}");
    assert_eq!(out["aud"], mcp.as_str());
    assert_eq!(out["tools"], scaikey_domain::mcp::TOOLS.len());
    assert_eq!(out["is_error"], false, "{out}");
    let mut emails: Vec<&str> = out["emails"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["ana@acme.example", "boss@acme.example"], "the person's reach");

    // The client registered itself into the queue (approved by the policy) as a third party.
    let client_id = out["client_id"].as_str().unwrap();
    let apps = admin.get("/api/v1/admin/applications?search=MCP%20SDK").await.unwrap();
    let registered = apps.body["items"].as_array().unwrap().iter().find(|a| a["client_id"] == client_id).unwrap();
    assert_eq!(registered["first_party"], false);
    assert_eq!(registered["allowed_resources"], json!([mcp]));
}
