//! Inputs that the fuzz targets (`fuzz/`, run by `scripts/fuzz.sh`) found crashing a request
//! parser or breaking what it promises, each kept as a plain test, plus the same inputs sent
//! to the real server, which runs the same parsers.

use std::sync::Arc;

use folio_engine::{
    CollectionSchema, CursorCodec, FieldType, Filter, Fingerprint, IdType, IndexedPath, Position, Sort, Value,
};
use folio_http::{HttpConfig, Readable, hal, jsonapi, query, simple};

use crate::server::{get, post};

/// The collection, read anonymously.
fn entries() -> Readable {
    Readable::unchecked(schema(), None)
}

fn schema() -> Arc<CollectionSchema> {
    let p = |path: &str, ty| IndexedPath::new(path, ty);
    Arc::new(CollectionSchema {
        name: "entries".into(),
        id_path: "entry_id".into(),
        id_type: IdType::String,
        indexed: vec![
            p("provider", FieldType::String),
            p("upload_create_time", FieldType::Timestamp),
        ],
    })
}

/// Found by `query_get`: a page number near `u64::MAX` is rejected as beyond the offset
/// window, and writing that error overflowed computing the first record it reaches.
#[test]
fn huge_page_numbers_are_rejected_in_every_style() {
    let config = HttpConfig::default();
    let codec = CursorCodec::new(b"secret");
    let errors = [
        query::parse_get(&entries(), Some("page=018446744073644696060&que%4gte%"), &config).unwrap_err(),
        query::parse_post(
            &entries(),
            br#"{"pagination": {"page": 18446744073709551615}}"#,
            &config,
        )
        .unwrap_err(),
        simple::parse_get(&codec, &entries(), Some("page=18446744073709551615"), &config).unwrap_err(),
        hal::parse_list(&entries(), Some("page=18446744073709551615"), &config).unwrap_err(),
        jsonapi::parse_list(&codec, &entries(), Some("page[number]=18446744073709551615"), &config).unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error.code(), "offset-window-exceeded", "{error}");
        assert!(error.detail().contains("18446744073709551615"), "{error}");
    }
}

/// `page`, `after` and `before` exclude each other: the error names the parameter given with
/// another, in a sentence (it read "`page` page, after and before are alternatives").
#[test]
fn simple_names_the_position_given_with_another() {
    let config = HttpConfig::default();
    let codec = CursorCodec::new(b"secret");
    let token = "AAAA";
    for (query, param, other) in [
        (format!("page=2&after={token}"), "page", "after"),
        (format!("page=2&before={token}"), "page", "before"),
        (format!("after={token}&before={token}"), "before", "after"),
    ] {
        let error = simple::parse_get(&codec, &entries(), Some(&query), &config).unwrap_err();
        assert_eq!(error.code(), "invalid-parameter", "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "`{param}` cannot be given with `{other}`; give one of `page`, `after` and `before` (`after` and `before` come from the Link header's links)"
            )
        );
    }
    let body = format!(r#"{{"pagination": {{"page": 2, "after": "{token}"}}}}"#);
    let error = simple::parse_post(&codec, &entries(), body.as_bytes(), &config).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("`pagination.page` cannot be given with `pagination.after`; give one of `pagination.page`"),
        "{error}"
    );
}

/// Found while writing `query_get`'s check that an accepted order can write its
/// `next_page_after_value`: `order_by` with two paths passed validation, and the first page
/// with a next page then panicked writing a key that holds one value and an id.
#[test]
fn query_order_by_takes_one_path() {
    let config = HttpConfig::default();
    for error in [
        query::parse_get(&entries(), Some("order_by=provider,upload_create_time"), &config).unwrap_err(),
        query::parse_post(
            &entries(),
            br#"{"pagination": {"order_by": "entry_id,provider"}}"#,
            &config,
        )
        .unwrap_err(),
    ] {
        assert_eq!(error.code(), "invalid-parameter", "{error}");
        let detail = error.detail();
        assert!(detail.contains("order_by") && detail.contains("one path"), "{detail}");
    }
    assert!(query::parse_get(&entries(), Some("order_by=provider&order=desc"), &config).is_ok());
}

/// The parsers decode cursors as issued to the reader they are given, so a token of one
/// principal is a `cursor-query-mismatch` for any other, anonymous callers included.
#[test]
fn cursors_are_decoded_for_their_reader() {
    let codec = CursorCodec::new(b"secret");
    let position = Position::After(vec![Value::Text("e1".into())]);
    let token = |reader| {
        let fingerprint = Fingerprint::for_reader(&schema(), &Filter::all(), &Sort::by_id(), reader);
        codec.encode(fingerprint, &position)
    };
    let alice = token(Some("alice"));
    for style in ["jsonapi", "simple GET", "simple POST"] {
        let parse = |reader, token: &str| parse_cursor(&codec, style, reader, token);
        assert_eq!(parse(Some("alice"), &alice), Ok(()), "{style}");
        for other in [None, Some("bob")] {
            assert_eq!(parse(other, &alice), Err("cursor-query-mismatch"), "{style} {other:?}");
        }
        assert_eq!(
            parse(Some("alice"), &token(None)),
            Err("cursor-query-mismatch"),
            "{style}"
        );
    }
}

/// Parses a request continuing after the cursor `token` in `style`, read as `reader`.
fn parse_cursor(codec: &CursorCodec, style: &str, reader: Option<&str>, token: &str) -> Result<(), &'static str> {
    let config = HttpConfig::default();
    let collection = Readable::unchecked(schema(), reader);
    match style {
        "jsonapi" => jsonapi::parse_list(codec, &collection, Some(&format!("page[cursor]={token}")), &config)
            .map(|_| ())
            .map_err(|e| e.code()),
        "simple GET" => simple::parse_get(codec, &collection, Some(&format!("after={token}")), &config)
            .map(|_| ())
            .map_err(|e| e.code()),
        _ => {
            let body = format!(r#"{{"pagination": {{"after": "{token}"}}}}"#);
            simple::parse_post(codec, &collection, body.as_bytes(), &config)
                .map(|_| ())
                .map_err(|e| e.code())
        }
    }
}

/// The same inputs through the real server: an error in each style's shape, not a dropped
/// connection.
#[tokio::test]
async fn the_server_rejects_them_too() {
    let max = u64::MAX;
    for url in [
        format!("/jsonapi/entries?page[number]={max}"),
        format!("/hal/entries?page={max}"),
        format!("/query/entries?page={max}"),
        format!("/simple/entries?page={max}"),
        "/query/entries?order_by=provider,upload_create_time&page_size=2".to_owned(),
    ] {
        let reply = get(&url).await;
        assert_eq!(reply.status, 422, "{url}: {}", reply.body);
    }
    let reply = post(
        "/query/entries/query",
        r#"{"pagination": {"order_by": "provider,upload_create_time", "page_size": 2}}"#,
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        serde_json::json!(["body", "pagination", "order_by"])
    );
}
