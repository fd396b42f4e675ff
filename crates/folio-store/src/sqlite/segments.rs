//! Pages whose leading sort column holds SQL NULLs (files served as they are), read as
//! index seeks instead of a sort.
//!
//! The engine orders NULL after every value; SQLite's indexes keep NULLs first. Written as
//! one query, such a page needs `NULLS LAST`/`NULLS FIRST` and a keyset predicate with
//! `OR c IS NULL` alternatives, which no index order serves: SQLite sorts or scans what is
//! left of the table for every page, so pages cost more the deeper they are.
//!
//! Split on the leading column `c`, the engine's order is two runs that an index on
//! `(c, id)` serves with one seek each: the rows where `c` is not NULL, in `c` order, and
//! the rows where it is NULL, in the order of the other fields (`c IS NULL` makes `c`
//! constant, so the planner needs no order of it). Ascending, the NULL run comes last;
//! descending, first. The keyset predicate is evaluated as far as each run decides it: in
//! the NULL run `c` is NULL, so a comparison on `c` becomes true, false, or the comparison
//! of the columns after it; in the other run `c` is never NULL, so it compares as a plain
//! column, and a comparison with a NULL key value is decided outright. A run whose predicate
//! is false is left out; two runs are joined by `UNION ALL`, which SQLite evaluates left to
//! right, under the page's `LIMIT` and `OFFSET`.

use folio_engine::{CmpOp, Column, Direction, Plan, Predicate, Scan, Sort, Value};
use rusqlite::types::Value as Sql;

use super::sql::{self, Elements, Layout, Nulls};

/// The leading sort column, when it may hold SQL NULLs: pages in this sort are read in runs.
pub(crate) fn nullable_leading(layout: &dyn Layout, sort: &Sort) -> Option<Column> {
    let first = sort.fields().first()?;
    let split = layout.nulls() == Nulls::Sql && first.column != Column::Id && layout.nullable(first.column);
    split.then_some(first.column)
}

/// What a page's rows are read with: the SQL and its bound parameters.
pub(crate) struct PageSql {
    /// The statement.
    pub(crate) sql: String,
    /// Its parameters, `?1` first.
    pub(crate) params: Vec<Sql>,
}

