//! Micro-benchmarks of record serialisation: a page of demo documents read into
//! `folio_store::Records` (as a store does, row by row) and written as a JSON:API list body with
//! `body::Body` (as `jsonapi/document.rs` does: per record, the parts shared by every record,
//! the id, the document copied verbatim and the `self` link).
//!
//! ```sh
//! cargo bench -p folio-http --bench body
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use folio_engine::ValueRef;
use folio_http::body::Body;
use folio_store::Records;

/// `n` demo documents with their ids, as rows of a store.
fn rows(n: u64) -> Vec<(String, String)> {
    folio_store::demo::entries(n)
        .map(|doc| (doc["entry_id"].as_str().unwrap_or_default().to_owned(), doc.to_string()))
        .collect()
}

/// The rows read into a page's records, as a store reads them.
fn records(rows: &[(String, String)]) -> Records {
    let mut records = Records::with_capacity(rows.len());
    for (id, doc) in rows {
        let mut record = records.push();
        record.key(ValueRef::Int(1_614_859_200_000_000));
        record.key(ValueRef::Text(id));
        record.doc(doc.as_bytes());
    }
    records
}

/// The JSON:API list body of the records, as `jsonapi/document.rs` writes it.
fn jsonapi(records: &Records) -> Vec<u8> {
    let mut body = Body::for_records(records, 160);
    body.raw(b"{\"data\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            body.raw(b",");
        }
        body.raw(b"{\"type\":\"entries\",\"id\":")
            .id(record.id())
            .raw(b",\"attributes\":")
            .raw(record.doc())
            .raw(b",\"links\":{\"self\":\"/jsonapi/entries/")
            .id_segment(record.id())
            .raw(b"\"}}");
    }
    body.raw(b"],\"meta\":")
        .value(&serde_json::json!({"pageSize": 1000}))
        .raw(b"}");
    body.finish()
}

fn bodies(c: &mut Criterion) {
    for n in [100, 1000] {
        let rows = rows(n);
        let page = records(&rows);
        let body: serde_json::Value = serde_json::from_slice(&jsonapi(&page)).expect("the body is JSON");
        assert_eq!(body["data"].as_array().map(Vec::len), Some(rows.len()));
        c.bench_function(&format!("records of {n} rows read"), |b| {
            b.iter(|| black_box(records(&rows)))
        });
        c.bench_function(&format!("JSON:API body of {n} records"), |b| {
            b.iter(|| black_box(jsonapi(&page)))
        });
    }
}

criterion_group!(benches, bodies);
criterion_main!(benches);
