//! `folio harvest` against real third-party paginated servers: Django REST framework,
//! fastapi-pagination, Datasette, django-ninja and flask-smorest (the Python programs in
//! `tests/peers/`), and json-server 0.17.4 and 1.0.0-beta.3 (npm, given a JSON file of the same
//! records), each endpoint given to the harvester by its first page's URL alone, with no flag
//! that says how it pages.
//!
//! `scripts/peers.sh` installs them in the repository's `target/`: the Python ones in a venv at
//! `target/peers-venv`, json-server with `npm ci` at `target/peers-node` (run by the `node` on
//! `PATH`). Without them each test says `peer framework tests SKIPPED` and passes, unless
//! `FOLIO_REQUIRE_PEERS=1` (as in `.ci/run`), which makes that a failure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tempfile::TempDir;

/// Records each server holds: several pages of 10 or 25, and a short last page.
const RECORDS: u64 = 137;

/// The longest a harvest may take before the test kills it and fails.
const HARVEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest a json-server may take to answer on its port before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A peer server process, killed when dropped; its temporary files (SQLite database or JSON
/// file, stderr) live in `dir`.
struct Peer {
    child: Child,
    base: String,
    dir: TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// What the server wrote on stderr so far (tracebacks of its errors).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// The repository's own `target/`, where `scripts/peers.sh` installs the peers whatever
/// `CARGO_TARGET_DIR` is.
pub(crate) fn peers_target() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    root.join("target")
}

/// `None` after saying loudly that the peer tests are skipped because `what` is missing, or a
/// panic when they are required (`FOLIO_REQUIRE_PEERS=1`).
pub(crate) fn skip<T>(what: &str) -> Option<T> {
    if std::env::var("FOLIO_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "the peer framework tests are required (FOLIO_REQUIRE_PEERS=1) but {what} is missing: run scripts/peers.sh"
        );
    }
    // Past the test harness's capture, so that a skip is never silent.
    let _ = writeln!(
        std::io::stderr(),
        "\npeer framework tests SKIPPED ({what} is missing): run scripts/peers.sh\n"
    );
    None
}

/// The Python of `target/peers-venv`, or `None` (after saying so) when it is missing and the
/// peer tests are not required.
fn python() -> Option<PathBuf> {
    let python = peers_target().join("peers-venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    skip(&python.display().to_string())
}

/// The script (`bin`) that `node` runs for the npm package installed at
/// `target/peers-node/node_modules/PACKAGE`, or `None` (after saying so) when Node.js or the
/// package is missing and the peer tests are not required.
fn node_bin(package: &str) -> Option<PathBuf> {
    if !Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
    {
        return skip("Node.js (`node` on PATH)");
    }
    let dir = peers_target().join("peers-node/node_modules").join(package);
    let Ok(manifest) = std::fs::read_to_string(dir.join("package.json")) else {
        return skip(&dir.display().to_string());
    };
    let manifest: Json = serde_json::from_str(&manifest).unwrap();
    // `"bin": "path"` or `"bin": {"name": "path"}`.
    let bin = match &manifest["bin"] {
        Json::Object(bins) => bins.values().next(),
        bin => Some(bin),
    }
    .and_then(Json::as_str)
    .unwrap_or_else(|| panic!("{}: no `bin` in its package.json", dir.display()));
    Some(dir.join(bin))
}

/// Starts `python tests/peers/FILE --records RECORDS` and reads the address it prints first.
fn start(python: &Path, file: &str) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers").join(file);
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(python)
        .arg(&script)
        .args(["--records", &RECORDS.to_string()])
        .env("TMPDIR", dir.path()) // its database goes here, removed with `dir`
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", python.display()));
    let mut first = String::new();
    let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut first);
    let mut peer = Peer {
        child,
        base: String::new(),
        dir,
    };
    match first.trim().strip_prefix("listening on ") {
        Some(base) => peer.base = base.to_owned(),
        None => panic!("{file}: first line {first:?} ({read:?}); its stderr:\n{}", peer.log()),
    }
    peer
}

