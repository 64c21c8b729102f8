//! The console's pages for one kind of resource, written once: the list (search, paging), the
//! detail page with its parts and actions, the create and edit forms, and delete. Each
//! resource ([`Resource`]) names its fields and calls its application service; what the
//! service refuses comes back as the page's message or as the error beside the field.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use scaikey_app::AppError;
use scaikey_app::context::RequestContext;
use scaikey_app::page::{Page, PageRequest};
use scaikey_domain::validation::ValidationErrors;

use super::forms::{Field, Posted, refill};
use super::{Nav, Pager, admin, admin_form, bad_page, list_query, nothing_here, page_link, refused};
use crate::WebState;
use crate::pages::{Inline, html, query_param, see_other, with_cookie};

/// A cell of a table on a detail page; `depth` indents a tree.
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) href: Option<String>,
    pub(crate) depth: usize,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None, depth: 0 }
    }

    pub(crate) fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: Some(href.into()), depth: 0 }
    }
}

/// A row, with the form that removes it.
pub(crate) struct Row {
    pub(crate) cells: Vec<Cell>,
    pub(crate) remove: Option<ActionForm>,
}

/// A table on a detail page (members, assignments, sessions…).
pub(crate) struct Section {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<Row>,
    pub(crate) empty: &'static str,
    pub(crate) tree: bool,
}

/// A form on a detail page posting to `{path}/{id}/{verb}`.
pub(crate) struct ActionForm {
    pub(crate) verb: &'static str,
    pub(crate) action: String,
    pub(crate) title: Option<&'static str>,
    pub(crate) hint: Option<&'static str>,
    pub(crate) label: &'static str,
    pub(crate) fields: Vec<Field>,
    /// Destructive: a tick box must confirm it.
    pub(crate) confirm: bool,
    pub(crate) danger: bool,
    pub(crate) inline: bool,
}

impl ActionForm {
    /// A form of its own, titled, with `fields`.
    pub(crate) fn new(base: &str, verb: &'static str, title: &'static str, label: &'static str) -> ActionForm {
        ActionForm {
            verb,
            action: format!("{base}/{verb}"),
            title: Some(title),
            hint: None,
            label,
            fields: Vec::new(),
            confirm: false,
            danger: false,
            inline: false,
        }
    }

    /// A small form inside a table row (remove this member…), confirmed.
    pub(crate) fn row(base: &str, verb: &'static str, label: &'static str, hidden: Vec<Field>) -> ActionForm {
        ActionForm {
            verb,
            action: format!("{base}/{verb}"),
            title: None,
            hint: None,
            label,
            fields: hidden,
            confirm: true,
            danger: true,
            inline: true,
        }
    }

    #[must_use]
    pub(crate) fn fields(mut self, fields: Vec<Field>) -> ActionForm {
        self.fields = fields.into_iter().map(|f| f.within(self.verb)).collect();
        self
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: &'static str) -> ActionForm {
        self.hint = Some(hint);
        self
    }

    /// Destructive: asks to confirm.
    #[must_use]
    pub(crate) fn destructive(mut self) -> ActionForm {
        self.confirm = true;
        self.danger = true;
        self
    }
}

/// The parts of a detail page beyond its facts.
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) sections: Vec<Section>,
    pub(crate) actions: Vec<ActionForm>,
}

/// What a page shows once and never again (a client secret).
pub(crate) struct Shown {
    pub(crate) title: String,
    pub(crate) lead: &'static str,
    pub(crate) values: Vec<(&'static str, &'static str, String)>,
    pub(crate) back: String,
}

/// A created resource: its ID, and what to show once, if anything.
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) shown: Option<Shown>,
}

