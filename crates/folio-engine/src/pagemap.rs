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

/// One part of a result, cut at mapped keys: its records follow `after` (the result's start
/// when `None`) up to and including `until` (the result's end when `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// The key of the record just before the part, if any.
    pub after: Option<Key>,
    /// The key of the part's last record, unless it runs to the result's end.
    pub until: Option<Key>,
    /// The number of records in the part, at the map's generation.
    pub records: u64,
}

impl PageMap {
    /// The result cut into at most `count` parts of about equal size (at least one, and no
    /// more than there are blocks of `every` records): consecutive, in sort order, together
    /// the whole result.
    pub fn partitions(&self, count: usize) -> Vec<Partition> {
        let every = self.every;
        // Blocks of `every` records, the last one possibly short; a last key that ends the
        // result leaves no block after it.
        let mapped = self.keys.len();
        let blocks = if self.total == mapped as u64 * every {
            mapped
        } else {
            mapped + 1
        };
        let parts = count.min(blocks).max(1);
        let cut = |i: usize| i * blocks / parts;
        (0..parts)
            .map(|i| {
                let (from, to) = (cut(i), cut(i + 1));
                let start = from as u64 * every;
                let end = if i + 1 == parts {
                    self.total
                } else {
                    (to as u64 * every).min(self.total)
                };
                Partition {
                    after: from.checked_sub(1).map(|k| self.keys[k].clone()),
                    until: (i + 1 < parts).then(|| self.keys[to - 1].clone()),
                    records: end.saturating_sub(start),
                }
            })
            .collect()
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

        /// Partitions are consecutive, end where the next begins, count what they hold, and
        /// together are the whole result.
        #[test]
        fn partitions_cover_the_result_once_in_order(
            total in 0u64..500,
            every in 1u64..40,
            count in 1usize..20,
        ) {
            let ids: Vec<Key> = (0..total).map(|i| vec![Value::Int(i as i64)]).collect();
            let keys: Vec<Key> = ids.iter().skip(every as usize - 1).step_by(every as usize).cloned().collect();
            let map = PageMap::new(every, keys, total);
            let parts = map.partitions(count);
            prop_assert!(!parts.is_empty() && parts.len() <= count);
            prop_assert!(parts.len() == count || parts.len() as u64 == total.div_ceil(every).max(1));
            let position = |key: &Option<Key>| key.as_ref().map(|k| match k[0] { Value::Int(i) => i as u64, _ => unreachable!() });
            let mut next_start = 0;
            for (i, part) in parts.iter().enumerate() {
                let start = position(&part.after).map_or(0, |p| p + 1);
                let end = position(&part.until).map_or(total, |p| p + 1);
                prop_assert_eq!(start, next_start, "part {} starts where the one before ended", i);
                prop_assert_eq!(part.records, end - start);
                prop_assert_eq!(part.until.is_none(), i + 1 == parts.len());
                next_start = end;
            }
            prop_assert_eq!(next_start, total);
            // About equal: no part holds more than one block over the smallest.
            let sizes: Vec<u64> = parts.iter().map(|p| p.records).collect();
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            prop_assert!(max - min <= 2 * every, "{:?}", sizes);
        }
    }
}
