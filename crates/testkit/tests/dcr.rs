//! Dynamic client registration (RFC 7591/7592, contract §12): a registration lands in the
//! approval queue as a GLOBAL (or, with `scaikey_tenant`, TENANT) request for a public
//! third-party application, its client ID answered at once and working once approved (then a
//! person signs in to it, consenting); the registration can be read back with its token; bad
//! metadata is a 400 `invalid_client_metadata` (or `invalid_redirect_uri`); an IP is limited;
//! under `SCAIKEY_DCR_POLICY=auto` sign-in-only clients are approved at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::TestApp;
use scaikey_testkit::signin::SignIn;
use serde_json::{Value, json};

const CALLBACK: &str = "http://127.0.0.1:33418/callback";

async fn register(app: &TestApp, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(format!("{}/oauth/register", app.base_url)).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn read(app: &TestApp, client_id: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}/oauth/register/{client_id}", app.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_registered_client_waits_in_the_queue_and_works_once_approved() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let discovery: Value = reqwest::get(format!("{}/.well-known/oauth-authorization-server", app.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["registration_endpoint"], format!("{}/oauth/register", app.issuer));

    let (status, reg) = register(
        &app,
        json!({"client_name": "Desk ☕ \"agent\"", "redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none",
               "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
               "scope": "openid profile offline_access", "logo_uri": "https://ignored.example/logo.png", "software_id": "x"}),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    let client_id = reg["client_id"].as_str().unwrap().to_string();
    let token = reg["registration_access_token"].as_str().unwrap().to_string();
    assert_eq!(reg["scaikey_registration_status"], "PENDING");
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(reg["registration_client_uri"], format!("{}/oauth/register/{client_id}", app.issuer));

    // In the admin queue: a GLOBAL request for a NATIVE application.
    let queue = admin.get("/api/v1/admin/registration-requests?status=PENDING").await.unwrap();
    let req = &queue.body["items"][0];
    assert_eq!(
        (req["name"].as_str(), req["scope"].as_str()),
        (Some("Desk ☕ \"agent\""), Some("GLOBAL")),
        "{}",
        queue.body
    );
    assert_eq!(req["application_type"], "NATIVE");
    let req_id = req["id"].as_str().unwrap().to_string();
    assert_eq!(reg["scaikey_registration_request_id"], req_id.as_str());

    // Before approval the client ID opens no sign-in.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/oauth/authorize?client_id={client_id}&redirect_uri={CALLBACK}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            app.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The registration reads back with its token only.
    let (s, got) = read(&app, &client_id, &token).await;
    assert_eq!((s, got["scaikey_registration_status"].as_str()), (200, Some("PENDING")), "{got}");
    assert!(got.get("registration_access_token").is_none());
    assert_eq!(read(&app, &client_id, "wrong").await.0, 401);
    assert_eq!(read(&app, "ck_unknown", &token).await.0, 401);

    // Approved: the application has the answered client ID, is third-party and public.
    let a = admin.post(&format!("/api/v1/admin/registration-requests/{req_id}/approve"), json!({})).await.unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["client_id"], client_id.as_str());
    assert_eq!(a.body["first_party"], false);
    assert_eq!(a.body["client_secret"], Value::Null);
    assert_eq!(read(&app, &client_id, &token).await.1["scaikey_registration_status"], "APPROVED");

    // And a person signs in to it (consenting, as to any third-party application).
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "ana@acme.example", "password": "Ana-Register-1", "tenant_id": tenant}),
        )
        .await
        .unwrap();
    let tokens = app
        .sign_in_with_code(&SignIn {
            client_id: &client_id,
            client_secret: None,
            redirect_uri: CALLBACK,
            scope: "openid profile",
            resource: None,
            email: "ana@acme.example",
            password: "Ana-Register-1",
        })
        .await
        .unwrap();
    assert!(tokens["id_token"].is_string(), "{tokens}");
}

