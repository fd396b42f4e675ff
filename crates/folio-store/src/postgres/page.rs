//! Running a page plan on PostgreSQL: one read-only repeatable-read transaction for the total
//! and the rows.

use folio_engine::keyset::Predicate;
use folio_engine::{CollectionSchema, Column, FieldType, IdType, Key, Plan, Value};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::sql::{self, Param};
use super::{PostgresStore, state_in};
use crate::sql::Counting;
use crate::{Count, PageResult, Query, Records, StoreError, Total};

/// Counts the records of `query` as `count` asks (cached per generation) and runs `plan`, in
/// one snapshot, whose generation the page carries.
pub(super) async fn run(
    store: &PostgresStore,
    query: &Query,
    plan: &Plan,
    count: Count,
) -> Result<PageResult, StoreError> {
    let name = &query.schema.name;
    let mut client = store.client().await?;
    // One snapshot for the total and the rows.
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let (present, purged) = state_in(&tx, name).await?;
    let generation = crate::sql::generation_text(present.generation, purged);
    let (moment, snapshot) = crate::sql::moment_to_read(query, present, purged)?;
    // A snapshot walk's total is the one its first page counted, which its cursors carry.
    let count = if snapshot.is_some() { Count::Skip } else { count };
    let total = match Counting::new(count, &query.filter) {
        None => None,
        Some(counting) => Some(match counting.cached(&store.totals, name, &generation) {
            Some(total) => total,
            None => total(&tx, store, &counting, query, &generation).await?,
        }),
    };
    let bound = match snapshot {
        Some(generation) => reach_key(&tx, query, plan, generation)
            .await?
            .map(|key| crate::sql::snapshot_bound(&query.sort, &key, plan.scan)),
        None => None,
    };
    let (page_sql, params) = page_sql(query, plan, snapshot, bound.as_ref());
    let statement = tx.prepare_cached(&page_sql).await?;
    let rows = tx.query(&statement, &refs(&params)).await?;
    tx.commit().await?;
    let records = records(&rows, query)?;
    let mut page = records.into_page(plan, total, generation);
    page.moment = moment;
    Ok(page)
}

/// Counts the records of `query` in the snapshot of `tx`, and caches the count.
async fn total(
    tx: &deadpool_postgres::Transaction<'_>,
    store: &PostgresStore,
    counting: &Counting,
    query: &Query,
    generation: &str,
) -> Result<Total, StoreError> {
    let mut w = sql::where_clause(&query.schema);
    w.filter(&query.filter);
    let count_sql = counting.sql(&sql::table(&query.schema.name), &w.sql());
    let n: i64 = tx.query_one(&count_sql, &refs(&w.params)).await?.get(0);
    Ok(counting.counted(&store.totals, &query.schema.name, generation, n))
}

/// The key of the superseded version a snapshot page at `generation` would take last, its
/// reach-th in scan order, when there are that many ([`crate::sql::snapshot_bound`]).
async fn reach_key(
    tx: &deadpool_postgres::Transaction<'_>,
    query: &Query,
    plan: &Plan,
    generation: i64,
) -> Result<Option<Key>, StoreError> {
    let reach = plan.limit.saturating_add(plan.offset);
    let mut params = Vec::new();
    let reach_sql = format!(
        "SELECT {} FROM {}{}{} LIMIT 1 OFFSET {}",
        sql::key_columns(&query.sort).join(", "),
        crate::sql::history_table(&query.schema.name),
        where_sql(query, plan, &mut params, Some((generation, true)), None),
        sql::order_by(&query.schema, &query.sort, plan.scan),
        i64::try_from(reach.saturating_sub(1)).unwrap_or(i64::MAX),
    );
    let statement = tx.prepare_cached(&reach_sql).await?;
    let rows = tx.query(&statement, &refs(&params)).await?;
    rows.first()
        .map(|row| read_key(row, &query.schema, query).map(|(key, _)| key))
        .transpose()
}

