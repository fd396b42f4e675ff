//! Who is asking: a request's bearer token, resolved once against the policy in force, and
//! the access decisions made from it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;

use super::AccessPolicy;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller of one request: the policy snapshot it is judged by and what it presented.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    policy: Arc<AccessPolicy>,
    credential: Credential,
}

/// What a request presented in its `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credential {
    /// No bearer token: no header, another scheme, or an empty token.
    None,
    /// A bearer token the policy does not know, or a header that cannot be read as one
    /// (not text, or given twice).
    Unknown,
    /// The token of the policy's grant at this index.
    Token(usize),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Infallible;

    /// The caller a middleware already resolved for this request ([`crate::cache`]), so that
    /// one request is judged once, by one policy; else resolved now.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Infallible> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Ok(Caller::new(state.access().current(), &parts.headers))
    }
}

impl Caller {
    /// The caller presenting `headers`, judged by `policy`.
    pub(crate) fn new(policy: Arc<AccessPolicy>, headers: &HeaderMap) -> Caller {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let credential = match (values.next(), values.next()) {
            (None, _) => Credential::None,
            (Some(_), Some(_)) => Credential::Unknown,
            (Some(value), None) => match bearer(value) {
                Bearer::Absent => Credential::None,
                Bearer::Unreadable => Credential::Unknown,
                Bearer::Token(token) => policy
                    .authenticate(token)
                    .map_or(Credential::Unknown, Credential::Token),
            },
        };
        Caller { policy, credential }
    }

    /// Whether the caller may read `collection`: public collections are open to everyone;
    /// a private one needs a bearer token (else [`ApiError::Unauthorized`], a 401) that
    /// grants it (else [`ApiError::UnknownCollection`], the 404 of a collection that does
    /// not exist, word for word).
    pub(crate) fn check(&self, collection: &str) -> Result<(), ApiError> {
        if !self.policy.is_private(collection) {
            return Ok(());
        }
        match self.credential {
            Credential::None => Err(ApiError::Unauthorized(collection.to_owned())),
            Credential::Token(i) if self.policy.tokens[i].scope.allows(collection) => Ok(()),
            Credential::Token(_) | Credential::Unknown => Err(ApiError::UnknownCollection {
                name: collection.to_owned(),
                readable: Vec::new(),
            }),
        }
    }

    /// Whether listings may show `collection` to this caller: only if it may read it.
    pub(crate) fn sees(&self, collection: &str) -> bool {
        self.check(collection).is_ok()
    }

    /// The principal `collection` is read as, which cursors are bound to: `None`
    /// (anonymous) for a public collection whoever asks, so its cursors work for everyone;
    /// the token's name for a private one.
    pub(crate) fn reader(&self, collection: &str) -> Option<&str> {
        match self.credential {
            Credential::Token(i) if self.policy.is_private(collection) => Some(&self.policy.tokens[i].name),
            _ => None,
        }
    }
}

/// The token of an `Authorization` header.
enum Bearer<'a> {
    Absent,
    Unreadable,
    Token(&'a str),
}

/// Reads `Bearer <token>` (the scheme in any case, RFC 9110 section 11.1). Other schemes
/// carry no bearer token.
fn bearer(value: &HeaderValue) -> Bearer<'_> {
    let Ok(text) = value.to_str() else {
        return Bearer::Unreadable;
    };
    let text = text.trim();
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Absent;
    }
    match token.trim() {
        "" => Bearer::Absent,
        token => Bearer::Token(token),
    }
}

/// Wraps the application with what access control needs around every route: the
/// `WWW-Authenticate` challenge on every 401 (whichever style rendered it), and the
/// `Authorization` header marked sensitive before anything else sees the request, so that
/// anything that prints headers (tower-http's trace layer among them) prints `Sensitive`
/// instead of a token.
pub(crate) fn protect(app: Router) -> Router {
    app.layer(axum::middleware::map_response(challenge))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION]))
}

/// Adds `WWW-Authenticate: Bearer realm="folio"` to a 401 (RFC 6750 section 3).
async fn challenge(mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"folio\""),
        );
    }
    response
}
