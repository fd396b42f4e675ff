//! A small pool of read-only SQLite connections, so concurrent requests read in parallel.
//!
//! In WAL mode readers never block each other or the writer; what serialises requests is a
//! single shared connection, which this pool avoids. It is a mutex-guarded stack plus a
//! condition variable: checkout is O(1), and callers run on blocking threads, so waiting
//! for a connection never stalls the async runtime.

use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex};

use rusqlite::Connection;

use crate::StoreError;

/// The default number of read connections: two per core, and at least four.
pub(crate) fn default_size() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 2).max(4)
}

/// Runs blocking work on a pooled connection, on a blocking thread, off the async runtime.
/// Requests wait for a free connection here, asynchronously, so blocking threads are never
/// more than connections (64 waiting requests would otherwise hold 64 threads).
pub(crate) async fn read<T: Send + 'static>(
    pool: &Arc<Pool>,
    work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let pool = Arc::clone(pool);
    let turn = Arc::clone(&pool.turns)
        .acquire_owned()
        .await
        .map_err(|e| StoreError::Internal(format!("the read pool is closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn; // released when the work is done, even if the request has gone
        work(&pool.get())
    })
    .await
    .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
}

/// A fixed set of connections.
pub(crate) struct Pool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
    /// One permit per connection: taken before a blocking thread is asked for.
    turns: Arc<tokio::sync::Semaphore>,
}

impl Pool {
    pub(crate) fn new(conns: Vec<Connection>) -> Pool {
        Pool {
            turns: Arc::new(tokio::sync::Semaphore::new(conns.len())),
            idle: Mutex::new(conns),
            returned: Condvar::new(),
        }
    }

    /// Takes a connection, waiting for one to be returned if all are in use.
    pub(crate) fn get(&self) -> Pooled<'_> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = idle.pop() {
                return Pooled {
                    pool: self,
                    conn: Some(conn),
                };
            }
            idle = self.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A connection on loan; it goes back to the pool when dropped.
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            self.pool.returned.notify_one();
        }
    }
}
