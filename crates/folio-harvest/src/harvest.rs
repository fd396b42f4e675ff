//! The harvest loop: fetch, check, write, checkpoint, until there is no next page.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use folio_engine::projection::assemble;
use folio_engine::value::lookup;
use serde::Serialize;
use serde_json::Value as Json;

use crate::buffers::Buffers;
use crate::checkpoint::Checkpoint;
use crate::detect::detect;
use crate::error::HarvestError;
use crate::fetch::Fetcher;
use crate::plan::{Next, Plan, Response, Total, read};
use crate::request::{Request, number_in, with_param};
use crate::writer::Writer;

/// A fetch on another task. Dropping it aborts the fetch, so no request outlives the
/// harvest or a guess that turned out wrong.
struct Task(tokio::task::JoinHandle<Result<Response, HarvestError>>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Task {
    async fn join(mut self) -> Result<Response, HarvestError> {
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

/// The second page of a walk whose way of paging is a guess: the first page's records, and
/// the other ways to try, each with the request it makes of the first page.
struct Confirming {
    first_page: HashSet<u64>,
    /// Whether the first page declared more records (a total, a page count, a flag): then an
    /// empty second page means the guess was wrong.
    declared_more: bool,
    url: String,
    trying: Next,
    others: VecDeque<(Next, Request)>,
    tried: Vec<String>,
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
    let (mut writer, mut state) = Writer::open(output, resume, options.overwrite, &options.start, buffers.clone())?;
    let mut next = if state.pages == 0 {
        Some(options.start.clone())
    } else {
        state.next.clone()
    };
    let mut plan: Option<Plan> = state.plan.clone();
    let mut first_page = None;
    let mut confirming: Option<Confirming> = None;
    let mut seen_positions: HashSet<u64> = HashSet::new();
    let mut seen_pages: HashSet<u64> = HashSet::new();
    let mut full_page = None;
    let mut fallback: Option<(Request, Next)> = None;
    let mut ended: Option<String> = None;
    let mut said_more: Option<String> = None;
    let mut declared_pages: Option<u64> = None;
    // Page-number walks with a known total fetch up to `concurrency` pages at once: `ahead`
    // holds the pages requested after the one being read, in order.
    let mut ahead: VecDeque<Pending> = VecDeque::new();

    let summary = |state: &Checkpoint, next: &Option<Request>, ended: &Option<String>| Summary {
        plan: state.plan.clone(),
        records: state.records,
        pages: state.pages,
        retries: fetcher.retries(),
        seconds: started.elapsed().as_secs_f64(),
        declared: state.declared,
        complete: next.is_none(),
        ended: ended.clone(),
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
        && !options.next.as_ref().is_some_and(Next::guessed);

    let mut pending = match &next {
        Some(request) if !limit_reached(&state) => Some(start(request, &mut seen_positions)?),
        _ => None,
    };
    while let Some(Pending { request, task, link }) = pending.take() {
        let mut early: Option<Pending> = None;
        if guess_early
            && confirming.is_none()
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
        let fetched = task.join().await;
        // The second page of a guessed way of paging: refused, or the first page again, means
        // the guess was wrong; the next way is tried, and nothing is written.
        if let Some(trial) = &mut confirming {
            let wrong = match &fetched {
                Err(HarvestError::Status {
                    status: code @ 400..=499,
                    ..
                }) => Some(format!("{} answered {code}", trial.trying)),
                Ok(response) => {
                    let current = plan.clone().map(|p| Plan {
                        next: trial.trying.clone(),
                        ..p
                    });
                    match current.as_ref().map(|p| read(p, &request, response, full_page)) {
                        Some(Ok(page)) if page.records.iter().any(|r| trial.first_page.contains(&hash(r))) => {
                            Some(format!("{} gave records of the first page again", trial.trying))
                        }
                        Some(Ok(page)) if page.records.is_empty() && trial.declared_more => Some(format!(
                            "{} gave an empty page where the first declared more",
                            trial.trying
                        )),
                        _ => None,
                    }
                }
                Err(_) => None,
            };
            if let Some(why) = wrong {
                trial.tried.push(why);
                let Some((other, retry)) = trial.others.pop_front() else {
                    return Err(HarvestError::NotConfirmed {
                        url: trial.url.clone(),
                        tried: trial.tried.join("; "),
                    });
                };
                tracing::debug!(tried = %trial.tried.join("; "), next = %other, "trying another way to the second page");
                trial.trying = other.clone();
                if let Some(p) = &mut plan {
                    p.next = other;
                }
                pending = Some(start(&retry, &mut seen_positions)?);
                continue;
            }
        }
        if let Some(trial) = confirming.take() {
            // Confirmed: the plan is final from here on.
            if let Some(p) = &mut plan {
                p.next = trial.trying;
            }
            state.plan = plan.clone();
        }
        let response = match (fetched, fallback.take()) {
            // Page numbers refused past a depth limit (as JSON:API-style APIs do past 10,000
            // records): go on with the cursor link the last page offered, from the same place.
            (Err(HarvestError::Status { status: 400 | 422, .. }), Some((link, link_next))) if first_page.is_some() => {
                tracing::info!(next = %link.url, "page numbers refused past a depth limit; following the cursor link");
                ahead.clear();
                if let Some(p) = &mut plan {
                    p.next = link_next;
                }
                state.plan = plan.clone();
                first_page = None;
                state.cursors = true;
                pending = Some(start(&link, &mut seen_positions)?);
                continue;
            }
            (fetched, _) => fetched?,
        };
        // The plan is detected on the first page (of a walk, or of a checkpoint that has none).
        let (current, alternatives) = match &mut plan {
            Some(plan) => (&*plan, None),
            slot @ None => {
                let detected = detect(
                    &request,
                    &response,
                    options.next.as_ref(),
                    options.records_path.as_deref(),
                )?;
                (&*slot.insert(detected.plan), Some(detected.alternatives))
            }
        };
        let page = read(current, &request, &response, full_page)?;
        if let Some(alternatives) = alternatives {
            // The first page: if the way to the second is a guess, it is checked there.
            if current.next.guessed() && page.next.is_some() && !state.cursors {
                let mut others = VecDeque::new();
                for other in &alternatives {
                    let alternative = Plan {
                        next: other.clone(),
                        ..current.clone()
                    };
                    if let Some(request) = read(&alternative, &request, &response, full_page)?.next {
                        others.push_back((other.clone(), request));
                    }
                }
                confirming = Some(Confirming {
                    first_page: page.records.iter().map(|r| hash(r)).collect(),
                    declared_more: page.total.is_some_and(|t| t.value > page.records.len() as u64)
                        || page.pages.is_some_and(|n| n > 1)
                        || page.more.is_some(),
                    url: request.url.clone(),
                    trying: current.next.clone(),
                    others,
                    tried: Vec::new(),
                });
            } else {
                state.plan = Some(current.clone());
            }
            if let Some(fields) = &options.fields {
                check_fields(fields, current, &response, &page.records)?;
            }
        }
        if let (None, Next::Pages { param, first }) = (&first_page, &current.next)
            && !state.cursors
        {
            first_page = Some((param.clone(), number_in(&options.start, param)?.unwrap_or(*first)));
        }
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
        let mut lines = buffers.take();
        lines.reserve(unseen[..take].iter().map(|text| text.len() + 1).sum());
        let shape = Shape::of(current, &response, options.fields.as_deref());
        for &text in &unseen[..take] {
            shape.write(text, &mut lines)?;
        }
        state.records += take as u64;
        state.pages += 1;
        state.declared = page.total.or(state.declared);
        said_more = page.more.clone();
        declared_pages = page.pages.or(declared_pages);
        let empty = page.records.is_empty();
        next = if take < unseen.len() {
            state.skip = (skip + take) as u64;
            Some(request)
        } else {
            page.next
        };
        if next.is_none() {
            ended = Some(current.next.ended(empty));
        }
        let page_count = page.pages;
        buffers.give(response.body.into_text().into_bytes());
        // Page-number and offset walks also stop at an exact declared total, without asking
        // for an empty page.
        let numbered = matches!(current.next, Next::Pages { .. } | Next::Offsets { .. });
        if numbered
            && next.is_some()
            && state
                .declared
                .is_some_and(|total| total.exact && state.records >= total.value)
        {
            next = None;
            ended = Some("the declared total was reached".into());
        }
        state.next = next.clone();
        let stop = next.is_none() || limit_reached(&state);

        // The page is handed to the writer before the next request is checked, so that an
        // error there loses none of its records.
        writer.write(lines, &state).await?;
        progress(&summary(&state, &next, &ended));
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
        if let (Some((param, first)), Some(in_order), None) = (&first_page, &pending, &confirming)
            && options.concurrency > 1
            && let Some(last) = last_page(*first, page_count, state.declared, full_page)
        {
            let scheduled = number_in(&in_order.request, param)?.unwrap_or(*first) + ahead.len() as u64;
            // In flight: the next page, `ahead`, and no more than --max-pages allows.
            let mut room = (options.concurrency - 1).saturating_sub(ahead.len()) as u64;
            if let Some(max) = options.max_pages {
                room = room.min(max.saturating_sub(state.pages + 1 + ahead.len() as u64));
            }
            for number in scheduled + 1..=last.min(scheduled + room) {
                let request = with_param(&options.start, param, &number.to_string())?;
                ahead.push_back(start(&request, &mut seen_positions)?);
            }
        }
    }

    writer.finish()?;
    if next.is_some() && limit_reached(&state) {
        ended = Some(match options.max_records {
            Some(max) if state.records >= max => format!("--max-records {max} was reached"),
            _ => format!("--max-pages {} was reached", options.max_pages.unwrap_or_default()),
        });
    }
    let mut result = summary(&state, &next, &ended);
    // A walk that ended while the API said there was more ended early: not complete.
    let early = result.complete.then(|| {
        let short = state
            .declared
            .filter(|total| total.exact && state.records < total.value)
            .map(|total| format!("the API declared {} records", total.value))
            .or_else(|| {
                // A page count, where no total is declared, and the walk started at the start.
                declared_pages
                    .filter(|&pages| {
                        state.declared.is_none()
                            && state.pages < pages
                            && !state.cursors
                            && !crate::detect::starts_past_the_first_page(&options.start)
                    })
                    .map(|pages| format!("the API declared {pages} pages and the walk read {}", state.pages))
            });
        said_more
            .map(|said| format!("the last page said there is more ({said})"))
            .or(short)
    });
    if let Some(Some(said)) = &early {
        result.complete = false;
        result.ended = Some(format!("ended early: {said}"));
    }
    if let Output::File(path) = output {
        let mut manifest = path.as_os_str().to_owned();
        manifest.push(".manifest.json");
        let json = serde_json::to_vec_pretty(&result).unwrap_or_default();
        std::fs::write(&manifest, json).map_err(|e| HarvestError::io("cannot write the manifest", e))?;
    }
    if let Some(Some(said)) = early {
        return Err(HarvestError::EndedEarly {
            records: state.records,
            said,
        });
    }
    if result.complete {
        if let (true, Some(total)) = (options.strict, state.declared)
            && total.exact
            && total.value != state.records
        {
            return Err(HarvestError::CountMismatch {
                got: state.records,
                declared: total.value,
            });
        }
        if let Some(total) = state
            .declared
            .filter(|total| !total.exact && state.records < total.value)
        {
            tracing::warn!("the API declared {total} records but {} were received", state.records);
        }
    }
    Ok(result)
}

/// The number of the last page of a page-number walk, from the declared page count or total.
fn last_page(first: u64, pages: Option<u64>, total: Option<Total>, full_page: Option<usize>) -> Option<u64> {
    let count = match (pages, total, full_page) {
        (Some(pages), _, _) => pages,
        (None, Some(total), Some(full)) if full > 0 => total.value.div_ceil(full as u64),
        _ => return None,
    };
    Some(first + count.max(1) - 1)
}

/// Checks that every `--fields` path is in some record of the first page.
fn check_fields(fields: &[String], plan: &Plan, response: &Response, records: &[&str]) -> Result<(), HarvestError> {
    let shape = Shape::of(plan, response, None);
    let parsed: Vec<Json> = records.iter().filter_map(|r| shape.value(r).ok()).collect();
    if parsed.is_empty() {
        return Ok(());
    }
    for path in fields {
        if !parsed.iter().any(|record| field(record, path).is_some()) {
            let mut available: Vec<String> = Vec::new();
            if let Some(Json::Object(first)) = parsed.first() {
                available.extend(first.keys().map(|k| format!("`{k}`")));
                if let Some(Json::Object(attributes)) = first.get("attributes") {
                    available.extend(attributes.keys().map(|k| format!("`{k}`")));
                }
            }
            return Err(HarvestError::NoSuchField {
                path: path.clone(),
                available: if available.is_empty() {
                    "no members".into()
                } else {
                    available.join(", ")
                },
            });
        }
    }
    Ok(())
}

/// The value of `path` in a record, or in its `attributes` (a JSON:API resource).
fn field<'a>(record: &'a Json, path: &str) -> Option<&'a Json> {
    lookup(record, path).or_else(|| record.get("attributes").and_then(|a| lookup(a, path)))
}

/// How records of one page are written: as the server sent them, or rebuilt (named columns,
/// chosen fields, or a record spread over lines).
struct Shape<'a> {
    columns: Option<Vec<String>>,
    fields: Option<&'a [String]>,
    multiline: bool,
}

impl<'a> Shape<'a> {
    fn of(plan: &Plan, response: &Response, fields: Option<&'a [String]>) -> Shape<'a> {
        let columns = plan.columns.as_ref().and_then(|path| {
            let names: Vec<String> = serde_json::from_value(crate::plan::value_at(&response.body, path)?).ok()?;
            Some(names)
        });
        Shape {
            columns,
            fields,
            multiline: response.body.multiline(),
        }
    }

    /// A record as a value: arrays of values named by the columns.
    fn value(&self, text: &str) -> Result<Json, HarvestError> {
        let record: Json = serde_json::from_str(text)
            .map_err(|e| HarvestError::io("cannot read a record", std::io::Error::other(e)))?;
        Ok(match (&self.columns, record) {
            (Some(names), Json::Array(values)) => Json::Object(names.iter().cloned().zip(values).collect()),
            (_, record) => record,
        })
    }

    /// Appends a record as one line.
    fn write(&self, text: &str, lines: &mut Vec<u8>) -> Result<(), HarvestError> {
        if self.columns.is_none() && self.fields.is_none() && (!self.multiline || !text.contains('\n')) {
            // The server's own text.
            lines.extend_from_slice(text.as_bytes());
        } else {
            let record = self.value(text)?;
            let record = match self.fields {
                None => record,
                Some(paths) => assemble(
                    paths
                        .iter()
                        .filter_map(|p| field(&record, p).map(|v| (p.clone(), v.clone()))),
                ),
            };
            serde_json::to_writer(&mut *lines, &record)
                .map_err(|e| HarvestError::io("cannot encode a record", std::io::Error::other(e)))?;
        }
        lines.push(b'\n');
        Ok(())
    }
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
