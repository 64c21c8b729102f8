//! The batched audit writer against PostgreSQL: a record the database refuses costs only itself
//! (the batch is written row by row), and the loss is counted in an `audit.dropped` event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel_async::RunQueryDsl;
use scaikey_app::ports::AuditSink;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_persistence::{AuditWriter, Database, DbConfig};
use scaikey_testkit::TestDb;

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn one_unstorable_record_never_loses_its_neighbours() {
    let t = TestDb::create().await.unwrap();
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let writer = AuditWriter::spawn(Arc::new(db.audit()));
    let meta = RequestMeta::default();
    for i in 0..60 {
        // PostgreSQL's jsonb cannot hold U+0000: this one record is refused.
        let details = if i == 30 { serde_json::json!({"note": "bad\u{0}byte"}) } else { serde_json::json!({"i": i}) };
        writer.submit(
            AuditRecord::anonymous(&meta, "test.event", "test", AuditResult::Success).details(details),
            Utc::now(),
        );
    }
    writer.flush().await;
    // The drop is reported with the next batch.
    writer.submit(AuditRecord::anonymous(&meta, "test.after", "test", AuditResult::Success), Utc::now());
    writer.flush().await;
    assert_eq!(writer.dropped_total(), 1, "the loss stays counted for /metrics");
    let mut c = t.connect().await.unwrap();
    for (sql, want) in [
        ("SELECT count(*) AS n FROM audit_events WHERE action = 'test.event'", 59),
        ("SELECT count(*) AS n FROM audit_events WHERE action = 'test.after'", 1),
        (
            "SELECT coalesce(sum((details->>'dropped')::bigint), 0)::bigint AS n FROM audit_events WHERE action = 'audit.dropped'",
            1,
        ),
    ] {
        assert_eq!(diesel::sql_query(sql).get_result::<N>(&mut c).await.unwrap().n, want, "{sql}");
    }
}
