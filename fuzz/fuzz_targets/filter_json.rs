//! `Filter::from_json` and `push_json`: the query language as JSON (`filter`, `search`,
//! `query`, and the `query` of request bodies).
//!
//! The first byte chooses the schema (bit 0); the rest is JSON text. A filter that parses is
//! also added to one that already holds a condition, as `jsonapi` combines `filter[...]`
//! parameters with `filter`.

#![no_main]

use folio_engine::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema = folio_fuzz::pick_schema(selector);
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    match Filter::from_json(&schema, &json, "filter") {
        Ok(filter) => {
            folio_fuzz::use_filter(&schema, &filter);
            let mut combined = Filter::all();
            combined
                .push_text(&schema, "provider", "eq", "aflow", "filter[provider]")
                .expect("a valid condition");
            match combined.push_json(&schema, &json, "filter") {
                Ok(()) => folio_fuzz::use_filter(&schema, &combined),
                Err(e) => folio_fuzz::render(&e.into()),
            }
        }
        Err(e) => folio_fuzz::render(&e.into()),
    }
});
