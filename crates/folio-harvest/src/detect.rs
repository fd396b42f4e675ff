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

use serde_json::Value as Json;

use crate::error::HarvestError;
use crate::plan::{Next, Plan, Response, Source, as_count, qualifies_total, says_more};
use crate::request::{Request, params_of};

/// Names of members that hold the next page's URL.
const NEXT_URLS: [&str; 14] = [
    "next",
    "hydranext",
    "nexturl",
    "nextlink",
    "odatanextlink",
    "nextpageurl",
    "nextpagelink",
    "nextpage",
    "nextrecordsurl",
    "nexthref",
    "nexturi",
    "nextpageuri",
    "nextpagehref",
    "nextresultsurl",
];

/// Names of arrays that hold records, in order of preference.
const RECORDS: [&str; 13] = [
    "data",
    "results",
    "items",
    "rows",
    "entries",
    "records",
    "value",
    "content",
    "docs",
    "hits",
    "objects",
    "member",
    "hydramember",
];

/// Names of declared totals (only numbers count: `items` is json-server's total, and the
/// records of many others).
const TOTALS: [&str; 22] = [
    "total",
    "items",
    "nbhits",
    "found",
    "estimatedtotalhits",
    "totalhitscount",
    "hydratotalitems",
    "count",
    "totalcount",
    "totalresults",
    "totalitems",
    "totalrecords",
    "totalelements",
    "totalentries",
    "totalhits",
    "totalrows",
    "totalsize",
    "itemscount",
    "numfound",
    "odatacount",
    "filteredtablerowscount",
    "recordcount",
];

/// Names of declared page counts.
const PAGE_COUNTS: [&str; 10] = [
    "totalpages",
    "nbpages",
    "wptotalpages",
    "pages",
    "pagecount",
    "lastpage",
    "numpages",
    "pagescount",
    "totalpagecount",
    "numberofpages",
];

/// Names of flags that say whether there are more records (or counts of those left).
const MORE_FLAGS: [&str; 11] = [
    "remainingitemcount",
    "remaining",
    "remainingcount",
    "hasmore",
    "more",
    "hasnext",
    "hasnextpage",
    "morepages",
    "hasmoreitems",
    "hasmorepages",
    "moreresults",
];

/// Names of the current page number in a response, with the query parameter that takes one.
const CURRENT_PAGES: [(&str, &str); 7] = [
    ("page", "page"),
    ("currentpage", "page"),
    ("pagenumber", ""),
    ("pageno", ""),
    ("pageindex", ""),
    ("curpage", "page"),
    ("number", "page"),
];

/// Query parameters of page numbers.
const PAGE_PARAMS: [&str; 9] = [
    "page",
    "p",
    "_page",
    "page[number]",
    "pagenumber",
    "page_number",
    "pageNumber",
    "pageNo",
    "pageIndex",
];

/// Query parameters of offsets.
const OFFSET_PARAMS: [&str; 9] = [
    "offset",
    "start",
    "skip",
    "_start",
    "from",
    "startIndex",
    "start_index",
    "page[offset]",
    "$skip",
];

/// Query parameters of a page's size that go with offsets rather than page numbers.
const OFFSET_LIMITS: [&str; 6] = ["limit", "_limit", "max", "rows", "$top", "$limit"];

/// Query parameters of a page's size.
const SIZE_PARAMS: [&str; 13] = [
    "limit",
    "$limit",
    "hitsPerPage",
    "_limit",
    "max",
    "rows",
    "$top",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
    "page[size]",
];

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

/// Names of an offset in a response.
const OFFSETS: [&str; 5] = ["offset", "start", "skip", "startindex", "startat"];

/// Members of each record that hold its id, for `has_more` walks.
const IDS: [&str; 3] = ["id", "_id", "uuid"];

/// Headers of declared totals, and of page counts; `x-pagination` holds JSON.
const TOTAL_HEADERS: [&str; 6] = [
    "x-total-count",
    "x-total",
    "x-wp-total",
    "total",
    "x-pagination-total-count",
    "x-total-results",
];
const PAGE_HEADERS: [&str; 3] = ["x-total-pages", "x-pagination-page-count", "x-wp-totalpages"];

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
        None => find_records(request, &body).ok_or_else(|| {
            unrecognised(
                request,
                format!(
                    "no array of records found (looked at the body itself, at {} and at the only array member); give their place with --records-path",
                    RECORDS.map(|n| format!("`{n}`")).join(", ")
                ),
            )
        })?,
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

/// The first page, as detection reads it: its request and response, the body parsed, the
/// records' array and its length, and the members outside the records.
struct FirstPage<'a> {
    request: &'a Request,
    response: &'a Response,
    body: &'a Json,
    list: Option<&'a Json>,
    len: usize,
    fields: Vec<Field<'a>>,
}

