//! Keyset predicates: "the records strictly after (or before) this key in this order".
//!
//! The engine builds a small predicate tree; stores render it as SQL with bound parameters.
//! Comparisons use the engine's total order ([`Value::total_cmp`]), where NULL is greater than
//! every value, so stores must compare NULLs that way too (the SQLite store keeps NULLs of
//! indexed columns as a value that sorts after every other; see `folio-store`).

use std::cmp::Ordering;

use crate::schema::Column;
use crate::sort::{Direction, Sort};
use crate::value::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=`
    Eq,
}

impl CmpOp {
    /// The SQL spelling of the operator.
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "=",
        }
    }

    /// Whether `ordering` (left compared with right) satisfies the operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
            CmpOp::Eq => ordering == Ordering::Equal,
        }
    }
}

/// A keyset predicate over the columns of one record, under the engine's total order.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// A lexicographic row-value comparison `(c1, .., cn) op (v1, .., vn)`.
    /// With one column it is a plain comparison.
    Row {
        /// The columns compared, left to right.
        columns: Vec<Column>,
        /// The operator.
        op: CmpOp,
        /// The values compared against, one per column.
        values: Vec<Value>,
    },
    /// All of the parts hold.
    And(Vec<Predicate>),
    /// At least one of the parts holds.
    Or(Vec<Predicate>),
}

/// Which side of a key a page lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The records strictly after the key in sort order.
    After,
    /// The records strictly before the key in sort order.
    Before,
    /// The records before the key in sort order, and the key's own: where a bounded walk
    /// (a partition) ends.
    Through,
    /// The records after the key in sort order, and the key's own: where a bounded walk
    /// backwards ends.
    From,
}

/// Builds the predicate selecting the records strictly after or before `key` in `sort` (or,
/// [`Side::Through`], before it and the key's own record).
///
/// `key` holds one value per sort field (the id last). Consecutive fields with the same
/// direction are grouped into one row-value comparison, which a store can serve as a single
/// index seek. For the sort `(a asc, b desc, id desc)` and key `(x, y, z)`, *after* is
///
/// ```sql
/// a >= x AND (a > x OR (b, id) < (y, z))
/// ```
///
/// which is `a > x OR (a = x AND (b < y OR (b = y AND id < z)))` with a leading range on `a`
/// that lets the planner seek instead of scan. When every direction agrees, it is the single
/// row value `(a, b, id) > (x, y, z)`. *Before* reverses every comparison.
///
/// # Panics
/// If `key` does not have one value per sort field (a bug in the caller: keys come from the
/// store's rows for this sort, or from a cursor whose fingerprint matched this sort).
pub fn predicate(sort: &Sort, key: &[Value], side: Side) -> Predicate {
    let fields = sort.fields();
    assert_eq!(fields.len(), key.len(), "a key has one value per sort field");
    // Split into runs of equal direction.
    let mut groups: Vec<(Direction, Vec<Column>, Vec<Value>)> = Vec::new();
    for (field, value) in fields.iter().zip(key) {
        match groups.last_mut() {
            Some((dir, cols, vals)) if *dir == field.direction => {
                cols.push(field.column);
                vals.push(value.clone());
            }
            _ => groups.push((field.direction, vec![field.column], vec![value.clone()])),
        }
    }
    let strict = |dir: Direction| match (dir, side) {
        (Direction::Asc, Side::After | Side::From) | (Direction::Desc, Side::Before | Side::Through) => CmpOp::Gt,
        (Direction::Desc, Side::After | Side::From) | (Direction::Asc, Side::Before | Side::Through) => CmpOp::Lt,
    };
    let loosen = |op: CmpOp| if op == CmpOp::Gt { CmpOp::Ge } else { CmpOp::Le };
    // Build from the last group outwards: P(g..) = g_strict OR (g_eq AND P(g+1..)),
    // written as (g_loose) AND (g_strict OR P(g+1..)) so that the outermost term is a range.
    // *Through* differs from *before* (and *from* from *after*) only in the last group, which
    // admits the key itself.
    let mut groups = groups.into_iter().rev();
    let (dir, columns, values) = groups.next().expect("a sort has at least the id field");
    let last_op = if matches!(side, Side::Through | Side::From) {
        loosen(strict(dir))
    } else {
        strict(dir)
    };
    let mut acc = Predicate::Row {
        columns,
        op: last_op,
        values,
    };
    for (dir, columns, values) in groups {
        let op = strict(dir);
        let loose = loosen(op);
        let strict_part = Predicate::Row {
            columns: columns.clone(),
            op,
            values: values.clone(),
        };
        // The loose bound only needs the group's leading column to give the planner a range;
        // the strict part and `acc` decide the rest exactly.
        let leading = Predicate::Row {
            columns: vec![columns[0]],
            op: loose,
            values: vec![values[0].clone()],
        };
        let exact_eq = if columns.len() > 1 {
            Some(Predicate::Row {
                columns,
                op: CmpOp::Eq,
                values,
            })
        } else {
            None
        };
        let tail = match exact_eq {
            // For a multi-column group, `leading` no longer implies equality of the whole
            // group when the strict part fails, so state it.
            Some(eq) => Predicate::And(vec![eq, acc]),
            None => acc,
        };
        acc = Predicate::And(vec![leading, Predicate::Or(vec![strict_part, tail])]);
    }
    acc
}

impl Predicate {
    /// Evaluates the predicate for one record, given its column values: the reference
    /// semantics that every store's SQL must agree with.
    pub fn matches(&self, value_of: &dyn Fn(Column) -> Value) -> bool {
        match self {
            Predicate::Row { columns, op, values } => {
                let ordering = columns
                    .iter()
                    .zip(values)
                    .map(|(c, v)| value_of(*c).total_cmp(v))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal);
                op.holds(ordering)
            }
            Predicate::And(parts) => parts.iter().all(|p| p.matches(value_of)),
            Predicate::Or(parts) => parts.iter().any(|p| p.matches(value_of)),
        }
    }
}

/// Compares two keys in a sort order: the reference order every store must reproduce.
pub fn compare_keys(sort: &Sort, a: &[Value], b: &[Value]) -> Ordering {
    sort.fields()
        .iter()
        .zip(a.iter().zip(b))
        .map(|(f, (x, y))| match f.direction {
            Direction::Asc => x.total_cmp(y),
            Direction::Desc => y.total_cmp(x),
        })
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests;
