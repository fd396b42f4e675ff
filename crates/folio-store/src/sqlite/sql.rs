//! Rendering engine predicates and filters as SQLite SQL with bound parameters.
//!
//! **NULLs.** The engine orders NULL after every value, and its filters are two-valued.
//! Tables have one of two [`Nulls`] layouts:
//!
//! - [`Nulls::Marker`] (folio's own tables): indexed columns never hold SQL NULL; a missing value
//!   is the empty blob `x''`, which SQLite orders after every number and text. So `ORDER BY c`
//!   puts missing values last ascending and first descending, row values such as
//!   `(c, id) > (?, ?)` compare them like any other value, and every keyset page stays one
//!   index seek. Filters exclude the marker from ranges (`c > ? AND c < x''`).
//! - [`Nulls::Sql`] (tables folio only reads): columns hold real NULLs. A page over a nullable
//!   leading sort column is read as two runs, its values and its NULLs, each one index seek
//!   (`segments.rs`); for nullable columns after the first, sorts say `NULLS LAST`/`NULLS FIRST`
//!   and comparisons are expanded with explicit `IS NULL` tests. Every clause is made
//!   two-valued with `AND c IS NOT NULL`.

use folio_engine::{Clause, CmpOp, Column, Condition, Direction, Scan, Sort, Value};
use rusqlite::types::Value as Sql;

use crate::sql::clause::Dialect;

pub(crate) use crate::sql::{ident, table};

/// The side table holding the elements of the `string[]` path in column `n`.
pub(crate) fn elements_table(collection: &str, n: usize) -> String {
    ident(&format!("folio_c_{collection}__c{n}"))
}

/// The side table holding the elements of path `n` of a collection's superseded versions.
pub(crate) fn history_elements_table(collection: &str, n: usize) -> String {
    ident(&format!("folio_h_{collection}__c{n}"))
}

/// How a table keeps missing values (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nulls {
    /// Missing values are the `x''` marker.
    Marker,
    /// Missing values are SQL NULL.
    Sql,
}

/// How engine columns map to SQL for one table.
pub(crate) trait Layout {
    /// The quoted SQL name of a column.
    fn column(&self, c: Column) -> String;
    /// How the table keeps missing values.
    fn nulls(&self) -> Nulls;
    /// Whether a column may hold SQL NULL (only with [`Nulls::Sql`]).
    fn nullable(&self, c: Column) -> bool;
    /// Where the elements of the `string[]` path in column `n` are.
    fn elements(&self, n: usize) -> Elements;
}

/// Where a table keeps the elements of a `string[]` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Elements {
    /// In a side table of `(value, rid)` rows (folio's own tables).
    Table(String),
    /// In the column itself, as JSON text of an array (a user's file): read with
    /// `json_each`, and text that is not JSON holds no elements.
    Json,
}

/// The value a store binds for an engine value: NULL becomes the `x''` marker in marker
/// tables (in SQL-null tables, NULL keys never reach a bind: see `Sqlite::compare`).
pub(crate) fn bind(v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Blob(Vec::new()),
        Value::Int(i) => Sql::Integer(*i),
        Value::Float(f) => Sql::Real(*f),
        Value::Text(t) => Sql::Text(t.clone()),
    }
}

/// The WHERE clause of a SQLite table with the given layout.
pub(crate) type Where<'a> = crate::sql::clause::Where<Sqlite<'a>>;

/// A WHERE clause for a table of this layout.
pub(crate) fn where_clause(layout: &dyn Layout) -> Where<'_> {
    Where::new(Sqlite(layout))
}

/// ` ORDER BY ...` for a sort on a table of this layout, scanned forwards or backwards.
pub(crate) fn order_by(layout: &dyn Layout, sort: &Sort, scan: Scan) -> String {
    crate::sql::clause::order_by(&Sqlite(layout), sort, scan)
}

/// SQLite's [`Dialect`]: `?N` parameters, `1`/`0`, and the two NULL layouts.
pub(crate) struct Sqlite<'a>(&'a dyn Layout);

