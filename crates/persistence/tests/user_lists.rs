//! The user list's fast paths (trigger-kept totals, ID-first pages read from either end, the
//! trigram search) must answer exactly what the plain queries answer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use chrono::Utc;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::page::PageRequest;
use scaikey_app::ports::{UserFilter, UserRepository};
use scaikey_domain::access::Reach;
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::{PartnerId, TenantId, UserId};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;
use ulid::Ulid;
use uuid::Uuid;

const PARTNER: &str = "00000000-0000-0000-0001-000000000001";
const TENANT_A: &str = "00000000-0000-0000-0002-00000000000a";
const TENANT_B: &str = "00000000-0000-0000-0002-00000000000b";

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn exec(c: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(c).await.unwrap();
}

/// 57 users in tenant A (3 soft-deleted), 5 in B, one platform user; names to search.
async fn seed(c: &mut AsyncPgConnection) {
    exec(c, &format!("INSERT INTO partners (id, name, slug, status, created_at, updated_at) VALUES ('{PARTNER}', 'P', 'p', 'active', now(), now())")).await;
    exec(
        c,
        &format!(
            "INSERT INTO tenants (id, partner_id, name, slug, status, created_at, updated_at) VALUES
             ('{TENANT_A}', '{PARTNER}', 'A', 'a', 'active', now(), now()),
             ('{TENANT_B}', NULL, 'B', 'b', 'active', now(), now())"
        ),
    )
    .await;
    exec(
        c,
        &format!(
            "INSERT INTO users (id, tenant_id, email, first_name, status, created_at, updated_at, deleted_at)
             SELECT ('00000000-0000-0000-0003-' || lpad(to_hex(i), 12, '0'))::uuid,
                    CASE WHEN i < 57 THEN '{TENANT_A}'::uuid WHEN i < 62 THEN '{TENANT_B}'::uuid END,
                    'user' || i || '@example.test', CASE WHEN i % 10 = 4 THEN 'Zoë' END, 'active', now(), now(),
                    CASE WHEN i IN (5, 17, 40) THEN now() END
             FROM generate_series(0, 62) i"
        ),
    )
    .await;
}

