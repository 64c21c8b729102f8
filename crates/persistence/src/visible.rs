//! The domain's list rule ([`Reach::lists`]) as SQL. Each table says once, in [`OwnerColumns`],
//! how a form of owner ([`Visible`]) reads on its columns; [`visible`] joins a reach's forms
//! with OR. Which owners a reach sees is decided in the domain, never here.

use diesel::dsl::{InnerJoinQuerySource, sql};
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use scaikey_domain::access::{Listing, Reach, Visible};
use scaikey_domain::id::{PartnerId, TenantId};
use scaikey_domain::scope::ScopeLevel;

use crate::schema::{
    agents, application_assignments, application_users, applications, audit_events, groups, identity_providers,
    registration_requests as rr, sessions, tenants, users,
};
use crate::uuid_ids::AsUuid;

/// A boolean condition on the rows of `QS`.
pub(crate) type Cond<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// How a table's rows name their owner. Each method is the condition for the rows of one form,
/// or `None` when the table holds no rows of that form (no tenant record is a partner's).
pub(crate) trait OwnerColumns<QS> {
    /// Rows owned at platform level.
    fn platform() -> Option<Cond<QS>>;
    /// Rows of partner `p` itself.
    fn partner(p: PartnerId) -> Option<Cond<QS>>;
    /// Rows inside a tenant standing under partner `p`.
    fn tenants_of(p: PartnerId) -> Option<Cond<QS>>;
    /// Rows inside tenant `t`.
    fn tenant(t: TenantId) -> Option<Cond<QS>>;
}

/// The condition for the rows of `T` that `reach` lists as `listing`; `None` when it lists
/// every row (no condition to add).
pub(crate) fn visible<QS: 'static, T: OwnerColumns<QS>>(reach: Reach, listing: Listing) -> Option<Cond<QS>> {
    let mut any: Option<Cond<QS>> = None;
    for form in reach.lists(listing) {
        let cond = match form {
            Visible::All => return None,
            Visible::Platform => T::platform(),
            Visible::Partner(p) => T::partner(p),
            Visible::TenantsOf(p) => T::tenants_of(p),
            Visible::Tenant(t) => T::tenant(t),
        };
        if let Some(c) = cond {
            any = Some(match any {
                None => c,
                Some(a) => Box::new(a.or(c)),
            });
        }
    }
    Some(any.unwrap_or_else(|| Box::new(sql::<Bool>("FALSE"))))
}

/// The IDs of the live tenants standing under `p`: a deleted tenant's rows are listed to its
/// partner nowhere but in the audit log (whose events keep the partner they were recorded under).
pub(crate) fn tenants_of(p: PartnerId) -> tenants::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    tenants::table
        .filter(tenants::partner_id.assume_not_null().eq(p.uuid()).and(tenants::deleted_at.is_null()))
        .select(tenants::id)
        .into_boxed()
}

