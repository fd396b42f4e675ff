//! Running a page plan on SQLite: one read transaction for the total and the rows.
//!
//! Shared by folio's own tables and by SQLite files served as they are; they differ in their
//! [`Layout`] (column names, NULLs) and in how they turn rows into documents ([`Docs`]).

use folio_engine::keyset::Predicate;
use folio_engine::{Key, Plan, ValueRef};
use rusqlite::Connection;
use rusqlite::types::{Value as Sql, ValueRef as SqlRef};

use super::raw::{Reader, Row};
use super::segments;
use super::sql::{self, Layout};
use crate::records::NewRecord;
use crate::sql::Counting;
use crate::totals::Totals;
use crate::{Count, Moment, PageResult, Query, Records, StoreError};

/// Rows reserved before a page is read: the largest page size any style allows, plus one.
const MAX_PREALLOCATED_ROWS: usize = 10_001;

/// How a table's rows become documents.
pub(crate) trait Docs {
    /// The expressions to select for the documents, projected to `fields` when given; any
    /// values they need are pushed onto `params` and named by their position there.
    fn select(&self, fields: Option<&[String]>, params: &mut Vec<Sql>) -> Vec<String>;
    /// Appends to `out` the document (JSON text) from the selected expressions, which start
    /// at column `start`: copied from the row when it is stored whole, else written there.
    /// The values of the expressions in `held` were already read for the row's key.
    fn write_doc(
        &self,
        row: &Row<'_>,
        start: usize,
        held: &Held<'_>,
        fields: Option<&[String]>,
        out: &mut Vec<u8>,
    ) -> rusqlite::Result<()>;
}

/// The most key values of a row that [`Held`] keeps: a sort's paths and the id.
const MAX_HELD: usize = folio_engine::sort::MAX_SORT_PATHS + 1;

/// The values of a row's document expressions already read for its key (a sort on columns
/// that the documents select too: a file's), so that each value is read from SQLite once.
pub(crate) struct Held<'r> {
    values: [(usize, SqlRef<'r>); MAX_HELD],
    len: usize,
}

impl<'r> Held<'r> {
    /// No values held.
    pub(crate) fn none() -> Self {
        Held {
            values: [(0, SqlRef::Null); MAX_HELD],
            len: 0,
        }
    }

    /// Keeps the value of document expression `index`, if there is room (else it is read
    /// again).
    fn hold(&mut self, index: usize, value: SqlRef<'r>) {
        if let Some(slot) = self.values.get_mut(self.len) {
            *slot = (index, value);
            self.len += 1;
        }
    }

    /// The value of document expression `index`, when it is held.
    pub(crate) fn get(&self, index: usize) -> Option<SqlRef<'r>> {
        self.values[..self.len]
            .iter()
            .find(|(i, _)| *i == index)
            .map(|&(_, value)| value)
    }
}

/// One table to page through.
pub(crate) struct Table<'a> {
    /// The quoted SQL name of the table.
    pub(crate) sql_name: String,
    pub(crate) layout: &'a dyn Layout,
    pub(crate) docs: &'a dyn Docs,
    /// The table's state, read inside the page's transaction.
    pub(crate) state: &'a dyn Fn(&Connection) -> Result<State, StoreError>,
    /// Where the versions that writes superseded are kept, for tables that keep them (with a
    /// `since` column, the generation that wrote each row).
    pub(crate) history: Option<History<'a>>,
}

/// The table of a collection's superseded versions ([`crate::sql::history_table`]).
pub(crate) struct History<'a> {
    /// Its quoted SQL name.
    pub(crate) sql_name: String,
    /// Its layout: the collection's, with side tables of its own.
    pub(crate) layout: &'a dyn Layout,
}

/// A table's state in a page's transaction.
pub(crate) struct State {
    /// Identifies the table's current contents: cached totals (and pages read ahead) are
    /// used only while it is unchanged.
    pub(crate) generation: String,
    /// For a table that keeps versions: the present moment, and the generation at or before
    /// which superseded versions were purged.
    pub(crate) versions: Option<(Moment, i64)>,
}

/// Counts the records of `query` as `count` asks (cached per generation) and runs `plan`, in
/// one snapshot, whose generation the page carries.
pub(crate) fn run(
    conn: &Reader,
    totals: &Totals,
    table: &Table<'_>,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    // One read transaction: the total and the page see the same snapshot.
    let tx = conn.unchecked_transaction()?;
    let State { generation, versions } = (table.state)(&tx)?;
    let (moment, snapshot) = match versions {
        Some((present, purged)) => crate::sql::moment_to_read(query, present, purged)?,
        None => (None, None),
    };
    // A snapshot walk's total is the one its first page counted, which its cursors carry.
    let count = if snapshot.is_some() { Count::Skip } else { count };
    let total = match Counting::new(count, &query.filter) {
        None => None,
        Some(counting) => Some(match counting.cached(totals, name, &generation) {
            Some(total) => total,
            None => {
                let mut w = sql::where_clause(table.layout);
                w.filter(&query.filter);
                let n: i64 = tx
                    .prepare_cached(&counting.sql(&table.sql_name, &w.sql()))?
                    .query_row(rusqlite::params_from_iter(&w.params), |r| r.get(0))?;
                counting.counted(totals, name, &generation, n)
            }
        }),
    };
    let records = rows(conn, table, query, plan, snapshot)?;
    tx.commit()?;
    let mut page = records.into_page(plan, total, generation);
    page.moment = moment;
    Ok(page)
}

