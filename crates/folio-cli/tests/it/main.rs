//! Tests of the `folio` binary as users run it.

mod import;
mod process;
mod serve;
mod sqlite_file;
