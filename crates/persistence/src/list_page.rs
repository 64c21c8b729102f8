//! One page of a list, read the same way by every list: the filter's total, then — unless the
//! page starts past the end — that page of rows in the given order (newest first: IDs are
//! ULIDs). The user list is the one list read otherwise, for speed at 100,000 users per tenant:
//! maintained counters, bookmarks for deep pages, one pass over the trigram index for a search
//! (`users.rs`).

/// `list_page!(conn, query, order, select, page)` answers `(total, rows)`. `query` builds the
/// filtered query and is written once but run twice (counted, then paged), so it is an
/// expression such as `filtered(reach, filter)` or `q()`. Storage errors return early as
/// [`scaikey_app::RepoError`]s.
macro_rules! list_page {
    ($conn:expr, $query:expr, $order:expr, $select:expr, $page:expr) => {{
        let page: scaikey_app::page::PageRequest = $page;
        let total: i64 = $query.count().get_result($conn).await.map_err(crate::error::db)?;
        let rows = if total <= page.offset() {
            Vec::new()
        } else {
            $query
                .order($order)
                .limit(i64::from(page.per_page()))
                .offset(page.offset())
                .select($select)
                .load($conn)
                .await
                .map_err(crate::error::db)?
        };
        (total, rows)
    }};
}

pub(crate) use list_page;
