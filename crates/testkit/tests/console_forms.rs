//! The console's forms (contract §13): a create, change and delete round trip through the
//! pages for every resource, each checked through the REST API; the API's validation messages
//! beside their field with nothing stored; confirmations for destructive actions; members,
//! nesting as a tree, assignments, effective users, secrets shown once and rotated; the login
//! page preview; the audit detail; a tenant admin's refusals; and CSRF refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::signin::{Browser, field, location};
use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use serde_json::{Value, json};

/// A signed-in console: the browser and the CSRF token its forms carry.
struct Console {
    b: Browser,
    csrf: String,
}

impl Console {
    async fn sign_in(app: &TestApp, email: &str, password: &str) -> Console {
        let mut b = Browser::new(&app.base_url).unwrap();
        let (status, _, html) = b.open("/console", email, password).await.unwrap();
        assert_eq!(status, 200, "{html}");
        let csrf = field(&html, "csrf").unwrap();
        Console { b, csrf }
    }

    async fn page(&mut self, url: &str) -> (u16, String) {
        let (status, _, html) = self.b.open(url, "", "").await.unwrap();
        (status, html)
    }

    /// Posts a form with the CSRF token; a save of an edit form (`/console/{kind}/{id}`) with
    /// the `version` its edit page carries now, as a browser that just opened it would.
    async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let version = match path.split('/').collect::<Vec<_>>()[..] {
            ["", "console", _, id] if id != "preview" => {
                let (status, html) = self.page(&format!("{path}/edit")).await;
                assert_eq!(status, 200, "{html}");
                field(&html, "version")
            }
            _ => None,
        };
        let mut all = vec![("csrf", self.csrf.as_str())];
        if let Some(v) = &version {
            all.push(("version", v.as_str()));
        }
        all.extend_from_slice(form);
        self.b.post(path, &all).await.unwrap()
    }

    /// Posts a form that must be answered with a redirect to `{path}/{id}?done=…`; the ID.
    async fn created(&mut self, path: &str, form: &[(&str, &str)]) -> String {
        let r = self.submit(path, form).await;
        let status = r.status();
        let to = location(&r).unwrap_or_else(|_| panic!("{status}: {}", futures_text(r)));
        let rest = to.strip_prefix(&format!("{path}/")).unwrap_or_else(|| panic!("{to}"));
        assert!(rest.ends_with("?done=created"), "{to}");
        rest.trim_end_matches("?done=created").to_string()
    }

    /// Posts a form that must come back to `to`.
    async fn done(&mut self, path: &str, form: &[(&str, &str)], to: &str) {
        let r = self.submit(path, form).await;
        let status = r.status();
        match location(&r) {
            Ok(l) => assert_eq!(l, to),
            Err(_) => panic!("{path}: {status} {}", futures_text(r)),
        }
    }
}

fn futures_text(r: reqwest::Response) -> String {
    // The body of a refused form, for the failure message.
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(r.text())).unwrap_or_default()
}

async fn body(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The error shown beside field `id` (`{id}-error`).
fn error_beside(html: &str, id: &str) -> Option<String> {
    let marker = format!(r#"id="{id}-error">"#);
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('<')?].to_string())
}

