//! The engine's invariants on the SQLite stores: for random collections with duplicate sort
//! values and NULLs, random sorts, random filters and random page sizes, a forward walk by
//! after-keys visits every matching record exactly once in the reference order, and a backward
//! walk from the end by before-keys visits the same records in reverse page order.
//!
//! The same data and queries run on folio's own tables (NULLs as a marker value) and on a plain
//! SQLite table served as it is (real SQL NULLs), against one reference computed in Rust with
//! the engine's own comparison and filter semantics.

use std::sync::Arc;

use folio_engine::value::{lookup, string_array};
use folio_engine::{
    CollectionSchema, Column, FieldType, Filter, IdType, IndexedPath, Position, Sort, Value, keyset::compare_keys,
    page::Key, page::plan,
};
use folio_store::{
    Count, ImportMode, OnDuplicate, PostgresStore, Query, SqliteFileStore, SqliteStore, Store, Total, Writer,
};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

/// The native collection: nested paths and a string[] path.
pub(crate) fn schema() -> CollectionSchema {
    let p = |path: &str, ty| IndexedPath::new(path, ty);
    CollectionSchema {
        name: "things".into(),
        id_path: "id".into(),
        id_type: IdType::Integer,
        indexed: vec![
            p("a", FieldType::Integer),
            p("b", FieldType::String),
            p("m.c", FieldType::Float),
            p("t", FieldType::Timestamp),
            p("flag", FieldType::Boolean),
            p("tags", FieldType::StringArray),
        ],
    }
}

/// Rows of the random collections: (a, b, c, t, flag, tags), all but tags possibly missing.
type Row = (
    Option<i64>,
    Option<&'static str>,
    Option<f64>,
    Option<&'static str>,
    Option<bool>,
    Vec<&'static str>,
);

/// Values from tiny domains, so that ties and NULLs are frequent.
fn rows() -> impl Strategy<Value = Vec<Row>> {
    let row = (
        prop::option::of(-2i64..3),
        prop::option::of(prop::sample::select(vec!["", "a", "B", "b", "é", "ab"])),
        prop::option::of(prop::sample::select(vec![-1.5, 0.0, 2.25, 1e10])),
        prop::option::of(prop::sample::select(vec![
            "2021-03-04T12:00:00Z",
            "2021-03-04T13:00:00Z",
            "1999-12-31T23:59:59Z",
        ])),
        prop::option::of(any::<bool>()),
        prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3),
    );
    prop::collection::vec(row, 0..60)
}

/// Ids are not in insertion order, so that the id order is not the rowid order.
fn id_of(i: usize) -> i64 {
    (i as i64 * 7919) % 1009 - 500
}

fn native_docs(rows: &[Row]) -> Vec<Json> {
    rows.iter()
        .enumerate()
        .map(|(i, (a, b, c, t, flag, tags))| {
            json!({"id": id_of(i), "a": a, "b": b, "m": {"c": c}, "t": t, "flag": flag, "tags": tags})
        })
        .collect()
}

/// Random filters as JSON: clauses on every path, combined with and/or/not.
fn filter_json() -> impl Strategy<Value = Json> {
    let leaf = prop::sample::select(vec![
        json!({"a": {"gte": 0}}),
        json!({"a": {"in": [1, 2]}}),
        json!({"a": {"none": [0]}}),
        json!({"a": null}),
        json!({"b": "a"}),
        json!({"b": {"lt": "b"}}),
        json!({"m.c": {"gt": 0}}),
        json!({"m.c": {"lte": 2.25}}),
        json!({"t": {"lte": "2021-03-04T12:00:00Z"}}),
        json!({"flag": true}),
        json!({"id": {"gt": 0}}),
        json!({"tags": {"all": ["x", "y"]}}),
        json!({"tags": {"any": ["y", "z"]}}),
        json!({"tags": {"none": ["x"]}}),
        json!({"tags": "z"}),
    ]);
    leaf.prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"or": v})),
            inner.prop_map(|f| json!({"not": f})),
        ]
    })
}

