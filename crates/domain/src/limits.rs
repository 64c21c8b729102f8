//! Partner resource limits (contract §4): `None` means unlimited; a create that would pass a
//! limit is refused.

/// The three per-partner limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartnerLimits {
    /// Live tenants under the partner.
    pub max_tenants: Option<i32>,
    /// Live users in each of the partner's tenants.
    pub max_users_per_tenant: Option<i32>,
    /// Live applications in each of the partner's tenants.
    pub max_applications_per_tenant: Option<i32>,
}

/// The limit that one more item would pass, for the 409 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Partner limit reached: {name} is {limit}")]
pub struct LimitReached {
    /// The limit's field name.
    pub name: &'static str,
    /// Its value.
    pub limit: i32,
}

/// Checks that one more item fits under `limit` when `current` live items exist.
///
/// ```
/// use scaikey_domain::limits::admit_one;
/// assert!(admit_one("max_tenants", Some(2), 1).is_ok());
/// assert!(admit_one("max_tenants", Some(2), 2).is_err());
/// assert!(admit_one("max_tenants", None, 1_000_000).is_ok());
/// ```
pub fn admit_one(name: &'static str, limit: Option<i32>, current: i64) -> Result<(), LimitReached> {
    match limit {
        Some(l) if current >= i64::from(l) => Err(LimitReached { name, limit: l }),
        _ => Ok(()),
    }
}
