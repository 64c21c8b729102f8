//! Argon2id password hashing at the OWASP parameters (m = 19 MiB, t = 2, p = 1) on hashing
//! threads of its own, one per core, fed by one queue:
//! - hashing never occupies the async workers and never runs more hashes at once than there
//!   are threads;
//! - a thread that finishes a hash takes the next queued one at once, instead of handing a
//!   permit back through an async worker that may be busy (on two cores that hand-off left
//!   both idle for a few per cent of a sign-in load);
//! - each thread keeps its 19 MiB of Argon2 memory while hashes are queued and frees it when
//!   the queue runs dry, so a busy server does not allocate and zero 19 MiB per hash;
//! - threads start with the first hashes and end after [`IDLE`] without one, so an idle
//!   server holds neither the memory nor the allocator's cache of it (mimalloc hands a
//!   thread's freed pages back to the system only on that thread's later allocator activity
//!   or at its exit, and an idle hashing thread has none).
//!
//! Argon2's first pass writes every block before any is read, so reused memory needs no
//! clearing between hashes.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use argon2::Params;
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Version};
use async_trait::async_trait;
use rand::RngCore;
use scaikey_app::ports::PasswordHasher;

/// OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
pub const OWASP_M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const OWASP_T_COST: u32 = 2;
/// Lanes.
pub const OWASP_P_COST: u32 = 1;

/// How long a hashing thread waits for work before it ends.
pub const IDLE: Duration = Duration::from_secs(2);

/// The OWASP parameters.
///
/// # Errors
/// Never in practice (the constants are valid); kept fallible as argon2's constructor is.
pub fn owasp_params() -> anyhow::Result<Params> {
    Params::new(OWASP_M_COST_KIB, OWASP_T_COST, OWASP_P_COST, None).map_err(|e| anyhow::anyhow!("argon2 params: {e}"))
}

/// Argon2id hasher; clone freely (the clones share the hashing threads, which stop when the
/// last clone is dropped).
#[derive(Clone)]
pub struct Argon2Hasher {
    queue: Arc<Queue>,
    params: Params,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("threads", &self.queue.threads)
            .field("queued", &self.queue.stats.queued.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A hash to compute, given its thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

struct Queue {
    jobs: Sender<Job>,
    rx: Arc<Mutex<Receiver<Job>>>,
    stats: Arc<Stats>,
    /// Most threads at once.
    threads: usize,
}

/// Counters the threads and the submitters share.
#[derive(Debug, Default)]
struct Stats {
    /// Jobs sent and not yet taken by a thread.
    queued: AtomicUsize,
    /// Memory buffers allocated so far.
    allocations: AtomicUsize,
    /// Threads holding a buffer now.
    holding: AtomicUsize,
    /// Jobs run (not skipped).
    computed: AtomicUsize,
    /// Hashing threads running.
    alive: AtomicUsize,
}

impl Stats {
    /// Takes a thread's place if fewer than `most` are running.
    fn claim_thread(&self, most: usize) -> bool {
        self.alive.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |a| (a < most).then_some(a + 1)).is_ok()
    }
}

/// One thread's Argon2 memory, kept between hashes while work is queued.
struct Memory {
    blocks: Vec<Block>,
    stats: Arc<Stats>,
}

impl Memory {
    /// `n` blocks, reusing what this thread holds when it is the right size.
    fn blocks(&mut self, n: usize) -> &mut [Block] {
        if self.blocks.len() != n {
            if self.blocks.is_empty() {
                self.stats.holding.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.allocations.fetch_add(1, Ordering::Relaxed);
            self.blocks = Vec::new();
            self.blocks = vec![Block::default(); n];
        }
        &mut self.blocks
    }

    fn release(&mut self) {
        if !self.blocks.is_empty() {
            self.blocks = Vec::new();
            self.stats.holding.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Argon2Hasher {
    /// A hasher with up to `concurrency` hashing threads, at the OWASP parameters.
    ///
    /// # Errors
    /// Never in practice (the parameters are constants).
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let params = owasp_params()?;
        let (jobs, rx) = mpsc::channel::<Job>();
        let queue = Queue { jobs, rx: Arc::new(Mutex::new(rx)), stats: Arc::default(), threads: concurrency.max(1) };
        Ok(Self { queue: Arc::new(queue), params })
    }

    /// Starts a hashing thread if fewer than the most are running.
    fn ensure_thread(&self) -> anyhow::Result<()> {
        let q = &self.queue;
        if !q.stats.claim_thread(q.threads) {
            return Ok(());
        }
        let (rx, stats, most) = (q.rx.clone(), q.stats.clone(), q.threads);
        let started = std::thread::Builder::new().name("argon2".into()).spawn(move || work(&rx, &stats, most));
        if let Err(e) = started {
            // Another thread may still serve the queue; with none, the caller must hear of it.
            if q.stats.alive.fetch_sub(1, Ordering::SeqCst) == 1 {
                anyhow::bail!("starting a hashing thread: {e}");
            }
        }
        Ok(())
    }

    fn argon(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes synchronously with the crate's own allocation per hash (benchmarks and tests).
    ///
    /// # Errors
    /// When argon2 refuses the input.
    pub fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
        Ok(Self::argon(params.clone())
            .hash_password(password.as_bytes(), &new_salt()?)
            .map_err(|e| anyhow::anyhow!("hash: {e}"))?
            .to_string())
    }

    /// The parameters in use.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Runs `f` on a hashing thread, after the hashes queued before it.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Memory) -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The caller went away while queued (its client disconnected): skip the work.
            if tx.is_closed() {
                return;
            }
            memory.stats.computed.fetch_add(1, Ordering::Relaxed);
            match std::panic::catch_unwind(AssertUnwindSafe(|| f(memory))) {
                Ok(v) => {
                    let _ = tx.send(v);
                }
                // Dropping `tx` tells the caller; the thread lives on with fresh memory.
                Err(_) => memory.release(),
            }
        });
        // Counted before the thread check: a thread ending for want of work sees it (see `work`).
        self.queue.stats.queued.fetch_add(1, Ordering::SeqCst);
        if self.queue.jobs.send(job).is_err() {
            self.queue.stats.queued.fetch_sub(1, Ordering::SeqCst);
            anyhow::bail!("the hashing queue is closed");
        }
        self.ensure_thread()?;
        rx.await.map_err(|_| anyhow::anyhow!("a hash failed on its thread"))
    }

