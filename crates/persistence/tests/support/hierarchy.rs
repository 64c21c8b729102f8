//! Seeds a deep and wide group hierarchy directly in SQL (shared by tests and benchmarks).

use diesel_async::RunQueryDsl;
use scaikey_domain::id::GroupId;
use scaikey_testkit::TestDb;

/// Builds tenant T, a chain of `depth` groups (g0 → g1 → … → g_{depth-1}), and `members` users
/// spread over the chain (one in every group, the rest in the deepest), plus one deleted user
/// and one user in an unrelated group. Returns the root group.
#[allow(clippy::unwrap_used, dead_code)]
pub async fn build_hierarchy(db: &TestDb, depth: i64, members: i64) -> GroupId {
    let mut c = db.connect().await.unwrap();
    let sql = format!(
        "
        INSERT INTO tenants (id, name, slug, status, created_at, updated_at)
            VALUES ('00000000-0000-0000-0000-0000000000aa', 'T', 't', 'active', now(), now());
        INSERT INTO groups (id, tenant_id, name, created_at, updated_at)
            SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid,
                   '00000000-0000-0000-0000-0000000000aa', 'g' || i, now(), now()
            FROM generate_series(0, {depth}) i;
        INSERT INTO group_nesting (parent_id, child_id, created_at)
            SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid,
                   ('00000000-0000-0000-0001-' || lpad(to_hex(i + 1), 12, '0'))::uuid, now()
            FROM generate_series(0, {depth} - 2) i;
        INSERT INTO users (id, tenant_id, email, status, created_at, updated_at)
            SELECT ('00000000-0000-0000-0002-' || lpad(to_hex(i), 12, '0'))::uuid,
                   '00000000-0000-0000-0000-0000000000aa', 'u' || i || '@x.test', 'active', now(), now()
            FROM generate_series(0, {members} + 1) i;
        UPDATE users SET deleted_at = now() WHERE id = ('00000000-0000-0000-0002-' || lpad(to_hex({members}), 12, '0'))::uuid;
        INSERT INTO group_members (group_id, user_id, created_at)
            SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(LEAST(i, {depth} - 1)), 12, '0'))::uuid,
                   ('00000000-0000-0000-0002-' || lpad(to_hex(i), 12, '0'))::uuid, now()
            FROM generate_series(0, {members}) i;
        -- The same users again in the root: each must still count once.
        INSERT INTO group_members (group_id, user_id, created_at)
            SELECT '00000000-0000-0000-0001-000000000000'::uuid,
                   ('00000000-0000-0000-0002-' || lpad(to_hex(i), 12, '0'))::uuid, now()
            FROM generate_series(1, 100) i;
        -- An unrelated group (index {depth}) with its own member.
        INSERT INTO group_members (group_id, user_id, created_at)
            VALUES (('00000000-0000-0000-0001-' || lpad(to_hex({depth}), 12, '0'))::uuid,
                    ('00000000-0000-0000-0002-' || lpad(to_hex({members} + 1), 12, '0'))::uuid, now());
        ANALYZE;
        "
    );
    diesel::sql_query("BEGIN").execute(&mut c).await.unwrap();
    for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty() && !s.starts_with("--")) {
        let stmt: String = stmt.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        if stmt.trim().is_empty() {
            continue;
        }
        diesel::sql_query(stmt).execute(&mut c).await.unwrap();
    }
    diesel::sql_query("COMMIT").execute(&mut c).await.unwrap();
    let root = uuid::Uuid::parse_str("00000000-0000-0000-0001-000000000000").unwrap();
    GroupId::generate_from(ulid::Ulid::from(root))
}
