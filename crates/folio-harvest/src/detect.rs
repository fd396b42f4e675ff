//! Detecting how an API pages from its first response: where the records are, where the next
//! position comes from, and what totals it declares.
//!
//! The first body is read whole (once), and its members are looked up by name, to four
//! levels down, outside the records. Names are compared normalised ([`norm`]: lower case,
//! letters and digits only), so `next_page_url`, `nextPageUrl` and `NextPageURL` are one name.
//! In order, the next position is:
//! 1. for a POST body, folio's `pagination.next_page_after_value`;
//! 2. a URL in the body under a next-link name ([`NEXT_URLS`]), or an `href` under one;
//! 3. an RFC 8288 `Link` header;
//! 4. a token under a cursor name ([`token_params`]), sent back as a query parameter whose
//!    name is learnt from the convention, each candidate confirmed on the second page;
//! 5. a `has_more`-like flag with the last record's `id` (Stripe's `starting_after`);
//! 6. page numbers or offsets, in the parameter the first URL names or the response uses,
//!    when the URL names one or the response declares more than its page holds.
//!
//! Candidates that the harvester makes up (4 to 6) come with alternatives; the walk tries them
//! in order on the second page, keeping the first whose page follows the first without
//! overlap ([`crate::walk`]).

mod first_page;
mod names;

use serde_json::Value as Json;

use crate::error::HarvestError;
use crate::plan::{Next, Plan, Response, Source, as_count};
use crate::request::{Request, params_of};

use first_page::{Declared, FirstPage};
use names::{NEXT_URLS, PAGE_PARAMS, RECORDS, SIZE_PARAMS};

/// Whether a walk from `request` starts past the first page (a page number above 1 in its
/// URL), so that it cannot be held to a declared page count.
pub(crate) fn starts_past_the_first_page(request: &Request) -> bool {
    PAGE_PARAMS.iter().any(|p| {
        crate::request::number_in(request, p)
            .ok()
            .flatten()
            .is_some_and(|n| n > 1)
    })
}

/// Whether the API names its pages with links (a next-link name that is null, a `links`
/// object with `self`, `first` or `prev`, a `Link` header): then a page without a next link is
/// the last.
fn names_its_links(fields: &[Field<'_>], response: &Response) -> bool {
    response.header("link").is_some()
        || fields.iter().any(|f| {
            (NEXT_URLS.contains(&f.name.as_str()) && f.value.is_null())
                || (["links", "link", "paging", "hydraview", "view", "pagination"].contains(&f.parent.as_str())
                    && ["self", "first", "last", "prev", "previous"].contains(&f.name.as_str()))
        })
}

/// Whether the first page holds exactly as many records as the URL's size parameter asks for,
/// so that there may well be more.
fn fills_its_limit(request: &Request, page_len: usize) -> Result<bool, HarvestError> {
    for param in SIZE_PARAMS {
        if let Some(size) = crate::request::number_in(request, param)? {
            return Ok(page_len > 0 && size == page_len as u64);
        }
    }
    Ok(false)
}

/// A name compared as conventions spell it in any case: lower case, letters and digits only.
pub(crate) fn norm(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What was detected: the plan the walk starts with, and the other ways of paging to try, in
/// order, if the second page shows that the plan's own guess was wrong.
#[derive(Debug, Clone)]
pub(crate) struct Detected {
    pub(crate) plan: Plan,
    pub(crate) alternatives: Vec<Next>,
}

impl Detected {
    /// A plan with nothing to confirm: the server names the next position, or the user did.
    fn only(plan: Plan) -> Detected {
        Detected {
            plan,
            alternatives: Vec::new(),
        }
    }
}

/// A member of the first body, outside the records, with its dotted path.
struct Field<'a> {
    path: String,
    name: String,
    parent: String,
    value: &'a Json,
}

/// The members of `value` to four levels down (`meta.pagination.links.next`), breadth first, leaving out `skip` (the
/// records) and arrays.
fn fields<'a>(value: &'a Json, skip: Option<&str>) -> Vec<Field<'a>> {
    let mut found = Vec::new();
    let mut level: Vec<(String, String, &Json)> = vec![(String::new(), String::new(), value)];
    for _ in 0..4 {
        let mut deeper = Vec::new();
        for (prefix, parent, value) in level {
            let Json::Object(members) = value else { continue };
            for (key, member) in members {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                if Some(path.as_str()) == skip {
                    continue;
                }
                found.push(Field {
                    path: path.clone(),
                    name: norm(key),
                    parent: parent.clone(),
                    value: member,
                });
                if member.is_object() {
                    deeper.push((path, norm(key), member));
                }
            }
        }
        level = deeper;
    }
    found
}

