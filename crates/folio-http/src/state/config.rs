//! The limits the HTTP API runs with.

use std::time::Duration;

use folio_engine::Limits;
use folio_engine::limits::DEFAULT_MAX_OFFSET;

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
    /// Whether page numbers past the offset window are served through page maps
    /// ([`folio_engine::PageMap`], built in the background on first use); without them, such
    /// page numbers are a 422 that names the style's cursors.
    pub page_maps: bool,
    /// Records between two keys of a page map: a page number reached through a map skips
    /// fewer than this many records, and partitions are cut at multiples of it. Smaller maps
    /// are finer and larger (a key per this many records).
    pub page_map_every: u64,
    /// How long the versions writes supersede are kept: a cursor walk reads the collection
    /// as it was at its first page for at least this long after a write (then its cursors
    /// expire with a 410). Zero turns snapshots off: cursors read the present.
    pub snapshot_retention: Duration,
    /// Downloads (`/export`) streamed at once; more are refused with a 503 and `Retry-After`.
    /// A download holds no request slot while it streams (it may last minutes), and reads its
    /// batches through the same store as pages, so this bounds how much of the store's reading
    /// downloads can take.
    pub max_concurrent_exports: usize,
    /// The size a download's batches aim at, in bytes of documents (each batch is one keyset
    /// page, of at least 100 and at most 10,000 records): a few batches are held at once.
    pub export_batch_bytes: usize,
    /// Bytes of rendered bodies kept to answer the same request again while the collection's
    /// generation holds ([`crate::cache`]); 0 keeps none (ETags and 304s stay).
    pub page_cache_bytes: usize,
}

/// The default [`HttpConfig::snapshot_retention`]: one hour, time for a walk of millions of
/// records at a modest pace.
pub const DEFAULT_SNAPSHOT_RETENTION: Duration = Duration::from_secs(3600);

/// The default [`HttpConfig::page_map_every`]: 1,000 records, so a map of 1,000,000 records
/// holds 1,000 keys, and a deep page skips at most 999 records.
pub const DEFAULT_PAGE_MAP_EVERY: u64 = 1000;

/// The default [`HttpConfig::max_concurrent_exports`].
pub const DEFAULT_MAX_CONCURRENT_EXPORTS: usize = 4;

/// The default [`HttpConfig::export_batch_bytes`]: 2 MiB, large enough that a batch's own
/// cost (a transaction, a seek) is small beside its records', small enough that the few held
/// at once stay a few MiB (4 MiB read no faster, and held twice the memory: BENCHMARKS.md).
pub const DEFAULT_EXPORT_BATCH_BYTES: usize = 2 << 20;

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
            max_concurrent_exports: DEFAULT_MAX_CONCURRENT_EXPORTS,
            export_batch_bytes: DEFAULT_EXPORT_BATCH_BYTES,
            page_maps: true,
            page_map_every: DEFAULT_PAGE_MAP_EVERY,
            snapshot_retention: DEFAULT_SNAPSHOT_RETENTION,
            page_cache_bytes: crate::cache::DEFAULT_PAGE_CACHE_BYTES,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig::with_max_offset(Some(DEFAULT_MAX_OFFSET))
    }
}
