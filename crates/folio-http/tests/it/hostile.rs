//! The bad-input catalogue: hostile and malformed requests, each with the status it must get
//! and the words its message must hold (the parameter at fault, what is allowed), answered
//! within [`MAX_SECONDS`]. It runs on the embedded store and on PostgreSQL (required in CI);
//! its store-independent rows (the bounds of every list-valued input, and the mistakes that
//! must not pass in silence) run on a user's SQLite file too. Afterwards the data must be
//! untouched, and text full of SQL must have been taken as plain values.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use folio_engine::projection::MAX_PROJECTED_PATHS;
use folio_engine::{CollectionSchema, FieldType, IdType, IndexedPath};
use folio_http::{AppState, HttpConfig};
use folio_store::{ImportMode, OnDuplicate, PostgresStore, SqliteFileStore, SqliteStore, Writer, demo};
use serde_json::json;

use crate::server::{SECRET, Server, postgres_server, spawn, start};

/// The longest any answer of the catalogue may take, on any store.
const MAX_SECONDS: f64 = 1.0;

const ENTRIES: u64 = 300;

/// A value stored in the `other` collection, to be found again through a filter.
const SQL_TEXT: &str = "'; DROP TABLE folio_c_other; --";

/// The `other` collection: 20 records, one of them holding SQL.
fn other_schema() -> CollectionSchema {
    CollectionSchema {
        name: "other".into(),
        id_path: "id".into(),
        id_type: IdType::Integer,
        indexed: vec![IndexedPath::new("name", FieldType::String)],
    }
}

fn other_docs() -> impl Iterator<Item = serde_json::Value> {
    (1..=20).map(|i| json!({"id": i, "name": if i == 7 { SQL_TEXT.to_owned() } else { format!("n{i}") }}))
}

/// A small offset window, answered as such: no page maps (`maps.rs` tests those), so that
/// every row gets the same answer whatever ran before it.
fn config() -> HttpConfig {
    HttpConfig {
        page_maps: false,
        ..HttpConfig::with_max_offset(Some(100))
    }
}

/// A server of its own on the embedded store: the demo `entries` and a second collection,
/// `other`.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        demo::build(&store, ENTRIES, &|_| {}).unwrap();
        store.create_collection(&other_schema(), None).unwrap();
        store.insert("other", other_docs(), &|_| {}).unwrap();
        start(store, dir, config())
    })
}

/// The same collections in PostgreSQL, in a schema of their own; `None` (after saying so)
/// without a server, unless PostgreSQL is required.
fn postgres() -> Option<Server> {
    postgres_server(|url| async move {
        let store = PostgresStore::connect(&url).await.unwrap();
        demo::ensure(&store, ENTRIES, &|_| {}).await.unwrap();
        let numbered = other_docs().zip(1..).map(|(doc, n)| Ok((n, doc)));
        store
            .import(
                &other_schema(),
                ImportMode::Create,
                Box::new(numbered),
                OnDuplicate::Error,
                &|_| {},
            )
            .await
            .unwrap();
        AppState::new(Arc::new(store), SECRET, config())
    })
}

/// A user's SQLite file: a table `entries` of the demo's top-level columns, with an index on
/// `provider`, and the table `other`, served as `folio serve --sqlite` serves it.
fn sqlite_file() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("user.db");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch(
        "CREATE TABLE entries (entry_id TEXT PRIMARY KEY, upload_id TEXT, upload_create_time TEXT, provider TEXT);
         CREATE INDEX entries_provider ON entries (provider, entry_id);",
    )
    .unwrap();
    for entry in demo::entries(ENTRIES) {
        db.execute(
            "INSERT INTO entries VALUES (?1, ?2, ?3, ?4)",
            [
                &entry["entry_id"],
                &entry["upload_id"],
                &entry["upload_create_time"],
                &entry["provider"],
            ]
            .map(|v| v.as_str().unwrap().to_owned()),
        )
        .unwrap();
    }
    db.execute_batch(
        "CREATE TABLE other (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX other_name ON other (name, id);",
    )
    .unwrap();
    for doc in other_docs() {
        db.execute(
            "INSERT INTO other VALUES (?1, ?2)",
            rusqlite::params![doc["id"].as_i64().unwrap(), doc["name"].as_str().unwrap()],
        )
        .unwrap();
    }
    drop(db);
    let store = SqliteFileStore::open(&file).unwrap();
    Server::new(spawn(AppState::new(Arc::new(store), SECRET, config())), dir)
}

