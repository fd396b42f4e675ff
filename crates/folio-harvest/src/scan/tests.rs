use proptest::prelude::*;
use serde::de::IgnoredAny;

use super::*;

/// serde_json's verdict on a text.
fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

#[track_caller]
fn check(text: &str) {
    assert_eq!(scan(text).is_ok(), serde_accepts(text), "{text:?}: {:?}", scan(text));
}

#[test]
fn accepts_and_refuses_what_serde_json_does() {
    for text in [
        "",
        " ",
        "0",
        "-0",
        "01",
        "-",
        "1.",
        "1.5e",
        "1e+5",
        "1E-0",
        "-01.5",
        "1.5.5",
        ".5",
        "+1",
        "2x",
        "true",
        "tru",
        "truex",
        "nul",
        "null null",
        "\"\"",
        "\"a",
        "\"\\u00e9\"",
        "\"\\u00g9\"",
        "\"\\x\"",
        "\"\\/\"",
        "\"a\tb\"",
        "\"a\u{7f}b\u{e9}\"",
        "[]",
        "[,]",
        "[1,]",
        "[1 2]",
        "[[[]]]",
        "{}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{a:1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1}{}",
        " {\"a\" : [ 1 , {} ] } ",
        "[1]\n",
        "\t[\r\n1\n]",
        "{\"\\u0041\":1}",
        "[\"\\ud800\"]",
        "{\"a\":[1,{\"b\":[2,3]}],\"c\":\"d\"}",
        "\"0123456789abcdef\\\"0123456789\"",
        "\"0123456789\u{1}abcdef\"",
    ] {
        check(text);
    }
}

#[test]
fn nesting_stops_at_the_limit() {
    for depth in [MAX_DEPTH - 1, MAX_DEPTH] {
        check(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        check(&format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)));
    }
    let deeper = format!(
        "{}1{}",
        "[{\"a\":".repeat(MAX_DEPTH / 2 + 1),
        "}]".repeat(MAX_DEPTH / 2 + 1)
    );
    assert!(serde_accepts(&deeper));
    let e = scan(&deeper).unwrap_err();
    assert_eq!(
        e.to_string(),
        "arrays and objects nested more than 10,000 deep at line 1 column 30001"
    );
}

#[test]
fn outlines_shallow_members_and_elements() {
    let text = r#" {"data": [{"a": [1]}, 2, "x"], "links": {"next": "/n?x=\"1\"", "more": {"deep": [3]}}, "e": []} "#;
    let outline = scan(text).unwrap();
    let at = |span: &Range<usize>| &text[span.clone()];
    let top = &outline.objects[&1];
    assert_eq!(at(&top["data"]), r#"[{"a": [1]}, 2, "x"]"#);
    let elements: Vec<_> = outline.arrays[&top["data"]].iter().map(at).collect();
    assert_eq!(elements, [r#"{"a": [1]}"#, "2", r#""x""#]);
    let links = &outline.objects[&top["links"].start];
    assert_eq!(at(&links["next"]), r#""/n?x=\"1\"""#);
    assert!(outline.arrays[&top["e"]].is_empty());
    // Records (depth 2) and what they hold are never outlined.
    assert_eq!(outline.objects.len(), 2);
    assert_eq!(outline.arrays.len(), 2);
}

#[test]
fn notes_whether_the_text_spans_lines() {
    assert!(
        !scan(r#"{"a": ["x\ny"]}"#).unwrap().multiline,
        "an escaped line break is no line break"
    );
    assert!(scan("{\"a\":\n 1}").unwrap().multiline);
    assert!(scan("[1]\n").unwrap().multiline);
}

#[test]
fn errors_say_where() {
    let e = scan("{\"a\": [1,\n  2,]}").unwrap_err();
    assert_eq!(e.to_string(), "expected value at line 2 column 5");
}

/// Any JSON value: every kind, strings with the characters that matter to a scan (quotes,
/// backslashes, brackets, commas, control characters, any Unicode), nested a few levels.
pub(crate) fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[\"\\\\\\[\\]{},: a\\x00-\\x1f\u{e9}\u{1F600}]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\\\]]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON text of any value, compact or pretty-printed.
fn json() -> impl Strategy<Value = String> {
    (json_value(), any::<bool>()).prop_map(|(v, pretty)| {
        if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            serde_json::to_string(&v).unwrap()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// On valid texts and on texts one edit away from valid (a byte changed, inserted or
    /// removed), the scan and serde_json agree.
    #[test]
    fn agrees_with_serde_json(
        text in json(),
        at in any::<prop::sample::Index>(),
        edit in 0..4u8,
        byte in prop::sample::select(b"{}[],:\"\\ 0-.e+tfnu\n\x01a".to_vec()),
    ) {
        prop_assert!(scan(&text).is_ok(), "{:?}", text);
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len() + 1);
        match edit {
            1 if i < bytes.len() => bytes[i] = byte,
            2 => bytes.insert(i, byte),
            3 if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => {}
        }
        if let Ok(text) = String::from_utf8(bytes) {
            prop_assert_eq!(scan(&text).is_ok(), serde_accepts(&text), "{:?}", text);
        }
    }

    /// The top level's members and elements are the texts serde_json finds there.
    #[test]
    fn outline_agrees_with_serde_json(text in json()) {
        let outline = scan(&text).unwrap();
        let start = text.len() - text.trim_start().len();
        if let Some(members) = outline.objects.get(&start) {
            let expected: HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(members.len(), expected.len());
            for (name, raw) in expected {
                prop_assert_eq!(&text[members[&name].clone()], raw.get());
            }
        }
        if let Some(spans) = outline.arrays.get(&(start..text.trim_end().len())) {
            let expected: Vec<&serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
            let got: Vec<&str> = spans.iter().map(|s| &text[s.clone()]).collect();
            prop_assert_eq!(got, expected.iter().map(|r| r.get()).collect::<Vec<_>>());
        }
    }
}
