//! Opening the store a command reads and writes: the embedded store or PostgreSQL, as one
//! `dyn` store, so that commands hold no match over the kinds of store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use folio_store::{PostgresStore, SqliteStore, WritableStore};

/// A store opened for a command.
pub(crate) struct Opened {
    /// The store.
    pub(crate) store: Arc<dyn WritableStore>,
    /// Where it is, for the log: the PostgreSQL database (`user@host:port/db`), if it is one.
    pub(crate) postgres: Option<String>,
}

/// Opens PostgreSQL at `postgres` when given, else the embedded store in `data_dir`.
pub(crate) async fn open(data_dir: &Path, postgres: Option<&str>) -> anyhow::Result<Opened> {
    Ok(match postgres {
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
