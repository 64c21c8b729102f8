//! Applications in the console: the secret shown once, rotation, assignments and the users
//! they let in.

use scaikey_app::AppError;
use scaikey_app::applications::ApplicationInput;
use scaikey_app::context::RequestContext;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{ApplicationFilter, Assignee};
use scaikey_domain::application::{Application, ApplicationType, GRANT_TYPES, IdTokenAlg};
use scaikey_domain::id::{ApplicationId, AssignmentId};
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::validation::ValidationErrors;

use super::directory::{Users, checked, or_dash, statuses, time, yes_no};
use super::forms::{Field, Posted};
use super::groups::Groups;
use super::resource::{Acted, ActionForm, Cell, Created, Extras, Resource, Row, Section, Shown, confirmed};
use crate::WebState;

pub(crate) struct Applications;

fn secret_shown(app: &Application, secret: String, title: String) -> Shown {
    Shown {
        title,
        lead: "Copy the client secret now: it is not shown again.",
        values: vec![("client_id", "Client ID", app.client_id.clone()), ("client_secret", "Client secret", secret)],
        back: format!("{}/{}", Applications::PATH, app.id),
    }
}

impl Resource for Applications {
    const PATH: &'static str = "/console/applications";
    const TITLE: &'static str = "Applications";
    const ONE: &'static str = "application";
    const COLUMNS: &'static [&'static str] = &["Name", "Client ID", "Type", "Scope", "Status"];
    type Id = ApplicationId;
    type Item = Application;
    type Input = ApplicationInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Application>, AppError> {
        s.applications.list(ctx, &ApplicationFilter { search, ..ApplicationFilter::default() }, page).await
    }

    fn row(a: Application) -> (String, Vec<String>) {
        (
            a.id.to_string(),
            vec![
                a.name,
                a.client_id,
                a.application_type.as_str().into(),
                a.scope.as_str().into(),
                a.status.as_str().into(),
            ],
        )
    }

    fn fields(a: Option<&Application>) -> Vec<Field> {
        let list = |f: fn(&Application) -> &Vec<String>| a.map(f).cloned().unwrap_or_default();
        let mut fields = vec![
            Field::text("name", "Name", a.map(|a| a.name.clone()).unwrap_or_default()).required(),
            Field::text("description", "Description", a.and_then(|a| a.description.clone()).unwrap_or_default()),
        ];
        if a.is_none() {
            fields.extend([
                Field::select(
                    "application_type",
                    "Type",
                    ApplicationType::ALL.iter().map(|t| (t.as_str(), t.as_str())),
                    ApplicationType::Web.as_str(),
                )
                .hint("WEB and SERVICE clients are confidential (they get a secret); SPA and NATIVE are public."),
                Field::select(
                    "scope",
                    "Scope",
                    ScopeLevel::ALL.iter().map(|l| (l.as_str(), l.as_str())),
                    ScopeLevel::Tenant.as_str(),
                ),
                Field::text("partner_id", "Partner ID", "").hint("For a PARTNER application."),
                Field::text("tenant_id", "Tenant ID", "")
                    .hint("For a TENANT application; a tenant admin's own when left empty."),
            ]);
        }
        let grants: Vec<&str> = a.map(|a| a.grant_types.iter().map(String::as_str).collect()).unwrap_or_default();
        fields.extend([
            Field::lines("redirect_uris", "Redirect URIs", &list(|a| &a.redirect_uris))
                .hint("One per line; matched exactly."),
            Field::lines(
                "post_logout_redirect_uris",
                "Post-logout redirect URIs",
                &list(|a| &a.post_logout_redirect_uris),
            )
            .hint("One per line."),
            Field::lines("allowed_origins", "Allowed origins (CORS)", &list(|a| &a.allowed_origins))
                .hint("One per line, e.g. https://app.example.com."),
            Field::lines("allowed_scopes", "Allowed scopes", &list(|a| &a.allowed_scopes)).hint("One per line."),
            Field::lines("allowed_resources", "Allowed resources", &list(|a| &a.allowed_resources))
                .hint("Resource indicators (RFC 8707), one per line."),
            Field::choices("grant_types", "Grant types", GRANT_TYPES.iter().map(|g| (*g, *g)), &grants)
                .hint(if a.is_none() { "None ticked: the type's defaults." } else { "None ticked: no grant at all." }),
            Field::number("token_lifetime", "Access token lifetime (seconds)", a.map(|a| a.token_lifetime)),
            Field::select(
                "id_token_signed_response_alg",
                "ID token algorithm",
                IdTokenAlg::ALL.iter().map(|g| (g.as_str(), g.as_str())),
                a.map_or(IdTokenAlg::Es256.as_str(), |a| a.id_token_signed_response_alg.as_str()),
            ),
            Field::check(
                "assignment_required",
                "Only assigned users may sign in",
                a.is_some_and(|a| a.assignment_required),
            ),
            Field::check(
                "token_exchange_allowed",
                "May exchange tokens (RFC 8693)",
                a.is_some_and(|a| a.token_exchange_allowed),
            ),
            // Ticked for a new one, as the API's default.
            Field::check("first_party", "First party (no consent page)", a.is_none_or(|a| a.first_party)),
            Field::select("status", "Status", statuses(), a.map_or("active", |a| a.status.as_str())),
        ]);
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<ApplicationInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let grants: Vec<String> = f.all("grant_types").into_iter().map(str::to_string).collect();
        let input = ApplicationInput {
            name: f.text("name"),
            description: f.nullable("description"),
            application_type: if creating { f.text("application_type") } else { None },
            scope: if creating { f.text("scope") } else { None },
            partner_id: if creating { f.given("partner_id") } else { None },
            tenant_id: if creating { f.given("tenant_id") } else { None },
            redirect_uris: f.lines("redirect_uris"),
            post_logout_redirect_uris: f.lines("post_logout_redirect_uris"),
            allowed_origins: f.lines("allowed_origins"),
            allowed_scopes: f.lines("allowed_scopes"),
            allowed_resources: f.lines("allowed_resources"),
            grant_types: if creating && grants.is_empty() { None } else { Some(grants) },
            token_lifetime: f.integer("token_lifetime", &mut errs).flatten(),
            token_exchange_allowed: Some(f.flag("token_exchange_allowed")),
            assignment_required: Some(f.flag("assignment_required")),
            first_party: Some(f.flag("first_party")),
            id_token_signed_response_alg: f.text("id_token_signed_response_alg"),
            status: f.text("status"),
            immutable_present: Vec::new(),
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: ApplicationInput) -> Result<Created, AppError> {
        let made = s.applications.create(ctx, input).await?;
        let id = made.app.id.to_string();
        let shown =
            made.client_secret.map(|secret| secret_shown(&made.app, secret, format!("Created: {}", made.app.name)));
        Ok(Created { id, shown })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: ApplicationId) -> Result<Application, AppError> {
        s.applications.get(ctx, id).await
    }

    async fn update(
        s: &WebState,
        ctx: &RequestContext,
        id: ApplicationId,
        input: ApplicationInput,
    ) -> Result<(), AppError> {
        s.applications.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: ApplicationId) -> Result<(), AppError> {
        s.applications.delete(ctx, id).await
    }

    fn name(a: &Application) -> String {
        a.name.clone()
    }

    fn version(a: &Application) -> chrono::DateTime<chrono::Utc> {
        a.updated_at
    }

    fn facts(a: &Application) -> Vec<(&'static str, String)> {
        let lines = |v: &[String]| if v.is_empty() { "—".to_string() } else { v.join("\n") };
        vec![
            ("ID", a.id.to_string()),
            ("Client ID", a.client_id.clone()),
            ("Type", a.application_type.as_str().into()),
            ("Scope", a.scope.as_str().into()),
            ("Partner", or_dash(a.partner_id)),
            ("Tenant", or_dash(a.tenant_id)),
            ("Description", or_dash(a.description.as_ref())),
            ("Redirect URIs", lines(&a.redirect_uris)),
            ("Post-logout redirect URIs", lines(&a.post_logout_redirect_uris)),
            ("Allowed origins", lines(&a.allowed_origins)),
            ("Allowed scopes", lines(&a.allowed_scopes)),
            ("Allowed resources", lines(&a.allowed_resources)),
            ("Grant types", lines(&a.grant_types)),
            ("Access token lifetime", format!("{} s", a.token_lifetime)),
            ("ID token algorithm", a.id_token_signed_response_alg.as_str().into()),
            ("Assignment required", yes_no(a.assignment_required)),
            ("Token exchange", yes_no(a.token_exchange_allowed)),
            ("First party", yes_no(a.first_party)),
            ("Client secret", if a.has_secret { "set (never shown again)" } else { "none (public client)" }.into()),
            ("Status", a.status.as_str().into()),
            ("Created", time(a.created_at)),
        ]
    }

    async fn extras(
        s: &WebState,
        ctx: &RequestContext,
        id: ApplicationId,
        a: &Application,
    ) -> Result<Extras, AppError> {
        let base = format!("{}/{id}", Self::PATH);
        let page = PageRequest::new(Some(1), Some(100))?;
        let assignments = s.applications.assignments(ctx, id, page).await?;
        let assignment_rows = assignments
            .items
            .into_iter()
            .map(|x| {
                let who = match x.assignee {
                    Assignee::User(u) => Cell::link(format!("user {u}"), format!("{}/{u}", Users::PATH)),
                    Assignee::Group(g) => Cell::link(format!("group {g}"), format!("{}/{g}", Groups::PATH)),
                };
                Row {
                    cells: vec![who, Cell::text(x.tenant_id.to_string()), Cell::text(time(x.created_at))],
                    remove: Some(ActionForm::row(
                        &base,
                        "unassign",
                        "Unassign",
                        vec![Field::hidden("assignment_id", x.id.to_string())],
                    )),
                }
            })
            .collect();
        let effective = s.applications.effective_users(ctx, id, None, page).await?;
        let effective_total = effective.total;
        let effective_rows = effective
            .items
            .into_iter()
            .map(|u| Row {
                cells: vec![
                    Cell::link(u.email, format!("{}/{}", Users::PATH, u.user_id)),
                    Cell::text(u.tenant_name),
                    Cell::text(if u.direct {
                        "directly".to_string()
                    } else {
                        format!("through {} group(s)", u.via_groups.len())
                    }),
                ],
                remove: None,
            })
            .collect();
        let mut actions = vec![
            ActionForm::new(&base, "assign", "Assign", "Assign")
                .fields(vec![
                    Field::text("user_id", "User ID", "").hint("A user…"),
                    Field::text("group_id", "Group ID", "").hint("…or a group: its members through nesting."),
                ])
                .hint("Give one of the two."),
        ];
        if a.has_secret {
            actions.push(
                ActionForm::new(&base, "rotate_secret", "Client secret", "Rotate the secret")
                    .hint("A new secret is shown once; the old one stops working at once.")
                    .destructive(),
            );
        }
        Ok(Extras {
            sections: vec![
                Section {
                    id: "assignments",
                    title: "Assignments",
                    columns: vec!["Assigned", "Tenant", "Since", ""],
                    rows: assignment_rows,
                    empty: "Nobody is assigned.",
                    tree: false,
                },
                Section {
                    id: "effective",
                    title: if effective_total > 100 { "Effective users (the first 100)" } else { "Effective users" },
                    columns: vec!["User", "Tenant", "Assigned"],
                    rows: effective_rows,
                    empty: "No user is assigned, directly or through a group.",
                    tree: false,
                },
            ],
            actions,
        })
    }

    async fn act(
        s: &WebState,
        ctx: &RequestContext,
        id: ApplicationId,
        verb: &str,
        f: &Posted<'_>,
    ) -> Result<Acted, AppError> {
        match verb {
            "assign" => {
                let pick = |name| f.value(name).map(str::trim).filter(|v| !v.is_empty());
                s.applications.assign(ctx, id, pick("user_id"), pick("group_id")).await?;
                Ok(Acted::Done("assigned"))
            }
            "unassign" => {
                confirmed(f)?;
                let a: AssignmentId =
                    f.value("assignment_id").and_then(|v| v.parse().ok()).ok_or(AppError::NotFound("Assignment"))?;
                s.applications.unassign(ctx, id, a).await?;
                Ok(Acted::Done("unassigned"))
            }
            "rotate_secret" => {
                confirmed(f)?;
                let app = s.applications.get(ctx, id).await?;
                let (_, secret) = s.applications.rotate_secret(ctx, id).await?;
                Ok(Acted::Shown(secret_shown(&app, secret, format!("New secret: {}", app.name))))
            }
            _ => Err(AppError::NotFound("Action")),
        }
    }

    fn message(done: &str) -> Option<&'static str> {
        match done {
            "assigned" => Some("Assigned."),
            "unassigned" => Some("The assignment was removed."),
            _ => None,
        }
    }
}
