//! Benchmark: `GET /audit`'s query (`AuditRepository::list`) over 1,000,000 events in 100
//! tenants: page 1, a deep page, one tenant's page 1 and an action filter, as the platform and as
//! one tenant's admin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use scaikey_app::page::PageRequest;
use scaikey_app::ports::{AuditFilter, AuditRepository};
use scaikey_domain::access::Reach;
use scaikey_domain::id::TenantId;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "../tests/support/timing.rs"]
mod timing;
use timing::percentile;

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (events, iterations) = if smoke { (20_000_i64, 3) } else { (1_000_000, 20) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let t = TestDb::create().await.unwrap();
        let mut c = t.connect().await.unwrap();
        let seed = Instant::now();
        // ULID-ordered IDs: time in the high bits, so id order is time order.
        diesel::sql_query(format!(
            "INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, result, tenant_id, partner_id, details)
             SELECT (lpad(to_hex(1700000000000 + i), 12, '0') || '00000000' || lpad(to_hex(i), 12, '0'))::uuid,
                    now() - (({events} - i) || ' milliseconds')::interval, 'user', 'usr_' || (i % 1000), 
                    (ARRAY['tenant.update','user.create','auth.login','group.member_add'])[1 + i % 4], 'tenant', 'tnt_' || (i % 100),
                    CASE WHEN i % 50 = 0 THEN 'denied' ELSE 'success' END,
                    ('00000000-0000-0000-0000-' || lpad(to_hex(i % 100), 12, '0'))::uuid, NULL, '{{}}'::jsonb
             FROM generate_series(1, {events}) i"
        ))
        .execute(&mut c)
        .await
        .unwrap();
        diesel::sql_query("VACUUM ANALYZE audit_events").execute(&mut c).await.unwrap();
        let seeded = seed.elapsed();
        let db = Database::connect(&DbConfig { url: t.url.clone(), max_connections: 2, acquire_timeout: Duration::from_secs(5) })
            .unwrap();
        let repo = db.audit();
        let tenant = TenantId::generate_from(ulid::Ulid::from(uuid::Uuid::parse_str("00000000-0000-0000-0000-000000000007").unwrap()));
        let as_tenant = Reach::Tenant { tenant, partner: None };
        let deep = (events / 100 / 2).max(2);
        println!("audit_list: {events} events in 100 tenants (seeded in {seeded:.2?}), {iterations} runs each");
        println!("{:<40} {:>10} {:>10} {:>10} {:>9}", "case", "p50", "p95", "max", "total");
        let by_action = AuditFilter { action: Some("auth.login".into()), ..AuditFilter::default() };
        let cases: Vec<(String, Reach, AuditFilter, i64)> = vec![
            ("platform, page 1".into(), Reach::Platform, AuditFilter::default(), 1),
            (format!("platform, page {deep}"), Reach::Platform, AuditFilter::default(), deep),
            ("platform, action filter, page 1".into(), Reach::Platform, by_action, 1),
            ("tenant admin, page 1".into(), as_tenant, AuditFilter::default(), 1),
            ("tenant admin, page 50".into(), as_tenant, AuditFilter::default(), 50),
        ];
        for (name, reach, filter, page) in cases {
            let req = PageRequest::new(Some(page), Some(100)).unwrap();
            repo.list(reach, &filter, req).await.unwrap();
            let mut samples = Vec::with_capacity(iterations);
            let mut total = 0;
            for _ in 0..iterations {
                let start = Instant::now();
                total = repo.list(reach, &filter, req).await.unwrap().total;
                samples.push(start.elapsed());
            }
            samples.sort();
            println!(
                "{name:<40} {:>10.2?} {:>10.2?} {:>10.2?} {total:>9}",
                percentile(&samples, 0.5),
                percentile(&samples, 0.95),
                samples[samples.len() - 1]
            );
        }
    });
}
