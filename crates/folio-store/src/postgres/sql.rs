//! Rendering engine predicates and filters as PostgreSQL SQL with bound parameters.
//!
//! **NULLs.** A PostgreSQL row comparison is NULL as soon as it meets a NULL, and a nullable
//! sort column cannot be one index seek. So each scalar indexed path is two NOT NULL columns:
//! `nN` (true when the value is missing) and `cN` (the value, or a placeholder of its type).
//! The pair `(nN, cN)` sorts exactly as the engine orders values (missing ones last, all
//! equal), so a keyset predicate stays one row value over `(nN, cN, ..., id)`, served by the
//! index on `(nN, cN, id)` in either direction. Because no column holds NULL, SQL logic is
//! two-valued here, as the engine's filters are.
//!
//! Text columns use `COLLATE "C"`, so strings compare byte-wise, as in the engine.

use folio_engine::{
    Clause, CmpOp, CollectionSchema, Column, Condition, Direction, FieldType, Predicate, Scan, Sort, Value,
};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use crate::sql::clause::Dialect;

/// A bound parameter.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

pub(crate) use crate::sql::table;

/// The SQL type of a scalar path's value column.
pub(crate) fn sql_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String | FieldType::StringArray => "text COLLATE \"C\"",
        FieldType::Integer => "bigint",
        FieldType::Float => "double precision",
        FieldType::Boolean => "boolean",
        FieldType::Timestamp => "timestamptz",
    }
}

/// A value as a parameter for a column of type `ty`; a missing value becomes the placeholder
/// stored beside a true `nN`.
pub(crate) fn param(v: &Value, ty: FieldType) -> Param {
    match (ty, v) {
        (FieldType::Boolean, Value::Int(i)) => Box::new(*i != 0),
        (FieldType::Boolean, _) => Box::new(false),
        (FieldType::Timestamp, Value::Int(micros)) => Box::new(timestamp(*micros)),
        (FieldType::Timestamp, _) => Box::new(OffsetDateTime::UNIX_EPOCH),
        (FieldType::Integer, Value::Int(i)) => Box::new(*i),
        (FieldType::Integer, _) => Box::new(0i64),
        (FieldType::Float, Value::Float(f)) => Box::new(*f),
        (FieldType::Float, Value::Int(i)) => Box::new(*i as f64),
        (FieldType::Float, _) => Box::new(0f64),
        (_, Value::Text(t)) => Box::new(t.clone()),
        (_, _) => Box::new(String::new()),
    }
}

/// The instant `micros` microseconds after the Unix epoch (clamped to what PostgreSQL holds).
pub(crate) fn timestamp(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The WHERE clause of a collection's table.
pub(crate) type Where<'a> = crate::sql::clause::Where<Postgres<'a>>;

/// A WHERE clause for the table of the collection with this schema.
pub(crate) fn where_clause(schema: &CollectionSchema) -> Where<'_> {
    Where::new(Postgres { schema, fixed: None })
}

/// A WHERE clause for the table of the collection with this schema, holding the keyset
/// `predicates` (all of which rows must satisfy), its parameters continuing `params`.
///
/// **Ranges that end.** PostgreSQL's B-tree ends a scan at a row comparison that fails only
/// when its *first* column fails it, and the first column of a sort on a path is `nN`,
/// which is the same for nearly every row. So `(nN, cN, id) <= (false, v, k)` at the far
/// end of a scan (the bound of a snapshot page, the end of a partition, the start of a
/// backward page) did not stop the scan at `v`: it read on to the end of the index, filtering.
/// When one predicate fixes `nN` (`<`/`<=` a present value, `>`/`>=` a missing one, `=`),
/// the clause says so as its own term (`NOT nN`, or `nN`), which PostgreSQL takes as an
/// equality, and leaves `nN` out of every row comparison (where it is equal on both sides,
/// so the comparison is unchanged): the comparisons then start at `cN` and bound the range
/// at both ends.
pub(crate) fn keyset_clause<'a>(
    schema: &'a CollectionSchema,
    predicates: &[&Predicate],
    params: Vec<Param>,
) -> Where<'a> {
    let fixed = fixed_missing(predicates);
    let mut w = Where::new(Postgres {
        schema,
        fixed: fixed.map(|(n, _)| n),
    });
    w.params = params;
    if let Some((n, missing)) = fixed {
        w.term(if missing { format!("n{n}") } else { format!("NOT n{n}") });
    }
    for p in predicates {
        w.predicate(p);
    }
    w
}

/// The indexed path whose `nN` the conjunction of `predicates` fixes, and its value: when a
/// conjunct compares the path first in a way only rows with that `nN` satisfy, and every
/// comparison of the path is with a value of the same kind (present or missing).
fn fixed_missing(predicates: &[&Predicate]) -> Option<(usize, bool)> {
    let mut conjuncts = Vec::new();
    for p in predicates {
        top_level(p, &mut conjuncts);
    }
    let (n, missing) = conjuncts.iter().find_map(|p| match p {
        Predicate::Row { columns, op, values } => match (columns.first(), values.first()) {
            (Some(Column::Indexed(n)), Some(v)) => {
                let missing = *v == Value::Null;
                let fixes = match op {
                    CmpOp::Lt | CmpOp::Le => !missing,
                    CmpOp::Gt | CmpOp::Ge => missing,
                    CmpOp::Eq => true,
                };
                fixes.then_some((*n, missing))
            }
            _ => None,
        },
        _ => None,
    })?;
    predicates
        .iter()
        .all(|p| compares_alike(p, n, missing))
        .then_some((n, missing))
}