/// The rows of a page whose leading sort column `c` may be NULL, as runs (see the module
/// docs). `select` is what each row selects (the key columns, then the document's), `filter`
/// adds the query's filter to a WHERE clause and `docs` pushes the parameters the selected
/// expressions need.
pub(crate) fn page_sql(
    layout: &dyn Layout,
    table: &str,
    select: &dyn Fn(&mut Vec<Sql>) -> String,
    filter: &dyn Fn(&mut sql::Where<'_>),
    sort: &Sort,
    plan: &Plan,
    c: Column,
) -> PageSql {
    let not_null = NotNull {
        inner: layout,
        column: c,
    };
    let leading = match plan.scan {
        Scan::Forward => sort.fields()[0].direction,
        Scan::Backward => sort.fields()[0].direction.reverse(),
    };
    // In scan order: ascending, values before NULLs; descending, NULLs first.
    let runs = match leading {
        Direction::Asc => [false, true],
        Direction::Desc => [true, false],
    };
    // Both runs in `c`'s order without NULLS FIRST/LAST: in the NULL run `c` is constant.
    let order_by = sql::order_by(&not_null, sort, plan.scan);
    let limit = i64::try_from(plan.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(plan.offset).unwrap_or(i64::MAX);
    let mut params = Vec::new();
    let mut selects = Vec::new();
    for null in runs {
        let predicate = match &plan.predicate {
            None => Part::True,
            Some(p) => restrict(p, c, null),
        };
        if matches!(predicate, Part::False) {
            continue;
        }
        let columns = select(&mut params);
        let mut w = sql::where_clause(layout);
        w.params = std::mem::take(&mut params);
        filter(&mut w);
        // `c < NULL` is the engine's `IS NOT NULL`, `c = NULL` its `IS NULL`.
        let guard = if null { CmpOp::Eq } else { CmpOp::Lt };
        w.predicate(&Predicate::Row {
            columns: vec![c],
            op: guard,
            values: vec![Value::Null],
        });
        let (mut terms, taken) = w.into_parts();
        if let Part::Is(p) = predicate {
            // The values run compares `c` as a plain column; the NULL run has no `c` left
            // at the front of its comparisons.
            let run_layout: &dyn Layout = if null { layout } else { &not_null };
            let mut w = sql::where_clause(run_layout);
            w.params = taken;
            w.predicate(&p);
            let (more, taken) = w.into_parts();
            terms.extend(more);
            params = taken;
        } else {
            params = taken;
        }
        selects.push(format!(
            "SELECT {columns} FROM {table} WHERE {}{order_by} LIMIT {}",
            terms.join(" AND "),
            limit.saturating_add(offset)
        ));
    }
    let sql = match selects.as_slice() {
        [] => format!("SELECT {} FROM {table} WHERE 0", select(&mut params)),
        runs => compound(runs, limit, offset),
    };
    PageSql { sql, params }
}

/// The runs' statements, in scan order, as one page: SQLite reads a compound select's parts
/// in turn.
fn compound(runs: &[String], limit: i64, offset: i64) -> String {
    let parts: Vec<String> = runs.iter().map(|s| format!("SELECT * FROM ({s})")).collect();
    format!("{} LIMIT {limit} OFFSET {offset}", parts.join(" UNION ALL "))
}

/// A predicate as far as one run decides it.
#[derive(Debug, PartialEq)]
enum Part {
    True,
    False,
    Is(Predicate),
}

/// `p` over the rows where `c` is NULL (`null`) or is not: comparisons that start with `c`
/// are decided or shortened; the rest is kept as it is.
fn restrict(p: &Predicate, c: Column, null: bool) -> Part {
    match p {
        Predicate::Row { columns, op, values } if columns.first() == Some(&c) => {
            let ordering = match (null, &values[0]) {
                // NULL = NULL: the columns after `c` decide.
                (true, Value::Null) => None,
                // NULL is greater than every value, and every value less than NULL.
                (true, _) => Some(std::cmp::Ordering::Greater),
                (false, Value::Null) => Some(std::cmp::Ordering::Less),
                (false, _) => return Part::Is(p.clone()),
            };
            match ordering {
                Some(o) => truth(op.holds(o)),
                None if columns.len() == 1 => truth(op.holds(std::cmp::Ordering::Equal)),
                None => Part::Is(Predicate::Row {
                    columns: columns[1..].to_vec(),
                    op: *op,
                    values: values[1..].to_vec(),
                }),
            }
        }
        Predicate::Row { .. } => Part::Is(p.clone()),
        Predicate::And(parts) => {
            let mut kept = Vec::new();
            for part in parts {
                match restrict(part, c, null) {
                    Part::False => return Part::False,
                    Part::True => {}
                    Part::Is(q) => kept.push(q),
                }
            }
            joined(kept, Predicate::And, Part::True)
        }
        Predicate::Or(parts) => {
            let mut kept = Vec::new();
            for part in parts {
                match restrict(part, c, null) {
                    Part::True => return Part::True,
                    Part::False => {}
                    Part::Is(q) => kept.push(q),
                }
            }
            joined(kept, Predicate::Or, Part::False)
        }
    }
}

fn truth(holds: bool) -> Part {
    if holds { Part::True } else { Part::False }
}

fn joined(mut kept: Vec<Predicate>, join: fn(Vec<Predicate>) -> Predicate, empty: Part) -> Part {
    match kept.len() {
        0 => empty,
        1 => Part::Is(kept.remove(0)),
        _ => Part::Is(join(kept)),
    }
}

/// A layout in which column `column` holds no NULLs: the rows of the values run.
struct NotNull<'a> {
    inner: &'a dyn Layout,
    column: Column,
}

impl Layout for NotNull<'_> {
    fn column(&self, c: Column) -> String {
        self.inner.column(c)
    }
    fn nulls(&self) -> Nulls {
        self.inner.nulls()
    }
    fn nullable(&self, c: Column) -> bool {
        c != self.column && self.inner.nullable(c)
    }
    fn elements(&self, n: usize) -> Elements {
        self.inner.elements(n)
    }
}

#[cfg(test)]
mod tests {
    use folio_engine::Position;

    use super::*;

    fn row(columns: &[Column], op: CmpOp, values: &[Value]) -> Predicate {
        Predicate::Row {
            columns: columns.to_vec(),
            op,
            values: values.to_vec(),
        }
    }

    const C: Column = Column::Indexed(0);

    /// A table `t (id INTEGER PRIMARY KEY, c TEXT)` with an index on `(c, id)`, NULLs in `c`.
    struct Plain;

    impl Layout for Plain {
        fn column(&self, c: Column) -> String {
            match c {
                Column::Id => "\"id\"".to_owned(),
                Column::Indexed(_) => "\"c\"".to_owned(),
            }
        }
        fn nulls(&self) -> Nulls {
            Nulls::Sql
        }
        fn nullable(&self, c: Column) -> bool {
            c != Column::Id
        }
        fn elements(&self, _: usize) -> Elements {
            Elements::Json
        }
    }

