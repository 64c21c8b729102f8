//! Applications' own scopes and resources (contract §7) through their whole life, and a stock
//! OAuth client that configures itself from discovery.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, Resp, TestApp, jwt_parts};
use serde_json::{Value, json};

const REPORTS: &str = "https://reports.example.com/api";

async fn tenant(admin: &ApiClient, name: &str) -> String {
    let r = admin.post("/api/v1/admin/tenants", json!({"name": name})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn created(admin: &ApiClient, path: &str, body: Value) -> Resp {
    let r = admin.post(path, body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r
}

fn credentials(r: &Resp) -> (String, String) {
    (r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_stock_client_configures_itself_from_discovery_and_gets_audience_bound_tokens() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, "Reports Inc").await;
    let svc = created(
        &admin,
        "/api/v1/admin/applications",
        json!({"name": "report-sync", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": t,
               "allowed_scopes": ["reports:read", "reports:write"], "allowed_resources": [REPORTS]}),
    )
    .await;
    let (id, secret) = credentials(&svc);
    let issuer = app.issuer.clone();
    let out = tokio::task::spawn_blocking(move || {
        scaikey_testkit::tools::run_python_script(
            "discovery_client.py",
            &[&issuer, &id, &secret, "reports:read", REPORTS],
            &[],
        )
    })
    .await
    .unwrap()
    .unwrap();
    let out: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(out["token_endpoint"], format!("{}/oauth/token", app.base_url));
    for method in ["client_secret_basic", "client_secret_post"] {
        let with = &out[method]["with_resource"];
        assert_eq!(with["header"]["typ"], "at+jwt", "{method}");
        assert_eq!(with["claims"]["aud"], REPORTS);
        assert_eq!(with["scope"], "reports:read");
        assert_eq!(with["claims"]["scope"], "reports:read");
        assert_eq!(with["claims"]["tenant_id"], t.as_str());
        assert_eq!(out[method]["plain"]["claims"]["aud"], "scaikey");
    }
    assert_eq!(out["foreign_resource"], "invalid_target");
}

#[tokio::test]
async fn custom_scopes_and_resources_through_applications_tokens_and_assignments() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, "Orders GmbH").await;
    let web = created(
        &admin,
        "/api/v1/admin/applications",
        json!({"name": "orders", "application_type": "WEB", "scope": "TENANT", "tenant_id": t,
               "redirect_uris": ["https://orders.example.com/cb"],
               "allowed_scopes": ["openid", "orders.write", "reports:read", "https://orders.example.com/x!y~z"],
               "allowed_resources": [REPORTS, "urn:orders:api"]}),
    )
    .await;
    assert_eq!(web.body["allowed_scopes"][3], "https://orders.example.com/x!y~z");
    assert_eq!(web.body["allowed_resources"], json!([REPORTS, "urn:orders:api"]));
    let web_id = web.id();
    // Read back, changed by PATCH, and assignments with effective users still work.
    let p = admin
        .patch(
            &format!("/api/v1/admin/applications/{web_id}"),
            json!({"allowed_scopes": ["openid", "orders.read"], "allowed_resources": []}),
        )
        .await
        .unwrap();
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        (p.body["allowed_scopes"].clone(), p.body["allowed_resources"].clone()),
        (json!(["openid", "orders.read"]), json!([]))
    );
    let user = created(
        &admin,
        "/api/v1/admin/users",
        json!({"email": "ana@orders.example", "password": "Passw0rd-Orders!", "tenant_id": t}),
    )
    .await;
    created(&admin, &format!("/api/v1/admin/applications/{web_id}/assignments"), json!({"user_id": user.id()})).await;
    let eff = admin.get(&format!("/api/v1/admin/applications/{web_id}/effective-users")).await.unwrap();
    assert_eq!(eff.body["pagination"]["total"], 1, "{}", eff.body);

    // A GLOBAL service with an admin scope, its own scope and a resource.
    let svc = created(
        &admin,
        "/api/v1/admin/applications",
        json!({"name": "ops", "application_type": "SERVICE", "scope": "GLOBAL",
               "allowed_scopes": ["admin:read", "sync:read"], "allowed_resources": [REPORTS]}),
    )
    .await;
    let (id, secret) = credentials(&svc);
    let basic = Some((id.as_str(), secret.as_str()));
    let narrowed =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("scope", "sync:read")]).await.unwrap();
    assert_eq!((narrowed.status, narrowed.body["scope"].as_str()), (200, Some("sync:read")), "{}", narrowed.body);
    let refused =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("scope", "sync:write")]).await.unwrap();
    assert_eq!((refused.status, refused.body["error"].as_str()), (400, Some("invalid_scope")));
    // A scope outside the scope-token grammar is invalid_scope; NUL anywhere in the form is a
    // malformed request before any scope is looked at.
    let malformed =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("scope", "sync:read\u{7f}")]).await.unwrap();
    assert_eq!((malformed.status, malformed.body["error"].as_str()), (400, Some("invalid_scope")));
    let nul =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("scope", "sync:read\u{0}")]).await.unwrap();
    assert_eq!((nul.status, nul.body["error"].as_str()), (400, Some("invalid_request")));
    let foreign = app
        .token_request(basic, &[("grant_type", "client_credentials"), ("resource", "https://x.example")])
        .await
        .unwrap();
    assert_eq!((foreign.status, foreign.body["error"].as_str()), (400, Some("invalid_target")), "{}", foreign.body);
    let relative =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("resource", "/api")]).await.unwrap();
    assert_eq!(relative.body["error"], "invalid_target");

    // A token for the reports API is not a token for ScaiKey's admin API, and vice versa.
    let for_reports =
        app.token_request(basic, &[("grant_type", "client_credentials"), ("resource", REPORTS)]).await.unwrap();
    assert_eq!(for_reports.status, 200, "{}", for_reports.body);
    let (header, claims) = jwt_parts(for_reports.body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!((header["typ"].as_str(), claims["aud"].as_str()), (Some("at+jwt"), Some(REPORTS)));
    let r =
        app.with_token(for_reports.body["access_token"].as_str().unwrap()).get("/api/v1/admin/tenants").await.unwrap();
    assert_eq!((r.status, r.detail()), (401, "Token is not meant for this API"));
    let own = app.token_request(basic, &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!(jwt_parts(own.body["access_token"].as_str().unwrap()).unwrap().1["aud"], "scaikey");
    assert_eq!(
        app.with_token(own.body["access_token"].as_str().unwrap()).get("/api/v1/admin/tenants").await.unwrap().status,
        200
    );

    // Agents hold custom scopes too.
    let agent = created(&admin, "/api/v1/admin/agents", json!({"name": "triage", "tenant_id": t, "allowed_scopes": ["admin:read", "tickets:read"], "allowed_tools": ["list_users"]})).await;
    assert_eq!(agent.body["allowed_scopes"], json!(["admin:read", "tickets:read"]));
}

#[tokio::test]
async fn a_registration_with_custom_scopes_becomes_an_application_that_gets_them() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, "Sync Ltd").await;
    let reg = created(
        &admin,
        "/api/v1/admin/registration-requests",
        json!({"scope": "TENANT", "tenant_id": t, "name": "sync-agent", "application_type": "SERVICE",
               "requested_scopes": ["sync:read", "sync:write"], "requested_resources": [REPORTS],
               "contact_email": "ops@sync.example"}),
    )
    .await;
    assert_eq!(reg.body["requested_scopes"], json!(["sync:read", "sync:write"]));
    assert_eq!(reg.body["requested_resources"], json!([REPORTS]));
    let approved = admin
        .post(&format!("/api/v1/admin/registration-requests/{}/approve", reg.id()), json!({"notes": "ok"}))
        .await
        .unwrap();
    assert_eq!(approved.status, 200, "{}", approved.body);
    let application = &approved.body;
    assert_eq!(application["allowed_scopes"], json!(["sync:read", "sync:write"]), "{}", approved.body);
    assert_eq!(application["allowed_resources"], json!([REPORTS]));
    let (id, secret) = (application["client_id"].as_str().unwrap(), application["client_secret"].as_str().unwrap());
    let tok = app
        .token_request(
            Some((id, secret)),
            &[("grant_type", "client_credentials"), ("scope", "sync:write"), ("resource", REPORTS)],
        )
        .await
        .unwrap();
    assert_eq!((tok.status, tok.body["scope"].as_str()), (200, Some("sync:write")), "{}", tok.body);
}