fn sort_spec() -> impl Strategy<Value = Vec<(usize, bool)>> {
    // Columns 0..=4 are the sortable indexed paths; 5 means the id.
    prop::collection::vec((0usize..6, any::<bool>()), 1..=3)
}

/// The sort of `spec` as a request asks for it (parsed against `schema`, so the id breaks
/// ties as the schema's indexes keep them).
fn requested_sort(schema: &CollectionSchema, spec: &[(usize, bool)]) -> Sort {
    let mut text = Vec::new();
    for &(n, desc) in spec {
        let path = if n == 5 { "id" } else { &schema.indexed[n].path };
        let field = format!("{}{path}", if desc { "-" } else { "" });
        if !text.iter().any(|f: &String| f.trim_start_matches('-') == path) {
            text.push(field);
        }
        if n == 5 {
            break;
        }
    }
    Sort::parse(&text.join(","), schema, "sort").unwrap()
}

pub(crate) fn value_of(schema: &CollectionSchema, doc: &Json, c: Column) -> Value {
    Value::from_json(lookup(doc, schema.path_of(c)), schema.type_of(c)).unwrap()
}

/// The reference: filter and sort in Rust with the engine's own semantics; the sort key of
/// every record, in order (the id last).
pub(crate) fn reference(schema: &CollectionSchema, docs: &[Json], filter: &Filter, sort: &Sort) -> Vec<Vec<Value>> {
    let mut keyed: Vec<Vec<Value>> = docs
        .iter()
        .filter(|d| {
            filter.matches(&|c| value_of(schema, d, c), &|c| {
                string_array(lookup(d, schema.path_of(c))).unwrap()
            })
        })
        .map(|d| sort.fields().iter().map(|f| value_of(schema, d, f.column)).collect())
        .collect();
    keyed.sort_by(|a, b| compare_keys(sort, a, b));
    keyed
}

struct Walk {
    ids: Vec<Value>,
    page_sizes: Vec<usize>,
}

async fn walk(store: &dyn Store, query: &Query, size: u64, backward: bool) -> Walk {
    let from = if backward { Position::End } else { Position::Start };
    walk_from(store, query, size, from, None).await
}

/// The pages of a walk from `from` (the start or the end by default), bounded to end at the
/// key `until` when given (a partition's walk).
async fn walk_from(store: &dyn Store, query: &Query, size: u64, from: Position, until: Option<&Key>) -> Walk {
    let backward = matches!(from, Position::End | Position::Before(_));
    let mut position = from;
    let mut pages = Vec::new();
    loop {
        assert!(pages.len() <= 200, "the walk does not end");
        let mut planned = plan(&query.sort, position, size);
        if let Some(until) = until {
            planned = planned.until(&query.sort, until.clone());
        }
        let page = store.page(query, &planned, Count::Skip).await.unwrap();
        pages.push(page.records.iter().map(|r| r.id().to_value()).collect::<Vec<_>>());
        match (backward, page.prev, page.next) {
            (true, Some(key), _) => position = Position::Before(key),
            (false, _, Some(key)) => position = Position::After(key),
            _ => break,
        }
    }
    if backward {
        pages.reverse();
    }
    Walk {
        page_sizes: pages.iter().map(Vec::len).collect(),
        ids: pages.concat(),
    }
}

