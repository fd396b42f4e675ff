//! The harvester against real folio servers, a server that fails on purpose, and a server
//! that loops.

mod conventions;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request as HttpRequest;
use axum::middleware::Next as Middleware;
use axum::response::{IntoResponse, Response};
use folio_harvest::{HarvestError, Next, Options, Output, Request, harvest};
use folio_http::{AppState, HttpConfig};
use folio_store::{SqliteStore, Store, demo};
use serde_json::Value as Json;

const SIZE: u64 = 700;

/// A folio app over a demo of `SIZE` entries, with page numbers limited to 300 records so
/// that walks cross the offset window.
fn folio_app(dir: &std::path::Path) -> axum::Router {
    folio_app_with(dir, Some(300))
}

fn folio_app_with(dir: &std::path::Path, max_offset: Option<u64>) -> axum::Router {
    let store = SqliteStore::open(dir).unwrap();
    demo::build(&store, SIZE, &|_| {}).unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    folio_http::router(AppState::new(
        store,
        b"harvest test secret",
        HttpConfig::with_max_offset(max_offset),
    ))
}

/// Serves `app` on 127.0.0.1:0 and returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn options(start: Request) -> Options {
    Options {
        start,
        next: None,
        records_path: None,
        fields: None,
        headers: Vec::new(),
        timeout: Duration::from_secs(10),
        retries: 20,
        max_records: None,
        max_pages: None,
        allow_repeat: false,
        follow_any_origin: false,
        strict: true,
        concurrency: 1,
        overwrite: false,
    }
}

