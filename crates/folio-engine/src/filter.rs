//! Filters: the query language of engine.md over indexed paths.
//!
//! A filter is a tree of `and`, `or`, `not` over clauses. A clause tests one column:
//! comparisons (`eq`, `gt`, `gte`, `lt`, `lte`), membership of a scalar in a list (`in`/`any`,
//! `none`), or, on `string[]` paths, whether the array contains `all`, `any` or `none` of some
//! values.
//!
//! Logic is two-valued. A comparison never holds for a missing value (`band_gap > 1` does not
//! select records without a band gap), except `eq null`, which selects exactly those; and
//! `not` is plain negation, so `not (band_gap > 1)` does select them.
//!
//! Filters come from query parameters ([`Filter::push_text`]) or JSON ([`Filter::from_json`]):
//!
//! ```json
//! {"results.material.elements": {"all": ["O", "Ti"]},
//!  "or": [{"provider": "aflow"}, {"results.properties.electronic.band_gap": {"gte": 2}}]}
//! ```
//!
//! Keys of one object are combined with `and`. A plain value is `eq`; a plain list is `any`.

use std::fmt::Write as _;

use crate::error::EngineError;
use crate::keyset::CmpOp;
use crate::schema::{CollectionSchema, Column, FieldType};
use crate::value::Value;

/// At most this many clauses may appear in one filter.
pub const MAX_FILTER_TERMS: usize = 32;

/// At most this deep may `and`/`or`/`not` nest.
pub const MAX_FILTER_DEPTH: usize = 8;

/// At most this many values may be listed in one clause.
pub const MAX_FILTER_VALUES: usize = 100;

/// The operators a clause may use.
pub const OPERATORS: [&str; 9] = ["eq", "gt", "gte", "lt", "lte", "in", "any", "all", "none"];

/// The operators a clause on a path of type `ty` accepts, in the order of [`OPERATORS`]:
/// `string[]` paths take membership tests, other paths comparisons and value lists.
pub fn operators_for(ty: FieldType) -> &'static [&'static str] {
    if ty == FieldType::StringArray {
        &["eq", "in", "any", "all", "none"]
    } else {
        &["eq", "gt", "gte", "lt", "lte", "in", "any", "none"]
    }
}

/// Whether operator `op` takes a comma-separated list of values (as a query parameter) or a
/// JSON list, rather than one value.
pub fn takes_list(op: &str) -> bool {
    matches!(op, "in" | "any" | "all" | "none")
}

/// What a clause asks of a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A comparison with one value. Never holds for a missing value, except `Eq(Null)`.
    Compare(CmpOp, Value),
    /// The scalar equals one of the values.
    In(Vec<Value>),
    /// A `string[]` column contains every one of the values.
    ContainsAll(Vec<Value>),
    /// A `string[]` column contains at least one of the values.
    ContainsAny(Vec<Value>),
    /// A `string[]` column contains none of the values.
    ContainsNone(Vec<Value>),
}

/// One condition on one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The column tested.
    pub column: Column,
    /// The condition.
    pub condition: Condition,
}

/// A filter tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every part holds; `And([])` selects every record.
    And(Vec<Filter>),
    /// At least one part holds; `Or([])` selects nothing.
    Or(Vec<Filter>),
    /// The part does not hold.
    Not(Box<Filter>),
    /// A clause.
    Clause(Clause),
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::all()
    }
}

impl Filter {
    /// The filter that selects every record.
    pub fn all() -> Filter {
        Filter::And(Vec::new())
    }

    /// Whether this filter selects every record without testing anything.
    pub fn is_all(&self) -> bool {
        matches!(self, Filter::And(parts) if parts.is_empty())
    }

