//! Page maps ([`PageMap`]): built in the background the first time a page number past the
//! offset window is asked for, kept while the collection's generation holds.
//!
//! A map is built by one walk of the result through [`Store::page`] (pages of
//! [`WALK_PAGE`] records, no count), keeping the key of every K-th record
//! ([`crate::HttpConfig::page_map_every`], 1,000 by default: for 1,000,000 records, 1,000
//! keys). The work is bounded: at most [`MAX_BUILDS`] builds run at once (past them a request
//! is told to retry, as while its map is built); a build stops, and no map is kept, past
//! [`MAX_KEYS`] keys (`MAX_KEYS * K` records) or [`MAX_BUILD_TIME`], and when the collection
//! changes under it. A result too large or too slow to map is not tried again for
//! [`UNMAPPABLE_FOR`]. At most [`MAX_MAPS`] maps, and [`MAX_KEPT_KEYS`] keys in all, are kept;
//! past either the cache starts afresh (a key is a sort key: for the demo's sorts, about 100
//! bytes).
//!
//! Every server builds its own: a map is cheap to build and small, and keeping it in memory
//! needs no table, no write and no coordination between servers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// The most builds running at once (each walks a whole result).
const MAX_BUILDS: usize = 2;

/// The longest a build may walk before it is abandoned.
const MAX_BUILD_TIME: Duration = Duration::from_secs(60);

/// How long a result that could not be mapped (too large, too slow) is not tried again.
const UNMAPPABLE_FOR: Duration = Duration::from_secs(600);

/// What [`PageMaps::get_or_build`] found.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The map, at the generation it was built at.
    Ready(Arc<Mapped>),
    /// None yet: it is being built (or builds are busy); asked again in a few seconds, it may
    /// be ready.
    Pending,
    /// None: the result is too large or too slow to map, as this says.
    Unmappable(&'static str),
}

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
    /// The most keys a map may hold ([`MAX_KEYS`]).
    max_keys: usize,
    entries: Mutex<HashMap<(String, String, String), Entry>>,
}

#[derive(Debug)]
enum Entry {
    Building,
    Ready(Arc<Mapped>),
    Unmappable { since: Instant, why: &'static str },
}

impl PageMaps {
    /// No maps yet; those built will map every `every`-th record (at least 1).
    pub(crate) fn new(every: u64) -> PageMaps {
        PageMaps {
            every: every.max(1),
            max_keys: MAX_KEYS,
            entries: Mutex::default(),
        }
    }

