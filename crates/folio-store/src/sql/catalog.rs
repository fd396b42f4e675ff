//! Catalog reads both SQL stores share: the schema cache and collections with their counts.

use std::sync::Arc;

use async_trait::async_trait;
use folio_engine::{CollectionSchema, Position};

use crate::schemas::Schemas;
use crate::{CollectionInfo, Count, Query, Store, StoreError};

/// A store that keeps its collections' schemas in a catalog of its own.
#[async_trait]
pub(crate) trait Catalog: Store {
    /// The schemas read so far.
    fn schemas(&self) -> &Schemas;
    /// Every schema of the catalog, read afresh.
    async fn read_catalog(&self) -> Result<Vec<CollectionSchema>, StoreError>;
}

/// Reads every schema from the catalog (collections may have been created by another
/// process, such as an import, since this one started).
pub(crate) async fn reload(store: &impl Catalog) -> Result<(), StoreError> {
    let schemas = store.read_catalog().await?;
    store.schemas().replace(schemas);
    Ok(())
}

/// [`Store::collections`] for a catalog store: read afresh, by name, with counts.
pub(crate) async fn collections(store: &impl Catalog) -> Result<Vec<CollectionInfo>, StoreError> {
    reload(store).await?;
    let schemas = store.schemas().sorted();
    with_counts(store, schemas.into_iter().map(|s| (s, Vec::new()))).await
}

/// [`Store::schema`] for a catalog store: from the cache, else read afresh.
pub(crate) async fn schema(store: &impl Catalog, collection: &str) -> Result<Arc<CollectionSchema>, StoreError> {
    if let Some(s) = store.schemas().get(collection) {
        return Ok(s);
    }
    reload(store).await?;
    store
        .schemas()
        .get(collection)
        .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
}

/// The schema of a collection, if it exists, read afresh from the catalog.
pub(crate) async fn schema_of(store: &impl Catalog, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
    reload(store).await?;
    Ok(store.schemas().get(name).map(|s| (*s).clone()))
}

/// Collections with their exact record counts, in the order given.
pub(crate) async fn with_counts(
    store: &dyn Store,
    collections: impl Iterator<Item = (Arc<CollectionSchema>, Vec<(String, String)>)>,
) -> Result<Vec<CollectionInfo>, StoreError> {
    let mut out = Vec::new();
    for (schema, unindexed) in collections {
        let count = count_all(store, Arc::clone(&schema)).await?;
        out.push(CollectionInfo {
            schema,
            count,
            unindexed,
        });
    }
    Ok(out)
}

/// The exact number of records of a collection, through any store (a page of none, with its
/// total, which the totals cache keeps).
async fn count_all(store: &dyn Store, schema: Arc<CollectionSchema>) -> Result<u64, StoreError> {
    let query = Query::all(schema);
    let plan = folio_engine::page::plan(&query.sort, Position::Start, 0);
    Ok(store
        .page(&query, &plan, Count::Exact)
        .await?
        .total
        .map_or(0, |t| t.count))
}
