//! A walk's plan: where each response holds its records, its next position and its totals,
//! as detection ([`crate::detect`]) found them on the first page or the user's flags named
//! them. Every later page is read by the same plan, so a page costs the same few lookups
//! whatever the convention.

mod read;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::body::Body;
use crate::request::Request;

pub(crate) use read::read;

/// Where the next position of a walk comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Next {
    /// Nothing: the API answers in one page.
    Nothing,
    /// An RFC 8288 `Link: <...>; rel="next"` header.
    LinkHeader,
    /// A URL (absolute or relative) at a dotted path of the body: `next`, `links.next`,
    /// `_links.next.href`, `@odata.nextLink`...
    Url {
        /// Dotted path of the URL.
        path: String,
    },
    /// folio's `query` style: a POST body whose `pagination.page_after_value` takes the
    /// response's `pagination.next_page_after_value`.
    BodyCursor,
    /// A token at a dotted path of the body, sent back as the query parameter `param`.
    Token {
        /// Dotted path of the token.
        path: String,
        /// Query parameter that takes it.
        param: String,
    },
    /// A flag such as `has_more` says whether there is more; the last record's `id` goes back
    /// as the query parameter `param` (Stripe's `starting_after`).
    AfterLast {
        /// Dotted path of the flag.
        flag: String,
        /// Member of each record that holds its id.
        id: String,
        /// Query parameter that takes the last id.
        param: String,
    },
    /// Page numbers in the query parameter `param`; the first page is number `first` (0 or 1,
    /// as the API counts), and a request that names none asks for it.
    Pages {
        /// Query parameter of the page number.
        param: String,
        /// The number of the first page.
        first: u64,
    },
    /// Offsets in the query parameter `param` (0 when a request names none), advanced by the
    /// records each page held.
    Offsets {
        /// Query parameter of the offset.
        param: String,
    },
}

impl Next {
    /// Whether the next position is made up by the harvester rather than named by the
    /// server, so that the first such page must be checked to follow the first one.
    pub(crate) fn guessed(&self) -> bool {
        matches!(
            self,
            Next::Token { .. } | Next::AfterLast { .. } | Next::Pages { .. } | Next::Offsets { .. }
        )
    }

    /// The flags of `folio harvest` that choose this way of paging.
    pub fn flags(&self) -> Vec<String> {
        let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        match self {
            Next::Nothing => Vec::new(),
            Next::LinkHeader => owned(&["--style", "link"]),
            Next::Url { path } => owned(&["--next-url-path", path]),
            Next::BodyCursor => owned(&["--style", "body-cursor"]),
            Next::Token { path, param } => owned(&["--cursor-path", path, "--cursor-param", param]),
            Next::AfterLast { flag, id, param } => {
                owned(&["--more-path", flag, "--last-id-param", param, "--id-path", id])
            }
            Next::Pages { param, first } => owned(&["--page-param", param, "--first-page", &first.to_string()]),
            Next::Offsets { param } => owned(&["--offset-param", param]),
        }
    }
}

impl Next {
    /// Why a walk following this way of paging ended at a page (`empty` if it held no record).
    pub(crate) fn ended(&self, empty: bool) -> String {
        match self {
            Next::Nothing => "the API answered in one page".into(),
            Next::LinkHeader => "the last page had no `Link: rel=\"next\"`".into(),
            Next::Url { path } | Next::Token { path, .. } => format!("the last page had no `{path}`"),
            Next::BodyCursor => "the last page had no `pagination.next_page_after_value`".into(),
            Next::AfterLast { flag, .. } => format!("`{flag}` was false"),
            Next::Pages { .. } | Next::Offsets { .. } if empty => "an empty page".into(),
            Next::Pages { .. } | Next::Offsets { .. } => "a short or last declared page".into(),
        }
    }
}

