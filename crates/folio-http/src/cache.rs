//! HTTP caching of list pages and records, in every style: an `ETag` from the collection's
//! generation, `304 Not Modified` for `If-None-Match`, `Cache-Control`, and a cache of the
//! bodies of recent answers.
//!
//! A `GET` of a list or a record (`/{style}/{collection}` or `/{style}/{collection}/{id}`)
//! is a pure function of the request, the principal it is read as, the collection's
//! generation (which every write changes and which never comes back) and the key that signs
//! its cursors. So, before anything is read:
//!
//! 1. the caller's access to the collection is checked (a cached page never reaches a caller
//!    that may not read it), and the collection's generation is read: one catalog lookup (on
//!    PostgreSQL, one round trip; for a SQLite file, a `stat`), never a page;
//! 2. the `ETag` is `"<generation>-<digest>"`, the digest covering the request's path and
//!    query, the principal (the token's name, for a private collection) and the cursor key set;
//!    the same on every server of a fleet;
//! 3. an `If-None-Match` that names it is answered `304` with no body;
//! 4. a body cached under the same request, principal and generation is answered as it was
//!    stored, status, headers and bytes: no page is read and nothing is rendered;
//! 5. otherwise the request is answered as usual, and a `200` is kept (up to
//!    `HttpConfig::page_cache_bytes`, oldest out first).
//!
//! The generation is read *before* the answer is made, so a body is never stored under a
//! generation newer than the one it was read at; a write in between only stores a newer body
//! under an older generation, which no later request asks for (generations only grow).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::access::Caller;
use crate::state::AppState;

/// The default [`crate::HttpConfig::page_cache_bytes`]: 64 MiB of bodies.
pub const DEFAULT_PAGE_CACHE_BYTES: usize = 64 << 20;

/// The default `Cache-Control` of a public collection's pages: caches may keep them, and ask
/// again (with the `ETag`) before each use.
pub const DEFAULT_CACHE_CONTROL: &str = "no-cache";

/// The `Cache-Control` of a private collection's pages: never in a shared cache.
const PRIVATE_CACHE_CONTROL: &str = "private, no-cache";

/// The styles whose lists and records are cached, by path prefix.
const STYLES: [&str; 4] = ["jsonapi", "hal", "query", "simple"];

/// Bodies of recent answers, by request, principal and generation, bounded in bytes.
pub(crate) struct PageCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Stored>,
    /// Keys, oldest first.
    order: VecDeque<String>,
    bytes: usize,
}

/// An answer as it was given.
#[derive(Clone)]
struct Stored {
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    /// A cache of at most `capacity` bytes of bodies (0: none kept).
    pub(crate) fn new(capacity: usize) -> PageCache {
        PageCache {
            capacity,
            inner: Mutex::default(),
        }
    }

    fn get(&self, key: &str) -> Option<Stored> {
        let entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        entries.by_key.get(key).cloned()
    }

    fn put(&self, key: String, stored: Stored) {
        // One body may take an eighth of the cache, so that a few large pages do not push
        // out every other.
        let size = stored.body.len() + key.len();
        if size > self.capacity / 8 {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if entries.by_key.contains_key(&key) {
            return;
        }
        while entries.bytes + size > self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.by_key.remove(&oldest) {
                entries.bytes -= gone.body.len() + oldest.len();
            }
        }
        entries.bytes += size;
        entries.order.push_back(key.clone());
        entries.by_key.insert(key, stored);
    }
}

/// The collection a cacheable request reads: a `GET` of `/{style}/{collection}` or
/// `/{style}/{collection}/{id}`.
fn collection_of(request: &Request) -> Option<String> {
    if request.method() != Method::GET {
        return None;
    }
    let mut segments = request.uri().path().strip_prefix('/')?.split('/');
    let style = segments.next()?;
    let collection = segments.next().filter(|c| !c.is_empty())?;
    let rest = segments.count();
    if !STYLES.contains(&style) || rest > 1 {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(collection)
            .decode_utf8()
            .ok()?
            .into_owned(),
    )
}

/// The middleware ([module docs](self)).
pub(crate) async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(collection) = collection_of(&request) else {
        return next.run(request).await;
    };
    let caller = Caller::new(state.access().current(), request.headers());
    // The handler judges the request by this caller too.
    request.extensions_mut().insert(caller.clone());
    // Refused callers, unknown collections and a store that fails get the handler's answer.
    if caller.check(&collection).is_err() {
        return next.run(request).await;
    }
    let Ok(generation) = state.generation(&collection).await else {
        return next.run(request).await;
    };
    let reader = caller.reader(&collection).map(str::to_owned);
    let target = request.uri().path_and_query().map_or("", |p| p.as_str());
    // The key set too: a rotation changes the cursors a page holds, a retirement the cursors
    // a request may give.
    let keys = u64::from_be_bytes(state.codec().keys_id());
    let key = format!(
        "{generation}\n{keys:016x}\n{}\n{target}",
        reader.as_deref().unwrap_or("")
    );
    let etag = etag(&generation, &key);
    let cache_control = if reader.is_some() {
        HeaderValue::from_static(PRIVATE_CACHE_CONTROL)
    } else {
        state.cache_control().clone()
    };
    if matches_etag(request.headers(), &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        validators(response.headers_mut(), etag, cache_control);
        return response;
    }
    let cache = state.page_cache();
    if let Some(stored) = cache.get(&key) {
        let mut response = Response::new(axum::body::Body::from(stored.body));
        *response.headers_mut() = stored.headers;
        return response;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    validators(&mut parts.headers, etag, cache_control);
    if cache.capacity == 0 {
        return Response::from_parts(parts, body);
    }
    // Bodies are whole buffers already (pages are rendered into one), so this copies nothing.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    cache.put(
        key,
        Stored {
            headers: parts.headers.clone(),
            body: bytes.clone(),
        },
    );
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `"<generation>-<digest of the key>"` (the key holds the generation, the cursor key set, the
/// principal and the request): strong, as equal tags mean equal bytes.
fn etag(generation: &str, key: &str) -> HeaderValue {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    // Generations are digits and dots (for a SQLite file, digits and dashes).
    let generation: String = generation
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        .collect();
    HeaderValue::from_str(&format!("\"{generation}-{hex}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether `If-None-Match` names `etag`, compared weakly as RFC 9110 says. `*` is not taken
/// as a match: it would answer 304 before the handler could say that the request is wrong.
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

fn validators(headers: &mut HeaderMap, etag: HeaderValue, cache_control: HeaderValue) {
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, cache_control);
}
