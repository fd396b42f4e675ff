//! Writes to PostgreSQL: imports in batches of multi-row INSERTs (one transaction, phases held
//! by [`Batches`]) and deletes.

use std::collections::HashSet;

use folio_engine::{CollectionSchema, FieldType, IdType, Value};
use tokio_postgres::types::ToSql;

use super::PostgresStore;
use super::page::refs;
use super::sql::{self, Param};
use crate::ingest::{self, Cell, id_text};
use crate::input::Numbered;
use crate::sql::catalog;
use crate::sql::{now_ms, purge_threshold};
use crate::write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress};
use crate::{Moment, StoreError};

/// Rows per INSERT statement during imports (fewer when a row has many parameters).
const BATCH_ROWS: usize = 500;

/// The longest collection name a PostgreSQL store takes, in bytes. PostgreSQL keeps
/// identifiers of at most 63 bytes and cuts longer ones (so two long names would name one
/// table, and some statements refuse them), and a collection's tables are named `folio_c_`
/// and `folio_h_` followed by its name.
pub(super) const MAX_NAME_BYTES: usize = 63 - "folio_c_".len();

/// Refuses a collection name too long for PostgreSQL's identifiers ([`MAX_NAME_BYTES`]).
pub(super) fn check_name(name: &str) -> Result<(), StoreError> {
    if name.len() <= MAX_NAME_BYTES {
        return Ok(());
    }
    Err(StoreError::Schema(folio_engine::EngineError::InvalidSchema(format!(
        "collection name `{name}` is {} characters long, but a PostgreSQL store takes names of at most \
         {MAX_NAME_BYTES} (its tables are `folio_c_` and the name, and PostgreSQL names hold at most 63 bytes)",
        name.len()
    ))))
}

