//! Read-ahead of cursor walks, seen from a client: a walk's pages after the first are read
//! ahead, and a page read ahead is served only while it is the page a read at request time
//! would give.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use folio_engine::{CollectionSchema, Plan, Value};
use folio_http::{AppState, HttpConfig};
use folio_store::{CollectionInfo, Count, PageResult, Query, SqliteStore, Store, StoreError, demo};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::server::{SECRET, spawn};

/// The embedded store, counting the pages requests read and saying when a page read ahead is
/// ready. It reads ahead with `page`, so that no deadline can make it decline.
struct Watched {
    inner: Arc<SqliteStore>,
    pages: AtomicUsize,
    ahead: mpsc::UnboundedSender<()>,
}

#[async_trait::async_trait]
impl Store for Watched {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        self.inner.collections().await
    }
    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        self.inner.schema(collection).await
    }
    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        self.pages.fetch_add(1, Ordering::SeqCst);
        self.inner.page(query, plan, count).await
    }
    async fn page_ahead(&self, query: &Query, plan: &Plan, count: Count) -> Result<Option<PageResult>, StoreError> {
        let page = self.inner.page(query, plan, count).await;
        let _ = self.ahead.send(());
        page.map(Some)
    }
    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        self.inner.generation(collection).await
    }
    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        self.inner.get(schema, id).await
    }
}

/// A server over a demo of 50 entries, the store it reads, and word of every page read ahead.
fn watched() -> (String, Arc<Watched>, mpsc::UnboundedReceiver<()>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let inner = SqliteStore::open(dir.path()).unwrap();
    demo::build(&inner, 50, &|_| {}).unwrap();
    let (ahead, read) = mpsc::unbounded_channel();
    let store = Arc::new(Watched {
        inner: Arc::new(inner),
        pages: AtomicUsize::new(0),
        ahead,
    });
    let base = spawn(AppState::new(store.clone(), SECRET, HttpConfig::default()));
    (base, store, read, dir)
}

async fn get(url: &str) -> Json {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

fn ids(page: &Json) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_cursor_walk_reads_every_page_after_the_first_ahead() {
    let (base, store, mut ahead, _dir) = watched();
    let mut url = format!("{base}/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=5");
    let mut walked = Vec::new();
    loop {
        let page = get(&url).await;
        walked.extend(ids(&page));
        match page["links"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
    }
    let mut expected = walked.clone();
    expected.sort();
    expected.dedup();
    assert_eq!(walked, expected, "every record once, in id order");
    assert_eq!(walked.len(), 50);
    // Ten pages: the first read by its request, the nine others ahead of theirs.
    assert_eq!(store.pages.load(Ordering::SeqCst), 1);
    let mut read_ahead = 0;
    while ahead.try_recv().is_ok() {
        read_ahead += 1;
    }
    assert_eq!(read_ahead, 9);
}

#[tokio::test]
async fn a_page_read_ahead_is_read_again_after_a_write() {
    let (base, store, mut ahead, _dir) = watched();
    let first = get(&format!("{base}/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=5")).await;
    ahead.recv().await.expect("the second page is read ahead");
    // A record that sorts right after the first page: the page read ahead does not hold it.
    let last = ids(&first).pop().unwrap();
    let added = format!("{last}0");
    store
        .inner
        .insert("entries", [serde_json::json!({"entry_id": added})], &|_| {})
        .unwrap();
    let next = format!("{base}{}", first["links"]["next"].as_str().unwrap());
    let second = get(&next).await;
    // The walk reads its first page's moment, before the write.
    assert_ne!(ids(&second)[0], added);
    assert_eq!(store.pages.load(Ordering::SeqCst), 2, "the second page was read again");
    // Without a write in between, the page read ahead is served.
    ahead.recv().await.expect("the third page is read ahead");
    get(&format!("{base}{}", second["links"]["next"].as_str().unwrap())).await;
    assert_eq!(store.pages.load(Ordering::SeqCst), 2);
}