    /// The map of `query` if one is ready; else [`Lookup::Pending`], after starting to build
    /// one in the background unless one is under way (or builds are busy), or why it cannot be.
    pub(crate) fn get_or_build(self: &Arc<Self>, store: &Arc<dyn Store>, query: &Query) -> Lookup {
        let key = key_of(query);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(&key) {
            Some(Entry::Ready(mapped)) => return Lookup::Ready(Arc::clone(mapped)),
            Some(Entry::Building) => return Lookup::Pending,
            Some(Entry::Unmappable { since, why }) if since.elapsed() < UNMAPPABLE_FOR => {
                return Lookup::Unmappable(why);
            }
            _ => {}
        }
        if entries.values().filter(|e| matches!(e, Entry::Building)).count() >= MAX_BUILDS {
            return Lookup::Pending;
        }
        if entries.len() >= MAX_MAPS {
            entries.retain(|_, e| matches!(e, Entry::Building));
        }
        entries.insert(key.clone(), Entry::Building);
        drop(entries);
        let (maps, store, query) = (Arc::clone(self), Arc::clone(store), query.clone());
        tokio::spawn(async move {
            let built = build(&*store, &query, maps.every, maps.max_keys).await;
            let mut entries = maps.entries.lock().unwrap_or_else(|p| p.into_inner());
            match built {
                Ok(Built::Mapped(mapped)) => {
                    let kept: usize = entries
                        .values()
                        .map(|e| match e {
                            Entry::Ready(m) => m.map.len(),
                            Entry::Building | Entry::Unmappable { .. } => 0,
                        })
                        .sum();
                    if kept + mapped.map.len() > MAX_KEPT_KEYS {
                        entries.retain(|_, e| matches!(e, Entry::Building));
                    }
                    entries.insert(key, Entry::Ready(Arc::new(mapped)));
                }
                Ok(Built::Changed) => {
                    entries.remove(&key);
                }
                Ok(Built::Unmappable(why)) => {
                    tracing::info!(collection = %query.schema.name, why, "no page map for this result");
                    entries.insert(
                        key,
                        Entry::Unmappable {
                            since: Instant::now(),
                            why,
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, collection = %query.schema.name, "could not build a page map");
                    entries.remove(&key);
                }
            }
        });
        Lookup::Pending
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

/// How a build ended.
enum Built {
    Mapped(Mapped),
    /// The collection changed during the walk: the next request builds again.
    Changed,
    /// The result is too large or too slow to map.
    Unmappable(&'static str),
}

/// Walks the result of `query` (its records, not their projection) and maps it, within the
/// bounds of a build.
async fn build(store: &dyn Store, query: &Query, every: u64, max_keys: usize) -> Result<Built, StoreError> {
    let started = Instant::now();
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
            Some(g) if *g != page.generation => return Ok(Built::Changed),
            Some(_) => {}
            None => generation = Some(page.generation.clone()),
        }
        for record in page.records.iter() {
            seen += 1;
            if seen.is_multiple_of(every) {
                keys.push(record.key());
            }
        }
        if keys.len() > max_keys {
            return Ok(Built::Unmappable(
                "the result holds more records than a page map covers",
            ));
        }
        if started.elapsed() > MAX_BUILD_TIME {
            return Ok(Built::Unmappable("mapping the result took longer than a build may"));
        }
        match page.next {
            Some(next) => position = Position::After(next),
            None => break,
        }
    }
    Ok(match generation {
        Some(generation) => Built::Mapped(Mapped {
            generation,
            map: PageMap::new(every, keys, seen),
        }),
        None => Built::Changed,
    })
}

#[cfg(test)]
mod tests {
    use folio_engine::{Filter, Sort};
    use folio_store::{SqliteStore, demo};

    use super::*;

    /// A result larger than a map may hold is not mapped, is said to be unmappable, and is
    /// not walked again while that is remembered.
    #[tokio::test]
    async fn a_result_too_large_to_map_is_refused_and_not_walked_again() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteStore::open(dir.path()).unwrap();
        demo::build(&sqlite, 50, &|_| {}).unwrap();
        let store: Arc<dyn Store> = Arc::new(sqlite);
        let schema = store.schema("entries").await.unwrap();
        let query = Query {
            schema,
            filter: Filter::all(),
            sort: Sort::by_id(),
            fields: None,
            at: None,
        };
        let maps = Arc::new(PageMaps {
            max_keys: 10,
            ..PageMaps::new(1)
        });
        assert!(matches!(maps.get_or_build(&store, &query), Lookup::Pending));
        let started = Instant::now();
        let why = loop {
            match maps.get_or_build(&store, &query) {
                Lookup::Unmappable(why) => break why,
                Lookup::Pending => tokio::task::yield_now().await,
                Lookup::Ready(_) => panic!("50 records mapped with room for 10 keys"),
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the build does not end");
        };
        assert!(why.contains("more records than a page map covers"), "{why}");
        // Remembered: no build starts (a build would make it pending again).
        assert!(matches!(maps.get_or_build(&store, &query), Lookup::Unmappable(_)));

        // Room for every key: the same result maps.
        let roomy = Arc::new(PageMaps::new(1));
        assert!(matches!(roomy.get_or_build(&store, &query), Lookup::Pending));
        loop {
            match roomy.get_or_build(&store, &query) {
                Lookup::Ready(mapped) => break assert_eq!((mapped.map.len(), mapped.map.total()), (50, 50)),
                Lookup::Pending => tokio::task::yield_now().await,
                Lookup::Unmappable(why) => panic!("{why}"),
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the build does not end");
        }
    }
}
