//! The harvest loop: fetch, check, write, checkpoint, until there is no next page.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use folio_engine::projection::assemble;
use folio_engine::value::lookup;
use serde::Serialize;

use crate::buffers::Buffers;
use crate::checkpoint::Checkpoint;
use crate::error::HarvestError;
use crate::extract::{self, Style};
use crate::fetch::Fetcher;
use crate::request::Request;
use crate::writer::Writer;

/// A fetch on another task. Dropping it aborts the fetch, so no request outlives the
/// harvest or a guess that turned out wrong.
struct Task(tokio::task::JoinHandle<Result<extract::Response, HarvestError>>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Task {
    async fn join(mut self) -> Result<extract::Response, HarvestError> {
        (&mut self.0)
            .await
            .map_err(|e| HarvestError::io("the fetch task failed", std::io::Error::other(e)))?
    }
}

/// A position being fetched, and where its task says, once the answer's headers arrive,
/// which position their `Link` header names next.
struct Pending {
    request: Request,
    task: Task,
    link: tokio::sync::oneshot::Receiver<String>,
}

/// What to harvest and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The first request.
    pub start: Request,
    /// How to find the next page.
    pub style: Style,
    /// Where records are in each body (dotted path), when not where the style puts them.
    pub records_path: Option<String>,
    /// Paths to keep of each record (nesting kept); `None` keeps records whole.
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
    /// Fail when the number of records differs from the declared total.
    pub strict: bool,
    /// Pages fetched at once by page-number walks whose total is known (written in order).
    pub concurrency: usize,
}

/// Where records go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file, with a checkpoint and a manifest beside it.
    File(PathBuf),
}

/// How a harvest went.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Records written (in all runs, when resumed).
    pub records: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Retries made in this run.
    pub retries: u64,
    /// Seconds this run took.
    pub seconds: f64,
    /// The total the API declared, if it did.
    pub declared: Option<u64>,
    /// Whether the walk reached the end.
    pub complete: bool,
    /// Where the walk stopped: the next request, if it did not reach the end.
    pub next: Option<Request>,
}