/// Creates the collection of `schema` holding `docs` through the store's write trait, as every
/// writable store under test is filled.
pub(crate) fn create(rt: &tokio::runtime::Runtime, store: &dyn Writer, schema: &CollectionSchema, docs: Vec<Json>) {
    let numbered = docs.into_iter().zip(1..).map(|(d, n)| Ok((n, d)));
    rt.block_on(store.import(
        schema,
        ImportMode::Create,
        Box::new(numbered),
        OnDuplicate::Error,
        &|_| {},
    ))
    .unwrap();
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Checks forward and backward walks and the total of one query against the reference.
fn check_walks(
    rt: &tokio::runtime::Runtime,
    store: &dyn Store,
    schema: &CollectionSchema,
    docs: &[Json],
    filter: &Filter,
    sort: Sort,
    size: u64,
) -> Result<(), TestCaseError> {
    let keys = reference(schema, docs, filter, &sort);
    let expected: Vec<Value> = keys.iter().map(|k| k.last().unwrap().clone()).collect();
    let query = Query {
        schema: Arc::new(schema.clone()),
        filter: filter.clone(),
        sort,
        fields: None,
        at: None,
    };
    let spec = query.sort.to_spec(schema);

    let forward = rt.block_on(walk(store, &query, size, false));
    prop_assert_eq!(&forward.ids, &expected, "forward walk, sort {}", spec);
    let (last, full) = forward.page_sizes.split_last().unwrap();
    prop_assert!(full.iter().all(|&n| n as u64 == size) && *last as u64 <= size);

    let backward = rt.block_on(walk(store, &query, size, true));
    prop_assert_eq!(&backward.ids, &expected, "backward walk, sort {}", spec);
    let (first, full) = backward.page_sizes.split_first().unwrap();
    prop_assert!(full.iter().all(|&n| n as u64 == size) && *first as u64 <= size);

    // Partitions' walks: from the start, or after a key, through a later key (or to the
    // end), give exactly the records between.
    let n = keys.len();
    for (after, until) in [
        (None, Some(n / 3)),
        (Some(n / 3), Some(2 * n / 3)),
        (Some(2 * n / 3), None),
    ] {
        let (after, until) = (after.filter(|&i| i < n), until.filter(|&i| i < n));
        let from = after.map_or(Position::Start, |i| Position::After(keys[i].clone()));
        let bounded = rt.block_on(walk_from(store, &query, size, from, until.map(|i| &keys[i])));
        let (start, end) = (after.map_or(0, |i| i + 1), until.map_or(n, |i| i + 1));
        prop_assert_eq!(
            &bounded.ids,
            &expected[start..end.max(start)].to_vec(),
            "partition {:?}..={:?}, sort {}",
            after,
            until,
            spec
        );
    }

    let count = |c| {
        rt.block_on(store.page(&query, &plan(&query.sort, Position::Start, 0), c))
            .unwrap()
            .total
    };
    let n = expected.len() as u64;
    prop_assert_eq!(count(Count::Exact), Some(Total { count: n, exact: true }));
    prop_assert_eq!(
        count(Count::AtMost(5)),
        Some(Total {
            count: n.min(5),
            exact: n <= 5
        })
    );
    Ok(())
}

/// The same rows as a plain SQLite table: real NULLs, columns named as paths, indexes that
/// make `a`, `b`, `m_c`, `t` and `flag` sortable (`t`'s descending, so that ties on it break
/// on the id the other way), timestamps as text; `u`, a copy of `b` that
/// no index serves (filtered by scanning), and `tags` as JSON text (a `string[]` path, told
/// from the rows when there are some).
fn plain_sqlite(dir: &std::path::Path, rows: &[Row]) -> (std::path::PathBuf, CollectionSchema, Vec<Json>) {
    let file = dir.join("plain.sqlite");
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch(
        "CREATE TABLE things (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, m_c REAL, t TEXT, flag BOOLEAN, extra BLOB,
                              u TEXT, tags TEXT);
         CREATE INDEX things_a ON things (a); CREATE INDEX things_b ON things (b, a);
         CREATE INDEX things_c ON things (m_c); CREATE INDEX things_t ON things (t DESC);
         CREATE INDEX things_flag ON things (flag);",
    )
    .unwrap();
    let mut docs = Vec::new();
    for (i, (a, b, c, t, flag, tags)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO things (id, a, b, m_c, t, flag, u, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3, ?7)",
            rusqlite::params![id_of(i), a, b, c, t, flag, json!(tags).to_string()],
        )
        .unwrap();
        docs.push(json!({
            "id": id_of(i), "a": a, "b": b, "m_c": c, "t": t, "flag": flag, "extra": null,
            "u": b, "tags": tags,
        }));
    }
    let p = |path: &str, ty| IndexedPath::new(path, ty);
    let scanned = |path: &str, ty, advice: &str| IndexedPath {
        unindexed: Some(advice.to_owned()),
        ..p(path, ty)
    };
    let tags = if rows.is_empty() {
        // Nothing tells that the text is JSON.
        scanned(
            "tags",
            FieldType::String,
            r#"`CREATE INDEX "things_tags" ON "things" ("tags")` would make it sortable"#,
        )
    } else {
        scanned(
            "tags",
            FieldType::StringArray,
            "its elements are JSON text, which no index serves",
        )
    };
    let schema = CollectionSchema {
        name: "things".into(),
        id_path: "id".into(),
        id_type: IdType::Integer,
        indexed: vec![
            p("a", FieldType::Integer),
            p("b", FieldType::String),
            p("m_c", FieldType::Float),
            IndexedPath {
                ties_reversed: true,
                ..p("t", FieldType::String)
            },
            p("flag", FieldType::Boolean),
            scanned(
                "u",
                FieldType::String,
                r#"`CREATE INDEX "things_u" ON "things" ("u")` would make it sortable"#,
            ),
            tags,
        ],
    };
    (file, schema, docs)
}

