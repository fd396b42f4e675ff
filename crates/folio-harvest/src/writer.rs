//! Writing pages on a thread of their own, so that the network never waits for the disk.
//!
//! The harvest loop hands each page's JSON lines and the [`Checkpoint`] that follows it to a
//! [`Writer`] and goes on fetching. The writer thread appends them and, every
//! [`SYNC_EVERY_BYTES`] or [`SYNC_EVERY`] (whichever comes first) and when the harvest ends,
//! syncs the file and then saves the checkpoint. Syncing in small steps while the walk goes
//! on leaves little for the last sync, and a resumed harvest fetches again at most that
//! stretch. At most [`QUEUED_PAGES`] pages wait, so memory stays flat when the disk is slower
//! than the network: the harvest then waits for the writer.

use std::io::{Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::buffers::Buffers;
use crate::checkpoint::{self, Checkpoint};
use crate::error::HarvestError;
use crate::harvest::Output;
use crate::request::Request;

/// The longest time between two checkpoints.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The most bytes written between two checkpoints.
const SYNC_EVERY_BYTES: u64 = 8 << 20;

/// Pages handed over and not yet written.
const QUEUED_PAGES: usize = 4;

/// What becomes of an output file that already holds records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// It is left unchanged, and the harvest refuses to start.
    Refused,
    /// It is replaced (`--overwrite`).
    Replaced,
    /// Its harvest goes on from its checkpoint (`--resume`).
    Resumed,
}

impl Existing {
    /// What `--resume` and `--overwrite` ask for (with both, resuming).
    pub(crate) fn of(resume: bool, overwrite: bool) -> Existing {
        match (resume, overwrite) {
            (true, _) => Existing::Resumed,
            (false, true) => Existing::Replaced,
            (false, false) => Existing::Refused,
        }
    }
}

/// A page to append and where the harvest stands after it.
struct Page {
    lines: Vec<u8>,
    state: Checkpoint,
}

/// The writer thread, fed through a bounded queue.
pub(crate) struct Writer {
    pages: Option<mpsc::Sender<Page>>,
    thread: Option<std::thread::JoinHandle<Result<(), HarvestError>>>,
}

impl Writer {
    /// Opens `output` (cutting a file back to its checkpoint when resuming) and starts the
    /// thread, which gives the pages' buffers back to `buffers` once written. Returns where
    /// the harvest stands: the checkpoint when resuming, else a fresh start.
    pub(crate) fn open(
        output: &Output,
        existing: Existing,
        start: &Request,
        buffers: Buffers,
    ) -> Result<(Writer, Checkpoint), HarvestError> {
        let (sink, state) = Sink::open(output, existing, start)?;
        let (pages, queue) = mpsc::channel(QUEUED_PAGES);
        let thread = std::thread::Builder::new()
            .name("folio-harvest-writer".into())
            .spawn(move || sink.run(queue, &buffers))
            .map_err(|e| HarvestError::io("cannot start the writer thread", e))?;
        Ok((
            Writer {
                pages: Some(pages),
                thread: Some(thread),
            },
            state,
        ))
    }

    /// Hands a page over, waiting while the queue is full.
    pub(crate) async fn write(&mut self, lines: Vec<u8>, state: &Checkpoint) -> Result<(), HarvestError> {
        let page = Page {
            lines,
            state: state.clone(),
        };
        let sent = match &self.pages {
            Some(pages) => pages.send(page).await.is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread stopped on an error: that error is the answer.
            self.stop().and(Err(HarvestError::io(
                "the writer thread stopped",
                std::io::Error::other("it stopped without an error"),
            )))
        }
    }

    /// Waits until every page handed over is written and, for a file, synced and
    /// checkpointed. Nothing can be written after it, and dropping the writer does nothing
    /// more.
    pub(crate) fn finish(&mut self) -> Result<(), HarvestError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), HarvestError> {
        self.pages = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(HarvestError::io(
                "the writer thread failed",
                std::io::Error::other("it panicked"),
            )),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    /// A harvest that ends on an error still makes the pages it handed over durable.
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "pages written before the harvest stopped were not all saved");
        }
    }
}

/// Where pages go.
enum Sink {
    Stdout(std::io::Stdout),
    File { path: PathBuf, file: std::fs::File },
    Discard,
}

