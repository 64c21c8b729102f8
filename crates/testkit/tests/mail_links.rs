//! Mailed links end to end (contract §10) against a real SMTP server (Python's `aiosmtpd`,
//! started by the test): "forgot password" answers alike for known and unknown addresses and
//! mails a link that works once, under the tenant's password policy, and ends every session;
//! an admin creates a user without a password, who is mailed an invitation (sent again on
//! request, the earlier link then dead) and sets a password with it; following either link
//! verifies the address. Without SMTP in production, both are off and say so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::mail::{ReceivedMail, SmtpSink};
use scaikey_testkit::signin::{Browser, field, location};
use scaikey_testkit::{ISSUER, TestApp};
use serde_json::json;

const PASSWORD: &str = "Ana's first passphrase";
const NEW_PASSWORD: &str = "Ana's second passphrase";

async fn app_with_mail(sink: &SmtpSink) -> TestApp {
    TestApp::spawn_with(&[("SCAIKEY_SMTP_URL", &sink.url()), ("SCAIKEY_SMTP_FROM", "Acme Sign-in <id@acme.test>")])
        .await
        .unwrap()
}

async fn tenant(admin: &scaikey_testkit::ApiClient) -> String {
    let t = admin
        .post(
            "/api/v1/admin/tenants",
            json!({"name": "Acme", "slug": "acme", "settings": {"password_policy": {"min_length": 16}}}),
        )
        .await
        .unwrap();
    assert_eq!(t.status, 201, "{}", t.body);
    t.id()
}

/// Posts a page's form after fetching it for its CSRF token; answers status, location and body.
async fn submit(b: &mut Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let html = b.get(page).await.unwrap().text().await.unwrap();
    let csrf = field(&html, "csrf").unwrap_or_else(|| panic!("a CSRF token on {page}: {html}"));
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b.post(action, &form).await.unwrap();
    let status = r.status().as_u16();
    let to = location(&r).ok();
    (status, to, r.text().await.unwrap())
}

/// The path of a mailed link on this server (mails name the issuer).
fn link_path(mail: &ReceivedMail) -> String {
    let link = mail.link().expect("a link in the mail");
    assert!(link.starts_with(&format!("{ISSUER}/login/reset?token=")), "{link}");
    link[ISSUER.len()..].to_string()
}

