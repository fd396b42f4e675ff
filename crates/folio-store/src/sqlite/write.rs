//! Writes to the embedded store, on the one write connection: imports (one transaction, in
//! phases held by [`Loader`]), deletes, drops and the catalog rows.
//!
//! Everything here blocks; `SqliteStore`'s [`crate::Writer`] runs it on blocking threads.

use folio_engine::{CollectionSchema, FieldType, IdType, Value};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Statement, Transaction, params};

use super::{Inner, read_catalog, sql};
use crate::ingest::{self, Cell};
use crate::input::Numbered;
use crate::sql::{now_ms, purge_threshold};
use crate::write::{ImportMode, ImportStats, OnDuplicate};
use crate::{Moment, StoreError};

/// How often (in documents) an import reports its progress.
const PROGRESS_EVERY: u64 = 4096;

impl Inner {
    /// Imports documents in one transaction: all of them or, on the first error, none; with
    /// [`ImportMode::Create`] the collection is created in the same transaction, so a failed
    /// import leaves no trace.
    pub(super) fn import(
        &self,
        schema: &CollectionSchema,
        mode: ImportMode,
        docs: impl IntoIterator<Item = Numbered>,
        on_duplicate: OnDuplicate,
        progress: &dyn Fn(u64),
    ) -> Result<ImportStats, StoreError> {
        if mode == ImportMode::Append {
            self.require(&schema.name)?;
        }
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        // A new collection gets its indexes after the load: one sorted pass per index is much
        // faster than keeping every index up to date row by row.
        let deferred_indexes = match mode {
            ImportMode::Create => create_in(&tx, schema, None, Indexes::Deferred)?,
            ImportMode::Append => Vec::new(),
        };
        let stamp = begin_write(&tx, schema)?;
        let stats = Loader::new(&tx, schema, on_duplicate, stamp)?.load(docs, progress)?;
        for statement in deferred_indexes {
            tx.execute_batch(&statement)?;
        }
        end_write(&tx, &schema.name, stamp, mode == ImportMode::Create)?;
        tx.commit()?;
        if mode == ImportMode::Create {
            self.schemas.insert(schema);
        }
        progress(stats.done());
        Ok(stats)
    }

