//! SSO session administration against mocks: who reaches a session, that an admin revokes
//! only sessions of users it may manage, the audit record of a revoke, and that this process
//! refuses a revoked session's tokens at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;

use scaikey_domain::access::{Denial, Reach};
use scaikey_domain::audit::{ActorType, action};
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::role::Role;
use serde_json::json;
use ulid::Ulid;

use super::SessionService;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{MockClock, MockSessionRepository, MockUserRepository, Session, SessionFilter, SessionState};
use crate::revocation::RevocationList;
use crate::test_support::{
    ctx_client, ctx_super, ctx_tenant_admin_parts, ctx_user, fixed_clock, fixed_now, session_record, user_record,
};

fn sid(n: u64) -> SessionId {
    SessionId::generate_from(Ulid::from_parts(40, u128::from(n)))
}

fn uid(n: u64) -> UserId {
    UserId::generate_from(Ulid::from_parts(41, u128::from(n)))
}

fn other_tenant() -> (TenantId, PartnerId) {
    (TenantId::generate_from(Ulid::from_parts(99, 1)), PartnerId::generate_from(Ulid::from_parts(99, 2)))
}

fn service(sessions: MockSessionRepository, users: MockUserRepository) -> (SessionService, Arc<RevocationList>) {
    let revocations = Arc::new(RevocationList::new());
    let svc = SessionService::new(Arc::new(sessions), Arc::new(users), revocations.clone(), Arc::new(fixed_clock()));
    (svc, revocations)
}

/// A repository whose `get` answers `s` for its ID and nothing for any other.
fn holding(s: Session) -> MockSessionRepository {
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(move |id| Ok((id == s.id).then(|| s.clone())));
    sessions
}

/// A user repository that knows `user` with `roles` in `tenant` of `partner`.
fn users_with(
    user: UserId,
    tenant: Option<TenantId>,
    partner: Option<PartnerId>,
    roles: &'static [Role],
) -> MockUserRepository {
    let mut users = MockUserRepository::new();
    users
        .expect_get()
        .withf(move |id| *id == user)
        .returning(move |id| Ok(Some(user_record(id, tenant, partner, roles))));
    users
}

#[tokio::test]
async fn callers_without_an_admin_role_or_scope_are_refused_before_any_lookup() {
    let svc = SessionService::new(
        Arc::new(MockSessionRepository::new()),
        Arc::new(MockUserRepository::new()),
        Arc::new(RevocationList::new()),
        Arc::new(MockClock::new()),
    );
    let person = ctx_user(&[], None, None);
    assert!(matches!(svc.get(&person, sid(1)).await, Err(AppError::Denied(Denial::Forbidden, "Session"))));
    assert!(matches!(svc.revoke(&person, sid(1)).await, Err(AppError::Denied(Denial::Forbidden, "Session"))));
    let e = svc.list(&person, &SessionFilter::default(), PageRequest::default()).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, "Session")), "{e:?}");
    // A platform token that may read sessions may not revoke one.
    let reader = ctx_client(&["admin:read"]);
    let e = svc.revoke(&reader, sid(1)).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::PlatformScopeMissing, "Session")), "{e:?}");
}

#[tokio::test]
async fn sessions_outside_a_tenant_admins_tenant_are_not_found_and_stay_open() {
    let (ctx, _, _) = ctx_tenant_admin_parts();
    let (theirs, their_partner) = other_tenant();
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(move |id| {
        Ok(Some(if id == sid(1) {
            session_record(id, uid(1), Some(theirs), Some(their_partner))
        } else {
            // A platform user's session (a super admin's).
            session_record(id, uid(2), None, None)
        }))
    });
    sessions.expect_revoke().never();
    // The users are never read: the session is out of reach first.
    let (svc, revocations) = service(sessions, MockUserRepository::new());
    for id in [sid(1), sid(2)] {
        assert!(matches!(svc.get(&ctx, id).await, Err(AppError::NotFound("Session"))), "{id}");
        assert!(matches!(svc.revoke(&ctx, id).await, Err(AppError::NotFound("Session"))), "{id}");
    }
    assert!(revocations.is_empty());
}

#[tokio::test]
async fn an_unknown_session_is_not_found() {
    let mut sessions = MockSessionRepository::new();
    sessions.expect_get().returning(|_| Ok(None));
    sessions.expect_revoke().never();
    let (svc, _) = service(sessions, MockUserRepository::new());
    assert!(matches!(svc.get(&ctx_super(), sid(9)).await, Err(AppError::NotFound("Session"))));
    assert!(matches!(svc.revoke(&ctx_super(), sid(9)).await, Err(AppError::NotFound("Session"))));
}

