//! `Filter::push_text`: filters in the query-parameter form (`filter[path][op]=value`).
//!
//! The first byte chooses the schema (bit 0); the rest is one condition per line,
//! `path op value` (split at the first two spaces), added the way `jsonapi` adds each
//! `filter[...]` parameter, stopping at the first rejection.

#![no_main]

use folio_engine::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema = folio_fuzz::pick_schema(selector);
    let text = folio_fuzz::text(rest);
    let mut filter = Filter::all();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (path, op, value) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        if let Err(e) = filter.push_text(&schema, path, op, value, "filter[...]") {
            folio_fuzz::render(&e.into());
            return;
        }
    }
    folio_fuzz::use_filter(&schema, &filter);
});
