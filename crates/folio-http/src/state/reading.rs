//! The access rule as types: a page is read for a [`Reading`], which only a [`Readable`]
//! makes, which only [`super::AppState::readable`] makes, after the access check.
//!
//! So a style, present or future, cannot read a collection the caller may not read: code
//! that skips the check has no `Reading` to pass and does not compile.

use std::sync::{Arc, OnceLock};

use folio_engine::page::Key;
use folio_engine::projection::Projection;
use folio_engine::{CollectionSchema, CursorCodec, EngineError, Filter, Fingerprint, Plan, Position, Snapshot, Sort};
use folio_store::{Moment, PageResult, Query};

use crate::error::ApiError;

/// A collection the caller may read: its schema, and the principal it is read as (what
/// cursors are bound to: `None` for anonymous callers and for every public collection).
#[derive(Debug, Clone)]
pub struct Readable {
    schema: Arc<CollectionSchema>,
    reader: Option<Arc<str>>,
}

impl Readable {
    /// Only [`super::AppState::readable`] calls this, after the access check.
    pub(super) fn checked(schema: Arc<CollectionSchema>, reader: Option<&str>) -> Readable {
        Readable {
            schema,
            reader: reader.map(Arc::from),
        }
    }

    /// A collection taken as readable without a check, read as `reader`: for running the
    /// styles' parsers outside a server (their tests and fuzz targets). Built only with the
    /// `testing` feature, so no server code can skip the check through it.
    #[cfg(feature = "testing")]
    pub fn unchecked(schema: Arc<CollectionSchema>, reader: Option<&str>) -> Readable {
        Readable::checked(schema, reader)
    }

    /// The collection's schema.
    pub fn schema(&self) -> &Arc<CollectionSchema> {
        &self.schema
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// The principal the collection is read as.
    pub fn reader(&self) -> Option<&str> {
        self.reader.as_deref()
    }

    /// A query of this collection, bound to the principal it is read as.
    pub fn reading(&self, filter: Filter, sort: Sort, fields: Option<Projection>) -> Reading {
        Reading {
            query: Query {
                schema: Arc::clone(&self.schema),
                filter,
                sort,
                fields,
                at: None,
            },
            reader: self.reader.clone(),
            fingerprint: OnceLock::new(),
            until: None,
            snapshot: None,
            cursor_param: None,
        }
    }
}

/// A query of a collection the caller may read, and the scope its cursors are bound to (the
/// query and, on a private collection, the principal): what a page read needs.
///
/// Search-after keys (`transparent`) are values a client may read and write, not
/// credentials, so they are bound to nothing; requests that carry them pass the same access
/// check as any other.
#[derive(Debug, Clone)]
pub struct Reading {
    query: Query,
    reader: Option<Arc<str>>,
    /// Worked out once, on first use: styles that take no cursors never need it.
    fingerprint: OnceLock<Fingerprint>,
    /// The key of the last record of a bounded walk (a partition's), taken from its cursor:
    /// its pages stop there, and its cursors carry it on (empty for the last partition, which
    /// runs to the result's end).
    until: Option<Key>,
    /// The moment a snapshot walk reads (taken from its cursor, or from its first page), and
    /// the total that page counted: its cursors carry it on.
    snapshot: Option<Snapshot>,
    /// The parameter the walk's cursor came in, once decoded.
    cursor_param: Option<String>,
}

impl Reading {
    /// The collection, filter, sort and projection.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// What its cursors are bound to: the query and the principal.
    fn fingerprint(&self) -> Fingerprint {
        *self.fingerprint.get_or_init(|| {
            let q = &self.query;
            Fingerprint::for_reader(&q.schema, &q.filter, &q.sort, self.reader.as_deref())
        })
    }

    /// The plan of the page of `size` records from `position`, ending where this walk's
    /// partition ends when it walks one.
    pub(crate) fn plan(&self, position: Position, size: u64) -> Plan {
        let sort = &self.query.sort;
        let planned = folio_engine::page::plan(sort, position, size);
        match &self.until {
            None => planned,
            Some(until) => planned.until(sort, until.clone()),
        }
    }

    /// The key of the last record this walk may reach, when it walks a partition.
    pub(crate) fn until(&self) -> Option<&Key> {
        self.until.as_ref()
    }

