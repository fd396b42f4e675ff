//! Running the `folio` binary: commands to completion, servers until dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value as Json;

/// A `folio serve` process, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `check(target, data_dir, serve_args)` on the embedded store, in a data directory of
/// its own: `target` names the store for `folio` commands, `serve_args` for `folio serve`
/// (which keeps its own files in `data_dir`).
pub(crate) fn on_sqlite(check: impl FnOnce(&[&str], &Path, &[&str])) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    check(&["--data-dir", data.to_str().unwrap()], &data, &[]);
}

/// [`on_sqlite`] on PostgreSQL, in a schema of its own; skipped (as `PgSchema` says) when no
/// server is configured.
pub(crate) fn on_postgres(check: impl FnOnce(&[&str], &Path, &[&str])) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(pg) = folio_testkit::PgSchema::create(&rt) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = ["--postgres", pg.url.as_str()];
    check(&store, &dir.path().join("data"), &store);
}

/// Starts `folio serve --addr 127.0.0.1:0 --data-dir DIR ARGS..` and reads the address it
/// prints first.
pub(crate) fn serve(data_dir: &Path, args: &[&str]) -> Server {
    serve_with_secret(data_dir, args, None)
}

/// [`serve`] with `FOLIO_SECRET` set to `secret`.
pub(crate) fn serve_with_secret(data_dir: &Path, args: &[&str], secret: Option<&str>) -> Server {
    serve_with(data_dir, args, |command| {
        match secret {
            Some(secret) => command.env("FOLIO_SECRET", secret),
            None => command.env_remove("FOLIO_SECRET"),
        };
    })
}

/// [`serve`] with the command adjusted by `configure` (environment, where stderr goes)
/// before it starts. `args` may give `--addr` (a port of a server that stopped).
pub(crate) fn serve_with(data_dir: &Path, args: &[&str], configure: impl FnOnce(&mut Command)) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
    command.env_remove("FOLIO_SECRET").arg("serve");
    if !args.contains(&"--addr") {
        command.args(["--addr", "127.0.0.1:0"]);
    }
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    configure(&mut command);
    let mut child = command.spawn().expect("the folio binary starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_owned();
    Server { child, base }
}

/// Runs `folio ARGS..` to completion.
pub(crate) fn folio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env_remove("FOLIO_SECRET")
        .output()
        .unwrap()
}

/// GETs a URL: status and JSON body.
pub(crate) async fn get_json(url: &str) -> (u16, Json) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The names of the collections a `GET /jsonapi` listing holds, in its order.
pub(crate) fn collection_names(listing: &Json) -> Vec<&str> {
    listing["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

/// Walks a collection of the `jsonapi` style with cursors and returns every record's
/// attributes, in order.
pub(crate) async fn walk(base: &str, collection: &str, query: &str) -> Vec<Json> {
    let mut url = format!("{base}/jsonapi/{collection}?page[cursor]=1&page[size]=97&{query}");
    let mut records = Vec::new();
    for _ in 0..10_000 {
        let (status, body) = get_json(&url).await;
        assert_eq!(status, 200, "{url}: {body}");
        records.extend(body["data"].as_array().unwrap().iter().map(|d| d["attributes"].clone()));
        match body["links"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => return records,
        }
    }
    panic!("the walk does not end");
}
