//! Projections: keeping only some paths of a document, with its nesting.

use serde_json::{Map, Value as Json};

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

    use super::assemble;

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