impl Dialect for Sqlite<'_> {
    type Param = Sql;
    const TRUE: &'static str = "1";
    const FALSE: &'static str = "0";

    fn clause(&self, clause: &Clause, params: &mut Vec<Sql>) -> String {
        let layout = self.0;
        let c = clause.column;
        let col = layout.column(c);
        let sql_nulls = layout.nulls() == Nulls::Sql;
        // In SQL-null tables a comparison with a NULL column is NULL, which `NOT` would
        // keep NULL; `AND c IS NOT NULL` makes it false, as the engine's logic says.
        let two_valued = |term: String| {
            if sql_nulls && layout.nullable(c) {
                format!("({term} AND {col} IS NOT NULL)")
            } else {
                term
            }
        };
        match &clause.condition {
            Condition::Compare(CmpOp::Eq, Value::Null) if sql_nulls => format!("{col} IS NULL"),
            Condition::Compare(op @ (CmpOp::Gt | CmpOp::Ge), v) if !sql_nulls => {
                format!("({col} {} {} AND {col} < x'')", op.sql(), param(params, v))
            }
            Condition::Compare(op, v) => {
                let term = format!("{col} {} {}", op.sql(), param(params, v));
                two_valued(term)
            }
            Condition::In(vs) => {
                let term = format!("{col} IN ({})", list(params, vs));
                two_valued(term)
            }
            Condition::ContainsAll(vs) => {
                let parts: Vec<String> = vs
                    .iter()
                    .map(|v| self.some_element(c, &format!("= {}", param(params, v))))
                    .collect();
                format!("({})", parts.join(" AND "))
            }
            Condition::ContainsAny(vs) => self.some_element(c, &format!("IN ({})", list(params, vs))),
            Condition::ContainsNone(vs) => self.no_element(c, &format!("IN ({})", list(params, vs))),
        }
    }

    fn order(&self, column: Column, direction: Direction) -> String {
        let explicit = self.0.nulls() == Nulls::Sql && self.0.nullable(column);
        let direction = match (direction, explicit) {
            (Direction::Asc, false) => "ASC",
            (Direction::Desc, false) => "DESC",
            (Direction::Asc, true) => "ASC NULLS LAST",
            (Direction::Desc, true) => "DESC NULLS FIRST",
        };
        format!("{} {direction}", self.0.column(column))
    }

    fn row(&self, columns: &[Column], op: CmpOp, values: &[Value], params: &mut Vec<Sql>) -> String {
        let layout = self.0;
        let any_nullable = columns.iter().any(|c| layout.nullable(*c));
        if layout.nulls() == Nulls::Sql && any_nullable {
            self.expand_row(columns, op, values, params)
        } else if columns.len() == 1 {
            format!(
                "{} {} {}",
                layout.column(columns[0]),
                op.sql(),
                param(params, &values[0])
            )
        } else {
            let cols = columns.iter().map(|c| layout.column(*c)).collect::<Vec<_>>().join(", ");
            format!("({cols}) {} ({})", op.sql(), list(params, values))
        }
    }
}

impl Sqlite<'_> {
    /// Where the elements of array column `c` are. The engine only builds array conditions
    /// for `string[]` columns, and the id is never one.
    fn elements(&self, c: Column) -> Elements {
        match c {
            Column::Indexed(n) => self.0.elements(n),
            Column::Id => unreachable!("the id is never a string[] column"),
        }
    }

    /// Records with an element of array column `c` for which `value {test}` holds.
    fn some_element(&self, c: Column, test: &str) -> String {
        match self.elements(c) {
            Elements::Table(side) => format!("rid IN (SELECT rid FROM {side} WHERE value {test})"),
            Elements::Json => format!("EXISTS {}", self.json_elements(c, test)),
        }
    }

    /// Records with no element of array column `c` for which `value {test}` holds.
    fn no_element(&self, c: Column, test: &str) -> String {
        match self.elements(c) {
            Elements::Table(side) => format!("rid NOT IN (SELECT rid FROM {side} WHERE value {test})"),
            Elements::Json => format!("NOT EXISTS {}", self.json_elements(c, test)),
        }
    }

    /// The elements of a JSON array column for which `value {test}` holds; text that is not
    /// JSON has none (rather than failing the query).
    fn json_elements(&self, c: Column, test: &str) -> String {
        let col = self.0.column(c);
        format!("(SELECT 1 FROM json_each(CASE WHEN json_valid({col}) THEN {col} END) WHERE value {test})")
    }

    /// A row comparison written out column by column, for columns with SQL NULLs:
    /// `(a, b) > (x, y)` is `a > x OR (a = x AND b > y)`, each comparison NULL-aware.
    fn expand_row(&self, columns: &[Column], op: CmpOp, values: &[Value], params: &mut Vec<Sql>) -> String {
        if op == CmpOp::Eq {
            let parts: Vec<String> = columns
                .iter()
                .zip(values)
                .map(|(c, v)| self.compare(*c, CmpOp::Eq, v, params))
                .collect();
            return format!("({})", parts.join(" AND "));
        }
        let strict = match op {
            CmpOp::Ge => CmpOp::Gt,
            CmpOp::Le => CmpOp::Lt,
            other => other,
        };
        let mut alternatives = Vec::new();
        for i in 0..columns.len() {
            let last = i + 1 == columns.len();
            let mut conj: Vec<String> = (0..i)
                .map(|j| self.compare(columns[j], CmpOp::Eq, &values[j], params))
                .collect();
            conj.push(self.compare(columns[i], if last { op } else { strict }, &values[i], params));
            alternatives.push(format!("({})", conj.join(" AND ")));
        }
        format!("({})", alternatives.join(" OR "))
    }

    /// `c op v` under the engine's order, where NULL is greater than every value.
    fn compare(&self, c: Column, op: CmpOp, v: &Value, params: &mut Vec<Sql>) -> String {
        let col = self.0.column(c);
        let nullable = self.0.nullable(c);
        match (op, v) {
            (CmpOp::Eq, Value::Null) => format!("{col} IS NULL"),
            (CmpOp::Gt, Value::Null) => "0".to_owned(),
            (CmpOp::Ge, Value::Null) => format!("{col} IS NULL"),
            (CmpOp::Lt, Value::Null) => format!("{col} IS NOT NULL"),
            (CmpOp::Le, Value::Null) => "1".to_owned(),
            (CmpOp::Gt | CmpOp::Ge, v) if nullable => {
                format!("({col} {} {} OR {col} IS NULL)", op.sql(), param(params, v))
            }
            (op, v) => format!("{col} {} {}", op.sql(), param(params, v)),
        }
    }
}

fn list(params: &mut Vec<Sql>, vs: &[Value]) -> String {
    vs.iter().map(|v| param(params, v)).collect::<Vec<_>>().join(", ")
}

fn param(params: &mut Vec<Sql>, v: &Value) -> String {
    params.push(bind(v));
    format!("?{}", params.len())
}
