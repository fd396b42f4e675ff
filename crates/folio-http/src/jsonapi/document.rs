//! JSON:API documents: resources, collections, errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use folio_engine::{CollectionSchema, Limits, Value};
use folio_store::{CollectionInfo, Record, Total};
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::MEDIA_TYPE;
use super::request::ListRequest;
use crate::error::ApiError;
use crate::links::{self, header as link_header};

/// The `links` of a list document.
#[derive(Debug, Default)]
pub(super) struct Links {
    pub(super) self_: String,
    pub(super) first: Option<String>,
    pub(super) prev: Option<String>,
    pub(super) next: Option<String>,
    pub(super) last: Option<String>,
}

/// The `meta` of a list document.
#[derive(Debug)]
pub(super) struct Meta {
    pub(super) total: Option<Total>,
    pub(super) total_pages: Option<u64>,
    pub(super) page: Option<u64>,
    pub(super) size: u64,
    pub(super) limits: Limits,
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    id: String,
    /// The document as the store returned it (projected there), without parsing it into a
    /// tree here.
    attributes: Box<RawValue>,
    links: SelfLink,
}

#[derive(Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    self_: String,
}

/// A page of records.
pub(super) fn list(req: &ListRequest, records: &[Record], meta: &Meta, links: &Links) -> Response {
    let schema = &req.query.schema;
    let data: Result<Vec<Resource<'_>>, ApiError> = records.iter().map(|r| resource(schema, r.id(), &r.doc)).collect();
    let data = match data {
        Ok(data) => data,
        Err(e) => return error(&e),
    };
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
    let body = json!({"data": data, "meta": meta_json, "links": links_json});
    let mut response = respond(StatusCode::OK, &body);
    if let Some(value) = link_header(&header_links) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// One record.
pub(super) fn record(schema: &CollectionSchema, id: &Value, doc: &str) -> Response {
    match resource(schema, id, doc) {
        Ok(resource) => {
            let self_ = resource.links.self_.clone();
            respond(StatusCode::OK, &json!({"data": resource, "links": {"self": self_}}))
        }
        Err(e) => error(&e),
    }
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
    respond(StatusCode::OK, &json!({"data": data, "links": {"self": "/jsonapi"}}))
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
    respond(status, &json!({"errors": [object]}))
}

fn resource<'a>(schema: &'a CollectionSchema, id: &Value, doc: &str) -> Result<Resource<'a>, ApiError> {
    let attributes = RawValue::from_string(doc.to_owned()).map_err(|e| {
        ApiError::Internal(folio_store::StoreError::Internal(format!(
            "stored document is not JSON: {e}"
        )))
    })?;
    let id = match id {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    };
    let self_ = format!("/jsonapi/{}/{}", links::segment(&schema.name), links::segment(&id));
    Ok(Resource {
        ty: &schema.name,
        id,
        attributes,
        links: SelfLink { self_ },
    })
}

fn respond(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    response
}
