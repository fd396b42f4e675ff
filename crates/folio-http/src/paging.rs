//! The paging every style's parser targets: a page size with its offset window, page numbers
//! checked against it, cursor positions, and one plan.
//!
//! Styles differ in what they call things (`page[number]`, `page`, `limit`, `per_page`) and
//! in how they render; what a page number means, where the window ends and how a request
//! becomes a store read are written here once.

use folio_engine::limits::parse_count;
use folio_engine::{EngineError, Limits, Plan, Position};
use folio_store::{Count, PageResult, Query};

use crate::error::ApiError;
use crate::params::invalid;
use crate::state::{AppState, Reading};

/// Where a request's page starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum At {
    /// A 1-based page number, within the offset window.
    Number(u64),
    /// A keyset position: the start, after or before a key, or the end.
    Position(Position),
}

/// A checked list request in the terms every style shares: what to read, how many records,
/// and from where.
#[derive(Debug, Clone)]
pub(crate) struct Paging {
    /// The query, bound to the collection the caller may read.
    pub(crate) reading: Reading,
    /// The page size and its offset window.
    pub(crate) window: Window,
    /// Where the page starts.
    pub(crate) at: At,
}

impl Paging {
    /// The query.
    pub(crate) fn query(&self) -> &Query {
        self.reading.query()
    }

    /// The page size.
    pub(crate) fn size(&self) -> u64 {
        self.window.size
    }

    /// The page number, when the request asked for one.
    pub(crate) fn number(&self) -> Option<u64> {
        match self.at {
            At::Number(n) => Some(n),
            At::Position(_) => None,
        }
    }

    /// Whether links may name page `n`: within the offset window; or, for a page read
    /// through the result's page map (so the map exists, at this page's generation), as deep
    /// as maps reach. Other links past the window are cursors, so every link resolves.
    pub(crate) fn linkable(&self, n: u64) -> bool {
        let through_map = matches!(self.at, At::Number(number) if !self.window.within(number));
        self.window.within(n) || (through_map && self.window.mapped(n))
    }

    /// Where the page starts, as the engine takes it.
    pub(crate) fn position(&self) -> Position {
        match &self.at {
            At::Number(n) => Position::Offset(self.window.offset(*n)),
            At::Position(p) => p.clone(),
        }
    }

    /// The plan of the page: bounded to its partition's end, in a partition's walk.
    pub(crate) fn plan(&self) -> Plan {
        self.reading.plan(self.position(), self.size())
    }

    /// Reads the page, with the total `count` asks for (none in a partition's walk, whose
    /// pages are a part of the result the total counts; in a snapshot walk, the one its first
    /// page counted): page numbers within the offset window as offsets, deeper ones through
    /// the result's page map ([`crate::maps`]). A cursor walk reads the snapshot its cursor
    /// carries; otherwise, with snapshots on, the page's moment becomes the snapshot that
    /// its cursors carry.
    pub(crate) async fn run(&mut self, state: &AppState, count: Count) -> Result<PageResult, ApiError> {
        let carried = self.reading.snapshot().map(|s| s.total);
        let wanted = count != Count::Skip;
        let count = if self.reading.until().is_some() || carried.is_some() {
            Count::Skip
        } else {
            count
        };
        let mut page = self
            .read(state, count)
            .await
            .map_err(|e| e.in_param(self.reading.cursor_param().unwrap_or("cursor")))?;
        if let Some(total) = carried {
            page.total = total
                .filter(|_| wanted)
                .map(|(count, exact)| folio_store::Total { count, exact });
        }
        if !state.config.snapshot_retention.is_zero() {
            self.reading.fix_snapshot(&page);
        }
        Ok(page)
    }

    /// Reads the page as [`Paging::run`] says.
    async fn read(&self, state: &AppState, count: Count) -> Result<PageResult, ApiError> {
        match (&self.at, &self.window.asked) {
            (At::Number(n), Some(asked)) if !self.window.within(*n) => {
                let mapped = state.config.page_maps;
                let offset = self.window.offset(*n);
                let refused = |why: Option<&str>| {
                    let instead = match why {
                        None => asked.instead.to_owned(),
                        Some(why) => format!("{} (or retry in a few seconds: {why})", asked.instead),
                    };
                    ApiError::from(EngineError::OffsetWindowExceeded {
                        param: asked.param.clone(),
                        offset,
                        size: self.size(),
                        max: self.window.limits.max_offset.unwrap_or(u64::MAX),
                        instead,
                    })
                };
                if !mapped {
                    return Err(refused(None));
                }
                state
                    .mapped_page(&self.reading, offset, self.size(), count, refused)
                    .await
            }
            _ => state.page(&self.reading, &self.plan(), count).await,
        }
    }
}

/// The page number parameter a request used, and the cursor method to use instead of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asked {
    param: String,
    instead: &'static str,
}

/// How deep page numbers may reach at all: as deep as a page map reaches.
const MAX_MAPPED_DEPTH: u64 = 100_000_000;

/// A page size and the offset window for it: which page numbers a request may ask for and
/// a response may link to (links past it switch to the style's cursors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    limits: Limits,
    size: u64,
    /// The page number parameter, once a page number is asked for.
    asked: Option<Asked>,
}

impl Window {
    /// The page size given as `text` in `param` (the default when absent), checked against
    /// `limits`.
    pub(crate) fn sized(limits: Limits, text: Option<&str>, param: &str) -> Result<Window, ApiError> {
        let size = limits.parse_size(text, param)?;
        Ok(Window {
            limits,
            size,
            asked: None,
        })
    }

    /// The limits the window comes from.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    fn offset(&self, number: u64) -> u64 {
        (number - 1).saturating_mul(self.size)
    }

    /// Whether page `number` is within the window.
    pub(crate) fn within(&self, number: u64) -> bool {
        self.limits.check_offset(self.offset(number), self.size, "", "").is_ok()
    }

    /// The limits of page numbers read through page maps: as deep as maps reach.
    fn mapped_limits(&self) -> Limits {
        Limits {
            max_offset: Some(MAX_MAPPED_DEPTH),
            ..self.limits
        }
    }

    /// Whether page `number` is as deep as page maps reach.
    fn mapped(&self, number: u64) -> bool {
        self.mapped_limits()
            .check_offset(self.offset(number), self.size, "", "")
            .is_ok()
    }

    /// Page `number`, given in `param`. Within the window it is read as an offset; past it,
    /// through the result's page map, as deep as a map reaches (deeper: a 422 that names what
    /// to use `instead`).
    pub(crate) fn page(&mut self, number: u64, param: &str, instead: &'static str) -> Result<At, ApiError> {
        self.mapped_limits()
            .check_offset(self.offset(number), self.size, param, instead)?;
        self.asked = Some(Asked {
            param: param.to_owned(),
            instead,
        });
        Ok(At::Number(number))
    }

    /// How many pages `total` records fill (none for pages of size 0).
    pub(crate) fn pages(&self, total: u64) -> u64 {
        if self.size == 0 { 0 } else { total.div_ceil(self.size) }
    }
}

/// The 1-based page number given as `text` in `param`, if given.
pub(crate) fn page_number(text: Option<&str>, param: &str) -> Result<Option<u64>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    match parse_count(text, param, "a whole number from 1")? {
        0 => Err(invalid(param, "is 0; pages start at 1".into())),
        n => Ok(Some(n)),
    }
}