/// Pushes the conjuncts of `p` (its parts, when it is an `And`) onto `out`.
fn top_level<'p>(p: &'p Predicate, out: &mut Vec<&'p Predicate>) {
    match p {
        Predicate::And(parts) => parts.iter().for_each(|q| top_level(q, out)),
        _ => out.push(p),
    }
}

/// Whether every comparison of indexed path `n` in `p` is with a missing value (`missing`)
/// or with a present one (not `missing`).
fn compares_alike(p: &Predicate, n: usize, missing: bool) -> bool {
    match p {
        Predicate::Row { columns, values, .. } => columns
            .iter()
            .zip(values)
            .all(|(c, v)| *c != Column::Indexed(n) || (*v == Value::Null) == missing),
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().all(|q| compares_alike(q, n, missing)),
    }
}

/// ` ORDER BY ...` for a sort on the table of the collection with this schema.
pub(crate) fn order_by(schema: &CollectionSchema, sort: &Sort, scan: Scan) -> String {
    crate::sql::clause::order_by(&Postgres { schema, fixed: None }, sort, scan)
}

/// PostgreSQL's [`Dialect`]: `$N` parameters typed by the schema, `TRUE`/`FALSE`, and each
/// scalar path as its `(nN, cN)` pair.
pub(crate) struct Postgres<'a> {
    schema: &'a CollectionSchema,
    /// The indexed path whose `nN` a term of the clause fixes ([`keyset_clause`]): row
    /// comparisons leave it out.
    fixed: Option<usize>,
}

impl Dialect for Postgres<'_> {
    type Param = Param;
    const TRUE: &'static str = "TRUE";
    const FALSE: &'static str = "FALSE";

    fn clause(&self, clause: &Clause, params: &mut Vec<Param>) -> String {
        let ty = self.schema.type_of(clause.column);
        let (missing, value) = match clause.column {
            Column::Id => (None, "id".to_owned()),
            Column::Indexed(n) if ty == FieldType::StringArray => (None, format!("a{n}")),
            Column::Indexed(n) => (Some(format!("n{n}")), format!("c{n}")),
        };
        let present = |term: String| match &missing {
            Some(n) => format!("(NOT {n} AND {term})"),
            None => term,
        };
        match &clause.condition {
            Condition::Compare(CmpOp::Eq, Value::Null) => missing.clone().unwrap_or_else(|| "FALSE".to_owned()),
            Condition::Compare(op, v) => {
                let p = push(params, param(v, ty));
                present(format!("{value} {} {p}", op.sql()))
            }
            Condition::In(vs) => {
                let list: Vec<String> = vs.iter().map(|v| push(params, param(v, ty))).collect();
                present(format!("{value} IN ({})", list.join(", ")))
            }
            Condition::ContainsAll(vs) => format!("{value} @> {}", push_array(params, vs)),
            Condition::ContainsAny(vs) => format!("{value} && {}", push_array(params, vs)),
            Condition::ContainsNone(vs) => format!("NOT ({value} && {})", push_array(params, vs)),
        }
    }

    fn order(&self, column: Column, direction: Direction) -> String {
        let dir = if direction == Direction::Asc { "ASC" } else { "DESC" };
        match column {
            Column::Id => format!("id {dir}"),
            Column::Indexed(n) => format!("n{n} {dir}, c{n} {dir}"),
        }
    }

    fn row(&self, columns: &[Column], op: CmpOp, values: &[Value], params: &mut Vec<Param>) -> String {
        // Each indexed column is the pair (missing, value); the id is itself.
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        for (c, v) in columns.iter().zip(values) {
            match c {
                Column::Id => {
                    cols.push("id".to_owned());
                    vals.push(push(params, param(v, self.schema.id_type.field_type())));
                }
                Column::Indexed(n) => {
                    if self.fixed != Some(*n) {
                        cols.push(format!("n{n}"));
                        vals.push(push(params, Box::new(*v == Value::Null)));
                    }
                    cols.push(format!("c{n}"));
                    vals.push(push(params, param(v, self.schema.indexed[*n].ty)));
                }
            }
        }
        format!("({}) {} ({})", cols.join(", "), op.sql(), vals.join(", "))
    }
}

fn push(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

fn push_array(params: &mut Vec<Param>, vs: &[Value]) -> String {
    let items: Vec<String> = vs
        .iter()
        .filter_map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None })
        .collect();
    params.push(Box::new(items));
    format!("${}::text[]", params.len())
}

/// The SQL columns of a sort, in order: `(nN, cN)` per indexed path, then `id`.
pub(crate) fn key_columns(sort: &Sort) -> Vec<String> {
    let mut out = Vec::new();
    for f in sort.fields() {
        match f.column {
            Column::Id => out.push("id".to_owned()),
            Column::Indexed(n) => {
                out.push(format!("n{n}"));
                out.push(format!("c{n}"));
            }
        }
    }
    out
}
