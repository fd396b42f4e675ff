//! Reading requests: query-string pairs, misspelled parameter names, bounded JSON bodies.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

use crate::error::ApiError;

/// The query string as ordered `(name, value)` pairs, percent-decoded.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Checks names against a style's pagination parameters: a name that is not one of them but
/// is within two edits of one (`pge`, `per_pag`, `limt`) is a misspelling, answered with a
/// 400 naming the accepted ones. Other unknown names are ignored, as the conventions do.
pub(crate) fn check_spelling<'a>(names: impl IntoIterator<Item = &'a str>, known: &[&str]) -> Result<(), ApiError> {
    for name in names {
        if let Some(close) = closest(name, known) {
            return Err(ApiError::InvalidParameter {
                param: name.to_owned(),
                message: format!(
                    "is not a pagination parameter of this API (did you mean `{close}`?); accepted: {}",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The name of `known` that `name` misspells (within two edits, and not itself one of them).
pub(crate) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    if known.contains(&name) || name.len() < 3 {
        return None;
    }
    // Names whose lengths differ by more than two are more than two edits apart; checking
    // that first keeps long hostile names from costing a distance computation each.
    known
        .iter()
        .find(|k| name.chars().count().abs_diff(k.chars().count()) <= 2 && edit_distance(name, k) <= 2)
        .copied()
}

/// The members of a request body: a misspelled one (`paginaton`) is an error that names the
/// accepted ones, as a misspelled parameter is; others are ignored, as the conventions do.
pub(crate) fn check_members(body: &serde_json::Value, known: &[&str]) -> Result<(), ApiError> {
    let Some(members) = body.as_object() else {
        return Ok(());
    };
    for name in members.keys() {
        if let Some(close) = closest(name, known) {
            return Err(invalid(
                name,
                format!(
                    "is not a member of this request body (did you mean `{close}`?); accepted: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses what a style that pages in id order and returns whole records (`hal`, `simple`)
/// would otherwise ignore in silence: a sort, or a projection. `names` are the request's
/// parameters (or body members) and their values; `style` and `collection` make the advice.
pub(crate) fn refuse_sorts_and_fields<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    style: &str,
    collection: &str,
) -> Result<(), ApiError> {
    for (name, value) in pairs {
        let family = name.split('[').next().unwrap_or(name);
        let value: String = value.chars().take(60).collect();
        if ["sort", "sort_by", "sortBy", "order_by", "orderBy"].contains(&family) {
            return Err(invalid(
                name,
                format!(
                    "is not supported: `{style}` pages in id order only; to sort, use the `jsonapi` style (`/jsonapi/{collection}?sort={value}`) or the `query` style (`/query/{collection}?order_by=...`)"
                ),
            ));
        }
        if ["fields", "include"].contains(&family) {
            return Err(invalid(
                name,
                format!(
                    "is not supported: `{style}` returns whole records; to keep only some paths, use the `jsonapi` style (`/jsonapi/{collection}?fields[{collection}]={value}`) or the `query` style (`/query/{collection}?include=...`)"
                ),
            ));
        }
    }
    Ok(())
}

/// Finds the one value of `name`, or an error if it is given more than once.
pub(crate) fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut found = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(ApiError::InvalidParameter {
            param: name.to_owned(),
            message: "is given more than once".into(),
        });
    }
    Ok(first)
}

/// Parses `true` or `false`.
pub(crate) fn boolean(text: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match text {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::InvalidParameter {
            param: name.to_owned(),
            message: format!(
                "is `{}`; expected true or false",
                other.chars().take(40).collect::<String>()
            ),
        }),
    }
}

/// The first 40 characters of a value, for quoting it in an error.
pub(crate) fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// An invalid-parameter error for `param`, with `message` saying what is wrong and allowed.
pub(crate) fn invalid(param: &str, message: String) -> ApiError {
    ApiError::InvalidParameter {
        param: param.to_owned(),
        message,
    }
}

/// The `pagination` object of a request body, checked to hold only `accepted` fields.
pub(crate) fn pagination(
    body: &serde_json::Value,
    accepted: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let map = match body.get("pagination") {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(map)) => map.clone(),
        Some(_) => return Err(invalid("pagination", "must be an object".into())),
    };
    if let Some(key) = map.keys().find(|k| !accepted.contains(&k.as_str())) {
        return Err(invalid(
            &format!("pagination.{key}"),
            format!("is not a pagination field; accepted: {}", accepted.join(", ")),
        ));
    }
    Ok(map)
}

/// A field of a body as text, as a query parameter would give it (`null`: absent).
pub(crate) fn text(map: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    match map.get(name) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// How much of a body over the limit is still read, and thrown away, before the 413: a
/// connection closed on a client still sending is reset, and the client would see the reset
/// instead of the answer. Bodies declared larger than this, or sent with
/// `Expect: 100-continue`, are refused before any of them is read.
const DRAIN_LIMIT: u64 = 64 << 20;

/// Reads a request body of at most `limit` bytes as a JSON object (see [`json_object`]). A
/// body sent with a content type other than JSON (`application/json` or `+json`) is refused;
/// one sent without any is read as JSON.
pub(crate) async fn json_body(request: Request, limit: usize) -> Result<serde_json::Value, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, limit).await?;
    if let Some(value) = parts.headers.get(header::CONTENT_TYPE) {
        let text = value.to_str().unwrap_or("(not text)");
        let essence = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(text.to_owned()));
        }
    }
    json_object(&bytes, limit)
}

/// Reads a request body already in memory as a JSON object; the empty body is `{}`, and a
/// body over `limit` bytes is refused.
pub(crate) fn json_object(bytes: &[u8], limit: usize) -> Result<serde_json::Value, ApiError> {
    if bytes.len() > limit {
        return Err(ApiError::BodyTooLarge { limit });
    }
    if bytes.is_empty() {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(json) if json.is_object() => Ok(json),
        Ok(_) => Err(ApiError::InvalidBody("is not a JSON object".into())),
        Err(e) => Err(ApiError::InvalidBody(format!("is not JSON: {e}"))),
    }
}

/// Reads a body of at most `limit` bytes (see [`DRAIN_LIMIT`] for what happens past it).
async fn read_body(headers: &HeaderMap, mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::BodyTooLarge { limit };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let waits = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if declared.is_some_and(|n| n > DRAIN_LIMIT || (waits && n > limit as u64)) {
        return Err(too_large);
    }
    let mut buffer = Vec::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::InvalidBody(format!("could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len() as u64;
        if seen <= limit as u64 {
            buffer.extend_from_slice(&data);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit as u64 {
        return Err(too_large);
    }
    Ok(buffer)
}

/// The Levenshtein distance between two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_are_caught_and_others_ignored() {
        let known = ["page", "per_page"];
        assert!(check_spelling(["per_pag"], &known).is_err());
        assert!(check_spelling(["pge"], &known).is_err());
        assert!(check_spelling(["page", "per_page", "access_token", "q"], &known).is_ok());
        let e = check_spelling(["perpage"], &known).unwrap_err().to_string();
        assert!(e.contains("`perpage`") && e.contains("per_page"), "{e}");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("limit", "limt"), 1);
        assert_eq!(edit_distance("page", "apge"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
