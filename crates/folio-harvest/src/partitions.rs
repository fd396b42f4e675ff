//! Harvesting a result in parts at once: a server that cuts its results into partitions
//! (folio's `GET /jsonapi/{collection}/-/partitions?count=N`) is asked for N of them, and
//! every part is walked concurrently as a harvest of its own, into a file of its own with its
//! own checkpoint.
//!
//! The parts live in a directory: `--out-dir DIR` itself, or `FILE.parts` beside `--out FILE`,
//! into which they are joined in order once all are complete (the directory is then removed).
//! The directory holds the server's answer (`partitions.json`), so that a resumed harvest
//! walks the same parts, and `part-0001.jsonl`, ... with their checkpoints: after a crash,
//! `--resume` goes on with each part where its checkpoint says, and joins them again if the
//! crash came while joining. Nothing is lost or repeated: the parts are disjoint, each part's
//! cursors carry its end, and each part's file is cut back to its checkpoint.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::buffers::Buffers;
use crate::checkpoint;
use crate::error::HarvestError;
use crate::fetch::Fetcher;
use crate::harvest::{Options, Output, Summary, harvest};
use crate::plan::{Next, Total};
use crate::request::{self, Request};

/// The most parts one harvest walks at once.
pub const MAX_PARTS: u16 = 64;

/// List parameters a partitions request does not take: each part's link says where it starts.
const POSITION_PARAMS: [&str; 5] = [
    "page[number]",
    "page[cursor]",
    "page[after]",
    "page[before]",
    "page[total]",
];

/// Where the records of a partitioned harvest go.
#[derive(Debug, Clone)]
pub enum Parts {
    /// One file, the parts joined in the result's order (parts in `FILE.parts` meanwhile).
    Joined(PathBuf),
    /// One file per part in this directory, `part-0001.jsonl` first.
    Dir(PathBuf),
}

impl Parts {
    /// The directory that holds the parts while they are harvested.
    fn dir(&self) -> PathBuf {
        match self {
            Parts::Dir(dir) => dir.clone(),
            Parts::Joined(file) => {
                let mut dir = file.as_os_str().to_owned();
                dir.push(".parts");
                PathBuf::from(dir)
            }
        }
    }
}

/// The server's partitions, as saved in the parts' directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    /// The request they answered (a resumed harvest must ask for the same).
    asked: Request,
    /// The first page of each part.
    firsts: Vec<Request>,
    /// The records the result held when it was cut.
    total: Option<u64>,
}

/// Harvests the result that `options.start` (the first page of a folio JSON:API list) begins,
/// in `count` parts walked at once, into `output`; with `resume`, goes on from the parts'
/// checkpoints. `progress` is called with the sum of the parts after each page of any.
pub async fn harvest_partitions(
    options: &Options,
    count: u16,
    output: &Parts,
    resume: bool,
    progress: &mut (dyn FnMut(&Summary) + Send),
) -> Result<Summary, HarvestError> {
    let started = std::time::Instant::now();
    let dir = output.dir();
    let saved = partitions(options, count, &dir, output, resume).await?;
    let sums = Mutex::new((vec![None; saved.firsts.len()], progress));
    let walks = saved.firsts.iter().enumerate().map(|(i, first)| {
        let (sums, dir) = (&sums, &dir);
        async move {
            let part = part_file(dir, i);
            let resumed = resume && checkpoint::load(&part)?.is_some();
            let options = Options {
                start: first.clone(),
                // folio's JSON:API: the part's pages link to the next one.
                next: Some(Next::Url {
                    path: "links.next".into(),
                }),
                records_path: Some(options.records_path.clone().unwrap_or_else(|| "data".into())),
                // The parts' files are this harvest's own: one without a checkpoint holds
                // nothing durable.
                overwrite: true,
                ..options.clone()
            };
            harvest(&options, &Output::File(part), resumed, &mut |s| {
                let mut sums = sums.lock().unwrap_or_else(|p| p.into_inner());
                sums.0[i] = Some(s.clone());
                let all = add(sums.0.iter().flatten(), None);
                (sums.1)(&all);
            })
            .await
        }
    });
    let results = futures_util::future::join_all(walks).await;
    let mut done = Vec::new();
    for result in results {
        done.push(result?);
    }
    let declared = saved.total.map(|value| Total { value, exact: true });
    let mut summary = add(done.iter(), declared);
    summary.seconds = started.elapsed().as_secs_f64();
    if !summary.complete {
        return Ok(summary);
    }
    summary.ended = Some(match done.len() {
        1 => "the one partition walked to its end".to_owned(),
        n => format!("{n} partitions walked to their ends"),
    });
    if let Parts::Joined(file) = output {
        join(&dir, done.len(), file)?;
        crate::walk::write_manifest(file, &summary)?;
        std::fs::remove_dir_all(&dir).map_err(|e| HarvestError::io(format!("cannot remove {}", dir.display()), e))?;
    }
    Ok(summary)
}

