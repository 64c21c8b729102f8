//! Benchmark: `effective-users` of a GLOBAL application with 100,000 users reached through
//! nested groups in 10 tenants (plus 1,000 direct assignments), page 1 and a deep page, and one
//! tenant's slice. Paginated in SQL: the process never holds more than one page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use scaikey_app::page::PageRequest;
use scaikey_app::ports::ApplicationRepository;
use scaikey_domain::access::Reach;
use scaikey_domain::id::TenantId;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "../tests/support/apps.rs"]
mod apps;

#[path = "../tests/support/timing.rs"]
mod timing;
use timing::percentile;

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (users, iterations) = if smoke { (10_000, 3) } else { (100_000, 20) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let t = TestDb::create().await.unwrap();
        let seed = Instant::now();
        let id = apps::seed_application(&t, users).await;
        let seeded = seed.elapsed();
        let db = Database::connect(&DbConfig { url: t.url.clone(), max_connections: 2, acquire_timeout: Duration::from_secs(5) })
            .unwrap();
        let repo = db.applications();
        let app = repo.get(id).await.unwrap().unwrap();
        let one_tenant = TenantId::generate_from(ulid::Ulid::from(uuid::Uuid::parse_str("00000000-0000-0000-00aa-000000000003").unwrap()));
        println!("effective_users: {users} users via 3-level nested groups in 10 tenants (seeded in {seeded:.2?}), {iterations} runs each");
        println!("{:<34} {:>10} {:>10} {:>10} {:>8}", "case", "p50", "p95", "max", "total");
        let deep = users / 100 / 2;
        for (name, page, tenant) in [
            ("page 1 (100 per page)".to_string(), 1, None),
            (format!("page {deep} (100 per page)"), deep, None),
            ("one tenant, page 1".to_string(), 1, Some(one_tenant)),
        ] {
            let req = PageRequest::new(Some(page), Some(100)).unwrap();
            repo.effective_users(&app, Reach::Platform, tenant, req).await.unwrap();
            let mut samples = Vec::with_capacity(iterations);
            let mut total = 0;
            for _ in 0..iterations {
                let start = Instant::now();
                let p = repo.effective_users(&app, Reach::Platform, tenant, req).await.unwrap();
                samples.push(start.elapsed());
                total = p.total;
            }
            samples.sort();
            println!(
                "{name:<34} {:>10.2?} {:>10.2?} {:>10.2?} {total:>8}",
                percentile(&samples, 0.5),
                percentile(&samples, 0.95),
                samples[samples.len() - 1]
            );
        }
    });
}
