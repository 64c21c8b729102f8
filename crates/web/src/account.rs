//! `/account`: the signed-in person's page (profile, password, sessions, consents) and its own
//! login form. Every form carries the CSRF token; every change answers with a 303 back to the
//! page and a fixed notice (nothing from the request is reflected), or the page again with the
//! service's message.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use scaikey_app::AppError;
use scaikey_app::account::{AccountLogin, AccountView, Me};
use scaikey_app::mfa::{PasskeyPrompt, TotpSetup};

use crate::WebState;
use crate::pages::{
    Inline, LoginPage, csrf_token, error_page, form_value, html, internal, meta, posted_form, see_other,
    session_cookie, signed_in, with_cookie,
};
use crate::second_factor::{SecondFactorPage, SetupView, codes_html, step_html, throttled};

struct SessionRow {
    id: String,
    current: bool,
    user_agent: String,
    ip: Option<String>,
    created_at: String,
}

struct ConsentRow {
    id: String,
    name: String,
    scopes: String,
    granted_at: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    csrf: &'a str,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    display_name: &'a str,
    policy_hint: String,
    min_length: usize,
    sessions: Vec<SessionRow>,
    consents: Vec<ConsentRow>,
    notice: Option<&'static str>,
    error: Option<&'a str>,
    totp_since: Option<String>,
    recovery_left: i64,
    mfa_required: bool,
    totp_offered: bool,
    passkeys: Vec<PasskeyRow>,
    passkeys_shown: bool,
    passkey_offered: bool,
}

struct PasskeyRow {
    id: String,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
}

#[derive(Template)]
#[template(path = "passkey_setup.html")]
struct PasskeySetupPage<'a> {
    csrf: &'a str,
    challenge: &'a str,
    options: &'a str,
    name: &'a str,
    error: Option<&'a str>,
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The notice a `done` marker stands for; unknown markers show none.
fn notice(req: &HttpRequest) -> Option<&'static str> {
    let q = web::Query::<Vec<(String, String)>>::from_query(req.query_string()).ok()?;
    let done = q.iter().find(|(k, _)| k == "done").map(|(_, v)| v.as_str())?;
    Some(match done {
        "profile" => "Your profile was saved.",
        "session" => "That session was signed out.",
        "consent" => "The application's access was withdrawn.",
        "password" => "Your password was changed. Sign in again with the new one.",
        "mfa_removed" => "The authenticator app was removed.",
        "passkey_added" => "The passkey was added.",
        "passkey_removed" => "The passkey was removed.",
        _ => return None,
    })
}

fn account_html(req: &HttpRequest, v: &AccountView, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let page = AccountPage {
        csrf: &csrf,
        email: &v.user.email,
        first_name: v.user.first_name.as_deref().unwrap_or_default(),
        last_name: v.user.last_name.as_deref().unwrap_or_default(),
        display_name: v.user.display_name.as_deref().unwrap_or_default(),
        policy_hint: v.password_policy.describe(),
        min_length: v.password_policy.min_length,
        sessions: v
            .sessions
            .iter()
            .map(|s| SessionRow {
                id: s.id.to_string(),
                current: s.id == v.current_session,
                user_agent: s.user_agent.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "Unknown browser".into()),
                ip: s.ip.clone(),
                created_at: when(s.created_at),
            })
            .collect(),
        consents: v
            .consents
            .iter()
            .map(|c| ConsentRow {
                id: c.application_id.to_string(),
                name: c.application_name.clone(),
                scopes: c.scopes.join(" "),
                granted_at: when(c.granted_at),
            })
            .collect(),
        notice: if error.is_none() { notice(req) } else { None },
        error,
        totp_since: v.mfa.totp_since.map(when),
        recovery_left: v.mfa.recovery_codes_left,
        mfa_required: v.mfa.policy.required,
        totp_offered: v.mfa.policy.offers(scaikey_domain::mfa::Method::Totp),
        passkeys: v
            .mfa
            .passkeys
            .iter()
            .map(|k| PasskeyRow {
                id: k.id.clone(),
                name: k.name.clone(),
                created_at: when(k.created_at),
                last_used_at: k.last_used_at.map(when),
            })
            .collect(),
        passkeys_shown: v.mfa.passkeys_available
            && (v.mfa.policy.offers(scaikey_domain::mfa::Method::Webauthn) || !v.mfa.passkeys.is_empty()),
        passkey_offered: v.mfa.passkeys_available && v.mfa.policy.offers(scaikey_domain::mfa::Method::Webauthn),
    };
    with_cookie(html(status, &page, Inline::No), new_cookie)
}

