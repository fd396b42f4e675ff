//! Filters: conjunctions of equality, range and membership conditions on indexed paths.
//!
//! Unlike keyset predicates, filters follow SQL's reading of NULL: a record whose value is
//! NULL matches no comparison (`band_gap > 1` does not select records without a band gap).

use std::fmt::Write as _;

use crate::error::EngineError;
use crate::keyset::CmpOp;
use crate::schema::{CollectionSchema, Column, FieldType};
use crate::value::Value;

/// At most this many conditions may be combined in one filter.
pub const MAX_FILTER_TERMS: usize = 32;

/// At most this many values may be listed in one membership condition.
pub const MAX_FILTER_VALUES: usize = 100;

/// What a condition asks of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A comparison with one value (`Eq` for equality). Never matches NULL.
    Compare(CmpOp, Value),
    /// A `string[]` column contains every one of the values (one value: plain membership).
    ContainsAll(Vec<Value>),
    /// A `string[]` column contains at least one of the values.
    ContainsAny(Vec<Value>),
}

/// One condition on one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The column tested.
    pub column: Column,
    /// The condition.
    pub condition: Condition,
}

/// A filter: every clause must hold. The empty filter selects every record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    clauses: Vec<Clause>,
}

/// The operators a filter parameter may name, with their meaning for the docs and errors.
pub const OPERATORS: [&str; 7] = ["eq", "gt", "gte", "lt", "lte", "any", "all"];

impl Filter {
    /// The filter that selects everything.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// The clauses, in canonical order.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// Adds the condition `path op text` as a request gives it, e.g. `("band_gap", "gte",
    /// "1.5")`. Lists (`any`, `all`) are comma-separated. `param` names the request parameter
    /// in errors.
    ///
    /// On a `string[]` path, `eq` means "contains".
    pub fn push_text(
        &mut self,
        schema: &CollectionSchema,
        path: &str,
        op: &str,
        text: &str,
        param: &str,
    ) -> Result<(), EngineError> {
        let invalid = |message: String| EngineError::InvalidParameter {
            param: param.to_owned(),
            message,
        };
        let Some((column, ty)) = schema.resolve(path) else {
            return Err(invalid(format!(
                "names `{path}`, which is not an indexed path; filterable paths: {}",
                schema.filterable_paths().join(", ")
            )));
        };
        let parse = |t: &str| {
            Value::parse(t, ty).map_err(|e| invalid(format!("has the value `{}`: {e}", shorten(t))))
        };
        let list = |t: &str| -> Result<Vec<Value>, EngineError> {
            let values = t.split(',').map(parse).collect::<Result<Vec<_>, _>>()?;
            if values.len() > MAX_FILTER_VALUES {
                return Err(invalid(format!(
                    "lists {} values; at most {MAX_FILTER_VALUES} are allowed",
                    values.len()
                )));
            }
            Ok(values)
        };
        let condition = match (op, ty) {
            ("eq", FieldType::StringArray) => Condition::ContainsAll(vec![parse(text)?]),
            ("all", FieldType::StringArray) => Condition::ContainsAll(list(text)?),
            ("any", FieldType::StringArray) => Condition::ContainsAny(list(text)?),
            ("gt" | "gte" | "lt" | "lte", FieldType::StringArray) => {
                return Err(invalid(format!(
                    "uses `{op}` on the string[] path `{path}`; string[] paths take eq, any, all"
                )));
            }
            ("any" | "all", _) => {
                return Err(invalid(format!(
                    "uses `{op}`, which only applies to string[] paths; `{path}` is {ty}, which \
                     takes eq, gt, gte, lt, lte"
                )));
            }
            ("eq", _) => Condition::Compare(CmpOp::Eq, parse(text)?),
            ("gt", _) => Condition::Compare(CmpOp::Gt, parse(text)?),
            ("gte", _) => Condition::Compare(CmpOp::Ge, parse(text)?),
            ("lt", _) => Condition::Compare(CmpOp::Lt, parse(text)?),
            ("lte", _) => Condition::Compare(CmpOp::Le, parse(text)?),
            _ => {
                return Err(invalid(format!(
                    "uses the operator `{}`; known operators: {}",
                    shorten(op),
                    OPERATORS.join(", ")
                )));
            }
        };
        if self.clauses.len() >= MAX_FILTER_TERMS {
            return Err(invalid(format!(
                "is one condition too many; at most {MAX_FILTER_TERMS} are allowed"
            )));
        }
        self.clauses.push(Clause { column, condition });
        self.clauses.sort_by_key(canonical_clause);
        Ok(())
    }

    /// A canonical text of the filter: equal filters give equal texts. Used in cursor
    /// fingerprints and as the key of cached totals.
    pub fn canonical(&self) -> String {
        self.clauses
            .iter()
            .map(canonical_clause)
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Evaluates the filter for one record: the reference semantics every store must match.
    ///
    /// `value_of` gives a scalar column's value; `elements_of` a `string[]` column's elements.
    pub fn matches(
        &self,
        value_of: &dyn Fn(Column) -> Value,
        elements_of: &dyn Fn(Column) -> Vec<String>,
    ) -> bool {
        self.clauses.iter().all(|clause| match &clause.condition {
            Condition::Compare(op, v) => {
                let actual = value_of(clause.column);
                actual != Value::Null && op.holds(actual.total_cmp(v))
            }
            Condition::ContainsAll(vs) => {
                let have = elements_of(clause.column);
                vs.iter()
                    .all(|v| matches!(v, Value::Text(t) if have.contains(t)))
            }
            Condition::ContainsAny(vs) => {
                let have = elements_of(clause.column);
                vs.iter()
                    .any(|v| matches!(v, Value::Text(t) if have.contains(t)))
            }
        })
    }
}

fn canonical_clause(clause: &Clause) -> String {
    let mut out = match clause.column {
        Column::Id => "id".to_owned(),
        Column::Indexed(n) => format!("c{n}"),
    };
    let values = |out: &mut String, vs: &[Value]| {
        for v in vs {
            let _ = write!(out, ":{}", canonical_value(v));
        }
    };
    match &clause.condition {
        Condition::Compare(op, v) => {
            let _ = write!(out, " {} {}", op.sql(), canonical_value(v));
        }
        Condition::ContainsAll(vs) => {
            out.push_str(" all");
            values(&mut out, vs);
        }
        Condition::ContainsAny(vs) => {
            out.push_str(" any");
            values(&mut out, vs);
        }
    }
    out
}

/// Values written so that no two different values (or types) share a text.
fn canonical_value(v: &Value) -> String {
    match v {
        Value::Null => "n".to_owned(),
        Value::Int(i) => format!("i{i}"),
        Value::Float(f) => format!("f{:016x}", f.to_bits()),
        Value::Text(t) => format!("t{}", serde_json::Value::String(t.clone())),
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(60).collect()
}