    /// Creates an empty collection.
    pub(super) fn create_collection(&self, schema: &CollectionSchema, origin: Option<&str>) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        create_in(&tx, schema, origin, Indexes::Now)?;
        let stamp = begin_write(&tx, schema)?;
        end_write(&tx, &schema.name, stamp, true)?;
        tx.commit()?;
        self.schemas.insert(schema);
        Ok(())
    }

    /// Deletes the records with the given ids (absent ones are skipped), in one transaction.
    pub(super) fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        let schema = self
            .schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let t = sql::table(collection);
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let stamp = begin_write(&tx, &schema)?;
        let mut deleted = 0;
        {
            let mut archive = Archive::new(&tx, &schema, stamp)?;
            let mut find = tx.prepare(&format!("SELECT rid FROM {t} WHERE id = ?1"))?;
            let mut delete = tx.prepare(&format!("DELETE FROM {t} WHERE rid = ?1"))?;
            let mut sides = side_tables(&schema)
                .map(|n| {
                    tx.prepare(&format!(
                        "DELETE FROM {} WHERE rid = ?1",
                        sql::elements_table(collection, n)
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            for id in ids {
                let Some(rid) = find.query_row([sql::bind(id)], |r| r.get::<_, i64>(0)).optional()? else {
                    continue;
                };
                archive.keep(&tx, rid)?;
                delete.execute([rid])?;
                for side in &mut sides {
                    side.execute([rid])?;
                }
                deleted += 1;
            }
        }
        end_write(&tx, collection, stamp, false)?;
        tx.commit()?;
        Ok(deleted)
    }

    /// Removes a collection and its records, if it exists.
    pub(super) fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        self.reload_schemas()?;
        let Some(schema) = self.schemas.get(name) else {
            return Ok(());
        };
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        for n in side_tables(&schema) {
            tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", sql::elements_table(name, n)))?;
            tx.execute_batch(&format!(
                "DROP TABLE IF EXISTS {}",
                sql::history_elements_table(name, n)
            ))?;
        }
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", sql::table(name)))?;
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", crate::sql::history_table(name)))?;
        tx.execute("DELETE FROM folio_collections WHERE name = ?1", [name])?;
        tx.commit()?;
        self.schemas.remove(name);
        Ok(())
    }

    /// Records where a collection came from.
    pub(super) fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        self.write_conn().execute(
            "UPDATE folio_collections SET origin = ?2 WHERE name = ?1",
            params![name, origin],
        )?;
        Ok(())
    }

    /// Removes the versions superseded more than `retention` ago (see [`crate::Writer`]),
    /// one collection at a time, each in a transaction of its own.
    pub(super) fn purge_versions(&self, retention: std::time::Duration) -> Result<u64, StoreError> {
        let threshold = purge_threshold(retention);
        self.reload_schemas()?;
        let mut removed = 0;
        let mut conn = self.write_conn();
        let names: Vec<String> = conn
            .prepare("SELECT name FROM folio_collections WHERE purged > 0")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for name in names {
            let Some(schema) = self.schemas.get(&name) else {
                continue;
            };
            let h = crate::sql::history_table(&name);
            let tx = conn.transaction()?;
            let cut: Option<i64> = tx
                .query_row(&crate::sql::purge_cut_sql(&h, "?1"), [threshold], |r| r.get(0))
                .optional()?;
            if let Some(cut) = cut {
                for n in side_tables(&schema) {
                    tx.execute(
                        &format!(
                            "DELETE FROM {} WHERE rid IN (SELECT rid FROM {h} WHERE until <= ?1)",
                            sql::history_elements_table(&name, n)
                        ),
                        [cut],
                    )?;
                }
                removed += tx.execute(&format!("DELETE FROM {h} WHERE until <= ?1"), [cut])? as u64;
                tx.execute(
                    "UPDATE folio_collections SET purged = max(purged, ?2) WHERE name = ?1",
                    params![name, cut],
                )?;
            }
            tx.commit()?;
        }
        Ok(removed)
    }

    /// Reads every schema from the catalog (collections may have been created by another
    /// process, such as an import, since this one started).
    pub(super) fn reload_schemas(&self) -> Result<(), StoreError> {
        let schemas = read_catalog(&self.readers.get())?;
        self.schemas.replace(schemas);
        Ok(())
    }

    /// Fails unless the collection exists (read afresh from the catalog if not known yet).
    fn require(&self, collection: &str) -> Result<(), StoreError> {
        if self.schemas.get(collection).is_none() {
            self.reload_schemas()?;
            if self.schemas.get(collection).is_none() {
                return Err(StoreError::UnknownCollection(collection.to_owned()));
            }
        }
        Ok(())
    }

    fn write_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The positions of a schema's `string[]` paths, each with a side table.
fn side_tables(schema: &CollectionSchema) -> impl Iterator<Item = usize> + '_ {
    (0..schema.indexed.len()).filter(|&n| schema.indexed[n].ty == FieldType::StringArray)
}

/// One import's statements and counts, inside its transaction: one document at a time.
struct Loader<'t> {
    tx: &'t Transaction<'t>,
    schema: &'t CollectionSchema,
    on_duplicate: OnDuplicate,
    insert: Statement<'t>,
    update: Statement<'t>,
    find: Statement<'t>,
    /// Keeps the versions the import replaces.
    archive: Archive<'t>,
    /// Per `string[]` path: its position, and the statements that add and clear elements.
    sides: Vec<(usize, Statement<'t>, Statement<'t>)>,
    stats: ImportStats,
}