    /// Allocations, threads holding memory, hashes computed.
    #[cfg(test)]
    fn stats(&self) -> (usize, usize, usize) {
        let s = &self.queue.stats;
        (s.allocations.load(Ordering::Relaxed), s.holding.load(Ordering::Relaxed), s.computed.load(Ordering::Relaxed))
    }

    #[cfg(test)]
    fn threads_alive(&self) -> usize {
        self.queue.stats.alive.load(Ordering::SeqCst)
    }

    /// The stats once no thread holds memory (a thread frees it just after answering).
    #[cfg(test)]
    async fn settled(&self) -> (usize, usize, usize) {
        for _ in 0..500 {
            if self.stats().1 == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.stats()
    }
}

/// A hashing thread (its place in `stats.alive` already taken): takes jobs, freeing its
/// memory whenever the queue is empty, and ends after [`IDLE`] without one or when the hasher
/// is dropped.
fn work(rx: &Mutex<Receiver<Job>>, stats: &Arc<Stats>, most: usize) {
    let mut memory = Memory { blocks: Vec::new(), stats: stats.clone() };
    loop {
        if stats.queued.load(Ordering::SeqCst) == 0 {
            memory.release();
        }
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv_timeout(IDLE);
        match next {
            Ok(job) => {
                stats.queued.fetch_sub(1, Ordering::SeqCst);
                job(&mut memory);
            }
            Err(RecvTimeoutError::Timeout) => {
                // Leave; but a job counted before our leaving was seen may have found no room
                // for a thread of its own, so stay for it.
                stats.alive.fetch_sub(1, Ordering::SeqCst);
                if stats.queued.load(Ordering::SeqCst) == 0 || !stats.claim_thread(most) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                stats.alive.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

fn new_salt() -> anyhow::Result<SaltString> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))
}

/// A PHC string for `password` at `params`, computed in `memory`.
fn hash_in(memory: &mut Memory, params: &Params, password: &[u8]) -> anyhow::Result<String> {
    let salt = new_salt()?;
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut raw_salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let argon = Argon2Hasher::argon(params.clone());
    let output = Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
        Ok(argon.hash_password_into_with_memory(password, raw_salt, out, memory.blocks(params.block_count()))?)
    })
    .map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches `phc`, computed in `memory` with the algorithm, version and
/// parameters recorded in the hash itself (older hashes keep verifying after a change).
fn verify_in(memory: &mut Memory, password: &[u8], phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else { return false };
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        Ok(argon.hash_password_into_with_memory(password, raw_salt, out, memory.blocks(params.block_count()))?)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.run(move |memory| hash_in(memory, &params, password.as_bytes())).await?
    }

