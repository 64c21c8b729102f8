//! Statements run for many callers at once.
//!
//! The refresh grant's two statements (the token's lookup and its rotation) are each cheap to
//! execute; what bounds them is what every statement pays besides: a round trip, a snapshot,
//! the locks of the tables and indexes it touches and, for a write, a commit with its WAL
//! flush. So concurrent callers of one process queue here, and a few workers each take
//! whatever has queued, up to [`Batched::MAX`], and answer it with one statement. A lone
//! caller waits for nothing: a worker idle on the queue takes it at once. A batch that fails
//! is run again one job at a time, so only the job at fault gets the error.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use scaikey_app::RepoError;
use tokio::sync::{mpsc, oneshot};

use crate::db::Database;

/// One kind of statement that answers many jobs at once.
pub(crate) trait Batched: 'static {
    /// What one caller asks.
    type Job: Send + Sync + 'static;
    /// What it gets back.
    type Out: Send + 'static;
    /// Most jobs in one statement.
    const MAX: usize;
    /// Statements in flight at once (one runs while the next batch gathers).
    const WORKERS: usize;
    /// Name for the log.
    const WHAT: &'static str;

    /// The jobs in one statement: one answer per job, in their order.
    fn run(db: &Database, jobs: &[Self::Job]) -> impl Future<Output = Result<Vec<Self::Out>, RepoError>> + Send;
}

type Reply<B> = oneshot::Sender<Result<<B as Batched>::Out, RepoError>>;
type Queued<B> = (<B as Batched>::Job, Reply<B>);
type Sender<B> = mpsc::UnboundedSender<Queued<B>>;

/// The queue of one pool's jobs of one kind; workers start with the first job (inside the
/// runtime) and stop once every handle to the pool is gone.
pub(crate) struct Queue<B: Batched>(Arc<Mutex<Option<Sender<B>>>>);

impl<B: Batched> Default for Queue<B> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<B: Batched> Clone for Queue<B> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<B: Batched> Queue<B> {
    /// Runs `job` with whatever else is queued.
    pub(crate) async fn run(&self, db: &Database, job: B::Job) -> Result<B::Out, RepoError> {
        let (reply, answer) = oneshot::channel();
        self.sender(db).send((job, reply)).map_err(|_| gone::<B>())?;
        answer.await.map_err(|_| gone::<B>())?
    }

    fn sender(&self, db: &Database) -> Sender<B> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            // Closed only if the workers' runtime ended (a test's); start them again here.
            Some(tx) if !tx.is_closed() => tx.clone(),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                for _ in 0..B::WORKERS {
                    // The workers hold the pool, not the `Database`: the queue lives in it,
                    // and the last handle dropped must close the queue to stop them.
                    tokio::spawn(work::<B>(db.without_queues(), rx.clone()));
                }
                *slot = Some(tx.clone());
                tx
            }
        }
    }
}

fn gone<B: Batched>() -> RepoError {
    RepoError::Unavailable(anyhow::anyhow!("the {} queue stopped", B::WHAT))
}

async fn work<B: Batched>(db: Database, rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued<B>>>>) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < B::MAX {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        answer::<B>(&db, batch).await;
    }
}

async fn answer<B: Batched>(db: &Database, batch: Vec<Queued<B>>) {
    let (jobs, replies): (Vec<B::Job>, Vec<Reply<B>>) = batch.into_iter().unzip();
    match B::run(db, &jobs).await {
        Ok(outs) => {
            for (out, reply) in outs.into_iter().zip(replies) {
                let _ = reply.send(Ok(out));
            }
        }
        Err(e) if jobs.len() == 1 => {
            let _ = replies.into_iter().next().map(|reply| reply.send(Err(e)));
        }
        Err(e) => {
            tracing::warn!(jobs = jobs.len(), error = %e, what = B::WHAT, "a batch failed; running its jobs one by one");
            for (job, reply) in jobs.iter().zip(replies) {
                let one = B::run(db, std::slice::from_ref(job)).await;
                let _ = reply.send(one.and_then(|outs| outs.into_iter().next().ok_or_else(|| gone::<B>())));
            }
        }
    }
}
