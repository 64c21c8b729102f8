//! # scaikey-mcp
//!
//! ScaiKey's MCP server (contract §12), an inbound adapter of its own: `POST /mcp` speaks the
//! Streamable HTTP transport (one JSON-RPC 2.0 message per request, answered with
//! `application/json`; no server-initiated stream, so `GET /mcp` is 405), with `initialize`,
//! `ping`, `tools/list` and `tools/call`. The tools are admin operations run by the same
//! application services as the REST API; who may call which tool, the rate limit and the audit
//! record are [`scaikey_app::mcp::McpGate`]'s. Also serves the RFC 9728 protected-resource
//! metadata of `/mcp`, which a 401 names.
//!
//! May depend on the domain, the app services, the wire types (`scaikey-dto`) and actix-web;
//! never on another adapter.

mod jsonrpc;
pub mod tools;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::applications::ApplicationService;
use scaikey_app::audit::AuditService;
use scaikey_app::groups::GroupService;
use scaikey_app::mcp::{CallRefusal, McpCaller, McpGate};
use scaikey_app::registrations::RegistrationService;
use scaikey_app::tenants::TenantService;
use scaikey_app::users::UserService;
use scaikey_domain::access::Action;
use scaikey_domain::audit::{AuditResult, RequestMeta};
use scaikey_domain::client_ip::TrustedProxies;
use serde_json::{Value, json};

use jsonrpc::Message;

/// Protocol revisions served (the initialize handshake's; newest last).
pub const PROTOCOL_VERSIONS: [&str; 2] = ["2025-06-18", "2025-11-25"];
/// Largest message accepted.
const MAX_BODY: usize = 1024 * 1024;

/// The services the tools call.
#[derive(Clone)]
pub struct Services {
    /// Tenants.
    pub tenants: TenantService,
    /// Users.
    pub users: UserService,
    /// Groups.
    pub groups: GroupService,
    /// Applications.
    pub applications: ApplicationService,
    /// Registration requests.
    pub registrations: RegistrationService,
    /// Audit log and dashboard.
    pub audit: Arc<AuditService>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services")
    }
}

/// What the handlers need.
#[derive(Clone)]
pub struct McpState {
    /// Who may call what.
    pub gate: Arc<McpGate>,
    /// The tools' services.
    pub services: Services,
    /// The issuer (the authorization server the metadata names).
    pub issuer: String,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for McpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpState").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// Registers `/mcp` and its protected-resource metadata. Expects `web::Data<McpState>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mcp")
            .route(web::post().to(post))
            .route(web::get().to(not_here))
            .route(web::delete().to(not_here)),
    )
    .route("/.well-known/oauth-protected-resource/mcp", web::get().to(resource_metadata));
}

fn metadata_url(issuer: &str) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp", issuer.trim_end_matches('/'))
}

/// `GET /.well-known/oauth-protected-resource/mcp` (RFC 9728).
async fn resource_metadata(state: web::Data<McpState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(json!({
            "resource": state.gate.resource(),
            "authorization_servers": [state.issuer],
            "bearer_methods_supported": ["header"],
            // What a person's client asks for; the tools then run with the person's own reach.
            "scopes_supported": ["openid", "profile", "email"],
            "resource_name": "ScaiKey MCP server",
        }))
}

/// `GET`/`DELETE /mcp`: no server-initiated stream and no sessions to end.
async fn not_here() -> HttpResponse {
    HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "POST")).finish()
}

fn rpc(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

fn unauthorized(state: &McpState, error: Option<&str>) -> HttpResponse {
    let mut challenge = format!("Bearer resource_metadata=\"{}\"", metadata_url(&state.issuer));
    if let Some(e) = error {
        challenge.push_str(&format!(", error=\"invalid_token\", error_description=\"{e}\""));
    }
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"detail": "A bearer token for this MCP server is required"}))
}

fn meta(req: &HttpRequest, trusted: &TrustedProxies) -> RequestMeta {
    let h = |name: &str| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    RequestMeta::of_request(req.peer_addr().map(|a| a.ip()), h("x-forwarded-for"), h("user-agent"), trusted)
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A browser page of another origin may not drive the server (DNS rebinding; the Streamable
/// HTTP transport asks servers to check): an `Origin` header, when sent, must be the issuer's.
fn origin_ok(req: &HttpRequest, issuer: &str) -> bool {
    match req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(o) => o.eq_ignore_ascii_case(origin_of(issuer)),
    }
}

/// `POST /mcp`.
async fn post(state: web::Data<McpState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if !origin_ok(&req, &state.issuer) {
        return HttpResponse::Forbidden().json(json!({"detail": "Origin not allowed"}));
    }
    // RFC 6750's scheme is case-blind; one parser for every adapter (the verifier's).
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Ok(token) = scaikey_verifier::bearer_token(header) else { return unauthorized(&state, None) };
    let caller = match state.gate.authenticate(token).await {
        Ok(Ok(c)) => c,
        Ok(Err(r)) => return unauthorized(&state, Some(&r.to_string())),
        Err(e) => return server_failure(&Value::Null, &e),
    };
    if body.len() > MAX_BODY {
        return rpc(
            StatusCode::PAYLOAD_TOO_LARGE,
            &jsonrpc::error(&Value::Null, jsonrpc::INVALID_REQUEST, "Message too large", None),
        );
    }
    if let Some(v) = req.headers().get("mcp-protocol-version").and_then(|v| v.to_str().ok())
        && !PROTOCOL_VERSIONS.contains(&v)
    {
        let data = json!({"supported": PROTOCOL_VERSIONS, "requested": v});
        return rpc(
            StatusCode::BAD_REQUEST,
            &jsonrpc::error(&Value::Null, jsonrpc::INVALID_REQUEST, "Unsupported MCP-Protocol-Version", Some(data)),
        );
    }
    let (id, method, params) = match jsonrpc::parse(&body) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Notice) => return HttpResponse::Accepted().finish(),
        Err(e) => return rpc(StatusCode::BAD_REQUEST, &e),
    };
    let meta = meta(&req, &state.trusted_proxies);
    let answer = match method.as_str() {
        "initialize" => Ok(initialize(&params)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(list(&state, &caller)),
        "tools/call" => return call(&state, &caller, &id, &params, &meta).await,
        _ => Err((jsonrpc::METHOD_NOT_FOUND, format!("Method not found: {method}"), None)),
    };
    match answer {
        Ok(r) => rpc(StatusCode::OK, &jsonrpc::result(&id, r)),
        Err((code, message, data)) => rpc(StatusCode::OK, &jsonrpc::error(&id, code, &message, data)),
    }
}

