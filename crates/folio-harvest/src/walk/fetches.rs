//! The fetches of a walk: each position checked (origin, loops) and fetched on a task of its
//! own, so that the network works while the previous page is written; and the window of
//! page-number fetches under way at once.

use std::collections::{HashSet, VecDeque};

use crate::error::HarvestError;
use crate::fetch::Fetcher;
use crate::harvest::Options;
use crate::plan::{Response, Total};
use crate::request::{Request, number_in, with_param};

use super::{hash, origin_of};

/// A fetch on another task. Dropping it aborts the fetch, so no request outlives the
/// harvest or a guess that turned out wrong.
pub(super) struct Task(tokio::task::JoinHandle<Result<Response, HarvestError>>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Task {
    /// The fetch's answer, once it has arrived.
    pub(super) async fn join(mut self) -> Result<Response, HarvestError> {
        (&mut self.0)
            .await
            .map_err(|e| HarvestError::io("the fetch task failed", std::io::Error::other(e)))?
    }
}

/// A position being fetched, and where its task says, once the answer's headers arrive,
/// which position their `Link` header names next.
pub(crate) struct Pending {
    pub(super) request: Request,
    pub(super) task: Task,
    pub(super) link: tokio::sync::oneshot::Receiver<String>,
}

/// The page numbers of a page-number walk: their query parameter, and the number of the
/// walk's first page.
pub(super) struct Numbers {
    pub(super) param: String,
    pub(super) first: u64,
}

/// Starts the fetches of a walk, and holds those under way ahead of the page being read.
pub(super) struct Fetches<'a> {
    options: &'a Options,
    /// The origin of the first URL, which next positions may not leave.
    origin: String,
    fetcher: Fetcher,
    /// Every position requested (hashed), to notice a server that leads back to one.
    seen: HashSet<u64>,
    /// Page-number walks with a known total fetch up to `concurrency` pages at once: `ahead`
    /// holds the pages requested after the one being read, in order.
    pub(super) ahead: VecDeque<Pending>,
}

impl<'a> Fetches<'a> {
    /// Fetches with `fetcher`, from the first URL of `options`.
    pub(super) fn new(options: &'a Options, origin: String, fetcher: Fetcher) -> Fetches<'a> {
        Fetches {
            options,
            origin,
            fetcher,
            seen: HashSet::new(),
            ahead: VecDeque::new(),
        }
    }

    /// Retries made so far, over the whole harvest.
    pub(super) fn retries(&self) -> u64 {
        self.fetcher.retries()
    }

    /// Checks a position and starts fetching it on another task, so that the network works
    /// while the previous page is written.
    pub(super) fn start(&mut self, request: &Request) -> Result<Pending, HarvestError> {
        if !self.options.follow_any_origin && origin_of(&request.url)? != self.origin {
            return Err(HarvestError::OtherOrigin {
                next: request.url.clone(),
                origin: self.origin.clone(),
            });
        }
        if !self.options.allow_repeat && !self.seen.insert(hash(&request.position())) {
            return Err(HarvestError::Loop(format!(
                "the server led back to a position it gave before: {}",
                request.position()
            )));
        }
        let (mut fetcher, owned) = (self.fetcher.clone(), request.clone());
        let (tell, link) = tokio::sync::oneshot::channel();
        let task = Task(tokio::spawn(async move { fetcher.fetch(&owned, Some(tell)).await }));
        Ok(Pending {
            request: request.clone(),
            task,
            link,
        })
    }

    /// The fetch of `next`: a request already under way when it is the one the body names
    /// (`early`, made from the `Link` header, or the first of the window), else a new one. A
    /// fetch under way that is not `next` is dropped, which aborts it.
    pub(super) fn continue_to(&mut self, next: &Request, early: Option<Pending>) -> Result<Pending, HarvestError> {
        let guessed = match early {
            Some(guess) if guess.request == *next => Some(guess),
            Some(wrong) => {
                self.seen.remove(&hash(&wrong.request.position()));
                None
            }
            None => None,
        };
        let queued = match self.ahead.front() {
            Some(front) if front.request == *next => self.ahead.pop_front(),
            Some(_) => {
                self.ahead.clear();
                None
            }
            None => None,
        };
        match guessed.or(queued) {
            Some(under_way) => Ok(under_way),
            None => self.start(next),
        }
    }

    /// Starts fetching the pages after `in_order` (the next page, its fetch under way) up to
    /// page `last`, so that `concurrency` pages are in flight, and no more than --max-pages
    /// allows when `read` pages have been read.
    pub(super) fn fill(
        &mut self,
        in_order: &Request,
        numbers: &Numbers,
        last: u64,
        read: u64,
    ) -> Result<(), HarvestError> {
        let scheduled = number_in(in_order, &numbers.param)?.unwrap_or(numbers.first) + self.ahead.len() as u64;
        // In flight: the next page, `ahead`, and no more than --max-pages allows.
        let mut room = self
            .options
            .concurrency
            .saturating_sub(1)
            .saturating_sub(self.ahead.len()) as u64;
        if let Some(max) = self.options.max_pages {
            room = room.min(max.saturating_sub(read + 1 + self.ahead.len() as u64));
        }
        for number in scheduled + 1..=last.min(scheduled + room) {
            let request = with_param(&self.options.start, &numbers.param, &number.to_string())?;
            let pending = self.start(&request)?;
            self.ahead.push_back(pending);
        }
        Ok(())
    }
}

/// The number of the last page of a page-number walk, from the declared page count or total.
pub(super) fn last_page(first: u64, pages: Option<u64>, total: Option<Total>, full_page: Option<usize>) -> Option<u64> {
    let count = match (pages, total, full_page) {
        (Some(pages), _, _) => pages,
        (None, Some(total), Some(full)) if full > 0 => total.value.div_ceil(full as u64),
        _ => return None,
    };
    Some(first + count.max(1) - 1)
}