/// Harvests into `output`; with `resume`, continues from the output file's checkpoint.
/// `progress` is called after every page.
pub async fn harvest(
    options: &Options,
    output: &Output,
    resume: bool,
    progress: &mut (dyn FnMut(&Summary) + Send),
) -> Result<Summary, HarvestError> {
    let started = Instant::now();
    let origin = origin_of(&options.start.url)?;
    let buffers = Buffers::default();
    let fetcher = Fetcher::new(
        options.headers.clone(),
        options.timeout,
        options.retries,
        buffers.clone(),
    )?;
    let (mut writer, mut state) = Writer::open(output, resume, buffers.clone())?;
    let mut next = if state.pages == 0 {
        Some(options.start.clone())
    } else {
        state.next.clone()
    };
    // A walk that switched from page numbers to cursor links stays switched when resumed.
    let mut style = if state.cursors {
        Style::Auto
    } else {
        options.style.clone()
    };
    let mut first_page = match &style {
        Style::Pages { param } => Some((param.clone(), extract::page_of(&options.start, param)?)),
        _ => None,
    };
    let mut seen_positions: HashSet<u64> = HashSet::new();
    let mut seen_pages: HashSet<u64> = HashSet::new();
    let mut full_page = None;
    let mut fallback: Option<Request> = None;
    // Page-number walks with a known total fetch up to `concurrency` pages at once: `ahead`
    // holds the pages requested after the one being read, in order.
    let mut ahead: VecDeque<Pending> = VecDeque::new();

    let summary = |state: &Checkpoint, next: &Option<Request>| Summary {
        records: state.records,
        pages: state.pages,
        retries: fetcher.retries(),
        seconds: started.elapsed().as_secs_f64(),
        declared: state.declared,
        complete: next.is_none(),
        next: next.clone(),
    };
    let limit_reached = |state: &Checkpoint| {
        options.max_pages.is_some_and(|max| state.pages >= max)
            || options.max_records.is_some_and(|max| state.records >= max)
    };
    // Checks a position and starts fetching it on another task, so that the network works
    // while the previous page is written.
    let start = |request: &Request, seen_positions: &mut HashSet<u64>| -> Result<Pending, HarvestError> {
        if !options.follow_any_origin && origin_of(&request.url)? != origin {
            return Err(HarvestError::OtherOrigin {
                next: request.url.clone(),
                origin: origin.clone(),
            });
        }
        if !options.allow_repeat && !seen_positions.insert(hash(&request.position())) {
            return Err(HarvestError::Loop(format!(
                "the server led back to a position it gave before: {}",
                request.position()
            )));
        }
        let (mut fetcher, owned) = (fetcher.clone(), request.clone());
        let (tell, link) = tokio::sync::oneshot::channel();
        let task = Task(tokio::spawn(async move { fetcher.fetch(&owned, Some(tell)).await }));
        Ok(Pending {
            request: request.clone(),
            task,
            link,
        })
    };
    // Requesting the next page from the `Link` header, before this body is read, only pays
    // for GET walks without page or record limits; the guess is checked against the body.
    let guess_early = options.max_pages.is_none()
        && options.max_records.is_none()
        && options.start.body.is_none()
        && !matches!(options.style, Style::Pages { .. } | Style::Offsets { .. });

    let mut pending = match &next {
        Some(request) if !limit_reached(&state) => Some(start(request, &mut seen_positions)?),
        _ => None,
    };
    while let Some(Pending { request, task, link }) = pending.take() {
        let mut early: Option<Pending> = None;
        if guess_early
            && let Ok(href) = link.await
            && let Ok(target) = url::Url::parse(&request.url).and_then(|base| base.join(&href))
        {
            let guess = Request::get(String::from(target));
            // A guess that would leave the origin or revisit a position is not made; the body
            // decides.
            if guess != request {
                early = start(&guess, &mut seen_positions).ok();
                // Let the fetch send its request now: a task spawned from a worker waits in
                // that worker's own slot, which no other worker takes, until this task
                // yields, and the rest of this page is CPU work that does not yield.
                tokio::task::yield_now().await;
            }
        }
        let response = match (task.join().await, fallback.take()) {
            // Page numbers refused past a depth limit (as JSON:API-style APIs do past 10,000
            // records): go on with the cursor link the last page offered, from the same place.
            (Err(HarvestError::Status { status: 400 | 422, .. }), Some(link)) if first_page.is_some() => {
                tracing::info!(next = %link.url, "page numbers refused past a depth limit; following the cursor link");
                ahead.clear();
                style = Style::Auto;
                first_page = None;
                state.cursors = true;
                pending = Some(start(&link, &mut seen_positions)?);
                continue;
            }
            (fetched, _) => fetched?,
        };
        let page = extract::extract(&style, options.records_path.as_deref(), &request, &response, full_page)?;
        full_page.get_or_insert(page.records.len());
        fallback = page.link.clone();
        if !options.allow_repeat && !page.records.is_empty() {
            // A fast 64-bit hash: chance collisions are negligible even over millions of
            // pages, and a server gains nothing by forging one.
            let mut hasher = foldhash::quality::FixedState::default().build_hasher();
            for record in &page.records {
                hasher.write(record.as_bytes());
                hasher.write_u8(b'\n'); // so that [1,23] and [12,3] differ
            }
            if !seen_pages.insert(hasher.finish()) {
                return Err(HarvestError::Loop(format!(
                    "{} returned a page it had returned before, under another position",
                    request.url
                )));
            }
        }
        // Records of this page written before a stop at --max-records are not written again.
        let skip = usize::try_from(std::mem::take(&mut state.skip))
            .unwrap_or(usize::MAX)
            .min(page.records.len());
        let unseen = &page.records[skip..];
        let take = match options.max_records {
            Some(max) => unseen
                .len()
                .min(usize::try_from(max.saturating_sub(state.records)).unwrap_or(usize::MAX)),
            None => unseen.len(),
        };
        let multiline = response.body.multiline();
        let mut lines = buffers.take();
        lines.reserve(unseen[..take].iter().map(|text| text.len() + 1).sum());
        for &text in &unseen[..take] {
            match &options.fields {
                // The server's own text, unless it spans lines (pretty-printed JSON).
                None if !multiline || !text.contains('\n') => lines.extend_from_slice(text.as_bytes()),
                fields => {
                    let record: serde_json::Value = serde_json::from_str(text)
                        .map_err(|e| HarvestError::io("cannot read a record", std::io::Error::other(e)))?;
                    let record = match fields {
                        None => record,
                        Some(paths) => assemble(
                            paths
                                .iter()
                                .filter_map(|p| lookup(&record, p).map(|v| (p.clone(), v.clone()))),
                        ),
                    };
                    serde_json::to_writer(&mut lines, &record)
                        .map_err(|e| HarvestError::io("cannot encode a record", std::io::Error::other(e)))?;
                }
            }
            lines.push(b'\n');
        }
        state.records += take as u64;
        state.pages += 1;
        state.declared = page.total.or(state.declared);
        next = if take < unseen.len() {
            state.skip = (skip + take) as u64;
            Some(request)
        } else {
            page.next
        };
        buffers.give(response.body.into_text().into_bytes());
        // Page-number and offset walks also stop at the declared total, without asking for
        // an empty page.
        let numbered = matches!(style, Style::Pages { .. } | Style::Offsets { .. });
        if numbered && state.declared.is_some_and(|total| state.records >= total) {
            next = None;
        }
        state.next = next.clone();
        let stop = next.is_none() || limit_reached(&state);

        // The page is handed to the writer before the next request is checked, so that an
        // error there loses none of its records.
        writer.write(lines, &state).await?;
        progress(&summary(&state, &next));
        let Some(next_request) = next.as_ref().filter(|_| !stop) else {
            break;
        };

        // Adopt a request already under way when it is the one the body names.
        let guessed = match early {
            Some(guess) if guess.request == *next_request => Some(guess),
            Some(wrong) => {
                seen_positions.remove(&hash(&wrong.request.position()));
                None
            }
            None => None,
        };
        let queued = match ahead.front() {
            Some(front) if front.request == *next_request => ahead.pop_front(),
            Some(_) => {
                ahead.clear();
                None
            }
            None => None,
        };
        pending = Some(match guessed.or(queued) {
            Some(under_way) => under_way,
            None => start(next_request, &mut seen_positions)?,
        });
        if let (Some((param, first)), Some(total), Some(full), Some(in_order)) =
            (&first_page, state.declared, full_page, &pending)
            && options.concurrency > 1
            && full > 0
        {
            let last = first + total.div_ceil(full as u64).max(1) - 1;
            let scheduled = extract::page_of(&in_order.request, param)? + ahead.len() as u64;
            // In flight: the next page, `ahead`, and no more than --max-pages allows.
            let mut room = (options.concurrency - 1).saturating_sub(ahead.len()) as u64;
            if let Some(max) = options.max_pages {
                room = room.min(max.saturating_sub(state.pages + 1 + ahead.len() as u64));
            }
            for number in scheduled + 1..=last.min(scheduled + room) {
                let request = extract::page_request(&options.start, param, number)?;
                ahead.push_back(start(&request, &mut seen_positions)?);
            }
        }
    }

    writer.finish()?;
    let result = summary(&state, &next);
    if let Output::File(path) = output {
        let mut manifest = path.as_os_str().to_owned();
        manifest.push(".manifest.json");
        let json = serde_json::to_vec_pretty(&result).unwrap_or_default();
        std::fs::write(&manifest, json).map_err(|e| HarvestError::io("cannot write the manifest", e))?;
    }
    if let (true, true, Some(declared)) = (result.complete, options.strict, state.declared)
        && declared != state.records
    {
        return Err(HarvestError::CountMismatch {
            got: state.records,
            declared,
        });
    }
    Ok(result)
}

fn origin_of(url: &str) -> Result<String, HarvestError> {
    let parsed = url::Url::parse(url).map_err(|e| HarvestError::Url {
        url: url.to_owned(),
        source: e,
    })?;
    Ok(parsed.origin().ascii_serialization())
}

fn hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}
