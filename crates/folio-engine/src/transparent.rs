//! Transparent keys: search-after positions a user can read and write.
//!
//! With the id as the only sort field, a key is the id itself. Otherwise it is
//! `<value>:<id>`, split at the last colon: values may hold colons (as timestamps do), and in
//! the id `%` and `:` are written `%25` and `%3A`, so that ids may hold colons too (as URNs and
//! DOIs do); other `%` sequences in an id are read as they are.
//!
//! Values are written as query parameters write them: integers and floats in decimal,
//! booleans as `true`/`false`, timestamps in RFC 3339 UTC (`2021-03-04T12:00:00Z`) or, for
//! instants outside the years RFC 3339 can write, as microseconds since the epoch, strings as
//! they are. A missing value is `$null`; a string that starts with `$` is written with one
//! more `$` in front, so `$null` as text is `$$null`. Ids are never missing, so they take no
//! `$` escape.

use std::borrow::Cow;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::EngineError;
use crate::page::Key;
use crate::schema::{CollectionSchema, FieldType};
use crate::sort::Sort;
use crate::value::Value;

/// The text of a missing value.
pub const NULL: &str = "$null";

/// Writes the key of a record in `sort` (one sort path at most, then the id) as text.
///
/// # Panics
/// If `sort` has more than one path besides the id (transparent keys have one value and an
/// id), or the key does not fit the sort: both are bugs of the caller.
pub fn encode(schema: &CollectionSchema, sort: &Sort, key: &[Value]) -> String {
    let fields = sort.fields();
    assert!(
        fields.len() <= 2 && key.len() == fields.len(),
        "a transparent key has a value and an id"
    );
    let id = match key.last().expect("a key ends with the id") {
        // Read back by `decode` as it is, not unescaped as values are.
        Value::Text(t) => t.clone(),
        other => write(other, schema.id_type.field_type()),
    };
    match fields {
        [_] => id,
        [field, _] => format!("{}:{}", write(&key[0], schema.type_of(field.column)), escape_id(&id)),
        _ => unreachable!("checked above"),
    }
}

/// Reads a key written by [`encode`] (or by a user) for `sort`. `param` names the parameter
/// in errors, which say what form is expected.
pub fn decode(schema: &CollectionSchema, sort: &Sort, text: &str, param: &str) -> Result<Key, EngineError> {
    let fields = sort.fields();
    let id_type = schema.id_type.field_type();
    let invalid = |message: String| EngineError::InvalidParameter {
        param: param.to_owned(),
        message,
    };
    let read_id = |t: &str| Value::parse(t, id_type).map_err(|e| invalid(format!("has the id `{}`: {e}", shorten(t))));
    match fields {
        [_] => Ok(vec![read_id(text)?]),
        [field, _] => {
            let path = schema.path_of(field.column);
            let ty = schema.type_of(field.column);
            let Some((value, id)) = text.rsplit_once(':') else {
                return Err(invalid(format!(
                    "is `{}`; when ordering by `{path}` it takes `<{path} value>:<id>` (the \
                     `next_page_after_value` of the previous page), with `{NULL}` for no value",
                    shorten(text)
                )));
            };
            let value = read(value, ty).map_err(|e| invalid(format!("has the value `{}`: {e}", shorten(value))))?;
            Ok(vec![value, read_id(&unescape_id(id))?])
        }
        _ => Err(invalid("cannot be used with a sort on more than one path".into())),
    }
}

fn write(value: &Value, ty: FieldType) -> String {
    match (value, ty) {
        (Value::Null, _) => NULL.to_owned(),
        (Value::Int(i), FieldType::Boolean) => (*i != 0).to_string(),
        (Value::Int(micros), FieldType::Timestamp) => i128::from(*micros)
            .checked_mul(1000)
            .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| micros.to_string()),
        (Value::Int(i), _) => i.to_string(),
        // Rust prints the shortest decimal that reads back as the same float.
        (Value::Float(f), _) => format!("{f:?}"),
        (Value::Text(t), _) if t.starts_with('$') => format!("${t}"),
        (Value::Text(t), _) => t.clone(),
    }
}

fn read(text: &str, ty: FieldType) -> Result<Value, crate::value::TypeMismatch> {
    if text == NULL {
        return Ok(Value::Null);
    }
    match text.strip_prefix('$') {
        Some(rest) if ty == FieldType::String => Value::parse(rest, ty),
        _ => Value::parse(text, ty).or_else(|e| match ty {
            // How `write` gives the instants that RFC 3339 cannot write.
            FieldType::Timestamp => text.parse().map(Value::Int).map_err(|_| e),
            _ => Err(e),
        }),
    }
}

/// An id as the end of `<value>:<id>`: without a colon, so the last colon ends the value.
fn escape_id(id: &str) -> Cow<'_, str> {
    if id.contains([':', '%']) {
        Cow::Owned(id.replace('%', "%25").replace(':', "%3A"))
    } else {
        Cow::Borrowed(id)
    }
}

