//! ScaiKey as an OpenID Connect provider, driven by a stock relying party (authlib) through the
//! hosted login: code + PKCE, ID token checks, userinfo, SSO, refresh rotation and reuse, and the
//! error paths of contract §8.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::TestApp;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const SIGNED_OUT: &str = "http://127.0.0.1:9/signed-out";

struct Rp {
    client_id: String,
    secret: String,
    tenant: String,
}

async fn relying_party(app: &TestApp, extra: Value) -> Rp {
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let mut body = json!({"name": "Acme Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                          "redirect_uris": [REDIRECT], "post_logout_redirect_uris": [SIGNED_OUT], "allowed_scopes": ["openid", "email", "profile", "groups", "reports:read"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = admin.post("/api/v1/admin/applications", body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let user = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "ana@acme.example", "password": "Ana-Passw0rd!", "tenant_id": tenant, "first_name": "Ana", "last_name": "Ortiz"}),
        )
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    let g = admin.post("/api/v1/admin/groups", json!({"name": "Engineering", "tenant_id": tenant})).await.unwrap();
    assert_eq!(
        admin
            .post(&format!("/api/v1/admin/groups/{}/members", g.id()), json!({"user_id": user.id()}))
            .await
            .unwrap()
            .status,
        201
    );
    Rp {
        client_id: r.body["client_id"].as_str().unwrap().into(),
        secret: r.body["client_secret"].as_str().unwrap().into(),
        tenant,
    }
}

async fn run_flow(app: &TestApp, rp: &Rp) -> Value {
    let args = [app.issuer.clone(), rp.client_id.clone(), rp.secret.clone(), REDIRECT.to_string()];
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> =
            args.iter().map(String::as_str).chain(["ana@acme.example", "Ana-Passw0rd!", SIGNED_OUT]).collect();
        scaikey_testkit::tools::run_python_script("oidc_code_flow.py", &a, &[])
    })
    .await
    .unwrap()
    .unwrap();
    serde_json::from_str(out.trim()).unwrap()
}

