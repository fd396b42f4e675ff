//! The bad-input catalogue: hostile and malformed requests, each with the status it must get
//! and the words its message must hold (the parameter at fault, what is allowed). Afterwards
//! the data must be untouched, and text full of SQL must have been taken as plain values.

use std::sync::OnceLock;

use folio_engine::{CollectionSchema, FieldType, IdType, IndexedPath};
use folio_http::HttpConfig;
use folio_store::{SqliteStore, demo};
use serde_json::json;

use crate::server::{Server, start};

const ENTRIES: u64 = 300;

/// A value stored in the `other` collection, to be found again through a filter.
const SQL_TEXT: &str = "'; DROP TABLE folio_c_other; --";

/// A server of its own: the demo `entries` and a second collection, `other`.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        demo::build(&store, ENTRIES, &|_| {}).unwrap();
        let schema = CollectionSchema {
            name: "other".into(),
            id_path: "id".into(),
            id_type: IdType::Integer,
            indexed: vec![IndexedPath {
                path: "name".into(),
                ty: FieldType::String,
            }],
        };
        store.create_collection(&schema, None).unwrap();
        let docs =
            (1..=20).map(|i| json!({"id": i, "name": if i == 7 { SQL_TEXT.to_owned() } else { format!("n{i}") }}));
        store.insert("other", docs, &|_| {}).unwrap();
        start(store, dir, HttpConfig::with_max_offset(Some(100)))
    })
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

async fn next_cursor(path: &str) -> String {
    let body: serde_json::Value = reqwest::get(format!("{}{path}", server().base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = body["links"]["next"].as_str().unwrap().to_owned();
    let cursor = next.split("page%5Bcursor%5D=").nth(1).unwrap();
    cursor.split('&').next().unwrap().to_owned()
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
    let cursor = next_cursor("/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let other = next_cursor("/jsonapi/other?page%5Bcursor%5D=1&page%5Bsize%5D=2").await;
    let cases = catalogue(&cursor, &other);
    assert!(cases.len() >= 60, "the catalogue holds {} cases", cases.len());
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in &cases {
        let url = format!("{}{}", server().base, case.path);
        let mut request = client.request(case.method.parse().unwrap(), &url);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = &case.body {
            request = request.body(body.clone());
        }
        let shown: String = case.path.chars().take(120).collect();
        if case.body.as_ref().is_some_and(|b| b.len() > 1 << 20) {
            // The server answers before the body is sent, and a client that only writes
            // first would see a broken pipe: read while writing.
            let (status, text) = raw_post(&case.path, case.body.as_deref().unwrap_or_default()).await;
            if status != case.status || !case.says.iter().all(|word| text.contains(word)) {
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
        if status != case.status {
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
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Nothing was dropped or changed, and text full of SQL was taken as a plain value.
    let total = |path: &'static str| async move {
        let body: serde_json::Value = reqwest::get(format!("{}{path}", server().base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["meta"]["total"].as_u64().unwrap()
    };
    assert_eq!(total("/jsonapi/entries?page%5Bsize%5D=0").await, ENTRIES);
    assert_eq!(total("/jsonapi/other?page%5Bsize%5D=0").await, 20);
    let found: serde_json::Value = reqwest::get(format!(
        "{}/jsonapi/other?filter%5Bname%5D={}",
        server().base,
        encode(SQL_TEXT)
    ))
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

/// POSTs `body` over a plain connection, reading the answer while the body is written.
async fn raw_post(path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server().base.trim_start_matches("http://");
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
    let cursor = next_cursor("/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=3").await;
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
