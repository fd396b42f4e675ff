//! A real server on 127.0.0.1:0 over a small demo store, shared by the tests of this binary.

use std::sync::{Arc, OnceLock};

use folio_http::{AppState, HttpConfig};
use folio_store::{SqliteStore, Store, demo};

/// Records in the demo served to the tests.
pub(crate) const DEMO_SIZE: u64 = 1500;

/// Where the test server's capped counts stop.
pub(crate) const COUNT_CAP: u64 = 100;

/// The offset window of the test server: small, so that crossing it is cheap to test.
pub(crate) const MAX_OFFSET: u64 = 600;

pub(crate) struct Server {
    pub(crate) base: String,
    /// What the store needs kept while it is served: its directory, a PostgreSQL schema.
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

impl Server {
    /// A server at `base` whose store needs `keep` kept.
    pub(crate) fn new(base: String, keep: impl std::any::Any + Send + Sync) -> Server {
        Server {
            base,
            _keep: Box::new(keep),
        }
    }
}

/// The shared server, started on first use.
pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        demo::build(&store, DEMO_SIZE, &|_| {}).unwrap();
        let mut config = HttpConfig::with_max_offset(Some(MAX_OFFSET));
        config.count_cap = COUNT_CAP;
        // The offset window as such is what these tests check (`maps.rs` tests page maps).
        config.page_maps = false;
        start(store, dir, config)
    })
}

/// The cursor signing secret of the test servers.
pub(crate) const SECRET: &[u8] = b"test secret, at least 16 bytes";

/// Serves `store` (kept in `dir`) with `config` on 127.0.0.1:0.
pub(crate) fn start(store: SqliteStore, dir: tempfile::TempDir, config: HttpConfig) -> Server {
    let store: Arc<dyn Store> = Arc::new(store);
    Server::new(spawn(AppState::new(store, SECRET, config)), dir)
}

/// A server of a throwaway PostgreSQL schema, when a server is reachable (required with
/// `FOLIO_REQUIRE_POSTGRES=1`): `build` fills the store at the schema's URL and makes the
/// state, on the server's own runtime.
pub(crate) fn postgres_server<F, Fut>(build: F) -> Option<Server>
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = AppState>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = folio_testkit::PgSchema::create(&rt)?;
    let url = pg.url.clone();
    let base = spawn_built(move || build(url));
    Some(Server::new(base, pg))
}

/// Serves the PostgreSQL database at `url` with the demo's first `size` entries in it (built
/// if missing), with `config`; returns the base URL.
pub(crate) fn postgres_demo(url: &str, size: u64, config: HttpConfig) -> String {
    let url = url.to_owned();
    spawn_built(move || async move {
        let store = folio_store::PostgresStore::connect(&url).await.unwrap();
        demo::ensure(&store, size, &|_| {}).await.unwrap();
        AppState::new(Arc::new(store), SECRET, config)
    })
}

/// Serves `state` on 127.0.0.1:0 until the test binary ends, on a runtime of its own (a
/// test's runtime ends with the test, and the server must outlive it); returns the base URL.
pub(crate) fn spawn(state: AppState) -> String {
    spawn_built(move || async move { state })
}

/// Serves the state that `build` makes on the server's own runtime (a PostgreSQL store's
/// connections belong to the runtime that opened them), as [`spawn`] does.
pub(crate) fn spawn_built<F, Fut>(build: F) -> String
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = AppState>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let state = build().await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            folio_http::serve(
                listener,
                folio_http::router(state),
                folio_http::DEFAULT_HEADER_READ_TIMEOUT,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// A response: status, headers and JSON body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: serde_json::Value,
}

/// POSTs a body to an absolute path of the shared server.
pub(crate) async fn post(path: &str, body: &str) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server().base))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    reply(path, response).await
}

/// GETs an absolute-path URL (as links give them) from the shared server.
pub(crate) async fn get(path: &str) -> Reply {
    // A client per request: a client's pooled connections belong to the runtime of the test
    // that opened them and die with it.
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server().base))
        .send()
        .await
        .unwrap();
    reply(path, response).await
}

async fn reply(path: &str, response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
    Reply { status, headers, body }
}
