//! [`Swap`]: a value a running server replaces (on SIGHUP) while requests read it.

use std::sync::{Arc, PoisonError, RwLock};

/// A value that requests read and that can be replaced while the server runs: each request
/// takes one snapshot ([`Swap::current`]), so it is served under one value from start to end.
/// Clones share the value.
#[derive(Debug, Default)]
pub struct Swap<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Swap<T> {
    fn clone(&self) -> Swap<T> {
        Swap(Arc::clone(&self.0))
    }
}

impl<T> Swap<T> {
    /// A handle holding `value`.
    pub fn new(value: T) -> Swap<T> {
        Swap(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// Replaces the value: requests that start after this call see the new one.
    pub fn replace(&self, value: T) {
        // A poisoned lock only means a writer panicked between two plain assignments; the
        // value inside is whole either way.
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(value);
    }

    /// The value now.
    pub fn current(&self) -> Arc<T> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}
