//! The `application_users` table (migration 21) against its definition, on generated data:
//! hundreds of random writes — members added and removed (one and many per statement), groups
//! nested and un-nested, users and groups assigned and unassigned, users, groups, tenants and
//! applications deleted — and after every few, the table must equal what the recursive
//! definition says (assigned directly or through groups nested to any depth, live user, live
//! tenant the application's scope admits). Then two transactions racing on one tenant.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scaikey_testkit::TestDb;
use uuid::Uuid;

/// What the definition says, for every live application.
const DEFINITION: &str = "
WITH RECURSIVE t(app, gid) AS (
    SELECT application_id, group_id FROM application_assignments WHERE group_id IS NOT NULL
    UNION
    SELECT t.app, n.child_id FROM t JOIN group_nesting n ON n.parent_id = t.gid
),
granted(app, uid) AS (
    SELECT t.app, m.user_id FROM t JOIN group_members m ON m.group_id = t.gid
    UNION
    SELECT application_id, user_id FROM application_assignments WHERE user_id IS NOT NULL
)
SELECT g.app::text || ' ' || g.uid::text || ' ' || u.tenant_id::text || ' ' || coalesce(tn.partner_id::text, '-') AS pair
FROM granted g
JOIN applications ap ON ap.id = g.app AND ap.deleted_at IS NULL
JOIN users u ON u.id = g.uid AND u.deleted_at IS NULL
JOIN tenants tn ON tn.id = u.tenant_id AND tn.deleted_at IS NULL
WHERE ap.scope = 'GLOBAL' OR (ap.scope = 'PARTNER' AND tn.partner_id = ap.partner_id)
   OR (ap.scope = 'TENANT' AND tn.id = ap.tenant_id)
ORDER BY 1";

const KEPT: &str = "
SELECT application_id::text || ' ' || user_id::text || ' ' || tenant_id::text || ' ' || coalesce(partner_id::text, '-') AS pair
FROM application_users ORDER BY 1";

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = Text)]
    pair: String,
}

async fn pairs(c: &mut AsyncPgConnection, q: &str) -> Vec<String> {
    sql_query(q).load::<Pair>(c).await.unwrap().into_iter().map(|p| p.pair).collect()
}

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

fn id(kind: u16, n: usize) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-0000-{kind:04x}-{n:012x}")).unwrap()
}

const TENANTS: usize = 3;
const GROUPS: usize = 7; // per tenant
const USERS: usize = 12; // per tenant
const APPS: usize = 4;

fn tenant(t: usize) -> Uuid {
    id(0xa, t)
}
fn group(t: usize, g: usize) -> Uuid {
    id(0xb, t * GROUPS + g)
}
fn user(t: usize, u: usize) -> Uuid {
    id(0xc, t * USERS + u)
}
fn app(a: usize) -> Uuid {
    id(0xd, a)
}

async fn exec(c: &mut AsyncPgConnection, q: &str) {
    sql_query(q).execute(c).await.unwrap_or_else(|e| panic!("{q}: {e}"));
}