/// Filters written for the native schema, rewritten for the plain table: `m.c` is `m_c`, and
/// with `scan`, clauses on `b` test its copy `u`, which no index serves.
fn for_plain(filter: &Json, scan: bool) -> Json {
    let mut text = filter.to_string().replace("\"m.c\"", "\"m_c\"");
    if scan {
        text = text.replace("\"b\"", "\"u\"");
    }
    serde_json::from_str(&text).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_record_exactly_once_in_order_both_ways_on_every_store(
        rows in rows(),
        sorts in prop::collection::vec(sort_spec(), 1..4),
        size in 1u64..8,
        filter in prop::option::of(filter_json()),
        scan in any::<bool>(),
    ) {
        let rt = rt();
        let dir = tempfile::tempdir().unwrap();

        // Every writable store is filled the same way, through its `Writer`.
        let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
        let schema = schema();
        let docs = native_docs(&rows);
        create(&rt, &store, &schema, docs.clone());
        let native_filter = match &filter {
            Some(f) => Filter::from_json(&schema, f, "filter").unwrap(),
            None => Filter::all(),
        };
        for spec in &sorts {
            check_walks(&rt, &store, &schema, &docs, &native_filter, requested_sort(&schema, spec), size)?;
        }

        // The same data and queries on PostgreSQL, against the same reference.
        if let Some(pg) = folio_testkit::PgSchema::create(&rt) {
            let postgres = rt.block_on(PostgresStore::connect(&pg.url)).unwrap();
            create(&rt, &postgres, &schema, docs.clone());
            for spec in &sorts {
                check_walks(&rt, &postgres, &schema, &docs, &native_filter, requested_sort(&schema, spec), size)?;
            }
        }

        let (file, plain_schema, plain_docs) = plain_sqlite(dir.path(), &rows);
        let plain = SqliteFileStore::open(&file).unwrap();
        prop_assert_eq!(&*rt.block_on(plain.schema("things")).unwrap(), &plain_schema);
        // Records are the rows as the reference reads them: `flag`, declared BOOLEAN, as
        // `true`/`false`, as filters, sorts and keys take it.
        for doc in plain_docs.iter().take(5) {
            let id = Value::from_json(doc.get("id"), FieldType::Integer).unwrap();
            let served = rt.block_on(plain.get(&plain_schema, &id)).unwrap().unwrap();
            prop_assert_eq!(&serde_json::from_str::<Json>(&served).unwrap(), doc);
        }
        let plain_filter = match filter.as_ref().map(|f| for_plain(f, scan)) {
            None => Filter::all(),
            // A table without rows has no `string[]` path: nothing told that `tags` holds JSON.
            Some(f) if rows.is_empty() && f.to_string().contains("\"tags\"") => return Ok(()),
            Some(f) => Filter::from_json(&plain_schema, &f, "filter").unwrap(),
        };
        for spec in &sorts {
            let sort = requested_sort(&plain_schema, spec);
            check_walks(&rt, &plain, &plain_schema, &plain_docs, &plain_filter, sort, size)?;
        }
    }
}

