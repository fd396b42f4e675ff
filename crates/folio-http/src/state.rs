//! What every handler shares: the store, the cursor codec and the limits.

use std::sync::Arc;

use folio_engine::limits::DEFAULT_MAX_OFFSET;
use folio_engine::{CursorCodec, EngineError, Fingerprint, Limits, Position};
use folio_store::{Query, Store};

/// Limits of the HTTP API, per style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Page sizes and offset depth of the `jsonapi` style (default 25, max 1000, offsets
    /// within the first 10,000 records).
    pub jsonapi: Limits,
    /// Where capped counts stop (`page[total]=capped`, and filters no index answers):
    /// past it, totals say "at least this many".
    pub count_cap: u64,
}

/// The default [`HttpConfig::count_cap`].
pub const DEFAULT_COUNT_CAP: u64 = 10_000;

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            jsonapi: Limits {
                default_size: 25,
                max_size: 1000,
                max_offset: Some(DEFAULT_MAX_OFFSET),
            },
            count_cap: DEFAULT_COUNT_CAP,
        }
    }
}

/// The state shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    codec: CursorCodec,
    pub(crate) config: HttpConfig,
}

impl AppState {
    /// State over `store`, signing cursors with `secret`.
    pub fn new(store: Arc<dyn Store>, secret: &[u8], config: HttpConfig) -> AppState {
        AppState {
            store,
            codec: CursorCodec::new(secret),
            config,
        }
    }

    /// The cursor token for a keyset position of `query`.
    pub(crate) fn cursor(&self, query: &Query, position: &Position) -> String {
        self.codec.encode(fingerprint(query), position)
    }

    /// Decodes the cursor token given in `param` for `query`.
    pub(crate) fn decode_cursor(&self, query: &Query, token: &str, param: &str) -> Result<Position, EngineError> {
        self.codec
            .decode(token, fingerprint(query), &query.sort)
            .map_err(|e| EngineError::cursor(param, e))
    }
}

fn fingerprint(query: &Query) -> Fingerprint {
    Fingerprint::of(&query.schema, &query.filter, &query.sort)
}
