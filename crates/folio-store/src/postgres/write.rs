//! Writes to PostgreSQL: imports in batches of multi-row INSERTs (one transaction, phases held
//! by [`Batches`]) and deletes.

use std::collections::HashSet;

use folio_engine::{CollectionSchema, FieldType, IdType, Value};
use tokio_postgres::types::ToSql;

use super::page::refs;
use super::sql::{self, Param};
use super::{PostgresStore, bump_generation};
use crate::StoreError;
use crate::ingest::{self, Cell, id_text};
use crate::input::Numbered;
use crate::sql::catalog;
use crate::write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress};

/// Rows per INSERT statement during imports (fewer when a row has many parameters).
const BATCH_ROWS: usize = 500;

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
    if mode == ImportMode::Append && catalog::schema_of(store, name).await?.is_none() {
        return Err(StoreError::UnknownCollection(name.clone()));
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let indexes = match mode {
        ImportMode::Create => create_in(&tx, schema).await?,
        ImportMode::Append => Vec::new(),
    };
    let mut batches = Batches::new(schema, on_duplicate);
    while batches.fill(&mut docs)? {
        batches.insert(&tx).await?;
        progress(batches.stats.done());
    }
    for statement in indexes {
        tx.batch_execute(&statement).await?;
    }
    bump_generation(&tx, name).await?;
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
    let statement = tx
        .prepare(&format!("DELETE FROM {} WHERE id = $1", sql::table(collection)))
        .await?;
    let mut deleted = 0;
    for id in ids {
        let id = sql::param(id, schema.id_type.field_type());
        deleted += tx.execute(&statement, &[id.as_ref() as &(dyn ToSql + Sync)]).await?;
    }
    bump_generation(&tx, collection).await?;
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
        "CREATE TABLE {t} (rid bigserial PRIMARY KEY, id {id_type} NOT NULL UNIQUE, doc text NOT NULL{columns})"
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
    /// The table's columns, in the order each row's parameters come.
    columns: Vec<String>,
    batch_rows: usize,
    /// The `ON CONFLICT` clause and what it returns.
    conflict: String,
    batch: Vec<(u64, ingest::Row)>,
    stats: ImportStats,
}

impl<'s> Batches<'s> {
    fn new(schema: &'s CollectionSchema, on_duplicate: OnDuplicate) -> Batches<'s> {
        let mut columns = vec!["id".to_owned(), "doc".to_owned()];
        for (n, p) in schema.indexed.iter().enumerate() {
            if p.ty == FieldType::StringArray {
                columns.push(format!("a{n}"));
            } else {
                columns.push(format!("n{n}"));
                columns.push(format!("c{n}"));
            }
        }
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
