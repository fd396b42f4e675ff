use proptest::prelude::*;
use rusqlite::types::ValueRef;

use super::{Form, canonical, member_prefix, write_value};

const FORMS: [Form; 3] = [Form::Plain, Form::Json, Form::Boolean];

/// How values were written before they were written in place: through a `serde_json::Value`
/// (and, for booleans, as `folio import` reads a SQLite table's `BOOLEAN` column).
fn reference(v: ValueRef<'_>, form: Form) -> String {
    let value = match v {
        ValueRef::Integer(i @ (0 | 1)) if form == Form::Boolean => (i == 1).into(),
        ValueRef::Text(t) if form == Form::Json => {
            serde_json::from_slice(t).unwrap_or_else(|_| String::from_utf8_lossy(t).into_owned().into())
        }
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b.iter().map(|byte| format!("{byte:02x}")).collect::<String>().into(),
    };
    value.to_string()
}

fn written(v: ValueRef<'_>, form: Form) -> String {
    let mut out = Vec::new();
    write_value(&mut out, v, form).unwrap();
    String::from_utf8(out).unwrap()
}

fn same(v: ValueRef<'_>) {
    for form in FORMS {
        assert_eq!(written(v, form), reference(v, form), "{v:?} as {form:?}");
    }
}

#[test]
fn every_kind_of_value_is_written_as_serde_json_wrote_it() {
    for i in [0, 1, -1, 42, i64::MAX, i64::MIN] {
        same(ValueRef::Integer(i));
    }
    for f in [
        0.0,
        -0.0,
        1.5,
        -2.25e-300,
        1e300,
        0.1,
        1e21,
        123456789.0,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        same(ValueRef::Real(f));
    }
    same(ValueRef::Null);
    for b in [&b""[..], b"\x00\xff\x10", b"abc"] {
        same(ValueRef::Blob(b));
    }
    let texts: &[&[u8]] = &[
        b"",
        b"plain",
        "unicode: é 漢字 😀 \u{2028} \u{7f}".as_bytes(),
        b"control: \x00 \x01 \x1f \t \n \r \x08 \x0c",
        b"quotes \" and \\ and /",
        b"not utf-8: \xff\xfe \xc3",
        // JSON columns: valid and compact, valid but rewritten by serde_json, not JSON.
        br#"["Ba","O","Ti"]"#,
        br#"{"a":1,"b":[true,false,null],"c":{"d":-3}}"#,
        b"123",
        b"-9223372036854775808",
        b"-9223372036854775809",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-0",
        b"0",
        b"01",
        b"1.0",
        b"1e2",
        b"2.50",
        br#"[1, 2]"#,
        b" [1]",
        b"[1] ",
        br#"{"a":1,"a":2}"#,
        br#"{"a":{"b":1},"c":{"b":2}}"#,
        br#""\u00e9\n""#,
        br#""\/""#,
        "\"é\"".as_bytes(),
        br#"{"#,
        br#"[1,]"#,
        b"tru",
        b"nul",
        b"\"\xff\"",
        br#"{"k":"v"}x"#,
    ];
    for t in texts {
        same(ValueRef::Text(t));
    }
}

#[test]
fn a_boolean_columns_zero_and_one_are_false_and_true_and_other_values_as_they_are() {
    assert_eq!(written(ValueRef::Integer(1), Form::Boolean), "true");
    assert_eq!(written(ValueRef::Integer(0), Form::Boolean), "false");
    assert_eq!(written(ValueRef::Null, Form::Boolean), "null");
    assert_eq!(written(ValueRef::Integer(2), Form::Boolean), "2");
    assert_eq!(written(ValueRef::Text(b"yes"), Form::Boolean), r#""yes""#);
    assert_eq!(written(ValueRef::Integer(1), Form::Plain), "1");
}

#[test]
fn texts_nested_past_serde_jsons_limit_are_written_as_it_writes_them() {
    for depth in [99, 100, 101, 127, 128, 129, 200] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        same(ValueRef::Text(text.as_bytes()));
    }
}

