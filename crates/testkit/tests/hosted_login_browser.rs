//! The hosted login and consent pages (contract §8–9) driven in a real headless Chromium as a
//! person would (`node/hosted_login.js`): code + PKCE sign-in, cookie and header flags, SSO,
//! consent for a third-party application (allow, remembered, deny), a wrong password and a
//! missing or forged CSRF token. The code of the first sign-in is then redeemed here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::time::Instant;

use scaikey_domain::oidc::pkce;
use scaikey_testkit::{TestApp, jwt_parts, tools};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const EMAIL: &str = "ana@acme.example";
const PASSWORD: &str = "Ana-Passw0rd!";

struct Client {
    client_id: String,
    secret: String,
}

async fn application(admin: &scaikey_testkit::ApiClient, tenant: &str, name: &str, extra: Value) -> Client {
    let mut body = json!({"name": name, "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                          "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email", "profile"]});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let r = admin.post("/api/v1/admin/applications", body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["first_party"], extra.get("first_party").cloned().unwrap_or(json!(true)), "{}", r.body);
    Client {
        client_id: r.body["client_id"].as_str().unwrap().into(),
        secret: r.body["client_secret"].as_str().unwrap().into(),
    }
}

/// An authorization request without its `code_challenge`: the browser script appends the S256
/// challenge of the verifier it is given (the testkit has no SHA-256 of its own).
fn authorize_url(app: &TestApp, client: &Client, scope: &str, state: &str) -> String {
    let q = serde_urlencoded::to_string([
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("state", state),
        ("nonce", &format!("nonce-{state}")),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    format!("{}/oauth/authorize?{q}", app.base_url)
}

/// The query of a callback URL the script reported, as a JSON object (every value a string).
fn callback<'a>(out: &'a Value, step: &str) -> &'a Value {
    let q = &out[step]["callback"];
    assert!(q.is_object(), "{step}: no callback reached: {}", out[step]);
    q
}

/// The console errors of a page, but for the 404 of the `/favicon.ico` Chromium asks for on its
/// own (ScaiKey serves none; no page links one).
fn page_errors(page: &Value) -> Vec<&str> {
    let all = page["console_errors"].as_array().unwrap_or_else(|| panic!("no console log: {page}"));
    all.iter()
        .map(|e| e.as_str().unwrap())
        .filter(|e| !(e.contains("404") && e.ends_with(" at /favicon.ico")))
        .collect()
}

fn screenshots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_png(path: &Path) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000, "{}: {} bytes", path.display(), png.len());
}

