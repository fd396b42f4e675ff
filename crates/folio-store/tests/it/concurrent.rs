//! Engine invariant 4 under real concurrency, on SQLite and PostgreSQL: while one task walks a
//! collection with after-keys, another thread imports new records into it and deletes others,
//! in their own transactions. Every record present for the whole walk is returned exactly
//! once, no record twice, in sort order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use folio_engine::{Filter, Position, Sort, Value, keyset::compare_keys, page::plan};
use folio_store::{Count, ImportMode, OnDuplicate, PostgresStore, Query, SqliteStore, Store, WritableStore};
use serde_json::{Value as Json, json};

use crate::walk::{create, schema, value_of};

/// Records at the start of the walk.
const INITIAL: i64 = 300;
/// Batches the writer makes at most (each: 4 new records, 2 deleted).
const MAX_BATCHES: u64 = 150;
const PAGE: u64 = 7;

fn doc(id: i64) -> Json {
    let pick = |n: i64| (id * 31 + n * 17).rem_euclid(5);
    let b = ["x", "y", "z"][pick(2) as usize % 3];
    json!({"id": id, "a": pick(1), "b": b,
           "m": {"c": if pick(3) == 0 { None } else { Some(pick(4) as f64 / 2.0) }},
           "t": "2021-03-04T12:00:00Z", "flag": pick(5) > 2, "tags": [b]})
}

/// One batch of writes: insert these documents, then delete these ids.
type Write = Box<dyn Fn(Vec<Json>, Vec<Value>) + Send + Sync>;

/// Batches written so far, and a signal for each.
#[derive(Default)]
struct Progress {
    batches: Mutex<u64>,
    wrote: Condvar,
}

/// Walks `store` with `sort` while another thread writes through `write`; checks the walk.
fn walk_while_writing(rt: &tokio::runtime::Runtime, store: &dyn Store, write: Write, spec: &str) {
    let schema = schema();
    let query = Query {
        schema: Arc::new(schema.clone()),
        filter: Filter::all(),
        sort: Sort::parse(spec, &schema, "sort").unwrap(),
        fields: None,
        at: None,
    };
    let progress = Arc::new(Progress::default());
    let deleted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (progress, deleted, done) = (progress.clone(), deleted.clone(), done.clone());
        std::thread::spawn(move || {
            let mut next_id = 10_000;
            for batch in 0..MAX_BATCHES as i64 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                // New records land anywhere in the order; deleted ones are ahead of the walk
                // and behind it alike.
                let victims = vec![
                    Value::Int((batch * 7) % INITIAL),
                    Value::Int((batch * 13 + 5) % INITIAL),
                ];
                // Recorded before the write, so a record missing from the walk because of it
                // is always known to have been deleted.
                deleted.lock().unwrap().extend(victims.clone());
                write((next_id..next_id + 4).map(doc).collect(), victims);
                next_id += 4;
                *progress.batches.lock().unwrap() += 1;
                progress.wrote.notify_all();
            }
        })
    };

    let mut seen: Vec<Value> = Vec::new();
    let mut position = Position::Start;
    for step in 1u64.. {
        let page = rt
            .block_on(store.page(&query, &plan(&query.sort, position, PAGE), Count::Skip))
            .unwrap();
        seen.extend(page.records.iter().map(|r| r.id().to_value()));
        let Some(key) = page.next else { break };
        position = Position::After(key);
        // The writer runs freely; the walk only makes sure it keeps up, so that writes land
        // between (and during) the reads of every page.
        let wanted = step.min(MAX_BATCHES);
        let mut batches = progress.batches.lock().unwrap();
        // (A writer that failed stops the wait; its panic is reported by the join below.)
        while *batches < wanted && !writer.is_finished() {
            batches = progress
                .wrote
                .wait_timeout(batches, std::time::Duration::from_millis(100))
                .unwrap()
                .0;
        }
    }
    done.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        *progress.batches.lock().unwrap() >= 10,
        "sort {spec}: too few writes during the walk"
    );

    let mut counts: HashMap<String, u32> = HashMap::new();
    for id in &seen {
        *counts.entry(format!("{id:?}")).or_insert(0) += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sort {spec}: returned more than once: {twice:?}");
    let deleted = deleted.lock().unwrap();
    for id in (0..INITIAL).map(Value::Int).filter(|id| !deleted.contains(id)) {
        assert!(
            seen.contains(&id),
            "sort {spec}: {id:?} was present for the whole walk but not returned"
        );
    }
    let keys: Vec<Vec<Value>> = seen
        .iter()
        .map(|id| {
            let Value::Int(i) = id else { panic!("{id:?}") };
            query
                .sort
                .fields()
                .iter()
                .map(|f| value_of(&schema, &doc(*i), f.column))
                .collect()
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| compare_keys(&query.sort, &w[0], &w[1]).is_lt()),
        "sort {spec}: out of order"
    );
}

const SORTS: [&str; 3] = ["-a,b", "-m.c,-t", "flag,-a"];

/// Batches written through the store's write trait, from the writer's own thread.
fn writes(store: Arc<dyn WritableStore>, handle: tokio::runtime::Handle) -> Write {
    Box::new(move |docs, ids| {
        let numbered = docs.into_iter().zip(1..).map(|(d, n)| Ok((n, d)));
        handle
            .block_on(store.import(
                &schema(),
                ImportMode::Append,
                Box::new(numbered),
                OnDuplicate::Error,
                &|_| {},
            ))
            .unwrap();
        handle.block_on(store.delete("things", &ids)).unwrap();
    })
}

#[test]
fn sqlite_walks_stay_exactly_once_while_another_thread_imports_and_deletes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for spec in SORTS {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open_with_readers(dir.path(), 2).unwrap());
        let initial: Vec<Json> = (0..INITIAL).map(doc).collect();
        create(&rt, store.as_ref(), &schema(), initial);
        walk_while_writing(&rt, store.as_ref(), writes(store.clone(), rt.handle().clone()), spec);
    }
}

#[test]
fn postgres_walks_stay_exactly_once_while_another_thread_imports_and_deletes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for spec in SORTS {
        let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
            return;
        };
        let store = Arc::new(rt.block_on(PostgresStore::connect(&pg.url)).unwrap());
        let initial: Vec<Json> = (0..INITIAL).map(doc).collect();
        create(&rt, store.as_ref(), &schema(), initial);
        walk_while_writing(&rt, store.as_ref(), writes(store.clone(), rt.handle().clone()), spec);
    }
}