/// The rows `plan` selects, as records: at the present, or at the older generation
/// `snapshot`.
fn rows(
    conn: &Reader,
    table: &Table<'_>,
    query: &Query,
    plan: &Plan,
    snapshot: Option<i64>,
) -> Result<Records, StoreError> {
    let fields = query.fields.as_deref();
    let (page_sql, params, selection) = match (snapshot, &table.history) {
        (Some(generation), Some(history)) => {
            let bound = reach_key(conn, history, query, plan, generation)?;
            snapshot_sql(table, history, query, plan, generation, bound.as_ref())
        }
        _ => page_sql(table, query, plan),
    };
    let mut records = Records::with_capacity(usize::try_from(plan.limit).unwrap_or(0).min(MAX_PREALLOCATED_ROWS));
    conn.each_row(&page_sql, &params, |r| {
        let mut record = records.push();
        let mut held = Held::none();
        for &column in &selection.key {
            let value = r.get(column)?;
            if let Some(index) = column.checked_sub(selection.doc_start) {
                held.hold(index, value);
            }
            key_value(&mut record, value);
        }
        record.write_doc(|out| table.docs.write_doc(r, selection.doc_start, &held, fields, out))?;
        Ok::<_, StoreError>(())
    })?;
    Ok(records)
}

/// What a page's rows hold: the sort key's columns that the documents do not select, then
/// the documents' expressions.
pub(crate) struct Selection {
    /// The selected expressions, joined.
    sql: String,
    /// The column of each value of the sort key.
    key: Vec<usize>,
    /// The column of the documents' first expression.
    doc_start: usize,
}

impl Selection {
    /// The expressions for the key of `query`'s sort and its documents; the documents'
    /// parameters are pushed onto `params`.
    fn of(table: &Table<'_>, query: &Query, params: &mut Vec<Sql>) -> Selection {
        let docs = table.docs.select(query.fields.as_deref(), params);
        let mut own: Vec<String> = Vec::new();
        // Each key value's column: among the documents' (`Ok`) or its own (`Err`).
        let places: Vec<Result<usize, usize>> = query
            .sort
            .fields()
            .iter()
            .map(|f| {
                let column = table.layout.column(f.column);
                docs.iter().position(|d| *d == column).ok_or_else(|| {
                    own.push(column);
                    own.len() - 1
                })
            })
            .collect();
        let doc_start = own.len();
        Selection {
            sql: own.into_iter().chain(docs).collect::<Vec<_>>().join(", "),
            key: places
                .into_iter()
                .map(|p| p.map_or_else(|own| own, |doc| doc_start + doc))
                .collect(),
            doc_start,
        }
    }
}

/// The statement that reads the rows `plan` selects, its parameters, and what its rows hold.
pub(crate) fn page_sql(table: &Table<'_>, query: &Query, plan: &Plan) -> (String, Vec<Sql>, Selection) {
    match segments::nullable_leading(table.layout, &query.sort) {
        Some(c) => {
            let select = |params: &mut Vec<Sql>| Selection::of(table, query, params).sql;
            let filter = |w: &mut sql::Where<'_>| w.filter(&query.filter);
            let s = segments::page_sql(table.layout, &table.sql_name, &select, &filter, &query.sort, plan, c);
            // Each run selects alike (only parameter numbers differ).
            let selection = Selection::of(table, query, &mut Vec::new());
            (s.sql, s.params, selection)
        }
        None => {
            let mut w = sql::where_clause(table.layout);
            w.filter(&query.filter);
            if let Some(p) = &plan.predicate {
                w.predicate(p);
            }
            let where_sql = w.sql();
            let mut params = w.params;
            let selection = Selection::of(table, query, &mut params);
            let page_sql = format!(
                "SELECT {} FROM {}{where_sql}{} LIMIT {} OFFSET {}",
                selection.sql,
                table.sql_name,
                sql::order_by(table.layout, &query.sort, plan.scan),
                i64::try_from(plan.limit).unwrap_or(i64::MAX),
                i64::try_from(plan.offset).unwrap_or(i64::MAX),
            );
            (page_sql, params, selection)
        }
    }
}

