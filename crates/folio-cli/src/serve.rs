//! `folio serve`: open the store, build the demo if asked, serve until a signal.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use folio_http::{AccessHandle, AccessPolicy, AppState, HttpConfig};
use folio_store::{CollectionInfo, SqliteFileStore, Store, WritableStore, Writer, demo};
use indicatif::ProgressBar;

use crate::access;

/// Serve collections over HTTP in every pagination style.
///
/// Examples:
///   folio serve --demo                       # 100,000 demo entries on 127.0.0.1:8080
///   folio serve --demo --demo-size 1000000 --addr 127.0.0.1:0
///   FOLIO_SECRET=$(openssl rand -hex 32) folio serve --data-dir /srv/folio
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ServeArgs {
    /// Create (on first run) and serve the demo collection `entries`, in the embedded store
    /// or, with --postgres, in PostgreSQL.
    #[arg(long, conflicts_with = "sqlite")]
    demo: bool,

    /// Serve the collections kept in PostgreSQL (postgres://user:password@host:port/database)
    /// instead of the embedded store. Any number of servers may share one database: give them
    /// the same FOLIO_SECRET so that each accepts the others' cursors.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "sqlite",
        env = "FOLIO_POSTGRES",
        hide_env_values = true
    )]
    postgres: Option<String>,

    /// A streaming replica of the --postgres database to read from (repeat for several).
    /// Pages, records and generations are read from the replicas in turn; writes and the
    /// catalog from the primary. A walk's page is never read from a replica that has not
    /// replayed the moment the walk reads (it goes to another, or to the primary), a replica
    /// that fails is passed over at once and checked again every half second, and
    /// /health shows each one. Needs snapshots (a --snapshot-retention above 0).
    #[arg(long = "postgres-replica", value_name = "URL", requires = "postgres")]
    postgres_replicas: Vec<String>,

    /// Serve the tables and views of an existing SQLite database, read-only, instead of the
    /// embedded store. Each becomes a collection; columns that lead an index can be sorted
    /// and filtered on.
    #[arg(long, value_name = "FILE")]
    sqlite: Option<PathBuf>,

    /// Records in the demo collection. A stored demo of another size is rebuilt.
    #[arg(long, default_value_t = 100_000, value_name = "N", requires = "demo")]
    demo_size: u64,

    /// Where the embedded store keeps its files.
    #[arg(long, default_value = "./folio-data", value_name = "DIR")]
    data_dir: PathBuf,

    /// Listen address: an IP address or a host name (`localhost:8080`) and a port. Port 0
    /// picks a free port; the first line on stdout says which.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT", value_parser = parse_addr)]
    addr: SocketAddr,

    /// File holding the cursor signing secret (at least 16 bytes). Without it, the
    /// FOLIO_SECRET environment variable is used; without that, a secret is generated on first
    /// start and kept in the data directory. Servers that share a secret accept each other's
    /// cursors.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,

    /// The access file: which collections are private and the tokens that read them (written
    /// by `folio token` and `folio private`). Without it, DATA_DIR/access.json if it exists;
    /// without that, every collection is public. Read at start and again on SIGHUP.
    #[arg(long, value_name = "FILE")]
    access: Option<PathBuf>,

    /// Page size of the `jsonapi` style when a request gives no page[size].
    #[arg(long, default_value_t = 25, value_name = "N")]
    jsonapi_default_page_size: u64,

    /// Largest page[size] the `jsonapi` style accepts (larger: 422).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    jsonapi_max_page_size: u64,

    /// Largest `limit` the `hal` style accepts (larger: 422).
    #[arg(long, default_value_t = 100, value_name = "N")]
    hal_max_limit: u64,

    /// Largest `page_size` the `query` style accepts (larger: 422).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    query_max_page_size: u64,

    /// Largest `per_page` the `simple` style accepts (larger: 422).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    simple_max_per_page: u64,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = folio_http::DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    max_body_bytes: usize,

    /// The longest a request may take, in seconds, waiting for a slot included (longer: 503
    /// with `Retry-After: 1`).
    #[arg(long, default_value_t = folio_http::DEFAULT_REQUEST_TIMEOUT.as_secs_f64(), value_name = "SECONDS",
          value_parser = parse_seconds)]
    request_timeout: f64,

    /// The longest a client may take to send a whole request head, in seconds, and the
    /// longest a keep-alive connection stays idle; then the connection is closed (so that
    /// clients that never finish a request cannot hold connections).
    #[arg(long, default_value_t = folio_http::DEFAULT_HEADER_READ_TIMEOUT.as_secs_f64(), value_name = "SECONDS",
          value_parser = parse_seconds)]
    header_read_timeout: f64,

    /// Requests answered at once; more wait for a slot, within --request-timeout.
    #[arg(long, default_value_t = folio_http::DEFAULT_MAX_CONCURRENT_REQUESTS as u32, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent_requests: u32,

    /// Downloads (`GET /export/{collection}.ndjson|.csv`) streamed at once; more get a 503
    /// with `Retry-After`. A download holds no request slot while it streams.
    #[arg(long, default_value_t = folio_http::DEFAULT_MAX_CONCURRENT_EXPORTS as u32, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent_exports: u32,

    /// Where capped counts stop: past it, totals say "at least N" (`page[total]=capped`, and
    /// filters with or/not/none, whose exact count may scan the whole collection).
    #[arg(long, default_value_t = folio_http::DEFAULT_COUNT_CAP, value_name = "N")]
    count_cap: u64,

    /// How deep page numbers and offsets may reach as plain offsets (offset + size <= N);
    /// `unlimited` removes the limit. Deeper page numbers are served through a page map of
    /// the result (the key of every 1,000th record), which each server builds in the
    /// background the first time one is asked for: until it is ready, such a page is a 422
    /// that says to retry or to use cursors. Cursors reach any depth at the same cost.
    #[arg(long, default_value = "10000", value_name = "N|unlimited", value_parser = parse_max_offset)]
    max_offset: MaxOffset,

    /// Answer page numbers past --max-offset with a 422 that names the style's cursors,
    /// instead of building page maps (and refuse partitions, which are cut at them).
    #[arg(long)]
    no_page_maps: bool,

    /// Records between two keys of a page map: a deep page number skips fewer than this
    /// many, and partitions (`/jsonapi/{collection}/-/partitions`) are cut at multiples of
    /// it. A map of R records holds R/N keys, at most 100,000 (larger results are not mapped).
    #[arg(long, default_value_t = folio_http::DEFAULT_PAGE_MAP_EVERY, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    page_map_every: u64,

    /// How long the versions that writes supersede are kept (`90s`, `30m`, `1h`, `2d`; a bare
    /// number is seconds). A cursor walk reads the collection as it was at its first page,
    /// whatever is imported or deleted meanwhile, on any server of the store, for at least
    /// this long after a write; past it, its cursors are a 410 that links to a fresh first
    /// page. `0` turns snapshots off: cursors read the present. Versions are purged by the
    /// server in the background (`--sqlite` files keep none: their walks read the present).
    #[arg(long, default_value = "1h", value_name = "DURATION", value_parser = parse_duration)]
    snapshot_retention: std::time::Duration,

    /// Bytes of rendered pages and records kept to answer the same request again, without
    /// reading the store, while the collection is unchanged (each request still reads the
    /// collection's generation). 0 keeps none; ETags and 304s stay either way.
    #[arg(long, default_value_t = folio_http::cache::DEFAULT_PAGE_CACHE_BYTES, value_name = "BYTES")]
    page_cache_bytes: usize,

    /// The Cache-Control header of public collections' lists and records. The default,
    /// `no-cache`, lets browsers and proxies keep a page and revalidate it with its ETag (a
    /// 304 when the collection is unchanged); behind a CDN that may serve pages up to a
    /// minute old, say `public, max-age=60`. Private collections always get
    /// `private, no-cache`.
    #[arg(long, default_value = folio_http::cache::DEFAULT_CACHE_CONTROL, value_name = "VALUE")]
    cache_control: String,
}