#[tokio::test]
async fn lists_are_asked_for_within_the_callers_reach_at_the_clocks_time() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let filter = SessionFilter { user_id: Some(uid(1)), tenant_id: None, state: SessionState::Ended };
    let want = filter.clone();
    let mut sessions = MockSessionRepository::new();
    sessions
        .expect_list()
        .withf(move |r, f, now, _| {
            *r == Reach::Tenant { tenant: own, partner: Some(partner) } && *f == want && *now == fixed_now()
        })
        .times(1)
        .returning(move |_, _, _, p| {
            Ok(Page { items: vec![session_record(sid(1), uid(1), Some(own), Some(partner))], request: p, total: 1 })
        });
    let (svc, _) = service(sessions, MockUserRepository::new());
    let page = svc.list(&ctx, &filter, PageRequest::default()).await.unwrap();
    assert_eq!(page.items.iter().map(|s| s.id).collect::<Vec<_>>(), [sid(1)]);
}

#[tokio::test]
async fn a_revoke_is_audited_in_the_sessions_tenant_and_its_tokens_are_refused_at_once() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let open = session_record(sid(1), uid(1), Some(own), Some(partner));
    let mut sessions = holding(open.clone());
    sessions
        .expect_revoke()
        .withf(move |id, now, a| {
            *id == sid(1)
                && *now == fixed_now()
                && a.action == action::SESSION_REVOKE
                && a.resource_type == "session"
                && a.resource_id == Some(sid(1).to_string())
                && a.actor_type == ActorType::User
                && (a.tenant_id, a.partner_id) == (Some(own), Some(partner))
                && a.details == json!({"user_id": uid(1).to_string()})
        })
        .times(1)
        .returning(move |_, now, _| Ok(Some(Session { revoked_at: Some(now), ..open.clone() })));
    let (svc, revocations) = service(sessions, users_with(uid(1), Some(own), Some(partner), &[]));
    let s = svc.revoke(&ctx, sid(1)).await.unwrap();
    assert_eq!(s.revoked_at, Some(fixed_now()));
    assert!(revocations.is_revoked(sid(1)));
    assert_eq!(revocations.len(), 1);
}

#[tokio::test]
async fn a_tenant_admin_cannot_revoke_the_session_of_its_partner_admin() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut sessions = holding(session_record(sid(1), uid(1), Some(own), Some(partner)));
    sessions.expect_revoke().never();
    let (svc, revocations) = service(sessions, users_with(uid(1), Some(own), Some(partner), &[Role::PartnerAdmin]));
    let e = svc.revoke(&ctx, sid(1)).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, "Session")), "{e:?}");
    assert!(!revocations.is_revoked(sid(1)));
    // Reading it is fine: the role rule guards changes only.
    assert_eq!(svc.get(&ctx, sid(1)).await.unwrap().id, sid(1));
}

#[tokio::test]
async fn a_session_that_had_already_expired_is_answered_as_it_is_and_not_listed_as_revoked() {
    let expired = Session {
        expires_at: fixed_now() - chrono::Duration::minutes(1),
        ..session_record(sid(1), uid(1), None, None)
    };
    let mut sessions = holding(expired.clone());
    let answer = expired.clone();
    sessions.expect_revoke().times(1).returning(move |_, _, _| Ok(Some(answer.clone())));
    let (svc, revocations) = service(sessions, users_with(uid(1), None, None, &[Role::SuperAdmin]));
    assert_eq!(svc.revoke(&ctx_super(), sid(1)).await.unwrap(), expired);
    assert!(revocations.is_empty());
}

#[tokio::test]
async fn the_session_of_a_user_deleted_meanwhile_can_still_be_revoked() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let open = session_record(sid(1), uid(1), Some(own), Some(partner));
    let mut sessions = holding(open.clone());
    sessions
        .expect_revoke()
        .times(1)
        .returning(move |_, now, _| Ok(Some(Session { revoked_at: Some(now), ..open.clone() })));
    let mut users = MockUserRepository::new();
    users.expect_get().times(1).returning(|_| Ok(None));
    let (svc, revocations) = service(sessions, users);
    svc.revoke(&ctx, sid(1)).await.unwrap();
    assert!(revocations.is_revoked(sid(1)));
}

#[tokio::test]
async fn a_session_gone_between_read_and_revoke_is_not_found() {
    let mut sessions = holding(session_record(sid(1), uid(1), None, None));
    sessions.expect_revoke().times(1).returning(|_, _, _| Ok(None));
    let (svc, revocations) = service(sessions, users_with(uid(1), None, None, &[]));
    assert!(matches!(svc.revoke(&ctx_super(), sid(1)).await, Err(AppError::NotFound("Session"))));
    assert!(revocations.is_empty());
}
