//! The `jsonapi` style over a real server: walks, page numbers, links, limits and errors.

use std::collections::HashSet;

use folio_engine::{FieldType, Value};
use folio_store::demo;
use serde_json::Value as Json;

use crate::server::{DEMO_SIZE, MAX_OFFSET, get};

/// The demo's entry ids sorted by `-upload_create_time` (ties by id descending), in Rust.
fn reference_by_time_desc() -> Vec<String> {
    let mut keyed: Vec<(Value, String)> = demo::entries(DEMO_SIZE)
        .map(|e| {
            let t = Value::parse(e["upload_create_time"].as_str().unwrap(), FieldType::Timestamp).unwrap();
            (t, e["entry_id"].as_str().unwrap().to_owned())
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.as_bytes().cmp(a.1.as_bytes())));
    keyed.into_iter().map(|(_, id)| id).collect()
}

pub(crate) fn ids(body: &Json) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn link(body: &Json, rel: &str) -> Option<String> {
    body["links"][rel].as_str().map(str::to_owned)
}

#[track_caller]
pub(crate) fn assert_error(
    reply: &crate::server::Reply,
    status: u16,
    code: &str,
    param: Option<&str>,
    mentions: &[&str],
) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/vnd.api+json");
    let e = &reply.body["errors"][0];
    assert_eq!(e["status"], status.to_string(), "{e}");
    assert_eq!(e["code"], code, "{e}");
    assert!(e["title"].is_string(), "{e}");
    if let Some(param) = param {
        assert_eq!(e["source"]["parameter"], param, "{e}");
    }
    let detail = e["detail"].as_str().unwrap();
    for m in mentions {
        assert!(detail.contains(m), "detail {detail:?} should mention {m:?}");
    }
}

/// Follows `rel` links from `start` to the end, checking every page on the way.
pub(crate) async fn follow(start: &str, rel: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(start.to_owned());
    while let Some(url) = next {
        assert!(pages.len() < 10_000, "the walk does not end");
        let reply = get(&url).await;
        assert_eq!(reply.status, 200, "{url}: {}", reply.body);
        pages.push(ids(&reply.body));
        next = link(&reply.body, rel);
    }
    pages
}

#[tokio::test]
async fn cursor_walk_visits_every_entry_once_in_order() {
    let expected = reference_by_time_desc();
    for size in [1000, 7] {
        let pages = follow(
            &format!("/jsonapi/entries?page[cursor]=1&page[size]={size}&sort=-upload_create_time"),
            "next",
        )
        .await;
        let walked = pages.concat();
        assert_eq!(walked.len(), DEMO_SIZE as usize);
        assert_eq!(
            walked.iter().collect::<HashSet<_>>().len(),
            walked.len(),
            "no entry twice"
        );
        assert_eq!(walked, expected, "in the order of the sort, page size {size}");
    }
}

#[tokio::test]
async fn backward_walk_from_the_end_gives_the_same_records() {
    let first = get("/jsonapi/entries?page[cursor]=1&page[size]=100&sort=-upload_create_time").await;
    let last = link(&first.body, "last").unwrap();
    let mut pages = follow(&last, "prev").await;
    assert!(
        pages.iter().skip(1).all(|p| p.len() == 100),
        "full pages, except the first one reached last"
    );
    pages.reverse();
    assert_eq!(pages.concat(), reference_by_time_desc());
}

