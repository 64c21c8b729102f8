//! Federated sign-in end to end (contract §11): a downstream ScaiKey whose tenant federates to
//! an upstream ScaiKey (another process on its own database, a provider it knows only by its
//! discovery document), played by a browser without JavaScript: the login page's button and
//! `idp=`, the upstream's own login, the callback, JIT provisioning, linking, refusals, replay,
//! a callback in another browser, a cancelled sign-in, a disabled IdP and the audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel_async::RunQueryDsl;
use scaikey_testkit::signin::{Browser, field, location};
use scaikey_testkit::{ApiClient, TestApp, jwt_parts};
use serde_json::{Value, json};

const RP_REDIRECT: &str = "http://127.0.0.1:9/rp/callback";

/// The downstream relying party: an application of the federating tenant.
struct Rp {
    client_id: String,
    client_secret: String,
}

/// Where a sign-in ended.
#[derive(Debug)]
enum End {
    /// Back at the relying party, with these parameters.
    Client(HashMap<String, String>),
    /// A page of the downstream ScaiKey.
    Page(u16, String),
}

impl End {
    fn code(&self) -> &str {
        match self {
            End::Client(p) => p.get("code").map(String::as_str).unwrap_or_else(|| panic!("no code: {p:?}")),
            End::Page(s, html) => panic!("expected a code, got page {s}: {html}"),
        }
    }

    fn page(&self) -> (u16, &str) {
        match self {
            End::Page(s, html) => (*s, html.as_str()),
            End::Client(p) => panic!("expected a page, got the client with {p:?}"),
        }
    }
}

struct Fixture {
    down: TestApp,
    /// The upstream ScaiKey, when the upstream is one.
    up: Option<TestApp>,
    down_admin: ApiClient,
    up_admin: Option<ApiClient>,
    rp: Rp,
    idp: String,
    tenant: String,
    up_tenant: String,
}

const VERIFIER: &str = "federated-sign-in-test-verifier-0123456789-abcdefghijk";

fn authorize_url(f: &Fixture, extra: &[(&str, &str)]) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, VERIFIER.as_bytes()));
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", f.rp.client_id.as_str()),
        ("redirect_uri", RP_REDIRECT),
        ("scope", "openid email profile"),
        ("state", "rp-state"),
        ("nonce", "rp-nonce"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    q.extend_from_slice(extra);
    format!("/oauth/authorize?{}", serde_urlencoded::to_string(&q).unwrap())
}

/// Follows redirects in `b` from `url` until a page (answered) or a URL outside `b`'s server.
async fn follow(b: &mut Browser, base: &str, mut url: String) -> Result<String, (u16, String)> {
    loop {
        let r = b.get(&url).await.unwrap();
        if r.status().is_redirection() {
            let next = location(&r).unwrap();
            if next.starts_with("http") && !next.starts_with(base) {
                return Ok(next);
            }
            url = next;
            continue;
        }
        let status = r.status().as_u16();
        return Err((status, r.text().await.unwrap()));
    }
}

