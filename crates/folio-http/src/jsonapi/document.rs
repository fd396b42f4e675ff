//! JSON:API documents: resources, collections, errors.

use axum::http::StatusCode;
use axum::response::Response;
use folio_engine::projection::MAX_PROJECTED_PATHS;
use folio_engine::{CollectionSchema, Limits, Value, ValueRef};
use folio_store::{CollectionInfo, Records, Total};
use serde_json::json;

use super::MEDIA_TYPE;
use super::request::ListRequest;
use crate::body::Body;
use crate::error::ApiError;
use crate::links;

/// The `links` of a list document.
#[derive(Debug, Default)]
pub(crate) struct Links {
    pub(crate) self_: String,
    pub(crate) first: Option<String>,
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
    pub(crate) last: Option<String>,
}

/// The `meta` of a list document.
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) total: Option<Total>,
    pub(crate) total_pages: Option<u64>,
    pub(crate) page: Option<u64>,
    pub(crate) size: u64,
    pub(crate) limits: Limits,
    /// The filtered paths no index serves (the page was found by scanning).
    pub(crate) unindexed: Vec<String>,
    /// When the moment this walk reads was written (ms since the Unix epoch): the snapshot
    /// its cursors carry.
    pub(crate) snapshot: Option<i64>,
}

/// A page of records: `{"data": [resources], "meta": {...}, "links": {...}}`.
pub(super) fn list(req: &ListRequest, records: &Records, meta: &Meta, links: &Links) -> Response {
    let resources = Resources::new(&req.query().schema);
    let mut body = Body::for_records(records, resources.overhead());
    body.raw(b"{\"data\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            body.raw(b",");
        }
        resources.write(&mut body, record.id(), record.doc());
    }
    let mut links_json = serde_json::Map::new();
    links_json.insert("self".into(), json!(links.self_));
    let mut header_links = Vec::new();
    for (rel, href) in [
        ("first", &links.first),
        ("prev", &links.prev),
        ("next", &links.next),
        ("last", &links.last),
    ] {
        if let Some(href) = href {
            links_json.insert(rel.into(), json!(href));
            header_links.push((rel, href.clone()));
        }
    }
    let mut meta_json = json!({
        "pageSize": meta.size,
        "limits": {
            "maxPageSize": meta.limits.max_size,
            "maxFields": MAX_PROJECTED_PATHS,
            "maxOffset": meta.limits.max_offset,
        },
    });
    if let Some(total) = meta.total {
        // `totalExact: false` means "at least `total`": the count stopped at the server's cap.
        meta_json["total"] = json!(total.count);
        meta_json["totalExact"] = json!(total.exact);
    }
    if let Some(pages) = meta.total_pages {
        meta_json["totalPages"] = json!(pages);
    }
    if let Some(page) = meta.page {
        meta_json["page"] = json!(page);
    }
    if !meta.unindexed.is_empty() {
        meta_json["unindexedFilters"] = json!(meta.unindexed);
    }
    if let Some(text) = meta.snapshot.and_then(snapshot_at) {
        // The moment the walk's cursors read: later pages show the collection as it was then.
        meta_json["snapshotAt"] = json!(text);
    }
    body.raw(b"],\"meta\":")
        .value(&meta_json)
        .raw(b",\"links\":")
        .value(&links_json)
        .raw(b"}");
    links::respond(StatusCode::OK, MEDIA_TYPE, body.finish(), &header_links)
}

/// One record: `{"data": resource, "links": {"self": ...}}`.
pub(super) fn record(schema: &CollectionSchema, id: &Value, doc: &str) -> Response {
    let resources = Resources::new(schema);
    let mut body = Body::with_capacity(doc.len() + 2 * resources.overhead());
    body.raw(b"{\"data\":");
    resources.write(&mut body, id.into(), doc.as_bytes());
    body.raw(b",\"links\":{\"self\":\"")
        .raw(&resources.self_prefix)
        .id_segment(id.into())
        .raw(b"\"}}");
    respond(StatusCode::OK, body.finish())
}

/// The list of collections.
pub(super) fn collections(infos: &[CollectionInfo]) -> Response {
    let data: Vec<_> = infos
        .iter()
        .map(|info| {
            let s = &info.schema;
            let mut paths =
                vec![json!({"path": s.id_path, "type": s.id_type.field_type(), "sortable": true, "id": true})];
            paths.extend(s.indexed.iter().map(|p| {
                let mut path = json!({"path": p.path, "type": p.ty, "sortable": p.is_sortable()});
                if p.unindexed.is_some() {
                    // No index serves it: filters on it scan the collection.
                    path["indexed"] = json!(false);
                }
                path
            }));
            json!({
                "type": "collections",
                "id": s.name,
                "attributes": {"idPath": s.id_path, "count": info.count, "indexedPaths": paths},
                "links": {"self": format!("/jsonapi/{}", links::segment(&s.name))},
            })
        })
        .collect();
    respond(
        StatusCode::OK,
        json!({"data": data, "links": {"self": "/jsonapi"}}).to_string(),
    )
}

/// An error document: `{"errors": [{status, code, title, detail, source.parameter}]}`.
pub(super) fn error(e: &ApiError) -> Response {
    e.log();
    let status = e.status();
    let detail = e.detail();
    let mut object = json!({
        "status": status.as_u16().to_string(),
        "code": e.code(),
        "title": e.title(),
        "detail": detail,
    });
    if let Some(param) = e.param() {
        object["source"] = json!({"parameter": param});
    }
    respond(status, json!({"errors": [object]}).to_string())
}

/// How the records of a collection are written as JSON:API resources:
/// `{"type": ..., "id": ..., "attributes": <document>, "links": {"self": ...}}`, with the parts
/// that are the same for every record written once per page.
struct Resources {
    /// `{"type":"<collection>","id":`
    head: Vec<u8>,
    /// `/jsonapi/<collection>/`, percent-encoded.
    self_prefix: Vec<u8>,
}

impl Resources {
    fn new(schema: &CollectionSchema) -> Resources {
        let mut head = Body::default();
        head.raw(b"{\"type\":").str(&schema.name).raw(b",\"id\":");
        let mut self_prefix = b"/jsonapi/".to_vec();
        links::push_segment(&mut self_prefix, &schema.name);
        self_prefix.push(b'/');
        Resources {
            head: head.finish(),
            self_prefix,
        }
    }

    /// Bytes written around a document, roughly (ids included): to size bodies.
    fn overhead(&self) -> usize {
        self.head.len() + self.self_prefix.len() + 128
    }

    fn write(&self, body: &mut Body, id: ValueRef<'_>, doc: &[u8]) {
        body.raw(&self.head)
            .id(id)
            .raw(b",\"attributes\":")
            .raw(doc)
            .raw(b",\"links\":{\"self\":\"")
            .raw(&self.self_prefix)
            .id_segment(id)
            .raw(b"\"}}");
    }
}

/// `meta.snapshotAt`: the time of a snapshot (milliseconds since the Unix epoch), in RFC 3339.
pub(super) fn snapshot_at(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

/// The partitions of a result ([`super::partitions`]): a document built whole.
pub(super) fn partitions(document: serde_json::Value) -> Response {
    respond(StatusCode::OK, document.to_string())
}

fn respond(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    links::respond(status, MEDIA_TYPE, body, &[])
}
