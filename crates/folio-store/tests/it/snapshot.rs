//! Snapshot walks on every writable store: a walk reads the collection as it was at its first
//! page, whatever is imported, replaced or deleted while it runs, until the versions it needs
//! are purged; a walk started later reads the present.

use std::collections::BTreeMap;
use std::sync::Arc;

use folio_engine::{Filter, Position, Sort, Value, page::plan};
use folio_store::{
    Count, ImportMode, Moment, OnDuplicate, PostgresStore, Query, SqliteStore, StoreError, WritableStore,
};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

use crate::walk::{create, reference, schema};

/// One step of a test: a write to the collection, or the next page of the walk.
#[derive(Debug, Clone)]
enum Step {
    /// Replaces the records with these ids (if present) with new content, and adds the absent
    /// ones.
    Replace(Vec<i64>, i64),
    /// Deletes the records with these ids.
    Delete(Vec<i64>),
    /// Reads the next page of the walk.
    Page,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let ids = prop::collection::vec(0i64..40, 1..12);
    let step = prop_oneof![
        (ids.clone(), 0i64..5).prop_map(|(ids, a)| Step::Replace(ids, a)),
        ids.prop_map(Step::Delete),
        Just(Step::Page),
        Just(Step::Page),
    ];
    prop::collection::vec(step, 0..14)
}

/// A document of the test collection; `a` decides the sort, with ties.
fn doc(id: i64, a: i64) -> Json {
    json!({"id": id, "a": a, "b": format!("v{a}"), "tags": if a % 2 == 0 { vec!["x"] } else { vec!["y", "z"] }})
}

/// Runs `steps` against `store` and checks the walk against the collection as it was at its
/// first page; then checks that a new walk reads the present and that a purge expires the old
/// walk's snapshot.
fn check(rt: &tokio::runtime::Runtime, store: Arc<dyn WritableStore>, initial: usize, size: u64, steps: &[Step]) {
    let schema = Arc::new(schema());
    let mut state: BTreeMap<i64, Json> = (0..initial as i64).map(|i| (i, doc(i, i % 3))).collect();
    create(rt, store.as_writer(), &schema, state.values().cloned().collect());
    let sort = Sort::parse("-a", &schema, "sort").unwrap();
    let mut query = Query {
        schema: Arc::clone(&schema),
        filter: Filter::all(),
        sort: sort.clone(),
        fields: None,
        at: None,
    };
    let reader = Arc::clone(&store).into_store();
    let first = rt
        .block_on(reader.page(&query, &plan(&sort, Position::Start, size), Count::Exact))
        .unwrap();
    let moment = first.moment.expect("a versioned store gives the page's moment");
    assert_eq!(first.total.map(|t| t.count), Some(state.len() as u64));
    let at_start: BTreeMap<i64, Json> = state.clone();
    let mut seen: Vec<(Value, String)> = read(&first);
    let mut next = first.next;
    query.at = Some(moment);
    let pages = |next: &mut Option<Vec<Value>>, seen: &mut Vec<(Value, String)>| {
        if let Some(key) = next.take() {
            let page = rt
                .block_on(reader.page(&query, &plan(&sort, Position::After(key), size), Count::Exact))
                .unwrap();
            assert_eq!(page.moment, Some(moment), "a snapshot page shows its snapshot");
            // Counted only while the snapshot is the present (an older one is never counted).
            if let Some(total) = page.total {
                assert_eq!(total.count, at_start.len() as u64);
            }
            seen.extend(read(&page));
            *next = page.next;
        }
    };
    // Whether a write replaced or deleted a record, so that versions were kept.
    let mut superseded = false;
    for step in steps {
        match step {
            Step::Replace(ids, a) => {
                let docs: Vec<Json> = ids.iter().map(|&id| doc(id, (id + a) % 5)).collect();
                // Only records that were there before this write leave versions: one it adds
                // and then replaces (an id given twice) was never seen by any snapshot.
                superseded |= ids.iter().any(|id| state.contains_key(id));
                for d in &docs {
                    state.insert(d["id"].as_i64().unwrap(), d.clone());
                }
                let numbered = docs.into_iter().zip(1..).map(|(d, n)| Ok((n, d)));
                rt.block_on(store.as_writer().import(
                    &schema,
                    ImportMode::Append,
                    Box::new(numbered),
                    OnDuplicate::Replace,
                    &|_| {},
                ))
                .unwrap();
            }
            Step::Delete(ids) => {
                for id in ids {
                    superseded |= state.remove(id).is_some();
                }
                let values: Vec<Value> = ids.iter().map(|&i| Value::Int(i)).collect();
                rt.block_on(store.as_writer().delete("things", &values)).unwrap();
            }
            Step::Page => pages(&mut next, &mut seen),
        }
    }
    while next.is_some() {
        pages(&mut next, &mut seen);
    }
    assert_eq!(
        seen,
        expected(&schema, &sort, &at_start),
        "the walk reads its first page's moment"
    );

    // A new walk reads the present.
    query.at = None;
    let mut now = Vec::new();
    let mut position = Position::Start;
    loop {
        let page = rt
            .block_on(reader.page(&query, &plan(&sort, position, size), Count::Skip))
            .unwrap();
        now.extend(read(&page));
        match page.next {
            Some(key) => position = Position::After(key),
            None => break,
        }
    }
    assert_eq!(now, expected(&schema, &sort, &state), "a new walk reads the present");

    // Once the versions it needs are purged, an older moment has expired (one that needs none
    // is still read, and rightly); the present has not.
    rt.block_on(store.as_writer().purge_versions(std::time::Duration::ZERO))
        .unwrap();
    let present = rt
        .block_on(reader.page(&query, &plan(&sort, Position::Start, size), Count::Skip))
        .unwrap();
    query.at = Some(moment);
    let old = rt.block_on(reader.page(&query, &plan(&sort, Position::Start, size), Count::Skip));
    match old {
        Err(StoreError::SnapshotExpired(name)) => assert!(superseded, "{name}: expired with nothing purged"),
        Ok(page) => {
            assert!(!superseded, "a moment older than the purge is still read");
            assert_eq!(page.moment, Some(moment));
        }
        Err(other) => panic!("{other}"),
    }
    query.at = present.moment;
    rt.block_on(reader.page(&query, &plan(&sort, Position::Start, size), Count::Skip))
        .expect("the present moment is never expired");
}

