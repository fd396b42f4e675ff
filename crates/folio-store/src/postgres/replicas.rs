//! PostgreSQL with streaming replicas: pages, records and counts read from the replicas,
//! everything else from the primary, and no walk ever behind what it showed.
//!
//! **Routing.** [`ReplicatedStore`] is a [`Store`] and a [`Writer`]. Writes, the catalog
//! (collections, schemas, origins) and the purge go to the primary. Pages, records and
//! generations go to the replicas in turn (round robin over those in rotation), and to the
//! primary when none can answer.
//!
//! **Never behind.** A page of a snapshot walk names its generation (its cursor carries it),
//! and a page reads its collection's state (present generation, purged versions) in the same
//! transaction as its rows ([`super::page::run`]). On a replica that has not replayed that
//! generation yet, that state is older than the snapshot, which the store reports as
//! [`StoreError::SnapshotExpired`]; the page is then read on the next replica, and in the end on
//! the primary, whose answer is final (a snapshot that really expired is a 410 there too). So
//! the check costs no round trip: it is part of the page's own transaction. A replica that
//! does not know the collection yet, or a record not replayed yet, is passed over the same way.
//! When every replica is behind, the primary serves: the client sees nothing but the page.
//!
//! Only a server in recovery (replaying a primary's log) is put in rotation: a server given as
//! a replica that is not one, or one promoted since, is left out and logged.
//!
//! **Loss.** A replica whose read fails (a connection refused or broken, a statement
//! cancelled by recovery) is taken out of rotation at once and the read goes on to the next.
//! A watcher asks every replica every [`CHECK_EVERY`] how far it has replayed (and the primary
//! how far it has written); one that answers within [`CHECK_TIMEOUT`] is put back. Connections
//! time out after [`CHECK_TIMEOUT`], so a replica that vanished costs at most that once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use folio_engine::{CollectionSchema, Plan, Value};

use super::PostgresStore;
use crate::write::{Documents, ImportMode, ImportStats, OnDuplicate, Progress, Writer};
use crate::{CollectionInfo, Count, PageResult, Query, ReplicaStatus, Store, StoreError};

/// How often the watcher checks every replica.
pub(super) const CHECK_EVERY: Duration = Duration::from_millis(500);

