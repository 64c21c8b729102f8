//! `AuditRepository` on PostgreSQL (reads, batch writes, dashboard counts) and the batched
//! `AuditSink` writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{AuditFilter, AuditRepository, AuditSink, HourlyCount, Stats};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::audit::{ActorType, AuditEvent, AuditRecord, AuditResult, RequestMeta};
use scaikey_domain::id::{AuditEventId, PartnerId, TenantId};
use scaikey_domain::registration::RegistrationStatus;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::db::Database;
use crate::error::db;
use crate::list_page::list_page;
use crate::schema::audit_events as ae;
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{AuditRows, visible};
use scaikey_domain::audit::action;

/// Audit events in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAudit(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = ae, check_for_backend(diesel::pg::Pg))]
struct EventRow {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_type: String,
    actor_id: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    result: String,
    ip: Option<String>,
    user_agent: Option<String>,
    tenant_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    details: serde_json::Value,
}

fn to_event(r: EventRow) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::from_uuid(r.id),
        occurred_at: r.occurred_at,
        actor_type: ActorType::parse(&r.actor_type).unwrap_or(ActorType::Anonymous),
        actor_id: r.actor_id,
        action: r.action,
        resource_type: r.resource_type,
        resource_id: r.resource_id,
        result: AuditResult::parse(&r.result).unwrap_or(AuditResult::Failure),
        ip: r.ip,
        user_agent: r.user_agent,
        tenant_id: r.tenant_id.map(TenantId::from_uuid),
        partner_id: r.partner_id.map(PartnerId::from_uuid),
        details: r.details,
    }
}

fn filtered(reach: Reach, f: &AuditFilter) -> ae::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = ae::table.into_boxed();
    if let Some(c) = visible::<_, AuditRows>(reach, Listing::Owned) {
        q = q.filter(c);
    }
    if let Some(a) = &f.action {
        q = q.filter(ae::action.eq(a.clone()));
    }
    if let Some(a) = &f.actor_id {
        q = q.filter(ae::actor_id.eq(a.clone()));
    }
    if let Some(r) = &f.resource_type {
        q = q.filter(ae::resource_type.eq(r.clone()));
    }
    if let Some(r) = &f.resource_id {
        q = q.filter(ae::resource_id.eq(r.clone()));
    }
    if let Some(r) = f.result {
        q = q.filter(ae::result.eq(r.as_str()));
    }
    if let Some(t) = f.tenant_id {
        q = q.filter(ae::tenant_id.eq(t.uuid()));
    }
    if let Some(s) = f.since {
        q = q.filter(ae::occurred_at.ge(s));
    }
    if let Some(u) = f.until {
        q = q.filter(ae::occurred_at.lt(u));
    }
    q
}

#[derive(QueryableByName)]
struct RelTuples {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text)]
    plan: String,
}

/// The planner's row estimate for `select` (no rows are read).
async fn estimate(c: &mut AsyncPgConnection, select: &str, now: DateTime<Utc>) -> QueryResult<i64> {
    let p: Plan = diesel::sql_query(format!("EXPLAIN (FORMAT JSON) {select}"))
        .bind::<Timestamptz, _>(now)
        .get_result(c)
        .await
        .or_else(|_| -> QueryResult<Plan> { Ok(Plan { plan: "[]".into() }) })?;
    let v: serde_json::Value = serde_json::from_str(&p.plan).unwrap_or_default();
    Ok(v[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0) as i64)
}

