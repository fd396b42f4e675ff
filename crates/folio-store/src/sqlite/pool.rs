//! A small pool of read-only SQLite connections, so concurrent requests read in parallel.
//!
//! In WAL mode readers never block each other or the writer; what serialises requests is a
//! single shared connection, which this pool avoids. It is a mutex-guarded stack plus a
//! condition variable: checkout is O(1), and callers run on blocking threads, so waiting
//! for a connection never stalls the async runtime.

use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::raw::Reader;
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
    work: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let pool = Arc::clone(pool);
    let turn = Arc::clone(&pool.turns)
        .acquire_owned()
        .await
        .map_err(|e| StoreError::Internal(format!("the read pool is closed: {e}")))?;
    let running = Arc::new(Running::default());
    let _interrupt = InterruptOnDrop(Arc::clone(&running));
    tokio::task::spawn_blocking(move || {
        let _turn = turn; // released when the work is done, even if the request has gone
        let conn = pool.get();
        // Dropped before `conn` goes back to the pool (even on a panic), so that no later
        // read of another request can be interrupted in this one's place.
        let _running = running.start(&conn);
        work(&conn)
    })
    .await
    .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
}

/// The connection a read is running on, while it runs.
#[derive(Default)]
struct Running(Mutex<Option<rusqlite::InterruptHandle>>);

impl Running {
    /// Notes that a read runs on `conn` until the returned guard is dropped.
    fn start<'a>(&'a self, conn: &Connection) -> Ended<'a> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.get_interrupt_handle());
        Ended(self)
    }
}

/// Clears [`Running`] when dropped.
struct Ended<'a>(&'a Running);

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        self.0.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Interrupts the read when the future waiting for it is dropped before it ends: the request
/// timed out (`--request-timeout`, answered with a 503) or its client went away. SQLite then
/// stops the statement at its next step, so a scan nobody waits for any more does not hold a
/// connection (a filter on a column no index serves can scan a whole table).
struct InterruptOnDrop(Arc<Running>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            handle.interrupt();
        }
    }
}

/// Runs `work`, a point query of microseconds, right here on an idle connection when one is
/// free, so that no thread is woken for it; else on the blocking pool, as [`read`] does.
pub(crate) async fn quick<T: Send + 'static>(
    pool: &Arc<Pool>,
    work: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match pool.idle() {
        Some(conn) => work(&conn),
        None => read(pool, work).await,
    }
}

/// How long a speculative read may run before SQLite interrupts it: about what a page of
/// 10,000 records takes.
const SPECULATION: Duration = Duration::from_millis(5);

/// Runs `work`, a read nobody is waiting for yet, right here on an idle connection (no thread
/// is woken for it), for at most [`SPECULATION`]: `None` when no connection is idle or SQLite
/// was interrupted at the deadline. The bound keeps a speculation from holding up the async
/// worker it runs on, whatever the read turns out to cost.
pub(crate) fn speculate<T>(
    pool: &Pool,
    work: impl FnOnce(&Reader) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let Some(conn) = pool.idle() else {
        return Ok(None);
    };
    let deadline = Instant::now() + SPECULATION;
    // Checked every thousand virtual machine steps: microseconds apart.
    conn.progress_handler(1000, Some(move || Instant::now() >= deadline));
    let result = work(&conn);
    conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Err(e)
            if e.backend_source::<rusqlite::Error>()
                .and_then(rusqlite::Error::sqlite_error_code)
                == Some(rusqlite::ErrorCode::OperationInterrupted) =>
        {
            Ok(None)
        }
        other => other.map(Some),
    }
}

/// A fixed set of connections.
pub(crate) struct Pool {
    idle: Mutex<Vec<Reader>>,
    returned: Condvar,
    /// One permit per connection: taken before a blocking thread is asked for.
    turns: Arc<tokio::sync::Semaphore>,
}

impl Pool {
    pub(crate) fn new(conns: Vec<Connection>) -> Pool {
        Pool {
            turns: Arc::new(tokio::sync::Semaphore::new(conns.len())),
            idle: Mutex::new(conns.into_iter().map(Reader::new).collect()),
            returned: Condvar::new(),
        }
    }

    /// Takes a connection if one is idle, without waiting.
    pub(crate) fn idle(&self) -> Option<Pooled<'_>> {
        let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()?;
        Some(Pooled {
            pool: self,
            conn: Some(conn),
        })
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
    conn: Option<Reader>,
}

impl Deref for Pooled<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts to `n` in SQL: about `n` virtual machine steps.
    fn count_to(conn: &Connection, n: i64) -> Result<i64, StoreError> {
        Ok(conn.query_row(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1) SELECT count(*) FROM c",
            [n],
            |r| r.get(0),
        )?)
    }

    #[test]
    fn speculations_end_at_their_deadline_and_leave_the_connection_as_it_was() {
        let pool = Pool::new(vec![Connection::open_in_memory().unwrap()]);
        assert_eq!(speculate(&pool, |conn| count_to(conn, 10)).unwrap(), Some(10));
        // Far longer than the deadline: interrupted, and no error.
        assert_eq!(speculate(&pool, |conn| count_to(conn, i64::MAX)).unwrap(), None);
        // The connection went back without the deadline: a long read is not interrupted.
        let started = Instant::now();
        assert_eq!(count_to(&pool.get(), 3_000_000).unwrap(), 3_000_000);
        assert!(started.elapsed() > SPECULATION, "the read took {:?}", started.elapsed());
        // No idle connection: no speculation.
        let held = pool.get();
        assert_eq!(speculate(&pool, |conn| count_to(conn, 10)).unwrap(), None);
        drop(held);
    }

    /// A read whose request went away (timed out, or its client left) is stopped, so that its
    /// connection comes back: without that, the second read below would wait for a count of
    /// many seconds to end.
    #[tokio::test]
    async fn a_read_nobody_waits_for_is_interrupted() {
        let pool = Arc::new(Pool::new(vec![Connection::open_in_memory().unwrap()]));
        let long = read(&pool, |conn| count_to(conn, 100_000_000));
        assert!(tokio::time::timeout(Duration::from_millis(50), long).await.is_err());
        let next = tokio::time::timeout(Duration::from_secs(5), read(&pool, |conn| count_to(conn, 10)));
        assert_eq!(next.await.expect("the connection came back").unwrap(), 10);
    }
}
