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

/// A login throttle over a store that holds nobody back and accepts every failure.
pub fn open_throttle() -> std::sync::Arc<crate::throttle::LoginThrottle> {
    let mut repo = crate::ports::mfa::MockThrottleRepository::new();
    repo.expect_failures().returning(|_| Ok(vec![]));
    repo.expect_record_failure().returning(|_, _| Ok(()));
    repo.expect_clear().returning(|_| Ok(()));
    let mut audit = crate::ports::MockAuditSink::new();
    audit.expect_submit().returning(|_, _| ());
    std::sync::Arc::new(crate::throttle::LoginThrottle::new(
        std::sync::Arc::new(repo),
        std::sync::Arc::new(audit),
        std::sync::Arc::new(fixed_clock()),
    ))
}

/// Second factors over `repo`, with a sealer that keeps bytes as they are and secrets whose
/// digest is the text itself.
pub fn mfa_over(
    repo: crate::ports::mfa::MockMfaRepository,
    throttle: std::sync::Arc<crate::throttle::LoginThrottle>,
) -> std::sync::Arc<crate::mfa::MfaService> {
    let mut sealer = crate::ports::MockSecretSealer::new();
    sealer.expect_seal().returning(|p, _| Ok(p.to_vec()));
    sealer.expect_open().returning(|b, _| Ok(b.to_vec()));
    let mut secrets = crate::ports::MockClientSecrets::new();
    secrets.expect_digest().returning(|s| s.as_bytes().to_vec());
    secrets.expect_random_bytes().returning(|n| Ok(vec![7; n]));
    std::sync::Arc::new(crate::mfa::MfaService::new(
        std::sync::Arc::new(repo),
        std::sync::Arc::new(sealer),
        std::sync::Arc::new(secrets),
        throttle,
        std::sync::Arc::new(fixed_clock()),
        "scaikey.test".into(),
    ))
}

/// No user has a second factor.
pub fn no_mfa() -> std::sync::Arc<crate::mfa::MfaService> {
    let mut repo = crate::ports::mfa::MockMfaRepository::new();
    repo.expect_totp().returning(|_| Ok(None));
    mfa_over(repo, open_throttle())
}

/// The time [`fixed_clock`] answers.
pub fn fixed_now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).single().unwrap_or_default()
}

/// A signed-in user (ID `Ulid(1, 1)`, session `Ulid(1, 2)`) with these roles and home; no roles
/// is a person without admin rights.
pub fn ctx_user(roles: &[Role], tenant: Option<TenantId>, partner: Option<PartnerId>) -> RequestContext {
    user_ctx(roles, tenant, partner)
}

/// A GLOBAL application's client token carrying `scopes`.
pub fn ctx_client(scopes: &[&str]) -> RequestContext {
    use scaikey_domain::id::ApplicationId;
    use scaikey_domain::principal::ClientPrincipal;
    use scaikey_domain::scope::ScopeLevel;
    RequestContext {
        principal: Principal::Client(ClientPrincipal {
            app_id: ApplicationId::generate_from(Ulid::from_parts(1, 3)),
            client_id: "ck_platform".into(),
            scope_level: ScopeLevel::Global,
            tenant_id: None,
            partner_id: None,
            scopes: scopes.iter().map(|s| (*s).to_string()).collect(),
        }),
        meta: RequestMeta::default(),
    }
}

/// An active, live user `u@x.test` with a password, created and changed at [`fixed_now`].
pub fn user_record(
    id: UserId,
    tenant: Option<TenantId>,
    partner: Option<PartnerId>,
    roles: &[Role],
) -> scaikey_domain::user::User {
    scaikey_domain::user::User {
        id,
        tenant_id: tenant,
        partner_id: partner,
        email: "u@x.test".into(),
        first_name: None,
        last_name: None,
        display_name: None,
        status: scaikey_domain::status::Status::Active,
        roles: roles.iter().copied().collect(),
        custom_attributes: serde_json::json!({}),
        mfa_enabled: false,
        mfa_methods: Vec::new(),
        email_verified: true,
        password_set: true,
        last_login_at: None,
        created_at: fixed_now(),
        updated_at: fixed_now(),
    }
}