/// Two partners; tenants 0 and 1 under partner 0, tenant 2 under partner 1; a GLOBAL app, a
/// PARTNER app of partner 0, a TENANT app of tenant 1 and a second GLOBAL app.
async fn seed(c: &mut AsyncPgConnection) {
    exec(
        c,
        &format!(
            "INSERT INTO partners (id, name, slug, status, created_at, updated_at) VALUES
             ('{}', 'P0', 'p0', 'active', now(), now()), ('{}', 'P1', 'p1', 'active', now(), now())",
            id(0xf, 0),
            id(0xf, 1)
        ),
    )
    .await;
    for t in 0..TENANTS {
        let partner = id(0xf, usize::from(t == 2));
        exec(
            c,
            &format!(
                "INSERT INTO tenants (id, partner_id, name, slug, status, created_at, updated_at)
                 VALUES ('{}', '{partner}', 'T{t}', 't{t}', 'active', now(), now())",
                tenant(t)
            ),
        )
        .await;
        for g in 0..GROUPS {
            exec(
                c,
                &format!(
                    "INSERT INTO groups (id, tenant_id, name, created_at, updated_at)
                     VALUES ('{}', '{}', 'g{t}-{g}', now(), now())",
                    group(t, g),
                    tenant(t)
                ),
            )
            .await;
        }
        for u in 0..USERS {
            exec(
                c,
                &format!(
                    "INSERT INTO users (id, tenant_id, email, status, created_at, updated_at)
                     VALUES ('{}', '{}', 'u{t}-{u}@gen.test', 'active', now(), now())",
                    user(t, u),
                    tenant(t)
                ),
            )
            .await;
        }
    }
    let apps = [
        ("GLOBAL", "NULL".to_string(), "NULL".to_string()),
        ("PARTNER", format!("'{}'", id(0xf, 0)), "NULL".to_string()),
        ("TENANT", "NULL".to_string(), format!("'{}'", tenant(1))),
        ("GLOBAL", "NULL".to_string(), "NULL".to_string()),
    ];
    for (a, (scope, partner, tenant)) in apps.iter().enumerate() {
        exec(
            c,
            &format!(
                "INSERT INTO applications (id, client_id, name, application_type, scope, partner_id, tenant_id,
                                           token_lifetime, status, created_at, updated_at)
                 VALUES ('{}', 'ck_gen_{a}', 'App {a}', 'SERVICE', '{scope}', {partner}, {tenant}, 3600, 'active', now(), now())",
                app(a)
            ),
        )
        .await;
    }
}

/// One random write, as the repositories make them (nesting only downwards within a tenant,
/// so the graph stays acyclic; a deleted group loses its members and nesting).
async fn random_write(c: &mut AsyncPgConnection, rng: &mut Rng, step: usize) {
    let t = rng.below(TENANTS);
    let (g, h, u, a) = (rng.below(GROUPS), rng.below(GROUPS), rng.below(USERS), rng.below(APPS));
    let q = match rng.below(14) {
        0..=2 => format!(
            "INSERT INTO group_members (group_id, user_id, created_at) VALUES ('{}', '{}', now()) ON CONFLICT DO NOTHING",
            group(t, g),
            user(t, u)
        ),
        3 => {
            // Many members in one statement.
            let values: Vec<String> =
                (0..4).map(|_| format!("('{}', '{}', now())", group(t, g), user(t, rng.below(USERS)))).collect();
            format!(
                "INSERT INTO group_members (group_id, user_id, created_at) VALUES {} ON CONFLICT DO NOTHING",
                values.join(", ")
            )
        }
        4 | 5 => format!("DELETE FROM group_members WHERE group_id = '{}' AND user_id = '{}'", group(t, g), user(t, u)),
        6 | 7 if g != h => {
            let (p, ch) = (g.min(h), g.max(h));
            format!(
                "INSERT INTO group_nesting (parent_id, child_id, created_at) VALUES ('{}', '{}', now()) ON CONFLICT DO NOTHING",
                group(t, p),
                group(t, ch)
            )
        }
        8 => format!("DELETE FROM group_nesting WHERE parent_id = '{}' OR child_id = '{}'", group(t, g), group(t, h)),
        9 | 10 => {
            let by_group = rng.below(2) == 0;
            let (col, who) = if by_group { ("group_id", group(t, g)) } else { ("user_id", user(t, u)) };
            format!(
                "INSERT INTO application_assignments (id, application_id, {col}, tenant_id, created_at)
                 SELECT '{}', '{}', '{who}', '{}', now()
                 WHERE NOT EXISTS (SELECT 1 FROM application_assignments WHERE application_id = '{}' AND {col} = '{who}')",
                id(0xe, step),
                app(a),
                tenant(t),
                app(a)
            )
        }
        11 => format!(
            "DELETE FROM application_assignments WHERE application_id = '{}' AND (group_id = '{}' OR user_id = '{}')",
            app(a),
            group(t, g),
            user(t, u)
        ),
        12 if rng.below(4) == 0 => {
            format!("UPDATE users SET deleted_at = now() WHERE id = '{}' AND deleted_at IS NULL", user(t, u))
        }
        13 if rng.below(3) == 0 => {
            // A group deleted as the repository does it, in one transaction.
            let gid = group(t, g);
            c.transaction::<_, diesel::result::Error, _>(async |c| {
                sql_query(format!("UPDATE groups SET deleted_at = now() WHERE id = '{gid}'")).execute(c).await?;
                sql_query(format!("DELETE FROM group_members WHERE group_id = '{gid}'")).execute(c).await?;
                sql_query(format!("DELETE FROM group_nesting WHERE parent_id = '{gid}' OR child_id = '{gid}'"))
                    .execute(c)
                    .await?;
                sql_query(format!("DELETE FROM application_assignments WHERE group_id = '{gid}'")).execute(c).await?;
                Ok(())
            })
            .await
            .unwrap();
            return;
        }
        _ => format!("UPDATE users SET last_login_at = now() WHERE id = '{}'", user(t, u)),
    };
    exec(c, &q).await;
}