    /// The paths no index serves that the filter tests (see [`crate::IndexedPath::unindexed`]),
    /// each once, in the order they first appear: answering it scans the collection.
    pub fn unindexed_paths(&self, schema: &CollectionSchema) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.visit(&mut |clause| {
            let path = schema.path_of(clause.column);
            if schema.is_unindexed(clause.column) && !out.iter().any(|p| p == path) {
                out.push(path.to_owned());
            }
        });
        out
    }

    fn visit(&self, f: &mut impl FnMut(&Clause)) {
        match self {
            Filter::And(parts) | Filter::Or(parts) => parts.iter().for_each(|p| p.visit(f)),
            Filter::Not(inner) => inner.visit(f),
            Filter::Clause(c) => f(c),
        }
    }

    /// Whether every clause can be answered by an index seek: only `and` of clauses other
    /// than `none`. Counting other filters may scan the collection.
    pub fn is_seekable(&self) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(Filter::is_seekable),
            Filter::Clause(c) => !matches!(c.condition, Condition::ContainsNone(_)),
            Filter::Or(_) | Filter::Not(_) => false,
        }
    }

    /// Adds (with `and`) the condition `path op text` as a query parameter gives it, e.g.
    /// `("band_gap", "gte", "1.5")`. Lists (`in`, `any`, `all`, `none`) are comma-separated.
    /// `param` names the parameter in errors.
    pub fn push_text(
        &mut self,
        schema: &CollectionSchema,
        path: &str,
        op: &str,
        text: &str,
        param: &str,
    ) -> Result<(), EngineError> {
        let ctx = Ctx { schema, param };
        let (column, ty) = ctx.resolve(path, "")?;
        let parse = |t: &str| ctx.parse_text(t, ty, path);
        let operand = if takes_list(op) {
            Operand::List(text.split(',').map(parse).collect::<Result<_, _>>()?)
        } else {
            Operand::One(parse(text)?)
        };
        let clause = ctx.clause(column, ty, path, op, operand, "")?;
        self.and(clause);
        self.check_limits(param)
    }

    /// Parses a filter written in JSON (the grammar in the module docs) and adds it with
    /// `and`. `param` names where it came from in errors, which also give the location inside.
    pub fn push_json(
        &mut self,
        schema: &CollectionSchema,
        json: &serde_json::Value,
        param: &str,
    ) -> Result<(), EngineError> {
        let parsed = Filter::from_json(schema, json, param)?;
        self.and(parsed);
        self.check_limits(param)
    }

    /// Parses a filter written in JSON (the grammar in the module docs).
    pub fn from_json(schema: &CollectionSchema, json: &serde_json::Value, param: &str) -> Result<Filter, EngineError> {
        let ctx = Ctx { schema, param };
        let filter = ctx.object(json, "", 0)?;
        filter.check_limits(param)?;
        Ok(filter)
    }

    /// A canonical text of the filter: filters that differ only in the order of `and`/`or`
    /// parts give the same text. Used in cursor fingerprints and as the key of cached totals.
    pub fn canonical(&self) -> String {
        match self {
            Filter::Clause(c) => canonical_clause(c),
            Filter::Not(inner) => format!("not({})", inner.canonical()),
            Filter::And(parts) | Filter::Or(parts) => {
                let mut texts: Vec<String> = parts.iter().map(Filter::canonical).collect();
                texts.sort();
                texts.dedup();
                let op = if matches!(self, Filter::And(_)) { "and" } else { "or" };
                format!("{op}({})", texts.join(","))
            }
        }
    }

    /// Evaluates the filter for one record: the reference semantics every store must match.
    ///
    /// `value_of` gives a scalar column's value; `elements_of` a `string[]` column's elements.
    pub fn matches(&self, value_of: &dyn Fn(Column) -> Value, elements_of: &dyn Fn(Column) -> Vec<String>) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.matches(value_of, elements_of)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(value_of, elements_of)),
            Filter::Not(inner) => !inner.matches(value_of, elements_of),
            Filter::Clause(clause) => {
                let has = |have: &[String], v: &Value| matches!(v, Value::Text(t) if have.contains(t));
                match &clause.condition {
                    Condition::Compare(CmpOp::Eq, Value::Null) => value_of(clause.column) == Value::Null,
                    Condition::Compare(op, v) => {
                        let actual = value_of(clause.column);
                        actual != Value::Null && op.holds(actual.total_cmp(v))
                    }
                    Condition::In(vs) => {
                        let actual = value_of(clause.column);
                        actual != Value::Null && vs.iter().any(|v| actual.total_cmp(v).is_eq())
                    }
                    Condition::ContainsAll(vs) => {
                        let have = elements_of(clause.column);
                        vs.iter().all(|v| has(&have, v))
                    }
                    Condition::ContainsAny(vs) => {
                        let have = elements_of(clause.column);
                        vs.iter().any(|v| has(&have, v))
                    }
                    Condition::ContainsNone(vs) => {
                        let have = elements_of(clause.column);
                        !vs.iter().any(|v| has(&have, v))
                    }
                }
            }
        }
    }

    fn and(&mut self, other: Filter) {
        match (self, other) {
            (Filter::And(parts), Filter::And(more)) => parts.extend(more),
            (Filter::And(parts), other) => parts.push(other),
            (this, other) => {
                let previous = std::mem::take(this);
                *this = Filter::And(vec![previous, other]);
            }
        }
    }

    fn check_limits(&self, param: &str) -> Result<(), EngineError> {
        fn walk(f: &Filter, depth: usize, terms: &mut usize) -> usize {
            match f {
                Filter::Clause(_) => {
                    *terms += 1;
                    depth
                }
                Filter::Not(inner) => walk(inner, depth + 1, terms),
                Filter::And(parts) | Filter::Or(parts) => {
                    parts.iter().map(|p| walk(p, depth + 1, terms)).max().unwrap_or(depth)
                }
            }
        }
        let mut terms = 0;
        let depth = walk(self, 0, &mut terms);
        let too = |message: String| EngineError::InvalidParameter {
            param: param.to_owned(),
            message,
        };
        if terms > MAX_FILTER_TERMS {
            return Err(too(format!(
                "has {terms} conditions; at most {MAX_FILTER_TERMS} are allowed"
            )));
        }
        // The outermost `and` that joins parameters does not count as nesting.
        if depth > MAX_FILTER_DEPTH + 1 {
            return Err(too(format!(
                "nests and/or/not {} deep; at most {MAX_FILTER_DEPTH} levels are allowed",
                depth - 1
            )));
        }
        Ok(())
    }
}

