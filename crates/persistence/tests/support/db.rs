//! What the second-factor, mailed-link, passkey and agent storage tests share: repositories on a
//! fresh test database, a fixed clock, and an audit record to pass to writes.

#![allow(clippy::unwrap_used, dead_code)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

/// A fresh database (migrated) and repositories over it, with room for racing writers.
pub async fn fresh() -> (TestDb, Database) {
    let t = TestDb::create().await.unwrap();
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    (t, db)
}

/// A fixed instant `secs` after a point in 2030.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000 + secs, 0).unwrap()
}

/// An audit record of `action` on the resource its prefix names (the writes store it; its
/// content is not under test).
pub fn audit(action: &'static str) -> AuditRecord {
    let resource = action.split('.').next().unwrap_or(action);
    AuditRecord::anonymous(&RequestMeta::default(), action, resource, AuditResult::Success)
}
