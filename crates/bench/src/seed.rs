//! The bench database: created fresh, dropped afterwards, and bulk-seeded in SQL where the API
//! would take too long (a million users, a hundred thousand effective users).

use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// `url` with its database name replaced by `db`.
#[must_use]
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// Connects to `url`.
pub async fn connect(url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(url).await.map_err(|e| anyhow::anyhow!("connecting to PostgreSQL: {e}"))
}

async fn exec(c: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<()> {
    diesel::sql_query(sql).execute(c).await.map_err(|e| anyhow::anyhow!("{e}: {sql}"))?;
    Ok(())
}

/// Creates database `db` (dropping a leftover of the same name) through the server at `admin_url`.
pub async fn create_database(admin_url: &str, db: &str) -> anyhow::Result<()> {
    let mut c = connect(admin_url).await?;
    exec(&mut c, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await?;
    exec(&mut c, &format!("CREATE DATABASE {db}")).await
}

/// Drops database `db`.
pub async fn drop_database(admin_url: &str, db: &str) -> anyhow::Result<()> {
    let mut c = connect(admin_url).await?;
    exec(&mut c, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await
}

/// The PostgreSQL server's version string.
pub async fn server_version(url: &str) -> anyhow::Result<String> {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut c = connect(url).await?;
    let v: V = diesel::sql_query("SELECT current_setting('server_version') AS v")
        .get_result(&mut c)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(v.v)
}

/// The UUID a `prefix_ULID` id is stored as.
pub fn uuid_of(id: &str) -> anyhow::Result<String> {
    let (_, ulid) = id.split_once('_').ok_or_else(|| anyhow::anyhow!("not a prefixed id: {id}"))?;
    let n = ulid::Ulid::from_string(ulid).map_err(|e| anyhow::anyhow!("{id}: {e}"))?.0;
    let h = format!("{n:032x}");
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

/// Adds `count` active users to tenant `tenant` (a stored UUID), emails `user<i>@big.bench`,
/// all with the password hash `phc`, with time-ordered IDs older than anything the API creates. Then vacuums and analyzes, as a
/// long-running database would have done.
pub async fn big_tenant_users(url: &str, tenant: &str, count: i64, phc: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!phc.contains('\''), "a PHC string has no quotes");
    let mut c = connect(url).await?;
    // ULID timestamp: a year back plus i milliseconds, so IDs sort like creation order.
    let chunk = 200_000;
    let mut from = 0;
    while from < count {
        let to = (from + chunk).min(count) - 1;
        let sql = format!(
            "INSERT INTO users (id, tenant_id, email, first_name, last_name, status, roles, custom_attributes, password_hash, created_at, updated_at)
             SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
                    '{tenant}', 'user' || i || '@big.bench', 'First' || i, 'Last' || i, 'active', '{{}}', '{{}}', '{phc}',
                    now() - interval '1 year' + i * interval '1 millisecond',
                    now() - interval '1 year' + i * interval '1 millisecond'
             FROM (SELECT i, lpad(to_hex((extract(epoch FROM now() - interval '1 year') * 1000)::bigint + i), 12, '0') AS h
                   FROM generate_series({from}::bigint, {to}::bigint) i) s"
        );
        exec(&mut c, &sql).await?;
        from = to + 1;
    }
    exec(&mut c, "VACUUM (ANALYZE) users").await
}

/// Gives the first `count` users of tenant `tenant` (seeded by [`big_tenant_users`]) a sign-in
/// history with the application whose client ID is `client_id`: a session each (a third of them
/// ended), its redeemed authorization code and a refresh-token row rotated once. Then vacuums
/// and analyzes: a database in use holds such rows, and its planner statistics know it — on a
/// fresh one, with autovacuum off, a plan made for an empty table would scan a table the
/// workload grows.
pub async fn sign_in_history(url: &str, tenant: &str, client_id: &str, count: i64) -> anyhow::Result<()> {
    let mut c = connect(url).await?;
    let users = format!(
        "SELECT u.id AS user_id, row_number() OVER (ORDER BY u.id) AS n
         FROM (SELECT id FROM users WHERE tenant_id = '{tenant}' ORDER BY id LIMIT {count}) u"
    );
    let app = format!("(SELECT id FROM applications WHERE client_id = '{client_id}')");
    // Deterministic IDs per user row; the tag keeps them apart from everything else.
    let id = |tag: &str| format!("('00000000-0000-0000-{tag}-' || lpad(to_hex(n), 12, '0'))::uuid");
    let statements = [
        format!(
            "INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at, ip, user_agent, revoked_at,
                                   cookie_hmac, amr)
             SELECT {sid}, user_id, '{tenant}', now() - interval '2 days', now() - interval '1 day',
                    now() + interval '5 days', '192.0.2.1', 'Bench browser',
                    CASE WHEN n % 3 = 0 THEN now() - interval '1 hour' END,
                    sha256(('cookie' || n)::bytea), '{{pwd}}'
             FROM ({users}) u",
            sid = id("0a01")
        ),
        format!(
            "INSERT INTO authorization_codes (code_hmac, application_id, client_id, user_id, session_id, redirect_uri,
                                              scopes, nonce, code_challenge, auth_time, amr, issued_at, used_at, family_id)
             SELECT sha256(('code' || n)::bytea), {app}, '{client_id}', user_id, {sid}, 'https://rp.bench.test/cb',
                    '{{openid,email,profile}}', 'n' || n, 'challenge' || n, now() - interval '2 days', '{{pwd}}',
                    now() - interval '2 days', now() - interval '2 days', {fam}
             FROM ({users}) u",
            sid = id("0a01"),
            fam = id("0a02")
        ),
        format!(
            "INSERT INTO refresh_tokens (id, current_hmac, previous_hmac, family_id, application_id, client_id, user_id,
                                         session_id, scopes, auth_time, amr, issued_at, expires_at, rotated_at, revoked_at)
             SELECT {first}, sha256(('refresh-b' || n)::bytea), sha256(('refresh-a' || n)::bytea), {fam}, {app},
                    '{client_id}', user_id, {sid}, '{{openid,email,profile}}'::text[], now() - interval '2 days',
                    '{{pwd}}'::text[], now() - interval '1 day', now() + interval '29 days', now() - interval '1 day',
                    CASE WHEN n % 3 = 0 THEN now() - interval '1 hour' END
             FROM ({users}) u",
            first = id("0a03"),
            sid = id("0a01"),
            fam = id("0a02")
        ),
        // Vacuumed for their visibility maps; the ANALYZE after it covers every table once.
        "VACUUM sessions, authorization_codes, refresh_tokens".to_string(),
        "ANALYZE".to_string(),
    ];
    for s in &statements {
        exec(&mut c, s).await?;
    }
    Ok(())
}