/// Imports documents in one transaction: all of them or, on the first error, none. With
/// [`ImportMode::Create`], the collection is created in the same transaction (its indexes
/// after the load).
pub(super) async fn import(
    store: &PostgresStore,
    schema: &CollectionSchema,
    mode: ImportMode,
    mut docs: Documents,
    on_duplicate: OnDuplicate,
    progress: Progress<'_>,
) -> Result<ImportStats, StoreError> {
    schema.validate()?;
    let name = &schema.name;
    if mode == ImportMode::Create {
        check_name(name)?;
    }
    if mode == ImportMode::Append && catalog::schema_of(store, name).await?.is_none() {
        return Err(StoreError::UnknownCollection(name.clone()));
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let indexes = match mode {
        ImportMode::Create => create_in(&tx, schema).await?,
        ImportMode::Append => Vec::new(),
    };
    let stamp = begin_write(&tx, schema).await?;
    let mut batches = Batches::new(schema, on_duplicate, stamp);
    while batches.fill(&mut docs)? {
        batches.insert(&tx).await?;
        progress(batches.stats.done());
    }
    for statement in indexes {
        tx.batch_execute(&statement).await?;
    }
    end_write(&tx, name, stamp, mode == ImportMode::Create).await?;
    tx.commit().await?;
    if mode == ImportMode::Create {
        store.schemas.insert(schema);
    }
    Ok(batches.stats)
}

/// Deletes the records with the given ids (absent ones are skipped), in one transaction.
pub(super) async fn delete(store: &PostgresStore, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
    let schema = catalog::schema_of(store, collection)
        .await?
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let stamp = begin_write(&tx, &schema).await?;
    let archive = tx.prepare(&archive_sql(&schema, stamp, "id = $1")).await?;
    let statement = tx
        .prepare(&format!("DELETE FROM {} WHERE id = $1", sql::table(collection)))
        .await?;
    let mut deleted = 0;
    for id in ids {
        let id = sql::param(id, schema.id_type.field_type());
        let id = [id.as_ref() as &(dyn ToSql + Sync)];
        tx.execute(&archive, &id).await?;
        deleted += tx.execute(&statement, &id).await?;
    }
    end_write(&tx, collection, stamp, false).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Creates a collection's table and catalog row inside `tx`; returns its index statements,
/// for after the load.
async fn create_in(
    tx: &deadpool_postgres::Transaction<'_>,
    schema: &CollectionSchema,
) -> Result<Vec<String>, StoreError> {
    let name = &schema.name;
    let exists = tx
        .query_opt("SELECT 1 FROM folio_collections WHERE name = $1", &[name])
        .await?
        .is_some();
    if exists {
        return Err(StoreError::CollectionExists(name.clone()));
    }
    let t = sql::table(name);
    let id_type = match schema.id_type {
        IdType::String => "text COLLATE \"C\"",
        IdType::Integer => "bigint",
    };
    let mut columns = String::new();
    let mut indexes = Vec::new();
    for (n, p) in schema.indexed.iter().enumerate() {
        if p.ty == FieldType::StringArray {
            columns.push_str(&format!(", a{n} text[] NOT NULL"));
            indexes.push(format!("CREATE INDEX ON {t} USING gin (a{n})"));
        } else {
            columns.push_str(&format!(
                ", n{n} boolean NOT NULL, c{n} {} NOT NULL",
                sql::sql_type(p.ty)
            ));
            indexes.push(format!("CREATE INDEX ON {t} (n{n}, c{n}, id)"));
        }
    }
    tx.batch_execute(&format!(
        "CREATE TABLE {t} (rid bigserial PRIMARY KEY, id {id_type} NOT NULL UNIQUE, doc text NOT NULL{columns}, \
         since bigint NOT NULL DEFAULT 0)"
    ))
    .await?;
    let json = serde_json::to_string(schema).map_err(|e| StoreError::Internal(e.to_string()))?;
    tx.execute(
        "INSERT INTO folio_collections (name, schema) VALUES ($1, $2)",
        &[name, &json],
    )
    .await?;
    Ok(indexes)
}

/// An import's batches: rows read from the input, written with one INSERT each, counted.
struct Batches<'s> {
    schema: &'s CollectionSchema,
    on_duplicate: OnDuplicate,
    stamp: Moment,
    /// The table's columns, in the order each row's parameters come.
    columns: Vec<String>,
    batch_rows: usize,
    /// The `ON CONFLICT` clause and what it returns.
    conflict: String,
    batch: Vec<(u64, ingest::Row)>,
    stats: ImportStats,
}

impl<'s> Batches<'s> {
    fn new(schema: &'s CollectionSchema, on_duplicate: OnDuplicate, stamp: Moment) -> Batches<'s> {
        let columns = row_columns(schema);
        let batch_rows = BATCH_ROWS.min(60_000 / columns.len()).max(1);
        let conflict = match on_duplicate {
            OnDuplicate::Replace => format!(
                "ON CONFLICT (id) DO UPDATE SET {} RETURNING (xmax = 0)",
                columns[1..]
                    .iter()
                    .map(|c| format!("{c} = EXCLUDED.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            OnDuplicate::Error | OnDuplicate::Skip => "ON CONFLICT (id) DO NOTHING RETURNING id::text".to_owned(),
        };
        Batches {
            schema,
            on_duplicate,
            stamp,
            columns,
            batch_rows,
            conflict,
            batch: Vec::with_capacity(batch_rows),
            stats: ImportStats::default(),
        }
    }

    /// Reads the next batch from `docs`; `false` when there is none left.
    fn fill(&mut self, docs: &mut impl Iterator<Item = Numbered>) -> Result<bool, StoreError> {
        self.batch.clear();
        for item in docs.by_ref() {
            let (line, doc) = item?;
            self.batch.push((line, ingest::row(self.schema, &doc, line)?));
            if self.batch.len() == self.batch_rows {
                break;
            }
        }
        Ok(!self.batch.is_empty())
    }

    /// Writes the batch with one INSERT, and counts what it did.
    async fn insert(&mut self, tx: &deadpool_postgres::Transaction<'_>) -> Result<(), StoreError> {
        if self.on_duplicate == OnDuplicate::Replace {
            self.keep_last_of_repeated_ids();
            // The versions this batch replaces, kept first.
            let ids: Vec<Param> = vec![match self.schema.id_type {
                IdType::String => Box::new(self.batch.iter().map(|(_, r)| id_text(&r.id)).collect::<Vec<String>>()),
                IdType::Integer => Box::new(
                    self.batch
                        .iter()
                        .filter_map(|(_, r)| match r.id {
                            Value::Int(i) => Some(i),
                            _ => None,
                        })
                        .collect::<Vec<i64>>(),
                ),
            }];
            let archive = archive_sql(self.schema, self.stamp, "id = ANY($1)");
            tx.execute(&archive, &refs(&ids)).await?;
        }
        let (statement, params) = self.statement();
        let returned = tx.query(&statement, &refs(&params)).await?;
        self.tally(&returned)
    }

    /// One statement may not update a row twice: keeps the last of repeated ids (the others
    /// count as replaced).
    fn keep_last_of_repeated_ids(&mut self) {
        let mut seen = HashSet::new();
        let before = self.batch.len();
        let mut kept: Vec<(u64, ingest::Row)> = self
            .batch
            .drain(..)
            .rev()
            .filter(|(_, r)| seen.insert(id_text(&r.id)))
            .collect();
        kept.reverse();
        self.stats.replaced += (before - kept.len()) as u64;
        self.batch = kept;
    }

    /// The batch's INSERT and its parameters.
    fn statement(&self) -> (String, Vec<Param>) {
        let per_row = self.columns.len();
        let mut params: Vec<Param> = Vec::with_capacity(self.batch.len() * per_row);
        let mut rows_sql = Vec::with_capacity(self.batch.len());
        for (_, row) in &self.batch {
            let start = params.len();
            params.push(sql::param(&row.id, self.schema.id_type.field_type()));
            params.push(Box::new(row.doc.clone()));
            params.push(Box::new(self.stamp.generation));
            for (cell, p) in row.columns.iter().zip(&self.schema.indexed) {
                match cell {
                    Cell::Elements(items) => params.push(Box::new(items.clone())),
                    Cell::Scalar(v) => {
                        params.push(Box::new(*v == Value::Null));
                        params.push(sql::param(v, p.ty));
                    }
                }
            }
            let placeholders: Vec<String> = (start + 1..=params.len()).map(|i| format!("${i}")).collect();
            rows_sql.push(format!("({})", placeholders.join(", ")));
        }
        let statement = format!(
            "INSERT INTO {} ({}) VALUES {} {}",
            sql::table(&self.schema.name),
            self.columns.join(", "),
            rows_sql.join(", "),
            self.conflict
        );
        (statement, params)
    }

    /// Counts what the INSERT did from the rows it returned; a duplicate is an error unless
    /// the import replaces or skips them.
    fn tally(&mut self, returned: &[tokio_postgres::Row]) -> Result<(), StoreError> {
        match self.on_duplicate {
            OnDuplicate::Replace => {
                for r in returned {
                    if r.get::<_, bool>(0) {
                        self.stats.inserted += 1;
                    } else {
                        self.stats.replaced += 1;
                    }
                }
            }
            OnDuplicate::Skip => {
                self.stats.inserted += returned.len() as u64;
                self.stats.skipped += (self.batch.len() - returned.len()) as u64;
            }
            OnDuplicate::Error => {
                if returned.len() < self.batch.len() {
                    return Err(self.first_duplicate(returned));
                }
                self.stats.inserted += returned.len() as u64;
            }
        }
        Ok(())
    }

    /// The error of the first row not inserted: the first duplicate (of a stored record or of
    /// an earlier row of the batch).
    fn first_duplicate(&self, returned: &[tokio_postgres::Row]) -> StoreError {
        let mut inserted: HashSet<String> = returned.iter().map(|r| r.get::<_, String>(0)).collect();
        let (line, row) = self
            .batch
            .iter()
            .find(|(_, r)| !inserted.remove(&id_text(&r.id)))
            .expect("some row was not inserted");
        StoreError::InvalidDocument {
            line: *line,
            message: format!(
                "duplicate id `{}` at `{}` (use --on-duplicate replace or skip)",
                id_text(&row.id),
                self.schema.id_path
            ),
        }
    }
}

/// Starts a write to `schema`'s collection inside `tx`: locks its catalog row and then takes
/// its new generation from the clock, so that generations of one collection grow in the order
/// its writes commit (a transaction id, taken before the lock, would not); and makes the table
/// of its superseded versions if it has none yet (see `sqlite/write.rs`, `begin_write`).
async fn begin_write(tx: &deadpool_postgres::Transaction<'_>, schema: &CollectionSchema) -> Result<Moment, StoreError> {
    let name = &schema.name;
    tx.execute("SELECT 1 FROM folio_collections WHERE name = $1 FOR UPDATE", &[name])
        .await?;
    let generation: i64 = tx.query_one("SELECT nextval('folio_clock')", &[]).await?.get(0);
    let (t, h) = (sql::table(name), crate::sql::history_table(name));
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("folio_h_{name}")])
        .await?
        .get(0);
    if !exists {
        let versioned: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name = $1 AND column_name = 'since')",
                &[&format!("folio_c_{name}")],
            )
            .await?
            .get(0);
        if !versioned {
            tx.batch_execute(&format!("ALTER TABLE {t} ADD COLUMN since bigint NOT NULL DEFAULT 0"))
                .await?;
        }
        let mut ddl = format!(
            "CREATE TABLE {h} (LIKE {t}, until bigint NOT NULL, until_at bigint NOT NULL); \
             CREATE INDEX ON {h} (id); CREATE INDEX ON {h} (until);"
        );
        for (n, p) in schema.indexed.iter().enumerate() {
            if p.ty == FieldType::StringArray {
                ddl.push_str(&format!("CREATE INDEX ON {h} USING gin (a{n});"));
            } else {
                ddl.push_str(&format!("CREATE INDEX ON {h} (n{n}, c{n}, id);"));
            }
        }
        tx.batch_execute(&ddl).await?;
    }
    // The purge finds what it may remove (`until_at` at or before its threshold) in an index
    // on `(until_at, until)` alone, in one seek: without it, it read the whole history every
    // time it ran. Checked here rather than made with the table, for tables made before it;
    // left unnamed, as the others are, since a name made from a long collection name would be
    // cut to PostgreSQL's 63 bytes and could be another collection's.
    let indexed: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = to_regclass($1) AND a.attname = 'until_at')",
            &[&h],
        )
        .await?
        .get(0);
    if !indexed {
        tx.batch_execute(&format!("CREATE INDEX ON {h} (until_at, until)"))
            .await?;
    }
    tx.execute(
        "UPDATE folio_collections SET purged = greatest(generation, 1) WHERE name = $1 AND purged = 0",
        &[name],
    )
    .await?;
    Ok(Moment {
        generation,
        at_ms: now_ms(),
    })
}