#[derive(Debug, Clone, Copy)]
struct MaxOffset(Option<u64>);

/// A duration as `90s`, `250ms`, `30m`, `1h` or `2d`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let wrong = || format!("expected a duration such as `90s`, `30m`, `1h` or `0`, got `{text}`");
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| wrong())?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        _ => return Err(wrong()),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| wrong())
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.001..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!("expected seconds between 0.001 and 86400, got `{text}`")),
    }
}

fn parse_max_offset(text: &str) -> Result<MaxOffset, String> {
    if text == "unlimited" {
        return Ok(MaxOffset(None));
    }
    text.parse()
        .map(|n| MaxOffset(Some(n)))
        .map_err(|_| format!("expected a whole number or `unlimited`, got `{text}`"))
}

/// Runs `folio serve`.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    if args.jsonapi_default_page_size > args.jsonapi_max_page_size {
        anyhow::bail!(
            "--jsonapi-default-page-size {} is above --jsonapi-max-page-size {}",
            args.jsonapi_default_page_size,
            args.jsonapi_max_page_size
        );
    }
    // Read before anything is built, so that a broken access file stops the server at once.
    let access = access::Location::new(args.access.as_deref(), &args.data_dir);
    let policy = access.policy().context("cannot load the access file")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let (store, writer) = runtime.block_on(open_store(&args))?;
    // The secret is kept in the data directory even when serving another database, so that
    // nothing is ever written to the user's file.
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create the data directory {}", args.data_dir.display()))?;
    let keys = crate::secret::load(
        args.secret_file.as_deref(),
        std::env::var("FOLIO_SECRET").ok(),
        std::env::var("FOLIO_SECRET_VERIFY").ok(),
        &args.data_dir,
    )
    .context("cannot load the cursor signing secret")?;
    let config = http_config(&args);
    runtime.block_on(async {
        let collections = store.collections().await.context("cannot read the collections")?;
        describe_collections(&collections);
        describe_access(&access, policy.as_ref());
        if let Some(policy) = &policy {
            for name in policy.private() {
                if !collections.iter().any(|c| c.schema.name == name) {
                    tracing::warn!(collection = %name, "private collection does not exist (yet)");
                }
            }
        }
        if keys.len() > 1 {
            tracing::info!(
                keys = keys.len(),
                "cursors signed with the newest key; older keys still verify"
            );
        }
        let state = AppState::with_keys(store, keys.codec(), config)
            .with_access(policy.unwrap_or_default())
            .with_cache_control(&args.cache_control)
            .map_err(|_| {
                anyhow::anyhow!(
                    "--cache-control {:?} cannot be a header's value: give visible ASCII, such as `public, max-age=60`",
                    args.cache_control
                )
            })?;
        // Listening for SIGHUP before the address is printed: from then on a SIGHUP reloads
        // the access file and the secret file instead of ending the process.
        tokio::spawn(reload_on_hangup(access, keys.file, state.clone()));
        if let Some(writer) = writer {
            tokio::spawn(purge_versions(writer, args.snapshot_retention));
        }
        // Listening for SIGINT and SIGTERM before the address is printed, too.
        let shutdown = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr().context("cannot read the listening address")?;
        // The first line on stdout is a contract: scripts and tests read the address from it.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{addr}")?;
        stdout.flush()?;
        drop(stdout);
        suggest_a_first_request(addr, &collections, &state);
        let app = folio_http::router(state);
        let header_read_timeout = std::time::Duration::from_secs_f64(args.header_read_timeout);
        folio_http::serve(listener, app, header_read_timeout, shutdown)
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Removes the versions writes superseded once they are older than `retention`, now and
/// then, for as long as the server runs.
async fn purge_versions(writer: Arc<dyn WritableStore>, retention: std::time::Duration) {
    let every = (retention / 4).clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(60));
    loop {
        match writer.as_writer().purge_versions(retention).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed versions past the snapshot retention"),
            Err(e) => tracing::warn!(error = %e, "cannot remove versions past the snapshot retention"),
        }
        tokio::time::sleep(every).await;
    }
}

