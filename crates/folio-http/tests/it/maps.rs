//! Page numbers past the offset window, served through page maps: every page number gives the
//! records `OFFSET` would, at any depth, and a write never lets a page of the old generation
//! through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_http::{AppState, HttpConfig};
use folio_store::{PostgresStore, SqliteStore, Store, demo};
use serde_json::{Value as Json, json};

use crate::server::{SECRET, Server, postgres_server, spawn};

/// More than three mapped blocks (a key every 1,000 records).
const SIZE: u64 = 3500;

/// Page maps (on by default) and a small window.
fn config() -> HttpConfig {
    let config = HttpConfig::with_max_offset(Some(100));
    assert!(config.page_maps, "page maps are on by default");
    config
}

/// A server of the embedded store, and the store.
fn server() -> (String, Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    demo::build(&*store, SIZE, &|_| {}).unwrap();
    let served: Arc<dyn Store> = Arc::clone(&store) as Arc<dyn Store>;
    (spawn(AppState::new(served, SECRET, config())), store, dir)
}

/// A server of PostgreSQL, when one is reachable (required with `FOLIO_REQUIRE_POSTGRES=1`).
fn postgres() -> Option<Server> {
    postgres_server(|url| async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        demo::ensure(&store, SIZE, &|_| {}).await.unwrap();
        AppState::new(Arc::new(store), SECRET, config())
    })
}

async fn get(url: &str) -> (u16, Json) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn ids(body: &Json) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every id of a result, in order, by a cursor walk.
async fn walk(base: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = format!("{base}/jsonapi/entries?{query}&page%5Bcursor%5D=1&page%5Bsize%5D=1000");
    loop {
        let (status, body) = get(&url).await;
        assert_eq!(status, 200, "{body}");
        out.extend(ids(&body));
        match body["links"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => return out,
        }
    }
}

/// The page, once this server has mapped the result: until then, the 422 says to retry.
async fn mapped_page(url: &str) -> Json {
    let started = Instant::now();
    loop {
        let (status, body) = get(url).await;
        if status == 200 {
            return body;
        }
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["code"], "offset-window-exceeded", "{body}");
        let detail = body["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains("retry in a few seconds"), "{detail}");
        assert!(started.elapsed() < Duration::from_secs(30), "no map after 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn page_numbers_at_any_depth_give_the_records_offsets_would() {
    let (base, _store, _dir) = server();
    check_depths(&base).await;
    // Made on a thread of its own: it runs a runtime of its own to create the schema.
    if let Some(pg) = tokio::task::spawn_blocking(postgres).await.unwrap() {
        check_depths(&pg.base).await;
    }
}

/// Page numbers from the middle of each result to past its end, against its cursor walk.
async fn check_depths(base: &str) {
    for query in [
        "sort=entry_id",
        "sort=-upload_create_time",
        "sort=provider,-results.properties.electronic.band_gap",
        "sort=-results.material.n_elements&filter%5Bresults.material.n_elements%5D%5Bgte%5D=2",
    ] {
        let all = walk(base, query).await;
        for size in [7u64, 100, 333] {
            let pages = (all.len() as u64).div_ceil(size);
            for number in [pages / 2, pages.saturating_sub(1), pages, pages + 1] {
                if (number.max(1) - 1) * size < 100 {
                    continue;
                }
                let url = format!("{base}/jsonapi/entries?{query}&page%5Bnumber%5D={number}&page%5Bsize%5D={size}");
                let body = mapped_page(&url).await;
                let from = ((number - 1) * size) as usize;
                let expected: Vec<String> = all.iter().skip(from).take(size as usize).cloned().collect();
                assert_eq!(ids(&body), expected, "{url}");
                assert_eq!(body["meta"]["page"], json!(number));
            }
        }
    }
}

#[tokio::test]
async fn a_write_after_the_map_was_built_never_serves_the_old_order() {
    let (base, store, _dir) = server();
    let query = "sort=-upload_create_time";
    let url = format!("{base}/jsonapi/entries?{query}&page%5Bnumber%5D=300&page%5Bsize%5D=10");
    let before = walk(&base, query).await;
    let body = mapped_page(&url).await;
    assert_eq!(ids(&body), before[2990..3000].to_vec());

    // A record that sorts first moves every later record one place.
    let newest = json!({"entry_id": "zz-newest", "upload_create_time": "2099-01-01T00:00:00Z"});
    let written = Arc::clone(&store);
    tokio::task::spawn_blocking(move || written.insert("entries", [newest], &|_| {}).unwrap())
        .await
        .unwrap();
    let after = walk(&base, query).await;
    assert_eq!(after[0], "zz-newest");
    let body = mapped_page(&url).await;
    assert_eq!(ids(&body), after[2990..3000].to_vec(), "the page of the new generation");
}