/// Ends a write begun with [`begin_write`]: the collection is at its new generation, and a
/// new collection (`created`) has no snapshot before it.
async fn end_write(
    tx: &deadpool_postgres::Transaction<'_>,
    collection: &str,
    stamp: Moment,
    created: bool,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE folio_collections SET generation = $2, changed_at = $3, \
         purged = CASE WHEN $4 THEN $2 ELSE purged END WHERE name = $1",
        &[&collection, &stamp.generation, &stamp.at_ms, &created],
    )
    .await?;
    Ok(())
}

/// The columns a collection's rows are written with, in the order each row's parameters
/// come: the id, the document, the generation that writes it, then each path's (`aN`, or
/// `nN` and `cN`).
fn row_columns(schema: &CollectionSchema) -> Vec<String> {
    let mut columns = vec!["id".to_owned(), "doc".to_owned(), "since".to_owned()];
    for (n, p) in schema.indexed.iter().enumerate() {
        if p.ty == FieldType::StringArray {
            columns.push(format!("a{n}"));
        } else {
            columns.push(format!("n{n}"));
            columns.push(format!("c{n}"));
        }
    }
    columns
}

/// The statement that copies the rows matching `condition` (on `$1`) into the collection's
/// history, as versions current until the write's generation (rows the same write made are
/// not kept: no snapshot ever saw them).
fn archive_sql(schema: &CollectionSchema, stamp: Moment, condition: &str) -> String {
    let columns = format!("rid, {}", row_columns(schema).join(", "));
    format!(
        "INSERT INTO {} ({columns}, until, until_at) SELECT {columns}, {}, {} FROM {} WHERE {condition} AND since < {}",
        crate::sql::history_table(&schema.name),
        stamp.generation,
        stamp.at_ms,
        sql::table(&schema.name),
        stamp.generation,
    )
}

/// Removes the versions superseded more than `retention` ago, one collection at a time.
pub(super) async fn purge_versions(store: &PostgresStore, retention: std::time::Duration) -> Result<u64, StoreError> {
    let threshold = purge_threshold(retention);
    let mut client = store.client().await?;
    let names: Vec<String> = client
        .query("SELECT name FROM folio_collections WHERE purged > 0", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut removed = 0;
    for name in names {
        let h = crate::sql::history_table(&name);
        let tx = client.transaction().await?;
        let cut: Option<i64> = tx
            .query_opt(&crate::sql::purge_cut_sql(&h, "$1"), &[&threshold])
            .await?
            .map(|row| row.get(0));
        if let Some(cut) = cut {
            removed += tx
                .execute(&format!("DELETE FROM {h} WHERE until <= $1"), &[&cut])
                .await?;
            tx.execute(
                "UPDATE folio_collections SET purged = greatest(purged, $2) WHERE name = $1",
                &[&name, &cut],
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(removed)
}
