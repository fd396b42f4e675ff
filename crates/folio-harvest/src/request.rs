//! The next request of a walk: what a checkpoint stores, and what loop detection compares.

use serde::{Deserialize, Serialize};

use crate::error::HarvestError;

/// One request of a walk: a GET of a URL, or a POST of a JSON body to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The absolute URL.
    pub url: String,
    /// The JSON body to POST, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            url: url.into(),
            body: None,
        }
    }

    /// A text naming the position this request asks for, for loop detection.
    pub fn position(&self) -> String {
        match &self.body {
            None => self.url.clone(),
            Some(body) => format!("{} {}", self.url, body),
        }
    }
}

/// `href` (absolute, or relative to `base`) as a GET request.
pub(crate) fn join(base: &str, href: &str) -> Result<Request, HarvestError> {
    let parsed = parse(base)?;
    parsed
        .join(href)
        .map(|url| Request::get(String::from(url)))
        .map_err(|e| HarvestError::Url {
            url: href.to_owned(),
            source: e,
        })
}

/// `request` with the query parameter `param` set to `value` (in place of any it had).
pub(crate) fn with_param(request: &Request, param: &str, value: &str) -> Result<Request, HarvestError> {
    let mut url = parse(&request.url)?;
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

/// The value of the query parameter `param` of a request, if it has one.
pub(crate) fn param_in(request: &Request, param: &str) -> Result<Option<String>, HarvestError> {
    Ok(parse(&request.url)?
        .query_pairs()
        .find(|(k, _)| k == param)
        .map(|(_, v)| v.into_owned()))
}

/// The whole number in the query parameter `param` of a request, if any.
pub(crate) fn number_in(request: &Request, param: &str) -> Result<Option<u64>, HarvestError> {
    Ok(param_in(request, param)?.and_then(|v| v.trim().parse().ok()))
}

/// The query parameters' names of a request, in order.
pub(crate) fn params_of(request: &Request) -> Result<Vec<String>, HarvestError> {
    Ok(parse(&request.url)?
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect())
}

fn parse(url: &str) -> Result<url::Url, HarvestError> {
    url::Url::parse(url).map_err(|e| HarvestError::Url {
        url: url.to_owned(),
        source: e,
    })
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

    #[test]
    fn params_are_replaced_not_repeated() {
        let request = Request::get("http://h/a?page=1&size=2");
        let next = with_param(&request, "page", "2").unwrap();
        assert_eq!(next.url, "http://h/a?size=2&page=2");
        assert_eq!(number_in(&next, "page").unwrap(), Some(2));
        assert_eq!(param_in(&next, "nope").unwrap(), None);
        assert_eq!(join("http://h/a/b?x=1", "?page=3").unwrap().url, "http://h/a/b?page=3");
    }
}
