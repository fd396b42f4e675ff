//! Micro-benchmarks of record serialisation: a page of demo documents written as a JSON:API
//! list body, the way every style writes its pages (`body::Docs`), next to the way bodies were
//! written before (each document parsed into a `RawValue` to be embedded), so that the ratio
//! shows in one run.
//!
//! ```sh
//! cargo bench -p folio-http --bench body
//! ```

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use folio_http::body::{Doc, Docs};
use serde::Serialize;
use serde_json::value::RawValue;

/// A JSON:API list body, as `jsonapi/document.rs` shapes it, over any kind of embedded document.
#[derive(Serialize)]
struct List<D> {
    data: Vec<Resource<D>>,
    meta: serde_json::Value,
}

#[derive(Serialize)]
struct Resource<D> {
    #[serde(rename = "type")]
    ty: &'static str,
    id: String,
    attributes: D,
    links: SelfLink,
}

#[derive(Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    self_: String,
}

/// `n` demo documents with their ids, as a store hands them out.
fn records(n: u64) -> Vec<(String, String)> {
    folio_store::demo::entries(n)
        .map(|doc| (doc["entry_id"].as_str().unwrap_or_default().to_owned(), doc.to_string()))
        .collect()
}

fn resource<D>(id: String, attributes: D) -> Resource<D> {
    let self_ = format!("/jsonapi/entries/{id}");
    Resource {
        ty: "entries",
        id,
        attributes,
        links: SelfLink { self_ },
    }
}

/// The body through `Docs`: documents copied verbatim, never parsed.
fn spliced(records: Vec<(String, String)>) -> String {
    let mut docs = Docs::with_capacity(records.len());
    let data: Vec<Resource<Doc>> = records
        .into_iter()
        .map(|(id, doc)| resource(id, docs.add(doc)))
        .collect();
    docs.write(&List {
        data,
        meta: serde_json::json!({"pageSize": 1000}),
    })
}

/// The body as it was written before: each document parsed (checked) into a `RawValue`.
fn parsed(records: Vec<(String, String)>) -> String {
    let data: Vec<Resource<Box<RawValue>>> = records
        .into_iter()
        .map(|(id, doc)| resource(id, RawValue::from_string(doc).expect("demo documents are JSON")))
        .collect();
    serde_json::to_string(&List {
        data,
        meta: serde_json::json!({"pageSize": 1000}),
    })
    .expect("bodies serialise")
}

fn bodies(c: &mut Criterion) {
    for n in [100, 1000] {
        let page = records(n);
        assert_eq!(
            spliced(page.clone()),
            parsed(page.clone()),
            "both ways write the same body"
        );
        c.bench_function(&format!("JSON:API body of {n} records, Docs (verbatim)"), |b| {
            b.iter_batched(|| page.clone(), |p| black_box(spliced(p)), BatchSize::LargeInput)
        });
        c.bench_function(&format!("JSON:API body of {n} records, RawValue (parsed)"), |b| {
            b.iter_batched(|| page.clone(), |p| black_box(parsed(p)), BatchSize::LargeInput)
        });
    }
}

criterion_group!(benches, bodies);
criterion_main!(benches);
