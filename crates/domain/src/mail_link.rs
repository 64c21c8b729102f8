//! Links ScaiKey mails to a person (contract §10): a password reset after "forgot password" and
//! an invitation to set a first password. A link carries a random token (only its keyed hash is
//! stored), is used at most once, and expires: a reset after the configured minutes (default
//! [`DEFAULT_RESET_MINUTES`]), an invitation after [`INVITATION_LIFETIME`]. Following either
//! proves the address, so it sets `email_verified`.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use scaikey_domain::mail_link::{LinkState, Purpose, StoredLink};
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
//! let link = StoredLink::issued(Purpose::Reset, t0, 30);
//! assert_eq!(link.state(t0 + Duration::minutes(29)), LinkState::Usable);
//! assert_eq!(link.state(t0 + Duration::minutes(30)), LinkState::Expired);
//! ```

use chrono::{DateTime, Duration, Utc};

/// Reset links live this many minutes unless `SCAIKEY_RESET_LINK_MINUTES` says otherwise.
pub const DEFAULT_RESET_MINUTES: i64 = 30;
/// Invitations live a week.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
/// A new mail of the same purpose is sent at most once per this interval per user, so a loop on
/// "forgot password" cannot flood a mailbox.
pub const RESEND_INTERVAL: Duration = Duration::seconds(60);
/// Random bytes in a link's token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Choose a new password after "forgot password".
    Reset,
    /// Choose the first password of an account an admin created.
    Invitation,
}

impl Purpose {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invitation => "invitation",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Purpose> {
        [Purpose::Reset, Purpose::Invitation].into_iter().find(|p| p.as_str() == s)
    }

    /// How long a link of this purpose lives; `reset_minutes` is the configured reset life.
    #[must_use]
    pub fn lifetime(self, reset_minutes: i64) -> Duration {
        match self {
            Purpose::Reset => Duration::minutes(reset_minutes.max(1)),
            Purpose::Invitation => INVITATION_LIFETIME,
        }
    }
}

/// Whether a link may be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not used and not expired.
    Usable,
    /// Already used once.
    Used,
    /// Past its end.
    Expired,
}

/// A stored link, without its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// What it is for.
    pub purpose: Purpose,
    /// When it was mailed.
    pub created_at: DateTime<Utc>,
    /// Its end.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

impl StoredLink {
    /// A link issued now.
    #[must_use]
    pub fn issued(purpose: Purpose, now: DateTime<Utc>, reset_minutes: i64) -> StoredLink {
        StoredLink { purpose, created_at: now, expires_at: now + purpose.lifetime(reset_minutes), used_at: None }
    }

    /// Whether it may be used at `now` (a used link stays used even after its end).
    #[must_use]
    pub fn state(&self, now: DateTime<Utc>) -> LinkState {
        if self.used_at.is_some() {
            LinkState::Used
        } else if now >= self.expires_at {
            LinkState::Expired
        } else {
            LinkState::Usable
        }
    }
}

/// Whether a new mail may go out, given when the last one of the same purpose was sent to the
/// user (`None`: never, or it was used).
#[must_use]
pub fn may_send(last_sent: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_sent.is_none_or(|t| now - t >= RESEND_INTERVAL)
}

/// Whether an invitation may be sent: only while the user has no password (contract §10: 409
/// once one is set).
#[must_use]
pub fn may_invite(password_set: bool) -> bool {
    !password_set
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn lifetimes_follow_the_purpose() {
        assert_eq!(Purpose::Reset.lifetime(30), Duration::minutes(30));
        assert_eq!(Purpose::Reset.lifetime(5), Duration::minutes(5));
        // A nonsense setting cannot make links that are born expired.
        assert_eq!(Purpose::Reset.lifetime(0), Duration::minutes(1));
        assert_eq!(Purpose::Invitation.lifetime(30), Duration::days(7));
    }

    #[test]
    fn a_link_is_usable_until_used_or_expired() {
        let mut l = StoredLink::issued(Purpose::Invitation, t0(), 30);
        assert_eq!(l.state(t0()), LinkState::Usable);
        assert_eq!(l.state(t0() + Duration::days(7) - Duration::seconds(1)), LinkState::Usable);
        assert_eq!(l.state(t0() + Duration::days(7)), LinkState::Expired);
        l.used_at = Some(t0() + Duration::minutes(1));
        assert_eq!(l.state(t0() + Duration::minutes(2)), LinkState::Used);
        assert_eq!(l.state(t0() + Duration::days(8)), LinkState::Used);
    }

    #[test]
    fn mails_are_spaced() {
        assert!(may_send(None, t0()));
        assert!(!may_send(Some(t0()), t0() + Duration::seconds(59)));
        assert!(may_send(Some(t0()), t0() + Duration::seconds(60)));
    }

    #[test]
    fn names_round_trip_and_invitations_need_no_password() {
        for p in [Purpose::Reset, Purpose::Invitation] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("Reset"), None);
        assert!(may_invite(false));
        assert!(!may_invite(true));
    }
}
