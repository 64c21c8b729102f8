//! Login throttling (contract §10): how many failed logins an account name and a client IP may
//! have before further tries must wait, and for how long.
//!
//! An **account** (an e-mail address, whether or not a user has it, so the answer never tells)
//! may fail [`ACCOUNT_FREE_FAILURES`] times, each within [`ACCOUNT_WINDOW`] of the previous;
//! after that every further try waits [`ACCOUNT_BASE_WAIT`] after the last failure, doubling
//! with each failure, up to [`ACCOUNT_MAX_WAIT`]. A quiet [`ACCOUNT_WINDOW`] forgets the count,
//! and a complete login clears it. A **client IP** may fail [`IP_MAX_FAILURES`] times per
//! [`IP_WINDOW`] (a fixed window from its first failure).
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use scaikey_domain::throttle::{Failures, Scope};
//!
//! let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
//! let mut f = None;
//! for i in 0..5 {
//!     f = Some(Failures::after_failure(f.as_ref(), Scope::Account, t0 + Duration::seconds(i)));
//! }
//! let f = f.unwrap();
//! // The fifth failure at t0+4 s makes the next try wait 30 s from it.
//! assert_eq!(f.wait(Scope::Account, t0 + Duration::seconds(10)), Some(Duration::seconds(24)));
//! assert_eq!(f.wait(Scope::Account, t0 + Duration::seconds(34)), None);
//! ```

use chrono::{DateTime, Duration, Utc};

/// Failures an account may have before it waits.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// How close failures must follow each other to count together.
pub const ACCOUNT_WINDOW: Duration = Duration::minutes(15);
/// The first wait.
pub const ACCOUNT_BASE_WAIT: Duration = Duration::seconds(30);
/// The longest wait.
pub const ACCOUNT_MAX_WAIT: Duration = Duration::hours(1);
/// Failures one IP may have per window.
pub const IP_MAX_FAILURES: u32 = 30;
/// The IP window.
pub const IP_WINDOW: Duration = Duration::minutes(1);

/// What a counter is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// An e-mail address.
    Account,
    /// A client IP.
    Ip,
}

/// A counter's key: what it counts for and the normalised name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Account or IP.
    pub scope: Scope,
    /// `acct:<lower-case e-mail>` or `ip:<address>`.
    pub name: String,
}

impl Key {
    /// The account key of an e-mail (trimmed, lower case: the login's own normalisation).
    #[must_use]
    pub fn account(email: &str) -> Key {
        Key { scope: Scope::Account, name: format!("acct:{}", email.trim().to_lowercase()) }
    }

    /// The key of a client IP.
    #[must_use]
    pub fn ip(ip: &str) -> Key {
        Key { scope: Scope::Ip, name: format!("ip:{ip}") }
    }

    /// The keys a login try counts against: the account, and the IP when known.
    #[must_use]
    pub fn of_login(email: &str, ip: Option<&str>) -> Vec<Key> {
        let mut keys = vec![Key::account(email)];
        keys.extend(ip.map(Key::ip));
        keys
    }
}

/// Failed tries counted for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// How many.
    pub count: u32,
    /// The first of them (start of the IP window).
    pub first_at: DateTime<Utc>,
    /// The latest.
    pub last_at: DateTime<Utc>,
}

impl Failures {
    /// Whether this counter no longer counts at `now`.
    fn stale(&self, scope: Scope, now: DateTime<Utc>) -> bool {
        match scope {
            Scope::Account => now - self.last_at > ACCOUNT_WINDOW,
            Scope::Ip => now - self.first_at >= IP_WINDOW,
        }
    }

    /// The counter after one more failure at `now`.
    #[must_use]
    pub fn after_failure(prev: Option<&Failures>, scope: Scope, now: DateTime<Utc>) -> Failures {
        match prev {
            Some(p) if !p.stale(scope, now) => {
                Failures { count: p.count.saturating_add(1), first_at: p.first_at, last_at: now.max(p.last_at) }
            }
            _ => Failures { count: 1, first_at: now, last_at: now },
        }
    }

    /// How long a try at `now` must still wait; `None` when it may go ahead.
    #[must_use]
    pub fn wait(&self, scope: Scope, now: DateTime<Utc>) -> Option<Duration> {
        if self.stale(scope, now) {
            return None;
        }
        let until = match scope {
            Scope::Account => {
                let over = self.count.checked_sub(ACCOUNT_FREE_FAILURES)?;
                let wait = ACCOUNT_BASE_WAIT
                    .checked_mul(1_i32.checked_shl(over.min(16)).unwrap_or(i32::MAX))
                    .map_or(ACCOUNT_MAX_WAIT, |w| w.min(ACCOUNT_MAX_WAIT));
                self.last_at + wait
            }
            Scope::Ip if self.count >= IP_MAX_FAILURES => self.first_at + IP_WINDOW,
            Scope::Ip => return None,
        };
        (until > now).then(|| until - now)
    }
}

/// Counters whose last failure is older than this hold nothing back at `now` (no wait left,
/// no window open) and may be deleted.
#[must_use]
pub fn forgotten_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - ACCOUNT_MAX_WAIT - ACCOUNT_WINDOW
}

