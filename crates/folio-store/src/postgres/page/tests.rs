//! What PostgreSQL reads for a page, from its own `EXPLAIN (ANALYZE, BUFFERS)`.

use std::sync::Arc;

use folio_engine::page::plan;
use folio_engine::{CollectionSchema, FieldType, Filter, IdType, IndexedPath, Position, Sort, Value};
use serde_json::json;

use super::{page_sql, refs};
use crate::{ImportMode, OnDuplicate, PostgresStore, Query, Writer};

const RECORDS: i64 = 20_000;

/// The key of record `i` under a sort on `name`.
fn key(i: i64) -> Vec<Value> {
    vec![Value::Text(format!("n{i:06}")), Value::Int(i)]
}

/// A page between two keys (the last page of a partition; a snapshot page's current side is
/// bounded the same way) reads the index pages of its own rows, wherever the range lies: the
/// scan ends at its bound instead of reading on to the end of the index, in either direction.
#[test]
fn a_page_between_two_keys_reads_only_its_range() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let store = rt.block_on(PostgresStore::connect(&pg.url)).unwrap();
    let schema = CollectionSchema {
        name: "ranges".into(),
        id_path: "id".into(),
        id_type: IdType::Integer,
        indexed: vec![IndexedPath::new("name", FieldType::String)],
    };
    let docs = (0..RECORDS).map(|i| Ok((i as u64 + 1, json!({"id": i, "name": format!("n{i:06}")}))));
    rt.block_on(store.import(&schema, ImportMode::Create, Box::new(docs), OnDuplicate::Error, &|_| {}))
        .unwrap();
    let client = rt.block_on(store.client()).unwrap();
    rt.block_on(client.batch_execute("VACUUM ANALYZE folio_c_ranges"))
        .unwrap();
    let (index_pages,): (i64,) = {
        let row = rt
            .block_on(client.query_one(
                "SELECT max(pg_relation_size(indexrelid) / current_setting('block_size')::bigint) \
                 FROM pg_index WHERE indrelid = 'folio_c_ranges'::regclass",
                &[],
            ))
            .unwrap();
        (row.get(0),)
    };
    assert!(
        index_pages > 60,
        "the index is large enough to tell a range from the rest: {index_pages}"
    );
    let query = Query {
        schema: Arc::new(schema.clone()),
        filter: Filter::all(),
        sort: Sort::parse("name", &schema, "sort").unwrap(),
        fields: None,
        at: None,
    };
    let reversed = Query {
        sort: Sort::parse("-name", &schema, "sort").unwrap(),
        ..query.clone()
    };
    // Five records at the end of the index where the scan starts, so that a scan that did
    // not stop at its bound would read the whole index: forwards near its start, backwards
    // near its end.
    let end = RECORDS - 1;
    for (query, from, to) in [(&query, 100, 105), (&reversed, end - 5, end - 10)] {
        let plan = plan(&query.sort, Position::After(key(from)), 1000).until(&query.sort, key(to));
        let (sql, params) = page_sql(query, &plan, None, None);
        let lines: Vec<String> = rt
            .block_on(client.query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), &refs(&params)))
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let explained = lines.join("\n");
        // The top node's line, then its buffers (which count its children's).
        assert!(lines[0].contains(" rows=5 loops=1)"), "{explained}");
        let blocks: i64 = lines[1]
            .trim()
            .strip_prefix("Buffers: shared ")
            .unwrap_or_else(|| panic!("{explained}"))
            .split(' ')
            .filter_map(|part| part.split_once('=').and_then(|(_, n)| n.parse::<i64>().ok()))
            .sum();
        assert!(
            blocks < 20,
            "{blocks} blocks read for 5 records of an index of {index_pages} pages: {sql}\n{explained}"
        );
    }
}