/// Offsets give the same records as the reference, page by page.
#[test]
fn offsets_match_the_reference_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
    let schema = schema();
    store.create_collection(&schema, None).unwrap();
    let docs: Vec<_> = (0..23).map(|i| json!({"id": i, "a": i % 4, "b": null})).collect();
    store.insert("things", docs.clone(), &|_| {}).unwrap();
    let sort = Sort::parse("-a,b", &schema, "sort").unwrap();
    let expected: Vec<Value> = reference(&schema, &docs, &Filter::all(), &sort)
        .into_iter()
        .map(|k| k.last().unwrap().clone())
        .collect();
    let query = Query {
        schema: Arc::new(schema),
        filter: Filter::all(),
        sort,
        fields: None,
        at: None,
    };
    let rt = rt();
    let mut got = Vec::new();
    for page in 0..5 {
        let r = rt
            .block_on(store.page(&query, &plan(&query.sort, Position::Offset(page * 5), 5), Count::Skip))
            .unwrap();
        assert_eq!(r.has_more, page < 4);
        got.extend(r.records.iter().map(|r| r.id().to_value()));
    }
    assert_eq!(got, expected);
}

/// A write bumps the collection's generation, so a cached total is never served stale.
#[test]
fn totals_follow_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
    store.create_collection(&schema(), None).unwrap();
    let rt = rt();
    let count = |store: &SqliteStore| {
        let query = Query::all(Arc::new(schema()));
        rt.block_on(store.page(&query, &plan(&query.sort, Position::Start, 0), Count::Exact))
            .unwrap()
            .total
            .unwrap()
            .count
    };
    assert_eq!(count(&store), 0);
    store
        .insert("things", vec![json!({"id": 1}), json!({"id": 2})], &|_| {})
        .unwrap();
    assert_eq!(count(&store), 2);
    store.insert("things", vec![json!({"id": 3})], &|_| {}).unwrap();
    assert_eq!(count(&store), 3);
    store.delete("things", &[Value::Int(1)]).unwrap();
    assert_eq!(count(&store), 2);
}

/// A failed insert leaves the collection as it was.
#[test]
fn a_bad_document_inserts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
    store.create_collection(&schema(), None).unwrap();
    let err = store
        .insert(
            "things",
            vec![json!({"id": 1}), json!({"id": 2, "a": "not a number"})],
            &|_| {},
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("line 2") && err.to_string().contains("`a`"),
        "{err}"
    );
    let err = store
        .insert("things", vec![json!({"id": 1}), json!({"id": 1})], &|_| {})
        .unwrap_err();
    assert!(err.to_string().contains("duplicate id"), "{err}");
    let query = Query::all(Arc::new(schema()));
    let r = rt()
        .block_on(store.page(&query, &plan(&query.sort, Position::Start, 10), Count::Exact))
        .unwrap();
    assert_eq!(r.total, Some(Total { count: 0, exact: true }));
}

