//! A catalogue of the pagination conventions real APIs use, each served by a small axum
//! handler over the same 53 records (ten a page, ties in `score`), each drained from its first
//! URL alone; and each with a variant that stops early while declaring more, which must fail
//! with a message naming a flag.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use folio_harvest::{HarvestError, Next, Output, Request, harvest};
use serde_json::{Value as Json, json};

use crate::{options, serve};

const RECORDS: usize = 53;
const SIZE: usize = 10;

fn record(i: usize) -> Json {
    json!({"id": i + 1, "name": format!("record {}", i + 1), "score": i % 3})
}

/// Records `from..from + SIZE`.
fn slice(from: usize) -> Vec<Json> {
    (from.min(RECORDS)..(from + SIZE).min(RECORDS)).map(record).collect()
}

/// One convention: `name`, the first page's path, and what answers each request. `broken`
/// variants stop naming a next position after the third page while still declaring the total.
async fn convention(
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("");
    let broken = q.contains_key("broken");
    let extra = if broken { "&broken=1" } else { "" };
    let num = |key: &str, default: usize| q.get(key).and_then(|v| v.parse().ok()).unwrap_or(default);
    // Where this page starts, for conventions whose positions are offsets in disguise.
    let token = |key: &str| {
        q.get(key)
            .and_then(|t| t.strip_prefix('c'))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0)
    };
    let more = |from: usize| from + SIZE < RECORDS && !(broken && from >= 2 * SIZE);
    let total_header = [("x-total-count", RECORDS.to_string())];
    let body = match name.as_str() {
        // RFC 8288 Link header, bare array.
        "link" => {
            let page = num("page", 1);
            let from = (page - 1) * SIZE;
            let mut response = axum::Json(slice(from)).into_response();
            if more(from) {
                let link = format!("</c/link?page={}{extra}>; rel=\"next\"", page + 1);
                response.headers_mut().insert("link", link.parse().unwrap());
            }
            if broken {
                response.headers_mut().insert("x-total-count", RECORDS.into());
            }
            return response;
        }
        // Django REST framework: absolute `next`, `count`, `results`.
        "drf" => {
            let page = num("page", 1);
            let from = (page - 1) * SIZE;
            let next = more(from).then(|| format!("http://{host}/c/drf?page={}{extra}", page + 1));
            json!({"count": RECORDS, "next": next, "previous": null, "results": slice(from)})
        }
        // JSON:API-like: relative `links.next`.
        "relative" => {
            let from = num("after", 0);
            let next = more(from).then(|| format!("/c/relative?after={}{extra}", from + SIZE));
            json!({"data": slice(from), "links": {"next": next}, "meta": {"total": RECORDS}})
        }
        // OData: `@odata.nextLink`, `value`, `@odata.count`.
        "odata" => {
            let from = num("$skip", 0);
            let next = more(from).then(|| format!("http://{host}/c/odata?$skip={}{extra}", from + SIZE));
            json!({"@odata.count": RECORDS, "value": slice(from), "@odata.nextLink": next})
        }
        // HAL: `_links.next.href`, records under `_embedded.<resource>`.
        "hal" => {
            let page = num("p", 1);
            let from = (page - 1) * SIZE;
            let mut links = json!({"self": {"href": "/c/hal"}});
            if more(from) {
                links["next"] = json!({"href": format!("/c/hal?p={}{extra}", page + 1)});
            }
            json!({"_embedded": {"things": slice(from)}, "_links": links, "total_items": RECORDS})
        }
        // Graph APIs: `paging.next`.
        "paging" => {
            let from = token("after");
            let next = more(from).then(|| format!("http://{host}/c/paging?after=c{}{extra}", from + SIZE));
            json!({"data": slice(from), "paging": {"next": next}, "summary": {"total_count": RECORDS}})
        }
        // Salesforce: `nextRecordsUrl` in the path, `totalSize`, `done`.
        "salesforce" => {
            let from = token("batch");
            let next = more(from).then(|| format!("/c/salesforce?batch=c{}{extra}", from + SIZE));
            json!({"totalSize": RECORDS, "done": next.is_none(), "records": slice(from), "nextRecordsUrl": next})
        }
        // Laravel: `next_page_url`, `last_page`, `data`.
        "laravel" => {
            let page = num("page", 1);
            let from = (page - 1) * SIZE;
            let next = more(from).then(|| format!("http://{host}/c/laravel?page={}{extra}", page + 1));
            json!({"current_page": page, "data": slice(from), "last_page": RECORDS.div_ceil(SIZE), "next_page_url": next, "total": RECORDS})
        }
        // Tokens sent back as a parameter named by the convention.
        "cursor" => {
            let from = token("cursor");
            json!({"items": slice(from), "next_cursor": more(from).then(|| format!("c{}", from + SIZE)), "total": RECORDS})
        }
        "google" => {
            let from = token("pageToken");
            let mut body = json!({"things": slice(from), "totalSize": RECORDS});
            if more(from) {
                body["nextPageToken"] = json!(format!("c{}", from + SIZE));
            }
            body
        }
        "kubernetes" => {
            let from = token("continue");
            let next = if more(from) {
                format!("c{}", from + SIZE)
            } else {
                String::new()
            };
            json!({"kind": "List", "items": slice(from), "metadata": {"continue": next, "remainingItemCount": RECORDS - (from + SIZE).min(RECORDS)}})
        }
        "slack" => {
            let from = token("cursor");
            let next = if more(from) {
                format!("c{}", from + SIZE)
            } else {
                String::new()
            };
            json!({"ok": true, "members": slice(from), "response_metadata": {"next_cursor": next}})
        }
        "twitter" => {
            let from = token("pagination_token");
            let mut meta = json!({"result_count": slice(from).len()});
            if more(from) {
                meta["next_token"] = json!(format!("c{}", from + SIZE));
            }
            json!({"data": slice(from), "meta": meta})
        }
        "facebook" => {
            let from = token("after");
            let mut cursors = json!({"before": format!("c{from}")});
            if more(from) {
                cursors["after"] = json!(format!("c{}", from + SIZE));
            }
            json!({"data": slice(from), "paging": {"cursors": cursors}})
        }
        // A token whose parameter is neither its name nor `cursor`: `next_token` -> `token`.
        "renamed" => {
            let from = token("token");
            json!({"results": slice(from), "next_token": more(from).then(|| format!("c{}", from + SIZE)), "count": RECORDS})
        }
        // fastapi-pagination's CursorPage: a `next_page` token taken as `cursor`.
        "fastapi-cursor" => {
            let from = token("cursor");
            json!({"items": slice(from), "total": null, "current_page": format!("c{from}"), "previous_page": null, "next_page": more(from).then(|| format!("c{}", from + SIZE))})
        }
        // Stripe: `has_more` and `starting_after` the last id.
        "stripe" => {
            let from = num("starting_after", 0);
            let data = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"object": "list", "url": "/v1/things", "data": data, "has_more": from + SIZE < RECORDS})
        }
        // Page numbers with no link: fastapi-pagination's Page (1-based).
        "fastapi-page" => {
            let page = num("page", 1);
            let from = (page - 1) * SIZE;
            let items = if broken && page > 3 { Vec::new() } else { slice(from) };
            json!({"items": items, "total": RECORDS, "page": page, "size": SIZE, "pages": RECORDS.div_ceil(SIZE)})
        }
        // Spring Data: 0-based `number`, `totalPages`, `content`.
        "spring" => {
            let page = num("page", 0);
            let from = page * SIZE;
            let content = if broken && page > 2 { Vec::new() } else { slice(from) };
            json!({"content": content, "totalElements": RECORDS, "totalPages": RECORDS.div_ceil(SIZE), "number": page, "size": SIZE})
        }
        // json-server: `_page` in the URL, `X-Total-Count`, bare array.
        "json-server" => {
            let page = num("_page", 1);
            let from = (page - 1) * SIZE;
            let items = if broken && page > 3 { Vec::new() } else { slice(from) };
            return (total_header, axum::Json(items)).into_response();
        }
        // flask-smorest: `X-Pagination` JSON header, no page in the first URL, 1-based.
        "x-pagination" => {
            let page = num("page", 1);
            let from = (page - 1) * SIZE;
            let items = if broken && page > 3 { Vec::new() } else { slice(from) };
            let header = json!({"total": RECORDS, "total_pages": RECORDS.div_ceil(SIZE), "page": page}).to_string();
            return ([("x-pagination", header)], axum::Json(items)).into_response();
        }
        // fastapi-pagination's LimitOffsetPage: `offset` named by the response.
        "fastapi-offset" => {
            let from = num("offset", 0);
            let items = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"items": items, "total": RECORDS, "limit": SIZE, "offset": from})
        }
        // django-ninja's LimitOffsetPagination: `{items, count}`, nothing names the parameter
        // (`offset`); a `page` parameter is ignored, so page numbers are tried and refuted.
        "ninja" => {
            let from = num("offset", 0);
            let items = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"items": items, "count": RECORDS})
        }
        // json-server 1.0: the next page's number in `next`, taken back as `_page`; `items`
        // is the total; any other parameter is a filter (which no record matches).
        "json-server-v1" | "filtering" => {
            let param = if name == "filtering" { "page" } else { "_page" };
            let known = [param, "_per_page", "broken"];
            if q.keys().any(|k| !known.contains(&k.as_str())) {
                return axum::Json(
                    json!({"first": 1, "prev": null, "next": null, "last": 1, "pages": 0, "items": 0, "data": []}),
                )
                .into_response();
            }
            let page = num(param, 1);
            let from = (page - 1) * SIZE;
            let pages = RECORDS.div_ceil(SIZE);
            let data = if broken && page > 3 { Vec::new() } else { slice(from) };
            let next = (page < pages && !data.is_empty()).then_some(page + 1);
            let mut body = json!({"first": 1, "prev": null, "next": next, "last": pages, "pages": pages, "data": data});
            if name == "json-server-v1" {
                body["items"] = json!(RECORDS);
            }
            body
        }
        // Jira: `startAt`, `maxResults`, `total`, records under the resource's plural.
        "jira" => {
            let from = num("startAt", 0);
            let issues = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"expand": "names", "startAt": from, "maxResults": SIZE, "total": RECORDS, "issues": issues})
        }
        // Algolia: `hits`, `nbHits`, a 0-based `page`, `nbPages`.
        "algolia" => {
            let page = num("page", 0);
            let hits = if broken && page > 2 {
                Vec::new()
            } else {
                slice(page * SIZE)
            };
            json!({"hits": hits, "nbHits": RECORDS, "page": page, "nbPages": RECORDS.div_ceil(SIZE), "hitsPerPage": SIZE})
        }
        // Meilisearch: `offset`, `limit`, and a total it marks as an estimate.
        "meilisearch" => {
            let from = num("offset", 0);
            let hits = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"hits": hits, "query": "", "offset": from, "limit": SIZE, "estimatedTotalHits": if broken { 1000 } else { 50 }})
        }
        // Reddit: `data.after`, records in `data.children`.
        "reddit" => {
            let from = token("after");
            let after = more(from).then(|| format!("c{}", from + SIZE));
            json!({"kind": "Listing", "data": {"after": after, "dist": SIZE, "children": slice(from), "before": null}})
        }
        // HubSpot: `paging.next.after` and `paging.next.link`.
        "hubspot" => {
            let from = token("after");
            let mut body = json!({"results": slice(from), "total": RECORDS});
            if more(from) {
                body["paging"] = json!({"next": {"after": format!("c{}", from + SIZE), "link": format!("/c/hubspot?after=c{}{extra}", from + SIZE)}});
            }
            body
        }
        // CKAN: `result.count`, `result.results`, `start` and `rows`.
        "ckan" => {
            let from = num("start", 0);
            let results = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"success": true, "result": {"count": RECORDS, "results": results}})
        }
        // Socrata: `$limit` and `$offset`, a bare array and nothing else.
        "socrata" => {
            let from = num("$offset", 0);
            let mut response = axum::Json(slice(from)).into_response();
            if broken {
                response.headers_mut().insert("x-total-count", RECORDS.into());
                if from >= 3 * SIZE {
                    response =
                        ([("x-total-count", RECORDS.to_string())], axum::Json(Vec::<Json>::new())).into_response();
                }
            }
            return response;
        }
        // Strapi: `meta.pagination.page`, taken back as `pagination[page]` (`page` is ignored).
        "strapi" => {
            let page = num("pagination[page]", 1);
            let data = if broken && page > 3 {
                Vec::new()
            } else {
                slice((page - 1) * SIZE)
            };
            json!({"data": data, "meta": {"pagination": {"page": page, "pageSize": SIZE, "pageCount": RECORDS.div_ceil(SIZE), "total": RECORDS}}})
        }
        // PostgREST: a bare array, `limit` and `offset`, `Content-Range` with an unknown total
        // (`*`) unless counted; an unknown parameter is an error (taken for a column).
        "postgrest" => {
            if q.keys().any(|k| !["limit", "offset", "broken"].contains(&k.as_str())) {
                return (axum::http::StatusCode::BAD_REQUEST, "column does not exist").into_response();
            }
            let from = num("offset", 0);
            let rows = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            let range = format!(
                "{from}-{}/{}",
                from + rows.len().max(1) - 1,
                if broken { "53" } else { "*" }
            );
            return ([("content-range", range)], axum::Json(rows)).into_response();
        }
        // Elasticsearch-like: `hits.hits`, `hits.total.value`, `from` in the URL.
        "search" => {
            let from = num("from", 0);
            let hits = if broken && from >= 3 * SIZE {
                Vec::new()
            } else {
                slice(from)
            };
            json!({"took": 1, "hits": {"total": {"value": RECORDS, "relation": "eq"}, "hits": hits}})
        }
        // A total the API marks as a lower bound (folio's `totalExact: false`).
        "capped" => {
            let from = num("after", 0);
            let next = more(from).then(|| format!("/c/capped?after={}", from + SIZE));
            json!({"data": slice(from), "links": {"next": next}, "meta": {"total": 20, "totalExact": false}})
        }
        // Ignores every parameter: each guess gets the first page again.
        "stubborn" => json!({"items": slice(0), "total": RECORDS, "next_cursor": "c10"}),
        _ => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    axum::Json(body).into_response()
}

