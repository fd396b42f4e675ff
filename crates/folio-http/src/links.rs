//! Building the absolute-path links of responses and the RFC 8288 `Link` header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A link target: a path and its query parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    path: String,
    params: Vec<(String, String)>,
}

impl Target {
    /// A target at `path` carrying `params` (the parameters that stay the same on every page,
    /// such as sort and filters).
    pub(crate) fn new(path: String, params: Vec<(String, String)>) -> Target {
        Target { path, params }
    }

    /// This target with more parameters appended.
    pub(crate) fn with(&self, extra: &[(&str, String)]) -> Target {
        let mut params = self.params.clone();
        params.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        Target {
            path: self.path.clone(),
            params,
        }
    }

    /// The absolute-path URL, with keys and values form-encoded (so `[` and `]` are escaped
    /// as RFC 3986 requires in a query).
    pub(crate) fn href(&self) -> String {
        if self.params.is_empty() {
            return self.path.clone();
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish();
        format!("{}?{query}", self.path)
    }
}

/// The RFC 8288 `Link` header for `(relation, href)` pairs, or `None` when there are none.
pub(crate) fn header(links: &[(&str, String)]) -> Option<HeaderValue> {
    if links.is_empty() {
        return None;
    }
    let value = links
        .iter()
        .map(|(rel, href)| format!("<{href}>; rel=\"{rel}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // Hrefs are form-encoded ASCII and relation names are ours, so this cannot fail.
    HeaderValue::from_str(&value).ok()
}

/// Percent-encodes one path segment (a collection name or an id).
pub(crate) fn segment(text: &str) -> String {
    // Through `Cow` rather than `Display`: most segments need no escaping and are copied as they are.
    std::borrow::Cow::from(percent_encoding::utf8_percent_encode(text, SEGMENT)).into_owned()
}

/// Whether `text` is only unreserved characters (letters, digits, `-`, `_`, `.`, `~`): a path
/// segment as it is, and a JSON string without escapes.
pub(crate) fn is_unreserved(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// Percent-encodes one path segment onto `out`, without an intermediate `String`.
pub(crate) fn push_segment(out: &mut Vec<u8>, text: &str) {
    for part in percent_encoding::utf8_percent_encode(text, SEGMENT) {
        out.extend_from_slice(part.as_bytes());
    }
}

/// Everything but unreserved characters is escaped in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A response with a body of the given media type and, when there are links, a `Link`
/// header.
pub(crate) fn respond(
    status: StatusCode,
    media_type: &'static str,
    body: impl Into<axum::body::Body>,
    links: &[(&str, String)],
) -> Response {
    let mut response = (status, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Some(value) = self::header(links) {
        headers.insert(header::LINK, value);
    }
    response
}
