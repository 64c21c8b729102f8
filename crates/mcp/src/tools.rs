//! The tools: each one's JSON Schema, and its call — the same application service and wire
//! shape (`scaikey-dto`) as the REST endpoint it mirrors. A service's refusal (not found,
//! invalid input, access denied, conflict) is the tool's `isError` result with the message the
//! REST API would give; nothing here decides a rule.

use scaikey_app::AppError;
use scaikey_app::RequestContext;
use scaikey_app::page::PageRequest;
use scaikey_app::ports::{ApplicationFilter, AuditFilter, GroupFilter, RegistrationFilter, TenantFilter, UserFilter};
use scaikey_domain::access::Denial;
use scaikey_domain::audit::AuditResult;
use scaikey_domain::id::{ApplicationId, GroupId, PartnerId, RegistrationRequestId, TenantId, UserId};
use scaikey_domain::registration::RegistrationStatus;
use scaikey_domain::role::Role;
use scaikey_domain::status::Status;
use scaikey_dto::apps::{ApplicationCreatedOut, ApplicationOut, RegistrationOut};
use scaikey_dto::audit::{AuditEventOut, StatsOut};
use scaikey_dto::common::ListOut;
use scaikey_dto::tenants::TenantOut;
use scaikey_dto::users::{GroupOut, MembershipOut, UserCreate, UserOut, UserUpdate};
use serde_json::{Map, Value, json};

use crate::Services;

/// A tool's refusal: the text the caller reads.
#[derive(Debug)]
pub struct ToolError(pub String);

type ToolResult = Result<Value, ToolError>;

fn page_props() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("page".into(), json!({"type": "integer", "minimum": 1, "description": "Page number (default 1)"}));
    m.insert(
        "per_page".into(),
        json!({"type": "integer", "minimum": 1, "maximum": 100, "description": "Items per page (default 20)"}),
    );
    m
}

fn id_prop(prefix: &str, what: &str) -> Value {
    json!({"type": "string", "pattern": format!("^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$"), "description": what})
}

fn object(props: Map<String, Value>, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

fn list_schema(extra: &[(&str, Value)]) -> Value {
    let mut p = page_props();
    p.insert(
        "search".into(),
        json!({"type": "string", "maxLength": 255, "description": "Case-insensitive text match"}),
    );
    for (k, v) in extra {
        p.insert((*k).to_string(), v.clone());
    }
    object(p, &[])
}

fn one_of(values: &[&str], what: &str) -> Value {
    json!({"type": "string", "enum": values, "description": what})
}

fn names<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| f(*x)).collect()
}

