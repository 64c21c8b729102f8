//! The audit log and dashboard end to end: a scripted admin session leaves one event per action
//! with the right actor, resource and result, and no password, secret or token anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use scaikey_testkit::{ADMIN_PASSWORD, ApiClient, TestApp, USER_PASSWORD};
use serde_json::{Value, json};

/// Waits until `GET /audit?{query}` holds `n` events (refused writes and auth events are
/// written by a batching task, a few milliseconds behind the request).
async fn events(c: &ApiClient, query: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let r = c.get(&format!("/api/v1/admin/audit?{query}")).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let items = r.body["items"].as_array().unwrap().clone();
        if items.len() >= n || start.elapsed() > Duration::from_secs(5) {
            assert_eq!(items.len(), n, "{query}: {items:#?}");
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_scripted_session_is_fully_audited_and_leaks_no_secret() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let admin_id = admin.get("/api/v1/admin/users?role=super_admin").await.unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Audited"})).await.unwrap().id();
    assert_eq!(
        admin.patch(&format!("/api/v1/admin/tenants/{t}"), json!({"name": "Audited Inc"})).await.unwrap().status,
        200
    );
    let ta = app.user_with_roles("ta@audit.test", &["tenant_admin"], Some(&t)).await.unwrap();
    let ta_id = admin.get("/api/v1/admin/users?search=ta@audit.test").await.unwrap().body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A denied write.
    assert_eq!(ta.patch(&format!("/api/v1/admin/tenants/{t}"), json!({"name": "Mine"})).await.unwrap().status, 403);
    // A failed login.
    let wrong = "Wrong-Passw0rd-xyz";
    let r =
        app.anonymous().post("/api/v1/auth/login", json!({"email": "ta@audit.test", "password": wrong})).await.unwrap();
    assert_eq!(r.status, 401);
    // An application, a rotation, tokens issued and refused.
    let created = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Bot", "application_type": "SERVICE", "scope": "GLOBAL", "allowed_scopes": ["admin:read"]}),
        )
        .await
        .unwrap();
    let (app_id, client_id, old_secret) = (
        created.id(),
        created.body["client_id"].as_str().unwrap().to_string(),
        created.body["client_secret"].as_str().unwrap().to_string(),
    );
    let rotated = admin.post(&format!("/api/v1/admin/applications/{app_id}/rotate-secret"), json!({})).await.unwrap();
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_string();
    let token = |secret: String| {
        let (base, id) = (app.base_url.clone(), client_id.clone());
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/oauth/token"))
                .basic_auth(id, Some(secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(token(old_secret.clone()).await.0, 401);
    let (status, issued) = token(new_secret.clone()).await;
    assert_eq!(status, 200);
    let access_token = issued["access_token"].as_str().unwrap().to_string();

    // One event per action, with the right actor, resource and result.
    let e = events(&admin, "action=tenant.create", 1).await;
    assert_eq!(
        (e[0]["actor_id"].as_str(), e[0]["resource_id"].as_str(), e[0]["result"].as_str()),
        (Some(admin_id.as_str()), Some(t.as_str()), Some("success"))
    );
    let e = events(&admin, "action=tenant.update", 2).await;
    assert_eq!(
        (e[0]["actor_id"].as_str(), e[0]["result"].as_str(), e[0]["resource_id"].as_str()),
        (Some(ta_id.as_str()), Some("denied"), Some(t.as_str()))
    );
    assert_eq!((e[1]["actor_id"].as_str(), e[1]["result"].as_str()), (Some(admin_id.as_str()), Some("success")));
    let e = events(&admin, "action=auth.login&result=failure", 1).await;
    assert_eq!(
        (e[0]["actor_type"].as_str(), e[0]["details"]["email"].as_str()),
        (Some("anonymous"), Some("ta@audit.test"))
    );
    // The admin twice (once more inside user_with_roles) and the tenant admin.
    assert_eq!(events(&admin, "action=auth.login&result=success", 3).await.len(), 3);
    let e = events(&admin, "action=application.rotate_secret", 1).await;
    assert_eq!((e[0]["resource_id"].as_str(), e[0]["result"].as_str()), (Some(app_id.as_str()), Some("success")));
    let e = events(&admin, "action=auth.token", 2).await;
    assert_eq!((e[0]["result"].as_str(), e[0]["actor_id"].as_str()), (Some("success"), Some(app_id.as_str())));
    assert_eq!(e[1]["result"], "failure");
    assert_eq!(events(&admin, &format!("resource_id={app_id}"), 3).await.len(), 3, "create, rotate, token");
    let by_ta = events(&admin, &format!("actor_id={ta_id}"), 2).await;
    let mut actions: Vec<&str> = by_ta.iter().map(|e| e["action"].as_str().unwrap()).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["auth.login", "tenant.update"], "its login and its denied write");
    let one = admin.get(&format!("/api/v1/admin/audit/{}", e[0]["id"].as_str().unwrap())).await.unwrap();
    assert_eq!((one.status, &one.body["action"]), (200, &json!("auth.token")));

    // Nothing secret anywhere in the audit table.
    let mut conn = app.db.connect().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Hits {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    for needle in [
        ADMIN_PASSWORD,
        USER_PASSWORD,
        wrong,
        &old_secret,
        &new_secret,
        &access_token,
        admin.token().unwrap(),
        ta.token().unwrap(),
    ] {
        let hits: Hits =
            diesel::sql_query("SELECT count(*) AS n FROM audit_events a WHERE strpos(row_to_json(a)::text, $1) > 0")
                .bind::<diesel::sql_types::Text, _>(needle)
                .get_result(&mut conn)
                .await
                .unwrap();
        assert_eq!(hits.n, 0, "a secret leaked into the audit log");
    }

    // A tenant admin sees its tenant's events only; filters and bounds are validated.
    let mine = ta.get("/api/v1/admin/audit?per_page=100").await.unwrap();
    assert!(mine.body["items"].as_array().unwrap().iter().all(|e| e["tenant_id"] == t.as_str()), "{}", mine.body);
    assert!(mine.body["pagination"]["total"].as_i64().unwrap() >= 2);
    for q in ["result=maybe", "since=yesterday", "per_page=1000", "tenant_id=nope"] {
        assert_eq!(admin.get(&format!("/api/v1/admin/audit?{q}")).await.unwrap().status, 422, "{q}");
    }
    assert_eq!(
        admin.get("/api/v1/admin/audit?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z").await.unwrap().body["pagination"]
            ["total"],
        0
    );
}

#[tokio::test]
async fn dashboard_counts_within_reach() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let p = admin.post("/api/v1/admin/partners", json!({"name": "P"})).await.unwrap().id();
    let t1 = admin.post("/api/v1/admin/tenants", json!({"name": "T1", "partner_id": p})).await.unwrap().id();
    admin.post("/api/v1/admin/tenants", json!({"name": "T2"})).await.unwrap();
    let ta = app.user_with_roles("ta@dash.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    admin.post("/api/v1/admin/registration-requests", json!({"scope": "TENANT", "tenant_id": t1, "name": "R", "application_type": "SERVICE", "contact_email": "a@b.example"})).await.unwrap();

    let s = admin.get("/api/v1/admin/dashboard/stats").await.unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(
        (
            s.body["partners"].as_i64(),
            s.body["tenants"].as_i64(),
            s.body["users"].as_i64(),
            s.body["pending_registration_requests"].as_i64()
        ),
        (Some(1), Some(2), Some(2), Some(1))
    );
    assert_eq!(s.body["active_sessions"], 3, "two admin logins (one inside user_with_roles) and the tenant admin's");
    assert_eq!(s.body["estimated"], false);
    let mine = ta.get("/api/v1/admin/dashboard/stats").await.unwrap();
    assert_eq!(
        (
            mine.body["partners"].as_i64(),
            mine.body["tenants"].as_i64(),
            mine.body["users"].as_i64(),
            mine.body["active_sessions"].as_i64()
        ),
        (Some(0), Some(1), Some(1), Some(1))
    );
    let a = admin.get("/api/v1/admin/dashboard/activity").await.unwrap();
    let items = a.body["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 20);
    let mine = ta.get("/api/v1/admin/dashboard/activity").await.unwrap();
    assert!(mine.body["items"].as_array().unwrap().iter().all(|e| e["tenant_id"] == t1.as_str()));
}

#[tokio::test]
async fn floods_of_unauthenticated_refusals_are_counted_not_written_row_by_row() {
    let app = TestApp::spawn_with(&[("SCAIKEY_AUDIT_AGGREGATE_SECONDS", "1")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let http = reqwest::Client::new();
    let flood = |path: &'static str, n: usize| {
        let http = http.clone();
        let base = app.base_url.clone();
        async move {
            let mut tasks = Vec::new();
            for i in 0..n {
                let (http, base) = (http.clone(), base.clone());
                tasks.push(tokio::spawn(async move {
                    let r = if path == "/oauth/token" {
                        http.post(format!("{base}{path}"))
                            .basic_auth(format!("ck_nobody{i}"), Some("wrong"))
                            .form(&[("grant_type", "client_credentials")])
                            .send()
                            .await
                    } else {
                        http.get(format!("{base}{path}")).bearer_auth(format!("garbage.{i}.token")).send().await
                    };
                    r.unwrap().status().as_u16()
                }));
            }
            for t in tasks {
                assert!(matches!(t.await.unwrap(), 400 | 401));
            }
        }
    };
    // In waves below the per-IP in-flight cap (256), which would answer 429 instead.
    let started = std::time::Instant::now();
    for _ in 0..10 {
        flood("/api/v1/admin/tenants", 150).await;
    }
    // A genuine event in the middle of the flood is written as always.
    assert_eq!(admin.post("/api/v1/admin/tenants", json!({"name": "Flooded"})).await.unwrap().status, 201);
    let refusals_took = started.elapsed();
    let tokens_started = std::time::Instant::now();
    for _ in 0..5 {
        flood("/oauth/token", 100).await;
    }
    let tokens_took = tokens_started.elapsed();
    // Each one-second window a flood touches writes at most two rows (its first refusal at once,
    // the count of the rest when it closes); a flood spanning d seconds touches ceil(d) + 1.
    let most_rows = |d: std::time::Duration| 2 * (d.as_secs() as i64 + 2);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let refused = admin.get("/api/v1/admin/audit?action=auth.token_refused&per_page=100").await.unwrap();
        let tokens = admin.get("/api/v1/admin/audit?action=auth.token&result=failure&per_page=100").await.unwrap();
        let sum = |r: &scaikey_testkit::Resp| {
            r.body["items"].as_array().unwrap().iter().map(|e| e["details"]["count"].as_u64().unwrap_or(1)).sum::<u64>()
        };
        if sum(&refused) == 1500 && sum(&tokens) == 500 {
            let rows = |r: &scaikey_testkit::Resp| r.body["pagination"]["total"].as_i64().unwrap();
            assert!(rows(&refused) <= most_rows(refusals_took), "{refusals_took:?}: {}", refused.body);
            assert!(rows(&tokens) <= most_rows(tokens_took), "{tokens_took:?}: {}", tokens.body);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "refused {} / 1500, tokens {} / 500",
            sum(&refused),
            sum(&tokens)
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let created = admin.get("/api/v1/admin/audit?action=tenant.create").await.unwrap();
    assert_eq!(created.body["pagination"]["total"], 1);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_audited_events_and_are_guarded() {
    let app = TestApp::spawn_with(&[("SCAIKEY_METRICS_TOKEN", "scrape-secret-0123456789")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    for _ in 0..3 {
        assert_eq!(admin.get("/api/v1/admin/tenants").await.unwrap().status, 200);
    }
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Metered"})).await.unwrap().id();
    assert_eq!(admin.get(&format!("/api/v1/admin/tenants/{t}")).await.unwrap().status, 200);
    let _ = app.login("admin@scaikey.test", "wrong", None).await;
    let garbage =
        reqwest::Client::new().get(format!("{}/api/v1/admin/tenants", app.base_url)).bearer_auth("x.y.z").send().await;
    assert_eq!(garbage.unwrap().status(), 401);
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", app.base_url);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401, "the token is required when configured");
    assert_eq!(http.get(&url).bearer_auth("wrong").send().await.unwrap().status(), 401);
    let r = http.get(&url).bearer_auth("scrape-secret-0123456789").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    for needle in [
        r#"scaikey_http_requests_total{method="GET",route="/api/v1/admin/tenants",status="200"} 3"#,
        r#"route="/api/v1/admin/tenants/{id}",status="200"} 1"#,
        r#"scaikey_audit_events_total{action="auth.login",result="failure"} 1"#,
        // The admin's own sign-in, written with its session rather than queued.
        r#"scaikey_audit_events_total{action="auth.login",result="success"} 1"#,
        r#"scaikey_audit_events_total{action="auth.token_refused",result="denied"} 1"#,
        "scaikey_http_request_duration_seconds_bucket",
        "scaikey_db_pool_connections_max 4",
        "scaikey_audit_queue_depth",
        "scaikey_audit_dropped_since_start 0",
        "scaikey_revoked_sessions",
        "# EOF",
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    assert!(!text.contains(&t), "paths never become labels: route patterns only");
}
