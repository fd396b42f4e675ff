//! Micro-benchmarks of the engine's per-request hot paths, so that regressions show:
//! keyset predicates, page plans, cursor tokens (fingerprint, encode, decode) and transparent
//! search-after keys.
//!
//! ```sh
//! cargo bench -p folio-engine                    # all
//! cargo bench -p folio-engine -- cursor          # those whose name contains `cursor`
//! ```
//!
//! The schema and keys are the demo's (`entries`, sorted by `-upload_create_time`), the shape
//! every benchmark in BENCHMARKS.md uses.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use folio_engine::keyset::{self, Side};
use folio_engine::page::plan;
use folio_engine::{
    CollectionSchema, CursorCodec, FieldType, Filter, Fingerprint, IdType, IndexedPath, Position, Sort, Value,
    transparent,
};

/// The demo's schema, as `folio_store::demo::schema` gives it (the engine cannot depend on the
/// store, even for benches: the store depends on the engine).
fn schema() -> CollectionSchema {
    let p = |path: &str, ty| IndexedPath::new(path.to_owned(), ty);
    CollectionSchema {
        name: "entries".to_owned(),
        id_path: "entry_id".to_owned(),
        id_type: IdType::String,
        indexed: vec![
            p("upload_id", FieldType::String),
            p("upload_create_time", FieldType::Timestamp),
            p("provider", FieldType::String),
            p("results.material.elements", FieldType::StringArray),
            p("results.material.chemical_formula_reduced", FieldType::String),
            p("results.material.n_elements", FieldType::Integer),
            p("results.properties.electronic.band_gap", FieldType::Float),
        ],
    }
}

/// A key in `sort` of the demo: one value per sort field, the id last.
fn key(sort: &Sort) -> Vec<Value> {
    let mut key: Vec<Value> = (1..sort.fields().len())
        .map(|n| match n {
            1 => Value::Int(1_614_859_200_000_000),
            2 => Value::Text("aflow".to_owned()),
            _ => Value::Float(2.5),
        })
        .collect();
    key.push(Value::Text("AAAAAAAAAABzdopijKTyOU88zG2t".to_owned()));
    key
}

fn keyset_predicates(c: &mut Criterion) {
    let schema = schema();
    for spec in [
        "-upload_create_time",
        "-upload_create_time,provider",
        "-upload_create_time,provider,-results.properties.electronic.band_gap",
    ] {
        let sort = Sort::parse(spec, &schema, "sort").expect("a valid sort");
        let key = key(&sort);
        c.bench_function(&format!("keyset predicate, sort {spec}"), |b| {
            b.iter(|| keyset::predicate(black_box(&sort), black_box(&key), Side::After))
        });
    }
    let sort = Sort::parse("-upload_create_time", &schema, "sort").expect("a valid sort");
    let key = key(&sort);
    c.bench_function("page plan after a key, 1000 records", |b| {
        b.iter(|| plan(black_box(&sort), Position::After(black_box(&key).clone()), 1000))
    });
}

fn cursors(c: &mut Criterion) {
    let schema = schema();
    let sort = Sort::parse("-upload_create_time", &schema, "sort").expect("a valid sort");
    let filter = Filter::all();
    let codec = CursorCodec::new(b"a secret of at least thirty-two bytes");
    let position = Position::After(key(&sort));
    c.bench_function("cursor fingerprint", |b| {
        b.iter(|| Fingerprint::of(black_box(&schema), black_box(&filter), black_box(&sort)))
    });
    let fp = Fingerprint::of(&schema, &filter, &sort);
    c.bench_function("cursor encode", |b| {
        b.iter(|| codec.encode(black_box(fp), black_box(&position)))
    });
    let token = codec.encode(fp, &position);
    c.bench_function("cursor decode", |b| {
        b.iter(|| codec.decode(black_box(&token), black_box(fp), black_box(&sort)))
    });
}

fn transparent_keys(c: &mut Criterion) {
    let schema = schema();
    let sort = Sort::parse("-upload_create_time", &schema, "order_by").expect("a valid sort");
    let key = key(&sort);
    c.bench_function("transparent key encode", |b| {
        b.iter(|| transparent::encode(black_box(&schema), black_box(&sort), black_box(&key)))
    });
    let text = transparent::encode(&schema, &sort, &key);
    c.bench_function("transparent key decode", |b| {
        b.iter(|| {
            transparent::decode(
                black_box(&schema),
                black_box(&sort),
                black_box(&text),
                "page_after_value",
            )
        })
    });
}

criterion_group!(benches, keyset_predicates, cursors, transparent_keys);
criterion_main!(benches);
