//! The browse page's request in the `simple` style: what `curl` shows for the page, or why
//! the style cannot express it.

use folio_engine::{Filter, Position, Sort};

use crate::browse::api::{Call, Page};
use crate::links::{Target, segment};
use crate::state::{AppState, Readable};

/// `GET /simple/{c}`: `page` numbers, or `after`/`before` tokens signed for its query.
pub(crate) fn call(page: &Page<'_>, state: &AppState, collection: &Readable) -> Result<Call, String> {
    let limits = &state.config.simple;
    page.id_order_only("simple")?;
    page.size_within(limits, "simple", "per_page")?;
    let mut params = vec![("per_page".to_owned(), page.size.to_string())];
    let mut filter = Filter::all();
    if let Some(json) = &page.filter {
        params.push(("query".to_owned(), json.to_string()));
        // The filter as the simple style builds it, so that its tokens match.
        filter
            .push_json(&page.query().schema, json, "query")
            .map_err(|e| e.to_string())?;
    }
    let reading = collection.reading(filter, Sort::by_id(), None);
    let base = Target::new(format!("/simple/{}", segment(page.collection())), params);
    let token = |position: &Position| state.cursor(&reading, position);
    let path = match (page.number_within(limits, "simple")?, &page.position) {
        (Some(n), _) => base.with(&[("page", n.to_string())]).href(),
        (None, Position::Start) => base.href(),
        (None, p @ Position::After(_)) => base.with(&[("after", token(p))]).href(),
        (None, p @ (Position::Before(_) | Position::End)) => base.with(&[("before", token(p))]).href(),
        (None, Position::Offset(_)) => return Err("simple reaches offsets only by page number".to_owned()),
    };
    Ok(Call {
        method: "GET",
        path,
        body: None,
    })
}
