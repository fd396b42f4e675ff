//! The next request of a walk: what a checkpoint stores, and what loop detection compares.

use serde::{Deserialize, Serialize};

/// One request of a walk: a GET of a URL, or a POST of a JSON body to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The absolute URL.
    pub url: String,
    /// The JSON body to POST, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            url: url.into(),
            body: None,
        }
    }

    /// A text naming the position this request asks for, for loop detection.
    pub fn position(&self) -> String {
        match &self.body {
            None => self.url.clone(),
            Some(body) => format!("{} {}", self.url, body),
        }
    }
}
