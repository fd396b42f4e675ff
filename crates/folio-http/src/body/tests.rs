use folio_engine::ValueRef;
use proptest::prelude::*;

use super::Body;

fn written(f: impl FnOnce(&mut Body)) -> String {
    let mut body = Body::default();
    f(&mut body);
    String::from_utf8(body.finish()).unwrap()
}

proptest! {
    /// Strings come out exactly as serde_json writes them, whether or not they need escapes.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them(text in any::<String>(), plain in "[a-zA-Z0-9 é/:-]{0,20}") {
        for text in [&text, &plain] {
            prop_assert_eq!(written(|b| { b.str(text); }), serde_json::to_string(text).unwrap());
        }
    }

    /// An id segment reads back as the id once percent-decoded, and needs no JSON escaping.
    #[test]
    fn id_segments_are_percent_encoded(id in any::<String>()) {
        let segment = written(|b| { b.id_segment(ValueRef::Text(&id)); });
        prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)), "{}", segment);
        prop_assert_eq!(percent_encoding::percent_decode_str(&segment).decode_utf8().unwrap(), id.as_str());
    }
}

#[test]
fn ids_are_json_strings_whatever_their_type() {
    assert_eq!(
        written(|b| {
            b.id(ValueRef::Int(-42));
        }),
        r#""-42""#
    );
    assert_eq!(
        written(|b| {
            b.id(ValueRef::Text("a\"b"));
        }),
        r#""a\"b""#
    );
    assert_eq!(
        written(|b| {
            b.id_segment(ValueRef::Int(-42));
        }),
        "-42"
    );
    assert_eq!(
        written(|b| {
            b.id_segment(ValueRef::Text("doi:10.1/x y"));
        }),
        "doi%3A10.1%2Fx%20y"
    );
}

#[test]
fn parts_are_written_in_order() {
    let out = written(|b| {
        b.raw(b"{\"a\":")
            .value(&serde_json::json!([1, "x"]))
            .raw(b",")
            .str("b")
            .raw(b":null}");
    });
    assert_eq!(out, r#"{"a":[1,"x"],"b":null}"#);
}

#[test]
fn documents_are_copied_verbatim_in_order() {
    // Spacing, key order and number spelling survive: the text is copied, never re-encoded.
    let texts = [r#"{ "b" : 1.50, "a":[ ] }"#, r#"{"é":"\u00e9\n"}"#, "{}"];
    let mut records = folio_store::Records::with_capacity(texts.len());
    for (id, text) in (0..).zip(texts) {
        let mut record = records.push();
        record.key(ValueRef::Int(id));
        record.doc(text.as_bytes());
    }
    assert_eq!(
        written(|b| {
            b.docs(&records);
        }),
        r#"[{ "b" : 1.50, "a":[ ] },{"é":"\u00e9\n"},{}]"#
    );
    assert_eq!(
        written(|b| {
            b.docs(&folio_store::Records::default());
        }),
        "[]"
    );
}