#[tokio::test]
async fn bad_metadata_is_refused_and_an_address_is_limited() {
    let app = TestApp::spawn().await.unwrap();
    for (body, code) in [
        (json!({"client_name": "x"}), "invalid_client_metadata"),
        (
            json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
        (json!({"redirect_uris": [CALLBACK], "grant_types": ["client_credentials"]}), "invalid_client_metadata"),
        (json!({"redirect_uris": ["http://app.example/cb"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": [CALLBACK], "scaikey_tenant": "no-such-tenant"}), "invalid_client_metadata"),
        (json!({"redirect_uris": [CALLBACK], "client_name": "a\u{0}b"}), "invalid_client_metadata"),
        (json!([1, 2]), "invalid_client_metadata"),
    ] {
        let (s, b) = register(&app, body.clone()).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{body}: {b}");
        assert!(b["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/register", app.base_url))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // Twenty registrations an hour per address, then 429.
    let mut limited = None;
    for i in 0..25 {
        let (s, _) = register(&app, json!({"redirect_uris": [CALLBACK], "client_name": format!("c{i}")})).await;
        if s == 429 {
            limited = Some(i);
            break;
        }
        assert_eq!(s, 201);
    }
    assert_eq!(limited, Some(scaikey_domain::dcr::IP_MAX_REGISTRATIONS as usize));
}

#[tokio::test]
async fn the_auto_policy_approves_sign_in_clients_at_once() {
    let app = TestApp::spawn_with(&[("SCAIKEY_DCR_POLICY", "auto")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let mcp = format!("{}/mcp", app.issuer);
    let (s, b) = register(&app, json!({"redirect_uris": [CALLBACK], "scope": "openid email", "resource": mcp})).await;
    assert_eq!((s, b["scaikey_registration_status"].as_str()), (201, Some("APPROVED")), "{b}");
    let apps = admin.get(&format!("/api/v1/admin/applications?search={}", "Registered")).await.unwrap();
    assert!(apps.body["items"].as_array().unwrap().iter().any(|a| a["client_id"] == b["client_id"]), "{}", apps.body);
    // Anything more waits for an admin; a tenant named by slug makes a TENANT request.
    admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap();
    let (s, b) =
        register(&app, json!({"redirect_uris": [CALLBACK], "scope": "openid orders:read", "scaikey_tenant": "acme"}))
            .await;
    assert_eq!((s, b["scaikey_registration_status"].as_str()), (201, Some("PENDING")), "{b}");
    let r = admin
        .get(&format!("/api/v1/admin/registration-requests/{}", b["scaikey_registration_request_id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(r.body["scope"], "TENANT", "{}", r.body);
}

/// An issuer with a path (behind a proxy): the metadata also answers at RFC 8414's
/// path-inserted well-known forms MCP clients try, and only for that path.
#[tokio::test]
async fn metadata_at_the_path_inserted_well_known_forms() {
    let app = TestApp::spawn_discoverable(&[("SCAIKEY_ISSUER", "https://id.example.com/acme")]).await.unwrap();
    for path in ["/.well-known/oauth-authorization-server/acme", "/.well-known/openid-configuration/acme"] {
        let r = app.anonymous().get(path).await.unwrap();
        assert_eq!((r.status, r.body["issuer"].as_str()), (200, Some("https://id.example.com/acme")), "{path}");
        assert_eq!(r.body["authorization_endpoint"], "https://id.example.com/acme/oauth/authorize");
    }
    for path in ["/.well-known/oauth-authorization-server/other", "/.well-known/openid-configuration/acme/x"] {
        assert_eq!(app.anonymous().get(path).await.unwrap().status, 404, "{path}");
    }
    let plain = TestApp::spawn().await.unwrap();
    assert_eq!(plain.anonymous().get("/.well-known/oauth-authorization-server/acme").await.unwrap().status, 404);
}
