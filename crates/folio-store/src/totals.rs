//! Exact totals cached per (collection, filter), valid for one generation of the collection.
//!
//! Every write to a collection bumps its generation in the same transaction, so a cached
//! total is used only while the generation it was counted at is still current: writes
//! invalidate it without any message between processes.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many (collection, filter) totals are kept before the cache starts afresh.
const CAPACITY: usize = 10_000;

/// Cached totals.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    entries: Mutex<HashMap<(String, String), (String, u64)>>,
}

impl Totals {
    /// The cached total for a collection and canonical filter (and count mode) at
    /// `generation`, if any.
    pub(crate) fn get(&self, collection: &str, filter: &str, generation: &str) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&(collection.to_owned(), filter.to_owned())) {
            Some((g, total)) if g == generation => Some(*total),
            _ => None,
        }
    }

    /// Remembers a total counted at `generation`.
    pub(crate) fn put(&self, collection: &str, filter: &str, generation: String, total: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            // Simpler than LRU and good enough: counts are cheap to redo once.
            entries.clear();
        }
        entries.insert((collection.to_owned(), filter.to_owned()), (generation, total));
    }
}
