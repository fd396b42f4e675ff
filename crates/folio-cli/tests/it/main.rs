//! Tests of the `folio` binary as users run it.

mod browser;
mod harvest;
mod import;
mod postgres;
mod process;
mod serve;
mod sqlite_file;