/// The outcome of an action: back to the detail page with a message, or a page shown once.
pub(crate) enum Acted {
    Done(&'static str),
    Shown(Shown),
}

/// One kind of resource in the console.
pub(crate) trait Resource: 'static {
    /// `/console/partners`.
    const PATH: &'static str;
    /// `Partners`.
    const TITLE: &'static str;
    /// `partner`.
    const ONE: &'static str;
    /// The list's columns.
    const COLUMNS: &'static [&'static str];
    /// The create and edit forms carry a preview of the login page.
    const PREVIEW: bool = false;
    type Id: std::str::FromStr + std::fmt::Display + Copy;
    type Item;
    type Input;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Self::Item>, AppError>;
    /// The ID and cells of a list row.
    fn row(item: Self::Item) -> (String, Vec<String>);
    /// The create form (`None`) or the edit form of `item`, with its values.
    fn fields(item: Option<&Self::Item>) -> Vec<Field>;
    /// The service's raw input from a posted form; errors name the fields.
    fn input(form: &Posted<'_>, creating: bool) -> Result<Self::Input, ValidationErrors>;
    async fn create(s: &WebState, ctx: &RequestContext, input: Self::Input) -> Result<Created, AppError>;
    async fn get(s: &WebState, ctx: &RequestContext, id: Self::Id) -> Result<Self::Item, AppError>;
    async fn update(s: &WebState, ctx: &RequestContext, id: Self::Id, input: Self::Input) -> Result<(), AppError>;
    async fn delete(s: &WebState, ctx: &RequestContext, id: Self::Id) -> Result<(), AppError>;
    /// The detail page's heading.
    fn name(item: &Self::Item) -> String;
    /// When the item last changed: an edit form carries it, and a save over a newer change is
    /// refused rather than silently undoing it.
    fn version(item: &Self::Item) -> chrono::DateTime<chrono::Utc>;
    /// The detail page's facts.
    fn facts(item: &Self::Item) -> Vec<(&'static str, String)>;
    /// Tables and action forms of the detail page.
    async fn extras(
        _s: &WebState,
        _ctx: &RequestContext,
        _id: Self::Id,
        _item: &Self::Item,
    ) -> Result<Extras, AppError> {
        Ok(Extras::default())
    }
    /// Runs action `verb` of the detail page.
    async fn act(
        _s: &WebState,
        _ctx: &RequestContext,
        _id: Self::Id,
        _verb: &str,
        _form: &Posted<'_>,
    ) -> Result<Acted, AppError> {
        Err(AppError::NotFound("Action"))
    }
    /// The message after action `done`.
    fn message(_done: &str) -> Option<&'static str> {
        None
    }
}

/// Registers the resource's pages.
pub(crate) fn routes<R: Resource>(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(R::PATH).route(web::get().to(list::<R>)).route(web::post().to(create::<R>)))
        .route(&format!("{}/new", R::PATH), web::get().to(new_form::<R>))
        .service(
            web::resource(format!("{}/{{id}}", R::PATH))
                .route(web::get().to(show::<R>))
                .route(web::post().to(update::<R>)),
        )
        .route(&format!("{}/{{id}}/edit", R::PATH), web::get().to(edit_form::<R>))
        .route(&format!("{}/{{id}}/{{verb}}", R::PATH), web::post().to(act::<R>));
}

#[derive(Template)]
#[template(path = "console_list.html")]
struct ListPage<'a> {
    nav: &'a Nav,
    title: &'a str,
    path: &'a str,
    search: &'a str,
    columns: &'a [&'a str],
    rows: Vec<(String, Vec<String>)>,
    pager: Pager,
    new_label: String,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "console_form.html")]
struct FormPage<'a> {
    nav: &'a Nav,
    title: String,
    back: String,
    back_label: String,
    action: String,
    submit: &'a str,
    general: Vec<String>,
    fields: Vec<Field>,
    preview: Option<String>,
}

/// A detail page's content.
pub(crate) struct Detail {
    pub(crate) title: String,
    pub(crate) back: String,
    pub(crate) back_label: String,
    pub(crate) message: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) edit: Option<String>,
    pub(crate) facts: Vec<(&'static str, String)>,
    pub(crate) sections: Vec<Section>,
    pub(crate) actions: Vec<ActionForm>,
}

#[derive(Template)]
#[template(path = "console_detail.html")]
pub(crate) struct DetailPage<'a> {
    pub(crate) nav: &'a Nav,
    pub(crate) d: Detail,
}

#[derive(Template)]
#[template(path = "console_shown.html")]
struct ShownPage<'a> {
    nav: &'a Nav,
    title: &'a str,
    lead: &'a str,
    values: &'a [(&'static str, &'static str, String)],
    back: &'a str,
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