/// Reverses [`escape_id`]: `%3A` (or `%3a`) is a colon and `%25` a `%`; anything else stays.
fn unescape_id(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3);
        match escape {
            Some(e) if e.eq_ignore_ascii_case("%3a") => out.push(':'),
            Some("%25") => out.push('%'),
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn shorten(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::schema::{IdType, IndexedPath};

    fn schema(id: IdType) -> CollectionSchema {
        let p = |path: &str, ty| IndexedPath::new(path, ty);
        CollectionSchema {
            name: "c".into(),
            id_path: "id".into(),
            id_type: id,
            indexed: vec![
                p("s", FieldType::String),
                p("i", FieldType::Integer),
                p("f", FieldType::Float),
                p("b", FieldType::Boolean),
                p("t", FieldType::Timestamp),
            ],
        }
    }

    fn value(n: usize) -> BoxedStrategy<Value> {
        let v = match n {
            0 => "[$a-z:]{0,6}".prop_map(Value::Text).boxed(),
            1 => any::<i64>().prop_map(Value::Int).boxed(),
            2 => (-1e12f64..1e12).prop_map(Value::Float).boxed(),
            3 => (0i64..2).prop_map(Value::Int).boxed(),
            // Any instant: RFC 3339 reaches only the years 0 to 9999.
            _ => any::<i64>().prop_map(Value::Int).boxed(),
        };
        prop_oneof![1 => Just(Value::Null), 5 => v].boxed()
    }

    proptest! {
        /// Writing then reading a key gives the same key, for every type and for null.
        #[test]
        fn round_trip((n, v) in (0usize..5).prop_flat_map(|n| (Just(n), value(n))), id in "[$a-zA-Z0-9_:%-]{1,20}", desc in any::<bool>()) {
            let schema = schema(IdType::String);
            let path = &schema.indexed[n].path;
            let sort = Sort::parse(&format!("{}{path}", if desc { "-" } else { "" }), &schema, "order_by").unwrap();
            let key = vec![v, Value::Text(id)];
            let text = encode(&schema, &sort, &key);
            prop_assert_eq!(decode(&schema, &sort, &text, "page_after_value").unwrap(), key);
        }
    }

    /// Found by fuzzing (`transparent_key`): an id starting with `$` was written with the
    /// escape of values but read as it is, so the next page's key named another record.
    #[test]
    fn ids_are_written_as_they_are() {
        let schema = schema(IdType::String);
        let by_s = Sort::parse("s", &schema, "order_by").unwrap();
        let key = decode(&schema, &by_s, "$$null:$nulx", "page_after_value").unwrap();
        assert_eq!(key, vec![Value::Text("$null".into()), Value::Text("$nulx".into())]);
        assert_eq!(encode(&schema, &by_s, &key), "$$null:$nulx");
        let by_id = Sort::by_id();
        assert_eq!(encode(&schema, &by_id, &[Value::Text("$null".into())]), "$null");
        assert_eq!(
            decode(&schema, &by_id, "$null", "search_after").unwrap(),
            vec![Value::Text("$null".into())]
        );
    }

    /// Found by fuzzing (`transparent_key`): `0000-01-01T00:00:00+01:00` is an instant before
    /// the year 0 in UTC, which RFC 3339 cannot write; it was written as microseconds, which
    /// did not read back.
    #[test]
    fn instants_rfc3339_cannot_write_read_back() {
        let schema = schema(IdType::String);
        let by_t = Sort::parse("-t", &schema, "order_by").unwrap();
        let key = decode(&schema, &by_t, "0000-01-01T00:00:00+01:00:x", "page_after_value").unwrap();
        let text = encode(&schema, &by_t, &key);
        assert_eq!(text, "-62167222800000000:x");
        assert_eq!(decode(&schema, &by_t, &text, "page_after_value").unwrap(), key);
        let e = decode(&schema, &by_t, "2021-13-01:x", "page_after_value")
            .unwrap_err()
            .to_string();
        assert!(e.contains("RFC 3339"), "{e}");
    }

    /// Ids with colons (URNs, DOIs) are written with `%3A`, so the last colon still ends the
    /// value; `%` is written `%25`, and other `%` sequences are read as they are.
    #[test]
    fn ids_may_hold_colons() {
        let schema = schema(IdType::String);
        let by_t = Sort::parse("t", &schema, "order_by").unwrap();
        let key = vec![Value::Int(0), Value::Text("urn:isbn:0451450523".into())];
        let text = encode(&schema, &by_t, &key);
        assert_eq!(text, "1970-01-01T00:00:00Z:urn%3Aisbn%3A0451450523");
        assert_eq!(decode(&schema, &by_t, &text, "p").unwrap(), key);
        let key = vec![Value::Int(0), Value::Text("100%:%3A".into())];
        assert_eq!(encode(&schema, &by_t, &key), "1970-01-01T00:00:00Z:100%25%3A%253A");
        assert_eq!(
            decode(&schema, &by_t, "1970-01-01T00:00:00Z:a%41%3a%", "p").unwrap(),
            vec![Value::Int(0), Value::Text("a%41:%".into())]
        );
    }

    #[test]
    fn forms_are_readable() {
        let schema = schema(IdType::Integer);
        let by_t = Sort::parse("t", &schema, "order_by").unwrap();
        let key = vec![Value::Int(1_614_859_200_000_000), Value::Int(7)];
        assert_eq!(encode(&schema, &by_t, &key), "2021-03-04T12:00:00Z:7");
        assert_eq!(decode(&schema, &by_t, "2021-03-04T13:00:00+01:00:7", "p").unwrap(), key);
        assert_eq!(encode(&schema, &Sort::by_id(), &[Value::Int(42)]), "42");
        let by_s = Sort::parse("s", &schema, "order_by").unwrap();
        assert_eq!(encode(&schema, &by_s, &[Value::Null, Value::Int(1)]), "$null:1");
        assert_eq!(
            encode(&schema, &by_s, &[Value::Text("$null".into()), Value::Int(1)]),
            "$$null:1"
        );
        let e = decode(&schema, &by_t, "garbage", "page_after_value")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`<t value>:<id>`") && e.contains("$null"), "{e}");
        let e = decode(&schema, &Sort::by_id(), "x", "page_after_value")
            .unwrap_err()
            .to_string();
        assert!(e.contains("integer"), "{e}");
    }
}