/// Why no records were found in a first page's body: what the body is, and where records
/// were looked for.
fn no_records(body: &Json) -> String {
    let kind = match body {
        Json::Object(_) => "an object",
        Json::Array(_) => "an array",
        Json::Null => "not JSON (or `null`)",
        Json::String(_) => "a string",
        Json::Number(_) => "a number",
        Json::Bool(_) => "a boolean",
    };
    format!(
        "no array of records found: the body is {kind}, not an array, and has no array named {} or after the resource (at the top or one level down), nor a single array member; give their place with --records-path",
        RECORDS.map(|n| format!("`{n}`")).join(", ")
    )
}

/// Whether a string is a URL or a reference relative to one, rather than an opaque token.
fn url_like(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || text.starts_with('/')
        || text.starts_with('?')
        || text.starts_with("./")
        || text.starts_with("../")
        // `items?page=2`: a relative reference with a query; tokens have no `?`.
        || (text.contains('?') && text.contains('=') && !text.contains(char::is_whitespace))
}

/// Detects the plan of a walk from its first request and response. `next` and
/// `records_path`, when given, are used as they are; the rest is detected.
pub(crate) fn detect(
    request: &Request,
    response: &Response,
    next: Option<&Next>,
    records_path: Option<&str>,
) -> Result<Detected, HarvestError> {
    let body: Json = response
        .body
        .whole()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Json::Null);
    let (records, columns) = match records_path {
        Some(path) => (Some(path.to_owned()), None),
        None => find_records(request, &body).ok_or_else(|| unrecognised(request, no_records(&body)))?,
    };
    let list = records.as_deref().map_or(Some(&body), |path| pointer(&body, path));
    let page = FirstPage {
        request,
        response,
        body: &body,
        list,
        len: list.and_then(Json::as_array).map_or(0, Vec::len),
        fields: fields(&body, records.as_deref()),
    };
    let mut plan = page.declarations(records, columns);
    let declared = Declared::of(&plan, response);

    if let Some(forced) = next {
        plan.next = forced.clone();
        return Ok(Detected::only(plan));
    }
    // 1. folio's `query` style: a POST body cursor.
    if request.body.is_some() && body.get("pagination").is_some_and(Json::is_object) {
        plan.next = Next::BodyCursor;
        return Ok(Detected::only(plan));
    }
    // 2. A next URL in the body, or 3. a `Link` header.
    if let Some(named) = page.next_link() {
        plan.next = named;
        page.drop_page_total(&mut plan, declared);
        return Ok(Detected::only(plan));
    }
    let url_params = params_of(request)?;
    // 4. A cursor token.
    if let Some((first, alternatives)) = page.token(&url_params) {
        plan.next = first;
        page.drop_page_total(&mut plan, declared);
        return Ok(Detected { plan, alternatives });
    }
    // 5. `has_more` and the last record's id.
    if let Some((first, alternatives)) = page.after_last(&plan, &url_params)? {
        plan.next = first;
        return Ok(Detected { plan, alternatives });
    }
    // 6. Page numbers or offsets.
    let (first, alternatives) = page.numbered(&plan, declared, &url_params)?;
    if first == Next::Nothing && declared.more_than(page.len) {
        return Err(page.no_way_to_more(declared));
    }
    plan.next = first;
    Ok(Detected { plan, alternatives })
}

/// An error of detection on the first page, at `request`.
fn unrecognised(request: &Request, message: String) -> HarvestError {
    HarvestError::Unrecognised {
        url: request.url.clone(),
        message,
    }
}

/// The query parameters a token may go back as, best first; none if the field is not a
/// cursor token.
fn token_params(field: &Field<'_>) -> Vec<String> {
    let key = field.path.rsplit('.').next().unwrap_or(&field.path);
    let numeric = field.value.is_number();
    let known: &[&str] = match (field.name.as_str(), field.parent.as_str()) {
        ("nextcursor", _) => &["cursor", "start_cursor"],
        ("nextpage", _) => &["cursor", "page"],
        ("continue", _) => &["continue"],
        ("nexttoken", _) => &["pagination_token", "next_token", "token"],
        ("after", _) => &["after"],
        ("cursor", _) => &["cursor"],
        ("endcursor", _) => &["after"],
        ("next", _) => &["cursor", "_next", "next", "page"],
        ("nextmarker" | "marker", _) => &["marker"],
        ("nextcontinuationtoken", _) => &["continuation-token", "continuationToken"],
        ("offset", _) if !numeric => &["offset"],
        ("scrollid", _) => return Vec::new(),
        (name, _) if name.starts_with("next") && name.len() > 4 => &[],
        _ => return Vec::new(),
    };
    let mut params: Vec<String> = known.iter().map(|p| (*p).to_owned()).collect();
    // `next_page_token` -> `page_token`, `nextPageToken` -> `pageToken`.
    let derived = key
        .strip_prefix("next_")
        .or_else(|| key.strip_prefix("next-"))
        .or_else(|| key.strip_prefix("Next"))
        .or_else(|| key.strip_prefix("next"))
        .filter(|rest| !rest.is_empty())
        .map(|rest| {
            let mut chars = rest.chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        });
    params.extend(derived);
    if numeric {
        params.push("page".into());
    }
    params.push(key.to_owned());
    params.push("cursor".into());
    let mut unique = Vec::new();
    for param in params {
        if !unique.contains(&param) {
            unique.push(param);
        }
    }
    unique.truncate(5);
    unique
}

