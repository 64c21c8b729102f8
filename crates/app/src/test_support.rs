//! Fixtures for service unit tests.

use chrono::{TimeZone, Utc};
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::principal::{Principal, UserPrincipal};
use scaikey_domain::role::Role;
use ulid::Ulid;

use crate::context::RequestContext;
use crate::ports::{MockClock, MockIdGenerator};

pub fn fixed_clock() -> MockClock {
    let mut c = MockClock::new();
    c.expect_now().returning(|| Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default());
    c
}

pub fn ids(seed: u64) -> MockIdGenerator {
    let mut g = MockIdGenerator::new();
    let mut n = 0u128;
    g.expect_next().returning(move || {
        n += 1;
        Ulid::from_parts(seed, n)
    });
    g
}

fn user_ctx(roles: &[Role], tenant: Option<TenantId>, partner: Option<PartnerId>) -> RequestContext {
    RequestContext {
        principal: Principal::User(UserPrincipal {
            user_id: UserId::generate_from(Ulid::from_parts(1, 1)),
            session_id: SessionId::generate_from(Ulid::from_parts(1, 2)),
            tenant_id: tenant,
            partner_id: partner,
            roles: roles.iter().copied().collect(),
        }),
        meta: RequestMeta::default(),
    }
}

pub fn ctx_super() -> RequestContext {
    user_ctx(&[Role::SuperAdmin], None, None)
}

pub fn ctx_tenant_admin_parts() -> (RequestContext, TenantId, PartnerId) {
    let t = TenantId::generate_from(Ulid::from_parts(10, 1));
    let p = PartnerId::generate_from(Ulid::from_parts(10, 2));
    (user_ctx(&[Role::TenantAdmin], Some(t), Some(p)), t, p)
}

pub fn ctx_tenant_admin() -> RequestContext {
    ctx_tenant_admin_parts().0
}

/// An active GLOBAL SERVICE application `ck_<n>` allowed `admin:read`, `reports:read`, the
/// resource `https://reports.example` and client_credentials.
pub fn service_app(n: u64) -> scaikey_domain::application::Application {
    use scaikey_domain::application::{Application, ApplicationType};
    use scaikey_domain::id::ApplicationId;
    use scaikey_domain::scope::ScopeLevel;
    use scaikey_domain::status::Status;
    let at = Utc.timestamp_opt(1_800_000_000, 0).single().unwrap_or_default();
    Application {
        id: ApplicationId::generate_from(Ulid::from_parts(1, u128::from(n))),
        client_id: format!("ck_{n}"),
        name: "Svc".into(),
        description: None,
        application_type: ApplicationType::Service,
        scope: ScopeLevel::Global,
        partner_id: None,
        tenant_id: None,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        allowed_origins: vec![],
        allowed_scopes: vec!["admin:read".into(), "reports:read".into()],
        allowed_resources: vec!["https://reports.example".into()],
        grant_types: vec!["client_credentials".into()],
        token_lifetime: 600,
        token_exchange_allowed: false,
        assignment_required: false,
        first_party: true,
        id_token_signed_response_alg: scaikey_domain::application::IdTokenAlg::Es256,
        status: Status::Active,
        has_secret: true,
        created_at: at,
        updated_at: at,
    }
}