fn server_failure(id: &Value, e: &scaikey_app::AppError) -> HttpResponse {
    match e {
        scaikey_app::AppError::Unavailable(_) => HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(jsonrpc::error(id, jsonrpc::INTERNAL_ERROR, "The service is temporarily unavailable", None)),
        other => {
            tracing::error!(error = %other, "MCP request failed");
            rpc(StatusCode::INTERNAL_SERVER_ERROR, &jsonrpc::error(id, jsonrpc::INTERNAL_ERROR, "Internal error", None))
        }
    }
}

/// `initialize`: the client's revision when served, else the newest.
fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str).unwrap_or_default();
    let version =
        if PROTOCOL_VERSIONS.contains(&asked) { asked } else { PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.len() - 1] };
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "scaikey", "title": "ScaiKey", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "ScaiKey's admin operations as tools. Each acts within the caller's reach: an agent within its tenant, capped by its scopes (admin:read, admin:write).",
    })
}

/// `tools/list`: the caller's tools with their input schemas.
fn list(state: &McpState, caller: &McpCaller) -> Value {
    let tools: Vec<Value> = state
        .gate
        .tools(caller)
        .into_iter()
        .map(|t| {
            json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": tools::input_schema(t.name),
                "annotations": {"readOnlyHint": t.action == Action::Read, "destructiveHint": false, "openWorldHint": false},
            })
        })
        .collect();
    json!({"tools": tools})
}

/// `tools/call`: admitted by the gate, run by the services, audited either way.
async fn call(state: &McpState, caller: &McpCaller, id: &Value, params: &Value, meta: &RequestMeta) -> HttpResponse {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return rpc(StatusCode::OK, &jsonrpc::error(id, jsonrpc::INVALID_PARAMS, "params.name is required", None));
    };
    let (tool, ctx) = match state.gate.admit(caller, name, meta).await {
        Ok(Ok(admitted)) => admitted,
        Ok(Err(CallRefusal::UnknownTool(n))) => {
            state.gate.record(caller, &n, AuditResult::Denied, meta, Some("unknown or not allowed"));
            return rpc(
                StatusCode::OK,
                &jsonrpc::error(id, jsonrpc::INVALID_PARAMS, &format!("Unknown tool: {n}"), None),
            );
        }
        Ok(Err(CallRefusal::RateLimited(s))) => {
            let data = json!({"retry_after": s});
            let message = format!("Rate limit reached: retry in {s} s");
            return rpc(StatusCode::OK, &jsonrpc::error(id, jsonrpc::RATE_LIMITED, &message, Some(data)));
        }
        Err(e) => return server_failure(id, &e),
    };
    let args = params.get("arguments").cloned().unwrap_or(Value::Null);
    match tools::call(&state.services, &ctx, tool.name, args).await {
        Ok(Ok(value)) => {
            state.gate.record(caller, tool.name, AuditResult::Success, meta, None);
            let text = serde_json::to_string(&value).unwrap_or_default();
            let result =
                json!({"content": [{"type": "text", "text": text}], "structuredContent": value, "isError": false});
            rpc(StatusCode::OK, &jsonrpc::result(id, result))
        }
        Ok(Err(tools::ToolError(message))) => {
            state.gate.record(caller, tool.name, AuditResult::Failure, meta, Some(&message));
            let result = json!({"content": [{"type": "text", "text": message}], "isError": true});
            rpc(StatusCode::OK, &jsonrpc::result(id, result))
        }
        Err(e) => {
            state.gate.record(caller, tool.name, AuditResult::Failure, meta, Some("server error"));
            server_failure(id, &e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_initialize_negotiates() {
        for t in scaikey_domain::mcp::TOOLS {
            let s = tools::input_schema(t.name);
            assert_eq!(s["type"], "object", "{}", t.name);
            assert_eq!(s["additionalProperties"], false, "{}", t.name);
        }
        assert_eq!(tools::input_schema("get_user")["required"], json!(["user_id"]));
        assert_eq!(initialize(&json!({"protocolVersion": "2025-06-18"}))["protocolVersion"], "2025-06-18");
        assert_eq!(initialize(&json!({"protocolVersion": "2024-11-05"}))["protocolVersion"], "2025-11-25");
        assert_eq!(origin_of("https://id.example.com/tenant/x"), "https://id.example.com");
        assert_eq!(origin_of("http://localhost:8080"), "http://localhost:8080");
    }
}
