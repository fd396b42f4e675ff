//! Collections in PostgreSQL, shared by any number of stateless folio servers.
//!
//! Layout (in the database's search path):
//!
//! ```sql
//! CREATE TABLE folio_collections (name text PRIMARY KEY, schema text NOT NULL, origin text,
//!                                 generation bigint NOT NULL DEFAULT 0,
//!                                 changed_at bigint NOT NULL DEFAULT 0, -- ms, the last write
//!                                 purged bigint NOT NULL DEFAULT 0);
//! CREATE SEQUENCE folio_clock;  -- generations, taken while the catalog row is locked
//! -- per collection: per scalar indexed path N, a missing flag and a value (see sql.rs);
//! -- per string[] path N, a text[] column with a GIN index
//! CREATE TABLE "folio_c_NAME" (rid bigserial PRIMARY KEY, id <text COLLATE "C"|bigint> NOT NULL UNIQUE,
//!                              doc text NOT NULL, nN boolean NOT NULL, cN <type> NOT NULL, aN text[] NOT NULL);
//! CREATE INDEX ON "folio_c_NAME" (nN, cN, id);
//! CREATE INDEX ON "folio_c_NAME" USING gin (aN);
//! -- the versions writes superseded (see `sqlite/mod.rs`, "Versions": the same scheme)
//! CREATE TABLE "folio_h_NAME" (LIKE "folio_c_NAME", until bigint NOT NULL, until_at bigint NOT NULL);
//! ```
//!
//! Documents are kept as text, exactly as imported, so every store returns the same bytes.
//! Everything a server needs is in the database: schemas in the catalog, totals keyed by the
//! collection's generation, which every write bumps.

mod page;
mod replicas;
mod sql;
mod write;

pub use replicas::ReplicatedStore;

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use folio_engine::{CollectionSchema, Plan, Value};
use tokio_postgres::types::ToSql;

use crate::schemas::{self, Schemas};
use crate::sql::catalog::{self, Catalog};
use crate::totals::Totals;
use crate::write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress, Writer};
use crate::{CollectionInfo, Count, Moment, PageResult, Query, Store, StoreError};

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

/// PostgreSQL failures, kept opaque in [`StoreError::Backend`] so that `?` works on them here.
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::backend("PostgreSQL", e)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`), checks that
    /// it answers, and creates the catalog if needed. Errors name the host and database, never
    /// the password.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let store = PostgresStore::unconnected(url, None)?;
        let client = store.client().await?;
        // Nothing is written when the catalog is up to date, so servers may point at a read
        // replica.
        let current: bool = client
            .query_one(
                "SELECT to_regclass('folio_collections') IS NOT NULL AND to_regclass('folio_clock') IS NOT NULL
                        AND EXISTS (SELECT 1 FROM information_schema.columns
                                    WHERE table_name = 'folio_collections' AND column_name = 'purged'
                                      AND table_schema = current_schema())",
                &[],
            )
            .await
            .map_err(|e| store.unavailable(e))?
            .get(0);
        if !current {
            // Generations were transaction ids before the clock: it starts past them.
            client
                .batch_execute(
                    "SELECT pg_advisory_lock(7246019);
                     CREATE TABLE IF NOT EXISTS folio_collections (
                         name text PRIMARY KEY, schema text NOT NULL, origin text,
                         generation bigint NOT NULL DEFAULT 0);
                     ALTER TABLE folio_collections ADD COLUMN IF NOT EXISTS changed_at bigint NOT NULL DEFAULT 0;
                     ALTER TABLE folio_collections ADD COLUMN IF NOT EXISTS purged bigint NOT NULL DEFAULT 0;
                     DO $$ BEGIN
                         IF to_regclass('folio_clock') IS NULL THEN
                             CREATE SEQUENCE folio_clock;
                             PERFORM setval('folio_clock', greatest(txid_current(),
                                 (SELECT coalesce(max(generation), 0) FROM folio_collections)));
                         END IF;
                     END $$;
                     SELECT pg_advisory_unlock(7246019);",
                )
                .await
                .map_err(|e| store.unavailable(e))?;
        }
        drop(client);
        catalog::reload(&store).await?;
        Ok(store)
    }

    /// The store at `url`, with its connections set up but none made yet and nothing read:
    /// for a replica, whose catalog is the primary's. With `timeout`, making a connection,
    /// and waiting for one, fail after that long.
    fn unconnected(url: &str, timeout: Option<std::time::Duration>) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Unavailable(format!(
                "the PostgreSQL URL is not valid ({e}); expected postgres://user@host:port/database"
            ))
        })?;
        if let Some(timeout) = timeout {
            config.connect_timeout(timeout);
        }
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
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(timeout)
            .wait_timeout(timeout)
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot set up connections to {target}: {e}")))?;
        Ok(PostgresStore {
            pool,
            target,
            schemas: Schemas::default(),
            totals: Arc::default(),
        })
    }

    /// Where the store connects, without the password: `user@host:port/database`.
    pub fn target(&self) -> &str {
        &self.target
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

/// The generation of `collection` as `client` (a connection or a transaction) sees it.
pub(crate) async fn generation_in(
    client: &impl deadpool_postgres::GenericClient,
    collection: &str,
) -> Result<String, StoreError> {
    let (present, purged) = state_in(client, collection).await?;
    Ok(crate::sql::generation_text(present.generation, purged))
}

/// The moment of `collection` as `client` sees it, and the generation at or before which its
/// superseded versions were purged (0: it keeps none, not written since versions were kept).
pub(crate) async fn state_in(
    client: &impl deadpool_postgres::GenericClient,
    collection: &str,
) -> Result<(Moment, i64), StoreError> {
    let row = client
        .query_opt(
            "SELECT generation, changed_at, purged FROM folio_collections WHERE name = $1",
            &[&collection],
        )
        .await?
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))?;
    let moment = Moment {
        generation: row.get(0),
        at_ms: row.get(1),
    };
    Ok((moment, row.get(2)))
}

#[async_trait::async_trait]
impl Catalog for PostgresStore {
    fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    async fn read_catalog(&self) -> Result<Vec<CollectionSchema>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT schema FROM folio_collections ORDER BY name", &[])
            .await?;
        rows.iter().map(|r| schemas::parse(r.get(0))).collect()
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        catalog::collections(self).await
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        catalog::schema(self, collection).await
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        page::run(self, query, plan, count).await
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

#[async_trait::async_trait]
impl Writer for PostgresStore {
    async fn import(
        &self,
        schema: &CollectionSchema,
        mode: ImportMode,
        docs: Documents,
        on_duplicate: OnDuplicate,
        progress: Progress<'_>,
    ) -> Result<ImportStats, StoreError> {
        write::import(self, schema, mode, docs, on_duplicate, progress).await
    }

    fn check_new_name(&self, name: &str) -> Result<(), StoreError> {
        write::check_name(name)
    }

    async fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        write::delete(self, collection, ids).await
    }

    async fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(&format!(
            "DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}",
            sql::table(name),
            crate::sql::history_table(name)
        ))
        .await?;
        tx.execute("DELETE FROM folio_collections WHERE name = $1", &[&name])
            .await?;
        tx.commit().await?;
        self.schemas.remove(name);
        Ok(())
    }

    async fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        catalog::schema_of(self, name).await
    }

    async fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt("SELECT origin FROM folio_collections WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)))
    }

    async fn purge_versions(&self, retention: std::time::Duration) -> Result<u64, StoreError> {
        write::purge_versions(self, retention).await
    }

    async fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE folio_collections SET origin = $2 WHERE name = $1",
                &[&name, &origin],
            )
            .await?;
        Ok(())
    }
}
