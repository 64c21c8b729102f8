//! The access rules of contract §5, as pure functions.
//!
//! Every admin handler asks [`can`] (single resources) or [`reach`] (lists and creates) and maps
//! the [`Decision`] to HTTP; no handler decides access itself. The default is deny.
//!
//! | caller | reads | writes |
//! |---|---|---|
//! | `super_admin`, platform token | everything | everything |
//! | `partner_admin` of P | tenants of P and everything in them; GLOBAL apps, PARTNER apps of P | everything inside the tenants of P (not the tenant records); PARTNER apps of P |
//! | `tenant_admin` of T | T and everything in it; GLOBAL apps, PARTNER apps of T's partner | inside T only (not T's record); TENANT apps of T |

use crate::id::{PartnerId, TenantId};
use crate::principal::{ADMIN_READ_SCOPE, ADMIN_WRITE_SCOPE, Principal};
use crate::role::Role;
use crate::scope::ScopeLevel;

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// GET.
    Read,
    /// POST, PATCH, DELETE.
    Write,
}

/// Where a resource lives in the platform → partner → tenant hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Platform level: GLOBAL apps and requests, users without a tenant.
    Platform,
    /// One partner: PARTNER apps and requests.
    Partner(PartnerId),
    /// One tenant, with the partner it stands under (if any).
    Tenant {
        /// The tenant.
        tenant: TenantId,
        /// The tenant's partner.
        partner: Option<PartnerId>,
    },
}

impl Owner {
    /// The owner of an application or registration request from its scope fields.
    /// `None` when the fields do not fit the level (validation catches that earlier).
    #[must_use]
    pub fn from_scope(level: ScopeLevel, partner: Option<PartnerId>, tenant: Option<TenantId>) -> Option<Owner> {
        match (level, partner, tenant) {
            (ScopeLevel::Global, _, _) => Some(Owner::Platform),
            (ScopeLevel::Partner, Some(p), _) => Some(Owner::Partner(p)),
            (ScopeLevel::Tenant, partner, Some(tenant)) => Some(Owner::Tenant { tenant, partner }),
            _ => None,
        }
    }
}

/// The kind of thing being accessed, with its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Partner records (any partner endpoint): platform only, 403 for everyone else.
    Partners,
    /// The token signing keys: platform only, 403 for everyone else.
    SigningKeys,
    /// A tenant record itself: readable within reach, writable by the platform only.
    TenantRecord(&'a Owner),
    /// Anything that lives inside a tenant or at platform level: users, groups, sessions,
    /// identity providers, agents, audit events.
    Owned(&'a Owner),
    /// An application: GLOBAL and own-partner apps are readable by those below.
    Application(&'a Owner),
    /// A registration request: visible only within write reach of its scope.
    RegistrationRequest(&'a Owner),
}

/// Why access is refused; the HTTP adapter maps each to its status and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The resource is outside the caller's visibility: answer 404, do not reveal it exists.
    NotFound,
    /// Visible (or a collection) but not the caller's to change: 403 `Access denied`.
    Forbidden,
    /// A client token without the admin scope this action needs (or not GLOBAL): 403 with the
    /// platform-token text.
    PlatformScopeMissing,
}

/// The outcome of an access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused.
    Deny(Denial),
}

impl Decision {
    /// `true` for [`Decision::Allow`].
    #[must_use]
    pub const fn is_allowed(self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `true` for a 403-style refusal.
    #[must_use]
    pub const fn is_forbidden(self) -> bool {
        matches!(self, Decision::Deny(Denial::Forbidden | Denial::PlatformScopeMissing))
    }

    /// Converts to a `Result` for `?` chains.
    pub const fn into_result(self) -> Result<(), Denial> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(d) => Err(d),
        }
    }
}

/// How far an admin caller reaches; lists are filtered by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Everything (super admin, platform token).
    Platform,
    /// The tenants of one partner and everything in them.
    Partner(PartnerId),
    /// One tenant and everything in it.
    Tenant {
        /// The tenant.
        tenant: TenantId,
        /// Its partner, which decides which PARTNER apps the tenant admin sees.
        partner: Option<PartnerId>,
    },
}

