//! Registration requests end to end: the state machine, concurrent approvals, expiry,
//! visibility, and the approved application's credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_testkit::{ApiClient, TestApp};
use serde_json::{Value, json};

fn request(scope: &str, extra: Value) -> Value {
    let mut b = json!({"scope": scope, "name": "Payroll sync", "application_type": "SERVICE", "contact_email": "dev@acme.example"});
    b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    b
}

async fn create(c: &ApiClient, body: Value) -> String {
    let r = c.post("/api/v1/admin/registration-requests", body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

#[tokio::test]
async fn pending_to_approved_and_the_credentials_work() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let r = admin
        .post("/api/v1/admin/registration-requests/", request("GLOBAL", json!({"requested_scopes": ["openid"]})))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(id.starts_with("reg_"));
    assert_eq!(r.body["status"], "PENDING");
    assert_eq!(r.body["grant_types"], json!(["client_credentials"]));
    assert!(r.body["expires_at"].as_str() > r.body["created_at"].as_str());
    assert!(r.body["created_by"].as_str().unwrap().starts_with("usr_"));

    // Defaults from the seed for a WEB request.
    let web = admin
        .post(
            "/api/v1/admin/registration-requests",
            request("GLOBAL", json!({"application_type": "WEB", "redirect_uris": ["https://acme.example/cb"]})),
        )
        .await
        .unwrap();
    assert_eq!(web.body["requested_scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(web.body["grant_types"], json!(["authorization_code", "refresh_token"]));

    let a = admin
        .post(&format!("/api/v1/admin/registration-requests/{id}/approve"), json!({"notes": "ok by me"}))
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["id"].as_str().unwrap().starts_with("app_"));
    assert_eq!(a.body["registration_request_id"], id.as_str());
    let (client_id, secret) = (a.body["client_id"].as_str().unwrap(), a.body["client_secret"].as_str().unwrap());
    let read = admin.get(&format!("/api/v1/admin/registration-requests/{id}")).await.unwrap();
    assert_eq!(read.body["status"], "APPROVED");
    assert_eq!(read.body["application_id"], a.body["id"]);
    assert_eq!(read.body["review_notes"], "ok by me");
    assert!(read.body["reviewed_by"].as_str().unwrap().starts_with("usr_"));

    let t = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base_url))
        .basic_auth(client_id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);

    // Every illegal move is a 409 and changes nothing.
    for (method, path, body) in [
        ("POST", format!("/api/v1/admin/registration-requests/{id}/approve"), json!({})),
        ("POST", format!("/api/v1/admin/registration-requests/{id}/reject"), json!({"reason": "late"})),
        ("DELETE", format!("/api/v1/admin/registration-requests/{id}"), json!(null)),
    ] {
        let r = if method == "DELETE" {
            admin.delete(&path).await.unwrap()
        } else {
            admin.post(&path, body).await.unwrap()
        };
        assert_eq!(r.status, 409, "{method} {path}: {}", r.body);
    }
    let after = admin.get(&format!("/api/v1/admin/registration-requests/{id}")).await.unwrap();
    assert_eq!(after.body, read.body);
    assert_eq!(admin.get("/api/v1/admin/applications").await.unwrap().body["pagination"]["total"], 1);
}

