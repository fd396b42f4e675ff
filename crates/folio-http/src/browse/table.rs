//! The browse page of one collection: filters, the page as a table with sortable columns,
//! page navigation, and the same page as API requests.
//!
//! The page is a rendering of a JSON:API list request ([`crate::jsonapi::run`]): its
//! parameters are JSON:API's, and its navigation links are the JSON:API links with
//! `/jsonapi/` replaced by `/browse/`, so the page pages exactly as the API does.

use folio_engine::{CollectionSchema, Column, Direction, FieldType, Position};
use serde_json::Value as Json;

use super::api::{self, Call};
use super::html::Html;
use crate::body;
use crate::error::ApiError;
use crate::jsonapi::Listing;
use crate::links::{Target, segment};
use crate::paging::At;
use crate::state::{AppState, Readable};

/// Page sizes offered by the selector (those up to the maximum).
const SIZES: [u64; 6] = [10, 25, 50, 100, 250, 1000];

/// What the page was asked for.
pub(crate) struct Request<'a> {
    /// The collection's schema.
    pub(crate) schema: &'a CollectionSchema,
    /// The query parameters, without empty filter inputs.
    pub(crate) pairs: &'a [(String, String)],
    /// `http://host:port`, for the `curl` commands.
    pub(crate) origin: &'a str,
}

impl Request<'_> {
    /// The parameters every link keeps: sort, filters, fields.
    fn carry(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == "sort" || k == "filter" || k.starts_with("filter[") || k.starts_with("fields["))
            .cloned()
            .collect()
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn base(&self) -> String {
        format!("/browse/{}", segment(&self.schema.name))
    }
}

/// The page of records.
pub(crate) fn page(state: &AppState, collection: &Readable, req: &Request<'_>, listing: &Listing) -> Html {
    let mut h = Html::page(&format!("{} · folio", req.schema.name));
    h.element("h1", &[], &req.schema.name);
    summary(&mut h, listing);
    downloads(&mut h, req);
    filters(&mut h, req, listing.req.paging.size());
    pager(&mut h, req, listing);
    table(&mut h, req, listing);
    pager(&mut h, req, listing);
    api_requests(&mut h, req, &api::equivalents(state, collection, listing, &req.carry()));
    h
}

/// The page for a request that failed: what was wrong, and the filters to fix it.
pub(crate) fn error(req: &Request<'_>, e: &ApiError, default_size: u64) -> Html {
    let mut h = Html::page(&format!("{} · folio", req.schema.name));
    h.element("h1", &[], &req.schema.name);
    h.open("div", &[("class", "error")]);
    h.element("strong", &[], e.title());
    h.text(": ");
    h.text(&e.detail());
    h.close("div");
    let size = req
        .value("page[size]")
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_size);
    filters(&mut h, req, size);
    h.open("p", &[]);
    h.link(&req.base(), "Start again");
    h.close("p");
    h
}

fn summary(h: &mut Html, listing: &Listing) {
    let meta = &listing.meta;
    let mut parts = Vec::new();
    if let Some(total) = meta.total {
        let count = thousands(total.count);
        parts.push(if total.exact {
            format!("{count} matching records")
        } else {
            format!("at least {count} matching records")
        });
    }
    match (&listing.req.paging.at, meta.total_pages) {
        (At::Number(n), Some(pages)) => parts.push(format!("page {} of {}", thousands(*n), thousands(pages.max(1)))),
        (At::Number(n), None) => parts.push(format!("page {}", thousands(*n))),
        (At::Position(_), _) => parts.push("reached with a cursor".to_owned()),
    }
    parts.push(format!("{} per page", meta.size));
    h.element("p", &[("class", "summary")], &parts.join(" · "));
}

/// Links to the whole result shown (its filters, sort and fields) as one download, in each
/// format of `/export`.
fn downloads(h: &mut Html, req: &Request<'_>) {
    h.open("p", &[("class", "downloads")]);
    h.text("Download every matching record: ");
    for (i, format) in crate::export::Format::ALL.into_iter().enumerate() {
        if i > 0 {
            h.text(" · ");
        }
        let path = format!("/export/{}.{}", segment(&req.schema.name), format.extension());
        h.link(&Target::new(path, req.carry()).href(), format.label());
    }
    h.close("p");
}

