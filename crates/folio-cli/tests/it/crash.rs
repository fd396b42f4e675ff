//! Crash safety of imports: `folio import` killed with SIGKILL in the middle of its
//! transaction leaves every collection as it was, on SQLite and PostgreSQL, and the next
//! start and the next import need no repair.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::process::{folio, get_json, on_postgres, on_sqlite, serve};

/// Lines fed to the killed import: about 2.5 MB, more than twice what the pipe (64 KiB) and
/// the importer's read buffer (1 MiB) hold, so when the writes return, the importer has
/// inserted tens of thousands of them in its open transaction.
const FED: u64 = 60_000;

fn line(id: u64) -> String {
    format!("{}\n", json!({"id": id, "name": format!("record number {id}")}))
}

/// Imports `ids` from a file, to completion.
fn import(target: &[&str], collection: &str, ids: std::ops::Range<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, ids.map(line).collect::<String>()).unwrap();
    let mut args = vec![
        "import",
        file.to_str().unwrap(),
        "--collection",
        collection,
        "--id",
        "id",
        "--index",
        "name:string",
    ];
    args.extend(target);
    let out = folio(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Starts an import of [`FED`] records from standard input, feeds them, and kills the
/// importer before its input ends, so its transaction is open and holds rows.
fn kill_mid_import(target: &[&str], collection: &str, first_id: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args([
            "import",
            "-",
            "--collection",
            collection,
            "--id",
            "id",
            "--index",
            "name:string",
        ])
        .args(target)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for id in first_id..first_id + FED {
        stdin.write_all(line(id).as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import ended before it was killed"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(stdin);
}

/// The ids of a collection, walked through a fresh server, or `None` if it does not exist.
fn ids_of(server_base: &str, collection: &str) -> Option<Vec<u64>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (status, _) = get_json(&format!("{server_base}/jsonapi/{collection}?page[size]=0")).await;
        if status == 404 {
            return None;
        }
        let records = crate::process::walk(server_base, collection, "").await;
        Some(records.iter().map(|r| r["id"].as_u64().unwrap()).collect())
    })
}

/// Kills an import into an existing collection and one into a new collection, then checks
/// that a server started afterwards sees exactly what was there before, and that importing
/// again works.
fn check(target: &[&str], data_dir: &std::path::Path, serve_args: &[&str]) {
    import(target, "kept", 0..100);
    kill_mid_import(target, "kept", 1_000);
    kill_mid_import(target, "fresh", 0);

    let server = serve(data_dir, serve_args);
    assert_eq!(ids_of(&server.base, "kept"), Some((0..100).collect()));
    assert_eq!(
        ids_of(&server.base, "fresh"),
        None,
        "a killed import left a new collection"
    );
    drop(server);

    import(target, "kept", 100..150);
    import(target, "fresh", 0..10);
    let server = serve(data_dir, serve_args);
    assert_eq!(ids_of(&server.base, "kept"), Some((0..150).collect()));
    assert_eq!(ids_of(&server.base, "fresh"), Some((0..10).collect()));
}

#[test]
fn an_import_killed_mid_transaction_leaves_sqlite_as_it_was() {
    on_sqlite(check);
}

#[test]
fn an_import_killed_mid_transaction_leaves_postgres_as_it_was() {
    on_postgres(check);
}
