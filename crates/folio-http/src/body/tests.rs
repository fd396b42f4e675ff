use serde::Serialize;
use serde_json::value::RawValue;

use super::{Doc, Docs, write};

#[derive(Serialize)]
struct Page {
    data: Vec<Item>,
    note: &'static str,
}

#[derive(Serialize)]
struct Item {
    id: u32,
    attributes: Doc,
}

#[test]
fn documents_are_copied_verbatim_in_order() {
    // Spacing, key order and number spelling survive: the text is copied, never re-encoded.
    let texts = [r#"{ "b" : 1.50, "a":[ ] }"#, r#"{"é":"\u00e9\n"}"#, "{}"];
    let mut docs = Docs::with_capacity(texts.len());
    let data = (0..)
        .zip(texts)
        .map(|(id, text)| Item {
            id,
            attributes: docs.add(text.to_owned()),
        })
        .collect();
    let out = docs.write(&Page { data, note: "n" });
    assert_eq!(
        out,
        r#"{"data":[{"id":0,"attributes":{ "b" : 1.50, "a":[ ] }},{"id":1,"attributes":{"é":"\u00e9\n"}},{"id":2,"attributes":{}}],"note":"n"}"#
    );
}

#[test]
fn other_raw_values_pass_through() {
    let other = RawValue::from_string("[1, 2]".to_owned()).unwrap();
    let mut docs = Docs::default();
    let doc = docs.add(r#"{"x":true}"#.to_owned());
    assert_eq!(
        docs.write(&(doc, &other, RawValue::NULL)),
        r#"[{"x":true},[1, 2],null]"#
    );
    assert_eq!(write(&serde_json::json!({"a": [1]})), r#"{"a":[1]}"#);
}

#[test]
#[should_panic(expected = "a body holds every document added for it")]
fn a_document_left_out_is_a_bug() {
    let mut docs = Docs::default();
    let _ = docs.add("{}".to_owned());
    docs.write(&"no documents here");
}

#[test]
#[should_panic(expected = "no more documents than were added")]
fn a_doc_from_other_docs_is_a_bug() {
    let mut others = Docs::default();
    let doc = others.add("{}".to_owned());
    Docs::default().write(&[doc]);
}
