//! The API requests that return the page a browse page shows, in each style, as `curl`
//! commands; or, where a style cannot express the page, why.
//!
//! Positions are translated with the styles' own encodings: page numbers stay page numbers,
//! cursor positions become `search_after` ids (`hal`), transparent `page_after_value` keys
//! (`query`) or `after`/`before` tokens signed for the `simple` style's query.

use folio_engine::filter::takes_list;
use folio_engine::{Limits, Position, Sort};
use folio_store::Query;
use serde_json::{Value as Json, json};

use crate::jsonapi::Listing;
use crate::state::{AppState, Readable};

/// One HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// The absolute path and query.
    pub(crate) path: String,
    /// A JSON body.
    pub(crate) body: Option<Json>,
}

impl Call {
    /// The request as a `curl` command against `origin` (`http://host:port`).
    pub(crate) fn curl(&self, origin: &str) -> String {
        let url = quote(&format!("{origin}{}", self.path));
        match &self.body {
            None => format!("curl {url}"),
            Some(body) => format!(
                "curl -X {} {url} -H 'content-type: application/json' -d {}",
                self.method,
                quote(&body.to_string())
            ),
        }
    }
}

/// The page in each style: `(style, request or why none)`.
pub(crate) fn equivalents(
    state: &AppState,
    collection: &Readable,
    listing: &Listing,
    carry: &[(String, String)],
) -> Vec<(&'static str, Result<Call, String>)> {
    let page = Page::of(listing, carry);
    vec![
        (
            "jsonapi",
            Ok(Call {
                method: "GET",
                path: listing.links.self_.clone(),
                body: None,
            }),
        ),
        ("hal", crate::hal::browse::call(&page, &state.config.hal)),
        ("query", crate::query::browse::call(&page, &state.config.query)),
        ("simple", crate::simple::browse::call(&page, state, collection)),
    ]
}

/// What identifies the page, in terms every style shares; each style's `browse.rs` writes
/// it as a request of that style.
pub(crate) struct Page<'a> {
    listing: &'a Listing,
    /// The filter in folio's JSON query language, if there is one.
    pub(crate) filter: Option<Json>,
    /// Where the page starts.
    pub(crate) position: Position,
    /// Its page number, if it was reached by one.
    pub(crate) number: Option<u64>,
    /// Its size.
    pub(crate) size: u64,
}

impl Page<'_> {
    fn of<'a>(listing: &'a Listing, carry: &[(String, String)]) -> Page<'a> {
        let paging = &listing.req.paging;
        let (position, number) = (paging.position(), paging.number());
        Page {
            listing,
            filter: filter_json(carry),
            position,
            number,
            size: paging.size(),
        }
    }

    /// The collection, filter, sort and projection.
    pub(crate) fn query(&self) -> &Query {
        self.listing.req.query()
    }

    /// The sort, as `sort` writes it.
    pub(crate) fn sort_spec(&self) -> String {
        self.query().sort.to_spec(&self.query().schema)
    }

    /// The collection's name.
    pub(crate) fn collection(&self) -> &str {
        &self.query().schema.name
    }

    /// Why a style that pages in id order only cannot show this page, if it cannot.
    pub(crate) fn id_order_only(&self, style: &str) -> Result<(), String> {
        if self.query().sort == Sort::by_id() {
            Ok(())
        } else {
            Err(format!(
                "{style} pages in id order only; this page is sorted by {}",
                self.sort_spec()
            ))
        }
    }

    /// Why a style whose page size is bounded by `limits` cannot show this page, if it cannot.
    pub(crate) fn size_within(&self, limits: &Limits, style: &str, param: &str) -> Result<(), String> {
        if (limits.min_size..=limits.max_size).contains(&self.size) {
            Ok(())
        } else {
            Err(format!(
                "{style} takes {param} from {} to {}; this page has {} records",
                limits.min_size, limits.max_size, self.size
            ))
        }
    }

    /// The page number, if the style's offset window reaches it.
    pub(crate) fn number_within(&self, limits: &Limits, style: &str) -> Result<Option<u64>, String> {
        match self.number {
            Some(n) => limits
                .check_offset((n - 1).saturating_mul(self.size), self.size, "", "")
                .map(|()| Some(n))
                .map_err(|_| format!("page {n} is past {style}'s page-number window")),
            None => Ok(None),
        }
    }
}

/// The browse page's filter parameters as one JSON filter: `filter[path]=v` is `eq`,
/// `filter[path][op]=v` is `op` (lists comma-separated), and `filter` is taken as it is;
/// several are combined with `and`.
pub(crate) fn filter_json(carry: &[(String, String)]) -> Option<Json> {
    let mut parts = Vec::new();
    for (key, value) in carry {
        if key == "filter" {
            if let Ok(json) = serde_json::from_str::<Json>(value) {
                parts.push(json);
            }
        } else if let Some(inner) = key.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) {
            let (path, op) = inner.split_once("][").unwrap_or((inner, "eq"));
            let operand = if takes_list(op) {
                json!(value.split(',').collect::<Vec<_>>())
            } else {
                json!(value)
            };
            parts.push(json!({ path: { op: operand } }));
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(json!({ "and": parts })),
    }
}

/// Quotes a word for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_one_json_filter() {
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        assert_eq!(filter_json(&pairs(&[("sort", "x")])), None);
        assert_eq!(
            filter_json(&pairs(&[("filter[provider]", "aflow")])),
            Some(json!({"provider": {"eq": "aflow"}}))
        );
        assert_eq!(
            filter_json(&pairs(&[("filter[e][all]", "O,Ti"), ("filter", "{\"n\": 2}")])),
            Some(json!({"and": [{"e": {"all": ["O", "Ti"]}}, {"n": 2}]}))
        );
    }

    #[test]
    fn curl_quotes_for_the_shell() {
        let call = Call {
            method: "POST",
            path: "/query/c/query".into(),
            body: Some(json!({"query": {"title": "it's"}})),
        };
        assert_eq!(
            call.curl("http://h"),
            r#"curl -X POST 'http://h/query/c/query' -H 'content-type: application/json' -d '{"query":{"title":"it'\''s"}}'"#
        );
    }
}