impl<'t> Loader<'t> {
    /// Prepares the statements of an import into `schema`'s table.
    fn new(
        tx: &'t Transaction<'t>,
        schema: &'t CollectionSchema,
        on_duplicate: OnDuplicate,
        stamp: Moment,
    ) -> Result<Loader<'t>, StoreError> {
        let t = sql::table(&schema.name);
        let scalar = scalar_columns(schema);
        let since = stamp.generation;
        let insert_sql = format!(
            "INSERT INTO {t} (id, doc{}, since) VALUES (?1, ?2{}, {since})",
            scalar.iter().map(|n| format!(", c{n}")).collect::<String>(),
            (0..scalar.len()).map(|i| format!(", ?{}", i + 3)).collect::<String>(),
        );
        let update_sql = format!(
            "UPDATE {t} SET doc = ?2{}, since = {since} WHERE rid = ?1",
            scalar
                .iter()
                .enumerate()
                .map(|(i, n)| format!(", c{n} = ?{}", i + 3))
                .collect::<String>(),
        );
        let mut sides = Vec::new();
        for n in side_tables(schema) {
            let side = sql::elements_table(&schema.name, n);
            sides.push((
                n,
                tx.prepare(&format!("INSERT OR IGNORE INTO {side} (value, rid) VALUES (?1, ?2)"))?,
                tx.prepare(&format!("DELETE FROM {side} WHERE rid = ?1"))?,
            ));
        }
        Ok(Loader {
            tx,
            schema,
            on_duplicate,
            insert: tx.prepare(&insert_sql)?,
            update: tx.prepare(&update_sql)?,
            find: tx.prepare(&format!("SELECT rid FROM {t} WHERE id = ?1"))?,
            archive: Archive::new(tx, schema, stamp)?,
            sides,
            stats: ImportStats::default(),
        })
    }

    /// Loads every document, or stops at the first error.
    fn load(
        mut self,
        docs: impl IntoIterator<Item = Numbered>,
        progress: &dyn Fn(u64),
    ) -> Result<ImportStats, StoreError> {
        for item in docs {
            let (number, doc) = item?;
            self.document(number, &doc)?;
            let done = self.stats.done();
            if done.is_multiple_of(PROGRESS_EVERY) {
                progress(done);
            }
        }
        Ok(self.stats)
    }

    /// Inserts, replaces or skips one document.
    fn document(&mut self, number: u64, doc: &serde_json::Value) -> Result<(), StoreError> {
        let row = ingest::row(self.schema, doc, number)?;
        let id = sql::bind(&row.id);
        let existing = match self.on_duplicate {
            OnDuplicate::Error => None,
            OnDuplicate::Replace | OnDuplicate::Skip => {
                self.find.query_row([&id], |r| r.get::<_, i64>(0)).optional()?
            }
        };
        let mut values = vec![Sql::Text(row.doc.clone())];
        values.extend(row.columns.iter().filter_map(|cell| match cell {
            Cell::Scalar(v) => Some(sql::bind(v)),
            Cell::Elements(_) => None,
        }));
        let rid = match (existing, self.on_duplicate) {
            (Some(_), OnDuplicate::Skip) => {
                self.stats.skipped += 1;
                return Ok(());
            }
            (Some(rid), _) => self.replace(rid, values)?,
            (None, _) => self.insert(number, &row, id, values)?,
        };
        for (n, add, _) in &mut self.sides {
            if let Cell::Elements(items) = &row.columns[*n] {
                for item in items {
                    add.execute(params![item, rid])?;
                }
            }
        }
        Ok(())
    }

    /// Replaces the stored row `rid` (its elements are added again after).
    fn replace(&mut self, rid: i64, values: Vec<Sql>) -> Result<i64, StoreError> {
        self.archive.keep(self.tx, rid)?;
        self.update.execute(rusqlite::params_from_iter(
            std::iter::once(Sql::Integer(rid)).chain(values),
        ))?;
        for (_, _, clear) in &mut self.sides {
            clear.execute([rid])?;
        }
        self.stats.replaced += 1;
        Ok(rid)
    }

    /// Inserts a new row; a duplicate id is the document's error.
    fn insert(&mut self, number: u64, row: &ingest::Row, id: Sql, values: Vec<Sql>) -> Result<i64, StoreError> {
        self.insert
            .execute(rusqlite::params_from_iter(std::iter::once(id).chain(values)))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::InvalidDocument {
                        line: number,
                        message: format!(
                            "duplicate id {} at `{}` (use --on-duplicate replace or skip)",
                            show(&row.id),
                            self.schema.id_path
                        ),
                    }
                }
                other => other.into(),
            })?;
        self.stats.inserted += 1;
        Ok(self.tx.last_insert_rowid())
    }
}

