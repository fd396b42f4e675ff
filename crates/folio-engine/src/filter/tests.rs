use serde_json::json;

use super::*;
use crate::schema::{IdType, IndexedPath};

fn schema() -> CollectionSchema {
    let p = |path: &str, ty| IndexedPath::new(path, ty);
    CollectionSchema {
        name: "entries".into(),
        id_path: "entry_id".into(),
        id_type: IdType::String,
        indexed: vec![
            p("provider", FieldType::String),
            p("elements", FieldType::StringArray),
            p("gap", FieldType::Float),
            p("n", FieldType::Integer),
        ],
    }
}

fn parse(json: serde_json::Value) -> Result<Filter, EngineError> {
    Filter::from_json(&schema(), &json, "filter")
}

#[track_caller]
fn check_error(json: serde_json::Value, mentions: &[&str]) {
    let e = parse(json).unwrap_err().to_string();
    for m in mentions {
        assert!(e.contains(m), "{e:?} should mention {m:?}");
    }
}

/// Evaluates against one record given as (provider, elements, gap, n).
fn eval(f: &Filter, provider: Option<&str>, elements: &[&str], gap: Option<f64>, n: i64) -> bool {
    let value_of = |c: Column| match c {
        Column::Indexed(0) => provider.map_or(Value::Null, |p| Value::Text(p.into())),
        Column::Indexed(2) => gap.map_or(Value::Null, Value::Float),
        Column::Indexed(3) => Value::Int(n),
        _ => Value::Text("id".into()),
    };
    let elements_of = |_| elements.iter().map(|e| (*e).to_owned()).collect();
    f.matches(&value_of, &elements_of)
}

#[test]
fn json_grammar() {
    let f = parse(json!({"elements": {"all": ["O", "Ti"]}, "or": [{"provider": "a"}, {"gap": {"gte": 2}}]})).unwrap();
    assert!(eval(&f, Some("a"), &["O", "Ti"], None, 1));
    assert!(eval(&f, Some("b"), &["O", "Ti", "Zr"], Some(2.0), 1));
    assert!(!eval(&f, Some("b"), &["O", "Ti"], Some(1.0), 1));
    assert!(!eval(&f, Some("a"), &["O"], None, 1));

    // A plain list is `any`; `none`; `not` is plain negation, so it selects missing values.
    let f = parse(json!({"elements": ["Fe", "Co"]})).unwrap();
    assert!(eval(&f, None, &["Co"], None, 0) && !eval(&f, None, &["Ni"], None, 0));
    let f = parse(json!({"elements": {"none": ["Fe"]}, "n": {"in": [1, 2]}})).unwrap();
    assert!(eval(&f, None, &["Co"], None, 2) && !eval(&f, None, &["Fe"], None, 2) && !eval(&f, None, &[], None, 3));
    let f = parse(json!({"not": {"gap": {"gt": 1}}})).unwrap();
    assert!(eval(&f, None, &[], None, 0) && eval(&f, None, &[], Some(0.5), 0) && !eval(&f, None, &[], Some(3.0), 0));
    let f = parse(json!({"gap": null})).unwrap();
    assert!(eval(&f, None, &[], None, 0) && !eval(&f, None, &[], Some(0.0), 0));
    let f = parse(json!({"n": {"none": [1]}})).unwrap();
    assert!(eval(&f, None, &[], None, 2) && !eval(&f, None, &[], None, 1));
    // Numbers may be written as text, as in query parameters.
    let f = parse(json!({"gap": {"lt": "2.5"}})).unwrap();
    assert!(eval(&f, None, &[], Some(2.0), 0));
}

#[test]
fn json_errors_say_where_and_what() {
    check_error(json!({"nope": 1}), &["`nope`", "filterable paths", "provider"]);
    check_error(
        json!({"or": [{"gap": {"gte": "high"}}]}),
        &["at `or.0.gap.gte`", "finite number"],
    );
    check_error(json!({"elements": {"gt": "O"}}), &["string[]", "eq, any, all, none"]);
    check_error(json!({"n": {"all": [1]}}), &["`all`", "use `in`"]);
    check_error(json!({"n": {"near": 1}}), &["`near`", "known operators"]);
    check_error(json!({"and": {"n": 1}}), &["`and` takes a list"]);
    check_error(json!([1]), &["expected an object"]);
    check_error(json!({"n": {"in": []}}), &["at least one value"]);
    check_error(json!({"n": {"in": [null, 5]}}), &["may not hold null"]);
    check_error(json!({"tags": {"all": [null]}}), &["`tags`"]);
    check_error(json!({"elements": {"all": [null]}}), &["may not hold null"]);
    check_error(json!({"n": {"none": null}}), &["may not hold null"]);
    let many: Vec<i64> = (0..101).collect();
    check_error(json!({"n": {"in": many}}), &["101 values", "at most 100"]);
    let wide: Vec<serde_json::Value> = (0..33).map(|i| json!({"n": i})).collect();
    check_error(json!({"or": wide}), &["33 conditions", "at most 32"]);
    let mut deep = json!({"n": 1});
    for _ in 0..12 {
        deep = json!({"not": deep});
    }
    check_error(deep, &["deep", "8"]);
}

#[test]
fn canonical_text_ignores_order() {
    let a = parse(json!({"provider": "a", "n": {"in": [2, 1]}})).unwrap();
    let b = parse(json!({"n": {"in": [1, 2]}, "provider": "a"})).unwrap();
    assert_eq!(a.canonical(), b.canonical());
    let c = parse(json!({"provider": "a", "n": {"in": [1, 3]}})).unwrap();
    assert_ne!(a.canonical(), c.canonical());
    // Values of different types never share a text.
    let int = parse(json!({"n": 1})).unwrap();
    let text = parse(json!({"provider": "1"})).unwrap();
    assert_ne!(int.canonical().replace("c3", "c0"), text.canonical());
}

#[test]
fn text_parameters_build_the_same_filters() {
    let mut f = Filter::all();
    f.push_text(&schema(), "elements", "all", "O,Ti", "filter[elements][all]")
        .unwrap();
    f.push_text(&schema(), "gap", "gte", "2", "filter[gap][gte]").unwrap();
    let g = parse(json!({"elements": {"all": ["Ti", "O"]}, "gap": {"gte": 2.0}})).unwrap();
    assert_eq!(f.canonical(), g.canonical());
    assert!(f.is_seekable());
    assert!(!parse(json!({"or": [{"n": 1}]})).unwrap().is_seekable());
}

#[test]
fn operators_for_lists_exactly_the_accepted_operators() {
    let sample = |ty| match ty {
        FieldType::Integer => "1",
        FieldType::Float => "1.5",
        FieldType::Boolean => "true",
        FieldType::Timestamp => "2021-01-01T00:00:00Z",
        FieldType::String | FieldType::StringArray => "a",
    };
    for ty in FieldType::ALL {
        let schema = CollectionSchema {
            name: "c".into(),
            id_path: "id".into(),
            id_type: IdType::String,
            indexed: vec![IndexedPath::new("p", ty)],
        };
        for op in OPERATORS {
            let accepted = Filter::all().push_text(&schema, "p", op, sample(ty), "f").is_ok();
            assert_eq!(accepted, operators_for(ty).contains(&op), "{ty} {op}");
        }
    }
}
