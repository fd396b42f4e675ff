//! `folio_http::query::parse_post`: the JSON body of `POST /query/{collection}/query`
//! (`owner`, `query`, `pagination`, `required`).
//!
//! The input is the raw body. An accepted request's `next_page_after_value` must round-trip.

#![no_main]

use folio_http::HttpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match folio_http::query::parse_post(&folio_fuzz::collection(), data, &HttpConfig::default()) {
        Ok(request) => folio_fuzz::check_transparent(request.query(), "pagination.page_after_value"),
        Err(e) => folio_fuzz::render(&e),
    }
});
