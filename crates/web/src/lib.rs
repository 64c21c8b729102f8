//! # scaikey-web
//!
//! ScaiKey's browser-facing inbound adapter (contract §8–9): the authorization endpoint, the
//! hosted login and consent pages and the person's own `/account` page, server-rendered with askama (templates checked at compile
//! time, no JavaScript needed but for passkeys: `/assets/passkey.js`, the one script, served from
//! this origin). It parses requests, asks [`scaikey_app::oidc::OidcService`] what
//! comes next, and renders that; it decides no rule of the protocol.
//!
//! May depend on the domain, the app services and actix-web; never on another adapter.
//!
//! Security of every page: CSRF double-submit token on each form, the SSO cookie
//! `scaikey_session` (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` for an https issuer), and
//! `Content-Security-Policy` with `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer`, `Cache-Control: no-store`.

mod account;
mod console;
mod federation;
mod pages;
mod recovery;
mod second_factor;

use std::sync::Arc;

use actix_web::web;
use scaikey_app::oidc::OidcService;

pub use pages::{SESSION_COOKIE, STYLESHEET};

/// What the handlers need.
#[derive(Clone)]
pub struct WebState {
    /// The provider's flows.
    pub oidc: Arc<OidcService>,
    /// The account pages.
    pub account: Arc<scaikey_app::account::AccountService>,
    /// Reset and invitation links.
    pub links: Arc<scaikey_app::mail_links::MailLinkService>,
    /// Mark cookies `Secure` (the issuer is https).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: scaikey_domain::client_ip::TrustedProxies,
    /// The console's sign-in (`None`: no console on this server).
    pub console: Option<Arc<scaikey_app::console::ConsoleService>>,
    /// Dashboard counts and activity.
    pub audit: Arc<scaikey_app::audit::AuditService>,
    /// Partners.
    pub partners: scaikey_app::partners::PartnerService,
    /// Tenants.
    pub tenants: scaikey_app::tenants::TenantService,
    /// Users.
    pub users: scaikey_app::users::UserService,
    /// Registration requests.
    pub registrations: scaikey_app::registrations::RegistrationService,
    /// Sessions.
    pub sessions: scaikey_app::sessions::SessionService,
    /// Identity providers.
    pub identity_providers: scaikey_app::federation::IdpService,
    /// Groups.
    pub groups: scaikey_app::groups::GroupService,
    /// Applications.
    pub applications: scaikey_app::applications::ApplicationService,
    /// MCP agents.
    pub agents: scaikey_app::federation::AgentService,
}

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState").field("secure_cookies", &self.secure_cookies).finish_non_exhaustive()
    }
}

/// Registers the browser-facing routes. Expects `web::Data<WebState>` in the app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oauth/authorize")
            .route(web::get().to(pages::authorize))
            .route(web::post().to(pages::authorize_post)),
    )
    .service(web::resource("/login").route(web::get().to(pages::login_page)).route(web::post().to(pages::login_submit)))
    .route("/login/second-factor", web::post().to(second_factor::submit))
    .route("/login/idp", web::post().to(federation::start))
    .route("/oauth/callback/{idp_id}", web::get().to(federation::callback))
    .route("/saml/{idp_id}/metadata", web::get().to(federation::saml_metadata))
    .route("/saml/{idp_id}/acs", web::post().to(federation::saml_acs))
    .route("/saml/{idp_id}/continue", web::get().to(federation::saml_continue))
    .service(
        web::resource("/login/forgot")
            .route(web::get().to(recovery::forgot_page))
            .route(web::post().to(recovery::forgot_submit)),
    )
    .service(
        web::resource("/login/reset")
            .route(web::get().to(recovery::reset_page))
            .route(web::post().to(recovery::reset_submit)),
    )
    .service(
        web::resource("/consent")
            .route(web::get().to(pages::consent_page))
            .route(web::post().to(pages::consent_submit)),
    )
    .service(web::resource("/oauth/logout").route(web::get().to(pages::logout)).route(web::post().to(pages::logout)))
    .service(
        web::resource("/logout").route(web::get().to(pages::logout_page)).route(web::post().to(pages::logout_submit)),
    )
    .route("/account", web::get().to(account::show))
    .route("/account/login", web::post().to(account::login))
    .route("/account/profile", web::post().to(account::profile))
    .route("/account/password", web::post().to(account::password))
    .route("/account/sessions/revoke", web::post().to(account::revoke_session))
    .route("/account/consents/revoke", web::post().to(account::revoke_consent))
    .route("/account/mfa/totp", web::post().to(account::totp_begin))
    .route("/account/mfa/totp/confirm", web::post().to(account::totp_confirm))
    .route("/account/mfa/totp/remove", web::post().to(account::totp_remove))
    .route("/account/mfa/passkey", web::post().to(account::passkey_begin))
    .route("/account/mfa/passkey/confirm", web::post().to(account::passkey_confirm))
    .route("/account/mfa/passkey/remove", web::post().to(account::passkey_remove))
    .route("/console", web::get().to(console::dashboard))
    .route("/console/login", web::get().to(console::login))
    .route("/console/callback", web::get().to(console::callback))
    .route("/console/logout", web::post().to(console::logout))
    .route("/console/registrations", web::get().to(console::registrations))
    .route("/console/registrations/{id}/{verb}", web::post().to(console::review))
    .route("/console/audit", web::get().to(console::audit))
    .route("/console/activity.svg", web::get().to(console::activity_chart))
    .route("/console/sessions", web::get().to(console::sessions))
    .route("/console/sessions/{id}/revoke", web::post().to(console::revoke_session))
    .route("/assets/console.css", web::get().to(console::stylesheet))
    .route("/assets/console.js", web::get().to(console::script))
    .route("/assets/scaikey.css", web::get().to(pages::stylesheet))
    .route("/assets/passkey.js", web::get().to(pages::passkey_script));
    console::resources(cfg);
}
