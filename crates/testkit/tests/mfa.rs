//! Second factors end to end (contract §10): an authenticator app set up from `/account` (the
//! key read off the page a browser sees, codes computed as an app would), every later login
//! asking for it (JSON and hosted), replays and used recovery codes refused, a tenant's
//! `mfa_required` forcing enrolment before any code is issued, and the admin's `mfa/disable`
//! removing every factor and ending the sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_domain::mfa::Totp;
use scaikey_testkit::signin::{Browser, SignIn, field, location};
use scaikey_testkit::{TestApp, jwt_parts};
use serde_json::json;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const PASSWORD: &str = "Ana-Second-Factor-1";

/// RFC 4648 base32 without padding, as authenticator apps read the key.
fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.chars() {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c).expect("base32") as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// The key shown on the setup page.
fn shown_key(html: &str) -> Vec<u8> {
    let start = html.find(r#"id="totp-secret">"#).expect("the key on the page") + r#"id="totp-secret">"#.len();
    let end = html[start..].find('<').unwrap() + start;
    base32_decode(&html[start..end])
}

/// The app's code `ahead` steps after now.
fn code(key: &[u8], ahead: i64) -> String {
    let t = Totp::new(key.to_vec()).unwrap();
    t.code_at_step(Totp::step_of(chrono::Utc::now()) + ahead)
}

fn recovery_codes(html: &str) -> Vec<String> {
    let list = &html[html.find(r#"id="recovery-codes""#).expect("the recovery codes")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<code>").skip(1).map(|c| c[..c.find("</code>").unwrap()].to_string()).collect()
}

async fn account_form(b: &mut Browser) -> String {
    let html = b.get("/account").await.unwrap().text().await.unwrap();
    field(&html, "csrf").expect("a CSRF token")
}

struct World {
    app: TestApp,
    admin: scaikey_testkit::ApiClient,
    tenant: String,
    client_id: String,
    secret: String,
}

async fn world(settings: serde_json::Value) -> World {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin
        .post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme", "settings": settings}))
        .await
        .unwrap();
    assert_eq!(tenant.status, 201, "{}", tenant.body);
    let tenant = tenant.id();
    let client = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant, "first_party": true,
                   "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email"], "grant_types": ["authorization_code"]}),
        )
        .await
        .unwrap();
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["client_id"].as_str().unwrap().to_string();
    let secret = client.body["client_secret"].as_str().unwrap().to_string();
    World { app, admin, tenant, client_id, secret }
}

impl World {
    async fn user(&self, email: &str) -> String {
        let u = self
            .admin
            .post("/api/v1/admin/users", json!({"email": email, "password": PASSWORD, "tenant_id": self.tenant}))
            .await
            .unwrap();
        assert_eq!(u.status, 201, "{}", u.body);
        u.id()
    }

    fn sign_in<'a>(&'a self, email: &'a str) -> SignIn<'a> {
        SignIn {
            client_id: &self.client_id,
            client_secret: Some(&self.secret),
            redirect_uri: REDIRECT,
            scope: "openid email",
            resource: None,
            email,
            password: PASSWORD,
        }
    }

    async fn json_login(&self, email: &str, code: Option<&str>) -> scaikey_testkit::Resp {
        let mut body = json!({"email": email, "password": PASSWORD});
        if let Some(c) = code {
            body["code"] = json!(c);
        }
        self.app.anonymous().post("/api/v1/auth/login", body).await.unwrap()
    }
}

#[tokio::test]
async fn an_authenticator_app_set_up_in_account_guards_every_later_login() {
    let w = world(json!({})).await;
    let email = "ana@acme.example";
    let user_id = w.user(email).await;

    // Sign in to /account (password alone: no factor yet) and start the setup.
    let mut b = Browser::new(&w.app.base_url).unwrap();
    let csrf = account_form(&mut b).await;
    let r = b
        .post("/account/login", &[("csrf", &csrf), ("email", email), ("password", PASSWORD), ("tenant", "acme")])
        .await
        .unwrap();
    assert_eq!(location(&r).unwrap(), "/account");
    let html = b.get("/account").await.unwrap().text().await.unwrap();
    assert!(html.contains("Set up an authenticator app"), "{html}");
    let csrf = field(&html, "csrf").unwrap();
    let r = b.post("/account/mfa/totp", &[("csrf", &csrf)]).await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("otpauth://totp/"), "a QR code and the URI");
    let key = shown_key(&html);
    assert_eq!(key.len(), 20, "160-bit secret");
    let pending = field(&html, "pending").unwrap();
    let csrf = field(&html, "csrf").unwrap();

    // A wrong first code stores nothing; the right one shows ten recovery codes once.
    let wrong = if code(&key, 0) == "000000" { "111111" } else { "000000" };
    let r =
        b.post("/account/mfa/totp/confirm", &[("csrf", &csrf), ("pending", &pending), ("code", wrong)]).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(w.admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap().body["mfa_enabled"], false);
    let r = b
        .post("/account/mfa/totp/confirm", &[("csrf", &csrf), ("pending", &pending), ("code", &code(&key, 0))])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let codes = recovery_codes(&r.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10, "all different");

    // The user resource says what is enrolled; the page counts the codes left.
    let u = w.admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap().body;
    assert_eq!(
        (&u["mfa_enabled"], &u["mfa_methods"], &u["password_set"], &u["email_verified"]),
        (&json!(true), &json!(["totp"]), &json!(true), &json!(false)),
        "{u}"
    );
    let html = b.get("/account").await.unwrap().text().await.unwrap();
    assert!(html.contains("10 recovery codes left"), "{html}");
    // The stored secret is sealed, never the raw key.
    let stored = sql_text(&w.app, "SELECT encode(secret, 'hex') AS v FROM mfa_totp").await;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!stored.contains(&hex) && stored.len() > hex.len());

    // JSON login: the password alone is not enough; a wrong code is "invalid credentials".
    let r = w.json_login(email, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["detail"], scaikey_app::auth::SECOND_FACTOR_REQUIRED);
    assert_eq!(w.json_login(email, Some(wrong)).await.body["detail"], "Invalid credentials");
    // The next step's code works once; used again (or the setup's own code) it is a replay.
    let next = code(&key, 1);
    let r = w.json_login(email, Some(&next)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(w.json_login(email, Some(&next)).await.status, 401, "replayed");
    assert_eq!(w.json_login(email, Some(&code(&key, 0))).await.status, 401, "an older code");
    // A recovery code, however typed, works once.
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(w.json_login(email, Some(&typed)).await.status, 200);
    assert_eq!(w.json_login(email, Some(&codes[0])).await.status, 401, "used up");

    // The hosted login asks for the second step and the ID token says so.
    let second = codes[1].clone();
    let tokens = w.app.sign_in_with_factor(&w.sign_in(email), Some(&move || second.clone())).await.unwrap();
    let (_, claims) = jwt_parts(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:scaikey:acr:mfa");
    // Without a code the hosted login cannot finish.
    assert!(w.app.sign_in_with_code(&w.sign_in(email)).await.is_err());

    // Removing the app needs a code; then logins are password-only again.
    let csrf = account_form(&mut b).await;
    let r = b.post("/account/mfa/totp/remove", &[("csrf", &csrf), ("code", "nope")]).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = b.post("/account/mfa/totp/remove", &[("csrf", &csrf), ("code", &codes[2])]).await.unwrap();
    assert_eq!(location(&r).unwrap(), "/account?done=mfa_removed");
    let u = w.admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap().body;
    assert_eq!((&u["mfa_enabled"], &u["mfa_methods"]), (&json!(false), &json!([])));
    assert_eq!(w.json_login(email, None).await.status, 200);

    // Each change is audited with the user as actor.
    let audit = w.admin.get("/api/v1/admin/audit?resource_type=user").await.unwrap().body;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"user.mfa_enrol") && actions.contains(&"user.mfa_remove"), "{actions:?}");
}