/// The `<code>` value shown once under element `id`.
fn shown(html: &str, id: &str) -> String {
    let marker = format!(r#"<dd id="{id}"><code>"#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {id} in {html}")) + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_is_created_changed_and_deleted_through_the_forms() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let api = app.super_admin().await.unwrap();
    let mut c = Console::sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Partners.
    let (status, html) = c.page("/console/partners/new").await;
    assert!(
        status == 200 && html.contains(r#"name="max_tenants""#) && html.contains(r#"<label for="name">"#),
        "{html}"
    );
    let partner = c
        .created(
            "/console/partners",
            &[
                ("name", "Nørdwind <&> Co"),
                ("slug", ""),
                ("status", "active"),
                ("contact_email", "ops@nordwind.example"),
                ("max_tenants", "3"),
                ("max_users_per_tenant", ""),
                ("max_applications_per_tenant", ""),
            ],
        )
        .await;
    let p = api.get(&format!("/api/v1/admin/partners/{partner}")).await.unwrap().body;
    assert_eq!((p["name"].as_str(), p["max_tenants"].as_i64()), (Some("Nørdwind <&> Co"), Some(3)), "{p}");
    assert!(!p["slug"].as_str().unwrap().is_empty(), "the slug is derived from the name");
    let (_, html) = c.page(&format!("/console/partners/{partner}?done=created")).await;
    assert!(html.contains("Partner created.") && html.contains("Nørdwind &#60;&#38;&#62; Co"), "{html}");
    let (_, html) = c.page(&format!("/console/partners/{partner}/edit")).await;
    assert!(html.contains(r#"value="ops@nordwind.example""#) && html.contains(r#"value="3""#), "{html}");
    let slug = p["slug"].as_str().unwrap().to_string();
    c.done(
        &format!("/console/partners/{partner}"),
        &[
            ("name", "Nordwind"),
            ("slug", &slug),
            ("status", "suspended"),
            ("contact_email", ""),
            ("max_tenants", ""),
            ("max_users_per_tenant", "50"),
            ("max_applications_per_tenant", ""),
        ],
        &format!("/console/partners/{partner}?done=saved"),
    )
    .await;
    let p = api.get(&format!("/api/v1/admin/partners/{partner}")).await.unwrap().body;
    assert_eq!(p["status"], "suspended");
    // A form opened before someone else's change cannot silently undo it.
    let (_, html) = c.page(&format!("/console/partners/{partner}/edit")).await;
    let opened = field(&html, "version").unwrap();
    assert_eq!(
        api.patch(&format!("/api/v1/admin/partners/{partner}"), json!({"status": "active"})).await.unwrap().status,
        200
    );
    let stale = [
        ("csrf", c.csrf.as_str()),
        ("version", opened.as_str()),
        ("name", "Nordwind"),
        ("slug", slug.as_str()),
        ("status", "suspended"),
    ];
    let (status, html) = body(c.b.post(&format!("/console/partners/{partner}"), &stale).await.unwrap()).await;
    assert!(status == 409 && html.contains("changed by someone else"), "{status}: {html}");
    assert_eq!(api.get(&format!("/api/v1/admin/partners/{partner}")).await.unwrap().body["status"], "active", "kept");
    assert_eq!((p["contact_email"].clone(), p["max_tenants"].clone()), (Value::Null, Value::Null), "empty clears");
    assert_eq!(p["max_users_per_tenant"], 50);
    let (status, html) = body(c.submit(&format!("/console/partners/{partner}/delete"), &[]).await).await;
    assert!(status == 422 && html.contains("Tick the box beside the button"), "not confirmed: {status} {html}");
    assert_eq!(api.get(&format!("/api/v1/admin/partners/{partner}")).await.unwrap().status, 200);
    c.done(&format!("/console/partners/{partner}/delete"), &[("confirm", "yes")], "/console/partners?done=deleted")
        .await;
    assert_eq!(api.get(&format!("/api/v1/admin/partners/{partner}")).await.unwrap().status, 404);
    let (_, html) = c.page("/console/partners?done=deleted").await;
    assert!(html.contains("The partner was deleted."));

    // Tenants: a refused form keeps what was typed and says why beside the field.
    let before = api.get("/api/v1/admin/tenants").await.unwrap().body["pagination"]["total"].clone();
    let bad = [
        ("name", "Acme ✓"),
        ("slug", ""),
        ("status", "active"),
        ("contact_email", "not an e-mail"),
        ("partner_id", ""),
        ("settings", ""),
        ("branding", "{\"display_name\": "),
    ];
    let (status, html) = body(c.submit("/console/tenants", &bad).await).await;
    assert_eq!(status, 422, "{html}");
    assert!(error_beside(&html, "branding").unwrap().starts_with("Invalid JSON"), "{html}");
    assert!(html.contains(r#"value="Acme ✓""#), "what was typed is kept");
    let mut fixed = bad;
    fixed[6] = ("branding", "{\"display_name\": \"Acme Login\", \"primary_color\": \"#0A7CFF\"}");
    let (status, html) = body(c.submit("/console/tenants", &fixed).await).await;
    assert_eq!(status, 422);
    assert!(error_beside(&html, "contact_email").is_some(), "the API's own message: {html}");
    assert_eq!(api.get("/api/v1/admin/tenants").await.unwrap().body["pagination"]["total"], before, "nothing stored");
    fixed[3] = ("contact_email", "it@acme.example");
    let tenant = c.created("/console/tenants", &fixed).await;
    let t = api.get(&format!("/api/v1/admin/tenants/{tenant}")).await.unwrap().body;
    assert_eq!(t["branding"]["display_name"], "Acme Login", "{t}");
    // The login page preview: the stored branding, and the form's as typed.
    let r = c.b.get(&format!("/console/tenants/{tenant}/preview")).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    let (_, html) = body(r).await;
    assert!(html.contains("Sign in to Acme Login") && html.contains("--primary: #0a7cff"), "{html}");
    let (_, html) =
        body(c.submit("/console/tenants/preview", &[("branding", "{\"display_name\": \"Draft\"}")]).await).await;
    assert!(html.contains("Sign in to Draft"), "{html}");
    let (status, _) = body(c.submit("/console/tenants/preview", &[("branding", "{")]).await).await;
    assert_eq!(status, 422);
    let r = c.b.get(&format!("/console/tenants/{tenant}/edit")).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    let (_, html) = body(r).await;
    assert!(csp.contains("frame-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(html.contains(r#"<iframe name="preview""#) && html.contains(r#"src="/assets/console.js""#));
    c.done(
        &format!("/console/tenants/{tenant}"),
        &[
            ("name", "Acme"),
            ("slug", t["slug"].as_str().unwrap()),
            ("status", "active"),
            ("contact_email", "it@acme.example"),
            ("settings", "{\"password_policy\": {\"min_length\": 14}}"),
            ("branding", ""),
        ],
        &format!("/console/tenants/{tenant}?done=saved"),
    )
    .await;
    let t = api.get(&format!("/api/v1/admin/tenants/{tenant}")).await.unwrap().body;
    assert_eq!((t["name"].as_str(), t["branding"].clone()), (Some("Acme"), json!({})), "{t}");
    assert_eq!(t["settings"]["password_policy"]["min_length"], 14);

    // Users: the tenant's password policy beside the field, roles as tick boxes.
    let user_form = |password: &'static str| {
        vec![
            ("email", "zoe+console@acme.example"),
            ("tenant_id", ""),
            ("password", password),
            ("first_name", "Zoë"),
            ("last_name", "O'Brien"),
            ("display_name", ""),
            ("status", "active"),
            ("roles", "tenant_admin"),
            ("custom_attributes", "{\"dept\": \"R&D\"}"),
        ]
    };
    let mut form = user_form("short");
    form[1] = ("tenant_id", tenant.as_str());
    let (status, html) = body(c.submit("/console/users", &form).await).await;
    assert_eq!(status, 422, "{html}");
    assert!(error_beside(&html, "password").is_some(), "{html}");
    assert!(!html.contains("value=\"short\""), "a password is never sent back");
    let mut form = user_form("a long enough passphrase");
    form[1] = ("tenant_id", tenant.as_str());
    let user = c.created("/console/users", &form).await;
    let u = api.get(&format!("/api/v1/admin/users/{user}")).await.unwrap().body;
    assert_eq!((u["roles"].clone(), u["custom_attributes"]["dept"].clone()), (json!(["tenant_admin"]), json!("R&D")));
    assert_eq!(u["last_name"], "O'Brien");
    let (status, html) =
        body(c.submit(&format!("/console/users/{user}/reset_password"), &[("new_password", "too short")]).await).await;
    assert_eq!(status, 422);
    assert!(error_beside(&html, "reset_password-new_password").is_some(), "{html}");
    c.done(
        &format!("/console/users/{user}/reset_password"),
        &[("new_password", "another long passphrase")],
        &format!("/console/users/{user}?done=password_reset"),
    )
    .await;
    app.login("zoe+console@acme.example", "another long passphrase", Some(&tenant)).await.unwrap();
    c.done(
        &format!("/console/users/{user}"),
        &[
            ("email", "zoe@acme.example"),
            ("first_name", ""),
            ("last_name", "O'Brien"),
            ("display_name", "Zoë O."),
            ("status", "active"),
            ("custom_attributes", ""),
        ],
        &format!("/console/users/{user}?done=saved"),
    )
    .await;
    let u = api.get(&format!("/api/v1/admin/users/{user}")).await.unwrap().body;
    assert_eq!(
        (u["email"].as_str(), u["roles"].clone()),
        (Some("zoe@acme.example"), json!([])),
        "no box ticked: no roles"
    );
    assert_eq!((u["first_name"].clone(), u["custom_attributes"].clone()), (Value::Null, json!({})));
    let (_, html) = c.page(&format!("/console/users/{user}")).await;
    assert!(html.contains("Zoë O.") && html.contains("Active sessions"), "{html}");

    // Groups: nesting drawn as a tree, members added and removed, a cycle refused.
    let g1 =
        c.created("/console/groups", &[("name", "Engineering"), ("description", ""), ("tenant_id", &tenant)]).await;
    let g2 =
        c.created("/console/groups", &[("name", "Platform"), ("description", "infra"), ("tenant_id", &tenant)]).await;
    let g3 = c.created("/console/groups", &[("name", "On-call"), ("description", ""), ("tenant_id", &tenant)]).await;
    c.done(
        &format!("/console/groups/{g1}/add_child"),
        &[("child_group_id", &g2)],
        &format!("/console/groups/{g1}?done=child_added"),
    )
    .await;
    c.done(
        &format!("/console/groups/{g2}/add_child"),
        &[("child_group_id", &g3)],
        &format!("/console/groups/{g2}?done=child_added"),
    )
    .await;
    c.done(
        &format!("/console/groups/{g3}/add_member"),
        &[("user_id", &user)],
        &format!("/console/groups/{g3}?done=member_added"),
    )
    .await;
    let (status, html) =
        body(c.submit(&format!("/console/groups/{g3}/add_child"), &[("child_group_id", &g1)]).await).await;
    assert_eq!(status, 409, "a cycle: {html}");
    let (status, html) =
        body(c.submit(&format!("/console/groups/{g3}/add_member"), &[("user_id", "nope")]).await).await;
    assert_eq!(status, 422);
    assert!(error_beside(&html, "add_member-user_id").is_some(), "{html}");
    let (_, html) = c.page(&format!("/console/groups/{g1}")).await;
    let platform = html.find(&format!(r#"<a href="/console/groups/{g2}">Platform</a>"#)).expect("the child");
    let oncall = html
        .find(&format!(r#"<td class="depth-1"><a href="/console/groups/{g3}">On-call</a>"#))
        .expect("the grandchild, indented");
    assert!(platform < oncall);
    assert!(html.contains(r#"aria-label="Un-nest Platform""#), "a row's form names its row: {html}");
    let detail = api.get(&format!("/api/v1/admin/groups/{g3}")).await.unwrap().body;
    assert_eq!(detail["members"][0]["user_id"], json!(user), "{detail}");
    c.done(
        &format!("/console/groups/{g1}/remove_child"),
        &[("child_group_id", &g2), ("confirm", "yes")],
        &format!("/console/groups/{g1}?done=child_removed"),
    )
    .await;
    assert_eq!(api.get(&format!("/api/v1/admin/groups/{g1}")).await.unwrap().body["child_groups"], json!([]));
    c.done(
        &format!("/console/groups/{g1}"),
        &[("name", "Eng"), ("description", "all of it")],
        &format!("/console/groups/{g1}?done=saved"),
    )
    .await;
    assert_eq!(api.get(&format!("/api/v1/admin/groups/{g1}")).await.unwrap().body["description"], "all of it");
    c.done(&format!("/console/groups/{g1}/delete"), &[("confirm", "yes")], "/console/groups?done=deleted").await;
    assert_eq!(api.get(&format!("/api/v1/admin/groups/{g1}")).await.unwrap().status, 404);

    // Applications: the secret shown once works, rotation cuts the old one, assignments.
    let r = c
        .submit(
            "/console/applications",
            &[
                ("name", "Billing worker"),
                ("description", ""),
                ("application_type", "SERVICE"),
                ("scope", "TENANT"),
                ("partner_id", ""),
                ("tenant_id", &tenant),
                ("redirect_uris", ""),
                ("post_logout_redirect_uris", ""),
                ("allowed_origins", ""),
                ("allowed_scopes", ""),
                ("allowed_resources", ""),
                ("token_lifetime", "600"),
                ("id_token_signed_response_alg", "ES256"),
                ("status", "active"),
            ],
        )
        .await;
    let (status, html) = body(r).await;
    assert_eq!(status, 200, "{html}");
    let (client_id, secret) = (shown(&html, "client_id"), shown(&html, "client_secret"));
    let cc = [("grant_type", "client_credentials")];
    assert_eq!(app.token_request(Some((&client_id, &secret)), &cc).await.unwrap().status, 200);
    let apps = api.get(&format!("/api/v1/admin/applications?search={client_id}")).await.unwrap().body;
    let application = apps["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(apps["items"][0]["token_lifetime"], 600);
    let (status, html) = body(
        c.submit(
            &format!("/console/applications/{application}"),
            &[("name", "Billing worker"), ("token_lifetime", "ten")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error_beside(&html, "token_lifetime").as_deref(), Some("Input should be a valid integer"));
    c.done(
        &format!("/console/applications/{application}/assign"),
        &[("user_id", &user), ("group_id", "")],
        &format!("/console/applications/{application}?done=assigned"),
    )
    .await;
    let (_, html) = c.page(&format!("/console/applications/{application}")).await;
    assert!(html.contains("zoe@acme.example") && html.contains("Effective users"), "{html}");
    let r = c.submit(&format!("/console/applications/{application}/rotate_secret"), &[]).await;
    assert_ne!(r.status(), 200, "not confirmed");
    let (status, html) =
        body(c.submit(&format!("/console/applications/{application}/rotate_secret"), &[("confirm", "yes")]).await)
            .await;
    assert_eq!(status, 200, "{html}");
    let rotated = shown(&html, "client_secret");
    assert_eq!(app.token_request(Some((&client_id, &secret)), &cc).await.unwrap().status, 401, "the old secret");
    assert_eq!(app.token_request(Some((&client_id, &rotated)), &cc).await.unwrap().status, 200);
    let asg = api.get(&format!("/api/v1/admin/applications/{application}/assignments")).await.unwrap().body;
    let asg = asg["items"][0]["id"].as_str().unwrap().to_string();
    c.done(
        &format!("/console/applications/{application}/unassign"),
        &[("assignment_id", &asg), ("confirm", "yes")],
        &format!("/console/applications/{application}?done=unassigned"),
    )
    .await;
    let asg = api.get(&format!("/api/v1/admin/applications/{application}/assignments")).await.unwrap().body;
    assert_eq!(asg["pagination"]["total"], 0);
    c.done(
        &format!("/console/applications/{application}/delete"),
        &[("confirm", "yes")],
        "/console/applications?done=deleted",
    )
    .await;
    assert_eq!(app.token_request(Some((&client_id, &rotated)), &cc).await.unwrap().status, 401);

    // Identity providers: the secret kept when left empty, the callback URL to copy.
    let idp = c
        .created(
            "/console/identity-providers",
            &[
                ("name", "Acme Entra"),
                ("protocol", "OIDC"),
                ("tenant_id", &tenant),
                ("enabled", "true"),
                ("issuer", "https://login.microsoftonline.com/acme/v2.0"),
                ("client_id", "scaikey"),
                ("client_secret", "upstream-secret"),
                ("scopes", ""),
                ("entity_id", ""),
                ("sso_url", ""),
                ("certificate", ""),
                ("jit_provisioning", "true"),
                ("attribute_mapping", "{\"dept\": \"department\"}"),
            ],
        )
        .await;
    let (_, html) = c.page(&format!("/console/identity-providers/{idp}")).await;
    assert!(html.contains(&format!("{}/oauth/callback/{idp}", app.issuer)), "{html}");
    c.done(
        &format!("/console/identity-providers/{idp}"),
        &[
            ("name", "Acme Entra ID"),
            ("issuer", "https://login.microsoftonline.com/acme/v2.0"),
            ("client_id", "scaikey"),
            ("client_secret", ""),
            ("scopes", "openid\nemail"),
            ("attribute_mapping", "{\"dept\": \"department\"}"),
        ],
        &format!("/console/identity-providers/{idp}?done=saved"),
    )
    .await;
    let i = api.get(&format!("/api/v1/admin/identity-providers/{idp}")).await.unwrap().body;
    assert_eq!(
        (i["name"].as_str(), i["enabled"].as_bool(), i["client_secret_set"].as_bool()),
        (Some("Acme Entra ID"), Some(false), Some(true)),
        "{i}"
    );
    assert_eq!(i["scopes"], json!(["openid", "email"]));
    c.done(
        &format!("/console/identity-providers/{idp}/delete"),
        &[("confirm", "yes")],
        "/console/identity-providers?done=deleted",
    )
    .await;
    assert_eq!(api.get(&format!("/api/v1/admin/identity-providers/{idp}")).await.unwrap().status, 404);

    // Agents.
    let agent = c
        .created(
            "/console/agents",
            &[
                ("name", "Researcher"),
                ("tenant_id", &tenant),
                ("description", ""),
                ("allowed_tools", "web.search\r\nfs:read\r\n"),
                ("allowed_scopes", "openid"),
                ("rate_limit_rpm", "60"),
                ("status", "active"),
            ],
        )
        .await;
    let a = api.get(&format!("/api/v1/admin/agents/{agent}")).await.unwrap().body;
    assert_eq!(
        (a["allowed_tools"].clone(), a["rate_limit_rpm"].clone()),
        (json!(["web.search", "fs:read"]), json!(60))
    );
    let (status, html) = body(
        c.submit(
            &format!("/console/agents/{agent}"),
            &[("name", "Researcher"), ("allowed_tools", "rm -rf /"), ("rate_limit_rpm", ""), ("status", "active")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(error_beside(&html, "allowed_tools").is_some(), "{html}");
    c.done(
        &format!("/console/agents/{agent}"),
        &[
            ("name", "Researcher"),
            ("description", "reads"),
            ("allowed_tools", "web.search"),
            ("allowed_scopes", "openid"),
            ("rate_limit_rpm", ""),
            ("status", "suspended"),
        ],
        &format!("/console/agents/{agent}?done=saved"),
    )
    .await;
    let a = api.get(&format!("/api/v1/admin/agents/{agent}")).await.unwrap().body;
    assert_eq!((a["status"].as_str(), a["rate_limit_rpm"].clone()), (Some("suspended"), Value::Null));
    c.done(&format!("/console/agents/{agent}/delete"), &[("confirm", "yes")], "/console/agents?done=deleted").await;
    assert_eq!(api.get(&format!("/api/v1/admin/agents/{agent}")).await.unwrap().status, 404);

    // The audit log links each event to its detail.
    let (_, html) = c.page("/console/audit?action=tenant.create").await;
    let marker = r#"<a href="/console/audit/"#;
    let start = html.find(marker).unwrap_or_else(|| panic!("{html}")) + marker.len();
    let event = &html[start..start + html[start..].find('"').unwrap()];
    let (status, html) = c.page(&format!("/console/audit/{event}")).await;
    assert!(status == 200 && html.contains("tenant.create") && html.contains("Details"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_admin_is_refused_what_their_reach_does_not_allow_and_forms_need_their_csrf_token() {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let api = app.super_admin().await.unwrap();
    let acme = api.post("/api/v1/admin/tenants", json!({"name": "Acme"})).await.unwrap().id();
    let globex = api.post("/api/v1/admin/tenants", json!({"name": "Globex"})).await.unwrap().id();
    let outsider = api
        .post(
            "/api/v1/admin/users",
            json!({"email": "hank@globex.example", "password": "Globex-Passw0rd!", "tenant_id": globex}),
        )
        .await
        .unwrap()
        .id();
    let r = api
        .post("/api/v1/admin/users", json!({"email": "ta@acme.example", "password": "Tenant-Admin-Pw1", "roles": ["tenant_admin"], "tenant_id": acme}))
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let mut c = Console::sign_in(&app, "ta@acme.example", "Tenant-Admin-Pw1").await;
    let partners = api.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"].clone();
    let (status, _) = body(c.submit("/console/partners", &[("name", "Mine now"), ("status", "active")]).await).await;
    assert_eq!(status, 403);
    assert_eq!(
        api.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"],
        partners,
        "nothing created"
    );
    let (status, _) = c.page(&format!("/console/tenants/{globex}")).await;
    assert_eq!(status, 404, "another tenant is not within reach");
    let (status, _) = body(c.submit(&format!("/console/users/{outsider}/delete"), &[("confirm", "yes")]).await).await;
    assert_eq!(status, 404);
    assert_eq!(api.get(&format!("/api/v1/admin/users/{outsider}")).await.unwrap().status, 200, "still there");
    // Giving a role above their own is refused; without a tenant the user goes to theirs.
    let form = [
        ("email", "new@acme.example"),
        ("tenant_id", ""),
        ("password", "A-long-Passw0rd!"),
        ("status", "active"),
        ("roles", "super_admin"),
    ];
    let (status, html) = body(c.submit("/console/users", &form).await).await;
    assert!(status == 403 && html.contains("Outside your reach"), "{status}: {html}");
    assert!(html.contains(r#"value="new@acme.example""#), "the form is shown again as typed");
    assert_eq!(api.get("/api/v1/admin/users?search=new%40acme").await.unwrap().body["pagination"]["total"], 0);
    let mut form = form;
    form[4] = ("roles", "tenant_admin");
    let user = c.created("/console/users", &form).await;
    assert_eq!(api.get(&format!("/api/v1/admin/users/{user}")).await.unwrap().body["tenant_id"], json!(acme));

    // CSRF: without the token, with another browser's, nothing happens.
    let before = api.get("/api/v1/admin/groups").await.unwrap().body["pagination"]["total"].clone();
    let r = c.b.post("/console/groups", &[("name", "No token")]).await.unwrap();
    assert_eq!(r.status(), 403);
    let other = Console::sign_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = c.b.post("/console/groups", &[("csrf", other.csrf.as_str()), ("name", "Foreign token")]).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c.b.post(&format!("/console/users/{user}/delete"), &[("confirm", "yes")]).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(api.get("/api/v1/admin/groups").await.unwrap().body["pagination"]["total"], before);
    assert_eq!(api.get(&format!("/api/v1/admin/users/{user}")).await.unwrap().status, 200);
}
