//! Reading one response by a [`Plan`]: its records, its next position, what it declares,
//! and the link a page-number walk can go on with past a depth limit.

use serde_json::Value as Json;

use crate::body::Body;
use crate::error::HarvestError;
use crate::request::{Request, join, number_in, with_param};

use super::{Next, Page, Plan, Response, Source, Total, as_count, exactness, says_exact, says_more, value_at};

/// Reads one response. `full_page` is the size of the walk's first page, which page-number
/// and offset walks without a declared total use to notice a short last page.
pub(crate) fn read<'a>(
    plan: &Plan,
    request: &Request,
    response: &'a Response,
    full_page: Option<usize>,
) -> Result<Page<'a>, HarvestError> {
    let body = &response.body;
    let records = records_in(plan, request, body)?;
    let total = plan
        .total
        .as_ref()
        .and_then(|source| read_total(plan, response, source));
    let pages = plan
        .pages
        .as_ref()
        .and_then(|source| response.number(source))
        .and_then(|n| as_count(&n));
    let flag = plan.more.as_ref().and_then(|path| value_at(body, path));
    let more_flag = flag.as_ref().and_then(says_more);
    // What the API says of more records: a flag, or a position the plan did not follow.
    let mut more = match (&plan.more, more_flag, &flag) {
        (Some(path), Some(true), Some(flag)) => Some(format!("`{path}` is {flag}")),
        _ => None,
    };
    let at = Position {
        request,
        response,
        records: &records,
        total,
        pages,
        more_flag,
        full_page,
    };
    let Onward { next, unfollowed } = at.onward(&plan.next)?;
    if unfollowed.is_some() {
        more = unfollowed;
    }
    // A page past the declared count says so; a walk ending before it ended early.
    if let (Next::Pages { param, first }, Some(n)) = (&plan.next, pages) {
        let current = number_in(request, param)?.unwrap_or(*first);
        if next.is_none() && current + 1 < first + n {
            more.get_or_insert(format!("the API declared {n} pages and this was page {current}"));
        }
    }
    let link = link_in(request, response)?;
    Ok(Page {
        records,
        next,
        total,
        pages,
        more,
        link,
    })
}

/// The records of a body, where the plan says they are.
fn records_in<'a>(plan: &Plan, request: &Request, body: &'a Body) -> Result<Vec<&'a str>, HarvestError> {
    match &plan.records {
        Some(path) => body.at(path).and_then(|array| body.elements(array)),
        None => body.whole().and_then(|array| body.elements(array)),
    }
    .ok_or_else(|| HarvestError::Unrecognised {
        url: request.url.clone(),
        message: records_missing(plan.records.as_deref()),
    })
}

/// Why a page has no records where the first page had them (`path`, or the body itself).
fn records_missing(path: Option<&str>) -> String {
    match path {
        None => {
            "the body is not an array of records, as the first page's body was; give their place with --records-path"
                .to_owned()
        }
        Some(path) => format!(
            "no array of records at `{path}`, where the first page had them; give their place with --records-path"
        ),
    }
}

/// The next page as a link names it (`Link` header, `links.next`, `_links.next.href`),
/// whatever the plan, with the way of paging that follows such links.
fn link_in(request: &Request, response: &Response) -> Result<Option<(Request, Next)>, HarvestError> {
    match response.link_next.as_deref() {
        Some(href) => Ok(Some((join(&request.url, href)?, Next::LinkHeader))),
        None => ["links.next", "_links.next.href"]
            .into_iter()
            .find_map(|path| {
                let href = value_at(&response.body, path)?;
                let href = href.as_str()?;
                Some(join(&request.url, href).map(|r| (r, Next::Url { path: path.to_owned() })))
            })
            .transpose(),
    }
}

