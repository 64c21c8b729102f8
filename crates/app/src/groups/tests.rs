//! Group administration against mocks: who reaches a group, what is validated before storage,
//! and which single write (with which audit record) each change hands to the repository.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;

use scaikey_domain::access::{Denial, Reach};
use scaikey_domain::audit::action;
use scaikey_domain::group::{Group, GroupInput, NestingRefusal};
use scaikey_domain::id::{GroupId, PartnerId, TenantId, UserId};
use scaikey_domain::role::Role;
use scaikey_domain::validation::FieldError;
use serde_json::json;
use ulid::Ulid;

use super::GroupService;
use crate::error::{AppError, RepoError};
use crate::page::{Page, PageRequest};
use crate::ports::{
    GroupFilter, GroupSummary, MemberSummary, MockClock, MockGroupRepository, MockIdGenerator, MockTenantRepository,
};
use crate::test_support::{
    ctx_client, ctx_super, ctx_tenant_admin_parts, ctx_user, fixed_clock, fixed_now, ids, tenant_record,
};

fn gid(n: u64) -> GroupId {
    GroupId::generate_from(Ulid::from_parts(20, u128::from(n)))
}

fn uid(n: u64) -> UserId {
    UserId::generate_from(Ulid::from_parts(21, u128::from(n)))
}

fn other_tenant() -> (TenantId, PartnerId) {
    (TenantId::generate_from(Ulid::from_parts(99, 1)), PartnerId::generate_from(Ulid::from_parts(99, 2)))
}

fn group(id: GroupId, tenant: TenantId, partner: Option<PartnerId>) -> Group {
    Group {
        id,
        tenant_id: tenant,
        partner_id: partner,
        name: "Ops".into(),
        description: None,
        created_at: fixed_now(),
        updated_at: fixed_now(),
    }
}

fn service(groups: MockGroupRepository, tenants: MockTenantRepository) -> GroupService {
    GroupService::new(Arc::new(groups), Arc::new(tenants), Arc::new(fixed_clock()), Arc::new(ids(7)))
}

/// A service whose ports expect nothing: any storage call, clock read or new ID panics.
fn untouchable() -> GroupService {
    GroupService::new(
        Arc::new(MockGroupRepository::new()),
        Arc::new(MockTenantRepository::new()),
        Arc::new(MockClock::new()),
        Arc::new(MockIdGenerator::new()),
    )
}

/// A repository whose `get` answers every group as living in `tenant` of `partner`.
fn groups_in(tenant: TenantId, partner: Option<PartnerId>) -> MockGroupRepository {
    let mut groups = MockGroupRepository::new();
    groups.expect_get().returning(move |id| Ok(Some(group(id, tenant, partner))));
    groups
}

fn named(name: &str) -> GroupInput {
    GroupInput { name: Some(name.into()), ..GroupInput::default() }
}

/// The single field error of an `Invalid`, as `(loc, kind)`.
fn field_error(e: &AppError) -> (Vec<String>, &'static str) {
    let AppError::Invalid(errs) = e else { panic!("expected a field error, got {e:?}") };
    assert_eq!(errs.errors().len(), 1, "{errs}");
    (errs.errors()[0].loc.clone(), errs.errors()[0].kind)
}

#[tokio::test]
async fn callers_without_write_reach_are_refused_before_any_storage() {
    let svc = untouchable();
    let person = ctx_user(&[], None, None);
    let e = svc.create(&person, named("Ops")).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, "Group")), "{e:?}");
    assert!(matches!(svc.delete(&person, gid(1)).await, Err(AppError::Denied(Denial::Forbidden, "Group"))));

    // A platform token that may only read cannot change groups.
    let reader = ctx_client(&["admin:read"]);
    let e = svc.create(&reader, named("Ops")).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::PlatformScopeMissing, "Group")), "{e:?}");
    let e = svc.add_member(&reader, gid(1), &uid(1).to_string()).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::PlatformScopeMissing, "Group")), "{e:?}");
    let e = svc.remove_child(&reader, gid(1), gid(2)).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::PlatformScopeMissing, "Group")), "{e:?}");
    let e = svc.list(&person, &GroupFilter::default(), PageRequest::default()).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, "Group")), "{e:?}");
}

