//! Projections: keeping only some paths of a document, with its nesting.

use serde_json::{Map, Value as Json};

use crate::value::lookup;

/// Returns the parts of `doc` at the dotted `paths`, nested as they were. Paths that are
/// absent are left out; a path inside another keeps the outer one whole.
///
/// `project({"a": {"b": 1, "c": 2}, "d": 3}, ["a.b", "d"])` is `{"a": {"b": 1}, "d": 3}`.
pub fn project(doc: &Json, paths: &[String]) -> Json {
    let mut out = Map::new();
    for path in paths {
        if let Some(found) = lookup(doc, path) {
            let segments: Vec<&str> = path.split('.').collect();
            insert(&mut out, &segments, found);
        }
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

    use super::project;

    #[track_caller]
    fn check(doc: serde_json::Value, paths: &[&str], expect: serde_json::Value) {
        let paths: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
        assert_eq!(project(&doc, &paths), expect);
    }

    #[test]
    fn keeps_nesting_and_skips_absent_paths() {
        let doc = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": null});
        check(
            doc.clone(),
            &["a.b", "d"],
            json!({"a": {"b": 1}, "d": [1, 2]}),
        );
        check(doc.clone(), &["x.y", "e"], json!({"e": null}));
        check(doc.clone(), &["a", "a.b"], json!({"a": {"b": 1, "c": 2}}));
        check(doc.clone(), &["a.b", "a"], json!({"a": {"b": 1, "c": 2}}));
        check(doc, &[], json!({}));
    }
}
