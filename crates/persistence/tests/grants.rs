//! Codes, refresh tokens and consents against PostgreSQL: every state change is a
//! compare-and-set, so racing redemptions and rotations have exactly one winner.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use scaikey_app::ports::oidc::{GrantRepository, NewCode, NewRefresh, Replace, StoredRefresh};
use scaikey_domain::id::{ApplicationId, SessionId, UserId};
use scaikey_persistence::{Database, DbConfig};
use scaikey_testkit::TestDb;
use ulid::Ulid;
use uuid::Uuid;

const APP: &str = "00000000-0000-0000-00dd-000000000001";
const USER: &str = "00000000-0000-0000-00cc-000000000001";
const SESSION: &str = "00000000-0000-0000-00ab-000000000001";

async fn seeded() -> (TestDb, Database) {
    let t = TestDb::create().await.unwrap();
    let mut c = t.connect().await.unwrap();
    for s in [
        "INSERT INTO tenants (id, name, slug, status, created_at, updated_at) VALUES ('00000000-0000-0000-00aa-000000000001', 'T', 't', 'active', now(), now())".to_string(),
        format!("INSERT INTO users (id, tenant_id, email, status, created_at, updated_at) VALUES ('{USER}', '00000000-0000-0000-00aa-000000000001', 'u@t.test', 'active', now(), now())"),
        format!("INSERT INTO applications (id, client_id, name, application_type, scope, tenant_id, token_lifetime, status, created_at, updated_at) VALUES ('{APP}', 'ck_web', 'Web', 'WEB', 'TENANT', '00000000-0000-0000-00aa-000000000001', 3600, 'active', now(), now())"),
        format!("INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at) VALUES ('{SESSION}', '{USER}', '00000000-0000-0000-00aa-000000000001', now(), now(), now() + interval '1 hour')"),
    ] {
        diesel::sql_query(s).execute(&mut c).await.unwrap();
    }
    let db = Database::connect(&DbConfig {
        url: t.url.clone(),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    (t, db)
}

fn ids() -> (ApplicationId, UserId, SessionId) {
    let u = |s: &str| Ulid::from(Uuid::parse_str(s).unwrap());
    (ApplicationId::generate_from(u(APP)), UserId::generate_from(u(USER)), SessionId::generate_from(u(SESSION)))
}

fn code(hmac: &[u8], now: DateTime<Utc>) -> NewCode {
    let (app, user, session) = ids();
    NewCode {
        code_hmac: hmac.to_vec(),
        application_id: app,
        client_id: "ck_web".into(),
        user_id: user,
        session_id: session,
        redirect_uri: "https://app.example/cb".into(),
        scopes: vec!["openid".into(), "email".into()],
        resource: None,
        nonce: Some("n".into()),
        code_challenge: None,
        auth_time: now,
        amr: vec!["pwd".into()],
        issued_at: now,
    }
}

fn refresh(hmac: &[u8], family: Ulid, session: bool, now: DateTime<Utc>) -> NewRefresh {
    let (app, user, s) = ids();
    NewRefresh {
        id: Ulid::new(),
        token_hmac: hmac.to_vec(),
        family_id: family,
        application_id: app,
        client_id: "ck_web".into(),
        user_id: user,
        session_id: session.then_some(s),
        scopes: vec!["openid".into()],
        resource: None,
        auth_time: now,
        amr: vec!["pwd".into()],
        issued_at: now,
        expires_at: now + chrono::Duration::days(1),
    }
}

/// Token `hmac` of row `row`, as a refresh finds it.
async fn find(g: &impl GrantRepository, row: Ulid, hmac: &[u8], now: DateTime<Utc>) -> Option<StoredRefresh> {
    g.refresh_token(Some(row), hmac, now).await.unwrap()
}

/// `new` rotated into row `row` in place (the current token's successor).
fn successor(row: &NewRefresh, hmac: &[u8], now: DateTime<Utc>) -> NewRefresh {
    NewRefresh { id: row.id, ..refresh(hmac, row.family_id, row.session_id.is_some(), now) }
}

#[tokio::test]
async fn a_code_is_redeemed_once_even_by_racing_requests_and_its_family_can_be_revoked() {
    let (_t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    g.insert_code(&code(b"code-1", now)).await.unwrap();
    let stored = g.code(b"code-1", now).await.unwrap().unwrap();
    assert_eq!((stored.used_at, stored.code.scopes.len()), (None, 2));
    assert!(g.code(b"unknown", now).await.unwrap().is_none());
    let family = Ulid::new();
    let tries: Vec<NewRefresh> = (0..8).map(|i| refresh(format!("rt-{i}").as_bytes(), family, true, now)).collect();
    let attempts = tries.iter().map(|r| {
        let g = db.grants();
        async move { g.redeem_code(b"code-1", now, Some(r.clone())).await }
    });
    let won: Vec<bool> = futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    assert!(g.code(b"code-1", now).await.unwrap().unwrap().used_at.is_some());
    // Only the winner's refresh token was stored; the reuse revokes it.
    let live: Vec<_> = futures_util::future::join_all(tries.iter().map(|r| {
        let g = db.grants();
        async move { find(&g, r.id, &r.token_hmac, now).await }
    }))
    .await
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(live.len(), 1);
    assert!(live[0].session_live && live[0].revoked_at.is_none());
    assert_eq!(g.revoke_code_family(b"code-1", now).await.unwrap(), 1);
    let after = find(&g, live[0].token.id, &live[0].token.token_hmac, now).await.unwrap();
    assert!(after.revoked_at.is_some());
}

#[tokio::test]
async fn a_code_is_read_with_its_sessions_state_and_its_user_as_sign_in_sees_them() {
    let (t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    g.insert_code(&code(b"c", now)).await.unwrap();
    let stored = g.code(b"c", now).await.unwrap().unwrap();
    let user = stored.user.clone().unwrap();
    assert!(stored.session_live);
    assert_eq!(
        (user.user_id, user.email.as_str(), user.user_active, user.tenant_active),
        (ids().1, "u@t.test", true, true)
    );
    // As of a time after the session's end, it is over; so it is once revoked.
    assert!(!g.code(b"c", now + chrono::Duration::hours(2)).await.unwrap().unwrap().session_live);
    let mut c = t.connect().await.unwrap();
    let run = async |c: &mut diesel_async::AsyncPgConnection, s: String| {
        diesel::sql_query(s).execute(c).await.unwrap();
    };
    run(&mut c, format!("UPDATE sessions SET revoked_at = now() WHERE id = '{SESSION}'")).await;
    assert!(!g.code(b"c", now).await.unwrap().unwrap().session_live);
    // A suspended tenant shows in the user read with the code; a deleted user is none.
    run(&mut c, "UPDATE tenants SET status = 'suspended'".into()).await;
    assert!(!g.code(b"c", now).await.unwrap().unwrap().user.unwrap().tenant_active);
    run(&mut c, format!("UPDATE users SET deleted_at = now() WHERE id = '{USER}'")).await;
    assert!(g.code(b"c", now).await.unwrap().unwrap().user.is_none());
}

#[tokio::test]
async fn rotation_rewrites_the_row_as_a_compare_and_set_and_the_grace_is_spent_once() {
    let (_t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    let family = Ulid::new();
    g.insert_code(&code(b"c", now)).await.unwrap();
    let first = refresh(b"r0", family, false, now);
    assert!(g.redeem_code(b"c", now, Some(first.clone())).await.unwrap());
    let fresh = find(&g, first.id, b"r0", now).await.unwrap();
    assert!(fresh.rotated_at.is_none() && !fresh.grace_used);
    // Two racing rotations of the current token: one wins.
    let racers = (1..=2).map(|i| {
        let g = db.grants();
        let new = successor(&first, format!("r{i}").as_bytes(), now);
        async move { g.rotate(first.id, b"r0", Replace::Current, now, new).await.unwrap() }
    });
    let won: Vec<bool> = futures_util::future::join_all(racers).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1);
    let winner: &[u8] = if won[0] { b"r1" } else { b"r2" };
    let loser: &[u8] = if won[0] { b"r2" } else { b"r1" };
    // The old token is now the row's previous one; the winner its current; the loser nothing
    // but a guess, which reads as an older token (reuse).
    let old = find(&g, first.id, b"r0", now).await.unwrap();
    assert!(old.rotated_at.is_some() && !old.grace_used);
    assert!(find(&g, first.id, winner, now).await.unwrap().rotated_at.is_none());
    let guess = find(&g, first.id, loser, now).await.unwrap();
    assert!(guess.rotated_at.is_some() && guess.grace_used, "neither of the row's tokens");
    // The grace reuse works once (a row of its own), then no more.
    let g1 = refresh(b"g1", family, false, now);
    assert!(g.rotate(first.id, b"r0", Replace::WithinGrace, now, g1.clone()).await.unwrap());
    let g2 = refresh(b"g2", family, false, now);
    assert!(!g.rotate(first.id, b"r0", Replace::WithinGrace, now, g2.clone()).await.unwrap());
    assert!(find(&g, g2.id, b"g2", now).await.is_none(), "a lost rotation stores nothing");
    assert!(find(&g, g1.id, b"g1", now).await.unwrap().rotated_at.is_none(), "the branch is current");
    assert!(find(&g, first.id, b"r0", now).await.unwrap().grace_used);
    // A second rotation of the row: the first token is now older than the previous one.
    assert!(g.rotate(first.id, winner, Replace::Current, now, successor(&first, b"r3", now)).await.unwrap());
    let older = find(&g, first.id, b"r0", now).await.unwrap();
    assert!(older.rotated_at.is_some() && older.grace_used, "reuse");
    assert!(!find(&g, first.id, winner, now).await.unwrap().grace_used, "the previous token's grace is its own");
    // Reuse detected: the whole family dies.
    assert_eq!(g.revoke_family(family, now).await.unwrap(), 2, "the row and its grace branch");
    assert!(!g.rotate(first.id, b"r3", Replace::Current, now, successor(&first, b"r4", now)).await.unwrap());
    assert!(!g.rotate(first.id, winner, Replace::WithinGrace, now, refresh(b"g3", family, false, now)).await.unwrap());
}

#[tokio::test]
async fn tokens_of_the_older_form_are_found_by_their_hash_and_rotate_into_their_row() {
    let (t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    // As migration 23 left them: an unrotated token (current) and a rotated one (previous).
    let mut c = t.connect().await.unwrap();
    let (unrotated, rotated) = (Ulid::new(), Ulid::new());
    for (id, current, previous, rotated_at) in [
        (unrotated, "'\\x6c30'::bytea", "NULL", "NULL"),
        (rotated, "NULL", "'\\x6c31'::bytea", "now() - interval '1 minute'"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO refresh_tokens (id, legacy_hmac, current_hmac, previous_hmac, family_id, application_id,
                                         client_id, user_id, scopes, auth_time, amr, issued_at, expires_at, rotated_at)
             VALUES ('{}', coalesce({current}, {previous}), {current}, {previous}, '{}', '{APP}', 'ck_web', '{USER}',
                     '{{openid}}', now(), '{{pwd}}', now(), now() + interval '1 day', {rotated_at})",
            Uuid::from(id),
            Uuid::from(id),
        ))
        .execute(&mut c)
        .await
        .unwrap();
    }
    let l0 = g.refresh_token(None, b"l0", now).await.unwrap().unwrap();
    assert_eq!((l0.token.id, l0.rotated_at), (unrotated, None));
    let l1 = g.refresh_token(None, b"l1", now).await.unwrap().unwrap();
    assert_eq!(l1.token.id, rotated);
    assert!(l1.rotated_at.is_some() && !l1.grace_used, "its grace as it was");
    assert!(g.refresh_token(None, b"l2", now).await.unwrap().is_none());
    // Rotated in its row; the old token is then the previous one, still found by its hash.
    let row = refresh(b"l0", Ulid::from(Uuid::from(unrotated)), false, now);
    let row = NewRefresh { id: unrotated, ..row };
    assert!(g.rotate(unrotated, b"l0", Replace::Current, now, successor(&row, b"n0", now)).await.unwrap());
    assert!(find(&g, unrotated, b"n0", now).await.unwrap().rotated_at.is_none());
    assert!(g.refresh_token(None, b"l0", now).await.unwrap().unwrap().rotated_at.is_some());
}

/// A second pool on the same database: another ScaiKey process.
fn another_process(t: &TestDb) -> Database {
    Database::connect(&DbConfig { url: t.url.clone(), max_connections: 8, acquire_timeout: Duration::from_secs(5) })
        .unwrap()
}

#[tokio::test]
async fn rotations_committed_together_keep_one_winner_per_token_across_processes() {
    let (t, db) = seeded().await;
    let other = another_process(&t);
    let g = db.grants();
    let now = Utc::now();
    // Forty families, each with a current token.
    let mut current = Vec::new();
    for i in 0..40 {
        let family = Ulid::new();
        g.insert_code(&code(format!("c{i}").as_bytes(), now)).await.unwrap();
        let first = refresh(format!("f{i}").as_bytes(), family, true, now);
        assert!(g.redeem_code(format!("c{i}").as_bytes(), now, Some(first.clone())).await.unwrap());
        current.push(first);
    }
    // Every token rotated three times at once, from both processes: queued together, so most
    // share a statement and a commit; still one winner each.
    let racers = current.iter().enumerate().flat_map(|(i, first)| {
        (0..3).map({
            let (db, other) = (&db, &other);
            move |k| {
                let g = if k == 1 { other.grants() } else { db.grants() };
                let new = successor(first, format!("n{i}-{k}").as_bytes(), now);
                async move { (i, k, g.rotate(first.id, &first.token_hmac, Replace::Current, now, new).await.unwrap()) }
            }
        })
    });
    let results = futures_util::future::join_all(racers).await;
    for (i, first) in current.iter().enumerate() {
        let winners: Vec<usize> = results.iter().filter(|(j, _, won)| *j == i && *won).map(|r| r.1).collect();
        assert_eq!(winners.len(), 1, "family {i}: {results:?}");
        // The winner is the row's current token, the old one its previous, its user read with it.
        let s = find(&g, first.id, format!("n{i}-{}", winners[0]).as_bytes(), now).await.unwrap();
        assert_eq!((s.token.family_id, s.rotated_at), (first.family_id, None));
        assert_eq!(s.user.as_ref().map(|u| u.email.as_str()), Some("u@t.test"));
        assert!(find(&g, first.id, &first.token_hmac, now).await.unwrap().rotated_at.is_some());
    }
    // Lookups at once (answered together): each row answers for the token asked; asking twice
    // for one token answers both; a row that is not there answers none.
    let asked: Vec<(Ulid, Vec<u8>)> = current
        .iter()
        .flat_map(|f| [(f.id, f.token_hmac.clone()), (f.id, b"guess".to_vec()), (f.id, f.token_hmac.clone())])
        .chain([(Ulid::new(), b"f0".to_vec())])
        .collect();
    let answers = futures_util::future::join_all(asked.iter().enumerate().map(|(n, (row, h))| {
        let g = if n % 2 == 0 { db.grants() } else { other.grants() };
        async move { find(&g, *row, h, now).await }
    }))
    .await;
    for ((row, h), a) in asked.iter().zip(&answers) {
        match a {
            Some(found) => {
                assert_eq!((&found.token.id, &found.token.token_hmac), (row, h));
                assert!(found.session_live, "the seeded session is live");
                assert_eq!(found.grace_used, h == b"guess", "a guess reads as reuse");
            }
            None => assert!(!current.iter().any(|f| f.id == *row), "{row}"),
        }
    }
    assert_eq!(answers.iter().filter(|a| a.is_some()).count(), 120);
    // The grace reuse of one token, raced from both processes: once.
    let graces = (0..4).map(|k| {
        let g = if k % 2 == 0 { db.grants() } else { other.grants() };
        let new = refresh(format!("grace-{k}").as_bytes(), current[0].family_id, true, now);
        let (old, presented) = (current[0].id, current[0].token_hmac.clone());
        async move { g.rotate(old, &presented, Replace::WithinGrace, now, new).await.unwrap() }
    });
    let won: Vec<bool> = futures_util::future::join_all(graces).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
}

#[tokio::test]
async fn a_failing_rotation_fails_alone_and_a_deleted_user_reads_as_none() {
    let (t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    let mut current = Vec::new();
    for i in 0..6 {
        g.insert_code(&code(format!("c{i}").as_bytes(), now)).await.unwrap();
        let first = refresh(format!("f{i}").as_bytes(), Ulid::new(), false, now);
        assert!(g.redeem_code(format!("c{i}").as_bytes(), now, Some(first.clone())).await.unwrap());
        current.push(first);
    }
    // The third successor carries a scope PostgreSQL cannot read (a NUL in JSON): it breaks
    // the batch's statement.
    let racers = current.iter().enumerate().map(|(i, first)| {
        let g = db.grants();
        let mut new = successor(first, format!("n{i}").as_bytes(), now);
        if i == 2 {
            new.scopes = vec!["open\u{0}id".into()];
        }
        async move { g.rotate(first.id, &first.token_hmac, Replace::Current, now, new).await }
    });
    let results = futures_util::future::join_all(racers).await;
    for (i, r) in results.iter().enumerate() {
        if i == 2 {
            assert!(r.is_err(), "the faulty rotation errs: {r:?}");
        } else {
            assert!(matches!(r, Ok(true)), "rotation {i} still lands: {r:?}");
        }
    }
    assert!(find(&g, current[2].id, b"f2", now).await.unwrap().rotated_at.is_none(), "its token unspent");
    // Soft-deleted, the user no longer comes with their token.
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(format!("UPDATE users SET deleted_at = now() WHERE id = '{USER}'"))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(find(&g, current[1].id, b"n1", now).await.unwrap().user.is_none());
}

#[tokio::test]
async fn session_bound_tokens_see_their_session_end_and_consents_accumulate() {
    let (t, db) = seeded().await;
    let g = db.grants();
    let now = Utc::now();
    g.insert_code(&code(b"c", now)).await.unwrap();
    let bound = refresh(b"bound", Ulid::new(), true, now);
    assert!(g.redeem_code(b"c", now, Some(bound.clone())).await.unwrap());
    assert!(find(&g, bound.id, b"bound", now).await.unwrap().session_live);
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(format!("UPDATE sessions SET revoked_at = now() WHERE id = '{SESSION}'"))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(!find(&g, bound.id, b"bound", now).await.unwrap().session_live);
    // A session past its expiry is not live either.
    let later = now + chrono::Duration::hours(2);
    diesel::sql_query(format!("UPDATE sessions SET revoked_at = NULL WHERE id = '{SESSION}'"))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(!find(&g, bound.id, b"bound", later).await.unwrap().session_live);

    let (app, user, _) = ids();
    assert!(g.consent(user, app).await.unwrap().is_empty());
    g.grant_consent(user, app, &["openid".into(), "email".into()], now).await.unwrap();
    g.grant_consent(user, app, &["email".into(), "profile".into()], now).await.unwrap();
    assert_eq!(g.consent(user, app).await.unwrap(), ["openid", "email", "profile"]);
}

#[tokio::test]
async fn effective_users_and_group_names_follow_nesting_upwards_through_live_groups() {
    let (t, db) = seeded().await;
    let g = db.grants();
    let mut c = t.connect().await.unwrap();
    let tenant = "00000000-0000-0000-00aa-000000000001";
    // A chain of 10 groups: level 0 is assigned to the app; the user is a member of level 9.
    let gid = |l: i64| format!("00000000-0000-0000-00bb-{l:012x}");
    for l in 0..10 {
        diesel::sql_query(format!("INSERT INTO groups (id, tenant_id, name, created_at, updated_at) VALUES ('{}', '{tenant}', 'level {l}', now(), now())", gid(l)))
            .execute(&mut c)
            .await
            .unwrap();
        if l > 0 {
            diesel::sql_query(format!(
                "INSERT INTO group_nesting (parent_id, child_id, created_at) VALUES ('{}', '{}', now())",
                gid(l - 1),
                gid(l)
            ))
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
    let (app, user, _) = ids();
    assert!(!g.is_effective_user(app, user).await.unwrap());
    diesel::sql_query(format!(
        "INSERT INTO group_members (group_id, user_id, created_at) VALUES ('{}', '{USER}', now())",
        gid(9)
    ))
    .execute(&mut c)
    .await
    .unwrap();
    assert!(!g.is_effective_user(app, user).await.unwrap(), "a member, but nothing is assigned");
    diesel::sql_query(format!("INSERT INTO application_assignments (id, application_id, group_id, tenant_id, created_at) VALUES ('00000000-0000-0000-00ee-000000000001', '{APP}', '{}', '{tenant}', now())", gid(0)))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(g.is_effective_user(app, user).await.unwrap(), "through 10 levels");
    let names = g.group_names(user).await.unwrap();
    assert_eq!(names.len(), 10);
    assert_eq!(names[0], "level 0");
    // A deleted group in the middle cuts the chain.
    diesel::sql_query(format!("UPDATE groups SET deleted_at = now() WHERE id = '{}'", gid(5)))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(!g.is_effective_user(app, user).await.unwrap());
    assert_eq!(g.group_names(user).await.unwrap().len(), 4, "levels 6 to 9");
    // A direct assignment works alone.
    diesel::sql_query(format!("INSERT INTO application_assignments (id, application_id, user_id, tenant_id, created_at) VALUES ('00000000-0000-0000-00ee-000000000002', '{APP}', '{USER}', '{tenant}', now())"))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(g.is_effective_user(app, user).await.unwrap());

    let u = g.sign_in_user(user).await.unwrap().unwrap();
    assert!(u.user_active && u.tenant_active && u.partner_active && u.partner_id.is_none());
    assert_eq!(u.email, "u@t.test");
    diesel::sql_query(format!("UPDATE tenants SET status = 'suspended' WHERE id = '{tenant}'"))
        .execute(&mut c)
        .await
        .unwrap();
    assert!(!g.sign_in_user(user).await.unwrap().unwrap().tenant_active);
    let s = g.browser_session(ids().2, Utc::now()).await.unwrap().unwrap();
    assert!(s.live && s.cookie_hmac.is_none() && s.amr == ["pwd"]);
}
