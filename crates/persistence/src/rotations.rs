//! Refresh-token rotations committed in groups (see [`crate::batches`]).
//!
//! A rotation is a durable write: its answer goes out only after PostgreSQL has committed it,
//! or a crash could bring back a spent token and with it the reuse detection it stands for.
//! Committed one by one, each rotation pays a statement, a commit and a WAL flush of its own,
//! and that, not the work of the rotation, is what bounds the refresh grant; in groups, one
//! commit serves them all, and every answer waits for it.
//!
//! Each rotation stays the compare-and-set it was: the old token changes state only if it is
//! still in the state the grant decided on, and the new token is stored only if it did. Two
//! rotations of one token in one batch (a client racing itself) keep the first; the other is
//! told it lost, as it would be one statement later. A deadlock with another batch (both
//! holding rotations of the same tokens) fails one of them, whose rotations then run alone.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::sql_types::{Array, Bytea, Jsonb, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::oidc::{NewRefresh, Replace};
use serde_json::{Value, json};
use ulid::Ulid;
use uuid::Uuid;

use crate::batches::Batched;
use crate::db::Database;
use crate::error::db;
use crate::prepared::Prepared;
use crate::uuid_ids::AsUuid;

/// One rotation as the grant asked for it.
#[derive(Debug)]
pub(crate) struct Rotation {
    pub old: Ulid,
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
        let won = rotate_all(db, jobs).await?;
        Ok(jobs.iter().map(|r| won.contains(&Uuid::from(r.new.id))).collect())
    }
}

/// The batch in one statement; returns the IDs of the new tokens stored.
async fn rotate_all(database: &Database, rotations: &[Rotation]) -> Result<Vec<Uuid>, RepoError> {
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let input = Value::Array(rotations.iter().enumerate().map(|(seq, r)| row(seq, r)).collect());
    // The keyed hashes beside the JSON, as bytes: row `seq` has the `seq + 1`th.
    let hmacs: Vec<&[u8]> = rotations.iter().map(|r| r.new.token_hmac.as_slice()).collect();
    let mut conn = database.conn().await?;
    let stored: Vec<Stored> =
        Prepared(diesel::sql_query(ROTATE_ALL).bind::<Jsonb, _>(&input).bind::<Array<Bytea>, _>(&hmacs))
            .load(&mut conn)
            .await
            .map_err(db)?;
    Ok(stored.into_iter().map(|s| s.id).collect())
}

fn row(seq: usize, r: &Rotation) -> Value {
    let t = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let n = &r.new;
    json!({
        "seq": seq,
        "old": Uuid::from(r.old),
        "grace": matches!(r.how, Replace::WithinGrace),
        "now": t(r.now),
        "id": Uuid::from(n.id),
        "family_id": Uuid::from(n.family_id),
        "application_id": n.application_id.uuid(),
        "client_id": n.client_id,
        "user_id": n.user_id.uuid(),
        "session_id": n.session_id.map(AsUuid::uuid),
        "scopes": n.scopes,
        "resource": n.resource,
        "auth_time": t(n.auth_time),
        "amr": n.amr,
        "issued_at": t(n.issued_at),
        "expires_at": t(n.expires_at),
    })
}

/// Every rotation of the batch (`$1`, a JSON array; `$2`, the new tokens' keyed hashes in the
/// same order) as one compare-and-set each: a current
/// token (`grace` false) is spent if it has not been; the token just replaced, within the
/// grace, once. `DISTINCT ON` keeps the first of two rotations of one token, so the join
/// below stores one new token per old one.
const ROTATE_ALL: &str = "
WITH input AS (
    SELECT DISTINCT ON (x.old) x.*
    FROM jsonb_to_recordset($1) AS x(
        seq int, old uuid, grace boolean, now timestamptz, id uuid, family_id uuid,
        application_id uuid, client_id text, user_id uuid, session_id uuid, scopes text[], resource text,
        auth_time timestamptz, amr text[], issued_at timestamptz, expires_at timestamptz)
    ORDER BY x.old, x.seq
), spent AS (
    UPDATE refresh_tokens r
    SET rotated_at = coalesce(r.rotated_at, i.now), grace_used = r.grace_used OR i.grace
    FROM input i
    WHERE r.id = i.old AND r.revoked_at IS NULL
      AND CASE WHEN i.grace THEN r.rotated_at IS NOT NULL AND NOT r.grace_used ELSE r.rotated_at IS NULL END
    RETURNING r.id
)
INSERT INTO refresh_tokens (id, token_hmac, family_id, application_id, client_id, user_id, session_id,
                            scopes, resource, auth_time, amr, issued_at, expires_at)
SELECT i.id, ($2::bytea[])[i.seq + 1], i.family_id, i.application_id, i.client_id, i.user_id, i.session_id,
       i.scopes, i.resource, i.auth_time, i.amr, i.issued_at, i.expires_at
FROM input i JOIN spent s ON s.id = i.old
RETURNING id";