#[tokio::test]
async fn a_tenant_that_requires_mfa_makes_users_enrol_before_any_code_is_issued() {
    let w = world(json!({"mfa_required": true, "mfa_methods": ["totp"]})).await;
    let email = "bo@acme.example";
    let user_id = w.user(email).await;

    // The hosted login answers the password with the setup page, not a code.
    let mut b = Browser::new(&w.app.base_url).unwrap();
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", w.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "s1"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let login = location(&b.get(&format!("/oauth/authorize?{q}")).await.unwrap()).unwrap();
    let html = b.get(&login).await.unwrap().text().await.unwrap();
    let form = [
        ("interaction", field(&html, "interaction").unwrap()),
        ("csrf", field(&html, "csrf").unwrap()),
        ("email", email.to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = b.post("/login", &form).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!b.cookies.contains_key("scaikey_session"), "no session before the second factor");
    let html = r.text().await.unwrap();
    assert!(html.contains("Your organisation requires a second step"), "{html}");
    let k = shown_key(&html);
    let (pending, csrf) = (field(&html, "pending").unwrap(), field(&html, "csrf").unwrap());
    // The pending login cannot be bent: tampered, it has expired.
    let r = b.post("/login/second-factor", &[("pending", "AAAA"), ("csrf", &csrf), ("code", "123456")]).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = b
        .post("/login/second-factor", &[("pending", &pending), ("csrf", &csrf), ("code", &code(&k, 0))])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(b.cookies.contains_key("scaikey_session"));
    let html = r.text().await.unwrap();
    assert_eq!(recovery_codes(&html).len(), 10);
    // "Continue" resumes the authorization request: now the code is issued.
    let cont = field_href(&html, "continue");
    let done = location(&b.get(&cont).await.unwrap()).unwrap();
    assert!(done.starts_with(REDIRECT) && done.contains("code="), "{done}");
    assert_eq!(
        w.admin.get(&format!("/api/v1/admin/users/{user_id}")).await.unwrap().body["mfa_methods"],
        json!(["totp"])
    );

    // Another user of the tenant without a factor cannot get an admin token by JSON either.
    w.user("cy@acme.example").await;
    let r = w.json_login("cy@acme.example", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["detail"], scaikey_app::auth::ENROLMENT_REQUIRED);

    // The admin's mfa/disable removes the factor and ends the browser's session.
    let r = w.admin.post(&format!("/api/v1/admin/users/{user_id}/mfa/disable"), json!({})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.body["mfa_enabled"], &r.body["mfa_methods"]), (&json!(false), &json!([])));
    assert_eq!(sql_text(&w.app, "SELECT count(*)::text AS v FROM mfa_recovery_codes").await, "0");
    assert_eq!(sql_text(&w.app, "SELECT count(*)::text AS v FROM mfa_totp").await, "0");
    let html = b.get("/account").await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"action="/account/login""#), "signed out: {html}");
    // So the next login enrols again.
    let again = w.app.sign_in_with_code(&w.sign_in(email)).await;
    assert!(again.is_err(), "no code without a new enrolment");
}

/// One text value (column `v`) straight from the database.
async fn sql_text(app: &TestApp, sql: &str) -> String {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = app.db.connect().await.unwrap();
    let row: V = diesel::sql_query(sql).get_result(&mut conn).await.unwrap();
    row.v
}

/// The `href` of the link with this `id`.
fn field_href(html: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}" href=""#);
    let start = html.find(&marker).expect("the link") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&").replace("&#38;", "&")
}
