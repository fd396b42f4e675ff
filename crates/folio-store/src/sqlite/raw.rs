//! Page reads through SQLite's C API: statements prepared, stepped and read by folio itself.
//!
//! A page of 100 rows of eight columns reads 800 values. rusqlite reads each with four calls
//! into SQLite (`column_count`, `column_type`, `column_text`, `column_bytes`), each of which
//! finds the column again and takes and leaves the connection's mutex: about 150
//! instructions a value, an eighth of a served file's whole page. [`Row::get`] asks SQLite
//! for the column's value once (`sqlite3_column_value`) and reads its type and contents from
//! it. rusqlite does not give its statements' handles out, so the statements that read pages
//! are prepared here and cached per connection ([`Reader`]); everything else goes through
//! rusqlite on the same connection (transactions, counts, writes).
//!
//! Safety rests on three facts: a [`Reader`] owns its statements and finalizes them before
//! its connection closes (field order); a statement is used by one thread at a time (a
//! reader is on loan to one read, and `!Sync`); and a [`Row`] borrows its statement while it
//! is stepped, so no value outlives the step that produced it.

// The workspace denies unsafe code; this module is the one place that needs it (the C API
// above), and every block in it says why it is sound.
#![allow(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

use std::cell::RefCell;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::ops::Deref;
use std::os::raw::c_int;
use std::ptr::NonNull;

use rusqlite::Connection;
use rusqlite::ffi;
use rusqlite::types::{Value as Sql, ValueRef as SqlRef};

/// Statements kept prepared per connection; the least recently used beyond it is finalized.
/// Pages of one collection need a handful (first pages, later pages, each direction).
const CACHED_STATEMENTS: usize = 32;

/// A read connection with its own prepared page statements.
pub(crate) struct Reader {
    // Declared (and so dropped) before `conn`: every statement is finalized before the
    // connection closes, which SQLite requires.
    statements: RefCell<Vec<(Box<str>, Statement)>>,
    conn: Connection,
}

impl Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Reader {
    /// A reader on `conn`.
    pub(crate) fn new(conn: Connection) -> Reader {
        Reader {
            statements: RefCell::new(Vec::new()),
            conn,
        }
    }

    /// Runs `sql` (one statement) with `params` bound to `?1`, `?2`, ... and calls `each` for
    /// every row it returns, in order, until the rows end or `each` fails.
    pub(crate) fn each_row<E: From<rusqlite::Error>>(
        &self,
        sql: &str,
        params: &[Sql],
        mut each: impl FnMut(&Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let statement = self.take(sql)?;
        let result = (|| {
            statement.bind(params)?;
            let row = Row {
                stmt: statement.0,
                columns: statement.columns(),
                _step: PhantomData,
            };
            while statement.step()? {
                each(&row)?;
            }
            Ok(())
        })();
        statement.reset();
        self.put(sql, statement);
        result
    }

    /// The cached statement for `sql`, taken out of the cache while it runs, or a new one.
    fn take(&self, sql: &str) -> rusqlite::Result<Statement> {
        let mut cached = self.statements.borrow_mut();
        match cached.iter().rposition(|(s, _)| **s == *sql) {
            Some(i) => Ok(cached.remove(i).1),
            None => Statement::prepare(&self.conn, sql),
        }
    }

    /// Puts a reset statement back as the most recently used, finalizing the least recently
    /// used one when the cache is full.
    fn put(&self, sql: &str, statement: Statement) {
        let mut cached = self.statements.borrow_mut();
        if cached.len() >= CACHED_STATEMENTS {
            cached.remove(0);
        }
        cached.push((sql.into(), statement));
    }
}

/// A prepared statement, finalized when dropped.
struct Statement(NonNull<ffi::sqlite3_stmt>);

// SAFETY: SQLite is built thread-safe (rusqlite's bundled build); a statement is used by one
// thread at a time, as the connection that owns it is (see the module's safety note).
unsafe impl Send for Statement {}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement is valid until here and never used after.
        unsafe { ffi::sqlite3_finalize(self.0.as_ptr()) };
    }
}

