//! Test helpers shared by folio's crates: a throwaway PostgreSQL schema per test.
//!
//! The server is `FOLIO_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Each test gets a fresh schema, used through `search_path`, and drops it when done. When no
//! server can be reached the PostgreSQL tests are skipped with a message, unless
//! `FOLIO_REQUIRE_POSTGRES=1` (as in CI), which makes that a failure.

#![deny(missing_docs)]

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server the tests use.
pub fn server_url() -> String {
    std::env::var("FOLIO_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A schema of its own for one test; dropped with it.
pub struct PgSchema {
    /// A URL whose connections use only this schema.
    pub url: String,
    name: String,
}

impl PgSchema {
    /// Creates a fresh schema, or `None` (after saying so) when PostgreSQL cannot be reached
    /// and is not required.
    pub fn create(rt: &tokio::runtime::Runtime) -> Option<PgSchema> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "folio_t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let server = server_url();
        let created = rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client.batch_execute(&format!("CREATE SCHEMA {name}")).await
        });
        match created {
            Ok(()) => {
                let sep = if server.contains('?') { '&' } else { '?' };
                Some(PgSchema {
                    url: format!("{server}{sep}options=-csearch_path%3D{name}"),
                    name,
                })
            }
            Err(e) if std::env::var("FOLIO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
                panic!("PostgreSQL is required (FOLIO_REQUIRE_POSTGRES=1) but {server} cannot be used: {e}")
            }
            Err(e) => {
                // Once per test binary, and past the test harness's capture of `eprintln!`,
                // so that a skip is never silent.
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nPostgreSQL tests SKIPPED: cannot use {server} ({e}); set FOLIO_TEST_POSTGRES to a server\n"
                    );
                });
                None
            }
        }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // On a thread of its own: the test's runtime may be gone or busy.
        let (server, name) = (server_url(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await.ok()?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

mod replication;
pub use replication::PgReplication;