#[test]
fn member_prefixes_are_escaped_keys() {
    assert_eq!(member_prefix("a"), br#""a":"#);
    assert_eq!(member_prefix("a\"b\n"), br#""a\"b\n":"#);
}

#[test]
fn only_what_serde_json_writes_back_unchanged_is_canonical() {
    assert!(canonical(br#"{"a":[1,-2,"x"],"b":null}"#));
    assert!(!canonical(br#"{"a": 1}"#));
    assert!(!canonical(b"1.0"));
    assert!(!canonical(br#""\n""#));
}

fn json_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[a-c\\\\\"\u{e9} \n]{0,4}".prop_map(|s| format!("\"{s}\"")),
        Just("-0".to_owned()),
        Just("1e3".to_owned()),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[ab]{1,2}", inner), 0..4).prop_map(|v| {
                let members: Vec<String> = v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn json_texts_and_their_edits_are_written_as_serde_json_wrote_them(
        text in json_like(),
        cut in any::<prop::sample::Index>(),
        space in any::<prop::sample::Index>(),
    ) {
        for t in [
            text.clone(),
            {
                let mut end = cut.index(text.len() + 1);
                while !text.is_char_boundary(end) { end -= 1; }
                text[..end].to_owned()
            },
            {
                let mut spaced = text.clone();
                let at = space.index(text.len() + 1);
                if spaced.is_char_boundary(at) { spaced.insert(at, ' '); }
                spaced
            },
        ] {
            prop_assert_eq!(written(ValueRef::Text(t.as_bytes()), Form::Json), reference(ValueRef::Text(t.as_bytes()), Form::Json));
            prop_assert_eq!(written(ValueRef::Text(t.as_bytes()), Form::Plain), reference(ValueRef::Text(t.as_bytes()), Form::Plain));
        }
    }

    #[test]
    fn any_text_and_number_is_written_as_serde_json_wrote_it(
        bytes in prop::collection::vec(any::<u8>(), 0..16),
        f in any::<f64>(),
        i in any::<i64>(),
    ) {
        for form in FORMS {
            prop_assert_eq!(written(ValueRef::Text(&bytes), form), reference(ValueRef::Text(&bytes), form));
            prop_assert_eq!(written(ValueRef::Blob(&bytes), form), reference(ValueRef::Blob(&bytes), form));
            prop_assert_eq!(written(ValueRef::Real(f), form), reference(ValueRef::Real(f), form));
            prop_assert_eq!(written(ValueRef::Integer(i), form), reference(ValueRef::Integer(i), form));
        }
    }
}

proptest! {
    /// The word-at-a-time check agrees with the byte-wise one, wherever the special byte is.
    #[test]
    fn plain_ascii_is_the_byte_wise_check(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let byte_wise = bytes.iter().all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\');
        prop_assert_eq!(super::plain_ascii(&bytes), byte_wise);
    }
}

#[test]
fn plain_ascii_finds_every_special_byte_at_every_position() {
    for special in (0u8..0x20).chain([b'"', b'\\']).chain(0x80..=0xff) {
        for len in 1..20 {
            for at in 0..len {
                let mut text = vec![b'x'; len];
                text[at] = special;
                assert!(!super::plain_ascii(&text), "{special:#x} at {at} of {len}");
            }
        }
    }
    assert!(super::plain_ascii(
        b"2023-12-29T17:53:52+00:00 ~!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}"
    ));
}

/// Arrays of strings, some plain, some not, some not JSON at all.
fn string_arrays() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        "[a-zA-Z0-9 ~\u{7f}]{0,4}".prop_map(|s| format!("\"{s}\"")),
        "[a\"\\\\\n\u{e9}\u{1}]{0,3}".prop_map(|s| format!("\"{s}\"")),
        Just("1".to_owned()),
        Just(" \"a\"".to_owned()),
        Just("\"a".to_owned()),
    ];
    prop::collection::vec(item, 0..4).prop_map(|v| format!("[{}]", v.join(",")))
}

proptest! {
    /// The one-pass check of arrays of plain strings answers only for texts that serde_json
    /// writes back unchanged, and every such array is written as serde_json wrote it.
    #[test]
    fn string_arrays_are_written_as_serde_json_wrote_them(text in string_arrays()) {
        if super::plain_string_array(text.as_bytes()) {
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(serde_json::to_string(&parsed).unwrap(), text.clone());
        }
        prop_assert_eq!(
            written(ValueRef::Text(text.as_bytes()), Form::Json),
            reference(ValueRef::Text(text.as_bytes()), Form::Json)
        );
    }
}

#[test]
fn plain_string_arrays_are_recognised() {
    assert!(super::plain_string_array(br#"["O","Ti"]"#));
    assert!(super::plain_string_array(b"[]"));
    assert!(super::plain_string_array(br#"[""]"#));
    for not in [
        &br#"["a", "b"]"#[..],
        br#"["a\"b"]"#,
        br#"["a",1]"#,
        br#"["a","#,
        br#"["a"]]"#,
        b"[\"\xc3\xa9\"]",
    ] {
        assert!(!super::plain_string_array(not), "{}", String::from_utf8_lossy(not));
    }
}
