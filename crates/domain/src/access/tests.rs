//! The rules table, written out case by case.

use super::*;
use crate::id::{ApplicationId, SessionId, UserId};
use crate::principal::{ClientPrincipal, UserPrincipal};
use ulid::Ulid;

use Action::{Read, Write};
use Decision::Allow;

const NF: Decision = Decision::Deny(Denial::NotFound);
const FB: Decision = Decision::Deny(Denial::Forbidden);
const PS: Decision = Decision::Deny(Denial::PlatformScopeMissing);

fn pid(n: u64) -> PartnerId {
    PartnerId::generate_from(Ulid::from_parts(n, 0))
}
fn tid(n: u64) -> TenantId {
    TenantId::generate_from(Ulid::from_parts(n, 1))
}

fn user(roles: &[Role], tenant: Option<TenantId>, partner: Option<PartnerId>) -> Principal {
    Principal::User(UserPrincipal {
        user_id: UserId::generate_from(Ulid::from_parts(9, 9)),
        session_id: SessionId::generate_from(Ulid::from_parts(9, 8)),
        tenant_id: tenant,
        partner_id: partner,
        roles: roles.iter().copied().collect(),
    })
}

fn client(level: ScopeLevel, scopes: &[&str]) -> Principal {
    Principal::Client(ClientPrincipal {
        app_id: ApplicationId::generate_from(Ulid::from_parts(7, 7)),
        client_id: "c".into(),
        scope_level: level,
        tenant_id: None,
        partner_id: None,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    })
}

/// P1 has tenants T1 and T2; P2 has T3; T4 stands directly under the platform.
struct World {
    t1: Owner,
    t2: Owner,
    t3: Owner,
    t4: Owner,
    p1: Owner,
    p2: Owner,
}

fn world() -> World {
    World {
        t1: Owner::Tenant { tenant: tid(1), partner: Some(pid(1)) },
        t2: Owner::Tenant { tenant: tid(2), partner: Some(pid(1)) },
        t3: Owner::Tenant { tenant: tid(3), partner: Some(pid(2)) },
        t4: Owner::Tenant { tenant: tid(4), partner: None },
        p1: Owner::Partner(pid(1)),
        p2: Owner::Partner(pid(2)),
    }
}

fn super_admin() -> Principal {
    user(&[Role::SuperAdmin], None, None)
}
fn partner_admin_p1() -> Principal {
    user(&[Role::PartnerAdmin], Some(tid(1)), Some(pid(1)))
}
fn tenant_admin_t1() -> Principal {
    user(&[Role::TenantAdmin], Some(tid(1)), Some(pid(1)))
}
fn tenant_admin_t4() -> Principal {
    user(&[Role::TenantAdmin], Some(tid(4)), None)
}

#[test]
fn partners_and_signing_keys_are_platform_only() {
    let cases = [
        (super_admin(), Read, Allow),
        (super_admin(), Write, Allow),
        (client(ScopeLevel::Global, &["admin:read"]), Read, Allow),
        (client(ScopeLevel::Global, &["admin:read"]), Write, PS),
        (client(ScopeLevel::Global, &["admin:write"]), Write, Allow),
        (client(ScopeLevel::Global, &["admin:write"]), Read, PS),
        (client(ScopeLevel::Partner, &["admin:read", "admin:write"]), Read, PS),
        (client(ScopeLevel::Global, &[]), Read, PS),
        (partner_admin_p1(), Read, FB),
        (partner_admin_p1(), Write, FB),
        (tenant_admin_t1(), Read, FB),
        (user(&[], Some(tid(1)), Some(pid(1))), Read, FB),
    ];
    for (i, (p, a, want)) in cases.into_iter().enumerate() {
        assert_eq!(can(&p, a, Target::Partners), want, "case {i}");
        assert_eq!(can(&p, a, Target::SigningKeys), want, "case {i} (keys)");
    }
}

#[test]
fn tenant_records() {
    let w = world();
    let pa = partner_admin_p1();
    let ta = tenant_admin_t1();
    let cases = [
        (super_admin(), Read, &w.t3, Allow),
        (super_admin(), Write, &w.t3, Allow),
        (pa.clone(), Read, &w.t1, Allow),
        (pa.clone(), Read, &w.t2, Allow),
        (pa.clone(), Read, &w.t3, NF),
        (pa.clone(), Read, &w.t4, NF),
        (pa.clone(), Write, &w.t1, FB),
        (pa.clone(), Write, &w.t3, FB),
        (ta.clone(), Read, &w.t1, Allow),
        (ta.clone(), Read, &w.t2, NF),
        (ta.clone(), Write, &w.t1, FB),
        (tenant_admin_t4(), Read, &w.t4, Allow),
        (tenant_admin_t4(), Read, &w.t1, NF),
    ];
    for (i, (p, a, o, want)) in cases.into_iter().enumerate() {
        assert_eq!(can(&p, a, Target::TenantRecord(o)), want, "case {i}");
    }
}

