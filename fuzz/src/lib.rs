//! What the fuzz targets share: the collections inputs are parsed against, the cursor codec,
//! and the checks applied to whatever a parser accepts or rejects.
//!
//! Every target feeds bytes to one parser of untrusted input and asserts that it returns a
//! value or an error, never panics, and that what it accepts can be used the way the server
//! uses it (a cursor or transparent key written for the parsed sort reads back the same).

use std::borrow::Cow;
use std::sync::Arc;

use folio_engine::{
    CollectionSchema, Column, Cursor, CursorCodec, FieldType, Filter, Fingerprint, IdType, IndexedPath, Position, Sort,
    Value, transparent,
};
use folio_http::{ApiError, Readable};
use folio_store::Query;

/// The secret the targets sign cursors with.
pub const SECRET: &[u8] = b"the fuzz targets' secret, 32 bytes or more";

/// A collection shaped like the demo's, with a string id and one path of every type.
pub fn entries() -> Arc<CollectionSchema> {
    schema("entries", "entry_id", IdType::String)
}

/// [`entries`] as the parsers take it: read anonymously.
pub fn collection() -> Readable {
    Readable::unchecked(entries(), None)
}

/// The same paths with an integer id.
pub fn numbered() -> Arc<CollectionSchema> {
    schema("numbered", "n", IdType::Integer)
}

/// [`entries`] when the low bit of `selector` is 0, else [`numbered`].
pub fn pick_schema(selector: u8) -> Arc<CollectionSchema> {
    if selector & 1 == 0 { entries() } else { numbered() }
}

fn schema(name: &str, id_path: &str, id_type: IdType) -> Arc<CollectionSchema> {
    let p = |path: &str, ty| IndexedPath::new(path, ty);
    Arc::new(CollectionSchema {
        name: name.into(),
        id_path: id_path.into(),
        id_type,
        indexed: vec![
            p("upload_create_time", FieldType::Timestamp),
            p("provider", FieldType::String),
            p("results.material.elements", FieldType::StringArray),
            p("results.material.n_elements", FieldType::Integer),
            p("results.properties.electronic.band_gap", FieldType::Float),
            p("published", FieldType::Boolean),
        ],
    })
}

/// The codec of the targets, keyed with [`SECRET`].
pub fn codec() -> CursorCodec {
    CursorCodec::new(SECRET)
}

/// The input as text: query strings and tokens arrive as text, so invalid UTF-8 is replaced
/// rather than skipped, which keeps every input useful to the fuzzer.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A key of the shape `sort` needs (one value per field, the id last and never null), with a
/// value of each field's type, as a store would return for the last record of a page.
pub fn sample_key(schema: &CollectionSchema, sort: &Sort) -> Vec<Value> {
    sort.fields()
        .iter()
        .enumerate()
        .map(|(n, field)| match (field.column, schema.type_of(field.column)) {
            (Column::Id, FieldType::Integer) => Value::Int(-7),
            (Column::Id, _) => Value::Text("id-7".into()),
            // Every other field alternates between missing and a value of its type.
            (_, _) if n % 2 == 1 => Value::Null,
            (_, FieldType::Integer) => Value::Int(i64::MIN),
            (_, FieldType::Float) => Value::Float(-0.5),
            (_, FieldType::Boolean) => Value::Int(1),
            (_, FieldType::Timestamp) => Value::Int(1_614_859_200_000_000),
            (_, FieldType::String | FieldType::StringArray) => Value::Text("$null:x".into()),
        })
        .collect()
}

/// What the `jsonapi` and `simple` handlers do with an accepted query: write cursors for the
/// next, previous and last pages, and for the start of a partition that ends at a key. Each
/// must decode back to its position (and end).
pub fn check_cursors(codec: &CursorCodec, query: &Query) {
    let fp = Fingerprint::of(&query.schema, &query.filter, &query.sort);
    let key = sample_key(&query.schema, &query.sort);
    for position in [
        Position::After(key.clone()),
        Position::Before(key.clone()),
        Position::End,
    ] {
        let token = codec.encode(fp, &position);
        let decoded = codec.decode(&token, fp, &query.sort);
        assert_eq!(decoded, Ok(Cursor::from(position)), "{token}");
    }
    let token = codec.encode_until(fp, &Position::Start, Some(&key));
    let decoded = codec.decode(&token, fp, &query.sort);
    let expected = Cursor {
        position: Position::Start,
        until: Some(key.clone()),
        snapshot: None,
    };
    assert_eq!(decoded, Ok(expected), "{token}");
    // A snapshot walk's cursor carries its moment and total as well.
    let snapshot = folio_engine::cursor::Snapshot {
        generation: 42,
        at_ms: 1_700_000_000_000,
        total: Some((1234, false)),
    };
    let token = codec.encode_walk(fp, &Position::After(key.clone()), None, Some(&snapshot));
    let decoded = codec.decode(&token, fp, &query.sort);
    let expected = Cursor {
        position: Position::After(key),
        until: None,
        snapshot: Some(snapshot),
    };
    assert_eq!(decoded, Ok(expected), "{token}");
}

/// What the `hal` and `query` handlers do with an accepted query: write the next page's
/// transparent key. It must read back as the same key.
pub fn check_transparent(query: &Query, param: &str) {
    let key = sample_key(&query.schema, &query.sort);
    let text = transparent::encode(&query.schema, &query.sort, &key);
    assert_eq!(
        transparent::decode(&query.schema, &query.sort, &text, param).as_ref(),
        Ok(&key),
        "{text}"
    );
}

/// What the server does with a rejection: decide the status and write the message.
pub fn render(error: &ApiError) {
    let _ = (error.status(), error.code(), error.title(), error.param());
    let detail = error.detail();
    assert!(!detail.is_empty());
}

/// What the server does with an accepted filter: fingerprint it for cursors and totals.
pub fn use_filter(schema: &CollectionSchema, filter: &Filter) {
    let _ = Fingerprint::of(schema, filter, &Sort::by_id());
    let _ = filter.is_seekable();
}
