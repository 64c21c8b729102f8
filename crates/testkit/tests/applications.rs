//! Applications, the token endpoint and platform tokens, end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, Resp, TestApp};
use serde_json::{Value, json};

async fn token_request(app: &TestApp, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
    app.token_request(basic, form).await.unwrap()
}

async fn service_app(admin: &ApiClient, scopes: &[&str]) -> (String, String, String) {
    let r = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Platform sync", "application_type": "SERVICE", "scope": "GLOBAL", "allowed_scopes": scopes, "token_lifetime": 600}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    (r.id(), r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string())
}

fn claims(token: &str) -> Value {
    scaikey_testkit::jwt_parts(token).unwrap().1
}

#[tokio::test]
async fn a_platform_token_drives_the_admin_api_and_rotation_stops_the_old_secret() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (id, client_id, secret) = service_app(&admin, &["admin:read", "admin:write"]).await;
    assert_eq!(client_id.len(), 29);
    assert_eq!(secret.len(), 43);
    // The secret is never shown again.
    let g = admin.get(&format!("/api/v1/admin/applications/{id}")).await.unwrap();
    assert!(g.body.get("client_secret").is_none());
    assert_eq!(g.body["grant_types"], json!(["client_credentials"]));

    // HTTP Basic and form authentication both work.
    let t = token_request(&app, Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!((t.body["token_type"].as_str(), t.body["expires_in"].as_i64()), (Some("Bearer"), Some(600)));
    assert_eq!(t.body["scope"], "admin:read admin:write");
    assert_eq!(t.headers.get("cache-control").unwrap(), "no-store");
    let c = claims(t.body["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].as_str(), c["client_id"].as_str(), c["scope_level"].as_str()),
        (Some(client_id.as_str()), Some(client_id.as_str()), Some("GLOBAL"))
    );
    assert_eq!(c["app_id"], id.as_str());
    let form = token_request(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("scope", "admin:read"),
        ],
    )
    .await;
    assert_eq!((form.status, form.body["scope"].as_str()), (200, Some("admin:read")));

    // The platform token acts with super-admin reach, per scope.
    let rw = app.with_token(t.body["access_token"].as_str().unwrap());
    assert_eq!(rw.post("/api/v1/admin/partners", json!({"name": "Via token"})).await.unwrap().status, 201);
    assert_eq!(rw.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"], 1);
    let ro = app.with_token(form.body["access_token"].as_str().unwrap());
    assert_eq!(ro.get("/api/v1/admin/tenants").await.unwrap().status, 200);
    let denied = ro.post("/api/v1/admin/partners", json!({"name": "Nope"})).await.unwrap();
    assert_eq!((denied.status, denied.detail()), (403, "Platform token requires admin:read or admin:write scope"));

    // Rotation: the old secret is refused at once, the new one works.
    let r = admin.post(&format!("/api/v1/admin/applications/{id}/rotate-secret"), json!({})).await.unwrap();
    assert_eq!(r.status, 200);
    let new_secret = r.body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(r.body["client_id"], client_id.as_str());
    assert_ne!(new_secret, secret);
    let old = token_request(&app, Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!((old.status, old.body["error"].as_str()), (401, Some("invalid_client")));
    assert!(old.headers.get("www-authenticate").is_some());
    assert_eq!(
        token_request(&app, Some((&client_id, &new_secret)), &[("grant_type", "client_credentials")]).await.status,
        200
    );

    // Deleting the application refuses its tokens at once.
    assert_eq!(admin.delete(&format!("/api/v1/admin/applications/{id}")).await.unwrap().status, 204);
    assert_eq!(rw.get("/api/v1/admin/partners").await.unwrap().status, 401);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (_, id, secret) = service_app(&admin, &["openid"]).await;
    type Case<'a> = (Option<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (Some((&id, &secret)), vec![("grant_type", "password")], 400, "unsupported_grant_type"),
        (Some((&id, &secret)), vec![], 400, "invalid_request"),
        (
            Some((&id, &secret)),
            vec![("grant_type", "client_credentials"), ("scope", "openid admin:read")],
            400,
            "invalid_scope",
        ),
        (Some((&id, "wrong")), vec![("grant_type", "client_credentials")], 401, "invalid_client"),
        (Some(("ck_nobody", "x")), vec![("grant_type", "client_credentials")], 401, "invalid_client"),
        (None, vec![("grant_type", "client_credentials")], 401, "invalid_client"),
        (
            Some((&id, &secret)),
            vec![("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)],
            400,
            "invalid_request",
        ),
    ];
    for (basic, form, status, error) in cases {
        let r = token_request(&app, basic, &form).await;
        assert_eq!((r.status, r.body["error"].as_str()), (status, Some(error)), "{form:?}: {}", r.body);
        assert!(r.body["error_description"].is_string());
    }
    // Not a form.
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", app.base_url))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A public client has no secret and gets no token.
    let spa = admin
        .post("/api/v1/admin/applications", json!({"name": "SPA", "application_type": "SPA", "scope": "GLOBAL", "redirect_uris": ["https://spa.example/cb"]}))
        .await
        .unwrap();
    assert_eq!((spa.status, &spa.body["client_secret"], &spa.body["public_client"]), (201, &json!(null), &json!(true)));
    let r = token_request(
        &app,
        Some((spa.body["client_id"].as_str().unwrap(), "")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        admin.post(&format!("/api/v1/admin/applications/{}/rotate-secret", spa.id()), json!({})).await.unwrap().status,
        409
    );
}

#[tokio::test]
async fn validation_by_type_and_scope() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "T"})).await.unwrap().id();
    let base = |extra: Value| {
        let mut b = json!({"name": "App", "application_type": "WEB", "scope": "TENANT", "tenant_id": t, "redirect_uris": ["https://app.example/cb"]});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    for (extra, loc) in [
        (json!({"redirect_uris": ["http://app.example/cb"]}), "body.redirect_uris.0"),
        (json!({"redirect_uris": ["https://app.example/cb#x"]}), "body.redirect_uris.0"),
        (json!({"redirect_uris": ["not a url"]}), "body.redirect_uris.0"),
        (json!({"allowed_origins": ["https://app.example/path"]}), "body.allowed_origins.0"),
        (json!({"allowed_scopes": ["tele pathy"]}), "body.allowed_scopes.0"),
        (json!({"allowed_scopes": ["admin:read"]}), "body.allowed_scopes"),
        (json!({"grant_types": ["password"]}), "body.grant_types.0"),
        (
            json!({"application_type": "SERVICE", "redirect_uris": [], "grant_types": ["authorization_code"]}),
            "body.grant_types",
        ),
        (json!({"application_type": "SPA", "grant_types": ["client_credentials"]}), "body.grant_types"),
        (json!({"application_type": "ROBOT"}), "body.application_type"),
        (json!({"scope": "TENANT", "tenant_id": null}), "body.tenant_id"),
        (json!({"scope": "PARTNER"}), "body.partner_id"),
        (json!({"token_lifetime": 5}), "body.token_lifetime"),
        (json!({"redirect_uris": []}), "body.redirect_uris"),
    ] {
        let r = admin.post("/api/v1/admin/applications", base(extra.clone())).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{extra}: {}", r.body);
    }
    let ok = admin
        .post("/api/v1/admin/applications", base(json!({"redirect_uris": ["http://localhost:3000/cb"]})))
        .await
        .unwrap();
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert!(ok.body["client_secret"].is_string(), "WEB apps are confidential");
    // PATCH re-validates the whole; type and scope never change.
    let id = ok.id();
    let r = admin
        .patch(
            &format!("/api/v1/admin/applications/{id}"),
            json!({"grant_types": ["client_credentials", "refresh_token"]}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = admin.patch(&format!("/api/v1/admin/applications/{id}"), json!({"scope": "GLOBAL"})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.scope"));
    let r =
        admin.patch(&format!("/api/v1/admin/applications/{id}"), json!({"redirect_uris": ["ftp://x"]})).await.unwrap();
    assert_eq!(r.status, 422);
    let r = admin
        .patch(&format!("/api/v1/admin/applications/{id}"), json!({"token_lifetime": 120, "description": "Billing"}))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body["token_lifetime"].as_i64(), r.body["description"].as_str()),
        (200, Some(120), Some("Billing"))
    );
}

#[tokio::test]
async fn visibility_scope_rules_and_limits() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p1 = admin
        .post("/api/v1/admin/partners", json!({"name": "P1", "max_applications_per_tenant": 1}))
        .await
        .unwrap()
        .id();
    let p2 = admin.post("/api/v1/admin/partners", json!({"name": "P2"})).await.unwrap().id();
    let t1 = admin.post("/api/v1/admin/tenants", json!({"name": "T1", "partner_id": p1})).await.unwrap().id();
    let t2 = admin.post("/api/v1/admin/tenants", json!({"name": "T2", "partner_id": p1})).await.unwrap().id();
    let t3 = admin.post("/api/v1/admin/tenants", json!({"name": "T3", "partner_id": p2})).await.unwrap().id();
    let svc = |scope: &str, extra: Value| {
        let mut b = json!({"name": format!("{scope} app"), "application_type": "SERVICE", "scope": scope});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    let global = admin.post("/api/v1/admin/applications", svc("GLOBAL", json!({}))).await.unwrap().id();
    let part1 = admin.post("/api/v1/admin/applications", svc("PARTNER", json!({"partner_id": p1}))).await.unwrap().id();
    let part2 = admin.post("/api/v1/admin/applications", svc("PARTNER", json!({"partner_id": p2}))).await.unwrap().id();
    let ten2 = admin.post("/api/v1/admin/applications", svc("TENANT", json!({"tenant_id": t2}))).await.unwrap().id();
    let ten3 = admin.post("/api/v1/admin/applications", svc("TENANT", json!({"tenant_id": t3}))).await.unwrap().id();
    let pa = app.user_with_roles("pa@x.test", &["partner_admin"], Some(&t1)).await.unwrap();
    let ta = app.user_with_roles("ta@x.test", &["tenant_admin"], Some(&t1)).await.unwrap();

    let ids = |r: &Resp| {
        let mut v: Vec<String> =
            r.body["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let sorted = |v: &[&String]| {
        let mut v: Vec<String> = v.iter().map(|s| (*s).clone()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&pa.get("/api/v1/admin/applications").await.unwrap()), sorted(&[&global, &part1, &ten2]));
    assert_eq!(ids(&ta.get("/api/v1/admin/applications").await.unwrap()), sorted(&[&global, &part1]));
    assert_eq!(
        ids(&admin.get(&format!("/api/v1/admin/applications?partner_id={p1}")).await.unwrap()),
        sorted(&[&part1, &ten2])
    );
    assert_eq!(ids(&admin.get("/api/v1/admin/applications?scope=GLOBAL").await.unwrap()), sorted(&[&global]));
    assert_eq!(ta.get(&format!("/api/v1/admin/applications/{part2}")).await.unwrap().status, 404);
    assert_eq!(ta.get(&format!("/api/v1/admin/applications/{ten3}")).await.unwrap().status, 404);

    // Writes: a tenant admin may not change GLOBAL or PARTNER apps it can see.
    let r = ta.patch(&format!("/api/v1/admin/applications/{global}"), json!({"name": "mine"})).await.unwrap();
    assert_eq!((r.status, r.detail()), (403, "Access denied"));
    assert_eq!(
        ta.patch(&format!("/api/v1/admin/applications/{part1}"), json!({"name": "mine"})).await.unwrap().status,
        403
    );
    assert_eq!(
        pa.patch(&format!("/api/v1/admin/applications/{part1}"), json!({"name": "P1 app v2"})).await.unwrap().status,
        200
    );
    assert_eq!(
        pa.patch(&format!("/api/v1/admin/applications/{global}"), json!({"name": "x"})).await.unwrap().status,
        403
    );
    // Creates: tenant admins make TENANT apps of their tenant (by default); never GLOBAL.
    let r =
        ta.post("/api/v1/admin/applications", json!({"name": "Mine", "application_type": "SERVICE"})).await.unwrap();
    assert_eq!(
        (r.status, r.body["scope"].as_str(), r.body["tenant_id"].as_str()),
        (201, Some("TENANT"), Some(t1.as_str())),
        "{}",
        r.body
    );
    assert_eq!(ta.post("/api/v1/admin/applications", svc("GLOBAL", json!({}))).await.unwrap().status, 403);
    assert_eq!(
        ta.post("/api/v1/admin/applications", svc("TENANT", json!({"tenant_id": t2}))).await.unwrap().status,
        403
    );
    assert_eq!(
        pa.post("/api/v1/admin/applications", svc("PARTNER", json!({"partner_id": p2}))).await.unwrap().status,
        403
    );
    // max_applications_per_tenant = 1: T1 now has one.
    let r = pa.post("/api/v1/admin/applications", svc("TENANT", json!({"tenant_id": t1}))).await.unwrap();
    assert_eq!(r.status, 409);
    assert!(r.detail().contains("max_applications_per_tenant"));
}

/// `client_credentials` with HTTP Basic against the server at `base`; returns the status.
async fn token_status(base: &str, client_id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .basic_auth(client_id, Some(secret))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Moves the application's `updated_at` an hour back, so that client caches' polls (which look
/// 10 s back) stop re-reading it and only a new change can make them drop it.
async fn backdate(app: &TestApp, client_id: &str) {
    use diesel_async::RunQueryDsl;
    let mut c = app.db.connect().await.unwrap();
    let n = diesel::sql_query("UPDATE applications SET updated_at = now() - interval '1 hour' WHERE client_id = $1")
        .bind::<diesel::sql_types::Text, _>(client_id)
        .execute(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// Polls until `base` answers `want` for the credentials, failing after 10 s (the documented
/// window is one poll, 1 s, plus query time).
async fn eventually(base: &str, client_id: &str, secret: &str, want: u16) {
    let start = std::time::Instant::now();
    while token_status(base, client_id, secret).await != want {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "still not {want} after {:?}", start.elapsed());
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn cached_clients_follow_rotation_and_suspension_made_by_another_process() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let created = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Cached", "application_type": "SERVICE", "scope": "GLOBAL", "allowed_scopes": ["admin:read"]}),
        )
        .await
        .unwrap();
    let (id, client_id) = (created.id(), created.body["client_id"].as_str().unwrap().to_string());
    let old = created.body["client_secret"].as_str().unwrap().to_string();
    backdate(&app, &client_id).await;

    let other = app.second_process().await.unwrap();
    let b = other.base_url.clone();
    // Both processes now hold the client with its first secret.
    assert_eq!(token_status(&app.base_url, &client_id, &old).await, 200);
    assert_eq!(token_status(&b, &client_id, &old).await, 200);

    let rotated = admin.post(&format!("/api/v1/admin/applications/{id}/rotate-secret"), json!({})).await.unwrap();
    let new = rotated.body["client_secret"].as_str().unwrap().to_string();
    // The rotating process drops its entry at once; the other follows within the poll window.
    assert_eq!(token_status(&app.base_url, &client_id, &old).await, 401);
    eventually(&b, &client_id, &old, 401).await;
    assert_eq!(token_status(&b, &client_id, &new).await, 200);

    let r = admin.patch(&format!("/api/v1/admin/applications/{id}"), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(token_status(&app.base_url, &client_id, &new).await, 401);
    eventually(&b, &client_id, &new, 401).await;
}

#[actix_web::test]
async fn a_cached_tenant_client_follows_its_tenant_to_another_partner() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p1 = admin.post("/api/v1/admin/partners", json!({"name": "P1"})).await.unwrap().id();
    let p2 = admin.post("/api/v1/admin/partners", json!({"name": "P2"})).await.unwrap().id();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Moving", "partner_id": p1})).await.unwrap().id();
    let created = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Svc", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": t}),
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let (id, secret) = (
        created.body["client_id"].as_str().unwrap().to_string(),
        created.body["client_secret"].as_str().unwrap().to_string(),
    );
    backdate(&app, &id).await;
    let partner_claim = || async {
        let r = token_request(&app, Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        claims(r.body["access_token"].as_str().unwrap())["partner_id"].clone()
    };
    assert_eq!(partner_claim().await, json!(p1));
    let moved = admin.patch(&format!("/api/v1/admin/tenants/{t}"), json!({"partner_id": p2})).await.unwrap();
    assert_eq!(moved.status, 200, "{}", moved.body);
    let start = std::time::Instant::now();
    while partner_claim().await != json!(p2) {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "tokens still name the old partner");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_in_settings_default_round_trip_and_are_validated() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Sign-in"})).await.unwrap().id();
    let web = json!({"name": "portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": t,
                     "redirect_uris": ["https://portal.example/cb"]});
    let plain = admin.post("/api/v1/admin/applications", web.clone()).await.unwrap();
    assert_eq!(plain.status, 201, "{}", plain.body);
    let defaults =
        (&plain.body["assignment_required"], &plain.body["first_party"], &plain.body["id_token_signed_response_alg"]);
    assert_eq!(defaults, (&json!(false), &json!(true), &json!("ES256")));
    let mut custom = web.clone();
    custom["assignment_required"] = json!(true);
    custom["first_party"] = json!(false);
    custom["id_token_signed_response_alg"] = json!("RS256");
    let made = admin.post("/api/v1/admin/applications", custom).await.unwrap();
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.id();
    let got = admin.get(&format!("/api/v1/admin/applications/{id}")).await.unwrap();
    assert_eq!(
        (&got.body["assignment_required"], &got.body["first_party"], &got.body["id_token_signed_response_alg"]),
        (&json!(true), &json!(false), &json!("RS256"))
    );
    let p = admin
        .patch(
            &format!("/api/v1/admin/applications/{id}"),
            json!({"id_token_signed_response_alg": "ES256", "assignment_required": false}),
        )
        .await
        .unwrap();
    assert_eq!(
        (p.status, &p.body["id_token_signed_response_alg"], &p.body["assignment_required"]),
        (200, &json!("ES256"), &json!(false))
    );
    for bad in [json!({"id_token_signed_response_alg": "HS256"}), json!({"id_token_signed_response_alg": "none"})] {
        let r = admin.patch(&format!("/api/v1/admin/applications/{id}"), bad.clone()).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, "body.id_token_signed_response_alg".to_string()), "{bad}");
    }
    let r = admin.patch(&format!("/api/v1/admin/applications/{id}"), json!({"first_party": "yes"})).await.unwrap();
    assert_eq!((r.status, r.first_loc()), (422, "body.first_party".to_string()));
}