/// Projections keep the requested paths with their nesting, on both layouts.
#[test]
fn projections_return_only_the_requested_paths() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
    let schema = schema();
    store.create_collection(&schema, None).unwrap();
    store
        .insert(
            "things",
            vec![json!({"id": 1, "a": 2, "m": {"c": 1.5, "d": [1, {"e": null}]}, "x": "y"})],
            &|_| {},
        )
        .unwrap();
    let rt = rt();
    let project = |fields: &[&str]| {
        let mut query = Query::all(Arc::new(schema.clone()));
        query.fields = Some(folio_engine::projection::Projection::parse(fields.iter(), "fields").unwrap());
        let page = rt
            .block_on(store.page(&query, &plan(&query.sort, Position::Start, 1), Count::Skip))
            .unwrap();
        serde_json::from_slice::<Json>(page.records.get(0).unwrap().doc()).unwrap()
    };
    assert_eq!(
        project(&["m.d", "x", "nope", "a\"b"]),
        json!({"m": {"d": [1, {"e": null}]}, "x": "y"})
    );
    assert_eq!(project(&["m", "m.c"]), json!({"m": {"c": 1.5, "d": [1, {"e": null}]}}));
    assert_eq!(project(&[]), json!({}));
}

/// Engine invariant 4: while records are inserted and deleted during a walk, every record
/// present for the whole walk is visited exactly once and no record twice, for any sort.
#[test]
fn walks_are_stable_under_inserts_and_deletes() {
    let rt = rt();
    for spec in ["a", "-a,b", "-m.c,-t", "flag,-a,b"] {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
        let schema = schema();
        store.create_collection(&schema, None).unwrap();
        let doc = |id: i64| {
            let pick = |n: i64| (id * 31 + n * 17).rem_euclid(5);
            let b = ["x", "y", "z"][pick(2) as usize % 3];
            json!({"id": id, "a": pick(1), "b": b,
                   "m": {"c": if pick(3) == 0 { None } else { Some(pick(4) as f64 / 2.0) }},
                   "t": "2021-03-04T12:00:00Z", "flag": pick(5) > 2})
        };
        store.insert("things", (0..200).map(doc), &|_| {}).unwrap();
        let sort = Sort::parse(spec, &schema, "sort").unwrap();
        let query = Query {
            schema: Arc::new(schema.clone()),
            filter: Filter::all(),
            sort,
            fields: None,
            at: None,
        };

        let mut seen: Vec<Value> = Vec::new();
        let mut deleted: Vec<Value> = Vec::new();
        let mut next_id = 1000;
        let mut position = Position::Start;
        for step in 0.. {
            let page = rt
                .block_on(store.page(&query, &plan(&query.sort, position, 9), Count::Skip))
                .unwrap();
            seen.extend(page.records.iter().map(|r| r.id().to_value()));
            let Some(key) = page.next else { break };
            position = Position::After(key);
            // Between pages: insert three new records (landing anywhere in the order) and
            // delete one record not seen yet and one seen already.
            store
                .insert("things", (next_id..next_id + 3).map(doc), &|_| {})
                .unwrap();
            next_id += 3;
            let victims = [Value::Int(199 - step), Value::Int(step)];
            store.delete("things", &victims).unwrap();
            deleted.extend(victims);
        }
        let mut counts = std::collections::HashMap::new();
        for id in &seen {
            *counts.entry(format!("{id:?}")).or_insert(0) += 1;
        }
        assert!(
            counts.values().all(|&n| n == 1),
            "sort {spec}: a record was visited twice"
        );
        for id in (0..200).map(Value::Int).filter(|id| !deleted.contains(id)) {
            assert!(
                seen.contains(&id),
                "sort {spec}: {id:?} was present throughout but not visited"
            );
        }
        // And the walk stayed in sort order.
        let keys: Vec<_> = seen
            .iter()
            .filter_map(|id| {
                let Value::Int(i) = id else { return None };
                Some(
                    query
                        .sort
                        .fields()
                        .iter()
                        .map(|f| value_of(&schema, &doc(*i), f.column))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert!(
            keys.windows(2).all(|w| compare_keys(&query.sort, &w[0], &w[1]).is_lt()),
            "sort {spec}: out of order"
        );
    }
}
