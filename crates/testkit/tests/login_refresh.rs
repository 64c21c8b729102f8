//! The JSON login's refresh token (contract §2): owned by the built-in public client
//! `scaikey-admin`, refreshed at `/oauth/token` with or without naming that client, answering an
//! admin token again (no `client_id`, so the admin API accepts it), rotated with reuse
//! detection, and dying with its SSO session, the user's suspension and a password reset.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, USER_PASSWORD};
use serde_json::{Value, json};

async fn login(app: &TestApp, email: &str, password: &str, tenant: Option<&str>) -> Value {
    let r = app
        .anonymous()
        .post("/api/v1/auth/login", json!({"email": email, "password": password, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn refresh(app: &TestApp, token: &str, extra: &[(&str, &str)]) -> scaikey_testkit::Resp {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend_from_slice(extra);
    app.token_request(None, &form).await.unwrap()
}

fn claims(token: &str) -> Value {
    scaikey_testkit::jwt_parts(token).unwrap().1
}

#[tokio::test]
async fn a_login_refresh_token_yields_admin_tokens_and_rotates() {
    let app = TestApp::spawn_with(&[("SCAIKEY_REFRESH_REUSE_GRACE_SECONDS", "0")]).await.unwrap();
    let first = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let rt1 = first["refresh_token"].as_str().expect("a refresh token").to_string();
    assert!(rt1.len() >= 43, "at least 256 bits: {rt1}");
    let sid = claims(first["access_token"].as_str().unwrap())["sid"].clone();

    // No client named at all: the JSON login's client is meant.
    let r = refresh(&app, &rt1, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body.get("id_token").is_none(), "an admin token, no ID token: {}", r.body);
    let access = r.body["access_token"].as_str().unwrap().to_string();
    let c = claims(&access);
    assert!(c.get("client_id").is_none_or(Value::is_null), "an admin token names no client: {c}");
    assert_eq!(c["sid"], sid, "the same SSO session");
    assert_eq!(c["roles"], json!(["super_admin"]));
    assert_eq!(c["aud"], "scaikey");
    let admin = app.with_token(&access);
    assert_eq!(admin.get("/api/v1/admin/partners").await.unwrap().status, 200, "the admin API takes it");
    let rt2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "rotated");

    // Naming the client works the same; a narrower scope may be asked for, never a wider one.
    let r = refresh(&app, &rt2, &[("client_id", "scaikey-admin"), ("scope", "openid email")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "openid email");
    let rt3 = r.body["refresh_token"].as_str().unwrap().to_string();
    let r = refresh(&app, &rt3, &[("scope", "openid profile")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_scope");

    // The spent first token again, after the grace: the whole family is revoked and audited.
    let r = refresh(&app, &rt1, &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_grant");
    let r = refresh(&app, &rt3, &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "the family died with the reuse: {}", r.body);
    let super_admin = app.super_admin().await.unwrap();
    let audit = super_admin.get("/api/v1/admin/audit?action=oauth.refresh_reuse").await.unwrap();
    assert_eq!(audit.body["pagination"]["total"], 1, "{}", audit.body);
}

#[tokio::test]
async fn other_clients_and_unknown_tokens_are_refused() {
    let app = TestApp::spawn().await.unwrap();
    let body = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let rt = body["refresh_token"].as_str().unwrap();
    // Without a client, an unknown token reads as an unknown client (as before this existed).
    let r = refresh(&app, "not-a-token-at-all", &[]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_client");
    // Another public client presenting it: the console has no refresh grant.
    let r = refresh(&app, rt, &[("client_id", "scaikey-console")]).await;
    assert_eq!(r.body["error"], "invalid_client", "{}", r.body);
    // A confidential application with the refresh grant may not take it either.
    let admin = app.super_admin().await.unwrap();
    let web = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Web app", "application_type": "WEB", "scope": "GLOBAL",
                   "redirect_uris": ["https://app.example/cb"], "grant_types": ["authorization_code", "refresh_token"],
                   "allowed_scopes": ["openid"]}),
        )
        .await
        .unwrap();
    assert_eq!(web.status, 201, "{}", web.body);
    let (id, secret) = (web.body["client_id"].as_str().unwrap(), web.body["client_secret"].as_str().unwrap());
    let r =
        app.token_request(Some((id, secret)), &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await.unwrap();
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    // All these left the token alone.
    assert_eq!(refresh(&app, rt, &[]).await.status, 200);
}

#[tokio::test]
async fn the_refresh_token_dies_with_the_session_suspension_and_password_reset() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant =
        admin.post("/api/v1/admin/tenants", json!({"name": "Refresh Co", "slug": "refresh-co"})).await.unwrap();
    let tenant_id = tenant.body["id"].as_str().unwrap().to_string();
    let email = "o'brien+ops@refresh.example";
    let user = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": email, "password": USER_PASSWORD, "tenant_id": tenant_id, "roles": ["tenant_admin"]}),
        )
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    let user_id = user.body["id"].as_str().unwrap().to_string();

    // A tenant admin's refreshed token keeps their reach.
    let b = login(&app, email, USER_PASSWORD, Some(&tenant_id)).await;
    let r = refresh(&app, b["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = claims(r.body["access_token"].as_str().unwrap());
    assert_eq!(c["tenant_id"], tenant_id.as_str());
    assert_eq!(c["roles"], json!(["tenant_admin"]));
    let t = app.with_token(r.body["access_token"].as_str().unwrap());
    assert_eq!(t.get(&format!("/api/v1/admin/tenants/{tenant_id}")).await.unwrap().status, 200);
    assert_eq!(t.get("/api/v1/admin/partners").await.unwrap().status, 403);

    // The session revoked by an admin: its refresh token is dead.
    let rt = r.body["refresh_token"].as_str().unwrap();
    let sid = c["sid"].as_str().unwrap();
    let revoke = admin.post(&format!("/api/v1/admin/sessions/{sid}/revoke"), json!({})).await.unwrap();
    assert!(revoke.status < 300, "{}", revoke.body);
    let r = refresh(&app, rt, &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);

    // Suspension.
    let b = login(&app, email, USER_PASSWORD, Some(&tenant_id)).await;
    let patch = admin.patch(&format!("/api/v1/admin/users/{user_id}"), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(patch.status, 200, "{}", patch.body);
    let r = refresh(&app, b["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    let patch = admin.patch(&format!("/api/v1/admin/users/{user_id}"), json!({"status": "active"})).await.unwrap();
    assert_eq!(patch.status, 200, "{}", patch.body);

    // A password reset ends every session, and so the refresh tokens bound to them.
    let b = login(&app, email, USER_PASSWORD, Some(&tenant_id)).await;
    let reset = admin
        .post(
            &format!("/api/v1/admin/users/{user_id}/reset-password"),
            json!({"new_password": "An0ther-str0ng-passphrase"}),
        )
        .await
        .unwrap();
    assert!(reset.status < 300, "{}", reset.body);
    let r = refresh(&app, b["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
}

#[tokio::test]
async fn built_in_clients_are_not_listed_and_cannot_be_changed() {
    // An issuer the console's callback can live under (loopback), so both clients exist.
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let list = admin.get("/api/v1/admin/applications?per_page=100").await.unwrap();
    assert_eq!(list.body["pagination"]["total"], 0, "ScaiKey's own clients are not the customer's: {}", list.body);
    let search = admin.get("/api/v1/admin/applications?search=scaikey").await.unwrap();
    assert_eq!(search.body["pagination"]["total"], 0, "{}", search.body);
    let mut conn = app.db.connect().await.unwrap();
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    for client_id in ["scaikey-admin", "scaikey-console"] {
        let row: Row = diesel::sql_query("SELECT id FROM applications WHERE client_id = $1")
            .bind::<diesel::sql_types::Text, _>(client_id)
            .get_result(&mut conn)
            .await
            .unwrap();
        let id = scaikey_domain::id::ApplicationId::generate_from(ulid::Ulid::from_bytes(row.id.into_bytes()));
        let path = format!("/api/v1/admin/applications/{id}");
        let a = admin.get(&path).await.unwrap();
        assert_eq!(a.status, 200, "read by ID: {}", a.body);
        assert_eq!(a.body["client_id"], client_id);
        let r = admin.patch(&path, json!({"redirect_uris": ["https://evil.example/cb"]})).await.unwrap();
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(client_id), "{}", r.body);
        assert_eq!(admin.delete(&path).await.unwrap().status, 409);
        assert_eq!(admin.get(&path).await.unwrap().body["redirect_uris"], a.body["redirect_uris"], "unchanged");
    }
}