#[test]
fn resources_inside_tenants() {
    let w = world();
    let pa = partner_admin_p1();
    let ta = tenant_admin_t1();
    for a in [Read, Write] {
        assert_eq!(can(&super_admin(), a, Target::Owned(&w.t3)), Allow);
        assert_eq!(can(&super_admin(), a, Target::Owned(&Owner::Platform)), Allow);
        assert_eq!(can(&pa, a, Target::Owned(&w.t1)), Allow);
        assert_eq!(can(&pa, a, Target::Owned(&w.t2)), Allow);
        assert_eq!(can(&pa, a, Target::Owned(&w.t3)), NF);
        assert_eq!(can(&pa, a, Target::Owned(&w.t4)), NF);
        assert_eq!(can(&pa, a, Target::Owned(&Owner::Platform)), NF);
        assert_eq!(can(&ta, a, Target::Owned(&w.t1)), Allow);
        assert_eq!(can(&ta, a, Target::Owned(&w.t2)), NF);
        assert_eq!(can(&ta, a, Target::Owned(&Owner::Platform)), NF);
    }
}

#[test]
fn applications_follow_the_seed_visibility() {
    let w = world();
    let pa = partner_admin_p1();
    let ta = tenant_admin_t1();
    let ta4 = tenant_admin_t4();
    let g = Owner::Platform;
    let cases = [
        // partner admin of P1
        (&pa, Read, &g, Allow),
        (&pa, Write, &g, FB),
        (&pa, Read, &w.p1, Allow),
        (&pa, Write, &w.p1, Allow),
        (&pa, Read, &w.p2, NF),
        (&pa, Write, &w.p2, NF),
        (&pa, Read, &w.t1, Allow),
        (&pa, Write, &w.t2, Allow),
        (&pa, Read, &w.t3, NF),
        // tenant admin of T1 (under P1)
        (&ta, Read, &g, Allow),
        (&ta, Write, &g, FB),
        (&ta, Read, &w.p1, Allow),
        (&ta, Write, &w.p1, FB),
        (&ta, Read, &w.p2, NF),
        (&ta, Read, &w.t1, Allow),
        (&ta, Write, &w.t1, Allow),
        (&ta, Read, &w.t2, NF),
        (&ta, Write, &w.t2, NF),
        // tenant admin of T4 (no partner)
        (&ta4, Read, &g, Allow),
        (&ta4, Read, &w.p1, NF),
        (&ta4, Write, &w.t4, Allow),
    ];
    for (i, (p, a, o, want)) in cases.into_iter().enumerate() {
        assert_eq!(can(p, a, Target::Application(o)), want, "case {i}");
    }
}

#[test]
fn registration_requests_are_seen_within_write_reach_only() {
    let w = world();
    let pa = partner_admin_p1();
    let ta = tenant_admin_t1();
    let g = Owner::Platform;
    for a in [Read, Write] {
        assert_eq!(can(&super_admin(), a, Target::RegistrationRequest(&g)), Allow);
        assert_eq!(can(&pa, a, Target::RegistrationRequest(&g)), NF);
        assert_eq!(can(&pa, a, Target::RegistrationRequest(&w.p1)), Allow);
        assert_eq!(can(&pa, a, Target::RegistrationRequest(&w.t2)), Allow);
        assert_eq!(can(&pa, a, Target::RegistrationRequest(&w.t3)), NF);
        assert_eq!(can(&ta, a, Target::RegistrationRequest(&w.p1)), NF);
        assert_eq!(can(&ta, a, Target::RegistrationRequest(&w.t1)), Allow);
        assert_eq!(can(&ta, a, Target::RegistrationRequest(&w.t2)), NF);
    }
}

#[test]
fn non_admin_users_and_partnerless_partner_admins() {
    let w = world();
    let nobody = user(&[], Some(tid(1)), Some(pid(1)));
    assert_eq!(can(&nobody, Read, Target::Owned(&w.t1)), FB);
    // A partner admin whose tenant has no partner has no partner reach; with tenant_admin as
    // well it falls back to its tenant.
    let odd = user(&[Role::PartnerAdmin], Some(tid(4)), None);
    assert_eq!(reach(&odd, Read), Err(Denial::Forbidden));
    let both = user(&[Role::PartnerAdmin, Role::TenantAdmin], Some(tid(4)), None);
    assert_eq!(can(&both, Read, Target::Owned(&w.t4)), Allow);
    // The widest role wins.
    let wide = user(&[Role::TenantAdmin, Role::PartnerAdmin], Some(tid(1)), Some(pid(1)));
    assert_eq!(can(&wide, Write, Target::Owned(&w.t2)), Allow);
}