/// The filter inputs: equality for text and booleans, a range for numbers and timestamps.
/// Filters given otherwise (`filter` JSON, other operators) are kept as hidden inputs.
fn filters(h: &mut Html, req: &Request<'_>, size: u64) {
    let base = req.base();
    h.open("form", &[("class", "filters"), ("method", "get"), ("action", &base)]);
    let schema = req.schema;
    let paths = std::iter::once((schema.id_path.as_str(), schema.id_type.field_type()))
        .chain(schema.indexed.iter().map(|p| (p.path.as_str(), p.ty)));
    let mut shown = Vec::new();
    for (path, ty) in paths {
        h.open("label", &[]);
        h.text(path);
        match ty {
            FieldType::Integer | FieldType::Float | FieldType::Timestamp => {
                h.open("span", &[]);
                for (op, hint) in [("gte", "from"), ("lte", "to")] {
                    let name = format!("filter[{path}][{op}]");
                    let value = req.value(&name).unwrap_or("");
                    h.open(
                        "input",
                        &[
                            ("class", "num"),
                            ("name", &name),
                            ("value", value),
                            ("placeholder", hint),
                        ],
                    );
                    shown.push(name);
                }
                h.close("span");
            }
            FieldType::Boolean => {
                let name = format!("filter[{path}]");
                let value = req.value(&name).unwrap_or("");
                h.open("select", &[("name", &name)]);
                for (option, label) in [("", "any"), ("true", "true"), ("false", "false")] {
                    if option == value {
                        h.open("option", &[("value", option), ("selected", "")]);
                    } else {
                        h.open("option", &[("value", option)]);
                    }
                    h.text(label);
                    h.close("option");
                }
                h.close("select");
                shown.push(name);
            }
            FieldType::String | FieldType::StringArray => {
                let name = format!("filter[{path}]");
                let value = req.value(&name).unwrap_or("");
                let hint = if ty == FieldType::StringArray {
                    "contains"
                } else {
                    "equals"
                };
                h.open("input", &[("name", &name), ("value", value), ("placeholder", hint)]);
                shown.push(name);
            }
        }
        h.close("label");
    }
    for (key, value) in req.carry() {
        if (key.starts_with("filter") && !shown.contains(&key)) || key == "sort" || key.starts_with("fields[") {
            h.open("input", &[("type", "hidden"), ("name", &key), ("value", &value)]);
        }
    }
    h.open(
        "input",
        &[("type", "hidden"), ("name", "page[size]"), ("value", &size.to_string())],
    );
    h.raw("<button type=\"submit\">Filter</button>");
    h.link(&base, "Clear");
    h.close("form");
}

/// First, previous, page numbers (within the offset window), next, last, and the page size.
fn pager(h: &mut Html, req: &Request<'_>, listing: &Listing) {
    let links = &listing.links;
    let size = listing.req.paging.size();
    let limits = listing.meta.limits;
    let to_browse = |href: &Option<String>| href.as_deref().map(browse_href);
    let numbered = |n: u64| {
        Target::new(req.base(), req.carry())
            .with(&[("page[number]", n.to_string()), ("page[size]", size.to_string())])
            .href()
    };
    h.open("div", &[("class", "pager")]);
    let (first, prev) = match &listing.req.paging.at {
        At::Number(n) => ((*n > 1).then(|| numbered(1)), to_browse(&links.prev)),
        // Back to page numbers from cursor pages.
        At::Position(position) => (
            (!matches!(position, Position::Start)).then(|| numbered(1)),
            to_browse(&links.prev),
        ),
    };
    nav(h, "« First", first.as_deref());
    nav(h, "‹ Previous", prev.as_deref());
    let mut past_window = false;
    if let (At::Number(n), true) = (&listing.req.paging.at, size > 0) {
        let n = *n;
        let window_pages = limits.max_offset.map_or(u64::MAX, |max| max / size);
        let known_last = match listing.meta.total_pages {
            Some(pages) => pages.max(1),
            None => n + u64::from(links.next.is_some()),
        };
        past_window = known_last > window_pages;
        let last = known_last.min(window_pages).max(n);
        let from = n.saturating_sub(3).max(1);
        let to = (n + 3).min(last);
        if from > 1 {
            nav(h, "1", Some(&numbered(1)));
            if from > 2 {
                h.raw("<span class=\"off\">…</span>");
            }
        }
        for k in from..=to {
            if k == n {
                h.element("span", &[("class", "current")], &thousands(k));
            } else {
                nav(h, &thousands(k), Some(&numbered(k)));
            }
        }
        if to < last {
            if to + 1 < last {
                h.raw("<span class=\"off\">…</span>");
            }
            nav(h, &thousands(last), Some(&numbered(last)));
        }
    }
    nav(h, "Next ›", to_browse(&links.next).as_deref());
    nav(h, "Last »", to_browse(&links.last).as_deref());
    page_size(h, req, size, limits.max_size);
    h.close("div");
    if let Some(max) = limits.max_offset {
        let deep = matches!(listing.req.paging.at, At::Position(_));
        if deep || past_window {
            h.open("p", &[("class", "note")]);
            h.text(&format!(
                "Page numbers reach only the first {} records: a page number makes the database step over \
                 every record before the page, so folio stops them at offset + size ≤ {} (--max-offset). \
                 {} cursors, which continue from a record and cost the same at any depth: \
                 only first, previous, next and last are offered there.",
                thousands(max),
                thousands(max),
                if deep {
                    "This page was reached with"
                } else {
                    "Next and Last go on past them with"
                }
            ));
            h.close("p");
        }
    }
}

fn nav(h: &mut Html, label: &str, href: Option<&str>) {
    match href {
        Some(href) => h.link(href, label),
        None => h.element("span", &[("class", "off")], label),
    }
}

