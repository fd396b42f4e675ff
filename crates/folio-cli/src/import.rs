//! `folio import`: load JSON Lines, a JSON document, CSV or a SQLite table into a collection.

use std::io::{BufRead as _, BufReader, IsTerminal as _, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use folio_engine::{CollectionSchema, FieldType, IndexedPath};
use folio_store::infer::infer;
use folio_store::input::{self, Format, Numbered};
use folio_store::{Documents, ImportMode, OnDuplicate, StoreError};
use indicatif::{ProgressBar, ProgressStyle};

/// Import JSON Lines, a JSON document, CSV or a SQLite table into a collection (created on
/// first import, appended to after).
///
/// The format is told by the content (`--format` forces it): JSON Lines; a JSON document
/// whose records are an array, or the members of an object (each member's key becomes the
/// record's `@key`), at the top or at --records-path; CSV with a header row; or a table of a
/// SQLite database (--table), text holding JSON read as JSON. Gzip files are
/// read as they are. The whole file goes in as one transaction: a malformed line or a
/// duplicate id stops the import with its line number and leaves the collection exactly as it
/// was.
///
/// Examples:
///   folio import entries.jsonl --collection entries --id entry_id
///   folio import cities.json --collection cities --id @key
///   folio import penguins.csv --collection penguins --id @line
///   folio import mendeleev.db --table elements --collection elements --id atomic_number
///   folio import dois.csv --collection dois --id doi --index published:timestamp --index title:string
///   folio import dump.jsonl.gz --collection dump --id _id
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ImportArgs {
    /// The file to import; `-` reads standard input.
    file: String,

    /// The collection to import into (1 to 64 ASCII letters, digits, `_` or `-`).
    #[arg(long, value_name = "NAME")]
    collection: String,

    /// The dotted path of each record's id (unique, never null, a string or an integer);
    /// `@line` numbers the records by their line (their position in a JSON document), which
    /// stays stable only for files that are only ever appended to; `@key` is the member key of
    /// an object of records.
    #[arg(long, value_name = "PATH")]
    id: String,

    /// A path to index, with its type: string, integer, float, boolean, timestamp or
    /// string[]. Repeatable. Without it, paths and types are inferred from the first 10,000
    /// records, and the command says which were indexed and why others were not.
    #[arg(long = "index", value_name = "PATH:TYPE", value_parser = parse_index)]
    index: Vec<IndexedPath>,

    /// The input format; by default told by the file name (`.csv`, `.jsonl`) or the content.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,

    /// Where the records are in a JSON document (dotted path of an array, or of an object
    /// whose members are records), e.g. `--records-path data.items`.
    #[arg(long, value_name = "PATH")]
    records_path: Option<String>,

    /// The table to import from a SQLite database (needed when it has several), e.g.
    /// `--table elements`.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,

    /// A CSV cell that stands for a missing value (repeatable; replaces the defaults NA, N/A,
    /// null and NULL). Empty cells are always missing.
    #[arg(long = "null", value_name = "TOKEN")]
    nulls: Vec<String>,

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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// One JSON object per line.
    Jsonl,
    /// One JSON document: an array or an object of records (see --records-path).
    Json,
    /// A table of a SQLite database (see --table).
    Sqlite,
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
    Ok(IndexedPath::new(path.to_owned(), ty))
}

/// Records read ahead to infer the schema of a new collection.
const SAMPLE: usize = 10_000;

/// Runs `folio import`.
pub(crate) fn run(args: ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // Checked before anything is read: a long file is not read only to be refused.
    folio_engine::schema::validate_collection_name(&args.collection).context("--collection")?;
    // Nothing else runs on this runtime, but the store writes on a blocking thread all the
    // same (`Writer` never blocks its caller's runtime), reading the input there.
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let store = runtime
        .block_on(crate::store::open(&args.data_dir, args.postgres.as_deref(), &[]))?
        .store;
    // What this store adds to the rule above (PostgreSQL's shorter names), before reading too.
    store.check_new_name(&args.collection).context("--collection")?;
    let bar = progress_bar(&args.file)?;
    let (reader, format) = open_input(&args, &bar)?;
    let docs = documents(&args, reader, format)?;
    let existing = runtime.block_on(store.schema_of(&args.collection))?;
    let (schema, mode, docs) = target(&args, format, existing, docs)?;
    let stats = runtime
        .block_on(store.import(&schema, mode, docs, on_duplicate(args.on_duplicate), &|_| {}))
        .map_err(describe)
        .with_context(|| format!("nothing was imported into `{}`", args.collection))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let total = stats.done();
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

/// The input, decompressed, and its format (given, or told by the name or the content).
fn open_input(args: &ImportArgs, bar: &ProgressBar) -> anyhow::Result<(Input, Format)> {
    let raw: Box<dyn Read + Send> = if args.file == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file))?;
        Box::new(bar.wrap_read(file))
    };
    let mut reader = BufReader::with_capacity(1 << 20, raw);
    let start = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", args.file))?;
    if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        bail!(
            "{} is compressed with zstd; decompress it on the way in: zstd -dc {} | folio import - --collection {} --id {}",
            args.file,
            args.file,
            args.collection,
            args.id
        );
    }
    if start.starts_with(&[0x1f, 0x8b]) {
        let unzipped: Box<dyn Read + Send> = Box::new(flate2::read::MultiGzDecoder::new(reader));
        reader = BufReader::with_capacity(1 << 20, unzipped);
    }
    let start = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", args.file))?;
    let name = args.file.trim_end_matches(".gz");
    let format = match args.format {
        Some(FormatArg::Jsonl) => Format::JsonLines,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Sqlite) => Format::Sqlite,
        None if args.records_path.is_some() => Format::Json,
        None => Format::from_name(name).unwrap_or_else(|| Format::sniff(start)),
    };
    Ok((reader, format))
}

