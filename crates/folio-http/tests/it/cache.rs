//! HTTP caching: an `ETag` on every list and record of every style, `304` for a copy that is
//! current, a new `ETag` after any write, pages of private collections never reaching another
//! principal or an anonymous caller, and a page cache that never answers with an older
//! generation's page.

use std::sync::Arc;

use folio_engine::{CollectionSchema, IdType, Value};
use folio_http::{AccessPolicy, AppState, HttpConfig, Scope, TokenDigest, TokenGrant};
use folio_store::{SqliteStore, Store, demo};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, ETAG};
use serde_json::json;

use crate::server::{SECRET, spawn};

/// A list and a record of each style.
fn urls(record: &str) -> Vec<String> {
    let mut urls = vec![
        "/jsonapi/entries?page[size]=3&sort=-upload_create_time".to_owned(),
        "/jsonapi/entries?page[cursor]=1&page[size]=3".to_owned(),
        "/hal/entries?limit=3".to_owned(),
        "/query/entries?page_size=3".to_owned(),
        "/simple/entries?per_page=3".to_owned(),
    ];
    for style in ["jsonapi", "hal", "query", "simple"] {
        urls.push(format!("/{style}/entries/{record}"));
    }
    urls
}

fn store() -> (Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    demo::build(&store, 50, &|_| {}).unwrap();
    (Arc::new(store), dir)
}

async fn get(base: &str, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}{url}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The id of the collection's first record in id order.
async fn first_id(store: &SqliteStore) -> String {
    let query = folio_store::Query::all(store.schema("entries").await.unwrap());
    let plan = folio_engine::page::plan(&query.sort, folio_engine::Position::Start, 1);
    let page = store.page(&query, &plan, folio_store::Count::Skip).await.unwrap();
    match page.records.get(0).unwrap().key().last().unwrap() {
        Value::Text(id) => id.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_list_and_record_has_an_etag_answered_304_until_a_write() {
    let (store, _dir) = store();
    let record = first_id(&store).await;
    let base = spawn(AppState::new(
        Arc::clone(&store) as Arc<dyn Store>,
        SECRET,
        HttpConfig::default(),
    ));
    let mut tags = Vec::new();
    for url in urls(&record) {
        let response = get(&base, &url, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache", "{url}");
        let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{url}: {etag}");
        let body = response.bytes().await.unwrap();
        // The same request again: the same tag and bytes (now from the cache).
        let again = get(&base, &url, &[]).await;
        assert_eq!(again.headers()[ETAG], etag.as_str(), "{url}");
        assert_eq!(again.bytes().await.unwrap(), body, "{url}");
        // A copy that is current: 304, no body, the tag again.
        for if_none_match in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}")] {
            let not_modified = get(&base, &url, &[("If-None-Match", &if_none_match)]).await;
            assert_eq!(
                not_modified.status(),
                StatusCode::NOT_MODIFIED,
                "{url}: {if_none_match}"
            );
            assert_eq!(not_modified.headers()[ETAG], etag.as_str());
            assert!(not_modified.bytes().await.unwrap().is_empty());
        }
        for other in ["\"0-other\"", "*"] {
            let answered = get(&base, &url, &[("If-None-Match", other)]).await;
            assert_eq!(answered.status(), StatusCode::OK, "{url}: {other}");
        }
        tags.push((url, etag));
    }
    // An answer other than 200 is neither tagged nor kept.
    for _ in 0..2 {
        let refused = get(&base, "/jsonapi/entries?page[size]=many", &[]).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.headers().get(ETAG).is_none());
    }
    let distinct: std::collections::BTreeSet<&String> = tags.iter().map(|(_, t)| t).collect();
    assert_eq!(distinct.len(), tags.len(), "every request has its own tag: {tags:?}");

    // Any write to the collection: every old tag is stale, and the pages are read anew.
    let written = Arc::clone(&store);
    tokio::task::spawn_blocking(move || {
        let newest = json!({"entry_id": "zz-newest", "upload_create_time": "2099-01-01T00:00:00Z"});
        written.insert("entries", [newest], &|_| {}).unwrap();
    })
    .await
    .unwrap();
    for (url, etag) in &tags {
        let response = get(&base, url, &[("If-None-Match", etag)]).await;
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert_ne!(response.headers()[ETAG], etag.as_str(), "{url}");
    }
    let newest = get(&base, "/jsonapi/entries?page[size]=3&sort=-upload_create_time", &[]).await;
    let body: serde_json::Value = newest.json().await.unwrap();
    assert_eq!(
        body["data"][0]["id"], "zz-newest",
        "not the cached page of before the write"
    );
}