fn login_html(req: &HttpRequest, email: &str, tenant: &str, error: Option<&str>, status: StatusCode) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let page = LoginPage::account(&csrf, email, tenant, error);
    let notice_page = html(status, &page, Inline::No);
    with_cookie(notice_page, new_cookie)
}

async fn signed_in_person(state: &WebState, req: &HttpRequest) -> Result<Option<Me>, HttpResponse> {
    state.account.me(session_cookie(req).as_ref()).await.map_err(|e| internal(&e))
}

/// `GET /account`: the page, or its login form without a session.
pub async fn show(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let me = match signed_in_person(&state, &req).await {
        Ok(Some(me)) => me,
        Ok(None) => {
            let message = notice(&req).filter(|n| n.starts_with("Your password"));
            return login_html(&req, "", "", message, StatusCode::OK);
        }
        Err(r) => return r,
    };
    match state.account.view(&me).await {
        Ok(v) => account_html(&req, &v, StatusCode::OK, None),
        Err(e) => internal(&e),
    }
}

/// `POST /account/login`.
pub async fn login(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let (Some(email), Some(password)) = (form_value(&form, "email"), form_value(&form, "password")) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let tenant = form_value(&form, "tenant").unwrap_or_default();
    match state.account.login(email, password, Some(tenant), &meta(&req)).await {
        Ok(AccountLogin::SignedIn(cookie, expires_at)) => {
            signed_in(see_other("/account"), &cookie, expires_at, state.secure_cookies)
        }
        Ok(AccountLogin::Refused(message, retry_after)) => {
            throttled(login_html(&req, email, tenant, Some(&message), StatusCode::UNAUTHORIZED), retry_after)
        }
        Ok(AccountLogin::SecondStep(v)) => step_html(&req, &v, "/login/second-factor", StatusCode::OK),
        Err(e) => internal(&e),
    }
}

/// The first message of a refusal, for the page.
fn message(e: &AppError) -> Option<String> {
    match e {
        AppError::Invalid(v) => v.errors().first().map(|f| f.msg.clone()),
        AppError::NotFound(what) => Some(format!("{what} not found.")),
        _ => None,
    }
}

/// Runs one change for the signed-in person: CSRF and session checked first; success goes
/// back to the page with `done`, a refusal shows the page with its message.
async fn change<F, Fut>(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
    done: &str,
    f: F,
) -> HttpResponse
where
    F: FnOnce(web::Data<WebState>, Me, Vec<(String, String)>, scaikey_domain::audit::RequestMeta) -> Fut,
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let me = match signed_in_person(&state, &req).await {
        Ok(Some(me)) => me,
        Ok(None) => return see_other("/account"),
        Err(r) => return r,
    };
    let result = f(state.clone(), me.clone(), form, meta(&req)).await;
    match result {
        Ok(()) => see_other(&format!("/account?done={done}")),
        Err(e) => match message(&e) {
            Some(m) => match state.account.me(session_cookie(&req).as_ref()).await {
                Ok(Some(me)) => match state.account.view(&me).await {
                    Ok(v) => account_html(&req, &v, StatusCode::UNPROCESSABLE_ENTITY, Some(&m)),
                    Err(e) => internal(&e),
                },
                Ok(None) => see_other("/account"),
                Err(e) => internal(&e),
            },
            None => internal(&e),
        },
    }
}

fn field(form: &[(String, String)], name: &str) -> String {
    form_value(form, name).unwrap_or_default().to_string()
}

