//! Collections in PostgreSQL, shared by any number of stateless folio servers.
//!
//! Layout (in the database's search path):
//!
//! ```sql
//! CREATE TABLE folio_collections (name text PRIMARY KEY, schema text NOT NULL, origin text,
//!                                 generation bigint NOT NULL DEFAULT 0);
//! -- per collection: per scalar indexed path N, a missing flag and a value (see sql.rs);
//! -- per string[] path N, a text[] column with a GIN index
//! CREATE TABLE "folio_c_NAME" (rid bigserial PRIMARY KEY, id <text COLLATE "C"|bigint> NOT NULL UNIQUE,
//!                              doc text NOT NULL, nN boolean NOT NULL, cN <type> NOT NULL, aN text[] NOT NULL);
//! CREATE INDEX ON "folio_c_NAME" (nN, cN, id);
//! CREATE INDEX ON "folio_c_NAME" USING gin (aN);
//! ```
//!
//! Documents are kept as text, exactly as imported, so every store returns the same bytes.
//! Everything a server needs is in the database: schemas in the catalog, totals keyed by the
//! collection's generation, which every write bumps.

mod sql;

use std::collections::HashSet;
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use folio_engine::projection::assemble;
use folio_engine::{CollectionSchema, Column, FieldType, IdType, Plan, Value};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::ingest::{self, Cell};
use crate::input::Numbered;
use crate::schemas::{self, Schemas};
use crate::totals::Totals;
use crate::{CollectionInfo, Count, ImportStats, OnDuplicate, PageResult, Query, Records, Store, StoreError, Total};
use sql::{Param, Where};

/// Rows per INSERT statement during imports (fewer when a row has many parameters).
const BATCH_ROWS: usize = 500;