/// The positions of a schema's scalar paths, each a column `cN`.
fn scalar_columns(schema: &CollectionSchema) -> Vec<usize> {
    (0..schema.indexed.len())
        .filter(|&n| schema.indexed[n].ty != FieldType::StringArray)
        .collect()
}

/// Starts a write to `schema`'s collection inside `tx`: takes its new generation from the
/// store's clock, and makes the tables that keep its superseded versions if it has none yet
/// (a collection written before versions were kept: its rows get `since` 0, and its oldest
/// readable snapshot becomes the generation this write supersedes).
///
/// Generations come from one clock for the whole file, so they never repeat, not even for a
/// collection dropped and imported again under the same name: a server that cached a total
/// (or read a page ahead) for the dropped one cannot take it for the new one's.
fn begin_write(tx: &Transaction<'_>, schema: &CollectionSchema) -> Result<Moment, StoreError> {
    let name = &schema.name;
    let generation: i64 = tx.query_row(
        "UPDATE folio_clock SET generation = generation + 1 RETURNING generation",
        [],
        |r| r.get(0),
    )?;
    let t = sql::table(name);
    let versioned: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = 'since')",
        [format!("folio_c_{name}")],
        |r| r.get(0),
    )?;
    if !versioned {
        tx.execute_batch(&format!("ALTER TABLE {t} ADD COLUMN since INTEGER NOT NULL DEFAULT 0"))?;
    }
    let h = crate::sql::history_table(name);
    let columns = column_declarations(schema);
    let id_type = id_declaration(schema);
    // `(until_at, until)`: the purge finds what it may remove in this index alone, at a cost
    // of what it removes (it read the whole history every time it ran without it).
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {h} (rid INTEGER PRIMARY KEY, id {id_type} NOT NULL, doc TEXT NOT NULL{columns}, \
         since INTEGER NOT NULL, until INTEGER NOT NULL, until_at INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS {} ON {h} (id);
         CREATE INDEX IF NOT EXISTS {} ON {h} (until);
         CREATE INDEX IF NOT EXISTS {} ON {h} (until_at, until);",
        sql::ident(&format!("folio_h_{name}__id")),
        sql::ident(&format!("folio_h_{name}__until")),
        sql::ident(&format!("folio_h_{name}__until_at")),
    ))?;
    for n in scalar_columns(schema) {
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {} ON {h} (c{n}, id)",
            sql::ident(&format!("folio_h_{name}__c{n}"))
        ))?;
    }
    for n in side_tables(schema) {
        tx.execute_batch(&side_table(&sql::history_elements_table(name, n)))?;
    }
    tx.execute(
        "UPDATE folio_collections SET purged = max(generation, 1) WHERE name = ?1 AND purged = 0",
        [name],
    )?;
    Ok(Moment {
        generation,
        at_ms: now_ms(),
    })
}

/// Ends a write begun with [`begin_write`]: the collection is at its new generation, and
/// a new collection (`created`) has no snapshot before it.
fn end_write(tx: &Transaction<'_>, collection: &str, stamp: Moment, created: bool) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE folio_collections SET generation = ?2, changed_at = ?3, \
         purged = CASE WHEN ?4 THEN ?2 ELSE purged END WHERE name = ?1",
        params![collection, stamp.generation, stamp.at_ms, created],
    )?;
    Ok(())
}

/// Copies rows about to be replaced or deleted into the collection's history, as versions
/// current until the write's generation (rows the same write made are not kept: no snapshot
/// ever saw them).
struct Archive<'t> {
    row: Statement<'t>,
    /// Per `string[]` path: copies the row's elements under its version's rowid.
    sides: Vec<Statement<'t>>,
}

