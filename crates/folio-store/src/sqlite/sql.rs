//! Rendering engine predicates and filters as SQLite SQL with bound parameters.
//!
//! **NULLs.** The engine orders NULL after every value. SQLite orders NULL first, and an index
//! cannot serve `NULLS LAST` on its own, so indexed columns never hold SQL NULL: a missing
//! value is stored as the empty blob `x''`. SQLite orders every blob after every number and
//! text, so `ORDER BY c` puts missing values last ascending and first descending, row values
//! such as `(c, id) > (?, ?)` compare them like any other value, and every keyset page stays
//! one index seek. Filters exclude the marker explicitly (`c > ? AND c < x''`), because a
//! missing value matches no comparison.

use std::fmt::Write as _;

use folio_engine::{CmpOp, Column, Condition, Direction, Filter, Predicate, Scan, Sort, Value};
use rusqlite::types::Value as Sql;

/// Quotes an identifier for SQLite: the one place identifiers enter SQL.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table of a collection.
pub(crate) fn table(collection: &str) -> String {
    ident(&format!("folio_c_{collection}"))
}

/// The side table holding the elements of the `string[]` path in column `n`.
pub(crate) fn elements_table(collection: &str, n: usize) -> String {
    ident(&format!("folio_c_{collection}__c{n}"))
}

/// The name of a column in a collection's table.
pub(crate) fn column(c: Column) -> String {
    match c {
        Column::Id => "id".to_owned(),
        Column::Indexed(n) => format!("c{n}"),
    }
}

/// The value a store binds for an engine value: NULL becomes the `x''` marker (see above).
pub(crate) fn bind(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Blob(Vec::new()),
        Value::Int(i) => Sql::Integer(*i),
        Value::Float(f) => Sql::Real(*f),
        Value::Text(t) => Sql::Text(t.clone()),
    }
}

/// The engine value of a column read back from SQLite.
pub(crate) fn read(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null | R::Blob(_) => Value::Null,
        R::Integer(i) => Value::Int(i),
        R::Real(f) => Value::Float(f),
        R::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A WHERE clause under construction, with its parameters in order.
#[derive(Default)]
pub(crate) struct Where {
    terms: Vec<String>,
    pub(crate) params: Vec<Sql>,
}

impl Where {
    /// The clause, `WHERE a AND b`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.terms.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.terms.join(" AND "))
        }
    }

    /// Adds the conditions of a filter on `collection`.
    pub(crate) fn filter(&mut self, collection: &str, filter: &Filter) {
        for clause in filter.clauses() {
            let col = column(clause.column);
            let term = match &clause.condition {
                Condition::Compare(CmpOp::Eq, v) => format!("{col} = {}", self.param(v)),
                Condition::Compare(op @ (CmpOp::Gt | CmpOp::Ge), v) => {
                    format!("{col} {} {} AND {col} < x''", op.sql(), self.param(v))
                }
                Condition::Compare(op, v) => format!("{col} {} {}", op.sql(), self.param(v)),
                Condition::ContainsAll(vs) => {
                    let Column::Indexed(n) = clause.column else {
                        unreachable!("the id is scalar")
                    };
                    let side = elements_table(collection, n);
                    vs.iter()
                        .map(|v| {
                            format!(
                                "rid IN (SELECT rid FROM {side} WHERE value = {})",
                                self.param(v)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" AND ")
                }
                Condition::ContainsAny(vs) => {
                    let Column::Indexed(n) = clause.column else {
                        unreachable!("the id is scalar")
                    };
                    let side = elements_table(collection, n);
                    let list = vs
                        .iter()
                        .map(|v| self.param(v))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("rid IN (SELECT rid FROM {side} WHERE value IN ({list}))")
                }
            };
            self.terms.push(term);
        }
    }

    /// Adds a keyset predicate.
    pub(crate) fn predicate(&mut self, p: &Predicate) {
        let term = self.render(p);
        self.terms.push(term);
    }

    fn render(&mut self, p: &Predicate) -> String {
        match p {
            Predicate::Row {
                columns,
                op,
                values,
            } if columns.len() == 1 => {
                format!(
                    "{} {} {}",
                    column(columns[0]),
                    op.sql(),
                    self.param(&values[0])
                )
            }
            Predicate::Row {
                columns,
                op,
                values,
            } => {
                let cols = columns
                    .iter()
                    .map(|c| column(*c))
                    .collect::<Vec<_>>()
                    .join(", ");
                let vals = values
                    .iter()
                    .map(|v| self.param(v))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({cols}) {} ({vals})", op.sql())
            }
            Predicate::And(parts) => self.join(parts, " AND "),
            Predicate::Or(parts) => self.join(parts, " OR "),
        }
    }

    fn join(&mut self, parts: &[Predicate], sep: &str) -> String {
        let rendered: Vec<String> = parts.iter().map(|p| self.render(p)).collect();
        format!("({})", rendered.join(sep))
    }

    fn param(&mut self, v: &Value) -> String {
        self.params.push(bind(v));
        format!("?{}", self.params.len())
    }
}

/// `ORDER BY` for a sort, scanned forwards or backwards.
pub(crate) fn order_by(sort: &Sort, scan: Scan) -> String {
    let mut out = String::from(" ORDER BY ");
    for (i, f) in sort.fields().iter().enumerate() {
        let dir = match scan {
            Scan::Forward => f.direction,
            Scan::Backward => f.direction.reverse(),
        };
        let dir = if dir == Direction::Asc { "ASC" } else { "DESC" };
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(out, "{sep}{} {dir}", column(f.column));
    }
    out
}
