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

/// Inserts a batch of records stamped with their own times in one statement.
pub(crate) async fn record_all(
    conn: &mut AsyncPgConnection,
    records: &[(AuditRecord, DateTime<Utc>)],
) -> QueryResult<()> {
    let rows: Vec<NewAuditRow<'_>> = records.iter().map(|(rec, at)| new_row(rec, *at)).collect();
    diesel::insert_into(audit_events::table).values(&rows).execute(conn).await?;
    Ok(())
}
