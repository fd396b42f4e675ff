//! Response bodies written straight into one buffer, stored documents copied in verbatim.
//!
//! A page of 1000 demo records is about 440 kB of JSON, most of it stored documents. Each style
//! writes its page into one [`Body`]: the per-record parts with the methods here (a document's
//! bytes copied as they are; ids and links escaped only when they need it, and otherwise copied
//! too), the few other members (links, counts, the echoed request) with serde_json.
//!
//! Documents are never parsed on the way out, not even to be checked: stores only hand out JSON
//! text that folio wrote itself with serde_json (the contract of `folio_store::Record::doc`).
//! Parsing them into trees (`json!`) cost 2 to 3 times the throughput; checking each one into a
//! `RawValue` was the largest cost of a 1000-record page after SQLite's; and building each
//! record's parts as `String`s for serde to escape was most of what remained (BENCHMARKS.md,
//! "Profile"; `cargo bench -p folio-http --bench body` compares the ways).

use std::borrow::Cow;
use std::io::Write as _;

use folio_engine::ValueRef;
use folio_store::Records;
use serde::Serialize;

use crate::links;

/// A JSON body under construction.
#[derive(Debug, Default)]
pub struct Body {
    out: Vec<u8>,
}

impl Body {
    /// A body with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Body {
        Body {
            out: Vec::with_capacity(bytes),
        }
    }

    /// A body with room for the records of a page and `per_record` bytes around each, plus
    /// what surrounds them.
    pub fn for_records(records: &Records, per_record: usize) -> Body {
        Body::with_capacity(records.doc_bytes() + records.len() * per_record + 2048)
    }

    /// Appends text that is JSON (or a part of it) already: punctuation, member names,
    /// stored documents.
    pub fn raw(&mut self, json: &[u8]) -> &mut Body {
        self.out.extend_from_slice(json);
        self
    }

    /// Appends `text` as a JSON string, escaped as serde_json escapes it.
    pub fn str(&mut self, text: &str) -> &mut Body {
        if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
        } else {
            self.value(text);
        }
        self
    }

    /// Appends any serialisable value as JSON.
    pub fn value(&mut self, value: &(impl Serialize + ?Sized)) -> &mut Body {
        // Bodies are maps with string keys, strings, numbers and JSON values: writing them
        // into memory cannot fail.
        serde_json::to_writer(&mut self.out, value).expect("response bodies always serialise");
        self
    }

    /// Appends an id as a JSON string (JSON:API ids are strings, whatever the id's type).
    pub fn id(&mut self, id: ValueRef<'_>) -> &mut Body {
        match id {
            ValueRef::Int(i) => {
                write!(self.out, "\"{i}\"").expect("writing into memory cannot fail");
                self
            }
            other => self.str(&id_text(other)),
        }
    }

    /// Appends an id percent-encoded as a path segment (the last segment of a record's link),
    /// which needs no JSON escaping.
    pub fn id_segment(&mut self, id: ValueRef<'_>) -> &mut Body {
        match id {
            ValueRef::Int(i) => write!(self.out, "{i}").expect("writing into memory cannot fail"),
            // Most ids: nothing to encode.
            ValueRef::Text(t) if links::is_unreserved(t) => self.out.extend_from_slice(t.as_bytes()),
            other => links::push_segment(&mut self.out, &id_text(other)),
        }
        self
    }

    /// Appends the documents of `records` as a JSON array, each copied as it is.
    pub fn docs(&mut self, records: &Records) -> &mut Body {
        self.out.push(b'[');
        for (i, record) in records.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(record.doc());
        }
        self.out.push(b']');
        self
    }

    /// The body's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// An id as text, as links and JSON:API `id`s write it.
pub(crate) fn id_text(id: ValueRef<'_>) -> Cow<'_, str> {
    match id {
        ValueRef::Text(t) => Cow::Borrowed(t),
        ValueRef::Int(i) => Cow::Owned(i.to_string()),
        other => Cow::Owned(format!("{:?}", other.to_value())),
    }
}

#[cfg(test)]
mod tests;
