//! Admin roles and role sets.

use std::fmt;

/// An administrative role a user may hold (contract §4, Users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything on the platform.
    SuperAdmin,
    /// Everything inside the tenants of one partner.
    PartnerAdmin,
    /// Everything inside one tenant.
    TenantAdmin,
}

impl Role {
    /// Every role, widest reach first.
    pub const ALL: [Role; 3] = [Role::SuperAdmin, Role::PartnerAdmin, Role::TenantAdmin];

    /// The wire name (`super_admin`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::PartnerAdmin => "partner_admin",
            Role::TenantAdmin => "tenant_admin",
        }
    }

    /// Parses a wire name; `None` for anything else.
    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Rank of reach: larger reaches further.
    const fn rank(self) -> u8 {
        match self {
            Role::SuperAdmin => 3,
            Role::PartnerAdmin => 2,
            Role::TenantAdmin => 1,
        }
    }

    /// `true` when `self` reaches at least as far as `other`.
    #[must_use]
    pub const fn covers(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    const fn bit(self) -> u8 {
        1 << (self.rank() - 1)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles (at most three), cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);

    /// `true` if the set holds `role`.
    #[must_use]
    pub const fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// Adds `role`.
    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }

    /// `true` if no role is held.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The widest role held, if any.
    #[must_use]
    pub fn highest(self) -> Option<Role> {
        self.iter().next()
    }

    /// The roles held, widest first.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// Parses wire names; the first unknown name is returned as the error.
    ///
    /// ```
    /// use scaikey_domain::role::{Roles, Role};
    /// let roles = Roles::parse_all(["tenant_admin", "super_admin"]).unwrap();
    /// assert_eq!(roles.highest(), Some(Role::SuperAdmin));
    /// assert_eq!(Roles::parse_all(["root"]), Err("root".to_string()));
    /// ```
    pub fn parse_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Roles, String> {
        let mut roles = Roles::NONE;
        for name in names {
            roles.insert(Role::parse(name).ok_or_else(|| name.to_string())?);
        }
        Ok(roles)
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<T: IntoIterator<Item = Role>>(iter: T) -> Self {
        let mut roles = Roles::NONE;
        for r in iter {
            roles.insert(r);
        }
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_is_a_total_order_by_reach() {
        assert!(Role::SuperAdmin.covers(Role::PartnerAdmin));
        assert!(Role::PartnerAdmin.covers(Role::TenantAdmin));
        assert!(Role::TenantAdmin.covers(Role::TenantAdmin));
        assert!(!Role::TenantAdmin.covers(Role::PartnerAdmin));
        assert!(!Role::PartnerAdmin.covers(Role::SuperAdmin));
    }

    #[test]
    fn set_iterates_widest_first() {
        let r = Roles::from_iter([Role::TenantAdmin, Role::PartnerAdmin]);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![Role::PartnerAdmin, Role::TenantAdmin]);
        assert!(!r.contains(Role::SuperAdmin));
        assert!(Roles::NONE.is_empty());
    }
}