/// The text of the page's `role="status"` paragraph.
fn status_text(html: &str) -> String {
    let start = html.find(r#"role="status""#).expect("a status line");
    let start = html[start..].find('>').unwrap() + start + 1;
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_through_the_mailed_link() {
    let sink = SmtpSink::start().unwrap();
    let app = app_with_mail(&sink).await;
    let admin = app.super_admin().await.unwrap();
    let tenant = tenant(&admin).await;
    let email = "ana+id@acme.test";
    let user = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": email, "password": PASSWORD, "tenant_id": tenant, "display_name": "Ana \"Ö\" <b>"}),
        )
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    assert_eq!((user.body["email_verified"].as_bool(), user.body["password_set"].as_bool()), (Some(false), Some(true)));
    let user_id = user.id();

    // Signed in to /account, and holding an API token, before the reset.
    let mut signed_in = Browser::new(&app.base_url).unwrap();
    let (status, to, _) =
        submit(&mut signed_in, "/account", "/account/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/account")));
    let token = app.login(email, PASSWORD, Some(&tenant)).await.unwrap();

    // The login page links to the form; known and unknown addresses get the same answer.
    let mut b = Browser::new(&app.base_url).unwrap();
    let login = b.get("/account").await.unwrap().text().await.unwrap();
    assert!(login.contains(r#"href="/login/forgot""#), "{login}");
    let (status, _, unknown) = submit(&mut b, "/login/forgot", "/login/forgot", &[("email", "nobody@acme.test")]).await;
    assert_eq!(status, 200);
    let (status, _, known) = submit(&mut b, "/login/forgot", "/login/forgot", &[("email", " ANA+ID@Acme.test ")]).await;
    assert_eq!(status, 200);
    assert_eq!(status_text(&known), status_text(&unknown));
    assert!(status_text(&known).contains("If an account uses this address"), "{known}");

    let mail = sink.wait_for(email, 1).await.unwrap().remove(0);
    assert!(mail.from.contains("id@acme.test"), "{mail:?}");
    assert_eq!(mail.header("Subject").as_deref(), Some("Choose a new password"));
    assert!(mail.text().contains("30 minutes"), "{}", mail.text());
    let path = link_path(&mail);

    // The link shows the form without using it; a password under the policy is refused and
    // the link still works.
    let r = b.get(&path).await.unwrap();
    assert_eq!(r.status(), 200);
    let form = r.text().await.unwrap();
    let link_token = field(&form, "token").expect("the token in the form");
    let csrf = field(&form, "csrf").unwrap();
    let r = b
        .post("/login/reset", &[("csrf", csrf.as_str()), ("token", &link_token), ("new_password", "too short")])
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("16"), "the policy's rule is named");
    let r = b
        .post("/login/reset", &[("csrf", csrf.as_str()), ("token", &link_token), ("new_password", NEW_PASSWORD)])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Your password is set"));

    // Once only.
    let r = b
        .post(
            "/login/reset",
            &[("csrf", csrf.as_str()), ("token", &link_token), ("new_password", "Yet another passphrase")],
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("This link is invalid"));
    assert_eq!(b.get(&path).await.unwrap().status(), 400);

    // Every session ended; the new password works, the old one does not.
    let after = signed_in.get("/account").await.unwrap().text().await.unwrap();
    assert!(after.contains(r#"action="/account/login""#), "the /account session ended");
    assert_eq!(token.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap().status, 401);
    assert!(app.login(email, PASSWORD, Some(&tenant)).await.is_err());
    app.login(email, NEW_PASSWORD, Some(&tenant)).await.unwrap();

    // The address is verified, the reset audited with the person as actor.
    let u = admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap();
    assert_eq!(u.body["email_verified"], true, "{}", u.body);
    let ev = admin.get(&format!("/api/v1/admin/audit?action=auth.password_reset&actor_id={user_id}")).await.unwrap();
    assert_eq!(ev.body["pagination"]["total"], 1, "{}", ev.body);

    // A loop on the form mails the person once a minute at most.
    for _ in 0..3 {
        submit(&mut b, "/login/forgot", "/login/forgot", &[("email", email)]).await;
    }
    sink.wait_for(email, 2).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.wait_for(email, 2).await.unwrap().len(), 2);
    assert!(sink.received().unwrap().iter().all(|m| !m.to.iter().any(|t| t.contains("nobody"))));
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_once() {
    let sink = SmtpSink::start().unwrap();
    let app = app_with_mail(&sink).await;
    let admin = app.super_admin().await.unwrap();
    let tenant = tenant(&admin).await;
    let email = "new.hire@acme.test";
    let user = admin.post("/api/v1/admin/users", json!({"email": email, "tenant_id": tenant})).await.unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    assert_eq!(user.body["password_set"], false);
    let user_id = user.id();
    let first = sink.wait_for(email, 1).await.unwrap().remove(0);
    assert!(first.header("Subject").unwrap().contains("invited"), "{first:?}");
    assert!(first.text().contains("7 days"));
    // Before a password is chosen, no password signs in.
    assert!(app.login(email, "", Some(&tenant)).await.is_err());

    // Sent again: the earlier link stops working.
    let r = admin.post(&format!("/api/v1/admin/users/{user_id}/invite"), json!({})).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    let second = sink.wait_for(email, 2).await.unwrap().remove(1);
    let mut b = Browser::new(&app.base_url).unwrap();
    assert_eq!(b.get(&link_path(&first)).await.unwrap().status(), 400);
    let path = link_path(&second);
    let page = b.get(&path).await.unwrap().text().await.unwrap();
    assert!(page.contains("Choose your password"), "{page}");
    let (status, _, done) = submit(
        &mut b,
        &path,
        "/login/reset",
        &[("token", &field(&page, "token").unwrap()), ("new_password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Welcome"));
    app.login(email, PASSWORD, Some(&tenant)).await.unwrap();

    let u = admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap();
    assert_eq!((u.body["password_set"].as_bool(), u.body["email_verified"].as_bool()), (Some(true), Some(true)));
    let r = admin.post(&format!("/api/v1/admin/users/{user_id}/invite"), json!({})).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.body);
    let ev = admin.get(&format!("/api/v1/admin/audit?action=auth.invitation_accept&actor_id={user_id}")).await.unwrap();
    assert_eq!(ev.body["pagination"]["total"], 1, "{}", ev.body);
}

#[tokio::test]
async fn without_smtp_production_turns_mail_off_and_says_so() {
    let app = TestApp::spawn_with(&[("SCAIKEY_ENV", "production")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = tenant(&admin).await;
    let r = admin.post("/api/v1/admin/users", json!({"email": "x@acme.test", "tenant_id": tenant})).await.unwrap();
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.first_loc(), "body.password");
    assert!(r.body.to_string().contains("SCAIKEY_SMTP_URL"));
    let u = admin
        .post("/api/v1/admin/users", json!({"email": "y@acme.test", "tenant_id": tenant, "password": PASSWORD}))
        .await
        .unwrap();
    let r = admin.post(&format!("/api/v1/admin/users/{}/invite", u.id()), json!({})).await.unwrap();
    assert_eq!(r.status, 409, "{}", r.body);
    let mut b = Browser::new(&app.base_url).unwrap();
    let page = b.get("/login/forgot").await.unwrap().text().await.unwrap();
    assert!(page.contains("not available"), "{page}");
    assert!(!page.contains(r#"name="email""#));
}