/// The page query and its parameters: the sort key's columns, then the document or the
/// projected paths; at the present, or as the collection was at the older generation
/// `snapshot`, its current rows not past `bound`.
fn page_sql(query: &Query, plan: &Plan, snapshot: Option<i64>, bound: Option<&Predicate>) -> (String, Vec<Param>) {
    let keys = sql::key_columns(&query.sort).join(", ");
    let order = sql::order_by(&query.schema, &query.sort, plan.scan);
    let (limit, offset) = (
        i64::try_from(plan.limit).unwrap_or(i64::MAX),
        i64::try_from(plan.offset).unwrap_or(i64::MAX),
    );
    let name = &query.schema.name;
    let mut params: Vec<Param> = Vec::new();
    let rows_sql = match snapshot {
        None => {
            let w = where_sql(query, plan, &mut params, None, None);
            format!(
                "SELECT {keys}, doc FROM {}{w}{order} LIMIT {limit} OFFSET {offset}",
                sql::table(name)
            )
        }
        // The current rows written at or before it (not past `bound`) and the versions current
        // then, each side one ordered index scan of at most the page's reach, merged in the
        // sort's order.
        Some(generation) => {
            let reach = limit.saturating_add(offset);
            let current = where_sql(query, plan, &mut params, Some((generation, false)), bound);
            let superseded = where_sql(query, plan, &mut params, Some((generation, true)), None);
            format!(
                "(SELECT {keys}, doc FROM {}{current}{order} LIMIT {reach}) UNION ALL \
                 (SELECT {keys}, doc FROM {}{superseded}{order} LIMIT {reach}){order} LIMIT {limit} OFFSET {offset}",
                sql::table(name),
                crate::sql::history_table(name),
            )
        }
    };
    let page_sql = match &query.fields {
        // Paths are taken from each document parsed once, in a subquery over the page's
        // rows alone: `doc::jsonb` per path parsed every document once per path, and a
        // page of 1000 records with 100 paths cost 80 times a whole page.
        Some(fields) if !fields.is_empty() => {
            let doc_columns = fields
                .iter()
                .map(|path| {
                    // PostgreSQL text cannot hold NUL, so no stored key has one: the path
                    // names nothing (and binding it would fail).
                    if path.contains('\0') {
                        return "NULL::text".to_owned();
                    }
                    params.push(Box::new(path.split('.').map(str::to_owned).collect::<Vec<_>>()));
                    format!("(page.d #> ${}::text[])::text", params.len())
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {keys}, {doc_columns} FROM (SELECT {keys}, doc::jsonb AS d FROM ({rows_sql}) rows) page{order}"
            )
        }
        Some(_) => format!("SELECT {keys}, NULL::text FROM ({rows_sql}) page{order}"),
        None => rows_sql,
    };
    (page_sql, params)
}

/// The WHERE clause (` WHERE ...`, or nothing) of the rows `query` and `plan` select, its
/// parameters continuing `params`: at the present, or (`at`: a generation, and whether these
/// are the superseded versions) those current at that generation, not past `bound`.
fn where_sql(
    query: &Query,
    plan: &Plan,
    params: &mut Vec<Param>,
    at: Option<(i64, bool)>,
    bound: Option<&Predicate>,
) -> String {
    let predicates: Vec<&Predicate> = plan.predicate.iter().chain(bound).collect();
    let mut w = sql::keyset_clause(&query.schema, &predicates, std::mem::take(params));
    w.filter(&query.filter);
    let (mut terms, taken) = w.into_parts();
    *params = taken;
    if let Some((generation, superseded)) = at {
        params.push(Box::new(generation));
        let n = params.len();
        terms.push(format!("since <= ${n}"));
        if superseded {
            terms.push(format!("until > ${n}"));
        }
    }
    if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    }
}

/// The page's rows as records: key values, then the document (assembled from its paths when
/// projected).
fn records(rows: &[Row], query: &Query) -> Result<Records, StoreError> {
    let mut records = Records::with_capacity(rows.len());
    for row in rows {
        let (key, next) = read_key(row, &query.schema, query)?;
        let built;
        let doc = match &query.fields {
            None => row.try_get::<_, &str>(next)?,
            Some(fields) => {
                built = crate::sql::project(
                    fields,
                    |i| row.try_get::<_, Option<&str>>(next + i).map_err(StoreError::from),
                    |_, e| StoreError::Internal(e.to_string()),
                )?;
                &built
            }
        };
        let mut record = records.push();
        for value in &key {
            record.key(value.into());
        }
        record.doc(doc.as_bytes());
    }
    Ok(records)
}

/// The parameters as the driver takes them.
pub(super) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
}

/// Reads a sort key from a row whose first columns are `sql::key_columns(sort)`; returns the
/// key and the index of the next column.
fn read_key(row: &Row, schema: &CollectionSchema, query: &Query) -> Result<(Vec<Value>, usize), StoreError> {
    let mut key = Vec::with_capacity(query.sort.fields().len());
    let mut i = 0;
    for f in query.sort.fields() {
        match f.column {
            Column::Id => {
                key.push(match schema.id_type {
                    IdType::String => Value::Text(row.try_get(i)?),
                    IdType::Integer => Value::Int(row.try_get(i)?),
                });
                i += 1;
            }
            Column::Indexed(n) => {
                let missing: bool = row.try_get(i)?;
                let value = if missing {
                    Value::Null
                } else {
                    match schema.indexed[n].ty {
                        FieldType::Integer => Value::Int(row.try_get(i + 1)?),
                        FieldType::Float => Value::Float(row.try_get(i + 1)?),
                        FieldType::Boolean => Value::Int(i64::from(row.try_get::<_, bool>(i + 1)?)),
                        FieldType::Timestamp => {
                            let t: OffsetDateTime = row.try_get(i + 1)?;
                            Value::Int(i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX))
                        }
                        FieldType::String | FieldType::StringArray => Value::Text(row.try_get(i + 1)?),
                    }
                };
                key.push(value);
                i += 2;
            }
        }
    }
    Ok((key, i))
}

#[cfg(test)]
mod tests;