/// Starts json-server (`node BIN --host 127.0.0.1 --port PORT db.json`) on a free port, `db.json`
/// holding `{"records": [...]}` with the records of `tests/peers/common.py`, and waits until it
/// answers on that port.
fn start_json_server(node_bin: &Path) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Json> = (1..=RECORDS)
        .map(|i| {
            // `i / 4` as in common.py: a float, also for whole numbers (JSON `1.0`).
            let weight = if i % 5 == 0 {
                Json::Null
            } else {
                (i as f64 / 4.0).into()
            };
            serde_json::json!({"id": i, "name": format!("record {i}"), "score": i % 7, "weight": weight})
        })
        .collect();
    let db = dir.path().join("db.json");
    std::fs::write(
        &db,
        serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap(),
    )
    .unwrap();
    // json-server takes no port 0: a port that was free a moment ago.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let child = Command::new("node")
        .arg(node_bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&db)
        .current_dir(dir.path()) // json-server 1.0 serves ./public when it exists
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("node {} starts: {e}", node_bin.display()));
    let mut peer = Peer {
        child,
        base: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let started = Instant::now();
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if let Some(status) = peer.child.try_wait().unwrap() {
            panic!(
                "node {} exited ({status}) before listening; its output:\n{}",
                node_bin.display(),
                peer.log()
            );
        }
        if started.elapsed() > START_TIMEOUT {
            panic!(
                "node {} did not listen on port {port} within {START_TIMEOUT:?}; its output:\n{}",
                node_bin.display(),
                peer.log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    peer
}

/// How a server writes the `id` of its records.
#[derive(Clone, Copy, Debug)]
enum Ids {
    /// A JSON integer: `1`.
    Integers,
    /// A string of the integer's digits: `"1"` (json-server 1.0 turns every numeric id of its
    /// file into one).
    Strings,
}

/// Runs `harvest_and_check` on `path` of the Python server that `tests/peers/FILE` starts.
fn harvests_every_record(file: &str, path: &str) {
    let Some(python) = python() else { return };
    harvest_and_check(&start(&python, file), path, Ids::Integers);
}

/// Runs `harvest_and_check` on `path` of the json-server installed as the npm package `package`.
fn json_server_harvests_every_record(package: &str, path: &str, ids: Ids) {
    let Some(bin) = node_bin(package) else { return };
    harvest_and_check(&start_json_server(&bin), path, ids);
}

/// Runs `folio harvest URL --quiet --out FILE` (URL is `path` on `peer`) and asserts that it
/// succeeds and writes exactly the records with ids 1..=RECORDS (written as `ids` says), each
/// once, as JSON objects.
fn harvest_and_check(peer: &Peer, path: &str, ids: Ids) {
    let url = format!("{}{path}", peer.base);
    let out = peer.dir.path().join("records.jsonl");
    let stderr = peer.dir.path().join("harvest.stderr");
    let mut harvest = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["harvest", &url, "--quiet", "--out"])
        .arg(&out)
        .env_remove("FOLIO_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = harvest.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > HARVEST_TIMEOUT {
            let _ = harvest.kill();
            let _ = harvest.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let context = || {
        let head: Vec<&str> = text.lines().take(3).collect();
        format!(
            "folio harvest {url}\n--- its stderr:\n{}\n--- its first lines:\n{}\n--- the server's stderr:\n{}",
            std::fs::read_to_string(&stderr).unwrap_or_default(),
            head.join("\n"),
            peer.log()
        )
    };
    let Some(status) = status else {
        panic!("the harvest did not end within {HARVEST_TIMEOUT:?}\n{}", context())
    };
    assert!(status.success(), "exit status {status}\n{}", context());
    let said = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        said.starts_with("detected: ") && !said.starts_with("detected: no next page"),
        "the first line on stderr says what was detected\n{}",
        context()
    );

    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as u64, RECORDS, "one line per record\n{}", context());
    let mut seen = BTreeMap::<u64, usize>::new();
    for (n, line) in lines.iter().enumerate() {
        let record: Json =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}: {line}\n{}", n + 1, context()));
        let id = record
            .as_object()
            .and_then(|o| o.get("id"))
            .and_then(|id| match ids {
                Ids::Integers => id.as_u64(),
                Ids::Strings => id.as_str().and_then(|id| id.parse().ok()),
            })
            .unwrap_or_else(|| {
                panic!(
                    "line {}: not an object with an `id` of {ids:?}: {line}\n{}",
                    n + 1,
                    context()
                )
            });
        *seen.entry(id).or_default() += 1;
    }
    let duplicates: Vec<_> = seen.iter().filter(|&(_, &count)| count > 1).map(|(id, _)| id).collect();
    let missing: Vec<_> = (1..=RECORDS).filter(|id| !seen.contains_key(id)).collect();
    let unexpected: Vec<_> = seen.keys().filter(|&&id| !(1..=RECORDS).contains(&id)).collect();
    assert!(
        duplicates.is_empty() && missing.is_empty() && unexpected.is_empty(),
        "ids: duplicated {duplicates:?}, missing {missing:?}, unexpected {unexpected:?}\n{}",
        context()
    );
}

