//! The paging every style's parser targets: a page size with its offset window, page numbers
//! checked against it, cursor positions, and one plan.
//!
//! Styles differ in what they call things (`page[number]`, `page`, `limit`, `per_page`) and
//! in how they render; what a page number means, where the window ends and how a request
//! becomes a store read are written here once.

use folio_engine::limits::parse_count;
use folio_engine::page::plan;
use folio_engine::{Limits, Plan, Position};
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

    /// Where the page starts, as the engine takes it.
    pub(crate) fn position(&self) -> Position {
        match &self.at {
            At::Number(n) => Position::Offset(self.window.offset(*n)),
            At::Position(p) => p.clone(),
        }
    }

    /// The plan of the page.
    pub(crate) fn plan(&self) -> Plan {
        plan(&self.query().sort, self.position(), self.size())
    }

    /// Reads the page, with the total `count` asks for.
    pub(crate) async fn run(&self, state: &AppState, count: Count) -> Result<PageResult, ApiError> {
        state.page(&self.reading, &self.plan(), count).await
    }
}

/// A page size and the offset window for it: which page numbers a request may ask for and
/// a response may link to (links past it switch to the style's cursors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    limits: Limits,
    size: u64,
}

impl Window {
    /// The page size given as `text` in `param` (the default when absent), checked against
    /// `limits`.
    pub(crate) fn sized(limits: Limits, text: Option<&str>, param: &str) -> Result<Window, ApiError> {
        let size = limits.parse_size(text, param)?;
        Ok(Window { limits, size })
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

    /// Page `number`, given in `param`, checked to be within the window: past it, a 422 that
    /// names what to use `instead`.
    pub(crate) fn page(&self, number: u64, param: &str, instead: &str) -> Result<At, ApiError> {
        self.limits
            .check_offset(self.offset(number), self.size, param, instead)?;
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
