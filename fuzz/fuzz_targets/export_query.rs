//! `folio_http::export::parse_export`: the query string of `GET /export/{collection}.ndjson`
//! (`sort`, `filter[...]`, `filter`, `fields[...]`, `cursor`, `after`; `page[...]` refused).
//!
//! The input is the raw query string, parsed for both formats. An accepted request's cursors
//! must round-trip, and its CSV columns start with the id's path.

#![no_main]

use folio_http::export::{Format, parse_export};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let codec = folio_fuzz::codec();
    let raw = folio_fuzz::text(data);
    let collection = folio_fuzz::collection();
    for format in [Format::Ndjson, Format::Csv] {
        match parse_export(&codec, &collection, format, Some(&raw)) {
            Ok(request) => {
                folio_fuzz::check_cursors(&codec, request.query());
                assert_eq!(request.columns()[0], collection.schema().id_path);
            }
            Err(e) => folio_fuzz::render(&e),
        }
    }
});