/// `PageNumberPagination`: `{count, next, previous, results}`, `next` a full URL (`?page=2`).
#[test]
fn drf_page_number_pagination() {
    harvests_every_record("drf_app.py", "/pages/");
}

/// `LimitOffsetPagination`: `{count, next, previous, results}`, `next` a full URL
/// (`?limit=25&offset=25`).
#[test]
fn drf_limit_offset_pagination() {
    harvests_every_record("drf_app.py", "/limitoffset/");
}

/// `CursorPagination` ordered by a column with many ties: `{next, previous, results}`, `next`
/// a full URL with an opaque `?cursor=`.
#[test]
fn drf_cursor_pagination() {
    harvests_every_record("drf_app.py", "/cursor/");
}

/// `Page`: `{items, total, page, size, pages}` and no link: the next page is `?page=N+1`.
#[test]
fn fastapi_pagination_page() {
    harvests_every_record("fastapi_app.py", "/page");
}

/// `LimitOffsetPage`: `{items, total, limit, offset}` and no link: the next page is
/// `?offset=OFFSET+LIMIT`.
#[test]
fn fastapi_pagination_limit_offset_page() {
    harvests_every_record("fastapi_app.py", "/limitoffset");
}

/// `CursorPage`: `{items, total, current_page, current_page_backwards, previous_page,
/// next_page}`, `next_page` a token for `?cursor=`.
#[test]
fn fastapi_pagination_cursor_page() {
    harvests_every_record("fastapi_app.py", "/cursor");
}

/// Datasette's default JSON: `rows` as arrays beside `columns`, `next_url` and a `Link` header
/// (`?_next=`); the records come out as objects.
#[test]
fn datasette_default_json() {
    harvests_every_record("datasette_app.py", "/peers/records.json");
}

/// Datasette's `?_shape=array`: a bare array of objects, the next page only in the `Link`
/// header.
#[test]
fn datasette_array_shape() {
    harvests_every_record("datasette_app.py", "/peers/records.json?_shape=array");
}

/// django-ninja's `LimitOffsetPagination`: `{items, count}` and no link, limit or offset: the
/// next page is `?offset=` plus the page's length (its default `limit`, 25).
#[test]
fn ninja_limit_offset_pagination() {
    harvests_every_record("ninja_app.py", "/limitoffset");
}

/// django-ninja's `PageNumberPagination`: `{items, count}` and nothing else, no link and no
/// page number: the next page is `?page=N+1`, from 1.
#[test]
fn ninja_page_number_pagination() {
    harvests_every_record("ninja_app.py", "/pages");
}

/// flask-smorest's `@blp.paginate()`: a bare array, the metadata only in the `X-Pagination`
/// header as JSON (`{total, total_pages, first_page, last_page, page, previous_page,
/// next_page}`): the next page is `?page=NEXT_PAGE`.
#[test]
fn smorest_x_pagination_header() {
    harvests_every_record("smorest_app.py", "/records");
}

/// json-server 0.17 (classic) with `?_page=1&_limit=10`: a bare array, `X-Total-Count` and a
/// `Link` header (`first`, `next`, `last`; `prev` past the first page) whose `next` is
/// `?_page=2&_limit=10`.
#[test]
fn json_server_classic_link_header() {
    json_server_harvests_every_record("json-server-classic", "/records?_page=1&_limit=10", Ids::Integers);
}

/// json-server 1.0 (beta) with `?_page=1&_per_page=10`: `{first, prev, next, last, pages, items,
/// data}`, `next` a bare page number (null on the last page), no header; its ids are strings.
#[test]
fn json_server_v1_page_numbers() {
    json_server_harvests_every_record("json-server-v1", "/records?_page=1&_per_page=10", Ids::Strings);
}