#[async_trait]
impl AuditRepository for PgAudit {
    async fn list(&self, reach: Reach, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows): (i64, Vec<EventRow>) =
            list_page!(&mut conn, filtered(reach, filter), ae::id.desc(), EventRow::as_select(), page);
        Ok(Page { items: rows.into_iter().map(to_event).collect(), request: page, total })
    }

    async fn hourly(&self, reach: Reach, since: DateTime<Utc>) -> Result<Vec<HourlyCount>, RepoError> {
        use diesel::dsl::sql;
        // Audit IDs are ULIDs stored as UUIDs: the smallest ID of `since` bounds the index scan.
        let millis = u64::try_from(since.timestamp_millis()).unwrap_or(0);
        let lower = uuid::Uuid::from(ulid::Ulid::from_parts(millis, 0));
        // A token grant's row counts the tokens it issued (`details.tokens`, batched grants).
        let per_hour = sql::<(Timestamptz, Text, BigInt)>(
            "date_trunc('hour', occurred_at), action, \
             sum(CASE WHEN action = 'auth.token' THEN COALESCE((details->>'tokens')::bigint, 1) ELSE 1 END)::bigint",
        );
        let within: crate::visible::Cond<ae::table> = visible::<_, AuditRows>(reach, Listing::Owned)
            .unwrap_or_else(|| Box::new(sql::<diesel::sql_types::Bool>("TRUE")));
        let mut conn = self.0.conn().await?;
        let rows: Vec<(DateTime<Utc>, String, i64)> = ae::table
            .filter(ae::action.eq_any([action::AUTH_LOGIN, action::AUTH_TOKEN]))
            .filter(ae::result.eq(AuditResult::Success.as_str()))
            .filter(ae::id.ge(lower).and(ae::occurred_at.ge(since)))
            .filter(within)
            .group_by(sql::<(Timestamptz, Text)>("1, 2"))
            .select(per_hour)
            .load(&mut conn)
            .await
            .map_err(db)?;
        let mut out: Vec<HourlyCount> = Vec::new();
        for (hour, act, n) in rows {
            let i = match out.iter().position(|c| c.hour == hour) {
                Some(i) => i,
                None => {
                    out.push(HourlyCount { hour, sign_ins: 0, tokens: 0 });
                    out.len() - 1
                }
            };
            if act == action::AUTH_LOGIN {
                out[i].sign_ins += n;
            } else {
                out[i].tokens += n;
            }
        }
        out.sort_by_key(|c| c.hour);
        Ok(out)
    }

    async fn get(&self, id: AuditEventId) -> Result<Option<AuditEvent>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<EventRow> = ae::table
            .filter(ae::id.eq(id.uuid()))
            .select(EventRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(to_event))
    }

    async fn insert_batch(&self, records: &[(AuditRecord, DateTime<Utc>)]) -> Result<(), RepoError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.0.conn().await?;
        crate::audit::record_all(&mut conn, records).await.map_err(db)
    }

    async fn stats(&self, reach: Reach, now: DateTime<Utc>, exact_below: i64) -> Result<Stats, RepoError> {
        let mut conn = self.0.conn().await?;
        if reach == Reach::Platform {
            // Platform-wide: tables past `exact_below` rows are estimated by the planner.
            let big: RelTuples = diesel::sql_query(
                "SELECT coalesce(max(reltuples), 0)::bigint AS n FROM pg_class \
                 WHERE relname IN ('users', 'sessions', 'applications', 'tenants')",
            )
            .get_result(&mut conn)
            .await
            .map_err(db)?;
            if big.n >= exact_below {
                let e = |sql: &'static str| sql;
                let mut s = Stats { estimated: true, ..Stats::default() };
                s.partners = estimate(
                    &mut conn,
                    e("SELECT 1 FROM partners WHERE deleted_at IS NULL AND $1::timestamptz IS NOT NULL"),
                    now,
                )
                .await
                .map_err(db)?;
                s.tenants = estimate(
                    &mut conn,
                    e("SELECT 1 FROM tenants WHERE deleted_at IS NULL AND $1::timestamptz IS NOT NULL"),
                    now,
                )
                .await
                .map_err(db)?;
                s.users = estimate(
                    &mut conn,
                    e("SELECT 1 FROM users WHERE deleted_at IS NULL AND $1::timestamptz IS NOT NULL"),
                    now,
                )
                .await
                .map_err(db)?;
                s.applications = estimate(
                    &mut conn,
                    e("SELECT 1 FROM applications WHERE deleted_at IS NULL AND $1::timestamptz IS NOT NULL"),
                    now,
                )
                .await
                .map_err(db)?;
                s.active_sessions =
                    estimate(&mut conn, e("SELECT 1 FROM sessions WHERE revoked_at IS NULL AND expires_at > $1"), now)
                        .await
                        .map_err(db)?;
                s.pending_registration_requests = estimate(
                    &mut conn,
                    e("SELECT 1 FROM registration_requests WHERE status = 'PENDING' AND expires_at > $1"),
                    now,
                )
                .await
                .map_err(db)?;
                return Ok(s);
            }
        }
        // Exact counts of what the reach's lists show (the domain's list rule, as every list).
        use crate::schema::{applications as a, partners, registration_requests as rr, sessions as s, tenants, users};
        use crate::visible::{ApplicationRows, RegistrationRows, SessionRows, TenantRows, UserRows};
        // One read-only snapshot, so the counts agree with each other.
        let counts = conn
            .build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, diesel::result::Error, _>(async |c| {
                let partners = if reach == Reach::Platform {
                    partners::table.filter(partners::deleted_at.is_null()).count().get_result(c).await?
                } else {
                    0
                };
                let mut q = tenants::table.filter(tenants::deleted_at.is_null()).into_boxed();
                if let Some(w) = visible::<_, TenantRows>(reach, Listing::TenantRecords) {
                    q = q.filter(w);
                }
                let tenants: i64 = q.count().get_result(c).await?;
                let mut q = users::table.filter(users::deleted_at.is_null()).into_boxed();
                if let Some(w) = visible::<_, UserRows>(reach, Listing::Owned) {
                    q = q.filter(w);
                }
                let users: i64 = q.count().get_result(c).await?;
                let mut q = a::table.filter(a::deleted_at.is_null()).into_boxed();
                if let Some(w) = visible::<_, ApplicationRows>(reach, Listing::Applications) {
                    q = q.filter(w);
                }
                let applications: i64 = q.count().get_result(c).await?;
                let mut q = s::table.filter(s::revoked_at.is_null().and(s::expires_at.gt(now))).into_boxed();
                if let Some(w) = visible::<_, SessionRows>(reach, Listing::Owned) {
                    q = q.filter(w);
                }
                let active_sessions: i64 = q.count().get_result(c).await?;
                let pending = RegistrationStatus::Pending.as_str();
                let mut q = rr::table.filter(rr::status.eq(pending).and(rr::expires_at.gt(now))).into_boxed();
                if let Some(w) = visible::<_, RegistrationRows>(reach, Listing::RegistrationRequests) {
                    q = q.filter(w);
                }
                let pending_registration_requests: i64 = q.count().get_result(c).await?;
                Ok(Stats {
                    partners,
                    tenants,
                    users,
                    applications,
                    active_sessions,
                    pending_registration_requests,
                    estimated: false,
                })
            })
            .await
            .map_err(db)?;
        Ok(counts)
    }
}