/// The total and the page count the first page declares, as numbers.
#[derive(Debug, Clone, Copy)]
struct Declared {
    total: Option<u64>,
    pages: Option<u64>,
}

impl Declared {
    /// What `response` declares where `plan` says it does.
    fn of(plan: &Plan, response: &Response) -> Declared {
        let total = plan
            .total
            .as_ref()
            .and_then(|s| response.number(s))
            .and_then(|n| match n {
                Json::Object(o) => o.get("value").and_then(as_count),
                other => as_count(&other),
            });
        let pages = plan
            .pages
            .as_ref()
            .and_then(|s| response.number(s))
            .and_then(|n| as_count(&n));
        Declared { total, pages }
    }

    /// Whether it declares more records than a first page of `len` holds.
    fn more_than(self, len: usize) -> bool {
        self.total.is_some_and(|t| t > len as u64) || self.pages.is_some_and(|p| p > 1)
    }
}

impl FirstPage<'_> {
    /// The plan's records and what the page declares (a total and whether it is exact, a page
    /// count, a flag of more records), with no next position yet.
    fn declarations(&self, records: Option<String>, columns: Option<String>) -> Plan {
        // Totals first: they tell page-number walks how far to go.
        let (mut total, total_exact) = self.body_total();
        let pagination_header = self
            .response
            .header("x-pagination")
            .and_then(|h| serde_json::from_str::<Json>(h).ok());
        if total.is_none() {
            total = header_total(self.response, pagination_header.as_ref());
        }
        let pages = self
            .fields
            .iter()
            .find(|f| PAGE_COUNTS.contains(&f.name.as_str()) && as_count(f.value).is_some())
            .map(|f| Source::Body { path: f.path.clone() })
            .or_else(|| {
                PAGE_HEADERS
                    .iter()
                    .find(|name| {
                        self.response
                            .header(name)
                            .is_some_and(|v| v.trim().parse::<u64>().is_ok())
                    })
                    .map(|name| Source::Header {
                        name: (*name).to_owned(),
                        key: None,
                    })
            })
            .or_else(|| header_key(pagination_header.as_ref(), &["total_pages", "totalPages", "last_page"]));
        let more = self
            .fields
            .iter()
            .find(|f| MORE_FLAGS.contains(&f.name.as_str()) && (f.value.is_boolean() || f.value.is_u64()))
            .map(|f| f.path.clone());
        Plan {
            records,
            columns,
            next: Next::Nothing,
            total,
            total_exact,
            pages,
            more,
        }
    }

    /// A total in the body no smaller than the page, with the path beside it that says
    /// whether it is exact.
    fn body_total(&self) -> (Option<Source>, Option<String>) {
        for field in self.fields.iter().filter(|f| TOTALS.contains(&f.name.as_str())) {
            let value = match field.value {
                Json::Object(object) => object.get("value").and_then(as_count),
                other => as_count(other),
            };
            if value.is_some_and(|v| v >= self.len as u64) {
                let prefix = field.path.rsplit_once('.').map(|(p, _)| p);
                let exact = self
                    .fields
                    .iter()
                    .find(|f| f.path.rsplit_once('.').map(|(p, _)| p) == prefix && qualifies_total(&f.name))
                    .map(|f| f.path.clone());
                return (
                    Some(Source::Body {
                        path: field.path.clone(),
                    }),
                    exact,
                );
            }
        }
        (None, None)
    }

    /// A "total" no larger than the first page, on an API that names a next page, counts the
    /// page, not the collection.
    fn drop_page_total(&self, plan: &mut Plan, declared: Declared) {
        if declared.total.is_some_and(|t| t <= self.len as u64) {
            plan.total = None;
            plan.total_exact = None;
        }
    }

    /// A next page the server names: a URL in the body, else a `Link` header.
    fn next_link(&self) -> Option<Next> {
        let url = self.fields.iter().find(|f| {
            let named = NEXT_URLS.contains(&f.name.as_str())
                || (["href", "link", "url", "uri"].contains(&f.name.as_str())
                    && NEXT_URLS.contains(&f.parent.as_str()));
            named && f.value.as_str().is_some_and(url_like)
        });
        if let Some(field) = url {
            return Some(Next::Url {
                path: field.path.clone(),
            });
        }
        self.response.link_next.is_some().then_some(Next::LinkHeader)
    }

    /// A cursor token, with the parameters it may go back as: the likeliest, and the others
    /// in order.
    fn token(&self, url_params: &[String]) -> Option<(Next, Vec<Next>)> {
        let (field, mut params) = self.fields.iter().find_map(|f| {
            let usable = match f.value {
                Json::String(s) => !s.is_empty() && !url_like(s),
                Json::Number(_) => true,
                _ => false,
            };
            let params = token_params(f);
            (usable && !params.is_empty()).then_some((f, params))
        })?;
        // A parameter the first URL already names goes first; a number in a token's place is
        // a page number, which goes back where the first URL has one (json-server's `_page`).
        if field.value.is_number()
            && let Some(page) = PAGE_PARAMS.iter().find(|p| url_params.iter().any(|u| u == **p))
        {
            params.insert(0, (*page).to_owned());
        }
        params.sort_by_key(|p| !url_params.contains(p));
        params.dedup();
        Some(first_and_rest(params.into_iter().map(|param| Next::Token {
            path: field.path.clone(),
            param,
        })))
    }

    /// A `has_more` flag that is true, with the last record's id sent back under the usual
    /// names; an error if the records have no id.
    fn after_last(&self, plan: &Plan, url_params: &[String]) -> Result<Option<(Next, Vec<Next>)>, HarvestError> {
        let last = self.list.and_then(Json::as_array).and_then(|l| l.last());
        let (Some(flag), Some(true)) = (
            plan.more.clone(),
            plan.more
                .as_deref()
                .and_then(|p| pointer(self.body, p))
                .and_then(says_more),
        ) else {
            return Ok(None);
        };
        let id = IDS.iter().find(|id| last.and_then(|r| r.get(**id)).is_some());
        let Some(id) = id else {
            return Err(unrecognised(
                self.request,
                format!(
                    "`{flag}` is true, but the records have no id to continue after; say how to page with --cursor-path/--cursor-param, --page-param or --offset-param"
                ),
            ));
        };
        let mut params = vec![
            "starting_after".to_owned(),
            "after".to_owned(),
            "after_id".to_owned(),
            "cursor".to_owned(),
        ];
        params.sort_by_key(|p| !url_params.contains(p));
        Ok(Some(first_and_rest(params.into_iter().map(|param| Next::AfterLast {
            flag: flag.clone(),
            id: (*id).to_owned(),
            param,
        }))))
    }

    /// Page numbers or offsets, with the others to try; `Next::Nothing` if nothing says the
    /// API has more pages.
    fn numbered(
        &self,
        plan: &Plan,
        declared: Declared,
        url_params: &[String],
    ) -> Result<(Next, Vec<Next>), HarvestError> {
        let declares_more = declared.more_than(self.len);
        let page_walk = |param: String, first: u64| Next::Pages { param, first };
        if let Some(param) = self.url_number(&OFFSET_PARAMS) {
            return Ok((Next::Offsets { param }, Vec::new()));
        }
        if let Some(param) = self.url_number(&PAGE_PARAMS) {
            // The URL's number is the first page's: 0 or 1 as the API counts, or further on.
            let first = crate::request::number_in(self.request, &param)?.unwrap_or(1);
            return Ok((page_walk(param, first), Vec::new()));
        }
        if let Some(field) = self
            .response_offset()
            .filter(|_| declares_more || (self.len > 0 && self.limit_filled()))
        {
            let key = field.path.rsplit('.').next().unwrap_or(&field.path).to_owned();
            return Ok((Next::Offsets { param: key }, Vec::new()));
        }
        if let Some((param, number, nested)) = self.current_page(plan).filter(|_| declares_more) {
            let others = nested.into_iter().map(|nested| page_walk(nested, number)).collect();
            return Ok((page_walk(param, number), others));
        }
        if declares_more
            || self
                .response
                .header("x-next-page")
                .is_some_and(|v| !v.trim().is_empty())
            || (fills_its_limit(self.request, self.len)? && !names_its_links(&self.fields, self.response))
        {
            return Ok(usual_numbers(url_params));
        }
        Ok((Next::Nothing, Vec::new()))
    }

    /// The first of `params` that the first URL names with a number.
    fn url_number(&self, params: &[&str]) -> Option<String> {
        params
            .iter()
            .find(|p| crate::request::number_in(self.request, p).ok().flatten().is_some())
            .map(|p| (*p).to_owned())
    }

    /// Whether a page size the response states is the page's length.
    fn limit_filled(&self) -> bool {
        self.fields.iter().any(|f| {
            ["limit", "size", "pagesize", "perpage"].contains(&f.name.as_str())
                && as_count(f.value) == Some(self.len as u64)
        })
    }

    /// An offset the response states (outside its links).
    fn response_offset(&self) -> Option<&Field<'_>> {
        self.fields
            .iter()
            .find(|f| OFFSETS.contains(&f.name.as_str()) && as_count(f.value).is_some() && !f.path.contains("links"))
    }

    /// The current page number the response states: the parameter that takes it, the number,
    /// and the nested parameter to try too.
    fn current_page(&self, plan: &Plan) -> Option<(String, u64, Option<String>)> {
        self.fields.iter().find_map(|f| {
            let (_, param) = CURRENT_PAGES.iter().find(|(name, _)| *name == f.name)?;
            // Spring's `number` is a page number only beside a page count.
            if f.name == "number" && plan.pages.is_none() {
                return None;
            }
            let value = as_count(f.value)?;
            let (parent, key) = match f.path.rsplit_once('.') {
                Some((parent, key)) => (parent.rsplit('.').next(), key),
                None => (None, f.path.as_str()),
            };
            // Strapi's `meta.pagination.page` goes back as `pagination[page]`.
            let nested = parent.map(|parent| format!("{parent}[{key}]"));
            Some((
                if param.is_empty() {
                    key.to_owned()
                } else {
                    (*param).to_owned()
                },
                value,
                nested,
            ))
        })
    }

    /// The error of an API that declares more records than its first page holds but names no
    /// way to them.
    fn no_way_to_more(&self, declared: Declared) -> HarvestError {
        let page_len = self.len;
        let said = match (declared.total, declared.pages) {
            (Some(t), _) if t > page_len as u64 => format!("declares {t} records and the first page holds {page_len}"),
            (_, Some(p)) if p > 1 => format!("declares {p} pages"),
            _ => "says there are more records".to_owned(),
        };
        unrecognised(
            self.request,
            format!(
                "the API {said}, but names no next page that folio recognises; say how to page with --next-url-path, --cursor-path/--cursor-param, --page-param or --offset-param"
            ),
        )
    }
}

