//! Benchmark: "all users in this group, through nesting" (the `GroupRepository::effective_members`
//! port) on 10,000 users spread through 60 nested levels, page 1 and a deep page.
//!
//! `cargo xtask bench` runs it in release; `-- --smoke` runs three iterations (CI checks that it
//! starts and prints, never a timing). A plain timing loop is enough here: each sample is one
//! database round trip of milliseconds, so wall-clock percentiles over a few dozen runs are the
//! honest figure (criterion's statistics add nothing for I/O-bound samples).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use scaikey_app::page::PageRequest;
use scaikey_app::ports::GroupRepository;
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "../tests/support/hierarchy.rs"]
mod hierarchy;

#[path = "../tests/support/timing.rs"]
mod timing;
use timing::percentile;

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let iterations = if smoke { 3 } else { 50 };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let t = TestDb::create().await.unwrap();
        let seed = Instant::now();
        let root = hierarchy::build_hierarchy(&t, 60, 10_000).await;
        let seeded = seed.elapsed();
        let db = Database::connect(&DbConfig {
            url: t.url.clone(),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
        })
        .unwrap();
        let repo = db.groups();
        println!(
            "effective_members: 10,000 users through 60 nested groups (seeded in {seeded:.2?}), {iterations} runs each"
        );
        println!("{:<28} {:>10} {:>10} {:>10} {:>8}", "case", "p50", "p95", "max", "total");
        for (name, page) in [("page 1 (100 per page)", 1), ("page 100 (100 per page)", 100)] {
            let req = PageRequest::new(Some(page), Some(100)).unwrap();
            repo.effective_members(root, req).await.unwrap(); // warm-up
            let mut samples = Vec::with_capacity(iterations);
            let mut total = 0;
            for _ in 0..iterations {
                let start = Instant::now();
                let p = repo.effective_members(root, req).await.unwrap();
                samples.push(start.elapsed());
                total = p.total;
            }
            samples.sort();
            println!(
                "{name:<28} {:>10.2?} {:>10.2?} {:>10.2?} {total:>8}",
                percentile(&samples, 0.5),
                percentile(&samples, 0.95),
                samples[samples.len() - 1],
            );
        }
    });
}