/// `POST /account/profile`.
pub async fn profile(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "profile", |s, me, form, meta| async move {
        s.account
            .update_profile(
                &me,
                &field(&form, "first_name"),
                &field(&form, "last_name"),
                &field(&form, "display_name"),
                &meta,
            )
            .await
    })
    .await
}

/// `POST /account/password`.
pub async fn password(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "password", |s, me, form, meta| async move {
        s.account.change_password(&me, &field(&form, "password"), &field(&form, "new_password"), &meta).await
    })
    .await
}

/// `POST /account/sessions/revoke`.
pub async fn revoke_session(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "session", |s, me, form, meta| async move {
        let id = field(&form, "session_id").parse().map_err(|_| AppError::NotFound("Session"))?;
        s.account.revoke_session(&me, id, &meta).await
    })
    .await
}

/// `POST /account/consents/revoke`.
pub async fn revoke_consent(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "consent", |s, me, form, meta| async move {
        let id = field(&form, "application_id").parse().map_err(|_| AppError::NotFound("Consent"))?;
        s.account.revoke_consent(&me, id, &meta).await
    })
    .await
}

/// The authenticator-app setup page of `/account`.
fn setup_html(req: &HttpRequest, setup: &TotpSetup, error: Option<&str>, status: StatusCode) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let page = SecondFactorPage {
        action: "/account/mfa/totp/confirm",
        csrf: &csrf,
        pending: &setup.sealed,
        setup: Some(SetupView::of(setup)),
        required: false,
        code: true,
        passkey: None,
        enrol_passkey: None,
        error,
    };
    with_cookie(html(status, &page, Inline::No), new_cookie)
}

/// The signed-in person of a posted form, or the answer to give instead.
async fn posted_person(
    state: &WebState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Me, Vec<(String, String)>), HttpResponse> {
    let form = posted_form(req, body).map_err(|(status, message)| error_page(status, message))?;
    match signed_in_person(state, req).await? {
        Some(me) => Ok((me, form)),
        None => Err(see_other("/account")),
    }
}

