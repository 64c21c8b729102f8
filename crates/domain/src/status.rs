//! Lifecycle status shared by partners, tenants, users and agents.

/// `active` or `suspended`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// In service.
    #[default]
    Active,
    /// Kept, but refused at login and token checks.
    Suspended,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 2] = [Status::Active, Status::Suspended];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }
}
