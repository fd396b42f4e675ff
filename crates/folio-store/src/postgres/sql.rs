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
    CmpOp, CollectionSchema, Column, Condition, Direction, FieldType, Filter, Predicate, Scan, Sort, Value,
};
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

/// A bound parameter.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// Quotes an identifier: the one place identifiers enter SQL.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table of a collection.
pub(crate) fn table(collection: &str) -> String {
    ident(&format!("folio_c_{collection}"))
}

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

/// A WHERE clause under construction, with its parameters in order.
pub(crate) struct Where<'a> {
    schema: &'a CollectionSchema,
    terms: Vec<String>,
    pub(crate) params: Vec<Param>,
}

impl<'a> Where<'a> {
    pub(crate) fn new(schema: &'a CollectionSchema) -> Where<'a> {
        Where {
            schema,
            terms: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The clause, ` WHERE a AND b`, or nothing.
    pub(crate) fn sql(&self) -> String {
        if self.terms.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.terms.join(" AND "))
        }
    }

    /// Adds a filter.
    pub(crate) fn filter(&mut self, filter: &Filter) {
        if !filter.is_all() {
            let term = self.render_filter(filter);
            self.terms.push(term);
        }
    }

    /// Adds a keyset predicate.
    pub(crate) fn predicate(&mut self, p: &Predicate) {
        let term = self.render(p);
        self.terms.push(term);
    }

    fn render_filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(parts) if parts.is_empty() => "TRUE".to_owned(),
            Filter::Or(parts) if parts.is_empty() => "FALSE".to_owned(),
            Filter::And(parts) => self.join_filters(parts, " AND "),
            Filter::Or(parts) => self.join_filters(parts, " OR "),
            Filter::Not(inner) => format!("NOT {}", self.render_filter(inner)),
            Filter::Clause(clause) => {
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
                        let p = self.push(v, ty);
                        present(format!("{value} {} {p}", op.sql()))
                    }
                    Condition::In(vs) => {
                        let list: Vec<String> = vs.iter().map(|v| self.push(v, ty)).collect();
                        present(format!("{value} IN ({})", list.join(", ")))
                    }
                    Condition::ContainsAll(vs) => format!("{value} @> {}", self.push_array(vs)),
                    Condition::ContainsAny(vs) => format!("{value} && {}", self.push_array(vs)),
                    Condition::ContainsNone(vs) => format!("NOT ({value} && {})", self.push_array(vs)),
                }
            }
        }
    }

    fn join_filters(&mut self, parts: &[Filter], sep: &str) -> String {
        let rendered: Vec<String> = parts.iter().map(|p| self.render_filter(p)).collect();
        format!("({})", rendered.join(sep))
    }

    fn render(&mut self, p: &Predicate) -> String {
        match p {
            Predicate::Row { columns, op, values } => {
                // Each indexed column is the pair (missing, value); the id is itself.
                let mut cols = Vec::new();
                let mut vals = Vec::new();
                for (c, v) in columns.iter().zip(values) {
                    match c {
                        Column::Id => {
                            cols.push("id".to_owned());
                            vals.push(self.push(v, self.schema.id_type.field_type()));
                        }
                        Column::Indexed(n) => {
                            cols.push(format!("n{n}"));
                            self.params.push(Box::new(*v == Value::Null));
                            vals.push(format!("${}", self.params.len()));
                            cols.push(format!("c{n}"));
                            vals.push(self.push(v, self.schema.indexed[*n].ty));
                        }
                    }
                }
                format!("({}) {} ({})", cols.join(", "), op.sql(), vals.join(", "))
            }
            Predicate::And(parts) => self.join(parts, " AND "),
            Predicate::Or(parts) => self.join(parts, " OR "),
        }
    }

    fn join(&mut self, parts: &[Predicate], sep: &str) -> String {
        let rendered: Vec<String> = parts.iter().map(|p| self.render(p)).collect();
        format!("({})", rendered.join(sep))
    }

    fn push(&mut self, v: &Value, ty: FieldType) -> String {
        self.params.push(param(v, ty));
        format!("${}", self.params.len())
    }

    fn push_array(&mut self, vs: &[Value]) -> String {
        let items: Vec<String> = vs
            .iter()
            .filter_map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None })
            .collect();
        self.params.push(Box::new(items));
        format!("${}::text[]", self.params.len())
    }
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

/// `ORDER BY` for a sort, scanned forwards or backwards.
pub(crate) fn order_by(sort: &Sort, scan: Scan) -> String {
    let mut parts = Vec::new();
    for f in sort.fields() {
        let dir = match scan {
            Scan::Forward => f.direction,
            Scan::Backward => f.direction.reverse(),
        };
        let dir = if dir == Direction::Asc { "ASC" } else { "DESC" };
        match f.column {
            Column::Id => parts.push(format!("id {dir}")),
            Column::Indexed(n) => {
                parts.push(format!("n{n} {dir}"));
                parts.push(format!("c{n} {dir}"));
            }
        }
    }
    format!(" ORDER BY {}", parts.join(", "))
}
