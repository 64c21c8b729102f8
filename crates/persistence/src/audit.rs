//! Writes audit records inside the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_domain::audit::AuditRecord;
use uuid::Uuid;

use crate::schema::audit_events;
use crate::uuid_ids::AsUuid;

#[derive(Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg))]
struct NewAuditRow<'a> {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_type: &'a str,
    actor_id: Option<&'a str>,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    result: &'a str,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    tenant_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    details: &'a serde_json::Value,
}

/// A ULID from the event's time, so audit IDs are time-ordered like every other ID. A monotonic
/// generator makes an ID made later in this process sort later even within one millisecond (or
/// when a batched event carries a slightly earlier time), so events list in the order recorded.
fn event_id(at: DateTime<Utc>) -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());
    let mut g = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    g.generate_from_datetime(at.into()).unwrap_or_else(|_| ulid::Ulid::from_datetime(at.into()))
}

fn new_row(rec: &AuditRecord, at: DateTime<Utc>) -> NewAuditRow<'_> {
    NewAuditRow {
        id: Uuid::from(event_id(at)),
        occurred_at: at,
        actor_type: rec.actor_type.as_str(),
        actor_id: rec.actor_id.as_deref(),
        action: rec.action,
        resource_type: rec.resource_type,
        resource_id: rec.resource_id.as_deref(),
        result: rec.result.as_str(),
        ip: rec.meta.ip.as_deref(),
        user_agent: rec.meta.user_agent.as_deref(),
        tenant_id: rec.tenant_id.map(AsUuid::uuid),
        partner_id: rec.partner_id.map(AsUuid::uuid),
        details: &rec.details,
    }
}

/// Inserts `rec` on `conn` (normally inside the transaction of the change it records).
pub(crate) async fn record(conn: &mut AsyncPgConnection, rec: &AuditRecord, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table).values(&new_row(rec, now)).execute(conn).await?;
    Ok(())
}

/// `INSERT INTO audit_events (…) VALUES (…)` with the record's values as parameters `$first`
/// onwards, in the order [`bind_row`] binds them: for a statement that writes the record beside
/// the change it records (a data-modifying `WITH`), atomic without a transaction.
pub(crate) fn insert_sql(first: usize) -> String {
    format!(
        "INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, \
         result, ip, user_agent, tenant_id, partner_id, details) VALUES ({})",
        crate::prepared::placeholders(first, 13)
    )
}

/// Binds `rec`'s row, stamped `at`, as the next 13 parameters of `q` (see [`insert_sql`]).
pub(crate) fn bind_row<'a>(
    q: diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>,
    rec: &'a AuditRecord,
    at: DateTime<Utc>,
) -> diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
    use diesel::sql_types::{Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    let row = new_row(rec, at);
    q.bind::<SqlUuid, _>(row.id)
        .bind::<Timestamptz, _>(row.occurred_at)
        .bind::<Text, _>(row.actor_type)
        .bind::<Nullable<Text>, _>(row.actor_id)
        .bind::<Text, _>(row.action)
        .bind::<Text, _>(row.resource_type)
        .bind::<Nullable<Text>, _>(row.resource_id)
        .bind::<Text, _>(row.result)
        .bind::<Nullable<Text>, _>(row.ip)
        .bind::<Nullable<Text>, _>(row.user_agent)
        .bind::<Nullable<SqlUuid>, _>(row.tenant_id)
        .bind::<Nullable<SqlUuid>, _>(row.partner_id)
        .bind::<Jsonb, _>(row.details)
}

/// Inserts a batch of records stamped with their own times in one statement.
pub(crate) async fn record_all(
    conn: &mut AsyncPgConnection,
    records: &[(AuditRecord, DateTime<Utc>)],
) -> QueryResult<()> {
    let rows: Vec<NewAuditRow<'_>> = records.iter().map(|(rec, at)| new_row(rec, *at)).collect();
    diesel::insert_into(audit_events::table).values(&rows).execute(conn).await?;
    Ok(())
}

/// What an audited write reports: whether it changed anything, and so whether its audit record
/// applies (a row updated or deleted, a record returned).
pub(crate) trait Changed {
    /// `true` when the write changed something.
    fn changed(&self) -> bool;
}

impl Changed for bool {
    fn changed(&self) -> bool {
        *self
    }
}

impl<T> Changed for Option<T> {
    fn changed(&self) -> bool {
        self.is_some()
    }
}

/// The result of a write that changes something whenever it succeeds (an insert, or a write whose
/// audit applies once its statements ran), so its audit record is always written.
pub(crate) struct Written<T>(pub(crate) T);

impl<T> Changed for Written<T> {
    fn changed(&self) -> bool {
        true
    }
}

/// The statements of an audited write, given the transaction's connection (the same bound as
/// diesel-async's own transactions, named so [`audited`] can state it).
pub(crate) trait WriteFn<'r, R>: FnOnce(&'r mut AsyncPgConnection) -> <Self as WriteFn<'r, R>>::Fut {
    /// The future the statements make.
    type Fut: Future<Output = Result<R, crate::error::TxError>> + Send;
}

impl<'r, R, F, Fut> WriteFn<'r, R> for F
where
    F: FnOnce(&'r mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = Result<R, crate::error::TxError>> + Send,
{
    type Fut = Fut;
}

/// The one shape of an audited write: `write` runs in a transaction, and `audit` is recorded
/// in the same transaction when the write [`Changed`] something (nothing is recorded for a
/// write that found nothing to change). `audit` is `None` only where the caller decided the
/// write is no event (a returning person's federated sign-in). An error rolls back both.
pub(crate) async fn audited<'a, R, F>(
    db: &crate::db::Database,
    audit: impl Into<Option<&'a AuditRecord>>,
    now: DateTime<Utc>,
    write: F,
) -> Result<R, scaikey_app::RepoError>
where
    R: Changed + Send,
    // The `AsyncFnOnce` bound lets the compiler infer a closure generic over the connection's
    // lifetime; `WriteFn` adds that its future is `Send` (diesel-async's trick).
    F: for<'r> AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<R, crate::error::TxError>
        + for<'r> WriteFn<'r, R>
        + Send,
{
    use diesel_async::AsyncConnection;
    let audit: Option<&AuditRecord> = audit.into();
    let mut conn = db.conn().await?;
    let out = conn
        .transaction::<_, crate::error::TxError, _>(async move |c| {
            let r = write(c).await?;
            if let Some(audit) = audit.filter(|_| r.changed()) {
                record(c, audit, now).await?;
            }
            Ok(r)
        })
        .await?;
    Ok(out)
}
