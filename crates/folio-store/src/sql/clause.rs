//! The WHERE clause of a page or a count: filters and keyset predicates rendered as SQL with
//! bound parameters, the same skeleton for every SQL store.
//!
//! [`order_by`] is the `ORDER BY` of a sort, the same way.
//!
//! The skeleton owns the structure (`and`/`or`/`not`, empty conjunctions, parentheses, the
//! terms joined by `AND`); a [`Dialect`] owns what differs: how a parameter is written and
//! bound, the literals of truth, one clause of a filter and one row comparison of a keyset
//! predicate (which is where the stores' NULL layouts differ).

use folio_engine::{Clause, CmpOp, Column, Direction, Filter, Predicate, Scan, Sort, Value};

/// What one SQL store writes differently.
pub(crate) trait Dialect {
    /// A bound parameter.
    type Param;
    /// The literal that always holds (`TRUE`, or `1` where there is no boolean type).
    const TRUE: &'static str;
    /// The literal that never holds.
    const FALSE: &'static str;
    /// One clause of a filter (two-valued, as the engine's logic is).
    fn clause(&self, clause: &Clause, params: &mut Vec<Self::Param>) -> String;
    /// `(columns) op (values)` under the engine's order (NULL greatest).
    fn row(&self, columns: &[Column], op: CmpOp, values: &[Value], params: &mut Vec<Self::Param>) -> String;
    /// The `ORDER BY` term(s) of one column in one direction, missing values last ascending.
    fn order(&self, column: Column, direction: Direction) -> String;
}

/// ` ORDER BY ...` for a sort, scanned forwards or backwards.
pub(crate) fn order_by(dialect: &impl Dialect, sort: &Sort, scan: Scan) -> String {
    let terms: Vec<String> = sort
        .fields()
        .iter()
        .map(|f| {
            let direction = match scan {
                Scan::Forward => f.direction,
                Scan::Backward => f.direction.reverse(),
            };
            dialect.order(f.column, direction)
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}

/// A WHERE clause under construction, with its parameters in order.
pub(crate) struct Where<D: Dialect> {
    dialect: D,
    terms: Vec<String>,
    pub(crate) params: Vec<D::Param>,
}

impl<D: Dialect> Where<D> {
    pub(crate) fn new(dialect: D) -> Where<D> {
        Where {
            dialect,
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

    /// Its terms (joined by `AND`) and parameters: for a statement that puts clauses
    /// together itself, continuing the parameters in another clause.
    pub(crate) fn into_parts(self) -> (Vec<String>, Vec<D::Param>) {
        (self.terms, self.params)
    }

    /// Adds a filter.
    pub(crate) fn filter(&mut self, filter: &Filter) {
        if !filter.is_all() {
            let term = self.render_filter(filter);
            self.terms.push(term);
        }
    }

    /// Adds a term written by the caller (its parameters already pushed).
    pub(crate) fn term(&mut self, term: String) {
        self.terms.push(term);
    }

    /// Adds a keyset predicate.
    pub(crate) fn predicate(&mut self, p: &Predicate) {
        let term = self.render(p);
        self.terms.push(term);
    }

    fn render_filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(parts) if parts.is_empty() => D::TRUE.to_owned(),
            Filter::Or(parts) if parts.is_empty() => D::FALSE.to_owned(),
            Filter::And(parts) => self.join_filters(parts, " AND "),
            Filter::Or(parts) => self.join_filters(parts, " OR "),
            Filter::Not(inner) => format!("NOT {}", self.render_filter(inner)),
            Filter::Clause(clause) => self.dialect.clause(clause, &mut self.params),
        }
    }

    fn join_filters(&mut self, parts: &[Filter], sep: &str) -> String {
        let rendered: Vec<String> = parts.iter().map(|p| self.render_filter(p)).collect();
        format!("({})", rendered.join(sep))
    }

    fn render(&mut self, p: &Predicate) -> String {
        match p {
            Predicate::Row { columns, op, values } => self.dialect.row(columns, *op, values, &mut self.params),
            Predicate::And(parts) => self.join(parts, " AND "),
            Predicate::Or(parts) => self.join(parts, " OR "),
        }
    }

    fn join(&mut self, parts: &[Predicate], sep: &str) -> String {
        let rendered: Vec<String> = parts.iter().map(|p| self.render(p)).collect();
        format!("({})", rendered.join(sep))
    }
}