/// The parts to walk: saved in `dir` by an earlier run when resuming, else asked of the server
/// and saved there.
async fn partitions(
    options: &Options,
    count: u16,
    dir: &Path,
    output: &Parts,
    resume: bool,
) -> Result<Saved, HarvestError> {
    let asked = partitions_request(&options.start, count)?;
    let list = dir.join("partitions.json");
    if resume {
        if let Parts::Joined(file) = output
            && !list.exists()
            && let Ok(meta) = std::fs::metadata(file)
        {
            // The parts were joined and removed: the harvest ended complete.
            return Err(HarvestError::OutputExists {
                path: file.clone(),
                bytes: meta.len(),
                advice: "it holds a complete partitioned harvest; add --overwrite instead of --resume to harvest again",
            });
        }
        let bytes = std::fs::read(&list).map_err(|_| HarvestError::NothingToResume(list.clone()))?;
        let saved: Saved = serde_json::from_slice(&bytes)
            .map_err(|e| HarvestError::io(format!("cannot read {}", list.display()), std::io::Error::other(e)))?;
        if saved.asked != asked {
            return Err(HarvestError::OtherWalk {
                was: saved.asked.position(),
                now: asked.position(),
            });
        }
        return Ok(saved);
    }
    refuse_existing(dir, output, options.overwrite)?;
    let mut fetcher = Fetcher::new(
        options.headers.clone(),
        options.timeout,
        options.retries,
        Buffers::default(),
    )?;
    let response = match fetcher.fetch(&asked, None).await {
        Err(HarvestError::Status {
            url, status: 404 | 405, ..
        }) => {
            return Err(HarvestError::Unrecognised {
                url,
                message: "the server cuts no partitions here: --partitions takes the URL of a folio `/jsonapi/{collection}` list".into(),
            });
        }
        other => other?,
    };
    let body: serde_json::Value =
        serde_json::from_str(&response.body.into_text()).map_err(|e| HarvestError::Unrecognised {
            url: asked.url.clone(),
            message: format!("the partitions are not JSON: {e}"),
        })?;
    let unrecognised = |message: &str| HarvestError::Unrecognised {
        url: asked.url.clone(),
        message: message.to_owned(),
    };
    let firsts = body["data"]
        .as_array()
        .ok_or_else(|| unrecognised("no `data` array of partitions (is it a folio JSON:API list URL?)"))?
        .iter()
        .map(|part| match part["links"]["first"].as_str() {
            Some(href) => request::join(&asked.url, href),
            None => Err(unrecognised("a partition has no `links.first`")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if firsts.is_empty() {
        return Err(unrecognised("the server gave no partitions"));
    }
    let saved = Saved {
        asked,
        firsts,
        total: body["meta"]["total"].as_u64(),
    };
    std::fs::create_dir_all(dir).map_err(|e| HarvestError::io(format!("cannot create {}", dir.display()), e))?;
    let json = serde_json::to_vec_pretty(&saved).unwrap_or_default();
    std::fs::write(&list, json).map_err(|e| HarvestError::io(format!("cannot write {}", list.display()), e))?;
    Ok(saved)
}

/// A fresh partitioned harvest leaves existing output alone unless `overwrite`.
fn refuse_existing(dir: &Path, output: &Parts, overwrite: bool) -> Result<(), HarvestError> {
    let taken = |path: &Path, bytes: u64| HarvestError::OutputExists {
        path: path.to_owned(),
        bytes,
        advice: "add --resume to continue its harvest, or --overwrite to start again",
    };
    if let Parts::Joined(file) = output
        && let Ok(meta) = std::fs::metadata(file)
        && meta.len() > 0
    {
        if !overwrite {
            return Err(taken(file, meta.len()));
        }
        std::fs::remove_file(file).map_err(|e| HarvestError::io(format!("cannot remove {}", file.display()), e))?;
    }
    if dir.join("partitions.json").exists() {
        if !overwrite {
            return Err(taken(dir, 0));
        }
        std::fs::remove_dir_all(dir).map_err(|e| HarvestError::io(format!("cannot remove {}", dir.display()), e))?;
    }
    Ok(())
}

/// The partitions request for the list whose first page is `start`: its path with
/// `/-/partitions`, its parameters without a position, and `count`.
fn partitions_request(start: &Request, count: u16) -> Result<Request, HarvestError> {
    let mut url = reqwest::Url::parse(&start.url).map_err(|source| HarvestError::Url {
        url: start.url.clone(),
        source,
    })?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !POSITION_PARAMS.contains(&k.as_ref()) && k != "count")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let path = format!("{}/-/partitions", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.query_pairs_mut()
        .clear()
        .extend_pairs(&kept)
        .append_pair("count", &count.to_string());
    Ok(Request::get(url.to_string()))
}

/// The file of part `i` (from 0) in `dir`.
fn part_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("part-{:04}.jsonl", i + 1))
}

/// Appends the parts, in order, to `file` (replacing what it held), and syncs it.
fn join(dir: &Path, parts: usize, file: &Path) -> Result<(), HarvestError> {
    let io = |e| HarvestError::io(format!("cannot write {}", file.display()), e);
    let mut out = std::fs::File::create(file).map_err(io)?;
    for i in 0..parts {
        let part = part_file(dir, i);
        let mut input =
            std::fs::File::open(&part).map_err(|e| HarvestError::io(format!("cannot read {}", part.display()), e))?;
        std::io::copy(&mut input, &mut out).map_err(io)?;
    }
    out.flush().map_err(io)?;
    out.sync_all().map_err(io)
}

/// The summary of parts: their sums, complete when all are.
fn add<'a>(parts: impl Iterator<Item = &'a Summary>, declared: Option<Total>) -> Summary {
    let mut sum = Summary {
        plan: None,
        records: 0,
        pages: 0,
        retries: 0,
        seconds: 0.0,
        declared,
        complete: true,
        ended: None,
        next: None,
    };
    for part in parts {
        sum.plan = sum.plan.or_else(|| part.plan.clone());
        sum.records += part.records;
        sum.pages += part.pages;
        sum.retries += part.retries;
        sum.seconds = sum.seconds.max(part.seconds);
        sum.complete &= part.complete;
        if !part.complete && sum.next.is_none() {
            sum.next = part.next.clone();
            sum.ended = part.ended.clone();
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partitions_request_keeps_the_list_and_drops_its_position() {
        let start = Request::get(
            "http://h:1/api/jsonapi/entries?sort=-t&page%5Bcursor%5D=1&page%5Bsize%5D=500&filter%5Bp%5D=a",
        );
        let asked = partitions_request(&start, 8).unwrap();
        assert_eq!(
            asked.url,
            "http://h:1/api/jsonapi/entries/-/partitions?sort=-t&page%5Bsize%5D=500&filter%5Bp%5D=a&count=8"
        );
    }
}
