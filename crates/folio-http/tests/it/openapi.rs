//! The OpenAPI document: served as JSON, a path for every style's list and record endpoints,
//! and real responses (pages and errors of every style) valid against it.

use serde_json::{Value as Json, json};

use crate::server::server;

async fn document() -> Json {
    let response = reqwest::get(format!("{}/openapi.json", server().base)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_style_has_its_list_and_record_paths() {
    let doc = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for style in ["jsonapi", "hal", "query", "simple"] {
        for path in [format!("/{style}/entries"), format!("/{style}/entries/{{id}}")] {
            assert!(paths[&path]["get"].is_object(), "GET {path} is not documented");
        }
    }
    assert!(paths["/query/entries/query"]["post"]["requestBody"].is_object());
    assert!(paths["/simple/entries/searches"]["post"]["requestBody"].is_object());
    for path in ["/", "/jsonapi", "/browse/entries", "/problems/{code}", "/openapi.json"] {
        assert!(paths[path]["get"].is_object(), "GET {path} is not documented");
    }
    for (path, media) in [
        ("/export/entries.ndjson", "application/x-ndjson"),
        ("/export/entries.csv", "text/csv; charset=utf-8; header=present"),
    ] {
        let op = &paths[path]["get"];
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path} is not documented"))
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in ["sort", "filter", "fields[entries]", "cursor", "after"] {
            assert!(names.contains(&name), "GET {path} does not describe {name}");
        }
        assert!(!names.iter().any(|n| n.starts_with("page")), "{names:?}");
        assert!(
            op["responses"]["200"]["content"][media].is_object(),
            "{}",
            op["responses"]["200"]
        );
        assert!(op["responses"]["200"]["headers"]["folio-cursor"].is_object());
    }
    // Parameters come from the collection and the server's limits, not from a fixed text.
    let list = &paths["/jsonapi/entries"]["get"];
    let param = |name: &str| {
        list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    assert_eq!(param("page[size]")["schema"]["maximum"], 1000);
    assert!(
        param("page[number]")["description"]
            .as_str()
            .unwrap()
            .contains("first 600 records")
    );
    assert_eq!(
        param("filter[results.material.n_elements][gte]")["schema"]["type"],
        "integer"
    );
    assert_eq!(param("filter[results.material.elements][all]")["style"], "form");
    let order_by = &paths["/query/entries"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "order_by")
        .unwrap()["schema"]["enum"];
    assert!(
        order_by.as_array().unwrap().contains(&json!("upload_create_time")),
        "{order_by}"
    );
    // Every schema in the document is a valid JSON Schema.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(jsonschema::meta::is_valid(schema), "component {name}");
    }
}

/// One request and the documented operation it exercises.
struct Case {
    method: &'static str,
    doc_path: &'static str,
    url: &'static str,
    body: Option<Json>,
    status: u16,
}

const fn get(doc_path: &'static str, url: &'static str, status: u16) -> Case {
    Case {
        method: "get",
        doc_path,
        url,
        body: None,
        status,
    }
}

#[tokio::test]
async fn real_responses_validate_against_the_document() {
    let doc = document().await;
    let post = |doc_path, url, body, status| Case {
        method: "post",
        doc_path,
        url,
        body: Some(body),
        status,
    };
    let cases = [
        get("/", "/", 200),
        get("/jsonapi", "/jsonapi", 200),
        get(
            "/jsonapi/entries",
            "/jsonapi/entries?page[size]=3&sort=-upload_create_time",
            200,
        ),
        get(
            "/jsonapi/entries",
            "/jsonapi/entries?page[cursor]=1&page[size]=2&page[total]=none",
            200,
        ),
        get(
            "/jsonapi/entries",
            "/jsonapi/entries?filter[provider][none]=aflow&page[size]=1",
            200,
        ),
        get("/jsonapi/entries", "/jsonapi/entries?page[size]=5000", 422),
        get("/jsonapi/entries", "/jsonapi/entries?page[cursor]=forged", 400),
        get("/jsonapi/entries/{id}", "/jsonapi/entries/nope", 404),
        get("/hal/entries", "/hal/entries?limit=2&with_count=true", 200),
        get("/hal/entries", "/hal/entries?pagination_type=search_after&limit=2", 200),
        get("/hal/entries", "/hal/entries?limit=0", 400),
        get("/hal/entries", "/hal/entries?limit=101", 422),
        get("/hal/entries/{id}", "/hal/entries/nope", 404),
        get(
            "/query/entries",
            "/query/entries?page_size=2&order_by=provider&order=desc",
            200,
        ),
        get("/query/entries", "/query/entries?page_size=x", 422),
        get("/query/entries/{id}", "/query/entries/nope", 404),
        post(
            "/query/entries/query",
            "/query/entries/query",
            json!({"query": {"provider": "aflow"}, "pagination": {"page_size": 2}, "required": {"include": ["entry_id"]}}),
            200,
        ),
        post(
            "/query/entries/query",
            "/query/entries/query",
            json!({"pagination": {"pge": 1}}),
            422,
        ),
        get("/simple/entries", "/simple/entries?page=2&per_page=3", 200),
        get("/simple/entries", "/simple/entries?page=0", 400),
        get("/simple/entries", "/simple/entries?per_page=1001", 422),
        get("/simple/entries/{id}", "/simple/entries/nope", 404),
        post(
            "/simple/entries/searches",
            "/simple/entries/searches",
            json!({"query": {"provider": "aflow"}, "pagination": {"per_page": 2}}),
            200,
        ),
        get("/problems/{code}", "/problems/invalid-cursor", 200),
        get("/problems/{code}", "/problems/nothing-like-it", 404),
        get("/openapi.json", "/openapi.json", 200),
    ];
    // A record of each style, by an id the first page gives.
    let first = reqwest::get(format!("{}/jsonapi/entries?page[size]=1", server().base))
        .await
        .unwrap()
        .json::<Json>()
        .await
        .unwrap();
    let id = first["data"][0]["id"].as_str().unwrap().to_owned();
    let mut checked = 0;
    for case in &cases {
        check(&doc, case).await;
        checked += 1;
    }
    for style in ["jsonapi", "hal", "query", "simple"] {
        let url = format!("/{style}/entries/{id}");
        let doc_path = format!("/{style}/entries/{{id}}");
        check_one(&doc, "get", &doc_path, &url, None, 200).await;
        checked += 1;
    }
    assert_eq!(checked, cases.len() + 4);
}

async fn check(doc: &Json, case: &Case) {
    check_one(
        doc,
        case.method,
        case.doc_path,
        case.url,
        case.body.as_ref(),
        case.status,
    )
    .await;
}

/// Sends the request and checks the status, the media type and the body against the
/// operation's documented response.
async fn check_one(doc: &Json, method: &str, doc_path: &str, url: &str, body: Option<&Json>, status: u16) {
    let client = reqwest::Client::new();
    let full = format!("{}{url}", server().base);
    let request = match body {
        Some(body) => client.post(&full).json(body),
        None => client.get(&full),
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), status, "{method} {url}");
    let media = response.headers()["content-type"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    let documented = &doc["paths"][doc_path][method]["responses"][status.to_string()];
    assert!(
        documented.is_object(),
        "{method} {doc_path}: status {status} is not documented"
    );
    let content = &documented["content"][&media];
    assert!(
        content.is_object(),
        "{method} {url}: {media} is not documented for {status}: {}",
        documented["content"]
    );
    let body: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e})"));
    let mut schema = content["schema"].clone();
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{method} {url}: {errors:#?}\n{body}");
}
