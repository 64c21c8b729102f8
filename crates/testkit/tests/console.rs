//! The web console (contract §13), first pages: sign-in through ScaiKey's own authorization
//! endpoint as the first-party client `scaikey-console` (code + PKCE), the dashboard against the
//! API's numbers, lists with search and paging within the admin's reach, refusals for a tenant
//! admin and for a user who is no admin, CSRF on sign-out, and the console session ending with
//! the SSO session.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::signin::{Browser, field, location};
use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use serde_json::json;

/// Follows `url` in `b`, signing in as `email` when the login page shows, until a page of
/// the console (or an error page) answers: its status, final path and HTML.
async fn open(b: &mut Browser, url: &str, email: &str, password: &str) -> (u16, String, String) {
    let mut url = url.to_string();
    let mut signed_in = false;
    for _ in 0..12 {
        let r = b.get(&url).await.unwrap();
        if r.status().is_redirection() {
            url = location(&r).unwrap();
            continue;
        }
        let status = r.status().as_u16();
        let html = r.text().await.unwrap();
        if status == 200 && html.contains(r#"name="password""#) && !signed_in {
            signed_in = true;
            let form = [
                ("interaction", field(&html, "interaction").unwrap()),
                ("csrf", field(&html, "csrf").unwrap()),
                ("email", email.to_string()),
                ("password", password.to_string()),
            ];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = b.post("/login", &form).await.unwrap();
            url = location(&r).unwrap_or_else(|_| panic!("the login was refused for {email}"));
            continue;
        }
        return (status, url, html);
    }
    panic!("too many redirects from {url}");
}

