//! `folio drop`: remove a collection.

use std::path::PathBuf;

use clap::Args;

/// Remove a collection with its records and indexes, in one transaction.
///
/// Servers running on the same store answer 404 for the collection from their next request
/// on; cursors into it become useless. Importing the same name again starts afresh.
///
/// Examples:
///   folio drop dois
///   folio drop dois --data-dir /srv/folio
///   folio drop dois --postgres postgres://folio@db.example.org/folio
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct DropArgs {
    /// The collection to remove.
    collection: String,

    /// Where the embedded store keeps its files.
    #[arg(long, default_value = "./folio-data", value_name = "DIR")]
    data_dir: PathBuf,

    /// Remove it from PostgreSQL (postgres://user:password@host:port/database) instead of the
    /// embedded store.
    #[arg(long, value_name = "URL", env = "FOLIO_POSTGRES", hide_env_values = true)]
    postgres: Option<String>,
}

pub(crate) fn run(args: DropArgs) -> anyhow::Result<()> {
    let name = &args.collection;
    crate::store::run_on(&args.data_dir, args.postgres.as_deref(), async |store| {
        let records = crate::store::records_of(store.as_ref(), name).await?;
        store.drop_collection(name).await?;
        tracing::info!(collection = %name, records, "dropped the collection");
        Ok(())
    })
}