/// The JSON Schema of a tool's input.
#[must_use]
pub fn input_schema(name: &str) -> Value {
    let statuses = names(&Status::ALL, Status::as_str);
    let name_prop = |d: &str| json!({"type": ["string", "null"], "minLength": 1, "maxLength": 255, "description": d});
    match name {
        "list_tenants" => list_schema(&[
            ("status", one_of(&statuses, "Only tenants with this status")),
            ("partner_id", id_prop("prt", "Tenants of this partner")),
        ]),
        "get_tenant" => {
            object([("tenant_id".to_string(), id_prop("tnt", "The tenant"))].into_iter().collect(), &["tenant_id"])
        }
        "list_users" => list_schema(&[
            ("status", one_of(&statuses, "Only users with this status")),
            ("tenant_id", id_prop("tnt", "Users of this tenant")),
            ("role", one_of(&names(&Role::ALL, Role::as_str), "Users holding this role")),
        ]),
        "get_user" => object([("user_id".to_string(), id_prop("usr", "The user"))].into_iter().collect(), &["user_id"]),
        "create_user" => {
            let mut p = Map::new();
            p.insert("email".into(), json!({"type": "string", "format": "email", "maxLength": 254}));
            p.insert(
                "password".into(),
                json!({"type": "string", "minLength": 1, "maxLength": 256,
                       "description": "Checked against the tenant's password policy; omit it to invite the user by e-mail"}),
            );
            p.insert("tenant_id".into(), id_prop("tnt", "The tenant (default: the caller's own)"));
            p.insert("first_name".into(), name_prop("Given name"));
            p.insert("last_name".into(), name_prop("Family name"));
            p.insert("display_name".into(), name_prop("Display name"));
            p.insert("status".into(), one_of(&statuses, "active (default) or suspended"));
            p.insert(
                "roles".into(),
                json!({"type": "array", "items": {"type": "string", "enum": names(&Role::ALL, Role::as_str)}}),
            );
            p.insert("custom_attributes".into(), json!({"type": "object"}));
            object(p, &["email"])
        }
        "update_user" => {
            let mut p = Map::new();
            p.insert("user_id".into(), id_prop("usr", "The user"));
            p.insert("email".into(), json!({"type": "string", "format": "email", "maxLength": 254}));
            p.insert("first_name".into(), name_prop("Given name (null clears it)"));
            p.insert("last_name".into(), name_prop("Family name (null clears it)"));
            p.insert("display_name".into(), name_prop("Display name (null clears it)"));
            p.insert("status".into(), one_of(&statuses, "Suspending ends the user's sessions"));
            p.insert(
                "roles".into(),
                json!({"type": "array", "items": {"type": "string", "enum": names(&Role::ALL, Role::as_str)}}),
            );
            p.insert("custom_attributes".into(), json!({"type": ["object", "null"]}));
            object(p, &["user_id"])
        }
        "list_groups" => list_schema(&[("tenant_id", id_prop("tnt", "Groups of this tenant"))]),
        "add_group_member" | "remove_group_member" => object(
            [
                ("group_id".to_string(), id_prop("grp", "The group")),
                ("user_id".to_string(), id_prop("usr", "The user")),
            ]
            .into_iter()
            .collect(),
            &["group_id", "user_id"],
        ),
        "list_applications" => list_schema(&[
            ("tenant_id", id_prop("tnt", "Applications of this tenant")),
            ("partner_id", id_prop("prt", "Applications of this partner")),
        ]),
        "get_application" => object(
            [("application_id".to_string(), id_prop("app", "The application"))].into_iter().collect(),
            &["application_id"],
        ),
        "list_registration_requests" => list_schema(&[(
            "status",
            one_of(&names(&RegistrationStatus::ALL, RegistrationStatus::as_str), "Only requests in this state"),
        )]),
        "approve_registration_request" => object(
            [
                ("request_id".to_string(), id_prop("reg", "The request")),
                ("notes".to_string(), json!({"type": "string", "maxLength": 2000, "description": "Reviewer's notes"})),
            ]
            .into_iter()
            .collect(),
            &["request_id"],
        ),
        "reject_registration_request" => object(
            [
                ("request_id".to_string(), id_prop("reg", "The request")),
                (
                    "reason".to_string(),
                    json!({"type": "string", "minLength": 1, "maxLength": 2000, "description": "Why"}),
                ),
            ]
            .into_iter()
            .collect(),
            &["request_id", "reason"],
        ),
        "list_audit_events" => {
            let mut p = page_props();
            p.insert("action".into(), json!({"type": "string", "maxLength": 255, "description": "e.g. user.create"}));
            p.insert("actor_id".into(), json!({"type": "string", "maxLength": 255}));
            p.insert("result".into(), one_of(&names(&AuditResult::ALL, AuditResult::as_str), "Outcome"));
            p.insert("tenant_id".into(), id_prop("tnt", "Events of this tenant"));
            object(p, &[])
        }
        _ => object(Map::new(), &[]),
    }
}

/// Arguments as the tool reads them.
struct Args(Map<String, Value>);

