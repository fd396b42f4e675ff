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
    /// The number of records differs from the total the API declared (with `--strict`).
    #[error("received {got} records but the API declared {declared}")]
    CountMismatch {
        /// Records received.
        got: u64,
        /// The declared total.
        declared: u64,
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