impl fmt::Display for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Next::Nothing => write!(f, "no next page (one page)"),
            Next::LinkHeader => write!(f, "next links in the `Link` header"),
            Next::Url { path } => write!(f, "next links in the body at `{path}`"),
            Next::BodyCursor => write!(
                f,
                "the body cursor `pagination.next_page_after_value`, posted back as `pagination.page_after_value`"
            ),
            Next::Token { path, param } => write!(f, "cursor tokens at `{path}`, sent back as `{param}`"),
            Next::AfterLast { flag, id, param } => {
                write!(f, "`{flag}` with the last record's `{id}`, sent as `{param}`")
            }
            Next::Pages { param, first } => write!(f, "page numbers in `{param}`, from {first}"),
            Next::Offsets { param } => write!(f, "offsets in `{param}`"),
        }
    }
}

/// Where a number comes from: a dotted path of the body, or a response header (with a key,
/// for a header holding JSON such as `X-Pagination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum Source {
    /// A dotted path of the body.
    Body {
        /// The path.
        path: String,
    },
    /// A response header (lower case).
    Header {
        /// The header's name.
        name: String,
        /// The member of the header's JSON value, if it holds JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Body { path } => write!(f, "`{path}`"),
            Source::Header { name, key: None } => write!(f, "the `{name}` header"),
            Source::Header { name, key: Some(key) } => write!(f, "`{key}` of the `{name}` header"),
        }
    }
}

/// A total the API declared, and whether it is exact or a lower bound (a count that stopped
/// at a cap, an estimate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "TotalRepr")]
pub struct Total {
    /// The number declared.
    pub value: u64,
    /// `false` when the API marks it as an estimate or a lower bound: "at least `value`".
    pub exact: bool,
}

/// A total as checkpoints hold it: a bare number in those of earlier versions.
#[derive(Deserialize)]
#[serde(untagged)]
enum TotalRepr {
    Bare(u64),
    Full { value: u64, exact: bool },
}

impl From<TotalRepr> for Total {
    fn from(repr: TotalRepr) -> Total {
        match repr {
            TotalRepr::Bare(value) => Total { value, exact: true },
            TotalRepr::Full { value, exact } => Total { value, exact },
        }
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exact {
            write!(f, "{}", self.value)
        } else {
            write!(f, "at least {}", self.value)
        }
    }
}

/// How to read every response of a walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Dotted path of the records' array; `None` when the body is the array.
    pub records: Option<String>,
    /// Dotted path of an array of column names, when records are arrays of values in that
    /// order (Datasette's default JSON): each is written as an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<String>,
    /// Where the next position comes from.
    pub next: Next,
    /// Where the total number of records is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Source>,
    /// A dotted path (beside the total) that says whether it is exact: `false`, or a
    /// relation such as `gte`, or an `estimated: true`, make it "at least".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_exact: Option<String>,
    /// Where the number of pages is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Source>,
    /// A dotted path of a flag that says whether there are more records (`has_more`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<String>,
}

impl Plan {
    /// The flags of `folio harvest` that reproduce this plan without detection.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = self.next.flags();
        if let Some(path) = &self.records {
            flags.extend(["--records-path".to_owned(), path.clone()]);
        }
        flags
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; records ", self.next)?;
        match &self.records {
            Some(path) => write!(f, "at `{path}`")?,
            None => write!(f, "are the body's array")?,
        }
        if let Some(columns) = &self.columns {
            write!(f, " (arrays named by `{columns}`)")?;
        }
        if let Some(total) = &self.total {
            write!(f, "; total in {total}")?;
        }
        if let Some(pages) = &self.pages {
            write!(f, "; page count in {pages}")?;
        }
        if let Some(more) = &self.more
            && !matches!(self.next, Next::AfterLast { .. })
        {
            write!(f, "; more records while `{more}` is true")?;
        }
        Ok(())
    }
}

/// A response, as the fetcher hands it over: a body already checked to be whole JSON, and the
/// headers that pagination conventions use.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) body: Body,
    /// The `rel="next"` target of the `Link` header, if any.
    pub(crate) link_next: Option<String>,
    /// Headers that may carry pagination (`x-*`, `content-range`, `link`), names in lower case.
    pub(crate) headers: Vec<(String, String)>,
}