/// A key of the `X-Pagination` header's JSON, as a [`Source`].
fn header_key(header: Option<&Json>, keys: &[&str]) -> Option<Source> {
    let header = header?;
    keys.iter()
        .find(|key| header.get(**key).and_then(as_count).is_some())
        .map(|key| Source::Header {
            name: "x-pagination".into(),
            key: Some((*key).to_owned()),
        })
}

/// The value at a dotted path of a parsed body, a name with dots in it matched whole first.
fn pointer<'a>(value: &'a Json, path: &str) -> Option<&'a Json> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut current = value;
    let mut i = 0;
    while i < segments.len() {
        let (taken, next) = crate::body::longest(&segments[i..], |name| current.get(name))?;
        current = next;
        i += taken;
    }
    Some(current)
}

/// Where the records are: `None` for a body that is the array, else a path; with the path of
/// the column names when records are arrays of values.
#[allow(clippy::type_complexity)]
fn find_records(request: &Request, body: &Json) -> Option<(Option<String>, Option<String>)> {
    if body.is_array() {
        return Some((None, None));
    }
    let object = body.as_object()?;
    let resource = resource_name(&request.url);
    let arrays: Vec<(&String, &Vec<Json>)> = object
        .iter()
        .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
        .collect();
    // A name of the convention, the resource's own name, or the only array.
    let by_name = RECORDS
        .iter()
        .find_map(|name| arrays.iter().find(|(k, _)| norm(k) == *name))
        .or_else(|| {
            resource
                .as_ref()
                .and_then(|r| arrays.iter().find(|(k, _)| norm(k) == norm(r)))
        })
        .map(|(k, _)| (*k).clone());
    let path = by_name
        .or_else(|| {
            // `hits.hits`, `_embedded.items`, `data.items`, `response.docs`: an array one
            // level down, under a name of the convention or the only one there.
            object.iter().find_map(|(k, v)| {
                let inner = v.as_object()?;
                let inner_arrays: Vec<&String> = inner.iter().filter(|(_, v)| v.is_array()).map(|(k, _)| k).collect();
                let named = inner_arrays.iter().find(|k| {
                    RECORDS.contains(&norm(k).as_str()) || resource.as_ref().is_some_and(|r| norm(k) == norm(r))
                });
                let chosen = named.or(match (norm(k).as_str(), inner_arrays.as_slice()) {
                    ("embedded" | "data" | "result" | "response" | "hits" | "payload", [only]) => Some(only),
                    _ => None,
                })?;
                Some(format!("{k}.{chosen}"))
            })
        })
        .or_else(|| match arrays.as_slice() {
            [(only, _)] => Some((*only).clone()),
            _ => None,
        })?;
    let records = pointer(body, &path)?.as_array()?;
    // Rows of values, named by a `columns` array beside them.
    let columns = records.first().filter(|r| r.is_array()).and_then(|_| {
        let prefix = path.rsplit_once('.').map(|(p, _)| format!("{p}."));
        let columns = format!("{}columns", prefix.unwrap_or_default());
        pointer(body, &columns)
            .and_then(Json::as_array)
            .filter(|c| c.iter().all(Json::is_string))
            .map(|_| columns)
    });
    Some((Some(path), columns))
}

