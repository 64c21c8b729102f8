//! Route table.

use actix_web::{HttpResponse, web};

pub mod auth;
pub mod meta;
pub mod partners;
pub mod tenants;

/// Registers every route. Wrap the app in `NormalizePath::trim()` so paths work with and
/// without a trailing slash, without a redirect.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1").service(web::resource("/auth/login").route(web::post().to(auth::login))).service(
            web::scope("/admin")
                .service(
                    web::resource("/partners")
                        .route(web::get().to(partners::list))
                        .route(web::post().to(partners::create)),
                )
                .service(
                    web::resource("/partners/{id}")
                        .route(web::get().to(partners::get))
                        .route(web::patch().to(partners::update))
                        .route(web::delete().to(partners::delete)),
                )
                .service(
                    web::resource("/tenants")
                        .route(web::get().to(tenants::list))
                        .route(web::post().to(tenants::create)),
                )
                .service(
                    web::resource("/tenants/{id}")
                        .route(web::get().to(tenants::get))
                        .route(web::patch().to(tenants::update))
                        .route(web::delete().to(tenants::delete)),
                ),
        ),
    )
    .route("/healthz", web::get().to(meta::healthz))
    .route("/readyz", web::get().to(meta::readyz))
    .route("/.well-known/jwks.json", web::get().to(meta::jwks))
    .route("/.well-known/openid-configuration", web::get().to(meta::discovery))
    .route("/openapi.json", web::get().to(meta::openapi_json))
    .default_service(web::to(not_found));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({"detail": "Not Found"}))
}
