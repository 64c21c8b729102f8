//! ScaiKey's own clients (`scaikey_domain::application::BUILT_IN_CLIENTS`), made on start-up
//! when missing: the console's (contract §13) and the JSON login's, which owns the refresh
//! tokens of `POST /api/v1/auth/login` (contract §2). Admins may read them but never change
//! them ([`crate::applications::ApplicationService`] refuses).

use chrono::Utc;
use scaikey_domain::application::{
    ADMIN_LOGIN_CLIENT_ID, ApplicationType, ClientSettingsInput, IdTokenAlg, NewApplication,
};
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::ApplicationId;
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;

use crate::error::{AppError, RepoError};
use crate::ports::{ApplicationRecord, ApplicationRepository, ClientDirectory, IdGenerator};
use scaikey_domain::audit::action;

/// What a built-in client is.
pub(crate) struct BuiltIn<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub settings: ClientSettingsInput,
    pub token_lifetime: i64,
}

/// Creates the client when it is missing. Any process may race another on start-up: a
/// duplicate client ID is the other's success. GLOBAL, public, first party; its settings follow
/// the same rules as any application's (an invalid one is `Invalid`, nothing stored).
pub(crate) async fn ensure(
    clients: &dyn ClientDirectory,
    apps: &dyn ApplicationRepository,
    ids: &dyn IdGenerator,
    b: BuiltIn<'_>,
) -> Result<(), AppError> {
    if clients.by_client_id(b.client_id).await?.is_some() {
        return Ok(());
    }
    let settings = b.settings.validate(ScopeLevel::Global)?;
    // Public clients: no secret to mint.
    let new = NewApplication {
        name: b.name.into(),
        description: Some(b.description.into()),
        scope: ScopeLevel::Global,
        partner_id: None,
        tenant_id: None,
        settings,
        token_lifetime: b.token_lifetime,
        token_exchange_allowed: false,
        assignment_required: false,
        first_party: true,
        id_token_signed_response_alg: IdTokenAlg::Es256,
        status: Status::Active,
    };
    let record = ApplicationRecord { client_id: b.client_id.into(), secret_digest: None, app: new };
    let id = ApplicationId::generate_from(ids.next());
    let audit = AuditRecord::anonymous(
        &RequestMeta::default(),
        action::APPLICATION_CREATE,
        "application",
        AuditResult::Success,
    )
    .resource(id)
    .details(serde_json::json!({"client_id": b.client_id, "reason": "built-in client created on start-up"}));
    match apps.insert(id, &record, Utc::now(), &audit).await {
        Ok(_) | Err(RepoError::Duplicate(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates the JSON login's client when missing: a NATIVE public client with only the
/// `refresh_token` grant (no redirect URI, so no authorization request can name it).
pub async fn ensure_admin_login_client(
    clients: &dyn ClientDirectory,
    apps: &dyn ApplicationRepository,
    ids: &dyn IdGenerator,
) -> Result<(), AppError> {
    let settings = ClientSettingsInput {
        application_type: ApplicationType::Native,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        allowed_scopes: vec![],
        allowed_resources: vec![],
        grant_types: vec!["refresh_token".into()],
    };
    let b = BuiltIn {
        client_id: ADMIN_LOGIN_CLIENT_ID,
        name: "ScaiKey admin login",
        description: "Owns the refresh tokens of the JSON login (POST /api/v1/auth/login)",
        settings,
        token_lifetime: 900,
    };
    ensure(clients, apps, ids, b).await
}
