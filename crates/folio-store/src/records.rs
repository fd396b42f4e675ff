//! The records of a page, kept in two buffers for all of them.
//!
//! A page of a thousand records used to be three thousand allocations (a key vector, an id and
//! a document per record), freed again once the body was written; with glibc's allocator that
//! was a quarter of the server's time on a 1000-record page (BENCHMARKS.md, "Export").
//! [`Records`] keeps every record's key and document end to end in one buffer instead (and the
//! text values of keys in a second), and the HTTP styles copy documents from it straight into
//! response bodies.
//!
//! Each record is its key values, encoded (a tag byte, then eight bytes for a number, or where
//! the text lies in a second buffer that holds only text), followed by its document. Keys are
//! decoded into [`Key`]s only where a page needs them (its first and last record, for
//! cursors); ids are read in place.
//!
//! Stores build a page with [`Records::with_capacity`], [`Records::push`] per row fetched
//! (in scan order) and [`Records::into_page`].

use folio_engine::{Key, Plan, ValueRef};

use crate::{PageResult, Total};

/// The largest buffer reserved ahead of a page's records, whatever its first record suggests.
const MAX_RESERVED_BYTES: usize = 64 << 20;

/// The records of a page, in page order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    bytes: Vec<u8>,
    /// The text values of keys, which are read back as `&str` without checking them again.
    texts: String,
    spans: Vec<Span>,
    /// How many records the page may hold (for the reservation after the first one).
    expected: usize,
}

/// Where one record's parts are in the buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    key: usize,
    id: usize,
    doc: usize,
    end: usize,
}

const NULL: u8 = 0;
const INT: u8 = 1;
const FLOAT: u8 = 2;
const TEXT: u8 = 3;

impl Records {
    /// Room for `rows` records; the buffer for their bytes is sized after the first record.
    pub fn with_capacity(rows: usize) -> Records {
        Records {
            bytes: Vec::new(),
            texts: String::new(),
            spans: Vec::with_capacity(rows),
            expected: rows,
        }
    }

    /// Starts the next record: give its key values in sort order (the id last) with
    /// [`NewRecord::key`], then its document with [`NewRecord::doc`]. A record whose document
    /// is never given is not added.
    pub fn push(&mut self) -> NewRecord<'_> {
        let start = self.bytes.len();
        NewRecord {
            records: self,
            key: start,
            id: start,
        }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The records in page order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> + DoubleEndedIterator + '_ {
        self.spans.iter().map(|&span| Record { records: self, span })
    }

    /// The `i`-th record, if there is one.
    pub fn get(&self, i: usize) -> Option<Record<'_>> {
        self.spans.get(i).map(|&span| Record { records: self, span })
    }

    /// The total size of the documents, in bytes: what a body holding them all needs at least.
    pub fn doc_bytes(&self) -> usize {
        self.spans.iter().map(|s| s.end - s.doc).sum()
    }

    /// Makes the page of `plan` from the rows it fetched (in scan order): the extra row
    /// dropped, the order made the page's, and the neighbours' keys taken
    /// ([`Plan::assemble`]), with the total and the generation they were read with.
    pub fn into_page(mut self, plan: &Plan, total: Option<Total>, generation: String) -> PageResult {
        let spans = std::mem::take(&mut self.spans);
        let page = plan.assemble(spans, |&span| Record { records: &self, span }.key());
        self.spans = page.records;
        PageResult {
            records: self,
            next: page.next,
            prev: page.prev,
            has_more: page.has_more,
            total,
            generation,
            moment: None,
        }
    }

    /// The value encoded at `at`, and where the next one starts.
    fn value_at(&self, at: usize) -> (ValueRef<'_>, usize) {
        let number = |at: usize| -> u64 {
            u64::from_le_bytes(
                self.bytes[at..at + 8]
                    .try_into()
                    .expect("numbers are encoded as eight bytes"),
            )
        };
        let index = |at: usize| usize::try_from(number(at)).expect("an index that was a usize");
        match self.bytes[at] {
            INT => (ValueRef::Int(number(at + 1) as i64), at + 9),
            FLOAT => (ValueRef::Float(f64::from_bits(number(at + 1))), at + 9),
            TEXT => {
                let start = index(at + 1);
                (ValueRef::Text(&self.texts[start..start + index(at + 9)]), at + 17)
            }
            _ => (ValueRef::Null, at + 1),
        }
    }
}

/// A record being added to [`Records`].
#[derive(Debug)]
pub struct NewRecord<'a> {
    records: &'a mut Records,
    key: usize,
    id: usize,
}

