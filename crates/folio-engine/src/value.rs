//! Typed scalar values as the engine compares them, and their conversions from JSON and text.

use std::cmp::Ordering;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A date alone: `YYYY-MM-DD`.
const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

use crate::schema::{FieldType, IdType};

/// A value of a sortable or filterable column, in the form stores keep and compare it.
///
/// Booleans are `Int(0|1)` and timestamps are `Int(microseconds since the Unix epoch, UTC)`,
/// so that every store compares them as numbers and instants.
///
/// The engine's order is total: see [`Value::total_cmp`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value: the path is absent or JSON `null`.
    Null,
    /// An integer, boolean or timestamp.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// Text.
    Text(String),
}

/// A [`Value`] borrowed from where it was read (a row, a buffer), so that reading a page's keys
/// and ids allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// No value.
    Null,
    /// An integer, boolean or timestamp.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// Text.
    Text(&'a str),
}

impl ValueRef<'_> {
    /// The owned value.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(t) => Value::Text(t.to_owned()),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(value: &'a Value) -> ValueRef<'a> {
        match value {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(t) => ValueRef::Text(t),
        }
    }
}

/// Why a JSON value or a text does not fit a field type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct TypeMismatch {
    /// What the type accepts, in words.
    pub expected: &'static str,
    /// What was given, shortened.
    pub got: String,
}

impl Value {
    /// The engine's total order: numbers before text, and `Null` after every value.
    ///
    /// `Null` being the greatest value is what makes NULLs sort last when ascending and first
    /// when descending (engine.md, invariant 2), and lets keyset predicates treat NULL like any
    /// other key value instead of needing three-valued logic.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Greater,
            (_, Null) => Ordering::Less,
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => cmp_int_float(*a, *b),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Text(_), _) => Ordering::Greater,
            (_, Text(_)) => Ordering::Less,
        }
    }

    /// Converts the JSON value found at a path of the given type.
    ///
    /// `None` (path absent) and JSON `null` are [`Value::Null`]. String arrays are not scalar and
    /// are converted with [`string_array`] instead.
    pub fn from_json(json: Option<&serde_json::Value>, ty: FieldType) -> Result<Value, TypeMismatch> {
        use serde_json::Value as J;
        let json = match json {
            None | Some(J::Null) => return Ok(Value::Null),
            Some(j) => j,
        };
        let mismatch = || TypeMismatch {
            expected: expected(ty),
            got: short(&json.to_string()),
        };
        match (ty, json) {
            (FieldType::String, J::String(s)) if s.contains('\0') => Err(nul(s)),
            (FieldType::String, J::String(s)) => Ok(Value::Text(s.clone())),
            (FieldType::Integer, J::Number(n)) => n.as_i64().map(Value::Int).ok_or_else(mismatch),
            (FieldType::Float, J::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Value::Float)
                .ok_or_else(mismatch),
            (FieldType::Boolean, J::Bool(b)) => Ok(Value::Int(i64::from(*b))),
            // SQLite and many exports write booleans as 0 and 1.
            (FieldType::Boolean, J::Number(n)) => match n.as_i64() {
                Some(i @ (0 | 1)) => Ok(Value::Int(i)),
                _ => Err(mismatch()),
            },
            (FieldType::Timestamp, J::String(s)) => parse_timestamp(s).ok_or_else(mismatch),
            _ => Err(mismatch()),
        }
    }

    /// Converts a record's id, found at the id path, for a collection whose ids are `ty`.
    ///
    /// An id is a string or an integer: anything else (a float, a boolean, an array, an
    /// object) is refused as neither, and a string or an integer that is not of the
    /// collection's kind is refused as such. `None` and JSON `null` are [`Value::Null`].
    pub fn id_from_json(json: Option<&serde_json::Value>, ty: IdType) -> Result<Value, TypeMismatch> {
        use serde_json::Value as J;
        let (kind, found) = match json {
            None | Some(J::Null) => return Ok(Value::Null),
            Some(found @ J::String(_)) => (IdType::String, found),
            Some(found @ J::Number(n)) if n.is_i64() => (IdType::Integer, found),
            Some(other) => {
                return Err(TypeMismatch {
                    expected: "a string or an integer",
                    got: short(&other.to_string()),
                });
            }
        };
        if kind == ty {
            return Value::from_json(json, ty.field_type());
        }
        Err(TypeMismatch {
            expected: match ty {
                IdType::String => "a string (the collection's ids are strings)",
                IdType::Integer => "an integer (the collection's ids are integers)",
            },
            got: short(&found.to_string()),
        })
    }

    /// Parses a value written as text (a query parameter) for a path of the given type.
    ///
    /// For `string[]` paths this parses one element.
    pub fn parse(text: &str, ty: FieldType) -> Result<Value, TypeMismatch> {
        let mismatch = || TypeMismatch {
            expected: expected(ty),
            got: short(text),
        };
        match ty {
            FieldType::String | FieldType::StringArray if text.contains('\0') => Err(nul(text)),
            FieldType::String | FieldType::StringArray => Ok(Value::Text(text.to_owned())),
            FieldType::Integer => text.parse().map(Value::Int).map_err(|_| mismatch()),
            FieldType::Float => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Float)
                .ok_or_else(mismatch),
            FieldType::Boolean => match text {
                "true" => Ok(Value::Int(1)),
                "false" => Ok(Value::Int(0)),
                _ => Err(mismatch()),
            },
            FieldType::Timestamp => parse_timestamp(text).ok_or_else(mismatch),
        }
    }
}

