//! Route table.

use actix_web::{HttpResponse, web};

pub mod applications;
pub mod audit;
pub mod auth;
pub mod dcr;
pub mod federation;
pub mod groups;
pub mod keys;
pub mod meta;
pub mod oauth;
pub mod partners;
pub mod registrations;
pub mod sessions;
pub mod tenants;
pub mod users;

/// Registers every route. Wrap the app in `NormalizePath::trim()` so paths work with and
/// without a trailing slash, without a redirect.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let admin = web::scope("/admin")
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service;
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                crate::audit_writes::record_if_refused_response(&res);
                crate::audit_writes::note_if_written(&res);
                Ok(res)
            }
        })
        .service(
            web::resource("/identity-providers")
                .route(web::get().to(federation::idp_list))
                .route(web::post().to(federation::idp_create)),
        )
        .service(
            web::resource("/identity-providers/{id}")
                .route(web::get().to(federation::idp_get))
                .route(web::patch().to(federation::idp_update))
                .route(web::delete().to(federation::idp_delete)),
        )
        .service(
            web::resource("/agents")
                .route(web::get().to(federation::agent_list))
                .route(web::post().to(federation::agent_create)),
        )
        .service(
            web::resource("/agents/{id}")
                .route(web::get().to(federation::agent_get))
                .route(web::patch().to(federation::agent_update))
                .route(web::delete().to(federation::agent_delete)),
        )
        .service(web::resource("/agents/{id}/rotate-secret").route(web::post().to(federation::agent_rotate_secret)))
        .service(web::resource("/audit").route(web::get().to(audit::list)))
        .service(web::resource("/audit/{id}").route(web::get().to(audit::get)))
        .service(web::resource("/dashboard/stats").route(web::get().to(audit::stats)))
        .service(web::resource("/dashboard/activity").route(web::get().to(audit::activity)))
        .service(
            web::resource("/partners").route(web::get().to(partners::list)).route(web::post().to(partners::create)),
        )
        .service(
            web::resource("/partners/{id}")
                .route(web::get().to(partners::get))
                .route(web::patch().to(partners::update))
                .route(web::delete().to(partners::delete)),
        )
        .service(web::resource("/tenants").route(web::get().to(tenants::list)).route(web::post().to(tenants::create)))
        .service(
            web::resource("/tenants/{id}")
                .route(web::get().to(tenants::get))
                .route(web::patch().to(tenants::update))
                .route(web::delete().to(tenants::delete)),
        )
        .service(web::resource("/users").route(web::get().to(users::list)).route(web::post().to(users::create)))
        .service(
            web::resource("/users/{id}")
                .route(web::get().to(users::get))
                .route(web::patch().to(users::update))
                .route(web::delete().to(users::delete)),
        )
        .service(web::resource("/users/{id}/reset-password").route(web::post().to(users::reset_password)))
        .service(web::resource("/users/{id}/mfa/disable").route(web::post().to(users::disable_mfa)))
        .service(web::resource("/users/{id}/invite").route(web::post().to(users::invite)))
        .service(web::resource("/users/{id}/identities").route(web::get().to(users::identities)))
        .service(web::resource("/users/{id}/identities/{idp_id}").route(web::delete().to(users::unlink)))
        .service(web::resource("/groups").route(web::get().to(groups::list)).route(web::post().to(groups::create)))
        .service(
            web::resource("/groups/{id}")
                .route(web::get().to(groups::get))
                .route(web::patch().to(groups::update))
                .route(web::delete().to(groups::delete)),
        )
        .service(web::resource("/groups/{id}/members").route(web::post().to(groups::add_member)))
        .service(web::resource("/groups/{id}/members/{user_id}").route(web::delete().to(groups::remove_member)))
        .service(web::resource("/groups/{id}/nested").route(web::post().to(groups::add_child)))
        .service(web::resource("/groups/{id}/nested/{child_id}").route(web::delete().to(groups::remove_child)))
        .service(web::resource("/signing-keys").route(web::get().to(keys::list)))
        .service(web::resource("/signing-keys/rotate").route(web::post().to(keys::rotate)))
        .service(web::resource("/sessions").route(web::get().to(sessions::list)))
        .service(web::resource("/sessions/{id}").route(web::get().to(sessions::get)))
        .service(web::resource("/sessions/{id}/revoke").route(web::post().to(sessions::revoke)))
        .service(
            web::resource("/applications")
                .route(web::get().to(applications::list))
                .route(web::post().to(applications::create)),
        )
        .service(
            web::resource("/applications/{id}")
                .route(web::get().to(applications::get))
                .route(web::patch().to(applications::update))
                .route(web::delete().to(applications::delete)),
        )
        .service(web::resource("/applications/{id}/rotate-secret").route(web::post().to(applications::rotate_secret)))
        .service(
            web::resource("/applications/{id}/assignments")
                .route(web::get().to(applications::assignments))
                .route(web::post().to(applications::assign)),
        )
        .service(web::resource("/applications/{id}/assignments/{asg}").route(web::delete().to(applications::unassign)))
        .service(
            web::resource("/applications/{id}/effective-users").route(web::get().to(applications::effective_users)),
        )
        .service(
            web::resource("/registration-requests")
                .route(web::get().to(registrations::list))
                .route(web::post().to(registrations::create)),
        )
        .service(
            web::resource("/registration-requests/{id}")
                .route(web::get().to(registrations::get))
                .route(web::delete().to(registrations::cancel)),
        )
        .service(web::resource("/registration-requests/{id}/approve").route(web::post().to(registrations::approve)))
        .service(web::resource("/registration-requests/{id}/reject").route(web::post().to(registrations::reject)));
    cfg.service(
        web::scope("/api/v1").service(web::resource("/auth/login").route(web::post().to(auth::login))).service(admin),
    )
    .service(web::resource("/oauth/token").route(web::post().to(oauth::token)).route(preflight()))
    .route("/oauth/introspect", web::post().to(oauth::introspect))
    .service(web::resource("/oauth/revoke").route(web::post().to(oauth::revoke)).route(preflight()))
    .service(web::resource("/oauth/register").route(web::post().to(dcr::register)).route(public_preflight()))
    .service(web::resource("/oauth/register/{client_id}").route(web::get().to(dcr::read)).route(public_preflight()))
    .service(
        web::resource("/oauth/userinfo")
            .route(web::get().to(oauth::userinfo))
            .route(web::post().to(oauth::userinfo))
            .route(preflight()),
    )
    .route("/healthz", web::get().to(meta::healthz))
    .route("/metrics", web::get().to(crate::metrics::scrape))
    .route("/readyz", web::get().to(meta::readyz))
    .service(web::resource("/.well-known/jwks.json").route(web::get().to(meta::jwks)).route(public_preflight()))
    .service(
        web::resource("/.well-known/openid-configuration")
            .route(web::get().to(meta::discovery))
            .route(public_preflight()),
    )
    .service(
        web::resource("/.well-known/oauth-authorization-server")
            .route(web::get().to(meta::authorization_server_metadata))
            .route(public_preflight()),
    )
    .service(
        web::resource([
            "/.well-known/oauth-authorization-server/{tail:.+}",
            "/.well-known/openid-configuration/{tail:.+}",
        ])
        .route(web::get().to(meta::path_inserted_metadata))
        .route(public_preflight()),
    )
    .route("/openapi.json", web::get().to(meta::openapi_json))
    .default_service(web::to(not_found));
}

/// The CORS preflight of an endpoint browser-based clients call.
fn preflight() -> actix_web::Route {
    web::method(actix_web::http::Method::OPTIONS).to(crate::cors::preflight)
}

/// The CORS preflight of a public document.
fn public_preflight() -> actix_web::Route {
    web::method(actix_web::http::Method::OPTIONS).to(crate::cors::public_preflight)
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"detail": "Not Found"}))
}
