//! `/api/v1/admin/partners` end to end: platform-only CRUD, filters, pagination, soft delete,
//! and malformed input that must never be a 500.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn crud_with_both_path_forms_and_soft_delete() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();

    let r = admin
        .post(
            "/api/v1/admin/partners/",
            json!({"name": "Acme EU", "contact_email": "ops@acme.example", "max_tenants": 3}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(id.starts_with("prt_") && id.len() == 30);
    assert_eq!(r.body["slug"], "acme-eu");
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["max_tenants"], 3);
    assert_eq!(r.body["max_users_per_tenant"], json!(null));

    for path in [format!("/api/v1/admin/partners/{id}"), format!("/api/v1/admin/partners/{id}/")] {
        let g = admin.get(&path).await.unwrap();
        assert_eq!((g.status, g.body["name"].as_str()), (200, Some("Acme EU")), "{path}");
    }

    // PATCH changes only what is present; null clears nullable fields.
    let p = admin
        .patch(
            &format!("/api/v1/admin/partners/{id}"),
            json!({"status": "suspended", "max_tenants": null, "contact_email": null}),
        )
        .await
        .unwrap();
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["status"], "suspended");
    assert_eq!(p.body["max_tenants"], json!(null));
    assert_eq!(p.body["contact_email"], json!(null));
    assert_eq!(p.body["name"], "Acme EU");
    assert!(p.body["updated_at"].as_str() > r.body["updated_at"].as_str());

    // null for a non-nullable field is a 422.
    let p = admin.patch(&format!("/api/v1/admin/partners/{id}"), json!({"name": null})).await.unwrap();
    assert_eq!((p.status, p.first_loc().as_str()), (422, "body.name"));

    let d = admin.delete(&format!("/api/v1/admin/partners/{id}/")).await.unwrap();
    assert_eq!((d.status, &d.body), (204, &json!(null)));
    let g = admin.get(&format!("/api/v1/admin/partners/{id}")).await.unwrap();
    assert_eq!((g.status, g.detail()), (404, "Partner not found"));
    assert_eq!(admin.delete(&format!("/api/v1/admin/partners/{id}")).await.unwrap().status, 404);
    assert_eq!(admin.patch(&format!("/api/v1/admin/partners/{id}"), json!({"name": "x"})).await.unwrap().status, 404);
    let l = admin.get("/api/v1/admin/partners").await.unwrap();
    assert_eq!(l.body["pagination"]["total"], 0);

    // The slug of a deleted partner may be reused; a live duplicate is a 409.
    assert_eq!(admin.post("/api/v1/admin/partners", json!({"name": "Acme EU"})).await.unwrap().status, 201);
    let dup = admin.post("/api/v1/admin/partners", json!({"name": "Other", "slug": "acme-eu"})).await.unwrap();
    assert_eq!(dup.status, 409);
    assert!(dup.detail().contains("slug"));
}

