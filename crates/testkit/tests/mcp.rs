//! ScaiKey's MCP server end to end (contract §12) with the official Python MCP SDK: an agent's
//! credentials and token, the initialize handshake, `tools/list` showing only the agent's
//! tools, calls within its tenant and scopes (others' users not found, writes refused without
//! `admin:write`), a tool it lacks as a JSON-RPC error, the rate limit (shared by a second
//! process), every call audited, and a suspension taking effect at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{TestApp, jwt_parts, tools};
use serde_json::{Value, json};

const PASSWORD: &str = "Agent-World-Passw0rd";

async fn tenant(admin: &scaikey_testkit::ApiClient, name: &str, slug: &str) -> String {
    let t = admin.post("/api/v1/admin/tenants", json!({"name": name, "slug": slug})).await.unwrap();
    assert_eq!(t.status, 201, "{}", t.body);
    t.id()
}

async fn user(admin: &scaikey_testkit::ApiClient, tenant: &str, email: &str) -> String {
    let u = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": email, "password": PASSWORD, "tenant_id": tenant, "display_name": "Zoë \"Z\" <b>"}),
        )
        .await
        .unwrap();
    assert_eq!(u.status, 201, "{}", u.body);
    u.id()
}

/// One raw JSON-RPC request to `/mcp` of `base`.
async fn rpc(base: &str, token: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn an_agent_uses_its_tools_within_its_tenant_through_the_official_sdk() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let acme = tenant(&admin, "Acme", "acme").await;
    let other = tenant(&admin, "Other", "other").await;
    let ana = user(&admin, &acme, "ana@acme.example").await;
    let olaf = user(&admin, &other, "olaf@other.example").await;
    let tools_allowed = ["list_tenants", "list_users", "get_user", "create_user", "dashboard_stats", "not_a_tool"];
    let agent = admin
        .post(
            "/api/v1/admin/agents",
            json!({"name": "Helpdesk bot", "tenant_id": acme, "allowed_tools": tools_allowed,
                   "allowed_scopes": ["admin:read"], "rate_limit_rpm": 10}),
        )
        .await
        .unwrap();
    assert_eq!(agent.status, 201, "{}", agent.body);
    assert_eq!(agent.body["client_id"], Value::Null);
    let agent_id = agent.id();

    // Credentials: the first rotation gives a client ID, the second keeps it and kills the old secret.
    let first = admin.post(&format!("/api/v1/admin/agents/{agent_id}/rotate-secret"), json!({})).await.unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    let client_id = first.body["client_id"].as_str().unwrap().to_string();
    let second = admin.post(&format!("/api/v1/admin/agents/{agent_id}/rotate-secret"), json!({})).await.unwrap();
    assert_eq!(second.body["client_id"], client_id.as_str());
    let secret = second.body["client_secret"].as_str().unwrap().to_string();
    let old = first.body["client_secret"].as_str().unwrap();
    let refused = app.token_request(Some((&client_id, old)), &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!((refused.status, refused.body["error"].as_str()), (401, Some("invalid_client")), "{}", refused.body);
    assert_eq!(
        admin.get(&format!("/api/v1/admin/agents/{agent_id}")).await.unwrap().body["client_id"],
        client_id.as_str()
    );

    let t = app.token_request(Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!(t.status, 200, "{}", t.body);
    let token = t.body["access_token"].as_str().unwrap().to_string();
    let (_, claims) = jwt_parts(&token).unwrap();
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["agent_id"], agent_id.as_str());
    assert_eq!(claims["tenant_id"], acme.as_str());
    assert_eq!(claims["aud"], format!("{}/mcp", app.issuer));
    assert_eq!(claims["scope"], "admin:read");
    // The agent's token is for the MCP server only.
    assert_eq!(app.with_token(&token).get("/api/v1/admin/users").await.unwrap().status, 401);
    // A scope the agent was not given is refused.
    let wide = app
        .token_request(Some((&client_id, &secret)), &[("grant_type", "client_credentials"), ("scope", "admin:write")])
        .await
        .unwrap();
    assert_eq!(wide.body["error"], "invalid_scope", "{}", wide.body);

    let mut plan = vec![
        json!({"name": "list_users", "arguments": {}}),
        json!({"name": "get_user", "arguments": {"user_id": olaf}}),
        json!({"name": "get_user", "arguments": {"user_id": ana}}),
        json!({"name": "create_user", "arguments": {"email": "new@acme.example", "password": PASSWORD}}),
        json!({"name": "list_groups", "arguments": {}}),
        json!({"name": "dashboard_stats", "arguments": {}}),
        json!({"name": "get_user", "arguments": {"user_id": "usr_nonsense"}}),
    ];
    // Enough calls to pass the limit of 10 a minute even if the minute turns meanwhile.
    plan.extend((0..20).map(|_| json!({"name": "list_tenants", "arguments": {}})));
    let started_minute = chrono::Utc::now().timestamp() / 60;
    let url = format!("{}/mcp", app.base_url);
    let plan_json = Value::Array(plan).to_string();
    let raw = tokio::task::spawn_blocking(move || {
        tools::run_python_script("mcp_client.py", &[&url, &token, &plan_json], &[])
    })
    .await
    .unwrap()
    .unwrap();
    let out: Value = serde_json::from_str(raw.trim()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert!(["2025-06-18", "2025-11-25"].contains(&out["protocol"].as_str().unwrap()), "{out}");
    assert_eq!(out["server"], "scaikey");
    // Exactly the agent's tools, in catalogue order; the unknown name is simply not there.
    assert_eq!(out["tools"], json!(["list_tenants", "list_users", "get_user", "create_user", "dashboard_stats"]));
    assert_eq!(out["schemas"]["get_user"]["required"], json!(["user_id"]));
    let calls = out["calls"].as_array().unwrap();
    let emails: Vec<&str> =
        calls[0]["structured"]["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ana@acme.example"], "only its own tenant: {}", calls[0]);
    assert_eq!((&calls[1]["is_error"], &calls[1]["text"]), (&json!(true), &json!("User not found")), "{}", calls[1]);
    assert_eq!(calls[2]["structured"]["display_name"], "Zoë \"Z\" <b>");
    assert_eq!(calls[3]["is_error"], true, "no admin:write: {}", calls[3]);
    assert!(calls[3]["text"].as_str().unwrap().starts_with("Access denied"), "{}", calls[3]);
    assert_eq!(calls[4]["error"], -32602, "a tool it lacks: {}", calls[4]);
    assert_eq!(calls[5]["structured"]["users"], 1, "{}", calls[5]);
    assert_eq!(calls[6]["is_error"], true, "{}", calls[6]);
    let limited: Vec<&Value> = calls.iter().filter(|c| c["error"] == -32029).collect();
    assert!(!limited.is_empty(), "the limit was reached: {out}");
    assert!(limited[0]["data"]["retry_after"].as_i64().unwrap() >= 1);
    assert!(limited[0]["message"].as_str().unwrap().contains("retry in"));
    let admitted = calls.iter().filter(|c| c.get("error").is_none()).count();
    assert!((10..=20).contains(&admitted), "{admitted} calls ran");
    assert!(admin.get("/api/v1/admin/users?search=new%40acme").await.unwrap().body["pagination"]["total"] == 0);

    // Another process on the database counts the same calls.
    let sibling = app.second_process().await.unwrap();
    let again = app.token_request(Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await.unwrap();
    let token = again.body["access_token"].as_str().unwrap().to_string();
    let call =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_tenants", "arguments": {}}});
    let (status, body, _) = rpc(&sibling.base_url, &token, call.clone()).await;
    assert_eq!(status, 200);
    if chrono::Utc::now().timestamp() / 60 == started_minute {
        assert_eq!(body["error"]["code"], -32029, "{body}");
    }

    // Every call is audited with the agent as actor.
    let ev =
        admin.get(&format!("/api/v1/admin/audit?action=mcp.tool_call&actor_id={agent_id}&per_page=100")).await.unwrap();
    let results: Vec<&str> =
        ev.body["items"].as_array().unwrap().iter().map(|e| e["result"].as_str().unwrap()).collect();
    for r in ["success", "failure", "denied"] {
        assert!(results.contains(&r), "{r} in {results:?}");
    }
    assert!(ev.body["items"].as_array().unwrap().iter().all(|e| e["tenant_id"] == acme.as_str()));

    // The scheme is case-blind (RFC 6750 §2.1), as on the admin API.
    let r = reqwest::Client::new()
        .post(format!("{}/mcp", app.base_url))
        .header("Authorization", format!("BEARER {token}"))
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Suspension takes effect at once, on the token the agent holds and at the token endpoint.
    let s = admin.patch(&format!("/api/v1/admin/agents/{agent_id}"), json!({"status": "suspended"})).await.unwrap();
    assert_eq!(s.status, 200, "{}", s.body);
    let (status, _, headers) = rpc(&app.base_url, &token, json!({"jsonrpc": "2.0", "id": 2, "method": "ping"})).await;
    assert_eq!(status, 401);
    let challenge = headers.get("www-authenticate").unwrap().to_str().unwrap().to_string();
    assert!(
        challenge.contains(&format!("resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"", app.issuer)),
        "{challenge}"
    );
    let t = app.token_request(Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await.unwrap();
    assert_eq!(t.body["error"], "invalid_client", "{}", t.body);
}

#[tokio::test]
async fn the_mcp_endpoint_speaks_json_rpc_and_names_its_authorization_server() {
    let app = TestApp::spawn().await.unwrap();
    // No token: 401 naming the protected-resource metadata, which names ScaiKey.
    let r = reqwest::Client::new().post(format!("{}/mcp", app.base_url)).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("www-authenticate").unwrap().to_str().unwrap().starts_with("Bearer resource_metadata="));
    let prm: Value = reqwest::get(format!("{}/.well-known/oauth-protected-resource/mcp", app.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], format!("{}/mcp", app.issuer));
    assert_eq!(prm["authorization_servers"], json!([app.issuer]));

    // A super admin's own token is for the admin API, not for /mcp.
    let admin = app.super_admin().await.unwrap();
    let (status, _, _) =
        rpc(&app.base_url, admin.token().unwrap(), json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})).await;
    assert_eq!(status, 401);

    // With an agent token: protocol errors are JSON-RPC errors, notifications 202.
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let agent = admin
        .post(
            "/api/v1/admin/agents",
            json!({"name": "Bot", "tenant_id": t, "allowed_tools": ["list_users"], "allowed_scopes": ["admin:read"]}),
        )
        .await
        .unwrap()
        .id();
    let c = admin.post(&format!("/api/v1/admin/agents/{agent}/rotate-secret"), json!({})).await.unwrap();
    let tok = app
        .token_request(
            Some((c.body["client_id"].as_str().unwrap(), c.body["client_secret"].as_str().unwrap())),
            &[("grant_type", "client_credentials")],
        )
        .await
        .unwrap();
    let tok = tok.body["access_token"].as_str().unwrap();
    let (s, b, _) = rpc(&app.base_url, tok, json!({"jsonrpc": "2.0", "id": "a", "method": "server/discover"})).await;
    assert_eq!((s, &b["id"], &b["error"]["code"]), (200, &json!("a"), &json!(-32601)), "{b}");
    let (s, b, _) = rpc(&app.base_url, tok, json!([1, 2])).await;
    assert_eq!((s, &b["error"]["code"]), (400, &json!(-32600)), "{b}");
    let (s, _, _) = rpc(&app.base_url, tok, json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    assert_eq!(s, 202);
    let (s, b, _) = rpc(&app.base_url, tok, json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_users", "arguments": {"per_page": 0}}})).await;
    assert_eq!((s, &b["result"]["isError"]), (200, &json!(true)), "{b}");
    let r = reqwest::Client::new().get(format!("{}/mcp", app.base_url)).bearer_auth(tok).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // A page of another origin may not drive the server.
    let r = reqwest::Client::new()
        .post(format!("{}/mcp", app.base_url))
        .bearer_auth(tok)
        .header("Origin", "https://evil.example")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_person_uses_the_mcp_server_with_a_token_for_it() {
    use scaikey_testkit::signin::SignIn;
    const REDIRECT: &str = "http://127.0.0.1:9/callback";
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let acme = tenant(&admin, "Acme", "acme").await;
    let other = tenant(&admin, "Other", "other").await;
    user(&admin, &other, "olaf@other.example").await;
    let boss = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "boss@acme.example", "password": PASSWORD, "tenant_id": acme, "roles": ["tenant_admin"]}),
        )
        .await
        .unwrap();
    assert_eq!(boss.status, 201, "{}", boss.body);
    user(&admin, &acme, "ana@acme.example").await;
    let mcp = format!("{}/mcp", app.issuer);
    let client = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Desktop assistant", "application_type": "WEB", "scope": "TENANT", "tenant_id": acme, "first_party": true,
                   "redirect_uris": [REDIRECT], "allowed_scopes": ["openid"], "allowed_resources": [mcp],
                   "grant_types": ["authorization_code"]}),
        )
        .await
        .unwrap();
    assert_eq!(client.status, 201, "{}", client.body);
    let (id, secret) = (client.body["client_id"].as_str().unwrap(), client.body["client_secret"].as_str().unwrap());
    let sign_in = |email: &'static str| SignIn {
        client_id: id,
        client_secret: Some(secret),
        redirect_uri: REDIRECT,
        scope: "openid",
        resource: Some(&mcp),
        email,
        password: PASSWORD,
    };
    let tokens = app.sign_in_with_code(&sign_in("boss@acme.example")).await.unwrap();
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(jwt_parts(token).unwrap().1["aud"], mcp.as_str());
    let (s, b, _) = rpc(&app.base_url, token, json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["result"]["tools"].as_array().unwrap().len(),
        scaikey_domain::mcp::TOOLS.len(),
        "a person sees every tool"
    );
    let call =
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_users", "arguments": {}}});
    let (_, b, _) = rpc(&app.base_url, token, call.clone()).await;
    let emails: Vec<&str> = b["result"]["structuredContent"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 2, "the tenant admin's reach: {b}");
    assert!(emails.iter().all(|e| e.ends_with("@acme.example")));
    // A person without an admin role gets the REST API's refusal as a tool error.
    let tokens = app.sign_in_with_code(&sign_in("ana@acme.example")).await.unwrap();
    let (_, b, _) = rpc(&app.base_url, tokens["access_token"].as_str().unwrap(), call).await;
    assert_eq!(b["result"]["isError"], true, "{b}");
    // The same person's token for the application itself is not one for /mcp.
    let plain = app.sign_in_with_code(&SignIn { resource: None, ..sign_in("boss@acme.example") }).await.unwrap();
    let (s, _, _) = rpc(
        &app.base_url,
        plain["access_token"].as_str().unwrap(),
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    )
    .await;
    assert_eq!(s, 401);
}
