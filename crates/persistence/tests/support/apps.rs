//! Seeds a GLOBAL application with 100,000 effective users across 10 tenants: each tenant has a
//! three-level group chain whose root is assigned to the application, with its users spread over
//! the levels; 1,000 users are also assigned directly. Returns the application ID.

use diesel_async::RunQueryDsl;
use scaikey_domain::id::ApplicationId;
use scaikey_testkit::TestDb;

#[allow(clippy::unwrap_used, dead_code)]
pub async fn seed_application(db: &TestDb, users: i64) -> ApplicationId {
    let mut c = db.connect().await.unwrap();
    let per_tenant = users / 10;
    let statements = [
        "INSERT INTO tenants (id, name, slug, status, created_at, updated_at)
            SELECT ('00000000-0000-0000-00aa-' || lpad(to_hex(t), 12, '0'))::uuid, 'Tenant ' || t, 'tenant-' || t, 'active', now(), now()
            FROM generate_series(0, 9) t"
            .to_string(),
        // Three groups per tenant: level 0, 1, 2.
        "INSERT INTO groups (id, tenant_id, name, created_at, updated_at)
            SELECT ('00000000-0000-0000-00bb-' || lpad(to_hex(t * 3 + l), 12, '0'))::uuid,
                   ('00000000-0000-0000-00aa-' || lpad(to_hex(t), 12, '0'))::uuid, 'g' || t || '-' || l, now(), now()
            FROM generate_series(0, 9) t, generate_series(0, 2) l"
            .to_string(),
        "INSERT INTO group_nesting (parent_id, child_id, created_at)
            SELECT ('00000000-0000-0000-00bb-' || lpad(to_hex(t * 3 + l), 12, '0'))::uuid,
                   ('00000000-0000-0000-00bb-' || lpad(to_hex(t * 3 + l + 1), 12, '0'))::uuid, now()
            FROM generate_series(0, 9) t, generate_series(0, 1) l"
            .to_string(),
        format!(
            "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at)
            SELECT ('00000000-0000-0000-00cc-' || lpad(to_hex(i), 12, '0'))::uuid,
                   ('00000000-0000-0000-00aa-' || lpad(to_hex(i / {per_tenant}), 12, '0'))::uuid,
                   'u' || i || '@bench.test', 'active', now(), now()
            FROM generate_series(0, {users} - 1) i"
        ),
        format!(
            "INSERT INTO group_members (group_id, user_id, created_at)
            SELECT ('00000000-0000-0000-00bb-' || lpad(to_hex((i / {per_tenant}) * 3 + i % 3), 12, '0'))::uuid,
                   ('00000000-0000-0000-00cc-' || lpad(to_hex(i), 12, '0'))::uuid, now()
            FROM generate_series(0, {users} - 1) i"
        ),
        "INSERT INTO applications (id, client_id, name, application_type, scope, token_lifetime, status, created_at, updated_at)
            VALUES ('00000000-0000-0000-00dd-000000000001', 'ck_bench', 'Bench', 'SERVICE', 'GLOBAL', 3600, 'active', now(), now())"
            .to_string(),
        "INSERT INTO application_assignments (id, application_id, group_id, tenant_id, created_at)
            SELECT ('00000000-0000-0000-00ee-' || lpad(to_hex(t), 12, '0'))::uuid, '00000000-0000-0000-00dd-000000000001',
                   ('00000000-0000-0000-00bb-' || lpad(to_hex(t * 3), 12, '0'))::uuid,
                   ('00000000-0000-0000-00aa-' || lpad(to_hex(t), 12, '0'))::uuid, now()
            FROM generate_series(0, 9) t"
            .to_string(),
        "INSERT INTO application_assignments (id, application_id, user_id, tenant_id, created_at)
            SELECT ('00000000-0000-0000-00ef-' || lpad(to_hex(i), 12, '0'))::uuid, '00000000-0000-0000-00dd-000000000001',
                   u.id, u.tenant_id, now()
            FROM generate_series(0, 999) i JOIN users u ON u.id = ('00000000-0000-0000-00cc-' || lpad(to_hex(i * 7), 12, '0'))::uuid"
            .to_string(),
        "VACUUM (ANALYZE) application_users".to_string(),
        "ANALYZE".to_string(),
    ];
    for s in statements {
        diesel::sql_query(s).execute(&mut c).await.unwrap();
    }
    ApplicationId::generate_from(ulid::Ulid::from(
        uuid::Uuid::parse_str("00000000-0000-0000-00dd-000000000001").unwrap(),
    ))
}