/// Collections in a PostgreSQL database, read and written through a connection pool.
pub struct PostgresStore {
    pool: Pool,
    target: String,
    schemas: Schemas,
    totals: Arc<Totals>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`), checks that
    /// it answers, and creates the catalog if needed. Errors name the host and database, never
    /// the password.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Unavailable(format!(
                "the PostgreSQL URL is not valid ({e}); expected postgres://user@host:port/database"
            ))
        })?;
        let target = describe(&config);
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            // A connection that broke (say, the server restarted) is noticed and replaced.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = Pool::builder(manager)
            .max_size((cores * 4).max(8))
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot set up connections to {target}: {e}")))?;
        let store = PostgresStore {
            pool,
            target,
            schemas: Schemas::default(),
            totals: Arc::default(),
        };
        let client = store.client().await?;
        // Nothing is written when the catalog exists, so servers may point at a read replica.
        let exists: bool = client
            .query_one("SELECT to_regclass('folio_collections') IS NOT NULL", &[])
            .await
            .map_err(|e| store.unavailable(e))?
            .get(0);
        if !exists {
            client
                .batch_execute(
                    "SELECT pg_advisory_lock(7246019);
                     CREATE TABLE IF NOT EXISTS folio_collections (
                         name text PRIMARY KEY, schema text NOT NULL, origin text,
                         generation bigint NOT NULL DEFAULT 0);
                     SELECT pg_advisory_unlock(7246019);",
                )
                .await
                .map_err(|e| store.unavailable(e))?;
        }
        drop(client);
        store.reload_schemas().await?;
        Ok(store)
    }

    /// Where the store connects, without the password: `user@host:port/database`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The schema of a collection, if it exists (read afresh from the catalog).
    pub async fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        self.reload_schemas().await?;
        Ok(self.schemas.get(name).map(|s| (*s).clone()))
    }

    /// The origin text of a collection (`None` inside if it has none), or `None` if the
    /// collection does not exist.
    pub async fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt("SELECT origin FROM folio_collections WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)))
    }

    /// Records where a collection came from (the demo records its size).
    pub async fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folio_collections SET origin = $2 WHERE name = $1",
                &[&name, &origin],
            )
            .await?;
        Ok(())
    }

    /// Removes a collection and its records, if it exists.
    pub async fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", sql::table(name)))
            .await?;
        tx.execute("DELETE FROM folio_collections WHERE name = $1", &[&name])
            .await?;
        tx.commit().await?;
        self.schemas.remove(name);
        Ok(())
    }

    /// Imports documents in one transaction: all of them or, on the first error, none. With
    /// `create`, the collection is created in the same transaction (its indexes after the
    /// load). Documents come numbered by their line, which errors name.
    pub async fn import(
        &self,
        schema: &CollectionSchema,
        create: bool,
        docs: impl IntoIterator<Item = Numbered>,
        on_duplicate: OnDuplicate,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportStats, StoreError> {
        schema.validate()?;
        let name = &schema.name;
        if !create && self.schema_of(name).await?.is_none() {
            return Err(StoreError::UnknownCollection(name.clone()));
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let t = sql::table(name);
        let mut indexes = Vec::new();
        if create {
            let exists = tx
                .query_opt("SELECT 1 FROM folio_collections WHERE name = $1", &[name])
                .await?
                .is_some();
            if exists {
                return Err(StoreError::CollectionExists(name.clone()));
            }
            let id_type = match schema.id_type {
                IdType::String => "text COLLATE \"C\"",
                IdType::Integer => "bigint",
            };
            let mut columns = String::new();
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
        }

        let mut columns = vec!["id".to_owned(), "doc".to_owned()];
        for (n, p) in schema.indexed.iter().enumerate() {
            if p.ty == FieldType::StringArray {
                columns.push(format!("a{n}"));
            } else {
                columns.push(format!("n{n}"));
                columns.push(format!("c{n}"));
            }
        }
        let per_row = columns.len();
        let batch_rows = BATCH_ROWS.min(60_000 / per_row).max(1);
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
        let mut stats = ImportStats::default();
        let mut batch: Vec<(u64, ingest::Row)> = Vec::with_capacity(batch_rows);
        let mut docs = docs.into_iter();
        loop {
            batch.clear();
            for item in docs.by_ref() {
                let (line, doc) = item?;
                batch.push((line, ingest::row(schema, &doc, line)?));
                if batch.len() == batch_rows {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            if on_duplicate == OnDuplicate::Replace {
                // One statement may not update a row twice: keep the last of repeated ids.
                let mut seen = HashSet::new();
                let before = batch.len();
                let mut kept: Vec<(u64, ingest::Row)> = batch
                    .drain(..)
                    .rev()
                    .filter(|(_, r)| seen.insert(id_key(&r.id)))
                    .collect();
                kept.reverse();
                stats.replaced += (before - kept.len()) as u64;
                batch = kept;
            }
            let mut params: Vec<Param> = Vec::with_capacity(batch.len() * per_row);
            let mut rows_sql = Vec::with_capacity(batch.len());
            for (_, row) in &batch {
                let start = params.len();
                params.push(sql::param(&row.id, schema.id_type.field_type()));
                params.push(Box::new(row.doc.clone()));
                for (cell, p) in row.columns.iter().zip(&schema.indexed) {
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
                "INSERT INTO {t} ({}) VALUES {} {conflict}",
                columns.join(", "),
                rows_sql.join(", ")
            );
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
            let returned = tx.query(&statement, &refs).await?;
            match on_duplicate {
                OnDuplicate::Replace => {
                    for r in &returned {
                        if r.get::<_, bool>(0) {
                            stats.inserted += 1;
                        } else {
                            stats.replaced += 1;
                        }
                    }
                }
                OnDuplicate::Skip => {
                    stats.inserted += returned.len() as u64;
                    stats.skipped += (batch.len() - returned.len()) as u64;
                }
                OnDuplicate::Error => {
                    if returned.len() < batch.len() {
                        let mut inserted: HashSet<String> = returned.iter().map(|r| r.get::<_, String>(0)).collect();
                        // The first row not inserted is the first duplicate (of a stored
                        // record or of an earlier row of the batch).
                        let (line, row) = batch
                            .iter()
                            .find(|(_, r)| !inserted.remove(&id_key(&r.id)))
                            .expect("some row was not inserted");
                        return Err(StoreError::InvalidDocument {
                            line: *line,
                            message: format!(
                                "duplicate id `{}` at `{}` (use --on-duplicate replace or skip)",
                                id_key(&row.id),
                                schema.id_path
                            ),
                        });
                    }
                    stats.inserted += returned.len() as u64;
                }
            }
            progress(stats.inserted + stats.replaced + stats.skipped);
        }
        for statement in indexes {
            tx.batch_execute(&statement).await?;
        }
        bump_generation(&tx, name).await?;
        tx.commit().await?;
        if create {
            self.schemas.insert(schema);
        }
        Ok(stats)
    }

    /// Deletes the records with the given ids (absent ones are skipped), in one transaction.
    /// Returns how many were deleted.
    pub async fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        let schema = self
            .schema_of(collection)
            .await?
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
        let mut client = self.client().await?;
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

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot reach PostgreSQL at {}: {e}", self.target)))
    }

    fn unavailable(&self, e: tokio_postgres::Error) -> StoreError {
        StoreError::Unavailable(format!("PostgreSQL at {} failed: {e}", self.target))
    }

    async fn reload_schemas(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT schema FROM folio_collections ORDER BY name", &[])
            .await?;
        let schemas = rows
            .iter()
            .map(|r| schemas::parse(r.get(0)))
            .collect::<Result<Vec<_>, _>>()?;
        self.schemas.replace(schemas);
        Ok(())
    }
}

/// `user@host:port/database` for messages: never the password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

/// An id as text, for comparing ids across statements.
fn id_key(id: &Value) -> String {
    match id {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// Reads a sort key from a row whose first columns are `sql::key_columns(sort)`; returns the
/// key and the index of the next column.
/// The generation of `collection` as `client` (a connection or a transaction) sees it.
async fn generation_in(client: &impl deadpool_postgres::GenericClient, collection: &str) -> Result<String, StoreError> {
    let row = client
        .query_opt(
            "SELECT generation FROM folio_collections WHERE name = $1",
            &[&collection],
        )
        .await?
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
    Ok(row.get::<_, i64>(0).to_string())
}

/// Gives `collection` a new generation, inside the transaction of a write to it: the
/// transaction's own id.
///
/// Transaction ids never repeat, so neither do generations, not even for a collection dropped
/// and imported again under the same name: a server that cached a total (or read a page ahead)
/// for the dropped one cannot take it for the new one's.
async fn bump_generation(tx: &deadpool_postgres::Transaction<'_>, collection: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE folio_collections SET generation = txid_current() WHERE name = $1",
        &[&collection],
    )
    .await?;
    Ok(())
}

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

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        self.reload_schemas().await?;
        let schemas = self.schemas.sorted();
        let mut out = Vec::with_capacity(schemas.len());
        for schema in schemas {
            let count = crate::count_all(self, schema.clone()).await?;
            out.push(CollectionInfo {
                schema,
                count,
                unindexed: Vec::new(),
            });
        }
        Ok(out)
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        if let Some(s) = self.schemas.get(collection) {
            return Ok(s);
        }
        self.reload_schemas().await?;
        self.schemas
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        let schema = &query.schema;
        let name = &schema.name;
        let t = sql::table(name);
        let mut client = self.client().await?;
        // One snapshot for the total and the rows.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let generation = generation_in(&tx, name).await?;
        let total = match count {
            Count::Skip => None,
            Count::Exact | Count::AtMost(_) => {
                let cap = if let Count::AtMost(cap) = count {
                    Some(cap)
                } else {
                    None
                };
                let canonical = match cap {
                    Some(cap) => format!("{} at most {cap}", query.filter.canonical()),
                    None => query.filter.canonical(),
                };
                let counted = match self.totals.get(name, &canonical, &generation) {
                    Some(n) => n,
                    None => {
                        let mut w = Where::new(schema);
                        w.filter(&query.filter);
                        let count_sql = match cap {
                            Some(cap) => format!(
                                "SELECT count(*) FROM (SELECT 1 FROM {t}{} LIMIT {}) AS capped",
                                w.sql(),
                                cap.saturating_add(1).min(i64::MAX as u64)
                            ),
                            None => format!("SELECT count(*) FROM {t}{}", w.sql()),
                        };
                        let refs: Vec<&(dyn ToSql + Sync)> =
                            w.params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
                        let n: i64 = tx.query_one(&count_sql, &refs).await?.get(0);
                        let n = u64::try_from(n).unwrap_or(0);
                        self.totals.put(name, &canonical, generation.clone(), n);
                        n
                    }
                };
                Some(match cap {
                    Some(cap) if counted > cap => Total {
                        count: cap,
                        exact: false,
                    },
                    _ => Total {
                        count: counted,
                        exact: true,
                    },
                })
            }
        };

        let mut w = Where::new(schema);
        w.filter(&query.filter);
        if let Some(p) = &plan.predicate {
            w.predicate(p);
        }
        let where_sql = w.sql();
        let mut params = w.params;
        let doc_columns = match &query.fields {
            None => "doc".to_owned(),
            Some(fields) if fields.is_empty() => "NULL::text".to_owned(),
            Some(fields) => fields
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
                .join(", "),
        };
        let keys = sql::key_columns(&query.sort).join(", ");
        let order = sql::order_by(&query.sort, plan.scan);
        let (limit, offset) = (
            i64::try_from(plan.limit).unwrap_or(i64::MAX),
            i64::try_from(plan.offset).unwrap_or(i64::MAX),
        );
        let page_sql = match &query.fields {
            // Paths are taken from each document parsed once, in a subquery over the page's
            // rows alone: `doc::jsonb` per path parsed every document once per path, and a
            // page of 1000 records with 100 paths cost 80 times a whole page.
            Some(fields) if !fields.is_empty() => format!(
                "SELECT {keys}, {doc_columns} FROM (SELECT {keys}, doc::jsonb AS d FROM {t}{where_sql}{order} LIMIT {limit} OFFSET {offset}) page{order}"
            ),
            _ => format!("SELECT {keys}, {doc_columns} FROM {t}{where_sql}{order} LIMIT {limit} OFFSET {offset}"),
        };
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
        let statement = tx.prepare_cached(&page_sql).await?;
        let rows = tx.query(&statement, &refs).await?;
        tx.commit().await?;
        let mut records = Records::with_capacity(rows.len());
        for row in &rows {
            let (key, next) = read_key(row, schema, query)?;
            let built;
            let doc = match &query.fields {
                None => row.try_get::<_, &str>(next)?,
                Some(fields) => {
                    let mut found = Vec::new();
                    for (i, path) in fields.iter().enumerate() {
                        if let Some(text) = row.try_get::<_, Option<&str>>(next + i)? {
                            let value = serde_json::from_str(text).map_err(|e| StoreError::Internal(e.to_string()))?;
                            found.push((path.clone(), value));
                        }
                    }
                    built = assemble(found).to_string();
                    &built
                }
            };
            let mut record = records.push();
            for value in &key {
                record.key(value.into());
            }
            record.doc(doc.as_bytes());
        }
        Ok(records.into_page(plan, total, generation))
    }

    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        generation_in(&self.client().await?, collection).await
    }

    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let id = sql::param(id, schema.id_type.field_type());
        let get_sql = format!("SELECT doc FROM {} WHERE id = $1", sql::table(&schema.name));
        Ok(client
            .query_opt(&get_sql, &[id.as_ref() as &(dyn ToSql + Sync)])
            .await?
            .map(|r| r.get(0)))
    }
}
