//! `folio_http::query::parse_get`: the query string of `GET /query/{collection}`
//! (`page_size`, `order_by`, `order`, `page_after_value`, `page`, `query`, `include`,
//! `owner`).
//!
//! The input is the raw query string. An accepted request's `next_page_after_value` must
//! round-trip.

#![no_main]

use folio_http::HttpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = folio_fuzz::text(data);
    match folio_http::query::parse_get(&folio_fuzz::collection(), Some(&raw), &HttpConfig::default()) {
        Ok(request) => folio_fuzz::check_transparent(request.query(), "page_after_value"),
        Err(e) => folio_fuzz::render(&e),
    }
});