async fn list<R: Resource>(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((search, page)) = list_query(&req) else { return bad_page() };
    let found = match R::list(&state, &ctx, Some(search.clone()).filter(|s| !s.trim().is_empty()), page).await {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let pager = Pager::of(&found, |n| page_link(R::PATH, &search, n));
    let rows = found.items.into_iter().map(R::row).collect();
    let message = query_param(&req, "done").filter(|d| d == "deleted").map(|_| format!("The {} was deleted.", R::ONE));
    let page = ListPage {
        nav: &nav,
        title: R::TITLE,
        path: R::PATH,
        search: &search,
        columns: R::COLUMNS,
        rows,
        pager,
        new_label: format!("New {}", R::ONE),
        message,
    };
    with_cookie(html(StatusCode::OK, &page, Inline::No), c)
}

fn preview_src<R: Resource>(id: Option<&str>) -> Option<String> {
    R::PREVIEW.then(|| match id {
        Some(id) => format!("{}/{id}/preview", R::PATH),
        None => format!("{}/preview", R::PATH),
    })
}

fn form_html<R: Resource>(nav: &Nav, id: Option<&str>, fields: Vec<Field>, general: Vec<String>) -> HttpResponse {
    let (title, back, back_label, action, submit) = match id {
        None => (format!("New {}", R::ONE), R::PATH.to_string(), R::TITLE.to_string(), R::PATH.to_string(), "Create"),
        Some(id) => (
            format!("Edit {}", R::ONE),
            format!("{}/{id}", R::PATH),
            format!("Back to the {}", R::ONE),
            format!("{}/{id}", R::PATH),
            "Save changes",
        ),
    };
    let status = if general.is_empty() && fields.iter().all(|f| f.error.is_none()) {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let preview = preview_src::<R>(id);
    let page = FormPage { nav, title, back, back_label, action, submit, general, fields, preview };
    let inline = if R::PREVIEW { Inline::Preview } else { Inline::No };
    html(status, &page, inline)
}

async fn new_form<R: Resource>(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (_, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    with_cookie(form_html::<R>(&nav, None, R::fields(None), Vec::new()), c)
}

/// A refused form: shown again with what was posted and each error beside its field.
fn refused_form<R: Resource>(
    nav: &Nav,
    id: Option<&str>,
    mut fields: Vec<Field>,
    posted: &Posted<'_>,
    e: &AppError,
) -> HttpResponse {
    match e {
        AppError::Invalid(errs) => {
            let general = refill(&mut fields, posted, errs.errors());
            form_html::<R>(nav, id, fields, general)
        }
        AppError::Conflict(m) => {
            let _ = refill(&mut fields, posted, &[]);
            let mut r = form_html::<R>(nav, id, fields, vec![m.clone()]);
            *r.status_mut() = StatusCode::CONFLICT;
            r
        }
        AppError::Denied(scaikey_domain::access::Denial::Forbidden, what) => {
            let _ = refill(&mut fields, posted, &[]);
            let message = format!("Outside your reach: you may not make this change ({what}).");
            let mut r = form_html::<R>(nav, id, fields, vec![message]);
            *r.status_mut() = StatusCode::FORBIDDEN;
            r
        }
        other => refused(other),
    }
}

async fn create<R: Resource>(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (form, ctx, nav, c) = match admin_form(&state, &req, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let posted = Posted(&form);
    let outcome = match R::input(&posted, true) {
        Ok(input) => R::create(&state, &ctx, input).await,
        Err(errs) => Err(AppError::Invalid(errs)),
    };
    match outcome {
        Ok(Created { shown: Some(shown), .. }) => with_cookie(shown_html(&nav, &shown), c),
        Ok(Created { id, shown: None }) => see_other(&format!("{}/{id}?done=created", R::PATH)),
        Err(e) => with_cookie(refused_form::<R>(&nav, None, R::fields(None), &posted, &e), c),
    }
}

fn shown_html(nav: &Nav, s: &Shown) -> HttpResponse {
    let page = ShownPage { nav, title: &s.title, lead: s.lead, values: &s.values, back: &s.back };
    html(StatusCode::OK, &page, Inline::No)
}

fn parse_id<R: Resource>(raw: &str) -> Option<R::Id> {
    raw.parse::<R::Id>().ok()
}

async fn edit_form<R: Resource>(state: web::Data<WebState>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(parsed) = parse_id::<R>(&id) else { return nothing_here() };
    match R::get(&state, &ctx, parsed).await {
        Ok(item) => with_cookie(form_html::<R>(&nav, Some(&id), edit_fields::<R>(&item), Vec::new()), c),
        Err(e) => refused(&e),
    }
}

const VERSION: &str = "version";

fn version_of<R: Resource>(item: &R::Item) -> String {
    R::version(item).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The edit form of `item`, carrying its version.
fn edit_fields<R: Resource>(item: &R::Item) -> Vec<Field> {
    let mut fields = R::fields(Some(item));
    fields.push(Field::hidden(VERSION, version_of::<R>(item)));
    fields
}

async fn update<R: Resource>(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (form, ctx, nav, c) = match admin_form(&state, &req, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(parsed) = parse_id::<R>(&id) else { return nothing_here() };
    let item = match R::get(&state, &ctx, parsed).await {
        Ok(i) => i,
        Err(e) => return refused(&e),
    };
    let posted = Posted(&form);
    if posted.value(VERSION) != Some(version_of::<R>(&item).as_str()) {
        // Changed since the form was opened: show what is stored now rather than overwrite it.
        let message = format!(
            "This {} was changed by someone else since you opened the form. The form now shows the stored values: make your change again.",
            R::ONE
        );
        let mut r = form_html::<R>(&nav, Some(&id), edit_fields::<R>(&item), vec![message]);
        *r.status_mut() = StatusCode::CONFLICT;
        return with_cookie(r, c);
    }
    let outcome = match R::input(&posted, false) {
        Ok(input) => R::update(&state, &ctx, parsed, input).await,
        Err(errs) => Err(AppError::Invalid(errs)),
    };
    match outcome {
        Ok(()) => see_other(&format!("{}/{}?done=saved", R::PATH, id.as_str())),
        Err(e) => with_cookie(refused_form::<R>(&nav, Some(&id), edit_fields::<R>(&item), &posted, &e), c),
    }
}

/// The detail page of `id`, with `message` on top, or the refusal of the action `failed`
/// beside its field.
async fn detail<R: Resource>(
    state: &WebState,
    ctx: &RequestContext,
    nav: &Nav,
    raw: &str,
    message: Option<String>,
    failed: Option<(&str, &AppError, &Posted<'_>)>,
) -> HttpResponse {
    let Some(id) = parse_id::<R>(raw) else { return nothing_here() };
    let item = match R::get(state, ctx, id).await {
        Ok(i) => i,
        Err(e) => return refused(&e),
    };
    let mut extras = match R::extras(state, ctx, id, &item).await {
        Ok(x) => x,
        Err(e) => return refused(&e),
    };
    let base = format!("{}/{raw}", R::PATH);
    let mut actions = std::mem::take(&mut extras.actions);
    actions.push(ActionForm::new(&base, "delete", "Delete", "Delete").destructive().hint(match R::ONE {
        "user" => "The user is signed out everywhere and can no longer sign in.",
        _ => "Deleting cannot be undone from the console.",
    }));
    let (mut error, mut status) = (None, StatusCode::OK);
    if let Some((verb, e, posted)) = failed {
        status = match e {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        match e {
            AppError::Invalid(errs) => {
                let rest = match actions.iter_mut().find(|a| a.verb == verb) {
                    Some(a) => refill(&mut a.fields, posted, errs.errors()),
                    None => errs.errors().iter().map(|e| format!("{}: {}", e.loc.join("."), e.msg)).collect(),
                };
                error = Some(rest.join(" ")).filter(|m| !m.is_empty());
            }
            AppError::Conflict(m) => error = Some(m.clone()),
            other => return refused(other),
        }
    }
    let d = Detail {
        title: R::name(&item),
        back: R::PATH.to_string(),
        back_label: R::TITLE.to_string(),
        message,
        error,
        edit: Some(format!("{base}/edit")),
        facts: R::facts(&item),
        sections: extras.sections,
        actions,
    };
    html(status, &DetailPage { nav, d }, Inline::No)
}

async fn show<R: Resource>(state: web::Data<WebState>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let message = query_param(&req, "done").and_then(|d| match d.as_str() {
        "created" => Some(format!("{} created.", capitalised(R::ONE))),
        "saved" => Some("The changes were saved.".to_string()),
        other => R::message(other).map(str::to_string),
    });
    with_cookie(detail::<R>(&state, &ctx, &nav, &id, message, None).await, c)
}

async fn act<R: Resource>(
    state: web::Data<WebState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (form, ctx, nav, c) = match admin_form(&state, &req, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (raw, verb) = path.into_inner();
    let Some(id) = parse_id::<R>(&raw) else { return nothing_here() };
    let posted = Posted(&form);
    if verb == "delete" {
        let outcome = match confirmed(&posted) {
            Ok(()) => R::delete(&state, &ctx, id).await,
            Err(e) => Err(e),
        };
        return match outcome {
            Ok(()) => see_other(&format!("{}?done=deleted", R::PATH)),
            Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
                with_cookie(detail::<R>(&state, &ctx, &nav, &raw, None, Some(("delete", &e, &posted))).await, c)
            }
            Err(e) => refused(&e),
        };
    }
    match R::act(&state, &ctx, id, &verb, &posted).await {
        Ok(Acted::Done(done)) => see_other(&format!("{}/{raw}?done={done}", R::PATH)),
        Ok(Acted::Shown(shown)) => with_cookie(shown_html(&nav, &shown), c),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            with_cookie(detail::<R>(&state, &ctx, &nav, &raw, None, Some((verb.as_str(), &e, &posted))).await, c)
        }
        Err(e) => refused(&e),
    }
}

/// Refuses an action posted without its confirmation tick.
pub(crate) fn confirmed(form: &Posted<'_>) -> Result<(), AppError> {
    if form.value("confirm") == Some("yes") {
        Ok(())
    } else {
        Err(AppError::field(scaikey_domain::validation::FieldError::new(
            "confirm",
            "missing",
            "Tick the box beside the button to confirm",
        )))
    }
}
