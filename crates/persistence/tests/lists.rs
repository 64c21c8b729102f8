//! Every list query against the domain's list rule, on generated data: partners, tenants under
//! them and under the platform, and rows of every listed resource at every kind of owner
//! (platform, partner, tenant; an audit event recorded under a tenant's former partner). For
//! every reach × every resource the list must return exactly the rows whose owner matches
//! `Reach::lists` — the rule the domain ties to `can`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::page::PageRequest;
use scaikey_app::ports::{
    AgentRepository, ApplicationRepository, AuditRepository, GroupRepository, IdpRepository, RegistrationRepository,
    SessionRepository, TenantRepository, UserRepository,
};
use scaikey_domain::access::{Listing, Owner, Reach, Visible};
use scaikey_domain::id::{ApplicationId, PartnerId, TenantId};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;
use ulid::Ulid;
use uuid::Uuid;

/// The listed resources, each with the domain listing that governs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Resource {
    Tenants,
    Users,
    Groups,
    Sessions,
    Applications,
    Registrations,
    Idps,
    Agents,
    Audit,
    Assignments,
}

impl Resource {
    const ALL: [Resource; 10] = [
        Resource::Tenants,
        Resource::Users,
        Resource::Groups,
        Resource::Sessions,
        Resource::Applications,
        Resource::Registrations,
        Resource::Idps,
        Resource::Agents,
        Resource::Audit,
        Resource::Assignments,
    ];

    const fn listing(self) -> Listing {
        match self {
            Resource::Tenants => Listing::TenantRecords,
            Resource::Applications => Listing::Applications,
            Resource::Registrations => Listing::RegistrationRequests,
            _ => Listing::Owned,
        }
    }
}

/// A small deterministic generator (no dependency for a test's dice).
struct Dice(u64);
impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

struct World {
    conn: AsyncPgConnection,
    next: u128,
    rows: Vec<(Resource, Ulid, Owner)>,
    /// The GLOBAL application whose assignments are listed.
    assigned_app: Option<Ulid>,
}

fn uuid(u: Ulid) -> Uuid {
    Uuid::from_u128(u.0)
}

fn opt(u: Option<Ulid>) -> String {
    u.map_or_else(|| "NULL".into(), |u| format!("'{}'", uuid(u)))
}

impl World {
    fn id(&mut self) -> Ulid {
        self.next += 1;
        Ulid::from_parts(1_800_000_000_000, self.next)
    }