impl<'t> Archive<'t> {
    fn new(tx: &'t Transaction<'t>, schema: &CollectionSchema, stamp: Moment) -> Result<Archive<'t>, StoreError> {
        let name = &schema.name;
        let columns: String = scalar_columns(schema).iter().map(|n| format!(", c{n}")).collect();
        let row = tx.prepare(&format!(
            "INSERT INTO {} (id, doc{columns}, since, until, until_at) \
             SELECT id, doc{columns}, since, {}, {} FROM {} WHERE rid = ?1 AND since < {}",
            crate::sql::history_table(name),
            stamp.generation,
            stamp.at_ms,
            sql::table(name),
            stamp.generation,
        ))?;
        let sides = side_tables(schema)
            .map(|n| {
                tx.prepare(&format!(
                    "INSERT INTO {} (value, rid) SELECT value, ?2 FROM {} WHERE rid = ?1",
                    sql::history_elements_table(name, n),
                    sql::elements_table(name, n),
                ))
            })
            .collect::<Result<_, _>>()?;
        Ok(Archive { row, sides })
    }

    /// Keeps the current version of row `rid`.
    fn keep(&mut self, tx: &Transaction<'_>, rid: i64) -> Result<(), StoreError> {
        if self.row.execute([rid])? == 1 {
            let version = tx.last_insert_rowid();
            for side in &mut self.sides {
                side.execute([rid, version])?;
            }
        }
        Ok(())
    }
}

/// An id as error messages show it: text quoted, numbers as they are.
fn show(id: &Value) -> String {
    match id {
        Value::Text(t) => format!("`{t}`"),
        other => ingest::id_text(other),
    }
}

/// Whether a new collection's `(path, id)` indexes are built now or after its load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Indexes {
    Now,
    Deferred,
}

/// Creates the tables of a collection and registers it in the catalog, inside `tx`. With
/// [`Indexes::Deferred`], the `(path, id)` indexes are not created but returned, for the
/// caller to run after loading; otherwise the returned list is empty.
fn create_in(
    tx: &Transaction<'_>,
    schema: &CollectionSchema,
    origin: Option<&str>,
    indexes_when: Indexes,
) -> Result<Vec<String>, StoreError> {
    schema.validate()?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM folio_collections WHERE name = ?1)",
        [&schema.name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StoreError::CollectionExists(schema.name.clone()));
    }
    let t = sql::table(&schema.name);
    let id_type = id_declaration(schema);
    let columns = column_declarations(schema);
    let indexes: Vec<String> = scalar_columns(schema)
        .into_iter()
        .map(|n| {
            format!(
                "CREATE INDEX {} ON {t} (c{n}, id)",
                sql::ident(&format!("folio_c_{}__c{n}", schema.name))
            )
        })
        .collect();
    tx.execute_batch(&format!(
        "CREATE TABLE {t} (rid INTEGER PRIMARY KEY, id {id_type} NOT NULL UNIQUE, doc TEXT NOT NULL{columns}, \
         since INTEGER NOT NULL DEFAULT 0)"
    ))?;
    for n in side_tables(schema) {
        tx.execute_batch(&side_table(&sql::elements_table(&schema.name, n)))?;
    }
    let json = serde_json::to_string(schema).map_err(|e| StoreError::Internal(e.to_string()))?;
    tx.execute(
        "INSERT INTO folio_collections (name, schema, origin) VALUES (?1, ?2, ?3)",
        params![schema.name, json, origin],
    )?;
    if indexes_when == Indexes::Deferred {
        return Ok(indexes);
    }
    for statement in indexes {
        tx.execute_batch(&statement)?;
    }
    Ok(Vec::new())
}

/// The statement that creates a side table (`table`, quoted) of a `string[]` path's elements,
/// if it does not exist.
fn side_table(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (value TEXT NOT NULL, rid INTEGER NOT NULL, \
         PRIMARY KEY (value, rid)) WITHOUT ROWID"
    )
}

/// The SQL type of a collection's ids.
fn id_declaration(schema: &CollectionSchema) -> &'static str {
    match schema.id_type {
        IdType::String => "TEXT",
        IdType::Integer => "INTEGER",
    }
}

/// The declarations of a collection's scalar columns: `, cN TYPE NOT NULL` each.
fn column_declarations(schema: &CollectionSchema) -> String {
    let mut columns = String::new();
    for (n, p) in schema.indexed.iter().enumerate() {
        let decl = match p.ty {
            FieldType::String => "TEXT",
            FieldType::Integer | FieldType::Boolean | FieldType::Timestamp => "INTEGER",
            FieldType::Float => "REAL",
            FieldType::StringArray => continue,
        };
        columns.push_str(&format!(", c{n} {decl} NOT NULL"));
    }
    columns
}