/// A request, and what must come back.
struct Case {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    status: u16,
    /// Substrings the response body must hold.
    says: Vec<&'static str>,
}

fn get(path: impl Into<String>, status: u16, says: &[&'static str]) -> Case {
    Case {
        method: "GET",
        path: path.into(),
        content_type: None,
        body: None,
        status,
        says: says.to_vec(),
    }
}

fn post(path: &str, body: impl Into<Vec<u8>>, status: u16, says: &[&'static str]) -> Case {
    Case {
        method: "POST",
        path: path.into(),
        content_type: Some("application/json"),
        body: Some(body.into()),
        status,
        says: says.to_vec(),
    }
}

fn method(method: &'static str, path: &str, says: &[&'static str]) -> Case {
    Case {
        method,
        path: path.into(),
        content_type: None,
        body: None,
        status: 405,
        says: says.to_vec(),
    }
}

fn nested_filter(depth: usize) -> String {
    let mut filter = json!({"provider": "x"});
    for _ in 0..depth {
        filter = json!({"not": filter});
    }
    filter.to_string()
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn next_cursor(base: &str, path: &str) -> String {
    let body: serde_json::Value = reqwest::get(format!("{base}{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = body["links"]["next"].as_str().unwrap().to_owned();
    let cursor = next.split("page%5Bcursor%5D=").nth(1).unwrap();
    cursor.split('&').next().unwrap().to_owned()
}

/// `n` distinct paths, comma-separated.
fn paths(n: usize) -> String {
    (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>().join(",")
}

/// The id of a record of `entries` in every store.
fn first_id() -> String {
    demo::entries(ENTRIES).next().unwrap()["entry_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The rows that hold on any store: every list-valued input at its bound and just past it,
/// and the mistakes that must not pass in silence.
fn bounds_and_mistakes() -> Vec<Case> {
    let max = MAX_PROJECTED_PATHS;
    let id = first_id();
    let include = |n: usize| json!({"required": {"include": (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>()}});
    let values = |n: usize| (0..n).map(|i| format!("v{i}")).collect::<Vec<_>>().join(",");
    let terms = |n: usize| {
        let filter = json!({"and": (0..n).map(|i| json!({"provider": format!("p{i}")})).collect::<Vec<_>>()});
        encode(&filter.to_string())
    };
    vec![
        // Projections: distinct paths up to the bound, repeated ones counted once.
        get(
            format!("/jsonapi/entries?fields%5Bentries%5D={}", paths(max)),
            200,
            &["\"data\""],
        ),
        get(
            format!("/jsonapi/entries?fields%5Bentries%5D={}", paths(max + 1)),
            400,
            &["fields[entries]", "100"],
        ),
        get(
            format!("/jsonapi/entries?fields%5Bentries%5D={}", "x,".repeat(2000)),
            200,
            &["\"data\""],
        ),
        get(
            format!(
                "/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=300&fields%5Bentries%5D={}",
                "provider,".repeat(900)
            ),
            200,
            &["\"provider\""],
        ),
        get(
            format!("/jsonapi/entries?fields%5Bentries%5D={}", "y".repeat(300)),
            400,
            &["fields[entries]", "256"],
        ),
        get(
            "/jsonapi/entries?fields%5Bentries%5D=provider&fields%5Bentries%5D=upload_id",
            400,
            &["fields[entries]", "more than once"],
        ),
        get(
            format!("/jsonapi/entries/{id}?fields%5Bentries%5D={}", paths(max + 1)),
            400,
            &["fields[entries]", "100"],
        ),
        get(format!("/query/entries?include={}", paths(max)), 200, &["\"data\""]),
        get(
            format!("/query/entries?include={}", paths(max + 1)),
            422,
            &["include", "100"],
        ),
        post("/query/entries/query", include(max).to_string(), 200, &["\"data\""]),
        post(
            "/query/entries/query",
            include(3000).to_string(),
            422,
            &["required.include", "100"],
        ),
        // Filter values and terms at their bounds and past them.
        get(
            format!("/jsonapi/entries?filter%5Bprovider%5D%5Bin%5D={}", values(100)),
            200,
            &["\"data\""],
        ),
        get(
            format!("/jsonapi/entries?filter%5Bprovider%5D%5Bin%5D={}", values(101)),
            400,
            &["filter[provider][in]", "100"],
        ),
        get(format!("/jsonapi/entries?filter={}", terms(32)), 200, &["\"data\""]),
        get(format!("/jsonapi/entries?filter={}", terms(33)), 400, &["filter", "32"]),
        // Sorts where a style pages in id order only: an error, never ignored.
        get(
            "/hal/entries?sort=-provider",
            400,
            &["sort", "id order", "/jsonapi/entries?sort=-provider"],
        ),
        get("/simple/entries?sort=-provider", 400, &["sort", "id order", "order_by"]),
        get("/simple/entries?fields=provider", 400, &["fields", "whole records"]),
        get(
            "/hal/entries?fields%5Bentries%5D=provider",
            400,
            &["fields[entries]", "whole records"],
        ),
        post(
            "/simple/entries/searches",
            r#"{"sort": "provider"}"#,
            400,
            &["sort", "id order"],
        ),
        // Misspelled body members and parameters: an error with a "did you mean".
        post(
            "/query/entries/query",
            r#"{"paginaton": {"page_size": 2}}"#,
            422,
            &["paginaton", "did you mean `pagination`"],
        ),
        post(
            "/simple/entries/searches",
            r#"{"paginaton": {"per_page": 2}}"#,
            400,
            &["paginaton", "did you mean `pagination`"],
        ),
        post(
            "/query/entries/query",
            r#"{"required": {"exclude": ["provider"]}}"#,
            422,
            &["required.exclude", "include"],
        ),
        get(
            "/jsonapi/entries?sortt=provider",
            400,
            &["sortt", "did you mean `sort`"],
        ),
        get(
            "/jsonapi/entries?page%5Bsise%5D=2",
            400,
            &["page[sise]", "did you mean `page[size]`"],
        ),
        get("/jsonapi/entries?include=authors", 400, &["include", "relationships"]),
        // An unknown collection's 404 names the ones the caller may read.
        get("/jsonapi/nope", 404, &["nope", "entries"]),
        get("/simple/nope", 404, &["nope", "entries"]),
        // `fields[...]` applies to one record as to a list.
        get(
            format!("/jsonapi/entries/{id}?fields%5Bentries%5D=provider"),
            200,
            &["\"attributes\":{\"provider\":"],
        ),
    ]
}

fn catalogue(cursor: &str, other_cursor: &str) -> Vec<Case> {
    let forged = {
        let mut bytes = cursor.as_bytes().to_vec();
        let middle = bytes.len() / 2;
        bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let truncated = &cursor[..cursor.len() - 6];
    let many_terms = json!({"and": (0..40).map(|i| json!({"provider": format!("p{i}")})).collect::<Vec<_>>()});
    let many_values = json!({"provider": {"in": (0..150).map(|i| format!("p{i}")).collect::<Vec<_>>()}});
    let deep_json = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    vec![
        // Sizes and page numbers: negative, zero, huge, not numbers.
        get(
            "/jsonapi/entries?page%5Bsize%5D=-1",
            400,
            &["page[size]", "negative", "0 to 1000"],
        ),
        get("/jsonapi/entries?page%5Bsize%5D=1001", 422, &["page[size]", "1000"]),
        get(
            "/jsonapi/entries?page%5Bsize%5D=99999999999999999999999",
            400,
            &["page[size]", "too large"],
        ),
        get(
            "/jsonapi/entries?page%5Bsize%5D=abc",
            400,
            &["page[size]", "not a whole number"],
        ),
        get(
            "/jsonapi/entries?page%5Bsize%5D=1.5",
            400,
            &["page[size]", "whole number"],
        ),
        get(
            "/jsonapi/entries?page%5Bsize%5D=1e3",
            400,
            &["page[size]", "whole number"],
        ),
        get("/jsonapi/entries?page%5Bsize%5D=", 400, &["page[size]"]),
        get(
            "/jsonapi/entries?page%5Bnumber%5D=0",
            400,
            &["page[number]", "start at 1"],
        ),
        get(
            "/jsonapi/entries?page%5Bnumber%5D=-3",
            400,
            &["page[number]", "negative"],
        ),
        get(
            "/jsonapi/entries?page%5Bnumber%5D=18446744073709551616",
            400,
            &["page[number]", "too large"],
        ),
        get(
            "/jsonapi/entries?page%5Bnumber%5D=999999999",
            422,
            &["page[number]", "page[cursor]"],
        ),
        get(
            "/jsonapi/entries?page%5Bnumber%5D=2&page%5Bsize%5D=1000",
            422,
            &["page[number]", "100"],
        ),
        get("/hal/entries?limit=0", 400, &["limit", "1 to 100"]),
        get("/hal/entries?limit=101", 422, &["limit", "100"]),
        get("/hal/entries?limit=ten", 400, &["limit", "whole number"]),
        get("/hal/entries?page=0", 400, &["page", "start at 1"]),
        get("/hal/entries?page=-1", 400, &["page", "negative"]),
        get("/simple/entries?per_page=0", 400, &["per_page", "1 to 1000"]),
        get("/simple/entries?per_page=1001", 422, &["per_page", "1000"]),
        get("/simple/entries?page=abc", 400, &["page", "whole number"]),
        get("/simple/entries?page=1000", 422, &["page", "after"]),
        get("/query/entries?page_size=-5", 422, &["page_size", "negative"]),
        post(
            "/query/entries/query",
            r#"{"pagination": {"page_size": 10001}}"#,
            422,
            &["page_size", "10000"],
        ),
        post(
            "/query/entries/query",
            r#"{"pagination": {"page_size": [1]}}"#,
            422,
            &["page_size"],
        ),
        post(
            "/query/entries/query",
            r#"{"pagination": {"page": 0}}"#,
            422,
            &["pagination.page"],
        ),
        // Unicode and control characters.
        get(
            "/jsonapi/entries?page%5Bsize%5D=%00",
            400,
            &["page[size]", "whole number"],
        ),
        get("/jsonapi/entries?page%5Bsize%5D=%E2%80%AE12", 400, &["page[size]"]),
        get(
            "/jsonapi/entries?page%5Bsize%5D=%EF%BC%91",
            400,
            &["page[size]", "whole number"],
        ),
        get("/jsonapi/entries?sort=%E2%98%83", 400, &["sort", "sortable paths"]),
        get(
            "/jsonapi/entries?sort=provider%0D%0AX-Injected:%201",
            400,
            &["sort", "sortable paths"],
        ),
        get(
            "/jsonapi/entries?filter%5B%E2%98%83%5D=1",
            400,
            &["filter[", "not an indexed path"],
        ),
        get(
            "/jsonapi/entries?page%5Btotal%5D=%FF%FE",
            400,
            &["page[total]", "exact"],
        ),
        get("/hal/entries?with_count=%00", 400, &["with_count", "true or false"]),
        get("/simple/entries?per_page=%0A5", 400, &["per_page"]),
        get("/jsonapi/%E2%98%83", 404, &["collection", "not found"]),
        get("/jsonapi/entries/%00", 404, &["no record", "entries"]),
        // SQL metacharacters in every parameter and path.
        get(
            format!(
                "/jsonapi/entries?sort={}",
                encode("provider; DROP TABLE folio_c_entries")
            ),
            400,
            &["sort", "sortable paths"],
        ),
        get(
            format!("/jsonapi/entries?sort={}", encode("-\"provider\"")),
            400,
            &["sort"],
        ),
        get(
            format!("/jsonapi/entries?filter%5B{}%5D=x", encode("provider') --")),
            400,
            &["filter[", "not an indexed path"],
        ),
        get(
            format!(
                "/jsonapi/entries?filter%5Bresults.material.n_elements%5D={}",
                encode("1 OR 1=1")
            ),
            400,
            &["filter[results.material.n_elements]", "integer"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bsize%5D={}", encode("1;--")),
            400,
            &["page[size]"],
        ),
        get(
            format!("/jsonapi/{}", encode("entries\" --")),
            404,
            &["collection", "not found"],
        ),
        get(
            format!("/jsonapi/entries/{}", encode("' OR '1'='1")),
            404,
            &["no record"],
        ),
        get(
            format!(
                "/hal/entries?search_after={}&pagination_type=search_after&limit=5",
                encode("' OR 1=1 --")
            ),
            200,
            &["_embedded"],
        ),
        get(
            format!("/hal/entries?search={}", encode(r#"{"provider; --": "x"}"#)),
            400,
            &["search", "not an indexed path"],
        ),
        get(
            format!("/query/entries?order_by={}", encode("provider DESC; --")),
            422,
            &["order_by", "sortable paths"],
        ),
        get("/query/entries?order=asc%3B--", 422, &["order", "asc or desc"]),
        post(
            "/query/entries/query",
            json!({"query": {"provider": {"gt": "' OR ''='"}}}).to_string(),
            200,
            &["\"data\":"],
        ),
        post(
            "/query/entries/query",
            json!({"required": {"include": ["entry_id\") FROM x --"]}}).to_string(),
            200,
            &["\"data\":"],
        ),
        get(
            format!("/simple/{}?per_page=1", encode("entries;")),
            404,
            &["collection", "not found"],
        ),
        // Deeply nested and huge filters.
        get(
            format!("/jsonapi/entries?filter={}", encode(&nested_filter(9))),
            400,
            &["filter", "deep"],
        ),
        get(
            format!("/jsonapi/entries?filter={}", encode(&many_terms.to_string())),
            400,
            &["filter", "32"],
        ),
        get(
            format!("/jsonapi/entries?filter={}", encode(&many_values.to_string())),
            400,
            &["filter", "100"],
        ),
        post(
            "/query/entries/query",
            json!({"query": many_terms}).to_string(),
            422,
            &["query", "32"],
        ),
        post(
            "/query/entries/query",
            format!(r#"{{"query": {deep_json}}}"#),
            422,
            &["body", "recursion"],
        ),
        get(
            format!("/hal/entries?search={}", encode(&"{\"not\":".repeat(300))),
            400,
            &["search"],
        ),
        get(
            format!(
                "/jsonapi/entries?filter%5Bprovider%5D%5Bin%5D={}",
                vec!["p"; 150].join(",")
            ),
            400,
            &["filter[provider][in]", "100"],
        ),
        get(
            "/jsonapi/entries?filter%5Bresults.material.elements%5D%5Bgt%5D=O",
            400,
            &["filter[results.material.elements][gt]"],
        ),
        get(
            "/jsonapi/entries?filter%5Bupload_create_time%5D=yesterday",
            400,
            &["filter[upload_create_time]", "RFC 3339"],
        ),
        // Forged, truncated, foreign and cross-collection cursors.
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={forged}"),
            400,
            &["page[cursor]", "cursor"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={truncated}"),
            400,
            &["page[cursor]", "cursor"],
        ),
        get(
            "/jsonapi/entries?page%5Bcursor%5D=AAAA",
            400,
            &["page[cursor]", "truncated"],
        ),
        get(
            "/jsonapi/entries?page%5Bcursor%5D=%E2%98%83",
            400,
            &["page[cursor]", "base64url"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={other_cursor}"),
            400,
            &["page[cursor]", "different collection"],
        ),
        get(
            format!("/jsonapi/other?page%5Bcursor%5D={cursor}"),
            400,
            &["page[cursor]", "different collection"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={cursor}&sort=provider"),
            400,
            &["page[cursor]", "sort"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={cursor}&filter%5Bprovider%5D=x"),
            400,
            &["page[cursor]", "filter"],
        ),
        get(format!("/simple/entries?after={forged}"), 400, &["after", "cursor"]),
        get(
            format!("/simple/entries?before={truncated}"),
            400,
            &["before", "cursor"],
        ),
        get(
            format!(
                "/hal/entries?search_after={}&pagination_type=search_after",
                "x".repeat(5000)
            ),
            200,
            &["_embedded"],
        ),
        get(
            format!(
                "/query/entries?order_by=provider&page_after_value={}",
                encode("nocolon")
            ),
            422,
            &["page_after_value", "<provider value>:<id>"],
        ),
        get(
            format!("/jsonapi/entries?page%5Bcursor%5D={cursor}&page%5Bnumber%5D=2"),
            400,
            &["page[cursor]", "page[number]"],
        ),
        // Misspelled parameters.
        get("/jsonapi/entries?page%5Bsise%5D=2", 400, &["page[sise]", "page[size]"]),
        get("/simple/entries?per_pag=2", 400, &["per_pag", "per_page"]),
        get("/hal/entries?limt=2", 400, &["limt", "limit"]),
        // Wrong methods and content types.
        method("DELETE", "/jsonapi/entries", &["DELETE", "Allow"]),
        method("PUT", "/jsonapi/entries/x", &["PUT", "Allow"]),
        method("PATCH", "/hal/entries", &["PATCH", "Allow"]),
        method("GET", "/query/entries/query", &["GET", "Allow"]),
        method("POST", "/jsonapi/entries", &["POST", "Allow"]),
        Case {
            content_type: Some("text/plain"),
            ..post("/query/entries/query", "{}", 415, &["content-type", "application/json"])
        },
        Case {
            content_type: Some("application/x-www-form-urlencoded"),
            ..post(
                "/simple/entries/searches",
                "per_page=2",
                415,
                &["content-type", "application/json"],
            )
        },
        post("/query/entries/query", "{\"query\": ", 422, &["body", "not JSON"]),
        post("/query/entries/query", "[1, 2]", 422, &["body", "JSON object"]),
        post(
            "/query/entries/query",
            vec![0xff, 0xfe, b'{', b'}'],
            422,
            &["body", "not JSON"],
        ),
        post("/simple/entries/searches", "\"text\"", 400, &["body", "JSON object"]),
        // Bodies over the limit (1 MiB by default).
        post("/query/entries/query", vec![b' '; 10 << 20], 413, &["body", "limit"]),
        post(
            "/simple/entries/searches",
            vec![b' '; 10 << 20],
            413,
            &["body", "limit"],
        ),
        post(
            "/query/entries/query",
            format!("{{\"owner\": \"{}\"}}", "a".repeat((1 << 20) + 1)),
            413,
            &["body", "limit"],
        ),
        // Unknown places.
        get("/nope", 404, &["/nope"]),
        get("/jsonapi/entries/a/b", 404, &["not-found"]),
        post("/query/nope/query", "{}", 404, &["collection", "nope"]),
        get("/problems/%27--", 404, &["not-found"]),
    ]
}

#[tokio::test]
async fn every_hostile_request_gets_its_status_and_names_what_is_wrong() {
    check_catalogue(&server().base).await;
}

#[test]
fn every_hostile_request_gets_its_status_and_names_what_is_wrong_on_postgres() {
    let Some(server) = postgres() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(check_catalogue(&server.base));
}

#[tokio::test]
async fn the_bounds_and_the_mistakes_hold_on_a_sqlite_file() {
    let server = sqlite_file();
    let failures = run(&server.base, &bounds_and_mistakes(), Expect::Exactly).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole catalogue on a user's SQLite file: its table has no nested paths, so rows about
/// them get other 4xx answers there, but no row may get a 5xx or take longer than the limit.
#[tokio::test]
async fn the_whole_catalogue_gets_no_5xx_and_answers_in_time_on_a_sqlite_file() {
    let server = sqlite_file();
    let base = &server.base;
    let cursor = next_cursor(base, "/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let other = next_cursor(base, "/jsonapi/other?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let failures = run(base, &catalogue(&cursor, &other), Expect::NoServerError).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// How strictly [`run`] checks each answer.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// The case's status and words.
    Exactly,
    /// Any status below 500.
    NoServerError,
}

/// Runs the whole catalogue against the server at `base`, then checks the data.
async fn check_catalogue(base: &str) {
    let cursor = next_cursor(base, "/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let other = next_cursor(base, "/jsonapi/other?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let mut cases = catalogue(&cursor, &other);
    cases.extend(bounds_and_mistakes());
    assert!(cases.len() >= 60, "the catalogue holds {} cases", cases.len());
    let failures = run(base, &cases, Expect::Exactly).await;
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Nothing was dropped or changed, and text full of SQL was taken as a plain value.
    let total = |path: &'static str| async move {
        let body: serde_json::Value = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["meta"]["total"].as_u64().unwrap()
    };
    assert_eq!(total("/jsonapi/entries?page%5Bsize%5D=0").await, ENTRIES);
    assert_eq!(total("/jsonapi/other?page%5Bsize%5D=0").await, 20);
    let found: serde_json::Value = reqwest::get(format!("{base}/jsonapi/other?filter%5Bname%5D={}", encode(SQL_TEXT)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = found["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["7"]);
}

/// Sends every case to the server at `base`; returns what went wrong, a line a case.
async fn run(base: &str, cases: &[Case], expect: Expect) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in cases {
        let url = format!("{base}{}", case.path);
        let mut request = client.request(case.method.parse().unwrap(), &url);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = &case.body {
            request = request.body(body.clone());
        }
        let shown: String = case.path.chars().take(120).collect();
        let started = Instant::now();
        if case.body.as_ref().is_some_and(|b| b.len() > 1 << 20) {
            // The server answers before the body is sent, and a client that only writes
            // first would see a broken pipe: read while writing.
            let (status, text) = raw_post(base, &case.path, case.body.as_deref().unwrap_or_default()).await;
            let wrong = match expect {
                Expect::Exactly => status != case.status || !case.says.iter().all(|word| text.contains(word)),
                Expect::NoServerError => !(400..500).contains(&status),
            };
            if wrong {
                failures.push(format!(
                    "POST {shown}: status {status}, expected {}: {text}",
                    case.status
                ));
            }
            continue;
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let allow = response.headers().contains_key("allow");
        let injected = response.headers().contains_key("x-injected");
        let text = response.text().await.unwrap();
        if expect == Expect::NoServerError {
            if status >= 500 {
                failures.push(format!("{} {shown}: status {status}: {text}", case.method));
            }
        } else if status != case.status {
            failures.push(format!(
                "{} {shown}: status {status}, expected {}: {text}",
                case.method, case.status
            ));
        } else if let Some(missing) = case.says.iter().find(|word| !text.contains(**word)) {
            failures.push(format!(
                "{} {shown}: the answer does not say `{missing}`: {text}",
                case.method
            ));
        } else if status == 405 && !allow {
            failures.push(format!("{} {shown}: a 405 without an Allow header", case.method));
        } else if injected {
            failures.push(format!("{} {shown}: a header was injected", case.method));
        } else if started.elapsed() > Duration::from_secs_f64(MAX_SECONDS) {
            failures.push(format!(
                "{} {shown}: answered in {:.2} s, more than {MAX_SECONDS} s",
                case.method,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    failures
}

/// POSTs `body` over a plain connection, reading the answer while the body is written.
async fn raw_post(base: &str, path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let body = body.to_vec();
    let writing = tokio::spawn(async move {
        // The server may stop reading once it has answered: write errors are expected. The
        // write half is kept open (a half-closed connection tells the server to give up).
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = reader.read_to_end(&mut answer).await;
    drop(writing.await);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn a_cursor_replayed_gives_the_same_page() {
    let cursor = next_cursor(&server().base, "/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=3").await;
    let url = format!(
        "{}/jsonapi/entries?page%5Bcursor%5D={cursor}&page%5Bsize%5D=3",
        server().base
    );
    let first = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let again = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(first.contains("\"data\":[{"), "{first}");
    assert_eq!(first, again);
}

/// A server over a small demo with the given request limits.
fn limited(max_concurrent_requests: usize, request_timeout: std::time::Duration) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    demo::build(&store, 50, &|_| {}).unwrap();
    let config = HttpConfig {
        max_concurrent_requests,
        request_timeout,
        ..HttpConfig::default()
    };
    start(store, dir, config)
}

#[tokio::test]
async fn a_request_that_finds_no_slot_in_time_gets_503_with_retry_after() {
    // No slot ever frees up, so the request waits out the whole limit.
    let server = limited(0, std::time::Duration::from_millis(50));
    let response = reqwest::get(format!("{}/jsonapi/entries", server.base)).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "request-timeout");
    assert!(body["detail"].as_str().unwrap().contains("50 ms"), "{body}");
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_wait_for_a_slot() {
    let server = limited(1, std::time::Duration::from_secs(30));
    let client = reqwest::Client::new();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..16 {
        let url = format!(
            "{}/jsonapi/entries?page%5Bnumber%5D={}&page%5Bsize%5D=3",
            server.base,
            i % 5 + 1
        );
        let client = client.clone();
        requests.spawn(async move { client.get(url).send().await.unwrap().status().as_u16() });
    }
    let statuses = requests.join_all().await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
}

/// A client that opens a connection and never finishes its request head (slowloris) is
/// disconnected once the header read timeout passes, while other clients are still answered.
#[tokio::test]
async fn a_request_head_that_never_ends_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    demo::build(&store, 20, &|_| {}).unwrap();
    let state = folio_http::AppState::new(std::sync::Arc::new(store), crate::server::SECRET, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = std::time::Duration::from_millis(500);
    tokio::spawn(folio_http::serve(
        listener,
        folio_http::router(state),
        timeout,
        std::future::pending(),
    ));

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    slow.write_all(b"GET /jsonapi/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    // The server answers others meanwhile.
    let other = reqwest::get(format!("http://{addr}/jsonapi/entries")).await.unwrap();
    assert_eq!(other.status().as_u16(), 200);
    // The slow connection is closed (EOF, whatever the server said before) well before this
    // bound; without the timeout it would stay open for ever.
    let mut said = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(20), slow.read_to_end(&mut said))
        .await
        .expect("the connection was closed")
        .unwrap();
    assert!(started.elapsed() >= timeout, "closed after {:?}", started.elapsed());
}

/// Header counts and sizes: past hyper's 100 headers a 431, and a long token on a public
/// collection costs no more than a short one.
#[tokio::test]
async fn header_counts_and_sizes_are_bounded() {
    let url = format!("{}/jsonapi/entries?page%5Bsize%5D=2", server().base);
    let client = reqwest::Client::new();
    let mut many = client.get(&url);
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "v");
    }
    let started = Instant::now();
    assert_eq!(many.send().await.unwrap().status().as_u16(), 431);
    let long = client
        .get(&url)
        .header("authorization", format!("Bearer {}", "a".repeat(64 << 10)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        long.status().as_u16(),
        200,
        "a token is not needed for a public collection"
    );
    assert!(started.elapsed() < Duration::from_secs_f64(MAX_SECONDS));
}
