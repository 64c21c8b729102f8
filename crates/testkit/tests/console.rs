//! The web console (contract §13), first pages: sign-in through ScaiKey's own authorization
//! endpoint as the first-party client `scaikey-console` (code + PKCE), the dashboard against the
//! API's numbers, lists with search and paging within the admin's reach, refusals for a tenant
//! admin and for a user who is no admin, CSRF on sign-out, and the console session ending with
//! the SSO session.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_testkit::signin::{Browser, field, location};
use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use serde_json::json;

async fn open(b: &mut Browser, url: &str, email: &str, password: &str) -> (u16, String, String) {
    b.open(url, email, password).await.unwrap()
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
    assert_eq!(location(&r).unwrap(), "/console/login?next=%2Fconsole", "a revoked session is a signed-out console");

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
    assert_eq!(location(&r).unwrap(), "/console/login?next=%2Fconsole");
    let r = sb.get("/console/login").await.unwrap();
    assert!(location(&r).unwrap().starts_with("/oauth/authorize?"), "signing in again goes through the provider");
}

#[tokio::test]
async fn a_forged_console_cookie_or_callback_gets_nothing() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let mut b = Browser::new(&app.base_url).unwrap();
    b.cookies.insert("scaikey_console".into(), "ses_01HZY3K7Q8W9E2R4T6Y8V0A2B4~usr_01HZY3K7Q8W9E2R4T6Y8V0A2B4".into());
    let r = b.get("/console/users?search=a").await.unwrap();
    assert_eq!(location(&r).unwrap(), "/console/login?next=%2Fconsole%2Fusers%3Fsearch%3Da");
    // Back only to a console page, never elsewhere.
    let r = b.get("/console/login?next=https://evil.example/").await.unwrap();
    assert!(location(&r).unwrap().starts_with("/oauth/authorize?"));
    let login = b.cookies["scaikey_console_login"].clone();
    let next = URL_SAFE_NO_PAD.decode(login.rsplit('~').next().unwrap()).unwrap();
    assert_eq!(next, b"/console");
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

