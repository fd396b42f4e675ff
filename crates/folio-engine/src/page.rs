//! Page requests, the plan a store runs for them, and the page assembled from its rows.
//!
//! The engine is sans-I/O: [`plan`] turns a request into a [`Plan`] (predicate, scan
//! direction, limit, offset), the store runs it and hands back rows, and [`Plan::assemble`]
//! turns those rows into a [`Page`] with the keys of its neighbours.

use crate::keyset::{self, Predicate, Side};
use crate::sort::Sort;
use crate::value::Value;

/// The values of the sort fields of one record, the id last: a position between records.
pub type Key = Vec<Value>;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    /// The first page.
    Start,
    /// The last page.
    End,
    /// The records strictly after this key.
    After(Key),
    /// The records strictly before this key.
    Before(Key),
    /// The records from this offset on (page numbers are offsets).
    Offset(u64),
}

/// How a store must scan the sorted records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// In sort order.
    Forward,
    /// In reverse sort order; [`Plan::assemble`] puts the rows back in sort order.
    Backward,
}

/// What a store must run to produce one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The keyset predicate to add to the filter, if any.
    pub predicate: Option<Predicate>,
    /// The scan direction.
    pub scan: Scan,
    /// Rows to fetch: one more than the page size, to learn whether more records follow
    /// without counting them.
    pub limit: u64,
    /// Rows to skip first (offset positions only).
    pub offset: u64,
    size: u64,
    position: Position,
    /// The key of the last record a bounded walk may reach (see [`Plan::until`]).
    until: Option<Key>,
}

/// One page of records, in sort order, with the positions of its neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<R> {
    /// The records.
    pub records: Vec<R>,
    /// The key after which the next page starts, when more records follow.
    pub next: Option<Key>,
    /// The key before which the previous page ends, when records may precede.
    pub prev: Option<Key>,
    /// Whether more records follow this page (even when `next` cannot be given, as for a
    /// page of size 0).
    pub has_more: bool,
}

/// Plans the page of `size` records at `position` in `sort`.
pub fn plan(sort: &Sort, position: Position, size: u64) -> Plan {
    let (predicate, scan, offset) = match &position {
        Position::Start => (None, Scan::Forward, 0),
        Position::End => (None, Scan::Backward, 0),
        Position::After(key) => (Some(keyset::predicate(sort, key, Side::After)), Scan::Forward, 0),
        Position::Before(key) => (Some(keyset::predicate(sort, key, Side::Before)), Scan::Backward, 0),
        Position::Offset(n) => (None, Scan::Forward, *n),
    };
    Plan {
        predicate,
        scan,
        limit: size.saturating_add(1),
        offset,
        size,
        position,
        until: None,
    }
}

impl Plan {
    /// This plan, bounded to end at the record with key `until` (inclusive): the page of a
    /// walk through one partition of a result. Its rows are those of the unbounded plan up to
    /// that record, and its page has no `next` past it; an end position is the partition's
    /// last page. An empty `until` is the last partition, which runs to the result's end.
    pub fn until(mut self, sort: &Sort, until: Key) -> Plan {
        if !until.is_empty() {
            let bound = keyset::predicate(sort, &until, Side::Through);
            self.predicate = Some(match self.predicate.take() {
                None => bound,
                Some(p) => Predicate::And(vec![p, bound]),
            });
        }
        self.until = Some(until);
        self
    }

    /// The plan of the page a client walking forward asks for next, from `next` (this page's
    /// next key), with the same bound: defined for plans that walk forward from the start or
    /// from a key, which cursor walks do; `None` for others (offsets, backward pages).
    pub fn following(&self, sort: &Sort, next: &Key) -> Option<Plan> {
        matches!(self.position, Position::Start | Position::After(_)).then(|| {
            let following = plan(sort, Position::After(next.clone()), self.size);
            match &self.until {
                None => following,
                Some(until) => following.until(sort, until.clone()),
            }
        })
    }

    /// Turns the rows the store fetched for this plan (in scan order) into a page.
    ///
    /// `key_of` gives the key of a row. Neighbour keys follow Datasette's rule: fetch one row
    /// more than the page size; the extra row only says that more follow, and the cursor comes
    /// from the last row returned.
    pub fn assemble<R>(&self, mut rows: Vec<R>, key_of: impl Fn(&R) -> Key) -> Page<R> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let beyond = rows.len() > size;
        rows.truncate(size);
        if self.scan == Scan::Backward {
            rows.reverse();
        }
        let (more_after, more_before) = match self.position {
            Position::Start => (beyond, false),
            Position::End => (false, beyond),
            Position::After(_) => (beyond, true),
            Position::Before(_) => (true, beyond),
            Position::Offset(n) => (beyond, n > 0),
        };
        // A page of size 0 has no records to take a key from: it reports counts and whether
        // more follow, but never a `next` key (a client following it would never advance).
        let next = if more_after { rows.last().map(&key_of) } else { None };
        let prev = if more_before { rows.first().map(&key_of) } else { None };
        Page {
            has_more: more_after,
            records: rows,
            next,
            prev,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_walks_follow_on_from_their_next_key() {
        let sort = Sort::by_id();
        let next = vec![Value::Int(7)];
        let expected = plan(&sort, Position::After(next.clone()), 25);
        for position in [Position::Start, Position::After(vec![Value::Int(3)])] {
            assert_eq!(
                plan(&sort, position, 25).following(&sort, &next),
                Some(expected.clone())
            );
        }
        for position in [
            Position::End,
            Position::Before(vec![Value::Int(3)]),
            Position::Offset(50),
        ] {
            assert_eq!(plan(&sort, position, 25).following(&sort, &next), None);
        }
    }
}