impl NewRecord<'_> {
    /// Appends the next value of the record's key.
    pub fn key(&mut self, value: ValueRef<'_>) {
        let bytes = &mut self.records.bytes;
        self.id = bytes.len();
        match value {
            ValueRef::Null => bytes.push(NULL),
            ValueRef::Int(i) => {
                bytes.push(INT);
                bytes.extend_from_slice(&i.to_le_bytes());
            }
            ValueRef::Float(f) => {
                bytes.push(FLOAT);
                bytes.extend_from_slice(&f.to_le_bytes());
            }
            ValueRef::Text(t) => {
                bytes.push(TEXT);
                bytes.extend_from_slice(&(self.records.texts.len() as u64).to_le_bytes());
                bytes.extend_from_slice(&(t.len() as u64).to_le_bytes());
                self.records.texts.push_str(t);
            }
        }
    }

    /// Ends the record with its document (JSON text written by `serde_json`: see
    /// [`Record::doc`]), and adds it.
    pub fn doc(self, doc: &[u8]) {
        self.write_doc(|bytes| {
            bytes.extend_from_slice(doc);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
    }

    /// Ends the record with the document `write` appends to the page's buffer (no copy made
    /// on the way), and adds it. If `write` fails, the record is not added (what it wrote
    /// stays in the buffer, unreferenced) and its error is returned.
    pub fn write_doc<E>(self, write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        let records = self.records;
        let start = records.bytes.len();
        write(&mut records.bytes)?;
        records.spans.push(Span {
            key: self.key,
            id: self.id,
            doc: start,
            end: records.bytes.len(),
        });
        if records.spans.len() == 1 {
            // Growing a buffer of hundreds of kilobytes by doubling copies it again and again;
            // the first record tells roughly how much the page needs.
            let rest = records.expected.saturating_sub(1);
            let room = |first: usize| (first + first / 4).saturating_mul(rest).min(MAX_RESERVED_BYTES);
            let (bytes, texts) = (room(records.bytes.len() - self.key), room(records.texts.len()));
            records.bytes.reserve(bytes);
            records.texts.reserve(texts);
        }
        Ok(())
    }
}

/// One record of a page.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    records: &'a Records,
    span: Span,
}

impl<'a> Record<'a> {
    /// The document: JSON text exactly as stored, always an object. Stores only hold and build
    /// text written by `serde_json`, so callers embed it without checking it, not even as UTF-8.
    pub fn doc(&self) -> &'a [u8] {
        &self.records.bytes[self.span.doc..self.span.end]
    }

    /// The record's id (the last value of its key).
    pub fn id(&self) -> ValueRef<'a> {
        self.records.value_at(self.span.id).0
    }

    /// The record's key in the query's sort (its id is the last value).
    pub fn key(&self) -> Key {
        let mut key = Vec::new();
        let mut at = self.span.key;
        while at < self.span.doc {
            let (value, next) = self.records.value_at(at);
            key.push(value.to_value());
            at = next;
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use folio_engine::page::plan;
    use folio_engine::{Position, Sort, Value};
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::Float),
            any::<String>().prop_map(Value::Text),
        ]
    }

    proptest! {
        /// Every key, id and document reads back as it was pushed, in order.
        #[test]
        fn records_read_back_as_pushed(
            rows in prop::collection::vec((prop::collection::vec(value(), 1..4), any::<String>()), 0..20),
        ) {
            let mut records = Records::with_capacity(rows.len());
            for (key, doc) in &rows {
                let mut new = records.push();
                for v in key {
                    new.key(ValueRef::from(v));
                }
                new.doc(doc.as_bytes());
            }
            prop_assert_eq!(records.len(), rows.len());
            for (record, (key, doc)) in records.iter().zip(&rows) {
                prop_assert_eq!(&record.key(), key);
                prop_assert_eq!(record.id().to_value(), key.last().unwrap().clone());
                prop_assert_eq!(record.doc(), doc.as_bytes());
            }
            prop_assert_eq!(records.doc_bytes(), rows.iter().map(|(_, d)| d.len()).sum::<usize>());
        }
    }

    #[test]
    fn a_record_without_its_document_is_not_added() {
        let mut records = Records::with_capacity(2);
        records.push().key(ValueRef::Text("dropped"));
        let mut kept = records.push();
        kept.key(ValueRef::Int(7));
        kept.doc(b"{}");
        assert_eq!(records.len(), 1);
        let record = records.get(0).unwrap();
        assert_eq!((record.id(), record.doc()), (ValueRef::Int(7), &b"{}"[..]));
        assert_eq!(record.key(), vec![Value::Int(7)]);
    }

    #[test]
    fn backward_pages_come_out_in_page_order_with_their_neighbours() {
        // Rows 5, 4, 3 fetched backwards for a page of 2 before id 6: the page is 4, 5.
        let sort = Sort::by_id();
        let plan = plan(&sort, Position::Before(vec![Value::Int(6)]), 2);
        let mut records = Records::with_capacity(3);
        for id in [5, 4, 3] {
            let mut new = records.push();
            new.key(ValueRef::Int(id));
            new.doc(format!("{{\"n\":{id}}}").as_bytes());
        }
        let page = records.into_page(&plan, None, "1".into());
        let ids: Vec<_> = page.records.iter().map(|r| r.id()).collect();
        assert_eq!(ids, [ValueRef::Int(4), ValueRef::Int(5)]);
        assert_eq!(page.records.get(0).unwrap().doc(), b"{\"n\":4}");
        assert_eq!(page.prev, Some(vec![Value::Int(4)]));
        assert_eq!(page.next, Some(vec![Value::Int(5)]));
    }
}