#[tokio::test]
async fn private_pages_never_reach_another_principal_or_an_anonymous_caller() {
    let (store, _dir) = store();
    let vault = CollectionSchema {
        name: "vault".into(),
        id_path: "id".into(),
        id_type: IdType::String,
        indexed: Vec::new(),
    };
    store.create_collection(&vault, None).unwrap();
    store
        .insert("vault", (0..10).map(|n| json!({"id": format!("v-{n}")})), &|_| {})
        .unwrap();
    let grant = |name: &str, token: &str| TokenGrant {
        name: name.into(),
        digest: TokenDigest::of(token),
        scope: Scope::All,
    };
    let (alice, bob) = ("folio_alice-token", "folio_bob-token");
    let policy = AccessPolicy::new(["vault".to_owned()], vec![grant("alice", alice), grant("bob", bob)]).unwrap();
    let state = AppState::new(store as Arc<dyn Store>, SECRET, HttpConfig::default()).with_access(policy);
    let handle = state.clone();
    let base = spawn(state);
    let url = "/jsonapi/vault?page[cursor]=1&page[size]=3";
    let as_alice = get(&base, url, &[("Authorization", &format!("Bearer {alice}"))]).await;
    assert_eq!(as_alice.status(), StatusCode::OK);
    assert_eq!(as_alice.headers()[CACHE_CONTROL], "private, no-cache");
    let alice_tag = as_alice.headers()[ETAG].to_str().unwrap().to_owned();
    let alice_body: serde_json::Value = as_alice.json().await.unwrap();

    // Bob: his own tag and page (his cursors), even when he names Alice's tag.
    let as_bob = get(
        &base,
        url,
        &[
            ("Authorization", &format!("Bearer {bob}")),
            ("If-None-Match", &alice_tag),
        ],
    )
    .await;
    assert_eq!(as_bob.status(), StatusCode::OK);
    assert_ne!(as_bob.headers()[ETAG], alice_tag.as_str());
    let bob_body: serde_json::Value = as_bob.json().await.unwrap();
    assert_eq!(bob_body["data"], alice_body["data"]);
    assert_ne!(
        bob_body["links"]["next"], alice_body["links"]["next"],
        "cursors are bound to who reads"
    );

    // Nobody: the 401, with or without Alice's tag.
    for headers in [vec![], vec![("If-None-Match", alice_tag.as_str())]] {
        let anonymous = get(&base, url, &headers).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers().get(ETAG).is_none());
    }
    // A token that is not known: the 404 of a missing collection.
    let stranger = get(
        &base,
        url,
        &[("Authorization", "Bearer folio_nobody"), ("If-None-Match", &alice_tag)],
    )
    .await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);

    // A public page, cached for anyone; then the collection becomes private (a reload of the
    // access file): neither the cached page nor a 304 reaches an anonymous caller any more.
    let public = "/hal/entries?limit=3";
    let open = get(&base, public, &[]).await;
    assert_eq!(open.status(), StatusCode::OK);
    assert_eq!(open.headers()[CACHE_CONTROL], "no-cache");
    let open_tag = open.headers()[ETAG].to_str().unwrap().to_owned();
    let closed = AccessPolicy::new(
        ["vault".to_owned(), "entries".to_owned()],
        vec![grant("alice", alice), grant("bob", bob)],
    )
    .unwrap();
    handle.access().replace(closed);
    for headers in [vec![], vec![("If-None-Match", open_tag.as_str())]] {
        let anonymous = get(&base, public, &headers).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Random writes between reads: a server with the page cache answers every read with the
    /// bytes a server without it renders from the store at that moment.
    #[test]
    fn the_cache_never_answers_with_an_older_generations_page(
        steps in proptest::collection::vec((0u8..4, 0usize..4), 1..24)
    ) {
        let (store, _dir) = store();
        let cached = spawn(AppState::new(Arc::clone(&store) as Arc<dyn Store>, SECRET, HttpConfig::default()));
        let config = HttpConfig { page_cache_bytes: 0, ..HttpConfig::default() };
        let fresh = spawn(AppState::new(Arc::clone(&store) as Arc<dyn Store>, SECRET, config));
        let urls = [
            "/jsonapi/entries?page[size]=4&sort=-upload_create_time",
            "/hal/entries?limit=4",
            "/simple/entries?per_page=4",
            "/query/entries?page_size=4",
        ];
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut added = 0;
        for (step, which) in steps {
            match step {
                0 => {
                    added += 1;
                    let doc = json!({"entry_id": format!("zz-{added}"), "upload_create_time": format!("2099-01-{:02}T00:00:00Z", added % 28 + 1)});
                    store.insert("entries", [doc], &|_| {}).unwrap();
                }
                1 if added > 0 => {
                    store.delete("entries", &[Value::Text(format!("zz-{added}"))]).unwrap();
                    added -= 1;
                }
                _ => {
                    let url = urls[which];
                    let (a, b) = rt.block_on(async {
                        let a = get(&cached, url, &[]).await.bytes().await.unwrap();
                        let b = get(&fresh, url, &[]).await.bytes().await.unwrap();
                        (a, b)
                    });
                    proptest::prop_assert_eq!(a, b, "{}", url);
                }
            }
        }
    }
}