#[tokio::test]
async fn lists_filter_and_paginate_newest_first() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    for (name, status) in [
        ("Alpha", "active"),
        ("Beta", "suspended"),
        ("Gamma", "active"),
        ("Alphabet", "active"),
        ("Delta 50%", "active"),
    ] {
        let r = admin.post("/api/v1/admin/partners", json!({"name": name, "status": status})).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let all = admin.get("/api/v1/admin/partners").await.unwrap();
    let names: Vec<_> =
        all.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Delta 50%", "Alphabet", "Gamma", "Beta", "Alpha"]);
    assert_eq!(all.body["pagination"], json!({"page": 1, "per_page": 20, "total": 5, "total_pages": 1}));

    let page = admin.get("/api/v1/admin/partners?page=2&per_page=2").await.unwrap();
    assert_eq!(page.body["pagination"], json!({"page": 2, "per_page": 2, "total": 5, "total_pages": 3}));
    assert_eq!(page.body["items"][0]["name"], "Gamma");
    let beyond = admin.get("/api/v1/admin/partners?page=9&per_page=2").await.unwrap();
    assert_eq!((beyond.status, beyond.body["items"].as_array().unwrap().len()), (200, 0));

    let s = admin.get("/api/v1/admin/partners?search=ALPHA").await.unwrap();
    assert_eq!(s.body["pagination"]["total"], 2);
    let s = admin.get("/api/v1/admin/partners?search=50%25").await.unwrap();
    assert_eq!(s.body["pagination"]["total"], 1, "a % in the search is literal");
    let s = admin.get("/api/v1/admin/partners?search=_").await.unwrap();
    assert_eq!(s.body["pagination"]["total"], 0, "an _ in the search is literal");
    let s = admin.get("/api/v1/admin/partners?status=suspended").await.unwrap();
    assert_eq!(s.body["items"][0]["name"], "Beta");
    assert_eq!(s.body["pagination"]["total"], 1);

    for (q, loc) in [
        ("per_page=101", "query.per_page"),
        ("per_page=0", "query.per_page"),
        ("page=0", "query.page"),
        ("page=abc", "query.page"),
        ("page=99999999999999999999", "query.page"),
        ("status=frozen", "query.status"),
    ] {
        let r = admin.get(&format!("/api/v1/admin/partners?{q}")).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{q}");
    }
    let both = admin.get("/api/v1/admin/partners?page=0&per_page=500").await.unwrap();
    assert_eq!(both.body["detail"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_the_platform_touches_partners() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = admin.post("/api/v1/admin/partners", json!({"name": "P"})).await.unwrap().id();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "T", "partner_id": p})).await.unwrap().id();
    let pa = app.user_with_roles("pa@p.test", &["partner_admin"], Some(&t)).await.unwrap();
    let ta = app.user_with_roles("ta@p.test", &["tenant_admin"], Some(&t)).await.unwrap();
    let nobody = app.user_with_roles("user@p.test", &[], Some(&t)).await.unwrap();
    for c in [&pa, &ta, &nobody] {
        for r in [
            c.get("/api/v1/admin/partners").await.unwrap(),
            c.get(&format!("/api/v1/admin/partners/{p}")).await.unwrap(),
            c.get("/api/v1/admin/partners/prt_malformed").await.unwrap(),
            c.post("/api/v1/admin/partners", json!({"name": "Mine"})).await.unwrap(),
            c.patch(&format!("/api/v1/admin/partners/{p}"), json!({"name": "Mine"})).await.unwrap(),
            c.delete(&format!("/api/v1/admin/partners/{p}")).await.unwrap(),
        ] {
            assert_eq!((r.status, r.detail()), (403, "Access denied"));
        }
    }
    assert_eq!(admin.get(&format!("/api/v1/admin/partners/{p}")).await.unwrap().body["name"], "P");
}

#[tokio::test]
async fn malformed_input_is_a_clear_4xx_never_a_500() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let huge = "x".repeat(100_000);
    let cases = [
        (json!({}), "body.name"),
        (json!({"name": ""}), "body.name"),
        (json!({"name": huge}), "body.name"),
        (json!({"name": 42}), "body.name"),
        (json!({"name": ["a"]}), "body.name"),
        (json!({"name": "ok", "status": "frozen"}), "body.status"),
        (json!({"name": "ok", "slug": "Not A Slug"}), "body.slug"),
        (json!({"name": "ok", "contact_email": "nope"}), "body.contact_email"),
        (json!({"name": "ok", "max_tenants": -1}), "body.max_tenants"),
        (json!({"name": "ok", "max_tenants": 1e30}), "body.max_tenants"),
        (json!({"name": "ok", "max_tenants": "3"}), "body.max_tenants"),
        (json!({"name": "!!!"}), "body.slug"),
        (json!([1, 2]), "body"),
        (json!("text"), "body"),
    ];
    for (body, loc) in cases {
        let r = admin.post("/api/v1/admin/partners", body.clone()).await.unwrap();
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.first_loc(), loc, "{body}");
        let e = &r.body["detail"][0];
        assert!(e["msg"].is_string() && e["type"].is_string(), "{body}");
    }
    for raw in [&b"{"[..], b"{\"name\": \"a\"} trailing", b"", b"\xff\xfe", b"null"] {
        let r = admin.raw(reqwest::Method::POST, "/api/v1/admin/partners", Some(raw.to_vec())).await.unwrap();
        assert_eq!(r.status, 422, "{:?}: {}", String::from_utf8_lossy(raw), r.body);
    }
    let r = admin.raw(reqwest::Method::POST, "/api/v1/admin/partners", Some(vec![b' '; 300 * 1024])).await.unwrap();
    assert_eq!(r.status, 413);
    for id in [
        "prt_",
        "prt_123",
        "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "prt_01arz3ndektsv4rrffq69g5fav",
        "%00",
        &"z".repeat(5000),
    ] {
        let r = admin.get(&format!("/api/v1/admin/partners/{id}")).await.unwrap();
        assert_eq!((r.status, r.detail()), (404, "Partner not found"), "{id}");
        let r = admin.patch(&format!("/api/v1/admin/partners/{id}"), json!({"name": "x"})).await.unwrap();
        assert_eq!(r.status, 404, "{id}");
    }
    // Every problem is reported at once.
    let r = admin.post("/api/v1/admin/partners", json!({"name": "", "status": "x", "max_tenants": -5})).await.unwrap();
    assert_eq!(r.body["detail"].as_array().unwrap().len(), 3);
}
