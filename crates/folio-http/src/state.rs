//! What every handler shares: the store, the cursor codec, the limits and the access policy.
//!
//! The store is private to this module: handlers reach collections only through
//! [`AppState::schema`], [`AppState::collections`] and [`AppState::record`], which ask the
//! [`Caller`] first, so no style can read a private collection without the access check.

use std::sync::Arc;
use std::time::Duration;

use folio_engine::limits::DEFAULT_MAX_OFFSET;
use folio_engine::page::plan;
use folio_engine::projection::Projection;
use folio_engine::{
    CollectionSchema, CursorCodec, EngineError, Filter, Fingerprint, Limits, Plan, Position, Sort, Value,
};
use folio_store::{CollectionInfo, Count, PageResult, Query, Store};

use crate::access::{AccessHandle, AccessPolicy, Caller};
use crate::ahead::ReadAhead;
use crate::error::ApiError;

/// Limits of the HTTP API, per style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// `jsonapi`: `page[size]` 0..=1000, default 25.
    pub jsonapi: Limits,
    /// `hal`: `limit` 1..=100, default 10.
    pub hal: Limits,
    /// `query`: `page_size` 0..=10000, default 10.
    pub query: Limits,
    /// `simple`: `per_page` 1..=1000, default 128.
    pub simple: Limits,
    /// Where capped counts stop (`page[total]=capped`, and filters no index answers):
    /// past it, totals say "at least this many".
    pub count_cap: u64,
    /// The largest request body accepted (larger: 413).
    pub max_body_bytes: usize,
    /// The longest a request may take, waiting for a slot included (longer: 503 with
    /// `Retry-After`).
    pub request_timeout: Duration,
    /// Requests answered at once; more wait for a slot, within `request_timeout`.
    pub max_concurrent_requests: usize,
}

/// The default [`HttpConfig::count_cap`].
pub const DEFAULT_COUNT_CAP: u64 = 10_000;

/// The default [`HttpConfig::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The default [`HttpConfig::request_timeout`]: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time a client has to send a whole request head, and the longest a keep-alive
/// connection stays idle (see [`crate::serve`]): 30 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default [`HttpConfig::max_concurrent_requests`]: enough for every read connection
/// to stay busy with requests queued behind it, few enough that the largest pages (10,000
/// records, about 10 MB each) cannot exhaust memory.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 128;

impl HttpConfig {
    /// The default limits with the offset window set to `max_offset` for every style.
    pub fn with_max_offset(max_offset: Option<u64>) -> HttpConfig {
        let limits = |min_size, default_size, max_size| Limits {
            min_size,
            default_size,
            max_size,
            max_offset,
        };
        HttpConfig {
            jsonapi: limits(0, 25, 1000),
            hal: limits(1, 10, 100),
            query: limits(0, 10, 10_000),
            simple: limits(1, 128, 1000),
            count_cap: DEFAULT_COUNT_CAP,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig::with_max_offset(Some(DEFAULT_MAX_OFFSET))
    }
}

/// The state shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    codec: CursorCodec,
    pub(crate) config: HttpConfig,
    access: AccessHandle,
    ahead: Arc<ReadAhead>,
}

impl AppState {
    /// State over `store`, signing cursors with `secret`, with every collection public.
    pub fn new(store: Arc<dyn Store>, secret: &[u8], config: HttpConfig) -> AppState {
        AppState {
            store,
            codec: CursorCodec::new(secret),
            config,
            access: AccessHandle::new(AccessPolicy::public()),
            ahead: Arc::default(),
        }
    }

    /// This state with `policy` deciding which collections are private and who reads them.
    pub fn with_access(mut self, policy: AccessPolicy) -> AppState {
        // A handle of its own: clones of the state this came from keep theirs.
        self.access = AccessHandle::new(policy);
        self
    }

    /// The handle through which the access policy can be replaced while the server runs.
    pub fn access(&self) -> &AccessHandle {
        &self.access
    }

