//! The engine's invariants on the SQLite store: for random collections with duplicate sort
//! values and NULLs, random sorts and random page sizes, a forward walk by after-keys visits
//! every matching record exactly once in the reference order, and a backward walk from the end
//! by before-keys visits the same records in reverse page order.

use std::sync::Arc;

use folio_engine::value::{lookup, string_array};
use folio_engine::{
    CollectionSchema, Column, Direction, FieldType, Filter, IdType, IndexedPath, Position, Sort,
    SortField, Value, keyset::compare_keys, page::plan,
};
use folio_store::{Query, SqliteStore, Store};
use proptest::prelude::*;
use serde_json::json;

fn schema() -> CollectionSchema {
    let p = |path: &str, ty| IndexedPath {
        path: path.into(),
        ty,
    };
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

/// Documents whose indexed values come from tiny domains, so ties and NULLs are frequent.
fn docs() -> impl Strategy<Value = Vec<serde_json::Value>> {
    let doc = (
        prop::option::of(-2i64..3),
        prop::option::of(prop::sample::select(vec!["", "a", "B", "b", "é", "ab"])),
        prop::option::of(prop::sample::select(vec![-1.5, 0.0, 2.25, 1e10])),
        prop::option::of(prop::sample::select(vec![
            "2021-03-04T12:00:00Z",
            "2021-03-04T13:00:00+01:00",
            "1999-12-31T23:59:59.5Z",
        ])),
        prop::option::of(any::<bool>()),
        prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3),
    );
    prop::collection::vec(doc, 0..60).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (a, b, c, t, flag, tags))| {
                // Ids are not in insertion order, so the id order is not the rowid order.
                let id = (i as i64 * 7919) % 1009 - 500;
                json!({"id": id, "a": a, "b": b, "m": {"c": c}, "t": t, "flag": flag, "tags": tags})
            })
            .collect()
    })
}

fn sort() -> impl Strategy<Value = Vec<(usize, bool)>> {
    // Columns 0..=4 are the sortable indexed paths; 5 means the id.
    prop::collection::vec((0usize..6, any::<bool>()), 1..=3)
}

