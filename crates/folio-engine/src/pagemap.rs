//! The page map of a result: the sort key of every K-th record, so that a page number at any
//! depth is a seek to the nearest mapped key and a skip of fewer than K records, not an
//! `OFFSET` that costs its depth.
//!
//! A map holds the keys of the records at positions `K - 1`, `2K - 1`, ... (0-based) of one
//! result (a collection, a filter and a sort) at one generation of the collection. It is only
//! right at that generation: whoever keeps one must drop it when the generation changes.

use crate::keyset::{self, Side};
use crate::page::{Key, Plan, Position, Scan, plan};
use crate::sort::Sort;

/// The sort keys of every `every`-th record of one result.
#[derive(Debug, Clone, PartialEq)]
pub struct PageMap {
    every: u64,
    keys: Vec<Key>,
    total: u64,
}

impl PageMap {
    /// A map of a result of `total` records whose record at position `(i + 1) * every - 1`
    /// has the key `keys[i]` (`every` is at least 1).
    pub fn new(every: u64, keys: Vec<Key>, total: u64) -> PageMap {
        PageMap {
            every: every.max(1),
            keys,
            total,
        }
    }

    /// The number of records of the result.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The number of keys the map holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the map holds no key (a result of fewer than `every` records).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The plan of the page of `size` records at `offset` of the result sorted by `sort`:
    /// after the nearest mapped key at or before `offset`, skipping fewer than `every`
    /// records. Its page assembles as an offset page does.
    pub fn plan(&self, sort: &Sort, offset: u64, size: u64) -> Plan {
        let block = (offset / self.every).min(self.keys.len() as u64);
        if block == 0 {
            return plan(sort, Position::Offset(offset), size);
        }
        let key = &self.keys[usize::try_from(block - 1).unwrap_or(usize::MAX)];
        Plan::seek(
            keyset::predicate(sort, key, Side::After),
            offset - block * self.every,
            offset,
            size,
        )
    }
}

impl Plan {
    /// A forward plan that skips `skip` records after a keyset `predicate`, standing for the
    /// page at `offset`.
    fn seek(predicate: crate::keyset::Predicate, skip: u64, offset: u64, size: u64) -> Plan {
        let mut plan = plan(&Sort::by_id(), Position::Offset(offset), size);
        plan.predicate = Some(predicate);
        plan.scan = Scan::Forward;
        plan.offset = skip;
        plan
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::Value;

    proptest! {
        /// Seeking to a mapped key and skipping lands on the record `OFFSET` would: the
        /// records after the key are those from its position on, and the skip is short.
        #[test]
        fn a_mapped_page_starts_where_the_offset_does(
            total in 0u64..500,
            every in 1u64..40,
            offset in 0u64..600,
            size in 0u64..30,
        ) {
            let ids: Vec<Key> = (0..total).map(|i| vec![Value::Int(i as i64 * 3)]).collect();
            let keys: Vec<Key> = ids.iter().skip(every as usize - 1).step_by(every as usize).cloned().collect();
            let map = PageMap::new(every, keys, total);
            let planned = map.plan(&Sort::by_id(), offset, size);
            if planned.predicate.is_some() && offset < total {
                prop_assert!(planned.offset < every, "a skip of {} with every {}", planned.offset, every);
            }
            // Where the plan starts: after the key it seeks to (the records whose id is
            // greater), then `offset` more.
            let after = match &planned.predicate {
                None => 0,
                Some(_) => ((offset / every).min(map.keys.len() as u64)) * every,
            };
            prop_assert_eq!(after + planned.offset, offset);
            prop_assert_eq!(planned.limit, size + 1);
        }
    }
}
