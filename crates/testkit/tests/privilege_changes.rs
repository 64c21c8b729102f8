//! Every change that lowers what a principal may do takes effect at once for tokens already
//! issued — on the process that made the change, and within the poll window on a second process
//! on the same database (issue 17): role changes, user, tenant and partner suspension and
//! deletion, and a tenant's move to another partner. A reactivated tenant's new tokens work; its
//! old ones stay refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use scaikey_testkit::{ApiClient, Sibling, TestApp};
use serde_json::{Value, json};

/// Asserts `token` gets `want` for `GET path` here at once and on `other` within 3 s.
async fn answers(app: &TestApp, other: &Sibling, token: &str, path: &str, want: u16, what: &str) {
    let here = app.with_token(token).get(path).await.unwrap();
    assert_eq!(here.status, want, "{what}, same process: {}", here.body);
    let there = other.with_token(token);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = there.get(path).await.unwrap();
        if r.status == want {
            break;
        }
        assert!(Instant::now() < deadline, "{what}, second process still answers {}: {}", r.status, r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn user(admin: &ApiClient, email: &str, roles: &[&str], tenant: Option<&str>) -> String {
    let mut body = json!({"email": email, "password": "Str0ng-Passw0rd!", "roles": roles});
    if let Some(t) = tenant {
        body["tenant_id"] = json!(t);
    }
    let r = admin.post("/api/v1/admin/users", body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn token(app: &TestApp, email: &str, tenant: Option<&str>) -> String {
    app.login(email, "Str0ng-Passw0rd!", tenant).await.unwrap().token().unwrap().to_string()
}

struct World {
    partner: String,
    other_partner: String,
    tenant: String,
    sibling_tenant: String,
}

async fn world(admin: &ApiClient) -> World {
    let partner = admin.post("/api/v1/admin/partners", json!({"name": "Resellers"})).await.unwrap().id();
    let other_partner = admin.post("/api/v1/admin/partners", json!({"name": "Others"})).await.unwrap().id();
    let tenant =
        admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "partner_id": partner})).await.unwrap().id();
    let sibling_tenant =
        admin.post("/api/v1/admin/tenants", json!({"name": "Globex", "partner_id": partner})).await.unwrap().id();
    World { partner, other_partner, tenant, sibling_tenant }
}

fn users_of(t: &str) -> String {
    format!("/api/v1/admin/users?tenant_id={t}")
}

#[tokio::test]
async fn role_changes_cut_old_tokens_everywhere() {
    let app = TestApp::spawn().await.unwrap();
    let other = app.second_process().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let w = world(&admin).await;

    // A tenant admin whose roles are removed.
    let ta = user(&admin, "ta@acme.example", &["tenant_admin"], Some(&w.tenant)).await;
    let old = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    answers(&app, &other, &old, &users_of(&w.tenant), 200, "a tenant admin lists its users").await;
    let r = admin.patch(&format!("/api/v1/admin/users/{ta}"), json!({"roles": []})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    answers(&app, &other, &old, &users_of(&w.tenant), 401, "the old token after the roles went").await;
    // Renaming someone cuts nothing.
    let fresh = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    assert_eq!(
        admin.patch(&format!("/api/v1/admin/users/{ta}"), json!({"first_name": "Ana"})).await.unwrap().status,
        200
    );
    answers(&app, &other, &fresh, &users_of(&w.tenant), 403, "a valid token without a role, after a rename").await;

    // A partner admin demoted to tenant admin loses the sibling tenant.
    let pa = user(&admin, "pa@resellers.example", &["tenant_admin", "partner_admin"], Some(&w.tenant)).await;
    let old = token(&app, "pa@resellers.example", Some(&w.tenant)).await;
    answers(&app, &other, &old, &users_of(&w.sibling_tenant), 200, "a partner admin reaches a sibling tenant").await;
    let r = admin.patch(&format!("/api/v1/admin/users/{pa}"), json!({"roles": ["tenant_admin"]})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    answers(&app, &other, &old, &users_of(&w.sibling_tenant), 401, "the demoted admin's old token").await;
    let new = token(&app, "pa@resellers.example", Some(&w.tenant)).await;
    let tenant_path = |t: &str| format!("/api/v1/admin/tenants/{t}");
    answers(&app, &other, &new, &tenant_path(&w.sibling_tenant), 404, "the new token has the new reach").await;
    answers(&app, &other, &new, &tenant_path(&w.tenant), 200, "and keeps its own tenant").await;
}

#[tokio::test]
async fn suspended_or_deleted_tenants_and_partners_lose_every_token() {
    let app = TestApp::spawn().await.unwrap();
    let other = app.second_process().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let w = world(&admin).await;
    user(&admin, "ta@acme.example", &["tenant_admin"], Some(&w.tenant)).await;
    user(&admin, "pa@resellers.example", &["partner_admin"], Some(&w.sibling_tenant)).await;
    let ta = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    let pa = token(&app, "pa@resellers.example", Some(&w.sibling_tenant)).await;
    // A TENANT service application of the tenant.
    let svc = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Export", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": w.tenant, "allowed_scopes": ["reports:read"]}),
        )
        .await
        .unwrap();
    let (cid, secret) = (svc.body["client_id"].as_str().unwrap(), svc.body["client_secret"].as_str().unwrap());
    let client_token = |base: &str| {
        let (cid, secret) = (cid.to_string(), secret.to_string());
        let app_url = base.to_string();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{app_url}/oauth/token"))
                .basic_auth(&cid, Some(&secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = client_token(&app.base_url).await;
    assert_eq!(status, 200, "{body}");
    let svc_token = body["access_token"].as_str().unwrap().to_string();
    let svc_id = svc.id();
    let own_app = format!("/api/v1/admin/applications/{svc_id}/effective-users");
    answers(&app, &other, &svc_token, &own_app, 200, "an application reads its own effective users").await;

    // Suspend the tenant: its admin's and its application's tokens stop; no new client token.
    let t = format!("/api/v1/admin/tenants/{}", w.tenant);
    assert_eq!(admin.patch(&t, json!({"status": "suspended"})).await.unwrap().status, 200);
    answers(&app, &other, &ta, &users_of(&w.tenant), 401, "a suspended tenant's admin").await;
    answers(&app, &other, &svc_token, &own_app, 401, "a suspended tenant's application").await;
    let (status, body) = client_token(&app.base_url).await;
    assert_eq!((status, &body["error"]), (401, &json!("invalid_client")), "no client token for a suspended tenant");
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, _) = client_token(&other.base_url).await;
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "the second process still issues client tokens for a suspended tenant");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The partner admin reaches the other tenant still.
    answers(&app, &other, &pa, &users_of(&w.sibling_tenant), 200, "the partner's admin is not the tenant's").await;

    // Reactivated: new tokens work, the old ones stay refused.
    assert_eq!(admin.patch(&t, json!({"status": "active"})).await.unwrap().status, 200);
    let (status, body) = client_token(&app.base_url).await;
    assert_eq!(status, 200, "{body}");
    answers(
        &app,
        &other,
        body["access_token"].as_str().unwrap(),
        &own_app,
        200,
        "a new client token after reactivation",
    )
    .await;
    answers(&app, &other, &svc_token, &own_app, 401, "the client token from before the suspension").await;
    let ta_new = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    answers(&app, &other, &ta_new, &users_of(&w.tenant), 200, "a new login after reactivation").await;

    // A suspended partner's admin can no longer create partner admins (or anything).
    let p = format!("/api/v1/admin/partners/{}", w.partner);
    assert_eq!(admin.patch(&p, json!({"status": "suspended"})).await.unwrap().status, 200);
    let create = app
        .with_token(&pa)
        .post(
            "/api/v1/admin/users",
            json!({"email": "x@resellers.example", "password": "Str0ng-Passw0rd!", "roles": ["partner_admin"]}),
        )
        .await
        .unwrap();
    assert_eq!(create.status, 401, "{}", create.body);
    answers(&app, &other, &ta_new, &users_of(&w.tenant), 401, "a suspended partner's tenants' admins").await;
    assert_eq!(admin.patch(&p, json!({"status": "active"})).await.unwrap().status, 200);

    // A deleted tenant's admin cannot patch its users any more.
    let ta_last = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    answers(&app, &other, &ta_last, &users_of(&w.tenant), 200, "before the deletion").await;
    let users = admin.get(&users_of(&w.tenant)).await.unwrap();
    let someone = users.body["items"][0]["id"].as_str().unwrap().to_string();
    // Delete the tenant's application first if the tenant requires it to be empty.
    let _ = admin.delete(&format!("/api/v1/admin/applications/{svc_id}")).await.unwrap();
    let del = admin.delete(&t).await.unwrap();
    assert!(del.status == 204 || del.status == 200, "{}", del.body);
    let patch = app
        .with_token(&ta_last)
        .patch(&format!("/api/v1/admin/users/{someone}"), json!({"first_name": "Z"}))
        .await
        .unwrap();
    assert_eq!(patch.status, 401, "{}", patch.body);
    answers(&app, &other, &ta_last, &users_of(&w.tenant), 401, "a deleted tenant's admin").await;
}

#[tokio::test]
async fn a_tenant_moved_to_another_partner_cuts_tokens_that_name_the_old_one() {
    let app = TestApp::spawn().await.unwrap();
    let other = app.second_process().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let w = world(&admin).await;
    user(&admin, "ta@acme.example", &["tenant_admin"], Some(&w.tenant)).await;
    let old = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    answers(&app, &other, &old, &users_of(&w.tenant), 200, "before the move").await;
    let r = admin
        .patch(&format!("/api/v1/admin/tenants/{}", w.tenant), json!({"partner_id": w.other_partner}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    answers(&app, &other, &old, &users_of(&w.tenant), 401, "a token naming the old partner").await;
    let new = token(&app, "ta@acme.example", Some(&w.tenant)).await;
    let claims = scaikey_testkit::jwt_parts(&new).unwrap().1;
    assert_eq!(claims["partner_id"], w.other_partner.as_str());
    answers(&app, &other, &new, &users_of(&w.tenant), 200, "a new login names the new partner").await;
}