impl Args {
    fn text(&self, key: &str) -> Result<Option<String>, ToolError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ToolError(format!("{key} must be a string"))),
        }
    }

    fn required(&self, key: &str) -> Result<String, ToolError> {
        self.text(key)?.ok_or_else(|| ToolError(format!("{key} is required")))
    }

    fn id<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, ToolError> {
        self.text(key)?.map(|s| s.parse::<T>().map_err(|_| ToolError(format!("{key} is not a valid ID")))).transpose()
    }

    fn required_id<T: std::str::FromStr>(&self, key: &str) -> Result<T, ToolError> {
        self.id(key)?.ok_or_else(|| ToolError(format!("{key} is required")))
    }

    fn choice<T: Copy>(&self, key: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Result<Option<T>, ToolError> {
        match self.text(key)? {
            None => Ok(None),
            Some(s) => all
                .iter()
                .copied()
                .find(|x| name(*x) == s)
                .map(Some)
                .ok_or_else(|| ToolError(format!("{key} must be one of {}", names(all, name).join(", ")))),
        }
    }

    fn page(&self) -> Result<PageRequest, ToolError> {
        let num = |k: &str| match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| ToolError(format!("{k} must be an integer"))),
        };
        PageRequest::new(num("page")?, num("per_page")?).map_err(|e| ToolError(e.to_string()))
    }

    /// The arguments without `key`, as a wire body.
    fn body<T: serde::de::DeserializeOwned>(&self, without: &str) -> Result<T, ToolError> {
        let mut m = self.0.clone();
        m.remove(without);
        serde_json::from_value(Value::Object(m)).map_err(|e| ToolError(format!("Invalid arguments: {e}")))
    }
}

/// The text of a service's refusal, as the REST API words it.
pub fn app_error(e: AppError) -> Result<ToolError, AppError> {
    Ok(ToolError(match e {
        AppError::NotFound(r) | AppError::Denied(Denial::NotFound, r) => format!("{r} not found"),
        AppError::Denied(Denial::PlatformScopeMissing | Denial::Forbidden, _) => {
            "Access denied: this is outside the caller's reach or scopes".into()
        }
        AppError::Invalid(errs) => {
            let parts: Vec<String> = errs.errors().iter().map(|f| format!("{}: {}", f.loc.join("."), f.msg)).collect();
            format!("Invalid input — {}", parts.join("; "))
        }
        AppError::Conflict(m) => m,
        AppError::Unauthenticated(m) => m.to_string(),
        // Storage and internal failures are the server's, not the tool's.
        other => return Err(other),
    }))
}

fn to_value(v: impl serde::Serialize) -> Result<Value, AppError> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.into()))
}

/// Runs tool `name` for `ctx`: `Ok(Ok(result))`, `Ok(Err(refusal))` for a tool error, `Err` for
/// a server failure.
pub async fn call(s: &Services, ctx: &RequestContext, name: &str, args: Value) -> Result<ToolResult, AppError> {
    let args = match args {
        Value::Object(m) => Args(m),
        Value::Null => Args(Map::new()),
        _ => return Ok(Err(ToolError("arguments must be an object".into()))),
    };
    match run(s, ctx, name, &args).await {
        Ok(Ok(v)) => Ok(Ok(v)),
        Ok(Err(app)) => app_error(app).map(Err),
        Err(tool) => Ok(Err(tool)),
    }
}

