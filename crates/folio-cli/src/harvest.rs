//! `folio harvest`: drain a paginated API to its end.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use folio_harvest::{Next, Options, Output, Parts, Plan, Request, Summary, Total, harvest, harvest_partitions};
use indicatif::ProgressBar;

/// Walk a paginated API from URL to its end and write every record as one JSON line.
///
/// How the API pages is detected from its responses, with no flags: next links (an RFC 8288
/// `Link` header; `next`, `next_url`, `links.next`, `_links.next.href`, `@odata.nextLink`,
/// `paging.next`... in the body), cursor tokens sent back as a query parameter
/// (`next_cursor` -> `cursor`, `nextPageToken` -> `pageToken`, `metadata.continue` ->
/// `continue`...), `has_more` with the last id (`starting_after`), and page numbers or offsets
/// from a declared total or page count. Records are found under `data`, `results`, `items`,
/// `rows`, `entries`, `records`, `hits.hits`, `value`, `_embedded.*`, the resource's name, or
/// are the body itself. A guessed parameter is confirmed on the second page. The first line on
/// stderr says what was detected; --explain shows it, with the flags that reproduce it,
/// without writing anything.
///
/// A walk that ends while the API said there was more (a next position it could not follow,
/// an exact total or page count not reached) fails with exit code 1: the harvest is never
/// reported complete on a partial result.
///
/// Failures that may heal (connection errors, truncated bodies, 429, 5xx) are retried with
/// backoff, honouring Retry-After. With --out, every page is made durable and checkpointed,
/// so after a crash `--resume` continues where it stopped with every record exactly once. An
/// existing file is never replaced without --overwrite.
///
/// Examples:
///   folio harvest 'http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1&page[size]=1000' --out entries.jsonl
///   folio harvest --resume 'http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1&page[size]=1000' --out entries.jsonl
///   folio harvest --explain 'https://api.example.org/items?limit=100'
///   folio harvest http://127.0.0.1:8080/query/entries/query --data '{"pagination": {"page_size": 1000}}'
///   folio harvest 'https://api.example.org/items?limit=100' --cursor-path meta.next_cursor --cursor-param cursor
///   folio harvest --partitions 4 'http://127.0.0.1:8080/jsonapi/entries?page[size]=1000' --out e.jsonl
///   folio harvest --partitions 4 'http://127.0.0.1:8080/jsonapi/entries?page[size]=1000' --out-dir e/
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct HarvestArgs {
    /// The first page's URL.
    url: String,

    /// Write records to this file (with FILE.checkpoint and FILE.manifest.json beside it)
    /// instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Ask a folio server (URL: a `/jsonapi/{collection}` list) to cut the result into N
    /// partitions of about equal size, and walk them at once, each with its own checkpoint.
    /// With --out, the parts are joined in the result's order once all are complete (kept in
    /// FILE.parts meanwhile); with --out-dir, each part stays a file of its own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(folio_harvest::MAX_PARTS)),
          conflicts_with_all = ["explain", "max_records", "max_pages", "data"])]
    partitions: Option<u16>,

    /// With --partitions: write part I to DIR/part-000I.jsonl, in the result's order, instead
    /// of joining them into --out.
    #[arg(long, value_name = "DIR", requires = "partitions", conflicts_with = "out")]
    out_dir: Option<PathBuf>,

    /// Continue an interrupted harvest from the checkpoint of --out (the same URL and
    /// --data: another walk is refused), or from the parts' checkpoints with --partitions.
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,

    /// Replace --out (or --out-dir's parts) if it already holds records (without it, an
    /// existing file is left unchanged and the harvest refuses to start).
    #[arg(long)]
    overwrite: bool,

    /// Fetch the first two pages, print what was detected and the flags that reproduce it,
    /// and write no records.
    #[arg(long, conflicts_with_all = ["out", "resume"])]
    explain: bool,

    /// POST this JSON body instead of GET (the `query` style's body, for example).
    #[arg(long, value_name = "JSON")]
    data: Option<String>,

    /// A preset for folio's own styles, when detection is not wanted. The flags that name a
    /// way of paging (--next-url-path, --cursor-path, --more-path, --page-param,
    /// --offset-param) replace detection themselves and are not combined with a preset.
    #[arg(long, value_enum, default_value_t = StyleArg::Auto,
          conflicts_with_all = ["next_url_path", "cursor_path", "more_path", "page_param", "offset_param"])]
    style: StyleArg,

    /// Dotted path of the next page's URL in each body, e.g. `--next-url-path paging.next`.
    #[arg(long, value_name = "PATH")]
    next_url_path: Option<String>,

    /// Dotted path of the next cursor token in each body, sent back as --cursor-param, e.g.
    /// `--cursor-path meta.next_cursor --cursor-param cursor`.
    #[arg(long, value_name = "PATH", requires = "cursor_param")]
    cursor_path: Option<String>,

    /// Query parameter that takes the token of --cursor-path (or the last id, with
    /// --more-path).
    #[arg(long, value_name = "NAME")]
    cursor_param: Option<String>,

    /// Dotted path of a flag that is true while there are more records; each next request
    /// sends the last record's --id-path as --cursor-param, e.g.
    /// `--more-path has_more --cursor-param starting_after`.
    #[arg(long, value_name = "PATH", requires = "cursor_param", conflicts_with = "cursor_path")]
    more_path: Option<String>,

    /// Member of each record that holds its id, with --more-path.
    #[arg(long, value_name = "NAME", default_value = "id")]
    id_path: String,

    /// Query parameter of page numbers, counted up until an empty or short page, the declared
    /// page count or the declared total, e.g. `--page-param page`.
    #[arg(long, value_name = "NAME")]
    page_param: Option<String>,

    /// The number of the API's first page (0 or 1), with --page-param, e.g.
    /// `--page-param page --first-page 0`. Default: the URL's page, or 1.
    #[arg(long, value_name = "N", requires = "page_param")]
    first_page: Option<u64>,

    /// Query parameter of offsets, advanced by the records of each page until an empty or
    /// short page or the declared total, e.g. `--offset-param offset` (the URL keeps its
    /// limit parameter).
    #[arg(long, value_name = "NAME", conflicts_with = "page_param")]
    offset_param: Option<String>,

    /// Pages to fetch at once in page-number walks whose total or page count is known from
    /// the first page; they are written in order.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,

    /// Dotted path of the records' array in each body, when detection does not find it, e.g.
    /// `--records-path response.docs`.
    #[arg(long, value_name = "PATH")]
    records_path: Option<String>,

    /// Keep only these comma-separated dotted paths of each record, looked up in the record
    /// and then in its `attributes` (JSON:API), e.g. `--fields name,population`.
    #[arg(long, value_name = "PATHS", value_delimiter = ',')]
    fields: Option<Vec<String>>,

    /// A header for every request, as `Name: value` (repeatable): sent to the first URL's
    /// origin only.
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    headers: Vec<String>,

    /// Seconds before one request times out.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    timeout: u64,

    /// Retries of one request before giving up.
    #[arg(long, default_value_t = 8, value_name = "N")]
    retries: u32,

    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    max_records: Option<u64>,

    /// Stop after this many pages.
    #[arg(long, value_name = "N")]
    max_pages: Option<u64>,

    /// Do not stop when a position or a page repeats (for APIs that legitimately repeat).
    #[arg(long)]
    allow_repeat: bool,

    /// Follow next links to other hosts (credentials from --header go along).
    #[arg(long)]
    follow_any_origin: bool,

    /// Fail when the number of records differs from the exact total the API declared (a
    /// total marked as an estimate or a lower bound is never a mismatch).
    #[arg(long)]
    strict: bool,

    /// No progress bar and no periodic log lines.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StyleArg {
    /// Detect from the responses.
    Auto,
    /// JSON:API: `links.next`, records in `data`.
    Jsonapi,
    /// HAL: `_links.next.href`, records in `_embedded.items`.
    Hal,
    /// RFC 8288 `Link` header.
    Link,
    /// `next_page_after_value` into the POST body's `page_after_value`.
    BodyCursor,
}