    /// The schema of `collection`, if `caller` may read it (see [`Caller::check`]).
    /// A collection it may not read, or that does not exist, is a 404 that names those it may.
    pub(crate) async fn schema(&self, caller: &Caller, collection: &str) -> Result<Arc<CollectionSchema>, ApiError> {
        let found = match caller.check(collection) {
            Ok(()) => self.store.schema(collection).await.map_err(ApiError::from),
            Err(e) => Err(e),
        };
        match found {
            Err(ApiError::UnknownCollection { name, .. }) => {
                let mut readable: Vec<String> = self
                    .collections(caller)
                    .await
                    .map(|infos| infos.into_iter().map(|info| info.schema.name.clone()).collect())
                    .unwrap_or_default();
                readable.sort();
                Err(ApiError::UnknownCollection { name, readable })
            }
            other => other,
        }
    }

    /// The collections `caller` may read: listings never show the others.
    pub(crate) async fn collections(&self, caller: &Caller) -> Result<Vec<CollectionInfo>, ApiError> {
        let mut infos = self.store.collections().await?;
        infos.retain(|info| caller.sees(&info.schema.name));
        Ok(infos)
    }

    /// Runs a page plan, reading ahead the page a walk asks for next ([`crate::ahead`]). The
    /// query's schema comes from [`AppState::schema`], so the access check has been made.
    pub(crate) async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, ApiError> {
        Ok(self.ahead.page(&self.store, query, plan, count).await?)
    }

    /// The cursor token for a keyset position of `query`, bound to the principal `caller`
    /// reads the collection as.
    pub(crate) fn cursor(&self, caller: &Caller, query: &Query, position: &Position) -> String {
        self.codec.encode(fingerprint(caller, query), position)
    }

    /// The codec that signs and verifies this server's cursors.
    pub(crate) fn codec(&self) -> &CursorCodec {
        &self.codec
    }
}

/// Decodes the cursor token given in `param` for `query` with `codec`, as read by the
/// principal `reader` (what [`Caller::reader`] names for the query's collection; `None` for
/// anonymous and for every public collection): a token issued for another query, or to
/// another principal, is a `cursor-query-mismatch`.
pub(crate) fn decode_cursor(
    codec: &CursorCodec,
    reader: Option<&str>,
    query: &Query,
    token: &str,
    param: &str,
) -> Result<Position, EngineError> {
    codec
        .decode(token, fingerprint_for(reader, query), &query.sort)
        .map_err(|e| EngineError::cursor(param, e))
}

impl AppState {
    /// The record `id` of `collection`, if `caller` may read the collection, with the
    /// collection's schema and the id as a value; an id that cannot have the collection's id
    /// type names no record. With `fields`, only those paths: read as a page of one record,
    /// so that the store projects it as it projects a list's records.
    pub(crate) async fn record(
        &self,
        caller: &Caller,
        collection: &str,
        id: &str,
        fields: Option<Projection>,
    ) -> Result<(Arc<CollectionSchema>, Value, String), ApiError> {
        let schema = self.schema(caller, collection).await?;
        let unknown = || ApiError::UnknownRecord {
            collection: collection.to_owned(),
            id: id.to_owned(),
        };
        let key = Value::parse(id, schema.id_type.field_type()).map_err(|_| unknown())?;
        let Some(fields) = fields else {
            let doc = self.store.get(&schema, &key).await?.ok_or_else(unknown)?;
            return Ok((schema, key, doc));
        };
        let mut filter = Filter::all();
        filter.push_text(&schema, &schema.id_path, "eq", id, "id")?;
        let query = Query {
            schema: schema.clone(),
            filter,
            sort: Sort::by_id(),
            fields: Some(fields),
        };
        let page = self
            .store
            .page(&query, &plan(&query.sort, Position::Start, 1), Count::Skip)
            .await?;
        let doc = page.records.get(0).ok_or_else(unknown)?.doc().to_vec();
        let doc =
            String::from_utf8(doc).map_err(|e| ApiError::Internal(folio_store::StoreError::Internal(e.to_string())))?;
        Ok((schema, key, doc))
    }
}

/// What a cursor is bound to: the query and, on a private collection, the principal. Search-after
/// keys (`transparent`) are values a client may read and write, not credentials, so they are
/// bound to nothing; requests that carry them pass the same access check as any other.
fn fingerprint(caller: &Caller, query: &Query) -> Fingerprint {
    fingerprint_for(caller.reader(&query.schema.name), query)
}

/// What a cursor is bound to when `query` is read as the principal `reader`.
fn fingerprint_for(reader: Option<&str>, query: &Query) -> Fingerprint {
    Fingerprint::for_reader(&query.schema, &query.filter, &query.sort, reader)
}
