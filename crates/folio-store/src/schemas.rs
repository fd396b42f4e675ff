//! The collection schemas a store has read from its catalog, shared by its requests.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use folio_engine::CollectionSchema;

use crate::StoreError;

/// Schemas by collection name. Stores reload them from their catalog when asked for a name
/// they do not know (another process may have created it since).
#[derive(Debug, Default)]
pub(crate) struct Schemas(RwLock<HashMap<String, Arc<CollectionSchema>>>);

impl Schemas {
    pub(crate) fn get(&self, name: &str) -> Option<Arc<CollectionSchema>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub(crate) fn insert(&self, schema: &CollectionSchema) {
        self.write().insert(schema.name.clone(), Arc::new(schema.clone()));
    }

    pub(crate) fn remove(&self, name: &str) {
        self.write().remove(name);
    }

    /// Replaces every schema with those of the catalog.
    pub(crate) fn replace(&self, schemas: Vec<CollectionSchema>) {
        *self.write() = schemas.into_iter().map(|s| (s.name.clone(), Arc::new(s))).collect();
    }

    /// Every schema, by name.
    pub(crate) fn sorted(&self) -> Vec<Arc<CollectionSchema>> {
        let mut all: Vec<_> = self
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<CollectionSchema>>> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A schema as the catalogs keep it (JSON text).
pub(crate) fn parse(json: &str) -> Result<CollectionSchema, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Internal(format!("unreadable schema in catalog: {e}")))
}