impl Statement {
    /// Prepares `sql`, which must be exactly one statement, for repeated use.
    fn prepare(conn: &Connection, sql: &str) -> rusqlite::Result<Statement> {
        let len = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::SqlInputError {
            error: ffi::Error::new(ffi::SQLITE_TOOBIG),
            msg: "statement too long".to_owned(),
            sql: String::new(),
            offset: -1,
        })?;
        let mut stmt = std::ptr::null_mut();
        let mut tail = std::ptr::null();
        // SAFETY: the connection's handle is valid while `conn` is borrowed; `sql` is read for
        // `len` bytes only; SQLite writes the two out-pointers.
        unsafe {
            let db = conn.handle();
            let rc = ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                &mut tail,
            );
            if rc != ffi::SQLITE_OK {
                return Err(failure(db, rc));
            }
        }
        let statement = NonNull::new(stmt).map(Statement).ok_or(rusqlite::Error::InvalidQuery)?;
        // Text after the statement would be silently ignored: only whitespace may follow.
        let used = (tail as usize).wrapping_sub(sql.as_ptr() as usize);
        if sql.get(used..).is_some_and(|rest| !rest.trim().is_empty()) {
            return Err(rusqlite::Error::MultipleStatement);
        }
        Ok(statement)
    }

    /// The number of columns its rows have.
    fn columns(&self) -> usize {
        // SAFETY: a valid statement.
        usize::try_from(unsafe { ffi::sqlite3_column_count(self.0.as_ptr()) }).unwrap_or(0)
    }

    /// Binds `params` to `?1`, `?2`, ...; text and blobs are copied by SQLite.
    fn bind(&self, params: &[Sql]) -> rusqlite::Result<()> {
        let stmt = self.0.as_ptr();
        // SAFETY: a valid statement; texts and blobs are read for their length and copied
        // (SQLITE_TRANSIENT) before the calls return.
        unsafe {
            let expected = usize::try_from(ffi::sqlite3_bind_parameter_count(stmt)).unwrap_or(0);
            if expected != params.len() {
                return Err(rusqlite::Error::InvalidParameterCount(params.len(), expected));
            }
            for (i, param) in params.iter().enumerate() {
                let n = c_int::try_from(i + 1)
                    .map_err(|_| rusqlite::Error::InvalidParameterCount(params.len(), expected))?;
                let rc = match param {
                    Sql::Null => ffi::sqlite3_bind_null(stmt, n),
                    Sql::Integer(v) => ffi::sqlite3_bind_int64(stmt, n, *v),
                    Sql::Real(v) => ffi::sqlite3_bind_double(stmt, n, *v),
                    Sql::Text(t) => ffi::sqlite3_bind_text64(
                        stmt,
                        n,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_TRANSIENT(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Sql::Blob(b) => {
                        ffi::sqlite3_bind_blob64(stmt, n, b.as_ptr().cast(), b.len() as u64, ffi::SQLITE_TRANSIENT())
                    }
                };
                if rc != ffi::SQLITE_OK {
                    return Err(failure(ffi::sqlite3_db_handle(stmt), rc));
                }
            }
        }
        Ok(())
    }

    /// Steps to the next row: `true` when there is one.
    fn step(&self) -> rusqlite::Result<bool> {
        let stmt = self.0.as_ptr();
        // SAFETY: a valid statement, bound.
        match unsafe { ffi::sqlite3_step(stmt) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            // SAFETY: as above; the error is read before anything else runs on the connection.
            rc => Err(unsafe { failure(ffi::sqlite3_db_handle(stmt), rc) }),
        }
    }

    /// Resets the statement and clears its parameters, for its next use.
    fn reset(&self) {
        // SAFETY: a valid statement. Their results repeat the last step's error, already
        // reported.
        unsafe {
            ffi::sqlite3_reset(self.0.as_ptr());
            ffi::sqlite3_clear_bindings(self.0.as_ptr());
        }
    }
}

/// The error SQLite reports for result code `rc` on connection `db`, as rusqlite reports
/// its own (so that callers match interrupts and other codes alike).
///
/// # Safety
/// `db` must be a valid connection whose last call returned `rc`.
unsafe fn failure(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: the message is NUL-terminated text owned by the connection, copied here.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(message))
}

/// The current row of a statement being stepped.
pub(crate) struct Row<'s> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    columns: usize,
    _step: PhantomData<&'s Statement>,
}

