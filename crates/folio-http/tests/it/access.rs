//! Private collections through every style: 401 without a token, the 404 of a missing
//! collection (byte for byte) with a token that does not grant them, 200 with one that does;
//! listings that hide them; cursors bound to the principal that received them.

use std::sync::{Arc, OnceLock};

use folio_engine::{CollectionSchema, IdType};
use folio_http::{AccessPolicy, AppState, HttpConfig, Scope, TokenDigest, TokenGrant};
use folio_store::{SqliteStore, Store, demo};
use reqwest::header::{self, HeaderMap};
use serde_json::{Value as Json, json};

use crate::server::{SECRET, spawn};

const ALICE: &str = "folio_alice-reads-entries";
const BOB: &str = "folio_bob-reads-everything";
const CAROL: &str = "folio_carol-reads-the-vault";
const WRONG: &str = "folio_no-such-token";

/// `entries` and `vault` are private, `notes` public. `missing` does not exist; it has as
/// many letters as `entries`, so that their responses can be compared byte for byte.
struct Servers {
    /// Serves the private collections with tokens.
    private: String,
    /// The same store and secret with every collection public.
    public: String,
    _dir: tempfile::TempDir,
}

fn servers() -> &'static Servers {
    static SERVERS: OnceLock<Servers> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        demo::build(&store, 200, &|_| {}).unwrap();
        for name in ["vault", "notes"] {
            let schema = CollectionSchema {
                name: name.into(),
                id_path: "id".into(),
                id_type: IdType::String,
                indexed: Vec::new(),
            };
            store.create_collection(&schema, None).unwrap();
            let docs = (0..20).map(|n| json!({"id": format!("{name}-{n:02}"), "n": n}));
            store.insert(name, docs, &|_| {}).unwrap();
        }
        let store: Arc<dyn Store> = Arc::new(store);
        let grant = |name: &str, token: &str, scope: Scope| TokenGrant {
            name: name.into(),
            digest: TokenDigest::of(token),
            scope,
        };
        let only = |name: &str| Scope::Only([name.to_owned()].into());
        let tokens = vec![
            grant("alice", ALICE, only("entries")),
            grant("bob", BOB, Scope::All),
            grant("carol", CAROL, only("vault")),
        ];
        let private = AccessPolicy::new(["entries".to_owned(), "vault".to_owned()], tokens.clone()).unwrap();
        let public = AccessPolicy::new([], tokens).unwrap();
        // A small offset window, so that the `simple` style switches to cursors early.
        let config = HttpConfig::with_max_offset(Some(50));
        Servers {
            private: spawn(AppState::new(Arc::clone(&store), SECRET, config).with_access(private)),
            public: spawn(AppState::new(store, SECRET, config).with_access(public)),
            _dir: dir,
        }
    })
}