enum Msg {
    Record(Box<(AuditRecord, DateTime<Utc>)>),
    Flush(oneshot::Sender<()>),
}

/// Most records written per batch, in one INSERT (13 parameters a row: far below PostgreSQL's
/// 65,535).
const BATCH: usize = 500;

/// Records the queue holds at most; beyond it, records are dropped and counted.
pub const QUEUE: usize = 50_000;

/// How long a batch is retried while the database is unreachable before it is given up (and
/// counted as dropped).
const OUTAGE_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// Writes a batch: retried with backoff while the database is unreachable, and row by row when
/// the batch itself is refused, so one record storage cannot take never costs its neighbours.
/// Answers how many records were lost.
async fn write_batch(repo: &dyn AuditRepository, batch: &[(AuditRecord, DateTime<Utc>)]) -> u64 {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match repo.insert_batch(batch).await {
            Ok(()) => return 0,
            Err(RepoError::Unavailable(e)) if started.elapsed() < OUTAGE_RETRY => {
                tracing::warn!(error = %e, queued = batch.len(), "audit events wait for the database");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
            }
            Err(RepoError::Unavailable(e)) => {
                tracing::error!(error = %e, lost = batch.len(), "database unreachable; audit events given up");
                return batch.len() as u64;
            }
            Err(e) if batch.len() > 1 => {
                tracing::warn!(error = %e, "an audit batch was refused; writing its records one by one");
                let mut lost = 0;
                for one in batch {
                    if let Err(e) = repo.insert_batch(std::slice::from_ref(one)).await {
                        tracing::error!(error = %e, action = one.0.action, "an audit event could not be stored");
                        lost += 1;
                    }
                }
                return lost;
            }
            Err(e) => {
                tracing::error!(error = %e, action = batch.first().map(|r| r.0.action), "an audit event could not be stored");
                return batch.len() as u64;
            }
        }
    }
}

