//! Downloads: a whole result in one streamed response, as JSON Lines or CSV.
//!
//! - `GET /export/{collection}.ndjson` streams every record of the result, each stored
//!   document (or its `fields`, the id always among them) on a line of its own;
//! - `GET /export/{collection}.csv` streams a header of dotted paths (the id's, then the
//!   `fields` asked for or every indexed path) and a row per record (`csv.rs`).
//!
//! Both take `sort`, `filter`, `filter[...]` and `fields[{collection}]` as `/jsonapi` does, and
//! the same access rules; the records come in the order, and at the moment, of the JSON:API
//! cursor walk of the same request (`stream.rs`).
//!
//! **Resuming.** Each answer names its cursor in `Folio-Cursor` (the download's query and
//! moment, signed) and the path of the records' id in `Folio-Id-Path`. A broken download goes
//! on with the same parameters plus `cursor=<Folio-Cursor>&after=<id of the last whole record
//! received>`: the rest of the same moment's result, without the CSV header. `folio harvest`
//! does this itself. A cursor of a JSON:API walk (a `next` link's, or a partition's start)
//! is taken too: the download is then the rest of that walk.
//!
//! **Completeness.** The body is chunked; a download that cannot finish (the store failed, or
//! the moment's versions expired) is cut before its last chunk, so a client sees an incomplete
//! transfer, never a short file that looks whole.

mod csv;
mod openapi;
mod request;
mod stream;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::access::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::style::{Failure, Shape};
pub(crate) use openapi::add as add_operations;
pub use request::{ExportRequest, Format, parse_export};

/// The header that names a download's cursor: given back as `cursor`, with `after`, it resumes.
pub const CURSOR_HEADER: &str = "folio-cursor";

/// The header that names the dotted path of each record's id (percent-encoded where it is not
/// printable ASCII): where a client finds the id to give as `after`.
pub const ID_PATH_HEADER: &str = "folio-id-path";

/// The routes of downloads, at `/export`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/export/{file}", get(export))
}

/// Downloads answer errors as RFC 9457 problems.
struct Export;

impl Shape for Export {
    fn error(e: &ApiError) -> Response {
        crate::simple::problem(e)
    }
}

/// What `Folio-Id-Path` escapes: controls, non-ASCII, and the escape itself.
const HEADER_UNSAFE: &AsciiSet = &CONTROLS.add(b'%');

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure<Export>> {
    let (name, format) = Format::split(&file)?;
    let collection = state.readable(&caller, name).await?;
    let req = parse_export(&state.codec(), &collection, format, raw.as_deref())?;
    let slot = state.export_slot()?;
    let (req, chunks) = stream::start(&state, req, slot).await?;
    let cursor = req.reading.start_cursor(&state.codec());
    let body = Body::from_stream(futures_stream(chunks));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let id_path = utf8_percent_encode(&collection.schema().id_path, HEADER_UNSAFE).to_string();
    for (name, value) in [
        (
            header::CONTENT_DISPOSITION.as_str(),
            format!("attachment; filename=\"{}.{}\"", collection.name(), format.extension()),
        ),
        (CURSOR_HEADER, cursor),
        (ID_PATH_HEADER, id_path),
    ] {
        // Collection names, cursors and escaped paths are printable ASCII.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// The chunks of a channel as the stream a body reads.
fn futures_stream(
    mut chunks: tokio::sync::mpsc::Receiver<stream::Chunk>,
) -> impl futures_util::Stream<Item = stream::Chunk> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| chunks.poll_recv(cx))
}