#[test]
fn role_grants_never_escalate() {
    let table = [
        (super_admin(), [Allow, Allow, Allow]),
        (client(ScopeLevel::Global, &["admin:write"]), [Allow, Allow, Allow]),
        (client(ScopeLevel::Global, &["admin:read"]), [PS, PS, PS]),
        (partner_admin_p1(), [FB, Allow, Allow]),
        (tenant_admin_t1(), [FB, FB, Allow]),
        (user(&[], Some(tid(1)), None), [FB, FB, FB]),
    ];
    for (i, (p, wants)) in table.into_iter().enumerate() {
        for (role, want) in Role::ALL.into_iter().zip(wants) {
            assert_eq!(can_grant(&p, role), want, "case {i} {role}");
        }
    }
}

/// Exhaustive cross-check: for every caller, owner and kind of list, a list shows exactly the
/// rows `can` lets the caller read, and reads of applications are never narrower than reads of
/// owned things.
#[test]
fn lists_show_exactly_what_can_reads_everywhere() {
    let w = world();
    let owners = [Owner::Platform, w.p1, w.p2, w.t1, w.t2, w.t3, w.t4];
    let partnerless = user(&[Role::TenantAdmin], Some(tid(4)), None);
    let callers = [super_admin(), partner_admin_p1(), tenant_admin_t1(), tenant_admin_t4(), partnerless];
    for p in &callers {
        let r = reach(p, Read).unwrap();
        for o in &owners {
            for listing in Listing::ALL {
                let listed = r.lists(listing).iter().any(|v| v.matches(o));
                assert_eq!(listed, can(p, Read, listing.target(o)).is_allowed(), "{r:?} {listing:?} {o:?}");
            }
            if can(p, Read, Target::Owned(o)).is_allowed() {
                assert!(can(p, Read, Target::Application(o)).is_allowed());
            }
            // Writes never reach further than reads.
            for t in [Target::Owned(o), Target::Application(o), Target::TenantRecord(o)] {
                if can(p, Write, t).is_allowed() {
                    assert!(can(p, Read, t).is_allowed());
                }
            }
        }
    }
}

#[test]
fn managing_users_needs_reach_over_all_their_roles() {
    let r = |x: &[Role]| x.iter().copied().collect::<crate::role::Roles>();
    let ta = tenant_admin_t1();
    let pa = partner_admin_p1();
    assert_eq!(can_manage_user(&ta, r(&[])), Allow);
    assert_eq!(can_manage_user(&ta, r(&[Role::TenantAdmin])), Allow);
    assert_eq!(can_manage_user(&ta, r(&[Role::PartnerAdmin])), FB);
    assert_eq!(can_manage_user(&ta, r(&[Role::TenantAdmin, Role::PartnerAdmin])), FB);
    assert_eq!(can_manage_user(&pa, r(&[Role::PartnerAdmin, Role::TenantAdmin])), Allow);
    assert_eq!(can_manage_user(&pa, r(&[Role::SuperAdmin])), FB);
    assert_eq!(can_manage_user(&super_admin(), r(&[Role::SuperAdmin])), Allow);
    assert_eq!(can_manage_user(&user(&[], Some(tid(1)), None), r(&[])), FB);
    assert_eq!(can_manage_user(&client(ScopeLevel::Global, &["admin:read"]), r(&[])), PS);
}

fn agent_t1(scopes: &[&str]) -> Principal {
    Principal::Agent(crate::principal::AgentPrincipal {
        agent_id: crate::id::AgentId::generate_from(Ulid::from_parts(6, 6)),
        client_id: "ag_x".into(),
        tenant_id: tid(1),
        partner_id: Some(pid(1)),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn agents_act_as_their_tenants_admin_capped_by_their_scopes() {
    let w = world();
    let reader = agent_t1(&["admin:read"]);
    let writer = agent_t1(&["admin:read", "admin:write"]);
    assert_eq!(reach(&reader, Read), Ok(Reach::Tenant { tenant: tid(1), partner: Some(pid(1)) }));
    assert_eq!(reach(&reader, Write), Err(Denial::Forbidden));
    assert_eq!(reach(&agent_t1(&[]), Read), Err(Denial::Forbidden));
    assert_eq!(can(&reader, Read, Target::Owned(&w.t1)), Allow);
    assert_eq!(can(&reader, Read, Target::Owned(&w.t2)), NF, "a sibling tenant stays hidden");
    assert_eq!(can(&reader, Write, Target::Owned(&w.t1)), FB);
    assert_eq!(can(&writer, Write, Target::Owned(&w.t1)), Allow);
    assert_eq!(can(&writer, Write, Target::TenantRecord(&w.t1)), FB, "tenant records are the platform's");
    // It grants what a tenant admin grants, no more.
    assert_eq!(can_grant(&writer, Role::TenantAdmin), Allow);
    assert_eq!(can_grant(&writer, Role::PartnerAdmin), FB);
    assert_eq!(can_grant(&reader, Role::TenantAdmin), FB);
    assert_eq!(writer.highest_role(), Some(Role::TenantAdmin));
}