impl Row<'_> {
    /// The value of column `i` (from 0): valid until the statement steps again.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> rusqlite::Result<SqlRef<'_>> {
        if i >= self.columns {
            return Err(rusqlite::Error::InvalidColumnIndex(i));
        }
        // `columns` came from a c_int.
        let col = i as c_int;
        // SAFETY: the statement is on a row and `col` is one of its columns; the value is
        // read before the statement steps again (`&self` borrows the row). Text is read
        // before its length, as SQLite requires, and a NULL pointer (no bytes, or out of
        // memory) is read as empty.
        unsafe {
            let value = ffi::sqlite3_column_value(self.stmt.as_ptr(), col);
            Ok(match ffi::sqlite3_value_type(value) {
                ffi::SQLITE_INTEGER => SqlRef::Integer(ffi::sqlite3_value_int64(value)),
                ffi::SQLITE_FLOAT => SqlRef::Real(ffi::sqlite3_value_double(value)),
                ffi::SQLITE_TEXT => SqlRef::Text(bytes(ffi::sqlite3_value_text(value), value)),
                ffi::SQLITE_BLOB => SqlRef::Blob(bytes(ffi::sqlite3_value_blob(value).cast(), value)),
                _ => SqlRef::Null,
            })
        }
    }
}

/// The bytes at `data`, of the length SQLite gives for `value`.
///
/// # Safety
/// `data` must be what SQLite just returned for `value`'s text or blob, valid for the
/// returned lifetime.
#[inline]
unsafe fn bytes<'a>(data: *const u8, value: *mut ffi::sqlite3_value) -> &'a [u8] {
    // SAFETY: as the caller guarantees.
    let len = usize::try_from(unsafe { ffi::sqlite3_value_bytes(value) }).unwrap_or(0);
    if data.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: SQLite keeps `len` bytes at `data` until the statement steps or is reset.
    unsafe { std::slice::from_raw_parts(data, len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> Reader {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB);
             INSERT INTO t VALUES (1, 1.5, 'één', x'00ff'), (NULL, NULL, '', x''), (-7, -0.0, NULL, NULL);",
        )
        .unwrap();
        Reader::new(conn)
    }

    fn rows(reader: &Reader, sql: &str, params: &[Sql]) -> rusqlite::Result<Vec<Vec<Sql>>> {
        let mut out = Vec::new();
        reader.each_row(sql, params, |row| {
            out.push(
                (0..4)
                    .map(|i| row.get(i).map(Sql::from))
                    .collect::<rusqlite::Result<_>>()?,
            );
            Ok::<_, rusqlite::Error>(())
        })?;
        Ok(out)
    }

    #[test]
    fn values_read_as_rusqlite_reads_them() {
        let reader = reader();
        let sql = "SELECT i, r, s, b FROM t WHERE coalesce(i, 0) >= ?1 ORDER BY rowid";
        let expected: Vec<Vec<Sql>> = reader
            .prepare(sql)
            .unwrap()
            .query_map([-10], |r| (0..4).map(|i| r.get::<_, Sql>(i)).collect())
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows(&reader, sql, &[Sql::Integer(-10)]).unwrap(), expected);
        assert_eq!(expected.len(), 3);
        // Cached, reset and bound again: another parameter gives other rows.
        assert_eq!(rows(&reader, sql, &[Sql::Integer(0)]).unwrap(), expected[..2]);
        assert_eq!(reader.statements.borrow().len(), 1);
    }

    #[test]
    fn mistakes_are_errors_and_leave_the_statement_usable() {
        let reader = reader();
        let sql = "SELECT i, r, s, b FROM t WHERE s = ?1";
        assert!(matches!(
            rows(&reader, sql, &[]),
            Err(rusqlite::Error::InvalidParameterCount(0, 1))
        ));
        assert!(matches!(
            reader.each_row(sql, &[Sql::Text("één".into())], |row| row.get(4).map(drop)),
            Err(rusqlite::Error::InvalidColumnIndex(4))
        ));
        assert_eq!(rows(&reader, sql, &[Sql::Text("één".into())]).unwrap().len(), 1);
        assert!(matches!(
            rows(&reader, "SELECT 1; SELECT 2", &[]),
            Err(rusqlite::Error::MultipleStatement)
        ));
        let Err(rusqlite::Error::SqliteFailure(_, Some(message))) = rows(&reader, "SELECT nope FROM t", &[]) else {
            panic!("a bad column is SQLite's error");
        };
        assert!(message.contains("nope"), "{message}");
    }

    #[test]
    fn the_cache_keeps_the_most_recently_used_statements() {
        let reader = reader();
        for n in 0..CACHED_STATEMENTS + 5 {
            rows(&reader, &format!("SELECT i, r, s, {n} FROM t"), &[]).unwrap();
        }
        let cached = reader.statements.borrow();
        assert_eq!(cached.len(), CACHED_STATEMENTS);
        assert!(
            cached
                .last()
                .unwrap()
                .0
                .ends_with(&format!("{} FROM t", CACHED_STATEMENTS + 4))
        );
    }
}
