//! A response body checked to be whole JSON in one pass ([`crate::scan`]), with its shallow
//! parts kept as spans of the text: nothing is copied or parsed into a tree, and records are
//! cut out of the text as `&str`.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::value::RawValue;

use crate::scan::{self, Outline, SyntaxError};

/// A JSON body and where its shallow parts are in it.
#[derive(Debug)]
pub(crate) struct Body {
    text: String,
    outline: Outline,
}

impl Body {
    /// Checks that `text` is one whole JSON value and outlines it, in one pass.
    pub(crate) fn parse(text: String) -> Result<Body, SyntaxError> {
        let outline = scan::scan(&text)?;
        Ok(Body { text, outline })
    }

    /// The body's text, to be used again ([`crate::buffers`]).
    pub(crate) fn into_text(self) -> String {
        self.text
    }

    /// Whether any part of the body spans lines (pretty-printed JSON).
    pub(crate) fn multiline(&self) -> bool {
        self.outline.multiline
    }

    /// The body's whole value, without the whitespace around it.
    pub(crate) fn whole(&self) -> Option<&str> {
        Some(&self.text[self.start()..self.text.trim_end().len()])
    }

    /// The JSON text at a dotted path, parsing only the objects on the way that the outline
    /// does not hold already. A name with dots in it (`@odata.nextLink`) is matched whole
    /// before it is taken apart.
    pub(crate) fn at(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('.').collect();
        let mut span = self.start()..self.text.trim_end().len();
        let mut i = 0;
        while i < segments.len() {
            let Some(members) = self.members(span.start) else {
                // Deeper than the outline: parse the objects left on the way.
                let mut current = &self.text[span];
                while i < segments.len() {
                    let mut members: HashMap<String, &RawValue> = serde_json::from_str(current).ok()?;
                    let (taken, value) = longest(&segments[i..], |name| members.remove(name))?;
                    current = value.get();
                    i += taken;
                }
                return Some(current);
            };
            let (taken, value) = longest(&segments[i..], |name| members.get(name).cloned())?;
            span = value;
            i += taken;
        }
        Some(&self.text[span])
    }

    /// The elements of `array`, a JSON array text within this body (or any other JSON array
    /// text), each as its own text; `None` if it is not an array.
    pub(crate) fn elements<'a>(&'a self, array: &'a str) -> Option<Vec<&'a str>> {
        let start = (array.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let span = start..start.wrapping_add(array.len());
        match self.outline.arrays.get(&span) {
            // The very text of an array the scan outlined (same place, same length).
            Some(spans)
                if self
                    .text
                    .get(span.clone())
                    .is_some_and(|text| std::ptr::eq(text, array)) =>
            {
                Some(spans.iter().map(|span| &self.text[span.clone()]).collect())
            }
            _ => elements(array),
        }
    }

    /// Where the body's value starts, past any whitespace.
    fn start(&self) -> usize {
        self.text.len() - self.text.trim_start().len()
    }

    /// The members of the object starting at `start`, if the outline holds them.
    fn members(&self, start: usize) -> Option<&HashMap<String, Range<usize>>> {
        self.outline.objects.get(&start)
    }
}

/// The member that the most of `segments`, joined by dots, name (the longest first), and how
/// many segments it took.
pub(crate) fn longest<T>(segments: &[&str], mut get: impl FnMut(&str) -> Option<T>) -> Option<(usize, T)> {
    (1..=segments.len())
        .rev()
        .find_map(|n| get(&segments[..n].join(".")).map(|value| (n, value)))
}

/// The elements of a JSON array text, each as its own text; `None` if it is not an array.
///
/// `array` is a part of a checked [`Body`], so it is valid JSON and the split only follows
/// strings and brackets: each byte is read once and nothing is checked again (a page's
/// records are most of its body, and checking them twice cost a third of the harvester's
/// time). On text that is not valid JSON the result is unspecified but never a panic.
fn elements(array: &str) -> Option<Vec<&str>> {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::scan::tests::json_value;

    #[test]
    fn paths_and_records_come_from_the_outline_at_any_depth() {
        let text = r#"{"_links": {"next": {"href": "/n"}}, "_embedded": {"items": [{"a": 1}, {"b": [2]}]}, "n": 2}"#;
        let body = Body::parse(text.into()).unwrap();
        let items = body.at("_embedded.items").unwrap();
        assert_eq!(items, r#"[{"a": 1}, {"b": [2]}]"#);
        let start = items.as_ptr() as usize - body.text.as_ptr() as usize;
        assert!(
            body.outline.arrays.contains_key(&(start..start + items.len())),
            "outlined"
        );
        assert_eq!(body.elements(items), Some(vec![r#"{"a": 1}"#, r#"{"b": [2]}"#]));
        // Deeper than the outline, and arrays it does not hold: read from the text.
        assert_eq!(body.at("_links.next.href"), Some(r#""/n""#));
        assert_eq!(body.at("_embedded.items.0"), None);
        assert_eq!(body.elements("[3, [4]]"), Some(vec!["3", "[4]"]));
        assert_eq!(body.at("n"), Some("2"));
        assert_eq!(body.at("nope"), None);
        let dotted = Body::parse(r#"{"@odata.nextLink": "/n", "a": {"b.c": {"d": 1}}}"#.into()).unwrap();
        assert_eq!(dotted.at("@odata.nextLink"), Some(r#""/n""#));
        assert_eq!(dotted.at("a.b.c.d"), Some("1"));
        assert!(!body.multiline());
    }

    #[test]
    fn splits_objects_and_arrays() {
        let body = Body::parse(r#" {"data": [{"a": 1}, 2, "x"], "links": {"next": "/n?x=\"1\""}} "#.into()).unwrap();
        assert_eq!(body.at("data"), Some(r#"[{"a": 1}, 2, "x"]"#));
        assert_eq!(body.at("links.next"), Some(r#""/n?x=\"1\"""#));
        let array = Body::parse(" [1, {\"b\": [2]}]".into()).unwrap();
        let whole = array.whole().unwrap();
        assert_eq!(array.elements(whole), Some(vec!["1", "{\"b\": [2]}"]));
        assert_eq!(array.at("b"), None);
    }

    proptest! {
        /// The split that checks nothing agrees with serde_json's on every valid array,
        /// compact or pretty-printed.
        #[test]
        fn elements_agree_with_serde_json(items in prop::collection::vec(json_value(), 0..8), pretty in any::<bool>()) {
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