#[tokio::test]
async fn a_stock_relying_party_signs_a_user_in_with_code_and_pkce() {
    let app = TestApp::spawn_discoverable(&[("SCAIKEY_REFRESH_REUSE_GRACE_SECONDS", "0")]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let out = run_flow(&app, &rp).await;

    // Discovery names the flow; the login page carries the headers and labels of §9.
    assert_eq!(out["discovery"]["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(out["discovery"]["response_types_supported"], json!(["code"]));
    let login = &out["first"]["login_page"];
    assert!(login["csp"].as_str().unwrap().contains("frame-ancestors 'none'"), "{login}");
    assert_eq!((login["nosniff"].as_str(), login["referrer"].as_str()), (Some("nosniff"), Some("no-referrer")));
    assert_eq!(login["labels"], true);
    let cookie = out["first"]["set_cookie"].as_str().unwrap().to_lowercase();
    for flag in ["scaikey_session=", "httponly", "samesite=lax", "path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("secure"), "http issuer: no Secure flag");

    // RFC 9207 iss and the state come back with the code.
    assert_eq!(out["callback_params"], json!(["code", "iss", "state"]));
    assert_eq!(out["callback_iss"], app.issuer.as_str());
    assert_eq!(out["state_echoed"], true);

    // The ID token (verified by joserfc in the script) has the claims of §8.
    let id = &out["id_token"]["claims"];
    assert_eq!(out["id_token"]["header"]["alg"], "ES256");
    for k in
        ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp", "amr", "acr", "at_hash", "tenant_id"]
    {
        assert!(!id[k].is_null(), "{k} missing in {id}");
    }
    assert_eq!((id["azp"].as_str(), id["tenant_id"].as_str()), (Some(rp.client_id.as_str()), Some(rp.tenant.as_str())));
    assert_eq!((id["email"].as_str(), id["name"].as_str()), (Some("ana@acme.example"), Some("Ana Ortiz")));
    assert_eq!(id["groups"], json!(["Engineering"]));
    assert_eq!((id["amr"].clone(), id["acr"].as_str()), (json!(["pwd"]), Some("urn:scaikey:acr:pwd")));
    assert!(id["sub"].as_str().unwrap().starts_with("usr_"));
    // The access token is an RFC 9068 token for this client.
    let at = &out["access_token"];
    assert_eq!(at["header"]["typ"], "at+jwt");
    assert_eq!(
        (at["claims"]["client_id"].as_str(), at["claims"]["aud"].as_str()),
        (Some(rp.client_id.as_str()), Some("scaikey"))
    );
    assert_eq!(at["claims"]["sid"], id["sid"]);
    assert_eq!(
        out["token_response"],
        json!(["access_token", "expires_at", "expires_in", "id_token", "refresh_token", "scope", "token_type"])
    );
    // Userinfo answers the scopes' claims.
    let ui = &out["userinfo"];
    assert_eq!(
        (ui["sub"].clone(), ui["email"].clone(), ui["groups"].clone()),
        (id["sub"].clone(), json!("ana@acme.example"), json!(["Engineering"]))
    );

    assert_eq!(out["sso_without_login_page"], true, "{}", out);
    assert_eq!((out["refresh_rotated"].clone(), out["refresh_has_id_token"].clone()), (json!(true), json!(true)));

    let e = &out["errors"];
    assert_eq!(e["wrong_verifier"], "400 invalid_grant");
    assert_eq!(e["code_after_a_failed_try"], 200);
    assert_eq!(e["reused_code"], "400 invalid_grant");
    assert_eq!(e["refresh_of_reused_code"], "400 invalid_grant", "a reused code revokes what it issued");
    assert_eq!(e["userinfo_of_reused_code"], 401, "its access token too");
    assert_eq!(e["access_of_reused_code"], false, "its access token too");
    assert_eq!(e["wrong_secret"], "401 invalid_client");
    assert_eq!(e["unknown_refresh"], "400 invalid_grant");
    let implicit = e["implicit"].as_str().unwrap();
    assert!(
        implicit.starts_with(REDIRECT)
            && implicit.contains("error=unsupported_response_type")
            && implicit.contains("state=s1"),
        "{implicit}"
    );
    assert!(implicit.contains("iss="), "{implicit}");
    assert_eq!(
        e["foreign_redirect"],
        json!([400, null]),
        "an unregistered redirect URI is an error page, never a redirect"
    );
    assert_eq!(e["unknown_client"], 400);
    let none = e["prompt_none_without_session"].as_str().unwrap();
    assert!(none.contains("error=login_required") && none.contains("state=s2"), "{none}");

    // The replaced refresh token, used again after the (zero) grace, revokes the family: the
    // token that replaced it dies too.
    let basic = Some((rp.client_id.as_str(), rp.secret.as_str()));
    let reuse = app
        .token_request(
            basic,
            &[("grant_type", "refresh_token"), ("refresh_token", out["replaced_refresh_token"].as_str().unwrap())],
        )
        .await
        .unwrap();
    assert_eq!((reuse.status, reuse.body["error"].as_str()), (400, Some("invalid_grant")), "{}", reuse.body);
    let current = app
        .token_request(
            basic,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", out["refresh_token_after_rotation"].as_str().unwrap()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(current.body["error"], "invalid_grant", "the family is revoked: {}", current.body);

    // Introspection, revocation and logout (RFC 7662, RFC 7009, RP-initiated logout).
    let end = &out["session_end"];
    let access = &end["access"];
    assert_eq!((access["active"].clone(), access["token_type"].clone()), (json!(true), json!("access_token")), "{end}");
    assert_eq!((access["client_id"].as_str(), access["aud"].as_str()), (Some(rp.client_id.as_str()), Some("scaikey")));
    assert!(
        access["sub"].as_str().unwrap().starts_with("usr_") && access["exp"].is_i64() && access["scope"].is_string()
    );
    assert_eq!(
        (end["refresh"]["active"].clone(), end["refresh"]["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    assert_eq!(end["garbage"], json!({"active": false}));
    assert_eq!(end["revoke_status"], 200);
    assert_eq!(end["refresh_after_revoke"], json!({"active": false}));
    assert_eq!(end["logout"]["status"], 303, "{end}");
    assert_eq!(end["logout"]["location"], format!("{SIGNED_OUT}?state=bye%20now"));
    assert!(end["logout"]["set_cookie"].as_str().unwrap().contains("scaikey_session=;"), "{end}");
    assert_eq!(end["cookie_left"], json!([]));
    assert_eq!(end["userinfo_after_logout"], 401, "the session's access tokens die at logout");
    assert_eq!(end["refresh_after_logout"], false, "so do its refresh tokens");
    assert!(end["after_logout_location"].as_str().unwrap().starts_with("/login?"), "{end}");
    assert_eq!(end["unregistered_post_logout"], json!([400, null]));

    // A user token issued to an application does not drive the admin API.
    let admin_api =
        app.with_token(out["access_token_value"].as_str().unwrap()).get("/api/v1/admin/tenants").await.unwrap();
    assert_eq!((admin_api.status, admin_api.detail()), (401, "Token is not meant for this API"));

    // Audit: the authorization, the code grant and the reuse were recorded, never a secret.
    let admin = app.super_admin().await.unwrap();
    for action in
        ["oauth.authorize", "auth.token", "oauth.code_reuse", "oauth.refresh_reuse", "oauth.revoke", "auth.logout"]
    {
        let mut found = 0;
        for _ in 0..50 {
            found =
                admin.get(&format!("/api/v1/admin/audit?action={action}")).await.unwrap().body["pagination"]["total"]
                    .as_i64()
                    .unwrap_or(0);
            if found > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found > 0, "{action} audited");
    }
}

#[tokio::test]
async fn assignment_required_admits_only_effective_users() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({"assignment_required": true})).await;
    // Ana is not assigned: her login works, and the client gets access_denied with its state.
    let out = run_flow(&app, &rp).await;
    let err = &out["callback_error"];
    assert_eq!(
        (err["error"].as_str(), err["iss"].as_str()),
        (Some("access_denied"), Some(app.issuer.as_str())),
        "{out}"
    );
    assert!(err["state"].is_string());
    // Assigned through her group, she gets in.
    let admin = app.super_admin().await.unwrap();
    let apps = admin.get(&format!("/api/v1/admin/applications?search={}", rp.client_id)).await.unwrap();
    let app_id = apps.body["items"][0]["id"].as_str().unwrap().to_string();
    let groups = admin.get("/api/v1/admin/groups?search=Engineering").await.unwrap();
    let group = groups.body["items"][0]["id"].as_str().unwrap().to_string();
    let a = admin
        .post(&format!("/api/v1/admin/applications/{app_id}/assignments"), json!({"group_id": group}))
        .await
        .unwrap();
    assert_eq!(a.status, 201, "{}", a.body);
    let out = run_flow(&app, &rp).await;
    assert!(out["callback_error"].is_null(), "{out}");
    assert_eq!(out["userinfo"]["email"], "ana@acme.example");
}

#[tokio::test]
async fn users_outside_the_applications_tenant_are_answered_as_a_wrong_password() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let admin = app.super_admin().await.unwrap();
    let other = admin.post("/api/v1/admin/tenants", json!({"name": "Other"})).await.unwrap().id();
    let r = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "bo@other.example", "password": "Bo-Passw0rd!!", "tenant_id": other}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let args = [app.issuer.clone(), rp.client_id.clone(), rp.secret.clone()];
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> =
            args.iter().map(String::as_str).chain([REDIRECT, "bo@other.example", "Bo-Passw0rd!!"]).collect();
        scaikey_testkit::tools::run_python_script("oidc_code_flow.py", &a, &[])
    })
    .await
    .unwrap();
    // No callback: the login page came back with the wrong-password message.
    let out: Value = serde_json::from_str(out.unwrap().trim()).unwrap();
    let first = &out["first"];
    assert_eq!(first["login_status"], 401, "{out}");
    assert_eq!(first["final_status"], 401);
    assert!(first["final_body"].as_str().unwrap().contains("Invalid credentials"), "{out}");
    assert!(first["set_cookie"].as_str().unwrap_or_default().find("scaikey_session").is_none(), "no session cookie");
}

#[tokio::test]
async fn id_tokens_follow_the_clients_algorithm_and_the_jwks_holds_both_keys() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let jwks = app.anonymous().get("/.well-known/jwks.json").await.unwrap();
    let mut kinds: Vec<String> =
        jwks.body["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap().to_string()).collect();
    kinds.sort();
    assert_eq!(kinds, ["ES256", "RS256"]);
    let disco = app.anonymous().get("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(disco.body["id_token_signing_alg_values_supported"], json!(["ES256", "RS256"]));
    let rp = relying_party(&app, json!({"id_token_signed_response_alg": "RS256"})).await;
    let out = run_flow(&app, &rp).await;
    // Verified by joserfc against the JWKS in the script.
    assert_eq!(out["id_token"]["header"]["alg"], "RS256", "{}", out["id_token"]);
    assert_eq!(out["id_token"]["header"]["typ"], "JWT");
    // Access tokens keep the deployment's algorithm.
    assert_eq!(out["access_token"]["header"]["alg"], "ES256");
}

#[tokio::test]
async fn the_login_page_wears_the_tenants_branding_and_nothing_unsafe_from_it() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let admin = app.super_admin().await.unwrap();
    let p = admin
        .patch(
            &format!("/api/v1/admin/tenants/{}", rp.tenant),
            json!({"branding": {"display_name": "Acme <Corp>", "logo_url": "https://cdn.acme.example/logo.svg",
                                "primary_color": "#0A7CFF", "custom_css": "body{display:none}"}}),
        )
        .await
        .unwrap();
    assert_eq!(p.status, 200, "{}", p.body);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let url = format!(
        "/oauth/authorize?client_id={}&redirect_uri={REDIRECT}&response_type=code&scope=openid&state=b1&code_challenge={challenge}&code_challenge_method=S256",
        rp.client_id
    );
    // The client follows the 303 to /login.
    let r = app.anonymous().get(&url).await.unwrap();
    assert_eq!(r.status, 200);
    let html = r.body.as_str().unwrap();
    assert!(html.contains("Sign in to Acme &#60;Corp&#62;"), "{html}");
    assert!(html.contains(r#"src="https://cdn.acme.example/logo.svg""#));
    assert!(html.contains("--primary: #0a7cff;"));
    assert!(!html.contains("display:none"), "unknown branding keys are not rendered");
    let csp = r.headers.get("content-security-policy").unwrap().to_str().unwrap();
    let nonce = html.split(r#"<style nonce=""#).nth(1).and_then(|s| s.split('"').next()).unwrap();
    assert!(csp.contains(&format!("style-src 'self' 'nonce-{nonce}'")), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
}

#[tokio::test]
async fn browser_clients_get_cors_from_their_allowed_origins_and_the_admin_api_none() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let admin = app.super_admin().await.unwrap();
    let spa = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Acme SPA", "application_type": "SPA", "scope": "TENANT", "tenant_id": rp.tenant,
                   "redirect_uris": ["http://localhost:3000/cb"], "allowed_origins": ["http://localhost:3000"], "allowed_scopes": ["openid"]}),
        )
        .await
        .unwrap();
    assert_eq!(spa.status, 201, "{}", spa.body);
    let http = reqwest::Client::new();
    let preflight = |path: &'static str, origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{}{path}", app.base_url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    for path in ["/oauth/token", "/oauth/userinfo", "/oauth/revoke"] {
        let ok = preflight(path, "http://localhost:3000").await.unwrap();
        assert_eq!(ok.status().as_u16(), 204, "{path}");
        assert_eq!(ok.headers()["access-control-allow-origin"], "http://localhost:3000", "{path}");
        assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
        assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("Authorization"));
        let foreign = preflight(path, "https://evil.example").await.unwrap();
        assert!(foreign.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
    // The actual token request from the SPA's origin carries the header (its error too).
    let r = http
        .post(format!("{}/oauth/token", app.base_url))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=nope&client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:3000");
    // Public documents are readable from anywhere; the admin API from nowhere.
    let disco = http
        .get(format!("{}/.well-known/openid-configuration", app.base_url))
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!(disco.headers()["access-control-allow-origin"], "*");
    let jwks = http
        .request(reqwest::Method::OPTIONS, format!("{}/.well-known/jwks.json", app.base_url))
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!((jwks.status().as_u16(), jwks.headers()["access-control-allow-origin"].to_str().unwrap()), (204, "*"));
    let api = http
        .get(format!("{}/api/v1/admin/tenants", app.base_url))
        .header("origin", "http://localhost:3000")
        .bearer_auth(admin.token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 200);
    assert!(api.headers().get("access-control-allow-origin").is_none());
    // A suspended application's origins stop being allowed (after the short cache).
    let id = spa.id();
    assert_eq!(
        admin.patch(&format!("/api/v1/admin/applications/{id}"), json!({"status": "suspended"})).await.unwrap().status,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(5_200)).await;
    let after = preflight("/oauth/token", "http://localhost:3000").await.unwrap();
    assert!(after.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn userinfo_wants_openid_and_revocation_tells_no_client_about_anothers_access_token() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let admin = app.super_admin().await.unwrap();
    let admin_token = admin.token().unwrap().to_string();
    let http = reqwest::Client::new();
    // A valid token without `openid` (the JSON login's, narrowed at refresh): 403, not 401
    // (RFC 6750 §3.1).
    let login = app
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"email": scaikey_testkit::ADMIN_EMAIL, "password": scaikey_testkit::ADMIN_PASSWORD}),
        )
        .await
        .unwrap();
    let rt = login.body["refresh_token"].as_str().unwrap();
    let narrowed = app
        .token_request(None, &[("grant_type", "refresh_token"), ("refresh_token", rt), ("scope", "email")])
        .await
        .unwrap();
    assert_eq!((narrowed.status, narrowed.body["scope"].as_str()), (200, Some("email")), "{}", narrowed.body);
    let no_openid = narrowed.body["access_token"].as_str().unwrap();
    let r = http.get(format!("{}/oauth/userinfo", app.base_url)).bearer_auth(no_openid).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"openid\""),
        "{challenge}"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "insufficient_scope");

    // A service's own access token is told apart at revocation; to any other client it is as
    // unknown as a made-up string (RFC 7009 §2.2), so revocation tells no one a token is genuine.
    let service = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Reports job", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": rp.tenant}),
        )
        .await
        .unwrap();
    assert_eq!(service.status, 201, "{}", service.body);
    let (sid, ssecret) = (service.body["client_id"].as_str().unwrap(), service.body["client_secret"].as_str().unwrap());
    let t = app.token_request(Some((sid, ssecret)), &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!(t.status, 200, "{}", t.body);
    let service_token = t.body["access_token"].as_str().unwrap().to_string();
    let revoke = |id: &str, secret: &str, token: &str| {
        http.post(format!("{}/oauth/revoke", app.base_url))
            .basic_auth(id, Some(secret))
            .form(&[("token", token)])
            .send()
    };
    let own = revoke(sid, ssecret, &service_token).await.unwrap();
    assert_eq!(own.status().as_u16(), 400);
    assert_eq!(own.json::<Value>().await.unwrap()["error"], "unsupported_token_type");
    for token in [service_token.as_str(), admin_token.as_str(), "made-up"] {
        let r = revoke(&rp.client_id, &rp.secret, token).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "another client's token answers like an unknown one");
    }

    // Discovery says request objects are refused (absent, OIDC Discovery §3 reads them as true).
    let d: Value = http
        .get(format!("{}/.well-known/openid-configuration", app.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&d["request_parameter_supported"], &d["request_uri_parameter_supported"]),
        (&json!(false), &json!(false))
    );
}