/// A page as its next position is worked out from: the request, its response, the records,
/// and what the page declares.
struct Position<'p> {
    request: &'p Request,
    response: &'p Response,
    records: &'p [&'p str],
    total: Option<Total>,
    /// The number of pages declared.
    pages: Option<u64>,
    /// What the plan's flag of more records says, if the page has one.
    more_flag: Option<bool>,
    /// The size of the walk's first page.
    full_page: Option<usize>,
}

/// The next position a page names, if any, or why the one it names cannot be followed.
#[derive(Default)]
struct Onward {
    next: Option<Request>,
    unfollowed: Option<String>,
}

impl Onward {
    /// On to `next`, if there is one.
    fn to(next: Option<Request>) -> Onward {
        Onward { next, unfollowed: None }
    }

    /// No way on, though the page names one: `why` it cannot be followed.
    fn stuck(why: String) -> Onward {
        Onward {
            next: None,
            unfollowed: Some(why),
        }
    }
}

impl Position<'_> {
    /// The next position, found the way `next` says.
    fn onward(&self, next: &Next) -> Result<Onward, HarvestError> {
        match next {
            Next::Nothing => Ok(Onward::default()),
            Next::LinkHeader => Ok(Onward::to(
                self.response
                    .link_next
                    .as_deref()
                    .map(|href| join(&self.request.url, href))
                    .transpose()?,
            )),
            Next::Url { path } => self.url(path),
            Next::BodyCursor => Ok(Onward::to(self.body_cursor())),
            Next::Token { path, param } => self.token(path, param),
            Next::AfterLast { flag, id, param } => self.after_last(flag, id, param),
            Next::Pages { param, first } => self.page_number(param, *first),
            Next::Offsets { param } => self.offset(param),
        }
    }

    /// The URL at `path` of the body.
    fn url(&self, path: &str) -> Result<Onward, HarvestError> {
        Ok(match value_at(&self.response.body, path) {
            Some(Json::String(href)) if !href.is_empty() => Onward::to(Some(join(&self.request.url, &href)?)),
            Some(Json::Null) | None => Onward::default(),
            Some(Json::String(_)) => Onward::default(),
            Some(other) => Onward::stuck(format!("`{path}` is {other}, not a URL")),
        })
    }

    /// The same POST with the body's `pagination.next_page_after_value` as the sent body's
    /// `pagination.page_after_value`.
    fn body_cursor(&self) -> Option<Request> {
        let request = self.request;
        match (
            value_at(&self.response.body, "pagination.next_page_after_value"),
            &request.body,
        ) {
            (Some(value), Some(sent)) if !value.is_null() => {
                let mut body = sent.clone();
                if !body.get("pagination").is_some_and(Json::is_object) {
                    body["pagination"] = Json::Object(serde_json::Map::new());
                }
                body["pagination"]["page_after_value"] = value;
                Some(Request {
                    url: request.url.clone(),
                    body: Some(body),
                })
            }
            _ => None,
        }
    }

    /// The token at `path` of the body, sent back as `param`.
    fn token(&self, path: &str, param: &str) -> Result<Onward, HarvestError> {
        Ok(match value_at(&self.response.body, path) {
            Some(Json::String(token)) if !token.is_empty() => {
                Onward::to(Some(with_param(self.request, param, &token)?))
            }
            Some(Json::Number(n)) => Onward::to(Some(with_param(self.request, param, &n.to_string())?)),
            Some(Json::String(_) | Json::Null | Json::Bool(false)) | None => Onward::default(),
            Some(other) => Onward::stuck(format!("`{path}` is {other}, not a token")),
        })
    }

    /// While the flag says there is more, the last record's `id` sent as `param`.
    fn after_last(&self, flag: &str, id: &str, param: &str) -> Result<Onward, HarvestError> {
        let (Some(true), Some(last)) = (self.more_flag, self.records.last()) else {
            return Ok(Onward::default());
        };
        Ok(
            match serde_json::from_str::<Json>(last).ok().and_then(|r| r.get(id).cloned()) {
                Some(Json::String(s)) => Onward::to(Some(with_param(self.request, param, &s)?)),
                Some(Json::Number(n)) => Onward::to(Some(with_param(self.request, param, &n.to_string())?)),
                _ => Onward::stuck(format!("`{flag}` is true but the last record has no `{id}`")),
            },
        )
    }

    /// The next page number in `param`, unless this page is empty, the last declared, or
    /// short where nothing is declared.
    fn page_number(&self, param: &str, first: u64) -> Result<Onward, HarvestError> {
        let current = number_in(self.request, param)?.unwrap_or(first);
        let last_page = self.pages.map(|n| first + n.max(1) - 1);
        let ended = self.records.is_empty()
            || last_page.is_some_and(|last| current >= last)
            || (self.total.is_none() && self.pages.is_none() && self.short());
        Ok(Onward::to(
            (!ended)
                .then(|| with_param(self.request, param, &(current + 1).to_string()))
                .transpose()?,
        ))
    }

    /// The offset in `param` past this page's records, unless this page is empty, or short
    /// where no total is declared.
    fn offset(&self, param: &str) -> Result<Onward, HarvestError> {
        let current = number_in(self.request, param)?.unwrap_or(0);
        let ended = self.records.is_empty() || (self.total.is_none() && self.short());
        Ok(Onward::to(
            (!ended)
                .then(|| with_param(self.request, param, &(current + self.records.len() as u64).to_string()))
                .transpose()?,
        ))
    }

    /// Whether the page holds fewer records than the walk's first page.
    fn short(&self) -> bool {
        self.full_page.is_some_and(|full| self.records.len() < full)
    }
}

