//! `/api/v1/admin/signing-keys` — platform only.

use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::keys::KeyService;
use scaikey_domain::access::Action;

use crate::dto::keys::{KeyRotation, SigningKeyList, SigningKeyOut};
use crate::error::ApiResult;
use crate::extract::{Authenticated, optional_json};
use crate::state::AppState;

/// List the signing keys.
#[utoipa::path(
    get, path = "/api/v1/admin/signing-keys", tag = "Signing Keys", operation_id = "list_signing_keys",
    description = "The published token signing keys with their state (platform admin only).",
    responses((status = 200, body = SigningKeyList, description = "Every published key, oldest first")),
    security(("bearer" = []))
)]
pub async fn list(state: web::Data<AppState>, auth: Authenticated) -> ApiResult<HttpResponse> {
    let keys = state.keys.list(&auth.0).await?;
    Ok(HttpResponse::Ok().json(SigningKeyList { items: keys.into_iter().map(SigningKeyOut::from).collect() }))
}

/// Rotate the signing keys.
#[utoipa::path(
    post, path = "/api/v1/admin/signing-keys/rotate", tag = "Signing Keys", operation_id = "rotate_signing_keys",
    description = "Make a new signing key for each named algorithm (default: both). The new key is published at once and signs after the pre-publication time (SCAIKEY_KEY_PREPUBLISH_SECONDS); the keys it replaces stay published until every token they signed has expired. With `emergency: true` the new keys sign at once and the old ones are withdrawn at once. Every ScaiKey process on the database picks the change up within a second. Platform admin only; audited as `signing_key.rotate`.",
    request_body(content = Option<KeyRotation>, description = "Optional: an empty body or `null` rotates both algorithms"),
    responses((status = 200, body = SigningKeyList, description = "The published keys after the rotation")),
    security(("bearer" = []))
)]
pub async fn rotate(
    state: web::Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    // A caller who may not rotate learns nothing from the body's checks.
    KeyService::authorize(&auth.0, Action::Write)?;
    let input = optional_json::<KeyRotation>(&req, &body)?.unwrap_or_default();
    let keys = state.keys.rotate(&auth.0, input.into_input()).await?;
    Ok(HttpResponse::Ok().json(SigningKeyList { items: keys.into_iter().map(SigningKeyOut::from).collect() }))
}
