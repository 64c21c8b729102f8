//! `offline_access` (contract §8): without it a refresh token dies with its SSO session; with
//! it the token outlives the session (its access tokens still answer userinfo), and dies on a
//! password reset, a suspension (for good, even after reactivation), an MFA disable or an
//! explicit revocation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::signin::SignIn;
use scaikey_testkit::{ApiClient, TestApp, jwt_parts};
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Rp {
    client_id: String,
    secret: String,
    user_id: String,
}

async fn setup(app: &TestApp, admin: &ApiClient) -> Rp {
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme"})).await.unwrap().id();
    let r = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Mail app", "application_type": "NATIVE", "scope": "TENANT", "tenant_id": tenant,
                   "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email", "offline_access"],
                   "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let u = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "kai@acme.example", "password": "Kai-Passw0rd!", "tenant_id": tenant}),
        )
        .await
        .unwrap();
    let _ = app;
    Rp {
        client_id: r.body["client_id"].as_str().unwrap().into(),
        secret: r.body["client_secret"].as_str().unwrap_or_default().into(),
        user_id: u.id(),
    }
}

async fn refresh_token(app: &TestApp, rp: &Rp, scope: &str) -> String {
    let secret = (!rp.secret.is_empty()).then_some(rp.secret.as_str());
    let t = app
        .sign_in_with_code(&SignIn {
            client_id: &rp.client_id,
            client_secret: secret,
            redirect_uri: REDIRECT,
            scope,
            resource: None,
            email: "kai@acme.example",
            password: "Kai-Passw0rd!",
        })
        .await
        .unwrap();
    t["refresh_token"].as_str().unwrap().to_string()
}

/// Refreshes; answers the new refresh and access tokens, or the error code.
async fn refresh(app: &TestApp, rp: &Rp, token: &str) -> Result<(String, String), String> {
    let mut form =
        vec![("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", rp.client_id.as_str())];
    let basic = (!rp.secret.is_empty()).then_some((rp.client_id.as_str(), rp.secret.as_str()));
    if basic.is_some() {
        form.pop();
    }
    let r = app.token_request(basic, &form).await.unwrap();
    if r.status == 200 {
        Ok((r.body["refresh_token"].as_str().unwrap().into(), r.body["access_token"].as_str().unwrap().into()))
    } else {
        Err(r.body["error"].as_str().unwrap_or_default().to_string())
    }
}

async fn end_sessions(admin: &ApiClient, user: &str) {
    let list = admin.get(&format!("/api/v1/admin/sessions?user_id={user}")).await.unwrap();
    for s in list.body["items"].as_array().unwrap() {
        let r = admin
            .post(&format!("/api/v1/admin/sessions/{}/revoke", s["id"].as_str().unwrap()), json!({}))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
}

#[tokio::test]
async fn offline_refresh_tokens_outlive_the_session_and_die_with_the_user() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let rp = setup(&app, &admin).await;

    let bound = refresh_token(&app, &rp, "openid email").await;
    let offline = refresh_token(&app, &rp, "openid email offline_access").await;
    end_sessions(&admin, &rp.user_id).await;
    assert_eq!(refresh(&app, &rp, &bound).await.unwrap_err(), "invalid_grant", "a session-bound token dies with it");
    let (offline, access) = refresh(&app, &rp, &offline).await.expect("an offline token outlives the session");
    let sid = jwt_parts(&access).unwrap().1["sid"].as_str().unwrap().to_string();
    let sessions = admin.get(&format!("/api/v1/admin/sessions?user_id={}&active=any", rp.user_id)).await.unwrap();
    assert!(
        sessions.body["items"].as_array().unwrap().iter().all(|s| s["id"] != sid.as_str()),
        "its tokens name the offline family, not an SSO session"
    );
    let info = reqwest::Client::new()
        .get(format!("{}/oauth/userinfo", app.base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200, "userinfo answers an offline token after sign-out");
    let (offline, _) = refresh(&app, &rp, &offline).await.expect("and keeps rotating");

    // A password reset ends it.
    let r = admin
        .post(&format!("/api/v1/admin/users/{}/reset-password", rp.user_id), json!({"new_password": "Kai-Passw0rd!"}))
        .await
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(refresh(&app, &rp, &offline).await.unwrap_err(), "invalid_grant");

    // A suspension ends it for good: reactivating does not bring it back.
    let offline = refresh_token(&app, &rp, "openid offline_access").await;
    let path = format!("/api/v1/admin/users/{}", rp.user_id);
    assert_eq!(admin.patch(&path, json!({"status": "suspended"})).await.unwrap().status, 200);
    assert_eq!(admin.patch(&path, json!({"status": "active"})).await.unwrap().status, 200);
    assert_eq!(refresh(&app, &rp, &offline).await.unwrap_err(), "invalid_grant");

    // So does an MFA disable.
    let offline = refresh_token(&app, &rp, "openid offline_access").await;
    let r = admin.post(&format!("/api/v1/admin/users/{}/mfa/disable", rp.user_id), json!({})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(refresh(&app, &rp, &offline).await.unwrap_err(), "invalid_grant");
}
