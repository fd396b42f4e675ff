//! What every handler shares: the store, the cursor codec, the limits and the access policy.
//!
//! The store is private to this module, and a page is read only for a [`Reading`], which
//! only a [`Readable`] makes, which only [`AppState::readable`] makes after asking the
//! [`Caller`] ([`reading`]): so no style can read a private collection without the access
//! check.

mod config;
mod reading;
mod swap;

use std::sync::Arc;

use axum::http::HeaderValue;

use folio_engine::page::plan;
use folio_engine::projection::Projection;
use folio_engine::{CursorCodec, Filter, Partition, Plan, Position, Sort, Value};
use folio_store::{CollectionInfo, Count, Moment, PageResult, Store};

use crate::access::{AccessHandle, AccessPolicy, Caller};
use crate::ahead::ReadAhead;
use crate::cache::PageCache;
use crate::error::ApiError;
use crate::maps::{Lookup, PageMaps};
pub use config::{
    DEFAULT_COUNT_CAP, DEFAULT_EXPORT_BATCH_BYTES, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENT_EXPORTS, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_PAGE_MAP_EVERY, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SNAPSHOT_RETENTION, HttpConfig,
};
pub use reading::{Readable, Reading};
pub use swap::Swap;

/// The state shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    codec: Swap<CursorCodec>,
    pub(crate) config: HttpConfig,
    access: AccessHandle,
    ahead: Arc<ReadAhead>,
    maps: Arc<PageMaps>,
    cache: Arc<PageCache>,
    /// The `Cache-Control` of public collections' pages.
    cache_control: HeaderValue,
    /// The downloads that may stream at once ([`HttpConfig::max_concurrent_exports`]).
    exports: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// State over `store`, signing cursors with `secret`, with every collection public.
    pub fn new(store: Arc<dyn Store>, secret: &[u8], config: HttpConfig) -> AppState {
        AppState::with_keys(store, CursorCodec::new(secret), config)
    }

    /// State over `store`, signing and verifying cursors with `codec` (a key set: the signing
    /// key and older ones that still verify), with every collection public.
    pub fn with_keys(store: Arc<dyn Store>, codec: CursorCodec, config: HttpConfig) -> AppState {
        AppState {
            store,
            codec: Swap::new(codec),
            config,
            access: AccessHandle::new(AccessPolicy::public()),
            ahead: Arc::default(),
            maps: Arc::new(PageMaps::new(config.page_map_every)),
            cache: Arc::new(PageCache::new(config.page_cache_bytes)),
            cache_control: HeaderValue::from_static(crate::cache::DEFAULT_CACHE_CONTROL),
            exports: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_exports)),
        }
    }

    /// This state with `value` as the `Cache-Control` of public collections' lists and
    /// records (private ones always get `private, no-cache`): for a CDN, say
    /// `public, max-age=60`.
    ///
    /// # Errors
    /// When `value` cannot be a header's value (control characters).
    pub fn with_cache_control(mut self, value: &str) -> Result<AppState, axum::http::header::InvalidHeaderValue> {
        self.cache_control = HeaderValue::from_str(value)?;
        Ok(self)
    }

    /// The `Cache-Control` of public collections' lists and records.
    pub(crate) fn cache_control(&self) -> &HeaderValue {
        &self.cache_control
    }

    /// The bodies of recent answers ([`crate::cache`]).
    pub(crate) fn page_cache(&self) -> &PageCache {
        &self.cache
    }

    /// The collection's generation, read from the store now.
    pub(crate) async fn generation(&self, collection: &str) -> Result<String, ApiError> {
        Ok(self.store.generation(collection).await?)
    }

    /// This state with `policy` deciding which collections are private and who reads them.
    pub fn with_access(mut self, policy: AccessPolicy) -> AppState {
        // A handle of its own: clones of the state this came from keep theirs.
        self.access = AccessHandle::new(policy);
        self
    }

    /// The handle through which the cursor keys can be replaced while the server runs (a
    /// rotation): cursors signed by a key the new set lacks are refused from then on.
    pub fn codec_handle(&self) -> &Swap<CursorCodec> {
        &self.codec
    }

    /// The handle through which the access policy can be replaced while the server runs.
    pub fn access(&self) -> &AccessHandle {
        &self.access
    }

    /// The collection `caller` asks for, if it may read it (see [`Caller::check`]): the only
    /// way to a [`Readable`]. A collection it may not read, or that does not exist, is a 404
    /// that names those it may.
    pub(crate) async fn readable(&self, caller: &Caller, collection: &str) -> Result<Readable, ApiError> {
        let found = match caller.check(collection) {
            Ok(()) => self.store.schema(collection).await.map_err(ApiError::from),
            Err(e) => Err(e),
        };
        match found {
            Ok(schema) => Ok(Readable::checked(schema, caller.reader(collection))),
            Err(ApiError::UnknownCollection { name, .. }) => {
                let mut readable: Vec<String> = self
                    .collections(caller)
                    .await
                    .map(|infos| infos.into_iter().map(|info| info.schema.name.clone()).collect())
                    .unwrap_or_default();
                readable.sort();
                Err(ApiError::UnknownCollection { name, readable })
            }
            Err(other) => Err(other),
        }
    }

    /// The store's read replicas as last checked ([`Store::replicas`]): none without them.
    pub(crate) fn replicas(&self) -> Vec<folio_store::ReplicaStatus> {
        self.store.replicas()
    }

    /// The collections `caller` may read: listings never show the others.
    pub(crate) async fn collections(&self, caller: &Caller) -> Result<Vec<CollectionInfo>, ApiError> {
        let mut infos = self.store.collections().await?;
        infos.retain(|info| caller.sees(&info.schema.name));
        Ok(infos)
    }

    /// Runs a page plan, reading ahead the page a walk asks for next ([`crate::ahead`]).
    pub(crate) async fn page(&self, reading: &Reading, plan: &Plan, count: Count) -> Result<PageResult, ApiError> {
        let snapshots = !self.config.snapshot_retention.is_zero();
        Ok(self
            .ahead
            .page(&self.store, reading.query(), plan, count, snapshots)
            .await?)
    }

    /// The page of `size` records at `offset` of `reading`'s result, read through its page map
    /// ([`crate::maps`]): a seek to the nearest mapped key and a short skip, whatever the
    /// depth, with the total the map counted. Without a map yet (one is then being built) or when the collection changed
    /// since the map was built, the answer is `refused` with why, and nothing is served from
    /// a map of another generation.
    pub(crate) async fn mapped_page(
        &self,
        reading: &Reading,
        offset: u64,
        size: u64,
        count: Count,
        refused: impl Fn(Option<&str>) -> ApiError,
    ) -> Result<PageResult, ApiError> {
        let query = reading.query();
        let mapped = match self.maps.get_or_build(&self.store, query) {
            Lookup::Ready(mapped) => mapped,
            Lookup::Pending => {
                return Err(refused(Some(
                    "this server is mapping the result, after which page numbers reach any depth",
                )));
            }
            Lookup::Unmappable(_) => return Err(refused(None)),
        };
        // The map counted the result at its generation: no count is needed.
        let mut page = self
            .store
            .page(query, &mapped.map.plan(&query.sort, offset, size), Count::Skip)
            .await?;
        if count != Count::Skip {
            page.total = Some(folio_store::Total {
                count: mapped.map.total(),
                exact: true,
            });
        }
        if page.generation != mapped.generation {
            self.maps.forget(query, &mapped.generation);
            return Err(refused(Some(
                "the collection changed, and this server is mapping it again",
            )));
        }
        Ok(page)
    }

    /// The result of `reading` cut into at most `count` partitions at the keys of its page
    /// map, with the map's total and the moment it shows (when the store keeps versions and
    /// snapshots are on): every part's walk reads that moment, so that the parts together are
    /// the result of one moment, as one walk's pages are. Without a map yet, or when the
    /// collection changed since it was built, a [`ApiError::MapPending`] (one is then being
    /// built).
    pub(crate) async fn partitions(
        &self,
        reading: &Reading,
        count: usize,
    ) -> Result<(Vec<Partition>, u64, Option<Moment>), ApiError> {
        if !self.config.page_maps {
            return Err(crate::params::invalid(
                "count",
                "cannot be served: partitions are cut at page maps, which this server was started without (--no-page-maps)"
                    .into(),
            ));
        }
        let query = reading.query();
        let mapped = match self.maps.get_or_build(&self.store, query) {
            Lookup::Ready(mapped) => mapped,
            Lookup::Pending => {
                return Err(ApiError::MapPending(
                    "this server is mapping the result to cut it into partitions",
                ));
            }
            Lookup::Unmappable(why) => {
                return Err(crate::params::invalid(
                    "count",
                    format!("cannot be served for this result: {why}; read it with one cursor walk (page[cursor]=1)"),
                ));
            }
        };
        // The moment of the map's generation, read as a page's (a record of the present).
        let present = self
            .store
            .page(query, &plan(&query.sort, Position::Start, 1), Count::Skip)
            .await?;
        if present.generation != mapped.generation {
            self.maps.forget(query, &mapped.generation);
            return Err(ApiError::MapPending(
                "the collection changed, and this server is mapping it again",
            ));
        }
        let moment = present.moment.filter(|_| !self.config.snapshot_retention.is_zero());
        Ok((mapped.map.partitions(count), mapped.map.total(), moment))
    }

    /// A slot for one download, held while it streams; none free is an
    /// [`ApiError::ExportsBusy`].
    pub(crate) fn export_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.exports)
            .try_acquire_owned()
            .map_err(|_| ApiError::ExportsBusy {
                limit: self.config.max_concurrent_exports,
            })
    }

    /// A batch of a download: the `size` records of `reading`'s result from `position` (up to
    /// the end of its partition, when it walks one), uncounted, at the walk's moment.
    pub(crate) async fn batch(&self, reading: &Reading, position: Position, size: u64) -> Result<PageResult, ApiError> {
        Ok(self
            .store
            .page(reading.query(), &reading.plan(position, size), Count::Skip)
            .await?)
    }

    /// Where the batch of [`AppState::batch`] ends, without reading it: the key of its last
    /// record when more follow it (its `next`), read as one record after skipping the others,
    /// keys only, so that an index alone answers it where one serves the query.
    pub(crate) async fn batch_end(
        &self,
        reading: &Reading,
        position: Position,
        size: u64,
    ) -> Result<Option<folio_engine::page::Key>, ApiError> {
        let keys = reading.keys_only();
        let mut planned = keys.plan(position, 1);
        planned.offset = size.saturating_sub(1);
        let page = self.store.page(keys.query(), &planned, Count::Skip).await?;
        Ok(page.next.filter(|_| page.has_more))
    }

    /// The key of record `id` (given in `param`) in `reading`'s result, at its moment: where a
    /// walk resumed after that record starts. A record outside the result is a 400.
    pub(crate) async fn key_of(
        &self,
        reading: &Reading,
        id: &str,
        param: &str,
    ) -> Result<folio_engine::page::Key, ApiError> {
        let only = reading.only(id, param)?;
        let page = self.batch(&only, Position::Start, 1).await?;
        match page.records.get(0) {
            Some(record) => Ok(record.key()),
            None => Err(crate::params::invalid(
                param,
                format!(
                    "is `{}`, which is not a record of this result{}; give the id of the last record received",
                    crate::params::short(id),
                    if reading.snapshot().is_some() {
                        " at its snapshot"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }

    /// The cursor token for a keyset position of `reading`.
    pub(crate) fn cursor(&self, reading: &Reading, position: &Position) -> String {
        reading.cursor(&self.codec.current(), position)
    }

    /// The codec that signs and verifies this server's cursors now.
    pub(crate) fn codec(&self) -> Arc<CursorCodec> {
        self.codec.current()
    }

    /// The record `id` of a collection, with the id as a value; an id that cannot have the
    /// collection's id type names no record. With `fields`, only those paths: read as a page
    /// of one record, so that the store projects it as it projects a list's records.
    pub(crate) async fn record(
        &self,
        collection: &Readable,
        id: &str,
        fields: Option<Projection>,
    ) -> Result<(Value, String), ApiError> {
        let schema = collection.schema();
        let unknown = || ApiError::UnknownRecord {
            collection: schema.name.clone(),
            id: id.to_owned(),
        };
        let key = Value::parse(id, schema.id_type.field_type()).map_err(|_| unknown())?;
        let Some(fields) = fields else {
            let doc = self.store.get(schema, &key).await?.ok_or_else(unknown)?;
            return Ok((key, doc));
        };
        let mut filter = Filter::all();
        filter.push_text(schema, &schema.id_path, "eq", id, "id")?;
        let reading = collection.reading(filter, Sort::by_id(), Some(fields));
        let plan = plan(&reading.query().sort, Position::Start, 1);
        let page = self.store.page(reading.query(), &plan, Count::Skip).await?;
        let doc = page.records.get(0).ok_or_else(unknown)?.doc().to_vec();
        let doc =
            String::from_utf8(doc).map_err(|e| ApiError::Internal(folio_store::StoreError::Internal(e.to_string())))?;
        Ok((key, doc))
    }
}