/// `POST /account/mfa/totp`: a new secret and its QR code.
pub async fn totp_begin(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (me, _) = match posted_person(&state, &req, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.account.begin_totp(&me).await {
        Ok(setup) => setup_html(&req, &setup, None, StatusCode::OK),
        Err(AppError::Conflict(m)) => error_page(StatusCode::CONFLICT, &m),
        Err(e) => internal(&e),
    }
}

/// `POST /account/mfa/totp/confirm`: stores the app once its first code matches, then shows
/// the recovery codes once.
pub async fn totp_confirm(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (me, form) = match posted_person(&state, &req, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sealed = form_value(&form, "pending").unwrap_or_default();
    let code = form_value(&form, "code").unwrap_or_default();
    match state.account.confirm_totp(&me, sealed, code, &meta(&req)).await {
        Ok(Some(codes)) => codes_html(&codes, "/account"),
        Ok(None) => match state.account.reopen_totp(&me, sealed).await {
            Ok(Some(setup)) => {
                setup_html(&req, &setup, Some(scaikey_app::mfa::CODE_MISMATCH), StatusCode::UNPROCESSABLE_ENTITY)
            }
            Ok(None) => error_page(StatusCode::BAD_REQUEST, "The form is malformed."),
            Err(e) => internal(&e),
        },
        Err(AppError::Conflict(m)) => error_page(StatusCode::CONFLICT, &m),
        Err(e) => internal(&e),
    }
}

/// `POST /account/mfa/totp/remove` (with a current code).
pub async fn totp_remove(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "mfa_removed", |s, me, form, meta| async move {
        s.account.remove_totp(&me, &field(&form, "code"), &meta).await
    })
    .await
}

fn passkey_setup_html(
    req: &HttpRequest,
    prompt: &PasskeyPrompt,
    name: &str,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let page = PasskeySetupPage { csrf: &csrf, challenge: &prompt.challenge, options: &prompt.options, name, error };
    with_cookie(html(status, &page, Inline::PasskeyScript), new_cookie)
}

/// `POST /account/mfa/passkey`: the page that creates a passkey with the browser.
pub async fn passkey_begin(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (me, _) = match posted_person(&state, &req, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match state.account.begin_passkey(&me).await {
        Ok(prompt) => passkey_setup_html(&req, &prompt, "", None, StatusCode::OK),
        Err(AppError::Conflict(m)) => error_page(StatusCode::CONFLICT, &m),
        Err(e) => internal(&e),
    }
}

/// `POST /account/mfa/passkey/confirm`: stores the passkey the browser created; on a refusal
/// the page again with a new challenge (the old one is used up).
pub async fn passkey_confirm(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (me, form) = match posted_person(&state, &req, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = field(&form, "name");
    let result = state
        .account
        .confirm_passkey(&me, &field(&form, "challenge"), &name, &field(&form, "passkey_response"), &meta(&req))
        .await;
    let refusal = match result {
        Ok(true) => return see_other("/account?done=passkey_added"),
        Ok(false) => scaikey_app::mfa::PASSKEY_REFUSED.to_string(),
        Err(AppError::Conflict(m)) => m,
        Err(e) => match message(&e) {
            Some(m) => m,
            None => return internal(&e),
        },
    };
    match state.account.begin_passkey(&me).await {
        Ok(prompt) => passkey_setup_html(&req, &prompt, &name, Some(&refusal), StatusCode::UNPROCESSABLE_ENTITY),
        Err(AppError::Conflict(m)) => error_page(StatusCode::CONFLICT, &m),
        Err(e) => internal(&e),
    }
}

/// `POST /account/mfa/passkey/remove` (`id`).
pub async fn passkey_remove(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    change(state, req, body, "passkey_removed", |s, me, form, meta| async move {
        match s.account.remove_passkey(&me, &field(&form, "id"), &meta).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AppError::NotFound("Passkey")),
            Err(AppError::Conflict(m)) => {
                Err(AppError::field(scaikey_domain::validation::FieldError::new("id", "mfa_required", m)))
            }
            Err(e) => Err(e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_page_labels_every_field_and_escapes_what_people_typed() {
        let html = AccountPage {
            csrf: "tok",
            email: "ana@acme.example",
            first_name: "<Ana>",
            last_name: "O\"Ortiz",
            display_name: "",
            policy_hint: "at least 12 characters".into(),
            min_length: 12,
            sessions: vec![SessionRow {
                id: "ses_1".into(),
                current: true,
                user_agent: "<script>".into(),
                ip: Some("127.0.0.1".into()),
                created_at: "2026-12-01 12:00 UTC".into(),
            }],
            consents: vec![ConsentRow {
                id: "app_1".into(),
                name: "Orders & Co".into(),
                scopes: "openid email".into(),
                granted_at: "2026-12-01 12:00 UTC".into(),
            }],
            notice: Some("Your profile was saved."),
            error: None,
            totp_since: Some("2026-12-01 12:00 UTC".into()),
            recovery_left: 9,
            mfa_required: false,
            totp_offered: true,
            passkeys: vec![PasskeyRow {
                id: "01JPASSKEY".into(),
                name: "<Yubi>".into(),
                created_at: "2026-12-01 12:00 UTC".into(),
                last_used_at: None,
            }],
            passkeys_shown: true,
            passkey_offered: true,
        }
        .render()
        .unwrap_or_default();
        for needle in [
            r#"<label for="first_name">"#,
            r#"<label for="new_password">"#,
            r#"name="new_password""#,
            r#"name="password""#,
            r#"name="csrf" value="tok""#,
            r#"value="&#60;Ana&#62;""#,
            r#"value="O&#34;Ortiz""#,
            "Orders &#38; Co",
            "This browser",
            r#"<button type="submit">Change password</button>"#,
            r#"<label for="remove_code">"#,
            "9 recovery codes left",
            "at least 12 characters",
            r#"role="status""#,
            "&#60;Yubi&#62;",
            r#"name="id" value="01JPASSKEY""#,
            r#"action="/account/mfa/passkey""#,
        ] {
            assert!(html.contains(needle), "{needle} missing in {html}");
        }
        assert!(!html.contains("<script"), "no script, and nothing typed is markup");
    }
}