/// A store opened to serve, and its write side when it has one (to purge versions).
type Served = (Arc<dyn Store>, Option<Arc<dyn WritableStore>>);

/// Opens the store to serve: a SQLite file as it is, or the store `import` writes to (the
/// embedded one or PostgreSQL), with the demo built first when asked for.
async fn open_store(args: &ServeArgs) -> anyhow::Result<Served> {
    if let Some(file) = &args.sqlite {
        let store = SqliteFileStore::open(file)
            .with_context(|| format!("cannot serve the SQLite database {}", file.display()))?;
        for (name, why) in store.skipped() {
            tracing::warn!(table = %name, reason = %why, "not served");
        }
        return Ok((Arc::new(store), None));
    }
    if !args.postgres_replicas.is_empty() && args.snapshot_retention.is_zero() {
        anyhow::bail!(
            "--postgres-replica needs snapshots, and --snapshot-retention is 0: a walk's cursors carry the \
             moment it reads, which is how a replica that has not replayed it yet is passed over; \
             give a retention above 0 (the default is 1h)"
        );
    }
    let opened = crate::store::open(&args.data_dir, args.postgres.as_deref(), &args.postgres_replicas).await?;
    if let Some(database) = &opened.postgres {
        tracing::info!(%database, "connected to PostgreSQL");
    }
    for replica in opened.store.replicas() {
        tracing::info!(
            replica = %replica.target,
            in_rotation = replica.in_rotation,
            behind_bytes = replica.behind_bytes,
            "read replica"
        );
    }
    if args.demo {
        // Built before the server answers anything; the store's writes run on a blocking
        // thread all the same (see `folio_store::Writer`), and the progress comes back here.
        build_demo(opened.store.as_writer(), args.demo_size).await?;
    }
    if opened.postgres.is_some() && args.secret_file.is_none() && std::env::var_os("FOLIO_SECRET").is_none() {
        tracing::warn!(
            "no FOLIO_SECRET or --secret-file: this server's cursors will not be accepted by other servers of the same database"
        );
    }
    let writer = Arc::clone(&opened.store);
    Ok((opened.store.into_store(), Some(writer)))
}

