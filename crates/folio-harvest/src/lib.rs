//! Draining any paginated HTTP API to its end, resumably: the library behind `folio harvest`.
//!
//! # Brief overview
//! - [`harvest`] walks from a first [`Request`] page by page, writing each record as one JSON
//!   line. How the API pages is detected from the first response (a [`Plan`]: where the
//!   records are, where the [`Next`] position comes from, what [`Total`] it declares) and, when
//!   the way to the next page is a guess, confirmed on the second; a walk that ends while the
//!   API said there was more is an error, never a silent success.
//! - Requests that fail in ways that may heal (connection errors, truncated bodies, 429, 5xx)
//!   are retried with backoff and jitter, honouring `Retry-After`; others end the harvest with a
//!   [`HarvestError`] that says why.
//! - A position or a page seen before is a loop and stops the harvest; next links may not
//!   leave the first URL's origin.
//! - Writing to a file, pages are synced in steps on a writer thread and each step recorded in
//!   a [`Checkpoint`], so a killed harvest resumes with every record exactly once.
//! - [`harvest_partitions`] asks a folio server to cut the result into partitions and walks
//!   them at once, each part a harvest with its own checkpoint.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), folio_harvest::HarvestError> {
//! use folio_harvest::{Options, Output, Request, harvest};
//! let options = Options {
//!     start: Request::get("http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1&page[size]=1000"),
//!     next: None,
//!     records_path: None,
//!     fields: None,
//!     headers: Vec::new(),
//!     timeout: std::time::Duration::from_secs(30),
//!     retries: 8,
//!     max_records: None,
//!     max_pages: None,
//!     allow_repeat: false,
//!     follow_any_origin: false,
//!     strict: false,
//!     concurrency: 1,
//!     overwrite: false,
//! };
//! let summary = harvest(&options, &Output::File("entries.jsonl".into()), false, &mut |_| {}).await?;
//! println!("{} records", summary.records);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod body;
mod buffers;
pub mod checkpoint;
mod detect;
mod download;
mod error;
mod fetch;
mod harvest;
mod partitions;
mod plan;
mod request;
mod scan;
mod shape;
mod walk;
mod writer;

pub use checkpoint::Checkpoint;
pub use error::HarvestError;
pub use harvest::{Options, Output, Summary, harvest};
pub use partitions::{MAX_PARTS, Parts, harvest_partitions};
pub use plan::{Next, Plan, Source, Total};
pub use request::Request;