#[tokio::test]
async fn a_tenant_admin_who_names_no_tenant_creates_in_its_own_and_the_write_is_audited_there() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut tenants = MockTenantRepository::new();
    tenants
        .expect_get()
        .withf(move |id| *id == own)
        .times(1)
        .returning(move |id| Ok(Some(tenant_record(id, Some(partner), json!({})))));
    let new_id = GroupId::generate_from(Ulid::from_parts(7, 1));
    let mut groups = MockGroupRepository::new();
    groups
        .expect_insert()
        .withf(move |id, rec, at, audit| {
            *id == new_id
                && rec.tenant_id == own
                && rec.name == "Ops"
                && rec.description.as_deref() == Some("On call")
                && *at == fixed_now()
                && audit.action == action::GROUP_CREATE
                && audit.resource_type == "group"
                && audit.resource_id == Some(new_id.to_string())
                && (audit.tenant_id, audit.partner_id) == (Some(own), Some(partner))
                && audit.details == json!({"name": "Ops"})
        })
        .times(1)
        .returning(move |id, rec, _, _| Ok(group(id, rec.tenant_id, Some(partner))));
    let svc = service(groups, tenants);
    let input =
        GroupInput { name: Some("  Ops ".into()), description: Some(Some(" On call ".into())), tenant_id: None };
    let g = svc.create(&ctx, input).await.unwrap();
    assert_eq!((g.id, g.tenant_id), (new_id, own));
}

#[tokio::test]
async fn the_platform_must_name_the_tenant_of_a_new_group() {
    let e = untouchable().create(&ctx_super(), named("Ops")).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["tenant_id".to_string()], "missing"));
}

#[tokio::test]
async fn a_tenant_admin_cannot_create_a_group_in_another_tenant() {
    let (ctx, _, _) = ctx_tenant_admin_parts();
    let (theirs, their_partner) = other_tenant();
    let mut tenants = MockTenantRepository::new();
    tenants.expect_get().returning(move |id| Ok(Some(tenant_record(id, Some(their_partner), json!({})))));
    // The group repository expects nothing: no insert may happen.
    let svc = service(MockGroupRepository::new(), tenants);
    let input = GroupInput { tenant_id: Some(theirs.to_string()), ..named("Ops") };
    let e = svc.create(&ctx, input).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, _)), "{e:?}");
}

#[tokio::test]
async fn invalid_input_never_reaches_storage() {
    let svc = untouchable();
    let ctx = ctx_super();
    let e = svc.create(&ctx, named("   ")).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["name".to_string()], "string_too_short"));
    let e = svc.create(&ctx, GroupInput { tenant_id: Some("tnt_nope".into()), ..named("Ops") }).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["tenant_id".to_string()], "value_error"));
    // A group stays in its tenant.
    let moved = GroupInput { tenant_id: Some(other_tenant().0.to_string()), ..GroupInput::default() };
    let e = svc.update(&ctx, gid(1), moved).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["tenant_id".to_string()], "extra_forbidden"));
    // IDs of the wrong kind are refused at their field before the group is read.
    let e = svc.add_member(&ctx, gid(1), &gid(2).to_string()).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["user_id".to_string()], "value_error"));
    let e = svc.add_child(&ctx, gid(1), &uid(2).to_string()).await.unwrap_err();
    assert_eq!(field_error(&e), (vec!["child_group_id".to_string()], "value_error"));
}

#[tokio::test]
async fn a_group_of_another_tenant_is_not_found_for_a_tenant_admin_and_nothing_is_written() {
    let (ctx, _, _) = ctx_tenant_admin_parts();
    let (theirs, their_partner) = other_tenant();
    // Only `get` is expected: any write panics.
    let svc = service(groups_in(theirs, Some(their_partner)), MockTenantRepository::new());
    assert!(matches!(svc.get(&ctx, gid(1)).await, Err(AppError::NotFound("Group"))));
    assert!(matches!(svc.update(&ctx, gid(1), named("Mine")).await, Err(AppError::NotFound("Group"))));
    assert!(matches!(svc.delete(&ctx, gid(1)).await, Err(AppError::NotFound("Group"))));
    let e = svc.add_member(&ctx, gid(1), &uid(1).to_string()).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound("Group")), "{e:?}");
    assert!(matches!(svc.remove_member(&ctx, gid(1), uid(1)).await, Err(AppError::NotFound("Group"))));
    let e = svc.add_child(&ctx, gid(1), &gid(2).to_string()).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound("Group")), "{e:?}");
    assert!(matches!(svc.remove_child(&ctx, gid(1), gid(2)).await, Err(AppError::NotFound("Group"))));
}