/// How long a replica has to accept a connection or answer the watcher.
pub(super) const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// A primary and its streaming replicas, as one store. Writes, the catalog (collections,
/// schemas, origins) and the purge go to the primary; pages, records and generations to the
/// replicas in rotation, in turn, and on to the next (in the end the primary) when a replica
/// fails, lacks the collection or the record, or has not replayed the moment a snapshot walk
/// reads. A watcher task checks every replica twice a second ([`Store::replicas`]).
pub struct ReplicatedStore {
    primary: PostgresStore,
    replicas: Arc<Vec<Replica>>,
    /// The replica the next read starts at.
    next: AtomicUsize,
    watcher: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ReplicatedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedStore")
            .field("primary", &self.primary.target())
            .field(
                "replicas",
                &self.replicas.iter().map(|r| r.store.target()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// One replica and what the watcher last found.
struct Replica {
    store: PostgresStore,
    /// In rotation: it answered the watcher's last check and no read failed since.
    up: AtomicBool,
    /// Bytes of the primary's write-ahead log not yet replayed here, at the last check
    /// (-1: unknown).
    behind_bytes: AtomicI64,
    /// Whether its replay was paused (`pg_wal_replay_pause()`), at the last check.
    paused: AtomicBool,
}

impl ReplicatedStore {
    /// Connects to the primary at `primary` (as [`PostgresStore::connect`]: the catalog is
    /// made there if needed) and to the replicas at `replicas`, and starts the watcher (on
    /// the current Tokio runtime). A replica that cannot be reached now is not an error: it
    /// starts out of rotation and joins when it answers.
    pub async fn connect(primary: &str, replicas: &[String]) -> Result<ReplicatedStore, StoreError> {
        let primary = PostgresStore::connect(primary).await?;
        let replicas: Vec<Replica> = replicas
            .iter()
            .zip(1..)
            .map(|(url, n)| {
                let store = PostgresStore::unconnected(url, Some(CHECK_TIMEOUT))
                    .map_err(|e| StoreError::Unavailable(format!("replica {n}: {e}")))?;
                Ok(Replica {
                    store,
                    up: AtomicBool::new(false),
                    behind_bytes: AtomicI64::new(-1),
                    paused: AtomicBool::new(false),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let replicas = Arc::new(replicas);
        let primary_pool = primary.pool.clone();
        check(&primary_pool, &replicas).await;
        let watched = Arc::clone(&replicas);
        let watcher = tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                check(&primary_pool, &watched).await;
            }
        });
        Ok(ReplicatedStore {
            primary,
            replicas,
            next: AtomicUsize::new(0),
            watcher,
        })
    }

    /// The primary, which takes every write.
    pub fn primary(&self) -> &PostgresStore {
        &self.primary
    }

    /// The replicas in rotation, each once, starting at the next in turn.
    fn in_rotation(&self) -> impl Iterator<Item = &Replica> {
        let n = self.replicas.len();
        let start = if n == 0 {
            0
        } else {
            self.next.fetch_add(1, Ordering::Relaxed) % n
        };
        (0..n)
            .map(move |i| &self.replicas[(start + i) % n])
            .filter(|r| r.up.load(Ordering::Relaxed))
    }

    /// What a read that failed on `replica` with `e` does next: go on to the next replica
    /// (`Ok`; the replica is taken out of rotation when it failed as a server), or answer `e`.
    fn passed_over(&self, replica: &Replica, e: StoreError) -> Result<(), StoreError> {
        if !passes_on(&e) {
            return Err(e);
        }
        if matches!(e, StoreError::Backend { .. } | StoreError::Unavailable(_))
            && replica.up.swap(false, Ordering::Relaxed)
        {
            tracing::warn!(replica = %replica.store.target(), error = %e, "replica out of rotation");
        }
        Ok(())
    }
}

impl Drop for ReplicatedStore {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// Whether a replica's error means "ask the next one" rather than "this is the answer": it
/// failed, is behind the snapshot asked for, or does not know the collection yet.
fn passes_on(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Backend { .. }
            | StoreError::Unavailable(_)
            | StoreError::SnapshotExpired(_)
            | StoreError::UnknownCollection(_)
    )
}

/// Asks the primary how far it has written and every replica how far it has replayed, and
/// puts in rotation those that answer within [`CHECK_TIMEOUT`] (out of it those that do not).
async fn check(primary: &deadpool_postgres::Pool, replicas: &[Replica]) {
    let written: Option<String> = tokio::time::timeout(CHECK_TIMEOUT, async {
        let client = primary.get().await.ok()?;
        let row = client.query_one("SELECT pg_current_wal_lsn()::text", &[]).await.ok()?;
        Some(row.get::<_, String>(0))
    })
    .await
    .ok()
    .flatten();
    for replica in replicas {
        let answer = tokio::time::timeout(CHECK_TIMEOUT, async {
            let client = replica.store.client().await?;
            let row = client
                .query_one(
                    "SELECT pg_is_in_recovery(),
                            pg_wal_lsn_diff($1::text::pg_lsn, pg_last_wal_replay_lsn())::bigint,
                            CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END",
                    &[&written],
                )
                .await?;
            if !row.get::<_, bool>(0) {
                // A server that is not replaying a primary's log (another primary, or a
                // replica promoted since) may hold anything.
                return Err(StoreError::Unavailable(
                    "it is not a streaming replica (not in recovery)".into(),
                ));
            }
            Ok::<_, StoreError>((row.get::<_, Option<i64>>(1), row.get::<_, bool>(2)))
        })
        .await;
        let target = replica.store.target();
        match answer {
            Ok(Ok((behind, paused))) => {
                replica.behind_bytes.store(behind.unwrap_or(-1), Ordering::Relaxed);
                replica.paused.store(paused, Ordering::Relaxed);
                if !replica.up.swap(true, Ordering::Relaxed) {
                    tracing::info!(replica = %target, behind_bytes = behind, "replica in rotation");
                }
            }
            Ok(Err(e)) => {
                if replica.up.swap(false, Ordering::Relaxed) {
                    tracing::warn!(replica = %target, error = %e, "replica out of rotation");
                }
            }
            Err(_) => {
                if replica.up.swap(false, Ordering::Relaxed) {
                    tracing::warn!(replica = %target, "replica out of rotation: no answer within {CHECK_TIMEOUT:?}");
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for ReplicatedStore {
    async fn collections(&self) -> Result<Vec<CollectionInfo>, StoreError> {
        self.primary.collections().await
    }

    async fn schema(&self, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
        self.primary.schema(collection).await
    }

    async fn page(&self, query: &Query, plan: &Plan, count: Count) -> Result<PageResult, StoreError> {
        for replica in self.in_rotation() {
            match replica.store.page(query, plan, count).await {
                Ok(page) => return Ok(page),
                Err(e) => self.passed_over(replica, e)?,
            }
        }
        self.primary.page(query, plan, count).await
    }

    async fn generation(&self, collection: &str) -> Result<String, StoreError> {
        for replica in self.in_rotation() {
            match replica.store.generation(collection).await {
                Ok(generation) => return Ok(generation),
                Err(e) => self.passed_over(replica, e)?,
            }
        }
        self.primary.generation(collection).await
    }

    async fn get(&self, schema: &CollectionSchema, id: &Value) -> Result<Option<String>, StoreError> {
        for replica in self.in_rotation() {
            match replica.store.get(schema, id).await {
                Ok(Some(doc)) => return Ok(Some(doc)),
                // Not found here: it may not be replayed here yet.
                Ok(None) => {}
                Err(e) => self.passed_over(replica, e)?,
            }
        }
        self.primary.get(schema, id).await
    }

    fn replicas(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .iter()
            .map(|r| {
                let behind = r.behind_bytes.load(Ordering::Relaxed);
                ReplicaStatus {
                    target: r.store.target().to_owned(),
                    in_rotation: r.up.load(Ordering::Relaxed),
                    behind_bytes: (behind >= 0).then_some(behind),
                    replay_paused: r.paused.load(Ordering::Relaxed),
                }
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Writer for ReplicatedStore {
    async fn import(
        &self,
        schema: &CollectionSchema,
        mode: ImportMode,
        docs: Documents,
        on_duplicate: OnDuplicate,
        progress: Progress<'_>,
    ) -> Result<ImportStats, StoreError> {
        self.primary.import(schema, mode, docs, on_duplicate, progress).await
    }

    fn check_new_name(&self, name: &str) -> Result<(), StoreError> {
        self.primary.check_new_name(name)
    }

    async fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError> {
        self.primary.delete(collection, ids).await
    }

    async fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        self.primary.drop_collection(name).await
    }

    async fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        self.primary.schema_of(name).await
    }

    async fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError> {
        self.primary.origin(name).await
    }

    async fn purge_versions(&self, retention: Duration) -> Result<u64, StoreError> {
        self.primary.purge_versions(retention).await
    }

    async fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError> {
        self.primary.set_origin(name, origin).await
    }
}
