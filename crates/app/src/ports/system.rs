//! Time and identity: the clock and ID generator every service takes (so tests fix both), and
//! their production implementations.

use chrono::{DateTime, Utc};
use ulid::Ulid;

/// Current time. Services never call `Utc::now()` themselves, so tests can fix time.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// New ULIDs, monotonic within a process so IDs sort in creation order.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A fresh ULID.
    fn next(&self) -> Ulid;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A process-wide monotonic ULID generator: IDs made in the same millisecond still sort in
/// creation order.
#[derive(Default)]
pub struct MonotonicIds(std::sync::Mutex<ulid::Generator>);

impl std::fmt::Debug for MonotonicIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MonotonicIds")
    }
}

impl IdGenerator for MonotonicIds {
    fn next(&self) -> Ulid {
        let mut g = crate::sync::lock(&self.0);
        // Overflow needs 2^80 IDs in one millisecond; fall back to a fresh random ULID.
        g.generate().unwrap_or_else(|_| Ulid::new())
    }
}
