//! Tests of the `folio` binary as users run it.

mod access;
mod browser;
mod crash;
mod delete;
mod export;
mod harvest;
mod import;
mod peers;
mod postgres;
mod process;
mod replicas;
mod secret;
mod serve;
mod snapshot;
mod sqlite_file;