#[tokio::test]
async fn profile_after_and_before_walk_both_ways() {
    let first =
        get("/jsonapi/entries?page[cursor]=1&page[size]=250&sort=provider,-results.properties.electronic.band_gap")
            .await;
    let next = link(&first.body, "next").unwrap();
    // Switch to the cursor profile's parameters by taking the token out of the link.
    let token = next
        .split("page%5Bcursor%5D=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let sort = "sort=provider,-results.properties.electronic.band_gap";
    let second = get(&format!("/jsonapi/entries?page[after]={token}&page[size]=250&{sort}")).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let via_after = ids(&second.body);
    let via_cursor = ids(&get(&next).await.body);
    assert_eq!(via_after, via_cursor);
    let prev = link(&second.body, "prev").unwrap();
    assert!(prev.contains("page%5Bbefore%5D="), "{prev}");
    assert!(link(&second.body, "next").unwrap().contains("page%5Bafter%5D="));
    assert_eq!(
        ids(&get(&prev).await.body),
        ids(&first.body),
        "prev of the second page is the first"
    );
}

#[tokio::test]
async fn page_numbers_agree_with_the_cursor_walk_and_link_to_each_other() {
    let expected = reference_by_time_desc();
    let page3 = get("/jsonapi/entries?page[number]=3&page[size]=40&sort=-upload_create_time").await;
    assert_eq!(page3.status, 200);
    assert_eq!(ids(&page3.body), expected[80..120]);
    let meta = &page3.body["meta"];
    assert_eq!(meta["total"], DEMO_SIZE);
    assert_eq!(meta["totalPages"], DEMO_SIZE.div_ceil(40));
    assert_eq!(meta["page"], 3);
    assert_eq!(meta["pageSize"], 40);
    assert_eq!(meta["limits"]["maxPageSize"], 1000);
    assert_eq!(meta["limits"]["maxOffset"], MAX_OFFSET);
    let prev = get(&link(&page3.body, "prev").unwrap()).await;
    assert_eq!(ids(&prev.body), expected[40..80]);
    let first = get(&link(&page3.body, "first").unwrap()).await;
    assert_eq!(ids(&first.body), expected[..40]);
    assert!(link(&first.body, "prev").is_none(), "no prev on page 1");
}

#[tokio::test]
async fn page_number_links_switch_to_cursors_at_the_offset_window() {
    let expected = reference_by_time_desc();
    // 600 records may be reached by page numbers: pages 1..=6 of 100.
    let page6 = get("/jsonapi/entries?page[number]=6&page[size]=100&sort=-upload_create_time").await;
    assert_eq!(page6.status, 200);
    let next = link(&page6.body, "next").unwrap();
    assert!(
        next.contains("page%5Bcursor%5D="),
        "past the window, next is a cursor link: {next}"
    );
    let last = link(&page6.body, "last").unwrap();
    assert!(last.contains("page%5Bcursor%5D="), "{last}");
    // The rest of the walk continues from there, without a gap or a repeat.
    let mut walked: Vec<String> = expected[..600].to_vec();
    walked.extend(follow(&next, "next").await.concat());
    assert_eq!(walked, expected);
    let last_page = get(&last).await;
    assert_eq!(ids(&last_page.body), expected[expected.len() - 100..]);
}

#[tokio::test]
async fn link_header_mirrors_body_links_and_every_link_resolves() {
    for url in [
        "/jsonapi/entries?page[number]=2&page[size]=50&filter[provider]=aflow",
        "/jsonapi/entries?page[cursor]=1&page[size]=50&sort=-results.material.n_elements",
    ] {
        let reply = get(url).await;
        let header = reply.headers["link"].to_str().unwrap().to_owned();
        for rel in ["first", "prev", "next", "last"] {
            match link(&reply.body, rel) {
                Some(href) => {
                    assert!(
                        header.contains(&format!("<{href}>; rel=\"{rel}\"")),
                        "{rel} in {header}"
                    );
                    let target = get(&href).await;
                    assert_eq!(target.status, 200, "{rel} -> {href}: {}", target.body);
                }
                None => assert!(!header.contains(&format!("rel=\"{rel}\"")), "{header}"),
            }
        }
        assert_eq!(
            get(&link(&reply.body, "self").unwrap()).await.body["data"],
            reply.body["data"]
        );
        for d in reply.body["data"].as_array().unwrap() {
            let one = get(d["links"]["self"].as_str().unwrap()).await;
            assert_eq!(one.status, 200);
            assert_eq!(one.body["data"]["attributes"], d["attributes"]);
        }
    }
}

#[tokio::test]
async fn filters_select_what_a_reference_selects() {
    let all: Vec<Json> = demo::entries(DEMO_SIZE).collect();
    type Keep = Box<dyn Fn(&Json) -> bool>;
    let cases: Vec<(&str, Keep)> = vec![
        ("filter[provider]=aflow", Box::new(|e: &Json| e["provider"] == "aflow")),
        (
            "filter[results.material.elements][all]=O,Ti",
            Box::new(|e: &Json| {
                let el = e["results"]["material"]["elements"].as_array().unwrap();
                el.contains(&Json::from("O")) && el.contains(&Json::from("Ti"))
            }),
        ),
        (
            "filter[results.properties.electronic.band_gap][gte]=2.5&filter[results.properties.electronic.band_gap][lt]=3",
            Box::new(|e: &Json| {
                e["results"]["properties"]["electronic"]["band_gap"]
                    .as_f64()
                    .is_some_and(|g| (2.5..3.0).contains(&g))
            }),
        ),
        (
            "filter[upload_create_time][gt]=2020-01-01T00:00:00Z&filter[results.material.n_elements]=3",
            Box::new(|e: &Json| {
                e["upload_create_time"].as_str().unwrap() > "2020-01-01T00:00:00+00:00"
                    && e["results"]["material"]["n_elements"] == 3
            }),
        ),
    ];
    for (filter, keep) in cases {
        let mut expected: Vec<String> = all
            .iter()
            .filter(|e| keep(e))
            .map(|e| e["entry_id"].as_str().unwrap().to_owned())
            .collect();
        expected.sort();
        assert!(!expected.is_empty(), "{filter} selects something");
        let pages = follow(
            &format!("/jsonapi/entries?page[cursor]=1&page[size]=33&{filter}"),
            "next",
        )
        .await;
        assert_eq!(pages.concat(), expected, "{filter}");
        let first = get(&format!("/jsonapi/entries?{filter}")).await;
        assert_eq!(first.body["meta"]["total"], expected.len(), "{filter}");
    }
}

#[tokio::test]
async fn fields_project_nested_paths() {
    let reply = get("/jsonapi/entries?page[size]=3&fields[entries]=provider,results.material.n_elements").await;
    for d in reply.body["data"].as_array().unwrap() {
        let a = d["attributes"].as_object().unwrap();
        assert_eq!(a.keys().collect::<Vec<_>>(), ["provider", "results"]);
        assert_eq!(
            a["results"].as_object().unwrap().keys().collect::<Vec<_>>(),
            ["material"]
        );
        assert!(a["results"]["material"]["n_elements"].is_u64());
    }
    assert!(
        link(&reply.body, "next").unwrap().contains("fields%5Bentries%5D="),
        "links keep the projection"
    );
}

#[tokio::test]
async fn size_zero_returns_counts_and_no_next() {
    let reply = get("/jsonapi/entries?page[size]=0").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["data"], Json::Array(vec![]));
    assert_eq!(reply.body["meta"]["total"], DEMO_SIZE);
    assert!(link(&reply.body, "next").is_none(), "a next link would never advance");
}