#[tokio::test]
async fn reject_cancel_validation_and_expiry() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let rejected = create(&admin, request("GLOBAL", json!({}))).await;
    let r = admin.post(&format!("/api/v1/admin/registration-requests/{rejected}/reject"), json!({})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.reason"));
    let r = admin
        .post(&format!("/api/v1/admin/registration-requests/{rejected}/reject"), json!({"reason": "   "}))
        .await
        .unwrap();
    assert_eq!(r.status, 422);
    let r = admin
        .post(&format!("/api/v1/admin/registration-requests/{rejected}/reject"), json!({"reason": "Not needed"}))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body["status"].as_str(), r.body["rejection_reason"].as_str()),
        (200, Some("REJECTED"), Some("Not needed"))
    );
    assert_eq!(admin.delete(&format!("/api/v1/admin/registration-requests/{rejected}")).await.unwrap().status, 409);

    let cancelled = create(&admin, request("GLOBAL", json!({}))).await;
    let r = admin.delete(&format!("/api/v1/admin/registration-requests/{cancelled}/")).await.unwrap();
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("CANCELLED")));
    assert_eq!(
        admin.get(&format!("/api/v1/admin/registration-requests/{cancelled}")).await.unwrap().body["status"],
        "CANCELLED"
    );
    assert_eq!(
        admin
            .post(&format!("/api/v1/admin/registration-requests/{cancelled}/approve"), json!({}))
            .await
            .unwrap()
            .status,
        409
    );

    // A request past its expires_at reads EXPIRED at once and cannot be approved.
    let expiring = create(&admin, request("GLOBAL", json!({}))).await;
    let mut conn = app.db.connect().await.unwrap();
    diesel::sql_query(
        "UPDATE registration_requests SET expires_at = now() - interval '1 minute' WHERE status = 'PENDING'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        admin.get(&format!("/api/v1/admin/registration-requests/{expiring}")).await.unwrap().body["status"],
        "EXPIRED"
    );
    assert_eq!(
        admin.post(&format!("/api/v1/admin/registration-requests/{expiring}/approve"), json!({})).await.unwrap().status,
        409
    );
    assert_eq!(
        admin.get("/api/v1/admin/registration-requests?status=EXPIRED").await.unwrap().body["pagination"]["total"],
        1
    );
    assert_eq!(
        admin.get("/api/v1/admin/registration-requests?status=PENDING").await.unwrap().body["pagination"]["total"],
        0
    );

    let t = admin.post("/api/v1/admin/tenants", json!({"name": "T"})).await.unwrap().id();
    for (body, loc) in [
        (request("TENANT", json!({})), "body.tenant_id"),
        (request("PARTNER", json!({})), "body.partner_id"),
        (request("GALAXY", json!({})), "body.scope"),
        (request("TENANT", json!({"tenant_id": t, "contact_email": "nope"})), "body.contact_email"),
        (request("TENANT", json!({"tenant_id": t, "requested_scopes": ["mind\\reading"]})), "body.requested_scopes.0"),
        (
            request(
                "TENANT",
                json!({"tenant_id": t, "application_type": "WEB", "redirect_uris": ["http://evil.example/cb"]}),
            ),
            "body.redirect_uris.0",
        ),
        (
            json!({"scope": "GLOBAL", "name": "x", "application_type": "WEB", "redirect_uris": ["https://a.example/cb"]}),
            "body.contact_email",
        ),
    ] {
        let r = admin.post("/api/v1/admin/registration-requests", body.clone()).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{body}: {}", r.body);
    }
    for q in ["status=LOST", "scope=ALL"] {
        assert_eq!(admin.get(&format!("/api/v1/admin/registration-requests?{q}")).await.unwrap().status, 422);
    }
}

#[tokio::test]
async fn concurrent_approvals_create_exactly_one_application() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    for round in 0..5 {
        let id = create(&admin, request("GLOBAL", json!({"name": format!("Race {round}")}))).await;
        let path = format!("/api/v1/admin/registration-requests/{id}/approve");
        let (a, b) = tokio::join!(admin.post(&path, json!({})), admin.post(&path, json!({})));
        let mut statuses = [a.unwrap().status, b.unwrap().status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
    }
    assert_eq!(admin.get("/api/v1/admin/applications").await.unwrap().body["pagination"]["total"], 5);
}

#[tokio::test]
async fn visibility_and_who_may_review() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p1 = admin.post("/api/v1/admin/partners", json!({"name": "P1"})).await.unwrap().id();
    let t1 = admin.post("/api/v1/admin/tenants", json!({"name": "T1", "partner_id": p1})).await.unwrap().id();
    let t2 = admin.post("/api/v1/admin/tenants", json!({"name": "T2", "partner_id": p1})).await.unwrap().id();
    let pa = app.user_with_roles("pa@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let ta = app.user_with_roles("ta@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    let global = create(&admin, request("GLOBAL", json!({}))).await;
    let partner = create(&pa, request("PARTNER", json!({"partner_id": p1}))).await;
    let own = create(&ta, request("TENANT", json!({"tenant_id": t1}))).await;
    let other = create(&admin, request("TENANT", json!({"tenant_id": t2}))).await;
    assert_eq!(ta.post("/api/v1/admin/registration-requests", request("GLOBAL", json!({}))).await.unwrap().status, 403);
    assert_eq!(
        ta.post("/api/v1/admin/registration-requests", request("TENANT", json!({"tenant_id": t2})))
            .await
            .unwrap()
            .status,
        403
    );

    let total = |c: &ApiClient| {
        let c = c.clone();
        async move {
            c.get("/api/v1/admin/registration-requests").await.unwrap().body["pagination"]["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total(&admin).await, 4);
    assert_eq!(total(&pa).await, 3, "PARTNER of P1 and TENANT of its tenants");
    assert_eq!(total(&ta).await, 1, "TENANT of its own tenant");
    assert_eq!(ta.get(&format!("/api/v1/admin/registration-requests/{global}")).await.unwrap().status, 404);
    assert_eq!(ta.get(&format!("/api/v1/admin/registration-requests/{partner}")).await.unwrap().status, 404);
    assert_eq!(
        ta.post(&format!("/api/v1/admin/registration-requests/{other}/approve"), json!({})).await.unwrap().status,
        404
    );
    assert_eq!(
        pa.post(&format!("/api/v1/admin/registration-requests/{global}/approve"), json!({})).await.unwrap().status,
        404
    );
    let r = ta.post(&format!("/api/v1/admin/registration-requests/{own}/approve"), json!(null)).await.unwrap();
    assert_eq!((r.status, r.body["tenant_id"].as_str()), (200, Some(t1.as_str())), "{}", r.body);
    let r = pa.post(&format!("/api/v1/admin/registration-requests/{partner}/approve"), json!({})).await.unwrap();
    assert_eq!((r.status, r.body["scope"].as_str()), (200, Some("PARTNER")));
}
