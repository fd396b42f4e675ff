//! Finding the records, the next position and the declared total in a response, by style.

use serde_json::Value as Json;

use crate::body::Body;
use crate::error::HarvestError;
use crate::request::Request;

/// How to page through an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    /// Detect from each response: a body cursor for POST bodies (`next_page_after_value`),
    /// JSON:API `links.next`, HAL `_links.next.href`, then an RFC 8288 `Link` header.
    Auto,
    /// JSON:API: `links.next`, records in `data`, total in `meta.total`.
    JsonApi,
    /// HAL: `_links.next.href`, records in `_embedded.items`, total in `items_count`.
    Hal,
    /// RFC 8288 `Link: <...>; rel="next"`, records in the body's array, total in
    /// `X-Total-Count`.
    Link,
    /// A POST body whose `pagination.page_after_value` takes the response's
    /// `pagination.next_page_after_value`; records in `data`, total in `pagination.total`.
    BodyCursor,
    /// A cursor found at `path` in the body, sent back as the query parameter `param`.
    Cursor {
        /// Dotted path of the next cursor in the body.
        path: String,
        /// Query parameter that takes it.
        param: String,
    },
    /// Page numbers in the query parameter `param` (starting from the URL's value, or 1),
    /// stopping at an empty or short page or at the declared total.
    Pages {
        /// Query parameter of the page number.
        param: String,
    },
    /// Offsets in the query parameter `param` (starting from the URL's value, or 0), advanced
    /// by the records each page held, stopping like page numbers.
    Offsets {
        /// Query parameter of the offset.
        param: String,
    },
}

/// What one response holds. Records stay JSON text as the server sent them, cut out of the
/// body: only the path to them is parsed, never the records themselves.
#[derive(Debug)]
pub(crate) struct Extracted<'a> {
    pub(crate) records: Vec<&'a str>,
    pub(crate) next: Option<Request>,
    pub(crate) total: Option<u64>,
    /// The next page as a link names it (`Link` header, JSON:API or HAL), whatever the
    /// style: where a page-number walk goes on when page numbers are refused past a depth.
    pub(crate) link: Option<Request>,
}

/// A response, as the fetcher hands it over: a body already checked to be whole JSON.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) body: Body,
    /// The `rel="next"` target of the `Link` header, if any.
    pub(crate) link_next: Option<String>,
    /// The `X-Total-Count` header, if any.
    pub(crate) total_header: Option<u64>,
}

