//! Streaming a download: batches read at one moment, each rendered and handed to the
//! response while the next are read.
//!
//! A task of its own reads the batches ([`Batches`]: one keyset page each, uncounted, read
//! ahead) and sends each one rendered through a channel of one, so that memory holds a few
//! batches whatever the size of the result. The first batch is small, to answer soon and to
//! learn the records' size; the next hold about [`crate::HttpConfig::export_batch_bytes`] each.
//!
//! The whole download reads the moment of its first batch (the one a cursor walk's first
//! page would read), so it is a picture of that moment even while imports run. Without a
//! snapshot (a SQLite file keeps no versions; `--snapshot-retention 0` reads none) a write
//! during the download ends it: every batch must be of the first batch's generation.
//!
//! When the client leaves, the response's body is dropped and with it the channel: the task
//! stops at once, the batches it was reading dropped (which interrupts their queries). A
//! failure after the headers were sent cannot change the status any more: the body ends with
//! an error, so that the connection is cut before the end of the chunked body and no client
//! mistakes the part it received for the whole.

use axum::body::Bytes;
use folio_engine::Position;
use folio_store::{PageResult, Records};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::csv;
use super::request::{AFTER_PARAM, CURSOR_PARAM, ExportRequest, Format};
use crate::error::ApiError;
use crate::state::AppState;

/// Records in the first batch, and the fewest a batch holds.
const FIRST_BATCH: u64 = 100;

/// The most records a batch holds, whatever their size.
const MAX_BATCH: u64 = 10_000;

/// A chunk of the body, or the error that ends it.
pub(crate) type Chunk = Result<Bytes, std::io::Error>;

/// How many records the batch after `records` reads: about `bytes` of documents.
fn next_size(records: &Records, bytes: usize) -> u64 {
    let per_record = (records.doc_bytes() / records.len().max(1)).max(1);
    ((bytes / per_record) as u64).clamp(FIRST_BATCH, MAX_BATCH)
}

/// A failure of the server's own, which the log explains.
fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(folio_store::StoreError::Internal(e.to_string()))
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
                csv::row(&req.columns, record.doc(), &mut out).map_err(internal)?;
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

/// Why a download stopped before its end.
enum Stop {
    /// The client left.
    Left,
    /// It cannot go on: the body ends with this error.
    Failed(String),
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Stop {
        e.log();
        Stop::Failed(e.detail())
    }
}

/// Reads and sends the batches after `first`, until the end of the result, the client leaving,
/// or a failure (sent as the body's last chunk, an error).
async fn send_rest(state: &AppState, req: &ExportRequest, first: PageResult, chunks: &mpsc::Sender<Chunk>) {
    let collection = req.reading.query().schema.name.clone();
    let mut sent = first.records.len() as u64;
    let mut batches = Batches::after(state, req, &first);
    let stop = loop {
        let batch = tokio::select! {
            batch = batches.next() => batch,
            () = chunks.closed() => break Stop::Left,
        };
        let batch = match batch {
            Ok(Some(batch)) => batch,
            Ok(None) => {
                tracing::debug!(collection, records = sent, "download complete");
                return;
            }
            Err(stop) => break stop,
        };
        let bytes = match render(req, &batch.records, false) {
            Ok(bytes) => bytes,
            Err(e) => break Stop::from(e),
        };
        sent += batch.records.len() as u64;
        if chunks.send(Ok(bytes)).await.is_err() {
            break Stop::Left;
        }
    };
    match stop {
        Stop::Left => tracing::debug!(collection, records = sent, "download stopped: the client left"),
        Stop::Failed(why) => {
            tracing::warn!(collection, records = sent, why, "download cut short");
            let _ = chunks.send(Err(std::io::Error::other(why))).await;
        }
    }
}

/// Batches read at once: one is read while the one before it is, on another connection.
const READING: usize = 2;

/// The batches of a download after its first, in order, read ahead.
///
/// Each batch is a keyset page after the key the batch before it ends at. Where the filter
/// selects everything, where a batch ends is learnt before its documents are read
/// ([`AppState::batch_end`]: the index alone skips to it), so that [`READING`] batches are read
/// at once, each on a connection of its own; otherwise (a filter may need each record to be
/// read to be tested) a batch starts once the one before has been read, and is read while
/// that one is sent. Every batch is checked to end where the next one
/// starts, and to be of the first batch's generation when the download reads no snapshot.
struct Batches<'a> {
    state: &'a AppState,
    req: &'a ExportRequest,
    /// Whether where a batch ends is read before the batch ([`AppState::batch_end`]).
    ahead: bool,
    /// The first batch's generation.
    generation: String,
    /// Where the next batch to start starts; `None` at the end (or while not known).
    frontier: Option<folio_engine::page::Key>,
    /// Records a batch asks for.
    size: u64,
    /// The batches being read, in order, with where each must end (when known ahead).
    reading: std::collections::VecDeque<(Read, Option<Option<folio_engine::page::Key>>)>,
}

/// A batch being read by a task of its own, stopped when dropped.
struct Read(tokio::task::JoinHandle<Result<PageResult, ApiError>>);

impl Drop for Read {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<'a> Batches<'a> {
    fn after(state: &'a AppState, req: &'a ExportRequest, first: &PageResult) -> Batches<'a> {
        Batches {
            state,
            req,
            ahead: req.reading.query().filter.is_all(),
            generation: first.generation.clone(),
            frontier: first.next.clone().filter(|_| first.has_more),
            size: next_size(&first.records, state.config.export_batch_bytes),
            reading: std::collections::VecDeque::new(),
        }
    }

    /// Starts reading batches while fewer than [`READING`] are, and where the next starts is
    /// known.
    async fn start(&mut self) -> Result<(), Stop> {
        let most = if self.ahead { READING } else { 1 };
        while self.reading.len() < most {
            let Some(start) = self.frontier.take() else {
                return Ok(());
            };
            let (state, reading, size) = (self.state.clone(), self.req.reading.clone(), self.size);
            let position = Position::After(start.clone());
            let read = Read(tokio::spawn(async move { state.batch(&reading, position, size).await }));
            let ends = if self.ahead {
                self.frontier = self
                    .state
                    .batch_end(&self.req.reading, Position::After(start), size)
                    .await?;
                Some(self.frontier.clone())
            } else {
                None
            };
            self.reading.push_back((read, ends));
        }
        Ok(())
    }

    /// The next batch, `None` after the last.
    async fn next(&mut self) -> Result<Option<PageResult>, Stop> {
        self.start().await?;
        let Some((mut read, ends)) = self.reading.pop_front() else {
            return Ok(None);
        };
        let batch = (&mut read.0).await.map_err(internal)??;
        if self.req.reading.snapshot().is_none() && batch.generation != self.generation {
            return Err(Stop::Failed(
                "the collection changed during the download, which reads no snapshot (the store keeps no versions, or snapshots are off) to stay at the moment it started at"
                    .into(),
            ));
        }
        let end = batch.next.clone().filter(|_| batch.has_more);
        match ends {
            Some(expected) if expected != end => {
                return Err(Stop::Failed(
                    "the result changed under the download: a batch did not end where the next one starts".into(),
                ));
            }
            Some(_) => {}
            None => self.frontier = end,
        }
        self.size = next_size(&batch.records, self.state.config.export_batch_bytes);
        // The next batch is read while this one is sent.
        self.start().await?;
        Ok(Some(batch))
    }
}
