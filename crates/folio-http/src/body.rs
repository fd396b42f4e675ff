//! Response bodies that embed stored documents as they are.
//!
//! Documents travel from the store as JSON text and go into bodies as [`RawValue`]s.
//! Bodies must be written with [`write`] (`serde_json::to_string`), which copies a raw value
//! verbatim: turning one into a `serde_json::Value` (as `json!` does) would parse every
//! document into a tree only to print it again.

use folio_engine::Value;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::ApiError;

/// A stored document, checked to be JSON, to embed verbatim. A store that returned something
/// else is an internal error.
pub(crate) fn stored(text: String) -> Result<Box<RawValue>, ApiError> {
    RawValue::from_string(text).map_err(|e| {
        ApiError::Internal(folio_store::StoreError::Internal(format!(
            "stored document is not JSON: {e}"
        )))
    })
}

/// A body as JSON text, with raw values copied as they are.
pub(crate) fn write(body: &impl Serialize) -> String {
    // Bodies are maps with string keys, strings, numbers and raw values: writing them to a
    // string cannot fail.
    serde_json::to_string(body).expect("response bodies always serialise")
}

/// An id as text, as links and JSON:API `id`s write it.
pub(crate) fn id_text(id: &Value) -> String {
    match id {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}
