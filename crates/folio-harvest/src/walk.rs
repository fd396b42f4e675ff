//! The walk from page to page: fetch, check, write, checkpoint, until there is no next page.
//!
//! A [`Walk`] holds where the harvest stands; each of its methods is one phase of a page:
//! fetching a position ([`fetches`]), confirming a guessed way of paging on the second page,
//! reading and writing the page, choosing the next position and the window of page numbers
//! fetched at once, and, at the end ([`end`]), the checks of a walk that ended early and the
//! summary.

mod end;
pub(crate) use end::write_manifest;
mod fetches;

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Instant;

use crate::buffers::Buffers;
use crate::checkpoint::Checkpoint;
use crate::detect::detect;
use crate::error::HarvestError;
use crate::fetch::Fetcher;
use crate::harvest::{Options, Output, Summary};
use crate::plan::{Next, Page, Plan, Response, read};
use crate::request::{Request, number_in};
use crate::shape::{Shape, check_fields};
use crate::writer::{Existing, Writer};

pub(crate) use fetches::Pending;
use fetches::{Fetches, Numbers, last_page};

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

/// One page being read: its request, the response, and the plan that reads it.
struct Reading<'r> {
    plan: &'r Plan,
    request: &'r Request,
    response: &'r Response,
}

impl Confirming {
    /// The trial of the guess of `at.plan`, from the first page (`page`, as that plan read it),
    /// with the `alternatives` to try if the second page shows it wrong.
    fn of(
        at: &Reading<'_>,
        page: &Page<'_>,
        alternatives: Vec<Next>,
        full_page: Option<usize>,
    ) -> Result<Confirming, HarvestError> {
        let mut others = VecDeque::new();
        for other in alternatives {
            let alternative = Plan {
                next: other.clone(),
                ..at.plan.clone()
            };
            if let Some(request) = read(&alternative, at.request, at.response, full_page)?.next {
                others.push_back((other, request));
            }
        }
        Ok(Confirming {
            first_page: page.records.iter().map(|r| hash(r)).collect(),
            declared_more: page.total.is_some_and(|t| t.value > page.records.len() as u64)
                || page.pages.is_some_and(|n| n > 1)
                || page.more.is_some(),
            url: at.request.url.clone(),
            trying: at.plan.next.clone(),
            others,
            tried: Vec::new(),
        })
    }
}

/// What became of a fetch: a response to read, or another fetch in its place.
enum Answer {
    Response(Response),
    Instead(Pending),
}

/// A harvest under way: where it stands, and what it has learnt of the API so far.
pub(crate) struct Walk<'a> {
    options: &'a Options,
    started: Instant,
    buffers: Buffers,
    fetches: Fetches<'a>,
    writer: Writer,
    /// Where the harvest stands, as its checkpoint records it.
    state: Checkpoint,
    /// The next position; `None` once the walk reached the end.
    next: Option<Request>,
    /// How pages are read, once detected, given or resumed.
    plan: Option<Plan>,
    /// The page numbers of a page-number walk (not once it follows cursor links instead).
    numbers: Option<Numbers>,
    /// The guess being checked on the second page, if the way of paging is one.
    confirming: Option<Confirming>,
    /// Every page read (hashed), to notice a server that answers one again.
    seen_pages: HashSet<u64>,
    /// The number of records of the first page read.
    full_page: Option<usize>,
    /// The next page as the last page's link names it, and the plan that follows such links.
    fallback: Option<(Request, Next)>,
    /// Why the walk ended.
    ended: Option<String>,
    /// What the last page said of more records.
    said_more: Option<String>,
    /// The number of pages the API declared.
    declared_pages: Option<u64>,
    /// Whether the next page is requested from the `Link` header before the body is read.
    link_ahead: bool,
}

