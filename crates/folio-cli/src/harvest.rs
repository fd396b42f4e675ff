//! `folio harvest`: drain a paginated API to its end.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use folio_harvest::{Options, Output, Request, Style, Summary, harvest};
use indicatif::{ProgressBar, ProgressStyle};

/// Walk a paginated API from URL to its end and write every record as one JSON line.
///
/// The pagination style is detected from the responses: JSON:API `links.next`, HAL
/// `_links.next.href`, an RFC 8288 `Link: <...>; rel="next"` header, or, for a POST body
/// given with --data, `pagination.next_page_after_value` copied into
/// `pagination.page_after_value`. Other APIs: --cursor-path/--cursor-param, --page-param or
/// --offset-param.
///
/// Failures that may heal (connection errors, truncated bodies, 429, 5xx) are retried with
/// backoff, honouring Retry-After. With --out, every page is made durable and checkpointed,
/// so after a crash `--resume` continues where it stopped with every record exactly once.
///
/// Examples:
///   folio harvest 'http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1&page[size]=1000' --out entries.jsonl
///   folio harvest --resume 'http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1&page[size]=1000' --out entries.jsonl
///   folio harvest http://127.0.0.1:8080/query/entries/query --data '{"pagination": {"page_size": 1000}}'
///   folio harvest 'https://api.example.org/items?limit=100' --cursor-path meta.next_cursor --cursor-param cursor
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct HarvestArgs {
    /// The first page's URL.
    url: String,

    /// Write records to this file (with FILE.checkpoint and FILE.manifest.json beside it)
    /// instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Continue an interrupted harvest from the checkpoint of --out.
    #[arg(long, requires = "out")]
    resume: bool,

    /// POST this JSON body instead of GET (the `query` style's body, for example).
    #[arg(long, value_name = "JSON")]
    data: Option<String>,

    /// The pagination style, when detection is not wanted.
    #[arg(long, value_enum, default_value_t = StyleArg::Auto)]
    style: StyleArg,

    /// Dotted path of the next cursor in each body (implies --style cursor).
    #[arg(long, value_name = "PATH", requires = "cursor_param")]
    cursor_path: Option<String>,

    /// Query parameter that takes the cursor.
    #[arg(long, value_name = "NAME", requires = "cursor_path")]
    cursor_param: Option<String>,

    /// Query parameter of page numbers (implies --style pages): counts up from the URL's
    /// value until an empty or short page.
    #[arg(long, value_name = "NAME")]
    page_param: Option<String>,

    /// Query parameter of offsets (implies --style offsets): advances by the records of each
    /// page until an empty or short page or the declared total.
    #[arg(long, value_name = "NAME", conflicts_with = "page_param")]
    offset_param: Option<String>,

    /// Pages to fetch at once in page-number walks (--page-param) whose total is known from
    /// the first page; they are written in order.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,

    /// Dotted path of the records in each body, when not where the style puts them.
    #[arg(long, value_name = "PATH")]
    records_path: Option<String>,

    /// Keep only these comma-separated dotted paths of each record.
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

    /// Fail when the number of records differs from the total the API declared.
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
    /// JSON:API `links.next`.
    Jsonapi,
    /// HAL `_links.next.href`.
    Hal,
    /// RFC 8288 `Link` header.
    Link,
    /// `next_page_after_value` into the POST body's `page_after_value`.
    BodyCursor,
}

/// Runs `folio harvest`.
pub(crate) fn run(args: HarvestArgs) -> anyhow::Result<()> {
    let body = args
        .data
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
        .transpose()
        .context("--data is not JSON")?;
    let style = match (&args.cursor_path, &args.cursor_param, &args.page_param, args.style) {
        (Some(path), Some(param), _, _) => Style::Cursor {
            path: path.clone(),
            param: param.clone(),
        },
        (_, _, Some(param), _) => Style::Pages { param: param.clone() },
        (_, _, None, _) if args.offset_param.is_some() => Style::Offsets {
            param: args.offset_param.clone().unwrap_or_default(),
        },
        (_, _, _, StyleArg::Auto) => Style::Auto,
        (_, _, _, StyleArg::Jsonapi) => Style::JsonApi,
        (_, _, _, StyleArg::Hal) => Style::Hal,
        (_, _, _, StyleArg::Link) => Style::Link,
        (_, _, _, StyleArg::BodyCursor) => Style::BodyCursor,
    };
    let headers = args
        .headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
            None => bail!("--header `{h}` is not `Name: value`"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = Options {
        start: Request {
            url: args.url.clone(),
            body,
        },
        style,
        records_path: args.records_path.clone(),
        fields: args.fields.clone(),
        headers,
        timeout: Duration::from_secs(args.timeout),
        retries: args.retries,
        max_records: args.max_records,
        max_pages: args.max_pages,
        allow_repeat: args.allow_repeat,
        follow_any_origin: args.follow_any_origin,
        strict: args.strict,
        concurrency: usize::from(args.concurrency),
    };
    let output = match &args.out {
        Some(path) => Output::File(path.clone()),
        None => Output::Stdout,
    };

    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    let started = Instant::now();
    let mut last_log = Instant::now();
    let quiet = args.quiet;
    let mut progress = |s: &Summary| {
        if let Some(total) = s.declared
            && bar.length() != Some(total)
        {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template("{pos}/{len} records {wide_bar} {per_sec} ({eta} left)")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        bar.set_position(s.records);
        bar.set_message(format!("{} pages, {} retries", s.pages, s.retries));
        if bar.is_hidden() && !quiet && last_log.elapsed() >= Duration::from_secs(10) {
            last_log = Instant::now();
            tracing::info!(records = s.records, pages = s.pages, retries = s.retries, total = ?s.declared, "harvesting");
        }
    };
    // One thread: fetches overlap with the writing of pages as tasks, not threads, and a
    // request spawned early is sent at the next yield instead of waiting for another worker.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(harvest(&options, &output, args.resume, &mut progress));
    bar.finish_and_clear();
    let summary = result.context("the harvest stopped")?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "harvested {} records in {} pages ({} retries) in {seconds:.1} s ({:.0} records/s){}",
        summary.records,
        summary.pages,
        summary.retries,
        summary.records as f64 / seconds.max(1e-9),
        match (&summary.next, summary.complete) {
            (_, true) => ", complete".to_owned(),
            (Some(next), false) => format!(", stopped before {}", next.url),
            (None, false) => String::new(),
        }
    );
    if let (true, Some(declared)) = (summary.complete, summary.declared)
        && declared != summary.records
    {
        eprintln!(
            "warning: the API declared {declared} records but {} were received",
            summary.records
        );
    }
    Ok(())
}
