//! Values shared by the domain's unit tests.

use chrono::{DateTime, Utc};

use crate::application::{Application, ApplicationType, IdTokenAlg};
use crate::id::{ApplicationId, TenantId};
use crate::scope::ScopeLevel;
use crate::status::Status;

/// A fixed instant.
pub(crate) fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
}

/// An active TENANT application `ck_web` (or `ck_<type>`) of `application_type`, with
/// `https://app.example.com/cb`, `openid email profile offline_access`, the resource
/// `https://api.example.com`, and the code and refresh grants (client credentials for SERVICE).
pub(crate) fn application(application_type: ApplicationType) -> Application {
    Application {
        id: ApplicationId::generate_from(ulid::Ulid::from_parts(1, 1)),
        client_id: format!("ck_{}", application_type.as_str().to_lowercase()),
        name: "App".into(),
        description: None,
        application_type,
        scope: ScopeLevel::Tenant,
        partner_id: None,
        tenant_id: Some(TenantId::generate_from(ulid::Ulid::from_parts(1, 2))),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        allowed_scopes: ["openid", "email", "profile", "offline_access"].map(String::from).to_vec(),
        allowed_resources: vec!["https://api.example.com".into()],
        grant_types: application_type.default_grant_types(),
        token_lifetime: 3600,
        token_exchange_allowed: false,
        assignment_required: false,
        first_party: true,
        id_token_signed_response_alg: IdTokenAlg::Es256,
        status: Status::Active,
        has_secret: application_type.is_confidential(),
        created_at: t0(),
        updated_at: t0(),
    }
}

/// Partner `n`'s ID.
pub(crate) fn partner_id(n: u64) -> crate::id::PartnerId {
    crate::id::PartnerId::generate_from(ulid::Ulid::from_parts(n, 7))
}

/// An active partner (`partner_id(1)`).
pub(crate) fn partner() -> crate::partner::Partner {
    crate::partner::Partner {
        id: partner_id(1),
        name: "Resellers".into(),
        slug: "resellers".into(),
        status: Status::Active,
        contact_email: None,
        limits: crate::limits::PartnerLimits::default(),
        created_at: t0(),
        updated_at: t0(),
    }
}

/// An active tenant of [`partner`].
pub(crate) fn tenant() -> crate::tenant::Tenant {
    crate::tenant::Tenant {
        id: TenantId::generate_from(ulid::Ulid::from_parts(1, 8)),
        partner_id: Some(partner_id(1)),
        name: "Acme".into(),
        slug: "acme".into(),
        status: Status::Active,
        contact_email: None,
        settings: serde_json::json!({}),
        branding: serde_json::json!({}),
        created_at: t0(),
        updated_at: t0(),
    }
}

/// An active user of [`tenant`] with `roles`.
pub(crate) fn user(roles: crate::role::Roles) -> crate::user::User {
    let t = tenant();
    crate::user::User {
        id: crate::id::UserId::generate_from(ulid::Ulid::from_parts(1, 9)),
        tenant_id: Some(t.id),
        partner_id: t.partner_id,
        email: "ana@acme.example".into(),
        first_name: None,
        last_name: None,
        display_name: None,
        status: Status::Active,
        roles,
        custom_attributes: serde_json::json!({}),
        mfa_enabled: false,
        mfa_methods: Vec::new(),
        email_verified: false,
        password_set: true,
        last_login_at: None,
        created_at: t0(),
        updated_at: t0(),
    }
}
