//! Inferring indexed paths and their types from sample documents.
//!
//! Every scalar path (nested ones too, as dotted paths) and every array-of-strings path found
//! in the sample is a candidate. A path is indexed when all its non-null values have one type:
//! integers (`integer`), numbers (`float`), booleans, RFC 3339 strings (`timestamp`), other
//! strings (`string`) or arrays of strings (`string[]`). The others are reported with why.

use std::collections::BTreeMap;

use folio_engine::{FieldType, IdType, IndexedPath, Value};

/// At most this many paths are indexed by inference: every index costs time on every write.
pub const MAX_INFERRED_PATHS: usize = 32;

/// Objects nested deeper than this are not looked into.
const MAX_DEPTH: usize = 8;

/// What inference decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The type of the id.
    pub id_type: IdType,
    /// Paths to index, in the order they were first seen.
    pub indexed: Vec<IndexedPath>,
    /// Paths not indexed, with why.
    pub skipped: Vec<(String, String)>,
}

/// The kinds of value seen at one path.
#[derive(Debug, Default, Clone)]
struct Seen {
    order: usize,
    int: bool,
    float: bool,
    bool: bool,
    timestamp: bool,
    string: bool,
    string_array: bool,
    other_array: bool,
    object: bool,
}

/// Infers the indexed paths of documents from a sample of them. `id_path` is never indexed;
/// its values decide the id type (integer when every one is an integer).
pub fn infer<'a>(sample: impl IntoIterator<Item = &'a serde_json::Value>, id_path: &str) -> Inferred {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut id_integer = true;
    for doc in sample {
        // Strings make the ids strings; a value that is neither a string nor an integer (a
        // float, say) does not, so that the import refuses it at its own line, saying what
        // an id may be, rather than refusing the integer ids before it.
        if let Some(id) = folio_engine::value::lookup(doc, id_path) {
            id_integer &= !id.is_string();
        }
        walk(doc, "", 0, &mut seen);
    }
    let mut paths: Vec<(String, Seen)> = seen.into_iter().filter(|(p, _)| p != id_path).collect();
    paths.sort_by_key(|(_, s)| s.order);
    let mut indexed = Vec::new();
    let mut skipped = Vec::new();
    for (path, s) in paths {
        if s.object {
            let scalar = s.int || s.float || s.bool || s.string || s.string_array || s.other_array;
            if scalar {
                skipped.push((path, "holds objects in some records and values in others".to_owned()));
            }
            continue; // its members were looked at as paths of their own
        }
        let kinds: Vec<&str> = [
            (s.int && !s.float, "integer"),
            (s.float, "float"),
            (s.bool, "boolean"),
            (s.string || s.timestamp, "string"),
            (s.string_array, "string[]"),
            (s.other_array, "array"),
        ]
        .into_iter()
        .filter_map(|(yes, name)| yes.then_some(name))
        .collect();
        let ty = match kinds.as_slice() {
            [] => {
                skipped.push((path, "is always null or empty".to_owned()));
                continue;
            }
            ["integer"] => FieldType::Integer,
            ["float"] => FieldType::Float,
            ["boolean"] => FieldType::Boolean,
            ["string"] if !s.string => FieldType::Timestamp,
            ["string"] => FieldType::String,
            ["string[]"] => FieldType::StringArray,
            ["array"] => {
                skipped.push((path, "holds arrays of values other than strings".to_owned()));
                continue;
            }
            many => {
                skipped.push((path, format!("holds values of several types ({})", many.join(", "))));
                continue;
            }
        };
        if indexed.len() == MAX_INFERRED_PATHS {
            skipped.push((
                path,
                format!(
                    "would be index number {}; at most {MAX_INFERRED_PATHS} are inferred (declare it with --index)",
                    MAX_INFERRED_PATHS + 1
                ),
            ));
            continue;
        }
        indexed.push(IndexedPath::new(path, ty));
    }
    Inferred {
        id_type: if id_integer { IdType::Integer } else { IdType::String },
        indexed,
        skipped,
    }
}

fn walk(node: &serde_json::Value, prefix: &str, depth: usize, seen: &mut BTreeMap<String, Seen>) {
    let serde_json::Value::Object(map) = node else { return };
    for (key, value) in map {
        if key.is_empty() || key.contains('.') {
            continue; // not addressable as a dotted path
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let next = seen.len();
        let s = seen.entry(path.clone()).or_insert_with(|| Seen {
            order: next,
            ..Seen::default()
        });
        use serde_json::Value as J;
        match value {
            J::Null => {}
            J::Bool(_) => s.bool = true,
            J::Number(n) if n.is_i64() => s.int = true,
            J::Number(_) => s.float = true,
            J::String(t) if Value::parse(t, FieldType::Timestamp).is_ok() => s.timestamp = true,
            J::String(_) => s.string = true,
            J::Array(items) if items.iter().all(J::is_string) => {
                if !items.is_empty() {
                    s.string_array = true;
                }
            }
            J::Array(_) => s.other_array = true,
            J::Object(_) => {
                s.object = true;
                if depth < MAX_DEPTH {
                    walk(value, &path, depth + 1, seen);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn infers_the_demo_schema() {
        let sample: Vec<_> = crate::demo::entries(2000).collect();
        let inferred = infer(&sample, "entry_id");
        assert_eq!(inferred.id_type, IdType::String);
        let mut got = inferred.indexed.clone();
        let mut want = crate::demo::schema().indexed;
        got.sort_by(|a, b| a.path.cmp(&b.path));
        want.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(got, want);
        assert!(inferred.skipped.is_empty(), "{:?}", inferred.skipped);
    }

    #[test]
    fn ids_are_integers_unless_one_is_a_string() {
        let id_type = |ids: &[serde_json::Value]| {
            let sample: Vec<_> = ids.iter().map(|id| json!({"id": id})).collect();
            infer(&sample, "id").id_type
        };
        assert_eq!(id_type(&[json!(1), json!(2)]), IdType::Integer);
        assert_eq!(id_type(&[json!(1), json!("b")]), IdType::String);
        // A float is no id at all: its line is refused, not the integers before it.
        assert_eq!(id_type(&[json!(1), json!(2.5)]), IdType::Integer);
    }

    #[test]
    fn says_why_paths_are_not_indexed() {
        let sample = [
            json!({"id": 1, "mixed": 1, "nums": [1, 2], "empty": null, "o": {"x": 1}, "n": 1}),
            json!({"id": 2, "mixed": "a", "nums": [3], "empty": [], "o": 5, "n": 2.5}),
        ];
        let inferred = infer(&sample, "id");
        assert_eq!(inferred.id_type, IdType::Integer);
        assert_eq!(
            inferred.indexed,
            vec![
                IndexedPath::new("o.x", FieldType::Integer),
                IndexedPath::new("n", FieldType::Float),
            ]
        );
        let reasons: BTreeMap<_, _> = inferred.skipped.into_iter().collect();
        assert!(
            reasons["mixed"].contains("several types (integer, string)"),
            "{reasons:?}"
        );
        assert!(reasons["nums"].contains("other than strings"));
        assert!(reasons["empty"].contains("always null or empty"));
        assert!(reasons["o"].contains("objects in some records"));
    }
}
