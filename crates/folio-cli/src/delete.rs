//! `folio delete`: retract records from a collection.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use folio_engine::{IdType, Value};

/// Remove records from a collection by id, in one transaction.
///
/// The ids are given as arguments, or one a line with --ids-from FILE (`-` reads standard
/// input; blank lines are skipped), or both. Ids that are not in the collection are counted and
/// skipped; an id that cannot be one of the collection's (text where the ids are integers) is
/// an error before anything is deleted.
///
/// Servers running on the same store serve the collection without those records from their
/// next request on. A cursor walk under way goes on past the gap: every record that is still
/// there is returned exactly once.
///
/// Examples:
///   folio delete dois 10.1234/abc 10.1234/def
///   folio delete dois --ids-from retracted.txt
///   folio delete dois --ids-from - --postgres postgres://folio@db.example.org/folio < retracted.txt
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct DeleteArgs {
    /// The collection to delete from.
    collection: String,

    /// Ids of the records to delete.
    ids: Vec<String>,

    /// A file of ids to delete, one a line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    ids_from: Option<PathBuf>,

    /// Where the embedded store keeps its files.
    #[arg(long, default_value = "./folio-data", value_name = "DIR")]
    data_dir: PathBuf,

    /// Delete from PostgreSQL (postgres://user:password@host:port/database) instead of the
    /// embedded store.
    #[arg(long, value_name = "URL", env = "FOLIO_POSTGRES", hide_env_values = true)]
    postgres: Option<String>,
}

pub(crate) fn run(args: DeleteArgs) -> anyhow::Result<()> {
    let given = given_ids(&args)?;
    if given.is_empty() {
        bail!("no ids to delete: give them as arguments or with --ids-from FILE");
    }
    let name = &args.collection;
    crate::store::run_on(&args.data_dir, args.postgres.as_deref(), async |store| {
        crate::store::records_of(store.as_ref(), name).await?;
        let schema = store
            .schema_of(name)
            .await?
            .with_context(|| format!("the collection `{name}` was dropped meanwhile"))?;
        let ids = given
            .iter()
            .map(|(id, from)| {
                id_value(id, schema.id_type).with_context(|| {
                    format!(
                        "{from}: id `{id}` is not an integer, and the ids of `{name}` are integers; nothing was deleted"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let deleted = store.delete(name, &ids).await?;
        let missing = ids.len() as u64 - deleted;
        tracing::info!(collection = %name, deleted, missing, "deleted records in one transaction");
        eprintln!(
            "deleted {deleted} record{} from `{name}`{}",
            if deleted == 1 { "" } else { "s" },
            match missing {
                0 => String::new(),
                1 => "; 1 id was not in the collection".to_owned(),
                n => format!("; {n} ids were not in the collection"),
            }
        );
        Ok(())
    })
}

/// The ids given, each once, with where it was first given (for errors): the arguments,
/// then the file's lines.
fn given_ids(args: &DeleteArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut ids: Vec<(String, String)> = args
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), format!("argument {}", i + 1)))
        .collect();
    if let Some(file) = &args.ids_from {
        let reader: Box<dyn std::io::BufRead> = if file.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let opened = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
            Box::new(std::io::BufReader::new(opened))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("cannot read {}", file.display()))?;
            let id = line.trim();
            if !id.is_empty() {
                ids.push((id.to_owned(), format!("{} line {}", file.display(), n + 1)));
            }
        }
    }
    // An id given twice is deleted once, and counted once.
    let mut seen = std::collections::HashSet::new();
    ids.retain(|(id, _)| seen.insert(id.clone()));
    Ok(ids)
}

/// An id as the collection keeps it, if it can be one of its ids.
fn id_value(id: &str, ty: IdType) -> Option<Value> {
    match ty {
        IdType::String => Some(Value::Text(id.to_owned())),
        IdType::Integer => id.parse::<i64>().ok().map(Value::Int),
    }
}
