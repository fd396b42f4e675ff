//! JSON:API documents: resources, collections, errors.

use axum::http::StatusCode;
use axum::response::Response;
use folio_engine::{CollectionSchema, Limits, Value};
use folio_store::{CollectionInfo, Record, Total};
use serde::Serialize;
use serde_json::json;

use super::MEDIA_TYPE;
use super::request::ListRequest;
use crate::body::{self, Doc, Docs};
use crate::error::ApiError;
use crate::links::{self};

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
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    id: String,
    /// The document as the store returned it (projected there), copied verbatim.
    attributes: Doc,
    links: SelfLink,
}

/// A page: written with `Docs::write`, so attributes are copied verbatim.
#[derive(Serialize)]
struct List<'a> {
    data: Vec<Resource<'a>>,
    meta: serde_json::Value,
    links: serde_json::Map<String, serde_json::Value>,
}

/// One record.
#[derive(Serialize)]
struct One<'a> {
    data: Resource<'a>,
    links: SelfLink,
}

#[derive(Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    self_: String,
}

/// A page of records.
pub(super) fn list(req: &ListRequest, records: Vec<Record>, meta: &Meta, links: &Links) -> Response {
    let schema = &req.query.schema;
    let prefix = self_prefix(schema);
    let mut docs = Docs::with_capacity(records.len());
    let data: Vec<Resource<'_>> = records
        .into_iter()
        .map(|r| {
            let id = body::id_text(r.id());
            resource(schema, &prefix, id, docs.add(r.doc))
        })
        .collect();
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
        "limits": {"maxPageSize": meta.limits.max_size, "maxOffset": meta.limits.max_offset},
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
    links::respond(
        StatusCode::OK,
        MEDIA_TYPE,
        docs.write(&List {
            data,
            meta: meta_json,
            links: links_json,
        }),
        &header_links,
    )
}

/// One record.
pub(super) fn record(schema: &CollectionSchema, id: &Value, doc: &str) -> Response {
    let mut docs = Docs::with_capacity(1);
    let resource = resource(
        schema,
        &self_prefix(schema),
        body::id_text(id),
        docs.add(doc.to_owned()),
    );
    let self_ = resource.links.self_.clone();
    respond(
        StatusCode::OK,
        docs.write(&One {
            data: resource,
            links: SelfLink { self_ },
        }),
    )
}

/// The list of collections.
pub(super) fn collections(infos: &[CollectionInfo]) -> Response {
    let data: Vec<_> = infos
        .iter()
        .map(|info| {
            let s = &info.schema;
            let mut paths =
                vec![json!({"path": s.id_path, "type": s.id_type.field_type(), "sortable": true, "id": true})];
            paths.extend(
                s.indexed
                    .iter()
                    .map(|p| json!({"path": p.path, "type": p.ty, "sortable": p.ty.is_sortable()})),
            );
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

/// The start of a record's `self` link, `/jsonapi/{collection}/`, written once per page.
fn self_prefix(schema: &CollectionSchema) -> String {
    format!("/jsonapi/{}/", links::segment(&schema.name))
}

fn resource<'a>(schema: &'a CollectionSchema, prefix: &str, id: String, attributes: Doc) -> Resource<'a> {
    let segment = links::segment(&id);
    let mut self_ = String::with_capacity(prefix.len() + segment.len());
    self_.push_str(prefix);
    self_.push_str(&segment);
    Resource {
        ty: &schema.name,
        id,
        attributes,
        links: SelfLink { self_ },
    }
}

fn respond(status: StatusCode, body: String) -> Response {
    links::respond(status, MEDIA_TYPE, body, &[])
}