/// The entry ids of a harvested file, in order.
fn ids(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let r: Json = serde_json::from_str(l).unwrap();
            r.get("entry_id")
                .or_else(|| r.get("id"))
                .and_then(Json::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn demo_ids_by_id() -> Vec<String> {
    let mut ids: Vec<String> = demo::entries(SIZE)
        .map(|e| e["entry_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn starts(base: &str) -> Vec<(&'static str, Request)> {
    vec![
        (
            "jsonapi",
            Request::get(format!("{base}/jsonapi/entries?page[cursor]=1&page[size]=64")),
        ),
        (
            "jsonapi pages",
            Request::get(format!("{base}/jsonapi/entries?page[number]=1&page[size]=64")),
        ),
        (
            "hal",
            Request::get(format!("{base}/hal/entries?limit=64&pagination_type=search_after")),
        ),
        ("hal pages", Request::get(format!("{base}/hal/entries?limit=64"))),
        (
            "query",
            Request {
                url: format!("{base}/query/entries/query"),
                body: Some(serde_json::json!({"pagination": {"page_size": 64}})),
            },
        ),
        ("simple", Request::get(format!("{base}/simple/entries?per_page=64"))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_style_is_harvested_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app(dir.path())).await;
    for (name, start) in starts(&base) {
        let out = dir.path().join(format!("{}.jsonl", name.replace(' ', "_")));
        let summary = harvest(&options(start), &Output::File(out.clone()), false, &mut |_| {})
            .await
            .unwrap();
        assert!(summary.complete, "{name}");
        assert_eq!(summary.records, SIZE, "{name}");
        assert_eq!(ids(&out), demo_ids_by_id(), "{name}: every record once, in order");
        let manifest: Json =
            serde_json::from_slice(&std::fs::read(out.with_extension("jsonl.manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["records"], SIZE);
    }
}

/// Faults at random, but reproducibly: 429 with Retry-After, 500, bodies cut short,
/// connections dropped mid-body.
async fn faults(req: HttpRequest, next: Middleware) -> Response {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let roll = (n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59) % 8;
    match roll {
        0 => (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        )
            .into_response(),
        1 => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        2 | 3 => {
            let response = next.run(req).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            if roll == 2 {
                // A body cut short, with a length that matches what is sent.
                let mut parts = parts;
                parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
            } else {
                // The connection drops in the middle of the body.
                let half = bytes.slice(..bytes.len() / 2);
                let stream = futures_util::stream::iter(vec![
                    Ok::<_, std::io::Error>(half),
                    Err(std::io::Error::other("connection dropped")),
                ]);
                let mut parts = parts;
                parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from_stream(stream))
            }
        }
        _ => next.run(req).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_server_is_harvested_completely_with_retries_reported() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app(dir.path()).layer(axum::middleware::from_fn(faults))).await;
    for (name, start) in starts(&base) {
        let out = dir.path().join(format!("faulty_{}.jsonl", name.replace(' ', "_")));
        let mut opts = options(start);
        opts.retries = 30;
        let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(ids(&out), demo_ids_by_id(), "{name}");
        assert!(summary.retries > 0, "{name}: faults were retried and reported");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_repeats_a_cursor_is_a_loop() {
    // Every page links to the same next page: A -> B -> B.
    let app = axum::Router::new().route(
        "/items",
        axum::routing::get(|q: axum::extract::RawQuery| async move {
            let page = if q.0.is_some() { "b" } else { "a" };
            axum::Json(serde_json::json!({"data": [{"id": page}], "links": {"next": "/items?after=b"}}))
        }),
    );
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loop.jsonl");
    let err = harvest(
        &options(Request::get(format!("{base}/items"))),
        &Output::File(out),
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarvestError::Loop(_)), "{err}");

    // New cursors, same page every time: also a loop.
    let app = axum::Router::new().route(
        "/same",
        axum::routing::get(|q: axum::extract::RawQuery| async move {
            let n: u64 =
                q.0.and_then(|q| q.strip_prefix("n=").and_then(|n| n.parse().ok()))
                    .unwrap_or(0);
            axum::Json(serde_json::json!({"data": [{"id": "x"}], "links": {"next": format!("/same?n={}", n + 1)}}))
        }),
    );
    let base = serve(app).await;
    let out = dir.path().join("same.jsonl");
    let err = harvest(
        &options(Request::get(format!("{base}/same"))),
        &Output::File(out),
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarvestError::Loop(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_another_origin_and_lasting_4xx_stop_the_harvest() {
    let app = axum::Router::new()
        .route(
            "/away",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"data": [], "links": {"next": "http://127.0.0.2:9/x"}}))
            }),
        )
        .route(
            "/gone",
            axum::routing::get(|| async { (axum::http::StatusCode::NOT_FOUND, "no such thing") }),
        );
    let base = serve(app).await;
    let err = harvest(
        &options(Request::get(format!("{base}/away"))),
        &Output::Stdout,
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarvestError::OtherOrigin { .. }), "{err}");
    let err = harvest(
        &options(Request::get(format!("{base}/gone"))),
        &Output::Stdout,
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarvestError::Status { status: 404, .. }), "{err}");
}

/// Page numbers with a known total, several pages at once: still every record once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_fetched_concurrently_are_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app_with(dir.path(), None)).await;
    for concurrency in [1, 4, 16] {
        let mut opts = options(Request::get(format!("{base}/simple/entries?per_page=50")));
        opts.next = Some(Next::Pages {
            param: "page".into(),
            first: 1,
        });
        opts.concurrency = concurrency;
        let out = dir.path().join(format!("pages_{concurrency}.jsonl"));
        let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
            .await
            .unwrap();
        assert!(summary.complete);
        assert_eq!(ids(&out), demo_ids_by_id(), "concurrency {concurrency}");
    }
}

/// Page numbers refused past the server's depth limit: the harvest goes on with the cursor
/// link of the last page, and still gets every record once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_numbers_switch_to_cursors_past_the_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app(dir.path())).await;
    for concurrency in [1, 3] {
        let mut opts = options(Request::get(format!("{base}/simple/entries?per_page=64")));
        opts.next = Some(Next::Pages {
            param: "page".into(),
            first: 1,
        });
        opts.concurrency = concurrency;
        let out = dir.path().join(format!("switch_{concurrency}.jsonl"));
        let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
            .await
            .unwrap();
        assert!(summary.complete);
        assert_eq!(ids(&out), demo_ids_by_id(), "concurrency {concurrency}");
    }
}

/// An offset/limit API without links: offsets advance by the records received, and the walk
/// stops at the short last page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_walk_to_the_short_last_page() {
    let app = axum::Router::new().route(
        "/rows",
        axum::routing::get(
            |q: axum::extract::Query<std::collections::HashMap<String, usize>>| async move {
                let (offset, limit) = (
                    q.get("offset").copied().unwrap_or(0),
                    q.get("limit").copied().unwrap_or(10),
                );
                let rows: Vec<Json> = (offset..(offset + limit).min(95))
                    .map(|i| serde_json::json!({"id": format!("r{i:03}")}))
                    .collect();
                axum::Json(serde_json::json!({"rows": rows}))
            },
        ),
    );
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.jsonl");
    let mut opts = options(Request::get(format!("{base}/rows?limit=10")));
    opts.next = Some(Next::Offsets { param: "offset".into() });
    let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    assert!(summary.complete);
    assert_eq!(summary.pages, 10);
    assert_eq!(ids(&out), (0..95).map(|i| format!("r{i:03}")).collect::<Vec<_>>());
}

/// Refuses every request from the third on with 403 while the gate's flag is up.
async fn broken_after_two(
    axum::extract::State(gate): axum::extract::State<Arc<(AtomicU64, AtomicBool)>>,
    req: HttpRequest,
    next: Middleware,
) -> Response {
    if gate.0.fetch_add(1, Ordering::Relaxed) >= 2 && gate.1.load(Ordering::Relaxed) {
        return (axum::http::StatusCode::FORBIDDEN, "not now").into_response();
    }
    next.run(req).await
}

/// A harvest that stops on an error that will not heal keeps every page it wrote before,
/// synced and checkpointed; resumed once the server is fixed, it ends with every record once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_stopped_by_an_error_keeps_its_pages_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new((AtomicU64::new(0), AtomicBool::new(true)));
    let app = folio_app(dir.path()).layer(axum::middleware::from_fn_with_state(gate.clone(), broken_after_two));
    let base = serve(app).await;
    let out = dir.path().join("broken.jsonl");
    let start = Request::get(format!("{base}/jsonapi/entries?page[cursor]=1&page[size]=64"));
    let err = harvest(&options(start.clone()), &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HarvestError::Status { status: 403, .. }), "{err}");
    let saved = folio_harvest::checkpoint::load(&out).unwrap().expect("a checkpoint");
    assert_eq!((saved.pages, saved.records), (2, 128));
    assert_eq!(ids(&out).len(), 128);

    gate.1.store(false, Ordering::Relaxed);
    let rest = harvest(&options(start), &Output::File(out.clone()), true, &mut |_| {})
        .await
        .unwrap();
    assert!(rest.complete);
    assert_eq!(ids(&out), demo_ids_by_id());
}

