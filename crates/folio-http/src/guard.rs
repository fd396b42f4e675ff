//! The request guard around every route: at most `max_concurrent_requests` answered at once
//! (the others wait for a slot), and none longer than `request_timeout`, waiting included.
//! A request over the time limit gets a 503 problem with `Retry-After`, whatever its style:
//! the style is not known before routing, and a busy server is not a request error.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::state::HttpConfig;

/// Slots and the time limit, shared by all requests.
#[derive(Clone)]
pub(crate) struct Guard {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Guard {
    /// A guard with the limits of `config`.
    pub(crate) fn new(config: &HttpConfig) -> Guard {
        Guard {
            slots: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            timeout: config.request_timeout,
        }
    }
}

/// Waits for a slot and answers the request, within the time limit.
pub(crate) async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let answer = async {
        // The semaphore is never closed, so acquiring only fails if it were.
        let _slot = guard.slots.acquire().await;
        next.run(request).await
    };
    match tokio::time::timeout(guard.timeout, answer).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = crate::simple::problem(&ApiError::TimedOut { limit: guard.timeout });
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}
