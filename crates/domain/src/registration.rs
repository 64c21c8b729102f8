//! The registration request state machine (contract §6).
//!
//! ```text
//! PENDING ──approve──▶ APPROVED
//!    ├────reject─────▶ REJECTED   (needs a non-empty reason)
//!    ├────cancel─────▶ CANCELLED
//!    └────expire─────▶ EXPIRED    (when expires_at passes)
//! ```
//! Every other move is an [`IllegalTransition`] (HTTP 409) and changes nothing.

use chrono::{DateTime, Utc};

/// Where a registration request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationStatus {
    /// Waiting for review.
    Pending,
    /// Approved; the application exists.
    Approved,
    /// Rejected with a reason.
    Rejected,
    /// Withdrawn by an admin.
    Cancelled,
    /// Not reviewed in time.
    Expired,
}

impl RegistrationStatus {
    /// Every status.
    pub const ALL: [RegistrationStatus; 5] = [
        RegistrationStatus::Pending,
        RegistrationStatus::Approved,
        RegistrationStatus::Rejected,
        RegistrationStatus::Cancelled,
        RegistrationStatus::Expired,
    ];

    /// The wire name (`PENDING`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Pending => "PENDING",
            RegistrationStatus::Approved => "APPROVED",
            RegistrationStatus::Rejected => "REJECTED",
            RegistrationStatus::Cancelled => "CANCELLED",
            RegistrationStatus::Expired => "EXPIRED",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<RegistrationStatus> {
        RegistrationStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// `true` once no further move is possible.
    #[must_use]
    pub const fn is_final(self) -> bool {
        !matches!(self, RegistrationStatus::Pending)
    }
}

/// What happens to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// An admin approves it.
    Approve,
    /// An admin rejects it with a reason.
    Reject {
        /// Why; must not be blank.
        reason: String,
    },
    /// An admin cancels it.
    Cancel,
    /// Its `expires_at` passed.
    Expire,
}

impl RegistrationEvent {
    const fn name(&self) -> &'static str {
        match self {
            RegistrationEvent::Approve => "approve",
            RegistrationEvent::Reject { .. } => "reject",
            RegistrationEvent::Cancel => "cancel",
            RegistrationEvent::Expire => "expire",
        }
    }
}

/// A move the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IllegalTransition {
    /// The request is no longer pending.
    #[error("Cannot {event} a registration request that is {from}")]
    NotPending {
        /// The current status, as its wire name.
        from: &'static str,
        /// The attempted event.
        event: &'static str,
    },
    /// A reject without a reason.
    #[error("A rejection needs a non-empty reason")]
    MissingReason,
}

/// The status a stored request really has at `now`: a PENDING request past its `expires_at`
/// reads as EXPIRED at once, before the sweep records it.
///
/// ```
/// use chrono::{Duration, Utc};
/// use scaikey_domain::registration::{effective_status, RegistrationStatus::*};
/// let now = Utc::now();
/// assert_eq!(effective_status(Pending, now - Duration::seconds(1), now), Expired);
/// assert_eq!(effective_status(Pending, now + Duration::hours(1), now), Pending);
/// assert_eq!(effective_status(Approved, now - Duration::days(9), now), Approved);
/// ```
#[must_use]
pub fn effective_status(
    stored: RegistrationStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> RegistrationStatus {
    if stored == RegistrationStatus::Pending && expires_at <= now { RegistrationStatus::Expired } else { stored }
}

/// Applies `event` to a request whose effective status is `current`.
///
/// ```
/// use scaikey_domain::registration::{transition, RegistrationEvent, RegistrationStatus::*};
/// assert_eq!(transition(Pending, &RegistrationEvent::Approve), Ok(Approved));
/// assert!(transition(Approved, &RegistrationEvent::Cancel).is_err());
/// ```
pub fn transition(
    current: RegistrationStatus,
    event: &RegistrationEvent,
) -> Result<RegistrationStatus, IllegalTransition> {
    if current != RegistrationStatus::Pending {
        return Err(IllegalTransition::NotPending { from: current.as_str(), event: event.name() });
    }
    Ok(match event {
        RegistrationEvent::Approve => RegistrationStatus::Approved,
        RegistrationEvent::Reject { reason } if reason.trim().is_empty() => {
            return Err(IllegalTransition::MissingReason);
        }
        RegistrationEvent::Reject { .. } => RegistrationStatus::Rejected,
        RegistrationEvent::Cancel => RegistrationStatus::Cancelled,
        RegistrationEvent::Expire => RegistrationStatus::Expired,
    })
}

#[cfg(test)]
mod tests {
    use super::RegistrationStatus::*;
    use super::*;

    fn events() -> [RegistrationEvent; 4] {
        [
            RegistrationEvent::Approve,
            RegistrationEvent::Reject { reason: "no".into() },
            RegistrationEvent::Cancel,
            RegistrationEvent::Expire,
        ]
    }

    #[test]
    fn the_whole_transition_table() {
        let expected = [Approved, Rejected, Cancelled, Expired];
        for (e, want) in events().iter().zip(expected) {
            assert_eq!(transition(Pending, e), Ok(want));
        }
        for from in [Approved, Rejected, Cancelled, Expired] {
            assert!(from.is_final());
            for e in events() {
                assert!(matches!(transition(from, &e), Err(IllegalTransition::NotPending { .. })), "{from:?} {e:?}");
            }
        }
    }

    #[test]
    fn reject_needs_a_reason() {
        for blank in ["", "   ", "\n"] {
            let e = RegistrationEvent::Reject { reason: blank.into() };
            assert_eq!(transition(Pending, &e), Err(IllegalTransition::MissingReason));
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for s in RegistrationStatus::ALL {
            assert_eq!(RegistrationStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RegistrationStatus::parse("pending"), None);
    }
}

/// A stored registration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRequest {
    /// Its ID.
    pub id: crate::id::RegistrationRequestId,
    /// Scope level of the requested application.
    pub scope: crate::scope::ScopeLevel,
    /// Partner (PARTNER requests; TENANT requests under a partner).
    pub partner_id: Option<crate::id::PartnerId>,
    /// Tenant (TENANT requests).
    pub tenant_id: Option<crate::id::TenantId>,
    /// Requested application name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Requested OAuth settings (`allowed_scopes` are the requested scopes).
    pub settings: crate::application::ClientSettings,
    /// Contact.
    pub contact_email: String,
    /// Contact name.
    pub contact_name: Option<String>,
    /// Organisation.
    pub organization_name: Option<String>,
    /// Website.
    pub website_url: Option<String>,
    /// Stored status (see [`effective_status`]).
    pub status: RegistrationStatus,
    /// Who created it.
    pub created_by: Option<String>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// When.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Approval notes.
    pub review_notes: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
    /// The application approval created.
    pub application_id: Option<crate::id::ApplicationId>,
    /// When it expires if still pending.
    pub expires_at: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl RegistrationRequest {
    /// Where the request lives, for the access rules.
    #[must_use]
    pub fn owner(&self) -> crate::access::Owner {
        crate::access::Owner::from_scope(self.scope, self.partner_id, self.tenant_id)
            .unwrap_or(crate::access::Owner::Platform)
    }
}
