//! `folio_http::simple::parse_get`: the query string of `GET /simple/{collection}`
//! (`page`, `per_page`, `after`, `before`, `query`).
//!
//! The input is the raw query string. An accepted request's cursors must round-trip.

#![no_main]

use folio_http::HttpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let codec = folio_fuzz::codec();
    let raw = folio_fuzz::text(data);
    match folio_http::simple::parse_get(&codec, &folio_fuzz::collection(), Some(&raw), &HttpConfig::default()) {
        Ok(request) => folio_fuzz::check_cursors(&codec, request.query()),
        Err(e) => folio_fuzz::render(&e),
    }
});
