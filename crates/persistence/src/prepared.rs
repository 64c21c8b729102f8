//! Raw SQL that PostgreSQL may keep prepared. diesel treats every `sql_query` as unsafe to
//! cache, because its text may embed values, so each call is parsed and planned anew (a fifth of
//! the database's CPU on the refresh grant's rotation). A statement whose text is fixed at its
//! call site is as safe to cache as one built with the DSL: [`Prepared`] says so, and the
//! connection's statement cache then keys it by its text.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// `$first, $first+1, …` for `n` parameters: the values of a row a statement writes beside
/// others (see `audit::insert_sql`, `grants::refresh_columns`).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `sql_query(..)` with binds, cached per connection. Only for statements whose text is the
/// same on every call (values go in binds): each distinct text stays in the cache for the
/// connection's life.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    // No type identifies the statement; the cache falls back to its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}
