//! Downloads (`/export`): every record of the JSON:API cursor walk of the same request, in its
//! order, on every store (the embedded one, a user's SQLite file, PostgreSQL); CSV that a CSV
//! parser reads back as the records' values; resumed downloads that read the moment they
//! started at; and the errors of the parameters a download takes.

use std::sync::Arc;

use folio_http::{AppState, HttpConfig};
use folio_store::{ImportMode, OnDuplicate, PostgresStore, SqliteFileStore, SqliteStore, Store, Writer, demo};
use proptest::prelude::any;
use serde_json::{Value as Json, json};

use crate::server::{SECRET, postgres_demo, spawn};

/// Records in each store.
const SIZE: u64 = 2500;

/// Batches of the fewest records (100): a download of the stores is 25 of them, read ahead
/// and in turn.
fn config() -> HttpConfig {
    HttpConfig {
        export_batch_bytes: 1,
        ..HttpConfig::default()
    }
}

/// The paths a query names, as each store has them: the demo's nested documents, or a user's
/// flat table.
struct Paths {
    time: &'static str,
    provider: &'static str,
    n: &'static str,
    gap: &'static str,
    elements: &'static str,
}

const NESTED: Paths = Paths {
    time: "upload_create_time",
    provider: "provider",
    n: "results.material.n_elements",
    gap: "results.properties.electronic.band_gap",
    elements: "results.material.elements",
};

const FLAT: Paths = Paths {
    time: "upload_create_time",
    provider: "provider",
    n: "n_elements",
    gap: "band_gap",
    elements: "elements",
};

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query string of `paths`: some of four filters, one of six sorts, and `fields` or not.
fn query(paths: &Paths, filters: [bool; 4], provider: &str, sort: usize, fields: bool) -> String {
    let mut params = Vec::new();
    if filters[0] {
        params.push((format!("filter[{}]", paths.provider), provider.to_owned()));
    }
    if filters[1] {
        params.push((format!("filter[{}][gte]", paths.n), "3".to_owned()));
    }
    if filters[2] {
        params.push((format!("filter[{}][lt]", paths.gap), "2.5".to_owned()));
    }
    if filters[3] {
        params.push((format!("filter[{}][any]", paths.elements), "O,H,Fe".to_owned()));
    }
    let sorts = [
        String::new(),
        paths.time.to_owned(),
        format!("-{}", paths.time),
        format!("{},-{}", paths.n, paths.time),
        format!("-{}", paths.gap),
        paths.provider.to_owned(),
    ];
    if !sorts[sort].is_empty() {
        params.push(("sort".to_owned(), sorts[sort].clone()));
    }
    if fields {
        params.push((
            "fields[entries]".to_owned(),
            format!("{},{}", paths.provider, paths.gap),
        ));
    }
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The records of the JSON:API cursor walk of `query`, as `(id, attributes)`, in order.
async fn walk(base: &str, query: &str) -> Vec<(String, Json)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut url = format!("{base}/jsonapi/entries?{query}&page%5Bsize%5D=97&page%5Bcursor%5D=1");
    loop {
        let body: Json = client.get(&url).send().await.unwrap().json().await.unwrap();
        for r in body["data"].as_array().unwrap_or_else(|| panic!("{url}: {body}")) {
            out.push((r["id"].as_str().unwrap().to_owned(), r["attributes"].clone()));
        }
        match body["links"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => return out,
        }
    }
}