#[tokio::test]
async fn malformed_scopes_and_resources_are_422_at_their_index_and_reserved_names_keep_their_rule() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, "Strict AG").await;
    let long = "s".repeat(129);
    let r = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "bad", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": t,
                   "allowed_scopes": ["ok:1", "two words", "quo\"te", "back\\slash", "", long, "é", "ok:1"],
                   "allowed_resources": ["relative/path", "https://a.example/#frag", REPORTS]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.locs(),
        [
            "body.allowed_scopes.1",
            "body.allowed_scopes.2",
            "body.allowed_scopes.3",
            "body.allowed_scopes.4",
            "body.allowed_scopes.5",
            "body.allowed_scopes.6",
            "body.allowed_scopes.7",
            "body.allowed_resources.0",
            "body.allowed_resources.1",
        ]
    );
    // admin scopes stay reserved for GLOBAL SERVICE applications.
    let r = admin
        .post("/api/v1/admin/applications", json!({"name": "sneaky", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": t, "allowed_scopes": ["admin:write"]}))
        .await
        .unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.allowed_scopes"), "{}", r.body);
    let r = admin
        .post(
            "/api/v1/admin/registration-requests",
            json!({"scope": "TENANT", "tenant_id": t, "name": "x", "application_type": "WEB", "redirect_uris": ["https://x.example/cb"],
                   "requested_scopes": ["openid", "bad scope"], "requested_resources": ["nope"], "contact_email": "a@x.example"}),
        )
        .await
        .unwrap();
    assert_eq!(r.locs(), ["body.requested_scopes.1", "body.requested_resources.0"], "{}", r.body);
    let r = admin
        .post("/api/v1/admin/agents", json!({"name": "a", "tenant_id": t, "allowed_scopes": ["x y"]}))
        .await
        .unwrap();
    assert_eq!(r.locs(), ["body.allowed_scopes.0"], "{}", r.body);
}