impl Response {
    /// The value of header `name` (lower case), if sent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The number `source` declares, if this response declares it.
    pub(crate) fn number(&self, source: &Source) -> Option<Json> {
        match source {
            Source::Body { path } => value_at(&self.body, path),
            Source::Header { name, key } => {
                let value = self.header(name)?;
                match key {
                    Some(key) => serde_json::from_str::<Json>(value).ok()?.get(key).cloned(),
                    // `Content-Range: items 0-24/319`: the total follows the slash.
                    None if name == "content-range" => {
                        value.rsplit_once('/')?.1.trim().parse::<u64>().ok().map(Json::from)
                    }
                    None => value.trim().parse::<u64>().ok().map(Json::from),
                }
            }
        }
    }
}

/// What one response holds, read by a [`Plan`]. Records stay JSON text as the server sent
/// them, cut out of the body: only the path to them is parsed, never the records themselves.
#[derive(Debug)]
pub(crate) struct Page<'a> {
    pub(crate) records: Vec<&'a str>,
    /// The next request, if the plan finds one.
    pub(crate) next: Option<Request>,
    pub(crate) total: Option<Total>,
    /// The number of pages declared.
    pub(crate) pages: Option<u64>,
    /// What the response said about more records, when it said there are some: a walk that
    /// ends there ended early.
    pub(crate) more: Option<String>,
    /// The next page as a link names it (`Link` header, `links.next`, `_links.next.href`),
    /// whatever the plan, with the plan that follows such links: where a page-number walk
    /// goes on when page numbers are refused past a depth.
    pub(crate) link: Option<(Request, Next)>,
}

/// Names of flags beside a total that are true when it is not exact.
const ESTIMATE_FLAGS: [&str; 7] = [
    "estimate",
    "estimated",
    "isestimate",
    "totalisestimate",
    "totalestimated",
    "approximate",
    "incompleteresults",
];

/// Names of flags beside a total that say whether it is exact (`totalExact: false`) or how it
/// relates to the real count (`relation: "gte"`).
const EXACT_FLAGS: [&str; 6] = [
    "totalexact",
    "exact",
    "isexact",
    "relation",
    "totalrelation",
    "countexact",
];

/// Whether `name` (normalised, [`crate::detect::norm`]) is a flag that qualifies a total.
pub(crate) fn qualifies_total(name: &str) -> bool {
    ESTIMATE_FLAGS.contains(&name) || EXACT_FLAGS.contains(&name)
}

/// Whether a flag named `name` beside a total says it is exact: `totalExact: false`,
/// `relation: "gte"` and `estimated: true` say it is not.
pub(crate) fn says_exact(name: &str, flag: &Json) -> bool {
    if ESTIMATE_FLAGS.contains(&crate::detect::norm(name).as_str()) {
        return flag.as_bool() != Some(true);
    }
    exactness(flag)
}

/// Whether a relation or flag says a total is exact: `false` and relations such as `gte` or
/// `lower_bound` say it is not.
fn exactness(flag: &Json) -> bool {
    match flag {
        Json::Bool(b) => *b,
        Json::String(s) => !matches!(
            s.to_ascii_lowercase().as_str(),
            "gte" | "ge" | "gt" | "lower_bound" | "lowerbound" | "at_least" | "estimate" | "estimated" | "approximate"
        ),
        _ => true,
    }
}

/// What a flag such as `has_more` (or a count such as `remainingItemCount`) says of more
/// records.
pub(crate) fn says_more(flag: &Json) -> Option<bool> {
    flag.as_bool().or_else(|| flag.as_u64().map(|left| left > 0))
}

/// A whole, non-negative count: a JSON number or a string of digits.
pub(crate) fn as_count(value: &Json) -> Option<u64> {
    match value {
        Json::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The value at a dotted path, for small things such as links and totals.
pub(crate) fn value_at(body: &Body, path: &str) -> Option<Json> {
    body.at(path).and_then(|raw| serde_json::from_str(raw).ok())
}
