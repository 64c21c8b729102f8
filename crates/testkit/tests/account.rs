//! `/account` end to end (contract §9): its own login, profile, password change under the
//! tenant's policy, the person's sessions and consents — each change CSRF-checked, audited with
//! the person as actor, and cutting what it should (sessions, refresh tokens) at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::TestApp;
use scaikey_testkit::signin::{Browser, SignIn, field, location};
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const EMAIL: &str = "zoe@acme.example";
const PASSWORD: &str = "Zoë-first-Passw0rd";

async fn page(b: &mut Browser) -> (u16, String) {
    let r = b.get("/account").await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn submit(b: &mut Browser, path: &str, fields: &[(&str, &str)]) -> (u16, Option<String>, String) {
    let (_, html) = page(b).await;
    let csrf = field(&html, "csrf").expect("a form with a CSRF token");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b.post(path, &form).await.unwrap();
    let status = r.status().as_u16();
    let to = location(&r).ok();
    (status, to, r.text().await.unwrap())
}

#[tokio::test]
async fn a_person_manages_their_own_account() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin
        .post(
            "/api/v1/admin/tenants",
            json!({"name": "Acme", "slug": "acme", "settings": {"password_policy": {"min_length": 12, "require_digit": true}}}),
        )
        .await
        .unwrap()
        .id();
    let user = admin
        .post("/api/v1/admin/users", json!({"email": EMAIL, "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    let user_id = user.id();
    let third = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Orders & Co", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant, "first_party": false,
                   "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email"], "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await
        .unwrap();
    assert_eq!(third.status, 201, "{}", third.body);
    let (cid, secret) = (third.body["client_id"].as_str().unwrap(), third.body["client_secret"].as_str().unwrap());

    // Signed out: the page is its own login form (any tenant, so the organisation is asked).
    let mut b = Browser::new(&app.base_url).unwrap();
    let (status, html) = page(&mut b).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"action="/account/login""#) && html.contains(r#"name="tenant""#), "{html}");
    let (status, _, html) = submit(&mut b, "/account/login", &[("email", EMAIL), ("password", "wrong")]).await;
    assert_eq!(status, 401);
    assert!(html.contains("Invalid credentials"));
    let (status, to, _) =
        submit(&mut b, "/account/login", &[("email", EMAIL), ("password", PASSWORD), ("tenant", "acme")]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/account")));
    assert!(b.cookies.contains_key("scaikey_session"));

    // The page: profile, the policy, this browser's session.
    let (status, html) = page(&mut b).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(EMAIL) && html.contains("at least 12 characters, with a digit") && html.contains("This browser")
    );

    // A form without the browser's CSRF token changes nothing.
    let r = b.post("/account/profile", &[("csrf", "forged"), ("first_name", "Mallory")]).await.unwrap();
    assert_eq!(r.status(), 403);

    let (status, to, _) =
        submit(&mut b, "/account/profile", &[("first_name", "Zoë"), ("last_name", "O'Hara <&>"), ("display_name", "")])
            .await;
    assert_eq!((status, to.as_deref()), (303, Some("/account?done=profile")));
    let shown = b.get("/account?done=profile").await.unwrap().text().await.unwrap();
    assert!(shown.contains("Your profile was saved.") && shown.contains(r#"value="Zoë""#), "{shown}");
    assert!(shown.contains("Hara &#60;&#38;&#62;") && !shown.contains("<&>"), "what people type is escaped: {shown}");
    let u = admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap();
    assert_eq!(
        (&u.body["first_name"], &u.body["last_name"], &u.body["display_name"]),
        (&json!("Zoë"), &json!("O'Hara <&>"), &json!(null))
    );
    let long = "x".repeat(300);
    let (status, _, html) = submit(&mut b, "/account/profile", &[("first_name", &long)]).await;
    assert_eq!(status, 422);
    assert!(html.contains(r#"role="alert""#), "{html}");

    // Elsewhere: the same person signs in to a third-party app (consenting) in another browser.
    let sign_in = SignIn {
        client_id: cid,
        client_secret: Some(secret),
        redirect_uri: REDIRECT,
        scope: "openid email",
        resource: None,
        email: EMAIL,
        password: PASSWORD,
    };
    let tokens = app.sign_in_with_code(&sign_in).await.unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let (_, html) = page(&mut b).await;
    assert!(html.contains("Orders &#38; Co") && html.contains("openid email"), "{html}");
    assert_eq!(html.matches(r#"name="session_id""#).count(), 2, "two sessions: {html}");

    // Withdrawing the consent ends that app's refresh tokens at once.
    let app_id = third.body["id"].as_str().unwrap();
    let (status, to, _) = submit(&mut b, "/account/consents/revoke", &[("application_id", app_id)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/account?done=consent")));
    let r = app
        .token_request(Some((cid, secret)), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await
        .unwrap();
    assert_eq!((r.status, &r.body["error"]), (400, &json!("invalid_grant")), "{}", r.body);
    let (_, html) = page(&mut b).await;
    assert!(!html.contains("Orders &#38; Co"));
    let (status, _, _) = submit(&mut b, "/account/consents/revoke", &[("application_id", app_id)]).await;
    assert_eq!(status, 422, "withdrawing twice: not found");

    // Sessions: the other browser's can be ended, someone else's cannot.
    let (_, html) = page(&mut b).await;
    let mine = b.cookies["scaikey_session"].split('~').next().unwrap().to_string();
    let other = html
        .match_indices(r#"name="session_id" value=""#)
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
        .find(|s| *s != mine)
        .unwrap();
    let (status, to, _) = submit(&mut b, "/account/sessions/revoke", &[("session_id", &other)]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/account?done=session")));
    let sessions = admin.get(&format!("/api/v1/admin/sessions?user_id={user_id}")).await.unwrap();
    assert_eq!(sessions.body["pagination"]["total"], 1, "{}", sessions.body);
    let admins_session = admin.get("/api/v1/admin/sessions").await.unwrap().body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"] != user_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, html) = submit(&mut b, "/account/sessions/revoke", &[("session_id", &admins_session)]).await;
    assert_eq!(status, 422);
    assert!(html.contains("Session not found."));
    assert_eq!(admin.get("/api/v1/admin/tenants").await.unwrap().status, 200, "the admin's session lives on");

    // Password: the current one is checked, then the tenant's policy; a change signs out everywhere.
    let (status, _, html) =
        submit(&mut b, "/account/password", &[("password", "nope"), ("new_password", "Another-Passw0rd")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("The current password is not right"));
    let (status, _, html) =
        submit(&mut b, "/account/password", &[("password", PASSWORD), ("new_password", "no-digits-at-all")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("digit"), "{html}");
    let (status, to, _) =
        submit(&mut b, "/account/password", &[("password", PASSWORD), ("new_password", "Another-Passw0rd")]).await;
    assert_eq!((status, to.as_deref()), (303, Some("/account?done=password")));
    let after = b.get("/account?done=password").await.unwrap().text().await.unwrap();
    assert!(after.contains(r#"action="/account/login""#) && after.contains("Your password was changed"), "{after}");
    assert!(app.sign_in_with_code(&sign_in).await.is_err(), "the old password is gone");
    let (status, to, _) =
        submit(&mut b, "/account/login", &[("email", EMAIL), ("password", "Another-Passw0rd"), ("tenant", "acme")])
            .await;
    assert_eq!((status, to.as_deref()), (303, Some("/account")));

    // Audited with the person as the actor.
    for action in ["user.update", "consent.revoke", "session.revoke", "user.change_password"] {
        let ev = admin.get(&format!("/api/v1/admin/audit?action={action}&actor_id={user_id}")).await.unwrap();
        assert_eq!(ev.body["pagination"]["total"], 1, "{action}: {}", ev.body);
        assert_eq!(ev.body["items"][0]["details"]["via"], "account");
    }
}