impl Fixture {
    async fn new() -> Fixture {
        // Two hosts, so the browsers' cookies of the two servers never meet (a browser keeps
        // cookies per host, not per port).
        let up = TestApp::spawn_on_localhost(&[]).await.unwrap();
        let down = TestApp::spawn_discoverable(&[]).await.unwrap();
        let (up_admin, down_admin) = (up.super_admin().await.unwrap(), down.super_admin().await.unwrap());

        // Downstream: the tenant, its application and its IdP (client ID filled in later, as
        // an admin does once the upstream registration exists).
        let tenant =
            down_admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
        let app = down_admin
            .post(
                "/api/v1/admin/applications",
                json!({"name": "Acme Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                       "redirect_uris": [RP_REDIRECT], "allowed_scopes": ["openid", "email", "profile"]}),
            )
            .await
            .unwrap();
        assert_eq!(app.status, 201, "{}", app.body);
        let rp = Rp {
            client_id: app.body["client_id"].as_str().unwrap().into(),
            client_secret: app.body["client_secret"].as_str().unwrap().into(),
        };
        let idp = down_admin
            .post(
                "/api/v1/admin/identity-providers",
                json!({"name": "Corp SSO", "protocol": "OIDC", "tenant_id": tenant, "issuer": up.issuer,
                       "client_id": "pending", "attribute_mapping": {"upstream_tenant": "tenant_id", "Ünïcode ✓": "name"}}),
            )
            .await
            .unwrap();
        assert_eq!(idp.status, 201, "{}", idp.body);
        let callback = format!("{}/oauth/callback/{}", down.issuer, idp.id());
        assert_eq!(idp.body["redirect_uri"], json!(callback), "{}", idp.body);
        assert_eq!(idp.body["jit_provisioning"], json!(true));

        // Upstream: the company's directory and ScaiKey's registration there.
        let up_tenant = up_admin.post("/api/v1/admin/tenants", json!({"name": "Corp"})).await.unwrap().id();
        let reg = up_admin
            .post(
                "/api/v1/admin/applications",
                json!({"name": "Acme via ScaiKey", "application_type": "WEB", "scope": "TENANT", "tenant_id": up_tenant,
                       "redirect_uris": [callback], "allowed_scopes": ["openid", "email", "profile"]}),
            )
            .await
            .unwrap();
        assert_eq!(reg.status, 201, "{}", reg.body);
        let r = down_admin
            .patch(
                &format!("/api/v1/admin/identity-providers/{}", idp.id()),
                json!({"client_id": reg.body["client_id"], "client_secret": reg.body["client_secret"]}),
            )
            .await
            .unwrap();
        assert_eq!((r.status, r.body["client_secret_set"].clone()), (200, json!(true)), "{}", r.body);
        Fixture { idp: idp.id(), down, up: Some(up), down_admin, up_admin: Some(up_admin), rp, tenant, up_tenant }
    }

    /// An upstream user whose e-mail the upstream has verified.
    async fn upstream_user(&self, email: &str, first: &str, last: &str) -> String {
        let id = self.upstream_user_unverified(email, first, last).await;
        verify_upstream_email(self.up.as_ref().unwrap(), &id).await;
        id
    }

    async fn upstream_user_unverified(&self, email: &str, first: &str, last: &str) -> String {
        let r = self
            .up_admin
            .as_ref()
            .unwrap()
            .post(
                "/api/v1/admin/users",
                json!({"email": email, "password": "Upstream-Passw0rd!", "tenant_id": self.up_tenant,
                       "first_name": first, "last_name": last}),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    /// Runs a sign-in in `b` from the relying party's authorization request (`extra` added),
    /// through the login page's button unless `idp=` is among `extra`, to the upstream login
    /// as `email`, and back. Answers the upstream's callback URL and where it ended.
    async fn sign_in(&self, b: &mut Browser, extra: &[(&str, &str)], email: &str) -> (String, End) {
        let upstream = self.to_upstream(b, extra).await;
        let callback = self.upstream_login(&upstream, email).await;
        (callback.clone(), self.callback(b, &callback).await)
    }

    /// From the authorization request to the upstream authorization URL.
    async fn to_upstream(&self, b: &mut Browser, extra: &[(&str, &str)]) -> String {
        let base = self.down.base_url.clone();
        match follow(b, &base, authorize_url(self, extra)).await {
            Ok(upstream) => upstream,
            Err((200, html)) => {
                assert!(html.contains("Sign in with Corp SSO"), "{html}");
                let form = [
                    ("interaction", field(&html, "interaction").unwrap()),
                    ("csrf", field(&html, "csrf").unwrap()),
                    ("idp_id", self.idp.clone()),
                ];
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let r = b.post("/login/idp", &form).await.unwrap();
                assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
                location(&r).unwrap()
            }
            Err((s, html)) => panic!("{s}: {html}"),
        }
    }

    /// The person at the upstream: its login page, then back to the downstream callback.
    async fn upstream_login(&self, upstream: &str, email: &str) -> String {
        let up = self.up.as_ref().unwrap();
        assert!(upstream.starts_with(&format!("{}/oauth/authorize?", up.issuer)), "{upstream}");
        let mut ub = Browser::new(&up.base_url).unwrap();
        let (status, html) = follow(&mut ub, &up.base_url, upstream.to_string()).await.unwrap_err();
        assert_eq!(status, 200, "{html}");
        let (interaction, csrf) = (field(&html, "interaction").unwrap(), field(&html, "csrf").unwrap());
        let form = [
            ("interaction", interaction.as_str()),
            ("csrf", &csrf),
            ("email", email),
            ("password", "Upstream-Passw0rd!"),
        ];
        let r = ub.post("/login", &form).await.unwrap();
        let next = location(&r).unwrap();
        if next.starts_with(&self.down.base_url) {
            return next;
        }
        follow(&mut ub, &up.base_url, next).await.unwrap()
    }

    /// The upstream's redirect back, in `b`.
    async fn callback(&self, b: &mut Browser, callback: &str) -> End {
        match follow(b, &self.down.base_url, callback.to_string()).await {
            Ok(client) => {
                assert!(client.starts_with(RP_REDIRECT), "{client}");
                End::Client(serde_urlencoded::from_str(client.split_once('?').unwrap().1).unwrap())
            }
            Err((s, html)) => End::Page(s, html),
        }
    }

    /// The relying party redeems the code; answers the ID token's claims.
    async fn redeem(&self, code: &str) -> Value {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        let r = self.down.token_request(Some((&self.rp.client_id, &self.rp.client_secret)), &form).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        jwt_parts(r.body["id_token"].as_str().unwrap()).unwrap().1
    }

    async fn users_named(&self, email: &str) -> Vec<Value> {
        let q = serde_urlencoded::to_string([("tenant_id", self.tenant.as_str()), ("search", email)]).unwrap();
        let r = self.down_admin.get(&format!("/api/v1/admin/users?{q}")).await.unwrap();
        r.body["items"].as_array().unwrap().clone()
    }

    /// Whether an audit event of `action` matching `want` was recorded (waiting a moment for
    /// the audit queue to be written).
    async fn audited(&self, action: &str, want: impl Fn(&Value) -> bool) -> bool {
        audited(&self.down_admin, action, want).await
    }
}

/// Marks an upstream user's e-mail verified (as a link the upstream mailed would have).
async fn verify_upstream_email(up: &TestApp, user: &str) {
    let id: ulid::Ulid = user.trim_start_matches("usr_").parse().unwrap();
    let mut conn = up.db.connect().await.unwrap();
    diesel::sql_query("UPDATE users SET email_verified = true WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::from(id))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_tenant_signs_in_through_its_upstream_provider() {
    let f = Fixture::new().await;
    f.upstream_user("alice@corp.example", "Alice", "Ng").await;

    // First sign-in through the login page's button: the user is created (JIT) with the
    // upstream's names, e-mail and mapped attributes, and the code reaches the relying party.
    let mut b = Browser::new(&f.down.base_url).unwrap();
    let (callback, end) = f.sign_in(&mut b, &[], "alice@corp.example").await;
    let params = match &end {
        End::Client(p) => p.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((params["state"].as_str(), params["iss"].as_str()), ("rp-state", f.down.issuer.as_str()));
    let claims = f.redeem(end.code()).await;
    assert_eq!(
        (claims["email"].as_str(), claims["tenant_id"].as_str()),
        (Some("alice@corp.example"), Some(f.tenant.as_str()))
    );
    assert_eq!((claims["given_name"].as_str(), claims["amr"].clone()), (Some("Alice"), json!(["fed"])));
    let users = f.users_named("alice@corp.example").await;
    assert_eq!(users.len(), 1, "{users:?}");
    let alice = users[0]["id"].as_str().unwrap().to_string();
    assert_eq!(claims["sub"].as_str(), Some(alice.as_str()));
    assert_eq!(users[0]["last_name"], json!("Ng"));
    assert_eq!(users[0]["password_set"], json!(false), "a federated user has no password");
    assert_eq!(users[0]["custom_attributes"], json!({"upstream_tenant": f.up_tenant, "Ünïcode ✓": "Alice Ng"}));
    assert_eq!(users[0]["email_verified"], json!(true), "as verified as the upstream says");
    assert_eq!(claims["email_verified"], json!(true));
    let links = f.down_admin.get(&format!("/api/v1/admin/users/{alice}/identities")).await.unwrap();
    assert_eq!(links.status, 200, "{}", links.body);
    assert_eq!(
        (links.body["items"][0]["idp_id"].as_str(), links.body["items"][0]["idp_name"].as_str()),
        (Some(f.idp.as_str()), Some("Corp SSO"))
    );
    assert!(
        f.audited("user.create", |e| e["resource_id"] == json!(alice) && e["details"]["idp_id"] == json!(f.idp)).await
    );
    assert!(
        f.audited("auth.login", |e| e["result"] == "success"
            && e["details"]["method"] == "federated"
            && e["details"]["idp_id"] == json!(f.idp))
            .await
    );

    // The callback replayed: the state was taken; an error page, nothing new.
    let replayed = f.callback(&mut b, &callback).await;
    assert_eq!(replayed.page().0, 400, "{replayed:?}");
    assert!(
        f.audited("auth.federation_callback", |e| e["details"]["reason"] == "unknown, used or expired state").await
    );

    // Second sign-in, straight through `idp=` and `prompt=login`: the same user, through the link.
    let mut b2 = Browser::new(&f.down.base_url).unwrap();
    let (_, end) = f.sign_in(&mut b2, &[("idp", f.idp.as_str()), ("prompt", "login")], "alice@corp.example").await;
    assert_eq!(f.redeem(end.code()).await["sub"].as_str(), Some(alice.as_str()));
    assert_eq!(f.users_named("alice@corp.example").await.len(), 1);

    // A callback delivered to another browser (login CSRF) is refused, and uses up the state.
    let mut victim = Browser::new(&f.down.base_url).unwrap();
    let upstream = f.to_upstream(&mut b2, &[("idp", f.idp.as_str()), ("prompt", "login")]).await;
    let callback = f.upstream_login(&upstream, "alice@corp.example").await;
    assert_eq!(f.callback(&mut victim, &callback).await.page().0, 400);
    assert!(!victim.cookies.contains_key("scaikey_session"));
    assert_eq!(f.callback(&mut b2, &callback).await.page().0, 400);
    assert!(logins_failed(&f, "callback in another browser").await);

    // Cancelled at the upstream: the client gets access_denied with its state.
    let upstream = f.to_upstream(&mut b2, &[("idp", f.idp.as_str()), ("prompt", "login")]).await;
    let state = url_param(&upstream, "state");
    let cancel = format!("{}/oauth/callback/{}?error=access_denied&state={state}", f.down.base_url, f.idp);
    match f.callback(&mut b2, &cancel).await {
        End::Client(p) => assert_eq!((p["error"].as_str(), p["state"].as_str()), ("access_denied", "rp-state")),
        other => panic!("{other:?}"),
    }
}

async fn audited(admin: &ApiClient, action: &str, want: impl Fn(&Value) -> bool) -> bool {
    for _ in 0..30 {
        let r = admin.get(&format!("/api/v1/admin/audit?action={action}&per_page=100")).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["items"].as_array().unwrap().iter().any(&want) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// Whether a failed federated `auth.login` with this reason was audited.
async fn logins_failed(f: &Fixture, reason: &str) -> bool {
    f.audited("auth.login", |e| {
        e["result"] == "failure"
            && e["details"]["method"] == "federated"
            && e["details"]["reason"].as_str().is_some_and(|r| r.contains(reason))
    })
    .await
}

fn url_param(url: &str, name: &str) -> String {
    let q: HashMap<String, String> = serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    q[name].clone()
}

#[tokio::test]
async fn linking_provisioning_and_refusals() {
    let f = Fixture::new().await;
    // A downstream user who already exists, with a password of her own.
    let carol = f
        .down_admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "Carol@Corp.example", "password": "Carol-Passw0rd!", "tenant_id": f.tenant}),
        )
        .await
        .unwrap()
        .id();
    let up_carol = f.upstream_user_unverified("carol@corp.example", "Carol", "Diaz").await;

    // Unverified upstream e-mail: never linked to the existing account.
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "carol@corp.example").await;
    let (status, html) = end.page();
    assert!(status == 400 && html.contains("did not confirm your e-mail address"), "{status}: {html}");
    assert!(logins_failed(&f, "upstream e-mail not verified").await);
    let links = f.down_admin.get(&format!("/api/v1/admin/users/{carol}/identities")).await.unwrap();
    assert_eq!(links.body["items"], json!([]));

    // Nor is an account made from an unverified address: a hostile upstream account could
    // claim one whose owner later signs in verified (and would be linked to it).
    f.upstream_user_unverified("mallory@corp.example", "Mal", "Lory").await;
    let (_, end) = f
        .sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "mallory@corp.example")
        .await;
    let (status, html) = end.page();
    assert!(status == 400 && html.contains("did not confirm your e-mail address"), "{status}: {html}");
    assert!(f.users_named("mallory@corp.example").await.is_empty(), "nothing provisioned");

    // Verified upstream: linked to her account (case-blind e-mail), which gets the names.
    verify_upstream_email(f.up.as_ref().unwrap(), &up_carol).await;
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "carol@corp.example").await;
    let claims = f.redeem(end.code()).await;
    assert_eq!((claims["sub"].as_str(), claims["email_verified"].as_bool()), (Some(carol.as_str()), Some(true)));
    let user = f.down_admin.get(&format!("/api/v1/admin/users/{carol}")).await.unwrap();
    assert_eq!((user.body["first_name"].as_str(), user.body["email_verified"].as_bool()), (Some("Carol"), Some(true)));
    assert!(f.audited("user.link_identity", |e| e["resource_id"] == json!(carol)).await);

    // A downstream admin with the same verified e-mail is never linked automatically: whoever
    // configures an IdP (a tenant admin) must not sign in as the admins above them.
    let r = f
        .down_admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "boss@corp.example", "password": "Boss-Passw0rd!1", "roles": ["tenant_admin"], "tenant_id": f.tenant}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    f.upstream_user("boss@corp.example", "Bo", "Ss").await;
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "boss@corp.example").await;
    assert!(end.page().1.contains("administrator account cannot be linked"), "{end:?}");
    assert!(logins_failed(&f, "holds admin roles").await);

