//! Owner-level token cutoffs on PostgreSQL: written inside the transaction of the change that
//! cuts (the rule of what the new state is stays the domain's `token_cutoff::apply`), and read
//! by every process's poller.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::CutoffRepository;
use scaikey_domain::token_cutoff::{self, Cut, CutState, TokenOwner};

use crate::db::Database;
use crate::error::db;
use crate::schema::token_cutoffs as tc;

/// Applies `cut` to `owner` at `now` on `c` (normally inside the change's transaction).
pub(crate) async fn record(
    c: &mut AsyncPgConnection,
    owner: TokenOwner,
    cut: Cut,
    now: DateTime<Utc>,
) -> QueryResult<CutState> {
    let key = owner.key();
    let current: Option<(DateTime<Utc>, bool)> =
        tc::table.find(&key).select((tc::cutoff_at, tc::blocked)).for_update().first(c).await.optional()?;
    let next = token_cutoff::apply(current.map(|(cutoff, blocked)| CutState { cutoff, blocked }), cut, now);
    diesel::insert_into(tc::table)
        .values((
            tc::owner.eq(&key),
            tc::cutoff_at.eq(next.cutoff),
            tc::blocked.eq(next.blocked),
            tc::changed_at.eq(now),
        ))
        .on_conflict(tc::owner)
        .do_update()
        .set((tc::cutoff_at.eq(next.cutoff), tc::blocked.eq(next.blocked), tc::changed_at.eq(now)))
        .execute(c)
        .await?;
    Ok(next)
}

/// Token cutoffs in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgCutoffs(pub(crate) Database);

#[async_trait]
impl CutoffRepository for PgCutoffs {
    async fn changed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(TokenOwner, CutState, DateTime<Utc>)>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(String, DateTime<Utc>, bool, DateTime<Utc>)> = tc::table
            .filter(tc::changed_at.ge(since).or(tc::blocked))
            .select((tc::owner, tc::cutoff_at, tc::blocked, tc::changed_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(owner, cutoff, blocked, changed)| {
                TokenOwner::parse(&owner).map(|o| (o, CutState { cutoff, blocked }, changed))
            })
            .collect())
    }
}