/// A browser in which Ana signed in to `rp` through the hosted login, and the `prompt=none`
/// authorization URL that tells whether its SSO session still stands.
async fn signed_in_browser(app: &TestApp, rp: &Rp) -> (scaikey_testkit::signin::Browser, String) {
    use scaikey_testkit::signin::{Browser, field, location};
    let mut browser = Browser::new(&app.base_url).unwrap();
    let authorize = |prompt: &str| {
        format!(
            "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s1{prompt}",
            app.base_url,
            rp.client_id,
            REDIRECT.replace(':', "%3A").replace('/', "%2F")
        )
    };
    // Ana signs in through the hosted login.
    let to_login = location(&browser.get(&authorize("")).await.unwrap()).unwrap();
    let html = browser.get(&to_login).await.unwrap().text().await.unwrap();
    let (interaction, csrf) = (field(&html, "interaction").unwrap(), field(&html, "csrf").unwrap());
    let form = [
        ("interaction", interaction.as_str()),
        ("csrf", csrf.as_str()),
        ("email", "ana@acme.example"),
        ("password", "Ana-Passw0rd!"),
    ];
    let back = location(&browser.post("/login", &form).await.unwrap()).unwrap();
    assert!(back.starts_with(REDIRECT) && back.contains("code="), "{back}");
    let silent = authorize("&prompt=none");
    (browser, silent)
}

