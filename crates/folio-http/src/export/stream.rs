//! Streaming a download: batches read one after another, at one moment, each rendered and
//! handed to the response while the next is read.
//!
//! A task of its own reads the batches ([`AppState::batch`]: one keyset page each, uncounted)
//! and sends each one rendered through a channel of one: so one batch is read while the one
//! before is written to the socket, and memory holds a few batches whatever the size of the
//! result. The first batch is small, to answer soon and to learn the records' size; the next
//! hold about [`BATCH_BYTES`] each.
//!
//! The whole download reads the moment of its first batch (the one a cursor walk's first
//! page would read), so it is a picture of that moment even while imports run. On a store
//! that keeps no versions (a SQLite file, or snapshots turned off) a write during the download
//! ends it: every batch must be of the first batch's generation.
//!
//! When the client leaves, the response's body is dropped and with it the channel: the task
//! stops at once, the batch it was reading dropped (which interrupts its query). A failure
//! after the headers were sent cannot change the status any more: the body ends with an error,
//! so that the connection is cut before the end of the chunked body and no client mistakes
//! the part it received for the whole.

use axum::body::Bytes;
use folio_engine::Position;
use folio_store::{PageResult, Records};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::csv;
use super::request::{AFTER_PARAM, CURSOR_PARAM, ExportRequest, Format};
use crate::error::ApiError;
use crate::state::AppState;

/// Records in the first batch.
const FIRST_BATCH: u64 = 100;

/// The size a batch aims at: large enough that a batch's own cost (a transaction, a seek) is
/// small beside its records', small enough that a few in flight stay a few MiB.
const BATCH_BYTES: usize = 4 << 20;

/// The most records a batch holds, whatever their size.
const MAX_BATCH: u64 = 10_000;

/// A chunk of the body, or the error that ends it.
pub(crate) type Chunk = Result<Bytes, std::io::Error>;

/// How many records the batch after `records` reads: about [`BATCH_BYTES`] of documents.
fn next_size(records: &Records) -> u64 {
    let per_record = (records.doc_bytes() / records.len().max(1)).max(1);
    ((BATCH_BYTES / per_record) as u64).clamp(FIRST_BATCH, MAX_BATCH)
}

/// Renders a batch's records in the download's format (the CSV header before the first).
fn render(req: &ExportRequest, records: &Records, first: bool) -> Result<Bytes, ApiError> {
    let mut out = Vec::with_capacity(records.doc_bytes() + records.len() * 2 + 1024);
    match req.format {
        Format::Ndjson => {
            for record in records.iter() {
                out.extend_from_slice(record.doc());
                out.push(b'\n');
            }
        }
        Format::Csv => {
            if first {
                csv::header(&req.columns, &mut out);
            }
            for record in records.iter() {
                csv::row(&req.columns, record.doc(), &mut out)
                    .map_err(|e| ApiError::Internal(folio_store::StoreError::Internal(e.to_string())))?;
            }
        }
    }
    Ok(Bytes::from(out))
}

/// The download of `req`, started: its first batch is read (so that errors of the request, a
/// record `after` that is not in the result or an expired snapshot among them, are answered
/// with their status) and the rest are read by a task of their own, holding `slot`. Returns
/// the request, now reading at its moment (for the cursor its response names), and the
/// body's chunks.
pub(crate) async fn start(
    state: &AppState,
    mut req: ExportRequest,
    slot: OwnedSemaphorePermit,
) -> Result<(ExportRequest, mpsc::Receiver<Chunk>), ApiError> {
    let first = async {
        let position = match &req.after {
            Some(id) => Position::After(state.key_of(&req.reading, id, AFTER_PARAM).await?),
            None => req.start.clone(),
        };
        state.batch(&req.reading, position, FIRST_BATCH).await
    };
    let first = first.await.map_err(|e| e.in_param(CURSOR_PARAM))?;
    if !state.config.snapshot_retention.is_zero() {
        req.reading.fix_snapshot(&first);
    }
    // A resumed download continues the rows of the one it resumes: no second header.
    let head = render(&req, &first.records, req.after.is_none())?;
    let (chunks, body) = mpsc::channel(1);
    // The channel has room: this send does not wait.
    let _ = chunks.send(Ok(head)).await;
    tokio::spawn(produce(state.clone(), req.clone(), first, chunks, slot));
    Ok((req, body))
}

/// Reads and sends the batches after `first` as [`send_rest`] does, then gives the slot back,
/// before the body ends: a client that read it to its end may start another download at once.
async fn produce(
    state: AppState,
    req: ExportRequest,
    first: PageResult,
    chunks: mpsc::Sender<Chunk>,
    slot: OwnedSemaphorePermit,
) {
    send_rest(&state, &req, first, &chunks).await;
    drop(slot);
    drop(chunks);
}

/// Reads and sends the batches after `first`, until the end of the result, the client leaving,
/// or a failure (sent as the body's last chunk, an error).
async fn send_rest(state: &AppState, req: &ExportRequest, first: PageResult, chunks: &mpsc::Sender<Chunk>) {
    let collection = req.reading.query().schema.name.clone();
    let mut sent = first.records.len() as u64;
    let generation = first.generation.clone();
    let mut page = first;
    loop {
        let Some(next) = page.next.clone().filter(|_| page.has_more) else {
            tracing::debug!(collection, records = sent, "download complete");
            return;
        };
        let size = next_size(&page.records);
        let read = state.batch(&req.reading, Position::After(next), size);
        let batch = tokio::select! {
            read = read => read,
            () = chunks.closed() => {
                tracing::debug!(collection, records = sent, "download stopped: the client left");
                return;
            }
        };
        let failed = match batch {
            Ok(batch) if batch.moment.is_none() && batch.generation != generation => Some(
                "the collection changed during the download, and this store keeps no versions to read the moment it started at"
                    .to_owned(),
            ),
            Ok(batch) => {
                page = batch;
                match render(req, &page.records, false) {
                    Ok(bytes) => {
                        sent += page.records.len() as u64;
                        if chunks.send(Ok(bytes)).await.is_err() {
                            tracing::debug!(collection, records = sent, "download stopped: the client left");
                            return;
                        }
                        None
                    }
                    Err(e) => Some(e.detail()),
                }
            }
            Err(e) => {
                e.log();
                Some(e.detail())
            }
        };
        if let Some(why) = failed {
            tracing::warn!(collection, records = sent, why, "download cut short");
            let _ = chunks.send(Err(std::io::Error::other(why))).await;
            return;
        }
    }
}
