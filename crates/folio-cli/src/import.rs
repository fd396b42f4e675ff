//! `folio import`: load JSON Lines or CSV into a collection of the embedded store.

use std::io::{BufReader, IsTerminal as _, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use folio_engine::{CollectionSchema, FieldType, IndexedPath};
use folio_store::infer::infer;
use folio_store::input::{self, Format, Numbered};
use folio_store::{ImportStats, OnDuplicate, PostgresStore, SqliteStore, StoreError};
use indicatif::{ProgressBar, ProgressStyle};

/// Import JSON Lines or CSV into a collection (created on first import, appended to after).
///
/// The whole file goes in as one transaction: a malformed line or a duplicate id stops the
/// import with its line number and leaves the collection exactly as it was.
///
/// Examples:
///   folio import entries.jsonl --collection entries --id entry_id
///   folio import dois.csv --collection dois --id doi --index published:timestamp --index title:string
///   zcat dump.jsonl.gz | folio import - --collection dump --id _id
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ImportArgs {
    /// The file to import; `-` reads standard input.
    file: String,

    /// The collection to import into (1 to 64 ASCII letters, digits, `_` or `-`).
    #[arg(long, value_name = "NAME")]
    collection: String,

    /// The dotted path of each record's id (unique, never null, a string or an integer).
    #[arg(long, value_name = "PATH")]
    id: String,

    /// A path to index, with its type: string, integer, float, boolean, timestamp or
    /// string[]. Repeatable. Without it, paths and types are inferred from the first 10,000
    /// records, and the command says which were indexed and why others were not.
    #[arg(long = "index", value_name = "PATH:TYPE", value_parser = parse_index)]
    index: Vec<IndexedPath>,

    /// The input format; by default CSV for `.csv` files and JSON Lines otherwise.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,

    /// What to do with a record whose id is already in the collection.
    #[arg(long, value_enum, default_value_t = DuplicateArg::Error)]
    on_duplicate: DuplicateArg,

    /// Where the embedded store keeps its files.
    #[arg(long, default_value = "./folio-data", value_name = "DIR")]
    data_dir: PathBuf,

    /// Import into PostgreSQL (postgres://user:password@host:port/database) instead of the
    /// embedded store.
    #[arg(long, value_name = "URL", env = "FOLIO_POSTGRES", hide_env_values = true)]
    postgres: Option<String>,
}

/// The store an import writes to.
enum Target {
    Sqlite(Box<SqliteStore>),
    Postgres(Box<PostgresStore>, tokio::runtime::Runtime),
}

impl Target {
    fn open(args: &ImportArgs) -> anyhow::Result<Target> {
        Ok(match &args.postgres {
            Some(url) => {
                let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
                let store = runtime
                    .block_on(PostgresStore::connect(url))
                    .context("cannot use PostgreSQL")?;
                Target::Postgres(Box::new(store), runtime)
            }
            None => {
                Target::Sqlite(Box::new(SqliteStore::open(&args.data_dir).with_context(|| {
                    format!("cannot open the store in {}", args.data_dir.display())
                })?))
            }
        })
    }

    fn schema_of(&self, name: &str) -> Result<Option<CollectionSchema>, StoreError> {
        match self {
            Target::Sqlite(store) => store.schema_of(name),
            Target::Postgres(store, runtime) => runtime.block_on(store.schema_of(name)),
        }
    }

    fn import(
        &self,
        schema: &CollectionSchema,
        create: bool,
        docs: impl Iterator<Item = Numbered>,
        on_duplicate: OnDuplicate,
    ) -> Result<ImportStats, StoreError> {
        match self {
            Target::Sqlite(store) => store.import(schema, create, docs, on_duplicate, &|_| {}),
            Target::Postgres(store, runtime) => {
                runtime.block_on(store.import(schema, create, docs, on_duplicate, &|_| {}))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DuplicateArg {
    /// Stop with an error naming the line (nothing is imported).
    Error,
    /// Replace the stored record.
    Replace,
    /// Keep the stored record.
    Skip,
}

fn parse_index(text: &str) -> Result<IndexedPath, String> {
    let (path, ty) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("expected PATH:TYPE, got `{text}`"))?;
    let ty = FieldType::from_name(ty).ok_or_else(|| {
        let names: Vec<&str> = FieldType::ALL.iter().map(|t| t.name()).collect();
        format!("unknown type `{ty}`; types: {}", names.join(", "))
    })?;
    Ok(IndexedPath {
        path: path.to_owned(),
        ty,
    })
}

/// Records read ahead to infer the schema of a new collection.
const SAMPLE: usize = 10_000;

/// Runs `folio import`.
pub(crate) fn run(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = Target::open(&args)?;
    let format = match args.format {
        Some(FormatArg::Jsonl) => Format::JsonLines,
        Some(FormatArg::Csv) => Format::Csv,
        None => Format::from_name(&args.file),
    };
    let bar = progress_bar(&args.file)?;
    let reader: Box<dyn Read> = if args.file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?;
        Box::new(bar.wrap_read(file))
    };
    let mut docs: Box<dyn Iterator<Item = Numbered>> = match format {
        Format::JsonLines => Box::new(input::json_lines(BufReader::with_capacity(1 << 20, reader))),
        Format::Csv => Box::new(input::csv(BufReader::with_capacity(1 << 20, reader))?),
    };

    let existing = store.schema_of(&args.collection)?;
    // Read ahead: new collections need a sample to infer the id type and, without --index,
    // the indexed paths. An error in the sample ends the import right here.
    let sample: Vec<Numbered> = match existing {
        Some(_) => Vec::new(),
        None => docs
            .by_ref()
            .take(SAMPLE)
            .collect::<Result<Vec<_>, _>>()
            .map_err(describe)?
            .into_iter()
            .map(Ok)
            .collect(),
    };
    let (schema, create) = match existing {
        Some(schema) => {
            check_compatible(&schema, &args)?;
            (schema, false)
        }
        None => {
            let sample_docs = sample.iter().filter_map(|d| d.as_ref().ok().map(|(_, doc)| doc));
            let inferred = infer(sample_docs, &args.id);
            let indexed = if args.index.is_empty() {
                for p in &inferred.indexed {
                    eprintln!("indexed {} ({})", p.path, p.ty);
                }
                for (path, why) in &inferred.skipped {
                    eprintln!("not indexed {path}: {why}");
                }
                inferred.indexed
            } else {
                args.index.clone()
            };
            let schema = CollectionSchema {
                name: args.collection.clone(),
                id_path: args.id.clone(),
                id_type: inferred.id_type,
                indexed,
            };
            schema
                .validate()
                .with_context(|| format!("cannot create the collection `{}`", args.collection))?;
            (schema, true)
        }
    };

    let on_duplicate = match args.on_duplicate {
        DuplicateArg::Error => OnDuplicate::Error,
        DuplicateArg::Replace => OnDuplicate::Replace,
        DuplicateArg::Skip => OnDuplicate::Skip,
    };
    let all = sample.into_iter().chain(docs);
    let stats = store
        .import(&schema, create, all, on_duplicate)
        .map_err(describe)
        .with_context(|| format!("nothing was imported into `{}`", args.collection))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let total = stats.inserted + stats.replaced + stats.skipped;
    eprintln!(
        "imported {} records into `{}` ({} new, {} replaced, {} skipped) in {seconds:.1} s ({:.0} records/s)",
        total,
        args.collection,
        stats.inserted,
        stats.replaced,
        stats.skipped,
        total as f64 / seconds.max(1e-9)
    );
    Ok(())
}

/// Appending must not change the collection's id path or types.
fn check_compatible(schema: &CollectionSchema, args: &ImportArgs) -> anyhow::Result<()> {
    if schema.id_path != args.id {
        bail!(
            "the collection `{}` exists with the id path `{}`, not `{}`",
            schema.name,
            schema.id_path,
            args.id
        );
    }
    for p in &args.index {
        if !schema.indexed.contains(p) {
            let have: Vec<String> = schema.indexed.iter().map(|p| format!("{}:{}", p.path, p.ty)).collect();
            bail!(
                "the collection `{}` exists and does not index {}:{}; its indexed paths are {}",
                schema.name,
                p.path,
                p.ty,
                have.join(", ")
            );
        }
    }
    Ok(())
}

fn describe(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::InvalidDocument { .. } => anyhow::anyhow!("{e}"),
        other => anyhow::Error::new(other),
    }
}

fn progress_bar(file: &str) -> anyhow::Result<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return Ok(ProgressBar::hidden());
    }
    if file == "-" {
        let spinner = ProgressBar::new_spinner().with_message("importing from standard input");
        spinner.enable_steady_tick(std::time::Duration::from_millis(120));
        return Ok(spinner);
    }
    let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len).with_message(format!("importing {file}"));
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Ok(bar)
}