#[tokio::test]
async fn a_tenant_admin_reads_its_group_with_direct_members_and_children() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut groups = groups_in(own, Some(partner));
    let member = MemberSummary { user_id: uid(1), email: "a@x.test".into(), display_name: None };
    let kept = member.clone();
    groups.expect_members().withf(|id| *id == gid(1)).times(1).returning(move |_| Ok(vec![kept.clone()]));
    groups
        .expect_children()
        .withf(|id| *id == gid(1))
        .times(1)
        .returning(|_| Ok(vec![GroupSummary { id: gid(2), name: "Night shift".into() }]));
    let detail = service(groups, MockTenantRepository::new()).get(&ctx, gid(1)).await.unwrap();
    assert_eq!(detail.group.id, gid(1));
    assert_eq!(detail.members, vec![member]);
    assert_eq!(detail.child_groups, vec![GroupSummary { id: gid(2), name: "Night shift".into() }]);
}

#[tokio::test]
async fn lists_are_asked_for_within_the_callers_reach() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let filter = GroupFilter { search: Some("ops".into()), tenant_id: None };
    let want = filter.clone();
    let mut groups = MockGroupRepository::new();
    groups
        .expect_list()
        .withf(move |r, f, _| *r == Reach::Tenant { tenant: own, partner: Some(partner) } && *f == want)
        .times(1)
        .returning(move |_, _, p| Ok(Page { items: vec![group(gid(1), own, Some(partner))], request: p, total: 1 }));
    let page = service(groups, MockTenantRepository::new()).list(&ctx, &filter, PageRequest::default()).await.unwrap();
    assert_eq!((page.items.len(), page.total), (1, 1));
}

#[tokio::test]
async fn an_empty_patch_answers_the_group_as_it_is_without_writing() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut groups = groups_in(own, Some(partner));
    groups.expect_update().never();
    let g = service(groups, MockTenantRepository::new()).update(&ctx, gid(3), GroupInput::default()).await.unwrap();
    assert_eq!((g.id, g.name.as_str()), (gid(3), "Ops"));
}

#[tokio::test]
async fn a_patch_stores_its_changes_once_audited_in_the_groups_tenant() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut groups = groups_in(own, Some(partner));
    groups
        .expect_update()
        .withf(move |id, changes, at, audit| {
            *id == gid(3)
                && changes.name.as_deref() == Some("Night shift")
                && changes.description == Some(None)
                && *at == fixed_now()
                && audit.action == action::GROUP_UPDATE
                && audit.resource_id == Some(gid(3).to_string())
                && (audit.tenant_id, audit.partner_id) == (Some(own), Some(partner))
        })
        .times(1)
        .returning(move |id, _, _, _| Ok(Some(Group { name: "Night shift".into(), ..group(id, own, Some(partner)) })));
    let svc = service(groups, MockTenantRepository::new());
    let patch = GroupInput { name: Some("Night shift".into()), description: Some(None), tenant_id: None };
    assert_eq!(svc.update(&ctx, gid(3), patch).await.unwrap().name, "Night shift");
}

#[tokio::test]
async fn a_group_gone_before_its_write_is_not_found_by_the_name_of_what_was_missing() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut groups = groups_in(own, Some(partner));
    groups.expect_update().times(1).returning(|_, _, _, _| Ok(None));
    groups.expect_delete().times(1).returning(|_, _, _| Ok(false));
    groups.expect_remove_member().times(1).returning(|_, _, _, _| Ok(false));
    groups.expect_remove_child().times(1).returning(|_, _, _, _| Ok(false));
    let svc = service(groups, MockTenantRepository::new());
    assert!(matches!(svc.update(&ctx, gid(1), named("X")).await, Err(AppError::NotFound("Group"))));
    assert!(matches!(svc.delete(&ctx, gid(1)).await, Err(AppError::NotFound("Group"))));
    assert!(matches!(svc.remove_member(&ctx, gid(1), uid(1)).await, Err(AppError::NotFound("Member"))));
    assert!(matches!(svc.remove_child(&ctx, gid(1), gid(2)).await, Err(AppError::NotFound("Child group"))));
}

