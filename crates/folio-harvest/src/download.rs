//! Harvesting a folio download (`GET /export/{collection}.ndjson`): one streamed response
//! instead of pages, its lines written as they arrive.
//!
//! The answer names its cursor (`Folio-Cursor`: the download's query and moment) and where each
//! record's id is (`Folio-Id-Path`). After each stretch of whole lines, the checkpoint's next
//! request is the same download with `cursor=<Folio-Cursor>&after=<id of the last line>`: the
//! rest of the same moment's result. So a connection that breaks is resumed where it broke
//! (with the retries and backoff of a page), and `--resume` after a crash goes on from the
//! checkpoint, and no record is written twice or lost.
//!
//! A download ends with its last chunk; one cut before it is broken, never taken as whole.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::buffers::Buffers;
use crate::checkpoint::Checkpoint;
use crate::error::HarvestError;
use crate::harvest::{Options, Output, Summary};
use crate::request::{Request, with_param};
use crate::writer::{Existing, Writer};

/// The header that names a download's cursor.
const CURSOR_HEADER: &str = "folio-cursor";

/// The header that names the dotted path of the records' id.
const ID_PATH_HEADER: &str = "folio-id-path";

/// Bytes of whole lines handed to the writer at once.
const WRITE_BYTES: usize = 1 << 20;

/// Whether `url` asks for a folio download: a path `.../export/{collection}.ndjson` or `.csv`.
pub(crate) fn is_download(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let mut segments = parsed.path_segments().into_iter().flatten().rev();
    let (Some(file), Some(parent)) = (segments.next(), segments.next()) else {
        return false;
    };
    parent == "export" && (file.ends_with(".ndjson") || file.ends_with(".csv"))
}