/// The last segment of a URL's path, without an extension: `entries` of `/simple/entries`,
/// `records` of `/db/records.json`.
fn resource_name(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let segment = parsed.path_segments()?.rev().find(|s| !s.is_empty())?;
    Some(segment.split('.').next().unwrap_or(segment).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Body;

    fn response(body: Json, headers: &[(&str, &str)]) -> Response {
        Response {
            body: Body::parse(body.to_string()).unwrap(),
            link_next: headers
                .iter()
                .find(|(n, _)| *n == "link")
                .and_then(|(_, v)| crate::request::link_next(v)),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn plan_of(url: &str, body: Json, headers: &[(&str, &str)]) -> Detected {
        detect(&Request::get(url), &response(body, headers), None, None).unwrap()
    }

    #[test]
    fn a_body_without_records_says_what_it_is_and_where_they_were_looked_for() {
        let index = serde_json::json!({"name": "folio", "styles": {"jsonapi": "/jsonapi"}});
        let e = detect(&Request::get("http://h/"), &response(index, &[]), None, None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("http://h/: no array of records found: the body is an object, not an array"),
            "{e}"
        );
        assert!(
            e.contains("`data`, `results`") && e.ends_with("give their place with --records-path"),
            "{e}"
        );
        let scalar = detect(
            &Request::get("http://h/n"),
            &response(serde_json::json!(3), &[]),
            None,
            None,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(scalar.contains("the body is a number, not an array"), "{scalar}");
    }

    #[test]
    fn next_links_in_the_body_at_any_usual_place() {
        let cases = [
            (
                serde_json::json!({"count": 9, "next": "http://h/a?page=2", "results": [1]}),
                "next",
                "results",
            ),
            (
                serde_json::json!({"value": [1], "@odata.nextLink": "/a?$skip=1"}),
                "@odata.nextLink",
                "value",
            ),
            (
                serde_json::json!({"data": [1], "links": {"next": "/a?c=2"}}),
                "links.next",
                "data",
            ),
            (
                serde_json::json!({"_embedded": {"items": [1]}, "_links": {"next": {"href": "/a?p=2"}}}),
                "_links.next.href",
                "_embedded.items",
            ),
            (
                serde_json::json!({"data": [1], "paging": {"next": "https://h/a?after=x"}}),
                "paging.next",
                "data",
            ),
            (
                serde_json::json!({"records": [1], "nextRecordsUrl": "/services/q/01g-2000"}),
                "nextRecordsUrl",
                "records",
            ),
            (
                serde_json::json!({"data": [1], "next_page_url": "http://h/a?page=2", "last_page": 3}),
                "next_page_url",
                "data",
            ),
        ];
        for (body, next, records) in cases {
            let detected = plan_of("http://h/a", body.clone(), &[]);
            assert_eq!(detected.plan.next, Next::Url { path: next.into() }, "{body}");
            assert_eq!(detected.plan.records.as_deref(), Some(records), "{body}");
        }
    }

    #[test]
    fn tokens_learn_their_parameter() {
        let cases = [
            (
                serde_json::json!({"items": [1], "next_page": "Ij4xIg=="}),
                "next_page",
                "cursor",
            ),
            (
                serde_json::json!({"items": [1], "nextPageToken": "t"}),
                "nextPageToken",
                "pageToken",
            ),
            (
                serde_json::json!({"items": [1], "metadata": {"continue": "t"}}),
                "metadata.continue",
                "continue",
            ),
            (
                serde_json::json!({"members": [1], "response_metadata": {"next_cursor": "t"}}),
                "response_metadata.next_cursor",
                "cursor",
            ),
            (
                serde_json::json!({"data": [1], "meta": {"next_token": "t"}}),
                "meta.next_token",
                "pagination_token",
            ),
            (
                serde_json::json!({"data": [1], "paging": {"cursors": {"after": "t", "before": "u"}}}),
                "paging.cursors.after",
                "after",
            ),
        ];
        for (body, path, param) in cases {
            let detected = plan_of("http://h/members", body.clone(), &[]);
            assert_eq!(
                detected.plan.next,
                Next::Token {
                    path: path.into(),
                    param: param.into()
                },
                "{body}"
            );
            assert!(!detected.alternatives.is_empty(), "{body}: other parameters to try");
        }
    }

    #[test]
    fn page_numbers_and_offsets_from_what_the_response_declares() {
        let page = plan_of(
            "http://h/page",
            serde_json::json!({"items": [1], "total": 5, "page": 1, "size": 1, "pages": 5}),
            &[],
        );
        assert_eq!(
            page.plan.next,
            Next::Pages {
                param: "page".into(),
                first: 1
            }
        );
        assert_eq!(page.plan.total, Some(Source::Body { path: "total".into() }));
        let offset = plan_of(
            "http://h/lo",
            serde_json::json!({"items": [1], "total": 5, "limit": 1, "offset": 0}),
            &[],
        );
        assert_eq!(offset.plan.next, Next::Offsets { param: "offset".into() });
        let header = plan_of("http://h/x", serde_json::json!([1, 2]), &[("x-total-count", "9")]);
        assert_eq!(
            header.plan.next,
            Next::Pages {
                param: "page".into(),
                first: 0
            }
        );
        assert_eq!(
            header.alternatives[0],
            Next::Pages {
                param: "page".into(),
                first: 1
            }
        );
        assert_eq!(header.alternatives[1], Next::Offsets { param: "offset".into() });
        let url = plan_of("http://h/x?p=3", serde_json::json!([1, 2]), &[]);
        assert_eq!(
            url.plan.next,
            Next::Pages {
                param: "p".into(),
                first: 3
            }
        );
        let one = plan_of("http://h/x", serde_json::json!({"results": [1, 2], "count": 2}), &[]);
        assert_eq!(one.plan.next, Next::Nothing);
    }

    #[test]
    fn has_more_and_totals_that_are_not_exact() {
        let stripe = plan_of(
            "http://h/v1/customers",
            serde_json::json!({"object": "list", "data": [{"id": "cus_1"}], "has_more": true}),
            &[],
        );
        assert!(matches!(stripe.plan.next, Next::AfterLast { ref param, .. } if param == "starting_after"));
        let es = plan_of(
            "http://h/_search",
            serde_json::json!({"hits": {"total": {"value": 10000, "relation": "gte"}, "hits": [1]}}),
            &[],
        );
        assert_eq!(es.plan.records.as_deref(), Some("hits.hits"));
        assert_eq!(
            es.plan.total,
            Some(Source::Body {
                path: "hits.total".into()
            })
        );
        let folio = plan_of(
            "http://h/jsonapi/x",
            serde_json::json!({"data": [1], "meta": {"total": 10000, "totalExact": false}, "links": {"next": "/n"}}),
            &[],
        );
        assert_eq!(folio.plan.total_exact.as_deref(), Some("meta.totalExact"));
    }

    #[test]
    fn a_page_that_fills_its_limit_is_probed_unless_links_name_the_pages() {
        let full = plan_of("http://h/x?limit=2", serde_json::json!({"items": [1, 2]}), &[]);
        assert_eq!(full.plan.next, Next::Offsets { param: "offset".into() });
        assert!(full.alternatives.contains(&Next::Pages {
            param: "page".into(),
            first: 1
        }));
        let sized = plan_of("http://h/x?per_page=2", serde_json::json!([1, 2]), &[]);
        assert_eq!(
            sized.plan.next,
            Next::Pages {
                param: "page".into(),
                first: 0
            }
        );
        let short = plan_of("http://h/x?limit=3", serde_json::json!({"items": [1, 2]}), &[]);
        assert_eq!(short.plan.next, Next::Nothing);
        let last = plan_of(
            "http://h/x?page[size]=2",
            serde_json::json!({"data": [1, 2], "links": {"self": "/x", "first": "/x"}}),
            &[],
        );
        assert_eq!(last.plan.next, Next::Nothing);
        let drf = plan_of(
            "http://h/x?page_size=2",
            serde_json::json!({"results": [1, 2], "next": null}),
            &[],
        );
        assert_eq!(drf.plan.next, Next::Nothing);
    }

    #[test]
    fn api_platform_hydra_collections() {
        let hydra = plan_of(
            "http://h/books?page=1",
            serde_json::json!({"@id": "/books", "hydra:totalItems": 40, "hydra:member": [{"@id": "/books/1"}], "hydra:view": {"@id": "/books?page=1", "hydra:next": "/books?page=2"}}),
            &[],
        );
        assert_eq!(hydra.plan.records.as_deref(), Some("hydra:member"));
        assert_eq!(
            hydra.plan.next,
            Next::Url {
                path: "hydra:view.hydra:next".into()
            }
        );
        assert_eq!(
            hydra.plan.total,
            Some(Source::Body {
                path: "hydra:totalItems".into()
            })
        );
    }

    #[test]
    fn rows_named_by_columns() {
        let detected = plan_of(
            "http://h/db/t.json",
            serde_json::json!({"columns": ["id", "name"], "rows": [[1, "a"]], "next": null, "next_url": null}),
            &[],
        );
        assert_eq!(detected.plan.records.as_deref(), Some("rows"));
        assert_eq!(detected.plan.columns.as_deref(), Some("columns"));
    }

    #[test]
    fn more_declared_without_a_way_to_ask_is_an_error() {
        let err = detect(
            &Request::get("http://h/x"),
            &response(serde_json::json!({"items": [{"n": 1}], "has_more": true}), &[]),
            None,
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("--cursor-path"), "{err}");
    }
}
