//! Refresh-token rotations committed in groups.
//!
//! A rotation is a durable write: its answer goes out only after PostgreSQL has committed it,
//! or a crash could bring back a spent token and with it the reuse detection it stands for.
//! Committed one by one, each rotation pays a statement, a commit and a WAL flush of its own,
//! and that, not the work of the rotation, is what bounds the refresh grant. So concurrent
//! rotations of one process queue here, and a few workers each take whatever has queued, up to
//! [`MAX_BATCH`], and rotate it in one statement: one commit for all, every answer after it.
//! A lone rotation waits for nothing: a worker idle on the queue takes it at once.
//!
//! Each rotation stays the compare-and-set it was: the old token changes state only if it is
//! still in the state the grant decided on, and the new token is stored only if it did. Two
//! rotations of one token in one batch (a client racing itself) keep the first; the other is
//! told it lost, as it would be one statement later. Should the batch fail (a statement
//! error, or a deadlock with another batch), each of its rotations runs alone, so only the one
//! at fault gets the error.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::sql_types::{Jsonb, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::oidc::{NewRefresh, Replace};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use ulid::Ulid;
use uuid::Uuid;

use crate::db::Database;
use crate::error::db;
use crate::prepared::Prepared;
use crate::uuid_ids::AsUuid;

/// Most rotations in one statement.
pub(crate) const MAX_BATCH: usize = 64;
/// Batches in flight at once: one commits while the next gathers.
const WORKERS: usize = 2;

/// One rotation as the grant asked for it.
#[derive(Debug)]
pub(crate) struct Rotation {
    pub old: Ulid,
    pub how: Replace,
    pub now: DateTime<Utc>,
    pub new: NewRefresh,
}

type Job = (Rotation, oneshot::Sender<Result<bool, RepoError>>);

/// The queue of one pool's rotations; workers start with the first rotation (inside the
/// runtime) and stop once every handle to the pool is gone.
#[derive(Debug, Clone, Default)]
pub(crate) struct RotationQueue(Arc<Mutex<Option<mpsc::UnboundedSender<Job>>>>);

impl RotationQueue {
    /// Rotates as one of a group; `false` when the old token was no longer in the expected state.
    pub(crate) async fn rotate(&self, db: &Database, rotation: Rotation) -> Result<bool, RepoError> {
        let (reply, answer) = oneshot::channel();
        self.sender(db).send((rotation, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    fn sender(&self, db: &Database) -> mpsc::UnboundedSender<Job> {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            // Closed only if the workers' runtime ended (a test's); start them again here.
            Some(tx) if !tx.is_closed() => tx.clone(),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                for _ in 0..WORKERS {
                    // The workers hold the pool, not the `Database`: the queue lives in it,
                    // and the last handle dropped must close the queue to stop them.
                    tokio::spawn(work(db.without_queue(), rx.clone()));
                }
                *slot = Some(tx.clone());
                tx
            }
        }
    }
}

fn gone() -> RepoError {
    RepoError::Unavailable(anyhow::anyhow!("the rotation queue stopped"))
}

async fn work(db: Database, rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        run(&db, batch).await;
    }
}

async fn run(db: &Database, batch: Vec<Job>) {
    let (rotations, replies): (Vec<Rotation>, Vec<_>) = batch.into_iter().unzip();
    match rotate_all(db, &rotations).await {
        Ok(won) => {
            for (r, reply) in rotations.iter().zip(replies) {
                let _ = reply.send(Ok(won.contains(&Uuid::from(r.new.id))));
            }
        }
        Err(e) if rotations.len() == 1 => {
            let _ = replies.into_iter().next().map(|reply| reply.send(Err(e)));
        }
        Err(e) => {
            tracing::warn!(rotations = rotations.len(), error = %e, "a rotation batch failed; rotating one by one");
            for (r, reply) in rotations.iter().zip(replies) {
                let one = rotate_all(db, std::slice::from_ref(r)).await;
                let _ = reply.send(one.map(|won| won.contains(&Uuid::from(r.new.id))));
            }
        }
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
    let mut conn = database.conn().await?;
    let stored: Vec<Stored> =
        Prepared(diesel::sql_query(ROTATE_ALL).bind::<Jsonb, _>(&input)).load(&mut conn).await.map_err(db)?;
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
        "token_hmac": hex(&n.token_hmac),
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

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Every rotation of the batch (`$1`, a JSON array) as one compare-and-set each: a current
/// token (`grace` false) is spent if it has not been; the token just replaced, within the
/// grace, once. `DISTINCT ON` keeps the first of two rotations of one token, so the join
/// below stores one new token per old one.
const ROTATE_ALL: &str = "
WITH input AS (
    SELECT DISTINCT ON (x.old) x.*
    FROM jsonb_to_recordset($1) AS x(
        seq int, old uuid, grace boolean, now timestamptz, id uuid, token_hmac text, family_id uuid,
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
SELECT i.id, decode(i.token_hmac, 'hex'), i.family_id, i.application_id, i.client_id, i.user_id, i.session_id,
       i.scopes, i.resource, i.auth_time, i.amr, i.issued_at, i.expires_at
FROM input i JOIN spent s ON s.id = i.old
RETURNING id";
