//! Why a harvest stopped early.

/// A harvest that cannot go on. Each message says what happened and, where it helps, what to
/// do about it.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    /// The server answered with an error that retrying will not heal.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The server kept failing after every retry.
    #[error("{url} still failed after {retries} retries: {last}")]
    GaveUp {
        /// The URL asked.
        url: String,
        /// How many retries were made.
        retries: u32,
        /// The last failure.
        last: String,
    },
    /// The response is not what any known pagination style looks like.
    #[error("{url}: {message}")]
    Unrecognised {
        /// The URL asked.
        url: String,
        /// What was expected and not found.
        message: String,
    },
    /// The walk came back to a position it had been at, or got a page it had got before.
    #[error("loop: {0} (use --allow-repeat for APIs that legitimately repeat)")]
    Loop(String),
    /// A `next` link leads to another origin.
    #[error(
        "the next link {next} leaves the origin {origin}; credentials are only sent to the first URL's origin (use --follow-any-origin to allow it)"
    )]
    OtherOrigin {
        /// The link.
        next: String,
        /// The first URL's origin.
        origin: String,
    },
    /// The number of records differs from the exact total the API declared (with `--strict`).
    #[error("received {got} records but the API declared exactly {declared}")]
    CountMismatch {
        /// Records received.
        got: u64,
        /// The declared total.
        declared: u64,
    },
    /// The walk ended while the API said there was more.
    #[error(
        "the walk ended after {records} records, but {said}; the harvest is incomplete. If the API pages in a way folio did not detect, say how with --next-url-path, --cursor-path/--cursor-param, --page-param or --offset-param (`folio harvest --explain URL` shows what was detected)"
    )]
    EndedEarly {
        /// Records received.
        records: u64,
        /// What the API said.
        said: String,
    },
    /// No way of asking for the second page gave one that follows the first.
    #[error(
        "{url}: the second page could not be fetched as the first suggests (tried {tried}); nothing was written twice. Say how to page with --next-url-path, --cursor-path/--cursor-param, --page-param/--first-page or --offset-param"
    )]
    NotConfirmed {
        /// The first page's URL.
        url: String,
        /// What was tried and why each failed.
        tried: String,
    },
    /// `--resume` without a checkpoint.
    #[error("nothing to resume: {0} does not exist; run without --resume to start the harvest")]
    NothingToResume(std::path::PathBuf),
    /// `--resume` of another walk.
    #[error(
        "the checkpoint is of another walk: it started at {was}, this one at {now}; resume with the first URL (and --data) of that walk, or choose another --out"
    )]
    OtherWalk {
        /// The first request of the checkpoint's walk.
        was: String,
        /// This harvest's first request.
        now: String,
    },
    /// The output file exists and would be replaced.
    #[error("{path} exists ({bytes} bytes) and was left unchanged: {advice}")]
    OutputExists {
        /// The file.
        path: std::path::PathBuf,
        /// Its size.
        bytes: u64,
        /// What to do.
        advice: &'static str,
    },
    /// A `--fields` path that no record of the first page has.
    #[error("--fields: no record of the first page has `{path}`; its records have {available}")]
    NoSuchField {
        /// The path.
        path: String,
        /// The paths the first record has.
        available: String,
    },
    /// Reading or writing local files failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// A URL that cannot be parsed or joined.
    #[error("invalid URL `{url}` ({source}); expected an absolute http:// or https:// URL")]
    Url {
        /// The URL.
        url: String,
        /// The error.
        source: url::ParseError,
    },
}

impl HarvestError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> HarvestError {
        HarvestError::Io {
            context: context.into(),
            source,
        }
    }
}
