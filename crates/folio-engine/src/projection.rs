//! Projections: keeping only some paths of a document, with its nesting.

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use crate::error::EngineError;

/// The most distinct paths a projection may name. A page's cost grows with the paths it
/// extracts from every record (each a column of the store's query), and no real client asks
/// for more than a few dozen; past this a request is refused instead of costing a hundred
/// times a normal page.
pub const MAX_PROJECTED_PATHS: usize = 100;

/// The longest path a projection may name, in bytes: deeper than any document path in use.
pub const MAX_PROJECTED_PATH_BYTES: usize = 256;

/// The paths of each document to return: distinct, non-empty and at most
/// [`MAX_PROJECTED_PATHS`] of them, in the order first given. Only [`Projection::parse`] makes
/// one, so every store receives a projection whose cost is bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection(Vec<String>);

impl Projection {
    /// Checks the paths a request names (empty ones are skipped, repeated ones kept once);
    /// `param` names the parameter in errors.
    pub fn parse<S: AsRef<str>>(paths: impl IntoIterator<Item = S>, param: &str) -> Result<Projection, EngineError> {
        let mut seen = HashSet::new();
        let mut kept = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if path.is_empty() || seen.contains(path) {
                continue;
            }
            if path.len() > MAX_PROJECTED_PATH_BYTES {
                return Err(EngineError::InvalidParameter {
                    param: param.to_owned(),
                    message: format!(
                        "names a path of {} bytes; paths are at most {MAX_PROJECTED_PATH_BYTES} bytes",
                        path.len()
                    ),
                });
            }
            if kept.len() == MAX_PROJECTED_PATHS {
                return Err(EngineError::InvalidParameter {
                    param: param.to_owned(),
                    message: format!(
                        "names more than {MAX_PROJECTED_PATHS} distinct paths; at most {MAX_PROJECTED_PATHS} are allowed"
                    ),
                });
            }
            seen.insert(path.to_owned());
            kept.push(path.to_owned());
        }
        Ok(Projection(kept))
    }

    /// No path at all: records then hold none of their document (to read their keys alone).
    pub fn none() -> Projection {
        Projection(Vec::new())
    }

    /// The paths, distinct, in the order first given.
    pub fn paths(&self) -> &[String] {
        &self.0
    }
}

/// A projection reads as its checked paths.
impl std::ops::Deref for Projection {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

/// Builds a projection from the values found at each dotted path: the paths nested as they
/// were, so `[("a.b", 1), ("d", 3)]` gives `{"a": {"b": 1}, "d": 3}`. A path inside another
/// keeps the outer one whole. Stores extract the values without parsing whole documents.
pub fn assemble(found: impl IntoIterator<Item = (String, Json)>) -> Json {
    let mut out = Map::new();
    for (path, value) in found {
        let segments: Vec<&str> = path.split('.').collect();
        insert(&mut out, &segments, &value);
    }
    Json::Object(out)
}

fn insert(node: &mut Map<String, Json>, segments: &[&str], value: &Json) {
    match segments {
        [] => {}
        [last] => {
            // A whole value supersedes parts of it projected by longer paths.
            node.insert((*last).to_owned(), value.clone());
        }
        [first, rest @ ..] => {
            let entry = node
                .entry((*first).to_owned())
                .or_insert_with(|| Json::Object(Map::new()));
            // When an outer path was projected whole already, it holds this one too, and
            // inserting again changes nothing.
            if let Json::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn projections_are_distinct_and_bounded() {
        let p = Projection::parse(["a", "", "b.c", "a", "b.c"], "fields").unwrap();
        assert_eq!(p.paths(), ["a", "b.c"]);
        let many: Vec<String> = (0..MAX_PROJECTED_PATHS).map(|i| format!("p{i}")).collect();
        let repeated = many.iter().chain(&many);
        assert_eq!(
            Projection::parse(repeated, "fields").unwrap().paths().len(),
            MAX_PROJECTED_PATHS
        );
        let one_more = many.iter().cloned().chain(["extra".to_owned()]);
        let e = Projection::parse(one_more, "fields[entries]").unwrap_err().to_string();
        assert!(e.contains("fields[entries]") && e.contains("100"), "{e}");
        let long = "x".repeat(MAX_PROJECTED_PATH_BYTES + 1);
        assert!(Projection::parse([long], "include").is_err());
    }

    #[track_caller]
    fn check(found: &[(&str, serde_json::Value)], expect: serde_json::Value) {
        assert_eq!(
            assemble(found.iter().map(|(p, v)| ((*p).to_owned(), v.clone()))),
            expect
        );
    }

    #[test]
    fn keeps_nesting_and_whole_outer_paths() {
        let a = json!({"b": 1, "c": 2});
        check(
            &[("a.b", json!(1)), ("d", json!([1, 2]))],
            json!({"a": {"b": 1}, "d": [1, 2]}),
        );
        check(&[("a", a.clone()), ("a.b", json!(1))], json!({"a": {"b": 1, "c": 2}}));
        check(&[("a.b", json!(1)), ("a", a)], json!({"a": {"b": 1, "c": 2}}));
        check(&[("e", json!(null))], json!({"e": null}));
        check(&[], json!({}));
    }
}
