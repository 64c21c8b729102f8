//! NUL (`\u0000`) in any string, key or parameter is refused where it enters: a 4xx with the
//! field's location, never a 500 from a database that cannot store it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn nul_bytes_never_reach_the_database() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Bytes"})).await.unwrap().id();
    let user = admin
        .post("/api/v1/admin/users", json!({"email": "u@bytes.example", "password": "Passw0rd-Bytes!", "tenant_id": t}))
        .await
        .unwrap()
        .id();
    let reg = admin
        .post(
            "/api/v1/admin/registration-requests",
            json!({"scope": "TENANT", "tenant_id": t, "name": "r", "application_type": "SERVICE", "contact_email": "c@x.example"}),
        )
        .await
        .unwrap()
        .id();
    let nul = "a\u{0}b";
    let bodies = [
        (
            "POST",
            "/api/v1/auth/login".to_string(),
            json!({"email": format!("u{nul}@bytes.example"), "password": "x"}),
            "body.email",
        ),
        ("POST", "/api/v1/admin/partners".into(), json!({"name": nul}), "body.name"),
        (
            "POST",
            "/api/v1/admin/tenants".into(),
            json!({"name": "ok", "settings": {nul: true}}),
            "body.settings.a\u{0}b",
        ),
        (
            "POST",
            "/api/v1/admin/tenants".into(),
            json!({"name": "ok", "branding": {"logo": nul}}),
            "body.branding.logo",
        ),
        (
            "PATCH",
            format!("/api/v1/admin/users/{user}"),
            json!({"custom_attributes": {"dept": nul}}),
            "body.custom_attributes.dept",
        ),
        (
            "PATCH",
            format!("/api/v1/admin/users/{user}"),
            json!({"custom_attributes": {nul: "x"}}),
            "body.custom_attributes.a\u{0}b",
        ),
        (
            "POST",
            "/api/v1/admin/groups".into(),
            json!({"name": "g", "description": nul, "tenant_id": t}),
            "body.description",
        ),
        (
            "POST",
            "/api/v1/admin/applications".into(),
            json!({"name": "w", "application_type": "WEB", "scope": "TENANT", "tenant_id": t, "redirect_uris": [format!("https://a.example/{nul}")]}),
            "body.redirect_uris.0",
        ),
        (
            "POST",
            "/api/v1/admin/registration-requests".into(),
            json!({"scope": "TENANT", "tenant_id": t, "name": "r", "application_type": "SERVICE", "contact_email": "c@x.example", "organization_name": nul}),
            "body.organization_name",
        ),
        (
            "POST",
            "/api/v1/admin/identity-providers".into(),
            json!({"name": "i", "tenant_id": t, "protocol": "OIDC", "issuer": format!("https://idp.example/{nul}"), "client_id": "c"}),
            "body.issuer",
        ),
        ("POST", format!("/api/v1/admin/registration-requests/{reg}/approve"), json!({"notes": nul}), "body.notes"),
    ];
    for (method, path, body, loc) in bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = admin.raw(m, &path, Some(bytes)).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{method} {path}: {}", r.body);
    }
    // Query parameters: search and audit filters.
    for path in
        ["/api/v1/admin/users?search=a%00b", "/api/v1/admin/audit?action=a%00b", "/api/v1/admin/partners?search=%00"]
    {
        let r = admin.get(path).await.unwrap();
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert_eq!(r.body["detail"][0]["loc"][0], "query", "{path}");
    }
    // Forms of the token endpoint (no authentication needed to try).
    let r = app
        .token_request(None, &[("grant_type", "client_credentials"), ("client_id", "ck\u{0}x"), ("client_secret", "s")])
        .await
        .unwrap();
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_request")), "{}", r.body);
    // Nothing was stored: the partner list is empty and the approval did not happen.
    assert_eq!(admin.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"], 0);
    assert_eq!(
        admin.get(&format!("/api/v1/admin/registration-requests/{reg}")).await.unwrap().body["status"],
        "PENDING"
    );
    // Text with an escaped backslash before u0000 is ordinary text.
    let ok = admin.post("/api/v1/admin/partners", json!({"name": "a\\u0000b"})).await.unwrap();
    assert_eq!(ok.status, 201, "{}", ok.body);
}

/// Numbers near `f64::MAX` come back from PostgreSQL as 309 plain digits no JSON double reads:
/// refused at their path (422) instead of stored and then failing every read (the fuzzer's
/// 500 on `POST /tenants`).
#[tokio::test]
async fn numbers_that_could_not_be_read_back_are_refused() {
    let app = scaikey_testkit::TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let huge = r#"{"name": "Huge", "branding": {"x": [1, 1.7976931348623155e308]}}"#;
    let r = admin.raw(reqwest::Method::POST, "/api/v1/admin/tenants", Some(huge.as_bytes().to_vec())).await.unwrap();
    assert_eq!((r.status, r.first_loc()), (422, "body.branding.x.1".to_string()), "{}", r.body);
    let ok = r#"{"name": "Big", "branding": {"x": 1e300}, "settings": {"n": -4.8e-123}}"#;
    let r = admin.raw(reqwest::Method::POST, "/api/v1/admin/tenants", Some(ok.as_bytes().to_vec())).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert_eq!(admin.get(&format!("/api/v1/admin/tenants/{id}")).await.unwrap().status, 200);
}