#[tokio::test]
async fn collections_are_listed_with_their_paths() {
    let reply = get("/jsonapi").await;
    assert_eq!(reply.status, 200);
    let c = &reply.body["data"][0];
    assert_eq!(c["id"], "entries");
    assert_eq!(c["attributes"]["count"], DEMO_SIZE);
    let paths: Vec<(&str, &str)> = c["attributes"]["indexedPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["path"].as_str().unwrap(), p["type"].as_str().unwrap()))
        .collect();
    assert!(paths.contains(&("results.material.elements", "string[]")));
    assert!(paths.contains(&("upload_create_time", "timestamp")));
    assert_eq!(paths.len(), 8);
}

#[tokio::test]
async fn errors_name_the_parameter_and_what_is_allowed() {
    let r = get("/jsonapi/entries?page[number]=100&page[size]=25").await;
    assert_error(
        &r,
        422,
        "offset-window-exceeded",
        Some("page[number]"),
        &["600", "page[cursor]"],
    );

    let r = get("/jsonapi/entries?page[size]=1001").await;
    assert_error(&r, 422, "page-size-exceeded", Some("page[size]"), &["1001", "1000"]);

    for bad in ["-1", "ten", "1.5", "99999999999999999999999"] {
        let r = get(&format!("/jsonapi/entries?page[size]={bad}")).await;
        assert_error(&r, 400, "invalid-parameter", Some("page[size]"), &["0 to 1000"]);
    }

    let r = get("/jsonapi/entries?page[number]=0").await;
    assert_error(&r, 400, "invalid-parameter", Some("page[number]"), &["start at 1"]);

    let r = get("/jsonapi/entries?sort=nope").await;
    assert_error(
        &r,
        400,
        "unsupported-sort",
        Some("sort"),
        &["nope", "upload_create_time", "entry_id"],
    );

    let r = get("/jsonapi/entries?sort=results.material.elements").await;
    assert_error(&r, 400, "unsupported-sort", Some("sort"), &["string[]"]);

    let r = get("/jsonapi/entries?page[sise]=10").await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("page[sise]"),
        &["page[size]", "page[cursor]"],
    );

    let r = get("/jsonapi/entries?page[cursor]=2").await;
    assert_error(&r, 400, "invalid-cursor", Some("page[cursor]"), &["link gave it"]);

    let r = get("/jsonapi/entries?page[cursor]=1&page[number]=2").await;
    assert_error(&r, 400, "invalid-parameter", Some("page[cursor]"), &["page[number]"]);

    let r = get("/jsonapi/entries?filter[nope]=1").await;
    assert_error(&r, 400, "invalid-parameter", Some("filter[nope]"), &["provider"]);

    let r = get("/jsonapi/entries?filter[results.material.n_elements][gte]=many").await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("filter[results.material.n_elements][gte]"),
        &["integer"],
    );

    let r = get("/jsonapi/nope").await;
    assert_error(&r, 404, "unknown-collection", None, &["nope"]);

    let r = get("/jsonapi/entries/a/b").await;
    assert_error(&r, 404, "not-found", None, &["/jsonapi/entries/a/b", "GET /jsonapi"]);
    let r = get("/nowhere").await;
    assert_eq!(
        (r.status, r.headers["content-type"].to_str().unwrap()),
        (404, "application/problem+json")
    );
    assert_eq!(r.body["status"], 404);

    let r = get("/jsonapi/entries/no-such-id").await;
    assert_error(&r, 404, "unknown-record", None, &["no-such-id"]);
}

