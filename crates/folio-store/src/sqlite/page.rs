//! Running a page plan on SQLite: one read transaction for the total and the rows.
//!
//! Shared by folio's own tables and by SQLite files served as they are; they differ in their
//! [`Layout`] (column names, NULLs) and in how they turn rows into documents ([`Docs`]).

use folio_engine::{Plan, ValueRef};
use rusqlite::types::{Value as Sql, ValueRef as SqlRef};
use rusqlite::{Connection, Row};

use super::segments;
use super::sql::{self, Layout};
use crate::records::NewRecord;
use crate::sql::Counting;
use crate::totals::Totals;
use crate::{Count, PageResult, Query, Records, StoreError};

/// Rows reserved before a page is read: the largest page size any style allows, plus one.
const MAX_PREALLOCATED_ROWS: usize = 10_001;

/// How a table's rows become documents.
pub(crate) trait Docs {
    /// The expressions to select for the documents, projected to `fields` when given; any
    /// values they need are pushed onto `params` and named by their position there.
    fn select(&self, fields: Option<&[String]>, params: &mut Vec<Sql>) -> Vec<String>;
    /// Appends to `out` the document (JSON text) from the selected expressions, which start
    /// at column `start`: copied from the row when it is stored whole, else written there.
    fn write_doc(
        &self,
        row: &Row<'_>,
        start: usize,
        fields: Option<&[String]>,
        out: &mut Vec<u8>,
    ) -> rusqlite::Result<()>;
}

/// One table to page through.
pub(crate) struct Table<'a> {
    /// The quoted SQL name of the table.
    pub(crate) sql_name: String,
    pub(crate) layout: &'a dyn Layout,
    pub(crate) docs: &'a dyn Docs,
    /// Identifies the table's current contents: cached totals (and pages read ahead) are
    /// used only while it is unchanged. Read inside the page's transaction.
    pub(crate) generation: &'a dyn Fn(&Connection) -> Result<String, StoreError>,
}

/// Counts the records of `query` as `count` asks (cached per generation) and runs `plan`, in
/// one snapshot, whose generation the page carries.
pub(crate) fn run(
    conn: &Connection,
    totals: &Totals,
    table: &Table<'_>,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    // One read transaction: the total and the page see the same snapshot.
    let tx = conn.unchecked_transaction()?;
    let generation = (table.generation)(&tx)?;
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
    let records = rows(&tx, table, query, plan)?;
    tx.commit()?;
    Ok(records.into_page(plan, total, generation))
}

/// The rows `plan` selects, as records.
fn rows(tx: &Connection, table: &Table<'_>, query: &Query, plan: &Plan) -> Result<Records, StoreError> {
    let fields = query.fields.as_deref();
    let (page_sql, params) = page_sql(table, query, plan);
    let width = query.sort.fields().len();
    let mut stmt = tx.prepare_cached(&page_sql)?;
    let mut records = Records::with_capacity(usize::try_from(plan.limit).unwrap_or(0).min(MAX_PREALLOCATED_ROWS));
    let mut found = stmt.query(rusqlite::params_from_iter(&params))?;
    while let Some(r) = found.next()? {
        let mut record = records.push();
        for i in 0..width {
            key_value(&mut record, r.get_ref(i)?);
        }
        record.write_doc(|out| table.docs.write_doc(r, width, fields, out))?;
    }
    Ok(records)
}

/// The statement that reads the rows `plan` selects (the sort key's columns, then the
/// document's) and its parameters.
pub(crate) fn page_sql(table: &Table<'_>, query: &Query, plan: &Plan) -> (String, Vec<Sql>) {
    let fields = query.fields.as_deref();
    let key_columns = query
        .sort
        .fields()
        .iter()
        .map(|f| table.layout.column(f.column))
        .collect::<Vec<_>>()
        .join(", ");
    match segments::nullable_leading(table.layout, &query.sort) {
        Some(c) => {
            let select =
                |params: &mut Vec<Sql>| format!("{key_columns}, {}", table.docs.select(fields, params).join(", "));
            let filter = |w: &mut sql::Where<'_>| w.filter(&query.filter);
            let s = segments::page_sql(table.layout, &table.sql_name, &select, &filter, &query.sort, plan, c);
            (s.sql, s.params)
        }
        None => {
            let mut w = sql::where_clause(table.layout);
            w.filter(&query.filter);
            if let Some(p) = &plan.predicate {
                w.predicate(p);
            }
            let where_sql = w.sql();
            let mut params = w.params;
            let doc_columns = table.docs.select(fields, &mut params).join(", ");
            let page_sql = format!(
                "SELECT {key_columns}, {doc_columns} FROM {}{where_sql}{} LIMIT {} OFFSET {}",
                table.sql_name,
                sql::order_by(table.layout, &query.sort, plan.scan),
                i64::try_from(plan.limit).unwrap_or(i64::MAX),
                i64::try_from(plan.offset).unwrap_or(i64::MAX),
            );
            (page_sql, params)
        }
    }
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
    row.get_ref(i)?
        .as_bytes()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}
