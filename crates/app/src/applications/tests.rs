//! Assignments against mocks: the domain decides who fits the application, the repository
//! stores only on the assignee as it was read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use scaikey_domain::id::{PartnerId, TenantId, UserId};
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use scaikey_domain::user::User;
use serde_json::json;
use ulid::Ulid;

use super::ApplicationService;
use crate::client_cache::CachedApplications;
use crate::error::AppError;
use crate::ports::{
    Assignee, Assignment, MockApplicationRepository, MockClientDirectory, MockClientSecrets, MockGroupRepository,
    MockTenantRepository, MockUserRepository,
};
use crate::revocation::RevocationList;
use crate::test_support::{ctx_super, fixed_clock, ids, service_app};

fn pid(n: u64) -> PartnerId {
    PartnerId::generate_from(Ulid::from_parts(n, 7))
}

fn tid(n: u64) -> TenantId {
    TenantId::generate_from(Ulid::from_parts(n, 8))
}

fn user_in(tenant: Option<TenantId>, partner: Option<PartnerId>) -> User {
    User {
        id: UserId::generate_from(Ulid::from_parts(4, 4)),
        tenant_id: tenant,
        partner_id: partner,
        email: "ada@example.com".into(),
        first_name: None,
        last_name: None,
        display_name: None,
        status: Status::Active,
        roles: Default::default(),
        custom_attributes: json!({}),
        mfa_enabled: false,
        mfa_methods: Vec::new(),
        email_verified: true,
        password_set: true,
        last_login_at: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

type Stored = Arc<Mutex<Vec<(TenantId, Option<PartnerId>)>>>;

/// A service over a PARTNER application of partner 1, a user as given, and a repository whose
/// `assign` answers `stores` (`false`: the assignee changed since it was read).
fn service(user: User, stores: bool, kept: Stored) -> ApplicationService {
    let mut app = service_app(1);
    app.scope = ScopeLevel::Partner;
    app.partner_id = Some(pid(1));
    let mut apps = MockApplicationRepository::new();
    let got = app.clone();
    apps.expect_get().returning(move |_| Ok(Some(got.clone())));
    apps.expect_assign().returning(move |id, app, _, home, at, _| {
        kept.lock().unwrap().push(home);
        Ok(stores.then(|| Assignment {
            id,
            application_id: app.id,
            assignee: Assignee::User(UserId::generate_from(Ulid::from_parts(4, 4))),
            tenant_id: home.0,
            partner_id: home.1,
            created_at: at,
        }))
    });
    let mut users = MockUserRepository::new();
    users.expect_get().returning(move |_| Ok(Some(user.clone())));
    ApplicationService::new(
        Arc::new(apps),
        Arc::new(MockTenantRepository::new()),
        Arc::new(users),
        Arc::new(MockGroupRepository::new()),
        Arc::new(MockClientSecrets::new()),
        Arc::new(RevocationList::new()),
        Arc::new(CachedApplications::new(Arc::new(MockClientDirectory::new()), std::time::Duration::ZERO)),
        Arc::new(fixed_clock()),
        Arc::new(ids(6)),
    )
}

async fn assign(svc: &ApplicationService) -> Result<Assignment, AppError> {
    let user = UserId::generate_from(Ulid::from_parts(4, 4)).to_string();
    svc.assign(&ctx_super(), service_app(1).id, Some(&user), None).await
}

fn message(e: &AppError) -> String {
    let AppError::Invalid(errs) = e else { panic!("{e:?}") };
    assert_eq!(errs.errors()[0].loc, ["user_id"]);
    errs.errors()[0].msg.clone()
}

#[tokio::test]
async fn a_user_of_the_partners_tenant_is_stored_with_the_home_it_was_read_in() {
    let kept = Stored::default();
    let svc = service(user_in(Some(tid(1)), Some(pid(1))), true, kept.clone());
    let a = assign(&svc).await.unwrap();
    assert_eq!((a.tenant_id, a.partner_id), (tid(1), Some(pid(1))));
    assert_eq!(*kept.lock().unwrap(), [(tid(1), Some(pid(1)))]);
}

#[tokio::test]
async fn users_the_application_does_not_serve_are_refused_before_anything_is_stored() {
    for (user, want) in [
        (user_in(Some(tid(2)), Some(pid(2))), "Outside the application's PARTNER scope"),
        (user_in(Some(tid(3)), None), "Outside the application's PARTNER scope"),
        (user_in(None, None), "Only users and groups of a tenant can be assigned"),
    ] {
        let kept = Stored::default();
        let svc = service(user, true, kept.clone());
        assert_eq!(message(&assign(&svc).await.unwrap_err()), want);
        assert!(kept.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_user_gone_or_moved_since_it_was_read_is_not_found() {
    let kept = Stored::default();
    let svc = service(user_in(Some(tid(1)), Some(pid(1))), false, kept.clone());
    assert_eq!(message(&assign(&svc).await.unwrap_err()), "User not found");
    assert_eq!(kept.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_write_drops_the_client_cache_entry_even_when_storage_fails() {
    let app = service_app(1);
    let mut directory = MockClientDirectory::new();
    let found = app.clone();
    directory.expect_by_client_id().times(2).returning(move |_| Ok(Some(Arc::new((found.clone(), None)))));
    let clients = Arc::new(CachedApplications::new(Arc::new(directory), std::time::Duration::from_secs(60)));
    let mut apps = MockApplicationRepository::new();
    let got = app.clone();
    apps.expect_get().returning(move |_| Ok(Some(got.clone())));
    apps.expect_delete().times(1).returning(|_, _, _| Err(crate::RepoError::Unavailable(anyhow::anyhow!("down"))));
    let svc = ApplicationService::new(
        Arc::new(apps),
        Arc::new(MockTenantRepository::new()),
        Arc::new(MockUserRepository::new()),
        Arc::new(MockGroupRepository::new()),
        Arc::new(MockClientSecrets::new()),
        Arc::new(RevocationList::new()),
        clients.clone(),
        Arc::new(fixed_clock()),
        Arc::new(ids(6)),
    );
    use crate::ports::ClientDirectory;
    assert!(clients.by_client_id("ck_1").await.unwrap().is_some());
    assert_eq!(clients.len(), 1);
    assert!(matches!(svc.delete(&ctx_super(), app.id).await, Err(AppError::Unavailable(_))));
    assert!(clients.is_empty(), "a delete that may have landed must not leave the old record served");
    // The next lookup reads storage again (times(2) above fails the test otherwise).
    assert!(clients.by_client_id("ck_1").await.unwrap().is_some());
}