/// A harvest stopped by --max-records in the middle of a page, then resumed: the records of
/// that page already written are not written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_harvest_stopped_mid_page_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app(dir.path())).await;
    let out = dir.path().join("limited.jsonl");
    let start = Request::get(format!("{base}/jsonapi/entries?page[cursor]=1&page[size]=64"));
    let mut limited = options(start.clone());
    limited.max_records = Some(100);
    let first = harvest(&limited, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!((first.records, first.complete), (100, false));
    let rest = harvest(&options(start), &Output::File(out.clone()), true, &mut |_| {})
        .await
        .unwrap();
    assert!(rest.complete);
    assert_eq!(ids(&out), demo_ids_by_id());
}

/// --max-pages holds with pages fetched ahead: no page past the limit is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_pages_holds_with_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app_with(dir.path(), None)).await;
    let mut opts = options(Request::get(format!("{base}/simple/entries?per_page=50")));
    opts.next = Some(Next::Pages {
        param: "page".into(),
        first: 1,
    });
    opts.concurrency = 4;
    opts.max_pages = Some(2);
    let out = dir.path().join("two.jsonl");
    let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!((summary.pages, summary.records, summary.complete), (2, 100, false));
    assert_eq!(ids(&out), demo_ids_by_id()[..100]);
}

/// Pages printed over many lines: each record is still written as one line, the same JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pretty_printed_records_are_written_one_per_line() {
    let record = |page: usize, i: usize| serde_json::json!({"id": format!("p{page}r{i}"), "n": {"list": [1, 2], "text": "a\nb"}});
    let app = axum::Router::new().route(
        "/rows",
        axum::routing::get(
            move |q: axum::extract::Query<std::collections::HashMap<String, usize>>| async move {
                let page = q.get("page").copied().unwrap_or(1);
                let rows: Vec<Json> = (0..if page < 3 { 3 } else { 1 }).map(|i| record(page, i)).collect();
                let body = serde_json::to_string_pretty(&serde_json::json!({"rows": rows})).unwrap();
                ([(axum::http::header::CONTENT_TYPE, "application/json")], body)
            },
        ),
    );
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.jsonl");
    let mut opts = options(Request::get(format!("{base}/rows")));
    opts.next = Some(Next::Pages {
        param: "page".into(),
        first: 1,
    });
    harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    let lines: Vec<Json> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<Json> = [(1, 3), (2, 3), (3, 1)]
        .into_iter()
        .flat_map(|(page, n)| (0..n).map(move |i| record(page, i)))
        .collect();
    assert_eq!(lines, expected);
}

/// `--fields` on JSON:API resources looks inside `attributes`; a path no record has is an
/// error, never a file of `{}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_found_inside_json_api_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(folio_app(dir.path())).await;
    let url = format!("{base}/jsonapi/entries?page[cursor]=1&page[size]=100");
    let mut opts = options(Request::get(url.clone()));
    opts.fields = Some(vec!["id".into(), "provider".into()]);
    let out = dir.path().join("fields.jsonl");
    harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count() as u64, SIZE);
    for line in text.lines() {
        let record: Json = serde_json::from_str(line).unwrap();
        assert!(record["provider"].is_string() && record["id"].is_string(), "{line}");
    }

    opts.fields = Some(vec!["provider".into(), "no.such.path".into()]);
    let err = harvest(&opts, &Output::File(dir.path().join("none.jsonl")), false, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HarvestError::NoSuchField { .. }), "{err}");
    assert!(
        err.to_string().contains("no.such.path") && err.to_string().contains("`provider`"),
        "{err}"
    );
}