    async fn verify(&self, password: String, phc: String) -> anyhow::Result<bool> {
        self.run(move |memory| verify_in(memory, password.as_bytes(), &phc)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_carry_owasp_parameters() {
        let h = Argon2Hasher::new(2).unwrap();
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!h.verify("wrong".into(), phc).await.unwrap());
        assert!(!h.verify("x".into(), "not a phc".into()).await.unwrap());
        assert!(!h.verify("x".into(), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ".into()).await.unwrap());
    }

    #[tokio::test]
    async fn agrees_with_the_crates_own_hashing_both_ways() {
        let h = Argon2Hasher::new(1).unwrap();
        let stock = Argon2Hasher::hash_blocking(h.params(), "pässwörd ✓").unwrap();
        assert!(h.verify("pässwörd ✓".into(), stock).await.unwrap());
        let ours = h.hash("pässwörd ✓".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        use argon2::password_hash::PasswordVerifier as _;
        assert!(Argon2::default().verify_password("pässwörd ✓".as_bytes(), &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"passwor", &parsed).is_err());
    }

    #[tokio::test]
    async fn older_parameters_and_variants_still_verify() {
        let h = Argon2Hasher::new(1).unwrap();
        let small = Params::new(4096, 1, 1, Some(16)).unwrap();
        for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
            let salt = new_salt().unwrap();
            let phc = Argon2::new(algorithm, Version::V0x10, small.clone())
                .hash_password(b"old one", &salt)
                .unwrap()
                .to_string();
            assert!(h.verify("old one".into(), phc.clone()).await.unwrap(), "{phc}");
            assert!(!h.verify("old two".into(), phc).await.unwrap());
        }
        // And the OWASP size again after the small one (the memory is resized back).
        let phc = h.hash("now".into()).await.unwrap();
        assert!(h.verify("now".into(), phc).await.unwrap());
    }

    #[tokio::test]
    async fn memory_is_kept_while_hashes_queue_and_freed_when_they_stop() {
        let h = Argon2Hasher::new(1).unwrap();
        let phc = h.hash("queued".into()).await.unwrap();
        let (first, holding, _) = h.settled().await;
        assert_eq!(holding, 0, "idle after one hash: no memory held");
        // Five at once on one thread: one allocation serves all of them (two if the first
        // finished before the others were queued).
        let all = futures_join(&h, &phc, 5).await;
        assert!(all.iter().all(|ok| *ok));
        let (allocations, holding, _) = h.settled().await;
        assert!(allocations <= first + 2, "{} allocations for 5 queued hashes", allocations - first);
        assert_eq!(holding, 0, "idle again: no memory held");
    }

    async fn futures_join(h: &Argon2Hasher, phc: &str, n: usize) -> Vec<bool> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (h, phc) = (h.clone(), phc.to_string());
                tokio::spawn(async move { h.verify("queued".into(), phc).await.unwrap() })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn threads_start_with_work_and_end_when_idle_and_start_again() {
        let h = Argon2Hasher::new(2).unwrap();
        assert_eq!(h.threads_alive(), 0, "no thread before the first hash");
        let phc = h.hash("again".into()).await.unwrap();
        assert!((1..=2).contains(&h.threads_alive()));
        let mut waited = std::time::Duration::ZERO;
        while h.threads_alive() > 0 {
            assert!(waited < IDLE * 4, "threads still running {waited:?} after the last hash");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            waited += std::time::Duration::from_millis(50);
        }
        assert!(waited >= IDLE / 2, "a thread left after {waited:?}, before its idle time");
        assert_eq!(h.settled().await.1, 0);
        // Work after they left starts them again.
        assert!(h.verify("again".into(), phc).await.unwrap());
    }

    #[tokio::test]
    async fn a_caller_that_went_away_costs_no_hash() {
        let h = Argon2Hasher::new(1).unwrap();
        let phc = h.hash("x".into()).await.unwrap();
        // Queue one behind a slow one, then drop it before it runs.
        let slow = {
            let (h, phc) = (h.clone(), phc.clone());
            tokio::spawn(async move { h.verify("x".into(), phc).await.unwrap() })
        };
        let dropped = {
            let (h, phc) = (h.clone(), phc.clone());
            tokio::spawn(async move { h.verify("x".into(), phc).await })
        };
        // Both queued (the test runtime runs them up to their answer), the first one hashing.
        tokio::task::yield_now().await;
        dropped.abort();
        assert!(slow.await.unwrap());
        assert!(dropped.await.unwrap_err().is_cancelled());
        // Still answers afterwards; the dropped one was never computed.
        assert!(h.verify("x".into(), phc).await.unwrap());
        assert_eq!(h.stats().2, 3, "the hash, the slow verify and the last one");
    }
}