/// Extracts the elements of a `string[]` path; absent or `null` is the empty array.
pub fn string_array(json: Option<&serde_json::Value>) -> Result<Vec<String>, TypeMismatch> {
    use serde_json::Value as J;
    let mismatch = |j: &J| TypeMismatch {
        expected: expected(FieldType::StringArray),
        got: short(&j.to_string()),
    };
    match json {
        None | Some(J::Null) => Ok(Vec::new()),
        Some(J::Array(items)) => items
            .iter()
            .map(|i| match i.as_str() {
                Some(s) if s.contains('\0') => Err(nul(s)),
                Some(s) => Ok(s.to_owned()),
                None => Err(mismatch(i)),
            })
            .collect(),
        Some(other) => Err(mismatch(other)),
    }
}

/// Looks up a dotted path in a JSON document.
pub fn lookup<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(doc, |node, segment| node.get(segment))
}

/// An RFC 3339 date-time, or a date alone (`2007-11-11`), taken as the start of that day in
/// UTC: dates sort and filter as instants, and documents keep the text they were given.
fn parse_timestamp(text: &str) -> Option<Value> {
    let instant = match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(instant) => instant,
        Err(_) => time::Date::parse(text, DATE).ok()?.midnight().assume_utc(),
    };
    i64::try_from(instant.unix_timestamp_nanos() / 1000)
        .ok()
        .map(Value::Int)
}

/// Compares an integer with a float exactly, without the rounding of `a as f64`.
fn cmp_int_float(a: i64, b: f64) -> Ordering {
    if b.is_nan() {
        return Ordering::Less;
    }
    // Every i64 lies in [-2^63, 2^63); outside that range the answer is known from the sign.
    if b >= 9_223_372_036_854_775_808.0 {
        return Ordering::Less;
    }
    if b < -9_223_372_036_854_775_808.0 {
        return Ordering::Greater;
    }
    let trunc = b.trunc() as i64; // exact: b is within i64 range here
    a.cmp(&trunc).then_with(|| {
        let frac = b - b.trunc();
        if frac > 0.0 {
            Ordering::Less
        } else if frac < 0.0 {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    })
}

/// Text holding U+0000, which no value may: PostgreSQL cannot store it, so neither store
/// holds one, and a filter, key or id naming one would otherwise fail in SQL instead of
/// being refused.
fn nul(text: &str) -> TypeMismatch {
    TypeMismatch {
        expected: "text without NUL characters (U+0000)",
        got: short(&text.replace('\0', "\\u0000")),
    }
}

fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string",
        FieldType::Integer => "an integer",
        FieldType::Float => "a finite number",
        FieldType::Boolean => "`true` or `false`",
        FieldType::Timestamp => {
            "an RFC 3339 date-time such as 2021-03-04T12:00:00Z, or a date such as 2021-03-04 (its start, UTC)"
        }
        FieldType::StringArray => "an array of strings",
    }
}

fn short(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dates_are_the_start_of_their_day_in_utc() {
        let date = Value::parse("2007-11-11", FieldType::Timestamp).unwrap();
        assert_eq!(
            date,
            Value::parse("2007-11-11T00:00:00Z", FieldType::Timestamp).unwrap()
        );
        assert_eq!(
            date,
            Value::parse("2007-11-11T01:00:00+01:00", FieldType::Timestamp).unwrap()
        );
        for bad in ["2007-13-01", "2007-11-31", "07-11-11", "2007-11-11 00:00"] {
            let e = Value::parse(bad, FieldType::Timestamp).unwrap_err().to_string();
            assert!(e.contains("or a date such as 2021-03-04"), "{bad}: {e}");
        }
    }

    #[test]
    fn ids_are_strings_or_integers_of_the_collections_kind() {
        let id = |json: serde_json::Value, ty| Value::id_from_json(Some(&json), ty).map_err(|e| e.to_string());
        assert_eq!(id(json!(7), IdType::Integer), Ok(Value::Int(7)));
        assert_eq!(id(json!("a"), IdType::String), Ok(Value::Text("a".into())));
        assert_eq!(id(json!(null), IdType::String), Ok(Value::Null));
        for (bad, got) in [
            (json!(1.5), "`1.5`"),
            (json!(true), "`true`"),
            (json!([1]), "`[1]`"),
            (json!(18446744073709551615u64), "`18446744073709551615`"),
        ] {
            for ty in [IdType::String, IdType::Integer] {
                assert_eq!(
                    id(bad.clone(), ty),
                    Err(format!("expected a string or an integer, got {got}"))
                );
            }
        }
        assert_eq!(
            id(json!(2), IdType::String),
            Err("expected a string (the collection's ids are strings), got `2`".to_owned())
        );
        assert_eq!(
            id(json!("2"), IdType::Integer),
            Err("expected an integer (the collection's ids are integers), got `\"2\"`".to_owned())
        );
        assert!(id(json!("a\u{0}b"), IdType::String).is_err(), "no NUL in ids either");
    }

    #[test]
    fn text_never_holds_nul() {
        for ty in [FieldType::String, FieldType::StringArray] {
            let e = Value::parse("a\0b", ty).unwrap_err();
            assert!(
                e.to_string().contains("NUL") && e.to_string().contains("a\\u0000b"),
                "{e}"
            );
        }
        assert!(Value::from_json(Some(&json!("a\u{0}b")), FieldType::String).is_err());
        assert!(string_array(Some(&json!(["ok", "a\u{0}b"]))).is_err());
        assert_eq!(Value::parse("ab", FieldType::String).unwrap(), Value::Text("ab".into()));
    }
}