    // Unlinked by an admin: the link is gone (the next sign-in links again by e-mail).
    let r = f.down_admin.delete(&format!("/api/v1/admin/users/{carol}/identities/{}", f.idp)).await.unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    let r = f.down_admin.delete(&format!("/api/v1/admin/users/{carol}/identities/{}", f.idp)).await.unwrap();
    assert_eq!(r.status, 404);

    // Provisioning off: someone with no account is refused, nothing is created.
    let r = f
        .down_admin
        .patch(&format!("/api/v1/admin/identity-providers/{}", f.idp), json!({"jit_provisioning": false}))
        .await
        .unwrap();
    assert_eq!((r.status, r.body["jit_provisioning"].clone()), (200, json!(false)), "{}", r.body);
    f.upstream_user("dan@corp.example", "Dan", "Ho").await;
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "dan@corp.example").await;
    assert!(end.page().1.contains("There is no account for you"), "{:?}", end);
    assert!(f.users_named("dan@corp.example").await.is_empty());
    assert!(logins_failed(&f, "no account and provisioning is off").await);

    // A wrong client secret at the upstream: its token endpoint refuses; an error page.
    let r = f
        .down_admin
        .patch(&format!("/api/v1/admin/identity-providers/{}", f.idp), json!({"client_secret": "wrong-secret"}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "carol@corp.example").await;
    assert!(end.page().1.contains("Signing in through Corp SSO failed"), "{:?}", end);
    assert!(logins_failed(&f, "token endpoint").await);

    // Disabled: the button disappears at once and `idp=` falls back to the login page.
    let r = f
        .down_admin
        .patch(&format!("/api/v1/admin/identity-providers/{}", f.idp), json!({"enabled": false}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let mut fresh = Browser::new(&f.down.base_url).unwrap();
    let (status, html) = follow(&mut fresh, &f.down.base_url, authorize_url(&f, &[])).await.unwrap_err();
    assert!(status == 200 && html.contains(r#"name="password""#) && !html.contains("Corp SSO"), "{html}");
    let (_, html) =
        follow(&mut fresh, &f.down.base_url, authorize_url(&f, &[("idp", f.idp.as_str())])).await.unwrap_err();
    assert!(html.contains("That sign-in option is not available."), "{html}");
}

#[tokio::test]
async fn an_unreachable_or_misconfigured_upstream_ends_on_an_error_page() {
    let down = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = down.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Solo"})).await.unwrap().id();
    let app = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Solo", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                   "redirect_uris": [RP_REDIRECT], "allowed_scopes": ["openid"]}),
        )
        .await
        .unwrap();
    // Nothing listens on port 9 of the loopback.
    let idp = admin
        .post(
            "/api/v1/admin/identity-providers",
            json!({"name": "Gone", "protocol": "OIDC", "tenant_id": tenant, "issuer": "http://127.0.0.1:9", "client_id": "c"}),
        )
        .await
        .unwrap();
    assert_eq!(idp.status, 201, "{}", idp.body);
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", app.body["client_id"].as_str().unwrap()),
        ("redirect_uri", RP_REDIRECT),
        ("scope", "openid"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
        ("idp", idp.id().as_str()),
    ])
    .unwrap();
    let mut b = Browser::new(&down.base_url).unwrap();
    let (status, html) = follow(&mut b, &down.base_url, format!("/oauth/authorize?{q}")).await.unwrap_err();
    assert!(status == 400 && html.contains("Gone cannot be reached right now"), "{status}: {html}");
    assert!(
        audited(&admin, "auth.login", |e| e["details"]["reason"].as_str().is_some_and(|m| m.contains("unreachable")))
            .await
    );
    // A callback no sign-in started: an error page, never a 500.
    for q in ["", "?state=forged&code=x", "?code=x", "?state=%00"] {
        let r = b.get(&format!("/oauth/callback/{}{q}", idp.id())).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
    }
    let r = b.get("/oauth/callback/not-an-idp?state=x").await.unwrap();
    assert_eq!(r.status(), 400);
}

/// node oidc-provider on a free port, stopped when dropped.
struct NodeProvider {
    child: std::process::Child,
    issuer: String,
}

impl Drop for NodeProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node_provider(client_id: &str, secret: &str, redirect_uri: &str) -> NodeProvider {
    use std::io::BufRead;
    let modules = scaikey_testkit::tools::node_modules().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut child = std::process::Command::new("node")
        .arg(scaikey_testkit::tools::node_scripts_dir().join("upstream_provider.mjs"))
        .args([port.as_str(), client_id, secret, redirect_uri])
        .env("NODE_PATH", &modules)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // Keep reading: a closed pipe would make its next write (EPIPE) end the process.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let issuer =
        line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("oidc-provider said {line:?}")).to_string();
    NodeProvider { child, issuer }
}

/// The `action` of the page's (first) form.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").unwrap() + "action=\"".len();
    html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&").replace("&#x2F;", "/")
}

