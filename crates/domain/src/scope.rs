//! Where an application or registration request lives: the whole platform, one partner, or one
//! tenant.

/// The level an application or registration request is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeLevel {
    /// Visible across the platform.
    Global,
    /// Belongs to one partner.
    Partner,
    /// Belongs to one tenant.
    Tenant,
}

impl ScopeLevel {
    /// Every level.
    pub const ALL: [ScopeLevel; 3] = [ScopeLevel::Global, ScopeLevel::Partner, ScopeLevel::Tenant];

    /// The wire name (`GLOBAL`, `PARTNER`, `TENANT`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeLevel::Global => "GLOBAL",
            ScopeLevel::Partner => "PARTNER",
            ScopeLevel::Tenant => "TENANT",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<ScopeLevel> {
        ScopeLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}