/// An active tenant `t` with these settings.
pub fn tenant_record(
    id: TenantId,
    partner: Option<PartnerId>,
    settings: serde_json::Value,
) -> scaikey_domain::tenant::Tenant {
    scaikey_domain::tenant::Tenant {
        id,
        partner_id: partner,
        name: "T".into(),
        slug: "t".into(),
        status: scaikey_domain::status::Status::Active,
        contact_email: None,
        settings,
        branding: serde_json::json!({}),
        created_at: fixed_now(),
        updated_at: fixed_now(),
    }
}

/// An open session of `user`, opened an hour before [`fixed_now`] and ending seven hours after.
pub fn session_record(
    id: SessionId,
    user: UserId,
    tenant: Option<TenantId>,
    partner: Option<PartnerId>,
) -> crate::ports::Session {
    crate::ports::Session {
        id,
        user_id: user,
        tenant_id: tenant,
        partner_id: partner,
        created_at: fixed_now() - chrono::Duration::hours(1),
        last_seen_at: fixed_now() - chrono::Duration::hours(1),
        expires_at: fixed_now() + chrono::Duration::hours(7),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("test".into()),
        revoked_at: None,
    }
}

/// An active user `u@x.test` as a login candidate (password hash `phc`), in a tenant with these
/// settings, with these second factors.
pub fn login_candidate(
    user: UserId,
    tenant: Option<TenantId>,
    settings: serde_json::Value,
    methods: Vec<scaikey_domain::mfa::Method>,
) -> crate::ports::LoginCandidate {
    use scaikey_domain::status::Status;
    crate::ports::LoginCandidate {
        user_id: user,
        tenant_id: tenant,
        partner_id: None,
        email: "u@x.test".into(),
        password_hash: Some("phc".into()),
        roles: scaikey_domain::role::Roles::default(),
        status: Status::Active,
        tenant_status: tenant.map(|_| Status::Active),
        partner_status: None,
        tenant_settings: settings,
        mfa_methods: methods,
    }
}

/// A login throttle that holds every try back for 30 seconds (the account's fifth failure was
/// just now); it is never told of failures or successes.
pub fn closed_throttle() -> std::sync::Arc<crate::throttle::LoginThrottle> {
    use scaikey_domain::throttle::{Failures, Scope};
    let mut repo = crate::ports::mfa::MockThrottleRepository::new();
    repo.expect_failures()
        .returning(|_| Ok(vec![(Scope::Account, Failures { count: 5, first_at: fixed_now(), last_at: fixed_now() })]));
    let mut audit = crate::ports::MockAuditSink::new();
    audit.expect_submit().returning(|_, _| ());
    std::sync::Arc::new(crate::throttle::LoginThrottle::new(
        std::sync::Arc::new(repo),
        std::sync::Arc::new(audit),
        std::sync::Arc::new(fixed_clock()),
    ))
}

/// A login throttle that holds nobody back and counts the failures and the clears it is told
/// of; the account has a count on record (one failure, not enough to wait) from the start when
/// `on_record`, and from any failure counted, until the next clear.
pub fn counting_throttle(
    failed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    cleared: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    on_record: bool,
) -> std::sync::Arc<crate::throttle::LoginThrottle> {
    use scaikey_domain::throttle::{Failures, Scope};
    use std::sync::atomic::{AtomicBool, Ordering};
    let on_record = std::sync::Arc::new(AtomicBool::new(on_record));
    let mut repo = crate::ports::mfa::MockThrottleRepository::new();
    let seen = on_record.clone();
    repo.expect_failures().returning(move |_| {
        let one = Failures { count: 1, first_at: fixed_now(), last_at: fixed_now() };
        Ok(if seen.load(Ordering::SeqCst) { vec![(Scope::Account, one)] } else { vec![] })
    });
    let counted = on_record.clone();
    repo.expect_record_failure().returning(move |_, _| {
        failed.fetch_add(1, Ordering::SeqCst);
        counted.store(true, Ordering::SeqCst);
        Ok(())
    });
    repo.expect_clear().returning(move |_| {
        cleared.fetch_add(1, Ordering::SeqCst);
        on_record.store(false, Ordering::SeqCst);
        Ok(())
    });
    let mut audit = crate::ports::MockAuditSink::new();
    audit.expect_submit().returning(|_, _| ());
    std::sync::Arc::new(crate::throttle::LoginThrottle::new(
        std::sync::Arc::new(repo),
        std::sync::Arc::new(audit),
        std::sync::Arc::new(fixed_clock()),
    ))
}
