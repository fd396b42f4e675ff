//! Fetching one page, with timeouts and retries.
//!
//! Connection errors, timeouts, bodies cut short or not JSON, 429 and 5xx are retried with
//! exponential backoff and jitter (250 ms doubling, at most 30 s), honouring `Retry-After`.
//! Other 4xx answers will not heal and end the harvest at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::body::Body;
use crate::buffers::Buffers;
use crate::error::HarvestError;
use crate::plan::Response;
use crate::request::Request;
use crate::request::link_next;

/// The most bytes reserved for a body before it arrives, whatever its `Content-Length` says.
const MAX_RESERVED_BYTES: u64 = 64 << 20;

/// An HTTP client that retries. Clones share the connection pool and the retry count, so a
/// page can be fetched on another task while the previous one is written.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    headers: Arc<Vec<(String, String)>>,
    max_retries: u32,
    retries: Arc<AtomicU64>,
    jitter: u64,
    buffers: Buffers,
}

impl Fetcher {
    /// A fetcher reading bodies into buffers of `buffers`.
    pub(crate) fn new(
        headers: Vec<(String, String)>,
        timeout: Duration,
        max_retries: u32,
        buffers: Buffers,
    ) -> Result<Fetcher, HarvestError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("folio-harvest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HarvestError::io("cannot set up the HTTP client", std::io::Error::other(e)))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Ok(Fetcher {
            client,
            headers: Arc::new(headers),
            max_retries,
            retries: Arc::default(),
            jitter: seed | 1,
            buffers,
        })
    }

    /// Retries made so far, over the whole harvest.
    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Fetches one page, retrying what may heal. As soon as a successful answer's headers
    /// arrive, the target of its `Link: rel="next"` (if any) is sent to `early`, so the next
    /// page can be requested while this body is still being read.
    pub(crate) async fn fetch(
        &mut self,
        request: &Request,
        mut early: Option<tokio::sync::oneshot::Sender<String>>,
    ) -> Result<Response, HarvestError> {
        let mut attempt = 0u32;
        loop {
            let failure = match self.once(request, &mut early).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(fatal)) => return Err(fatal),
                Err(failure) => failure,
            };
            if attempt >= self.max_retries {
                return Err(HarvestError::GaveUp {
                    url: request.url.clone(),
                    retries: attempt,
                    last: failure.reason,
                });
            }
            let delay = match failure.retry_after {
                Some(after) => after,
                None => backoff(attempt).mul_f64(0.5 + self.random()),
            };
            tracing::debug!(url = %request.url, reason = %failure.reason, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One try: `Ok(Ok)` a page, `Ok(Err)` a failure that will not heal, `Err` one that may.
    async fn once(
        &mut self,
        request: &Request,
        early: &mut Option<tokio::sync::oneshot::Sender<String>>,
    ) -> Result<Result<Response, HarvestError>, Retry> {
        let response = self.send(request).await?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(Retry {
                reason: format!("status {status}"),
                retry_after: retry_after(&response),
            });
        }
        let link = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(link_next);
        let headers = pagination_headers(&response);
        if let (true, Some(next)) = (status.is_success(), &link)
            && let Some(sender) = early.take()
        {
            let _ = sender.send(next.clone());
            // Let the harvest send that request before this body is read: on a one-thread
            // runtime, reading a body that has already arrived never yields on its own.
            tokio::task::yield_now().await;
        }
        let bytes = self.body(response).await?;
        if !status.is_success() {
            let body: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            return Ok(Err(HarvestError::Status {
                url: request.url.clone(),
                status: status.as_u16(),
                body,
            }));
        }
        let text = String::from_utf8(bytes).map_err(|e| Retry::because(format!("the body is not UTF-8 text: {e}")))?;
        let body = Body::parse(text).map_err(|e| Retry::because(format!("the body is not whole JSON: {e}")))?;
        Ok(Ok(Response {
            body,
            link_next: link,
            headers,
        }))
    }

    /// Sends `request` (a POST if it has a body), with the harvest's headers.
    async fn send(&self, request: &Request) -> Result<reqwest::Response, Retry> {
        let mut builder = match &request.body {
            Some(body) => self.client.post(&request.url).json(body),
            None => self.client.get(&request.url),
        };
        for (name, value) in self.headers.iter() {
            builder = builder.header(name, value);
        }
        builder
            .send()
            .await
            .map_err(|e| Retry::because(format!("request failed: {e}")))
    }

    /// Reads the body of `response` into a buffer used again from page to page.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, Retry> {
        let mut bytes = self.buffers.take();
        // The announced length is a hint, trusted only so far: a server cannot make the
        // harvester reserve more than this up front.
        let hint = response.content_length().unwrap_or(0).min(MAX_RESERVED_BYTES);
        bytes.reserve(usize::try_from(hint).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Retry::because(format!("the body was cut short: {e}")))?
        {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// A number in [0, 1) from a xorshift stream: jitter needs no better randomness.
    fn random(&mut self) -> f64 {
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        (self.jitter >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A failure worth retrying.
struct Retry {
    reason: String,
    retry_after: Option<Duration>,
}

impl Retry {
    fn because(reason: String) -> Retry {
        Retry {
            reason,
            retry_after: None,
        }
    }
}

/// The wait before retry number `attempt + 1`: 250 ms, doubling, at most 30 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(7))).min(Duration::from_secs(30))
}

/// The wait a `Retry-After` header asks for, in seconds (at most five minutes).
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(300)))
}

/// Headers of pagination conventions: `X-Total-Count`, `X-Pagination`, `X-Next-Page`,
/// `Content-Range`, `Link`...
fn pagination_headers(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .filter(|(name, _)| {
            name.as_str().starts_with("x-")
                || *name == reqwest::header::CONTENT_RANGE
                || *name == reqwest::header::LINK
                || name.as_str() == "total"
        })
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect()
}
