//! The API requests that return the page a browse page shows, in each style, as `curl`
//! commands; or, where a style cannot express the page, why.
//!
//! Positions are translated with the styles' own encodings: page numbers stay page numbers,
//! cursor positions become `search_after` ids (`hal`), transparent `page_after_value` keys
//! (`query`) or `after`/`before` tokens signed for the `simple` style's query.

use folio_engine::filter::takes_list;
use folio_engine::{Filter, Limits, Position, Sort, transparent};
use folio_store::Query;
use serde_json::{Value as Json, json};

use crate::access::Caller;
use crate::jsonapi::{Listing, Mode};
use crate::links::{Target, segment};
use crate::state::AppState;

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
    caller: &Caller,
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
        ("hal", page.hal(&state.config.hal)),
        ("query", page.query(&state.config.query)),
        ("simple", page.simple(state, caller)),
    ]
}

/// What identifies the page, in terms every style shares.
struct Page<'a> {
    listing: &'a Listing,
    /// The filter in folio's JSON query language, if there is one.
    filter: Option<Json>,
    position: Position,
    number: Option<u64>,
    size: u64,
}

impl Page<'_> {
    fn of<'a>(listing: &'a Listing, carry: &[(String, String)]) -> Page<'a> {
        let (position, number) = match &listing.req.mode {
            Mode::Number(n) => (Position::Offset((n - 1).saturating_mul(listing.req.size)), Some(*n)),
            Mode::Cursor { position, .. } => (position.clone(), None),
        };
        Page {
            listing,
            filter: filter_json(carry),
            position,
            number,
            size: listing.req.size,
        }
    }

    fn query_(&self) -> &Query {
        &self.listing.req.query
    }

    fn sort_spec(&self) -> String {
        self.query_().sort.to_spec(&self.query_().schema)
    }

    fn collection(&self) -> &str {
        &self.query_().schema.name
    }

    /// Why a style that pages in id order only cannot show this page, if it cannot.
    fn id_order_only(&self, style: &str) -> Result<(), String> {
        if self.query_().sort == Sort::by_id() {
            Ok(())
        } else {
            Err(format!(
                "{style} pages in id order only; this page is sorted by {}",
                self.sort_spec()
            ))
        }
    }

    fn size_within(&self, limits: &Limits, style: &str, param: &str) -> Result<(), String> {
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
    fn number_within(&self, limits: &Limits, style: &str) -> Result<Option<u64>, String> {
        match self.number {
            Some(n) => limits
                .check_offset((n - 1).saturating_mul(self.size), self.size, "", "")
                .map(|()| Some(n))
                .map_err(|_| format!("page {n} is past {style}'s page-number window")),
            None => Ok(None),
        }
    }

    /// `GET /hal/{c}`: `page` numbers or `search_after` ids, forwards only.
    fn hal(&self, limits: &Limits) -> Result<Call, String> {
        self.id_order_only("hal")?;
        self.size_within(limits, "hal", "limit")?;
        let mut params = vec![("limit".to_owned(), self.size.to_string())];
        if let Some(filter) = &self.filter {
            params.push(("search".to_owned(), filter.to_string()));
        }
        let base = Target::new(format!("/hal/{}", segment(self.collection())), params);
        let after = |extra: Vec<(&str, String)>| {
            let mut all = vec![("pagination_type", "search_after".to_owned())];
            all.extend(extra);
            base.with(&all).href()
        };
        let path = match (self.number_within(limits, "hal")?, &self.position) {
            (Some(n), _) => base.with(&[("page", n.to_string())]).href(),
            (None, Position::Start) => after(Vec::new()),
            (None, Position::After(key)) => after(vec![(
                "search_after",
                transparent::encode(&self.query_().schema, &self.query_().sort, key),
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

    /// `POST /query/{c}/query`: `page` or `page_after_value`, ordered by one path, forwards.
    fn query(&self, limits: &Limits) -> Result<Call, String> {
        let q = self.query_();
        let fields = q.sort.fields();
        if fields.len() > 2 {
            return Err(format!(
                "query orders by one path; this page is sorted by {}",
                self.sort_spec()
            ));
        }
        self.size_within(limits, "query", "page_size")?;
        let first = &fields[0];
        let mut pagination = serde_json::Map::new();
        pagination.insert("page_size".into(), json!(self.size));
        pagination.insert("order_by".into(), json!(q.schema.path_of(first.column)));
        let order = if first.direction == folio_engine::Direction::Desc {
            "desc"
        } else {
            "asc"
        };
        pagination.insert("order".into(), json!(order));
        match (self.number_within(limits, "query")?, &self.position) {
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
        if let Some(filter) = &self.filter {
            body.insert("query".into(), filter.clone());
        }
        body.insert("pagination".into(), Json::Object(pagination));
        if let Some(fields) = &q.fields {
            body.insert("required".into(), json!({"include": fields.paths()}));
        }
        Ok(Call {
            method: "POST",
            path: format!("/query/{}/query", segment(self.collection())),
            body: Some(Json::Object(body)),
        })
    }

    /// `GET /simple/{c}`: `page` numbers, or `after`/`before` tokens signed for its query.
    fn simple(&self, state: &AppState, caller: &Caller) -> Result<Call, String> {
        let limits = &state.config.simple;
        self.id_order_only("simple")?;
        self.size_within(limits, "simple", "per_page")?;
        let mut params = vec![("per_page".to_owned(), self.size.to_string())];
        let mut filter = Filter::all();
        if let Some(json) = &self.filter {
            params.push(("query".to_owned(), json.to_string()));
            // The filter as the simple style builds it, so that its tokens match.
            filter
                .push_json(&self.query_().schema, json, "query")
                .map_err(|e| e.to_string())?;
        }
        let query = Query {
            schema: self.query_().schema.clone(),
            filter,
            sort: Sort::by_id(),
            fields: None,
        };
        let base = Target::new(format!("/simple/{}", segment(self.collection())), params);
        let token = |position: &Position| state.cursor(caller, &query, position);
        let path = match (self.number_within(limits, "simple")?, &self.position) {
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