/// The longest wait among counters; `None` when none holds the try back.
#[must_use]
pub fn longest_wait<'a>(
    counters: impl IntoIterator<Item = (Scope, &'a Failures)>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    counters.into_iter().filter_map(|(s, f)| f.wait(s, now)).max()
}

/// Whole seconds for a `Retry-After` header: rounded up, at least 1.
#[must_use]
pub fn retry_after_seconds(wait: Duration) -> i64 {
    let ms = wait.num_milliseconds();
    ((ms + 999) / 1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn fail_at(scope: Scope, times: &[i64]) -> Failures {
        let mut f: Option<Failures> = None;
        for &s in times {
            f = Some(Failures::after_failure(f.as_ref(), scope, t(s)));
        }
        f.unwrap()
    }

    #[test]
    fn four_account_failures_never_wait_and_the_fifth_waits_30_seconds_doubling() {
        assert_eq!(fail_at(Scope::Account, &[0, 1, 2, 3]).wait(Scope::Account, t(4)), None);
        let f = fail_at(Scope::Account, &[0, 1, 2, 3, 4]);
        assert_eq!(f.wait(Scope::Account, t(4)), Some(Duration::seconds(30)));
        assert_eq!(f.wait(Scope::Account, t(33)), Some(Duration::seconds(1)));
        assert_eq!(f.wait(Scope::Account, t(34)), None);
        let f = fail_at(Scope::Account, &[0, 1, 2, 3, 4, 34]);
        assert_eq!(f.wait(Scope::Account, t(34)), Some(Duration::seconds(60)));
        let f = fail_at(Scope::Account, &[0, 1, 2, 3, 4, 34, 94]);
        assert_eq!(f.wait(Scope::Account, t(94)), Some(Duration::seconds(120)));
    }

    #[test]
    fn waits_stop_at_an_hour_even_after_very_many_failures() {
        let times: Vec<i64> = (0..200).map(|i| i * 60).collect();
        let f = fail_at(Scope::Account, &times);
        assert_eq!(f.count, 200);
        assert_eq!(f.wait(Scope::Account, t(199 * 60)), Some(ACCOUNT_MAX_WAIT));
        let mut huge = f;
        huge.count = u32::MAX;
        assert_eq!(huge.wait(Scope::Account, huge.last_at), Some(ACCOUNT_MAX_WAIT));
    }

    #[test]
    fn a_quiet_quarter_hour_forgets_the_account_count() {
        let f = fail_at(Scope::Account, &[0, 1, 2, 3, 3 + 15 * 60 + 1]);
        assert_eq!(f.count, 1);
        let f = fail_at(Scope::Account, &[0, 1, 2, 3, 3 + 15 * 60]);
        assert_eq!(f.count, 5);
    }

    #[test]
    fn an_ip_may_fail_thirty_times_a_minute() {
        let times: Vec<i64> = (0..29).collect();
        assert_eq!(fail_at(Scope::Ip, &times).wait(Scope::Ip, t(29)), None);
        let times: Vec<i64> = (0..30).collect();
        let f = fail_at(Scope::Ip, &times);
        assert_eq!(f.wait(Scope::Ip, t(30)), Some(Duration::seconds(30)));
        assert_eq!(f.wait(Scope::Ip, t(60)), None);
        // The next failure after the window starts a new one.
        assert_eq!(Failures::after_failure(Some(&f), Scope::Ip, t(60)).count, 1);
    }

    #[test]
    fn keys_normalise_the_email_like_the_login_does() {
        assert_eq!(Key::account(" Ana@Example.COM "), Key::account("ana@example.com"));
        assert_eq!(Key::of_login("a@b.c", Some("10.0.0.1")).len(), 2);
        assert_eq!(Key::of_login("a@b.c", None), vec![Key::account("a@b.c")]);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_seconds(Duration::milliseconds(29_001)), 30);
        assert_eq!(retry_after_seconds(Duration::seconds(30)), 30);
    }

    #[test]
    fn the_longest_wait_wins_and_old_rows_expire() {
        let acct = fail_at(Scope::Account, &[0, 1, 2, 3, 4]);
        let ip = fail_at(Scope::Ip, &(0..30).collect::<Vec<_>>());
        assert_eq!(longest_wait([(Scope::Account, &acct), (Scope::Ip, &ip)], t(30)), Some(Duration::seconds(30)));
        assert_eq!(longest_wait([(Scope::Account, &acct), (Scope::Ip, &ip)], t(60)), None);
        // Once forgettable, a counter neither waits nor counts on.
        let after = acct.last_at + ACCOUNT_MAX_WAIT + ACCOUNT_WINDOW + Duration::seconds(1);
        assert!(acct.last_at < forgotten_before(after));
        assert_eq!(acct.wait(Scope::Account, after), None);
        assert_eq!(Failures::after_failure(Some(&acct), Scope::Account, after).count, 1);
        assert_eq!(ip.wait(Scope::Ip, after), None);
    }
}
