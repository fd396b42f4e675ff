//! Read-ahead of cursor walks: the page a walking client asks for next is read while this one
//! is sent.
//!
//! A client walking a collection with cursors asks for the page after the last key it got, as
//! soon as it has the `next` link. Read only then, every page of a walk waits for a whole store
//! read (for SQLite a thread woken for it and the reads of a thousand rows) after the request
//! for it arrives. Instead, once a page that a forward walk continues from is read, the store
//! reads the next one in the background ([`folio_engine::Plan::following`]), and the request
//! for it finds it read.
//!
//! A page read ahead is served only if the collection is still at the generation it was read
//! at ([`Store::generation`]: every write gives a new one, and none comes back), so it is the
//! very page a read at request time would give; otherwise it is read again. Read-ahead happens
//! only while no other request is reading a page (a busy server has no time to spend on
//! guesses), one page at a time, at most once per query and position, and at most [`KEPT`]
//! pages wait to be asked for, the oldest dropped first. The store reads it with
//! [`Store::page_ahead`], and may decline: the embedded store reads it on the async worker
//! itself, for a few milliseconds at most, because waking a blocking thread for it and back
//! cost more than the read-ahead gained (BENCHMARKS.md, "Export").

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use folio_engine::Plan;
use folio_store::{Count, PageResult, Query, Store, StoreError};
use tokio::sync::oneshot;

/// The most pages read ahead and not asked for yet: a few walks at once.
const KEPT: usize = 8;

/// Pages read ahead, and how many requests are reading pages.
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    pages: Mutex<VecDeque<Ahead>>,
    reading: AtomicUsize,
    /// Whether a page is being read ahead.
    busy: Arc<AtomicBool>,
}

/// A page being read, or read, ahead.
#[derive(Debug)]
struct Ahead {
    query: Query,
    plan: Plan,
    count: Count,
    /// The page, or `None` if the store declined or failed (the request then reads it).
    page: oneshot::Receiver<Option<PageResult>>,
}

impl ReadAhead {
    /// Runs `plan` for `query` on `store`, from a page read ahead when there is a fresh one,
    /// and reads ahead the page a walk asks for next (with `snapshots`, at the moment of this
    /// page and uncounted, as the next request of a walk that starts here asks for it).
    pub(crate) async fn page(
        &self,
        store: &Arc<dyn Store>,
        query: &Query,
        plan: &Plan,
        count: Count,
        snapshots: bool,
    ) -> Result<PageResult, StoreError> {
        let _reading = Reading::new(&self.reading);
        let ahead = self.take(query, plan, count);
        let page = match ahead.map(|a| a.page) {
            Some(read) => match read.await {
                Ok(Some(page)) if store.generation(&query.schema.name).await? == page.generation => page,
                _ => store.page(query, plan, count).await?,
            },
            None => store.page(query, plan, count).await?,
        };
        match page.moment {
            Some(moment) if snapshots && query.at.is_none() => {
                let at = Query {
                    at: Some(moment),
                    ..query.clone()
                };
                self.start(store, &at, plan, Count::Skip, &page);
            }
            _ => self.start(store, query, plan, count, &page),
        }
        Ok(page)
    }

    /// The page read ahead for this query, plan and count, if there is one.
    fn take(&self, query: &Query, plan: &Plan, count: Count) -> Option<Ahead> {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let at = pages.iter().position(|a| a.is(query, plan, count))?;
        pages.remove(at)
    }

    /// Reads ahead the page that follows `page` in a forward walk, if there is spare time.
    fn start(&self, store: &Arc<dyn Store>, query: &Query, plan: &Plan, count: Count, page: &PageResult) {
        let Some(following) = page.next.as_ref().and_then(|next| plan.following(&query.sort, next)) else {
            return;
        };
        // This request is one reader; any other means the server is busy.
        if self.reading.load(Ordering::Relaxed) > 1 {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.iter().any(|a| a.is(query, &following, count)) || self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        if pages.len() >= KEPT {
            pages.pop_front();
        }
        let (read, page) = oneshot::channel();
        pages.push_back(Ahead {
            query: query.clone(),
            plan: following.clone(),
            count,
            page,
        });
        let (store, query, busy) = (Arc::clone(store), query.clone(), Arc::clone(&self.busy));
        tokio::spawn(async move {
            let page = store.page_ahead(&query, &following, count).await.ok().flatten();
            busy.store(false, Ordering::Release);
            // Nobody may ask for it: then the page is dropped with its slot.
            let _ = read.send(page);
        });
    }
}

impl Ahead {
    fn is(&self, query: &Query, plan: &Plan, count: Count) -> bool {
        self.count == count && self.plan == *plan && self.query == *query
    }
}

/// Counts a request as reading a page while it lives.
struct Reading<'a>(&'a AtomicUsize);

impl<'a> Reading<'a> {
    fn new(counter: &'a AtomicUsize) -> Reading<'a> {
        counter.fetch_add(1, Ordering::Relaxed);
        Reading(counter)
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
