//! A response body checked to be whole JSON in one pass, with its top level split into
//! members (or elements) kept as spans of the text: nothing below the top level is copied or
//! parsed into a tree, and records are later cut out of the text as `&str`.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON body and where its top-level parts are in it.
#[derive(Debug)]
pub(crate) struct Body {
    text: String,
    top: Top,
}

/// The top level of a body.
#[derive(Debug)]
enum Top {
    /// An object: each member's value.
    Object(HashMap<String, Range<usize>>),
    /// An array: each element.
    Array(Vec<Range<usize>>),
    /// Anything else.
    Scalar,
}

impl Body {
    /// Checks that `text` is one whole JSON value and splits its top level, in one pass.
    pub(crate) fn parse(text: String) -> Result<Body, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let top = deserializer.deserialize_any(TopVisitor { base: &text })?;
        deserializer.end()?;
        Ok(Body { text, top })
    }

    /// The text of the top-level member `name`, if the body is an object that has it.
    pub(crate) fn member(&self, name: &str) -> Option<&str> {
        match &self.top {
            Top::Object(members) => members.get(name).map(|span| &self.text[span.clone()]),
            _ => None,
        }
    }

    /// The elements of the body itself if it is an array, else of its only array-valued
    /// member, as in `{"status": {...}, "entries": [...]}`.
    pub(crate) fn find_array(&self) -> Option<Vec<&str>> {
        match &self.top {
            Top::Array(elements) => Some(elements.iter().map(|span| &self.text[span.clone()]).collect()),
            Top::Object(members) => {
                let mut arrays = members
                    .values()
                    .map(|span| &self.text[span.clone()])
                    .filter(|text| text.starts_with('['));
                match (arrays.next(), arrays.next()) {
                    (Some(one), None) => elements(one),
                    _ => None,
                }
            }
            Top::Scalar => None,
        }
    }

    /// The JSON text at a dotted path, parsing only the objects on the way.
    pub(crate) fn at(&self, path: &str) -> Option<&str> {
        let mut segments = path.split('.');
        let mut current = self.member(segments.next()?)?;
        for segment in segments {
            let mut members: HashMap<String, &RawValue> = serde_json::from_str(current).ok()?;
            current = members.remove(segment)?.get();
        }
        Some(current)
    }
}

/// The elements of a JSON array text, each as its own text; `None` if it is not an array.
///
/// `array` is a part of a checked [`Body`], so it is valid JSON and the split only follows
/// strings and brackets: each byte is read once and nothing is checked again (a page's
/// records are most of its body, and checking them twice cost a third of the harvester's
/// time). On text that is not valid JSON the result is unspecified but never a panic.
pub(crate) fn elements(array: &str) -> Option<Vec<&str>> {
    let inner = array.strip_prefix('[')?.strip_suffix(']')?;
    let bytes = inner.as_bytes();
    fn trim(text: &str) -> &str {
        text.trim_matches([' ', '\t', '\n', '\r'])
    }
    let mut elements = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => loop {
                // To the closing quote, over escapes (all ASCII: `\"`, `\\`, `\u00e9`...).
                i += 1;
                let rest = bytes.get(i..)?;
                match memchr::memchr2(b'"', b'\\', rest) {
                    Some(at) if rest[at] == b'\\' => i += at + 1,
                    Some(at) => {
                        i += at;
                        break;
                    }
                    None => return None,
                }
            },
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                elements.push(trim(inner.get(start..i)?));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let last = trim(inner.get(start..)?);
    if !last.is_empty() || !elements.is_empty() {
        elements.push(last);
    }
    Some(elements)
}

/// Builds a [`Top`] while the deserializer checks the whole text; spans are found from where
/// each borrowed `RawValue` lies in `base`.
struct TopVisitor<'a> {
    base: &'a str,
}

impl TopVisitor<'_> {
    fn span(&self, raw: &RawValue) -> Range<usize> {
        let start = raw.get().as_ptr() as usize - self.base.as_ptr() as usize;
        start..start + raw.get().len()
    }
}

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut members = HashMap::new();
        while let Some(name) = map.next_key::<String>()? {
            let raw: &RawValue = map.next_value()?;
            members.insert(name, self.span(raw));
        }
        Ok(Top::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            elements.push(self.span(raw));
        }
        Ok(Top::Array(elements))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Scalar)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Scalar)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Scalar)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::Scalar)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Scalar)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::Scalar)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn splits_objects_and_arrays() {
        let body = Body::parse(r#" {"data": [{"a": 1}, 2, "x"], "links": {"next": "/n?x=\"1\""}} "#.into()).unwrap();
        assert_eq!(body.member("data"), Some(r#"[{"a": 1}, 2, "x"]"#));
        assert_eq!(body.at("links.next"), Some(r#""/n?x=\"1\"""#));
        assert_eq!(body.find_array(), Some(vec![r#"{"a": 1}"#, "2", r#""x""#]));
        let array = Body::parse("[1, {\"b\": [2]}]".into()).unwrap();
        assert_eq!(array.find_array(), Some(vec!["1", "{\"b\": [2]}"]));
        assert_eq!(array.member("b"), None);
        assert_eq!(Body::parse("3".into()).unwrap().find_array(), None);
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            // Quotes, backslashes, brackets, commas, control characters and any Unicode.
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

    proptest! {
        /// The split that checks nothing agrees with serde_json's on every valid array,
        /// compact or pretty-printed.
        #[test]
        fn elements_agree_with_serde_json(items in prop::collection::vec(json(), 0..8), pretty in any::<bool>()) {
            let array = serde_json::Value::Array(items);
            let text = if pretty {
                serde_json::to_string_pretty(&array).unwrap()
            } else {
                serde_json::to_string(&array).unwrap()
            };
            let expected: Vec<&RawValue> = serde_json::from_str(&text).unwrap();
            let expected: Vec<&str> = expected.into_iter().map(RawValue::get).collect();
            prop_assert_eq!(elements(&text), Some(expected));
        }

        /// Whatever the text, the split returns instead of panicking.
        #[test]
        fn elements_never_panic(text in "\\[[\"\\\\\\[\\]{},a1 ]{0,16}\\]") {
            let _ = elements(&text);
        }
    }

    #[test]
    fn refuses_what_is_not_whole_json() {
        for text in ["", "{\"data\": [1, 2", "[1] [2]", "{\"a\": tru}", "[1,]"] {
            assert!(Body::parse(text.into()).is_err(), "{text:?}");
        }
    }
}
