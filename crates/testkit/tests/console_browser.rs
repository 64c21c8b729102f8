//! The web console in a real headless Chromium (`node/console.js`): sign-in through the hosted
//! login, the dashboard with its chart, a searched list, an approval through the queue's form,
//! a phone-sized screen, and a tenant admin without the partners section. No console error (a
//! CSP violation would be one). The screenshots in `docs/screenshots/console-*.png` come from
//! here.

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
    let shots = ["dashboard", "tenants", "registrations", "phone"].map(shot);
    let cfg = json!({
        "base_url": app.base_url, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
        "tenant_admin_email": "ta@acme.example", "tenant_admin_password": "Tenant-Admin-Pw1",
        "screenshots": {"dashboard": shots[0], "tenants": shots[1], "registrations": shots[2], "phone": shots[3]},
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
    assert_eq!(out["admin_errors"], json!([]), "no console error (CSP): {out}");
    assert_eq!(out["phone"]["overflow"], false, "the dashboard fits a phone: {out}");
    assert!(!out["tenant_admin"]["nav"].as_array().unwrap().contains(&json!("Partners")), "{out}");
    assert_eq!(out["tenant_admin"]["partners_status"], 403);
    for s in &shots {
        let png = std::fs::read(s).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{}", s.display());
    }
}