/// The page-size selector: a form that keeps the filters and sort and starts at page 1.
fn page_size(h: &mut Html, req: &Request<'_>, size: u64, max: u64) {
    h.open("form", &[("method", "get"), ("action", &req.base())]);
    for (key, value) in req.carry() {
        h.open("input", &[("type", "hidden"), ("name", &key), ("value", &value)]);
    }
    h.raw("<label>per page <select name=\"page[size]\" data-submit>");
    let mut sizes: Vec<u64> = SIZES.iter().copied().filter(|s| *s <= max).collect();
    if !sizes.contains(&size) {
        sizes.push(size);
        sizes.sort_unstable();
    }
    for s in sizes {
        let text = s.to_string();
        if s == size {
            h.open("option", &[("value", &text), ("selected", "")]);
        } else {
            h.open("option", &[("value", &text)]);
        }
        h.text(&text);
        h.close("option");
    }
    h.raw("</select></label><noscript><button type=\"submit\">Go</button></noscript>");
    h.close("form");
}

/// The records: the id and every indexed path, headers sorting on click.
fn table(h: &mut Html, req: &Request<'_>, listing: &Listing) {
    let schema = req.schema;
    let sort = listing.req.query().sort.fields();
    let (sorted, direction) = (sort[0].column, sort[0].direction);
    // (column, path, sortable)
    let columns: Vec<(Column, &str, bool)> = std::iter::once((Column::Id, schema.id_path.as_str(), true))
        .chain(
            schema
                .indexed
                .iter()
                .enumerate()
                .map(|(i, p)| (Column::Indexed(i), p.path.as_str(), p.is_sortable())),
        )
        .collect();
    let unsorted: Vec<(String, String)> = req.carry().into_iter().filter(|(k, _)| k != "sort").collect();
    h.raw("<table><thead><tr>");
    for (column, path, sortable) in &columns {
        if schema.is_unindexed(*column) {
            h.open("th", &[("title", "no index: filtered by scanning, not sortable")]);
        } else {
            h.open("th", &[]);
        }
        if *sortable {
            let (spec, mark) = match (column == &sorted, direction) {
                (true, Direction::Asc) => (format!("-{path}"), " ▲"),
                (true, Direction::Desc) => ((*path).to_owned(), " ▼"),
                (false, _) => ((*path).to_owned(), ""),
            };
            let href = Target::new(req.base(), unsorted.clone())
                .with(&[("sort", spec), ("page[size]", listing.req.paging.size().to_string())])
                .href();
            h.open("a", &[("href", &href), ("data-path", path)]);
            h.text(path);
            h.text(mark);
            h.close("a");
        } else {
            h.text(path);
        }
        h.close("th");
    }
    h.raw("</tr></thead><tbody>");
    for record in listing.records.iter() {
        let doc: Json = serde_json::from_slice(record.doc()).unwrap_or(Json::Null);
        let id = body::id_text(record.id());
        h.raw("<tr>");
        for (column, path, _) in &columns {
            if *column == Column::Id {
                h.open("td", &[("class", "id")]);
                h.link(&format!("/jsonapi/{}/{}", segment(&schema.name), segment(&id)), &id);
                h.close("td");
                continue;
            }
            match folio_engine::value::lookup(&doc, path) {
                None | Some(Json::Null) => h.element("td", &[("class", "null")], ""),
                Some(value) => h.element("td", &[], &cell(value)),
            }
        }
        h.raw("</tr>");
    }
    h.raw("</tbody></table>");
    if listing.records.is_empty() {
        h.element("p", &[], "No records on this page.");
    }
}

/// The page as API requests, one per style.
fn api_requests(h: &mut Html, req: &Request<'_>, calls: &[(&'static str, Result<Call, String>)]) {
    h.raw("<section class=\"api\"><h2>This page through the API</h2>");
    for (style, call) in calls {
        h.element("h3", &[], style);
        match call {
            Ok(call) => {
                let id = format!("curl-{style}");
                h.open("pre", &[("class", "curl"), ("id", &id), ("data-style", style)]);
                h.text(&call.curl(req.origin));
                h.close("pre");
                h.open("button", &[("type", "button"), ("data-copy", &id)]);
                h.text("Copy");
                h.close("button");
            }
            Err(why) => h.element("p", &[("data-style", style)], &format!("No equivalent request: {why}.")),
        }
    }
    h.raw("</section>");
}

/// A JSON:API link (`/jsonapi/{c}?...`) as the browse page's link to the same page.
fn browse_href(href: &str) -> String {
    match href.strip_prefix("/jsonapi/") {
        Some(rest) => format!("/browse/{rest}"),
        None => href.to_owned(),
    }
}

/// A value as a cell shows it: text as it is, lists comma-separated, others as JSON;
/// long values are cut.
fn cell(value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    if text.chars().count() > 120 {
        let cut: String = text.chars().take(119).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_cells() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(cell(&serde_json::json!(["O", "Ti"])), "O, Ti");
        assert_eq!(cell(&serde_json::json!(2.5)), "2.5");
        assert_eq!(cell(&serde_json::json!("x".repeat(200))).chars().count(), 120);
        assert_eq!(
            browse_href("/jsonapi/entries?page%5Bnumber%5D=2"),
            "/browse/entries?page%5Bnumber%5D=2"
        );
    }
}
