//! `/api/v1/admin/tenants` end to end: CRUD, transfer, limits, settings validation and the
//! access rules of contract §5 for each role.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, TestApp};
use serde_json::{Value, json};

async fn partner(admin: &ApiClient, name: &str, max_tenants: Value) -> String {
    let r = admin.post("/api/v1/admin/partners", json!({"name": name, "max_tenants": max_tenants})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn tenant(admin: &ApiClient, name: &str, partner_id: Option<&str>) -> String {
    let r = admin.post("/api/v1/admin/tenants", json!({"name": name, "partner_id": partner_id})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

fn ids(r: &scaikey_testkit::Resp) -> Vec<String> {
    let mut v: Vec<String> =
        r.body["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn crud_settings_and_soft_delete() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = partner(&admin, "P", json!(null)).await;
    let settings = json!({"mfa_required": true, "mfa_methods": ["totp", "webauthn"],
        "password_policy": {"min_length": 12, "require_digit": true}, "session_timeout": 60});
    let r = admin
        .post(
            "/api/v1/admin/tenants/",
            json!({"name": "Globex Corp", "partner_id": p, "settings": settings, "branding": {"color": "#123456"}}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(id.starts_with("tnt_"));
    assert_eq!(r.body["slug"], "globex-corp");
    assert_eq!(r.body["partner_id"], p.as_str());
    assert_eq!(r.body["settings"], settings);
    assert_eq!(r.body["branding"]["color"], "#123456");

    let r = admin
        .patch(&format!("/api/v1/admin/tenants/{id}/"), json!({"settings": {"session_timeout": 5}, "branding": null}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["settings"], json!({"session_timeout": 5}));
    assert_eq!(r.body["branding"], json!({}));
    assert_eq!(r.body["name"], "Globex Corp");

    for (body, loc) in [
        (json!({"settings": {"mfa_methods": ["pigeon"]}}), "body.settings.mfa_methods.0"),
        (json!({"settings": {"password_policy": {"min_length": 0}}}), "body.settings.password_policy.min_length"),
        (json!({"settings": {"session_timeout": "soon"}}), "body.settings.session_timeout"),
        (json!({"settings": [1]}), "body.settings"),
        (json!({"branding": "blue"}), "body.branding"),
        (json!({"partner_id": "prt_nope"}), "body.partner_id"),
        (json!({"partner_id": "prt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}), "body.partner_id"),
        (json!({"status": "gone"}), "body.status"),
        (json!({"slug": null}), "body.slug"),
    ] {
        let r = admin.patch(&format!("/api/v1/admin/tenants/{id}"), body.clone()).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{body}: {}", r.body);
    }
    // A 422 changes nothing.
    assert_eq!(
        admin.get(&format!("/api/v1/admin/tenants/{id}")).await.unwrap().body["settings"],
        json!({"session_timeout": 5})
    );

    let dup = admin.post("/api/v1/admin/tenants", json!({"name": "Other", "slug": "globex-corp"})).await.unwrap();
    assert_eq!(dup.status, 409);

    // A partner with live tenants cannot be deleted.
    let r = admin.delete(&format!("/api/v1/admin/partners/{p}")).await.unwrap();
    assert_eq!(r.status, 409);

    assert_eq!(admin.delete(&format!("/api/v1/admin/tenants/{id}")).await.unwrap().status, 204);
    assert_eq!(admin.get(&format!("/api/v1/admin/tenants/{id}")).await.unwrap().detail(), "Tenant not found");
    assert_eq!(admin.post("/api/v1/admin/tenants", json!({"name": "Globex Corp"})).await.unwrap().status, 201);
    assert_eq!(admin.delete(&format!("/api/v1/admin/partners/{p}")).await.unwrap().status, 204);
}

#[tokio::test]
async fn max_tenants_holds_for_create_and_transfer() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let small = partner(&admin, "Small", json!(1)).await;
    let big = partner(&admin, "Big", json!(null)).await;
    tenant(&admin, "First", Some(&small)).await;
    let r = admin.post("/api/v1/admin/tenants", json!({"name": "Second", "partner_id": small})).await.unwrap();
    assert_eq!(r.status, 409);
    assert!(r.detail().contains("max_tenants"), "{}", r.detail());

    let mover = tenant(&admin, "Mover", Some(&big)).await;
    let r = admin.patch(&format!("/api/v1/admin/tenants/{mover}"), json!({"partner_id": small})).await.unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(admin.get(&format!("/api/v1/admin/tenants/{mover}")).await.unwrap().body["partner_id"], big.as_str());

    // Raising the limit lets the transfer through; a move to the platform needs no limit.
    admin.patch(&format!("/api/v1/admin/partners/{small}"), json!({"max_tenants": 2})).await.unwrap();
    let r = admin.patch(&format!("/api/v1/admin/tenants/{mover}"), json!({"partner_id": small})).await.unwrap();
    assert_eq!((r.status, r.body["partner_id"].as_str()), (200, Some(small.as_str())));
    // Patching a tenant that already stands under a full partner is not a new admission.
    let r = admin
        .patch(&format!("/api/v1/admin/tenants/{mover}"), json!({"partner_id": small, "name": "Moved"}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin.patch(&format!("/api/v1/admin/tenants/{mover}"), json!({"partner_id": null})).await.unwrap();
    assert_eq!((r.status, &r.body["partner_id"]), (200, &json!(null)));

    let f = admin.get(&format!("/api/v1/admin/tenants?partner_id={small}")).await.unwrap();
    assert_eq!(f.body["pagination"]["total"], 1);
}

#[tokio::test]
async fn access_rules_for_each_role() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p1 = partner(&admin, "P1", json!(null)).await;
    let p2 = partner(&admin, "P2", json!(null)).await;
    let t1 = tenant(&admin, "T1", Some(&p1)).await;
    let t2 = tenant(&admin, "T2", Some(&p1)).await;
    let t3 = tenant(&admin, "T3", Some(&p2)).await;
    let t4 = tenant(&admin, "T4", None).await;

    let pa1 = app.user_with_roles("pa1@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let pa2 = app.user_with_roles("pa2@x.test", &["partner_admin"], Some(&t3)).await.unwrap();
    let ta1 = app.user_with_roles("ta1@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    let ta4 = app.user_with_roles("ta4@x.test", &["tenant_admin"], Some(&t4)).await.unwrap();

    let sorted = |v: &[&String]| {
        let mut v: Vec<String> = v.iter().map(|s| (*s).clone()).collect();
        v.sort();
        v
    };
    let everything = admin.get("/api/v1/admin/tenants").await.unwrap();
    assert_eq!(ids(&everything), sorted(&[&t1, &t2, &t3, &t4]));
    assert_eq!(ids(&pa1.get("/api/v1/admin/tenants").await.unwrap()), sorted(&[&t1, &t2]));
    assert_eq!(ids(&pa2.get("/api/v1/admin/tenants").await.unwrap()), sorted(&[&t3]));
    assert_eq!(ids(&ta1.get("/api/v1/admin/tenants").await.unwrap()), sorted(&[&t1]));
    assert_eq!(ids(&ta4.get("/api/v1/admin/tenants").await.unwrap()), sorted(&[&t4]));
    // A filter never widens reach.
    assert_eq!(ids(&pa1.get(&format!("/api/v1/admin/tenants?partner_id={p2}")).await.unwrap()), Vec::<String>::new());

    let read = |c: &ApiClient, t: &str| {
        let (c, path) = (c.clone(), format!("/api/v1/admin/tenants/{t}"));
        async move { c.get(&path).await.unwrap().status }
    };
    assert_eq!(read(&pa1, &t2).await, 200);
    assert_eq!(read(&pa1, &t3).await, 404);
    assert_eq!(read(&pa1, &t4).await, 404);
    assert_eq!(read(&ta1, &t1).await, 200);
    assert_eq!(read(&ta1, &t2).await, 404);
    assert_eq!(read(&ta4, &t1).await, 404);

    // Tenant records are the platform's to write: 403 for everyone else, own tenant or not.
    for c in [&pa1, &ta1, &ta4] {
        for t in [&t1, &t3] {
            let r = c.patch(&format!("/api/v1/admin/tenants/{t}"), json!({"name": "hijack"})).await.unwrap();
            assert_eq!((r.status, r.detail()), (403, "Access denied"));
            assert_eq!(c.delete(&format!("/api/v1/admin/tenants/{t}")).await.unwrap().status, 403);
        }
        let r = c.post("/api/v1/admin/tenants", json!({"name": "mine"})).await.unwrap();
        assert_eq!(r.status, 403);
    }
    assert_eq!(admin.get(&format!("/api/v1/admin/tenants/{t1}")).await.unwrap().body["name"], "T1");

    // A suspended tenant's users cannot log in: the same 401 as a wrong password.
    admin.patch(&format!("/api/v1/admin/tenants/{t4}"), json!({"status": "suspended"})).await.unwrap();
    let r = app
        .anonymous()
        .post("/api/v1/auth/login", json!({"email": "ta4@x.test", "password": "Us3r-Passw0rd!", "tenant_id": t4}))
        .await
        .unwrap();
    assert_eq!((r.status, r.detail()), (401, "Invalid credentials"));
}

#[tokio::test]
async fn every_write_leaves_an_audit_record_in_the_same_transaction() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = partner(&admin, "Audited", json!(1)).await;
    let t = tenant(&admin, "A", Some(&p)).await;
    admin.patch(&format!("/api/v1/admin/tenants/{t}"), json!({"name": "B"})).await.unwrap();
    // Refused writes change nothing and record nothing as success.
    assert_eq!(admin.post("/api/v1/admin/tenants", json!({"name": "C", "partner_id": p})).await.unwrap().status, 409);
    admin.delete(&format!("/api/v1/admin/tenants/{t}")).await.unwrap();

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        resource_id: Option<String>,
    }
    let mut conn = app.db.connect().await.unwrap();
    // Successful writes by admins only: refused ones are recorded too, asynchronously (see
    // tests/audit.rs), and the built-in clients made on start-up have no actor.
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT action, resource_id FROM audit_events WHERE action <> 'auth.login' AND result = 'success' AND actor_id IS NOT NULL ORDER BY id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let got: Vec<(&str, &str)> =
        rows.iter().map(|r| (r.action.as_str(), r.resource_id.as_deref().unwrap_or(""))).collect();
    assert_eq!(
        got,
        [
            ("partner.create", p.as_str()),
            ("tenant.create", t.as_str()),
            ("tenant.update", t.as_str()),
            ("tenant.delete", t.as_str())
        ]
    );
}