#[tokio::test]
async fn members_and_nesting_are_audited_on_the_group_with_the_other_side_in_the_details() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let in_own_tenant = move |a: &scaikey_domain::audit::AuditRecord| {
        a.resource_id == Some(gid(1).to_string()) && (a.tenant_id, a.partner_id) == (Some(own), Some(partner))
    };
    let mut groups = groups_in(own, Some(partner));
    groups
        .expect_add_member()
        .withf(move |g, u, at, a| {
            (*g, *u, *at) == (gid(1), uid(5), fixed_now())
                && a.action == action::GROUP_MEMBER_ADD
                && a.details == json!({"user_id": uid(5).to_string()})
                && in_own_tenant(a)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    groups
        .expect_remove_member()
        .withf(move |g, u, _, a| {
            (*g, *u) == (gid(1), uid(5))
                && a.action == action::GROUP_MEMBER_REMOVE
                && a.details == json!({"user_id": uid(5).to_string()})
                && in_own_tenant(a)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    groups
        .expect_add_child()
        .withf(move |p, c, _, a| {
            (*p, *c) == (gid(1), gid(2))
                && a.action == action::GROUP_NEST
                && a.details == json!({"child_group_id": gid(2).to_string()})
                && in_own_tenant(a)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    groups
        .expect_remove_child()
        .withf(move |p, c, _, a| {
            (*p, *c) == (gid(1), gid(2))
                && a.action == action::GROUP_UNNEST
                && a.details == json!({"child_group_id": gid(2).to_string()})
                && in_own_tenant(a)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    groups
        .expect_delete()
        .withf(move |g, _, a| *g == gid(1) && a.action == action::GROUP_DELETE && in_own_tenant(a))
        .times(1)
        .returning(|_, _, _| Ok(true));
    let svc = service(groups, MockTenantRepository::new());
    assert_eq!(svc.add_member(&ctx, gid(1), &uid(5).to_string()).await.unwrap(), uid(5));
    svc.remove_member(&ctx, gid(1), uid(5)).await.unwrap();
    assert_eq!(svc.add_child(&ctx, gid(1), &gid(2).to_string()).await.unwrap(), gid(2));
    svc.remove_child(&ctx, gid(1), gid(2)).await.unwrap();
    svc.delete(&ctx, gid(1)).await.unwrap();
}

#[tokio::test]
async fn a_tenant_admin_cannot_nest_a_group_of_another_tenant_nor_close_a_cycle() {
    let (ctx, own, partner) = ctx_tenant_admin_parts();
    let mut groups = groups_in(own, Some(partner));
    // Storage reads the child's tenant and the nesting under the tenant's lock; its refusals
    // reach the caller as the field error or the conflict they are.
    let refusals = [
        RepoError::Invalid(FieldError::new("child_group_id", "value_error", NestingRefusal::OtherTenant.to_string())),
        RepoError::Conflict(NestingRefusal::Cycle.to_string()),
    ];
    let mut refusals = refusals.into_iter();
    groups.expect_add_child().times(2).returning(move |_, _, _, _| Err(refusals.next().unwrap()));
    let svc = service(groups, MockTenantRepository::new());
    let e = svc.add_child(&ctx, gid(1), &gid(2).to_string()).await.unwrap_err();
    let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
    assert_eq!(errs.errors()[0].loc, ["child_group_id"]);
    assert_eq!(errs.errors()[0].msg, "Group belongs to another tenant than the parent");
    let e = svc.add_child(&ctx, gid(1), &gid(2).to_string()).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(m) if m == "Nesting this group would create a cycle"), "{e:?}");
}

#[tokio::test]
async fn a_partner_admin_manages_groups_in_every_tenant_of_its_partner_only() {
    let (own_tenant, partner) =
        (TenantId::generate_from(Ulid::from_parts(30, 1)), PartnerId::generate_from(Ulid::from_parts(30, 2)));
    let ctx = ctx_user(&[Role::PartnerAdmin], Some(own_tenant), Some(partner));
    let sibling = TenantId::generate_from(Ulid::from_parts(30, 3));
    let (theirs, their_partner) = other_tenant();
    let mut groups = MockGroupRepository::new();
    groups.expect_get().returning(move |id| {
        Ok(Some(if id == gid(1) { group(id, sibling, Some(partner)) } else { group(id, theirs, Some(their_partner)) }))
    });
    groups
        .expect_delete()
        .withf(move |g, _, a| *g == gid(1) && a.tenant_id == Some(sibling))
        .times(1)
        .returning(|_, _, _| Ok(true));
    let svc = service(groups, MockTenantRepository::new());
    svc.delete(&ctx, gid(1)).await.unwrap();
    assert!(matches!(svc.delete(&ctx, gid(2)).await, Err(AppError::NotFound("Group"))));
}