#[tokio::test]
async fn a_person_signs_in_consents_and_is_refused_in_a_real_browser() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    assert_eq!(app.issuer, app.base_url);
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let portal = application(&admin, &tenant, "Acme Portal", json!({})).await;
    let reports = application(&admin, &tenant, "Acme Reports", json!({"first_party": false})).await;
    let user = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": EMAIL, "password": PASSWORD, "tenant_id": tenant, "first_name": "Ana", "last_name": "Ortiz"}),
        )
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);

    // A fresh RFC 7636 verifier (52 characters of [0-9A-Z]).
    let verifier = format!("{}{}", ulid::Ulid::new(), ulid::Ulid::new());
    let shots = screenshots_dir();
    let (login_png, consent_png) = (shots.join("login.png"), shots.join("consent.png"));
    for p in [&login_png, &consent_png] {
        let _ = std::fs::remove_file(p);
    }
    let config = json!({
        "base_url": app.base_url,
        "callback_prefix": "http://127.0.0.1:9/",
        "verifier": verifier,
        "email": EMAIL,
        "password": PASSWORD,
        "wrong_password": "Not-Her-Passw0rd!",
        "screenshots": {"login": login_png, "consent": consent_png},
        "urls": {
            "login": authorize_url(&app, &portal, "openid email", "st-login"),
            "sso": authorize_url(&app, &portal, "openid email", "st-sso"),
            "consent": authorize_url(&app, &reports, "openid email", "st-allow"),
            "consent_again": authorize_url(&app, &reports, "openid email", "st-again"),
            "deny": authorize_url(&app, &reports, "openid email profile", "st-deny"),
            "consented_elsewhere": authorize_url(&app, &reports, "openid email", "st-elsewhere"),
            "wrong_password": authorize_url(&app, &portal, "openid email", "st-wrong"),
            "csrf": authorize_url(&app, &portal, "openid email", "st-csrf"),
        },
    })
    .to_string();
    let started = Instant::now();
    let raw = tokio::task::spawn_blocking(move || tools::run_node_script("hosted_login.js", &[&config], &[]))
        .await
        .unwrap()
        .unwrap();
    eprintln!("hosted_login.js ran in {:?}", started.elapsed());
    // Kept for whoever debugs a failure: everything the browser saw, in one JSON line.
    std::fs::write(tools::artifacts_dir().unwrap().join("hosted_login.json"), &raw).unwrap();
    let out: Value = serde_json::from_str(raw.trim()).unwrap_or_else(|e| panic!("{e}: {raw}"));

    // The script hashed our verifier into a correct S256 challenge.
    assert_eq!(out["pkce"]["verifier"], verifier.as_str());
    let challenge = out["pkce"]["challenge"].as_str().unwrap();
    let checked = pkce::challenge(Some(challenge), Some("S256"), true).unwrap();
    assert!(pkce::proves(checked.as_ref(), Some(&verifier)), "{challenge} is not S256({verifier})");

    // 1. The login page, as rendered: title, heading, labelled inputs, hidden fields, one submit.
    let login = &out["login"];
    assert_eq!(login["page"]["status"], 200, "{login}");
    assert_eq!(login["page"]["path"], "/login");
    assert_eq!(login["page"]["title"], "Sign in to Acme Portal");
    assert_eq!(login["page"]["h1"], "Sign in");
    assert_eq!(login["page"]["lead"], "to continue to Acme Portal");
    assert_eq!(
        login["page"]["fields"],
        json!([
            {"name": "email", "type": "email", "label": "E-mail", "label_visible": true, "visible": true},
            {"name": "password", "type": "password", "label": "Password", "label_visible": true, "visible": true},
        ]),
        "a TENANT application asks no tenant; every input has a visible <label>"
    );
    assert_eq!(login["page"]["hidden"], json!(["interaction", "csrf"]));
    assert_eq!(login["page"]["submit"], json!(["Sign in"]));
    assert_eq!(login["page"]["scripts"], 0, "the login page works without JavaScript");
    assert_eq!(login["page"]["stylesheet_status"], 200, "the stylesheet loads under the CSP");
    assert_eq!(page_errors(&login["page"]), Vec::<&str>::new(), "no CSP violation or other console error");
    assert_eq!(login["page"]["csrf_cookie"], true, "the login page sets the CSRF cookie");
    // 2. Its headers (§9).
    let h = &login["page"]["headers"];
    assert!(h["content-security-policy"].as_str().unwrap().contains("frame-ancestors 'none'"), "{h}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{h}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{h}");
    assert_eq!(h["cache-control"], "no-store", "{h}");
    assert_png(&login_png);
    // The browser went authorize → login → (POST) → callback, with code, state and iss.
    assert_eq!(
        login["navigations"],
        json!(["GET /oauth/authorize", "GET /login", "POST /login", "GET callback"]),
        "{login}"
    );
    assert_eq!(login["post"], json!({"method": "POST", "path": "/login", "status": 303}), "{login}");
    let cb = callback(&out, "login");
    let mut keys: Vec<&str> = cb.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "iss", "state"], "exactly code, state and iss: {cb}");
    assert_eq!((cb["state"].as_str(), cb["iss"].as_str()), (Some("st-login"), Some(app.issuer.as_str())));
    let code = cb["code"].as_str().unwrap();
    assert!(code.len() >= 43, "a 256-bit code: {code}");
    // The session cookie's flags, as the browser stored them (http issuer: not Secure).
    let session = &login["cookies"]["scaikey_session"];
    assert_eq!(
        (&session["httpOnly"], &session["sameSite"], &session["path"], &session["secure"]),
        (&json!(true), &json!("Lax"), &json!("/"), &json!(false)),
        "{session}"
    );
    assert_eq!(session["domain"], "127.0.0.1");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(
        session["expires"].as_f64().unwrap() > now + 3600.0,
        "a persistent cookie with the session's expiry: {session}"
    );
    let csrf_cookie = &login["cookies"]["scaikey_csrf"];
    assert_eq!((&csrf_cookie["httpOnly"], &csrf_cookie["sameSite"]), (&json!(true), &json!("Strict")), "{csrf_cookie}");

    // 3. SSO: the same request again goes straight to the callback with a new code.
    let sso = &out["sso"];
    assert_eq!(sso["navigations"], json!(["GET /oauth/authorize", "GET callback"]), "no login page: {sso}");
    let sso_cb = callback(&out, "sso");
    assert_eq!((sso_cb["state"].as_str(), sso_cb["iss"].as_str()), (Some("st-sso"), Some(app.issuer.as_str())));
    assert!(sso_cb["code"].is_string() && sso_cb["code"] != cb["code"], "{sso_cb}");

    // 4. A third-party application asks for consent, listing the scopes, in the same session.
    let consent = &out["consent"];
    assert_eq!(consent["navigations"], json!(["GET /oauth/authorize", "GET /consent"]), "{consent}");
    let page = &consent["page"];
    assert_eq!((page["status"].as_i64(), page["title"].as_str()), (Some(200), Some("Allow Acme Reports?")), "{page}");
    assert_eq!(page["h1"], "Allow access?");
    assert_eq!(page["lead"], "Acme Reports asks to:");
    assert_eq!(page["scopes"], json!(["openid", "email"]));
    assert_eq!(page["buttons"], json!([["Allow", "allow"], ["Deny", "deny"]]));
    assert!(page["headers"]["content-security-policy"].as_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(
        (page["headers"]["x-content-type-options"].as_str(), page["headers"]["referrer-policy"].as_str()),
        (Some("nosniff"), Some("no-referrer"))
    );
    assert_eq!(page_errors(page), Vec::<&str>::new(), "no CSP violation or other console error");
    assert_png(&consent_png);
    assert_eq!(consent["after"], json!(["POST /consent", "GET callback"]), "{consent}");
    let allow_cb = callback(&out, "consent");
    assert_eq!((allow_cb["state"].as_str(), allow_cb["iss"].as_str()), (Some("st-allow"), Some(app.issuer.as_str())));
    assert!(allow_cb["code"].is_string() && allow_cb["error"].is_null(), "{allow_cb}");
    // The consent is remembered: the next request for the same scopes is not asked again.
    let again = &out["consent_again"];
    assert_eq!(again["navigations"], json!(["GET /oauth/authorize", "GET callback"]), "{again}");
    assert_eq!(callback(&out, "consent_again")["state"], "st-again");
    assert!(callback(&out, "consent_again")["code"].is_string());
    // A fresh browser (no cookie): login, then a consent page for the scope not yet consented
    // (consent is remembered per user, so the new `profile` scope is what makes it ask); Deny.
    let deny = &out["deny"];
    assert_eq!(
        deny["navigations"],
        json!(["GET /oauth/authorize", "GET /login", "POST /login", "GET /consent", "POST /consent", "GET callback"]),
        "{deny}"
    );
    assert_eq!(deny["cookies_before"], json!([]), "a fresh context has no cookie");
    assert_eq!(deny["scopes"], json!(["openid", "email", "profile"]));
    let deny_cb = callback(&out, "deny");
    assert_eq!(
        (deny_cb["error"].as_str(), deny_cb["state"].as_str(), deny_cb["iss"].as_str()),
        (Some("access_denied"), Some("st-deny"), Some(app.issuer.as_str())),
        "{deny_cb}"
    );
    let mut keys: Vec<&str> = deny_cb.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["error", "error_description", "iss", "state"], "no code: {deny_cb}");
    // In that second browser, the scopes Ana consented to in the first are not asked again.
    let elsewhere = &out["consented_elsewhere"];
    assert_eq!(elsewhere["navigations"], json!(["GET /oauth/authorize", "GET callback"]), "{elsewhere}");
    assert!(callback(&out, "consented_elsewhere")["code"].is_string());

    // 5. A wrong password: the login page again, with the message, the e-mail kept and no session.
    let wrong = &out["wrong_password"];
    assert_eq!(wrong["navigations"], json!(["GET /oauth/authorize", "GET /login", "POST /login"]), "{wrong}");
    assert_eq!((wrong["status"].as_i64(), wrong["path"].as_str()), (Some(401), Some("/login")), "{wrong}");
    assert_eq!((wrong["title"].as_str(), wrong["h1"].as_str()), (Some("Sign in to Acme Portal"), Some("Sign in")));
    assert_eq!(wrong["alert"], "Invalid credentials");
    assert_eq!((wrong["email_value"].as_str(), wrong["password_value"].as_str()), (Some(EMAIL), Some("")));
    assert_eq!(wrong["cookie_names"], json!(["scaikey_csrf"]), "no session cookie after a wrong password");
    // The form it shows still works: the right password signs her in.
    let retry = callback(&out, "wrong_password");
    assert_eq!((retry["state"].as_str(), retry["code"].is_string()), (Some("st-wrong"), true), "{retry}");

    // 6. CSRF: without the CSRF cookie, or with a forged form token, the form is refused.
    for case in ["missing_cookie", "forged_token"] {
        let c = &out["csrf"][case];
        assert_eq!((c["status"].as_i64(), c["path"].as_str()), (Some(403), Some("/login")), "{case}: {c}");
        assert!(c["text"].as_str().unwrap().contains("The form expired or did not come from this site"), "{case}: {c}");
        assert!(!c["cookie_names"].as_array().unwrap().contains(&json!("scaikey_session")), "{case}: {c}");
        assert_eq!(c["callback"], Value::Null, "{case}: {c}");
        assert_eq!(c["cookies_before_submit"], json!(["scaikey_csrf"]), "the login page set it: {c}");
    }
    assert_eq!(out["csrf"]["missing_cookie"]["cookie_names"], json!([]), "deleted, and nothing set on refusal");
    assert_eq!(out["csrf"]["forged_token"]["cookie_names"], json!(["scaikey_csrf"]));

    // The code of step 1 redeems once with the verifier; a wrong verifier is refused first.
    let basic = Some((portal.client_id.as_str(), portal.secret.as_str()));
    let redeem = |v: String| {
        let app = &app;
        async move {
            app.token_request(
                basic,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &v),
                ],
            )
            .await
            .unwrap()
        }
    };
    let wrong_verifier = redeem(format!("{}{}", ulid::Ulid::new(), ulid::Ulid::new())).await;
    assert_eq!((wrong_verifier.status, wrong_verifier.body["error"].as_str()), (400, Some("invalid_grant")));
    let t = redeem(verifier.clone()).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["token_type"], "Bearer");
    let (_, at) = jwt_parts(t.body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(at["client_id"], portal.client_id.as_str());
    let (id_header, id) = jwt_parts(t.body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(id_header["alg"], "ES256");
    assert_eq!(
        (id["iss"].as_str(), id["aud"].as_str(), id["nonce"].as_str(), id["email"].as_str()),
        (Some(app.issuer.as_str()), Some(portal.client_id.as_str()), Some("nonce-st-login"), Some(EMAIL)),
        "{id}"
    );
    assert_eq!((id["tenant_id"].as_str(), id["sub"].as_str()), (Some(tenant.as_str()), Some(user.id().as_str())));
    assert_eq!(at["sid"], id["sid"]);
    // The code the third-party application got after Allow redeems for its client.
    let t = app
        .token_request(
            Some((reports.client_id.as_str(), reports.secret.as_str())),
            &[
                ("grant_type", "authorization_code"),
                ("code", allow_cb["code"].as_str().unwrap()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .unwrap();
    assert_eq!(t.status, 200, "{}", t.body);
    let (_, id) = jwt_parts(t.body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!((id["aud"].as_str(), id["nonce"].as_str()), (Some(reports.client_id.as_str()), Some("nonce-st-allow")));

    // Codes are single use; a second use ends the sign-in's session (so last, here).
    let reused = redeem(verifier.clone()).await;
    assert_eq!(reused.body["error"], "invalid_grant", "single use: {}", reused.body);
}
