//! Assignments and effective users: nested groups across tenants, who may ask, pagination.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, TestApp, USER_PASSWORD};
use serde_json::{Value, json};

async fn post_id(c: &ApiClient, path: &str, body: Value) -> String {
    let r = c.post(path, body).await.unwrap();
    assert_eq!(r.status, 201, "{path}: {}", r.body);
    r.id()
}

async fn user(c: &ApiClient, email: &str, tenant: &str) -> String {
    post_id(c, "/api/v1/admin/users", json!({"email": email, "password": USER_PASSWORD, "tenant_id": tenant})).await
}

async fn client_token(app: &TestApp, client_id: &str, secret: &str) -> ApiClient {
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base_url))
        .basic_auth(client_id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    app.with_token(body["access_token"].as_str().unwrap())
}

#[tokio::test]
async fn three_levels_of_nesting_across_two_tenants() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let ta_tenant = post_id(&admin, "/api/v1/admin/tenants", json!({"name": "Alpha"})).await;
    let tb_tenant = post_id(&admin, "/api/v1/admin/tenants", json!({"name": "Beta"})).await;
    // Alpha: top → middle → bottom; Beta: one group.
    let top = post_id(&admin, "/api/v1/admin/groups", json!({"name": "top", "tenant_id": ta_tenant})).await;
    let mid = post_id(&admin, "/api/v1/admin/groups", json!({"name": "mid", "tenant_id": ta_tenant})).await;
    let bot = post_id(&admin, "/api/v1/admin/groups", json!({"name": "bottom", "tenant_id": ta_tenant})).await;
    let beta = post_id(&admin, "/api/v1/admin/groups", json!({"name": "beta", "tenant_id": tb_tenant})).await;
    for (p, c) in [(&top, &mid), (&mid, &bot)] {
        admin.post(&format!("/api/v1/admin/groups/{p}/nested"), json!({"child_group_id": c})).await.unwrap();
    }
    let a1 = user(&admin, "a1@alpha.test", &ta_tenant).await; // in bottom and assigned directly
    let a2 = user(&admin, "a2@alpha.test", &ta_tenant).await; // in mid
    let a3 = user(&admin, "a3@alpha.test", &ta_tenant).await; // in top and bottom: still once
    let a4 = user(&admin, "a4@alpha.test", &ta_tenant).await; // in no group
    let b1 = user(&admin, "b1@beta.test", &tb_tenant).await;
    let gone = user(&admin, "gone@beta.test", &tb_tenant).await;
    for (g, u) in [(&bot, &a1), (&mid, &a2), (&top, &a3), (&bot, &a3), (&beta, &b1), (&beta, &gone)] {
        assert_eq!(
            admin.post(&format!("/api/v1/admin/groups/{g}/members"), json!({"user_id": u})).await.unwrap().status,
            201
        );
    }
    admin.delete(&format!("/api/v1/admin/users/{gone}")).await.unwrap();

    let created = admin
        .post("/api/v1/admin/applications", json!({"name": "Sync", "application_type": "SERVICE", "scope": "GLOBAL"}))
        .await
        .unwrap();
    let app_id = created.id();
    let (cid, secret) = (
        created.body["client_id"].as_str().unwrap().to_string(),
        created.body["client_secret"].as_str().unwrap().to_string(),
    );
    let base = format!("/api/v1/admin/applications/{app_id}");
    for body in [json!({"group_id": top}), json!({"group_id": beta}), json!({"user_id": a1})] {
        assert_eq!(admin.post(&format!("{base}/assignments"), body).await.unwrap().status, 201);
    }
    let dup = admin.post(&format!("{base}/assignments"), json!({"user_id": a1})).await.unwrap();
    assert_eq!(dup.status, 409);
    let both = admin.post(&format!("{base}/assignments"), json!({"user_id": a1, "group_id": top})).await.unwrap();
    assert_eq!(both.status, 422);
    assert_eq!(admin.get(&format!("{base}/assignments")).await.unwrap().body["pagination"]["total"], 3);

    let r = admin.get(&format!("{base}/effective-users")).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.body["items"].as_array().unwrap();
    let mut ids: Vec<&str> = items.iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut want = vec![a1.as_str(), a2.as_str(), a3.as_str(), b1.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want, "each user once; a4 has no access; deleted users are out");
    assert!(!ids.contains(&a4.as_str()));
    let find = |id: &str| items.iter().find(|u| u["user_id"] == id).unwrap().clone();
    let u1 = find(&a1);
    assert_eq!(u1["granted_via"], json!({"direct": true, "groups": [top]}));
    assert_eq!((u1["tenant_id"].as_str(), u1["tenant_name"].as_str()), (Some(ta_tenant.as_str()), Some("Alpha")));
    assert_eq!(find(&a3)["granted_via"], json!({"direct": false, "groups": [top]}));
    assert_eq!(find(&b1)["granted_via"], json!({"direct": false, "groups": [beta]}));
    assert_eq!(find(&b1)["tenant_name"], "Beta");

    // Filter by tenant; paginate in SQL.
    let only_beta = admin.get(&format!("{base}/effective-users?tenant_id={tb_tenant}")).await.unwrap();
    assert_eq!(only_beta.body["pagination"]["total"], 1);
    let page2 = admin.get(&format!("{base}/effective-users?per_page=3&page=2")).await.unwrap();
    assert_eq!(
        (page2.body["pagination"]["total"].as_i64(), page2.body["items"].as_array().unwrap().len()),
        (Some(4), 1)
    );

    // The application itself may ask with its own token, without admin scope.
    let own = client_token(&app, &cid, &secret).await;
    assert_eq!(own.get(&format!("{base}/effective-users")).await.unwrap().body["pagination"]["total"], 4);
    // …but not about anything else, and no other application may ask.
    assert_eq!(own.get("/api/v1/admin/tenants").await.unwrap().status, 403);
    let other = admin
        .post("/api/v1/admin/applications", json!({"name": "Other", "application_type": "SERVICE", "scope": "GLOBAL"}))
        .await
        .unwrap();
    let other_token =
        client_token(&app, other.body["client_id"].as_str().unwrap(), other.body["client_secret"].as_str().unwrap())
            .await;
    let r = other_token.get(&format!("{base}/effective-users")).await.unwrap();
    assert_eq!((r.status, r.detail()), (403, "Platform token requires admin:read or admin:write scope"));

    // A tenant admin sees only its tenant's users.
    let ta = app.user_with_roles("ta@alpha.test", &["tenant_admin"], Some(&ta_tenant)).await.unwrap();
    assert_eq!(ta.get(&format!("{base}/effective-users")).await.unwrap().body["pagination"]["total"], 3);
    assert_eq!(ta.get(&format!("{base}/assignments")).await.unwrap().body["pagination"]["total"], 2);

    // Removing the top assignment leaves only the direct user in Alpha.
    let asg = admin.get(&format!("{base}/assignments")).await.unwrap().body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["group_id"] == top.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(admin.delete(&format!("{base}/assignments/{asg}")).await.unwrap().status, 204);
    assert_eq!(admin.delete(&format!("{base}/assignments/{asg}")).await.unwrap().status, 404);
    assert_eq!(
        admin.get(&format!("{base}/effective-users?tenant_id={ta_tenant}")).await.unwrap().body["pagination"]["total"],
        1
    );
}

#[tokio::test]
async fn assignments_respect_the_application_scope() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t1 = post_id(&admin, "/api/v1/admin/tenants", json!({"name": "One"})).await;
    let t2 = post_id(&admin, "/api/v1/admin/tenants", json!({"name": "Two"})).await;
    let u2 = user(&admin, "u2@two.test", &t2).await;
    let tenant_app = post_id(
        &admin,
        "/api/v1/admin/applications",
        json!({"name": "T1 app", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": t1}),
    )
    .await;
    let r = admin
        .post(&format!("/api/v1/admin/applications/{tenant_app}/assignments"), json!({"user_id": u2}))
        .await
        .unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.user_id"));
    // A tenant admin cannot assign users it cannot see.
    let ta = app.user_with_roles("ta@one.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    let global = post_id(
        &admin,
        "/api/v1/admin/applications",
        json!({"name": "G", "application_type": "SERVICE", "scope": "GLOBAL"}),
    )
    .await;
    let r = ta.post(&format!("/api/v1/admin/applications/{global}/assignments"), json!({"user_id": u2})).await.unwrap();
    assert_eq!(r.status, 422);
}
