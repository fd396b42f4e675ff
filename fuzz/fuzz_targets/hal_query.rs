//! `folio_http::hal::parse_list`: the query string of `GET /hal/{collection}` (`limit`,
//! `page`, `with_count`, `pagination_type`, `search_after`, `search`).
//!
//! The input is the raw query string. An accepted request's `search_after` keys must
//! round-trip.

#![no_main]

use folio_http::HttpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = folio_fuzz::text(data);
    match folio_http::hal::parse_list(&folio_fuzz::collection(), Some(&raw), &HttpConfig::default()) {
        Ok(request) => folio_fuzz::check_transparent(request.query(), "search_after"),
        Err(e) => folio_fuzz::render(&e),
    }
});