/// Seeds a GLOBAL SERVICE application whose effective users number `users`, spread over 10 new
/// tenants: each tenant has a three-level group chain whose root is assigned to the application,
/// its users spread over the levels; every 7th of the first 7,000 users is also assigned
/// directly. Returns the application's `app_` id.
pub async fn effective_users_app(url: &str, users: i64) -> anyhow::Result<String> {
    let mut c = connect(url).await?;
    let per_tenant = (users / 10).max(1);
    let id = |tag: &str, n: &str| format!("('00000000-0000-0000-{tag}-' || lpad(to_hex({n}), 12, '0'))::uuid");
    let (tenant_t, tenant_u) = (id("00aa", "t"), id("00aa", &format!("i / {per_tenant}")));
    let statements = [
        format!(
            "INSERT INTO tenants (id, name, slug, status, created_at, updated_at)
             SELECT {tenant_t}, 'Effective ' || t, 'bench-effective-' || t, 'active', now(), now() FROM generate_series(0, 9) t"
        ),
        format!(
            "INSERT INTO groups (id, tenant_id, name, created_at, updated_at)
             SELECT {}, {tenant_t}, 'g' || t || '-' || l, now(), now() FROM generate_series(0, 9) t, generate_series(0, 2) l",
            id("00bb", "t * 3 + l")
        ),
        format!(
            "INSERT INTO group_nesting (parent_id, child_id, created_at)
             SELECT {}, {}, now() FROM generate_series(0, 9) t, generate_series(0, 1) l",
            id("00bb", "t * 3 + l"),
            id("00bb", "t * 3 + l + 1")
        ),
        format!(
            "INSERT INTO users (id, tenant_id, email, status, roles, custom_attributes, created_at, updated_at)
             SELECT {}, {tenant_u}, 'e' || i || '@effective.bench', 'active', '{{}}', '{{}}', now(), now()
             FROM generate_series(0, {users} - 1) i",
            id("00cc", "i")
        ),
        format!(
            "INSERT INTO group_members (group_id, user_id, created_at)
             SELECT {}, {}, now() FROM generate_series(0, {users} - 1) i",
            id("00bb", &format!("(i / {per_tenant}) * 3 + i % 3")),
            id("00cc", "i")
        ),
        "INSERT INTO applications (id, client_id, name, application_type, scope, token_lifetime, status, created_at, updated_at)
         VALUES ('00000000-0000-0000-00dd-000000000001', 'ck_bench_effective', 'Effective users bench', 'SERVICE', 'GLOBAL', 3600, 'active', now(), now())"
            .to_string(),
        format!(
            "INSERT INTO application_assignments (id, application_id, group_id, tenant_id, created_at)
             SELECT {}, '00000000-0000-0000-00dd-000000000001', {}, {tenant_t}, now() FROM generate_series(0, 9) t",
            id("00ee", "t"),
            id("00bb", "t * 3")
        ),
        format!(
            "INSERT INTO application_assignments (id, application_id, user_id, tenant_id, created_at)
             SELECT {}, '00000000-0000-0000-00dd-000000000001', u.id, u.tenant_id, now()
             FROM generate_series(0, 999) i JOIN users u ON u.id = {}",
            id("00ef", "i"),
            id("00cc", "i * 7")
        ),
        // Vacuumed for their visibility maps (application_users was kept by triggers while the
        // rows above went in, migration 21; autovacuum would get to it too, later); the ANALYZE
        // after it covers every table once.
        "VACUUM users, group_members, application_users".to_string(),
        "ANALYZE".to_string(),
    ];
    for s in &statements {
        exec(&mut c, s).await?;
    }
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT count(*) AS n FROM application_assignments WHERE application_id = '00000000-0000-0000-00dd-000000000001'",
    )
    .get_result(&mut c)
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(n.n > 0, "no assignments were seeded");
    Ok(format!("app_{}", ulid::Ulid(0x0000_0000_0000_0000_00dd_0000_0000_0001).to_string()))
}

#[cfg(test)]
mod tests {
    use super::{uuid_of, with_database};

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "b"), "postgres://u@h:5432/b");
        assert_eq!(with_database("postgres://u@h/x?sslmode=disable", "b"), "postgres://u@h/b?sslmode=disable");
    }

    #[test]
    fn prefixed_ulids_map_to_their_uuid() {
        let id = format!("app_{}", ulid::Ulid(0x0000_0000_0000_0000_00dd_0000_0000_0001));
        assert_eq!(uuid_of(&id).ok().as_deref(), Some("00000000-0000-0000-00dd-000000000001"));
        assert!(uuid_of("nope").is_err());
    }
}