/// Tenant records.
pub(crate) struct TenantRows;
impl OwnerColumns<tenants::table> for TenantRows {
    fn platform() -> Option<Cond<tenants::table>> {
        None
    }
    fn partner(_: PartnerId) -> Option<Cond<tenants::table>> {
        None
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<tenants::table>> {
        Some(Box::new(tenants::partner_id.assume_not_null().eq(p.uuid())))
    }
    fn tenant(t: TenantId) -> Option<Cond<tenants::table>> {
        Some(Box::new(tenants::id.eq(t.uuid())))
    }
}

/// Users: platform users have no tenant; a partner's users are those of its live tenants.
pub(crate) struct UserRows;
impl OwnerColumns<users::table> for UserRows {
    fn platform() -> Option<Cond<users::table>> {
        Some(Box::new(users::tenant_id.is_null()))
    }
    fn partner(_: PartnerId) -> Option<Cond<users::table>> {
        None
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<users::table>> {
        Some(Box::new(users::tenant_id.assume_not_null().eq_any(tenants_of(p))))
    }
    fn tenant(t: TenantId) -> Option<Cond<users::table>> {
        Some(Box::new(users::tenant_id.assume_not_null().eq(t.uuid())))
    }
}

/// Sessions: those of platform users have no tenant.
pub(crate) struct SessionRows;
impl OwnerColumns<sessions::table> for SessionRows {
    fn platform() -> Option<Cond<sessions::table>> {
        Some(Box::new(sessions::tenant_id.is_null()))
    }
    fn partner(_: PartnerId) -> Option<Cond<sessions::table>> {
        None
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<sessions::table>> {
        Some(Box::new(sessions::tenant_id.assume_not_null().eq_any(tenants_of(p))))
    }
    fn tenant(t: TenantId) -> Option<Cond<sessions::table>> {
        Some(Box::new(sessions::tenant_id.assume_not_null().eq(t.uuid())))
    }
}

/// Audit events name their owner as recorded: a tenant and the partner it stood under then, a
/// partner alone, or neither (platform).
pub(crate) struct AuditRows;
impl OwnerColumns<audit_events::table> for AuditRows {
    fn platform() -> Option<Cond<audit_events::table>> {
        Some(Box::new(audit_events::tenant_id.is_null().and(audit_events::partner_id.is_null())))
    }
    fn partner(p: PartnerId) -> Option<Cond<audit_events::table>> {
        Some(Box::new(audit_events::partner_id.assume_not_null().eq(p.uuid()).and(audit_events::tenant_id.is_null())))
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<audit_events::table>> {
        // Written like `partner` so PostgreSQL factors `partner_id = p` out of the OR of both
        // and walks the partner index newest first.
        Some(Box::new(
            audit_events::partner_id.assume_not_null().eq(p.uuid()).and(audit_events::tenant_id.is_not_null()),
        ))
    }
    fn tenant(t: TenantId) -> Option<Cond<audit_events::table>> {
        Some(Box::new(audit_events::tenant_id.assume_not_null().eq(t.uuid())))
    }
}

/// An application's effective users, each row carrying its user's tenant and that tenant's
/// partner (kept by the table's triggers); platform users are never effective users.
pub(crate) struct EffectiveUserRows;
impl OwnerColumns<application_users::table> for EffectiveUserRows {
    fn platform() -> Option<Cond<application_users::table>> {
        None
    }
    fn partner(_: PartnerId) -> Option<Cond<application_users::table>> {
        None
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<application_users::table>> {
        Some(Box::new(application_users::partner_id.assume_not_null().eq(p.uuid())))
    }
    fn tenant(t: TenantId) -> Option<Cond<application_users::table>> {
        Some(Box::new(application_users::tenant_id.eq(t.uuid())))
    }
}

/// Tables whose every row lives in a tenant (`tenant_id NOT NULL`).
macro_rules! tenant_rows {
    ($(#[$doc:meta])* $name:ident, $table:ident) => {
        $(#[$doc])*
        pub(crate) struct $name;
        impl OwnerColumns<$table::table> for $name {
            fn platform() -> Option<Cond<$table::table>> {
                None
            }
            fn partner(_: PartnerId) -> Option<Cond<$table::table>> {
                None
            }
            fn tenants_of(p: PartnerId) -> Option<Cond<$table::table>> {
                Some(Box::new($table::tenant_id.eq_any(tenants_of(p))))
            }
            fn tenant(t: TenantId) -> Option<Cond<$table::table>> {
                Some(Box::new($table::tenant_id.eq(t.uuid())))
            }
        }
    };
}
tenant_rows!(
    /// Groups.
    GroupRows,
    groups
);
tenant_rows!(
    /// Identity providers.
    IdpRows,
    identity_providers
);
tenant_rows!(
    /// Agents.
    AgentRows,
    agents
);

/// Tables of things with a scope level (`GLOBAL`, `PARTNER` with `partner_id`, `TENANT` with
/// `tenant_id`).
macro_rules! scoped_rows {
    ($(#[$doc:meta])* $name:ident, $table:ident) => {
        $(#[$doc])*
        pub(crate) struct $name;
        impl OwnerColumns<$table::table> for $name {
            fn platform() -> Option<Cond<$table::table>> {
                Some(Box::new($table::scope.eq(ScopeLevel::Global.as_str())))
            }
            fn partner(p: PartnerId) -> Option<Cond<$table::table>> {
                Some(Box::new(
                    $table::scope.eq(ScopeLevel::Partner.as_str()).and($table::partner_id.assume_not_null().eq(p.uuid())),
                ))
            }
            fn tenants_of(p: PartnerId) -> Option<Cond<$table::table>> {
                Some(Box::new(
                    $table::scope.eq(ScopeLevel::Tenant.as_str()).and($table::tenant_id.assume_not_null().eq_any(tenants_of(p))),
                ))
            }
            fn tenant(t: TenantId) -> Option<Cond<$table::table>> {
                Some(Box::new(
                    $table::scope.eq(ScopeLevel::Tenant.as_str()).and($table::tenant_id.assume_not_null().eq(t.uuid())),
                ))
            }
        }
    };
}
scoped_rows!(
    /// Applications.
    ApplicationRows,
    applications
);
scoped_rows!(
    /// Registration requests.
    RegistrationRows,
    rr
);

/// An application's assignments, joined with their tenants.
pub(crate) struct AssignmentRows;
type AssignmentsWithTenants = InnerJoinQuerySource<application_assignments::table, tenants::table>;
impl OwnerColumns<AssignmentsWithTenants> for AssignmentRows {
    fn platform() -> Option<Cond<AssignmentsWithTenants>> {
        None
    }
    fn partner(_: PartnerId) -> Option<Cond<AssignmentsWithTenants>> {
        None
    }
    fn tenants_of(p: PartnerId) -> Option<Cond<AssignmentsWithTenants>> {
        Some(Box::new(tenants::partner_id.assume_not_null().eq(p.uuid()).and(tenants::deleted_at.is_null())))
    }
    fn tenant(t: TenantId) -> Option<Cond<AssignmentsWithTenants>> {
        Some(Box::new(tenants::id.eq(t.uuid())))
    }
}
