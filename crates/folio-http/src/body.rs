//! Response bodies that embed stored documents as they are.
//!
//! Documents travel from the store as JSON text and go into bodies verbatim: a body struct
//! holds a [`Doc`] where a document goes, the texts go into [`Docs`] in the same order, and
//! [`Docs::write`] writes the body with each `Doc` replaced by its text. Turning a document into
//! a `serde_json::Value` (as `json!` does) would parse it into a tree only to print it again.
//!
//! Documents are not checked on the way out either: stores only hand out JSON text that folio
//! wrote itself with `serde_json` (the contract of `folio_store::Record::doc`). Checking each
//! one again, as building a `RawValue` does, was the largest cost of a 1000-record page after
//! SQLite's own work (BENCHMARKS.md, "Profile"; `cargo bench -p folio-http` compares the two).

use std::sync::LazyLock;

use folio_engine::Value;
use serde::Serialize;
use serde_json::ser::Formatter;
use serde_json::value::RawValue;

/// Where a stored document goes in a body: written by [`Docs::write`] as the next document of
/// its [`Docs`]. Written any other way it would be `null`, so every body holding one is written
/// by `Docs::write`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(transparent)]
pub struct Doc(&'static RawValue);

/// The stored documents of one body, in the order the body holds their [`Doc`]s.
#[derive(Debug, Default)]
pub struct Docs {
    texts: Vec<String>,
}

impl Docs {
    /// Room for `n` documents.
    pub fn with_capacity(n: usize) -> Docs {
        Docs {
            texts: Vec::with_capacity(n),
        }
    }

    /// Takes the next document of the body (JSON text, as a store returned it) and returns what
    /// the body holds in its place.
    pub fn add(&mut self, text: String) -> Doc {
        self.texts.push(text);
        Doc(&MARK)
    }

    /// The body as JSON text, each [`Doc`] replaced by its document, copied as it is.
    ///
    /// # Panics
    /// If the body holds a different number of `Doc`s than documents were added (a bug).
    pub fn write(self, body: &impl Serialize) -> String {
        let size = self.texts.iter().map(|t| t.len() + 128).sum::<usize>() + 1024;
        let mut texts = self.texts.into_iter();
        let mut out = Vec::with_capacity(size);
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Splice { texts: &mut texts });
        // Bodies are maps with string keys, strings, numbers and documents: writing them into
        // memory cannot fail.
        body.serialize(&mut ser).expect("response bodies always serialise");
        assert!(texts.next().is_none(), "a body holds every document added for it");
        // Every piece is UTF-8: serde_json writes UTF-8, and documents are `String`s.
        String::from_utf8(out).expect("JSON text is UTF-8")
    }
}

/// A body as JSON text, for bodies without stored documents.
pub fn write(body: &impl Serialize) -> String {
    Docs::default().write(body)
}

/// An id as text, as links and JSON:API `id`s write it.
pub(crate) fn id_text(id: &Value) -> String {
    match id {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// The raw value every [`Doc`] holds: one allocation, recognised by its address.
static MARK: LazyLock<Box<RawValue>> =
    LazyLock::new(|| RawValue::from_string("null".to_owned()).expect("`null` is JSON"));

/// serde_json's compact output, except that the mark is replaced by the next document.
struct Splice<'a> {
    texts: &'a mut std::vec::IntoIter<String>,
}

impl Formatter for Splice<'_> {
    fn write_raw_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if std::ptr::eq(fragment.as_ptr(), MARK.get().as_ptr()) {
            let text = self
                .texts
                .next()
                .expect("a body holds no more documents than were added for it");
            writer.write_all(text.as_bytes())
        } else {
            writer.write_all(fragment.as_bytes())
        }
    }
}

#[cfg(test)]
mod tests;
