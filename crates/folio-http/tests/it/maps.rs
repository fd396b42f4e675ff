//! Page numbers past the offset window, served through page maps: every page number gives the
//! records `OFFSET` would, at any depth, and a write never lets a page of the old generation
//! through.

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_http::{AppState, HttpConfig};
use folio_store::{ImportMode, OnDuplicate, PostgresStore, SqliteStore, Store, Writer, demo};
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
                // The map's count gives the total, the page count and a `last` page number.
                assert_eq!(body["meta"]["total"], json!(all.len()));
                assert_eq!(body["meta"]["totalPages"], json!(pages));
                let last = body["links"]["last"].as_str().unwrap();
                assert!(
                    last.ends_with(&format!("page%5Bnumber%5D={}&page%5Bsize%5D={size}", pages.max(1))),
                    "{last}"
                );
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

/// The partitions of a result, once this server has mapped it: until then, a 503 with
/// `Retry-After` that says to retry.
async fn partitions(base: &str, query: &str, count: usize) -> Json {
    let url = format!("{base}/jsonapi/entries/-/partitions?{query}&count={count}&page%5Bsize%5D=500");
    let started = Instant::now();
    loop {
        let response = reqwest::get(&url).await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: Json = response.json().await.unwrap();
        if status == 200 {
            return body;
        }
        assert_eq!(status, 503, "{url}: {body}");
        assert_eq!(body["code"], "map-pending", "{body}");
        assert_eq!(retry_after.unwrap(), "1");
        assert!(started.elapsed() < Duration::from_secs(30), "no map after 30 s: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ids of each partition, each walked from its `links.first` to its end; a partition's
/// pages have no total and link only forward.
async fn walk_partitions(base: &str, body: &Json) -> Vec<Vec<String>> {
    let mut parts = Vec::new();
    for part in body["data"].as_array().unwrap() {
        let mut ids_of_part = Vec::new();
        let mut url = format!("{base}{}", part["links"]["first"].as_str().unwrap());
        for _ in 0..1000 {
            let (status, page) = get(&url).await;
            assert_eq!(status, 200, "{url}: {}", page["errors"]);
            assert!(page["meta"].get("total").is_none(), "{}", page["meta"]);
            for rel in ["first", "prev", "last"] {
                assert!(
                    page["links"].get(rel).is_none(),
                    "a partition's page links to its {rel}: {}",
                    page["links"]
                );
            }
            ids_of_part.extend(ids(&page));
            match page["links"]["next"].as_str() {
                Some(next) => url = format!("{base}{next}"),
                None => break,
            }
        }
        assert_eq!(
            ids_of_part.len() as u64,
            part["attributes"]["records"].as_u64().unwrap(),
            "{part}"
        );
        parts.push(ids_of_part);
    }
    parts
}

/// Results with ties and NULLs (band gaps are missing from a tenth of the records), filters,
/// and sorts of mixed directions.
const QUERIES: [&str; 4] = [
    "sort=-upload_create_time",
    "sort=provider,-results.properties.electronic.band_gap",
    "sort=-results.properties.electronic.band_gap&filter%5Bprovider%5D=aflow,oqmd",
    "sort=results.material.n_elements,-upload_create_time&filter%5Bresults.material.n_elements%5D%5Bgte%5D=2",
];

/// For a server mapping every `every`-th record: N partitions, for N from 1 to 16, are the
/// result exactly once, in order; and page numbers at every depth give what offsets would.
async fn check_partitions(base: &str, query: &str, every: u64) {
    let all = walk(base, query).await;
    let blocks = (all.len() as u64).div_ceil(every).max(1) as usize;
    for count in 1..=16 {
        let body = partitions(base, query, count).await;
        assert_eq!(body["meta"]["total"], json!(all.len()), "{body}");
        let parts = walk_partitions(base, &body).await;
        assert_eq!(parts.len(), count.min(blocks), "{query}, every {every}, count {count}");
        assert_eq!(parts.concat(), all, "{query}, every {every}, count {count}");
    }
    let size = 97;
    let pages = (all.len() as u64).div_ceil(size);
    for number in [2, pages / 3, pages / 2 + 1, pages].map(|n| n.max(1)) {
        let url = format!("{base}/jsonapi/entries?{query}&page%5Bnumber%5D={number}&page%5Bsize%5D={size}");
        let body = mapped_page(&url).await;
        let from = ((number - 1) * size) as usize;
        let expected: Vec<String> = all.iter().skip(from).take(size as usize).cloned().collect();
        assert_eq!(ids(&body), expected, "{url}, every {every}");
    }
}

/// A server of `store` mapping every `every`-th record, with a window of 100 records.
fn serve_every(store: &Arc<dyn Store>, every: u64) -> String {
    let mut config = config();
    config.page_map_every = every;
    spawn(AppState::new(Arc::clone(store), SECRET, config))
}

#[test]
fn partitions_and_deep_pages_are_exact_for_any_map_spacing_on_both_stores() {
    use proptest::test_runner::{Config, TestRunner};
    let dir = tempfile::tempdir().unwrap();
    let native = SqliteStore::open(dir.path()).unwrap();
    demo::build(&native, SIZE, &|_| {}).unwrap();
    let native: Arc<dyn Store> = Arc::new(native);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = folio_testkit::PgSchema::create(&rt);
    if let Some(pg) = &pg {
        rt.block_on(async {
            let store = PostgresStore::connect(&pg.url).await.unwrap();
            demo::ensure(&store, SIZE, &|_| {}).await.unwrap();
        });
    }
    let mut runner = TestRunner::new(Config {
        cases: 4,
        ..Config::default()
    });
    runner
        .run(&(2u64..1200, 0..QUERIES.len()), |(every, query)| {
            let mut bases = vec![serve_every(&native, every)];
            if let Some(pg) = &pg {
                let (url, mut config) = (pg.url.clone(), config());
                config.page_map_every = every;
                bases.push(crate::server::spawn_built(move || async move {
                    let store = PostgresStore::connect(&url).await.unwrap();
                    AppState::new(Arc::new(store), SECRET, config)
                }));
            }
            for base in &bases {
                rt.block_on(check_partitions(base, QUERIES[query], every));
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn a_write_after_the_map_was_built_gives_new_partitions() {
    let (base, store, _dir) = server();
    let query = "sort=-upload_create_time";
    let before = partitions(&base, query, 3).await;
    assert_eq!(before["meta"]["total"], json!(SIZE));
    let newest = json!({"entry_id": "zz-newest", "upload_create_time": "2099-01-01T00:00:00Z"});
    let written = Arc::clone(&store);
    tokio::task::spawn_blocking(move || written.insert("entries", [newest], &|_| {}).unwrap())
        .await
        .unwrap();
    // The old map is never used: the next answer is a retry, then the new result's parts.
    let (status, body) = get(&format!("{base}/jsonapi/entries/-/partitions?{query}&count=3")).await;
    assert_eq!(status, 503, "{body}");
    let after = partitions(&base, query, 3).await;
    assert_eq!(after["meta"]["total"], json!(SIZE + 1));
    let parts = walk_partitions(&base, &after).await;
    assert_eq!(parts.concat(), walk(&base, query).await);
    assert_eq!(parts[0][0], "zz-newest");
}

/// Partitions are one moment's result: records added, replaced and deleted while the parts are
/// walked are not seen by them (the next partitions have them), on both stores.
#[test]
fn partitions_read_the_moment_they_were_cut_at_on_both_stores() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (base, store, _dir) = server();
    rt.block_on(check_partitions_moment(&base, &*store));
    if let Some(pg) = folio_testkit::PgSchema::create(&rt) {
        let base = crate::server::postgres_demo(&pg.url, SIZE, config());
        let writer = rt.block_on(PostgresStore::connect(&pg.url)).unwrap();
        rt.block_on(check_partitions_moment(&base, &writer));
    }
}

async fn check_partitions_moment(base: &str, store: &(impl Store + Writer)) {
    let query = "sort=-upload_create_time";
    let before = walk(base, query).await;
    let cut = partitions(base, query, 3).await;
    let at = cut["meta"]["snapshotAt"]
        .as_str()
        .expect("the moment the parts read")
        .to_owned();
    // A record newer than all (the first part's first), one replaced, and one deleted.
    let (_, record) = get(&format!("{base}/jsonapi/entries/{}", before[7])).await;
    let mut replaced = record["data"]["attributes"].clone();
    replaced["entry_id"] = json!(before[7]);
    replaced["provider"] = json!("replaced");
    let newest = json!({"entry_id": "zz-newest", "upload_create_time": "2099-01-01T00:00:00Z"});
    let schema = store.schema("entries").await.unwrap();
    let numbered = [newest, replaced].into_iter().zip(1..).map(|(d, n)| Ok((n, d)));
    store
        .import(
            &schema,
            ImportMode::Append,
            Box::new(numbered),
            OnDuplicate::Replace,
            &|_| {},
        )
        .await
        .unwrap();
    store
        .delete("entries", &[folio_engine::Value::Text(before[1000].clone())])
        .await
        .unwrap();
    let parts = walk_partitions(base, &cut).await;
    assert_eq!(parts.concat(), before, "the parts are the result they were cut from");
    let (_, first) = get(&format!("{base}{}", cut["data"][0]["links"]["first"].as_str().unwrap())).await;
    assert_eq!(first["meta"]["snapshotAt"], json!(at), "{}", first["meta"]);
    assert_ne!(
        first["data"][7]["attributes"]["provider"], "replaced",
        "the old content"
    );
    // New partitions are the new result.
    let after = partitions(base, query, 3).await;
    let now = walk(base, query).await;
    assert_eq!(walk_partitions(base, &after).await.concat(), now);
    assert_eq!(now.len(), before.len(), "one added, one deleted");
    assert_eq!(now[0], "zz-newest");
}
