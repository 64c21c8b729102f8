//! Refresh-token rotations committed in groups (see [`crate::batches`]).
//!
//! A rotation is a durable write: its answer goes out only after PostgreSQL has committed it,
//! or a crash could bring back a spent token and with it the reuse detection it stands for.
//! Committed one by one, each rotation pays a statement, a commit and a WAL flush of its own,
//! and that, not the work of the rotation, is what bounds the refresh grant; in groups, one
//! commit serves them all, and every answer waits for it.
//!
//! A rotation of a row's current token rewrites the row in place (migration 23): the current
//! token's keyed hash becomes the previous one and the new token's the current. No indexed
//! column changes, so it is a HOT update that adds no index entry, and no foreign key is
//! checked. Each stays the compare-and-set it was: the row changes only if the presented token
//! is still its current one and it is not revoked. Two rotations of one row in one batch (a
//! client racing itself) keep the first; the other is told it lost, as it would be one
//! statement later. The previous token used within the grace (rare) starts a row of its own,
//! in a transaction of its own.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Integer, Jsonb};
use diesel_async::{AsyncConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::oidc::{NewRefresh, Replace};
use serde_json::{Value, json};
use ulid::Ulid;
use uuid::Uuid;

use crate::batches::Batched;
use crate::db::Database;
use crate::error::{TxError, db};
use crate::prepared::Prepared;
use crate::schema::refresh_tokens as rt;

/// One rotation as the grant asked for it.
#[derive(Debug)]
pub(crate) struct Rotation {
    pub old: Ulid,
    /// Keyed hash of the presented token.
    pub presented: Vec<u8>,
    pub how: Replace,
    pub now: DateTime<Utc>,
    pub new: NewRefresh,
}

/// Rotations in one statement; each answers whether it won.
pub(crate) struct Rotations;

impl Batched for Rotations {
    type Job = Rotation;
    type Out = bool;
    const MAX: usize = 64;
    // Two measured best on two cores (one commits while the next gathers); four were worse.
    const WORKERS: usize = 2;
    const WHAT: &'static str = "rotation";

    async fn run(db: &Database, jobs: &[Rotation]) -> Result<Vec<bool>, RepoError> {
        let (current, places): (Vec<&Rotation>, Vec<usize>) =
            jobs.iter().enumerate().filter(|(_, r)| r.how == Replace::Current).map(|(i, r)| (r, i)).unzip();
        let mut won = vec![false; jobs.len()];
        if !current.is_empty() {
            for i in rotate_in_place(db, &current).await? {
                if let Some(w) = usize::try_from(i).ok().and_then(|i| places.get(i)).and_then(|&p| won.get_mut(p)) {
                    *w = true;
                }
            }
        }
        for (i, r) in jobs.iter().enumerate().filter(|(_, r)| r.how == Replace::WithinGrace) {
            won[i] = branch(db, r).await?;
        }
        Ok(won)
    }
}

/// Current-token rotations in one statement; returns the indexes of those that won.
async fn rotate_in_place(database: &Database, rotations: &[&Rotation]) -> Result<Vec<i32>, RepoError> {
    #[derive(diesel::QueryableByName)]
    struct Won {
        #[diesel(sql_type = Integer)]
        i: i32,
    }
    let t = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let input = Value::Array(
        rotations
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "i": i, "id": Uuid::from(r.old).to_string(), "now": t(r.now), "scopes": r.new.scopes,
                    "issued_at": t(r.new.issued_at), "expires_at": t(r.new.expires_at),
                })
            })
            .collect(),
    );
    // The keyed hashes beside the JSON, as bytes: entry `i` has the `i + 1`th of each.
    let presented: Vec<&[u8]> = rotations.iter().map(|r| r.presented.as_slice()).collect();
    let new: Vec<&[u8]> = rotations.iter().map(|r| r.new.token_hmac.as_slice()).collect();
    let mut conn = database.conn().await?;
    let won: Vec<Won> = Prepared(
        diesel::sql_query(ROTATE_IN_PLACE)
            .bind::<Jsonb, _>(&input)
            .bind::<Array<Bytea>, _>(&presented)
            .bind::<Array<Bytea>, _>(&new),
    )
    .load(&mut conn)
    .await
    .map_err(db)?;
    Ok(won.into_iter().map(|w| w.i).collect())
}

/// Every current-token rotation of the batch (`$1`, a JSON array; `$2` and `$3`, the presented
/// and the new tokens' keyed hashes in the same order) as one compare-and-set each. `DISTINCT
/// ON` keeps the first of two rotations of one row.
const ROTATE_IN_PLACE: &str = "
WITH input AS (
    SELECT DISTINCT ON (x.id) x.*
    FROM jsonb_to_recordset($1) AS x(
        i int, id uuid, now timestamptz, scopes text[], issued_at timestamptz, expires_at timestamptz)
    ORDER BY x.id, x.i
)
UPDATE refresh_tokens r
SET previous_hmac = r.current_hmac, current_hmac = ($3::bytea[])[i.i + 1], rotated_at = i.now,
    grace_used = false, scopes = i.scopes, issued_at = i.issued_at, expires_at = i.expires_at
FROM input i
WHERE r.id = i.id AND r.revoked_at IS NULL AND r.current_hmac = ($2::bytea[])[i.i + 1]
RETURNING i.i";

/// The previous token used within the grace: spends its grace and stores the new token in a
/// row of its own, in one transaction; `false`, storing nothing, when the grace was spent or
/// the row revoked meanwhile.
async fn branch(database: &Database, r: &Rotation) -> Result<bool, RepoError> {
    let mut conn = database.conn().await?;
    let won = conn
        .transaction::<_, TxError, _>(async |c| {
            let n = diesel::update(
                rt::table.filter(
                    rt::id
                        .eq(Uuid::from(r.old))
                        .and(rt::revoked_at.is_null())
                        .and(rt::previous_hmac.eq(&r.presented))
                        .and(rt::rotated_at.is_not_null())
                        .and(rt::grace_used.eq(false)),
                ),
            )
            .set(rt::grace_used.eq(true))
            .execute(c)
            .await?;
            if n == 1 {
                crate::grants::insert_refresh(c, &r.new).await?;
            }
            Ok(n == 1)
        })
        .await?;
    Ok(won)
}
