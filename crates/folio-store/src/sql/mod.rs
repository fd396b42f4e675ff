//! What the SQL stores share, written once and free of any driver: the naming of
//! identifiers and the read path.
//!
//! Each store runs its own I/O (SQLite on blocking threads, PostgreSQL asynchronously) and
//! fills in the details through small traits:
//! - [`clause::Where`] renders filters and keyset predicates over a [`clause::Dialect`]
//!   (placeholders, `TRUE`/`1`, clauses, row comparisons);
//! - [`Counting`] decides a page's total: the cache key, the count SQL, the cap;
//! - [`catalog`] lists collections with their counts and keeps the schema cache;
//! - [`project`] assembles a projected document from the JSON texts of its paths.

pub(crate) mod catalog;
pub(crate) mod clause;

use folio_engine::keyset::{self, Predicate, Side};
use folio_engine::projection::assemble;
use folio_engine::{Filter, Key, Scan, Sort};

use crate::totals::Totals;
use crate::{Count, StoreError, Total};

/// Quotes an identifier: the one place identifiers enter SQL (both dialects quote alike).
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table of one of folio's collections.
pub(crate) fn table(collection: &str) -> String {
    ident(&format!("folio_c_{collection}"))
}

/// The table of the versions that writes to a collection superseded: the collection's
/// columns, and the generations each version was current from (`since`) and until (`until`,
/// not included), with the time it was superseded (`until_at`, ms since the Unix epoch).
pub(crate) fn history_table(collection: &str) -> String {
    ident(&format!("folio_h_{collection}"))
}

/// How far the current rows of a snapshot page need reading: not past `reach_key`, the key of
/// the last row the page could take from the superseded versions (their reach-th in scan
/// order). Without it, a current side whose rows were nearly all written after the snapshot
/// (an import that replaced every record) would scan every one of them for each page.
pub(crate) fn snapshot_bound(sort: &Sort, reach_key: &Key, scan: Scan) -> Predicate {
    let side = match scan {
        Scan::Forward => Side::Through,
        Scan::Backward => Side::From,
    };
    keyset::predicate(sort, reach_key, side)
}

/// The text of a collection's generation ([`crate::Store::generation`]) from its generation
/// and the generation up to which its superseded versions were purged: a purge changes what a
/// snapshot page reads (a 410 where there was a page) without a write, so it changes the text
/// too, and pages kept by generation (read ahead, cached) are not answered after it.
pub(crate) fn generation_text(generation: i64, purged: i64) -> String {
    format!("{generation}.{purged}")
}

/// What a page of a collection reads: the moment it shows (`None` for a collection that
/// keeps no versions: one not written since versions were kept, `purged` 0), and the older
/// generation to read as a snapshot (`None`: the present, which includes a snapshot equal to
/// it). A moment older than the oldest still kept (`purged`: versions superseded at or before
/// it are gone), or newer than the present (the collection was replaced), has expired.
pub(crate) fn moment_to_read(
    query: &crate::Query,
    present: crate::Moment,
    purged: i64,
) -> Result<(Option<crate::Moment>, Option<i64>), StoreError> {
    match query.at {
        _ if purged == 0 => Ok((None, None)),
        None => Ok((Some(present), None)),
        Some(at) if at.generation == present.generation => Ok((Some(at), None)),
        Some(at) if at.generation < purged || at.generation > present.generation => {
            Err(StoreError::SnapshotExpired(query.schema.name.clone()))
        }
        Some(at) => Ok((Some(at), Some(at.generation))),
    }
}

/// The time before which superseded versions are purged, for a retention of `retention`.
pub(crate) fn purge_threshold(retention: std::time::Duration) -> i64 {
    now_ms().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX))
}

/// The query for the generation up to which a purge removes versions from the history table
/// `history` (quoted): that of the newest write superseded at or before the threshold given
/// as parameter `threshold` (`$1` or `?1`). One seek in the history's `(until_at, until)`
/// index, where `max(until) ... WHERE until_at <= ?` made both databases read the history
/// backwards from its newest version. Should a clock have gone back, it picks an older write
/// than `max` would: the purge keeps more, never less.
pub(crate) fn purge_cut_sql(history: &str, threshold: &str) -> String {
    format!("SELECT until FROM {history} WHERE until_at <= {threshold} ORDER BY until_at DESC, until DESC LIMIT 1")
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How a page's total is found: from the cache at the snapshot's generation, else by one
/// count query.
#[derive(Debug)]
pub(crate) struct Counting {
    /// The cache key: the canonical filter, and the cap when there is one.
    key: String,
    cap: Option<u64>,
}

impl Counting {
    /// What `count` asks for of a query with `filter`; `None` when it asks for no total.
    pub(crate) fn new(count: Count, filter: &Filter) -> Option<Counting> {
        let cap = match count {
            Count::Skip => return None,
            Count::Exact => None,
            Count::AtMost(cap) => Some(cap),
        };
        let key = match cap {
            Some(cap) => format!("{} at most {cap}", filter.canonical()),
            None => filter.canonical(),
        };
        Some(Counting { key, cap })
    }

    /// The total cached for `collection` at `generation`, if any.
    pub(crate) fn cached(&self, totals: &Totals, collection: &str, generation: &str) -> Option<Total> {
        totals.get(collection, &self.key, generation).map(|n| self.total(n))
    }

    /// The count query over `table` with the filter's `where_sql`:
    ///
    /// ```sql
    /// SELECT count(*) FROM t WHERE ...                                          -- exact
    /// SELECT count(*) FROM (SELECT 1 FROM t WHERE ... LIMIT cap + 1) AS capped  -- capped
    /// ```
    ///
    /// Counting stops one past the cap, so "more than the cap" is known without counting on.
    pub(crate) fn sql(&self, table: &str, where_sql: &str) -> String {
        match self.cap {
            Some(cap) => format!(
                "SELECT count(*) FROM (SELECT 1 FROM {table}{where_sql} LIMIT {}) AS capped",
                cap.saturating_add(1).min(i64::MAX as u64)
            ),
            None => format!("SELECT count(*) FROM {table}{where_sql}"),
        }
    }

    /// Remembers a count the query gave at `generation`, and returns the total it makes.
    pub(crate) fn counted(&self, totals: &Totals, collection: &str, generation: &str, n: i64) -> Total {
        let n = u64::try_from(n).unwrap_or(0);
        totals.put(collection, &self.key, generation.to_owned(), n);
        self.total(n)
    }

    fn total(&self, counted: u64) -> Total {
        match self.cap {
            Some(cap) if counted > cap => Total {
                count: cap,
                exact: false,
            },
            _ => Total {
                count: counted,
                exact: true,
            },
        }
    }
}

/// A projected document (JSON text) from the JSON text of each of `fields`, which `text`
/// reads by position (`None`: the document has nothing there); `bad` names a text that is
/// not JSON, which only a broken store can give.
pub(crate) fn project<T: AsRef<str>, E>(
    fields: &[String],
    mut text: impl FnMut(usize) -> Result<Option<T>, E>,
    bad: impl Fn(usize, serde_json::Error) -> E,
) -> Result<String, E> {
    let mut found = Vec::with_capacity(fields.len());
    for (i, path) in fields.iter().enumerate() {
        if let Some(text) = text(i)? {
            let value = serde_json::from_str(text.as_ref()).map_err(|e| bad(i, e))?;
            found.push((path.clone(), value));
        }
    }
    Ok(assemble(found).to_string())
}

#[cfg(test)]
mod tests;
