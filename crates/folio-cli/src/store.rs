//! Opening the store a command reads and writes: the embedded store or PostgreSQL, as one
//! `dyn` store, so that commands hold no match over the kinds of store.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use folio_store::{PostgresStore, ReplicatedStore, SqliteStore, Store, WritableStore};

/// A store opened for a command.
pub(crate) struct Opened {
    /// The store.
    pub(crate) store: Arc<dyn WritableStore>,
    /// Where it is, for the log: the PostgreSQL database (`user@host:port/db`), if it is one.
    pub(crate) postgres: Option<String>,
}

/// Runs `work` on the store a command writes to ([`open`]), on a runtime of its own: the
/// body of the commands that only write (`delete`, `drop`).
pub(crate) fn run_on<T>(
    data_dir: &Path,
    postgres: Option<&str>,
    work: impl AsyncFnOnce(Arc<dyn WritableStore>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async { work(open(data_dir, postgres, &[]).await?.store).await })
}

/// Opens PostgreSQL at `postgres` when given (reading from the streaming `replicas` when
/// there are any), else the embedded store in `data_dir`.
pub(crate) async fn open(data_dir: &Path, postgres: Option<&str>, replicas: &[String]) -> anyhow::Result<Opened> {
    Ok(match postgres {
        Some(url) if !replicas.is_empty() => {
            let store = ReplicatedStore::connect(url, replicas)
                .await
                .context("cannot use PostgreSQL (--postgres, and the replicas of --postgres-replica in order)")?;
            let target = store.primary().target().to_owned();
            Opened {
                store: Arc::new(store),
                postgres: Some(target),
            }
        }
        Some(url) => {
            let store = PostgresStore::connect(url).await.context("cannot use PostgreSQL")?;
            let target = store.target().to_owned();
            Opened {
                store: Arc::new(store),
                postgres: Some(target),
            }
        }
        None => {
            // Opening blocks for a moment (the file, the catalog), before anything is served.
            let store = SqliteStore::open(data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            Opened {
                store: Arc::new(store),
                postgres: None,
            }
        }
    })
}

/// The number of records of `name`, or an error that lists the collections there are.
pub(crate) async fn records_of(store: &(impl Store + ?Sized), name: &str) -> anyhow::Result<u64> {
    let collections = store.collections().await.context("cannot read the collections")?;
    if let Some(info) = collections.iter().find(|c| c.schema.name == name) {
        return Ok(info.count);
    }
    let names: Vec<&str> = collections.iter().map(|c| c.schema.name.as_str()).collect();
    bail!(
        "there is no collection `{name}`; collections: {}",
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    )
}