/// The terms and parameters (continuing `params`) of one side of a snapshot page at
/// `generation`: the rows of `layout`'s table that `query` and `plan` select and that were
/// current then (`superseded`: versions in the history table), not past `bound`.
fn snapshot_side(
    layout: &dyn Layout,
    query: &Query,
    plan: &Plan,
    params: Vec<Sql>,
    generation: i64,
    superseded: bool,
    bound: Option<&Predicate>,
) -> (Vec<String>, Vec<Sql>) {
    let mut w = sql::where_clause(layout);
    w.params = params;
    w.filter(&query.filter);
    for p in plan.predicate.iter().chain(bound) {
        w.predicate(p);
    }
    let (mut terms, mut params) = w.into_parts();
    params.push(Sql::Integer(generation));
    let at = params.len();
    terms.push(format!("since <= ?{at}"));
    if superseded {
        terms.push(format!("until > ?{at}"));
    }
    (terms, params)
}

/// The key of the superseded version a snapshot page at `generation` would take last, its
/// reach-th in scan order, when there are that many ([`crate::sql::snapshot_bound`]).
fn reach_key(
    conn: &Reader,
    history: &History<'_>,
    query: &Query,
    plan: &Plan,
    generation: i64,
) -> Result<Option<Key>, StoreError> {
    let reach = plan.limit.saturating_add(plan.offset);
    let (terms, params) = snapshot_side(history.layout, query, plan, Vec::new(), generation, true, None);
    let keys: Vec<String> = query
        .sort
        .fields()
        .iter()
        .map(|f| history.layout.column(f.column))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {}{} LIMIT 1 OFFSET {}",
        keys.join(", "),
        history.sql_name,
        terms.join(" AND "),
        sql::order_by(history.layout, &query.sort, plan.scan),
        i64::try_from(reach.saturating_sub(1)).unwrap_or(i64::MAX),
    );
    let mut found = Records::with_capacity(1);
    conn.each_row(&sql, &params, |r| {
        let mut record = found.push();
        for i in 0..keys.len() {
            key_value(&mut record, r.get(i)?);
        }
        record.doc(b"");
        Ok::<_, StoreError>(())
    })?;
    Ok(found.get(0).map(|r| r.key()))
}

/// The statement that reads the rows `plan` selects as they were at `generation`: the
/// current rows written at or before it (not past `reach_key`), and the superseded versions
/// that were current then, each side one ordered index scan of at most the page's reach,
/// merged in the sort's order.
fn snapshot_sql(
    table: &Table<'_>,
    history: &History<'_>,
    query: &Query,
    plan: &Plan,
    generation: i64,
    reach_key: Option<&Key>,
) -> (String, Vec<Sql>, Selection) {
    let limit = i64::try_from(plan.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(plan.offset).unwrap_or(i64::MAX);
    let bound = reach_key.map(|key| crate::sql::snapshot_bound(&query.sort, key, plan.scan));
    let mut params = Vec::new();
    let mut sides = Vec::new();
    for (sql_name, layout, superseded) in [
        (&table.sql_name, table.layout, false),
        (&history.sql_name, history.layout, true),
    ] {
        let bound = if superseded { None } else { bound.as_ref() };
        let (terms, mut taken) = snapshot_side(layout, query, plan, params, generation, superseded, bound);
        let columns = Selection::of(table, query, &mut taken).sql;
        params = taken;
        sides.push(format!(
            "SELECT * FROM (SELECT {columns} FROM {sql_name} WHERE {}{} LIMIT {})",
            terms.join(" AND "),
            sql::order_by(layout, &query.sort, plan.scan),
            limit.saturating_add(offset),
        ));
    }
    let sql = format!(
        "{}{} LIMIT {limit} OFFSET {offset}",
        sides.join(" UNION ALL "),
        sql::order_by(table.layout, &query.sort, plan.scan),
    );
    (sql, params, Selection::of(table, query, &mut Vec::new()))
}

/// Appends a key value read from SQLite: blobs (the empty blob is folio's marker of a missing
/// value) read as NULL.
fn key_value(record: &mut NewRecord<'_>, value: SqlRef<'_>) {
    match value {
        SqlRef::Null | SqlRef::Blob(_) => record.key(ValueRef::Null),
        SqlRef::Integer(i) => record.key(ValueRef::Int(i)),
        SqlRef::Real(f) => record.key(ValueRef::Float(f)),
        SqlRef::Text(t) => match std::str::from_utf8(t) {
            Ok(text) => record.key(ValueRef::Text(text)),
            // Only files folio serves as they are (`--sqlite`) can hold such text.
            Err(_) => record.key(ValueRef::Text(&String::from_utf8_lossy(t))),
        },
    }
}

/// The bytes of a text (or blob) column.
pub(crate) fn text<'r>(row: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r [u8]> {
    row.get(i)?
        .as_bytes()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}
