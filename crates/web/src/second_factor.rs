//! The second step of a login (contract §10): the code form, the authenticator-app setup a
//! tenant's `mfa_required` forces, and the recovery codes shown once after setting one up.
//! The same pages serve `/account`'s own setup.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use scaikey_app::mfa::PasskeyPrompt;
use scaikey_app::mfa::TotpSetup;
use scaikey_app::oidc::{After, SecondStepView, StepAnswer, StepKind, StepResult};

use crate::WebState;
use crate::pages::{
    Inline, csrf_token, error_page, form_value, html, internal, meta, posted_form, signed_in, with_cookie,
};

/// A setup as the page shows it.
pub(crate) struct SetupView {
    qr_svg: String,
    secret: String,
    uri: String,
}

impl SetupView {
    pub(crate) fn of(s: &TotpSetup) -> SetupView {
        SetupView { qr_svg: qr_svg(&s.otpauth_uri), secret: s.secret_base32.clone(), uri: s.otpauth_uri.clone() }
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
pub(crate) struct SecondFactorPage<'a> {
    pub(crate) action: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) pending: &'a str,
    pub(crate) setup: Option<SetupView>,
    pub(crate) required: bool,
    pub(crate) code: bool,
    pub(crate) passkey: Option<&'a PasskeyPrompt>,
    pub(crate) enrol_passkey: Option<&'a PasskeyPrompt>,
    pub(crate) error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(crate) struct RecoveryCodesPage<'a> {
    pub(crate) codes: &'a [String],
    pub(crate) next: &'a str,
}

/// The QR code of `data` as inline SVG (no script, no style: the pages' CSP allows it).
pub(crate) fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(192, 192)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build();
            // Drop the XML declaration: the SVG is inlined into HTML.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "QR code not rendered");
            String::new()
        }
    }
}

/// The second-step page of a pending login.
pub(crate) fn step_html(req: &HttpRequest, v: &SecondStepView, action: &str, status: StatusCode) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let (setup, required, enrol_passkey) = match &v.kind {
        StepKind::Code => (None, false, None),
        StepKind::Enrol(s) => (Some(SetupView::of(s)), true, None),
        StepKind::EnrolPasskey(p) => (None, true, Some(p)),
    };
    let page = SecondFactorPage {
        action,
        csrf: &csrf,
        pending: &v.pending,
        setup,
        required,
        code: v.code,
        passkey: v.passkey.as_ref(),
        enrol_passkey,
        error: v.error.as_deref(),
    };
    let inline = if v.passkey.is_some() || enrol_passkey.is_some() { Inline::PasskeyScript } else { Inline::No };
    with_cookie(throttled(html(status, &page, inline), v.retry_after), new_cookie)
}

/// A page of a throttled try (`retry_after` set) answers 429 with `Retry-After`; any other is
/// left as it is.
pub(crate) fn throttled(mut r: HttpResponse, retry_after: Option<i64>) -> HttpResponse {
    if let Some(s) = retry_after {
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// The recovery codes of a new enrolment, with the way on.
pub(crate) fn codes_html(codes: &[String], next: &str) -> HttpResponse {
    html(StatusCode::OK, &RecoveryCodesPage { codes, next }, Inline::No)
}

/// Where a passed second step goes on to.
fn next_of(after: &After) -> String {
    match after {
        After::Account => "/account".to_string(),
        After::Interaction(i) => {
            format!("/login?{}", serde_urlencoded::to_string([("interaction", i)]).unwrap_or_default())
        }
    }
}

/// `POST /login/second-factor`.
pub async fn submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let Some(pending) = form_value(&form, "pending") else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let answer = match (form_value(&form, "passkey_response").filter(|r| !r.is_empty()), form_value(&form, "code")) {
        (Some(response), _) => {
            StepAnswer::Passkey { challenge: form_value(&form, "passkey_challenge").unwrap_or_default(), response }
        }
        (None, Some(code)) => StepAnswer::Code(code),
        (None, None) => return error_page(StatusCode::BAD_REQUEST, "The form is incomplete."),
    };
    match state.oidc.second_step(pending, answer, &meta(&req)).await {
        Ok(StepResult::SignedIn { cookie, expires_at, after, recovery_codes }) => {
            let next = next_of(&after);
            let page = match recovery_codes {
                Some(codes) => codes_html(&codes, &next),
                None => crate::pages::see_other(&next),
            };
            signed_in(page, &cookie, expires_at, state.secure_cookies)
        }
        Ok(StepResult::Again(v)) => step_html(&req, &v, "/login/second-factor", StatusCode::UNAUTHORIZED),
        Ok(StepResult::Expired) => error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in took too long. Go back to the application and start again.",
        ),
        Err(e) => internal(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_inline_svg_and_the_page_labels_its_field() {
        let svg = qr_svg("otpauth://totp/ScaiKey:ana%40acme.example?secret=JBSWY3DPEHPK3PXP&issuer=ScaiKey");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(!svg.contains("<script") && !svg.contains("style="));
        let html = SecondFactorPage {
            action: "/login/second-factor",
            csrf: "tok",
            pending: "p<>",
            setup: Some(SetupView { qr_svg: svg, secret: "JBSW".into(), uri: "otpauth://x?a=1&b=2".into() }),
            required: true,
            code: true,
            passkey: None,
            enrol_passkey: None,
            error: Some("<bad>"),
        }
        .render()
        .unwrap();
        assert!(html.contains(r#"<label for="code">"#) && html.contains(r#"name="code""#));
        assert!(html.contains("p&#60;&#62;") || html.contains("p&lt;&gt;"), "pending escaped");
        assert!(!html.contains("<bad>"));
        assert!(html.contains("Your organisation requires"));
        let codes = RecoveryCodesPage { codes: &["abcd-efgh-ijkl-mnop".into()], next: "/account" }.render().unwrap();
        assert!(codes.contains("abcd-efgh-ijkl-mnop") && codes.contains(r#"href="/account""#));
    }
}