/// Each convention's first URL, as a user would copy it.
const FIRST: [&str; 35] = [
    "/c/link",
    "/c/drf",
    "/c/relative",
    "/c/odata",
    "/c/hal",
    "/c/paging",
    "/c/salesforce",
    "/c/laravel",
    "/c/cursor",
    "/c/google",
    "/c/kubernetes",
    "/c/slack",
    "/c/twitter",
    "/c/facebook",
    "/c/renamed",
    "/c/fastapi-cursor",
    "/c/stripe",
    "/c/fastapi-page",
    "/c/spring",
    "/c/json-server?_page=1",
    "/c/x-pagination",
    "/c/fastapi-offset",
    "/c/ninja",
    "/c/postgrest?limit=10",
    "/c/json-server-v1?_page=1&_per_page=10",
    "/c/filtering",
    "/c/jira",
    "/c/algolia",
    "/c/meilisearch",
    "/c/reddit",
    "/c/hubspot",
    "/c/ckan?rows=10",
    "/c/socrata?$limit=10",
    "/c/strapi",
    "/c/search?from=0&size=10",
];

async fn catalogue() -> String {
    serve(axum::Router::new().route("/c/{name}", axum::routing::get(convention))).await
}

fn ids_of(path: &std::path::Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap()["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_convention_is_drained_exactly_once_from_its_url_alone() {
    let base = catalogue().await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(Request::get(""));
    opts.strict = true;
    for first in FIRST {
        opts.start = Request::get(format!("{base}{first}"));
        let out = dir
            .path()
            .join(format!("{}.jsonl", first.replace(['/', '?', '&', '='], "_")));
        let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("{first}: {e}"));
        assert!(summary.complete, "{first}");
        assert_eq!(
            ids_of(&out),
            (1..=RECORDS as u64).collect::<Vec<_>>(),
            "{first}: every record once, in order"
        );
        let plan = summary.plan.unwrap();
        assert_ne!(plan.next, Next::Nothing, "{first}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_that_stops_while_the_api_declares_more_fails_and_names_a_flag() {
    let base = catalogue().await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(Request::get(""));
    opts.strict = false;
    for first in FIRST {
        let separator = if first.contains('?') { '&' } else { '?' };
        // Conventions that name no total anywhere get one in `X-Total-Count` (link); the
        // others keep their own.
        let url = format!("{base}{first}{separator}broken=1");
        opts.start = Request::get(url.clone());
        let out = dir
            .path()
            .join(format!("broken{}.jsonl", first.replace(['/', '?', '&', '='], "_")));
        let result = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {}).await;
        // Conventions whose responses declare nothing exact about the rest cannot tell: they
        // end as if complete.
        let declares = !matches!(
            first,
            "/c/slack" | "/c/twitter" | "/c/facebook" | "/c/fastapi-cursor" | "/c/reddit"
            // An estimated total is only a warning.
            | "/c/meilisearch"
        );
        match result {
            Err(e @ HarvestError::EndedEarly { .. }) => {
                let message = e.to_string();
                let manifest: Json =
                    serde_json::from_slice(&std::fs::read(out.with_extension("jsonl.manifest.json")).unwrap()).unwrap();
                assert_eq!(manifest["complete"], false, "{first}: {manifest}");
                assert!(
                    manifest["ended"].as_str().unwrap().starts_with("ended early: "),
                    "{first}: {manifest}"
                );
                assert!(message.contains("--"), "{first}: names a flag: {message}");
                assert!(
                    message.contains("declared")
                        || message.contains("is true")
                        || message.contains("remainingItemCount"),
                    "{first}: says what the API declared: {message}"
                );
            }
            Ok(summary) if !declares => assert!(summary.complete, "{first}"),
            other => panic!("{first}: expected an early end to be an error, got {other:?}"),
        }
        assert!(ids_of(&out).len() < RECORDS, "{first}: the variant stops early");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guess_answered_with_the_first_page_again_is_caught_on_page_two() {
    let base = catalogue().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stubborn.jsonl");
    let err = harvest(
        &options(Request::get(format!("{base}/c/stubborn"))),
        &Output::File(out.clone()),
        false,
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, HarvestError::NotConfirmed { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("`cursor`") && message.contains("--cursor-param"),
        "{message}"
    );
    assert_eq!(
        ids_of(&out),
        (1..=SIZE as u64).collect::<Vec<_>>(),
        "the first page, once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_total_is_at_least_and_never_a_mismatch() {
    let base = catalogue().await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(Request::get(format!("{base}/c/capped")));
    opts.strict = true;
    let out = dir.path().join("capped.jsonl");
    let summary = harvest(&opts, &Output::File(out.clone()), false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(summary.records, RECORDS as u64);
    let declared = summary.declared.unwrap();
    assert_eq!((declared.value, declared.exact), (20, false));
    assert_eq!(declared.to_string(), "at least 20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_output_is_never_replaced_or_mixed_in_silence() {
    let base = catalogue().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drf.jsonl");
    let output = Output::File(out.clone());
    let mut opts = options(Request::get(format!("{base}/c/drf")));
    // A walk stopped half-way, then the same command again without --resume: refused, with
    // the way to resume or overwrite.
    opts.max_pages = Some(2);
    harvest(&opts, &output, false, &mut |_| {}).await.unwrap();
    let err = harvest(&opts, &output, false, &mut |_| {}).await.unwrap_err();
    assert!(matches!(err, HarvestError::OutputExists { .. }), "{err}");
    assert!(
        err.to_string().contains("--resume") && err.to_string().contains("--overwrite"),
        "{err}"
    );
    opts.max_pages = None;
    harvest(&opts, &output, true, &mut |_| {}).await.unwrap();
    let before = std::fs::read(&out).unwrap();
    assert_eq!(ids_of(&out).len(), RECORDS, "resumed to the end");

    // A complete harvest: only --overwrite would harvest again.
    let err = harvest(&opts, &output, false, &mut |_| {}).await.unwrap_err();
    assert!(
        err.to_string().contains("holds a complete harvest; add --overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), before, "unchanged");

    // --resume of another walk (a parameter added): refused, both shown.
    let other = options(Request::get(format!("{base}/c/drf?score=1")));
    let err = harvest(&other, &output, true, &mut |_| {}).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, HarvestError::OtherWalk { .. }), "{err}");
    assert!(message.contains("/c/drf ") || message.contains("/c/drf,"), "{message}");
    assert!(message.contains("score=1"), "{message}");
    assert_eq!(std::fs::read(&out).unwrap(), before, "unchanged");

    // --resume with no checkpoint: an error, not a fresh start.
    let fresh = dir.path().join("fresh.jsonl");
    let err = harvest(&opts, &Output::File(fresh.clone()), true, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HarvestError::NothingToResume(_)), "{err}");
    assert!(!fresh.exists());

    // --overwrite replaces it.
    let mut replace = options(Request::get(format!("{base}/c/laravel")));
    replace.overwrite = true;
    harvest(&replace, &output, false, &mut |_| {}).await.unwrap();
    assert_eq!(ids_of(&out).len(), RECORDS);
}