    /// The cursor token for a position of this query (within its partition, if it walks
    /// one), signed with `codec`. The start of a partition is a token too.
    pub(crate) fn cursor(&self, codec: &CursorCodec, position: &Position) -> String {
        codec.encode_walk(
            self.fingerprint(),
            position,
            self.until.as_deref(),
            self.snapshot.as_ref(),
        )
    }

    /// The cursor token of this query's whole result (through the end of its partition, when
    /// it walks one) at its snapshot, when it reads one: what a download names in its
    /// `Folio-Cursor` header.
    pub(crate) fn start_cursor(&self, codec: &CursorCodec) -> String {
        codec.encode_walk(
            self.fingerprint(),
            &Position::Start,
            Some(self.until.as_deref().unwrap_or(&[])),
            self.snapshot.as_ref(),
        )
    }

    /// The parameter the walk's cursor came in, when it came in one.
    pub(crate) fn cursor_param(&self) -> Option<&str> {
        self.cursor_param.as_deref()
    }

    /// The snapshot this walk reads, when it reads one.
    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// Makes this walk a snapshot walk at the moment `page` shows (its first page's, read
    /// from a store that keeps versions), with the total it counted, unless it already is one:
    /// its cursors carry that moment, and its query reads at it from then on.
    pub(crate) fn fix_snapshot(&mut self, page: &PageResult) {
        if let (None, Some(moment)) = (&self.snapshot, page.moment) {
            self.snapshot = Some(Snapshot {
                generation: moment.generation,
                at_ms: moment.at_ms,
                total: page.total.map(|t| (t.count, t.exact)),
            });
            self.query.at = Some(moment);
        }
    }

    /// This reading, keeping only the paths of `fields` of each record.
    pub(crate) fn project(&mut self, fields: Projection) {
        self.query.fields = Some(fields);
    }

    /// This reading of the records' keys alone (no path of their documents).
    pub(crate) fn keys_only(&self) -> Reading {
        let mut keys = self.clone();
        keys.query.fields = Some(Projection::none());
        keys
    }

    /// This reading, narrowed to the record whose id is `id` (given in `param`), keys only:
    /// what reads where that record stands in the result, at the walk's moment.
    pub(crate) fn only(&self, id: &str, param: &str) -> Result<Reading, ApiError> {
        let mut narrowed = self.keys_only();
        let query = &mut narrowed.query;
        query
            .filter
            .push_text(&query.schema, &query.schema.id_path, "eq", id, param)?;
        Ok(narrowed)
    }

    /// The cursor token that starts the walk of the part of this query's result after
    /// `after` (from the start when `None`) through `until` (to the end when `None`), reading
    /// the result at `moment` when given (a snapshot walk without a total: the part's size is
    /// the map's).
    pub(crate) fn partition_cursor(
        &self,
        codec: &CursorCodec,
        after: Option<&Key>,
        until: Option<&Key>,
        moment: Option<Moment>,
    ) -> String {
        let position = after.map_or(Position::Start, |key| Position::After(key.clone()));
        let snapshot = moment.map(|m| Snapshot {
            generation: m.generation,
            at_ms: m.at_ms,
            total: None,
        });
        codec.encode_walk(
            self.fingerprint(),
            &position,
            Some(until.map_or(&[][..], Vec::as_slice)),
            snapshot.as_ref(),
        )
    }

    /// Decodes the cursor token given in `param`, and bounds this walk where the token says
    /// (a partition's cursor): a token issued for another query, or to another principal, is
    /// a `cursor-query-mismatch`.
    pub(crate) fn decode(&mut self, codec: &CursorCodec, token: &str, param: &str) -> Result<Position, ApiError> {
        let cursor = codec
            .decode(token, self.fingerprint(), &self.query.sort)
            .map_err(|e| ApiError::from(EngineError::cursor(param, e)))?;
        self.until = cursor.until;
        self.snapshot = cursor.snapshot;
        self.cursor_param = Some(param.to_owned());
        self.query.at = cursor.snapshot.map(|s| Moment {
            generation: s.generation,
            at_ms: s.at_ms,
        });
        Ok(cursor.position)
    }
}