fn stat(html: &str, id: &str) -> i64 {
    let marker = format!(r#"id="stat-{id}">"#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {id} in {html}")) + marker.len();
    html[start..start + html[start..].find('<').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn admins_sign_in_to_the_console_and_see_their_reach() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = admin.post("/api/v1/admin/partners", json!({"name": "Northwind"})).await.unwrap().id();
    for i in 0..27 {
        let r = admin
            .post("/api/v1/admin/tenants", json!({"name": format!("Tenant {i:02} ✓"), "partner_id": p}))
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let acme = admin.post("/api/v1/admin/tenants", json!({"name": "Acme <Corp>", "slug": "acme"})).await.unwrap().id();

    // The super admin: hosted login, then the dashboard with the API's numbers.
    let mut b = Browser::new(&app.base_url).unwrap();
    let (status, path, html) = open(&mut b, "/console", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!((status, path.as_str()), (200, "/console"), "{html}");
    let api = admin.get("/api/v1/admin/dashboard/stats").await.unwrap().body;
    for id in ["partners", "tenants", "users", "applications"] {
        assert_eq!(stat(&html, id), api[id].as_i64().unwrap(), "{id}");
    }
    assert!(html.contains(r#"href="/console/partners""#) && html.contains("Recent activity"));
    let r = b.get("/console").await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");

    // Lists: escaped, searched, paged (25 a page).
    let (_, _, tenants) = open(&mut b, "/console/tenants", "", "").await;
    assert!(tenants.contains("28 in all, page 1 of 2") && tenants.contains(r#"rel="next""#), "{tenants}");
    assert!(!tenants.contains("Acme <Corp>"), "names are escaped");
    let (_, _, page2) = open(&mut b, "/console/tenants?search=&page=2", "", "").await;
    assert!(page2.contains("page 2 of 2") && page2.contains(r#"rel="prev""#), "{page2}");
    let (_, _, found) = open(&mut b, "/console/tenants?search=acme", "", "").await;
    assert!(found.contains("1 in all") && found.contains("Acme &#60;Corp&#62;"), "{found}");
    let (status, _, _) = open(&mut b, "/console/tenants?page=x", "", "").await;
    assert_eq!(status, 400);
    let (status, _, partners) = open(&mut b, "/console/partners", "", "").await;
    assert!(status == 200 && partners.contains("Northwind"), "{partners}");

    // A tenant admin: no partners section, and the page refused; only their tenant's users.
    let r = admin
        .post("/api/v1/admin/users", json!({"email": "ta@acme.example", "password": "Tenant-Admin-Pw1", "roles": ["tenant_admin"], "tenant_id": acme}))
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let ta = r.id();
    let mut tb = Browser::new(&app.base_url).unwrap();
    let (status, _, html) = open(&mut tb, "/console", "ta@acme.example", "Tenant-Admin-Pw1").await;
    assert!(status == 200 && !html.contains("/console/partners") && !html.contains("stat-partners"), "{html}");
    assert_eq!(stat(&html, "tenants"), 1);
    let (status, _, _) = open(&mut tb, "/console/partners", "", "").await;
    assert_eq!(status, 403);
    let (_, _, users) = open(&mut tb, "/console/users", "", "").await;
    assert!(users.contains("ta@acme.example") && !users.contains(ADMIN_EMAIL), "{users}");

    // A user who is no admin signs in but is refused the console.
    let r = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "pat@acme.example", "password": "Plain-User-Pw12", "tenant_id": acme}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let mut pb = Browser::new(&app.base_url).unwrap();
    let (status, _, html) = open(&mut pb, "/console", "pat@acme.example", "Plain-User-Pw12").await;
    assert!(status == 403 && html.contains("Only administrators"), "{status}: {html}");

    // The console session ends with the SSO session: revoked by an admin, the next page asks
    // for the login again.
    let sessions = admin.get(&format!("/api/v1/admin/sessions?user_id={ta}&per_page=100")).await.unwrap();
    let live: Vec<String> = sessions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["user_id"] == json!(ta) && s["revoked_at"].is_null())
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!live.is_empty(), "{}", sessions.body);
    for s in &live {
        let r = admin.post(&format!("/api/v1/admin/sessions/{s}/revoke"), json!({})).await.unwrap();
        assert!(r.status < 300, "{}", r.body);
    }
    let r = tb.get("/console").await.unwrap();
    assert_eq!(location(&r).unwrap(), "/console/login", "a revoked session is a signed-out console");

    // Sign-out needs the CSRF token; with it, the SSO session ends too.
    let mut sb = Browser::new(&app.base_url).unwrap();
    let (_, _, html) = open(&mut sb, "/console", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = sb.post("/console/logout", &[("csrf", "forged")]).await.unwrap();
    assert_eq!(r.status(), 403);
    let csrf = field(&html, "csrf").unwrap();
    let r = sb.post("/console/logout", &[("csrf", csrf.as_str())]).await.unwrap();
    let to = location(&r).unwrap();
    assert!(to.starts_with("/oauth/logout?client_id=scaikey-console"), "{to}");
    let r = sb.get(&to).await.unwrap();
    assert_eq!(location(&r).unwrap(), format!("{}/console", app.issuer));
    let r = sb.get("/console").await.unwrap();
    assert_eq!(location(&r).unwrap(), "/console/login");
    let r = sb.get("/console/login").await.unwrap();
    assert!(location(&r).unwrap().starts_with("/oauth/authorize?"), "signing in again goes through the provider");
}

#[tokio::test]
async fn a_forged_console_cookie_or_callback_gets_nothing() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let mut b = Browser::new(&app.base_url).unwrap();
    b.cookies.insert("scaikey_console".into(), "ses_01HZY3K7Q8W9E2R4T6Y8V0A2B4~usr_01HZY3K7Q8W9E2R4T6Y8V0A2B4".into());
    let r = b.get("/console/users").await.unwrap();
    assert_eq!(location(&r).unwrap(), "/console/login");
    for q in ["", "?code=x&state=y"] {
        let r = b.get(&format!("/console/callback{q}")).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
    }
    // A state that is not the one this browser started.
    b.cookies.insert("scaikey_console_login".into(), "mine~verifier".into());
    let r = b.get("/console/callback?code=x&state=theirs").await.unwrap();
    assert_eq!(r.status(), 400);
    // An issuer that is neither https nor loopback has no console.
    let fixed = TestApp::spawn().await.unwrap();
    let r = reqwest::get(format!("{}/console", fixed.base_url)).await.unwrap();
    assert_eq!(r.status(), 404);
}
