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

mod input;
pub use input::{DEFAULT_REQUESTED_SCOPES, NewRegistration, RegistrationInput};

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
    // A reject without a reason is malformed whatever the request's state.
    if let RegistrationEvent::Reject { reason } = event
        && reason.trim().is_empty()
    {
        return Err(IllegalTransition::MissingReason);
    }
    if current != RegistrationStatus::Pending {
        return Err(IllegalTransition::NotPending { from: current.as_str(), event: event.name() });
    }
    Ok(match event {
        RegistrationEvent::Approve => RegistrationStatus::Approved,
        RegistrationEvent::Reject { .. } => RegistrationStatus::Rejected,
        RegistrationEvent::Cancel => RegistrationStatus::Cancelled,
        RegistrationEvent::Expire => RegistrationStatus::Expired,
    })
}

/// Where a stored `expires_at` stands against the time of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Whatever it is.
    Any,
    /// It has passed (`expires_at <= now`).
    Passed,
    /// It has not (`expires_at > now`).
    Ahead,
}

impl Expiry {
    /// Whether `expires_at` matches at `now`.
    #[must_use]
    pub fn holds(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self {
            Expiry::Any => true,
            Expiry::Passed => expires_at <= now,
            Expiry::Ahead => expires_at > now,
        }
    }
}

/// The stored (status, expiry) pairs whose [`effective_status`] is `status`: what a storage
/// filter by effective status must match, any pair of the list.
///
/// ```
/// use scaikey_domain::registration::{stored_forms, Expiry, RegistrationStatus::*};
/// assert_eq!(stored_forms(Expired), &[(Expired, Expiry::Any), (Pending, Expiry::Passed)]);
/// ```
#[must_use]
pub const fn stored_forms(status: RegistrationStatus) -> &'static [(RegistrationStatus, Expiry)] {
    use RegistrationStatus::*;
    match status {
        Pending => &[(Pending, Expiry::Ahead)],
        Expired => &[(Expired, Expiry::Any), (Pending, Expiry::Passed)],
        Approved => &[(Approved, Expiry::Any)],
        Rejected => &[(Rejected, Expiry::Any)],
        Cancelled => &[(Cancelled, Expiry::Any)],
    }
}

/// The stored form the expiry sweep records as EXPIRED: pending past its `expires_at`.
pub const DUE: (RegistrationStatus, Expiry) = (RegistrationStatus::Pending, Expiry::Passed);

/// What a review changes on a request: stored as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOutcome {
    /// The new status.
    pub status: RegistrationStatus,
    /// The reviewer, for approvals and rejections.
    pub reviewed_by: Option<String>,
    /// When, for approvals and rejections.
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Approval notes.
    pub review_notes: Option<String>,
    /// The rejection's reason, trimmed.
    pub rejection_reason: Option<String>,
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
    fn a_blank_reason_is_refused_before_the_state_is_looked_at() {
        let e = RegistrationEvent::Reject { reason: " ".into() };
        assert_eq!(transition(Approved, &e), Err(IllegalTransition::MissingReason));
    }

    #[test]
    fn stored_forms_match_exactly_the_rows_of_each_effective_status() {
        let now = crate::test_fixtures::t0();
        let expiries = [now - chrono::Duration::seconds(1), now, now + chrono::Duration::seconds(1)];
        for wanted in RegistrationStatus::ALL {
            for stored in RegistrationStatus::ALL {
                for at in expiries {
                    let listed = stored_forms(wanted).iter().any(|(s, e)| *s == stored && e.holds(at, now));
                    assert_eq!(listed, effective_status(stored, at, now) == wanted, "{wanted:?} {stored:?} {at}");
                }
            }
        }
        for at in expiries {
            let due = DUE.0 == Pending && DUE.1.holds(at, now);
            assert_eq!(due, effective_status(Pending, at, now) == Expired, "the sweep records what reads as expired");
        }
    }

    fn request(status: RegistrationStatus, expires_at: DateTime<Utc>) -> RegistrationRequest {
        let now = expires_at;
        RegistrationRequest {
            id: crate::id::RegistrationRequestId::generate_from(ulid::Ulid::from_parts(1, 1)),
            scope: crate::scope::ScopeLevel::Global,
            partner_id: None,
            tenant_id: None,
            name: "App".into(),
            description: None,
            settings: crate::application::ClientSettings {
                application_type: crate::application::ApplicationType::Service,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                allowed_origins: vec![],
                allowed_scopes: vec![],
                allowed_resources: vec![],
                grant_types: vec!["client_credentials".into()],
            },
            contact_email: "a@example.com".into(),
            contact_name: None,
            organization_name: None,
            website_url: None,
            status,
            created_by: None,
            reviewed_by: None,
            reviewed_at: None,
            review_notes: None,
            rejection_reason: None,
            application_id: None,
            expires_at,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_review_says_what_to_store() {
        let now = crate::test_fixtures::t0();
        let r = request(Pending, now + chrono::Duration::hours(1));
        let approved = r.review(&RegistrationEvent::Approve, "usr_a", Some("ok".into()), now).unwrap();
        assert_eq!(
            approved,
            ReviewOutcome {
                status: Approved,
                reviewed_by: Some("usr_a".into()),
                reviewed_at: Some(now),
                review_notes: Some("ok".into()),
                rejection_reason: None,
            }
        );
        let rejected = r.review(&RegistrationEvent::Reject { reason: " no \n".into() }, "usr_a", None, now).unwrap();
        assert_eq!((rejected.status, rejected.rejection_reason.as_deref()), (Rejected, Some("no")));
        let cancelled = r.review(&RegistrationEvent::Cancel, "usr_a", Some("ignored".into()), now).unwrap();
        assert_eq!(
            cancelled,
            ReviewOutcome {
                status: Cancelled,
                reviewed_by: None,
                reviewed_at: None,
                review_notes: None,
                rejection_reason: None
            }
        );
        let late = request(Pending, now);
        assert_eq!(
            late.review(&RegistrationEvent::Approve, "usr_a", None, now),
            Err(IllegalTransition::NotPending { from: "EXPIRED", event: "approve" }),
            "past its expiry a stored PENDING request is EXPIRED"
        );
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
    /// Reviews the request at `now`: applies `event` to its effective status and says what to
    /// store, or why the move is illegal. `by` is the reviewer (`usr_…`/`app_…`), recorded for
    /// approvals and rejections; `notes` are the approval's.
    ///
    /// # Errors
    /// [`IllegalTransition`] when the request is no longer pending at `now` or a rejection has
    /// no reason.
    pub fn review(
        &self,
        event: &RegistrationEvent,
        by: &str,
        notes: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<ReviewOutcome, IllegalTransition> {
        let status = transition(effective_status(self.status, self.expires_at, now), event)?;
        let reviewed = matches!(event, RegistrationEvent::Approve | RegistrationEvent::Reject { .. });
        Ok(ReviewOutcome {
            status,
            reviewed_by: reviewed.then(|| by.to_string()),
            reviewed_at: reviewed.then_some(now),
            review_notes: if matches!(event, RegistrationEvent::Approve) { notes } else { None },
            rejection_reason: match event {
                RegistrationEvent::Reject { reason } => Some(reason.trim().to_string()),
                _ => None,
            },
        })
    }

    /// Where the request lives, for the access rules.
    #[must_use]
    pub fn owner(&self) -> crate::access::Owner {
        crate::access::Owner::from_scope(self.scope, self.partner_id, self.tenant_id)
            .unwrap_or(crate::access::Owner::Platform)
    }
}