#[tokio::test]
async fn registration_requests_are_approved_and_rejected_in_the_console_and_the_audit_log_filters() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let mk = |name: &str| json!({"scope": "GLOBAL", "name": name, "application_type": "SERVICE", "contact_email": "dev@acme.example"});
    let payroll = admin.post("/api/v1/admin/registration-requests", mk("Payroll sync")).await.unwrap().id();
    let crm = admin.post("/api/v1/admin/registration-requests", mk("CRM <bridge>")).await.unwrap().id();
    let mut b = Browser::new(&app.base_url).unwrap();
    let (status, _, html) = open(&mut b, "/console/registrations", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(status == 200 && html.contains("Payroll sync") && html.contains("CRM &#60;bridge&#62;"), "{html}");
    let csrf = field(&html, "csrf").unwrap();

    // Without the CSRF token: refused, nothing changed.
    let r = b.post(&format!("/console/registrations/{crm}/reject"), &[("reason", "no")]).await.unwrap();
    assert_eq!(r.status(), 403);
    // A rejection needs a reason: the API's message beside the field, nothing changed.
    let r = b
        .post(&format!("/console/registrations/{crm}/reject"), &[("csrf", csrf.as_str()), ("reason", "  ")])
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("A rejection needs a non-empty reason"));
    assert_eq!(
        admin.get(&format!("/api/v1/admin/registration-requests/{crm}")).await.unwrap().body["status"],
        "PENDING"
    );
    let r = b
        .post(
            &format!("/console/registrations/{crm}/reject"),
            &[("csrf", csrf.as_str()), ("reason", "Duplicate of CRM v2 ✓")],
        )
        .await
        .unwrap();
    assert_eq!(location(&r).unwrap(), "/console/registrations?done=rejected");
    let got = admin.get(&format!("/api/v1/admin/registration-requests/{crm}")).await.unwrap().body;
    assert_eq!(
        (got["status"].as_str(), got["rejection_reason"].as_str()),
        (Some("REJECTED"), Some("Duplicate of CRM v2 ✓"))
    );

    // Approval with notes: the client's credentials once, the same as the API would give.
    let r = b
        .post(
            &format!("/console/registrations/{payroll}/approve"),
            &[("csrf", csrf.as_str()), ("notes", "Checked with finance")],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let got = admin.get(&format!("/api/v1/admin/registration-requests/{payroll}")).await.unwrap().body;
    assert_eq!(
        (got["status"].as_str(), got["review_notes"].as_str()),
        (Some("APPROVED"), Some("Checked with finance"))
    );
    let app_id = got["application_id"].as_str().unwrap();
    let client_id = admin.get(&format!("/api/v1/admin/applications/{app_id}")).await.unwrap().body["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(page.contains(&client_id) && page.contains(r#"id="client_secret""#), "{page}");
    let secret = {
        let start = page.find(r#"id="client_secret"><code>"#).unwrap() + r#"id="client_secret"><code>"#.len();
        page[start..start + page[start..].find('<').unwrap()].to_string()
    };
    let t = app.token_request(Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!(t.status, 200, "the secret shown works: {}", t.body);
    // Approving again: the state machine's conflict, on the page.
    let r = b.post(&format!("/console/registrations/{payroll}/approve"), &[("csrf", csrf.as_str())]).await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, _, approved) = open(&mut b, "/console/registrations?status=APPROVED", "", "").await;
    assert!(approved.contains("Payroll sync") && !approved.contains("CRM"), "{approved}");

    // The audit log, filtered.
    let (_, _, log) = open(&mut b, "/console/audit?action=registration.reject", "", "").await;
    assert!(log.contains("1 in all") && log.contains(&format!("registration_request {crm}")), "{log}");
    let (_, _, failures) = open(&mut b, "/console/audit?result=failure", "", "").await;
    assert!(!failures.contains("registration.approve"), "{failures}");
}

#[tokio::test]
async fn sessions_are_revoked_with_a_confirmation_and_identity_providers_show_their_callback() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme"})).await.unwrap().id();
    let idp = admin
        .post(
            "/api/v1/admin/identity-providers",
            json!({"name": "Acme Entra", "protocol": "OIDC", "tenant_id": tenant, "issuer": "https://login.microsoftonline.com/acme/v2.0", "client_id": "c"}),
        )
        .await
        .unwrap()
        .id();
    // Someone else's session to revoke.
    let other = app.user_with_roles("ops@scaikey.test", &["super_admin"], None).await.unwrap();
    let mut b = Browser::new(&app.base_url).unwrap();
    let (status, _, html) =
        open(&mut b, &format!("/console/identity-providers/{idp}"), ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(status == 200 && html.contains(&format!("{}/oauth/callback/{idp}", app.issuer)), "{html}");
    let (_, _, html) = open(&mut b, "/console/sessions", "", "").await;
    let csrf = field(&html, "csrf").unwrap();
    let sessions = admin.get("/api/v1/admin/sessions?per_page=100").await.unwrap().body;
    let ops_user = admin.get("/api/v1/admin/users?search=ops%40").await.unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let target = sessions["items"].as_array().unwrap().iter().find(|s| s["user_id"] == json!(ops_user)).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&format!(r#"<tr id="{target}">"#)), "{html}");
    let r = b.post(&format!("/console/sessions/{target}/revoke"), &[("csrf", csrf.as_str())]).await.unwrap();
    assert_eq!(r.status(), 400, "not confirmed");
    assert!(other.get("/api/v1/admin/tenants").await.unwrap().status == 200);
    let r = b
        .post(&format!("/console/sessions/{target}/revoke"), &[("csrf", csrf.as_str()), ("confirm", "yes")])
        .await
        .unwrap();
    assert_eq!(location(&r).unwrap(), "/console/sessions?done=revoked");
    assert_eq!(other.get("/api/v1/admin/tenants").await.unwrap().status, 401, "its token is refused at once");
    let (_, _, html) = open(&mut b, "/console/sessions?done=revoked", "", "").await;
    assert!(html.contains("The session was revoked.") && !html.contains(&format!(r#"<tr id="{target}">"#)));
}

#[tokio::test]
async fn the_dashboard_charts_the_last_day_of_sign_ins_and_tokens() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let svc = admin
        .post("/api/v1/admin/applications", json!({"name": "ops-bot", "application_type": "SERVICE", "scope": "GLOBAL", "allowed_scopes": ["admin:read"]}))
        .await
        .unwrap();
    let (id, secret) =
        (svc.body["client_id"].as_str().unwrap().to_string(), svc.body["client_secret"].as_str().unwrap().to_string());
    for _ in 0..3 {
        let t = app.token_request(Some((&id, &secret)), &[("grant_type", "client_credentials")]).await.unwrap();
        assert_eq!(t.status, 200);
    }
    let mut b = Browser::new(&app.base_url).unwrap();
    // The token tally is written each second; the page reads what is stored.
    let mut last = String::new();
    for _ in 0..30 {
        let (_, _, html) = open(&mut b, "/console", ADMIN_EMAIL, ADMIN_PASSWORD).await;
        last = html;
        let day = &last[last.find(r#"id="day""#).unwrap()..];
        let day = &day[..day.find("</table>").unwrap()];
        let rows: Vec<&str> = day.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), 24, "one row an hour");
        let now = rows[23];
        let cells: Vec<i64> = now.split("<td>").skip(2).filter_map(|c| c.split('<').next()?.parse().ok()).collect();
        if cells.len() == 2 && cells[0] >= 1 && cells[1] >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(last.contains(r#"src="/console/activity.svg""#), "{last}");
    let r = b.get("/console/activity.svg").await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Sign-ins") && svg.contains("Tokens issued"), "{svg}");
    // Without a console session: the sign-in, not the chart.
    let r = Browser::new(&app.base_url).unwrap().get("/console/activity.svg").await.unwrap();
    assert!(location(&r).unwrap().starts_with("/console/login"));
}
