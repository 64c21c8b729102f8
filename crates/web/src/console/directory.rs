//! Partners, tenants and users in the console.

use chrono::{DateTime, Utc};
use scaikey_app::AppError;
use scaikey_app::context::RequestContext;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{PartnerFilter, SessionFilter, TenantFilter, UserFilter};
use scaikey_domain::id::{IdentityProviderId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::partner::{Partner, PartnerInput};
use scaikey_domain::role::Role;
use scaikey_domain::status::Status;
use scaikey_domain::tenant::{Tenant, TenantInput};
use scaikey_domain::user::{User, UserInput};
use scaikey_domain::validation::ValidationErrors;

use super::forms::{Field, Posted};
use super::resource::{Acted, ActionForm, Cell, Created, Extras, Resource, Row, Section, confirmed};
use crate::WebState;

pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) fn statuses() -> impl Iterator<Item = (&'static str, &'static str)> {
    Status::ALL.iter().map(|s| (s.as_str(), s.as_str()))
}

pub(crate) fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

pub(crate) fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "—".to_string(), |v| v.to_string())
}

/// A form's errors, or the input it reads to.
pub(crate) fn checked<T>(errs: ValidationErrors, input: T) -> Result<T, ValidationErrors> {
    if errs.is_empty() { Ok(input) } else { Err(errs) }
}

pub(crate) struct Partners;

