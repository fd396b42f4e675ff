//! `folio_http::simple::parse_post`: the JSON body of `POST /simple/{collection}/searches`
//! (`query`, `pagination`).
//!
//! The input is the raw body. An accepted request's cursors must round-trip.

#![no_main]

use folio_http::HttpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let codec = folio_fuzz::codec();
    match folio_http::simple::parse_post(&codec, &folio_fuzz::collection(), data, &HttpConfig::default()) {
        Ok(request) => folio_fuzz::check_cursors(&codec, request.query()),
        Err(e) => folio_fuzz::render(&e),
    }
});
