//! The harvest: what to harvest and how ([`Options`]), where records go ([`Output`]), and how it
//! went ([`Summary`]). The walk itself is [`crate::walk`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::HarvestError;
use crate::plan::{Next, Plan, Total};
use crate::request::Request;
use crate::walk::Walk;

/// What to harvest and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The first request.
    pub start: Request,
    /// How to find the next page; `None` detects it from the first responses.
    pub next: Option<Next>,
    /// Where records are in each body (dotted path), when not where detection finds them.
    pub records_path: Option<String>,
    /// Paths to keep of each record (nesting kept); `None` keeps records whole. A path is
    /// looked up in the record, then in its `attributes` (JSON:API resources).
    pub fields: Option<Vec<String>>,
    /// Headers sent with every request (only to the first URL's origin).
    pub headers: Vec<(String, String)>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retries of one request before giving up.
    pub retries: u32,
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// Stop after this many pages.
    pub max_pages: Option<u64>,
    /// Do not treat a repeated position or page as a loop.
    pub allow_repeat: bool,
    /// Follow next links to other origins.
    pub follow_any_origin: bool,
    /// Fail when the number of records differs from the exact total the API declared.
    pub strict: bool,
    /// Pages fetched at once by page-number walks whose total is known (written in order).
    pub concurrency: usize,
    /// Replace an output file that holds records (without a checkpoint of this walk).
    pub overwrite: bool,
}

/// Where records go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file, with a checkpoint and a manifest beside it.
    File(PathBuf),
    /// Nowhere: the walk is only looked at (`folio harvest --explain`).
    Discard,
}

/// How a harvest went.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// How the walk reads its pages, once detected.
    pub plan: Option<Plan>,
    /// Records written (in all runs, when resumed).
    pub records: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Retries made in this run.
    pub retries: u64,
    /// Seconds this run took.
    pub seconds: f64,
    /// The total the API declared, if it did.
    pub declared: Option<Total>,
    /// Whether the walk reached the end.
    pub complete: bool,
    /// Why the walk ended.
    pub ended: Option<String>,
    /// Where the walk stopped: the next request, if it did not reach the end.
    pub next: Option<Request>,
}

/// Harvests into `output`; with `resume`, continues from the output file's checkpoint.
/// `progress` is called after every page. A folio download (`.../export/{collection}.ndjson`)
/// is one streamed response, resumed after its last whole record when it breaks.
pub async fn harvest(
    options: &Options,
    output: &Output,
    resume: bool,
    progress: &mut (dyn FnMut(&Summary) + Send),
) -> Result<Summary, HarvestError> {
    if crate::download::is_download(&options.start.url) {
        return crate::download::harvest(options, output, resume, progress).await;
    }
    let mut walk = Walk::open(options, output, resume)?;
    let mut pending = walk.first()?;
    while let Some(fetch) = pending.take() {
        pending = walk.step(fetch, progress).await?;
    }
    walk.finish(output)
}