/// A raw answer: status, headers and body text.
struct Raw {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Raw {
    fn json(&self) -> Json {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// Sends `GET path` or, with a body, `POST path`, with `Authorization: Bearer token`.
async fn send(base: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Raw {
    let client = reqwest::Client::new();
    let url = format!("{base}{path}");
    let mut request = match body {
        Some(body) => client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned()),
        None => client.get(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// Every endpoint that reads a collection, with `{c}` for its name and `{id}` for a record
/// id, and the body of POST endpoints.
fn endpoints() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        ("jsonapi", "/jsonapi/{c}?page[size]=3", None),
        ("jsonapi", "/jsonapi/{c}?page[cursor]=1&page[size]=3", None),
        ("jsonapi", "/jsonapi/{c}/{id}", None),
        ("hal", "/hal/{c}?limit=3&with_count=true", None),
        ("hal", "/hal/{c}/{id}", None),
        ("query", "/query/{c}?page_size=3", None),
        ("query", "/query/{c}/query", Some(r#"{"pagination": {"page_size": 3}}"#)),
        ("query", "/query/{c}/{id}", None),
        ("simple", "/simple/{c}?per_page=3", None),
        (
            "simple",
            "/simple/{c}/searches",
            Some(r#"{"pagination": {"per_page": 3}}"#),
        ),
        ("simple", "/simple/{c}/{id}", None),
        ("export", "/export/{c}.ndjson", None),
        ("export", "/export/{c}.csv?sort=-upload_create_time", None),
    ]
}

/// The first record id of `collection`, read with the token that reads everything.
async fn first_id(collection: &str) -> String {
    let r = send(
        &servers().private,
        &format!("/jsonapi/{collection}?page[size]=1"),
        Some(BOB),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["data"][0]["id"].as_str().unwrap().to_owned()
}

/// The error code of a body, in each style's shape.
fn code(style: &str, body: &Json) -> String {
    let code = match style {
        "jsonapi" => &body["errors"][0]["code"],
        "hal" => return body["code"].to_string(),
        "query" => &body["detail"][0]["type"],
        _ => &body["code"],
    };
    code.as_str().unwrap_or_else(|| panic!("{style}: {body}")).to_owned()
}

/// The headers of a response that may differ between two identical answers.
fn comparable(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| *name != header::DATE)
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn every_endpoint_needs_a_token_that_grants_the_collection() {
    let base = &servers().private;
    let entry = first_id("entries").await;
    for (style, template, body) in endpoints() {
        let path = |c: &str| template.replace("{c}", c).replace("{id}", &entry);

        // Without a token: 401, a challenge, and the style's error shape.
        let r = send(base, &path("entries"), None, body).await;
        assert_eq!(r.status, 401, "{}: {}", path("entries"), r.text);
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer realm=\"folio\"");
        assert_eq!(
            code(style, &r.json()),
            if style == "hal" {
                "401"
            } else {
                "authentication-required"
            }
        );
        assert!(r.text.contains("Authorization: Bearer"), "{}", r.text);

        // With the right token, or one for everything: the records.
        for token in [ALICE, BOB] {
            let r = send(base, &path("entries"), Some(token), body).await;
            assert_eq!(r.status, 200, "{}: {}", path("entries"), r.text);
            assert!(r.text.contains(&entry), "{}", r.text);
        }

        // With an unknown token, or one for another collection: exactly what a collection
        // that does not exist gets with the same token, status, headers and body (the 404
        // lists the collections that token may read, so it differs from token to token).
        let missing = send(base, &path("missing"), None, body).await;
        assert_eq!(missing.status, 404, "{}", missing.text);
        for token in [WRONG, CAROL, "", "x"] {
            let r = send(base, &path("entries"), Some(token).filter(|t| !t.is_empty()), body).await;
            if token.is_empty() {
                assert_eq!(r.status, 401);
                continue;
            }
            assert_eq!(r.status, 404, "{token}: {}", r.text);
            let missing = send(base, &path("missing"), Some(token), body).await;
            assert_eq!(missing.status, 404, "{}", missing.text);
            assert_eq!(
                r.text.replace("entries", "missing"),
                missing.text,
                "{}",
                path("entries")
            );
            assert_eq!(
                comparable(&r.headers),
                comparable(&missing.headers),
                "{}",
                path("entries")
            );
        }
    }
}

#[tokio::test]
async fn a_token_reads_only_what_it_grants() {
    let base = &servers().private;
    let id = first_id("vault").await;
    let path = format!("/simple/vault/{id}");
    assert_eq!(send(base, &path, Some(CAROL), None).await.status, 200);
    assert_eq!(send(base, &path, Some(BOB), None).await.status, 200);
    let alice = send(base, &path, Some(ALICE), None).await;
    assert_eq!(alice.status, 404);
    let missing = send(base, &format!("/simple/missi/{id}"), Some(ALICE), None).await;
    assert_eq!(alice.text.replace("vault", "missi"), missing.text);
}

#[tokio::test]
async fn public_collections_ignore_tokens() {
    let base = &servers().private;
    let anonymous = send(base, "/jsonapi/notes?page[size]=5", None, None).await;
    assert_eq!(anonymous.status, 200);
    for token in [ALICE, BOB, CAROL, WRONG] {
        let r = send(base, "/jsonapi/notes?page[size]=5", Some(token), None).await;
        assert_eq!((r.status, &r.text), (200, &anonymous.text), "{token}");
    }
    let r = reqwest::Client::new()
        .get(format!("{base}/hal/notes/notes-03"))
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn other_authorization_schemes_are_asked_for_a_bearer_token() {
    let r = reqwest::Client::new()
        .get(format!("{}/jsonapi/entries", servers().private))
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"folio\"");
}

#[tokio::test]
async fn the_query_style_names_the_header_at_fault() {
    let r = send(&servers().private, "/query/vault?page_size=2", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["detail"][0]["loc"], json!(["header", "authorization"]));
}

#[tokio::test]
async fn listings_show_only_collections_the_caller_may_read() {
    let base = &servers().private;
    for (token, expected) in [
        (None, &["notes"][..]),
        (Some(WRONG), &["notes"]),
        (Some(ALICE), &["entries", "notes"]),
        (Some(CAROL), &["notes", "vault"]),
        (Some(BOB), &["entries", "notes", "vault"]),
    ] {
        let r = send(base, "/jsonapi", token, None).await;
        assert_eq!(r.status, 200);
        let names: Vec<String> = r.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, expected, "{token:?}");
    }
    // The index names no collection at all.
    let index = send(base, "/", None, None).await;
    assert!(
        !index.text.contains("entries") && !index.text.contains("vault"),
        "{}",
        index.text
    );
}

/// The href of a relation in the `Link` header.
fn link(r: &Raw, rel: &str) -> String {
    let value = r.headers[header::LINK].to_str().unwrap();
    value
        .split(", ")
        .find_map(|part| {
            let (href, r) = part.split_once("; rel=")?;
            (r.trim_matches('"') == rel).then(|| href.trim_matches(['<', '>']).to_owned())
        })
        .unwrap_or_else(|| panic!("no {rel} in {value}"))
}

#[tokio::test]
async fn cursors_are_bound_to_the_principal_that_received_them() {
    let Servers { private, public, .. } = servers();
    // Cursors of two styles, issued to alice: `page[cursor]` and the `after` of `simple`
    // (past its offset window of 50 records).
    let first = send(
        private,
        "/jsonapi/entries?page[cursor]=1&page[size]=7",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let jsonapi_next = first.json()["links"]["next"].as_str().unwrap().to_owned();
    let deep = send(private, "/simple/entries?page=5&per_page=10", Some(ALICE), None).await;
    let simple_next = link(&deep, "next");
    assert!(simple_next.contains("after="), "{simple_next}");

    for (style, next) in [("jsonapi", &jsonapi_next), ("simple", &simple_next)] {
        let own = send(private, next, Some(ALICE), None).await;
        assert_eq!(own.status, 200, "{}", own.text);
        // Bob may read the collection, but the cursor was not issued to him.
        let bob = send(private, next, Some(BOB), None).await;
        assert_eq!(bob.status, 400, "{}", bob.text);
        assert_eq!(code(style, &bob.json()), "cursor-query-mismatch");
        assert!(bob.text.contains("caller"), "{}", bob.text);
        assert_eq!(send(private, next, None, None).await.status, 401);
        assert_eq!(send(private, next, Some(CAROL), None).await.status, 404);
        // Where the collection is public, its cursors are anonymous: alice's is refused
        // there too, by anyone, alice included.
        for token in [None, Some(ALICE)] {
            let r = send(public, next, token, None).await;
            assert_eq!(r.status, 400, "{}", r.text);
            assert_eq!(code(style, &r.json()), "cursor-query-mismatch");
        }
    }

    // A cursor of a public collection works for everyone, whoever received it.
    let first = send(
        public,
        "/jsonapi/entries?page[cursor]=1&page[size]=7",
        Some(ALICE),
        None,
    )
    .await;
    let next = first.json()["links"]["next"].as_str().unwrap().to_owned();
    let anonymous = send(public, &next, None, None).await;
    assert_eq!(anonymous.status, 200, "{}", anonymous.text);
    assert_eq!(send(public, &next, Some(CAROL), None).await.text, anonymous.text);
}

#[tokio::test]
async fn search_after_keys_pass_the_same_access_check() {
    let base = &servers().private;
    let hal = send(
        base,
        "/hal/entries?pagination_type=search_after&limit=3",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(hal.status, 200, "{}", hal.text);
    let next = hal.json()["_links"]["next"]["href"].as_str().unwrap().to_owned();
    let query = send(base, "/query/entries?page_size=3&order_by=provider", Some(ALICE), None).await;
    let value = query.json()["pagination"]["next_page_after_value"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"pagination": {"page_size": 3, "order_by": "provider", "page_after_value": value}}).to_string();
    for (path, body) in [(next.as_str(), None), ("/query/entries/query", Some(body.as_str()))] {
        // Readable values, not credentials: anyone who may read the collection may use them.
        assert_eq!(send(base, path, Some(ALICE), body).await.status, 200);
        assert_eq!(send(base, path, Some(BOB), body).await.status, 200);
        assert_eq!(send(base, path, None, body).await.status, 401);
        assert_eq!(send(base, path, Some(CAROL), body).await.status, 404);
    }
}
