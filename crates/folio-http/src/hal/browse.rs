//! The browse page's request in the `hal` style: what `curl` shows for the page, or why
//! the style cannot express it.

use folio_engine::{Limits, Position, transparent};

use crate::browse::api::{Call, Page};
use crate::links::{Target, segment};

/// `GET /hal/{c}`: `page` numbers or `search_after` ids, forwards only.
pub(crate) fn call(page: &Page<'_>, limits: &Limits) -> Result<Call, String> {
    page.id_order_only("hal")?;
    page.size_within(limits, "hal", "limit")?;
    let mut params = vec![("limit".to_owned(), page.size.to_string())];
    if let Some(filter) = &page.filter {
        params.push(("search".to_owned(), filter.to_string()));
    }
    let base = Target::new(format!("/hal/{}", segment(page.collection())), params);
    let after = |extra: Vec<(&str, String)>| {
        let mut all = vec![("pagination_type", "search_after".to_owned())];
        all.extend(extra);
        base.with(&all).href()
    };
    let path = match (page.number_within(limits, "hal")?, &page.position) {
        (Some(n), _) => base.with(&[("page", n.to_string())]).href(),
        (None, Position::Start) => after(Vec::new()),
        (None, Position::After(key)) => after(vec![(
            "search_after",
            transparent::encode(&page.query().schema, &page.query().sort, key),
        )]),
        (None, _) => {
            return Err(
                "hal's search_after moves forwards only, and this page was reached backwards (previous or last)"
                    .to_owned(),
            );
        }
    };
    Ok(Call {
        method: "GET",
        path,
        body: None,
    })
}
