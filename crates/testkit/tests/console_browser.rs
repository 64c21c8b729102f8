//! The web console in a real headless Chromium (`node/console.js`): sign-in through the hosted
//! login, the dashboard with its chart, a searched list, an approval through the queue's form,
//! a tenant created, changed and deleted through its forms with the branding's live preview, the
//! same round trip for partners, users, groups, applications, identity providers and agents, a
//! group's nesting as a tree, a phone-sized screen, and a tenant admin without the partners
//! section. No console error (a CSP violation would be one). The screenshots in
//! `docs/screenshots/console-*.png` come from here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};

use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, tools};
use serde_json::{Value, json};

fn shot(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("console-{name}.png"))
}

#[tokio::test]
async fn an_admin_uses_the_console_in_a_browser() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = admin.post("/api/v1/admin/partners", json!({"name": "Northwind Traders"})).await.unwrap().id();
    let acme = admin
        .post("/api/v1/admin/tenants", json!({"name": "Acme Corp", "slug": "acme", "partner_id": p}))
        .await
        .unwrap()
        .id();
    for name in ["Globex", "Initech", "Umbrella", "Hooli"] {
        admin.post("/api/v1/admin/tenants", json!({"name": name, "partner_id": p})).await.unwrap();
    }
    let r = admin
        .post(
            "/api/v1/admin/registration-requests",
            json!({"scope": "GLOBAL", "name": "Payroll sync", "application_type": "SERVICE", "contact_email": "dev@acme.example"}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin
        .post("/api/v1/admin/users", json!({"email": "ta@acme.example", "password": "Tenant-Admin-Pw1", "roles": ["tenant_admin"], "tenant_id": acme}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let mut parent = None;
    let mut top = String::new();
    for name in ["Engineering", "Platform", "On-call", "Databases"] {
        let g = admin.post("/api/v1/admin/groups", json!({"name": name, "tenant_id": acme})).await.unwrap().id();
        match &parent {
            Some(p) => {
                let r = admin
                    .post(&format!("/api/v1/admin/groups/{p}/nested"), json!({"child_group_id": g}))
                    .await
                    .unwrap();
                assert!(r.status < 300, "{}", r.body);
            }
            None => top = g.clone(),
        }
        parent = Some(g);
    }
    let ta_id = admin.get("/api/v1/admin/users?search=ta%40acme").await.unwrap().body["items"][0]["id"].clone();
    let r = admin.post(&format!("/api/v1/admin/groups/{top}/members"), json!({"user_id": ta_id})).await.unwrap();
    assert!(r.status < 300, "{}", r.body);
    let shots = ["dashboard", "tenants", "registrations", "phone", "tenant-form", "group"].map(shot);
    let cfg = json!({
        "base_url": app.base_url, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
        "tenant_admin_email": "ta@acme.example", "tenant_admin_password": "Tenant-Admin-Pw1",
        "group": top,
        "round_trips": [
            {"path": "/console/partners", "fields": {"name": "Wayne Enterprises"}, "renamed": "Wayne Ent."},
            {"path": "/console/users", "renamed": "dr.pym@acme.example",
             "fields": {"email": "hank.pym@acme.example", "tenant_id": acme, "password": "Ant-Man-Passw0rd!", "roles": "tenant_admin"}},
            {"path": "/console/groups", "fields": {"name": "Skunkworks", "tenant_id": acme}, "renamed": "Skunk works"},
            {"path": "/console/applications", "renamed": "Storefront SPA v2",
             "fields": {"name": "Storefront SPA", "application_type": "SPA", "tenant_id": acme, "redirect_uris": "https://shop.acme.example/callback"}},
            {"path": "/console/identity-providers", "renamed": "Acme Okta",
             "fields": {"name": "Okta", "tenant_id": acme, "issuer": "https://acme.okta.com", "client_id": "scaikey"}},
            {"path": "/console/agents", "renamed": "Support bot v2",
             "fields": {"name": "Support bot", "tenant_id": acme, "allowed_tools": "list_users\nget_user"}},
        ],
        "screenshots": {"dashboard": shots[0], "tenants": shots[1], "registrations": shots[2], "phone": shots[3], "tenant_form": shots[4], "group": shots[5]},
    });
    let out = tokio::task::spawn_blocking(move || tools::run_node_script("console.js", &[&cfg.to_string()], &[]))
        .await
        .unwrap()
        .unwrap();
    let out: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(out["dashboard"]["title"], "Dashboard · ScaiKey", "{out}");
    assert_eq!(out["dashboard"]["tenants"], 5);
    assert_eq!(out["dashboard"]["chart_width"], 720, "the chart image loaded: {out}");
    assert!(out["dashboard"]["nav"].as_array().unwrap().contains(&json!("Partners")), "{out}");
    assert_eq!((out["tenants"]["rows"].as_i64(), out["tenants"]["searched"].as_i64()), (Some(5), Some(1)), "{out}");
    assert_eq!(out["approve"]["h1"], "Approved: Payroll sync", "{out}");
    assert_eq!(out["approve"]["secret_shown"], true);
    let req = admin.get("/api/v1/admin/registration-requests?status=APPROVED").await.unwrap().body;
    assert_eq!(req["items"][0]["review_notes"], "Checked in the browser", "{req}");
    assert_eq!(out["tenant"]["preview_h1"], "Sign in to Stark sign-in", "the live preview followed the typing: {out}");
    assert_eq!(out["tenant"]["preview_button"], "rgb(176, 0, 32)", "in the tenant's colour: {out}");
    assert_eq!(out["tenant"]["created"], "Tenant created.");
    assert_eq!(
        (out["tenant"]["saved"].as_str(), out["tenant"]["h1"].as_str()),
        (Some("The changes were saved."), Some("Stark Industries Ltd"))
    );
    assert_eq!(out["tenant"]["deleted"], "The tenant was deleted.");
    let gone = admin.get(&format!("/api/v1/admin/tenants/{}", out["tenant"]["id"].as_str().unwrap())).await.unwrap();
    assert_eq!(gone.status, 404, "deleted through the form: {out}");
    assert_eq!(out["group"]["nested"], json!(["Platform", "On-call", "Databases"]), "{out}");
    assert_eq!((out["group"]["indented"].as_i64(), out["group"]["members"].as_i64()), (Some(1), Some(1)), "{out}");
    let trips = out["round_trips"].as_object().unwrap();
    assert_eq!(trips.len(), 6, "{out}");
    for (path, t) in trips {
        let one = path.trim_start_matches("/console/").trim_end_matches('s').replace('-', " ");
        let created = format!("{}{} created.", one[..1].to_uppercase(), &one[1..]);
        assert_eq!(
            (t["created"].as_str(), t["saved"].as_str()),
            (Some(created.as_str()), Some("The changes were saved.")),
            "{path}: {out}"
        );
        assert_eq!(t["deleted"].as_str(), Some(format!("The {one} was deleted.").as_str()), "{path}: {out}");
        let api = format!("/api/v1/admin/{}/{}", path.trim_start_matches("/console/"), t["id"].as_str().unwrap());
        assert_eq!(admin.get(&api).await.unwrap().status, 404, "{path} deleted through the form");
    }
    assert_eq!(trips["/console/users"]["h1"], "dr.pym@acme.example", "{out}");
    assert_eq!(trips["/console/agents"]["h1"], "Support bot v2", "{out}");
    let pages = out["pages"].as_object().unwrap();
    assert_eq!(pages.len(), 11, "{out}");
    for (href, p) in pages {
        assert_eq!(p["status"], 200, "{href}: {out}");
    }
    assert_eq!(pages["/console/groups"]["detail"], "Databases", "newest first, a detail page opened: {out}");
    assert!(pages["/console/audit"]["detail"].as_str().is_some_and(|h| h.contains(" · ")), "{out}");
    assert_eq!(out["admin_errors"], json!([]), "no console error (CSP): {out}");
    assert_eq!(out["phone"]["overflow"], false, "the dashboard fits a phone: {out}");
    assert!(!out["tenant_admin"]["nav"].as_array().unwrap().contains(&json!("Partners")), "{out}");
    assert_eq!(out["tenant_admin"]["partners_status"], 403);
    for s in &shots {
        let png = std::fs::read(s).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{}", s.display());
    }
}