#[tokio::test]
async fn a_logout_refused_for_its_redirect_leaves_the_session_alone() {
    use scaikey_testkit::signin::location;
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let (mut browser, silent) = signed_in_browser(&app, &rp).await;

    let evil = format!(
        "{}/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
        app.base_url, rp.client_id
    );
    let r = browser.get(&evil).await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "an unregistered post-logout URI is an error page");
    assert!(
        r.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("scaikey_session=")),
        "the cookie is kept: {:?}",
        r.headers()
    );
    let still = location(&browser.get(&silent).await.unwrap()).unwrap();
    assert!(still.contains("code="), "the session is still there: {still}");

    // The same request with the registered URI signs out.
    let ok = format!(
        "{}/oauth/logout?client_id={}&post_logout_redirect_uri={}",
        app.base_url,
        rp.client_id,
        SIGNED_OUT.replace(':', "%3A").replace('/', "%2F")
    );
    assert_eq!(location(&browser.get(&ok).await.unwrap()).unwrap(), SIGNED_OUT);
    let gone = location(&browser.get(&silent).await.unwrap()).unwrap();
    assert!(gone.contains("error=login_required"), "{gone}");
}

#[tokio::test]
async fn the_hosted_logout_page_asks_before_it_signs_out() {
    use scaikey_testkit::signin::{field, location};
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let rp = relying_party(&app, json!({})).await;
    let (mut browser, silent) = signed_in_browser(&app, &rp).await;
    let logout = format!("{}/logout", app.base_url);
    let page = browser.get(&logout).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="post" action="/logout">"#) && html.contains(r#"<button type="submit">"#),
        "{html}"
    );
    let csrf = field(&html, "csrf").unwrap();
    assert!(location(&browser.get(&silent).await.unwrap()).unwrap().contains("code="), "showing the page ends nothing");
    let forged = browser.post("/logout", &[("csrf", "forged")]).await.unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(location(&browser.get(&silent).await.unwrap()).unwrap().contains("code="), "a forged form ends nothing");
    let done = browser.post("/logout", &[("csrf", csrf.as_str())]).await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let cleared =
        done.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("scaikey_session=;"));
    assert!(cleared, "the session cookie is cleared");
    assert!(done.text().await.unwrap().contains("You are signed out"));
    let gone = location(&browser.get(&silent).await.unwrap()).unwrap();
    assert!(gone.contains("error=login_required"), "{gone}");
}