impl HarvestArgs {
    /// The way of paging the flags name, and where they put the records; `None` detects.
    fn next(&self) -> (Option<Next>, Option<String>) {
        let records = self.records_path.clone();
        let owned = |s: &str| s.to_owned();
        let next = if let Some(path) = &self.next_url_path {
            Next::Url { path: path.clone() }
        } else if let (Some(path), Some(param)) = (&self.cursor_path, &self.cursor_param) {
            Next::Token {
                path: path.clone(),
                param: param.clone(),
            }
        } else if let (Some(flag), Some(param)) = (&self.more_path, &self.cursor_param) {
            Next::AfterLast {
                flag: flag.clone(),
                id: self.id_path.clone(),
                param: param.clone(),
            }
        } else if let Some(param) = &self.page_param {
            Next::Pages {
                param: param.clone(),
                first: self.first_page.unwrap_or(1),
            }
        } else if let Some(param) = &self.offset_param {
            Next::Offsets { param: param.clone() }
        } else {
            return match self.style {
                StyleArg::Auto => (None, records),
                StyleArg::Jsonapi => (
                    Some(Next::Url {
                        path: owned("links.next"),
                    }),
                    records.or(Some(owned("data"))),
                ),
                StyleArg::Hal => (
                    Some(Next::Url {
                        path: owned("_links.next.href"),
                    }),
                    records.or(Some(owned("_embedded.items"))),
                ),
                StyleArg::Link => (Some(Next::LinkHeader), records),
                StyleArg::BodyCursor => (Some(Next::BodyCursor), records.or(Some(owned("data")))),
            };
        };
        (Some(next), records)
    }
}

