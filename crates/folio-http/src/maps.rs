//! Page maps ([`PageMap`]): built in the background the first time a page number past the
//! offset window is asked for, kept while the collection's generation holds.
//!
//! A map is built by one walk of the result through [`Store::page`] (pages of
//! [`WALK_PAGE`] records, no count), keeping the key of every K-th record
//! ([`crate::HttpConfig::page_map_every`], 1,000 by default: for 1,000,000 records, 1,000
//! keys). The walk is bounded: it stops (and no map is kept) past
//! [`MAX_KEYS`] keys, that is `MAX_KEYS * K` records, and when the collection changes under
//! it. At most [`MAX_MAPS`] maps, and [`MAX_KEPT_KEYS`] keys in all, are kept; past either the
//! cache starts afresh (a key is a sort key: for the demo's sorts, about 100 bytes).
//!
//! Every server builds its own: a map is cheap to build and small, and keeping it in memory
//! needs no table, no write and no coordination between servers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use folio_engine::page::plan;
use folio_engine::{PageMap, Position};
use folio_store::{Count, Query, Store, StoreError};

/// Records read at once by a build.
const WALK_PAGE: u64 = 10_000;

/// The most keys a map holds (so a map covers results of up to 100,000,000 records).
const MAX_KEYS: usize = 100_000;

/// The most maps kept at once.
const MAX_MAPS: usize = 64;

/// The most keys kept in all maps together.
const MAX_KEPT_KEYS: usize = 1_000_000;

/// A map and the generation of the collection it maps.
#[derive(Debug)]
pub(crate) struct Mapped {
    /// The collection's generation the map was built at: it is right only at that one.
    pub(crate) generation: String,
    /// The map.
    pub(crate) map: PageMap,
}

/// The maps of this server, by (collection, canonical filter, sort).
#[derive(Debug)]
pub(crate) struct PageMaps {
    /// Records between two mapped keys: a mapped page number skips fewer than this many.
    every: u64,
    entries: Mutex<HashMap<(String, String, String), Entry>>,
}

#[derive(Debug)]
enum Entry {
    Building,
    Ready(Arc<Mapped>),
}

impl PageMaps {
    /// No maps yet; those built will map every `every`-th record (at least 1).
    pub(crate) fn new(every: u64) -> PageMaps {
        PageMaps {
            every: every.max(1),
            entries: Mutex::default(),
        }
    }

    /// The map of `query` if one is ready; else `None`, after starting to build one in the
    /// background unless a build is under way.
    pub(crate) fn get_or_build(self: &Arc<Self>, store: &Arc<dyn Store>, query: &Query) -> Option<Arc<Mapped>> {
        let key = key_of(query);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&key) {
            Some(Entry::Ready(mapped)) => return Some(Arc::clone(mapped)),
            Some(Entry::Building) => return None,
            None => {}
        }
        if entries.len() >= MAX_MAPS {
            entries.clear();
        }
        entries.insert(key.clone(), Entry::Building);
        drop(entries);
        let (maps, store, query) = (Arc::clone(self), Arc::clone(store), query.clone());
        tokio::spawn(async move {
            let built = build(&*store, &query, maps.every).await;
            let mut entries = maps.entries.lock().unwrap_or_else(|p| p.into_inner());
            match built {
                Ok(Some(mapped)) => {
                    let kept: usize = entries
                        .values()
                        .map(|e| match e {
                            Entry::Ready(m) => m.map.len(),
                            Entry::Building => 0,
                        })
                        .sum();
                    if kept + mapped.map.len() > MAX_KEPT_KEYS {
                        entries.retain(|_, e| matches!(e, Entry::Building));
                    }
                    entries.insert(key, Entry::Ready(Arc::new(mapped)));
                }
                Ok(None) => {
                    entries.remove(&key);
                }
                Err(e) => {
                    tracing::warn!(error = %e, collection = %query.schema.name, "could not build a page map");
                    entries.remove(&key);
                }
            }
        });
        None
    }

    /// Forgets the map of `query` if it was built at `generation` (the collection has moved
    /// on), so that the next request builds a new one.
    pub(crate) fn forget(&self, query: &Query, generation: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let key = key_of(query);
        if matches!(entries.get(&key), Some(Entry::Ready(m)) if m.generation == generation) {
            entries.remove(&key);
        }
    }
}

fn key_of(query: &Query) -> (String, String, String) {
    (
        query.schema.name.clone(),
        query.filter.canonical(),
        query.sort.to_spec(&query.schema),
    )
}

/// Walks the result of `query` (its records, not their projection) and maps it: `None` when
/// it is larger than a map holds or the collection changed during the walk.
async fn build(store: &dyn Store, query: &Query, every: u64) -> Result<Option<Mapped>, StoreError> {
    let query = Query {
        fields: Some(folio_engine::projection::Projection::none()),
        ..query.clone()
    };
    let mut position = Position::Start;
    let mut keys = Vec::new();
    let mut seen = 0u64;
    let mut generation: Option<String> = None;
    loop {
        let page = store
            .page(&query, &plan(&query.sort, position, WALK_PAGE), Count::Skip)
            .await?;
        match &generation {
            Some(g) if *g != page.generation => return Ok(None),
            Some(_) => {}
            None => generation = Some(page.generation.clone()),
        }
        for record in page.records.iter() {
            seen += 1;
            if seen.is_multiple_of(every) {
                keys.push(record.key());
            }
        }
        if keys.len() > MAX_KEYS {
            return Ok(None);
        }
        match page.next {
            Some(next) => position = Position::After(next),
            None => break,
        }
    }
    Ok(generation.map(|generation| Mapped {
        generation,
        map: PageMap::new(every, keys, seen),
    }))
}
