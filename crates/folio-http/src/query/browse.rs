//! The browse page's request in the `query` style: what `curl` shows for the page, or why
//! the style cannot express it.

use folio_engine::{Limits, Position, transparent};
use serde_json::{Value as Json, json};

use crate::browse::api::{Call, Page};
use crate::links::segment;

/// `POST /query/{c}/query`: `page` or `page_after_value`, ordered by one path, forwards.
pub(crate) fn call(page: &Page<'_>, limits: &Limits) -> Result<Call, String> {
    let q = page.query();
    let fields = q.sort.fields();
    if fields.len() > 2 {
        return Err(format!(
            "query orders by one path; this page is sorted by {}",
            page.sort_spec()
        ));
    }
    page.size_within(limits, "query", "page_size")?;
    let first = &fields[0];
    let mut pagination = serde_json::Map::new();
    pagination.insert("page_size".into(), json!(page.size));
    pagination.insert("order_by".into(), json!(q.schema.path_of(first.column)));
    let order = if first.direction == folio_engine::Direction::Desc {
        "desc"
    } else {
        "asc"
    };
    pagination.insert("order".into(), json!(order));
    match (page.number_within(limits, "query")?, &page.position) {
        (Some(n), _) => {
            pagination.insert("page".into(), json!(n));
        }
        (None, Position::Start) => {}
        (None, Position::After(key)) => {
            pagination.insert(
                "page_after_value".into(),
                json!(transparent::encode(&q.schema, &q.sort, key)),
            );
        }
        (None, _) => {
            return Err(
                "query's page_after_value moves forwards only, and this page was reached backwards (previous or last)"
                    .to_owned(),
            );
        }
    }
    let mut body = serde_json::Map::new();
    if let Some(filter) = &page.filter {
        body.insert("query".into(), filter.clone());
    }
    body.insert("pagination".into(), Json::Object(pagination));
    if let Some(fields) = &q.fields {
        body.insert("required".into(), json!({"include": fields.paths()}));
    }
    Ok(Call {
        method: "POST",
        path: format!("/query/{}/query", segment(page.collection())),
        body: Some(Json::Object(body)),
    })
}
