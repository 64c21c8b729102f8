//! `/api/v1/admin/groups` end to end: CRUD, members, nesting, cycles (also under races),
//! cross-tenant refusals and reach.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, TestApp, USER_PASSWORD};
use serde_json::json;

async fn tenant(admin: &ApiClient, partner: Option<&str>) -> String {
    let r = admin
        .post("/api/v1/admin/tenants", json!({"name": format!("T {}", ulid::Ulid::new()), "partner_id": partner}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn group(c: &ApiClient, name: &str, tenant: Option<&str>) -> String {
    let r = c.post("/api/v1/admin/groups", json!({"name": name, "tenant_id": tenant})).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

async fn user(c: &ApiClient, email: &str, tenant: &str) -> String {
    let r = c
        .post("/api/v1/admin/users", json!({"email": email, "password": USER_PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

#[tokio::test]
async fn crud_members_and_nesting() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, None).await;
    let other = tenant(&admin, None).await;
    let eng = group(&admin, "Engineering", Some(&t)).await;
    let backend = group(&admin, "Backend", Some(&t)).await;
    let foreign = group(&admin, "Foreign", Some(&other)).await;
    assert!(eng.starts_with("grp_"));
    assert_eq!(
        admin.post("/api/v1/admin/groups", json!({"name": "engineering", "tenant_id": t})).await.unwrap().status,
        409
    );
    assert_eq!(
        admin.post("/api/v1/admin/groups", json!({"name": "Engineering", "tenant_id": other})).await.unwrap().status,
        201
    );
    let r = admin.post("/api/v1/admin/groups", json!({"name": "No tenant"})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.tenant_id"));

    let ada = user(&admin, "ada@x.test", &t).await;
    let eve = user(&admin, "eve@x.test", &other).await;
    let r = admin.post(&format!("/api/v1/admin/groups/{eng}/members"), json!({"user_id": ada})).await.unwrap();
    assert_eq!((r.status, r.body["user_id"].as_str()), (201, Some(ada.as_str())));
    assert_eq!(
        admin.post(&format!("/api/v1/admin/groups/{eng}/members/"), json!({"user_id": ada})).await.unwrap().status,
        409
    );
    let r = admin.post(&format!("/api/v1/admin/groups/{eng}/members"), json!({"user_id": eve})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.user_id"), "another tenant's user");
    let r = admin.post(&format!("/api/v1/admin/groups/{eng}/members"), json!({"user_id": "usr_nope"})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.user_id"));
    let r = admin.post(&format!("/api/v1/admin/groups/{eng}/members"), json!({})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.user_id"));

    assert_eq!(
        admin
            .post(&format!("/api/v1/admin/groups/{eng}/nested"), json!({"child_group_id": backend}))
            .await
            .unwrap()
            .status,
        201
    );
    let r =
        admin.post(&format!("/api/v1/admin/groups/{backend}/nested"), json!({"child_group_id": eng})).await.unwrap();
    assert_eq!(r.status, 409, "a cycle");
    assert_eq!(
        admin.post(&format!("/api/v1/admin/groups/{eng}/nested"), json!({"child_group_id": eng})).await.unwrap().status,
        409
    );
    assert_eq!(
        admin
            .post(&format!("/api/v1/admin/groups/{eng}/nested"), json!({"child_group_id": backend}))
            .await
            .unwrap()
            .status,
        409
    );
    let r =
        admin.post(&format!("/api/v1/admin/groups/{eng}/nested"), json!({"child_group_id": foreign})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.child_group_id"));

    let g = admin.get(&format!("/api/v1/admin/groups/{eng}/")).await.unwrap();
    assert_eq!(g.status, 200);
    assert_eq!(g.body["name"], "Engineering");
    assert_eq!(g.body["members"], json!([{"user_id": ada, "email": "ada@x.test", "display_name": null}]));
    assert_eq!(g.body["child_groups"], json!([{"id": backend, "name": "Backend"}]));

    let p = admin.patch(&format!("/api/v1/admin/groups/{eng}"), json!({"description": "Builds things"})).await.unwrap();
    assert_eq!((p.status, p.body["description"].as_str()), (200, Some("Builds things")));

    assert_eq!(admin.delete(&format!("/api/v1/admin/groups/{eng}/members/{ada}")).await.unwrap().status, 204);
    assert_eq!(admin.delete(&format!("/api/v1/admin/groups/{eng}/members/{ada}")).await.unwrap().status, 404);
    assert_eq!(admin.delete(&format!("/api/v1/admin/groups/{eng}/nested/{backend}")).await.unwrap().status, 204);
    assert_eq!(admin.delete(&format!("/api/v1/admin/groups/{eng}/nested/{backend}")).await.unwrap().status, 404);
    // Now the reverse nesting is no cycle.
    assert_eq!(
        admin
            .post(&format!("/api/v1/admin/groups/{backend}/nested"), json!({"child_group_id": eng}))
            .await
            .unwrap()
            .status,
        201
    );
    // Deleting a group removes its edges.
    assert_eq!(admin.delete(&format!("/api/v1/admin/groups/{eng}")).await.unwrap().status, 204);
    assert_eq!(admin.get(&format!("/api/v1/admin/groups/{backend}")).await.unwrap().body["child_groups"], json!([]));
    assert_eq!(admin.get(&format!("/api/v1/admin/groups/{eng}")).await.unwrap().status, 404);
    assert_eq!(admin.get(&format!("/api/v1/admin/groups?tenant_id={t}")).await.unwrap().body["pagination"]["total"], 1);
}

#[tokio::test]
async fn racing_requests_cannot_both_close_a_cycle() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = tenant(&admin, None).await;
    for round in 0..8 {
        let a = group(&admin, &format!("A{round}"), Some(&t)).await;
        let b = group(&admin, &format!("B{round}"), Some(&t)).await;
        let c = group(&admin, &format!("C{round}"), Some(&t)).await;
        // a → b exists; racing b → c and c → a would close a → b → c → a.
        assert_eq!(
            admin.post(&format!("/api/v1/admin/groups/{a}/nested"), json!({"child_group_id": b})).await.unwrap().status,
            201
        );
        let (bc, ca) = (format!("/api/v1/admin/groups/{b}/nested"), format!("/api/v1/admin/groups/{c}/nested"));
        let (x, y) =
            tokio::join!(admin.post(&bc, json!({"child_group_id": c})), admin.post(&ca, json!({"child_group_id": a})));
        let mut statuses = [x.unwrap().status, y.unwrap().status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
}

#[tokio::test]
async fn reach_over_groups() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = admin.post("/api/v1/admin/partners", json!({"name": "P"})).await.unwrap().id();
    let t1 = tenant(&admin, Some(&p)).await;
    let t2 = tenant(&admin, Some(&p)).await;
    let t3 = tenant(&admin, None).await;
    let g1 = group(&admin, "G1", Some(&t1)).await;
    let g2 = group(&admin, "G2", Some(&t2)).await;
    let g3 = group(&admin, "G3", Some(&t3)).await;
    let pa = app.user_with_roles("pa@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let ta = app.user_with_roles("ta@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();

    assert_eq!(pa.get("/api/v1/admin/groups").await.unwrap().body["pagination"]["total"], 2);
    assert_eq!(ta.get("/api/v1/admin/groups").await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(pa.get(&format!("/api/v1/admin/groups/{g2}")).await.unwrap().status, 200);
    assert_eq!(pa.get(&format!("/api/v1/admin/groups/{g3}")).await.unwrap().status, 404);
    assert_eq!(ta.get(&format!("/api/v1/admin/groups/{g2}")).await.unwrap().status, 404);
    assert_eq!(ta.patch(&format!("/api/v1/admin/groups/{g2}"), json!({"name": "mine"})).await.unwrap().status, 404);
    assert_eq!(ta.delete(&format!("/api/v1/admin/groups/{g3}")).await.unwrap().status, 404);
    assert_eq!(ta.patch(&format!("/api/v1/admin/groups/{g1}"), json!({"name": "Renamed"})).await.unwrap().status, 200);
    // A tenant admin's group lands in its own tenant; it cannot create in another.
    let r = ta.post("/api/v1/admin/groups", json!({"name": "Mine"})).await.unwrap();
    assert_eq!((r.status, r.body["tenant_id"].as_str()), (201, Some(t1.as_str())));
    assert_eq!(ta.post("/api/v1/admin/groups", json!({"name": "Theirs", "tenant_id": t2})).await.unwrap().status, 403);
    assert_eq!(pa.post("/api/v1/admin/groups", json!({"name": "Theirs", "tenant_id": t2})).await.unwrap().status, 201);
    assert_eq!(pa.post("/api/v1/admin/groups", json!({"name": "Outside", "tenant_id": t3})).await.unwrap().status, 403);
}