#[tokio::test]
async fn the_kept_table_equals_the_definition_after_random_writes() {
    for seed_value in [0x5CA1_4E71_2026_1202_u64, 0x0DDB_1735_C0FF_EE11] {
        generated_run(seed_value).await;
    }
}

async fn generated_run(seed_value: u64) {
    let db = TestDb::create().await.unwrap();
    let mut c = db.connect().await.unwrap();
    seed(&mut c).await;
    let mut rng = Rng(seed_value);
    let mut seen_nonempty = false;
    for step in 0..300 {
        random_write(&mut c, &mut rng, step).await;
        if step % 15 == 14 {
            let (want, got) = (pairs(&mut c, DEFINITION).await, pairs(&mut c, KEPT).await);
            assert_eq!(got, want, "seed {seed_value:#x}, after step {step}");
            seen_nonempty |= want.len() > 10;
        }
    }
    assert!(seen_nonempty, "the generated writes granted access to a fair number of users");
    // A tenant and an application deleted take their rows with them.
    exec(&mut c, &format!("UPDATE tenants SET deleted_at = now() WHERE id = '{}'", tenant(0))).await;
    exec(&mut c, &format!("UPDATE applications SET deleted_at = now() WHERE id = '{}'", app(3))).await;
    assert_eq!(pairs(&mut c, KEPT).await, pairs(&mut c, DEFINITION).await);
}

#[tokio::test]
async fn racing_writes_on_one_tenant_both_count() {
    let db = TestDb::create().await.unwrap();
    let mut c = db.connect().await.unwrap();
    seed(&mut c).await;
    // Transaction 1 adds a member to a group; before it commits, transaction 2 assigns the
    // group. Each alone would miss the other's uncommitted row; the tenant lock orders them.
    let mut one = db.connect().await.unwrap();
    let mut two = db.connect().await.unwrap();
    exec(&mut one, "BEGIN").await;
    exec(
        &mut one,
        &format!(
            "INSERT INTO group_members (group_id, user_id, created_at) VALUES ('{}', '{}', now())",
            group(1, 0),
            user(1, 0)
        ),
    )
    .await;
    let assign = format!(
        "INSERT INTO application_assignments (id, application_id, group_id, tenant_id, created_at)
         VALUES ('{}', '{}', '{}', '{}', now())",
        id(0xe, 1),
        app(0),
        group(1, 0),
        tenant(1)
    );
    let second = tokio::spawn(async move {
        exec(&mut two, "BEGIN").await;
        exec(&mut two, &assign).await;
        exec(&mut two, "COMMIT").await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the assignment waits for the tenant lock");
    exec(&mut one, "COMMIT").await;
    second.await.unwrap();
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = sql_query("SELECT count(*) AS n FROM application_users WHERE application_id = $1 AND user_id = $2")
        .bind::<SqlUuid, _>(app(0))
        .bind::<SqlUuid, _>(user(1, 0))
        .get_result(&mut c)
        .await
        .unwrap();
    assert_eq!(n.n, 1);
    assert_eq!(pairs(&mut c, KEPT).await, pairs(&mut c, DEFINITION).await);
}