/// The input, buffered.
type Input = BufReader<Box<dyn Read + Send>>;

/// The records of the input, numbered (and, with `--id @line`, given their line as id).
fn documents(args: &ImportArgs, reader: Input, format: Format) -> anyhow::Result<Documents> {
    let nulls: Vec<String> = if args.nulls.is_empty() {
        input::NULL_TOKENS.iter().map(|t| (*t).to_owned()).collect()
    } else {
        args.nulls.clone()
    };
    let docs: Documents = match format {
        Format::JsonLines => Box::new(input::json_lines(reader)),
        Format::Json => Box::new(input::json_document(reader, args.records_path.as_deref().unwrap_or(""))),
        Format::Csv => Box::new(input::csv(reader, &nulls)?),
        Format::Sqlite if args.file == "-" => bail!("a SQLite database is read from a file, not from standard input"),
        Format::Sqlite => {
            Box::new(input::sqlite_table(std::path::Path::new(&args.file), args.table.as_deref()).map_err(describe)?)
        }
    };
    if args.id != input::LINE_MEMBER {
        return Ok(docs);
    }
    // `--id @line`: each record numbered by its line (its position in a JSON document).
    Ok(Box::new(docs.map(|doc| {
        doc.map(|(line, mut doc)| {
            if let Some(members) = doc.as_object_mut() {
                members.insert(input::LINE_MEMBER.to_owned(), line.into());
            }
            (line, doc)
        })
    })))
}

/// The collection to import into: the existing one (checked against the arguments), or a new
/// one whose schema comes from `--index` or is inferred from a sample read ahead. Returns the
/// documents to import, the sample put back in front.
fn target(
    args: &ImportArgs,
    format: Format,
    existing: Option<CollectionSchema>,
    mut docs: Documents,
) -> anyhow::Result<(CollectionSchema, ImportMode, Documents)> {
    if let Some(schema) = existing {
        check_compatible(&schema, args)?;
        return Ok((schema, ImportMode::Append, docs));
    }
    // Read ahead: new collections need a sample to infer the id type and, without --index,
    // the indexed paths. An error in the sample ends the import right here.
    let sample: Vec<Numbered> = docs
        .by_ref()
        .take(SAMPLE)
        .collect::<Result<Vec<_>, _>>()
        .map_err(describe)?
        .into_iter()
        .map(Ok)
        .collect();
    check_sample(&sample, args, format)?;
    let sample_docs = sample.iter().filter_map(|d| d.as_ref().ok().map(|(_, doc)| doc));
    let inferred = infer(sample_docs, &args.id);
    let indexed = if args.index.is_empty() {
        // At most a screenful: the first few of each decision, and how many more.
        let shown: Vec<String> = inferred
            .indexed
            .iter()
            .map(|p| format!("{} ({})", p.path, p.ty))
            .collect();
        say("indexed", &shown);
        let skipped: Vec<String> = inferred
            .skipped
            .iter()
            .map(|(path, why)| format!("{path}: {why}"))
            .collect();
        say("not indexed", &skipped);
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
    Ok((schema, ImportMode::Create, Box::new(sample.into_iter().chain(docs))))
}

fn on_duplicate(arg: DuplicateArg) -> OnDuplicate {
    match arg {
        DuplicateArg::Error => OnDuplicate::Error,
        DuplicateArg::Replace => OnDuplicate::Replace,
        DuplicateArg::Skip => OnDuplicate::Skip,
    }
}

/// The most lines of one kind of inference decision shown.
const SHOWN: usize = 12;

/// Prints up to [`SHOWN`] decisions of one kind, then how many more there were.
fn say(what: &str, items: &[String]) {
    for item in items.iter().take(SHOWN) {
        eprintln!("{what} {item}");
    }
    if items.len() > SHOWN {
        eprintln!("{what}: {} more", items.len() - SHOWN);
    }
}

/// Checks the first records of a new collection: there are some, and they have the id.
fn check_sample(sample: &[Numbered], args: &ImportArgs, format: Format) -> anyhow::Result<()> {
    let Some(Ok((_, first))) = sample.first() else {
        bail!(
            "{} holds no records; nothing was imported and no collection was created",
            args.file
        );
    };
    if folio_engine::value::lookup(first, &args.id).is_some() {
        return Ok(());
    }
    let members: Vec<String> = first
        .as_object()
        .map(|o| o.keys().map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    let kind = match format {
        Format::Csv => "the header's columns are",
        Format::Sqlite => "the table's columns are",
        _ => "the first record's members are",
    };
    bail!(
        "the first record has no id at `{}`; {kind} {}; give one of them with --id, or number the records with --id @line",
        args.id,
        members.join(", ")
    )
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