#[derive(Debug, Clone)]
enum FilterSpec {
    None,
    Clause(&'static str, &'static str, &'static str),
}

fn filter() -> impl Strategy<Value = FilterSpec> {
    prop_oneof![
        2 => Just(FilterSpec::None),
        1 => prop::sample::select(vec![
            ("a", "eq", "1"), ("a", "gte", "0"), ("b", "lt", "b"), ("m.c", "gt", "0"),
            ("t", "lte", "2021-03-04T12:00:00Z"), ("flag", "eq", "true"), ("tags", "eq", "x"),
            ("tags", "all", "x,y"), ("tags", "any", "y,z"), ("id", "gt", "0"),
        ]).prop_map(|(p, o, v)| FilterSpec::Clause(p, o, v)),
    ]
}

fn build_sort(spec: &[(usize, bool)]) -> Sort {
    Sort::new(spec.iter().map(|&(n, desc)| SortField {
        column: if n == 5 {
            Column::Id
        } else {
            Column::Indexed(n)
        },
        direction: if desc {
            Direction::Desc
        } else {
            Direction::Asc
        },
    }))
}

fn value_of(schema: &CollectionSchema, doc: &serde_json::Value, c: Column) -> Value {
    Value::from_json(lookup(doc, schema.path_of(c)), schema.type_of(c)).unwrap()
}

/// The reference: filter and sort in Rust with the engine's own semantics.
fn reference(
    schema: &CollectionSchema,
    docs: &[serde_json::Value],
    filter: &Filter,
    sort: &Sort,
) -> Vec<Value> {
    let mut keyed: Vec<Vec<Value>> = docs
        .iter()
        .filter(|d| {
            filter.matches(&|c| value_of(schema, d, c), &|c| {
                string_array(lookup(d, schema.path_of(c))).unwrap()
            })
        })
        .map(|d| {
            sort.fields()
                .iter()
                .map(|f| value_of(schema, d, f.column))
                .collect()
        })
        .collect();
    keyed.sort_by(|a, b| compare_keys(sort, a, b));
    keyed
        .into_iter()
        .map(|k| k.last().unwrap().clone())
        .collect()
}

struct Walk {
    ids: Vec<Value>,
    page_sizes: Vec<usize>,
}

async fn walk(store: &SqliteStore, query: &Query, size: u64, backward: bool) -> Walk {
    let mut position = if backward {
        Position::End
    } else {
        Position::Start
    };
    let mut pages = Vec::new();
    loop {
        assert!(pages.len() <= 200, "the walk does not end");
        let result = store
            .page(query, &plan(&query.sort, position, size), false)
            .await
            .unwrap();
        let page = result.page;
        let ids: Vec<Value> = page.records.iter().map(|r| r.id().clone()).collect();
        let neighbour = if backward { page.prev } else { page.next };
        pages.push(ids);
        match neighbour {
            Some(key) if backward => position = Position::Before(key),
            Some(key) => position = Position::After(key),
            None => break,
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

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_record_exactly_once_in_order_both_ways(
        docs in docs(),
        sorts in prop::collection::vec(sort(), 1..4),
        size in 1u64..8,
        filter_spec in filter(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_with_readers(dir.path(), 2).unwrap();
        let schema = schema();
        store.create_collection(&schema, None).unwrap();
        store.insert("things", docs.clone(), &|_| {}).unwrap();
        let mut filter = Filter::all();
        if let FilterSpec::Clause(p, o, v) = filter_spec {
            filter.push_text(&schema, p, o, v, "filter").unwrap();
        }
        let rt = rt();
        for spec in sorts {
            let sort = build_sort(&spec);
            let expected = reference(&schema, &docs, &filter, &sort);
            let query = Query { schema: Arc::new(schema.clone()), filter: filter.clone(), sort };

            let forward = rt.block_on(walk(&store, &query, size, false));
            prop_assert_eq!(&forward.ids, &expected, "forward walk, sort {:?}", spec);
            let (last, full) = forward.page_sizes.split_last().unwrap();
            prop_assert!(full.iter().all(|&n| n as u64 == size) && *last as u64 <= size);

            let backward = rt.block_on(walk(&store, &query, size, true));
            prop_assert_eq!(&backward.ids, &expected, "backward walk, sort {:?}", spec);
            let (first, full) = backward.page_sizes.split_first().unwrap();
            prop_assert!(full.iter().all(|&n| n as u64 == size) && *first as u64 <= size);

            let total = rt.block_on(store.page(&query, &plan(&query.sort, Position::Start, 0), true)).unwrap();
            prop_assert_eq!(total.total, Some(expected.len() as u64));
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
    let docs: Vec<_> = (0..23)
        .map(|i| json!({"id": i, "a": i % 4, "b": null}))
        .collect();
    store.insert("things", docs.clone(), &|_| {}).unwrap();
    let sort = Sort::parse("-a,b", &schema, "sort").unwrap();
    let expected = reference(&schema, &docs, &Filter::all(), &sort);
    let query = Query {
        schema: Arc::new(schema),
        filter: Filter::all(),
        sort,
    };
    let rt = rt();
    let mut got = Vec::new();
    for page in 0..5 {
        let r = rt
            .block_on(store.page(
                &query,
                &plan(&query.sort, Position::Offset(page * 5), 5),
                false,
            ))
            .unwrap();
        assert_eq!(r.page.has_more, page < 4);
        got.extend(r.page.records.iter().map(|r| r.id().clone()));
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
        let query = Query {
            schema: Arc::new(schema()),
            filter: Filter::all(),
            sort: Sort::by_id(),
        };
        rt.block_on(store.page(&query, &plan(&query.sort, Position::Start, 0), true))
            .unwrap()
            .total
            .unwrap()
    };
    assert_eq!(count(&store), 0);
    store
        .insert("things", vec![json!({"id": 1}), json!({"id": 2})], &|_| {})
        .unwrap();
    assert_eq!(count(&store), 2);
    store
        .insert("things", vec![json!({"id": 3})], &|_| {})
        .unwrap();
    assert_eq!(count(&store), 3);
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
        err.to_string().contains("document 2") && err.to_string().contains("`a`"),
        "{err}"
    );
    let err = store
        .insert("things", vec![json!({"id": 1}), json!({"id": 1})], &|_| {})
        .unwrap_err();
    assert!(err.to_string().contains("duplicate id"), "{err}");
    let query = Query {
        schema: Arc::new(schema()),
        filter: Filter::all(),
        sort: Sort::by_id(),
    };
    let r = rt()
        .block_on(store.page(&query, &plan(&query.sort, Position::Start, 10), true))
        .unwrap();
    assert_eq!(r.total, Some(0));
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
        };

        let mut seen: Vec<Value> = Vec::new();
        let mut deleted: Vec<Value> = Vec::new();
        let mut next_id = 1000;
        let mut position = Position::Start;
        for step in 0.. {
            let page = rt
                .block_on(store.page(&query, &plan(&query.sort, position, 9), false))
                .unwrap()
                .page;
            seen.extend(page.records.iter().map(|r| r.id().clone()));
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
            keys.windows(2)
                .all(|w| compare_keys(&query.sort, &w[0], &w[1]).is_lt()),
            "sort {spec}: out of order"
        );
    }
}