#[tokio::test]
async fn altered_and_foreign_cursors_are_rejected() {
    let first = get("/jsonapi/entries?page[cursor]=1&page[size]=5&sort=-upload_create_time").await;
    let next = link(&first.body, "next").unwrap();
    let token = next
        .split("page%5Bcursor%5D=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    // One character changed, or the token cut short.
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let altered: String = chars.into_iter().collect();
    for bad in [altered.as_str(), &token[..token.len() - 4]] {
        let r = get(&format!("/jsonapi/entries?page[cursor]={bad}&sort=-upload_create_time")).await;
        assert_error(&r, 400, "invalid-cursor", Some("page[cursor]"), &["not a valid cursor"]);
    }

    // The genuine token with another sort, or another filter.
    let r = get(&format!(
        "/jsonapi/entries?page[cursor]={token}&sort=upload_create_time"
    ))
    .await;
    assert_error(&r, 400, "cursor-query-mismatch", Some("page[cursor]"), &["different"]);
    let r = get(&format!(
        "/jsonapi/entries?page[cursor]={token}&sort=-upload_create_time&filter[provider]=aflow"
    ))
    .await;
    assert_error(&r, 400, "cursor-query-mismatch", Some("page[cursor]"), &["different"]);

    // The page size may change between pages.
    let r = get(&format!(
        "/jsonapi/entries?page[cursor]={token}&sort=-upload_create_time&page[size]=9"
    ))
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 9);
}