    async fn exec(&mut self, sql: String) {
        diesel::sql_query(&sql).execute(&mut self.conn).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    async fn partner(&mut self) -> Ulid {
        let id = self.id();
        let u = uuid(id);
        self.exec(format!(
            "INSERT INTO partners (id, name, slug, status, created_at, updated_at) VALUES ('{u}', 'P {u}', 'p-{u}', 'active', now(), now())"
        ))
        .await;
        id
    }

    async fn tenant(&mut self, partner: Option<Ulid>) -> Owner {
        let id = self.id();
        let u = uuid(id);
        self.exec(format!(
            "INSERT INTO tenants (id, partner_id, name, slug, status, created_at, updated_at) VALUES ('{u}', {}, 'T {u}', 't-{u}', 'active', now(), now())",
            opt(partner)
        ))
        .await;
        let owner =
            Owner::Tenant { tenant: TenantId::generate_from(id), partner: partner.map(PartnerId::generate_from) };
        self.rows.push((Resource::Tenants, id, owner));
        owner
    }

    /// One row of `r` owned by `owner` (the caller only asks for owners the table can hold).
    async fn row(&mut self, r: Resource, owner: Owner) {
        let id = self.id();
        let u = uuid(id);
        let (scope, partner, tenant) = match owner {
            Owner::Platform => ("GLOBAL", None, None),
            Owner::Partner(p) => ("PARTNER", Some(p.ulid()), None),
            Owner::Tenant { tenant, partner } => ("TENANT", partner.map(PartnerId::ulid), Some(tenant.ulid())),
        };
        let (p, t) = (opt(partner), opt(tenant));
        let sql = match r {
            Resource::Users => format!(
                "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at) VALUES ('{u}', {t}, 'u{u}@example.com', 'active', now(), now())"
            ),
            Resource::Sessions => {
                let user = self.id();
                let uu = uuid(user);
                self.exec(format!(
                    "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at) VALUES ('{uu}', {t}, 's{uu}@example.com', 'active', now(), now())"
                ))
                .await;
                let user_owner = owner;
                self.rows.push((Resource::Users, user, user_owner));
                format!(
                    "INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at) VALUES ('{u}', '{uu}', {t}, now(), now(), now() + interval '1 day')"
                )
            }
            Resource::Groups => format!(
                "INSERT INTO groups (id, tenant_id, name, created_at, updated_at) VALUES ('{u}', {t}, 'G {u}', now(), now())"
            ),
            Resource::Idps => format!(
                "INSERT INTO identity_providers (id, tenant_id, name, protocol, created_at, updated_at) VALUES ('{u}', {t}, 'I {u}', 'OIDC', now(), now())"
            ),
            Resource::Agents => format!(
                "INSERT INTO agents (id, tenant_id, name, status, created_at, updated_at) VALUES ('{u}', {t}, 'A {u}', 'active', now(), now())"
            ),
            Resource::Applications => format!(
                "INSERT INTO applications (id, client_id, name, application_type, scope, partner_id, tenant_id, token_lifetime, status, created_at, updated_at)
                 VALUES ('{u}', 'ck_{u}', 'App {u}', 'SERVICE', '{scope}', {}, {}, 3600, 'active', now(), now())",
                if scope == "PARTNER" { p.clone() } else { "NULL".into() },
                if scope == "TENANT" { t.clone() } else { "NULL".into() },
            ),
            Resource::Registrations => format!(
                "INSERT INTO registration_requests (id, scope, partner_id, tenant_id, name, application_type, grant_types, contact_email, status, expires_at, created_at, updated_at)
                 VALUES ('{u}', '{scope}', {}, {}, 'R {u}', 'SERVICE', '{{client_credentials}}', 'r@example.com', 'PENDING', now() + interval '1 day', now(), now())",
                if scope == "PARTNER" { p.clone() } else { "NULL".into() },
                if scope == "TENANT" { t.clone() } else { "NULL".into() },
            ),
            Resource::Audit => format!(
                "INSERT INTO audit_events (id, occurred_at, actor_type, action, resource_type, result, tenant_id, partner_id)
                 VALUES ('{u}', now(), 'anonymous', 'test.event', 'test', 'success', {t}, {p})"
            ),
            Resource::Assignments => {
                let app = match self.assigned_app {
                    Some(a) => a,
                    None => {
                        let a = self.id();
                        let au = uuid(a);
                        self.exec(format!(
                            "INSERT INTO applications (id, client_id, name, application_type, scope, token_lifetime, status, created_at, updated_at)
                             VALUES ('{au}', 'ck_{au}', 'Assigned', 'SERVICE', 'GLOBAL', 3600, 'active', now(), now())"
                        ))
                        .await;
                        self.rows.push((Resource::Applications, a, Owner::Platform));
                        self.assigned_app = Some(a);
                        a
                    }
                };
                let group = self.id();
                let gu = uuid(group);
                self.exec(format!(
                    "INSERT INTO groups (id, tenant_id, name, created_at, updated_at) VALUES ('{gu}', {t}, 'Assigned {gu}', now(), now())"
                ))
                .await;
                self.rows.push((Resource::Groups, group, owner));
                format!(
                    "INSERT INTO application_assignments (id, application_id, tenant_id, group_id, created_at) VALUES ('{u}', '{}', {t}, '{gu}', now())",
                    uuid(app)
                )
            }
            Resource::Tenants => unreachable!("tenants are made by `tenant`"),
        };
        self.exec(sql).await;
        self.rows.push((r, id, owner));
    }
}

/// The owners a resource's rows can have.
fn holds(r: Resource, owner: &Owner) -> bool {
    match owner {
        Owner::Tenant { .. } => true,
        Owner::Platform => matches!(
            r,
            Resource::Users | Resource::Sessions | Resource::Applications | Resource::Registrations | Resource::Audit
        ),
        Owner::Partner(_) => matches!(r, Resource::Applications | Resource::Registrations | Resource::Audit),
    }
}

/// Whether the domain's form `f` shows a row of `owner` that storage hides because its tenant
/// was deleted: every tenant list drops the record, and a partner's lists drop the tenant's
/// rows except its audit events.
fn hidden(r: Resource, f: Visible, owner: &Owner, deleted: TenantId) -> bool {
    matches!(owner, Owner::Tenant { tenant, .. } if *tenant == deleted)
        && (r == Resource::Tenants || (matches!(f, Visible::TenantsOf(_)) && r != Resource::Audit))
}

async fn listed(db: &Database, r: Resource, reach: Reach, app: ApplicationId) -> BTreeSet<Ulid> {
    let page = PageRequest::new(Some(1), Some(100)).unwrap();
    let now = Utc::now();
    // Every list answers a page of items with IDs; only the call differs.
    macro_rules! ids {
        ($page:expr) => {
            $page.await.unwrap().items.iter().map(|x| x.id.ulid()).collect()
        };
    }
    let ids: Vec<Ulid> = match r {
        Resource::Tenants => ids!(db.tenants().list(reach, &Default::default(), page)),
        Resource::Users => ids!(db.users().list(reach, &Default::default(), page)),
        Resource::Groups => ids!(db.groups().list(reach, &Default::default(), page)),
        Resource::Sessions => ids!(db.sessions().list(reach, &Default::default(), now, page)),
        Resource::Applications => ids!(db.applications().list(reach, &Default::default(), page)),
        Resource::Registrations => ids!(db.registrations().list(reach, &Default::default(), now, page)),
        Resource::Idps => ids!(db.identity_providers().list(reach, &Default::default(), page)),
        Resource::Agents => ids!(db.agents().list(reach, &Default::default(), page)),
        Resource::Audit => ids!(db.audit().list(reach, &Default::default(), page)),
        Resource::Assignments => ids!(db.applications().assignments(app, reach, page)),
    };
    let set: BTreeSet<Ulid> = ids.iter().copied().collect();
    assert_eq!(set.len(), ids.len(), "{r:?} for {reach:?} lists a row twice");
    set
}

#[tokio::test]
async fn every_list_shows_each_reach_exactly_what_the_domain_rule_lets_it_read() {
    let t = TestDb::create().await.unwrap();
    let mut w = World { conn: t.connect().await.unwrap(), next: 0, rows: Vec::new(), assigned_app: None };
    let (p1, p2) = (w.partner().await, w.partner().await);
    let t1 = w.tenant(Some(p1)).await;
    let t2 = w.tenant(Some(p1)).await;
    let t3 = w.tenant(Some(p2)).await;
    let t4 = w.tenant(None).await;
    // T5 under P1 is deleted once seeded: its rows stay, listed to its partner only in the audit
    // log, and its record in no tenant list.
    let t5 = w.tenant(Some(p1)).await;
    let tenant_of = |o: Owner| match o {
        Owner::Tenant { tenant, .. } => tenant,
        _ => unreachable!(),
    };
    // T3 stood under P1 before it moved to P2: its old audit event names P1.
    let moved = Owner::Tenant { tenant: tenant_of(t3), partner: Some(PartnerId::generate_from(p1)) };
    let owners = [
        Owner::Platform,
        Owner::Partner(PartnerId::generate_from(p1)),
        Owner::Partner(PartnerId::generate_from(p2)),
        t1,
        t2,
        t3,
        t4,
        t5,
    ];
    let mut dice = Dice(0x05ca_14e7);
    for r in Resource::ALL.into_iter().filter(|r| *r != Resource::Tenants) {
        for owner in owners.iter().filter(|o| holds(r, o)) {
            for _ in 0..=dice.roll(3) {
                w.row(r, *owner).await;
            }
        }
    }
    w.row(Resource::Audit, moved).await;
    w.exec(format!("UPDATE tenants SET deleted_at = now() WHERE id = '{}'", uuid(tenant_of(t5).ulid()))).await;
    let deleted = tenant_of(t5);
    if w.assigned_app.is_none() {
        w.row(Resource::Assignments, t1).await;
    }

    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let app = ApplicationId::generate_from(w.assigned_app.unwrap());
    let reaches = [
        Reach::Platform,
        Reach::Partner(PartnerId::generate_from(p1)),
        Reach::Partner(PartnerId::generate_from(p2)),
        Reach::Tenant { tenant: tenant_of(t1), partner: Some(PartnerId::generate_from(p1)) },
        Reach::Tenant { tenant: tenant_of(t3), partner: Some(PartnerId::generate_from(p2)) },
        Reach::Tenant { tenant: tenant_of(t4), partner: None },
    ];
    for reach in reaches {
        let mut shown = std::collections::BTreeMap::new();
        for r in Resource::ALL {
            let forms = reach.lists(r.listing());
            let want: BTreeSet<Ulid> = w
                .rows
                .iter()
                .filter(|(res, _, owner)| {
                    *res == r && forms.iter().any(|f| f.matches(owner) && !hidden(r, *f, owner, deleted))
                })
                .map(|(_, id, _)| *id)
                .collect();
            let all = w.rows.iter().filter(|(res, ..)| *res == r).count();
            assert!(all > 0 && all <= 100, "{r:?}: {all} rows seeded, all on page one");
            assert_eq!(listed(&db, r, reach, app).await, want, "{r:?} for {reach:?}");
            shown.insert(r, i64::try_from(want.len()).unwrap());
        }
        // The dashboard's counts are of what the same lists show (every seeded session is
        // active, every request pending; exact counts, never the planner's estimate).
        let s = db.audit().stats(reach, Utc::now(), i64::MAX).await.unwrap();
        let counted = [s.tenants, s.users, s.applications, s.active_sessions, s.pending_registration_requests];
        let want =
            [Resource::Tenants, Resource::Users, Resource::Applications, Resource::Sessions, Resource::Registrations]
                .map(|r| shown[&r]);
        assert_eq!(counted, want, "dashboard counts for {reach:?}");
        assert_eq!(s.partners, if reach == Reach::Platform { 2 } else { 0 }, "partners for {reach:?}");
        assert!(!s.estimated);
    }
}
