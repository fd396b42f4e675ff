//! The write side every writable store implements: [`Writer`].
//!
//! The CLI (`import`, `drop`, `serve --demo`), the demo builder and the shared property suite
//! write through this one trait, so a new store plugs in by implementing [`crate::Store`]
//! and [`Writer`] and passing `tests/it/walk.rs`.

use std::sync::Arc;

use async_trait::async_trait;
use folio_engine::{CollectionSchema, Value};

use crate::input::Numbered;
use crate::{Store, StoreError};

/// Documents to import, each with its number in the input (a line number), which errors
/// name; an input error ends the import with that error.
pub type Documents = Box<dyn Iterator<Item = Numbered> + Send>;

/// Called now and then during an import with the number of documents done so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Whether an import creates its collection or appends to an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Create the collection in the import's transaction, so that a failed import leaves no
    /// trace; [`StoreError::CollectionExists`] if it exists.
    Create,
    /// Append to the existing collection; [`StoreError::UnknownCollection`] if there is none.
    Append,
}

/// What to do with a document whose id is already in the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Stop the import with an error naming the document.
    Error,
    /// Replace the stored document.
    Replace,
    /// Keep the stored document and go on.
    Skip,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// New documents.
    pub inserted: u64,
    /// Documents that replaced stored ones.
    pub replaced: u64,
    /// Documents skipped because their id was stored already.
    pub skipped: u64,
}

impl ImportStats {
    /// Every document the import went through.
    pub fn done(&self) -> u64 {
        self.inserted + self.replaced + self.skipped
    }
}

/// The write side of a store: imports, deletes, drops and the catalog's extra text.
///
/// Every write is one transaction and gives the collection a new generation in it (see
/// [`Store::generation`]), so readers never serve a total or a page read ahead across it.
/// Implementations must not block the async runtime they are called on: a store whose
/// driver blocks runs its writes on blocking threads (as `SqliteStore` does), since a server
/// may import while it answers requests.
#[async_trait]
pub trait Writer: Send + Sync {
    /// Imports documents in one transaction: all of them or, on the first error, none.
    async fn import(
        &self,
        schema: &CollectionSchema,
        mode: ImportMode,
        docs: Documents,
        on_duplicate: OnDuplicate,
        progress: Progress<'_>,
    ) -> Result<ImportStats, StoreError>;

    /// Checks that this store can hold a new collection of this name, a name that already
    /// passed [`folio_engine::schema::validate_collection_name`], which every store takes
    /// but for PostgreSQL's shorter identifiers. [`Writer::import`] checks it too; callers
    /// call it first to refuse a name before they read any input.
    fn check_new_name(&self, name: &str) -> Result<(), StoreError> {
        let _ = name;
        Ok(())
    }

    /// Deletes the records with the given ids (absent ones are skipped), in one transaction.
    /// Returns how many were deleted.
    async fn delete(&self, collection: &str, ids: &[Value]) -> Result<u64, StoreError>;

    /// Removes a collection and its records, if it exists.
    async fn drop_collection(&self, name: &str) -> Result<(), StoreError>;

    /// The schema of a collection, if it exists (read afresh from the catalog).
    async fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError>;

    /// The origin text of a collection (`None` inside if it has none), or `None` if the
    /// collection does not exist.
    async fn origin(&self, name: &str) -> Result<Option<Option<String>>, StoreError>;

    /// Records where a collection came from (the demo records its size).
    async fn set_origin(&self, name: &str, origin: &str) -> Result<(), StoreError>;

    /// Removes the versions that writes superseded more than `retention` ago, in every
    /// collection; snapshot walks at moments before them then expire. Returns how many
    /// versions were removed.
    async fn purge_versions(&self, retention: std::time::Duration) -> Result<u64, StoreError>;
}

/// A store that is read and written: what the CLI opens.
pub trait WritableStore: Store + Writer {
    /// The read side, to serve.
    fn into_store(self: Arc<Self>) -> Arc<dyn Store>;
    /// The write side.
    fn as_writer(&self) -> &dyn Writer;
}

impl<S: Store + Writer> WritableStore for S {
    fn into_store(self: Arc<Self>) -> Arc<dyn Store> {
        self
    }
    fn as_writer(&self) -> &dyn Writer {
        self
    }
}