impl Sink {
    /// Opens the output. A file that holds anything is only replaced when `existing` says
    /// so, and only resumed from a checkpoint of the same walk.
    fn open(output: &Output, existing: Existing, start: &Request) -> Result<(Sink, Checkpoint), HarvestError> {
        let fresh = Checkpoint {
            start: Some(start.clone()),
            plan: None,
            next: None,
            records: 0,
            pages: 0,
            bytes: 0,
            declared: None,
            skip: 0,
            cursors: false,
        };
        let path = match output {
            Output::Stdout => return Ok((Sink::Stdout(std::io::stdout()), fresh)),
            Output::Discard => return Ok((Sink::Discard, fresh)),
            Output::File(path) => path.clone(),
        };
        let state = if existing == Existing::Resumed {
            let Some(saved) = checkpoint::load(&path)? else {
                return Err(HarvestError::NothingToResume(checkpoint::path_for(&path)));
            };
            if let Some(was) = saved.start.as_ref().filter(|was| *was != start) {
                return Err(HarvestError::OtherWalk {
                    was: was.position(),
                    now: start.position(),
                });
            }
            if saved.plan.is_none() && saved.start.is_some() {
                // Stopped before the second page confirmed how to page: start again. (A
                // checkpoint of an earlier version, without a start, detects again.)
                fresh
            } else {
                saved
            }
        } else {
            let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
            if bytes > 0 && existing == Existing::Refused {
                let advice = match checkpoint::load(&path).ok().flatten() {
                    Some(saved) if saved.next.is_none() && saved.pages > 0 => {
                        "it holds a complete harvest; add --overwrite to harvest again, or choose another --out"
                    }
                    Some(_) => {
                        "add --resume to continue its harvest from its checkpoint, or --overwrite to start again"
                    }
                    None => "add --overwrite to replace it, or choose another --out",
                };
                return Err(HarvestError::OutputExists { path, bytes, advice });
            }
            // A fresh harvest must not leave an older run's checkpoint for a later --resume.
            checkpoint::remove(&path)?;
            fresh
        };
        let io = |e| HarvestError::io(format!("cannot open {}", path.display()), e);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // Anything after the checkpoint is a page that was not made durable: cut it.
        file.set_len(state.bytes).map_err(io)?;
        file.seek(std::io::SeekFrom::End(0)).map_err(io)?;
        Ok((Sink::File { path, file }, state))
    }

    /// The writer thread: appends pages until the queue closes, checkpointing as it goes and
    /// once more at the end.
    fn run(mut self, mut queue: mpsc::Receiver<Page>, buffers: &Buffers) -> Result<(), HarvestError> {
        let mut unsaved: Option<Checkpoint> = None;
        let mut unsynced = 0u64;
        let mut last_sync = Instant::now();
        while let Some(page) = queue.blocking_recv() {
            self.append(&page.lines)?;
            unsynced += page.lines.len() as u64;
            buffers.give(page.lines);
            unsaved = Some(page.state);
            if unsynced >= SYNC_EVERY_BYTES || last_sync.elapsed() >= SYNC_EVERY {
                if let Some(state) = unsaved.take() {
                    self.checkpoint(state)?;
                }
                unsynced = 0;
                last_sync = Instant::now();
            }
        }
        match unsaved {
            Some(state) => self.checkpoint(state),
            None => Ok(()),
        }
    }

    fn append(&mut self, lines: &[u8]) -> Result<(), HarvestError> {
        match self {
            Sink::Stdout(out) => {
                let mut out = out.lock();
                out.write_all(lines)
                    .and_then(|()| out.flush())
                    .map_err(|e| HarvestError::io("cannot write to standard output", e))
            }
            Sink::File { path, file } => file
                .write_all(lines)
                .map_err(|e| HarvestError::io(format!("cannot write {}", path.display()), e)),
            Sink::Discard => Ok(()),
        }
    }

    /// For a file: syncs what was appended, then records `state` as the checkpoint.
    fn checkpoint(&mut self, mut state: Checkpoint) -> Result<(), HarvestError> {
        let Sink::File { path, file } = self else {
            return Ok(());
        };
        let io = |e| HarvestError::io(format!("cannot write {}", path.display()), e);
        file.sync_data().map_err(io)?;
        state.bytes = file.stream_position().map_err(io)?;
        checkpoint::save(path, &state)
    }
}