/// The total at `source`, with its exactness: a number, or an object such as Elasticsearch's
/// `{"value": 10000, "relation": "gte"}`; the plan's `total_exact` path can make it a lower
/// bound.
fn read_total(plan: &Plan, response: &Response, source: &Source) -> Option<Total> {
    let declared = response.number(source)?;
    let (value, mut exact) = match &declared {
        Json::Object(object) => (
            as_count(object.get("value")?)?,
            object.get("relation").is_none_or(exactness),
        ),
        number => (as_count(number)?, true),
    };
    // A total named as an estimate (Meilisearch's `estimatedTotalHits`) is one.
    if let Source::Body { path } = source {
        let name = crate::detect::norm(path.rsplit('.').next().unwrap_or(path));
        exact &= !name.contains("estimat") && !name.contains("approx");
    }
    if let Some(path) = &plan.total_exact
        && let Some(flag) = value_at(&response.body, path)
    {
        exact &= says_exact(path.rsplit('.').next().unwrap_or(path), &flag);
    }
    Some(Total { value, exact })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(records: Option<&str>) -> Plan {
        Plan {
            records: records.map(str::to_owned),
            columns: None,
            next: Next::LinkHeader,
            total: None,
            total_exact: None,
            pages: None,
            more: None,
        }
    }

    #[track_caller]
    fn check(records: Option<&str>, body: &str, expect: &str) {
        let request = Request::get("http://h/items");
        let body = Body::parse(body.to_owned()).unwrap();
        let message = records_in(&plan(records), &request, &body).unwrap_err().to_string();
        assert_eq!(message, expect);
    }

    #[test]
    fn a_page_without_records_where_the_first_had_them_says_where_they_were() {
        check(
            None,
            r#"{"error": "gone"}"#,
            "http://h/items: the body is not an array of records, as the first page's body was; give their place with --records-path",
        );
        check(
            Some("data"),
            r#"{"data": null}"#,
            "http://h/items: no array of records at `data`, where the first page had them; give their place with --records-path",
        );
        assert_eq!(
            records_in(
                &plan(Some("data")),
                &Request::get("http://h/items"),
                &Body::parse(r#"{"data": [1, 2]}"#.to_owned()).unwrap()
            )
            .unwrap()
            .len(),
            2
        );
    }
}
