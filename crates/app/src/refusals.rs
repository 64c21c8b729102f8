//! Unauthenticated refusals, aggregated: a flood of garbage bearer tokens or unknown client
//! credentials costs nothing to send, so one audit row each would let anyone fill the log and
//! crowd out genuine events. [`AggregatingSink`] sits in front of the audit writer: records of
//! the [`AGGREGATED`] actions without an authenticated actor are counted per action, reason and
//! client IP in windows (a minute by default). The first of each window is written at once (so
//! a lone refusal shows without delay); the rest become one row with `count`, `first_at` and
//! `last_at` when the window closes. Everything else passes straight through.
//!
//! Memory is bounded: past [`MAX_KEYS`] distinct keys in a window, new keys fold into one per
//! action and reason with no IP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::audit::{ActorType, AuditRecord, AuditResult, RequestMeta};
use serde_json::json;

use crate::ports::AuditSink;
use crate::sync::lock;
use scaikey_domain::audit::action;

/// The refusals aggregated (when their actor is anonymous and the result is not a success).
pub const AGGREGATED: [&str; 3] =
    [action::AUTH_TOKEN_REFUSED, action::AUTH_TOKEN, crate::oidc::federated::CALLBACK_REFUSED];
/// Most distinct (action, reason, IP) keys per window.
pub const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    action: &'static str,
    reason: String,
    ip: Option<String>,
}

#[derive(Debug)]
struct Tally {
    template: AuditRecord,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    /// Refusals after the first, not yet written.
    more: u64,
}

#[derive(Debug, Default)]
struct Window {
    start: Option<DateTime<Utc>>,
    tallies: HashMap<Key, Tally>,
}

/// The aggregating [`AuditSink`]; see the module docs. [`AggregatingSink::flush`] writes the
/// tallies of closed windows (the server calls it every second) or all of them (on shutdown).
pub struct AggregatingSink {
    inner: Arc<dyn AuditSink>,
    window: Duration,
    state: Mutex<Window>,
}

impl std::fmt::Debug for AggregatingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregatingSink").field("window", &self.window).finish_non_exhaustive()
    }
}

fn reason(r: &AuditRecord) -> String {
    ["reason", "error"]
        .iter()
        .find_map(|k| r.details.get(*k).and_then(|v| v.as_str()))
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

impl AggregatingSink {
    /// Aggregates in front of `inner` over windows of `window`.
    pub fn new(inner: Arc<dyn AuditSink>, window: Duration) -> Self {
        Self { inner, window, state: Mutex::new(Window::default()) }
    }

    fn aggregated(r: &AuditRecord) -> bool {
        r.actor_type == ActorType::Anonymous && r.result != AuditResult::Success && AGGREGATED.contains(&r.action)
    }

    /// Writes the tallies of a window that has closed by `now`, or every tally with `all`.
    pub fn flush(&self, now: DateTime<Utc>, all: bool) {
        let done = {
            let mut w = lock(&self.state);
            let closed = w.start.is_some_and(|s| now >= s + self.window);
            if !(all || closed) {
                return;
            }
            w.start = None;
            std::mem::take(&mut w.tallies)
        };
        for (key, t) in done {
            if t.more == 0 {
                continue;
            }
            let mut details = t.template.details.clone();
            if let Some(d) = details.as_object_mut() {
                d.insert("count".into(), json!(t.more));
                d.insert("first_at".into(), json!(t.first_at));
                d.insert("last_at".into(), json!(t.last_at));
                d.insert("aggregated".into(), json!(true));
                if key.ip.is_none() {
                    d.insert("many_addresses".into(), json!(true));
                }
            }
            let record = AuditRecord { details, ..t.template };
            self.inner.submit(record, t.last_at);
        }
    }
}

impl AuditSink for AggregatingSink {
    fn submit(&self, record: AuditRecord, at: DateTime<Utc>) {
        if !Self::aggregated(&record) {
            self.inner.submit(record, at);
            return;
        }
        self.flush(at, false);
        let first = {
            let mut w = lock(&self.state);
            w.start.get_or_insert(at);
            let mut key = Key { action: record.action, reason: reason(&record), ip: record.meta.ip.clone() };
            if !w.tallies.contains_key(&key) && w.tallies.len() >= MAX_KEYS {
                key.ip = None;
            }
            match w.tallies.get_mut(&key) {
                Some(t) => {
                    t.more += 1;
                    t.last_at = t.last_at.max(at);
                    false
                }
                None => {
                    // The aggregate keeps only what is common to the key: no user agent.
                    let meta = RequestMeta { ip: key.ip.clone(), user_agent: None };
                    let template = AuditRecord { meta, ..record.clone() };
                    w.tallies.insert(key, Tally { template, first_at: at, last_at: at, more: 0 });
                    true
                }
            }
        };
        if first {
            self.inner.submit(record, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Kept(Mutex<Vec<AuditRecord>>);
    impl AuditSink for Kept {
        fn submit(&self, r: AuditRecord, _: DateTime<Utc>) {
            lock(&self.0).push(r);
        }
    }

    fn refusal(ip: &str, reason: &str) -> AuditRecord {
        AuditRecord::anonymous(
            &RequestMeta::new(Some(ip.into()), Some("curl")),
            "auth.token_refused",
            "token",
            AuditResult::Denied,
        )
        .details(json!({"reason": reason}))
    }

    #[test]
    fn a_flood_becomes_one_row_per_reason_and_address_and_others_pass() {
        let kept = Arc::new(Kept::default());
        let sink = AggregatingSink::new(kept.clone(), Duration::seconds(60));
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for i in 0..1000 {
            sink.submit(refusal("10.0.0.1", "Invalid token"), t0 + Duration::milliseconds(i));
        }
        sink.submit(refusal("10.0.0.2", "Invalid token"), t0);
        sink.submit(refusal("10.0.0.1", "Token has expired"), t0);
        let ctx = crate::test_support::ctx_super();
        let genuine = AuditRecord::success(&ctx.principal, &ctx.meta, "tenant.update", "tenant");
        sink.submit(genuine, t0);
        assert_eq!(lock(&kept.0).len(), 4, "the first of each key, and the genuine event, at once");
        sink.flush(t0 + Duration::seconds(30), false);
        assert_eq!(lock(&kept.0).len(), 4, "the window is still open");
        sink.flush(t0 + Duration::seconds(61), false);
        let rows = lock(&kept.0);
        assert_eq!(rows.len(), 5);
        let agg = &rows[4];
        assert_eq!(
            (agg.action, &agg.details["count"], &agg.details["aggregated"]),
            ("auth.token_refused", &json!(999), &json!(true))
        );
        assert_eq!(agg.meta.ip.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn keys_past_the_cap_fold_into_one_without_an_address() {
        let kept = Arc::new(Kept::default());
        let sink = AggregatingSink::new(kept.clone(), Duration::seconds(60));
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for i in 0..(MAX_KEYS + 500) {
            sink.submit(refusal(&format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256), "Invalid token"), t0);
        }
        // MAX_KEYS firsts, one first of the folded key, then one aggregate of the other 499.
        sink.flush(t0, true);
        let rows = lock(&kept.0);
        assert_eq!(rows.len(), MAX_KEYS + 2);
        let last = rows.last().unwrap();
        assert_eq!((&last.details["count"], &last.details["many_addresses"]), (&json!(499), &json!(true)));
    }
}
