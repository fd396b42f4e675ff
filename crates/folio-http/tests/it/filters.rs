//! The query language through the `jsonapi` style: JSON filters, operators, totals.

use folio_store::demo;
use serde_json::{Value as Json, json};

use crate::jsonapi::{assert_error, follow, link};
use crate::server::{COUNT_CAP, DEMO_SIZE, get};

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn expected(keep: impl Fn(&Json) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = demo::entries(DEMO_SIZE)
        .filter(|e| keep(e))
        .map(|e| e["entry_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn elements(e: &Json) -> Vec<&str> {
    e["results"]["material"]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_json_filter_with_or_and_not_selects_what_a_reference_selects() {
    let filter = json!({
        "or": [{"provider": "aflow"}, {"provider": {"in": ["nomad-lab", "nims"]}}],
        "not": {"results.material.elements": {"any": ["O", "H"]}},
        "results.properties.electronic.band_gap": {"lt": 6},
    });
    let want = expected(|e| {
        let p = e["provider"].as_str().unwrap();
        let gap = e["results"]["properties"]["electronic"]["band_gap"].as_f64();
        ["aflow", "nomad-lab", "nims"].contains(&p)
            && !elements(e).iter().any(|x| *x == "O" || *x == "H")
            && gap.is_some_and(|g| g < 6.0)
    });
    assert!(
        want.len() > 20,
        "the filter selects enough to page through: {}",
        want.len()
    );
    let url = format!(
        "/jsonapi/entries?page[cursor]=1&page[size]=7&filter={}",
        encode(&filter.to_string())
    );
    assert_eq!(follow(&url, "next").await.concat(), want);

    // An `or` may need a scan to count, so its total is capped unless asked to be exact.
    let first = get(&url).await;
    let meta = &first.body["meta"];
    if want.len() as u64 > COUNT_CAP {
        assert_eq!(meta["total"], COUNT_CAP);
        assert_eq!(meta["totalExact"], false);
    } else {
        assert_eq!(meta["total"], want.len());
        assert_eq!(meta["totalExact"], true);
    }
    let exact = get(&format!("{url}&page[total]=exact")).await;
    assert_eq!(exact.body["meta"]["total"], want.len());
    assert_eq!(exact.body["meta"]["totalExact"], true);
}

#[tokio::test]
async fn bracket_operators_cover_the_language() {
    type Keep = Box<dyn Fn(&Json) -> bool>;
    let cases: Vec<(&str, Keep)> = vec![
        (
            "filter[results.material.elements][none]=O",
            Box::new(|e: &Json| !elements(e).contains(&"O")),
        ),
        (
            "filter[results.material.elements][any]=Ti,Zr&filter[results.material.n_elements][in]=2,3",
            Box::new(|e: &Json| {
                let n = e["results"]["material"]["n_elements"].as_u64().unwrap();
                elements(e).iter().any(|x| *x == "Ti" || *x == "Zr") && (n == 2 || n == 3)
            }),
        ),
        (
            "filter[provider][none]=aflow,nims",
            Box::new(|e: &Json| !["aflow", "nims"].contains(&e["provider"].as_str().unwrap())),
        ),
    ];
    for (filter, keep) in cases {
        let want = expected(keep);
        let got = follow(
            &format!("/jsonapi/entries?page[cursor]=1&page[size]=250&{filter}"),
            "next",
        )
        .await
        .concat();
        assert_eq!(got, want, "{filter}");
    }
}

#[tokio::test]
async fn totals_can_be_capped_or_skipped() {
    let capped = get("/jsonapi/entries?page[total]=capped&page[number]=2").await;
    assert_eq!(capped.body["meta"]["total"], COUNT_CAP);
    assert_eq!(capped.body["meta"]["totalExact"], false);
    assert!(
        capped.body["meta"].get("totalPages").is_none(),
        "no page count from an inexact total"
    );
    // Without a page count, `last` is the end cursor, which still resolves.
    let last = link(&capped.body, "last").unwrap();
    assert!(last.contains("page%5Bcursor%5D="), "{last}");
    assert_eq!(get(&last).await.status, 200);

    let none = get("/jsonapi/entries?page[total]=none").await;
    assert!(none.body["meta"].get("total").is_none());
    assert_eq!(none.body["data"].as_array().unwrap().len(), 25);
}

#[tokio::test]
async fn filter_errors_name_the_parameter_and_the_place() {
    let r = get("/jsonapi/entries?filter=notjson").await;
    assert_error(&r, 400, "invalid-parameter", Some("filter"), &["is not JSON"]);
    let r = get(&format!(
        "/jsonapi/entries?filter={}",
        encode(r#"{"or": [{"nope": 1}]}"#)
    ))
    .await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("filter"),
        &["`or.0.nope`", "filterable paths", "provider"],
    );
    let r = get(&format!(
        "/jsonapi/entries?filter={}",
        encode(r#"{"provider": {"near": "x"}}"#)
    ))
    .await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("filter"),
        &["`near`", "known operators"],
    );
    let r = get("/jsonapi/entries?filter[provider][near]=x").await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("filter[provider][near]"),
        &["known operators"],
    );
    let r = get("/jsonapi/entries?filter[results.material.n_elements][all]=1").await;
    assert_error(&r, 400, "invalid-parameter", None, &["string[] paths"]);
    let r = get("/jsonapi/entries?page[total]=maybe").await;
    assert_error(
        &r,
        400,
        "invalid-parameter",
        Some("page[total]"),
        &["exact, capped or none"],
    );
    let deep = (0..12).fold(json!({"provider": "x"}), |f, _| json!({"not": f}));
    let r = get(&format!("/jsonapi/entries?filter={}", encode(&deep.to_string()))).await;
    assert_error(&r, 400, "invalid-parameter", Some("filter"), &["deep"]);
}