/// The reach of `principal` for `action`, or why it has none.
///
/// Users need an admin role (a `partner_admin` needs a partner, a `tenant_admin` a tenant); the
/// widest applicable role wins. Client tokens need to be GLOBAL and carry `admin:read` (reads)
/// or `admin:write` (writes), and then act with platform reach. An agent acts within its tenant
/// when its token carries the same scope.
pub fn reach(principal: &Principal, action: Action) -> Result<Reach, Denial> {
    match principal {
        Principal::User(u) => {
            if u.roles.contains(Role::SuperAdmin) {
                return Ok(Reach::Platform);
            }
            if u.roles.contains(Role::PartnerAdmin)
                && let Some(p) = u.partner_id
            {
                return Ok(Reach::Partner(p));
            }
            if u.roles.contains(Role::TenantAdmin)
                && let Some(t) = u.tenant_id
            {
                return Ok(Reach::Tenant { tenant: t, partner: u.partner_id });
            }
            Err(Denial::Forbidden)
        }
        Principal::Client(c) => {
            let needed = match action {
                Action::Read => ADMIN_READ_SCOPE,
                Action::Write => ADMIN_WRITE_SCOPE,
            };
            if c.scope_level == ScopeLevel::Global && c.has_scope(needed) {
                Ok(Reach::Platform)
            } else {
                Err(Denial::PlatformScopeMissing)
            }
        }
        Principal::Agent(a) => {
            let needed = match action {
                Action::Read => ADMIN_READ_SCOPE,
                Action::Write => ADMIN_WRITE_SCOPE,
            };
            if a.has_scope(needed) {
                Ok(Reach::Tenant { tenant: a.tenant_id, partner: a.partner_id })
            } else {
                Err(Denial::Forbidden)
            }
        }
    }
}

impl Reach {
    /// The tenant a new tenant-scoped resource (group, identity provider, agent) goes to: the
    /// one `named`, else a tenant admin's own. Whether the caller may write there is [`can`]'s.
    ///
    /// # Errors
    /// `tenant_id` missing where the caller has no tenant of its own.
    pub fn home_tenant(self, named: Option<TenantId>) -> Result<TenantId, crate::validation::FieldError> {
        match (named, self) {
            (Some(t), _) => Ok(t),
            (None, Reach::Tenant { tenant, .. }) => Ok(tenant),
            (None, _) => Err(crate::validation::FieldError::missing("tenant_id")),
        }
    }

    /// `true` if a resource of `owner` lies inside this reach (the tenant tree below it).
    #[must_use]
    pub fn contains(self, owner: &Owner) -> bool {
        match (self, owner) {
            (Reach::Platform, _) => true,
            (Reach::Partner(p), Owner::Partner(q)) => p == *q,
            (Reach::Partner(p), Owner::Tenant { partner, .. }) => *partner == Some(p),
            (Reach::Tenant { tenant, .. }, Owner::Tenant { tenant: t, .. }) => tenant == *t,
            _ => false,
        }
    }

    /// `true` if an application of `owner` is visible: the reach's own tree, plus GLOBAL apps
    /// and the PARTNER apps of the caller's partner.
    #[must_use]
    pub fn sees_application(self, owner: &Owner) -> bool {
        match (self, owner) {
            (_, Owner::Platform) => true,
            (Reach::Tenant { partner: Some(p), .. }, Owner::Partner(q)) => p == *q,
            _ => self.contains(owner),
        }
    }
}

/// The kinds of list a reach reads, each with its visibility rule of [`can`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Tenant records ([`Target::TenantRecord`]).
    TenantRecords,
    /// Users, groups, sessions, identity providers, agents, audit events ([`Target::Owned`]).
    Owned,
    /// Applications ([`Target::Application`]).
    Applications,
    /// Registration requests ([`Target::RegistrationRequest`]).
    RegistrationRequests,
}

impl Listing {
    /// Every kind of list.
    pub const ALL: [Listing; 4] =
        [Listing::TenantRecords, Listing::Owned, Listing::Applications, Listing::RegistrationRequests];

    /// The target a row of `owner` is, for [`can`].
    #[must_use]
    pub const fn target(self, owner: &Owner) -> Target<'_> {
        match self {
            Listing::TenantRecords => Target::TenantRecord(owner),
            Listing::Owned => Target::Owned(owner),
            Listing::Applications => Target::Application(owner),
            Listing::RegistrationRequests => Target::RegistrationRequest(owner),
        }
    }
}

/// One form of owner a list shows: a row is listed when its owner matches any form of
/// [`Reach::lists`]. Storage turns each form into a condition on its own columns, so the rule of
/// which owners a reach sees is written here once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visible {
    /// Every row.
    All,
    /// Platform-level rows: GLOBAL applications and requests, users without a tenant.
    Platform,
    /// The rows of one partner itself: PARTNER applications and requests, partner audit events.
    Partner(PartnerId),
    /// The rows inside any tenant standing under one partner.
    TenantsOf(PartnerId),
    /// The rows inside one tenant.
    Tenant(TenantId),
}