/// Reads one response. `records_path` overrides where records are; `full_page` is the size
/// of the first page, which page-number walks use to notice a short last page.
pub(crate) fn extract<'a>(
    style: &Style,
    records_path: Option<&str>,
    request: &Request,
    response: &'a Response,
    full_page: Option<usize>,
) -> Result<Extracted<'a>, HarvestError> {
    let body = &response.body;
    let unrecognised = |message: &str| HarvestError::Unrecognised {
        url: request.url.clone(),
        message: message.to_owned(),
    };
    let join = |href: &str| -> Result<String, HarvestError> {
        let base = url::Url::parse(&request.url).map_err(|e| HarvestError::Url {
            url: request.url.clone(),
            source: e,
        })?;
        base.join(href).map(String::from).map_err(|e| HarvestError::Url {
            url: href.to_owned(),
            source: e,
        })
    };
    let style = match style {
        Style::Auto if request.body.is_some() && body.member("pagination").is_some() => &Style::BodyCursor,
        Style::Auto if value_at(body, "links").is_some_and(|l| l.is_object()) && body.member("data").is_some() => {
            &Style::JsonApi
        }
        Style::Auto if value_at(body, "_links").is_some_and(|l| l.is_object()) => &Style::Hal,
        Style::Auto => &Style::Link,
        explicit => explicit,
    };
    let (default_records, next, total) = match style {
        Style::JsonApi => {
            let next = value_at(body, "links.next")
                .as_ref()
                .and_then(Json::as_str)
                .map(join)
                .transpose()?
                .map(Request::get);
            (
                "data",
                next,
                value_at(body, "meta.total").as_ref().and_then(Json::as_u64),
            )
        }
        Style::Hal => {
            let next = value_at(body, "_links.next.href")
                .as_ref()
                .and_then(Json::as_str)
                .map(join)
                .transpose()?
                .map(Request::get);
            (
                "_embedded.items",
                next,
                value_at(body, "items_count").as_ref().and_then(Json::as_u64),
            )
        }
        Style::BodyCursor => {
            let next = match (value_at(body, "pagination.next_page_after_value"), &request.body) {
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
            };
            (
                "data",
                next,
                value_at(body, "pagination.total").as_ref().and_then(Json::as_u64),
            )
        }
        Style::Link | Style::Auto => {
            let next = response.link_next.as_deref().map(join).transpose()?.map(Request::get);
            ("", next, response.total_header)
        }
        Style::Cursor { path, param } => {
            let next = match value_at(body, path) {
                Some(Json::String(s)) if !s.is_empty() => Some(with_param(request, param, &s)?),
                Some(Json::Number(n)) => Some(with_param(request, param, &n.to_string())?),
                _ => None,
            };
            ("", next, response.total_header)
        }
        Style::Pages { .. } | Style::Offsets { .. } => ("", None, response.total_header),
    };
    let link = response
        .link_next
        .as_deref()
        .or(value_at(body, "links.next").as_ref().and_then(Json::as_str))
        .map(str::to_owned)
        .or_else(|| value_at(body, "_links.next.href").and_then(|h| h.as_str().map(str::to_owned)))
        .map(|href| join(&href))
        .transpose()?
        .map(Request::get);
    let path = records_path.unwrap_or(default_records);
    let records = if path.is_empty() {
        body.find_array()
    } else {
        body.at(path).and_then(|array| body.elements(array))
    };
    let records = records.ok_or_else(|| {
        unrecognised(&format!(
            "no records found (looked at `{}`); give their place with --records-path",
            if path.is_empty() { "the body's array" } else { path }
        ))
    })?;
    let next = match style {
        Style::Pages { param } => {
            let short = full_page.is_some_and(|full| records.len() < full);
            if records.is_empty() || short {
                None
            } else {
                let current = page_of(request, param)?;
                Some(with_param(request, param, &(current + 1).to_string())?)
            }
        }
        Style::Offsets { param } => {
            let short = full_page.is_some_and(|full| records.len() < full);
            if records.is_empty() || short {
                None
            } else {
                let current = number_in(request, param)?.unwrap_or(0);
                Some(with_param(
                    request,
                    param,
                    &(current + records.len() as u64).to_string(),
                )?)
            }
        }
        _ => next,
    };
    Ok(Extracted {
        records,
        next,
        total,
        link,
    })
}

/// The value at a dotted path, for small things such as links and totals.
fn value_at(body: &Body, path: &str) -> Option<Json> {
    body.at(path).and_then(|raw| serde_json::from_str(raw).ok())
}

/// `request` with the query parameter `param` set to `value`.
fn with_param(request: &Request, param: &str, value: &str) -> Result<Request, HarvestError> {
    let mut url = url::Url::parse(&request.url).map_err(|e| HarvestError::Url {
        url: request.url.clone(),
        source: e,
    })?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(param, value);
    Ok(Request {
        url: url.into(),
        body: request.body.clone(),
    })
}

/// `request` for page `number` of a page-number walk.
pub(crate) fn page_request(request: &Request, param: &str, number: u64) -> Result<Request, HarvestError> {
    with_param(request, param, &number.to_string())
}

/// The page number a request asks for (1 when it names none).
pub(crate) fn page_of(request: &Request, param: &str) -> Result<u64, HarvestError> {
    Ok(number_in(request, param)?.unwrap_or(1))
}

/// The whole number in the query parameter `param` of a request, if any.
fn number_in(request: &Request, param: &str) -> Result<Option<u64>, HarvestError> {
    let url = url::Url::parse(&request.url).map_err(|e| HarvestError::Url {
        url: request.url.clone(),
        source: e,
    })?;
    Ok(url
        .query_pairs()
        .find(|(k, _)| k == param)
        .and_then(|(_, v)| v.parse().ok()))
}

/// The `rel="next"` target of an RFC 8288 `Link` header value.
pub(crate) fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=").is_some_and(|rel| {
                rel.trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        is_next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let h = r#"</a?page=2>; rel="next", </a?page=1>; rel="first""#;
        assert_eq!(link_next(h).as_deref(), Some("/a?page=2"));
        assert_eq!(
            link_next(r#"<https://x/y>; rel="last next""#).as_deref(),
            Some("https://x/y")
        );
        assert_eq!(link_next(r#"</a>; rel="prev""#), None);
    }
}