/// The (id, document) of every record of a page.
fn read(page: &folio_store::PageResult) -> Vec<(Value, String)> {
    page.records
        .iter()
        .map(|r| (r.id().to_value(), String::from_utf8(r.doc().to_vec()).unwrap()))
        .collect()
}

/// The (id, document) of every record of `state`, in `sort`'s order, as the store writes them.
fn expected(schema: &folio_engine::CollectionSchema, sort: &Sort, state: &BTreeMap<i64, Json>) -> Vec<(Value, String)> {
    let docs: Vec<Json> = state.values().cloned().collect();
    reference(schema, &docs, &Filter::all(), sort)
        .into_iter()
        .map(|key| {
            let id = key.last().cloned().unwrap();
            let Value::Int(i) = id else { panic!("integer ids") };
            (id, serde_json::to_string(&state[&i]).unwrap())
        })
        .collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sqlite_walks_read_their_first_pages_moment(initial in 0usize..40, size in 1u64..9, steps in steps()) {
        let rt = crate::walk::rt();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn WritableStore> = Arc::new(SqliteStore::open_with_readers(dir.path(), 2).unwrap());
        check(&rt, store, initial, size, &steps);
    }

    #[test]
    fn postgres_walks_read_their_first_pages_moment(initial in 0usize..40, size in 1u64..9, steps in steps()) {
        let rt = crate::walk::rt();
        let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
            return Ok(());
        };
        let store: Arc<dyn WritableStore> = Arc::new(rt.block_on(PostgresStore::connect(&pg.url)).unwrap());
        check(&rt, store, initial, size, &steps);
    }
}

/// The moment a store reports moves with every write, and never back.
#[test]
fn moments_grow_with_every_write() {
    let rt = crate::walk::rt();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn WritableStore> = Arc::new(SqliteStore::open_with_readers(dir.path(), 2).unwrap());
    create(&rt, store.as_writer(), &schema(), vec![doc(1, 1)]);
    let reader = Arc::clone(&store).into_store();
    let query = Query::all(Arc::new(schema()));
    let moment = |rt: &tokio::runtime::Runtime| -> Moment {
        let page = rt
            .block_on(reader.page(&query, &plan(&query.sort, Position::Start, 1), Count::Skip))
            .unwrap();
        page.moment.unwrap()
    };
    let before = moment(&rt);
    rt.block_on(store.as_writer().delete("things", &[Value::Int(1)]))
        .unwrap();
    let after = moment(&rt);
    assert!(after.generation > before.generation);
    assert!(after.at_ms >= before.at_ms);
}
