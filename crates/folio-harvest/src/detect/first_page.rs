//! The first page as detection reads it ([`FirstPage`]): what it declares, and each rule
//! that finds the next position in it, in the order [`super::detect`] tries them.

use serde_json::Value as Json;

use crate::error::HarvestError;
use crate::plan::{Next, Plan, Response, Source, as_count, qualifies_total, says_more};
use crate::request::Request;

use super::names::{
    CURRENT_PAGES, IDS, MORE_FLAGS, NEXT_URLS, OFFSET_LIMITS, OFFSET_PARAMS, OFFSETS, PAGE_COUNTS, PAGE_HEADERS,
    PAGE_PARAMS, TOTAL_HEADERS, TOTALS,
};
use super::{Field, fills_its_limit, header_key, names_its_links, pointer, token_params, unrecognised, url_like};

/// The first page, as detection reads it: its request and response, the body parsed, the
/// records' array and its length, and the members outside the records.
pub(super) struct FirstPage<'a> {
    pub(super) request: &'a Request,
    pub(super) response: &'a Response,
    pub(super) body: &'a Json,
    pub(super) list: Option<&'a Json>,
    pub(super) len: usize,
    pub(super) fields: Vec<Field<'a>>,
}

/// The total and the page count the first page declares, as numbers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Declared {
    total: Option<u64>,
    pages: Option<u64>,
}

impl Declared {
    /// What `response` declares where `plan` says it does.
    pub(super) fn of(plan: &Plan, response: &Response) -> Declared {
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
    pub(super) fn more_than(self, len: usize) -> bool {
        self.total.is_some_and(|t| t > len as u64) || self.pages.is_some_and(|p| p > 1)
    }
}

impl FirstPage<'_> {
    /// The plan's records and what the page declares (a total and whether it is exact, a page
    /// count, a flag of more records), with no next position yet.
    pub(super) fn declarations(&self, records: Option<String>, columns: Option<String>) -> Plan {
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
    pub(super) fn drop_page_total(&self, plan: &mut Plan, declared: Declared) {
        if declared.total.is_some_and(|t| t <= self.len as u64) {
            plan.total = None;
            plan.total_exact = None;
        }
    }

    /// A next page the server names: a URL in the body, else a `Link` header.
    pub(super) fn next_link(&self) -> Option<Next> {
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
    pub(super) fn token(&self, url_params: &[String]) -> Option<(Next, Vec<Next>)> {
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
    pub(super) fn after_last(
        &self,
        plan: &Plan,
        url_params: &[String],
    ) -> Result<Option<(Next, Vec<Next>)>, HarvestError> {
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
    pub(super) fn numbered(
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
    pub(super) fn no_way_to_more(&self, declared: Declared) -> HarvestError {
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