impl Resource for Partners {
    const PATH: &'static str = "/console/partners";
    const TITLE: &'static str = "Partners";
    const ONE: &'static str = "partner";
    const COLUMNS: &'static [&'static str] = &["Name", "Slug", "Status", "Contact"];
    type Id = PartnerId;
    type Item = Partner;
    type Input = PartnerInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Partner>, AppError> {
        s.partners.list(ctx, &PartnerFilter { search, status: None }, page).await
    }

    fn row(p: Partner) -> (String, Vec<String>) {
        (p.id.to_string(), vec![p.name, p.slug, p.status.as_str().into(), p.contact_email.unwrap_or_default()])
    }

    fn fields(p: Option<&Partner>) -> Vec<Field> {
        let limit = |f: fn(&Partner) -> Option<i32>| p.and_then(f);
        vec![
            Field::text("name", "Name", p.map(|p| p.name.clone()).unwrap_or_default()).required(),
            Field::text("slug", "Slug", p.map(|p| p.slug.clone()).unwrap_or_default())
                .hint("Lower-case letters, digits and hyphens; derived from the name when left empty."),
            Field::select("status", "Status", statuses(), p.map_or("active", |p| p.status.as_str())),
            Field::email(
                "contact_email",
                "Contact e-mail",
                p.and_then(|p| p.contact_email.clone()).unwrap_or_default(),
            ),
            Field::number("max_tenants", "Most tenants", limit(|p| p.limits.max_tenants)).hint("Empty: no limit."),
            Field::number("max_users_per_tenant", "Most users per tenant", limit(|p| p.limits.max_users_per_tenant))
                .hint("Empty: no limit."),
            Field::number(
                "max_applications_per_tenant",
                "Most applications per tenant",
                limit(|p| p.limits.max_applications_per_tenant),
            )
            .hint("Empty: no limit."),
        ]
    }

    fn input(f: &Posted<'_>, _creating: bool) -> Result<PartnerInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = PartnerInput {
            name: f.text("name"),
            slug: f.given("slug"),
            status: f.text("status"),
            contact_email: f.nullable("contact_email"),
            max_tenants: f.integer("max_tenants", &mut errs),
            max_users_per_tenant: f.integer("max_users_per_tenant", &mut errs),
            max_applications_per_tenant: f.integer("max_applications_per_tenant", &mut errs),
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: PartnerInput) -> Result<Created, AppError> {
        let p = s.partners.create(ctx, input).await?;
        Ok(Created { id: p.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: PartnerId) -> Result<Partner, AppError> {
        s.partners.get(ctx, id).await
    }

    async fn update(s: &WebState, ctx: &RequestContext, id: PartnerId, input: PartnerInput) -> Result<(), AppError> {
        s.partners.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: PartnerId) -> Result<(), AppError> {
        s.partners.delete(ctx, id).await
    }

    fn name(p: &Partner) -> String {
        p.name.clone()
    }

    fn version(p: &Partner) -> DateTime<Utc> {
        p.updated_at
    }

    fn facts(p: &Partner) -> Vec<(&'static str, String)> {
        let limit = |l: Option<i32>| l.map_or_else(|| "no limit".to_string(), |n| n.to_string());
        vec![
            ("ID", p.id.to_string()),
            ("Slug", p.slug.clone()),
            ("Status", p.status.as_str().into()),
            ("Contact e-mail", or_dash(p.contact_email.as_ref())),
            ("Most tenants", limit(p.limits.max_tenants)),
            ("Most users per tenant", limit(p.limits.max_users_per_tenant)),
            ("Most applications per tenant", limit(p.limits.max_applications_per_tenant)),
            ("Created", time(p.created_at)),
            ("Updated", time(p.updated_at)),
        ]
    }

    async fn extras(s: &WebState, ctx: &RequestContext, id: PartnerId, _: &Partner) -> Result<Extras, AppError> {
        let filter = TenantFilter { partner_id: Some(id), ..TenantFilter::default() };
        let tenants = s.tenants.list(ctx, &filter, PageRequest::new(Some(1), Some(100))?).await?;
        let title = if tenants.total > 100 { "Tenants (the first 100)" } else { "Tenants" };
        let rows = tenants
            .items
            .into_iter()
            .map(|t| Row {
                cells: vec![Cell::link(t.name, format!("{}/{}", Tenants::PATH, t.id)), Cell::text(t.slug)],
                remove: None,
            })
            .collect();
        Ok(Extras {
            sections: vec![Section {
                id: "tenants",
                title,
                columns: vec!["Name", "Slug"],
                rows,
                empty: "No tenants yet.",
                tree: false,
            }],
            actions: Vec::new(),
        })
    }
}

pub(crate) struct Tenants;

impl Resource for Tenants {
    const PATH: &'static str = "/console/tenants";
    const TITLE: &'static str = "Tenants";
    const ONE: &'static str = "tenant";
    const COLUMNS: &'static [&'static str] = &["Name", "Slug", "Status", "Partner"];
    const PREVIEW: bool = true;
    type Id = TenantId;
    type Item = Tenant;
    type Input = TenantInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Tenant>, AppError> {
        s.tenants.list(ctx, &TenantFilter { search, ..TenantFilter::default() }, page).await
    }

    fn row(t: Tenant) -> (String, Vec<String>) {
        (
            t.id.to_string(),
            vec![t.name, t.slug, t.status.as_str().into(), t.partner_id.map(|p| p.to_string()).unwrap_or_default()],
        )
    }

    fn fields(t: Option<&Tenant>) -> Vec<Field> {
        let mut fields = vec![
            Field::text("name", "Name", t.map(|t| t.name.clone()).unwrap_or_default()).required(),
            Field::text("slug", "Slug", t.map(|t| t.slug.clone()).unwrap_or_default())
                .hint("Lower-case letters, digits and hyphens; derived from the name when left empty."),
            Field::select("status", "Status", statuses(), t.map_or("active", |t| t.status.as_str())),
            Field::email(
                "contact_email",
                "Contact e-mail",
                t.and_then(|t| t.contact_email.clone()).unwrap_or_default(),
            ),
        ];
        if t.is_none() {
            fields.push(
                Field::text("partner_id", "Partner ID", "")
                    .hint("The partner the tenant belongs to; a partner admin's own partner when left empty."),
            );
        }
        fields.push(
            Field::json("settings", "Settings", t.map(|t| &t.settings))
                .hint("A JSON object: password_policy, mfa_required, mfa_methods, session lifetimes…"),
        );
        fields.push(
            Field::json("branding", "Branding", t.map(|t| &t.branding))
                .hint("A JSON object: display_name, logo_url (https), primary_color (#rrggbb)."),
        );
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<TenantInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = TenantInput {
            name: f.text("name"),
            slug: f.given("slug"),
            status: f.text("status"),
            contact_email: f.nullable("contact_email"),
            partner_id: if creating { f.nullable("partner_id") } else { None },
            settings: f.json("settings", &mut errs),
            branding: f.json("branding", &mut errs),
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: TenantInput) -> Result<Created, AppError> {
        let t = s.tenants.create(ctx, input).await?;
        Ok(Created { id: t.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: TenantId) -> Result<Tenant, AppError> {
        s.tenants.get(ctx, id).await
    }

    async fn update(s: &WebState, ctx: &RequestContext, id: TenantId, input: TenantInput) -> Result<(), AppError> {
        s.tenants.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: TenantId) -> Result<(), AppError> {
        s.tenants.delete(ctx, id).await
    }

    fn name(t: &Tenant) -> String {
        t.name.clone()
    }

    fn version(t: &Tenant) -> DateTime<Utc> {
        t.updated_at
    }

    fn facts(t: &Tenant) -> Vec<(&'static str, String)> {
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        vec![
            ("ID", t.id.to_string()),
            ("Slug", t.slug.clone()),
            ("Status", t.status.as_str().into()),
            ("Partner", or_dash(t.partner_id)),
            ("Contact e-mail", or_dash(t.contact_email.as_ref())),
            ("Settings", pretty(&t.settings)),
            ("Branding", pretty(&t.branding)),
            ("Created", time(t.created_at)),
            ("Updated", time(t.updated_at)),
        ]
    }

    async fn extras(s: &WebState, ctx: &RequestContext, id: TenantId, _: &Tenant) -> Result<Extras, AppError> {
        let filter = UserFilter { tenant_id: Some(id), ..UserFilter::default() };
        let users = s.users.list(ctx, &filter, PageRequest::new(Some(1), Some(25))?).await?;
        let rows = users
            .items
            .into_iter()
            .map(|u| Row {
                cells: vec![Cell::link(u.email, format!("{}/{}", Users::PATH, u.id)), Cell::text(u.status.as_str())],
                remove: None,
            })
            .collect();
        Ok(Extras {
            sections: vec![Section {
                id: "users",
                title: "Users (the first 25)",
                columns: vec!["E-mail", "Status"],
                rows,
                empty: "No users yet.",
                tree: false,
            }],
            actions: Vec::new(),
        })
    }
}

pub(crate) struct Users;

const ROLES: [(&str, &str); 3] =
    [("tenant_admin", "Tenant admin"), ("partner_admin", "Partner admin"), ("super_admin", "Platform admin")];

impl Resource for Users {
    const PATH: &'static str = "/console/users";
    const TITLE: &'static str = "Users";
    const ONE: &'static str = "user";
    const COLUMNS: &'static [&'static str] = &["E-mail", "Name", "Tenant", "Roles", "Status"];
    type Id = UserId;
    type Item = User;
    type Input = UserInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<User>, AppError> {
        s.users.list(ctx, &UserFilter { search, ..UserFilter::default() }, page).await
    }

    fn row(u: User) -> (String, Vec<String>) {
        let name = [u.first_name, u.last_name].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let roles = u.roles.iter().map(Role::as_str).collect::<Vec<_>>().join(", ");
        (
            u.id.to_string(),
            vec![
                u.email,
                name,
                u.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                roles,
                u.status.as_str().into(),
            ],
        )
    }

    fn fields(u: Option<&User>) -> Vec<Field> {
        let text = |f: fn(&User) -> Option<String>| u.and_then(f).unwrap_or_default();
        let mut fields =
            vec![Field::email("email", "E-mail", u.map(|u| u.email.clone()).unwrap_or_default()).required()];
        if u.is_none() {
            fields.push(
                Field::text("tenant_id", "Tenant ID", "")
                    .hint("A tenant admin's own tenant when left empty; platform admins may leave it empty."),
            );
            fields.push(
                Field::password("password", "Password")
                    .hint("Checked against the tenant's password policy. Leave empty to invite the user by e-mail."),
            );
        }
        let roles: Vec<&str> = u.map(|u| u.roles.iter().map(Role::as_str).collect()).unwrap_or_default();
        fields.extend([
            Field::text("first_name", "First name", text(|u| u.first_name.clone())),
            Field::text("last_name", "Last name", text(|u| u.last_name.clone())),
            Field::text("display_name", "Display name", text(|u| u.display_name.clone())),
            Field::select("status", "Status", statuses(), u.map_or("active", |u| u.status.as_str())),
            Field::choices("roles", "Roles", ROLES, &roles).hint("Only roles within your own reach can be given."),
            Field::json("custom_attributes", "Custom attributes", u.map(|u| &u.custom_attributes))
                .hint("A JSON object of your own attributes."),
        ]);
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<UserInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = UserInput {
            email: f.text("email"),
            tenant_id: if creating { f.given("tenant_id") } else { None },
            password: if creating { f.given("password") } else { None },
            first_name: f.nullable("first_name"),
            last_name: f.nullable("last_name"),
            display_name: f.nullable("display_name"),
            status: f.text("status"),
            roles: Some(f.all("roles").into_iter().map(str::to_string).collect()),
            custom_attributes: f.json("custom_attributes", &mut errs),
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: UserInput) -> Result<Created, AppError> {
        let u = s.users.create(ctx, input).await?;
        Ok(Created { id: u.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: UserId) -> Result<User, AppError> {
        s.users.get(ctx, id).await
    }

    async fn update(s: &WebState, ctx: &RequestContext, id: UserId, input: UserInput) -> Result<(), AppError> {
        s.users.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: UserId) -> Result<(), AppError> {
        s.users.delete(ctx, id).await
    }

    fn name(u: &User) -> String {
        u.display_name.clone().unwrap_or_else(|| u.email.clone())
    }

    fn version(u: &User) -> DateTime<Utc> {
        u.updated_at
    }

    fn facts(u: &User) -> Vec<(&'static str, String)> {
        vec![
            ("ID", u.id.to_string()),
            ("E-mail", u.email.clone()),
            ("E-mail verified", yes_no(u.email_verified)),
            ("Tenant", or_dash(u.tenant_id)),
            ("Name", [u.first_name.clone(), u.last_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ")),
            ("Status", u.status.as_str().into()),
            (
                "Roles",
                or_dash(
                    Some(u.roles.iter().map(Role::as_str).collect::<Vec<_>>().join(", ")).filter(|r| !r.is_empty()),
                ),
            ),
            (
                "Second factors",
                or_dash(
                    Some(u.mfa_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "))
                        .filter(|m| !m.is_empty()),
                ),
            ),
            ("Password set", yes_no(u.password_set)),
            ("Custom attributes", serde_json::to_string_pretty(&u.custom_attributes).unwrap_or_default()),
            ("Last sign-in", or_dash(u.last_login_at.map(time))),
            ("Created", time(u.created_at)),
        ]
    }

    async fn extras(s: &WebState, ctx: &RequestContext, id: UserId, u: &User) -> Result<Extras, AppError> {
        let base = format!("{}/{id}", Self::PATH);
        let filter = SessionFilter { user_id: Some(id), ..SessionFilter::default() };
        let sessions = s.sessions.list(ctx, &filter, PageRequest::new(Some(1), Some(50))?).await?;
        let session_rows = sessions
            .items
            .into_iter()
            .map(|x| Row {
                cells: vec![
                    Cell::text(time(x.created_at)),
                    Cell::text(time(x.last_seen_at)),
                    Cell::text(x.ip.unwrap_or_default()),
                    Cell::text(x.user_agent.unwrap_or_default().chars().take(60).collect::<String>()),
                ],
                remove: Some(ActionForm::row(
                    &base,
                    "revoke_session",
                    "Revoke",
                    vec![Field::hidden("session_id", x.id.to_string())],
                )),
            })
            .collect();
        let identities = s.users.identities(ctx, id).await?;
        let identity_rows = identities
            .into_iter()
            .map(|l| Row {
                cells: vec![
                    Cell::link(l.idp_name, format!("/console/identity-providers/{}", l.idp_id)),
                    Cell::text(l.subject),
                    Cell::text(l.email.unwrap_or_default()),
                    Cell::text(time(l.last_login_at)),
                ],
                remove: Some(ActionForm::row(
                    &base,
                    "unlink",
                    "Unlink",
                    vec![Field::hidden("idp_id", l.idp_id.to_string())],
                )),
            })
            .collect();
        let mut actions = vec![
            ActionForm::new(&base, "reset_password", "Reset the password", "Set the new password")
                .fields(vec![Field::password("new_password", "New password").required()])
                .hint("Checked against the tenant's policy; the user's sessions end."),
        ];
        if !u.password_set {
            actions.push(
                ActionForm::new(&base, "invite", "Invitation", "Send the invitation again")
                    .hint("Mails the user a new link to choose a password."),
            );
        }
        if !u.mfa_methods.is_empty() {
            actions.push(
                ActionForm::new(&base, "disable_mfa", "Second factors", "Remove every second factor")
                    .hint("For a user who lost their device: removes the authenticator app, passkeys and recovery codes, and ends the user's sessions.")
                    .destructive(),
            );
        }
        Ok(Extras {
            sections: vec![
                Section {
                    id: "sessions",
                    title: "Active sessions",
                    columns: vec!["Started", "Last seen", "IP", "Browser", ""],
                    rows: session_rows,
                    empty: "No active sessions.",
                    tree: false,
                },
                Section {
                    id: "identities",
                    title: "Linked identities",
                    columns: vec!["Identity provider", "Subject", "E-mail", "Last sign-in", ""],
                    rows: identity_rows,
                    empty: "No upstream identities linked.",
                    tree: false,
                },
            ],
            actions,
        })
    }

    async fn act(
        s: &WebState,
        ctx: &RequestContext,
        id: UserId,
        verb: &str,
        f: &Posted<'_>,
    ) -> Result<Acted, AppError> {
        match verb {
            "reset_password" => {
                s.users.reset_password(ctx, id, f.value("new_password").unwrap_or_default()).await?;
                Ok(Acted::Done("password_reset"))
            }
            "invite" => {
                s.users.invite(ctx, id).await?;
                Ok(Acted::Done("invited"))
            }
            "disable_mfa" => {
                confirmed(f)?;
                s.users.disable_mfa(ctx, id).await?;
                Ok(Acted::Done("mfa_disabled"))
            }
            "revoke_session" => {
                confirmed(f)?;
                let session: SessionId =
                    f.value("session_id").and_then(|v| v.parse().ok()).ok_or(AppError::NotFound("Session"))?;
                let found = s.sessions.get(ctx, session).await?;
                if found.user_id != id {
                    return Err(AppError::NotFound("Session"));
                }
                s.sessions.revoke(ctx, session).await?;
                Ok(Acted::Done("session_revoked"))
            }
            "unlink" => {
                confirmed(f)?;
                let idp: IdentityProviderId =
                    f.value("idp_id").and_then(|v| v.parse().ok()).ok_or(AppError::NotFound("Linked identity"))?;
                s.users.unlink(ctx, id, idp).await?;
                Ok(Acted::Done("unlinked"))
            }
            _ => Err(AppError::NotFound("Action")),
        }
    }

    fn message(done: &str) -> Option<&'static str> {
        match done {
            "password_reset" => Some("The password was set and the user's sessions ended."),
            "mfa_disabled" => Some("Every second factor was removed and the user's sessions ended."),
            "session_revoked" => Some("The session was revoked."),
            "unlinked" => Some("The identity was unlinked."),
            "invited" => Some("The invitation was sent."),
            _ => None,
        }
    }
}