/// Runs `folio harvest`.
pub(crate) fn run(args: HarvestArgs) -> anyhow::Result<()> {
    let options = args.options()?;
    if args.explain {
        return explain(&args.url, options);
    }
    if (args.resume || args.overwrite) && args.out.is_none() && args.out_dir.is_none() {
        bail!("--resume and --overwrite need --out FILE (or --out-dir DIR with --partitions)");
    }
    let mut progress = Progress::new(args.quiet);
    let started = Instant::now();
    let result = if let Some(count) = args.partitions {
        let parts = match (&args.out, &args.out_dir) {
            (Some(file), _) => Parts::Joined(file.clone()),
            (None, Some(dir)) => Parts::Dir(dir.clone()),
            (None, None) => {
                bail!("--partitions needs --out FILE (the parts joined) or --out-dir DIR (a file per part)")
            }
        };
        runtime()?.block_on(harvest_partitions(&options, count, &parts, args.resume, &mut |s| {
            progress.show(s)
        }))
    } else {
        let output = match &args.out {
            Some(path) => Output::File(path.clone()),
            None => Output::Stdout,
        };
        runtime()?.block_on(harvest(&options, &output, args.resume, &mut |s| progress.show(s)))
    };
    progress.bar.finish_and_clear();
    let summary = result.context("the harvest stopped")?;
    report(&summary, started.elapsed().as_secs_f64());
    Ok(())
}