    fn table() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT, other TEXT); CREATE INDEX t_c ON t (c, id);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE printf('v%04d', i % 500) END, 'x' FROM n;
             ANALYZE;",
        )
        .unwrap();
        conn
    }

    fn schema() -> folio_engine::CollectionSchema {
        folio_engine::CollectionSchema {
            name: "t".into(),
            id_path: "id".into(),
            id_type: folio_engine::IdType::Integer,
            indexed: vec![folio_engine::IndexedPath::new("c", folio_engine::FieldType::String)],
        }
    }

    /// The rows of every page of a walk in `sort`, forwards (then backwards from the end),
    /// with the query plan of each page.
    fn walk(conn: &rusqlite::Connection, spec: &str, forward: bool) -> (Vec<i64>, Vec<String>) {
        let sort = Sort::parse(spec, &schema(), "sort").unwrap();
        let width = sort.fields().len();
        let mut position = if forward { Position::Start } else { Position::End };
        let (mut ids, mut plans) = (Vec::new(), Vec::new());
        loop {
            let plan = folio_engine::page::plan(&sort, position.clone(), 7);
            let select = |_: &mut Vec<Sql>| "\"c\", \"id\", \"other\"".to_owned();
            let filter = |_: &mut sql::Where<'_>| {};
            let page = page_sql(&Plain, "t", &select, &filter, &sort, &plan, C);
            let explained: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {}", page.sql))
                .unwrap()
                .query_map(rusqlite::params_from_iter(&page.params), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            plans.push(explained.join("; "));
            let rows: Vec<(Option<String>, i64)> = conn
                .prepare(&page.sql)
                .unwrap()
                .query_map(rusqlite::params_from_iter(&page.params), |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let more = rows.len() > 7;
            let mut rows: Vec<_> = rows.into_iter().take(7).collect();
            if !forward {
                rows.reverse();
            }
            let edge = if forward { rows.last() } else { rows.first() };
            let key = edge.map(|(c, id)| {
                let c = c.clone().map_or(Value::Null, Value::Text);
                if width == 1 {
                    vec![Value::Int(*id)]
                } else {
                    vec![c, Value::Int(*id)]
                }
            });
            let mut page_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
            if forward {
                ids.extend(page_ids);
            } else {
                page_ids.extend(ids);
                ids = page_ids;
            }
            match key {
                Some(key) if more => {
                    position = if forward {
                        Position::After(key)
                    } else {
                        Position::Before(key)
                    }
                }
                _ => return (ids, plans),
            }
        }
    }

    /// The engine's order (NULL after every value), from SQLite with NULLS LAST/FIRST.
    fn reference(conn: &rusqlite::Connection, desc: bool) -> Vec<i64> {
        let order = if desc {
            "c DESC NULLS FIRST, id DESC"
        } else {
            "c ASC NULLS LAST, id ASC"
        };
        conn.prepare(&format!("SELECT id FROM t ORDER BY {order}"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn walks_over_a_nullable_column_are_in_the_engines_order_both_ways() {
        let conn = table();
        for (spec, desc) in [("c", false), ("-c", true)] {
            for forward in [true, false] {
                let (ids, _) = walk(&conn, spec, forward);
                assert_eq!(ids, reference(&conn, desc), "sort {spec}, forward {forward}");
            }
        }
    }

    #[test]
    fn every_page_over_a_nullable_column_is_index_seeks_without_a_sort() {
        let conn = table();
        for spec in ["c", "-c"] {
            for forward in [true, false] {
                let (_, plans) = walk(&conn, spec, forward);
                for plan in plans {
                    assert!(
                        !plan.contains("TEMP B-TREE") && !plan.contains("SCAN t"),
                        "{spec}: {plan}"
                    );
                    // A seek: on the index, or on the rowid when the planner finds that cheaper.
                    assert!(plan.contains("SEARCH t USING"), "{plan}");
                }
            }
        }
    }

    #[test]
    fn the_null_run_decides_comparisons_on_c_or_drops_c_from_them() {
        let key = [Value::Int(3), Value::Int(9)];
        let p = row(&[C, Column::Id], CmpOp::Gt, &key);
        assert_eq!(restrict(&p, C, true), Part::True);
        assert_eq!(restrict(&p, C, false), Part::Is(p.clone()));
        let p = row(&[C, Column::Id], CmpOp::Lt, &key);
        assert_eq!(restrict(&p, C, true), Part::False);
        let at_null = [Value::Null, Value::Int(9)];
        let p = row(&[C, Column::Id], CmpOp::Lt, &at_null);
        assert_eq!(
            restrict(&p, C, true),
            Part::Is(row(&[Column::Id], CmpOp::Lt, &[Value::Int(9)]))
        );
        assert_eq!(restrict(&p, C, false), Part::True);
        let p = row(&[C, Column::Id], CmpOp::Gt, &at_null);
        assert_eq!(restrict(&p, C, false), Part::False);
    }

    #[test]
    fn and_and_or_fold_what_a_run_decides() {
        // `c >= x AND (c > x OR id < z)` with a NULL x, in the NULL run: `id < z`.
        let p = Predicate::And(vec![
            row(&[C], CmpOp::Ge, &[Value::Null]),
            Predicate::Or(vec![
                row(&[C], CmpOp::Gt, &[Value::Null]),
                row(&[Column::Id], CmpOp::Lt, &[Value::Int(1)]),
            ]),
        ]);
        assert_eq!(
            restrict(&p, C, true),
            Part::Is(row(&[Column::Id], CmpOp::Lt, &[Value::Int(1)]))
        );
        assert_eq!(restrict(&p, C, false), Part::False);
    }
}
