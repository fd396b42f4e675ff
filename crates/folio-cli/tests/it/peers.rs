//! `folio harvest` against real third-party paginated servers: Django REST framework,
//! fastapi-pagination, Datasette, django-ninja and flask-smorest (the Python programs in
//! `tests/peers/`), each endpoint given to the harvester by its first page's URL alone, with no
//! flag that says how it pages.
//!
//! The servers run from the venv that `scripts/peers.sh` makes at `target/peers-venv` of the
//! repository. Without it each test says `peer framework tests SKIPPED` and passes, unless
//! `FOLIO_REQUIRE_PEERS=1` (as in `.ci/run`), which makes that a failure.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tempfile::TempDir;

/// Records each server holds: several pages of 10 or 25, and a short last page.
const RECORDS: u64 = 137;

/// The longest a harvest may take before the test kills it and fails.
const HARVEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A peer server process, killed when dropped; its temporary files (SQLite database, stderr)
/// live in `dir`.
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

/// The Python of `target/peers-venv`, or `None` (after saying so) when it is missing and the
/// peer tests are not required.
fn python() -> Option<PathBuf> {
    // The repository's own target/, where scripts/peers.sh puts it whatever CARGO_TARGET_DIR is.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    let python = root.join("target/peers-venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    if std::env::var("FOLIO_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "the peer framework tests are required (FOLIO_REQUIRE_PEERS=1) but {} is missing: run scripts/peers.sh",
            python.display()
        );
    }
    // Past the test harness's capture, so that a skip is never silent.
    let _ = writeln!(
        std::io::stderr(),
        "\npeer framework tests SKIPPED: run scripts/peers.sh\n"
    );
    None
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

/// Runs `folio harvest URL --quiet --out FILE` (URL is `path` on the server that `file`
/// starts) and asserts that it succeeds and writes exactly the records with ids 1..=RECORDS,
/// each once, as JSON objects.
fn harvests_every_record(file: &str, path: &str) {
    let Some(python) = python() else { return };
    let peer = start(&python, file);
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
            .and_then(Json::as_u64)
            .unwrap_or_else(|| {
                panic!(
                    "line {}: not an object with an integer `id`: {line}\n{}",
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
