//! The review flow against mocks: the domain decides, the repository only stores, and a request
//! that changed under a review is read again and decided anew.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::application::{ApplicationType, ClientSettingsInput};
use scaikey_domain::id::RegistrationRequestId;
use scaikey_domain::registration::{RegistrationRequest, RegistrationStatus};
use scaikey_domain::scope::ScopeLevel;
use ulid::Ulid;

use super::RegistrationService;
use crate::error::AppError;
use crate::ports::{MockClientSecrets, MockRegistrationRepository, MockTenantRepository, Review};
use crate::test_support::{ctx_super, fixed_clock, ids};

fn now() -> DateTime<Utc> {
    use crate::ports::Clock;
    fixed_clock().now()
}

fn request(status: RegistrationStatus, expires_in: Duration) -> RegistrationRequest {
    RegistrationRequest {
        id: RegistrationRequestId::generate_from(Ulid::from_parts(5, 1)),
        scope: ScopeLevel::Global,
        partner_id: None,
        tenant_id: None,
        name: "Reports".into(),
        description: None,
        settings: ClientSettingsInput {
            application_type: ApplicationType::Spa,
            redirect_uris: vec!["https://spa.example/cb".into()],
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            allowed_scopes: vec!["openid".into()],
            allowed_resources: vec![],
            grant_types: vec!["authorization_code".into()],
        }
        .validate(ScopeLevel::Global)
        .unwrap(),
        contact_email: "dev@example.com".into(),
        contact_name: None,
        organization_name: None,
        website_url: None,
        status,
        created_by: None,
        reviewed_by: None,
        reviewed_at: None,
        review_notes: None,
        rejection_reason: None,
        application_id: None,
        expires_at: now() + expires_in,
        created_at: now() - Duration::hours(1),
        updated_at: now() - Duration::hours(1),
    }
}

fn service(repo: MockRegistrationRepository) -> RegistrationService {
    RegistrationService::new(
        Arc::new(repo),
        Arc::new(MockTenantRepository::new()),
        Arc::new(MockClientSecrets::new()),
        Arc::new(fixed_clock()),
        Arc::new(ids(9)),
        Duration::days(7),
    )
}

/// A repository whose reads answer `reads` in turn and whose stores answer `stores` in turn,
/// keeping every review it was asked to store.
fn repo(
    reads: Vec<RegistrationRequest>,
    stores: Vec<bool>,
    kept: Arc<Mutex<Vec<Review>>>,
) -> MockRegistrationRepository {
    let mut repo = MockRegistrationRepository::new();
    let mut reads = reads.into_iter();
    repo.expect_get().returning(move |_| Ok(reads.next()));
    repo.expect_dynamic_client().returning(|_| Ok(None));
    let mut stores = stores.into_iter();
    repo.expect_store_review().returning(move |read, review, at, _| {
        kept.lock().unwrap().push(review.clone());
        if !stores.next().unwrap() {
            return Ok(None);
        }
        let mut stored = read.clone();
        stored.status = review.outcome.status;
        stored.reviewed_by.clone_from(&review.outcome.reviewed_by);
        stored.updated_at = at;
        let app = review.application.as_ref().map(|(id, rec)| {
            let mut a = crate::test_support::service_app(1);
            a.id = *id;
            a.client_id.clone_from(&rec.client_id);
            a
        });
        Ok(Some((stored, app)))
    });
    repo
}

#[tokio::test]
async fn an_approval_stores_what_the_domain_decided_with_the_application() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let pending = request(RegistrationStatus::Pending, Duration::hours(1));
    let svc = service(repo(vec![pending], vec![true], kept.clone()));
    let out =
        svc.approve(&ctx_super(), RegistrationRequestId::generate_from(Ulid::from_parts(5, 1)), Some(" ok ")).await;
    let out = out.unwrap();
    assert_eq!(out.request.status, RegistrationStatus::Approved);
    assert!(out.client_secret.is_none(), "a public SPA has no secret");
    let kept = kept.lock().unwrap();
    let review = &kept[0];
    assert_eq!(review.outcome.status, RegistrationStatus::Approved);
    assert_eq!(review.outcome.review_notes.as_deref(), Some("ok"));
    assert_eq!(review.outcome.reviewed_at, Some(now()));
    assert_eq!(review.outcome.reviewed_by, Some(ctx_super().principal.actor_id()));
    let (app_id, record) = review.application.as_ref().unwrap();
    assert_eq!((out.app.id, record.app.name.as_str(), record.app.first_party), (*app_id, "Reports", true));
}

#[tokio::test]
async fn a_request_approved_meanwhile_is_read_again_and_refused_with_409() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let pending = request(RegistrationStatus::Pending, Duration::hours(1));
    let mut approved = pending.clone();
    approved.status = RegistrationStatus::Approved;
    let svc = service(repo(vec![pending, approved], vec![false], kept.clone()));
    let id = RegistrationRequestId::generate_from(Ulid::from_parts(5, 1));
    let err = svc.approve(&ctx_super(), id, None).await.unwrap_err();
    assert!(
        matches!(&err, AppError::Conflict(m) if m == "Cannot approve a registration request that is APPROVED"),
        "{err:?}"
    );
    assert_eq!(kept.lock().unwrap().len(), 1, "the second decision is refused before anything is stored");
}

#[tokio::test]
async fn a_request_past_its_expiry_is_expired_and_nothing_is_stored() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let late = request(RegistrationStatus::Pending, Duration::zero());
    let svc = service(repo(vec![late], vec![], kept.clone()));
    let id = RegistrationRequestId::generate_from(Ulid::from_parts(5, 1));
    let err = svc.cancel(&ctx_super(), id).await.unwrap_err();
    assert!(matches!(&err, AppError::Conflict(m) if m.ends_with("that is EXPIRED")), "{err:?}");
    assert!(kept.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_rejection_without_a_reason_is_the_callers_input_error() {
    for reason in [None, Some(""), Some("  \n ")] {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let pending = request(RegistrationStatus::Pending, Duration::hours(1));
        let svc = service(repo(vec![pending], vec![], kept.clone()));
        let id = RegistrationRequestId::generate_from(Ulid::from_parts(5, 1));
        let err = svc.reject(&ctx_super(), id, reason).await.unwrap_err();
        let AppError::Invalid(errs) = &err else { panic!("{err:?}") };
        assert_eq!(errs.errors()[0].loc, ["reason"], "{reason:?}");
        assert!(kept.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_rejection_stores_its_trimmed_reason_and_the_reviewer() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let pending = request(RegistrationStatus::Pending, Duration::hours(1));
    let svc = service(repo(vec![pending], vec![true], kept.clone()));
    let id = RegistrationRequestId::generate_from(Ulid::from_parts(5, 1));
    let out = svc.reject(&ctx_super(), id, Some("  not ours  ")).await.unwrap();
    assert_eq!(out.status, RegistrationStatus::Rejected);
    let kept = kept.lock().unwrap();
    assert_eq!(kept[0].outcome.rejection_reason.as_deref(), Some("not ours"));
    assert!(kept[0].application.is_none());
}