/// A download: status, headers, body.
async fn download(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn lines(body: &str) -> Vec<Json> {
    body.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A CSV field as the convention writes the value at its path.
fn cell(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Both downloads of `query` hold the records of its cursor walk, in order: the NDJSON lines
/// are the documents (with the id, when `fields` projects them), and the CSV, read by a CSV
/// parser, has the id's and the indexed (or projected) paths as columns and each record's
/// values in them.
async fn check(base: &str, query: &str, fields: bool) {
    let walked = walk(base, query).await;
    let expected: Vec<Json> = walked
        .iter()
        .map(|(id, attributes)| {
            let mut doc = attributes.clone();
            if fields {
                doc["entry_id"] = json!(id);
            }
            doc
        })
        .collect();

    let (status, headers, body) = download(&format!("{base}/export/entries.ndjson?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert_eq!(headers["folio-id-path"], "entry_id");
    assert!(headers.contains_key("folio-cursor"));
    assert_eq!(lines(&body), expected, "{query}");

    let (status, headers, body) = download(&format!("{base}/export/entries.csv?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8; header=present");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let columns: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(columns[0], "entry_id");
    if !fields {
        let listing: Json = reqwest::get(format!("{base}/jsonapi"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries = listing["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "entries")
            .unwrap();
        let mut indexed: Vec<String> = entries["attributes"]["indexedPaths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["path"].as_str().unwrap().to_owned())
            .filter(|p| p != "entry_id")
            .collect();
        let mut rest = columns[1..].to_vec();
        indexed.sort();
        rest.sort();
        assert_eq!(rest, indexed, "the columns are the id's and the indexed paths");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expected.len(), "{query}");
    for (row, doc) in rows.iter().zip(&expected) {
        let want: Vec<String> = columns
            .iter()
            .map(|c| cell(folio_engine::value::lookup(doc, c)))
            .collect();
        assert_eq!(row.iter().collect::<Vec<_>>(), want, "{query}");
    }
}

/// A user's SQLite file of the demo's records as a flat table (nullable band gaps, the
/// elements as JSON text), with the indexes a user would make.
fn user_file(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("user.db");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch(
        "CREATE TABLE entries (entry_id TEXT PRIMARY KEY, upload_create_time TEXT, provider TEXT,
                               n_elements INTEGER, band_gap REAL, elements TEXT);
         CREATE INDEX by_time ON entries (upload_create_time, entry_id);
         CREATE INDEX by_provider ON entries (provider, entry_id);
         CREATE INDEX by_n ON entries (n_elements, entry_id);
         CREATE INDEX by_gap ON entries (band_gap, entry_id);",
    )
    .unwrap();
    for e in demo::entries(SIZE) {
        let m = &e["results"]["material"];
        db.execute(
            "INSERT INTO entries VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                e["entry_id"].as_str(),
                e["upload_create_time"].as_str(),
                e["provider"].as_str(),
                m["n_elements"].as_i64(),
                e["results"]["properties"]["electronic"]["band_gap"].as_f64(),
                m["elements"].to_string(),
            ],
        )
        .unwrap();
    }
    file
}

#[test]
fn downloads_hold_the_cursor_walk_of_the_same_request_on_every_store() {
    use proptest::test_runner::{Config, TestRunner};
    let dir = tempfile::tempdir().unwrap();
    let native = SqliteStore::open(dir.path()).unwrap();
    demo::build(&native, SIZE, &|_| {}).unwrap();
    let native = spawn(AppState::new(Arc::new(native), SECRET, config()));
    let file = SqliteFileStore::open(&user_file(dir.path())).unwrap();
    let file = spawn(AppState::new(Arc::new(file), SECRET, config()));
    let mut bases = vec![(native, &NESTED), (file, &FLAT)];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = folio_testkit::PgSchema::create(&rt);
    if let Some(pg) = &pg {
        bases.push((postgres_demo(&pg.url, SIZE, config()), &NESTED));
    }
    let providers: Vec<String> = demo::entries(5)
        .map(|e| e["provider"].as_str().unwrap().to_owned())
        .collect();
    // Without a filter, where each batch ends is read ahead of it: every sort, whole and
    // projected, on every store.
    for (base, paths) in &bases {
        for sort in 0..6 {
            for fields in [false, true] {
                rt.block_on(check(base, &query(paths, [false; 4], "", sort, fields), fields));
            }
        }
    }
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    runner
        .run(
            &(any::<[bool; 4]>(), 0..providers.len(), 0..6usize, any::<bool>()),
            |(filters, provider, sort, fields)| {
                for (base, paths) in &bases {
                    let query = query(paths, filters, &providers[provider], sort, fields);
                    rt.block_on(check(base, &query, fields));
                }
                Ok(())
            },
        )
        .unwrap();
}

/// A download broken off and resumed (`cursor` and `after`) after imports and deletes gives
/// the rest of the moment it started at; a new download gives the new result.
#[test]
fn a_resumed_download_reads_the_moment_it_started_at_on_both_stores() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let native = Arc::new(SqliteStore::open(dir.path()).unwrap());
    demo::build(&*native, SIZE, &|_| {}).unwrap();
    let base = spawn(AppState::new(Arc::clone(&native) as Arc<dyn Store>, SECRET, config()));
    rt.block_on(check_resumed(&base, &*native));
    if let Some(pg) = folio_testkit::PgSchema::create(&rt) {
        let base = postgres_demo(&pg.url, SIZE, config());
        let writer = rt.block_on(PostgresStore::connect(&pg.url)).unwrap();
        rt.block_on(check_resumed(&base, &writer));
    }
}

async fn check_resumed(base: &str, store: &(impl Store + Writer)) {
    let query = "sort=-upload_create_time";
    let (_, headers, body) = download(&format!("{base}/export/entries.ndjson?{query}")).await;
    let before = lines(&body);
    let cursor = headers["folio-cursor"].to_str().unwrap().to_owned();
    // The download broke after its 600th record; meanwhile a record is added before all, one
    // received and one not yet received are replaced, and one not yet received is deleted.
    let kept = 600;
    let id = |i: usize| before[i]["entry_id"].as_str().unwrap().to_owned();
    let mut replaced: Vec<Json> = [10, 1200].iter().map(|&i| before[i].clone()).collect();
    for doc in &mut replaced {
        doc["provider"] = json!("replaced");
    }
    let newest = json!({"entry_id": "zz-newest", "upload_create_time": "2099-01-01T00:00:00Z"});
    let schema = store.schema("entries").await.unwrap();
    let docs = std::iter::once(newest)
        .chain(replaced)
        .zip(1..)
        .map(|(d, n)| Ok((n, d)));
    store
        .import(
            &schema,
            ImportMode::Append,
            Box::new(docs),
            OnDuplicate::Replace,
            &|_| {},
        )
        .await
        .unwrap();
    store
        .delete("entries", &[folio_engine::Value::Text(id(2000))])
        .await
        .unwrap();

    let resume = format!(
        "{base}/export/entries.ndjson?{query}&cursor={}&after={}",
        encode(&cursor),
        encode(&id(kept - 1))
    );
    let (status, again, rest) = download(&resume).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(lines(&rest), before[kept..], "the rest of the moment it started at");
    assert_eq!(again["folio-cursor"], cursor.as_str(), "the same download");

    // CSV resumed: no second header.
    let (_, _, csv_rest) = download(&resume.replace(".ndjson?", ".csv?")).await;
    assert_eq!(
        csv_rest.split("\r\n").next().unwrap().split(',').next(),
        Some(id(kept).as_str())
    );

    let (_, _, now) = download(&format!("{base}/export/entries.ndjson?{query}")).await;
    let now = lines(&now);
    assert_eq!(now.len(), before.len(), "one added, one deleted");
    assert_eq!(now[0]["entry_id"], "zz-newest");
    let walked: Vec<Json> = walk(base, query).await.into_iter().map(|(_, doc)| doc).collect();
    assert_eq!(now, walked, "a new download is the new result");
}

/// What a download refuses, with the parameter and what is allowed.
#[tokio::test]
async fn mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    demo::build(&store, 300, &|_| {}).unwrap();
    let base = spawn(AppState::new(Arc::new(store), SECRET, HttpConfig::default()));
    let (_, headers, _) = download(&format!("{base}/export/entries.ndjson?sort=provider")).await;
    let cursor = encode(headers["folio-cursor"].to_str().unwrap());
    for (url, status, param, says) in [
        (
            "/export/entries.ndjson?page%5Bsize%5D=10",
            400,
            Some("page[size]"),
            "does not apply to a download",
        ),
        ("/export/entries.ndjson?sort=nope", 400, Some("sort"), "sortable"),
        (
            "/export/entries.ndjson?after=no-such-id",
            400,
            Some("after"),
            "not a record of this result",
        ),
        ("/export/entries.ndjson?after=", 400, Some("after"), "is empty"),
        (
            "/export/entries.ndjson?after=a&after=b",
            400,
            Some("after"),
            "more than once",
        ),
        ("/export/entries.ndjson?cursor=garbage", 400, Some("cursor"), "cursor"),
        (
            &format!("/export/entries.ndjson?sort=-provider&cursor={cursor}"),
            400,
            Some("cursor"),
            "does not match",
        ),
        ("/export/entries.xml", 404, None, "/export/{collection}.csv"),
        ("/export/nope.csv", 404, None, "entries"),
    ] {
        let (got, headers, body) = download(&format!("{base}{url}")).await;
        assert_eq!(got, status, "{url}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json", "{url}");
        let problem: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["parameter"].as_str(), param, "{url}: {body}");
        assert!(body.contains(says), "{url}: {body}");
    }
}

/// Past `max_concurrent_exports` downloads at once, a 503 with `Retry-After`; the slot comes
/// back when a download ends.
#[tokio::test]
async fn downloads_past_the_limit_are_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    demo::build(&store, SIZE, &|_| {}).unwrap();
    let config = HttpConfig {
        max_concurrent_exports: 1,
        ..HttpConfig::default()
    };
    let base = spawn(AppState::new(Arc::new(store), SECRET, config));
    let url = format!("{base}/export/entries.ndjson");
    let first = reqwest::get(&url).await.unwrap();
    assert_eq!(first.status(), 200);
    let busy = reqwest::get(&url).await.unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "5");
    let problem: Json = busy.json().await.unwrap();
    assert_eq!(problem["code"], "exports-busy");
    // Read to its end, the first download has given its slot back.
    assert_eq!(first.text().await.unwrap().lines().count() as u64, SIZE);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
}

/// A download that cannot finish is cut before its last chunk, so that the client sees an
/// incomplete transfer: here downloads that read no snapshot (a user's SQLite file, which
/// keeps no versions; the embedded store with snapshots turned off) written to while they
/// stream.
#[tokio::test]
async fn a_download_that_cannot_finish_is_never_a_whole_looking_file() {
    // 60 MB: far more than the server reads ahead of a client that stops reading.
    let (rows, pad) = (30_000, "p".repeat(2000));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("user.db");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT); BEGIN;")
        .unwrap();
    for id in 0..rows {
        db.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![id, pad])
            .unwrap();
    }
    db.execute_batch("COMMIT;").unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let store = SqliteFileStore::open(&file).unwrap();
    let base = spawn(AppState::new(Arc::new(store), SECRET, HttpConfig::default()));
    check_cut(&format!("{base}/export/t.ndjson"), || {
        db.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![-1, "new"])
            .unwrap();
    })
    .await;

    let native = Arc::new(SqliteStore::open(&dir.path().join("native")).unwrap());
    let schema = folio_engine::CollectionSchema {
        name: "t".into(),
        id_path: "id".into(),
        id_type: folio_engine::IdType::Integer,
        indexed: Vec::new(),
    };
    native.create_collection(&schema, None).unwrap();
    native
        .insert("t", (0..rows).map(|id| json!({"id": id, "pad": pad})), &|_| {})
        .unwrap();
    let config = HttpConfig {
        snapshot_retention: std::time::Duration::ZERO,
        ..HttpConfig::default()
    };
    let base = spawn(AppState::new(Arc::clone(&native) as Arc<dyn Store>, SECRET, config));
    check_cut(&format!("{base}/export/t.ndjson"), || {
        native.insert("t", [json!({"id": -1})], &|_| {}).unwrap();
    })
    .await;
}

/// Reads the first chunk of the download at `url`, has `write` change its collection, and
/// reads on: the body must end with an error, not as if it were whole.
async fn check_cut(url: &str, write: impl FnOnce()) {
    let mut response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut received = response.chunk().await.unwrap().unwrap().len();
    write();
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(
        ended.is_err(),
        "{url}: a download cut short ended as if whole, after {received} bytes"
    );
    assert!(received < 60_000_000, "{received} bytes");
}
