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

/// Inserts `rec` on `conn` (normally inside the transaction of the change it records).
pub(crate) async fn record(conn: &mut AsyncPgConnection, rec: &AuditRecord, now: DateTime<Utc>) -> QueryResult<()> {
    // A fresh ULID from the event's time keeps audit IDs time-ordered like every other ID.
    let id = Uuid::from(ulid::Ulid::from_datetime(now.into()));
    let row = NewAuditRow {
        id,
        occurred_at: now,
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
    };
    diesel::insert_into(audit_events::table).values(&row).execute(conn).await?;
    Ok(())
}
