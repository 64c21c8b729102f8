//! Benchmark: the sign-in assignment check (`GrantRepository::is_effective_user`) for an
//! `assignment_required` application whose root group holds 100,000 users through 10 nested
//! levels (contract §8; issue 12 target: p99 ≤ 2 ms). The check walks up from the signing-in
//! user's groups, so it should not grow with the application's users.
//!
//! `cargo xtask bench` runs it in release; `-- --smoke` runs a few iterations on a small tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use scaikey_app::ports::oidc::GrantRepository;
use scaikey_domain::id::{ApplicationId, UserId};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;

#[path = "../tests/support/hierarchy.rs"]
mod hierarchy;

#[path = "../tests/support/timing.rs"]
mod timing;
use timing::percentile;

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (members, iterations) = if smoke { (1_000_i64, 20) } else { (100_000, 2_000) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let t = TestDb::create().await.unwrap();
        let seed = Instant::now();
        hierarchy::build_hierarchy(&t, 10, members).await;
        let mut c = t.connect().await.unwrap();
        for s in [
            "INSERT INTO applications (id, client_id, name, application_type, scope, tenant_id, token_lifetime, status, assignment_required, created_at, updated_at)
                VALUES ('00000000-0000-0000-00dd-000000000001', 'ck_bench', 'Bench', 'WEB', 'TENANT', '00000000-0000-0000-0000-0000000000aa', 3600, 'active', true, now(), now())",
            "INSERT INTO application_assignments (id, application_id, group_id, tenant_id, created_at)
                VALUES ('00000000-0000-0000-00ee-000000000001', '00000000-0000-0000-00dd-000000000001',
                        '00000000-0000-0000-0001-000000000000', '00000000-0000-0000-0000-0000000000aa', now())",
            "ANALYZE",
        ] {
            diesel::sql_query(s).execute(&mut c).await.unwrap();
        }
        let seeded = seed.elapsed();
        let db = Database::connect(&DbConfig { url: t.url.clone(), max_connections: 2, acquire_timeout: Duration::from_secs(5) })
            .unwrap();
        let grants = db.grants();
        let app = ApplicationId::generate_from(ulid::Ulid::from(uuid::Uuid::parse_str("00000000-0000-0000-00dd-000000000001").unwrap()));
        let user = |i: i64| {
            UserId::generate_from(ulid::Ulid::from(
                uuid::Uuid::parse_str(&format!("00000000-0000-0000-0002-{i:012x}")).unwrap(),
            ))
        };
        // Most users sit in the deepest group: the longest walk up. The unrelated group's
        // member (index members + 1) is refused.
        assert!(grants.is_effective_user(app, user(members - 1)).await.unwrap());
        assert!(!grants.is_effective_user(app, user(members + 1)).await.unwrap());
        let mut samples = Vec::with_capacity(iterations);
        for k in 0..iterations {
            let i = (k as i64 * 7_919) % members;
            let start = Instant::now();
            let ok = grants.is_effective_user(app, user(i)).await.unwrap();
            samples.push(start.elapsed());
            assert!(ok, "user {i}");
        }
        samples.sort();
        println!("signin_assignment: {members} users through 10 levels (seeded in {seeded:.2?}), {iterations} checks");
        println!(
            "{:<40} {:>10.2?} {:>10.2?} {:>10.2?}",
            "is_effective_user p50 / p99 / max",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            samples[samples.len() - 1]
        );
    });
}