/// The HTTP limits the arguments give.
fn http_config(args: &ServeArgs) -> HttpConfig {
    let mut config = HttpConfig::with_max_offset(args.max_offset.0);
    config.jsonapi.default_size = args.jsonapi_default_page_size;
    config.jsonapi.max_size = args.jsonapi_max_page_size;
    config.count_cap = args.count_cap;
    config.max_body_bytes = args.max_body_bytes;
    config.request_timeout = std::time::Duration::from_secs_f64(args.request_timeout);
    config.max_concurrent_requests = args.max_concurrent_requests as usize;
    config.max_concurrent_exports = args.max_concurrent_exports as usize;
    config.page_maps = !args.no_page_maps;
    config.page_map_every = args.page_map_every;
    config.snapshot_retention = args.snapshot_retention;
    config.page_cache_bytes = args.page_cache_bytes;
    for (limits, max) in [
        (&mut config.hal, args.hal_max_limit),
        (&mut config.query, args.query_max_page_size),
        (&mut config.simple, args.simple_max_per_page),
    ] {
        limits.max_size = max;
        limits.default_size = limits.default_size.min(max);
    }
    config
}

/// Logs every collection served: its sortable paths, in one line the paths no index serves
/// (filtered by scanning, not sortable) with the first few statements that would index them,
/// and in one line the columns it cannot serve as paths at all.
fn describe_collections(collections: &[CollectionInfo]) {
    if collections.is_empty() {
        tracing::warn!("no collections to serve; try `folio serve --demo` or `folio import`");
    }
    for c in collections {
        let schema = &c.schema;
        let (indexed, scanned): (Vec<_>, Vec<_>) = schema.indexed.iter().partition(|p| p.unindexed.is_none());
        let list = |paths: &[&folio_engine::IndexedPath]| {
            paths
                .iter()
                .map(|p| format!("{} ({})", p.path, p.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        tracing::info!(
            collection = %schema.name,
            records = c.count,
            id = %schema.id_path,
            indexed = %list(&indexed),
            "serving"
        );
        if !scanned.is_empty() {
            // The statements the advice quotes (`CREATE INDEX ...` would make it sortable).
            let statements: Vec<&str> = scanned
                .iter()
                .filter_map(|p| p.unindexed.as_deref()?.split('`').nth(1))
                .filter(|s| s.starts_with("CREATE INDEX"))
                .collect();
            let shown = statements.len().min(SHOWN_ADVICE);
            let more = match statements.len() - shown {
                0 => String::new(),
                n => format!(" (and {n} more of the kind)"),
            };
            let advice = if statements.is_empty() {
                String::new()
            } else {
                format!("; to sort on them: {}{more}", statements[..shown].join("; "))
            };
            tracing::info!(
                collection = %schema.name,
                paths = %list(&scanned),
                "{} paths have no index: filters on them scan the table, and they cannot be sorted{advice}",
                scanned.len(),
            );
        }
        if !c.unindexed.is_empty() {
            let why: Vec<String> = c
                .unindexed
                .iter()
                .map(|(column, why)| format!("{column}: {why}"))
                .collect();
            tracing::info!(collection = %schema.name, "{} columns are served in records but not as paths ({})", why.len(), why.join("; "));
        }
    }
}

/// How many `CREATE INDEX` statements the start-up log shows per collection.
const SHOWN_ADVICE: usize = 3;

/// Logs a request to try on a collection anyone may read; private ones need a token, and
/// there may be none.
fn suggest_a_first_request(addr: SocketAddr, collections: &[CollectionInfo], state: &AppState) {
    let public = state.access().current();
    match collections.iter().find(|c| !public.is_private(&c.schema.name)) {
        Some(first) => {
            // Names are URL-safe (ASCII letters, digits, `_`, `-`).
            let name = &first.schema.name;
            tracing::info!(%addr, "try: curl 'http://{addr}/jsonapi/{name}?page%5Bcursor%5D=1'");
        }
        None if collections.is_empty() => {
            tracing::info!(%addr, "no collection is served yet: `folio import FILE --collection NAME` adds one")
        }
        None => tracing::info!(%addr, "every collection is private: requests need `Authorization: Bearer <token>`"),
    }
}

/// Logs what the access policy makes private, naming tokens but nothing of their hashes.
fn describe_access(access: &access::Location, policy: Option<&AccessPolicy>) {
    let file = access.path.display();
    match policy {
        None => tracing::info!("no access file at {file}: every collection is public"),
        Some(policy) => {
            let private: Vec<&str> = policy.private().collect();
            let tokens: Vec<&str> = policy.tokens().iter().map(|t| t.name.as_str()).collect();
            tracing::info!(
                private = %private.join(", "),
                tokens = %tokens.join(", "),
                "access file {file}"
            );
        }
    }
}

/// Reads the access file, and the secret file the keys came from (if they did), again on
/// every SIGHUP. A file that cannot be read or is not valid leaves what is in force as it was,
/// and says why. The signal handler is installed when this is called, not when the future
/// first runs.
fn reload_on_hangup(access: access::Location, secret: Option<PathBuf>, state: AppState) -> impl Future<Output = ()> {
    #[cfg(unix)]
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    async move {
        #[cfg(unix)]
        reload_loop(hangups, &access, secret.as_deref(), &state).await;
        #[cfg(not(unix))]
        let _ = (access, secret, state);
    }
}

#[cfg(unix)]
async fn reload_loop(
    hangups: std::io::Result<tokio::signal::unix::Signal>,
    access: &access::Location,
    secret: Option<&std::path::Path>,
    state: &AppState,
) {
    let mut hangups = match hangups {
        Ok(signal) => signal,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP: the access and secret files are read only at start");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        reload_access(access, state.access());
        if let Some(secret) = secret {
            match crate::secret::read_file(secret) {
                Ok(keys) => {
                    state.codec_handle().replace(keys.codec());
                    tracing::info!(keys = keys.len(), "reloaded the cursor signing keys");
                }
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "cannot reload the cursor signing keys; the previous ones stay in force"
                ),
            }
        }
    }
}

/// Reads the access file again into `handle`, or says why the policy in force stays.
fn reload_access(access: &access::Location, handle: &AccessHandle) {
    match access.policy() {
        // A default file that disappeared would make every collection public: a deleted
        // file is more likely an accident than a decision, so it takes a restart.
        Ok(None) if handle.current().private().next().is_some() => tracing::error!(
            "the access file {} is gone; the previous policy stays in force (restart to serve every collection publicly)",
            access.path.display()
        ),
        Ok(policy) => {
            describe_access(access, policy.as_ref());
            handle.replace(policy.unwrap_or_default());
            tracing::info!("reloaded the access file");
        }
        Err(e) => tracing::error!(
            error = format!("{e:#}"),
            "cannot reload the access file; the previous policy stays in force"
        ),
    }
}

/// Builds the demo with a progress bar on a terminal, saying how long it took.
async fn build_demo(store: &dyn Writer, size: u64) -> anyhow::Result<()> {
    let bar = ProgressBar::new(size).with_message("building the demo collection `entries`");
    bar.set_style(crate::progress::style(
        "{msg} {wide_bar} {pos}/{len} ({rate}, {eta} left)",
    ));
    let started = Instant::now();
    let built = demo::ensure(store, size, &|n| bar.set_position(n))
        .await
        .context("cannot build the demo dataset")?;
    bar.finish_and_clear();
    if built {
        tracing::info!(
            records = size,
            seconds = started.elapsed().as_secs_f32(),
            "built the demo collection"
        );
    }
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled: the server calls it before it prints
/// its address, so a signal sent as soon as the address is known stops it cleanly instead of
/// killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for SIGINT and SIGTERM");
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// Resolves `HOST:PORT`, preferring an IPv4 address when the name has both (`localhost`).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    let resolved: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| {
            format!("`{text}` is not HOST:PORT with a host that resolves ({e}); e.g. 127.0.0.1:8080 or localhost:8080")
        })?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or(resolved.first())
        .copied()
        .ok_or_else(|| format!("`{text}` resolves to no address"))
}