/// A total declared in a header: one of [`TOTAL_HEADERS`], a key of `X-Pagination`
/// (`pagination`, parsed), or `Content-Range`.
fn header_total(response: &Response, pagination: Option<&Json>) -> Option<Source> {
    TOTAL_HEADERS
        .iter()
        .find(|name| response.header(name).is_some_and(|v| v.trim().parse::<u64>().is_ok()))
        .map(|name| Source::Header {
            name: (*name).to_owned(),
            key: None,
        })
        .or_else(|| header_key(pagination, &["total", "total_count", "totalCount"]))
        .or_else(|| {
            response
                .header("content-range")
                .and_then(|v| v.rsplit_once('/'))
                .filter(|(_, n)| n.trim().parse::<u64>().is_ok())
                .map(|_| Source::Header {
                    name: "content-range".into(),
                    key: None,
                })
        })
}

/// Page numbers and offsets under their usual names, when nothing says how the API pages:
/// the first to try, and the others in order.
fn usual_numbers(url_params: &[String]) -> (Next, Vec<Next>) {
    // Nothing says how the API pages, but it declares more, or the page holds as many
    // records as the URL's limit asks for. Page numbers and offsets under their usual
    // names are tried in turn (offsets first when the URL has a `limit`): an API that
    // ignores a parameter answers the first page again, which the second page's check
    // catches. Page 1 is tried before page 2: an API that counts from 0 answers page 1
    // with the next page, one that counts from 1 with the first page again.
    let pages = [
        Next::Pages {
            param: "page".into(),
            first: 0,
        },
        Next::Pages {
            param: "page".into(),
            first: 1,
        },
    ];
    // An offset named like the URL's limit goes first: `$limit` -> `$offset`, `$top` ->
    // `$skip`, `_limit` -> `_start`, `rows` -> `start`.
    let mut names = vec!["offset", "skip", "start", "from"];
    for (limit, offset) in [
        ("$limit", "$offset"),
        ("$top", "$skip"),
        ("_limit", "_start"),
        ("rows", "start"),
    ] {
        if url_params.iter().any(|p| p == limit) {
            names.retain(|n| *n != offset);
            names.insert(0, offset);
        }
    }
    let offsets = names.into_iter().map(|param| Next::Offsets { param: param.into() });
    if url_params.iter().any(|p| OFFSET_LIMITS.contains(&p.as_str())) {
        first_and_rest(offsets.chain(pages))
    } else {
        first_and_rest(pages.into_iter().chain(offsets))
    }
}

/// The first of `candidates` (`Next::Nothing` if none), and the rest, to try in order.
fn first_and_rest(mut candidates: impl Iterator<Item = Next>) -> (Next, Vec<Next>) {
    let first = candidates.next().unwrap_or(Next::Nothing);
    (first, candidates.collect())
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
