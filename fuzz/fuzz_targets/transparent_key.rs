//! `transparent::decode`: search-after keys a user reads and writes (`search_after`,
//! `page_after_value`).
//!
//! The first byte chooses the schema (bit 0) and the sort (the rest of it: by id, or by one
//! sortable path ascending or descending); the rest is the key's text. A key that reads must
//! be written back to a text that reads as the same key, since that is how the next page's
//! key reaches the client.

#![no_main]

use folio_engine::{Sort, transparent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema = folio_fuzz::pick_schema(selector);
    let paths = schema.sortable_paths();
    let choice = usize::from(selector >> 1) % (2 * paths.len());
    let spec = format!("{}{}", if choice % 2 == 1 { "-" } else { "" }, paths[choice / 2]);
    let sort = Sort::parse(&spec, &schema, "order_by").expect("a sort of the schema");
    let text = folio_fuzz::text(rest);
    match transparent::decode(&schema, &sort, &text, "page_after_value") {
        Ok(key) => {
            let written = transparent::encode(&schema, &sort, &key);
            assert_eq!(
                transparent::decode(&schema, &sort, &written, "page_after_value").as_ref(),
                Ok(&key),
                "`{text}` read as {key:?}, written as `{written}`"
            );
        }
        Err(e) => folio_fuzz::render(&e.into()),
    }
});
