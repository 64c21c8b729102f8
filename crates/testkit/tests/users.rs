//! `/api/v1/admin/users` end to end: CRUD, attributes, password policy, limits, escalation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, TestApp, USER_PASSWORD};
use serde_json::{Value, json};

async fn setup_tenant(admin: &ApiClient, partner: Option<Value>, settings: Value) -> (Option<String>, String) {
    let p = match partner {
        Some(p) => {
            let r = admin.post("/api/v1/admin/partners", p).await.unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
            Some(r.id())
        }
        None => None,
    };
    let r = admin
        .post(
            "/api/v1/admin/tenants",
            json!({"name": format!("T {}", ulid::Ulid::new()), "partner_id": p, "settings": settings}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    (p, r.id())
}

#[tokio::test]
async fn crud_attributes_filters_and_soft_delete() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (_, t) = setup_tenant(&admin, None, json!({})).await;
    let attrs = json!({"employeeId": "E-1001", "department": "R&D", "manager": "CN=Grace,OU=Eng", "extensionAttribute1": [1, 2]});
    let r = admin
        .post(
            "/api/v1/admin/users/",
            json!({"email": "Ada@Example.com", "password": USER_PASSWORD, "tenant_id": t, "first_name": "Ada",
                   "last_name": "Lovelace", "display_name": "Ada L.", "custom_attributes": attrs}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(id.starts_with("usr_"));
    assert_eq!(r.body["custom_attributes"], attrs, "AD-compatible attributes round-trip unchanged");
    assert_eq!(r.body["roles"], json!([]));
    assert_eq!(r.body["mfa_enabled"], false);
    assert!(r.body.get("password").is_none() && r.body.get("password_hash").is_none());

    // E-mail is unique per tenant, case-insensitively; another tenant may reuse it.
    let dup = admin
        .post("/api/v1/admin/users", json!({"email": "ada@example.COM", "password": USER_PASSWORD, "tenant_id": t}))
        .await
        .unwrap();
    assert_eq!(dup.status, 409);
    let (_, t2) = setup_tenant(&admin, None, json!({})).await;
    assert_eq!(
        admin
            .post(
                "/api/v1/admin/users",
                json!({"email": "ada@example.com", "password": USER_PASSWORD, "tenant_id": t2})
            )
            .await
            .unwrap()
            .status,
        201
    );

    // PATCH never carries a password; it changes only what is present.
    let p = admin.patch(&format!("/api/v1/admin/users/{id}"), json!({"password": "Another-pass1"})).await.unwrap();
    assert_eq!((p.status, p.first_loc().as_str()), (422, "body.password"));
    let p = admin
        .patch(&format!("/api/v1/admin/users/{id}"), json!({"first_name": null, "roles": ["tenant_admin"]}))
        .await
        .unwrap();
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["first_name"], json!(null));
    assert_eq!(p.body["last_name"], "Lovelace");
    assert_eq!(p.body["roles"], json!(["tenant_admin"]));
    assert_eq!(p.body["custom_attributes"], attrs);

    // Filters.
    let q = |s: &str| format!("/api/v1/admin/users?{s}");
    assert_eq!(admin.get(&q(&format!("tenant_id={t}"))).await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(admin.get(&q("search=LOVELACE")).await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(admin.get(&q("role=tenant_admin")).await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(admin.get(&q("role=super_admin")).await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(admin.get(&q("status=suspended")).await.unwrap().body["pagination"]["total"], 0);
    assert_eq!(admin.get(&q("role=root")).await.unwrap().first_loc(), "query.role");

    let m = admin.post(&format!("/api/v1/admin/users/{id}/mfa/disable"), json!({})).await.unwrap();
    assert_eq!((m.status, &m.body["mfa_enabled"]), (200, &json!(false)));

    assert_eq!(admin.delete(&format!("/api/v1/admin/users/{id}")).await.unwrap().status, 204);
    assert_eq!(admin.get(&format!("/api/v1/admin/users/{id}")).await.unwrap().detail(), "User not found");
    assert_eq!(
        admin
            .post("/api/v1/admin/users", json!({"email": "ada@example.com", "password": USER_PASSWORD, "tenant_id": t}))
            .await
            .unwrap()
            .status,
        201
    );

    for (body, loc) in [
        (json!({"password": USER_PASSWORD, "tenant_id": t}), "body.email"),
        // Without a password the user is invited (tests/mail_links.rs); an empty one breaks the policy.
        (json!({"email": "x@y.z", "tenant_id": t, "password": ""}), "body.password"),
        (json!({"email": "not-mail", "password": USER_PASSWORD, "tenant_id": t}), "body.email"),
        (json!({"email": "x@y.z", "password": USER_PASSWORD, "tenant_id": "tnt_bad"}), "body.tenant_id"),
        (json!({"email": "x@y.z", "password": USER_PASSWORD}), "body.tenant_id"),
        (json!({"email": "x@y.z", "password": USER_PASSWORD, "tenant_id": t, "roles": ["root"]}), "body.roles"),
        (
            json!({"email": "x@y.z", "password": USER_PASSWORD, "tenant_id": t, "custom_attributes": [1]}),
            "body.custom_attributes",
        ),
        (
            json!({"email": "x@y.z", "password": USER_PASSWORD, "tenant_id": "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
            "body.tenant_id",
        ),
        (
            json!({"email": "x@y.z", "password": USER_PASSWORD, "tenant_id": t, "roles": ["partner_admin"]}),
            "body.roles",
        ),
    ] {
        let r = admin.post("/api/v1/admin/users", body.clone()).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{body}: {}", r.body);
    }
}

#[tokio::test]
async fn password_policy_and_user_limits() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let policy = json!({"password_policy": {"min_length": 12, "require_digit": true, "require_symbol": true}});
    let (_, t) = setup_tenant(&admin, Some(json!({"name": "Small", "max_users_per_tenant": 1})), policy).await;
    for (pw, rule) in
        [("short1!", "min_length"), ("longenoughpassword!", "require_digit"), ("longenoughpassword1", "require_symbol")]
    {
        let r = admin
            .post("/api/v1/admin/users", json!({"email": "a@t.test", "password": pw, "tenant_id": t}))
            .await
            .unwrap();
        assert_eq!((r.status, r.first_loc().as_str()), (422, "body.password"), "{pw}");
        assert!(r.body["detail"][0]["msg"].as_str().unwrap().contains(rule), "{}", r.body);
    }
    let ok = admin
        .post("/api/v1/admin/users", json!({"email": "a@t.test", "password": "long-enough-pw-1", "tenant_id": t}))
        .await
        .unwrap();
    assert_eq!(ok.status, 201, "{}", ok.body);
    let full = admin
        .post("/api/v1/admin/users", json!({"email": "b@t.test", "password": "long-enough-pw-1", "tenant_id": t}))
        .await
        .unwrap();
    assert_eq!(full.status, 409);
    assert!(full.detail().contains("max_users_per_tenant"));

    // Resets follow the same policy.
    let r = admin
        .post(&format!("/api/v1/admin/users/{}/reset-password", ok.id()), json!({"new_password": "weak"}))
        .await
        .unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.new_password"));
    let r = admin.post(&format!("/api/v1/admin/users/{}/reset-password", ok.id()), json!({})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.new_password"));
}

#[tokio::test]
async fn roles_never_escalate_and_admins_manage_only_whom_they_could_grant() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (_, t1) = setup_tenant(&admin, Some(json!({"name": "P1"})), json!({})).await;
    let (_, t0) = setup_tenant(&admin, None, json!({})).await;
    let pa = app.user_with_roles("pa@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let ta = app.user_with_roles("ta@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();

    let create = |c: &ApiClient, email: &str, roles: Value, tenant: Option<&str>| {
        let (c, body) =
            (c.clone(), json!({"email": email, "password": USER_PASSWORD, "roles": roles, "tenant_id": tenant}));
        async move { c.post("/api/v1/admin/users", body).await.unwrap() }
    };
    assert_eq!(create(&ta, "x1@x.test", json!(["partner_admin"]), Some(&t1)).await.status, 403);
    assert_eq!(create(&ta, "x2@x.test", json!(["super_admin"]), None).await.status, 403);
    // A tenant admin creates in its own tenant by default.
    let own = create(&ta, "x3@x.test", json!(["tenant_admin"]), None).await;
    assert_eq!((own.status, own.body["tenant_id"].as_str()), (201, Some(t1.as_str())));
    assert_eq!(create(&ta, "x4@x.test", json!([]), Some(&t0)).await.status, 403, "another tenant");
    assert_eq!(create(&pa, "x5@x.test", json!(["partner_admin"]), Some(&t1)).await.status, 201);
    assert_eq!(create(&pa, "x6@x.test", json!(["super_admin"]), None).await.status, 403);
    assert_eq!(create(&pa, "x7@x.test", json!([]), Some(&t0)).await.status, 403, "tenant outside the partner");

    // A tenant admin cannot touch its partner admin, nor raise anyone to partner admin.
    let pa_id = admin.get("/api/v1/admin/users?role=partner_admin").await.unwrap().body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "pa@x.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ta.patch(&format!("/api/v1/admin/users/{pa_id}"), json!({"status": "suspended"})).await.unwrap();
    assert_eq!((r.status, r.detail()), (403, "Access denied"));
    assert_eq!(ta.delete(&format!("/api/v1/admin/users/{pa_id}")).await.unwrap().status, 403);
    assert_eq!(
        ta.post(&format!("/api/v1/admin/users/{pa_id}/reset-password"), json!({"new_password": "whatever-123"}))
            .await
            .unwrap()
            .status,
        403
    );
    let r = ta.patch(&format!("/api/v1/admin/users/{}", own.id()), json!({"roles": ["partner_admin"]})).await.unwrap();
    assert_eq!(r.status, 403);
    // partner_admin needs a tenant with a partner.
    let lone = admin
        .post("/api/v1/admin/users", json!({"email": "l@x.test", "password": USER_PASSWORD, "tenant_id": t0}))
        .await
        .unwrap();
    let r =
        admin.patch(&format!("/api/v1/admin/users/{}", lone.id()), json!({"roles": ["partner_admin"]})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.roles"));
    // Nobody deletes themselves.
    let me = admin.get("/api/v1/admin/users?role=super_admin").await.unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(admin.delete(&format!("/api/v1/admin/users/{me}")).await.unwrap().status, 409);
}

#[tokio::test]
async fn suspended_partners_and_users_cannot_log_in() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (p, t) = setup_tenant(&admin, Some(json!({"name": "P"})), json!({})).await;
    let u = admin
        .post("/api/v1/admin/users", json!({"email": "u@x.test", "password": USER_PASSWORD, "tenant_id": t}))
        .await
        .unwrap();
    let anon = app.anonymous();
    let login = || anon.post("/api/v1/auth/login", json!({"email": "u@x.test", "password": USER_PASSWORD}));
    assert_eq!(login().await.unwrap().status, 200, "the e-mail is unique across tenants, so no tenant_id is needed");
    admin.patch(&format!("/api/v1/admin/partners/{}", p.unwrap()), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(login().await.unwrap().detail(), "Invalid credentials");
    let p2 = admin.get("/api/v1/admin/partners").await.unwrap().body["items"][0]["id"].as_str().unwrap().to_string();
    admin.patch(&format!("/api/v1/admin/partners/{p2}"), json!({"status": "active"})).await.unwrap();
    assert_eq!(login().await.unwrap().status, 200);
    admin.patch(&format!("/api/v1/admin/users/{}", u.id()), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(login().await.unwrap().status, 401);
}

#[tokio::test]
async fn each_admin_sees_and_changes_exactly_its_reach() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (_, t1) = setup_tenant(&admin, Some(json!({"name": "P1"})), json!({})).await;
    let (_, t2) = setup_tenant(&admin, Some(json!({"name": "P2"})), json!({})).await;
    let pa1 = app.user_with_roles("pa1@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let pa2 = app.user_with_roles("pa2@x.test", &["partner_admin"], Some(&t2)).await.unwrap();
    let ta1 = app.user_with_roles("ta1@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    let ta2 = app.user_with_roles("ta2@x.test", &["tenant_admin"], Some(&t2)).await.unwrap();
    let u1 = admin
        .post("/api/v1/admin/users", json!({"email": "u1@x.test", "password": USER_PASSWORD, "tenant_id": t1}))
        .await
        .unwrap()
        .id();
    let u2 = admin
        .post("/api/v1/admin/users", json!({"email": "u2@x.test", "password": USER_PASSWORD, "tenant_id": t2}))
        .await
        .unwrap()
        .id();

    // Lists: the super admin sees all 7 users (itself included); each admin its own tree.
    let total = |c: &ApiClient| {
        let c = c.clone();
        async move { c.get("/api/v1/admin/users").await.unwrap().body["pagination"]["total"].as_i64().unwrap() }
    };
    assert_eq!(total(&admin).await, 7);
    for c in [&pa1, &pa2, &ta1, &ta2] {
        assert_eq!(total(c).await, 3, "pa, ta and one user per tenant");
    }
    // Reads and writes across the line are 404; inside they work.
    for (c, mine, theirs) in [(&pa1, &u1, &u2), (&pa2, &u2, &u1), (&ta1, &u1, &u2), (&ta2, &u2, &u1)] {
        assert_eq!(c.get(&format!("/api/v1/admin/users/{mine}")).await.unwrap().status, 200);
        assert_eq!(c.get(&format!("/api/v1/admin/users/{theirs}")).await.unwrap().status, 404);
        assert_eq!(
            c.patch(&format!("/api/v1/admin/users/{theirs}"), json!({"display_name": "x"})).await.unwrap().status,
            404
        );
        assert_eq!(c.post(&format!("/api/v1/admin/users/{theirs}/mfa/disable"), json!({})).await.unwrap().status, 404);
        let r = c.patch(&format!("/api/v1/admin/users/{mine}"), json!({"display_name": "Renamed"})).await.unwrap();
        assert_eq!((r.status, r.body["display_name"].as_str()), (200, Some("Renamed")));
    }
    // The platform user is invisible below the platform.
    let root = admin.get("/api/v1/admin/users?role=super_admin").await.unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for c in [&pa1, &ta1] {
        assert_eq!(c.get(&format!("/api/v1/admin/users/{root}")).await.unwrap().status, 404);
    }
}