async fn expected_ids(c: &mut AsyncPgConnection, filter_sql: &str) -> Vec<Uuid> {
    let rows: Vec<Id> =
        diesel::sql_query(format!("SELECT id FROM users WHERE deleted_at IS NULL AND {filter_sql} ORDER BY id DESC"))
            .load(c)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

fn ids_of(items: &[scaikey_domain::user::User]) -> Vec<Uuid> {
    items.iter().map(|u| Uuid::from(u.id.ulid())).collect()
}

/// Each `(page, per_page)` of the list must hold the matching slice of `expected`, with its length
/// as the total.
async fn check_pages(
    repo: &dyn UserRepository,
    reach: Reach,
    filter: &UserFilter,
    expected: &[Uuid],
    pages: impl IntoIterator<Item = (i64, i64)>,
) {
    for (page, per_page) in pages {
        let got = repo.list(reach, filter, PageRequest::new(Some(page), Some(per_page)).unwrap()).await.unwrap();
        assert_eq!(got.total, i64::try_from(expected.len()).unwrap(), "{reach:?} {filter:?}");
        let from = usize::try_from((page - 1) * per_page).unwrap().min(expected.len());
        let to = (from + usize::try_from(per_page).unwrap()).min(expected.len());
        assert_eq!(ids_of(&got.items), expected[from..to], "{reach:?} {filter:?} page {page} of {per_page}");
    }
}

/// Every page (and two past the end) at three page sizes.
async fn check_every_page(repo: &dyn UserRepository, reach: Reach, filter: &UserFilter, expected: &[Uuid]) {
    for per_page in [7, 10, 100] {
        let pages = i64::try_from(expected.len()).unwrap() / per_page + 2;
        check_pages(repo, reach, filter, expected, (1..=pages).map(|p| (p, per_page))).await;
    }
}

#[tokio::test]
async fn every_page_total_and_search_match_the_plain_queries() {
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    seed(&mut c).await;
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let repo = db.users();
    let a = TenantId::generate_from(Ulid::from(Uuid::parse_str(TENANT_A).unwrap()));
    let partner = PartnerId::generate_from(Ulid::from(Uuid::parse_str(PARTNER).unwrap()));
    let none = UserFilter::default();

    let everyone = expected_ids(&mut c, "true").await;
    assert_eq!(everyone.len(), 60);
    check_every_page(&repo, Reach::Platform, &none, &everyone).await;
    let of_a = expected_ids(&mut c, &format!("tenant_id = '{TENANT_A}'")).await;
    assert_eq!(of_a.len(), 54);
    check_every_page(&repo, Reach::Tenant { tenant: a, partner: Some(partner) }, &none, &of_a).await;
    check_every_page(&repo, Reach::Platform, &UserFilter { tenant_id: Some(a), ..none.clone() }, &of_a).await;
    check_every_page(&repo, Reach::Partner(partner), &none, &of_a).await;

    // Search: a substring of the e-mail or a name, any case, `%` and `_` taken literally.
    let user1 = expected_ids(&mut c, "email LIKE '%user1%'").await;
    check_every_page(&repo, Reach::Platform, &UserFilter { search: Some("USER1".into()), ..none.clone() }, &user1)
        .await;
    let zoe = expected_ids(&mut c, "first_name = 'Zoë'").await;
    assert!(!zoe.is_empty());
    check_every_page(&repo, Reach::Platform, &UserFilter { search: Some("zOË".into()), ..none.clone() }, &zoe).await;
    check_every_page(&repo, Reach::Platform, &UserFilter { search: Some("user_".into()), ..none.clone() }, &[]).await;

    // The kept totals follow deletes and stay equal to a count.
    let audit = AuditRecord::anonymous(&RequestMeta::default(), "user.delete", "user", AuditResult::Success);
    let victim = UserId::generate_from(Ulid::from(of_a[3]));
    assert!(repo.delete(victim, Utc::now(), &audit).await.unwrap().is_some());
    exec(&mut c, &format!("DELETE FROM users WHERE tenant_id = '{TENANT_B}' AND email = 'user60@example.test'")).await;
    let of_a = expected_ids(&mut c, &format!("tenant_id = '{TENANT_A}'")).await;
    assert_eq!(of_a.len(), 53);
    check_every_page(&repo, Reach::Tenant { tenant: a, partner: Some(partner) }, &none, &of_a).await;
    let kept: Vec<N> =
        diesel::sql_query("SELECT live AS n FROM user_counts ORDER BY tenant_key").load(&mut c).await.unwrap();
    let counted: Vec<N> = diesel::sql_query(
        "SELECT count(*) AS n FROM users WHERE deleted_at IS NULL
         GROUP BY COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000') ORDER BY 1",
    )
    .load(&mut c)
    .await
    .unwrap();
    let mut kept: Vec<i64> = kept.into_iter().map(|n| n.n).filter(|n| *n != 0).collect();
    let mut counted: Vec<i64> = counted.into_iter().map(|n| n.n).collect();
    kept.sort_unstable();
    counted.sort_unstable();
    assert_eq!(kept, counted);
}

#[tokio::test]
async fn deep_pages_from_bookmarks_match_and_follow_changes() {
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    seed(&mut c).await;
    // 12,345 more users in tenant A: deep enough for bookmarks (offsets ≥ 5,000).
    exec(
        &mut c,
        &format!(
            "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at)
             SELECT ('00000000-0000-0000-0004-' || lpad(to_hex(i), 12, '0'))::uuid, '{TENANT_A}',
                    'bulk' || i || '@example.test', 'active', now(), now()
             FROM generate_series(0, 12344) i"
        ),
    )
    .await;
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let repo = db.users();
    let a = TenantId::generate_from(Ulid::from(Uuid::parse_str(TENANT_A).unwrap()));
    let reach = Reach::Tenant { tenant: a, partner: None };
    let none = UserFilter::default();
    // Shallow, around bookmark boundaries, the middle, the end and past it.
    let pages = [
        (1, 100),
        (50, 100),
        (51, 100),
        (99, 100),
        (100, 100),
        (124, 100),
        (125, 100),
        (1000, 7),
        (1771, 7),
        (1772, 7),
    ];
    let expected = expected_ids(&mut c, &format!("tenant_id = '{TENANT_A}'")).await;
    assert_eq!(expected.len(), 12_399);
    check_pages(&repo, reach, &none, &expected, pages).await;
    // A delete and an insert shift every later position: the bookmarks must follow.
    let audit = AuditRecord::anonymous(&RequestMeta::default(), "user.delete", "user", AuditResult::Success);
    assert!(
        repo.delete(UserId::generate_from(Ulid::from(expected[6_500])), Utc::now(), &audit).await.unwrap().is_some()
    );
    exec(
        &mut c,
        &format!(
            "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at)
             VALUES ('00000000-0000-0000-0004-00000000ffff', '{TENANT_A}', 'late@example.test', 'active', now(), now())"
        ),
    )
    .await;
    let expected = expected_ids(&mut c, &format!("tenant_id = '{TENANT_A}'")).await;
    check_pages(&repo, reach, &none, &expected, pages).await;
}