impl HarvestArgs {
    /// The harvest the flags ask for.
    fn options(&self) -> anyhow::Result<Options> {
        let body = self
            .data
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
            .transpose()
            .context("--data is not JSON")?;
        if self.cursor_param.is_some() && self.cursor_path.is_none() && self.more_path.is_none() {
            bail!("--cursor-param needs --cursor-path (a token in the body) or --more-path (a has_more flag)");
        }
        let (next, records_path) = self.next();
        let headers = self
            .headers
            .iter()
            .map(|h| match h.split_once(':') {
                Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
                None => bail!("--header `{h}` is not `Name: value`"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Options {
            start: Request {
                url: self.url.clone(),
                body,
            },
            next,
            records_path,
            fields: self.fields.clone(),
            headers,
            timeout: Duration::from_secs(self.timeout),
            retries: self.retries,
            max_records: self.max_records,
            max_pages: self.max_pages,
            allow_repeat: self.allow_repeat,
            follow_any_origin: self.follow_any_origin,
            strict: self.strict,
            concurrency: usize::from(self.concurrency),
            overwrite: self.overwrite,
        })
    }
}

/// What a harvest shows while it runs: first, on stderr, what was detected; then a progress
/// bar on a terminal, or else a log line every ten seconds (neither with --quiet).
struct Progress {
    bar: ProgressBar,
    quiet: bool,
    /// Whether the line that says what was detected was written.
    told: bool,
    last_log: Instant,
}

impl Progress {
    /// Progress on stderr, hidden with `quiet` or when stderr is not a terminal.
    fn new(quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new_spinner()
        };
        Progress {
            bar,
            quiet,
            told: false,
            last_log: Instant::now(),
        }
    }

    /// Shows how the harvest stands after a page.
    fn show(&mut self, s: &Summary) {
        if let (false, Some(plan)) = (self.told, &s.plan) {
            // The first line on stderr: what was detected, so that a wrong guess shows at once.
            self.told = true;
            self.bar.suspend(|| eprintln!("{}", detected(plan, s.declared)));
        }
        if let Some(total) = s.declared
            && self.bar.length() != Some(total.value)
        {
            self.set_total(total);
        }
        self.bar.set_position(s.records);
        self.bar
            .set_message(format!("{} pages, {} retries", s.pages, s.retries));
        if self.bar.is_hidden() && !self.quiet && self.last_log.elapsed() >= Duration::from_secs(10) {
            self.last_log = Instant::now();
            tracing::info!(records = s.records, pages = s.pages, retries = s.retries, total = ?s.declared.map(|t| t.to_string()), "harvesting");
        }
    }

    /// Makes the bar count up to the declared total.
    fn set_total(&self, total: Total) {
        self.bar.set_length(total.value);
        let template = if total.exact {
            "{pos}/{len} records {wide_bar} {rate} ({eta} left)"
        } else {
            "{pos}/at least {len} records {wide_bar} {rate}"
        };
        self.bar.set_style(crate::progress::style(template));
    }
}

/// The last line of a harvest that took `seconds`: what it harvested, how fast, and how the
/// walk ended; and a warning when a complete walk's count differs from the exact total
/// declared.
fn report(summary: &Summary, seconds: f64) {
    eprintln!(
        "harvested {} records in {} page{} ({} retr{}) in {seconds:.1} s ({:.0} records/s){}",
        summary.records,
        summary.pages,
        if summary.pages == 1 { "" } else { "s" },
        summary.retries,
        if summary.retries == 1 { "y" } else { "ies" },
        summary.records as f64 / seconds.max(1e-9),
        match (&summary.next, summary.complete) {
            (_, true) => format!(", complete: {}", summary.ended.as_deref().unwrap_or("no next page")),
            (Some(next), false) => format!(
                ", stopped before {} ({})",
                next.url,
                summary.ended.as_deref().unwrap_or("a limit was reached")
            ),
            (None, false) => String::new(),
        }
    );
    if let (true, Some(declared)) = (summary.complete, summary.declared)
        && declared.exact
        && declared.value != summary.records
    {
        eprintln!(
            "warning: the API declared {declared} records but {} were received",
            summary.records
        );
    }
}

/// One thread: fetches overlap with the writing of pages as tasks, not threads, and a request
/// spawned early is sent at the next yield instead of waiting for another worker.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The line that says what was detected.
fn detected(plan: &Plan, total: Option<Total>) -> String {
    format!(
        "detected: {plan}; declared total: {}",
        total.map_or("none".to_owned(), |t| t.to_string())
    )
}

/// `folio harvest --explain`: the first two pages, what was detected, and the flags that
/// reproduce it.
fn explain(url: &str, mut options: Options) -> anyhow::Result<()> {
    options.max_pages = Some(2);
    let summary = runtime()?
        .block_on(harvest(&options, &Output::Discard, false, &mut |_| {}))
        .context("the first pages could not be read")?;
    let Some(plan) = &summary.plan else {
        bail!("no page was read");
    };
    println!("{}", detected(plan, summary.declared));
    println!(
        "read {} records in {} page{}{}",
        summary.records,
        summary.pages,
        if summary.pages == 1 { "" } else { "s" },
        if summary.complete {
            format!(
                ", the whole walk ({})",
                summary.ended.as_deref().unwrap_or("no next page")
            )
        } else {
            String::new()
        }
    );
    let quoted = |s: &str| {
        if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c)) {
            s.to_owned()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut flags: Vec<String> = plan.flags().iter().map(|f| quoted(f)).collect();
    if let Some(body) = &options.start.body {
        flags.extend(["--data".to_owned(), quoted(&body.to_string())]);
    }
    println!(
        "the same without detection: folio harvest {} {}",
        quoted(url),
        flags.join(" ")
    );
    Ok(())
}