/// Harvests the download `options.start` names into `output`; with `resume`, from the output
/// file's checkpoint. `progress` is called after each stretch written.
pub(crate) async fn harvest(
    options: &Options,
    output: &Output,
    resume: bool,
    progress: &mut (dyn FnMut(&Summary) + Send),
) -> Result<Summary, HarvestError> {
    let url = &options.start.url;
    refuse_what_does_not_apply(options)?;
    let started = Instant::now();
    let buffers = Buffers::default();
    let (writer, state) = Writer::open(
        output,
        Existing::of(resume, options.overwrite),
        &options.start,
        buffers.clone(),
    )?;
    let client = reqwest::Client::builder()
        .connect_timeout(options.timeout)
        .read_timeout(options.timeout)
        .user_agent(concat!("folio-harvest/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HarvestError::io("cannot set up the HTTP client", std::io::Error::other(e)))?;
    let mut next = if state.pages == 0 {
        Some(options.start.clone())
    } else {
        state.next.clone()
    };
    let mut download = Download {
        options,
        buffers,
        writer,
        state,
    };
    let mut retries = 0u64;
    let mut failures = 0u32;
    let mut ended = None;
    let summary = |state: &Checkpoint, next: &Option<Request>, retries, ended: &Option<String>| Summary {
        plan: None,
        records: state.records,
        pages: state.pages,
        retries,
        seconds: started.elapsed().as_secs_f64(),
        declared: None,
        complete: next.is_none(),
        ended: ended.clone(),
        next: next.clone(),
    };
    while let Some(request) = next.clone() {
        let before = download.state.records;
        match download.stream(&client, &request).await {
            Ok(Streamed::End) => {
                next = None;
                ended = Some("the download ended with its last chunk".to_owned());
            }
            Ok(Streamed::Limit(max)) => {
                ended = Some(format!("--max-records {max} was reached"));
                next = download.state.next.clone();
                progress(&summary(&download.state, &next, retries, &ended));
                break;
            }
            Err(Broken::Fatal(e)) => return Err(e),
            Err(Broken::Retry { reason, retry_after }) => {
                // A stretch received is progress: the count of failures in a row starts again.
                if download.state.records > before {
                    failures = 0;
                }
                if failures >= options.retries {
                    return Err(HarvestError::GaveUp {
                        url: request.url.clone(),
                        retries: failures,
                        last: reason,
                    });
                }
                tracing::debug!(url = %request.url, reason, "the download broke; resuming");
                tokio::time::sleep(retry_after.unwrap_or_else(|| crate::fetch::backoff(failures))).await;
                failures += 1;
                retries += 1;
                next = download.state.next.clone().or(Some(request));
            }
        }
        progress(&summary(&download.state, &next, retries, &ended));
    }
    if next.is_none() {
        // The end, checkpointed: a later --resume finds nothing left to fetch.
        download.state.next = None;
        download.writer.write(download.buffers.take(), &download.state).await?;
    }
    download.writer.finish()?;
    let result = summary(&download.state, &next, retries, &ended);
    if let Output::File(path) = output {
        crate::walk::write_manifest(path, &result)?;
    }
    tracing::debug!(url, records = result.records, "download harvested");
    Ok(result)
}

/// Options of page walks have no meaning for a download: refused, not ignored.
fn refuse_what_does_not_apply(options: &Options) -> Result<(), HarvestError> {
    let url = &options.start.url;
    let refused = |what: &str| {
        Err(HarvestError::Unrecognised {
            url: url.clone(),
            message: format!("{what} does not apply to a folio download, which streams the records as JSON lines"),
        })
    };
    if url::Url::parse(url).is_ok_and(|u| u.path().ends_with(".csv")) {
        return Err(HarvestError::Unrecognised {
            url: url.clone(),
            message: "folio harvest writes JSON lines: harvest the same download as .ndjson (the CSV one is for tools that read CSV)"
                .into(),
        });
    }
    if options.start.body.is_some() {
        return refused("--data");
    }
    if options.next.is_some() {
        return refused("a way of paging (--next-url-path, --cursor-path, --page-param, --offset-param)");
    }
    if options.records_path.is_some() {
        return refused("--records-path");
    }
    if options.fields.is_some() {
        return refused("--fields (ask the download for `fields[{collection}]` instead)");
    }
    if options.max_pages.is_some() {
        return refused("--max-pages (a download is one response; --max-records applies)");
    }
    Ok(())
}

/// How a download's response ended.
enum Streamed {
    /// At its last chunk: every record is written.
    End,
    /// At `--max-records`.
    Limit(u64),
}

/// A response that did not end well.
enum Broken {
    /// A failure that retrying will not heal.
    Fatal(HarvestError),
    /// One that resuming may get past.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl Broken {
    fn retry(reason: String) -> Broken {
        Broken::Retry {
            reason,
            retry_after: None,
        }
    }
}

/// Where a download stands: what it writes to, and its checkpoint.
struct Download<'a> {
    options: &'a Options,
    buffers: Buffers,
    writer: Writer,
    state: Checkpoint,
}

/// What a response says of its records: the download's cursor, and the path of their ids.
struct Resumable {
    cursor: String,
    id_path: String,
}

impl Download<'_> {
    /// Requests `request` and writes the whole lines of its body as they arrive, each stretch
    /// with the checkpoint that resumes after its last record.
    async fn stream(&mut self, client: &reqwest::Client, request: &Request) -> Result<Streamed, Broken> {
        let mut builder = client.get(&request.url);
        for (name, value) in &self.options.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| Broken::retry(format!("request failed: {e}")))?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(Broken::Retry {
                reason: format!("status {status}"),
                retry_after: crate::fetch::retry_after(&response),
            });
        }
        if !status.is_success() {
            let body: String = response.text().await.unwrap_or_default().chars().take(300).collect();
            return Err(Broken::Fatal(HarvestError::Status {
                url: request.url.clone(),
                status: status.as_u16(),
                body,
            }));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| {
                    Broken::Fatal(HarvestError::Unrecognised {
                        url: request.url.clone(),
                        message: format!(
                            "the answer has no `{name}` header, so it is not a folio download that can be resumed"
                        ),
                    })
                })
        };
        let resumable = Resumable {
            cursor: header(CURSOR_HEADER)?,
            id_path: percent_encoding::percent_decode_str(&header(ID_PATH_HEADER)?)
                .decode_utf8_lossy()
                .into_owned(),
        };
        self.state.pages += 1;
        let mut pending = self.buffers.take();
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|e| Broken::retry(format!("the download was cut short: {e}")))?;
            let last = chunk.is_none();
            if let Some(chunk) = chunk {
                pending.extend_from_slice(&chunk);
                if pending.len() < WRITE_BYTES {
                    continue;
                }
            }
            if let Some(max) = self.write_lines(&mut pending, &resumable).await? {
                return Ok(Streamed::Limit(max));
            }
            if last {
                if !pending.is_empty() {
                    return Err(Broken::Fatal(HarvestError::Unrecognised {
                        url: request.url.clone(),
                        message: "the download ended inside a line".into(),
                    }));
                }
                return Ok(Streamed::End);
            }
        }
    }

    /// Hands the whole lines of `pending` to the writer (up to `--max-records`), each checked
    /// to be JSON, with the checkpoint that resumes after the last one, and keeps the rest of
    /// `pending`. `Some(max)` once `--max-records` is reached.
    async fn write_lines(&mut self, pending: &mut Vec<u8>, resumable: &Resumable) -> Result<Option<u64>, Broken> {
        let Some(end) = pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(None);
        };
        let room = self
            .options
            .max_records
            .map(|max| max.saturating_sub(self.state.records));
        let mut taken = 0u64;
        let mut cut = 0;
        let mut last = None;
        for line in pending[..=end].split_inclusive(|&b| b == b'\n') {
            if room.is_some_and(|room| taken >= room) {
                break;
            }
            serde_json::from_slice::<serde::de::IgnoredAny>(line).map_err(|e| {
                Broken::Fatal(HarvestError::Unrecognised {
                    url: self.options.start.url.clone(),
                    message: format!("record {} is not JSON: {e}", self.state.records + taken + 1),
                })
            })?;
            last = Some(line);
            taken += 1;
            cut += line.len();
        }
        let Some(last) = last else {
            return Ok(self.options.max_records);
        };
        let id = id_of(last, &resumable.id_path).ok_or_else(|| {
            Broken::Fatal(HarvestError::Unrecognised {
                url: self.options.start.url.clone(),
                message: format!(
                    "a record has no id at `{}`, which Folio-Id-Path names",
                    resumable.id_path
                ),
            })
        })?;
        let with_cursor = with_param(&self.options.start, "cursor", &resumable.cursor).map_err(Broken::Fatal)?;
        let mut lines = self.buffers.take();
        lines.extend_from_slice(&pending[..cut]);
        pending.drain(..=end);
        self.state.records += taken;
        self.state.bytes += cut as u64;
        self.state.next = Some(with_param(&with_cursor, "after", &id).map_err(Broken::Fatal)?);
        self.writer.write(lines, &self.state).await.map_err(Broken::Fatal)?;
        let reached = room.is_some_and(|room| taken >= room);
        Ok(self.options.max_records.filter(|_| reached))
    }
}

/// The id of the record on `line`, at the dotted `path`, as a request names it.
fn id_of(line: &[u8], path: &str) -> Option<String> {
    let doc: Json = serde_json::from_slice(line).ok()?;
    match folio_engine::value::lookup(&doc, path)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