/// The call proper: argument problems are `Err`, service outcomes `Ok`.
async fn run(s: &Services, ctx: &RequestContext, name: &str, a: &Args) -> Result<Result<Value, AppError>, ToolError> {
    Ok(match name {
        "list_tenants" => {
            let filter = TenantFilter {
                search: a.text("search")?,
                status: a.choice("status", &Status::ALL, Status::as_str)?,
                partner_id: a.id::<PartnerId>("partner_id")?,
            };
            let page = a.page()?;
            match s.tenants.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, TenantOut::from)),
                Err(e) => Err(e),
            }
        }
        "get_tenant" => {
            let id: TenantId = a.required_id("tenant_id")?;
            s.tenants.get(ctx, id).await.and_then(|t| to_value(TenantOut::from(t)))
        }
        "list_users" => {
            let filter = UserFilter {
                search: a.text("search")?,
                status: a.choice("status", &Status::ALL, Status::as_str)?,
                tenant_id: a.id::<TenantId>("tenant_id")?,
                role: a.choice("role", &Role::ALL, Role::as_str)?,
            };
            let page = a.page()?;
            match s.users.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, UserOut::from)),
                Err(e) => Err(e),
            }
        }
        "get_user" => {
            let id: UserId = a.required_id("user_id")?;
            s.users.get(ctx, id).await.and_then(|u| to_value(UserOut::from(u)))
        }
        "create_user" => {
            let body: UserCreate = a.body("")?;
            s.users.create(ctx, body.into_input()).await.and_then(|u| to_value(UserOut::from(u)))
        }
        "update_user" => {
            let id: UserId = a.required_id("user_id")?;
            let body: UserUpdate = a.body("user_id")?;
            match body.into_input() {
                Ok(input) => s.users.update(ctx, id, input).await.and_then(|u| to_value(UserOut::from(u))),
                Err(errs) => Err(AppError::Invalid(errs)),
            }
        }
        "list_groups" => {
            let filter = GroupFilter { search: a.text("search")?, tenant_id: a.id::<TenantId>("tenant_id")? };
            let page = a.page()?;
            match s.groups.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, GroupOut::from)),
                Err(e) => Err(e),
            }
        }
        "add_group_member" => {
            let gid: GroupId = a.required_id("group_id")?;
            let user = a.required("user_id")?;
            s.groups
                .add_member(ctx, gid, &user)
                .await
                .and_then(|uid| to_value(MembershipOut { group_id: gid.to_string(), user_id: uid.to_string() }))
        }
        "remove_group_member" => {
            let gid: GroupId = a.required_id("group_id")?;
            let uid: UserId = a.required_id("user_id")?;
            s.groups.remove_member(ctx, gid, uid).await.and_then(|()| {
                to_value(json!({"group_id": gid.to_string(), "user_id": uid.to_string(), "removed": true}))
            })
        }
        "list_applications" => {
            let filter = ApplicationFilter {
                search: a.text("search")?,
                tenant_id: a.id::<TenantId>("tenant_id")?,
                partner_id: a.id::<PartnerId>("partner_id")?,
                ..ApplicationFilter::default()
            };
            let page = a.page()?;
            match s.applications.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, ApplicationOut::from)),
                Err(e) => Err(e),
            }
        }
        "get_application" => {
            let id: ApplicationId = a.required_id("application_id")?;
            s.applications.get(ctx, id).await.and_then(|x| to_value(ApplicationOut::from(x)))
        }
        "list_registration_requests" => {
            let filter = RegistrationFilter {
                search: a.text("search")?,
                status: a.choice("status", &RegistrationStatus::ALL, RegistrationStatus::as_str)?,
                ..RegistrationFilter::default()
            };
            let page = a.page()?;
            match s.registrations.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, RegistrationOut::from)),
                Err(e) => Err(e),
            }
        }
        "approve_registration_request" => {
            let id: RegistrationRequestId = a.required_id("request_id")?;
            let notes = a.text("notes")?;
            s.registrations.approve(ctx, id, notes.as_deref()).await.and_then(|x| {
                to_value(ApplicationCreatedOut {
                    application: x.app.into(),
                    client_secret: x.client_secret,
                    registration_request_id: Some(x.request.id.to_string()),
                })
            })
        }
        "reject_registration_request" => {
            let id: RegistrationRequestId = a.required_id("request_id")?;
            let reason = a.text("reason")?;
            s.registrations.reject(ctx, id, reason.as_deref()).await.and_then(|r| to_value(RegistrationOut::from(r)))
        }
        "list_audit_events" => {
            let filter = AuditFilter {
                action: a.text("action")?,
                actor_id: a.text("actor_id")?,
                result: a.choice("result", &AuditResult::ALL, AuditResult::as_str)?,
                tenant_id: a.id::<TenantId>("tenant_id")?,
                ..AuditFilter::default()
            };
            let page = a.page()?;
            match s.audit.list(ctx, &filter, page).await {
                Ok(p) => to_value(ListOut::from_page(p, AuditEventOut::from)),
                Err(e) => Err(e),
            }
        }
        "dashboard_stats" => s.audit.stats(ctx).await.and_then(|x| to_value(StatsOut::from(x))),
        other => return Err(ToolError(format!("Unknown tool: {other}"))),
    })
}