#[tokio::test]
async fn federates_to_node_oidc_provider() {
    let down = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = down.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Orbit"})).await.unwrap().id();
    let app = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Orbit", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                   "redirect_uris": [RP_REDIRECT], "allowed_scopes": ["openid", "email", "profile"]}),
        )
        .await
        .unwrap();
    let rp = Rp {
        client_id: app.body["client_id"].as_str().unwrap().into(),
        client_secret: app.body["client_secret"].as_str().unwrap().into(),
    };
    // Registered first, so its callback URL can be given to the provider.
    let idp = admin
        .post(
            "/api/v1/admin/identity-providers",
            json!({"name": "Orbit IdP", "protocol": "OIDC", "tenant_id": tenant, "issuer": "http://localhost:1",
                   "client_id": "scaikey-orbit", "client_secret": "orbit-secret-0123456789",
                   "attribute_mapping": {"department": "department"}}),
        )
        .await
        .unwrap();
    assert_eq!(idp.status, 201, "{}", idp.body);
    let op = node_provider("scaikey-orbit", "orbit-secret-0123456789", idp.body["redirect_uri"].as_str().unwrap());
    let r = admin
        .patch(&format!("/api/v1/admin/identity-providers/{}", idp.id()), json!({"issuer": op.issuer}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    let f = Fixture {
        idp: idp.id(),
        tenant,
        rp,
        down,
        down_admin: admin,
        up: None,
        up_admin: None,
        up_tenant: String::new(),
    };
    let mut b = Browser::new(&f.down.base_url).unwrap();
    let upstream = follow(&mut b, &f.down.base_url, authorize_url(&f, &[("idp", f.idp.as_str())])).await.unwrap();
    assert!(upstream.starts_with(&format!("{}/auth?", op.issuer)), "{upstream}");
    assert!(upstream.contains("code_challenge_method=S256") && upstream.contains("nonce="), "{upstream}");

    // oidc-provider's own pages: its login form (any name), then its consent form.
    let mut ub = Browser::new(&op.issuer).unwrap();
    let mut url = upstream;
    let callback = loop {
        match follow(&mut ub, &op.issuer, url.clone()).await {
            Ok(back) => break back,
            Err((200, html)) => {
                let action = form_action(&html);
                let r = if html.contains(r#"name="prompt" value="login""#) {
                    ub.post(&action, &[("prompt", "login"), ("login", "olga@orbit.example"), ("password", "any")]).await
                } else {
                    assert!(html.contains(r#"name="prompt" value="consent""#), "{html}");
                    ub.post(&action, &[("prompt", "consent")]).await
                }
                .unwrap();
                url = location(&r).unwrap();
            }
            Err((s, html)) => panic!("oidc-provider answered {s}: {html}"),
        }
    };
    assert!(callback.starts_with(&format!("{}/oauth/callback/{}", f.down.issuer, f.idp)), "{callback}");
    assert!(callback.contains("iss="), "RFC 9207 iss from oidc-provider: {callback}");
    let end = f.callback(&mut b, &callback).await;
    let claims = f.redeem(end.code()).await;
    // The profile came from its userinfo endpoint (its ID token holds only `sub`).
    assert_eq!(
        (claims["email"].as_str(), claims["email_verified"].as_bool(), claims["family_name"].as_str()),
        (Some("olga@orbit.example"), Some(true), Some("Provider"))
    );
    let users = f.users_named("olga@orbit.example").await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["custom_attributes"], json!({"department": "R&D"}));
}

#[tokio::test]
async fn a_stock_relying_party_signs_in_through_the_federation() {
    let f = Fixture::new().await;
    f.upstream_user("erin@corp.example", "Erin", "Wu").await;
    let args = [
        f.down.issuer.clone(),
        f.rp.client_id.clone(),
        f.rp.client_secret.clone(),
        RP_REDIRECT.to_string(),
        f.idp.clone(),
        "erin@corp.example".to_string(),
        "Upstream-Passw0rd!".to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        scaikey_testkit::tools::run_python_script("federated_rp.py", &a, &[])
    })
    .await
    .unwrap()
    .unwrap();
    let out: Value = serde_json::from_str(out.trim()).unwrap();
    let up_host = f.up.as_ref().unwrap().issuer.trim_start_matches("http://").to_string();
    assert!(out["hosts"].as_array().unwrap().contains(&json!(up_host)), "went through the upstream: {out}");
    assert_eq!(
        (out["state_echoed"].as_bool(), out["callback_iss"].as_str()),
        (Some(true), Some(f.down.issuer.as_str())),
        "{out}"
    );
    let claims = &out["id_token"];
    assert_eq!(
        (claims["email"].as_str(), claims["tenant_id"].as_str(), claims["amr"].clone()),
        (Some("erin@corp.example"), Some(f.tenant.as_str()), json!(["fed"])),
        "{out}"
    );
    assert_eq!(out["userinfo"]["given_name"], json!("Erin"), "{out}");
    assert_eq!(out["userinfo"]["sub"], claims["sub"]);
}

#[tokio::test]
async fn who_may_sign_in_is_decided_before_anything_is_written() {
    let f = Fixture::new().await;
    f.upstream_user("frank@corp.example", "Frank", "Li").await;
    let app_id = {
        let r = f.down_admin.get(&format!("/api/v1/admin/applications?search={}", "Acme%20Portal")).await.unwrap();
        r.body["items"][0]["id"].as_str().unwrap().to_string()
    };
    // Only assigned users: a new person gets access_denied at the client and no account.
    let r = f
        .down_admin
        .patch(&format!("/api/v1/admin/applications/{app_id}"), json!({"assignment_required": true}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "frank@corp.example").await;
    match end {
        End::Client(p) => assert_eq!((p["error"].as_str(), p["state"].as_str()), ("access_denied", "rp-state")),
        other => panic!("{other:?}"),
    }
    assert!(f.users_named("frank@corp.example").await.is_empty(), "nothing created");
    assert!(logins_failed(&f, "not assigned").await);

    // Open again: Frank is created; then suspended, his next federated sign-in is refused.
    let r = f
        .down_admin
        .patch(&format!("/api/v1/admin/applications/{app_id}"), json!({"assignment_required": false}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "frank@corp.example").await;
    let frank = f.redeem(end.code()).await["sub"].as_str().unwrap().to_string();
    let r = f.down_admin.patch(&format!("/api/v1/admin/users/{frank}"), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, end) =
        f.sign_in(&mut Browser::new(&f.down.base_url).unwrap(), &[("idp", f.idp.as_str())], "frank@corp.example").await;
    let (status, html) = end.page();
    assert!(status == 400 && html.contains("Your account cannot sign in"), "{status}: {html}");
    assert!(logins_failed(&f, "may not sign in").await);

    // One address starts a bounded number of sign-ins a minute (each stores a row).
    let mut started = 0;
    let refused = loop {
        let mut b = Browser::new(&f.down.base_url).unwrap();
        match follow(&mut b, &f.down.base_url, authorize_url(&f, &[("idp", f.idp.as_str())])).await {
            Ok(_) => started += 1,
            Err((status, html)) => break (status, html),
        }
        assert!(started <= 30, "never bounded");
    };
    assert!(started >= 25 && refused.1.contains("Too many sign-ins were started"), "{started}: {refused:?}");
}