/// The batched `AuditSink`: `submit` never waits; a background task writes what has queued up,
/// in batches. [`AuditWriter::flush`] writes everything queued so far (call it on graceful
/// shutdown). A crash loses what is still queued (at most a few milliseconds of events under
/// normal load); during a database outage the batch in hand is retried for up to 30 s while new
/// records queue; a batch the database refuses is written row by row (see `write_batch`). Every
/// record lost is counted and written as `audit.dropped`.
///
/// Memory is bounded: when [`QUEUE`] records wait (a flood of refused requests faster than the
/// database takes them, or an outage), further records are dropped, and the loss itself is
/// written as an `audit.dropped` event with the count once the queue drains.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Msg>,
    dropped: Arc<AtomicU64>,
    dropped_total: Arc<AtomicU64>,
}

impl AuditWriter {
    /// Records waiting in the queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        QUEUE.saturating_sub(self.tx.capacity())
    }

    /// Records dropped since the process started (queue full or refused by the database).
    #[must_use]
    pub fn dropped_total(&self) -> u64 {
        AtomicU64::load(&self.dropped_total, Ordering::Relaxed)
    }

    /// Records dropped so far and not yet reported by an `audit.dropped` event.
    #[must_use]
    pub fn pending_drops(&self) -> u64 {
        AtomicU64::load(&self.dropped, Ordering::Relaxed)
    }

    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(repo: Arc<dyn AuditRepository>) -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let dropped_total = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let lost_total = dropped_total.clone();
        tokio::spawn(async move {
            let mut batch: Vec<(AuditRecord, DateTime<Utc>)> = Vec::with_capacity(BATCH);
            while let Some(first) = rx.recv().await {
                let mut waiters = Vec::new();
                let mut next = Some(first);
                while let Some(msg) = next.take() {
                    match msg {
                        Msg::Record(r) => batch.push(*r),
                        Msg::Flush(done) => waiters.push(done),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                let n = lost.swap(0, Ordering::Relaxed);
                if n > 0 {
                    tracing::error!(dropped = n, "audit queue was full; events were dropped");
                    let record = AuditRecord::anonymous(
                        &RequestMeta::default(),
                        "audit.dropped",
                        "audit_event",
                        AuditResult::Failure,
                    )
                    .details(serde_json::json!({"dropped": n}));
                    batch.push((record, Utc::now()));
                }
                let lost_now = write_batch(repo.as_ref(), &batch).await;
                if lost_now > 0 {
                    lost.fetch_add(lost_now, Ordering::Relaxed);
                    lost_total.fetch_add(lost_now, Ordering::Relaxed);
                }
                batch.clear();
                for w in waiters {
                    let _ = w.send(());
                }
            }
        });
        AuditWriter { tx, dropped, dropped_total }
    }

    /// Waits until everything submitted before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

impl AuditSink for AuditWriter {
    fn submit(&self, record: AuditRecord, at: DateTime<Utc>) {
        match self.tx.try_send(Msg::Record(Box::new((record, at)))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                self.dropped_total.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => tracing::error!("audit writer stopped; event lost"),
        }
    }
}