/// What a clause compares with: one value or a list.
enum Operand {
    One(Value),
    List(Vec<Value>),
}

/// Parsing context: the schema, and the parameter named in errors.
struct Ctx<'a> {
    schema: &'a CollectionSchema,
    param: &'a str,
}

impl Ctx<'_> {
    fn error(&self, at: &str, message: String) -> EngineError {
        let message = if at.is_empty() {
            message
        } else {
            format!("at `{at}`: {message}")
        };
        EngineError::InvalidParameter {
            param: self.param.to_owned(),
            message,
        }
    }

    fn resolve(&self, path: &str, at: &str) -> Result<(Column, FieldType), EngineError> {
        self.schema.resolve(path).ok_or_else(|| {
            self.error(
                at,
                format!(
                    "names `{}`, which is not an indexed path; filterable paths: {}",
                    shorten(path),
                    self.schema.filterable_paths().join(", ")
                ),
            )
        })
    }

    fn parse_text(&self, text: &str, ty: FieldType, path: &str) -> Result<Value, EngineError> {
        Value::parse(text, ty).map_err(|e| self.error(path, format!("the value `{}`: {e}", shorten(text))))
    }

    /// A JSON value for a path of type `ty`: typed JSON, or text in the form query
    /// parameters use (so `"2.5"` works for a float path).
    fn parse_json(&self, json: &serde_json::Value, ty: FieldType, at: &str) -> Result<Value, EngineError> {
        let ty = if ty == FieldType::StringArray {
            FieldType::String
        } else {
            ty
        };
        match (json, ty) {
            (serde_json::Value::String(s), FieldType::Integer | FieldType::Float | FieldType::Boolean) => {
                self.parse_text(s, ty, at)
            }
            (json, ty) => Value::from_json(Some(json), ty).map_err(|e| self.error(at, e.to_string())),
        }
    }

    fn object(&self, json: &serde_json::Value, at: &str, depth: usize) -> Result<Filter, EngineError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(self.error(at, format!("nests deeper than {MAX_FILTER_DEPTH} levels")));
        }
        let serde_json::Value::Object(map) = json else {
            return Err(self.error(at, "expected an object of paths and conditions, or and/or/not".into()));
        };
        let mut parts = Vec::with_capacity(map.len());
        for (key, value) in map {
            let here = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            let part = match key.as_str() {
                "and" | "or" => {
                    let serde_json::Value::Array(items) = value else {
                        return Err(self.error(&here, format!("`{key}` takes a list of filters")));
                    };
                    let inner = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.object(item, &format!("{here}.{i}"), depth + 1))
                        .collect::<Result<Vec<_>, _>>()?;
                    if key == "and" {
                        Filter::And(inner)
                    } else {
                        Filter::Or(inner)
                    }
                }
                "not" => Filter::Not(Box::new(self.object(value, &here, depth + 1)?)),
                path => self.path_condition(path, value, &here)?,
            };
            parts.push(part);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn path_condition(&self, path: &str, json: &serde_json::Value, at: &str) -> Result<Filter, EngineError> {
        let (column, ty) = self.resolve(path, at)?;
        // A list names values; "missing" is `{"path": null}`, never a list item.
        let item = |i: &serde_json::Value, at: &str| {
            if i.is_null() {
                Err(self.error(
                    at,
                    "lists may not hold null; use {\"path\": null} for a missing value".into(),
                ))
            } else {
                self.parse_json(i, ty, at)
            }
        };
        let list = |json: &serde_json::Value, at: &str| -> Result<Vec<Value>, EngineError> {
            match json {
                serde_json::Value::Array(items) => items.iter().map(|i| item(i, at)).collect(),
                one => Ok(vec![item(one, at)?]),
            }
        };
        match json {
            serde_json::Value::Object(ops) => {
                let mut parts = Vec::with_capacity(ops.len());
                for (op, operand) in ops {
                    let here = format!("{at}.{op}");
                    let operand = if matches!(op.as_str(), "in" | "any" | "all" | "none") {
                        Operand::List(list(operand, &here)?)
                    } else if operand.is_null() {
                        Operand::One(Value::Null)
                    } else {
                        Operand::One(self.parse_json(operand, ty, &here)?)
                    };
                    parts.push(self.clause(column, ty, path, op, operand, &here)?);
                }
                Ok(if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Filter::And(parts)
                })
            }
            serde_json::Value::Array(_) => self.clause(column, ty, path, "any", Operand::List(list(json, at)?), at),
            serde_json::Value::Null => self.clause(column, ty, path, "eq", Operand::One(Value::Null), at),
            one => self.clause(column, ty, path, "eq", Operand::One(self.parse_json(one, ty, at)?), at),
        }
    }

    fn clause(
        &self,
        column: Column,
        ty: FieldType,
        path: &str,
        op: &str,
        operand: Operand,
        at: &str,
    ) -> Result<Filter, EngineError> {
        let array = ty == FieldType::StringArray;
        let condition = match (op, operand) {
            (_, Operand::List(vs)) if vs.len() > MAX_FILTER_VALUES => {
                return Err(self.error(
                    at,
                    format!("lists {} values; at most {MAX_FILTER_VALUES} are allowed", vs.len()),
                ));
            }
            (_, Operand::List(vs)) if vs.is_empty() => {
                return Err(self.error(at, format!("`{op}` needs at least one value")));
            }
            ("eq", Operand::One(Value::Null)) if array => {
                return Err(self.error(
                    at,
                    format!("compares the string[] path `{path}` with null; give a string"),
                ));
            }
            ("eq", Operand::One(v)) if array => Condition::ContainsAll(vec![v]),
            ("all", Operand::List(vs)) if array => Condition::ContainsAll(vs),
            ("any" | "in", Operand::List(vs)) if array => Condition::ContainsAny(vs),
            ("none", Operand::List(vs)) if array => Condition::ContainsNone(vs),
            ("gt" | "gte" | "lt" | "lte", _) if array => {
                return Err(self.error(
                    at,
                    format!("uses `{op}` on the string[] path `{path}`; string[] paths take eq, any, all, none"),
                ));
            }
            ("all", _) => {
                return Err(self.error(
                    at,
                    format!("uses `all` on `{path}`, which is {ty}; `all` applies to string[] paths (use `in`)"),
                ));
            }
            ("eq", Operand::One(v)) => Condition::Compare(CmpOp::Eq, v),
            ("any" | "in", Operand::List(vs)) => Condition::In(vs),
            ("none", Operand::List(vs)) => {
                return Ok(Filter::Not(Box::new(Filter::Clause(Clause {
                    column,
                    condition: Condition::In(vs),
                }))));
            }
            (_, Operand::One(Value::Null)) => {
                return Err(self.error(
                    at,
                    format!("compares `{path}` with null using `{op}`; only eq takes null"),
                ));
            }
            ("gt", Operand::One(v)) => Condition::Compare(CmpOp::Gt, v),
            ("gte", Operand::One(v)) => Condition::Compare(CmpOp::Ge, v),
            ("lt", Operand::One(v)) => Condition::Compare(CmpOp::Lt, v),
            ("lte", Operand::One(v)) => Condition::Compare(CmpOp::Le, v),
            _ => {
                return Err(self.error(
                    at,
                    format!(
                        "uses the operator `{}`; known operators: {}",
                        shorten(op),
                        OPERATORS.join(", ")
                    ),
                ));
            }
        };
        Ok(Filter::Clause(Clause { column, condition }))
    }
}

fn canonical_clause(clause: &Clause) -> String {
    let mut out = match clause.column {
        Column::Id => "id".to_owned(),
        Column::Indexed(n) => format!("c{n}"),
    };
    let list = |out: &mut String, name: &str, vs: &[Value]| {
        let mut texts: Vec<String> = vs.iter().map(canonical_value).collect();
        texts.sort();
        texts.dedup();
        let _ = write!(out, " {name} [{}]", texts.join(","));
    };
    match &clause.condition {
        Condition::Compare(op, v) => {
            let _ = write!(out, " {} {}", op.sql(), canonical_value(v));
        }
        Condition::In(vs) => list(&mut out, "in", vs),
        Condition::ContainsAll(vs) => list(&mut out, "all", vs),
        Condition::ContainsAny(vs) => list(&mut out, "any", vs),
        Condition::ContainsNone(vs) => list(&mut out, "none", vs),
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

#[cfg(test)]
mod tests;