impl<'a> Walk<'a> {
    /// Opens `output` (resuming its checkpoint with `resume`) for a walk of `options`.
    pub(crate) fn open(options: &'a Options, output: &Output, resume: bool) -> Result<Walk<'a>, HarvestError> {
        let started = Instant::now();
        let origin = origin_of(&options.start.url)?;
        let buffers = Buffers::default();
        let fetcher = Fetcher::new(
            options.headers.clone(),
            options.timeout,
            options.retries,
            buffers.clone(),
        )?;
        let existing = Existing::of(resume, options.overwrite);
        let (writer, state) = Writer::open(output, existing, &options.start, buffers.clone())?;
        let next = if state.pages == 0 {
            Some(options.start.clone())
        } else {
            state.next.clone()
        };
        // Requesting the next page from the `Link` header, before this body is read, only pays
        // for GET walks without page or record limits; the guess is checked against the body.
        let link_ahead = options.max_pages.is_none()
            && options.max_records.is_none()
            && options.start.body.is_none()
            && !options.next.as_ref().is_some_and(Next::guessed);
        Ok(Walk {
            options,
            started,
            buffers,
            fetches: Fetches::new(options, origin, fetcher),
            writer,
            plan: state.plan.clone(),
            state,
            next,
            numbers: None,
            confirming: None,
            seen_pages: HashSet::new(),
            full_page: None,
            fallback: None,
            ended: None,
            said_more: None,
            declared_pages: None,
            link_ahead,
        })
    }

    /// The fetch of the first position, unless the walk is at its end or at a limit already.
    pub(crate) fn first(&mut self) -> Result<Option<Pending>, HarvestError> {
        match &self.next {
            Some(request) if !self.limit_reached() => self.fetches.start(request).map(Some),
            _ => Ok(None),
        }
    }

    /// One page: waits for its fetch, reads it, hands it to the writer, and returns the fetch
    /// of the next position (`None` at the end of the walk or at a limit). `progress` is called
    /// after the page.
    pub(crate) async fn step(
        &mut self,
        fetch: Pending,
        progress: &mut (dyn FnMut(&Summary) + Send),
    ) -> Result<Option<Pending>, HarvestError> {
        let Pending { request, task, link } = fetch;
        let early = self.request_linked(&request, link).await;
        let fetched = task.join().await;
        let response = match self.settle(&request, fetched)? {
            Answer::Response(response) => response,
            Answer::Instead(instead) => return Ok(Some(instead)),
        };
        // The plan is moved out of the walk while the page is read with it (the page also
        // changes the walk), and put back whatever the page's outcome.
        let (plan, alternatives) = self.plan_for(&request, &response)?;
        let taken = self.take_page(&plan, request, response, alternatives);
        self.plan = Some(plan);
        let (lines, page_count) = taken?;
        let stop = self.next.is_none() || self.limit_reached();

        // The page is handed to the writer before the next request is checked, so that an
        // error there loses none of its records.
        self.writer.write(lines, &self.state).await?;
        progress(&self.summary());
        let Some(next) = self.next.as_ref().filter(|_| !stop) else {
            return Ok(None);
        };
        let pending = self.fetches.continue_to(next, early)?;
        self.fill_window(&pending.request, page_count)?;
        Ok(Some(pending))
    }

    /// Starts fetching the position that the `Link` header of `request`'s answer names, as
    /// soon as its headers arrive (`link`) and before its body is read: a guess, which the
    /// next step adopts only if the body names the same position.
    async fn request_linked(
        &mut self,
        request: &Request,
        link: tokio::sync::oneshot::Receiver<String>,
    ) -> Option<Pending> {
        if !self.link_ahead || self.confirming.is_some() {
            return None;
        }
        let href = link.await.ok()?;
        let target = url::Url::parse(&request.url).and_then(|base| base.join(&href)).ok()?;
        let guess = Request::get(String::from(target));
        if guess == *request {
            return None;
        }
        // A guess that would leave the origin or revisit a position is not made; the body
        // decides.
        let early = self.fetches.start(&guess).ok();
        // Let the fetch send its request now: a task spawned from a worker waits in that
        // worker's own slot, which no other worker takes, until this task yields, and the rest
        // of this page is CPU work that does not yield.
        tokio::task::yield_now().await;
        early
    }

    /// What becomes of a fetch: its response, or another fetch in its place when it shows a
    /// guessed way of paging wrong or page numbers refused past a depth limit.
    fn settle(&mut self, request: &Request, fetched: Result<Response, HarvestError>) -> Result<Answer, HarvestError> {
        if let Some(instead) = self.confirm(request, &fetched)? {
            return Ok(Answer::Instead(instead));
        }
        match (fetched, self.fallback.take()) {
            // Page numbers refused past a depth limit (as JSON:API-style APIs do past 10,000
            // records): go on with the cursor link the last page offered, from the same place.
            (Err(HarvestError::Status { status: 400 | 422, .. }), Some((link, link_next)))
                if self.numbers.is_some() =>
            {
                self.follow_links(&link, link_next).map(Answer::Instead)
            }
            (fetched, _) => fetched.map(Answer::Response),
        }
    }

    /// Leaves page numbers for the cursor links of `link_next`, from `link` on.
    fn follow_links(&mut self, link: &Request, link_next: Next) -> Result<Pending, HarvestError> {
        tracing::info!(next = %link.url, "page numbers refused past a depth limit; following the cursor link");
        self.fetches.ahead.clear();
        if let Some(plan) = &mut self.plan {
            plan.next = link_next;
        }
        self.state.plan = self.plan.clone();
        self.numbers = None;
        self.state.cursors = true;
        self.fetches.start(link)
    }

    /// The second page of a guessed way of paging: refused, or the first page again, means
    /// the guess was wrong; the next way is fetched instead, and nothing is written. Otherwise
    /// the guess is confirmed, and the plan final from here on.
    fn confirm(
        &mut self,
        request: &Request,
        fetched: &Result<Response, HarvestError>,
    ) -> Result<Option<Pending>, HarvestError> {
        let Some(mut trial) = self.confirming.take() else {
            return Ok(None);
        };
        let Some(why) = self.refuted(&trial, request, fetched) else {
            if let Some(plan) = &mut self.plan {
                plan.next = trial.trying;
            }
            self.state.plan = self.plan.clone();
            return Ok(None);
        };
        trial.tried.push(why);
        let Some((other, retry)) = trial.others.pop_front() else {
            return Err(HarvestError::NotConfirmed {
                url: trial.url,
                tried: trial.tried.join("; "),
            });
        };
        tracing::debug!(tried = %trial.tried.join("; "), next = %other, "trying another way to the second page");
        trial.trying = other.clone();
        if let Some(plan) = &mut self.plan {
            plan.next = other;
        }
        self.confirming = Some(trial);
        self.fetches.start(&retry).map(Some)
    }

    /// Why the second page shows the guess of `trial` wrong, if it does.
    fn refuted(
        &self,
        trial: &Confirming,
        request: &Request,
        fetched: &Result<Response, HarvestError>,
    ) -> Option<String> {
        let response = match fetched {
            Err(HarvestError::Status {
                status: code @ 400..=499,
                ..
            }) => return Some(format!("{} answered {code}", trial.trying)),
            Err(_) => return None,
            Ok(response) => response,
        };
        let current = self.plan.clone().map(|p| Plan {
            next: trial.trying.clone(),
            ..p
        });
        match current.as_ref().map(|p| read(p, request, response, self.full_page)) {
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

    /// The plan to read a page with, taken out of the walk for the page; on the first page
    /// (of a walk, or of a checkpoint that has none) it is detected, with the other ways of
    /// paging to try if its own is a guess.
    fn plan_for(&mut self, request: &Request, response: &Response) -> Result<(Plan, Option<Vec<Next>>), HarvestError> {
        if let Some(plan) = self.plan.take() {
            return Ok((plan, None));
        }
        let detected = detect(
            request,
            response,
            self.options.next.as_ref(),
            self.options.records_path.as_deref(),
        )?;
        Ok((detected.plan, Some(detected.alternatives)))
    }

    /// Reads a page with `plan`, checks it and moves the walk past it: returns the lines to
    /// write and the number of pages the page declared. `alternatives` come with a plan
    /// detected on this page.
    fn take_page(
        &mut self,
        plan: &Plan,
        request: Request,
        response: Response,
        alternatives: Option<Vec<Next>>,
    ) -> Result<(Vec<u8>, Option<u64>), HarvestError> {
        let page = read(plan, &request, &response, self.full_page)?;
        if let Some(alternatives) = alternatives {
            let at = Reading {
                plan,
                request: &request,
                response: &response,
            };
            self.first_read(&at, &page, alternatives)?;
        }
        if let (None, Next::Pages { param, first }) = (&self.numbers, &plan.next)
            && !self.state.cursors
        {
            let first = number_in(&self.options.start, param)?.unwrap_or(*first);
            self.numbers = Some(Numbers {
                param: param.clone(),
                first,
            });
        }
        self.full_page.get_or_insert(page.records.len());
        self.fallback = page.link.clone();
        self.check_repeat(&request, &page.records)?;
        // Records of this page written before a stop at --max-records are not written again.
        let skip = usize::try_from(std::mem::take(&mut self.state.skip))
            .unwrap_or(usize::MAX)
            .min(page.records.len());
        let unseen = &page.records[skip..];
        let take = self.room_for(unseen.len());
        let lines = self.lines(plan, &response, &unseen[..take])?;
        self.state.records += take as u64;
        self.state.pages += 1;
        self.state.declared = page.total.or(self.state.declared);
        self.said_more = page.more.clone();
        self.declared_pages = page.pages.or(self.declared_pages);
        let (empty, page_count) = (page.records.is_empty(), page.pages);
        self.next = if take < unseen.len() {
            self.state.skip = (skip + take) as u64;
            Some(request)
        } else {
            page.next
        };
        if self.next.is_none() {
            self.ended = Some(plan.next.ended(empty));
        }
        self.buffers.give(response.body.into_text().into_bytes());
        self.stop_at_declared_total(plan);
        self.state.next = self.next.clone();
        Ok((lines, page_count))
    }

    /// The first page read with a plan detected on it: if the way to the second page is a
    /// guess, it is checked there; and every `--fields` path must be in some record.
    fn first_read(&mut self, at: &Reading<'_>, page: &Page<'_>, alternatives: Vec<Next>) -> Result<(), HarvestError> {
        if at.plan.next.guessed() && page.next.is_some() && !self.state.cursors {
            self.confirming = Some(Confirming::of(at, page, alternatives, self.full_page)?);
        } else {
            self.state.plan = Some(at.plan.clone());
        }
        if let Some(fields) = &self.options.fields {
            check_fields(fields, at.plan, at.response, &page.records)?;
        }
        Ok(())
    }

    /// Fails on a page of records read before under another position: the server loops.
    fn check_repeat(&mut self, request: &Request, records: &[&str]) -> Result<(), HarvestError> {
        if self.options.allow_repeat || records.is_empty() {
            return Ok(());
        }
        // A fast 64-bit hash: chance collisions are negligible even over millions of pages,
        // and a server gains nothing by forging one.
        let mut hasher = foldhash::quality::FixedState::default().build_hasher();
        for record in records {
            hasher.write(record.as_bytes());
            hasher.write_u8(b'\n'); // so that [1,23] and [12,3] differ
        }
        if !self.seen_pages.insert(hasher.finish()) {
            return Err(HarvestError::Loop(format!(
                "{} returned a page it had returned before, under another position",
                request.url
            )));
        }
        Ok(())
    }

    /// How many of `unseen` records --max-records leaves room for.
    fn room_for(&self, unseen: usize) -> usize {
        match self.options.max_records {
            Some(max) => unseen.min(usize::try_from(max.saturating_sub(self.state.records)).unwrap_or(usize::MAX)),
            None => unseen,
        }
    }

    /// `records` as JSON lines, in a buffer used again from page to page.
    fn lines(&self, plan: &Plan, response: &Response, records: &[&str]) -> Result<Vec<u8>, HarvestError> {
        let mut lines = self.buffers.take();
        lines.reserve(records.iter().map(|text| text.len() + 1).sum());
        let shape = Shape::of(plan, response, self.options.fields.as_deref());
        for &text in records {
            shape.write(text, &mut lines)?;
        }
        Ok(lines)
    }

    /// Page-number and offset walks also stop at an exact declared total, without asking for
    /// an empty page.
    fn stop_at_declared_total(&mut self, plan: &Plan) {
        let numbered = matches!(plan.next, Next::Pages { .. } | Next::Offsets { .. });
        if numbered
            && self.next.is_some()
            && self
                .state
                .declared
                .is_some_and(|total| total.exact && self.state.records >= total.value)
        {
            self.next = None;
            self.ended = Some("the declared total was reached".into());
        }
    }

    /// Page-number walks whose last page is known fetch up to `concurrency` pages at once,
    /// after the next one (`in_order`); `page_count` is what the page just read declared.
    fn fill_window(&mut self, in_order: &Request, page_count: Option<u64>) -> Result<(), HarvestError> {
        if let (Some(numbers), None) = (&self.numbers, &self.confirming)
            && self.options.concurrency > 1
            && let Some(last) = last_page(numbers.first, page_count, self.state.declared, self.full_page)
        {
            self.fetches.fill(in_order, numbers, last, self.state.pages)?;
        }
        Ok(())
    }

    /// Whether --max-pages or --max-records is reached.
    fn limit_reached(&self) -> bool {
        self.options.max_pages.is_some_and(|max| self.state.pages >= max)
            || self.options.max_records.is_some_and(|max| self.state.records >= max)
    }

    /// How the walk stands.
    fn summary(&self) -> Summary {
        Summary {
            plan: self.state.plan.clone(),
            records: self.state.records,
            pages: self.state.pages,
            retries: self.fetches.retries(),
            seconds: self.started.elapsed().as_secs_f64(),
            declared: self.state.declared,
            complete: self.next.is_none(),
            ended: self.ended.clone(),
            next: self.next.clone(),
        }
    }
}

/// The origin of a URL (scheme, host and port), which next positions may not leave.
fn origin_of(url: &str) -> Result<String, HarvestError> {
    let parsed = url::Url::parse(url).map_err(|e| HarvestError::Url {
        url: url.to_owned(),
        source: e,
    })?;
    Ok(parsed.origin().ascii_serialization())
}

/// A hash of a position or a record, to notice one seen before.
fn hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}