impl Visible {
    /// Whether a row of `owner` matches this form.
    #[must_use]
    pub fn matches(self, owner: &Owner) -> bool {
        match (self, owner) {
            (Visible::All, _) | (Visible::Platform, Owner::Platform) => true,
            (Visible::Partner(p), Owner::Partner(q)) => p == *q,
            (Visible::TenantsOf(p), Owner::Tenant { partner, .. }) => *partner == Some(p),
            (Visible::Tenant(t), Owner::Tenant { tenant, .. }) => t == *tenant,
            _ => false,
        }
    }
}

impl Reach {
    /// What a list of `listing` shows this reach: the rows whose owner matches any of these
    /// forms — exactly those [`can`] lets the reach read (a table test holds the two together).
    #[must_use]
    pub fn lists(self, listing: Listing) -> Vec<Visible> {
        match (self, listing) {
            (Reach::Platform, _) => vec![Visible::All],
            (Reach::Partner(p), Listing::TenantRecords | Listing::Owned | Listing::RegistrationRequests) => {
                vec![Visible::Partner(p), Visible::TenantsOf(p)]
            }
            (Reach::Partner(p), Listing::Applications) => {
                vec![Visible::Platform, Visible::Partner(p), Visible::TenantsOf(p)]
            }
            (Reach::Tenant { tenant, partner }, Listing::Applications) => {
                let mut v = vec![Visible::Platform, Visible::Tenant(tenant)];
                v.extend(partner.map(Visible::Partner));
                v
            }
            (Reach::Tenant { tenant, .. }, _) => vec![Visible::Tenant(tenant)],
        }
    }
}

/// Decides whether `principal` may perform `action` on `target`.
#[must_use]
pub fn can(principal: &Principal, action: Action, target: Target<'_>) -> Decision {
    let reach = match reach(principal, action) {
        Ok(r) => r,
        Err(d) => return Decision::Deny(d),
    };
    let platform = reach == Reach::Platform;
    let allow = |ok: bool, otherwise: Denial| {
        if ok { Decision::Allow } else { Decision::Deny(otherwise) }
    };
    match target {
        Target::Partners | Target::SigningKeys => allow(platform, Denial::Forbidden),
        Target::TenantRecord(owner) => match action {
            _ if platform => Decision::Allow,
            Action::Read => allow(reach.contains(owner), Denial::NotFound),
            // Tenant records are the platform's to change; everyone else gets 403, whether or not
            // the tenant is theirs (contract §5).
            Action::Write => Decision::Deny(Denial::Forbidden),
        },
        Target::Owned(owner) => allow(reach.contains(owner), Denial::NotFound),
        Target::Application(owner) => {
            if reach.contains(owner) {
                Decision::Allow
            } else if reach.sees_application(owner) {
                allow(action == Action::Read, Denial::Forbidden)
            } else {
                Decision::Deny(Denial::NotFound)
            }
        }
        Target::RegistrationRequest(owner) => allow(reach.contains(owner), Denial::NotFound),
    }
}

/// Decides whether `principal` may grant `role` to a user of `target_owner`.
///
/// An admin grants only roles at or below its own reach: a `tenant_admin` grants `tenant_admin`,
/// a `partner_admin` grants `partner_admin` and `tenant_admin`, a super admin (or platform
/// token) grants anything. The target user must also be inside the caller's reach (checked with
/// [`can`] separately).
#[must_use]
pub fn can_grant(principal: &Principal, role: Role) -> Decision {
    match reach(principal, Action::Write) {
        Err(d) => Decision::Deny(d),
        Ok(Reach::Platform) => Decision::Allow,
        Ok(Reach::Partner(_)) if Role::PartnerAdmin.covers(role) => Decision::Allow,
        Ok(Reach::Tenant { .. }) if Role::TenantAdmin.covers(role) => Decision::Allow,
        Ok(_) => Decision::Deny(Denial::Forbidden),
    }
}

/// Decides whether `principal` may change a user holding `target_roles` (PATCH, delete, reset
/// its password, disable its MFA, revoke its sessions): only users whose every role the caller
/// could grant, so a tenant admin cannot suspend its partner admin. The user must also be inside
/// the caller's reach (checked with [`can`] separately).
#[must_use]
pub fn can_manage_user(principal: &Principal, target_roles: crate::role::Roles) -> Decision {
    for role in target_roles.iter() {
        if let Decision::Deny(d) = can_grant(principal, role) {
            return Decision::Deny(d);
        }
    }
    match reach(principal, Action::Write) {
        Ok(_) => Decision::Allow,
        Err(d) => Decision::Deny(d),
    }
}

#[cfg(test)]
mod tests;
